//! A frame-shifting chain model of coding DNA, self-trained on the sample it scores.
//!
//! Reads with indels lose the fixed frame's open-reading-frame evidence; what is left is
//! codon usage along a path that may shift. Counted over the training genomes that
//! evidence is weak (every genome uses codons its own way); counted from the sample's
//! own genome it is strong (docs/experiments.md, "The sample's own genome is the
//! lever"). This module holds:
//!
//! - [`ChainCounts`]: 5th-order Markov chain counts — for coding DNA one chain per codon
//!   position of the predicted base, for non-coding DNA one homogeneous chain — counted
//!   from labelled training reads (shipped with the model as the prior) or from a
//!   sample's confident calls ([`self_train`]).
//! - [`Chains`]: their conditional log-probabilities and a frame-shifting Viterbi pass
//!   on both strands: each base is emitted by the coding chain at the next codon
//!   position (a match), by the chain one position further (a deletion: a base is
//!   missing) or by the non-coding chain without advancing (an insertion), with
//!   `ln(1 - 2ε)`, `ln ε`, `ln ε`. The read's score is the log-likelihood ratio of the best
//!   coding path on each strand against the non-coding chain.
//!
//! - [`self_train`]: the chains of one sample, taught by the network's confident calls
//!   on the sample's first reads (`cdspred predict --self-train`, for reads told or
//!   surveyed to carry indels), with the shipped counts as prior and an offset that
//!   centres the log-likelihood ratio on the teacher's boundary; [`coding_prob`] then
//!   adds it, weighted, to the network's logit.
//!
//! A read and its reverse complement get swapped strand scores by construction (the
//! minus strand is the same pass over the reverse complement).

use std::sync::Arc;

use cdspred_core::dna::{revcomp_codes, revcomp_into, Base};

use crate::features::TableContext;
use crate::predict::{best_class, par_map, Predictor, SHORT_CHAINS_BELOW};

/// Bases of context (the chains' order).
pub const ORDER: usize = 5;
/// Distinct (context, base) words: 4^(ORDER + 1).
pub const WORDS: usize = 1 << (2 * (ORDER + 1));
const MASK: usize = WORDS - 1;

/// Chain counts: `coding[phase * WORDS + word]` counts words whose last base sits at
/// codon position `phase` (0, 1, 2) of the sense strand; `noncoding[word]` counts words
/// of non-coding DNA on both strands.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainCounts {
    /// Coding words by codon position `[3 * WORDS]`.
    pub coding: Vec<f32>,
    /// Non-coding words `[WORDS]`.
    pub noncoding: Vec<f32>,
}

impl Default for ChainCounts {
    fn default() -> Self {
        ChainCounts {
            coding: vec![0.0; 3 * WORDS],
            noncoding: vec![0.0; WORDS],
        }
    }
}

/// The words ending at each base of `seq` (`None` while fewer than `ORDER + 1` called
/// bases end there).
fn words(seq: &[Base]) -> impl Iterator<Item = Option<usize>> + '_ {
    let (mut w, mut clean) = (0usize, 0usize);
    seq.iter().map(move |&b| {
        if b > 3 {
            clean = 0;
            w <<= 2;
        } else {
            clean += 1;
            w = (w << 2) | b as usize;
        }
        w &= MASK;
        (clean > ORDER).then_some(w)
    })
}

impl ChainCounts {
    /// Counts a sense-strand read whose base `i` sits at codon position `phase[i]`
    /// (−1: an inserted base); a word counts only when its bases step through the codon
    /// positions without an indel.
    pub fn add_coding(&mut self, sense: &[Base], phase: &[i8]) {
        for k in steady_words(sense, phase) {
            self.coding[k as usize] += 1.0;
        }
    }

    /// Counts a clean sense-strand read whose first full codon starts at `frame`.
    pub fn add_coding_frame(&mut self, sense: &[Base], frame: usize) {
        let phase: Vec<i8> = (0..sense.len())
            .map(|i| ((i + 3 - frame % 3) % 3) as i8)
            .collect();
        self.add_coding(sense, &phase);
    }

    /// Counts a non-coding read (both strands).
    pub fn add_noncoding(&mut self, read: &[Base]) {
        for w in both_strands_words(read) {
            self.noncoding[w as usize] += 1.0;
        }
    }

    /// Total coding and non-coding words.
    pub fn totals(&self) -> (f64, f64) {
        let sum = |v: &[f32]| v.iter().map(|&x| x as f64).sum::<f64>();
        (sum(&self.coding), sum(&self.noncoding))
    }

    /// These counts plus pseudo-counts spread as `prior` is: `coding` per codon position
    /// for the coding chain, `noncoding` for the non-coding chain.
    pub fn with_prior(&self, prior: &ChainCounts, coding: f64, noncoding: f64) -> ChainCounts {
        let mut out = self.clone();
        let spread = |dst: &mut [f32], src: &[f32], weight: f64| {
            let total: f64 = src.iter().map(|&x| x as f64).sum();
            if total > 0.0 {
                for (d, &s) in dst.iter_mut().zip(src) {
                    *d += (weight * s as f64 / total) as f32;
                }
            }
        };
        for p in 0..3 {
            let r = p * WORDS..(p + 1) * WORDS;
            spread(&mut out.coding[r.clone()], &prior.coding[r], coding);
        }
        spread(&mut out.noncoding, &prior.noncoding, noncoding);
        out
    }

    /// The chains' conditional log-probabilities: the coding chains' shrunk toward lower
    /// orders ([`CODING_BACKOFF`]), the non-coding chain's with half a count added to
    /// every word.
    pub fn chains(&self) -> Chains {
        let coding: Vec<f32> = (0..3)
            .flat_map(|p| backoff(&self.coding[p * WORDS..(p + 1) * WORDS], CODING_BACKOFF))
            .collect();
        let noncoding = self
            .noncoding
            .chunks_exact(4)
            .flat_map(|c| {
                let total: f64 = c.iter().map(|&x| x as f64 + 0.5).sum();
                c.iter()
                    .map(move |&x| ((x as f64 + 0.5) / total).ln() as f32)
                    .collect::<Vec<_>>()
            })
            .collect::<Vec<f32>>();
        let ratio = (0..3 * WORDS)
            .map(|k| (coding[k] - noncoding[k % WORDS]).exp())
            .collect();
        Chains {
            coding,
            noncoding,
            ratio,
            offset: 0.0,
        }
    }
}

/// Pseudo-counts by which each order of the coding chains is shrunk toward the order
/// below it (interpolated, as Glimmer's chains are): a 5th-order chain counted from a
/// few thousand reads has seen many of its 4,096 contexts per codon position only a few
/// times. Chosen on genomes the networks never saw (the fold models' held-out genomes,
/// their 16,000-read labelled sets with `indel1` and `mixed4` self-trained on
/// themselves, mean gene MCC at 150 and 300 nt): none (half a count per word, before)
/// 0.747; 300 / 1,000 / 2,000 / 3,000 / 10,000 / 30,000 → 0.796 / 0.809 / 0.810 / 0.808
/// / 0.800 / 0.785. Within 30,000-read runs, where the counts suffice, 150- and 300-nt
/// reads did not move (0.787 vs 0.787). The same shrinkage of the non-coding chain
/// lowered the figure (3,000: 0.724), so that chain keeps its half count.
pub const CODING_BACKOFF: f64 = 2000.0;

/// Conditional log-probabilities of one chain's words (`4^(ORDER + 1)` counts, last base
/// fastest): order 0 with half a count per base, then each order `k` as
/// `(n(context, base) + alpha · p_{k-1}(base | shorter context)) / (n(context) + alpha)`,
/// the shorter context dropping the oldest base.
fn backoff(v: &[f32], alpha: f64) -> Vec<f32> {
    let marginal = |size: usize| {
        let mut n = vec![0f64; size];
        for (w, &x) in v.iter().enumerate() {
            n[w & (size - 1)] += x as f64;
        }
        n
    };
    let n0 = marginal(4);
    let t0 = n0.iter().sum::<f64>() + 2.0;
    let mut lower: Vec<f64> = n0.iter().map(|&x| (x + 0.5) / t0).collect();
    for k in 1..=ORDER {
        let size = 1usize << (2 * (k + 1));
        let n = marginal(size);
        let p: Vec<f64> = (0..size)
            .map(|w| {
                let ctx = w & !3;
                let t: f64 = n[ctx..ctx + 4].iter().sum();
                (n[w] + alpha * lower[w & (size / 4 - 1)]) / (t + alpha)
            })
            .collect();
        lower = p;
    }
    lower.iter().map(|&x| x.ln() as f32).collect()
}

/// Conditional log-probabilities of the chains (see [`ChainCounts`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Chains {
    coding: Vec<f32>,
    noncoding: Vec<f32>,
    /// `exp(coding − noncoding)` per codon position and word ([`Chains::frame_scores`]).
    ratio: Vec<f32>,
    /// Added to a read's log-likelihood ratio in [`coding_prob`] (set by
    /// [`self_train`]).
    pub offset: f32,
}

/// Reusable buffers of the Viterbi pass.
#[derive(Debug, Clone, Default)]
pub struct HmmScratch {
    rc: Vec<Base>,
    back: Vec<[u8; 3]>,
    words: Vec<u32>,
}

/// Step codes of the traceback.
const MATCH: u8 = 0;
const DELETION: u8 = 1;
const INSERTION: u8 = 2;

impl Chains {
    /// Log-likelihood ratios of the best coding path against non-coding DNA: for the
    /// read as given and for its reverse complement. `eps`: insertion (and deletion)
    /// probability per base.
    pub fn strand_llr(&self, read: &[Base], eps: f32, s: &mut HmmScratch) -> (f32, f32) {
        let mut rc = std::mem::take(&mut s.rc);
        revcomp_into(read, &mut rc);
        let plus = self.viterbi(read, eps, None);
        let minus = self.viterbi(&rc, eps, None);
        s.rc = rc;
        (plus, minus)
    }

    /// The codon position of every base of `sense` on its best coding path (−1: an
    /// inserted base).
    pub fn phases(&self, sense: &[Base], eps: f32, s: &mut HmmScratch) -> Vec<i8> {
        let mut back = std::mem::take(&mut s.back);
        back.clear();
        let _ = self.viterbi(sense, eps, Some(&mut back));
        let mut out = vec![-1i8; sense.len()];
        if let Some(last) = back.last() {
            // The final state is stored after the last base's steps.
            let mut st = last[0] as usize;
            for i in (0..sense.len()).rev() {
                match back[i][st] {
                    MATCH => {
                        st = (st + 2) % 3;
                        out[i] = st as i8;
                    }
                    DELETION => {
                        out[i] = ((st + 2) % 3) as i8;
                        st = (st + 1) % 3;
                    }
                    _ => {}
                }
            }
        }
        s.back = back;
        out
    }

    /// How well the chains explain `read` on the `plus` strand (else on its reverse
    /// complement) when its first full codon starts at offset 0, 1 or 2 on that strand:
    /// the log of the probability summed over every coding path from that start (the
    /// forward algorithm, taken backwards from the read's end so that one pass gives all
    /// three), less the best of the three (so the best is 0). Summing over paths rather
    /// than taking the best one weighs every place the indels could lie.
    pub fn frame_scores(
        &self,
        read: &[Base],
        plus: bool,
        eps: f32,
        s: &mut HmmScratch,
    ) -> [f32; 3] {
        let mut rc = std::mem::take(&mut s.rc);
        let seq: &[Base] = if plus {
            read
        } else {
            revcomp_into(read, &mut rc);
            &rc
        };
        s.words.clear();
        s.words
            .extend(words(seq).map(|w| w.map_or(u32::MAX, |w| w as u32)));
        s.rc = rc;
        let (lm, li) = (1.0 - 2.0 * eps, eps);
        // b[x]: the suffix's probability (relative to the non-coding chain, rescaled to a
        // maximum of 1 every 8 bases and after the last) given that its first base sits
        // at codon position x.
        let mut b = [1f32; 3];
        for (i, &w) in s.words.iter().rev().enumerate() {
            let r = if w == u32::MAX {
                [1.0; 3]
            } else {
                let w = w as usize;
                [
                    self.ratio[w],
                    self.ratio[WORDS + w],
                    self.ratio[2 * WORDS + w],
                ]
            };
            // A match emits the base at position x, a deletion skips x and emits it at
            // x + 1, an insertion emits it from the non-coding chain and stays.
            b = [
                lm * r[0] * b[1] + li * (r[1] * b[2] + b[0]),
                lm * r[1] * b[2] + li * (r[2] * b[0] + b[1]),
                lm * r[2] * b[0] + li * (r[0] * b[1] + b[2]),
            ];
            // Rescaled now and then (and at the end) to stay within f32's range.
            if i % 8 == 7 || i + 1 == s.words.len() {
                let m = 1.0 / b[0].max(b[1]).max(b[2]).max(1e-30);
                b = b.map(|v| v * m);
            }
        }
        // Frame f: the first base sits at codon position (3 - f) % 3.
        [b[0], b[2], b[1]].map(|v| v.max(1e-30).ln())
    }

    /// The best coding path's score less the non-coding chain's; with `back`, the
    /// steps into each state at each base, then one entry holding the final state.
    fn viterbi(&self, seq: &[Base], eps: f32, mut back: Option<&mut Vec<[u8; 3]>>) -> f32 {
        let (lm, li) = ((1.0 - 2.0 * eps).ln(), eps.ln());
        let mut a = [-(3f32.ln()); 3];
        let mut background = 0f32;
        for w in words(seq) {
            let (c, b) = match w {
                Some(w) => (
                    [
                        self.coding[w],
                        self.coding[WORDS + w],
                        self.coding[2 * WORDS + w],
                    ],
                    self.noncoding[w],
                ),
                None => ([0.0; 3], 0.0),
            };
            background += b;
            // Into state s (the next base's codon position): a match from s-1 and a
            // deletion from s-2 both emit this base at position s-1; an insertion stays.
            let mut new = [0f32; 3];
            let mut steps = [MATCH; 3];
            for st in 0..3 {
                let e = (st + 2) % 3;
                let m = a[e] + lm + c[e];
                let d = a[(st + 1) % 3] + li + c[e];
                let i = a[st] + li + b;
                let (mut v, mut k) = (m, MATCH);
                if d > v {
                    (v, k) = (d, DELETION);
                }
                if i > v {
                    (v, k) = (i, INSERTION);
                }
                new[st] = v;
                steps[st] = k;
            }
            a = new;
            if let Some(bk) = back.as_deref_mut() {
                bk.push(steps);
            }
        }
        let (mut best, mut arg) = (a[0], 0u8);
        for (st, &v) in a.iter().enumerate().skip(1) {
            if v > best {
                (best, arg) = (v, st as u8);
            }
        }
        if let Some(bk) = back {
            bk.push([arg; 3]);
        }
        best - background
    }
}

/// Weight of the chains' log-likelihood ratio added to the network's logit
/// ([`coding_prob`]); chosen among 0.1, 0.2, 0.4 and 1 on reads of four training genomes
/// (S. suis, P. aeruginosa, Acidilobus, Lachnospiraceae) with `indel1` and `mixed4`
/// errors, mean gene MCC at 150 and 300 nt 0.841 / 0.846 / 0.844 for 0.2 / 0.4 / 1
/// (docs/experiments.md).
pub const CHAIN_WEIGHT: f32 = 0.4;

/// A read's coding probability from the network's (`network`) and the chains' strand
/// scores: the logistic of `(logit(network) + CHAIN_WEIGHT · (ln(e^plus + e^minus) +
/// offset)) / SELF_TRAINED_TEMPERATURE` (coding on either strand against non-coding DNA,
/// centred by the sample's offset).
pub fn coding_prob(plus: f32, minus: f32, network: f32, offset: f32) -> f32 {
    let n = network.clamp(1e-4, 1.0 - 1e-4);
    let z = (n / (1.0 - n)).ln() + CHAIN_WEIGHT * (either_strand(plus, minus) + offset);
    1.0 / (1.0 + (-z / SELF_TRAINED_TEMPERATURE).exp())
}

/// The logit of a short read's coding probability not told indels, the network's
/// plus the chains' term, is divided by this ([`short_read_coding_prob`]).
pub const SHORT_READ_TEMPERATURE: f32 = 1.5;

/// A coding probability of a read not told indels (shorter than
/// [`crate::predict::SHORT_CHAINS_BELOW`]) from the network's (`network`: an expert's,
/// or the main network's told nothing) and the sample's chains: the logistic of
/// `(logit(network) + CHAIN_WEIGHT · (ln(e^plus + e^minus) + offset)) /
/// SHORT_READ_TEMPERATURE`.
pub fn short_read_coding_prob(plus: f32, minus: f32, network: f32, offset: f32) -> f32 {
    let n = network.clamp(1e-4, 1.0 - 1e-4);
    let z = (n / (1.0 - n)).ln() + CHAIN_WEIGHT * (either_strand(plus, minus) + offset);
    1.0 / (1.0 + (-z / SHORT_READ_TEMPERATURE).exp())
}

/// The combined logit of [`coding_prob`] is divided by this: the network's calibrated
/// logit plus the chains' term is over-confident (mean confidence 0.91 where 0.83 of the
/// calls are right). Fitted (negative log-likelihood) on genomes the networks never saw —
/// the fold models' held-out genomes, `indel1` and `mixed4`, labelled reads within
/// 30,000-read runs: 2.25 (mean confidence 0.827, accuracy 0.831); the same reads
/// self-trained on their own 16,000-read sets: confidence 0.837, accuracy 0.832. The
/// call at 0.5 does not move.
pub const SELF_TRAINED_TEMPERATURE: f32 = 2.25;

/// Insertion (and deletion) probability per base for an error hint of `indels` per
/// 100 nt (half of them insertions).
pub fn eps_for(indels_per_100nt: f32) -> f32 {
    (indels_per_100nt / 200.0).clamp(0.001, 0.05)
}

/// Reads a sample self-trains on at most (the first ones of the input).
pub const MAX_TEACHING_READS: usize = 30_000;
/// Confident coding reads a sample needs to self-train when asked to (`on`).
pub const MIN_CODING_READS: usize = 300;
/// Confident coding reads a sample needs to self-train by default (`auto`). Chosen on
/// genomes the networks never saw (leave-genomes-out fold models): their labelled read
/// sets, subsampled to 1,000-16,000 reads and forced to self-train, gained gene MCC at
/// every length from 577 confidently coding reads on (the smallest gain +0.002, the mean
/// +0.08) and lost with 449 (Lachnospiraceae `indel1`, 2,000 reads: −0.04 at 150 nt);
/// docs/experiments.md. (Before the teacher threshold and prior were retuned, one
/// 16,000-read dev set, M. hyorhinis with `mixed4`, lost 0.09 at 300 nt, and the bar was
/// a run's worth of reads.)
pub const RUN_CODING_READS: usize = 1_000;

/// When a sample told, or surveyed, to carry indels self-trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SelfTrainMode {
    /// When its first reads hold at least [`RUN_CODING_READS`] confidently coding reads.
    #[default]
    Auto,
    /// When they hold at least [`MIN_CODING_READS`].
    On,
    /// Never.
    Off,
}

impl SelfTrainMode {
    /// Confident coding reads needed (`None`: never).
    pub fn min_coding_reads(self) -> Option<usize> {
        match self {
            SelfTrainMode::Auto => Some(RUN_CODING_READS),
            SelfTrainMode::On => Some(MIN_CODING_READS),
            SelfTrainMode::Off => None,
        }
    }
}

impl std::str::FromStr for SelfTrainMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(SelfTrainMode::Auto),
            "on" => Ok(SelfTrainMode::On),
            "off" => Ok(SelfTrainMode::Off),
            _ => Err(format!("unknown self-training mode {s:?} (auto, on, off)")),
        }
    }
}
/// Coding probability from which the network's call teaches the coding chains.
///
/// This and [`CODING_PRIOR_WEIGHT`] were chosen on genomes the networks never saw
/// (`scripts/eval_selftrain_holdout.py`: four genomes, `indel1` and `mixed4`, mean gene
/// MCC at 150 and 300 nt within 30,000-read runs): 0.9 with 3·10⁵ pseudo-counts (the
/// first choice) 0.761; 0.9 with 3·10⁴ 0.768; 0.78 / 0.8 / 0.82 / 0.85 with 10⁴–3·10⁴
/// 0.782 / 0.787 / 0.780 / 0.776 (docs/experiments.md).
pub const TEACHER_CODING_PROB: f32 = 0.8;
/// Coding probability up to which the network's call teaches the non-coding chain.
pub const TEACHER_NONCODING_PROB: f32 = 0.1;
/// Pseudo-counts of the prior per codon position of the coding chains: few, as a run's
/// confident calls count millions of coding words (from 3·10³ to 10⁴ nothing changed).
pub const CODING_PRIOR_WEIGHT: f64 = 1e4;
/// Pseudo-counts of the prior for the non-coding chain: many, as a genome holds little
/// non-coding DNA and a run few confidently non-coding reads (10⁵ and 10⁶ were no
/// better).
pub const NONCODING_PRIOR_WEIGHT: f64 = 3e5;
/// Shortest read that teaches the chains of a sample told indels.
pub const MIN_TEACHING_LEN: usize = 100;
/// Shortest read that teaches the chains of a sample not told indels: the model's
/// shortest (only its reads under [`SHORT_CHAINS_BELOW`] nt use them; samples of short
/// reads alone, as ancient DNA is, have little else to learn from). Held-out genomes'
/// 60- and 100-nt reads alone, taught from 60 nt against 100: gene MCC 0.625 / 0.753 ->
/// 0.678 / 0.800; the same reads cut to 45 / 50 nt (P. aeruginosa, Lachnospiraceae),
/// taught from 40 nt against none: 0.467 / 0.473 -> 0.562 / 0.566 (docs/experiments.md).
pub const SHORT_TEACHING_LEN: usize = 40;

/// Lengths of the reads that teach `pred`'s chains: [`MIN_TEACHING_LEN`] (told indels)
/// or [`SHORT_TEACHING_LEN`] (not) up to the model's `max_len`.
pub fn teaching_lengths(pred: &Predictor) -> std::ops::RangeInclusive<usize> {
    let min = if pred.told_indels() {
        MIN_TEACHING_LEN
    } else {
        SHORT_TEACHING_LEN
    };
    min..=pred.config().max_len
}

/// What self-training learnt from a sample.
#[derive(Debug, Clone)]
pub struct SelfTraining {
    /// The sample's chains (its counts plus the prior's pseudo-counts).
    pub chains: Arc<Chains>,
    /// Reads looked at ([`teaching_lengths`], at most
    /// [`MAX_TEACHING_READS`]).
    pub reads: usize,
    /// Reads the network called coding with confidence (the coding chains' teachers).
    pub coding_reads: usize,
    /// Reads the network called non-coding with confidence.
    pub noncoding_reads: usize,
}

/// Counts chains from a sample's reads (of [`teaching_lengths`]) as the predictor's
/// teacher ([`Predictor::teacher`]: itself when told indels, else the main network
/// told [`crate::predict::TEACHER_HINT`]) calls them: each confidently coding read's
/// sense strand is given codon positions by the prior chains' best path (indels
/// included) and counted; each confidently non-coding read is counted on both strands.
/// The prior adds [`CODING_PRIOR_WEIGHT`] and [`NONCODING_PRIOR_WEIGHT`] pseudo-counts.
/// `None` when the predictor has no prior, the sample has fewer than `min_coding`
/// confident coding reads, or (not told indels) no read under [`SHORT_CHAINS_BELOW`]
/// nt to use the chains. Deterministic: reads are counted in input order whatever the
/// thread count.
pub fn self_train(
    pred: &Predictor,
    reads: &[&[Base]],
    table: &TableContext,
    threads: usize,
    min_coding: usize,
) -> Option<SelfTraining> {
    let prior = pred.chain_prior()?;
    // Reads not told indels use the chains under SHORT_CHAINS_BELOW nt only: without
    // such reads, no teaching.
    let short = pred.config().min_len..SHORT_CHAINS_BELOW;
    if !pred.told_indels() && !reads.iter().any(|r| short.contains(&r.len())) {
        return None;
    }
    let lengths = teaching_lengths(pred);
    let prior_chains = prior.chains();
    let pred = &pred.teacher();
    let eps = eps_for(pred.error_hint().unwrap_or(0.8));
    let usable: Vec<&[Base]> = reads
        .iter()
        .copied()
        .filter(|r| lengths.contains(&r.len()))
        .take(MAX_TEACHING_READS)
        .collect();
    // Per read: Some((true, coding word indices)) / Some((false, non-coding words)).
    let lessons = par_map(&usable, threads, |r, s| {
        let probs = pred.calibrated(pred.window_probs(r, table, s), r.len());
        let cp = 1.0 - probs[0];
        if cp >= TEACHER_CODING_PROB {
            let sense: Vec<Base> = if best_class(&probs) > 3 {
                revcomp_codes(r)
            } else {
                r.to_vec()
            };
            let phase = prior_chains.phases(&sense, eps, &mut s.hmm);
            Some((true, steady_words(&sense, &phase).collect::<Vec<u32>>()))
        } else if cp <= TEACHER_NONCODING_PROB {
            Some((false, both_strands_words(r)))
        } else {
            None
        }
    });
    let mut counts = ChainCounts::default();
    let (mut coding, mut noncoding) = (0, 0);
    // The reads that taught, and what they taught (for the offset below).
    let (mut taught, mut labels) = (Vec::new(), Vec::new());
    for (r, lesson) in usable.iter().zip(&lessons) {
        if let Some((is_coding, _)) = lesson {
            taught.push(*r);
            labels.push(*is_coding);
        }
    }
    for (is_coding, ws) in lessons.into_iter().flatten() {
        let dst = if is_coding {
            coding += 1;
            &mut counts.coding
        } else {
            noncoding += 1;
            &mut counts.noncoding
        };
        for w in ws {
            dst[w as usize] += 1.0;
        }
    }
    if coding < min_coding.max(1) {
        return None;
    }
    let mut chains = counts
        .with_prior(prior, CODING_PRIOR_WEIGHT, NONCODING_PRIOR_WEIGHT)
        .chains();
    // The sample's chains, read on the reads that taught them, against the teacher's
    // calls: the offset that separates them best (balanced accuracy) centres the
    // log-likelihood ratio where the network puts the boundary.
    let scores = par_map(&taught, threads, |r, s| {
        let (p, m) = chains.strand_llr(r, eps, &mut s.hmm);
        either_strand(p, m)
    });
    chains.offset = balanced_offset(scores.into_iter().zip(labels).collect());
    Some(SelfTraining {
        chains: Arc::new(chains),
        reads: usable.len(),
        coding_reads: coding,
        noncoding_reads: noncoding,
    })
}

/// `pred` with the chains its first reads teach it ([`self_train`]) when it wants
/// self-training and `mode` allows it, otherwise `pred` as it was: how a read set is
/// scored by `cdspred eval` and `cdspred drift`, as `cdspred predict` would score it as
/// a file.
pub fn teach(
    pred: Predictor,
    reads: &[&[Base]],
    table: &TableContext,
    threads: usize,
    mode: SelfTrainMode,
) -> Predictor {
    let taught = mode
        .min_coding_reads()
        .filter(|_| pred.wants_self_training())
        .and_then(|min| self_train(&pred, reads, table, threads, min));
    match taught {
        Some(t) => pred.with_sample_chains(t.chains),
        None => pred,
    }
}

/// The offset `c` for which `score + c > 0` best tells coding (`true`) from non-coding
/// scores, by balanced accuracy (0 without both kinds); ties take the middle.
fn balanced_offset(mut v: Vec<(f32, bool)>) -> f32 {
    let pos = v.iter().filter(|x| x.1).count();
    let neg = v.len() - pos;
    if pos == 0 || neg == 0 {
        return 0.0;
    }
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Cut between v[k-1] and v[k]: reads below are called non-coding.
    let (mut below_pos, mut below_neg) = (0usize, 0usize);
    let (mut best, mut cut) = (0.5f64, 0.0f32);
    for k in 1..v.len() {
        if v[k - 1].1 {
            below_pos += 1;
        } else {
            below_neg += 1;
        }
        if v[k].0 == v[k - 1].0 {
            continue;
        }
        let bal = (below_neg as f64 / neg as f64 + (pos - below_pos) as f64 / pos as f64) / 2.0;
        if bal > best {
            (best, cut) = (bal, (v[k - 1].0 + v[k].0) / 2.0);
        }
    }
    -cut
}

/// `ln(e^plus + e^minus)`: coding on either strand.
fn either_strand(plus: f32, minus: f32) -> f32 {
    plus.max(minus) + (-(plus - minus).abs()).exp().ln_1p()
}

/// The words of a read and of its reverse complement.
fn both_strands_words(read: &[Base]) -> Vec<u32> {
    let rc = revcomp_codes(read);
    words(read)
        .chain(words(&rc))
        .flatten()
        .map(|w| w as u32)
        .collect()
}

/// `phase * WORDS + word` for each word of `sense` whose bases step through the codon
/// positions `phase` without an indel.
fn steady_words<'a>(sense: &'a [Base], phase: &'a [i8]) -> impl Iterator<Item = u32> + 'a {
    words(sense).enumerate().filter_map(move |(i, w)| {
        let w = w?;
        let p = phase[i];
        let steady = p >= 0
            && (1..=ORDER).all(|j| {
                let q = phase[i - j];
                q >= 0 && (p - q).rem_euclid(3) == (j % 3) as i8
            });
        steady.then_some((p as usize * WORDS + w) as u32)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cdspred_core::DnaSeq;

    /// Chains counted from a "genome" of one repeated codon-biased ORF and random
    /// non-coding DNA.
    fn toy() -> (ChainCounts, Vec<Base>, Vec<Base>) {
        let mut x: u64 = 7;
        let mut rnd = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let codons = [b"GCT", b"AAA", b"GAA", b"CTG", b"ATG", b"CGT"];
        let orf: Vec<u8> = (0..3000)
            .flat_map(|_| codons[(rnd() % 6) as usize].to_vec())
            .collect();
        let nc: Vec<u8> = (0..9000).map(|_| b"ACGT"[(rnd() % 4) as usize]).collect();
        let orf = DnaSeq::from_ascii(&orf).unwrap().codes().to_vec();
        let nc = DnaSeq::from_ascii(&nc).unwrap().codes().to_vec();
        let mut c = ChainCounts::default();
        c.add_coding_frame(&orf, 0);
        c.add_noncoding(&nc);
        (c, orf, nc)
    }

    #[test]
    fn coding_reads_score_above_noncoding_and_strands_mirror() {
        let (c, orf, nc) = toy();
        let ch = c.chains();
        let mut s = HmmScratch::default();
        let read = &orf[301..601];
        let (p, m) = ch.strand_llr(read, 0.002, &mut s);
        assert!(p > 20.0 && p > m, "{p} {m}");
        let (np, nm) = ch.strand_llr(&nc[1000..1300], 0.002, &mut s);
        assert!(np < 0.0 && nm < 0.0, "{np} {nm}");
        assert!(coding_prob(p, m, 0.5, 0.0) > 0.99 && coding_prob(np, nm, 0.5, 0.0) < 0.01);
        let rc: Vec<Base> = read.iter().rev().map(|&b| 3 - b).collect();
        let (rp, rm) = ch.strand_llr(&rc, 0.002, &mut s);
        assert_eq!((rp, rm), (m, p));
    }

    #[test]
    fn the_start_frame_scores_best_where_the_first_codon_starts() {
        let (c, orf, _) = toy();
        let ch = c.chains();
        let mut s = HmmScratch::default();
        let best = |v: [f32; 3]| (0..3).max_by(|&a, &b| v[a].total_cmp(&v[b])).unwrap();
        // The ORF's codons start at multiples of 3.
        for (from, frame) in [(300, 0), (301, 2), (302, 1)] {
            let read = &orf[from..from + 240];
            let v = ch.frame_scores(read, true, 0.002, &mut s);
            assert_eq!(best(v), frame, "read from {from}: {v:?}");
            assert_eq!(v[frame], 0.0);
            assert!(v.iter().filter(|&&x| x < -3.0).count() == 2, "{v:?}");
            // The same read sequenced from the other strand.
            let rc: Vec<Base> = read.iter().rev().map(|&b| 3 - b).collect();
            assert_eq!(ch.frame_scores(&rc, false, 0.002, &mut s), v);
            // A base deleted and one inserted downstream leave the start frame.
            let mut shifted = read[..100].to_vec();
            shifted.extend_from_slice(&read[101..180]);
            shifted.push(2);
            shifted.extend_from_slice(&read[180..]);
            let w = ch.frame_scores(&shifted, true, 0.002, &mut s);
            assert_eq!(best(w), frame, "read from {from} with indels: {w:?}");
        }
    }

    #[test]
    fn phases_follow_an_insertion_and_a_deletion() {
        let (c, orf, _) = toy();
        let ch = c.chains();
        let mut s = HmmScratch::default();
        // Read from base 2 (codon position 2); a base inserted after 90, one deleted at 200.
        let mut read: Vec<Base> = orf[2..92].to_vec();
        read.push(1);
        read.extend_from_slice(&orf[92..200]);
        read.extend_from_slice(&orf[201..302]);
        let ph = ch.phases(&read, 0.004, &mut s);
        assert_eq!(ph[20], ((20 + 2) % 3) as i8);
        // Before the insertion base i is orf base i+2; after it, orf base i+1, then i+2.
        assert_eq!(ph[150], ((150 + 1) % 3) as i8, "{:?}", &ph[85..100]);
        assert_eq!(ph[260], ((260 + 2) % 3) as i8, "{:?}", &ph[190..210]);
        assert_eq!(ph.iter().filter(|&&p| p < 0).count(), 1);
        // Counting along the phases adds only steady words.
        let mut k = ChainCounts::default();
        k.add_coding(&read, &ph);
        let (t, _) = k.totals();
        assert!(t > 250.0 && t < read.len() as f64, "{t}");
    }

    #[test]
    fn short_reads_join_the_chains_term_to_the_networks_logit() {
        // No chain term: the network's logit, divided by the temperature.
        let p = short_read_coding_prob(-3.0, -3.0, 0.8, 3.0 - 2f32.ln());
        let want = 1.0 / (1.0 + (-(4f32.ln()) / SHORT_READ_TEMPERATURE).exp());
        assert!((p - want).abs() < 1e-6, "{p} vs {want}");
        // Either strand's evidence counts alike, and more evidence raises it.
        let (a, b) = (
            short_read_coding_prob(2.0, -5.0, 0.3, 0.0),
            short_read_coding_prob(-5.0, 2.0, 0.3, 0.0),
        );
        assert_eq!(a, b);
        assert!(short_read_coding_prob(4.0, -5.0, 0.3, 0.0) > a);
        assert!(short_read_coding_prob(2.0, -5.0, 0.3, -3.0) < a);
    }

    #[test]
    fn the_offset_separates_the_teachers_classes() {
        // Coding scores -3..6, non-coding -9..-4: the best cut lies between -4 and -3.
        let mut v: Vec<(f32, bool)> = (-3..=6).map(|x| (x as f32, true)).collect();
        v.extend((-9..=-4).map(|x| (x as f32, false)));
        assert_eq!(balanced_offset(v.clone()), 3.5);
        // One class only: no offset.
        v.retain(|x| x.1);
        assert_eq!(balanced_offset(v), 0.0);
    }

    #[test]
    fn a_rarely_seen_context_leans_on_the_shorter_ones() {
        // Every word ending in C after "...A" counted often; one word with a context
        // seen once, ending in G. Its 5th-order estimate alone would favour G.
        let mut v = vec![0f32; WORDS];
        for ctx in 0..WORDS / 4 {
            if ctx & 3 == 0 {
                v[4 * ctx + 1] += 50.0;
            }
        }
        let rare = (0b11_10_01_11_00) << 2; // context TGCTA (T oldest), then base A..T
        v[rare + 1] = 0.0;
        v[rare + 2] = 1.0;
        let p = backoff(&v, CODING_BACKOFF);
        for c in (0..WORDS).step_by(4) {
            let sum: f64 = p[c..c + 4].iter().map(|&x| (x as f64).exp()).sum();
            assert!((sum - 1.0).abs() < 1e-4, "context {c}: {sum}");
        }
        assert!(p[rare + 1] > p[rare + 2], "{:?}", &p[rare..rare + 4]);
        // With plenty of counts the context speaks for itself.
        v[rare + 2] = 1e6;
        let p = backoff(&v, CODING_BACKOFF);
        assert!(p[rare + 2] > -0.01, "{:?}", &p[rare..rare + 4]);
    }

    #[test]
    fn a_prior_fills_what_the_sample_lacks() {
        let (c, _, _) = toy();
        let empty = ChainCounts::default().with_prior(&c, 1000.0, 500.0);
        let (tc, tn) = empty.totals();
        assert!(
            (tc - 3000.0).abs() < 1.0 && (tn - 500.0).abs() < 1.0,
            "{tc} {tn}"
        );
        assert!((eps_for(0.8) - 0.004).abs() < 1e-7);
    }
}
