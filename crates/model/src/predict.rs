//! Per-read predictions.
//!
//! A read of `min_len..=max_len` nt is scored whole. A longer sequence is scored in
//! windows of `window` nt every `stride` nt (the last one flush with the end); its row
//! reports the most confidently coding window, and [`Prediction::segments`] lists the
//! runs of coding windows with their strand and frame in the whole sequence's terms.

use std::sync::Arc;

use cdspred_core::code::translate;
use cdspred_core::dna::{revcomp_codes, Base};
use cdspred_core::{Frame, GeneticCode, ReadClass, Strand};

use crate::calibrate::Scorer;
use crate::estimate::{ExpertCall, ReadEvidence};
use crate::features::{FrameInputs, PathScorer, TableContext};
use crate::files::{ModelConfig, ModelFiles};
use crate::genes::{call_genes_or, call_genes_sampled, GeneOptions, SampleGenes, WindowVote};
use crate::hmm::{ChainCounts, Chains, HmmScratch};
use crate::net::{Forward, Model};

/// The verdict for one read: `coding`, `noncoding` or `too_short`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub enum Call {
    /// `coding_prob ≥ threshold` (both as printed, to 4 decimals).
    #[serde(rename = "coding")]
    Coding,
    /// `coding_prob < threshold`.
    #[serde(rename = "noncoding")]
    NonCoding,
    /// Shorter than the model's minimum; not scored.
    #[serde(rename = "too_short")]
    TooShort,
}

/// A coding stretch of a long sequence (0-based, end exclusive).
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// First base.
    pub start: usize,
    /// One past the last base.
    pub end: usize,
    /// Coding strand relative to the whole sequence.
    pub strand: Strand,
    /// Offset of the first full codon of the segment in its sense orientation.
    pub frame: Frame,
    /// Highest window `coding_prob` in the segment.
    pub coding_prob: f32,
    /// Codon starts of the frame path in the segment's sense orientation (relative to
    /// its first base in that orientation); empty when the segment joins several
    /// windows, which are read in their fixed frame.
    pub path: Vec<u32>,
    /// Gene calls on long sequences ([`crate::genes`]): whether the call runs off the
    /// sequence's left and right end, and its log-odds score; `None` for reads scored
    /// whole, whose segments span the read.
    pub gene: Option<GeneMark>,
}

/// What a gene call adds to a segment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeneMark {
    /// Runs off the sequence's (left, right) end: no start or no stop codon there.
    pub partial: (bool, bool),
    /// The decoder's log-odds score.
    pub score: f32,
}

impl Segment {
    /// The segment's bases on its coding strand (sense orientation).
    pub fn sense(&self, codes: &[Base]) -> Vec<Base> {
        let part = &codes[self.start..self.end];
        match self.strand {
            Strand::Plus => part.to_vec(),
            Strand::Minus => revcomp_codes(part),
        }
    }

    /// The bases of its codons, in order: along the frame path (so frameshift-
    /// corrected), or in its fixed frame when it has no path.
    pub fn codons(&self, codes: &[Base]) -> Vec<Base> {
        let sense = self.sense(codes);
        if self.path.is_empty() {
            let off = (self.frame.offset() as usize).min(sense.len());
            let n = (sense.len() - off) / 3 * 3;
            return sense[off..off + n].to_vec();
        }
        self.path
            .iter()
            .filter_map(|&p| sense.get(p as usize..p as usize + 3))
            .flatten()
            .copied()
            .collect()
    }

    /// Its translation along the codons of [`Segment::codons`].
    pub fn protein(&self, codes: &[Base], code: &GeneticCode) -> String {
        translate(&self.codons(codes), 0, code)
    }

    /// The frame shifts on a gene call's path, in the sequence's coordinates (bases of
    /// the sequence as given before the shift point), left to right; empty for reads
    /// scored whole (their shifts are [`Prediction::frameshifts`]).
    pub fn gene_frameshifts(&self) -> Vec<Frameshift> {
        match self.gene {
            Some(_) => shifts_on_path(&self.path, self.strand, self.start, self.end),
            None => Vec::new(),
        }
    }
}

impl Prediction {
    /// The frameshift-corrected protein of the most coding segment (coding calls).
    pub fn protein(&self, codes: &[Base], code: &GeneticCode) -> Option<String> {
        if self.call != Call::Coding {
            return None;
        }
        let seg = self
            .segments
            .iter()
            .max_by(|a, b| a.coding_prob.total_cmp(&b.coding_prob))?;
        Some(seg.protein(codes, code))
    }
}

/// A frame shift on the reported frame path of a read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Frameshift {
    /// `ins` (the read has an extra base) or `del` (it lacks one).
    pub kind: ShiftKind,
    /// Bases of the read (as given) before the shift point.
    pub pos: usize,
}

/// Insertion or deletion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub enum ShiftKind {
    /// The read has an extra base (the path skips one).
    #[serde(rename = "ins")]
    Insertion,
    /// The read lacks a base (the path re-reads one).
    #[serde(rename = "del")]
    Deletion,
}

/// What the model says about one read.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// Read length.
    pub length: usize,
    /// Class probabilities (non-coding, +0..+2, −0..−2) of the reported window.
    pub probs: [f32; 7],
    /// 1 − P(non-coding).
    pub coding_prob: f32,
    /// P(the read as given is the coding strand).
    pub sense_prob: f32,
    /// The most likely coding strand and frame (none for too-short reads).
    pub best: Option<(Strand, Frame)>,
    /// The verdict.
    pub call: Call,
    /// Coding stretches (one per coding read; several for long sequences).
    pub segments: Vec<Segment>,
    /// Frame shifts on the path of the reported strand and frame, in read order
    /// (reads scored whole; empty for long sequences and too-short reads).
    pub frameshifts: Vec<Frameshift>,
}

/// Reusable buffers for one thread.
#[derive(Debug, Default)]
pub struct Scratch {
    inputs: FrameInputs,
    fw: Forward,
    pub(crate) hmm: HmmScratch,
}

/// A model with its inference settings.
#[derive(Debug, Clone)]
pub struct Predictor {
    model: Model,
    clean: Option<Model>,
    pristine: Option<Model>,
    config: ModelConfig,
    hint: Option<f32>,
    error_free: bool,
    prior: Option<Arc<ChainCounts>>,
    sample: Option<Arc<Chains>>,
    genes: Option<Arc<SampleGenes>>,
}

/// Indels per 100 nt up to which a hint counts as "no indels" and the clean expert,
/// when the model has one, scores the reads (`none`, `sub1`, `adna`: 0; `illumina`:
/// 0.02).
pub const CLEAN_MAX_INDELS: f32 = 0.05;

/// Reads not told indels get the sample's chains ([`crate::hmm::short_read_coding_prob`])
/// when shorter than this. The chains lift clean reads of 60-100 nt most (held-out
/// genomes: about +0.06 / +0.05 gene MCC), 150 nt less and 300 nt not at all, and
/// roughly double the work per read: at 150 nt they would cost the throughput the
/// sequencing-error issue asks for (docs/experiments.md).
pub const SHORT_CHAINS_BELOW: usize = 150;

/// Indels per 100 nt the main network is told when it teaches the chains of a sample
/// not told indels ([`Predictor::teacher`]; the `indel0.5` rate).
pub const TEACHER_HINT: f32 = 0.4;

impl Predictor {
    /// From loaded files.
    pub fn new(files: &ModelFiles) -> Predictor {
        Predictor {
            model: Model::new(files.weights.clone()),
            clean: files.clean.clone().map(Model::new),
            pristine: files.pristine.clone().map(Model::new),
            config: files.config.clone(),
            hint: None,
            error_free: false,
            prior: files.chains.clone().map(Arc::new),
            sample: None,
            genes: None,
        }
    }

    /// The chain counts the model ships (the prior of [`crate::hmm::self_train`]).
    pub fn chain_prior(&self) -> Option<&ChainCounts> {
        self.prior.as_deref()
    }

    /// Whether reads are scored by self-trained chains: the predictor was given a
    /// sample's chains and wants them ([`Predictor::wants_self_training`]).
    pub fn self_trained(&self) -> bool {
        self.sample.is_some() && self.wants_self_training()
    }

    /// Whether self-training applies to this predictor: the model ships chain counts.
    /// Where the reads are told to carry indels (the main network, hinted, scores them)
    /// the chains join every read scored whole; otherwise (an expert, or the main
    /// network told nothing, scores them) reads under [`SHORT_CHAINS_BELOW`] nt only
    /// ([`Predictor::chains_join`]).
    pub fn wants_self_training(&self) -> bool {
        self.prior.is_some()
    }

    /// Whether the sample's chains join the score of a read of `len` nt scored whole
    /// (see [`Predictor::wants_self_training`]).
    pub fn chains_join(&self, len: usize) -> bool {
        self.self_trained() && (self.told_indels() || len < SHORT_CHAINS_BELOW)
    }

    /// Whether the main network scores the reads told an indel rate (the chains join
    /// reads of every length, their frame path and strand).
    pub fn told_indels(&self) -> bool {
        self.scorer() == Scorer::MainHinted
    }

    /// The predictor whose confident calls teach a sample's chains: this one when it
    /// is the main network told indels; otherwise the main network told the
    /// [`TEACHER_HINT`] rate (the teacher the chains were tuned with; its frame paths
    /// give the chains their codon positions by the same rule).
    pub fn teacher(&self) -> Predictor {
        if self.told_indels() {
            self.clone()
        } else {
            self.clone()
                .with_error_free(false)
                .with_error_hint(Some(TEACHER_HINT))
        }
    }

    /// The same predictor scoring reads of up to `max_len` with a sample's chains
    /// ([`crate::hmm`]) when told indels: `coding_prob` joins the chains' score (the
    /// best coding path on either strand against non-coding DNA) to the network's
    /// ([`crate::hmm::coding_prob`]), the strand is the chains' better one, the frame
    /// the one the network's and the chains' evidence together favour on that strand
    /// (`pick_frame`), and the path and shifts the network's along
    /// that frame. Reads under [`SHORT_CHAINS_BELOW`] nt not told indels join the
    /// chains' score to the network's ([`crate::hmm::short_read_coding_prob`]) and the
    /// chains' strand log-likelihood ratio to the network's strand log-odds, and their
    /// frame is picked as above on the favoured strand.
    pub fn with_sample_chains(mut self, chains: Arc<Chains>) -> Predictor {
        self.sample = Some(chains);
        self
    }

    /// The same predictor calling genes on long sequences with a sample's own gene
    /// models ([`Predictor::train_sample_genes`]): every long sequence when told
    /// indels, otherwise those too short to teach themselves.
    pub fn with_sample_genes(mut self, genes: Arc<SampleGenes>) -> Predictor {
        self.genes = Some(genes);
        self
    }

    /// The sample's own gene models, when it has learnt them.
    pub fn sample_genes(&self) -> Option<&SampleGenes> {
        self.genes.as_deref()
    }

    /// How long sequences are decoded into genes: the error hint sets the shift cost.
    fn gene_options(&self) -> GeneOptions {
        GeneOptions::default().with_indel_rate(self.hint)
    }

    /// Learns a sample's own gene models from its long sequences (those above
    /// `max_len`; the rest are passed over), one per GC range
    /// ([`crate::genes::train_on_sample`]): long reads with indels, each too short to
    /// teach itself, and clean contigs, when some of them are too short to teach
    /// themselves ([`GeneOptions::self_teaching_len`]; the longer ones teach too,
    /// then decode with their own table as before). `None` when no long sequence
    /// needs them or their confident calls hold too few codons. Deterministic in any
    /// thread count.
    pub fn train_sample_genes(
        &self,
        seqs: &[&[Base]],
        table: &TableContext,
        threads: usize,
    ) -> Option<SampleGenes> {
        self.train_sample_genes_measured(seqs, table, threads, false)
            .map(|t| t.0)
    }

    /// [`Predictor::train_sample_genes`], and with `measure` also the lasting shifts
    /// per 100 nt of called bases ([`crate::genes::Gene::lasting_shifts`],
    /// [`crate::estimate::LASTING_REACH`]) of the calls those models make on the long
    /// sequences — the calls [`Predictor::gene_segments`] will make on them (`None`:
    /// no call).
    pub fn train_sample_genes_measured(
        &self,
        seqs: &[&[Base]],
        table: &TableContext,
        threads: usize,
        measure: bool,
    ) -> Option<(SampleGenes, Option<f64>)> {
        let opts = self.gene_options().for_sample();
        let long: Vec<&[Base]> = seqs
            .iter()
            .copied()
            .filter(|s| s.len() > self.config.max_len)
            .collect();
        let needed =
            opts.sample_decodes_all() || long.iter().any(|s| s.len() < opts.self_teaching_len());
        if !needed {
            return None;
        }
        let votes = par_map(&long, threads, |r, s| {
            let starts = window_starts(r.len(), &self.config);
            self.score_windows(r, &starts, table, s).3
        });
        let pairs: Vec<(&[Base], &[WindowVote])> = long
            .iter()
            .zip(&votes)
            .map(|(r, v)| (*r, v.as_slice()))
            .collect();
        let genes = crate::genes::train_on_sample(
            &pairs,
            table,
            &self.model.weights().path_llr,
            &opts,
            threads,
        )?;
        if !measure || !opts.sample_decodes_all() {
            return Some((genes, None));
        }
        let counts = par_chunks(&pairs, threads, |(seq, votes), _: &mut ()| {
            let Some(m) = genes.for_sequence(seq) else {
                return (0, 0);
            };
            call_genes_sampled(seq, table, m, votes, &opts)
                .iter()
                .map(|g| {
                    let reach = crate::estimate::LASTING_REACH;
                    (g.lasting_shifts(reach), g.end - g.start)
                })
                .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
        });
        let (shifts, bases) = counts.iter().fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
        let density = (bases > 0).then(|| 100.0 * shifts as f64 / bases as f64);
        Some((genes, density))
    }

    /// Tells the model the expected indels per 100 nt of the reads (`--errors`); `None`
    /// (the default) lets it assume the mix it was trained on.
    ///
    /// A model with a clean expert scores reads told at most [`CLEAN_MAX_INDELS`] (no
    /// indels to speak of) with that expert: a network trained on clean reads and
    /// reads with substitutions only, decoded in fixed frames (its shift cost is
    /// prohibitive), which is what such reads need; frames that may shift cost it
    /// accuracy on them (false paths through non-coding DNA). Reads also told to carry
    /// no errors at all go to the pristine expert instead, where the model has one
    /// ([`Predictor::with_error_free`]). Reads told more, or nothing, go to the main
    /// network, trained on the whole error mix.
    pub fn with_error_hint(mut self, indels_per_100nt: Option<f32>) -> Predictor {
        self.hint = indels_per_100nt;
        self
    }

    /// Tells the model whether the reads carry no sequencing errors at all (`--errors
    /// none`, or a survey that finds neither indels nor substitutions,
    /// [`crate::estimate::ErrorEstimate::error_free`]). A model with a pristine expert
    /// scores such reads, when also told no indels, with that expert: a network
    /// trained on error-free reads, decoded in fixed frames. Training on substitutions
    /// teaches the clean expert to accept a stop inside a coding frame, which lets
    /// more non-coding reads pass; error-free reads do not need that tolerance.
    pub fn with_error_free(mut self, error_free: bool) -> Predictor {
        self.error_free = error_free;
        self
    }

    /// The indels per 100 nt the model was told (`None`: nothing).
    pub fn error_hint(&self) -> Option<f32> {
        self.hint
    }

    /// Whether reads are scored by the clean expert (see [`Predictor::with_error_hint`]).
    pub fn uses_clean_expert(&self) -> bool {
        self.clean.is_some()
            && self.hint.is_some_and(|h| h <= CLEAN_MAX_INDELS)
            && !self.uses_pristine_expert()
    }

    /// Whether reads are scored by the pristine expert (see
    /// [`Predictor::with_error_free`]).
    pub fn uses_pristine_expert(&self) -> bool {
        self.pristine.is_some()
            && self.error_free
            && self.hint.is_some_and(|h| h <= CLEAN_MAX_INDELS)
    }

    /// Which network scores reads, as calibration tells them apart.
    pub fn scorer(&self) -> Scorer {
        if self.uses_pristine_expert() {
            Scorer::Pristine
        } else if self.uses_clean_expert() {
            Scorer::Clean
        } else if self.hint.is_some_and(|h| h > CLEAN_MAX_INDELS) {
            Scorer::MainHinted
        } else {
            Scorer::Main
        }
    }

    /// Class probabilities of a scored window of `len` nt, calibrated when the model
    /// carries a calibration (see [`crate::calibrate`]).
    pub fn calibrated(&self, probs: [f32; 7], len: usize) -> [f32; 7] {
        match &self.config.calibration {
            Some(c) => crate::calibrate::apply(probs, c.table(self.scorer()).at(len)),
            None => probs,
        }
    }

    /// Whether the model has a clean expert (whatever it is told).
    pub fn has_clean_expert(&self) -> bool {
        self.clean.is_some()
    }

    /// Whether the model has a pristine expert (whatever it is told).
    pub fn has_pristine_expert(&self) -> bool {
        self.pristine.is_some()
    }

    /// The same predictor without its calibration (the networks' own probabilities).
    pub fn uncalibrated(mut self) -> Predictor {
        self.config.calibration = None;
        self
    }

    /// The config.
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// The network.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Class probabilities of one window (length ≥ 8).
    pub fn window_probs(&self, codes: &[Base], table: &TableContext, s: &mut Scratch) -> [f32; 7] {
        match (&self.pristine, &self.clean) {
            (Some(expert), _) if self.uses_pristine_expert() => {
                probs_of(expert, codes, table, None, s)
            }
            (_, Some(expert)) if self.uses_clean_expert() => {
                probs_of(expert, codes, table, None, s)
            }
            _ => probs_of(&self.model, codes, table, self.hint, s),
        }
    }

    /// Class probabilities and the penultimate representation (the mean over the six
    /// frames of the hidden layer) of a read, scored whole or by its first window.
    pub fn represent(
        &self,
        codes: &[Base],
        table: &TableContext,
        s: &mut Scratch,
    ) -> ([f32; 7], Vec<f32>) {
        let end = if codes.len() > self.config.max_len {
            self.config.window
        } else {
            codes.len()
        };
        let probs = self.window_probs(&codes[..end], table, s);
        (probs, s.fw.h_mean.clone())
    }

    /// Predicts one read.
    pub fn predict(
        &self,
        codes: &[Base],
        table: &TableContext,
        threshold: f32,
        s: &mut Scratch,
    ) -> Prediction {
        let len = codes.len();
        if len < self.config.min_len {
            return Prediction {
                length: len,
                probs: [0.0; 7],
                coding_prob: 0.0,
                sense_prob: 0.0,
                best: None,
                call: Call::TooShort,
                segments: Vec::new(),
                frameshifts: Vec::new(),
            };
        }
        let starts = window_starts(len, &self.config);
        let (mut cp, w, mut probs, votes) = self.score_windows(codes, &starts, table, s);
        let mut sense_prob = probs[1] + probs[2] + probs[3];
        if let (Some(ch), true, 1) = (&self.sample, self.chains_join(len), starts.len()) {
            let hint = if self.told_indels() {
                self.hint.unwrap_or(0.8)
            } else {
                TEACHER_HINT
            };
            let eps = crate::hmm::eps_for(hint);
            let (plus, minus) = ch.strand_llr(codes, eps, &mut s.hmm);
            if self.told_indels() {
                cp = crate::hmm::coding_prob(plus, minus, cp, ch.offset);
                let p_plus = 1.0 / (1.0 + (minus - plus).exp());
                sense_prob = cp * p_plus;
                // The chains' strand (classes 1-3 plus, 4-6 minus) takes the coding
                // probability, shared as the network shares it among that strand's
                // frames.
                let on_plus = plus >= minus;
                let (base, other) = if on_plus { (1, 4) } else { (4, 1) };
                let own: f32 = probs[base..base + 3].iter().sum::<f32>().max(1e-12);
                for p in &mut probs[base..base + 3] {
                    *p = cp * *p / own;
                }
                probs[other..other + 3].fill(0.0);
                probs[0] = 1.0 - cp;
                settle_frame(&mut probs, on_plus, codes, ch, eps, &mut s.hmm);
            } else {
                // A short read not told indels: the chains move its coding probability
                // and its strand, and may pick its frame.
                let joined = crate::hmm::short_read_coding_prob(plus, minus, cp, ch.offset);
                // The strand: the network's log-odds of the two strands plus the
                // chains' (their best coding paths' scores); each strand's frames keep
                // the network's shares until the favoured strand's frame is settled.
                let (op, om): (f32, f32) = (probs[1..4].iter().sum(), probs[4..7].iter().sum());
                let share =
                    1.0 / (1.0 + ((om.max(1e-30) / op.max(1e-30)).ln() - (plus - minus)).exp());
                for (k, p) in probs[1..].iter_mut().enumerate() {
                    let (side, total) = if k < 3 {
                        (share, op)
                    } else {
                        (1.0 - share, om)
                    };
                    *p = joined * side * if total > 0.0 { *p / total } else { 1.0 / 3.0 };
                }
                sense_prob = joined * share;
                settle_frame(&mut probs, share >= 0.5, codes, ch, eps, &mut s.hmm);
                probs[0] = 1.0 - joined;
                cp = joined;
            }
        }
        let wlen = if starts.len() == 1 {
            len
        } else {
            self.config.window
        };
        let (strand, frame) = global_frame(&probs, w, wlen, len);
        let coding = crate::result::reaches(cp, threshold);
        let (segments, frameshifts) = if starts.len() > 1 {
            (self.gene_segments(codes, table, &votes), Vec::new())
        } else {
            // Scored whole: the inputs still hold this read's paths; a coding read is
            // one segment along its best hypothesis' path.
            let path = &s.inputs.paths[best_class(&probs) - 1];
            let segment = coding.then(|| Segment {
                start: 0,
                end: len,
                strand,
                frame,
                coding_prob: cp,
                path: path.clone(),
                gene: None,
            });
            (
                segment.into_iter().collect(),
                shifts_on_path(path, strand, 0, len),
            )
        };
        Prediction {
            length: len,
            probs,
            coding_prob: cp,
            sense_prob,
            best: Some((strand, frame)),
            call: if coding {
                Call::Coding
            } else {
                Call::NonCoding
            },
            segments,
            frameshifts,
        }
    }

    /// The gene calls of a long sequence ([`crate::genes`]) as segments, decoded with
    /// the main network's dicodon table (self-trained on the sequence when it is long
    /// enough; otherwise the sample's gene model for its GC content when the predictor
    /// has one), or, told indels, with the sample's gene model for its GC content
    /// ([`Predictor::with_sample_genes`]); the error hint sets the shift cost. A call's `coding_prob` is its log-odds score as a probability,
    /// `1 / (1 + e^-score)`.
    pub fn gene_segments(
        &self,
        codes: &[Base],
        table: &TableContext,
        votes: &[WindowVote],
    ) -> Vec<Segment> {
        let opts = self.gene_options();
        let llr = &self.model.weights().path_llr;
        let sampled = self.sample_genes().and_then(|g| g.for_sequence(codes));
        let genes = match sampled {
            Some(m) if opts.sample_decodes_all() => {
                call_genes_sampled(codes, table, m, votes, &opts.for_sample())
            }
            _ => call_genes_or(codes, table, llr, votes, &opts, sampled),
        };
        genes
            .into_iter()
            .map(|g| Segment {
                start: g.start,
                end: g.end,
                strand: g.strand,
                frame: Frame::new(0).expect("0 is a frame"),
                coding_prob: 1.0 / (1.0 + (-g.score).exp()),
                path: g.path,
                gene: Some(GeneMark {
                    partial: g.partial,
                    score: g.score,
                }),
            })
            .collect()
    }

    /// Scores each window starting at `starts` (the whole read when there is one);
    /// returns the best window's coding probability, start and class probabilities,
    /// and, for a sequence scored in several windows, every window's vote for the gene
    /// decoder ([`crate::genes`]).
    fn score_windows(
        &self,
        codes: &[Base],
        starts: &[usize],
        table: &TableContext,
        s: &mut Scratch,
    ) -> (f32, usize, [f32; 7], Vec<WindowVote>) {
        let len = codes.len();
        let mut votes = Vec::new();
        let mut best: Option<(f32, usize, [f32; 7])> = None;
        for &w in starts {
            let wlen = if starts.len() == 1 {
                len
            } else {
                self.config.window
            };
            let probs = self.calibrated(self.window_probs(&codes[w..w + wlen], table, s), wlen);
            let cp = 1.0 - probs[0];
            if starts.len() > 1 {
                votes.push(WindowVote::new(&probs, w, wlen, len));
            }
            if best.is_none_or(|b| cp > b.0) {
                best = Some((cp, w, probs));
            }
        }
        let (cp, w, probs) = best.expect("at least one window");
        (cp, w, probs, votes)
    }

    /// Predicts a batch on `threads` threads; results are in input order and do not
    /// depend on the thread count.
    pub fn predict_batch(
        &self,
        reads: &[&[Base]],
        table: &TableContext,
        threshold: f32,
        threads: usize,
    ) -> Vec<Prediction> {
        par_map(reads, threads, |r, s| self.predict(r, table, threshold, s))
    }

    /// What each read tells about the sample's sequencing errors (see
    /// [`crate::estimate`]): scored without a hint, the coding probability and how far
    /// its best path gains over its fixed frame. For reads scored whole (up to
    /// `max_len`); results are in input order and do not depend on the thread count.
    pub fn error_evidence(
        &self,
        reads: &[&[Base]],
        table: &TableContext,
        threads: usize,
    ) -> Vec<ReadEvidence> {
        self.evidence(reads, table, threads, false)
    }

    /// What 300-nt windows cut from long sequences say about indels (see
    /// [`crate::estimate::survey`]): the main network's call and gain, marked as windows;
    /// the clean expert is not asked.
    pub fn window_evidence(
        &self,
        windows: &[&[Base]],
        table: &TableContext,
        threads: usize,
    ) -> Vec<ReadEvidence> {
        self.evidence(windows, table, threads, true)
    }

    fn evidence(
        &self,
        reads: &[&[Base]],
        table: &TableContext,
        threads: usize,
        window: bool,
    ) -> Vec<ReadEvidence> {
        par_map(reads, threads, |r, s| {
            let probs = probs_of(&self.model, r, table, None, s);
            let gain = s.inputs.gain[best_class(&probs) - 1];
            // Substitutions are surveyed on 250-400-nt reads, for a model whose pristine
            // expert they choose.
            let stops_wanted =
                !window && self.pristine.is_some() && r.len() >= crate::estimate::SHORTEST;
            let clean = self.clean.as_ref().filter(|_| stops_wanted).map(|expert| {
                let p = probs_of(expert, r, table, None, s);
                ExpertCall {
                    coding: p[0] <= 0.5,
                    stops: s.inputs.fixed_stops(best_class(&p) - 1),
                }
            });
            ReadEvidence {
                length: r.len(),
                coding_prob: 1.0 - probs[0],
                gain,
                clean,
                window,
            }
        })
    }
}

/// Class probabilities of one window from network `net` under an error hint;
/// `s.inputs` keep the window's frame paths.
fn probs_of(
    net: &Model,
    codes: &[Base],
    table: &TableContext,
    hint: Option<f32>,
    s: &mut Scratch,
) -> [f32; 7] {
    let path = PathScorer {
        hint,
        ..net.weights().path()
    };
    s.inputs.fill(codes, table, &path);
    net.forward(&s.inputs, &mut s.fw);
    s.fw.probs
}

/// Start positions of the windows covering a sequence of `len` nt: one window for
/// sequences up to `max_len`; longer ones get windows spread evenly from 0 to
/// `len - window`, at most `stride` apart, and placed mirror-symmetrically (with `w`
/// comes `len - window - w`), so a sequence and its reverse complement are scored on
/// the same windows and get the same `coding_prob` at any length.
pub fn window_starts(len: usize, cfg: &ModelConfig) -> Vec<usize> {
    if len <= cfg.max_len {
        return vec![0];
    }
    let span = len - cfg.window;
    let gaps = span.div_ceil(cfg.stride.max(1));
    let mut v: Vec<usize> = (0..=gaps)
        .flat_map(|k| {
            // The left half spreads down from the start, the right half mirrors it; a
            // middle start of an odd span comes with its mirror.
            let k = k.min(gaps - k);
            let w = (k * span).div_ceil(gaps);
            [w, span - w]
        })
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// The best coding class of a window, as strand and frame of the whole sequence.
///
/// For the minus strand the frame is the offset in the reverse complement of the
/// whole sequence; a window `[w, w+wlen)` starts at `len - w - wlen` there.
fn global_frame(probs: &[f32; 7], w: usize, wlen: usize, len: usize) -> (Strand, Frame) {
    let k = best_class(probs);
    let ReadClass::Coding(strand, f) = ReadClass::from_index(k).expect("1..=6") else {
        unreachable!("indices 1..=6 are coding classes")
    };
    let start = match strand {
        Strand::Plus => w,
        Strand::Minus => len - w - wlen,
    };
    (
        strand,
        Frame::new(((start + f.offset() as usize) % 3) as u8).expect("mod 3"),
    )
}

/// Weight of the self-trained chains' start-frame scores
/// ([`Chains::frame_scores`](crate::hmm::Chains::frame_scores)) beside the network's
/// frame log-probabilities (see `pick_frame`).
/// Chosen on the held-out fold genomes (S. suis, Acidilobus, P. aeruginosa, the
/// Lachnospiraceae MAG; their `indel1` and `mixed4` sets self-trained on themselves):
/// strand+frame at 300 / 150 nt `indel1` 0.789 / 0.786 with the network's frame alone,
/// 0.810 / 0.808 with the chains' best path's start frame as a bonus of 1.5 (before),
/// 0.819 / 0.813, 0.827 / 0.822, 0.832 / 0.829, 0.833 / 0.831, 0.832 / 0.832,
/// 0.828 / 0.829 with weight 0.5 / 1 / 2 / 3 / 5 / 100 (docs/experiments.md).
pub const CHAIN_FRAME_WEIGHT: f32 = 3.0;

/// Gathers a coding strand's probability (classes 1-3 on the plus strand, else 4-6)
/// into one frame, picked by the network's and the self-trained chains' evidence
/// ([`pick_frame`]).
fn settle_frame(
    probs: &mut [f32; 7],
    on_plus: bool,
    codes: &[Base],
    ch: &Chains,
    eps: f32,
    s: &mut HmmScratch,
) {
    let base = if on_plus { 1 } else { 4 };
    let own = [probs[base], probs[base + 1], probs[base + 2]];
    let f = pick_frame(own, ch.frame_scores(codes, on_plus, eps, s));
    let total: f32 = own.iter().sum();
    for (k, p) in probs[base..base + 3].iter_mut().enumerate() {
        *p = if k == f { total } else { 0.0 };
    }
}

/// The frame (0-2) on a strand: the best by the network's log-probability of each of
/// the strand's three frames plus [`CHAIN_FRAME_WEIGHT`] times the chains' start-frame
/// score. Ties go to the lower frame.
pub(crate) fn pick_frame(net: [f32; 3], chains: [f32; 3]) -> usize {
    let total = net.iter().sum::<f32>().max(1e-12);
    let score = |k: usize| (net[k] / total + 1e-9).ln() + CHAIN_FRAME_WEIGHT * chains[k];
    let mut best = 0;
    for k in 1..3 {
        if score(k) > score(best) {
            best = k;
        }
    }
    best
}

/// The most likely coding class (1..=6; the first on ties).
pub(crate) fn best_class(probs: &[f32; 7]) -> usize {
    let mut k = 1;
    for i in 2..7 {
        if probs[i] > probs[k] {
            k = i;
        }
    }
    k
}

/// `f` over `reads` on up to `threads` threads, results in input order.
pub(crate) fn par_map<T: Send>(
    reads: &[&[Base]],
    threads: usize,
    f: impl Fn(&[Base], &mut Scratch) -> T + Sync,
) -> Vec<T> {
    par_chunks(reads, threads, |r, s: &mut Scratch| f(r, s))
}

/// `f` of each item, in item order, computed by up to `threads` threads, each over a
/// contiguous chunk of the items with its own scratch `S` (made once per thread).
pub(crate) fn par_chunks<I: Sync, S: Default, T: Send>(
    items: &[I],
    threads: usize,
    f: impl Fn(&I, &mut S) -> T + Sync,
) -> Vec<T> {
    let threads = threads.max(1).min(items.len().max(1));
    if threads == 1 {
        let mut s = S::default();
        return items.iter().map(|r| f(r, &mut s)).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|sc| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| {
                sc.spawn(move || {
                    let mut s = S::default();
                    part.iter().map(|r| f(r, &mut s)).collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("prediction threads do not panic"))
            .collect()
    })
}

/// The frame shifts on a frame path — codon starts in the sense orientation of
/// `[start, end)` on `strand`, relative to its first base there — in the coordinates
/// of the sequence as given (bases before the shift point), left to right.
fn shifts_on_path(path: &[u32], strand: Strand, start: usize, end: usize) -> Vec<Frameshift> {
    let mut shifts: Vec<Frameshift> = path
        .windows(2)
        .filter(|w| w[1] - w[0] != 3)
        .map(|w| Frameshift {
            pos: match strand {
                Strand::Plus => start + w[1] as usize,
                Strand::Minus => end - w[1] as usize,
            },
            kind: if w[1] - w[0] > 3 {
                ShiftKind::Insertion
            } else {
                ShiftKind::Deletion
            },
        })
        .collect();
    if strand == Strand::Minus {
        shifts.reverse();
    }
    shifts
}

#[cfg(test)]
mod frame_tests {
    use super::*;

    #[test]
    fn the_frame_weighs_the_network_and_the_chains() {
        // Chains that cannot tell the frames apart leave the network's best.
        assert_eq!(pick_frame([0.2, 0.5, 0.3], [0.0; 3]), 1);
        // Chains that agree keep it.
        assert_eq!(pick_frame([0.2, 0.5, 0.3], [-2.0, 0.0, -2.0]), 1);
        // Chains sure of another frame take it (log-odds 3 × 0.5 = 1.5 > ln(0.5/0.2)).
        assert_eq!(pick_frame([0.2, 0.5, 0.3], [0.0, -0.5, -3.0]), 0);
        // A little doubt does not overrule a network that is sure (ln 98 > 3 × 1).
        assert_eq!(pick_frame([0.01, 0.98, 0.01], [-1.0, -1.0, 0.0]), 1);
        // The scale does not matter (the strand's share of coding_prob).
        assert_eq!(pick_frame([0.002, 0.005, 0.003], [0.0, -0.5, -3.0]), 0);
        // Ties go to the lower frame.
        assert_eq!(pick_frame([0.4, 0.2, 0.4], [0.0; 3]), 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_mirror_symmetric_cover_the_sequence_and_stay_close() {
        let cfg = ModelConfig::new(16, 32);
        assert_eq!(window_starts(400, &cfg), vec![0]);
        assert_eq!(window_starts(500, &cfg), vec![0, 100, 200]);
        for len in 401..3000 {
            let v = window_starts(len, &cfg);
            let span = len - cfg.window;
            assert_eq!((v[0], *v.last().unwrap()), (0, span), "{len}");
            for w in &v {
                assert!(v.contains(&(span - w)), "{len}: {v:?}");
            }
            assert!(
                v.windows(2)
                    .all(|p| p[1] > p[0] && p[1] - p[0] <= cfg.stride),
                "{len}: {v:?}"
            );
            // No more windows than the plain grid plus one.
            assert!(v.len() <= span.div_ceil(cfg.stride) + 2, "{len}: {v:?}");
        }
    }
}
