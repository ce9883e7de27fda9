//! Gene calls on long sequences (contigs, long reads): stop-exact, frameshift-aware.
//!
//! A sequence longer than the model's `max_len` is decoded into genes by one Viterbi
//! pass over a gene-structure model whose emissions are the model's per-codon frame
//! scores — the frame-path decoder's dicodon log-odds ([`crate::features`]), "this
//! codon pair is read in a coding frame" against "anywhere else":
//!
//! ```text
//! N  (non-coding, one base at a time, score 0; or a sample's intergenic chain)
//! P  (a codon of a + strand gene)     N →[start codon]→ P → P … →[stop codon]→ N
//! M  (a codon of a − strand gene)     N →[rc stop]→ M → M … →[rc start codon]→ N
//! ```
//!
//! - A gene ends at a stop codon of the genetic code (included in the call) and begins
//!   at ATG, GTG or TTG, the starts Prodigal uses under every code; or it is *partial*:
//!   it runs off an end of the sequence (no start, or no stop, there).
//! - Inside a gene each codon follows the last by 3 nt, or by 2 or 4 nt at the cost of
//!   a frame shift (a deletion or an insertion in the sequence): the gene follows its
//!   frame path across frameshifts, and the shift positions are recorded. Codons on the
//!   path are never stops (a gene's stop ends it).
//! - Each gene pays a fixed cost (less a bonus for its start codon), so a call needs a
//!   codon signal that outweighs it; complete calls shorter than
//!   [`GeneOptions::min_len`] are dropped afterwards.
//! - **Overlaps.** A gene may start up to [`GeneOptions::max_overlap`] nt before the
//!   one before it ends: on the same strand (a start inside the previous stop, as in
//!   ATGA), or tail to tail on opposite strands — there up to
//!   [`GeneOptions::max_tail_overlap`] nt, the shared bases counting for neither gene.
//!   Elsewhere the decoder reads one state
//!   per base: where two candidate genes overlap otherwise (head to head, or further),
//!   the parse with the higher total score wins, and the loser is shortened to a later
//!   start codon or dropped. Stops stay exact either way.
//! - **Self-training.** On a sequence long enough to learn from (at least
//!   [`GeneOptions::train_min_codons`] codons in confident calls), the dicodon table is
//!   re-estimated from the first pass's calls against the sequence's own all-frame
//!   background, shrunk towards the model's table, and the sequence is decoded again —
//!   what Prodigal does from a GC-frame plot, here started from the model's table.
//!   Sequences too short to teach themselves — the long reads of a run, told indels,
//!   or an assembly's short contigs — learn models together, one per GC range
//!   ([`train_on_sample`]), as Prodigal learns from all the contigs of a genome and
//!   its metagenomic mode keeps models by GC content: long reads are decoded with
//!   them ([`call_genes_sampled`]), clean contigs too short to teach themselves
//!   borrow the one for their GC content ([`call_genes_or`]).
//! - **Intergenic DNA.** A sample's gene model also learns a 3rd-order chain of the
//!   DNA between its first calls against all of its DNA (both strands); where the
//!   sample's sequences carry indels the non-coding state scores each base by it
//!   ([`GeneOptions::intergenic_weight`]), so that cheap shifts no longer carry a call
//!   across the gap into the next gene.
//!
//! Memory: the bases' codon indices (1 byte per base), three traceback bytes per base
//! and the calls: about 5 bytes per base, 50 MB for a 10-Mb record. Time is linear in
//! the length.

use cdspred_core::code::N_CODON;
use cdspred_core::dna::Base;
use cdspred_core::Strand;

use crate::features::{TableContext, VOCAB};
use crate::predict::par_chunks;

/// How genes are decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneOptions {
    /// Cost of one frame shift inside a gene (log-odds units); infinite (the default):
    /// genes keep their frame.
    pub shift: f64,
    /// Cost of one complete gene (paid at its start codon).
    pub gene_cost: f64,
    /// Prior log-odds of being in a gene, per codon: most of a prokaryote genome codes,
    /// so each codon of a call adds this to the pair scores (with a higher gene cost it
    /// lengthens calls towards their true start without calling more genes).
    pub codon_bonus: f64,
    /// Cost of a gene running off an end of the sequence (instead of a start codon).
    pub partial_cost: f64,
    /// Bonus of each start codon: ATG, GTG, TTG.
    pub start_bonus: [f64; 3],
    /// Bonus of a Shine-Dalgarno match upstream of a start: none, 3, 4, 5–6 nt of
    /// AGGAGG within 3–20 nt (before self-training learns its own).
    pub sd_bonus: [f64; SD_CLASSES],
    /// Longest overlap (nt) of a gene with the one before it on the same strand, and
    /// tail to tail on opposite strands where frame shifts are allowed (otherwise
    /// [`GeneOptions::max_tail_overlap`]); 0: calls never overlap.
    pub max_overlap: usize,
    /// Longest tail-to-tail overlap (nt: a − gene's stop inside the end of the + gene
    /// before it) of sequences decoded without frame shifts; the bases the two genes
    /// share count for neither (each gene's case rests on its own bases). Prodigal
    /// allows 200 nt there, 60 on one strand. Chosen on the training genomes (mean
    /// stop-exact gene F1 over five sets: 60 counted for both, as on one strand,
    /// 0.9719; for neither 60 / 100 / 120 / 150 / 180 / 200 → 0.9720 / 0.9727 / 0.9729
    /// / 0.9732 / 0.9731 / 0.9731; docs/genes.md). With shifts (long reads) tail-to-tail
    /// overlaps are those of one strand.
    pub max_tail_overlap: usize,
    /// Calls shorter than this (nt) are dropped.
    pub min_len: usize,
    /// Self-training rounds (0: the model's table only).
    pub train_rounds: usize,
    /// Codons in confident calls needed before a sequence trains its own table.
    pub train_min_codons: usize,
    /// Weight of the untrained start model in a learnt one (pseudo-starts).
    pub start_prior: f64,
    /// Weight of a learnt start model's scores against the codon scores: its log-odds
    /// (chosen starts against the other start codons of their frames) times this.
    /// Calls learnt from lean towards the longest open frame (each codon adds the
    /// codon prior), so their starts undersell the start codon's own evidence; Prodigal
    /// likewise weighs its start scores (its `st_wt`, 4.35). Chosen on the training
    /// genomes' calls (mean stop-exact gene F1 over five sets: 1 / 2 / 3 / 4 gave
    /// 0.9688 / 0.9697 / 0.9705 / 0.9711; docs/genes.md).
    pub start_weight: f64,
    /// Score a call needs to be learnt from.
    pub train_min_score: f64,
    /// Weight of the model's table in a self-trained one (pseudo codon pairs).
    pub train_prior: f64,
    /// Largest |log-odds| of a self-trained table entry.
    pub clamp: f64,
    /// Weight of the network's window votes: each codon gets this times the mean
    /// per-codon log-odds of the windows over it for its strand and frame.
    pub window_weight: f64,
    /// The same once the table is self-trained.
    pub window_weight_trained: f64,
    /// The same for a clean sequence too short to teach itself, decoded with a
    /// sample's gene model for its GC content ([`call_genes_or`]): between the two,
    /// as the model knows the sample's codon usage but not the sequence's own. Chosen
    /// on contigs of four training genomes cut into 3-kb pieces (mean nucleotide
    /// sensitivity + precision against their pyrodigal labels: 0 / 1 / 2 / 3 / 5 gave
    /// 1.9703 / 1.9722 / 1.9730 / 1.9727 / 1.9725; docs/genes.md).
    pub window_weight_borrowed: f64,
    /// Rounds a sample's gene models train ([`train_on_sample`]): one for clean
    /// contigs (the first calls teach; a second round changed no figure of
    /// docs/genes.md by more than 0.002 and doubled the training time), the
    /// self-training rounds for sequences with indels ([`GeneOptions::for_sample`];
    /// long reads lose 0.01–0.02 with one).
    pub sample_rounds: usize,
    /// Weight of a sample's intergenic chain where it decodes sequences with indels
    /// ([`call_genes_sampled`], and [`train_on_sample`]'s further rounds): the
    /// non-coding state scores each base by this times the chain's log-odds against
    /// all of the sample's DNA ([`GeneModel`]). Without it a call runs on through the
    /// gap to the next gene on the same strand, as two cheap shifts cost less than a
    /// gene. Chosen on the training genomes' long reads (S. suis, P. aeruginosa,
    /// Acidilobus; `long6` and `mixed4`, seeds 1 and 2): 0 / 2 / 3 / 4 gave mean
    /// sensitivity and precision 0.9426 / 0.9473 / 0.9478 / 0.9467 (docs/genes.md).
    pub intergenic_weight: f64,
}

impl Default for GeneOptions {
    fn default() -> GeneOptions {
        GeneOptions {
            shift: f64::INFINITY,
            gene_cost: 20.0,
            codon_bonus: 0.25,
            partial_cost: 2.0,
            start_bonus: [1.0, 0.0, -0.5],
            sd_bonus: [0.0, 0.0, 0.5, 1.5],
            min_len: 90,
            max_overlap: 60,
            max_tail_overlap: 150,
            train_rounds: 2,
            train_min_codons: 6000,
            train_prior: 20000.0,
            train_min_score: 16.0,
            start_prior: 200.0,
            start_weight: 4.0,
            clamp: 4.0,
            window_weight: 10.0,
            window_weight_trained: 0.0,
            window_weight_borrowed: 2.0,
            sample_rounds: 1,
            intergenic_weight: 3.0,
        }
    }
}

impl GeneOptions {
    /// The settings for sequences with `indels_per_100nt` (the `--errors` hint): the
    /// shift cost becomes the log-odds of an indel at a codon, floored at 3; clean
    /// sequences (no hint, or a hint with no indels) keep these options.
    pub fn with_indel_rate(mut self, indels_per_100nt: Option<f32>) -> GeneOptions {
        if let Some(h) = indels_per_100nt.filter(|&h| h > 0.05) {
            let per_codon = (3.0 * f64::from(h) / 100.0).min(0.5);
            self.shift = (-(per_codon / (1.0 - per_codon)).ln()).clamp(3.0, self.shift);
            // Where shifts are cheap a gene could run on past its stop and through the
            // next intergenic gap: cheaper genes and a smaller codon bonus keep calls
            // apart (chosen on training genomes, see docs/genes.md).
            self.gene_cost = 12.0;
            self.codon_bonus = 0.1;
        }
        self
    }

    /// The settings for decoding with a sample's own gene model ([`SampleGenes`]), and
    /// for learning it: on sequences with indels a dearer gene, the window votes
    /// kept at full weight once the table is trained (chosen on training genomes, see
    /// docs/genes.md) and every self-training round.
    pub fn for_sample(mut self) -> GeneOptions {
        if self.shift.is_finite() {
            self.gene_cost = 20.0;
            self.window_weight_trained = self.window_weight;
            self.sample_rounds = self.train_rounds;
        }
        self
    }

    /// Whether a sample's own gene models decode every sequence (those with indels,
    /// each too short to teach itself) or only those too short to teach themselves
    /// (clean ones, [`call_genes_or`]).
    pub fn sample_decodes_all(&self) -> bool {
        self.shift.is_finite()
    }

    /// Shortest sequence that may teach itself: one whose calls could hold
    /// [`GeneOptions::train_min_codons`] codon pairs.
    pub fn self_teaching_len(&self) -> usize {
        3 * self.train_min_codons
    }
}

/// What the network says about one window of a long sequence: its log-odds of each
/// coding class against non-coding, as strands and frames of the whole sequence
/// (`+0 +1 +2 −0 −1 −2`: the offset of the codon grid, on the minus strand counted
/// from the sequence's right end).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowVote {
    /// First base of the window.
    pub start: usize,
    /// Its length.
    pub len: usize,
    /// ln P(class) − ln P(non-coding), clamped to ±[`VOTE_CLAMP`].
    pub log_odds: [f32; 6],
}

/// Largest |log-odds| of a window vote.
pub const VOTE_CLAMP: f32 = 8.0;

impl WindowVote {
    /// From a window's class probabilities (non-coding, +0..+2, −0..−2, frames relative
    /// to the window) at `start`, `len` nt long, in a sequence of `total` nt.
    pub fn new(probs: &[f32; 7], start: usize, len: usize, total: usize) -> WindowVote {
        let mut log_odds = [0f32; 6];
        let p0 = probs[0].max(1e-6).ln();
        for k in 0..6 {
            let origin = if k < 3 { start } else { total - start - len };
            let g = (origin + k % 3) % 3;
            log_odds[(k / 3) * 3 + g] =
                (probs[k + 1].max(1e-6).ln() - p0).clamp(-VOTE_CLAMP, VOTE_CLAMP);
        }
        WindowVote {
            start,
            len,
            log_odds,
        }
    }
}

/// The window votes as a per-codon bonus: the sequence cut at every window's start and
/// end, each piece holding `weight` times the mean per-codon log-odds of the windows
/// that cover it. The cuts of a sequence's reverse complement mirror its own, so the
/// bonus does too.
#[derive(Debug, Clone, Default)]
struct VoteMap {
    /// Piece starts, ascending, from 0.
    cuts: Vec<usize>,
    /// Each piece's bonus per class.
    vals: Vec<[f32; 6]>,
    /// The piece holding base `b << BLOCK_BITS`, per block of bases: where a lookup
    /// starts its walk to the right.
    blocks: Vec<u32>,
}

/// Bases per block of [`VoteMap::blocks`], as a power of two.
const BLOCK_BITS: usize = 6;

impl VoteMap {
    fn new(votes: &[WindowVote], n: usize, weight: f64) -> VoteMap {
        if votes.is_empty() || weight == 0.0 {
            return VoteMap::default();
        }
        let mut cuts: Vec<usize> = votes
            .iter()
            .flat_map(|v| [v.start, (v.start + v.len).min(n)])
            .chain([0])
            .filter(|&c| c < n)
            .collect();
        cuts.sort_unstable();
        cuts.dedup();
        let mut vals = Vec::with_capacity(cuts.len());
        let mut lo = 0;
        for &c in &cuts {
            while lo < votes.len() && votes[lo].start + votes[lo].len <= c {
                lo += 1;
            }
            let (mut k, mut acc) = (0usize, [0f64; 6]);
            for v in votes[lo..].iter().take_while(|v| v.start <= c) {
                if v.start + v.len > c {
                    k += 1;
                    for (a, &l) in acc.iter_mut().zip(&v.log_odds) {
                        *a += f64::from(l) * 3.0 / v.len as f64;
                    }
                }
            }
            vals.push(acc.map(|a| {
                if k > 0 {
                    (weight * a / k as f64) as f32
                } else {
                    0.0
                }
            }));
        }
        let mut blocks = Vec::with_capacity((n >> BLOCK_BITS) + 1);
        let mut g = 0;
        for b in 0..=(n >> BLOCK_BITS) {
            while g + 1 < cuts.len() && cuts[g + 1] <= b << BLOCK_BITS {
                g += 1;
            }
            blocks.push(g as u32);
        }
        VoteMap { cuts, vals, blocks }
    }

    /// The bonus of class `c` at base `x`.
    #[inline]
    fn at(&self, x: usize, c: usize) -> f64 {
        if self.cuts.is_empty() {
            return 0.0;
        }
        // Pieces are about a stride long: from the piece at the block's first base,
        // step right to the piece holding x.
        let m = self.cuts.len();
        let mut g = self.blocks[x >> BLOCK_BITS] as usize;
        while g + 1 < m && self.cuts[g + 1] <= x {
            g += 1;
        }
        f64::from(self.vals[g][c])
    }
}

/// One gene call (0-based, end exclusive, on the sequence as given).
#[derive(Debug, Clone, PartialEq)]
pub struct Gene {
    /// First base.
    pub start: usize,
    /// One past the last base.
    pub end: usize,
    /// Coding strand.
    pub strand: Strand,
    /// Whether the call runs off the sequence's left and right end (no start or no
    /// stop codon there).
    pub partial: (bool, bool),
    /// Log-odds score: the codon pairs' scores less the gene and shift costs.
    pub score: f32,
    /// Codon starts in the gene's sense orientation, relative to its first base in that
    /// orientation (the stop codon included).
    pub path: Vec<u32>,
}

impl Gene {
    /// Number of frame shifts on the path.
    pub fn shifts(&self) -> usize {
        self.path.windows(2).filter(|w| w[1] - w[0] != 3).count()
    }

    /// Frame shifts on the path that no shift of the other kind undoes within `reach`
    /// nt after it (read in sense order; each undoing shift cancels the one it
    /// follows). A decoder's detour — leaving the frame for a stretch whose
    /// off-frame codons score higher, then coming back — is such a pair; shifts at
    /// indels mostly last. See [`crate::estimate::LASTING_REACH`].
    pub fn lasting_shifts(&self, reach: u32) -> usize {
        let mut open: Vec<(u32, bool)> = Vec::new();
        for w in self.path.windows(2) {
            let step = w[1] - w[0];
            if step == 3 {
                continue;
            }
            let longer = step > 3;
            match open.last() {
                Some(&(at, kind)) if kind != longer && w[1] - at <= reach => {
                    open.pop();
                }
                _ => open.push((w[1], longer)),
            }
        }
        open.len()
    }

    /// Where the path's codon `k` (sense order) starts on the sequence as given (its
    /// leftmost base on either strand).
    pub fn codon_at(&self, k: usize) -> usize {
        match self.strand {
            Strand::Plus => self.start + self.path[k] as usize,
            Strand::Minus => self.end - 3 - self.path[k] as usize,
        }
    }

    /// Whether the call begins at a start codon (it does not run off its 5' end).
    pub fn has_start(&self) -> bool {
        match self.strand {
            Strand::Plus => !self.partial.0,
            Strand::Minus => !self.partial.1,
        }
    }

    /// Whether the call ends at its stop codon (it does not run off its 3' end).
    pub fn has_stop(&self) -> bool {
        match self.strand {
            Strand::Plus => !self.partial.1,
            Strand::Minus => !self.partial.0,
        }
    }

    /// Sequence coordinates of consecutive path codons (sense order), the stop
    /// codon's pair aside: the pairs the decoder scored.
    fn scored_pairs(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        let k = self.path.len() - usize::from(self.has_stop());
        (1..k).map(|j| (self.codon_at(j - 1), self.codon_at(j)))
    }
}

/// Start codons ATG, GTG, TTG (codon indices).
const STARTS: [u8; 3] = [14, 46, 62];

/// Classes of a Shine-Dalgarno match upstream of a start (see [`sd_class`]).
const SD_CLASSES: usize = 4;

/// Scores of start codons by type (ATG, GTG, TTG) and Shine-Dalgarno class.
#[derive(Debug, Clone, PartialEq)]
struct StartModel([[f64; SD_CLASSES]; 3]);

impl StartModel {
    /// The untrained model: the options' codon bonuses plus a bonus for a 4-nt or
    /// longer match of AGGAGG upstream.
    fn initial(o: &GeneOptions) -> StartModel {
        let mut t = [[0.0; SD_CLASSES]; 3];
        for (k, row) in t.iter_mut().enumerate() {
            for (c, v) in row.iter_mut().enumerate() {
                *v = o.start_bonus[k] + o.sd_bonus[c];
            }
        }
        StartModel(t)
    }
}

/// The type (index into [`STARTS`]) and Shine-Dalgarno class of a start codon whose
/// bases are `p..p + 3`, read on `strand` (`None`: not a start codon there); `sd` is
/// the sequence's [`sd_table`].
#[inline]
fn start_at(cod: &[u8], sd: &[u8], strand: Strand, p: usize) -> Option<(usize, usize)> {
    let (c, class) = match strand {
        Strand::Plus => (cod[p], sd[p] & 15),
        Strand::Minus => (rc_codon(cod[p]), sd[p] >> 4),
    };
    Some((start_type(c)?, class as usize))
}

/// The type of a start codon (index into [`STARTS`]); `None`: not a start codon.
#[inline]
fn start_type(c: u8) -> Option<usize> {
    STARTS.iter().position(|&s| s == c)
}

/// What a decode reads of a sequence besides its bases: the codon index at every
/// position ([`codon_indices`]) and the Shine-Dalgarno classes at start codons
/// ([`sd_table`]).
fn codons_and_sd(seq: &[Base]) -> (Vec<u8>, Vec<u8>) {
    let cod = codon_indices(seq);
    let sd = sd_table(seq, &cod);
    (cod, sd)
}

/// The model's dicodon table (`[VOCAB]`) in the decoder's precision.
fn widen(llr: &[f32]) -> Vec<f64> {
    llr[..VOCAB].iter().map(|&v| f64::from(v)).collect()
}

/// [`sd_class`] at every start codon: + strand in the low 4 bits, − in the high 4.
fn sd_table(seq: &[Base], cod: &[u8]) -> Vec<u8> {
    cod.iter()
        .enumerate()
        .map(|(p, &c)| {
            let plus = if start_type(c).is_some() {
                sd_class(seq, Strand::Plus, p) as u8
            } else {
                0
            };
            let minus = if start_type(rc_codon(c)).is_some() {
                sd_class(seq, Strand::Minus, p + 2) as u8
            } else {
                0
            };
            plus | (minus << 4)
        })
        .collect()
}

/// The Shine-Dalgarno motif AGGAGG (base codes).
const SD_MOTIF: [u8; 6] = [0, 2, 2, 0, 2, 2];

/// Class of the longest piece of AGGAGG within 3–20 nt upstream of a start codon
/// whose first base (sense orientation) is sequence position `first` on `strand`:
/// 0 (shorter than 3 nt), 1 (3 nt), 2 (4 nt), 3 (5–6 nt).
fn sd_class(seq: &[Base], strand: Strand, first: usize) -> usize {
    let mut up = [4u8; 18];
    for (k, d) in (3..=20).rev().enumerate() {
        let b = match strand {
            Strand::Plus => first.checked_sub(d).map(|x| seq[x]),
            Strand::Minus => seq.get(first + d).map(|&b| if b < 4 { 3 - b } else { 4 }),
        };
        up[k] = b.unwrap_or(4);
    }
    // The longest piece of the motif found upstream: the longest run of matches
    // along any diagonal (N, code 4, matches nothing).
    let mut best = 0;
    let mut run = [0usize; SD_MOTIF.len() + 1];
    for &b in &up {
        for j in (0..SD_MOTIF.len()).rev() {
            run[j + 1] = if b == SD_MOTIF[j] { run[j] + 1 } else { 0 };
            best = best.max(run[j + 1]);
        }
    }
    match best {
        0..=2 => 0,
        3 => 1,
        4 => 2,
        _ => 3,
    }
}

/// Traceback codes.
const FROM_SAME: u8 = 0; // P/M: codon 3 nt before; N: base before
const FROM_DEL: u8 = 1; // P/M: 2 nt before (shift)
const FROM_INS: u8 = 2; // P/M: 4 nt before (shift)
const ENTRY: u8 = 3; // P: start codon; M: after its rc stop; N: + gene ends (3 nt)
const PARTIAL: u8 = 4; // P/M: runs off the left end; N: + gene ends after a shift (2 nt)
const N_FROM_P4: u8 = 5; // N: + gene ends after a shift (4 nt)
const N_FROM_M: u8 = 6; // N: − gene ends (its start codon)
const JUMP: u8 = 5; // P/M: a gene overlapping the one before it (see `Jump`)
const N_FROM_P_PART: u8 = 7; // N: a + gene runs off a segment end (no stop)
const N_FROM_M_PART: u8 = 8; // N: a − gene runs off a segment end (no start)

/// Runs of at least this many Ns are gaps (an assembly's scaffolding): calls never
/// cross them and are partial at their edges, as at the sequence's ends.
pub const GAP_MIN: usize = 10;

/// The gaps of `seq`: runs of at least [`GAP_MIN`] Ns, as (start, end).
fn gaps(seq: &[Base]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < seq.len() {
        if seq[i] > 3 {
            let s = i;
            while i < seq.len() && seq[i] > 3 {
                i += 1;
            }
            if i - s >= GAP_MIN {
                out.push((s, i));
            }
        } else {
            i += 1;
        }
    }
    out
}

/// How a gene that overlaps the gene before it was entered.
#[derive(Debug, Clone, Copy)]
struct Jump {
    /// How the gene before ends at `at`, as N's traceback code there: a + gene's stop
    /// (`ENTRY`, `PARTIAL`, `N_FROM_P4`: how its last codon was reached) or a − gene's
    /// start codon (`N_FROM_M`).
    code: u8,
    /// Where the gene before ends.
    at: usize,
    /// The overlapping gene's first codon (+: its start; −: its rc stop).
    first: usize,
}

/// Order of a sample's intergenic chain (bases of context; 2 and 4 did less well on
/// the training genomes' long reads, docs/genes.md).
const IG_K: usize = 3;
/// Words of the intergenic chain: [`IG_K`] context bases and one more.
const IG_WORDS: usize = 1 << (2 * (IG_K + 1));
/// Pseudo-counts that shrink each context of the intergenic chain towards the
/// background (5 and 100 did as well).
const IG_PRIOR: f64 = 20.0;

/// The intergenic chain's word ending at base `i` (`None` before [`IG_K`] bases or
/// where one of them is N).
#[inline]
fn ig_word(seq: &[Base], i: usize) -> Option<usize> {
    if i < IG_K {
        return None;
    }
    let mut w = 0usize;
    for &b in &seq[i - IG_K..=i] {
        if b > 3 {
            return None;
        }
        w = (w << 2) | b as usize;
    }
    Some(w)
}

/// The intergenic chain's word ending at base `i` read on the other strand: base `i`
/// after the [`IG_K`] bases right of it, complemented (`None` near the end or at an N).
#[inline]
fn ig_word_rc(seq: &[Base], i: usize) -> Option<usize> {
    if i + IG_K >= seq.len() {
        return None;
    }
    let mut w = 0usize;
    for &b in seq[i..=i + IG_K].iter().rev() {
        if b > 3 {
            return None;
        }
        w = (w << 2) | (3 - b) as usize;
    }
    Some(w)
}

/// A base's intergenic score: the mean of the chain's log-odds read on either strand
/// (so that a sequence and its reverse complement score alike).
#[inline]
fn ig_score(table: &[f64], seq: &[Base], i: usize) -> f64 {
    let f = ig_word(seq, i).map_or(0.0, |w| table[w]);
    let r = ig_word_rc(seq, i).map_or(0.0, |w| table[w]);
    (f + r) / 2.0
}

/// Reverse complement of a codon index (N stays N).
fn rc_codon(c: u8) -> u8 {
    if c as usize >= N_CODON {
        return c;
    }
    let (a, b, d) = (c >> 4, (c >> 2) & 3, c & 3);
    ((3 - d) << 4) | ((3 - b) << 2) | (3 - a)
}

/// Codon index at every position (N_CODON where a base is N); length n − 2.
fn codon_indices(seq: &[Base]) -> Vec<u8> {
    seq.windows(3)
        .map(|w| cdspred_core::code::codon_index(w) as u8)
        .collect()
}

/// Shortest sequence decoded (two codons); shorter ones get no calls.
const MIN_SEQ: usize = 6;

/// Decodes the genes of `seq` with the dicodon table `llr` (`[VOCAB]`, table-11
/// synonyms; see [`crate::features`]), self-training it as `opts` says.
pub fn call_genes(
    seq: &[Base],
    table: &TableContext,
    llr: &[f32],
    votes: &[WindowVote],
    opts: &GeneOptions,
) -> Vec<Gene> {
    call_genes_or(seq, table, llr, votes, opts, None)
}

/// [`call_genes`], but a sequence too short to teach itself (its first pass's confident
/// calls hold fewer than [`GeneOptions::train_min_codons`] codon pairs) is decoded
/// with `fallback`, a sample's gene model for its GC content
/// ([`SampleGenes::for_sequence`]), when there is one, instead of the model's table.
pub fn call_genes_or(
    seq: &[Base],
    table: &TableContext,
    llr: &[f32],
    votes: &[WindowVote],
    opts: &GeneOptions,
    fallback: Option<&GeneModel>,
) -> Vec<Gene> {
    if seq.len() < MIN_SEQ {
        return Vec::new();
    }
    let (cod, sd) = codons_and_sd(seq);
    let blocks = VoteMap::new(votes, seq.len(), opts.window_weight);
    let model = widen(llr);
    let starts = StartModel::initial(opts);
    let mut genes = decode(seq, &sd, &cod, table, &model, &starts, &blocks, opts, None);
    let trained_blocks = VoteMap::new(votes, seq.len(), opts.window_weight_trained);
    // A record with too few confident starts to learn from takes the sample's start
    // model for its GC content, where there is one.
    let few_starts = fallback.map(|m| &m.starts);
    for round in 0..opts.train_rounds {
        match self_train(&sd, &cod, table, &genes, &model, opts, few_starts) {
            Some((t, st)) => {
                genes = decode(seq, &sd, &cod, table, &t, &st, &trained_blocks, opts, None);
            }
            None => {
                if let (0, Some(m)) = (round, fallback) {
                    let blocks = VoteMap::new(votes, seq.len(), opts.window_weight_borrowed);
                    genes = decode(
                        seq, &sd, &cod, table, &m.llr, &m.starts, &blocks, opts, None,
                    );
                }
                break;
            }
        }
    }
    genes
}

/// Spacing of the GC contents a sample's gene models are centred on
/// ([`train_on_sample`]).
pub const GC_BIN_STEP: f64 = 0.05;
/// A sample's gene model centred on GC content `c` learns from the sequences whose GC
/// lies within this of `c`, and decodes those nearest to it.
pub const GC_BIN_REACH: f64 = 0.05;
/// The centres: 0.10, 0.15, …, 0.80.
const GC_CENTRES: std::ops::RangeInclusive<u32> = 2..=16;

/// Whether GC content `gc` is within [`GC_BIN_REACH`] of a model's centre `c`.
fn within_reach(gc: f64, c: f64) -> bool {
    (gc - c).abs() <= GC_BIN_REACH + 1e-9
}

/// A dicodon table and start model self-trained on the calls of several sequences of
/// similar GC content together ([`train_on_sample`]).
#[derive(Debug, Clone)]
pub struct GeneModel {
    llr: Vec<f64>,
    starts: StartModel,
    /// The intergenic chain: per word ([`IG_K`] bases and one more), ln P(base |
    /// context) between the calls less the same in all the sequences' DNA (all 0 for
    /// clean sequences, which do not use it).
    ig: Vec<f64>,
    /// GC content of the sequences it learnt from (the centre of their range).
    pub gc: f64,
    /// Sequences it was learnt from.
    pub sequences: usize,
    /// Codon pairs of confident calls it was learnt from (last round).
    pub codons: usize,
}

/// A sample's own gene models, one per GC range its sequences teach
/// ([`train_on_sample`]): the long reads of one run, each too short to teach itself,
/// or the short contigs of an assembly — of one genome, or of a metagenome's several.
#[derive(Debug, Clone)]
pub struct SampleGenes {
    models: Vec<GeneModel>,
    /// Sequences they were learnt from.
    pub sequences: usize,
}

impl SampleGenes {
    /// The models, by GC content.
    pub fn models(&self) -> &[GeneModel] {
        &self.models
    }

    /// The model for `seq`: the one whose centre is nearest its GC content, when that
    /// is within [`GC_BIN_REACH`].
    pub fn for_sequence(&self, seq: &[Base]) -> Option<&GeneModel> {
        let gc = cdspred_core::dna::gc_fraction(seq);
        self.models
            .iter()
            .map(|m| ((m.gc - gc).abs(), m))
            .filter(|(_, m)| within_reach(gc, m.gc))
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, m)| m)
    }

    /// Codon pairs of confident calls all its models learnt from.
    pub fn codons(&self) -> usize {
        self.models.iter().map(|m| m.codons).sum()
    }
}

/// Self-trains a sample's gene models on `seqs` (each sequence with its window votes):
/// for each GC centre (0.10, 0.15, …, 0.80) the sequences within [`GC_BIN_REACH`] of
/// it learn one model together, as [`call_genes`] self-trains on one sequence but
/// counting all their calls and background: the first round's calls (the model's
/// table and the window votes, the same for every range, so decoded once) teach a
/// table, and each further round ([`GeneOptions::sample_rounds`]) decodes the
/// range's sequences with it and re-estimates it. Prodigal learns from all the contigs of a genome, and its metagenomic mode
/// keeps models by GC content. A range whose first calls hold fewer than
/// [`GeneOptions::train_min_codons`] codon pairs learns nothing; `None` when none
/// learns. Ranges, and first-round sequences (decoded `threads` at a time, so memory
/// holds one batch's decoding, not the sample's), are shared among `threads` threads;
/// the models do not depend on how (the counts are whole numbers).
pub fn train_on_sample(
    seqs: &[(&[Base], &[WindowVote])],
    table: &TableContext,
    llr: &[f32],
    opts: &GeneOptions,
    threads: usize,
) -> Option<SampleGenes> {
    let model = widen(llr);
    let seqs: Vec<&(&[Base], &[WindowVote])> =
        seqs.iter().filter(|(s, _)| s.len() >= MIN_SEQ).collect();
    let gcs: Vec<f64> = seqs
        .iter()
        .map(|(s, _)| cdspred_core::dna::gc_fraction(s))
        .collect();
    let centres: Vec<f64> = GC_CENTRES.map(|k| f64::from(k) * GC_BIN_STEP).collect();
    // Sequence `i` decoded with a table and start model, the votes at `weight`: its
    // codon indices, Shine-Dalgarno classes and calls.
    let decode_seq =
        |i: usize, tab: &[f64], starts: &StartModel, weight: f64, ig: Option<&[f64]>| {
            let (s, votes) = seqs[i];
            let (cod, sd) = codons_and_sd(s);
            let blocks = VoteMap::new(votes, s.len(), weight);
            let genes = decode(s, &sd, &cod, table, tab, starts, &blocks, opts, ig);
            (cod, sd, genes)
        };
    // The first round, the same for every range: each sequence decoded with the
    // model's table, `threads` sequences at a time, its calls and background counted
    // into every range it lies in, in input order (memory: one batch's decoding, not
    // the whole sample's).
    let initial = StartModel::initial(opts);
    // The intergenic chain serves only sequences with indels (clean contigs decode
    // their non-coding DNA at score 0): learnt for them alone.
    let learn_ig = opts.sample_decodes_all();
    let mut first: Vec<TrainCounts> = centres.iter().map(|_| TrainCounts::new()).collect();
    let order: Vec<usize> = (0..seqs.len()).collect();
    for batch in order.chunks(threads.max(1)) {
        let decoded = par_chunks(batch, threads, |&i, _: &mut ()| {
            decode_seq(i, &model, &initial, opts.window_weight, None)
        });
        for (&i, (cod, sd, genes)) in batch.iter().zip(&decoded) {
            for (k, &c) in centres.iter().enumerate() {
                if within_reach(gcs[i], c) {
                    first[k].add(sd, cod, table, genes, opts);
                    if learn_ig {
                        first[k].add_ig(seqs[i].0, genes);
                    }
                }
            }
        }
    }
    let ranges: Vec<usize> = (0..centres.len()).collect();
    let trained = par_chunks(&ranges, threads, |&k, _: &mut ()| {
        let members: Vec<usize> = (0..seqs.len())
            .filter(|&i| within_reach(gcs[i], centres[k]))
            .collect();
        let (mut tab, mut starts) = first[k].finish(&model, opts, None)?;
        let mut ig = first[k].ig_llr();
        let mut codons = first[k].total_c as usize;
        for _ in 1..opts.sample_rounds {
            let mut counts = TrainCounts::new();
            for &i in &members {
                let (cod, sd, genes) =
                    decode_seq(i, &tab, &starts, opts.window_weight_trained, Some(&ig));
                counts.add(&sd, &cod, table, &genes, opts);
                if learn_ig {
                    counts.add_ig(seqs[i].0, &genes);
                }
            }
            match counts.finish(&model, opts, None) {
                Some((t, st)) => {
                    (tab, starts, codons) = (t, st, counts.total_c as usize);
                    ig = counts.ig_llr();
                }
                None => break,
            }
        }
        Some(GeneModel {
            llr: tab,
            starts,
            ig,
            gc: centres[k],
            sequences: members.len(),
            codons,
        })
    });
    let models: Vec<GeneModel> = trained.into_iter().flatten().collect();
    if models.is_empty() {
        return None;
    }
    let sequences = gcs
        .iter()
        .filter(|&&g| models.iter().any(|m| within_reach(g, m.gc)))
        .count();
    Some(SampleGenes { models, sequences })
}

/// Decodes the genes of `seq` with a sample's gene model (one pass, with the window
/// votes weighted as for a self-trained table).
pub fn call_genes_sampled(
    seq: &[Base],
    table: &TableContext,
    model: &GeneModel,
    votes: &[WindowVote],
    opts: &GeneOptions,
) -> Vec<Gene> {
    if seq.len() < MIN_SEQ {
        return Vec::new();
    }
    let (cod, sd) = codons_and_sd(seq);
    let blocks = VoteMap::new(votes, seq.len(), opts.window_weight_trained);
    decode(
        seq,
        &sd,
        &cod,
        table,
        &model.llr,
        &model.starts,
        &blocks,
        opts,
        Some(&model.ig),
    )
}

/// The table-11 synonym of each codon index, read on the + strand and on the −
/// strand (the index's reverse complement).
struct Synonyms {
    plus: [u8; 65],
    minus: [u8; 65],
}

impl Synonyms {
    fn new(table: &TableContext) -> Synonyms {
        let mut plus = [0u8; 65];
        let mut minus = [0u8; 65];
        for c in 0..65u8 {
            plus[c as usize] = table.synonym(c as usize);
            minus[c as usize] = table.synonym(rc_codon(c) as usize);
        }
        Synonyms { plus, minus }
    }

    /// The dicodon id of the codons at `a` then `b` (sense order) read on `strand`.
    #[inline]
    fn pair(&self, cod: &[u8], strand: Strand, a: usize, b: usize) -> usize {
        let syn = match strand {
            Strand::Plus => &self.plus,
            Strand::Minus => &self.minus,
        };
        syn[cod[a] as usize] as usize * 65 + syn[cod[b] as usize] as usize
    }
}

/// Whether a dicodon id holds no N.
fn called_pair(id: usize) -> bool {
    id / 65 < N_CODON && id % 65 < N_CODON
}

/// The scores the decoder reads, per codon pair.
struct Emit<'a> {
    cod: &'a [u8],
    syn: Synonyms,
    llr: &'a [f64],
    blocks: &'a VoteMap,
    n: usize,
    /// Shine-Dalgarno classes at start codons: + in the low 4 bits, − in the high.
    sd: &'a [u8],
    starts: &'a StartModel,
    delta: f64,
    /// Per codon index: its start type (index into [`STARTS`], or `NO_START`) read on
    /// the + strand, and read on the − strand (as its reverse complement).
    start_plus: [u8; 65],
    start_minus: [u8; 65],
    /// Per codon index: whether it is a stop read on the + strand, on the − strand.
    stop_plus: [bool; 65],
    stop_minus: [bool; 65],
}

/// No start codon (in [`Emit`]'s start tables).
const NO_START: u8 = u8::MAX;

impl Emit<'_> {
    /// The score of a start codon whose bases are `p..p + 3`, read on `strand`
    /// (`None`: not a start codon there).
    #[inline]
    fn start(&self, strand: Strand, p: usize) -> Option<f64> {
        let (k, class) = match strand {
            Strand::Plus => (self.start_plus[self.cod[p] as usize], self.sd[p] & 15),
            Strand::Minus => (self.start_minus[self.cod[p] as usize], self.sd[p] >> 4),
        };
        (k != NO_START).then(|| self.starts.0[k as usize][class as usize])
    }
    /// Whether a start codon's bases are `p..p + 3`, read on `strand`.
    #[inline]
    fn is_start(&self, strand: Strand, p: usize) -> bool {
        let table = match strand {
            Strand::Plus => &self.start_plus,
            Strand::Minus => &self.start_minus,
        };
        table[self.cod[p] as usize] != NO_START
    }
    /// A + strand codon at `p` after one at `q` (with the window votes of `p`).
    #[inline]
    fn plus(&self, q: usize, p: usize) -> f64 {
        self.plus_voted(q, p, self.vote_plus(p))
    }
    /// [`Emit::plus`] given `vote`, the [`Emit::vote_plus`] of `p`.
    #[inline]
    fn plus_voted(&self, q: usize, p: usize, vote: f64) -> f64 {
        self.llr[self.syn.pair(self.cod, Strand::Plus, q, p)] + vote + self.delta
    }
    /// The window votes' bonus of a codon at `p` in class `c` (0..6), read at its
    /// middle base.
    #[inline]
    fn vote(&self, p: usize, c: usize) -> f64 {
        self.blocks.at(p + 1, c)
    }
    /// The window votes' bonus of a + strand codon at `p`.
    #[inline]
    fn vote_plus(&self, p: usize) -> f64 {
        self.vote(p, p % 3)
    }
    /// The window votes' bonus of a − strand codon at `q`.
    #[inline]
    fn vote_minus(&self, q: usize) -> f64 {
        self.vote(q, 3 + (self.n - q - 3) % 3)
    }
    /// A − strand codon at `q` (left) and `p` (right): in sense order p's then q's;
    /// the window votes of the later one in sense order (q), as for `plus`.
    #[inline]
    fn minus(&self, q: usize, p: usize) -> f64 {
        self.minus_voted(q, p, self.vote_minus(q))
    }
    /// [`Emit::minus`] given `vote`, the [`Emit::vote_minus`] of `q`.
    #[inline]
    fn minus_voted(&self, q: usize, p: usize, vote: f64) -> f64 {
        self.llr[self.syn.pair(self.cod, Strand::Minus, p, q)] + vote + self.delta
    }
    /// Whether the codon at `p` is a stop on the + strand.
    #[inline]
    fn is_stop(&self, p: usize) -> bool {
        self.stop_plus[self.cod[p] as usize]
    }
    /// Whether the codon at `p` is a stop on the − strand.
    #[inline]
    fn is_rc_stop(&self, p: usize) -> bool {
        self.stop_minus[self.cod[p] as usize]
    }
}

/// The emissions near the decoder's position, each computed once: per base, the
/// window votes of a codon there on either strand and the scores of the in-frame
/// pairs ending there (the codon 3 nt before, then it), for the last `mask + 1` bases.
struct Recent {
    mask: usize,
    vote_plus: Vec<f64>,
    vote_minus: Vec<f64>,
    plus3: Vec<f64>,
    minus3: Vec<f64>,
    /// The first position not filled yet.
    next: usize,
}

impl Recent {
    /// Room for `span` bases back from the newest one.
    fn new(span: usize) -> Recent {
        let len = (span + 1).next_power_of_two();
        Recent {
            mask: len - 1,
            vote_plus: vec![0.0; len],
            vote_minus: vec![0.0; len],
            plus3: vec![f64::NEG_INFINITY; len],
            minus3: vec![f64::NEG_INFINITY; len],
            next: 0,
        }
    }
    /// Fills the positions up to `last` (codon starts).
    #[inline]
    fn fill_to(&mut self, e: &Emit<'_>, last: usize) {
        while self.next <= last {
            let p = self.next;
            let k = p & self.mask;
            self.vote_plus[k] = e.vote_plus(p);
            self.vote_minus[k] = e.vote_minus(p);
            if p >= 3 {
                self.plus3[k] = e.plus_voted(p - 3, p, self.vote_plus[k]);
                self.minus3[k] = e.minus_voted(p - 3, p, self.vote_minus[(p - 3) & self.mask]);
            }
            self.next += 1;
        }
    }
    /// [`Emit::plus`]`(p − 3, p)`.
    #[inline]
    fn plus3(&self, p: usize) -> f64 {
        self.plus3[p & self.mask]
    }
    /// [`Emit::minus`]`(p − 3, p)`.
    #[inline]
    fn minus3(&self, p: usize) -> f64 {
        self.minus3[p & self.mask]
    }
    /// [`Emit::plus`]`(q, p)`.
    #[inline]
    fn plus(&self, e: &Emit<'_>, q: usize, p: usize) -> f64 {
        e.plus_voted(q, p, self.vote_plus[p & self.mask])
    }
    /// [`Emit::minus`]`(q, p)`.
    #[inline]
    fn minus(&self, e: &Emit<'_>, q: usize, p: usize) -> f64 {
        e.minus_voted(q, p, self.vote_minus[q & self.mask])
    }
}

#[allow(clippy::too_many_arguments)]
fn emitter<'a>(
    seq: &'a [Base],
    sd: &'a [u8],
    cod: &'a [u8],
    table: &TableContext,
    llr: &'a [f64],
    starts: &'a StartModel,
    blocks: &'a VoteMap,
    bonus: f64,
) -> Emit<'a> {
    let start_type = |c: u8| start_type(c).map_or(NO_START, |k| k as u8);
    Emit {
        cod,
        syn: Synonyms::new(table),
        llr,
        blocks,
        n: seq.len(),
        sd,
        starts,
        delta: bonus,
        start_plus: std::array::from_fn(|c| start_type(c as u8)),
        start_minus: std::array::from_fn(|c| start_type(rc_codon(c as u8))),
        stop_plus: std::array::from_fn(|c| table.is_stop(c)),
        stop_minus: std::array::from_fn(|c| table.is_stop(rc_codon(c as u8) as usize)),
    }
}

/// Ring of the last 8 scores of one state.
struct Ring([f64; 8]);

impl Ring {
    fn new() -> Ring {
        Ring([f64::NEG_INFINITY; 8])
    }
    #[inline]
    fn get(&self, i: usize, back: usize) -> f64 {
        if back > i {
            f64::NEG_INFINITY
        } else {
            self.0[(i - back) & 7]
        }
    }
    #[inline]
    fn set(&mut self, i: usize, v: f64) {
        self.0[i & 7] = v;
    }
}

/// The codon pairs a + gene whose stop ends at `i` scored over the bases a − gene
/// with its rc stop at `stop` shares with it, tail to tail: its pairs `(p − 3, p)`
/// from `i − 6` back to the codon in its frame at most 2 nt before `stop` — the mirror
/// image of the − gene's pairs from its stop to the codon at or after `i`. `None` when
/// the + gene does not run straight through them (it starts, shifts or jumps there):
/// then the genes would overlap by more than its own length, which is no overlap.
fn shared_plus_pairs(near: &Recent, bp: &[u8], i: usize, stop: usize) -> Option<f64> {
    let d = (stop % 3 + 3 - i % 3) % 3;
    if stop < d + 3 || i < 6 {
        return None;
    }
    let p_min = stop - d;
    let mut sum = 0.0;
    let mut p = i - 6;
    while p >= p_min {
        if bp[p] != FROM_SAME {
            return None;
        }
        sum += near.plus3(p);
        p -= 3;
    }
    Some(sum)
}

/// Picks the best of `(score, code)` candidates; ties go to the earlier one.
#[inline]
fn best_of<const K: usize>(c: [(f64, u8); K]) -> (f64, u8) {
    let mut b = c[0];
    for &x in &c[1..] {
        if x.0 > b.0 {
            b = x;
        }
    }
    b
}

/// One Viterbi pass; returns the calls of at least `min_len` nt, left to right.
///
/// Where shifts are allowed, a gene never shifts out of a frame whose next codon is a
/// stop (on the − strand: into a frame whose codon before is a reverse-complement
/// stop). An indel right before a gene's stop is rare (one codon of a gene's hundreds),
/// while a call that dodges its own stop by a shift runs on into the next intergenic
/// gap; chosen on long reads with `long6` and `mixed4` errors from three training
/// genomes (docs/genes.md): mean strand-level sensitivity 0.964 → 0.961, precision
/// 0.917 → 0.924.
#[allow(clippy::too_many_arguments)]
fn decode(
    seq: &[Base],
    sd: &[u8],
    cod: &[u8],
    table: &TableContext,
    llr: &[f64],
    starts: &StartModel,
    blocks: &VoteMap,
    o: &GeneOptions,
    ig: Option<&[f64]>,
) -> Vec<Gene> {
    let n = seq.len();
    let igw = o.intergenic_weight;
    let ig = ig.filter(|_| igw != 0.0);
    // The intergenic chain's score of base b (the non-coding state reads it), weighted.
    let ns = |b: usize| -> f64 {
        match ig {
            Some(t) => igw * ig_score(t, seq, b),
            None => 0.0,
        }
    };
    let e = emitter(seq, sd, cod, table, llr, starts, blocks, o.codon_bonus);
    let m = cod.len(); // codon starts 0..m (m = n − 2)
    let is_stop = |p: usize| e.is_stop(p);
    let is_rc_stop = |p: usize| e.is_rc_stop(p);
    let shifts = o.shift.is_finite();
    // Tail-to-tail overlaps: how far, and whether the shared bases count for neither.
    let tail = !shifts;
    let tail_reach = if tail {
        o.max_tail_overlap
    } else {
        o.max_overlap
    };
    // Walks over overlaps reach back that far from 2 nt ahead, and the + gene's pairs
    // taken out from 5 nt further; shifts 4 nt.
    let mut near = Recent::new(o.max_overlap.max(tail_reach).max(4) + 8);
    let (mut nr, mut pr, mut mr) = (Ring::new(), Ring::new(), Ring::new());
    let mut bn = vec![0u8; n + 1];
    let mut bp = vec![0u8; m];
    let mut bm = vec![0u8; m];
    let ninf = f64::NEG_INFINITY;
    // Overlapping entries, pending until the decoder reaches their codon.
    let mut pend_p: [(f64, Option<Jump>); 8] = [(ninf, None); 8];
    let mut pend_m: [(f64, Option<Jump>); 8] = [(ninf, None); 8];
    let mut jumps_p: std::collections::HashMap<usize, Jump> = Default::default();
    let mut jumps_m: std::collections::HashMap<usize, Jump> = Default::default();
    let offer = |pend: &mut [(f64, Option<Jump>); 8], at: usize, v: f64, j: Jump| {
        if v > pend[at & 7].0 {
            pend[at & 7] = (v, Some(j));
        }
    };
    let gaps = gaps(seq);
    let mut gi = 0; // the first gap that ends after i
    for i in 0..=n {
        if m > 0 {
            near.fill_to(&e, (i + 2).min(m - 1));
        }
        while gi < gaps.len() && gaps[gi].1 <= i {
            gi += 1;
        }
        // The stretch between gaps (or sequence ends) around i: where partial calls
        // may begin, and whether the codon at i would cross into a gap.
        let seg_start = if gi > 0 { gaps[gi - 1].1 } else { 0 };
        let next_gap = gaps.get(gi).map(|g| g.0);
        let blocked = next_gap.is_some_and(|g| g < i + 3);
        // N[i]: bases [0, i) parsed, ending outside any gene.
        // A call ending at i runs off its stretch when no codon fits after it.
        let seg_end = match next_gap {
            Some(g) if g >= i => g,
            Some(_) => 0,
            None => n,
        };
        let (v, code) = if i == 0 {
            (0.0, FROM_SAME)
        } else if i < 3
            || (i + 3 <= seg_end && !is_stop(i - 3) && !e.is_start(Strand::Minus, i - 3))
        {
            // No gene can end here: the base before's N only (as below, where every
            // other candidate would be −∞ and no overlap would be tried).
            (nr.get(i, 1) + ns(i - 1), FROM_SAME)
        } else {
            let mut c = [
                (nr.get(i, 1) + ns(i - 1), FROM_SAME),
                (ninf, ENTRY),
                (ninf, PARTIAL),
                (ninf, N_FROM_P4),
                (ninf, N_FROM_M),
                (ninf, N_FROM_P_PART),
                (ninf, N_FROM_M_PART),
            ];
            if i >= 3 && i + 3 > seg_end {
                c[5].0 = pr.get(i, 3) - o.partial_cost;
                c[6].0 = mr.get(i, 3) - o.partial_cost;
            }
            // A + gene ends with its stop at i − 3, its last codon 3, 2 or 4 nt before.
            if i >= 3 && is_stop(i - 3) {
                c[1].0 = pr.get(i, 6);
                c[2].0 = pr.get(i, 5) - o.shift;
                c[3].0 = pr.get(i, 7) - o.shift;
            }
            if i >= 3 {
                if let Some(b) = e.start(Strand::Minus, i - 3) {
                    c[4].0 = mr.get(i, 3) + b - o.gene_cost;
                }
            }
            // A gene may start before the one that ends here has ended.
            if o.max_overlap > 0 {
                let (xp, xc) = best_of([c[1], c[2], c[3]]);
                let xm = c[4].0;
                let lo = i.saturating_sub(o.max_overlap);
                if xp > ninf {
                    // The next + gene starts inside this one's end.
                    for a in lo..i.min(m) {
                        let Some(b) = e.start(Strand::Plus, a) else {
                            continue;
                        };
                        let target = a + (i - a).div_ceil(3) * 3;
                        if target >= m {
                            continue;
                        }
                        let mut acc = xp + b - o.gene_cost;
                        let mut q = a + 3;
                        let mut ok = true;
                        while q <= target {
                            if is_stop(q) {
                                ok = false;
                                break;
                            }
                            acc += near.plus3(q);
                            q += 3;
                        }
                        if ok {
                            let j = Jump {
                                code: xc,
                                at: i,
                                first: a,
                            };
                            offer(&mut pend_p, target, acc, j);
                        }
                    }
                }
                // The next − gene's stop lies inside this gene's end (+: tail to tail).
                for (x, code, tail) in [(xp, xc, tail), (xm, N_FROM_M, false)] {
                    if x == ninf {
                        continue;
                    }
                    let reach = if tail { tail_reach } else { o.max_overlap };
                    for target in i..(i + 3).min(m) {
                        if is_rc_stop(target) {
                            continue;
                        }
                        // Walk back to the nearest rc stop in this frame; the pair
                        // after it is not scored (as on entry).
                        let mut q = target;
                        let mut acc = x;
                        let mut found = None;
                        while q >= 3 && q + reach >= i + 3 {
                            if is_rc_stop(q - 3) {
                                found = Some(q - 3);
                                break;
                            }
                            if !tail {
                                acc += near.minus3(q);
                            }
                            q -= 3;
                        }
                        let Some(stop) = found else {
                            continue;
                        };
                        if tail {
                            // The shared bases count for neither gene: the − gene's
                            // pairs over them were not added, the + gene's come out.
                            match shared_plus_pairs(&near, &bp, i, stop) {
                                Some(s) => acc -= s,
                                None => continue,
                            }
                        }
                        let j = Jump {
                            code,
                            at: i,
                            first: stop,
                        };
                        offer(&mut pend_m, target, acc, j);
                    }
                }
            }
            best_of(c)
        };
        nr.set(i, v);
        bn[i] = code;
        if i >= m {
            continue;
        }
        let p = i;
        // P[p]: the codon at p belongs to a + gene (never its stop).
        let jp = std::mem::replace(&mut pend_p[p & 7], (ninf, None));
        if is_stop(p) || blocked {
            pr.set(p, ninf);
        } else if !shifts && jp.0 == ninf && p >= seg_start + 3 && !e.is_start(Strand::Plus, p) {
            // Only the codon before can lead here (as below, every other candidate −∞).
            pr.set(p, pr.get(p, 3) + near.plus3(p));
            bp[p] = FROM_SAME;
        } else {
            let mut c = [
                (ninf, FROM_SAME),
                (ninf, FROM_DEL),
                (ninf, FROM_INS),
                (ninf, ENTRY),
                (ninf, PARTIAL),
                (jp.0, JUMP),
            ];
            if p >= 3 {
                c[0].0 = pr.get(p, 3) + near.plus3(p);
            }
            // A shift never leaves a frame whose next codon is a stop: at a gene's
            // end that is a call running on past its stop (see `decode`'s docs).
            if shifts && p >= 2 && !(p + 1 < m && is_stop(p + 1)) {
                c[1].0 = pr.get(p, 2) + near.plus(&e, p - 2, p) - o.shift;
            }
            if shifts && p >= 4 && !is_stop(p - 1) {
                c[2].0 = pr.get(p, 4) + near.plus(&e, p - 4, p) - o.shift;
            }
            if let Some(b) = e.start(Strand::Plus, p) {
                c[3].0 = v + b - o.gene_cost;
            }
            if p < seg_start + 3 {
                c[4].0 = v - o.partial_cost;
            }
            let (s, k) = best_of(c);
            pr.set(p, s);
            bp[p] = k;
            if k == JUMP {
                jumps_p.insert(p, jp.1.expect("a pending jump"));
            }
        }
        // M[p]: the codon at p belongs to a − gene (never an rc stop).
        let jm = std::mem::replace(&mut pend_m[p & 7], (ninf, None));
        if is_rc_stop(p) || blocked {
            mr.set(p, ninf);
        } else if !shifts && jm.0 == ninf && p >= seg_start + 3 && !is_rc_stop(p - 3) {
            mr.set(p, mr.get(p, 3) + near.minus3(p));
            bm[p] = FROM_SAME;
        } else {
            let mut c = [
                (ninf, FROM_SAME),
                (ninf, FROM_DEL),
                (ninf, FROM_INS),
                (ninf, ENTRY),
                (ninf, PARTIAL),
                (jm.0, JUMP),
            ];
            if p >= 3 {
                c[0].0 = mr.get(p, 3) + near.minus3(p);
                if is_rc_stop(p - 3) {
                    c[3].0 = nr.get(p, 3);
                }
            }
            // Mirrored: a shift never enters a frame whose codon before is an rc stop
            // (the − gene's stop, which the call would otherwise run on past).
            let dodges = p >= 3 && is_rc_stop(p - 3);
            if shifts && p >= 2 && !dodges {
                c[1].0 = mr.get(p, 2) + near.minus(&e, p - 2, p) - o.shift;
            }
            if shifts && p >= 4 && !dodges {
                c[2].0 = mr.get(p, 4) + near.minus(&e, p - 4, p) - o.shift;
            }
            if p < seg_start + 3 {
                c[4].0 = v - o.partial_cost;
            }
            let (s, k) = best_of(c);
            mr.set(p, s);
            bm[p] = k;
            if k == JUMP {
                jumps_m.insert(p, jm.1.expect("a pending jump"));
            }
        }
    }
    let mut genes = traceback(&bn, &bp, &bm, &jumps_p, &jumps_m, n);
    genes.reverse();
    genes.retain(|g| g.end - g.start >= o.min_len);
    for g in &mut genes {
        g.score = gene_score(g, &e, o) as f32;
    }
    genes
}

/// A gene being read backwards: its codon starts (sequence coordinates, right to
/// left) and whether it runs off the right end.
struct Open {
    strand: Strand,
    codons: Vec<u32>,
    right_partial: bool,
}

fn close(open: Open, left_partial: bool) -> Gene {
    let codons = open.codons; // right to left
    let start = *codons.last().expect("a gene has a codon") as usize;
    let end = codons[0] as usize + 3;
    let path = match open.strand {
        Strand::Plus => codons.iter().rev().map(|&p| p - start as u32).collect(),
        Strand::Minus => codons.iter().map(|&p| (end - 3) as u32 - p).collect(),
    };
    Gene {
        start,
        end,
        strand: open.strand,
        partial: (left_partial, open.right_partial),
        score: 0.0,
        path,
    }
}

/// Reads the calls back from the traceback codes (right to left).
#[allow(clippy::too_many_arguments)]
fn traceback(
    bn: &[u8],
    bp: &[u8],
    bm: &[u8],
    jumps_p: &std::collections::HashMap<usize, Jump>,
    jumps_m: &std::collections::HashMap<usize, Jump>,
    n: usize,
) -> Vec<Gene> {
    #[derive(Clone, Copy)]
    enum St {
        N(usize),
        P(usize),
        M(usize),
    }
    // The gene that ends at `at`, as N's traceback code there says, opened at its
    // end, and the state its last codon is in.
    let ending = |code: u8, at: usize| -> (Option<Open>, St) {
        let (strand, right_partial) = match code {
            ENTRY | PARTIAL | N_FROM_P4 => (Strand::Plus, false),
            N_FROM_P_PART => (Strand::Plus, true),
            N_FROM_M_PART => (Strand::Minus, true),
            _ => (Strand::Minus, false),
        };
        let last = at - 3;
        let (codons, st) = match code {
            // A complete + gene: its stop, and the codon reached it 3, 2 or 4 nt before.
            ENTRY => (vec![last as u32], St::P(last - 3)),
            PARTIAL => (vec![last as u32], St::P(last - 2)),
            N_FROM_P4 => (vec![last as u32], St::P(last - 4)),
            N_FROM_P_PART => (Vec::new(), St::P(last)),
            _ => (Vec::new(), St::M(last)),
        };
        let open = Open {
            strand,
            codons,
            right_partial,
        };
        (Some(open), st)
    };
    let mut genes = Vec::new();
    let mut open: Option<Open> = None;
    let mut st = St::N(n);
    loop {
        match st {
            St::N(0) => break,
            St::N(i) => match bn[i] {
                FROM_SAME => st = St::N(i - 1),
                code => (open, st) = ending(code, i),
            },
            St::P(p) => {
                let g = open.as_mut().expect("inside a gene");
                g.codons.push(p as u32);
                match bp[p] {
                    FROM_SAME => st = St::P(p - 3),
                    FROM_DEL => st = St::P(p - 2),
                    FROM_INS => st = St::P(p - 4),
                    JUMP => {
                        let j = jumps_p[&p];
                        g.codons
                            .extend((j.first..p).step_by(3).rev().map(|q| q as u32));
                        genes.push(close(open.take().expect("open"), false));
                        (open, st) = ending(j.code, j.at);
                    }
                    code => {
                        genes.push(close(open.take().expect("open"), code == PARTIAL));
                        st = St::N(p);
                    }
                }
            }
            St::M(p) => {
                let g = open.as_mut().expect("inside a gene");
                g.codons.push(p as u32);
                match bm[p] {
                    FROM_SAME => st = St::M(p - 3),
                    FROM_DEL => st = St::M(p - 2),
                    FROM_INS => st = St::M(p - 4),
                    ENTRY => {
                        g.codons.push((p - 3) as u32);
                        genes.push(close(open.take().expect("open"), false));
                        st = St::N(p - 3);
                    }
                    JUMP => {
                        let j = jumps_m[&p];
                        g.codons
                            .extend((j.first..p).step_by(3).rev().map(|q| q as u32));
                        genes.push(close(open.take().expect("open"), false));
                        (open, st) = ending(j.code, j.at);
                    }
                    _ => {
                        genes.push(close(open.take().expect("open"), true));
                        st = St::N(p);
                    }
                }
            }
        }
    }
    genes
}

/// The score the decoder gave a call: its codon pairs (the stop codon's pair aside),
/// less its shifts and its gene or partial cost.
fn gene_score(g: &Gene, e: &Emit<'_>, o: &GeneOptions) -> f64 {
    let mut s: f64 = g
        .scored_pairs()
        .map(|(a, b)| match g.strand {
            Strand::Plus => e.plus(a, b),
            Strand::Minus => e.minus(b, a),
        })
        .sum();
    if g.shifts() > 0 {
        s -= o.shift * g.shifts() as f64;
    }
    if g.has_start() {
        s += e.start(g.strand, g.codon_at(0)).unwrap_or(0.0) - o.gene_cost;
    } else {
        s -= o.partial_cost;
    }
    if !g.has_stop() {
        s -= o.partial_cost;
    }
    s
}

/// A dicodon table re-estimated from `genes` (confident calls) against the sequence's
/// all-frame background, shrunk towards `model`, and a start model learnt from the same
/// calls ([`TrainCounts`]); `None` when the calls hold too few codons.
fn self_train(
    sd: &[u8],
    cod: &[u8],
    table: &TableContext,
    genes: &[Gene],
    model: &[f64],
    o: &GeneOptions,
    few_starts: Option<&StartModel>,
) -> Option<(Vec<f64>, StartModel)> {
    let mut counts = TrainCounts::new();
    counts.add(sd, cod, table, genes, o);
    counts.finish(model, o, few_starts)
}

/// What self-training counts over one or more sequences: the codon pairs of confident
/// calls, every in-frame pair on either strand (the background), and the start codons
/// chosen and passed over in confident complete calls' reading frames.
struct TrainCounts {
    coding: Vec<f64>,
    total_c: f64,
    bg: Vec<f64>,
    ig: Vec<f64>,
    all: Vec<f64>,
    chosen: [[f64; SD_CLASSES]; 3],
    other: [[f64; SD_CLASSES]; 3],
}

impl TrainCounts {
    fn new() -> TrainCounts {
        TrainCounts {
            coding: vec![0.0; VOCAB],
            total_c: 0.0,
            bg: vec![0.0; VOCAB],
            ig: vec![0.0; IG_WORDS],
            all: vec![0.0; IG_WORDS],
            chosen: [[0.0; SD_CLASSES]; 3],
            other: [[0.0; SD_CLASSES]; 3],
        }
    }

    /// Counts one sequence (its codon indices and [`sd_table`]) and its calls.
    fn add(
        &mut self,
        sd: &[u8],
        cod: &[u8],
        table: &TableContext,
        genes: &[Gene],
        o: &GeneOptions,
    ) {
        let syn = Synonyms::new(table);
        for g in genes
            .iter()
            .filter(|g| g.end - g.start >= 300 && g.score >= o.train_min_score as f32)
        {
            for (a, b) in g.scored_pairs() {
                let id = syn.pair(cod, g.strand, a, b);
                if called_pair(id) {
                    self.coding[id] += 1.0;
                    self.total_c += 1.0;
                }
            }
        }
        for p in 0..cod.len().saturating_sub(3) {
            for id in [
                syn.pair(cod, Strand::Plus, p, p + 3),
                syn.pair(cod, Strand::Minus, p + 3, p),
            ] {
                if called_pair(id) {
                    self.bg[id] += 1.0;
                }
            }
        }
        count_starts(sd, cod, table, genes, o, &mut self.chosen, &mut self.other);
    }

    /// Counts the intergenic chain's words on both strands: every base of `seq` (the
    /// background) and those outside every call (intergenic).
    fn add_ig(&mut self, seq: &[Base], genes: &[Gene]) {
        let mut covered = vec![false; seq.len()];
        for g in genes {
            covered[g.start..g.end].iter_mut().for_each(|c| *c = true);
        }
        for i in 0..seq.len() {
            for w in [ig_word(seq, i), ig_word_rc(seq, i)].into_iter().flatten() {
                self.all[w] += 1.0;
                if !covered[i] {
                    self.ig[w] += 1.0;
                }
            }
        }
    }

    /// Per word: ln P(base | context) in intergenic DNA less the same in all DNA (the
    /// intergenic chain shrunk towards the background by [`IG_PRIOR`] pseudo-counts
    /// per context).
    fn ig_llr(&self) -> Vec<f64> {
        let alpha = IG_PRIOR;
        let mut out = vec![0.0; IG_WORDS];
        for c in 0..IG_WORDS / 4 {
            let a: f64 = (0..4).map(|b| self.all[c * 4 + b]).sum();
            let g: f64 = (0..4).map(|b| self.ig[c * 4 + b]).sum();
            for b in 0..4 {
                let pa = (self.all[c * 4 + b] + 1.0) / (a + 4.0);
                let pg = (self.ig[c * 4 + b] + alpha * pa) / (g + alpha);
                out[c * 4 + b] = (pg / pa).ln();
            }
        }
        out
    }

    /// The table and start model from the counts (all whole numbers, so the order the
    /// sequences were added in does not matter); `None` when the calls hold fewer than
    /// [`GeneOptions::train_min_codons`] codon pairs.
    /// `few_starts`: the start model where the calls hold too few starts to learn one
    /// (default: the untrained model).
    fn finish(
        &self,
        model: &[f64],
        o: &GeneOptions,
        few_starts: Option<&StartModel>,
    ) -> Option<(Vec<f64>, StartModel)> {
        if self.total_c < o.train_min_codons as f64 {
            return None;
        }
        let tb: f64 =
            self.bg.iter().sum::<f64>() + (0..VOCAB).filter(|&i| called_pair(i)).count() as f64;
        let bgp: Vec<f64> = (0..VOCAB)
            .map(|i| {
                if called_pair(i) {
                    (self.bg[i] + 1.0) / tb
                } else {
                    0.0
                }
            })
            .collect();
        // The model's coding distribution on this background.
        let mut prior: Vec<f64> = (0..VOCAB).map(|i| bgp[i] * model[i].exp()).collect();
        let z: f64 = prior.iter().sum();
        prior.iter_mut().for_each(|v| *v /= z);
        let k = o.train_prior;
        let llr = (0..VOCAB)
            .map(|i| {
                if !called_pair(i) {
                    return 0.0;
                }
                let pc = (self.coding[i] + k * prior[i]) / (self.total_c + k);
                (pc / bgp[i]).ln().clamp(-o.clamp, o.clamp)
            })
            .collect();
        let starts = start_model(&self.chosen, &self.other, o)
            .or_else(|| few_starts.cloned())
            .unwrap_or_else(|| StartModel::initial(o));
        Some((llr, starts))
    }
}

/// Counts, in confident complete calls, the start codon chosen (by type and
/// Shine-Dalgarno class) and the other start codons in their open reading frames (up-
/// and downstream).
fn count_starts(
    sd: &[u8],
    cod: &[u8],
    table: &TableContext,
    genes: &[Gene],
    o: &GeneOptions,
    chosen: &mut [[f64; SD_CLASSES]; 3],
    other: &mut [[f64; SD_CLASSES]; 3],
) {
    for g in genes
        .iter()
        .filter(|g| g.score >= o.train_min_score as f32 && g.shifts() == 0 && g.has_start())
    {
        let start = |p: usize| start_at(cod, sd, g.strand, p);
        let is_stop = |p: usize| {
            let c = match g.strand {
                Strand::Plus => cod[p],
                Strand::Minus => rc_codon(cod[p]),
            };
            table.is_stop(c as usize)
        };
        // The reading frame's codons in sense order: upstream of the call's start to
        // the ORF's end (an in-frame stop or the sequence's end), then the call's own.
        let first = g.codon_at(0);
        // (Upstream is read lazily: only as far as the ORF's end.)
        let (upstream, inside): (Box<dyn Iterator<Item = usize>>, Vec<usize>) = match g.strand {
            Strand::Plus => (
                Box::new((first % 3..first).step_by(3).rev()),
                (first + 3..g.end - 2).step_by(3).collect(),
            ),
            Strand::Minus => (
                Box::new((first + 3..cod.len()).step_by(3)),
                (g.start..first).step_by(3).rev().collect(),
            ),
        };
        if let Some((k, c)) = start(first) {
            chosen[k][c] += 1.0;
        }
        let orf = upstream.take_while(|&p| !is_stop(p));
        for (k, c) in orf.chain(inside).filter_map(start) {
            other[k][c] += 1.0;
        }
    }
}

/// A start model learnt from [`count_starts`]' counts: the log-odds of each start codon
/// type and Shine-Dalgarno class at the calls' starts against the other start codons,
/// shrunk towards the untrained model by `start_prior` pseudo-starts, weighed by
/// `start_weight`; `None` from fewer than [`MIN_STARTS`] chosen starts.
fn start_model(
    chosen: &[[f64; SD_CLASSES]; 3],
    other: &[[f64; SD_CLASSES]; 3],
    o: &GeneOptions,
) -> Option<StartModel> {
    let initial = StartModel::initial(o);
    let (tc, to): (f64, f64) = (chosen.iter().flatten().sum(), other.iter().flatten().sum());
    if tc < MIN_STARTS {
        return None;
    }
    let k = o.start_prior;
    let cells = (3 * SD_CLASSES) as f64;
    let mut t = [[0.0; SD_CLASSES]; 3];
    for a in 0..3 {
        for c in 0..SD_CLASSES {
            let pc = (chosen[a][c] + 1.0) / (tc + cells);
            let po = (other[a][c] + 1.0) / (to + cells);
            let learnt = (pc / po).ln().clamp(-o.clamp, o.clamp);
            let w = tc / (tc + k);
            t[a][c] = o.start_weight * (w * learnt + (1.0 - w) * initial.0[a][c]);
        }
    }
    Some(StartModel(t))
}

/// Chosen starts a start model is learnt from, at least.
const MIN_STARTS: f64 = 100.0;

#[cfg(test)]
mod tests {
    use super::*;
    use cdspred_core::code::codon_index;
    use cdspred_core::dna::{revcomp_codes, DnaSeq};
    use cdspred_core::GeneticCode;

    #[test]
    fn reverse_complement_codons() {
        // ATG (0,3,2) ↔ CAT (1,0,3).
        assert_eq!(rc_codon(14), 16 + 3);
        for c in 0..64u8 {
            assert_eq!(rc_codon(rc_codon(c)), c);
        }
        assert_eq!(rc_codon(64), 64);
    }

    fn codes(s: &str) -> Vec<Base> {
        DnaSeq::from_ascii(s.as_bytes()).unwrap().codes().to_vec()
    }

    /// A table that likes GCT-GAA and GAA-GCT (+1.5) and dislikes every other pair
    /// (−1), so `(GCTGAA)*k` codes in one frame only.
    fn toy_llr() -> Vec<f32> {
        let mut llr = vec![-1.0f32; VOCAB];
        let (gct, gaa) = (codon_index(&codes("GCT")), codon_index(&codes("GAA")));
        llr[gct * 65 + gaa] = 1.5;
        llr[gaa * 65 + gct] = 1.5;
        llr
    }

    fn opts() -> GeneOptions {
        GeneOptions {
            train_rounds: 0,
            ..GeneOptions::default()
        }
    }

    // Stops in all six frames every 12 nt.
    const FLANK: &str = "TTAATTAATTAATTAATTAATTAATTAATTAATTAATTAATTAATTAATTAATTAATTAA";

    fn gene_seq(body_repeats: usize) -> String {
        format!("{FLANK}ATG{}TAA{FLANK}", "GCTGAA".repeat(body_repeats))
    }

    #[test]
    fn a_gene_runs_from_its_start_codon_to_its_stop() {
        let t = TableContext::new(GeneticCode::bacterial());
        let s = codes(&gene_seq(40));
        let g = call_genes(&s, &t, &toy_llr(), &[], &opts());
        assert_eq!(g.len(), 1, "{g:?}");
        let g = &g[0];
        assert_eq!(
            (g.start, g.end, g.strand),
            (60, 60 + 3 + 240 + 3, Strand::Plus)
        );
        assert_eq!(g.partial, (false, false));
        assert_eq!(g.shifts(), 0);
        assert_eq!(g.path.len(), 82);
        assert!(g.path.windows(2).all(|w| w[1] - w[0] == 3));
        // 80 liked pairs, a disliked first pair, the codon bonus, less the gene cost.
        let o = opts();
        let want = 79.0 * 1.5 - 1.0 + 80.0 * o.codon_bonus + o.start_bonus[0] - o.gene_cost;
        assert!(
            (f64::from(g.score) - want).abs() < 1e-3,
            "{} vs {want}",
            g.score
        );
    }

    #[test]
    fn the_reverse_complement_gets_the_mirrored_gene() {
        let t = TableContext::new(GeneticCode::bacterial());
        let s = codes(&gene_seq(40));
        let n = s.len();
        let a = call_genes(&s, &t, &toy_llr(), &[], &opts());
        let b = call_genes(&revcomp_codes(&s), &t, &toy_llr(), &[], &opts());
        assert_eq!(b.len(), 1, "{b:?}");
        assert_eq!((b[0].start, b[0].end), (n - a[0].end, n - a[0].start));
        assert_eq!(b[0].strand, Strand::Minus);
        assert_eq!(b[0].path, a[0].path);
        assert!((b[0].score - a[0].score).abs() < 1e-3);
    }

    #[test]
    fn a_gene_cut_by_the_sequence_end_is_partial() {
        let t = TableContext::new(GeneticCode::bacterial());
        // No start codon: the gene runs off the left end; no stop: off the right end.
        let s = codes(&"GCTGAA".repeat(40));
        let g = call_genes(&s, &t, &toy_llr(), &[], &opts());
        assert_eq!(g.len(), 1, "{g:?}");
        assert_eq!(g[0].partial, (true, true));
        assert_eq!((g[0].start, g[0].end), (0, 240));
        let g = call_genes(&revcomp_codes(&s), &t, &toy_llr(), &[], &opts());
        assert_eq!((g[0].strand, g[0].partial), (Strand::Minus, (true, true)));
    }

    #[test]
    fn with_an_indel_hint_the_gene_follows_its_frame_across_an_insertion() {
        let t = TableContext::new(GeneticCode::bacterial());
        // An extra base in the middle puts a TGA in frame right after it.
        let body = format!("{}A{}", "GCTGAA".repeat(20), "GCTGAA".repeat(20));
        let s = codes(&format!("{FLANK}ATG{body}TAA{FLANK}"));
        let hinted = opts().with_indel_rate(Some(1.0));
        let g = call_genes(&s, &t, &toy_llr(), &[], &hinted);
        assert_eq!(g.len(), 1, "{g:?}");
        assert_eq!((g[0].start, g[0].end), (60, 60 + 3 + 241 + 3));
        assert_eq!(g[0].shifts(), 1);
        // The shift skips the inserted base: codon starts step 4 nt there.
        let step = g[0].path.windows(2).find(|w| w[1] - w[0] != 3).unwrap();
        assert_eq!(step[1] - step[0], 4);
        assert_eq!(step[1] as usize, 3 + 120 + 1);
        // Without the hint no call shifts, and none spans the insertion.
        let g = call_genes(&s, &t, &toy_llr(), &[], &opts());
        assert!(g.iter().all(|x| x.shifts() == 0), "{g:?}");
        // (The first call ends at the TGA the insertion put in frame.)
        assert!(
            g.iter()
                .all(|x| x.end <= 60 + 3 + 120 + 6 || x.start >= 60 + 123),
            "{g:?}"
        );
    }

    #[test]
    fn a_shift_never_dodges_the_stop_right_ahead() {
        let t = TableContext::new(GeneticCode::bacterial());
        // Two runs of liked codons, the second one base off the first's grid, with the
        // first's stop between them: ...GAA TAA A GCT...; a 4-nt step from that GAA
        // would skip the stop's T and run on.
        let run = "GCTGAA".repeat(20);
        let s = codes(&format!("{FLANK}ATG{run}TAAA{run}TAA{FLANK}"));
        let g = call_genes(&s, &t, &toy_llr(), &[], &opts().with_indel_rate(Some(1.0)));
        // TAA, TAG, TGA (T = 3, A = 0, G = 2).
        let stop = |c: &[Base]| matches!(c, [3, 0, 0] | [3, 0, 2] | [3, 2, 0]);
        assert!(
            !g.is_empty() && g.iter().all(|x| x.strand == Strand::Plus),
            "{g:?}"
        );
        let mut shifted = 0;
        for x in &g {
            for k in 1..x.path.len() {
                if x.path[k] - x.path[k - 1] != 3 {
                    shifted += 1;
                    let from = x.codon_at(k - 1);
                    assert!(
                        !stop(&s[from + 3..from + 6]),
                        "a shift after {from} leaves a frame whose next codon is a stop: {g:?}"
                    );
                }
            }
        }
        // The runs are still joined, a codon earlier (the gene has no other way on).
        assert_eq!(shifted, 1, "{g:?}");
        // The reverse complement: the same, mirrored.
        let r = call_genes(
            &revcomp_codes(&s),
            &t,
            &toy_llr(),
            &[],
            &opts().with_indel_rate(Some(1.0)),
        );
        assert_eq!(r.len(), g.len());
        assert_eq!(
            r.iter().map(|x| x.shifts()).collect::<Vec<_>>(),
            g.iter().map(|x| x.shifts()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn without_a_hint_even_a_long_gene_keeps_its_frame() {
        // 2,000 liked codons on each side of an insertion: a finite shift cost of up
        // to about 3,000 would join them (a cost of 1000 did, once, on a genome).
        let t = TableContext::new(GeneticCode::bacterial());
        let half = "GCTGAA".repeat(1000);
        let s = codes(&format!("{FLANK}ATG{half}A{half}TAA{FLANK}"));
        let g = call_genes(&s, &t, &toy_llr(), &[], &opts());
        assert!(!g.is_empty());
        assert!(g.iter().all(|x| x.shifts() == 0), "{g:?}");
        let hinted = call_genes(&s, &t, &toy_llr(), &[], &opts().with_indel_rate(Some(1.0)));
        assert_eq!(hinted.len(), 1);
        assert_eq!(hinted[0].shifts(), 1);
    }

    #[test]
    fn genes_may_overlap_tail_to_tail() {
        let t = TableContext::new(GeneticCode::bacterial());
        // A + gene ending GCT TAA and a − gene whose rc stop TTA starts at that T:
        // ...GC[T TA]A...: the two share 4 nt.
        let minus_sense = codes(&format!("ATG{}GCTTAA", "GCTGAA".repeat(30)));
        let m = DnaSeq::from_codes(revcomp_codes(&minus_sense))
            .unwrap()
            .to_ascii();
        assert!(m.starts_with("TTAAGC"));
        let s = codes(&format!("{FLANK}ATG{}GC{m}{FLANK}", "GCTGAA".repeat(30)));
        let g = call_genes(&s, &t, &toy_llr(), &[], &opts());
        let got: Vec<(usize, usize, Strand)> =
            g.iter().map(|x| (x.start, x.end, x.strand)).collect();
        let plus_end = 60 + 3 + 180 + 6;
        let minus_start = plus_end - 4;
        assert_eq!(
            got,
            vec![
                (60, plus_end, Strand::Plus),
                (minus_start, minus_start + m.len(), Strand::Minus)
            ]
        );
        assert!(g.iter().all(|x| x.partial == (false, false)));
        // Without overlaps the − gene loses its stop or the + gene its end.
        let no = GeneOptions {
            max_overlap: 0,
            ..opts()
        };
        let g = call_genes(&s, &t, &toy_llr(), &[], &no);
        assert_eq!(g.len(), 1, "{g:?}");
    }

    type Call = (usize, usize, Strand);

    /// A + gene ATG (GCTGAA)30 TTA `shared` TAA and a − gene whose rc stop is that
    /// TTA, its own codons `right` (the reverse complement of its sense codons) and
    /// its rc start CAT after the + gene's stop: the sequence and the two calls.
    fn tail_to_tail(shared: &str, right: &str) -> (Vec<Base>, Call, Call) {
        let body = "GCTGAA".repeat(30);
        let s = codes(&format!("{FLANK}ATG{body}TTA{shared}TAA{right}CAT{FLANK}"));
        let plus_end = 60 + 3 + 180 + 3 + shared.len() + 3;
        let minus_start = 60 + 3 + 180;
        let plus = (60, plus_end, Strand::Plus);
        let minus = (minus_start, plus_end + right.len() + 3, Strand::Minus);
        (s, plus, minus)
    }

    #[test]
    fn tail_to_tail_overlaps_reach_150_nt_and_mirror() {
        let t = TableContext::new(GeneticCode::bacterial());
        // The − gene reads ATG (GCTGAA)30 TTA (TTCAGC)16 TAA. The two share 102 nt,
        // liked by the + gene's pairs, disliked by the − gene's (one-strand overlaps
        // stop at 60 nt).
        let (s, plus, minus) = tail_to_tail(&"GCTGAA".repeat(16), &"TTCAGC".repeat(30));
        assert_eq!(plus.1 - minus.0, 102);
        let got = |o: &GeneOptions, s: &[Base]| -> Vec<Call> {
            call_genes(s, &t, &toy_llr(), &[], o)
                .iter()
                .map(|x| (x.start, x.end, x.strand))
                .collect()
        };
        assert_eq!(got(&opts(), &s), vec![plus, minus]);
        // Its reverse complement: the same two, mirrored.
        let n = s.len();
        let mirrored = |(a, b, st): Call| {
            let st = if st == Strand::Plus {
                Strand::Minus
            } else {
                Strand::Plus
            };
            (n - b, n - a, st)
        };
        assert_eq!(
            got(&opts(), &revcomp_codes(&s)),
            vec![mirrored(minus), mirrored(plus)]
        );
        // At the one-strand limit (60 nt) only one of the two can be called.
        let short = GeneOptions {
            max_tail_overlap: 60,
            ..opts()
        };
        assert_eq!(got(&short, &s).len(), 1, "{:?}", got(&short, &s));
    }

    #[test]
    fn bases_shared_tail_to_tail_count_for_neither_gene() {
        let t = TableContext::new(GeneticCode::bacterial());
        // As above, but both genes dislike the 102 shared nt ((GCA)32 on +, (TGC)32 on
        // −) and the − gene has little of its own ((GCTGAA)8): its own score, shared
        // bases included, is below zero, so counted for both genes it could only lower
        // the parse. Counted for neither, the + gene gets its disliked end back and the
        // − gene is called on its own bases.
        let (s, plus, minus) = tail_to_tail(&"GCA".repeat(32), &"TTCAGC".repeat(8));
        assert_eq!(plus.1 - minus.0, 102);
        let g = call_genes(&s, &t, &toy_llr(), &[], &opts());
        let got: Vec<_> = g.iter().map(|x| (x.start, x.end, x.strand)).collect();
        assert_eq!(got, vec![plus, minus]);
        assert!(g[1].score < 0.0, "{g:?}");
    }

    #[test]
    fn calls_stop_at_gaps_and_are_partial_there() {
        let t = TableContext::new(GeneticCode::bacterial());
        let body = "GCTGAA".repeat(20);
        let gap = "N".repeat(GAP_MIN * 3);
        let s = codes(&format!("{FLANK}ATG{body}{gap}{body}TAA{FLANK}"));
        let g = call_genes(&s, &t, &toy_llr(), &[], &opts());
        let got: Vec<_> = g
            .iter()
            .map(|x| (x.start, x.end, x.strand, x.partial))
            .collect();
        assert_eq!(
            got,
            vec![
                (60, 183, Strand::Plus, (false, true)),
                (213, 336, Strand::Plus, (true, false))
            ]
        );
        let rc = call_genes(&revcomp_codes(&s), &t, &toy_llr(), &[], &opts());
        let n = s.len();
        let mirrored: Vec<_> = rc
            .iter()
            .rev()
            .map(|x| (n - x.end, n - x.start, (x.partial.1, x.partial.0)))
            .collect();
        assert_eq!(
            mirrored,
            vec![(60, 183, (false, true)), (213, 336, (true, false))]
        );
        // A short run of Ns (under GAP_MIN) is read through.
        let short = "N".repeat(GAP_MIN - 1);
        let s = codes(&format!("{FLANK}ATG{body}{short}{body}TAA{FLANK}"));
        let hinted = opts().with_indel_rate(Some(1.0));
        let g = call_genes(&s, &t, &toy_llr(), &[], &hinted);
        assert_eq!(g.len(), 1, "{g:?}");
    }

    #[test]
    fn stops_follow_the_genetic_code() {
        // TGA codes for W under table 4: the gene runs on to the next TAA.
        let s = codes(&format!(
            "{FLANK}ATG{}TGA{}TAA{FLANK}",
            "GCTGAA".repeat(20),
            "GCTGAA".repeat(20)
        ));
        let t11 = TableContext::new(GeneticCode::bacterial());
        let t4 = TableContext::new(GeneticCode::new(4).unwrap());
        let g = call_genes(&s, &t11, &toy_llr(), &[], &opts());
        assert_eq!(g[0].end, 60 + 3 + 120 + 3);
        let g = call_genes(&s, &t4, &toy_llr(), &[], &opts());
        assert_eq!(g[0].end, s.len() - 60);
    }

    #[test]
    fn shine_dalgarno_classes() {
        let s = codes("AAAAAGGAGGAAAAAAAATGAAA");
        assert_eq!(sd_class(&s, Strand::Plus, 17), 3);
        let s = codes("AAAAAGGTCCAAAAAAAATGAAA");
        assert_eq!(sd_class(&s, Strand::Plus, 17), 1);
        let s = codes("CCCCCCCCCCCCCCCCCCATGAAA");
        assert_eq!(sd_class(&s, Strand::Plus, 18), 0);
        // The minus strand reads the reverse complement: upstream is to the right.
        let rc = revcomp_codes(&codes("AAAAAGGAGGAAAAAAAATGAAA"));
        let first = rc.len() - 1 - 17;
        assert_eq!(sd_class(&rc, Strand::Minus, first), 3);
    }

    /// The class `sd_class` gives, by a plain search: the longest piece of the motif
    /// (3 to 6 nt) found among the 18 bases 3–20 nt upstream.
    fn sd_class_plain(seq: &[Base], strand: Strand, first: usize) -> usize {
        let up: Vec<u8> = (3..=20)
            .rev()
            .map(|d| match strand {
                Strand::Plus => first.checked_sub(d).map_or(4, |x| seq[x]),
                Strand::Minus => seq
                    .get(first + d)
                    .map_or(4, |&b| if b < 4 { 3 - b } else { 4 }),
            })
            .collect();
        let found = |len: usize| {
            SD_MOTIF
                .windows(len)
                .any(|m| up.windows(len).any(|w| w == m))
        };
        match (3..=6).rev().find(|&len| found(len)).unwrap_or(0) {
            0..=2 => 0,
            3 => 1,
            4 => 2,
            _ => 3,
        }
    }

    #[test]
    fn shine_dalgarno_classes_match_a_plain_search() {
        let mut x = 7u64;
        // A/G-rich reads hold many pieces of AGGAGG; N breaks them.
        for alphabet in [&b"AGAGAGGN"[..], b"AGGTAGCA"] {
            let read = crate::features::tests::random_read(&mut x, 3000, alphabet);
            let s = codes(std::str::from_utf8(&read).unwrap());
            let mut seen = [0usize; SD_CLASSES];
            for p in 0..s.len() - 2 {
                for (strand, first) in [(Strand::Plus, p), (Strand::Minus, p + 2)] {
                    let c = sd_class(&s, strand, first);
                    assert_eq!(c, sd_class_plain(&s, strand, first), "{strand:?} {p}");
                    seen[c] += 1;
                }
            }
            assert!(seen.iter().all(|&k| k > 0), "{seen:?}");
        }
    }

    #[test]
    fn vote_lookups_find_the_piece_holding_each_base() {
        let n = 2000;
        let votes: Vec<WindowVote> = (0..n - 300)
            .step_by(150)
            .chain([n - 300, 37])
            .enumerate()
            .map(|(k, start)| {
                let mut probs = [0.1f32; 7];
                probs[1 + k % 6] = 0.4;
                WindowVote::new(&probs, start, 300, n)
            })
            .collect::<Vec<_>>();
        let mut votes = votes;
        votes.sort_by_key(|v| v.start);
        let map = VoteMap::new(&votes, n, 10.0);
        assert!(map.cuts.len() > 10);
        for x in 0..n {
            let g = map.cuts.iter().rposition(|&c| c <= x).unwrap();
            for c in 0..6 {
                assert_eq!(map.at(x, c), f64::from(map.vals[g][c]), "{x} {c}");
            }
        }
    }

    #[test]
    fn cached_emissions_match_the_emitter_to_the_bit() {
        let t = TableContext::new(GeneticCode::bacterial());
        let mut x = 11u64;
        let read = crate::features::tests::random_read(&mut x, 1500, b"ACGTACGTACGTACGN");
        let s = codes(std::str::from_utf8(&read).unwrap());
        let n = s.len();
        let votes: Vec<WindowVote> = (0..n - 300)
            .step_by(150)
            .map(|start| {
                let mut probs = [0f32; 7];
                for p in &mut probs {
                    *p = (crate::features::tests::lcg(&mut x) >> 40) as f32 / (1u64 << 24) as f32;
                }
                WindowVote::new(&probs, start, 300, n)
            })
            .collect();
        let llr: Vec<f64> = (0..VOCAB)
            .map(|_| (crate::features::tests::lcg(&mut x) >> 11) as f64 / (1u64 << 53) as f64 - 0.5)
            .collect();
        let (cod, sd) = codons_and_sd(&s);
        let blocks = VoteMap::new(&votes, n, 10.0);
        let starts = StartModel::initial(&opts());
        let e = emitter(&s, &sd, &cod, &t, &llr, &starts, &blocks, 0.25);
        let span = 63;
        let mut near = Recent::new(span);
        let same = |a: f64, b: f64| a.to_bits() == b.to_bits();
        for last in 0..cod.len() {
            near.fill_to(&e, last);
            // Every position `span` back from the newest one is still held.
            let oldest = last.saturating_sub(span);
            for p in oldest.max(4)..=last {
                assert!(same(near.plus3(p), e.plus(p - 3, p)), "{p}");
                assert!(same(near.minus3(p), e.minus(p - 3, p)), "{p}");
                for q in [p - 2, p - 4].into_iter().filter(|&q| q >= oldest) {
                    assert!(same(near.plus(&e, q, p), e.plus(q, p)), "{q} {p}");
                    assert!(same(near.minus(&e, q, p), e.minus(q, p)), "{q} {p}");
                }
            }
        }
    }

    /// A gene model that likes GCT-AAA and AAA-GCT (the toy table dislikes them).
    fn borrowed(gc: f64) -> GeneModel {
        let o = GeneOptions::default();
        let mut llr = vec![-1.0f64; VOCAB];
        let (gct, aaa) = (codon_index(&codes("GCT")), codon_index(&codes("AAA")));
        llr[gct * 65 + aaa] = 1.5;
        llr[aaa * 65 + gct] = 1.5;
        GeneModel {
            llr,
            starts: StartModel::initial(&o),
            ig: vec![0.0; IG_WORDS],
            gc,
            sequences: 1,
            codons: 0,
        }
    }

    #[test]
    fn a_detour_is_not_a_lasting_shift() {
        let gene = |path: Vec<u32>| Gene {
            start: 0,
            end: *path.last().unwrap() as usize + 3,
            strand: Strand::Plus,
            partial: (false, false),
            score: 0.0,
            path,
        };
        // Steps of 3, then one of 4 (an extra base) and one of 2 (a missing base) 8 nt
        // apart.
        let detour = gene(vec![0, 3, 6, 10, 13, 16, 18, 21, 24]);
        assert_eq!((detour.shifts(), detour.lasting_shifts(30)), (2, 0));
        // Farther apart than the reach, both last; two of a kind never cancel.
        assert_eq!(detour.lasting_shifts(5), 2);
        let same = gene(vec![0, 3, 7, 10, 14, 17]);
        assert_eq!(same.lasting_shifts(30), 2);
        // An undoing shift cancels only the one it follows.
        let three = gene(vec![0, 4, 7, 9, 12, 16, 19]);
        assert_eq!(three.lasting_shifts(30), 1);
    }

    #[test]
    fn the_intergenic_chain_keeps_neighbouring_genes_apart() {
        let t = TableContext::new(GeneticCode::bacterial());
        // Two genes on one strand, in one frame, 30 nt of A between the first's stop
        // and the second's start. A sample's table that likes their codon pairs and
        // scores every other pair 0 (as intergenic DNA scores near 0 against a
        // sample's background).
        let run = "GCTGAA".repeat(20);
        let gap = "A".repeat(30);
        let s = codes(&format!("{FLANK}ATG{run}TAA{gap}ATG{run}TAA{FLANK}"));
        let mut m = borrowed(0.5);
        m.llr = toy_llr().iter().map(|&v| f64::from(v.max(0.0))).collect();
        let o = GeneOptions::default()
            .with_indel_rate(Some(1.0))
            .for_sample();
        let ends = |g: &[Gene]| g.iter().map(|x| (x.start, x.end)).collect::<Vec<_>>();
        let first = (60, 60 + 3 + 120 + 3);
        let second = (first.1 + 30, first.1 + 30 + 3 + 120 + 3);
        let mid_gap = first.1 + 15;
        let covers = |g: &[Gene], p: usize| g.iter().any(|x| x.start <= p && p < x.end);
        // Without an intergenic chain the first gene shifts past its stop and runs on
        // through the gap: a shift costs less than a gene.
        let merged = call_genes_sampled(&s, &t, &m, &[], &o);
        assert!(covers(&merged, mid_gap), "{merged:?}");
        assert!(merged.iter().any(|g| g.shifts() > 0), "{merged:?}");
        // A chain that finds runs of A intergenic (+0.5 a base) makes the gap dearer
        // to code than a gene is.
        m.ig[0] = 0.5; // AAAA, on either strand (TTTT reads it on the other)
        m.ig[IG_WORDS - 1] = 0.5;
        let apart = call_genes_sampled(&s, &t, &m, &[], &o);
        assert_eq!(ends(&apart), vec![first, second], "{apart:?}");
        assert!(apart.iter().all(|g| g.shifts() == 0), "{apart:?}");
        // Weight 0 turns it off; the reverse complement gets the mirrored calls.
        let off = GeneOptions {
            intergenic_weight: 0.0,
            ..o.clone()
        };
        assert_eq!(call_genes_sampled(&s, &t, &m, &[], &off), merged);
        let r = call_genes_sampled(&revcomp_codes(&s), &t, &m, &[], &o);
        let n = s.len();
        let mut mirrored: Vec<_> = ends(&apart).iter().map(|&(a, b)| (n - b, n - a)).collect();
        mirrored.sort();
        assert_eq!(ends(&r), mirrored, "{r:?}");
        assert!(r.iter().all(|g| g.strand == Strand::Minus));
    }

    #[test]
    fn the_intergenic_chain_learns_what_lies_between_calls() {
        // Two calls, 30 nt of A between them: after AAA comes A between the calls and,
        // once, the T of the second call's ATG.
        let run = "GCTGAA".repeat(20);
        let s = codes(&format!(
            "{FLANK}ATG{run}TAA{}ATG{run}TAA{FLANK}",
            "A".repeat(30)
        ));
        let call = |start: usize| Gene {
            start,
            end: start + 3 + 120 + 3,
            strand: Strand::Plus,
            partial: (false, false),
            score: 30.0,
            path: (0..42).map(|k| 3 * k).collect(),
        };
        let calls = [call(60), call(60 + 126 + 30)];
        let mut c = TrainCounts::new();
        c.add_ig(&s, &calls);
        let ig = c.ig_llr();
        let w = |x: &str| codes(x).iter().fold(0usize, |w, &b| (w << 2) | b as usize);
        assert!(ig[w("AAAA")] > 0.0, "{}", ig[w("AAAA")]);
        assert!(ig[w("AAAT")] < 0.0, "{}", ig[w("AAAT")]);
        // Both strands are counted: the reverse complement, with its calls mirrored,
        // teaches the same table.
        let n = s.len();
        let mirrored: Vec<Gene> = calls
            .iter()
            .map(|g| Gene {
                start: n - g.end,
                end: n - g.start,
                strand: Strand::Minus,
                ..g.clone()
            })
            .collect();
        let mut r = TrainCounts::new();
        r.add_ig(&revcomp_codes(&s), &mirrored);
        assert_eq!(r.ig_llr(), ig);
    }

    #[test]
    fn a_sequence_too_short_to_teach_itself_borrows_the_samples_model() {
        let t = TableContext::new(GeneticCode::bacterial());
        let o = GeneOptions::default();
        let s = codes(&format!("{FLANK}ATG{}TAA{FLANK}", "GCTAAA".repeat(40)));
        // The model's table sees no gene, and 40 codons cannot teach it.
        assert!(call_genes(&s, &t, &toy_llr(), &[], &o).is_empty());
        let mut m = borrowed(0.3);
        let g = call_genes_or(&s, &t, &toy_llr(), &[], &o, Some(&m));
        assert_eq!(g.len(), 1, "{g:?}");
        assert_eq!((g[0].start, g[0].end), (60, 60 + 3 + 240 + 3));
        assert_eq!(g[0].strand, Strand::Plus);
        // A clean contig's non-coding DNA scores 0 whatever the borrowed model's
        // intergenic chain says.
        m.ig = vec![0.5; IG_WORDS];
        assert_eq!(call_genes_or(&s, &t, &toy_llr(), &[], &o, Some(&m)), g);
        // A sequence that teaches itself keeps its own table.
        let taught = GeneOptions {
            train_min_codons: 50,
            ..GeneOptions::default()
        };
        let s = codes(&gene_seq(60));
        let own = call_genes(&s, &t, &toy_llr(), &[], &taught);
        assert_eq!(own.len(), 1);
        let g = call_genes_or(&s, &t, &toy_llr(), &[], &taught, Some(&m));
        assert_eq!(g, own);
    }

    #[test]
    fn a_sequence_borrows_the_model_nearest_its_gc_within_reach() {
        let sample = SampleGenes {
            models: vec![borrowed(0.3), borrowed(0.6)],
            sequences: 2,
        };
        let gc_of = |s: &[Base]| sample.for_sequence(s).map(|m| m.gc);
        // GC 0.25, 0.625, 0.4 and 0.75: the last two lie 0.1 from either centre.
        assert_eq!(gc_of(&codes("GCAAAAAT")), Some(0.3));
        assert_eq!(gc_of(&codes("GCGCGAAT")), Some(0.6));
        assert_eq!(gc_of(&codes("GCGCAAAATT")), None);
        assert_eq!(gc_of(&codes("GCGCGCAT")), None);
    }

    #[test]
    fn sequences_too_short_to_teach_themselves_teach_together() {
        let t = TableContext::new(GeneticCode::bacterial());
        let o = GeneOptions {
            train_min_codons: 300,
            ..GeneOptions::default()
                .with_indel_rate(Some(1.0))
                .for_sample()
        };
        // One gene of 120 codons each: too few alone, enough four together.
        let s = codes(&gene_seq(60));
        let (cod, sd) = codons_and_sd(&s);
        let model: Vec<f64> = toy_llr().iter().map(|&v| f64::from(v)).collect();
        let alone = decode(
            &s,
            &sd,
            &cod,
            &t,
            &model,
            &StartModel::initial(&o),
            &VoteMap::default(),
            &o,
            None,
        );
        assert_eq!(alone.len(), 1);
        assert!(self_train(&sd, &cod, &t, &alone, &model, &o, None).is_none());
        let one = [(&s[..], &[][..])];
        assert!(train_on_sample(&one, &t, &toy_llr(), &o, 1).is_none());
        let four = [(&s[..], &[][..]); 4];
        let sample = train_on_sample(&four, &t, &toy_llr(), &o, 2).expect("four teach");
        // With indels the models learn an intergenic chain; clean contigs, which never
        // read it, learn none.
        assert!(sample
            .models()
            .iter()
            .all(|m| m.ig.iter().any(|&v| v != 0.0)));
        let clean = GeneOptions {
            train_min_codons: 300,
            ..GeneOptions::default()
        };
        let clean = train_on_sample(&four, &t, &toy_llr(), &clean, 2).expect("four teach");
        assert!(clean
            .models()
            .iter()
            .all(|m| m.ig.iter().all(|&v| v == 0.0)));
        assert_eq!(sample.sequences, 4);
        // The sequence's GC content is within reach of one or two centres: each learnt
        // from all four.
        let gc = cdspred_core::dna::gc_fraction(&s);
        assert!(!sample.models().is_empty() && sample.models().len() <= 3);
        for m in sample.models() {
            assert!(within_reach(gc, m.gc), "{} vs {gc}", m.gc);
            assert_eq!(m.sequences, 4);
            assert_eq!(m.codons, 4 * alone[0].scored_pairs().count());
        }
        let model = sample.for_sequence(&s).expect("a model for its GC");
        // The sample's model still calls the gene, start to stop.
        let g = call_genes_sampled(&s, &t, model, &[], &o);
        assert_eq!(g.len(), 1, "{g:?}");
        assert_eq!((g[0].start, g[0].end), (alone[0].start, alone[0].end));
        assert!(
            g[0].score > alone[0].score,
            "{} vs {}",
            g[0].score,
            alone[0].score
        );
    }

    #[test]
    fn a_learnt_start_model_weighs_its_evidence_and_few_starts_borrow_one() {
        // Calls chose ATG with a 5-6-nt Shine-Dalgarno match far more often than the
        // frames' other start codons hold one; TTG without a match the other way.
        let mut t = TrainCounts::new();
        t.chosen[0][3] = 400.0;
        t.chosen[2][0] = 20.0;
        t.other[0][3] = 50.0;
        t.other[2][0] = 600.0;
        let one = start_model(
            &t.chosen,
            &t.other,
            &GeneOptions {
                start_weight: 1.0,
                ..GeneOptions::default()
            },
        )
        .unwrap();
        let four = start_model(&t.chosen, &t.other, &GeneOptions::default()).unwrap();
        assert_eq!(GeneOptions::default().start_weight, 4.0);
        let gap = |m: &StartModel| m.0[0][3] - m.0[2][0];
        assert!(
            gap(&one) > 1.0,
            "ATG+SD should beat TTG alone: {}",
            gap(&one)
        );
        assert!((gap(&four) - 4.0 * gap(&one)).abs() < 1e-9);
        // Too few chosen starts to learn from: the start model given for that case
        // (a sample's, for its GC content), else the untrained one, not weighed.
        let o = GeneOptions::default();
        let mut few = TrainCounts::new();
        assert!(start_model(&few.chosen, &few.other, &o).is_none());
        few.total_c = 1e6;
        let model = vec![0.0; VOCAB];
        let borrowed = StartModel([[7.0; SD_CLASSES]; 3]);
        assert_eq!(few.finish(&model, &o, Some(&borrowed)).unwrap().1, borrowed);
        assert_eq!(
            few.finish(&model, &o, None).unwrap().1,
            StartModel::initial(&o)
        );
    }
}
