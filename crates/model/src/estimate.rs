//! How error-laden a sample's reads are, estimated from the reads themselves.
//!
//! The model reads better when told the reads' indel rate (the *error hint*): a
//! 300-nt read with no open frame is most likely non-coding among clean Illumina reads
//! and may well be coding among Ion Torrent reads. Without a flag (`--errors auto`,
//! the default) `cdspred predict` and `cdspred eval` estimate it from the first reads
//! of their input.
//!
//! The evidence: an indel breaks a coding read's codon signal downstream of it; the
//! frame-path decoder recovers the signal by shifting, so on a confidently coding read
//! (coding_prob ≥ 0.9 without a hint) the best path then scores far above the best
//! fixed frame ([`crate::features::FrameInputs::gain`]). On clean reads gains that
//! large are rare: the decoder's detours gain little more than their cost. Reads of
//! 250–400 nt decide; on 120–249-nt reads an indel gains too little to tell from a
//! detour in a genome the model fits less well, so they can only show a sample clean
//! (below).
//!
//! Measured with the embedded model's main network: the share of the confident
//! 250–400-nt reads the survey saw (about 200–500 per set) whose gain exceeds 12
//! (log-odds units). Training genomes by `scripts/calibrate_errors.sh`; dev genomes by
//! `cdspred eval` on the sets of `scripts/eval_errors.sh`:
//!
//! | reads | clean, `sub1`, `adna`, `illumina` | `indel1`, `homopolymer1`, `mixed4` |
//! |---|---:|---:|
//! | four training genomes (S. suis, P. aeruginosa, Acidilobus, a Lachnospiraceae MAG) | 0.000–0.057 | 0.53–0.92 |
//! | C. diphtheriae, M. hyorhinis (dev) | 0.032–0.057 | 0.41–0.69 |
//! | Kutzneria slice (dev, GC 0.68) | 0.19–0.21 | 0.73–0.87 |
//! | ART reads (`scripts/eval_art.py`): MiSeq 250 nt / 454 Titanium 300 nt | 0.020–0.032 | 0.10–0.21 (454) |
//!
//! The cut, [`CUT`] = 0.27, is half the smallest share of the indel-laden training
//! reads: a genome the model fits less well raises the clean share (more detours) far
//! more than it lowers the indel-laden one, so the margin is kept on the clean side.
//! Honest note: the first cut, 0.15 (between the training groups), flagged the clean
//! Kutzneria reads; the rule above uses training figures only but was chosen after
//! seeing that dev result.
//!
//! A sample above the cut is told 0.8 indels per 100 nt (the `indel1` rate). A sample
//! below [`CLEAN_CUT`] = 0.08 (about 1.5× the largest clean share of the training
//! genomes, 0.054) is told 0, so the model's *clean expert* scores it: a network
//! trained without indels and decoded in fixed frames (see
//! [`crate::predict::Predictor::with_error_hint`]). On the dev read sets that lifts
//! clean reads from 0.899 to 0.939 gene MCC at 300 nt (1% substitutions 0.885 → 0.921,
//! deamination 0.896 → 0.932), and ART's MiSeq reads (share 0.02–0.03) from 0.643 to
//! 0.669. Samples between the cuts (the Kutzneria slice, ART's 454 reads at 0.10–0.21)
//! are told half the `indel1` rate, [`UNCLEAR_HINT`] (the `indel0.5` profile's): told
//! nothing, ART's 454 reads scored 0.480 at 300 nt, told 0.4 0.583, told 0.8 0.652;
//! the clean Kutzneria slice pays for it in frame accuracy (0.933 → 0.917 at 300 nt,
//! 0.857 → 0.830 at 150 nt) while its gene MCC moves within ±0.03. Half the rate was
//! chosen after seeing both (told 0, the 454 reads lose 0.11). With
//! fewer than [`MIN_CONFIDENT`] confident reads of 250–400 nt the 120–249-nt reads
//! speak: with at least [`SHORT_SETTLE`] confident ones, a share below
//! [`SHORT_CLEAN_CUT`] = 0.025 means clean (told 0, the clean expert); anything else
//! tells nothing. Shares of 120–249-nt reads:
//!
//! | reads | clean, `sub1`, `adna`, `illumina` | `indel1`, `homopolymer1`, `mixed4` |
//! |---|---:|---:|
//! | four training genomes | 0.0008–0.0148 | 0.047–0.44 |
//! | C. diphtheriae, M. hyorhinis (dev, 150-nt reads) | 0.0026–0.0089 | 0.037–0.080 |
//! | Kutzneria slice (dev, GC 0.68) | 0.10–0.12 | 0.27–0.35 |
//! | ART HiSeq 2500, 150 nt | 0.003–0.008 | |
//!
//! The short cut is the geometric mean of the training groups' nearest shares (0.0148
//! and 0.047). A short cut can show no more than "clean": the clean Kutzneria slice
//! gains as much as reads with indels elsewhere. On ART's HiSeq reads this lifts gene
//! MCC from 0.671 to 0.746. Reads under 120 nt tell nothing. The survey
//! stops once [`SETTLE`] confident reads of 250–400 nt (or, without them, windows; below)
//! are seen, after [`MAX_READS`]
//! reads or [`MAX_BASES`] bases, or after [`GIVE_UP_READS`] reads without one of
//! 250–400 nt (short reads alone never stop it early: in a length-sorted file the long
//! reads come last); 120–249-nt reads are scored only until [`SHORT_SETTLE`] confident
//! ones are seen.
//!
//! **Long sequences.** Sequences longer than the model's `max_len` (long reads,
//! contigs) are cut into up to [`WINDOWS_PER_SEQUENCE`] windows of [`WINDOW`] nt, spread
//! evenly, and the main network's confident windows (coding probability ≥ 0.7: few
//! windows of noisy reads reach 0.9 without a hint) are counted as reads are. A window
//! may span two genes (reads drawn from anywhere in a genome gain by shifting more often
//! than the labelled sets' reads), so windows can only show indels, never a clean
//! sample: with fewer than [`MIN_CONFIDENT`] confident reads of 250–400 nt and at least
//! that many confident windows, a share above [`CUT`] is [`Verdict::LongIndels`], and
//! the model is told [`LONG_HINT`], the `long6` profile's rate (the long-read decoder
//! wants the rate of noisy long reads: told the `indel1` rate, C. diphtheriae reads with
//! `long6` errors scored 0.467 / 0.929 strand-level base sensitivity / precision against
//! 0.809 / 0.832 told `long6`; 0.480 / 0.925 and 0.823 / 0.821 before a gene's shifts
//! were kept from dodging its stop, docs/genes.md). Shares of confident windows (whole genomes cut into
//! 100-kb contigs, multi-record sets as they are; 60 pieces of 5–20 kb with errors from
//! `scripts/eval_longreads.py`'s mutator or pbsim, seed 1), measured 2026-12-02:
//!
//! | sequences | clean | `indel1` | `long6` | pbsim CLR, accuracy 0.95 |
//! |---|---:|---:|---:|---:|
//! | training genomes (S. suis, Lachnospiraceae MAG; Acidilobus, P. aeruginosa) | 0.120–0.187 | 0.648–0.676 | 0.946–0.950 | 0.932–0.951 |
//! | C. diphtheriae, M. hyorhinis (dev), M. tuberculosis, Leptospira records | 0.084–0.146 | 0.547–0.719 | 0.727 (C. diph.) | 0.791 (C. diph.) |
//! | A. thaliana chloroplast (45 windows: too few to decide) | 0.178 | 0.456 | | |
//!
//! The cut is the reads' ([`CUT`]), under half the smallest indel-laden training share
//! (0.648). With a confidence of 0.9, as for reads, the clean shares were lower
//! (0.071–0.154) but so were the counts: C. diphtheriae's pbsim reads (58 reads, 480 kb)
//! held 86 confident windows, too few to decide, against 196 at 0.7 (clean shares at 0.5:
//! up to 0.202). Not blind: the dev sets were measured with the training genomes. Clean
//! contigs are told nothing, as before; noisy long reads are decoded as with `--errors
//! long6` (the sets of `docs/genes.md`: same calls). Long reads with fewer errors are
//! told the same rate (1% indels on C. diphtheriae: 0.946 / 0.890 told `long6`, 0.882 /
//! 0.943 told `indel1`).
//!
//! **Which rate, from the reads' own gene calls** (2026-12-02, late night). The
//! windows cannot tell 2 indels per 100 nt from 5, but the calls the sample's own gene
//! models make can, once the decoder's detours are set aside: a detour leaves the frame
//! and comes back a few codons on, an indel's shift lasts. `cdspred predict` counts the
//! shifts on its calls that no shift of the other kind undoes within [`LASTING_REACH`]
//! nt ([`crate::genes::Gene::lasting_shifts`]) per 100 nt of called bases, and long
//! reads surveyed `long6` with fewer than [`LASTING_CUT`] are told [`LONG_LOW_HINT`]
//! (the `mixed4` rate) and learn their gene models again with it. Measured with
//! `scripts/eval_longreads.py`'s 60 reads per set, seeds 1–3 (all shifts counted, the
//! figure without the reach, was 2.5–3.1 for `mixed4` and 3.1–3.9 for `long6`, the
//! genomes overlapping):
//!
//! | genome | `indel1` | `mixed4` | `long6` | pbsim CLR 0.95 | pbsim CLR 0.93 |
//! |---|---:|---:|---:|---:|---:|
//! | S. suis (training) | 0.98–0.99 | 1.42–1.45 | 1.71–1.73 | 1.64–1.66 | 1.69–1.72 |
//! | Acidilobus (training) | 0.96–0.98 | 1.42–1.46 | 1.83–1.85 | 1.73–1.76 | 1.83–1.84 |
//! | P. aeruginosa (training) | 0.95–0.97 | 1.43–1.45 | 1.88–1.94 | 1.79–1.81 | 1.93–1.96 |
//! | C. diphtheriae (dev) | 1.14–1.20 | 1.50–1.52 | 1.80–1.83 | 1.71–1.73 | 1.77–1.80 |
//! | M. tuberculosis (dev, leave-one-out model) | 1.07–1.12 | 1.50–1.53 | 1.83–1.86 | 1.71–1.77 | 1.80–1.83 |
//!
//! The cut is the geometric mean of the training genomes' largest `mixed4` figure
//! (1.46) and smallest `long6` or pbsim one (1.64), rounded: 1.55. Every dev set falls
//! on its side (the closest, M. tuberculosis `mixed4`, 0.02 under it). Reads with 1%
//! indels are told the `mixed4` rate too, nearer their own than `long6`'s.
//!
//! **Substitutions.** A sample without indels is scored by one of two experts: the
//! *clean expert*, trained with substitutions and deamination on 20% of its reads, or,
//! in models that have one, the *pristine expert*, trained on error-free reads (clean
//! reads 0.956 gene MCC at 300 nt against 0.939; 1% substitutions 0.864 against 0.921).
//! A substitution turns a codon into a stop now and then, so in a sample with
//! substitutions more of the reads the clean expert calls coding hold a stop inside
//! their called frame (the clean expert tolerates it; error-free coding reads have
//! none). The survey counts them among the 250–400-nt reads (until [`STOP_SETTLE`] are
//! seen, while the sample looks free of indels), and a sample with no sign of indels
//! goes to the pristine expert when fewer than [`STOP_CUT`] = 0.04 of at least
//! [`MIN_STOP_READS`] hold one ([`ErrorEstimate::error_free`]). Shares (reads surveyed
//! by the default model, about 1,200–1,300 per set):
//!
//! | reads | clean | `adna` | `illumina` | `sub1` |
//! |---|---:|---:|---:|---:|
//! | four training genomes (as above) | 0.000 | 0.025–0.036 | 0.038–0.055 | 0.085–0.103 |
//! | C. diphtheriae / M. hyorhinis (dev) | 0.006 / 0.031 | 0.017 / 0.064 | 0.028 / 0.102 | 0.054 / 0.137 |
//! | ART MiSeq v3 250 nt, C. diphtheriae / M. hyorhinis | | | 0.053 / 0.103 | |
//!
//! The cut is half the smallest `sub1` share of the training genomes (0.085), rounded
//! down: a genome the model has not seen raises the clean share (M. hyorhinis 0.031),
//! so the margin is kept on the clean side. Honest note: the dev shares were measured
//! before the cut was set. Deamination and the `illumina` profile fall on either side;
//! either expert serves deamination (0.930 vs 0.932 at 300 nt), while `illumina`-like
//! reads lose 0.02–0.04 under the pristine one. ART's MiSeq reads (0.053 / 0.103) stay
//! with the clean expert, where they score 0.669 against 0.491. The rule is
//! conservative on reads drawn from anywhere in a genome: reads that run over a gene's
//! end hold a real stop, so such clean samples score 0.071–0.145 (6,000 300-nt reads
//! from anywhere in each of six genomes, dev and training) and keep the clean expert,
//! as before this rule; the pristine expert serves samples whose reads lie within genes
//! or outside them (as the labelled sets' do) and `--errors none`. (A flank test that
//! counted only stops with coding-like sequence on both sides brought those samples to
//! 0.010–0.037 and the same reads with 1% substitutions to 0.048–0.105, but sent ART's
//! MiSeq reads, whose substitutions sit near the read ends, to the pristine expert
//! (0.007–0.010): not used.) Short reads do not
//! speak here (a 150-nt read holds half the substitutions, and confident short reads
//! seldom keep a stop): a sample decided by its 120–249-nt reads keeps the clean
//! expert.

use cdspred_core::dna::Base;
use serde::Serialize;

use crate::features::TableContext;
use crate::files::ModelConfig;
use crate::predict::Predictor;

/// Reads looked at, at most (of any length: read sets sorted by length put their long
/// reads last).
pub const MAX_READS: usize = 65_536;
/// Bases looked at, at most (bounds the reads held back while surveying).
pub const MAX_BASES: usize = 32 << 20;
/// Reads looked at without one of a usable length, after which the survey gives up
/// (a sample of short reads need not be held back in memory).
pub const GIVE_UP_READS: usize = 16_384;
/// Confident reads that settle the survey.
pub const SETTLE: usize = 200;
/// Confident reads needed to decide.
pub const MIN_CONFIDENT: usize = 100;
/// Shortest usable read (nt); the longest is the model's `max_len` (scored whole).
pub(crate) const SHORTEST: usize = 250;
/// Shortest read of the second group (120–249 nt), which can only show a sample clean.
const SHORTEST_SHORT: usize = 120;
/// Confident short reads that a clean verdict from short reads needs (their shares are
/// small, so it takes many to tell them apart); no more are scored.
pub const SHORT_SETTLE: usize = 1000;
/// Share of confident short reads gaining by shifting below which a sample of short
/// reads is clean.
pub const SHORT_CLEAN_CUT: f64 = 0.025;
/// Coding probability of a confident read.
const CONFIDENT: f32 = 0.9;
/// Coding probability of a confident window of a long sequence: few windows of noisy
/// long reads reach 0.9 without a hint (see the module notes).
const WINDOW_CONFIDENT: f32 = 0.7;
/// Gain (log-odds units) that counts as a recovered indel.
const GAIN: f32 = 12.0;
/// Share of confident reads with such a gain above which a sample has indels.
pub const CUT: f64 = 0.27;
/// Share of confident reads with such a gain below which a sample is clean (no
/// indels to speak of).
pub const CLEAN_CUT: f64 = 0.08;
/// The hint given to a sample with indels: the `indel1` profile's rate.
pub const INDEL_HINT: f32 = 0.8;
/// The hint given to a sample between the cuts: the `indel0.5` profile's rate.
pub const UNCLEAR_HINT: f32 = 0.4;
/// Reads of 250-400 nt called coding by the clean expert that settle the survey of
/// substitutions.
pub const STOP_SETTLE: usize = 1000;
/// Such reads needed to call a sample error-free.
pub const MIN_STOP_READS: usize = 300;
/// Share of such reads with a stop inside their called frame below which a sample
/// without indels is error-free.
pub const STOP_CUT: f64 = 0.04;
/// Reads surveyed per step.
const STEP: usize = 512;
/// Length of the windows cut from sequences longer than the model's `max_len` (long
/// reads, contigs) for the survey.
pub const WINDOW: usize = 300;
/// Windows cut from one long sequence at most (spread evenly over it).
pub const WINDOWS_PER_SEQUENCE: usize = 64;
/// The hint given to long sequences whose windows show indels: the `long6` profile's
/// rate (PacBio-CLR-like, 5 indels per 100 nt).
pub const LONG_HINT: f32 = 5.0;
/// The hint given instead to long sequences whose own gene calls show few lasting
/// shifts (fewer than [`LASTING_CUT`] per 100 nt): the `mixed4` profile's rate
/// (2 indels per 100 nt).
pub const LONG_LOW_HINT: f32 = 2.0;
/// Lasting shifts per 100 nt of called bases (see [`LASTING_REACH`]) below which long
/// sequences told [`LONG_HINT`] by the survey are told [`LONG_LOW_HINT`] instead.
pub const LASTING_CUT: f64 = 1.55;
/// How far (nt) a shift of the other kind may follow a shift and undo it, a detour
/// rather than an indel ([`crate::genes::Gene::lasting_shifts`]).
pub const LASTING_REACH: u32 = 30;

/// What a predictor is told about the reads' sequencing errors.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ErrorHint {
    /// Estimated from the first reads of each input (`--errors auto`, the default).
    Auto,
    /// Indels per 100 nt (a named profile's rate), or `None`: nothing is told and the
    /// model assumes the mix it was trained on (`--errors unknown`).
    Fixed(Option<f32>),
    /// No sequencing errors at all (`--errors none`): no indels, and the pristine
    /// expert scores the reads where the model has one.
    ErrorFree,
}

impl ErrorHint {
    /// The predictor told this; `Auto` tells nothing until a survey has been made
    /// (see [`ErrorEstimate::tell`]).
    pub fn tell(self, pred: Predictor) -> Predictor {
        match self {
            ErrorHint::Auto => pred,
            ErrorHint::Fixed(h) => pred.with_error_hint(h),
            ErrorHint::ErrorFree => pred.with_error_hint(Some(0.0)).with_error_free(true),
        }
    }
}

/// What one read says (see [`Predictor::error_evidence`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReadEvidence {
    /// Read length (nt).
    pub length: usize,
    /// Coding probability without a hint.
    pub coding_prob: f32,
    /// Best path score minus its fixed frame's, for the read's best hypothesis.
    pub gain: f32,
    /// What the clean expert says of the read (`None`: not asked, because the model has
    /// no clean or no pristine expert, the read is under 250 nt, or it is a window).
    pub clean: Option<ExpertCall>,
    /// A 300-nt window of a longer sequence, not a read ([`WINDOW`]).
    pub window: bool,
}

/// The clean expert's call on a read: whether it is coding (probability ≥ 0.5, before
/// calibration, which keeps the call) and the internal stops in its called frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpertCall {
    /// Called coding.
    pub coding: bool,
    /// Internal stops in the called frame (fixed: the expert does not shift).
    pub stops: u32,
}

/// Whether a read's length can be used (long enough, scored whole).
pub fn usable_length(len: usize, config: &ModelConfig) -> bool {
    len >= SHORTEST_SHORT && len <= config.max_len
}

/// Whether a read is worth scoring for an estimate so far: short reads only until
/// [`SHORT_SETTLE`] confident ones are seen.
fn wanted(len: usize, config: &ModelConfig, est: &ErrorEstimate) -> bool {
    usable_length(len, config) && (len >= SHORTEST || est.short_confident < SHORT_SETTLE)
}

/// What a survey concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The share of shifted confident reads is above [`CUT`].
    Indels,
    /// It is below [`CLEAN_CUT`].
    Clean,
    /// It is between the two (250–400-nt reads).
    SomeIndels,
    /// Only 120–249-nt reads, and not clearly clean: they cannot show indels.
    Unclear,
    /// Too few confident reads of 250–400 nt, but windows of the long sequences show
    /// indels (a share above [`CUT`] of at least [`MIN_CONFIDENT`] confident ones).
    LongIndels,
    /// Fewer than [`MIN_CONFIDENT`] confident reads of 250–400 nt.
    TooFew,
}

/// Counts gathered over a sample's first reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ErrorEstimate {
    /// Reads looked at.
    pub reads: usize,
    /// Their bases.
    pub bases: usize,
    /// Those of 250–400 nt.
    pub usable: usize,
    /// Confident reads of 250–400 nt.
    pub confident: usize,
    /// Those whose best path gained a lot by shifting.
    pub shifted: usize,
    /// Reads of 120–249 nt.
    pub short_usable: usize,
    /// Confident reads of 120–249 nt.
    pub short_confident: usize,
    /// Those whose best path gained a lot by shifting.
    pub short_shifted: usize,
    /// Whether substitutions are surveyed too (the model has a pristine expert, so it
    /// matters): a survey that finds no indels then settles only with [`STOP_SETTLE`]
    /// reads of 250-400 nt that the clean expert calls coding.
    pub stop_survey: bool,
    /// Reads of 250-400 nt that the clean expert calls coding.
    pub expert_coding: usize,
    /// Those with a stop inside their called frame.
    pub expert_stopped: usize,
    /// Windows cut from sequences longer than the model's `max_len`.
    #[serde(skip_serializing_if = "is_zero")]
    pub windows: usize,
    /// Confident windows.
    #[serde(skip_serializing_if = "is_zero")]
    pub window_confident: usize,
    /// Those whose best path gained a lot by shifting.
    #[serde(skip_serializing_if = "is_zero")]
    pub window_shifted: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl ErrorEstimate {
    /// Adds the evidence of some usable reads.
    pub fn add(&mut self, evidence: &[ReadEvidence]) {
        for e in evidence {
            if e.window {
                self.windows += 1;
                if e.coding_prob >= WINDOW_CONFIDENT {
                    self.window_confident += 1;
                    self.window_shifted += (e.gain > GAIN) as usize;
                }
                continue;
            }
            let long = e.length >= SHORTEST;
            if long {
                self.usable += 1;
                if let Some(c) = e.clean.filter(|c| c.coding) {
                    self.expert_coding += 1;
                    self.expert_stopped += (c.stops > 0) as usize;
                }
            } else {
                self.short_usable += 1;
            }
            if e.coding_prob >= CONFIDENT {
                let shifted = (e.gain > GAIN) as usize;
                if long {
                    self.confident += 1;
                    self.shifted += shifted;
                } else {
                    self.short_confident += 1;
                    self.short_shifted += shifted;
                }
            }
        }
    }

    /// Whether more reads would not change much.
    pub fn settled(&self) -> bool {
        // Substitutions matter only while the sample looks free of indels.
        let stops_settled = !self.stop_survey
            || self.expert_coding >= STOP_SETTLE
            || self.verdict() != Verdict::Clean;
        (self.confident >= SETTLE && stops_settled)
            || (self.window_confident >= SETTLE && self.confident < MIN_CONFIDENT)
            || self.reads >= MAX_READS
            || self.bases >= MAX_BASES
            || (self.usable == 0 && self.reads >= GIVE_UP_READS)
    }

    /// What the reads say about indels.
    pub fn verdict(&self) -> Verdict {
        if self.confident < MIN_CONFIDENT {
            // Windows of long sequences can show them indel-laden, never clean: a
            // window may span two genes (see the module notes).
            if self.window_confident >= MIN_CONFIDENT
                && self.window_shifted as f64 > CUT * self.window_confident as f64
            {
                return Verdict::LongIndels;
            }
            // Short reads can show a sample clean, never indel-laden: a genome the
            // model fits less well (Kutzneria) gains as much on them as indels do.
            let short = self.short_shifted as f64 / self.short_confident.max(1) as f64;
            return if self.short_confident < SHORT_SETTLE {
                Verdict::TooFew
            } else if short < SHORT_CLEAN_CUT {
                Verdict::Clean
            } else {
                Verdict::Unclear
            };
        }
        let share = self.shifted as f64 / self.confident as f64;
        if share > CUT {
            Verdict::Indels
        } else if share < CLEAN_CUT {
            Verdict::Clean
        } else {
            Verdict::SomeIndels
        }
    }

    /// The hint to give the model: [`INDEL_HINT`] indels per 100 nt when the sample
    /// clearly has indels, [`UNCLEAR_HINT`] when its 250–400-nt reads show some sign
    /// of them, 0 when it clearly has none (the clean expert then scores it, see
    /// [`crate::predict::Predictor::with_error_hint`]), else `None` (nothing told: the
    /// main network assumes its training mix).
    pub fn hint(&self) -> Option<f32> {
        match self.verdict() {
            Verdict::Indels => Some(INDEL_HINT),
            Verdict::LongIndels => Some(LONG_HINT),
            Verdict::SomeIndels => Some(UNCLEAR_HINT),
            Verdict::Clean => Some(0.0),
            Verdict::Unclear | Verdict::TooFew => None,
        }
    }

    /// Whether the reads look free of sequencing errors altogether: the 250-400-nt
    /// reads show no indels ([`Verdict::Clean`]) and, of at least [`MIN_STOP_READS`]
    /// of them that the clean expert calls coding, fewer than [`STOP_CUT`] hold a stop
    /// inside their called frame (substitutions make stops; see the module notes).
    /// The model's pristine expert, when it has one, then scores them.
    pub fn error_free(&self) -> bool {
        self.confident >= MIN_CONFIDENT
            && self.verdict() == Verdict::Clean
            && self.expert_coding >= MIN_STOP_READS
            && (self.expert_stopped as f64) < STOP_CUT * self.expert_coding as f64
    }

    /// The predictor told what the survey concluded: [`ErrorEstimate::hint`], and
    /// whether the reads are [`ErrorEstimate::error_free`].
    pub fn tell(&self, pred: Predictor) -> Predictor {
        pred.with_error_hint(self.hint())
            .with_error_free(self.error_free())
    }

    /// What the survey would have the model told, as an [`ErrorHint`].
    pub fn as_hint(&self) -> ErrorHint {
        if self.error_free() {
            ErrorHint::ErrorFree
        } else {
            ErrorHint::Fixed(self.hint())
        }
    }

    /// One line for the log.
    pub fn describe(&self) -> String {
        let verdict = match self.verdict() {
            Verdict::Indels => format!("indels: told {INDEL_HINT} per 100 nt"),
            Verdict::LongIndels => format!(
                "indels in long sequences: told {LONG_HINT} per 100 nt ({} of {} confident 300-nt windows of them gained by shifting)",
                self.window_shifted, self.window_confident
            ),
            Verdict::Clean if self.error_free() && self.stop_survey => {
                "no sign of errors: told 0, error-free (pristine expert)".to_string()
            }
            Verdict::Clean => "no sign of indels: told 0 (clean expert)".to_string(),
            Verdict::SomeIndels => format!("some sign of indels: told {UNCLEAR_HINT} per 100 nt"),
            Verdict::Unclear => "no clear sign either way: nothing told".to_string(),
            Verdict::TooFew => "too few confident reads of 120-400 nt: nothing told".to_string(),
        };
        let stops = if self.expert_coding > 0 {
            format!(
                "; {} of {} of 250-400 nt the clean expert calls coding hold a stop",
                self.expert_stopped, self.expert_coding
            )
        } else {
            String::new()
        };
        let windows = if self.windows > 0 && self.verdict() != Verdict::LongIndels {
            format!(
                "; {} of {} confident 300-nt windows of longer sequences gained by shifting",
                self.window_shifted, self.window_confident
            )
        } else {
            String::new()
        };
        format!(
            "{verdict} ({} of {} confident reads of 250-400 nt and {} of {} of 120-249 nt gained by shifting, from {} reads{stops}{windows})",
            self.shifted, self.confident, self.short_shifted, self.short_confident, self.reads
        )
    }
}

/// Surveys the first reads (at most [`MAX_READS`] and [`MAX_BASES`], fewer once
/// settled), continuing an estimate. Deterministic: the steps are fixed, and each
/// step's counts do not depend on the thread count.
pub fn survey(
    pred: &Predictor,
    est: &mut ErrorEstimate,
    reads: &[&[Base]],
    table: &TableContext,
    threads: usize,
) {
    est.stop_survey = pred.has_pristine_expert() && pred.has_clean_expert();
    let mut rest = reads;
    while !rest.is_empty() && !est.settled() {
        let n = STEP.min(rest.len()).min(MAX_READS - est.reads);
        let (now, later) = rest.split_at(n);
        est.reads += n;
        est.bases += now.iter().map(|r| r.len()).sum::<usize>();
        let usable: Vec<&[Base]> = now
            .iter()
            .copied()
            .filter(|r| wanted(r.len(), pred.config(), est))
            .collect();
        est.add(&pred.error_evidence(&usable, table, threads));
        let windows: Vec<&[Base]> = now
            .iter()
            .filter(|r| r.len() > pred.config().max_len)
            .flat_map(|r| windows(r))
            .collect();
        est.add(&pred.window_evidence(&windows, table, threads));
        rest = later;
    }
}

/// Up to [`WINDOWS_PER_SEQUENCE`] windows of [`WINDOW`] nt spread evenly over `seq`
/// (none when it is shorter than a window).
fn windows(seq: &[Base]) -> impl Iterator<Item = &[Base]> {
    let fit = seq.len() / WINDOW;
    let n = fit.min(WINDOWS_PER_SEQUENCE);
    (0..n).map(move |i| {
        // Window i of n starts at slot i * fit / n of the `fit` non-overlapping slots.
        let start = i * fit / n * WINDOW;
        &seq[start..start + WINDOW]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(coding_prob: f32, gain: f32) -> ReadEvidence {
        ReadEvidence {
            length: 300,
            coding_prob,
            gain,
            clean: None,
            window: false,
        }
    }

    fn sample(confident: usize, shifted: usize) -> ErrorEstimate {
        let mut e = ErrorEstimate::default();
        let v: Vec<_> = (0..confident)
            .map(|i| ev(0.95, if i < shifted { 30.0 } else { 1.0 }))
            .collect();
        e.add(&v);
        e
    }

    #[test]
    fn the_share_of_shifted_confident_reads_decides() {
        let mut e = sample(100, 28);
        // Unconfident reads do not count.
        e.add(&[ev(0.5, 50.0)]);
        assert_eq!((e.confident, e.shifted), (100, 28));
        assert_eq!(e.verdict(), Verdict::Indels);
        assert_eq!(e.hint(), Some(INDEL_HINT));
        assert!(e.describe().starts_with("indels"), "{}", e.describe());
        assert_eq!(sample(100, 27).verdict(), Verdict::SomeIndels);
        assert_eq!(sample(100, 27).hint(), Some(UNCLEAR_HINT));
        assert_eq!(sample(100, 8).verdict(), Verdict::SomeIndels);
        assert_eq!(sample(100, 7).verdict(), Verdict::Clean);
        assert_eq!(sample(100, 7).hint(), Some(0.0));
        assert_eq!(sample(99, 90).verdict(), Verdict::TooFew);
        assert_eq!(sample(99, 0).hint(), None);
    }

    #[test]
    fn the_survey_settles() {
        let mut e = ErrorEstimate {
            reads: MAX_READS - 1,
            usable: 1,
            ..Default::default()
        };
        assert!(!e.settled());
        e.reads += 1;
        assert!(e.settled());
        assert!(sample(SETTLE, 0).settled());
        let short = ErrorEstimate {
            reads: GIVE_UP_READS,
            ..Default::default()
        };
        assert!(short.settled());
        assert!(!ErrorEstimate { usable: 1, ..short }.settled());
        // Short reads alone never settle it early: long ones may follow (read sets
        // sorted by length), and only they can show indels.
        assert!(!ErrorEstimate {
            short_confident: SHORT_SETTLE,
            ..Default::default()
        }
        .settled());
    }

    /// `n` reads of 300 nt without indels that the clean expert calls coding,
    /// `stopped` of them with a stop in their frame (the main network is confident on
    /// all of them, and none gains by shifting).
    fn expert_sample(n: usize, stopped: usize) -> ErrorEstimate {
        let mut e = ErrorEstimate {
            stop_survey: true,
            ..Default::default()
        };
        let v: Vec<_> = (0..n)
            .map(|i| ReadEvidence {
                clean: Some(ExpertCall {
                    coding: true,
                    stops: (i < stopped) as u32 * 2,
                }),
                ..ev(0.95, 1.0)
            })
            .collect();
        e.add(&v);
        e
    }

    #[test]
    fn reads_without_indels_are_error_free_when_few_hold_stops() {
        let e = expert_sample(STOP_SETTLE, 39);
        assert_eq!((e.expert_coding, e.expert_stopped), (STOP_SETTLE, 39));
        assert_eq!(e.verdict(), Verdict::Clean);
        assert!(e.error_free());
        assert!(e.describe().contains("pristine expert"), "{}", e.describe());
        assert_eq!(e.as_hint(), ErrorHint::ErrorFree);
        // 4% with stops: substitutions; the clean expert scores them.
        let subs = expert_sample(STOP_SETTLE, 40);
        assert!(!subs.error_free());
        assert_eq!(subs.hint(), Some(0.0));
        assert_eq!(subs.as_hint(), ErrorHint::Fixed(Some(0.0)));
        assert!(
            subs.describe().contains("clean expert"),
            "{}",
            subs.describe()
        );
        // Too few reads the expert calls coding, or a sample with indels, is never
        // error-free; reads the expert calls non-coding do not count.
        assert!(!expert_sample(MIN_STOP_READS - 1, 0).error_free());
        assert!(expert_sample(MIN_STOP_READS, 0).error_free());
        let mut indels = expert_sample(STOP_SETTLE, 0);
        indels.add(&(0..400).map(|_| ev(0.95, 30.0)).collect::<Vec<_>>());
        assert_eq!(indels.verdict(), Verdict::Indels);
        assert!(!indels.error_free());
        let mut e = expert_sample(MIN_STOP_READS, 0);
        let no = ReadEvidence {
            clean: Some(ExpertCall {
                coding: false,
                stops: 3,
            }),
            ..ev(0.95, 1.0)
        };
        e.add(&[no; 50]);
        assert_eq!((e.expert_coding, e.expert_stopped), (MIN_STOP_READS, 0));
    }

    #[test]
    fn the_stop_survey_settles_later() {
        // Enough confident reads settle a survey of indels alone; one that also
        // surveys substitutions waits for the expert's reads.
        let mut e = expert_sample(SETTLE, 0);
        assert!(!e.settled());
        e.stop_survey = false;
        assert!(e.settled());
        assert!(expert_sample(STOP_SETTLE, 0).settled());
        // A sample with indels does not wait for them.
        let mut indels = expert_sample(SETTLE, 0);
        indels.add(&(0..SETTLE).map(|_| ev(0.95, 30.0)).collect::<Vec<_>>());
        assert!(indels.expert_coding < STOP_SETTLE && indels.settled());
    }

    #[test]
    fn windows_of_long_sequences_can_only_show_indels() {
        let windows = |confident: usize, shifted: usize| {
            let v: Vec<_> = (0..confident)
                .map(|i| ReadEvidence {
                    window: true,
                    ..ev(0.95, if i < shifted { 30.0 } else { 1.0 })
                })
                .collect();
            let mut e = ErrorEstimate::default();
            e.add(&v);
            // Unconfident windows count as windows only.
            e.add(&[ReadEvidence {
                window: true,
                ..ev(0.5, 30.0)
            }]);
            e
        };
        let e = windows(MIN_CONFIDENT, 28);
        assert_eq!(
            (e.windows, e.window_confident, e.window_shifted, e.confident),
            (MIN_CONFIDENT + 1, MIN_CONFIDENT, 28, 0)
        );
        assert_eq!(e.verdict(), Verdict::LongIndels);
        assert_eq!(e.hint(), Some(LONG_HINT));
        assert!(
            e.describe().starts_with("indels in long"),
            "{}",
            e.describe()
        );
        // Below the cut, or too few: nothing told (a window may span two genes).
        assert_eq!(windows(MIN_CONFIDENT, 27).verdict(), Verdict::TooFew);
        assert_eq!(windows(MIN_CONFIDENT, 0).hint(), None);
        assert_eq!(windows(MIN_CONFIDENT - 1, 90).verdict(), Verdict::TooFew);
        assert!(!windows(SETTLE - 1, 0).settled() && windows(SETTLE, 0).settled());
        // Reads of 250-400 nt decide when there are enough of them.
        let mut both = windows(SETTLE, SETTLE);
        both.add(
            &(0..MIN_CONFIDENT)
                .map(|_| ev(0.95, 1.0))
                .collect::<Vec<_>>(),
        );
        assert_eq!(both.verdict(), Verdict::Clean);
    }

    #[test]
    fn windows_spread_over_a_long_sequence() {
        let seq: Vec<Base> = (0..100_000).map(|i| (i % 4) as Base).collect();
        let w: Vec<&[Base]> = windows(&seq).collect();
        assert_eq!(w.len(), WINDOWS_PER_SEQUENCE);
        assert!(w.iter().all(|x| x.len() == WINDOW));
        let start = |x: &[Base]| x.as_ptr() as usize - seq.as_ptr() as usize;
        assert_eq!(start(w[0]), 0);
        assert!(start(w[WINDOWS_PER_SEQUENCE - 1]) > 98_000);
        assert!(w.windows(2).all(|p| start(p[1]) >= start(p[0]) + WINDOW));
        assert_eq!(windows(&seq[..1000]).count(), 3);
        assert_eq!(windows(&seq[..299]).count(), 0);
    }

    #[test]
    fn short_reads_can_only_show_a_sample_clean() {
        let short = |confident: usize, shifted: usize| {
            let mut e = ErrorEstimate::default();
            let v: Vec<_> = (0..confident)
                .map(|i| ReadEvidence {
                    length: 150,
                    coding_prob: 0.95,
                    gain: if i < shifted { 30.0 } else { 1.0 },
                    clean: None,
                    window: false,
                })
                .collect();
            e.add(&v);
            e
        };
        let e = short(SHORT_SETTLE, 24);
        assert_eq!(
            (e.short_confident, e.confident, e.usable),
            (SHORT_SETTLE, 0, 0)
        );
        assert_eq!(e.verdict(), Verdict::Clean);
        assert_eq!(e.hint(), Some(0.0));
        assert_eq!(short(SHORT_SETTLE, 25).verdict(), Verdict::Unclear);
        // From short reads "unclear" tells nothing.
        assert_eq!(short(SHORT_SETTLE, 25).hint(), None);
        assert_eq!(short(SHORT_SETTLE, 900).verdict(), Verdict::Unclear);
        assert_eq!(short(SHORT_SETTLE - 1, 0).verdict(), Verdict::TooFew);
        // Enough long reads decide on their own.
        let mut both = short(SHORT_SETTLE, 0);
        both.add(&(0..100).map(|_| ev(0.95, 30.0)).collect::<Vec<_>>());
        assert_eq!(both.verdict(), Verdict::Indels);
    }
}
