//! Per-frame inputs of a read, read along frame paths that may shift.
//!
//! For each strand the read (or its reverse complement) is scored codon by codon: a
//! codon starting at position `p` gets the log-odds `llr` of its dicodon (the codon
//! before it on the same grid and itself) being in a coding frame rather than
//! anywhere else, or `-stop` when it is a stop of the read's genetic code. A backward
//! dynamic-programming pass then finds, for every start, the best *frame path*: a
//! chain of codons that steps 3 nt, or 2 / 4 nt at the cost `shift` (a deletion or an
//! insertion in the read), and covers the read to its end. Each of the six hypotheses
//! (strand × offset of the first full codon) reads its features along the best path
//! from its own start, so an indel in a coding read no longer scrambles the codon
//! signal downstream of it. With no shift on the path the features are those of the
//! fixed frame.
//!
//! Each codon on a path is replaced by its table-11 synonym under the read's genetic
//! code, and each pair of adjacent path codons becomes one *dicodon id*
//! (`65 * c1 + c2`, 65 codon ids because 64 stands for a codon holding an N). The
//! dense side of a hypothesis' input is:
//!
//! | slots | what |
//! |---|---|
//! | 3 | internal stop on the path, ln(1 + internal stops), last path codon is a stop |
//! | 12 | base composition at codon positions 1, 2, 3 along the path minus the read's |
//! | 4 | GC − 0.5, length / 300, 1/√codons, N fraction |
//! | 2 | ln(1 + shifts on the path), position of the first shift / length (1: none) |
//! | 1 | the path's score (log-odds, less shift and stop costs) per codon |
//! | 2 | ln(1 + internal stops in the fixed frame), its mean codon log-odds |
//! | 2 | the path's score minus the best path score of its strand, and of both strands |
//! | 2 | the caller's error hint: expected indels per 100 nt, and whether one was given |
//!
//! The error hint exists because the same read means different things in different
//! samples: a 300-nt read with no open frame is most likely non-coding among clean
//! Illumina reads and may well be coding among Ion Torrent reads with 1% indels. The
//! model is trained with the true rate as the hint for most reads and with no hint for
//! the rest, so it works without one and sharpens with one.
//!
//! A read and its reverse complement get mirrored inputs by construction: the minus
//! strand is the same computation on the reverse complement.

use cdspred_core::code::{GeneticCode, N_CODON};
use cdspred_core::dna::{revcomp_into, Base};

/// Number of distinct dicodon ids.
pub const VOCAB: usize = 65 * 65;
/// Dense (non-embedding) inputs per frame.
pub const DENSE: usize = 28;
/// The six frames, in class order: `+0 +1 +2 -0 -1 -2`.
pub const FRAMES: usize = 6;
/// Largest |mean log-odds| fed to the network.
const LLR_CLAMP: f32 = 5.0;
/// Dense slot of the path score (holds the total until the end of `fill`).
const SCORE: usize = 21;
/// Shift costs from which the fixed frames are tried first (the clean expert's).
const FIXED_SHIFT: f32 = 100.0;
/// Dense slot of ln(1 + internal stops in the fixed frame).
const FIXED_STOPS: usize = 22;
/// Scale of path-score gaps (log-odds units).
const GAP_SCALE: f32 = 5.0;

/// What the model needs to know about a genetic code.
#[derive(Debug, Clone)]
pub struct TableContext {
    code: GeneticCode,
    synonym: [u8; 65],
    stop: [bool; 65],
}

impl TableContext {
    /// Builds the lookups for one code.
    pub fn new(code: GeneticCode) -> TableContext {
        let synonym = code.synonym_map();
        let mut stop = [false; 65];
        for (c, s) in stop.iter_mut().enumerate().take(64) {
            *s = code.is_stop(c);
        }
        TableContext {
            code,
            synonym,
            stop,
        }
    }
    /// The genetic code.
    pub fn code(&self) -> &GeneticCode {
        &self.code
    }
    /// The table-11 synonym of a codon index (64 = holds an N).
    #[inline]
    pub fn synonym(&self, codon: usize) -> u8 {
        self.synonym[codon.min(N_CODON)]
    }
    /// Whether a codon index is a stop in this code.
    #[inline]
    pub fn is_stop(&self, codon: usize) -> bool {
        self.stop[codon.min(N_CODON)]
    }
}

/// The frozen scores the frame-path decoder uses.
#[derive(Debug, Clone, Copy)]
pub struct PathScorer<'a> {
    /// Dicodon log-odds, coding frame vs elsewhere `[VOCAB]`.
    pub llr: &'a [f32],
    /// Cost of one frame shift (an indel).
    pub shift: f32,
    /// Cost of a stop codon on the path.
    pub stop: f32,
    /// Expected indels per 100 nt in the reads, when the caller knows it.
    pub hint: Option<f32>,
}

/// One frame shift on a path, in the coordinates of the strand it was read on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathShift {
    /// Where the next codon starts (0-based, strand coordinates).
    pub pos: u32,
    /// +1: the read holds an extra base (insertion) before `pos`; −1: one is missing.
    pub delta: i8,
}

/// Inputs of the six frames of one read, reusable across reads.
#[derive(Debug, Clone, Default)]
pub struct FrameInputs {
    /// Dicodon ids of each frame.
    pub ids: [Vec<u16>; FRAMES],
    /// Dense inputs of each frame.
    pub dense: [[f32; DENSE]; FRAMES],
    /// Codon starts of each hypothesis' path, in strand coordinates.
    pub paths: [Vec<u32>; FRAMES],
    /// What each hypothesis' path scores above its fixed frame (log-odds units): large
    /// where shifting recovers a codon signal an indel broke (see [`crate::estimate`]).
    pub gain: [f32; FRAMES],
    rc: Vec<Base>,
    codon: Vec<u8>,
    /// Dicodon id of each codon start `p >= 3` with the codon before it on its grid.
    dicodon: Vec<u16>,
    /// Whether each codon start holds a stop (0 or 1).
    stopv: Vec<u8>,
    score: Vec<f32>,
    best: Vec<f32>,
    step: Vec<u8>,
}

/// Step codes of the backward pass.
const END: u8 = 0;

impl FrameInputs {
    /// Internal stops in hypothesis `f`'s fixed frame (the frame of its first codon,
    /// never shifting).
    pub fn fixed_stops(&self, f: usize) -> u32 {
        (self.dense[f][FIXED_STOPS].exp() - 1.0).round() as u32
    }

    /// Fills the inputs for `read` (base codes, length ≥ 8).
    pub fn fill(&mut self, read: &[Base], table: &TableContext, path: &PathScorer<'_>) {
        self.fill_with(read, table, path, true);
    }

    /// [`FrameInputs::fill`]; with `try_fixed` false the backward pass runs even where
    /// the shift cost makes every path a fixed frame (the tests' reference).
    fn fill_with(
        &mut self,
        read: &[Base],
        table: &TableContext,
        path: &PathScorer<'_>,
        try_fixed: bool,
    ) {
        let len = read.len();
        let mut rc = std::mem::take(&mut self.rc);
        revcomp_into(read, &mut rc);
        let mut counts = [0usize; 5];
        for &b in read {
            counts[b as usize] += 1;
        }
        let called = (len - counts[4]).max(1) as f32;
        let fwd_freq = [0, 1, 2, 3].map(|b| counts[b] as f32 / called);
        let rev_freq = [fwd_freq[3], fwd_freq[2], fwd_freq[1], fwd_freq[0]];
        let common = Common {
            try_fixed,
            hint: path.hint,
            gc: fwd_freq[1] + fwd_freq[2],
            nfrac: counts[4] as f32 / len.max(1) as f32,
            len,
        };
        self.strand(read, &fwd_freq, 0, table, path, &common);
        self.strand(&rc, &rev_freq, 3, table, path, &common);
        // How far each start's best path falls behind the best of its strand and of
        // the read: the decoder's own vote on strand and start frame.
        let top = |fs: std::ops::Range<usize>| {
            fs.map(|f| self.dense[f][SCORE])
                .fold(f32::NEG_INFINITY, f32::max)
        };
        let (tp, tm) = (top(0..3), top(3..6));
        for f in 0..FRAMES {
            let own = if f < 3 { tp } else { tm };
            let v = self.dense[f][SCORE];
            self.dense[f][24] = ((v - own) / GAP_SCALE).clamp(-4.0, 0.0);
            self.dense[f][25] = ((v - tp.max(tm)) / GAP_SCALE).clamp(-4.0, 0.0);
        }
        for f in 0..FRAMES {
            let k = self.paths[f].len().max(1) as f32;
            self.dense[f][SCORE] = (self.dense[f][SCORE] / k).clamp(-LLR_CLAMP, LLR_CLAMP);
        }
        self.rc = rc;
    }

    /// The shifts on hypothesis `frame`'s path (strand coordinates, in path order).
    pub fn shifts(&self, frame: usize) -> Vec<PathShift> {
        self.paths[frame]
            .windows(2)
            .filter(|w| w[1] - w[0] != 3)
            .map(|w| PathShift {
                pos: w[1],
                delta: (w[1] - w[0]) as i8 - 3,
            })
            .collect()
    }

    /// Scores one strand's codons, runs the backward pass and reads the three
    /// hypotheses `first..first+3` along their paths.
    fn strand(
        &mut self,
        seq: &[Base],
        freq: &[f32; 4],
        first: usize,
        table: &TableContext,
        path: &PathScorer<'_>,
        common: &Common,
    ) {
        let n = seq.len();
        let m = n.saturating_sub(2); // codon starts 0..m
        self.codon.clear();
        self.codon.resize(m, 0);
        self.score.clear();
        self.score.resize(m, 0.0);
        // Fixed frames (by p mod 3): internal stops and summed log-odds.
        let mut fixed = [(0u32, 0f32, 0u32); 3];
        // Stop codons by p mod 3 (all of them).
        let mut stops = [0u32; 3];
        self.dicodon.clear();
        self.dicodon.resize(m, 0);
        self.stopv.clear();
        self.stopv.resize(m, 0);
        {
            let (codon, score) = (&mut self.codon[..m], &mut self.score[..m]);
            let dicodon = &mut self.dicodon[..m];
            let stopv = &mut self.stopv[..m];
            let llr = &path.llr[..VOCAB];
            // Codon ids (N_CODON where a base is not called: any code above 3).
            for (p, w) in seq.windows(3).enumerate() {
                let (a, b, c) = (w[0] as usize, w[1] as usize, w[2] as usize);
                codon[p] = if (a | b | c) < 4 {
                    (a << 4 | b << 2 | c) as u8
                } else {
                    N_CODON as u8
                };
            }
            for p in 0..m {
                let idx = codon[p] as usize;
                let is_stop = table.stop[idx];
                stopv[p] = is_stop as u8;
                score[p] = if p >= 3 {
                    let prev = table.synonym[codon[p - 3] as usize] as usize;
                    let id = prev * 65 + table.synonym[idx] as usize;
                    dicodon[p] = id as u16;
                    if is_stop {
                        -path.stop
                    } else {
                        llr[id]
                    }
                } else if is_stop {
                    -path.stop
                } else {
                    0.0
                };
            }
            // The fixed frames' sums by p mod 3, in order of p; their stop counts leave
            // out each grid's last codon start, the one among the last three (p + 6 > n).
            for (r, fx) in fixed.iter_mut().enumerate() {
                let (mut sum, mut st, mut p) = (0f32, 0u32, r);
                while p < m {
                    sum += score[p];
                    st += stopv[p] as u32;
                    p += 3;
                }
                let late = if r < m {
                    stopv[r + (m - 1 - r) / 3 * 3] as u32
                } else {
                    0
                };
                stops[r] = st;
                *fx = (st - late, sum, m.saturating_sub(r).div_ceil(3) as u32);
            }
        }
        // best[p]: the best score of a path from the codon at p to the read's end;
        // padded with -inf so the steps need no bounds checks.
        self.best.clear();
        self.best.resize(m + 4, f32::NEG_INFINITY);
        let lam = path.shift;
        if common.try_fixed && lam >= FIXED_SHIFT && self.fixed_paths(m, lam) {
            // Called bases by position mod 3.
            let mut bases = [[0u32; 4]; 3];
            for (q, &b) in seq.iter().enumerate() {
                if b < 4 {
                    bases[q % 3][b as usize] += 1;
                }
            }
            for off in 0..3 {
                let f = first + off;
                let pth = &mut self.paths[f];
                pth.clear();
                pth.resize(m.saturating_sub(off).div_ceil(3), 0);
                for (i, v) in pth.iter_mut().enumerate() {
                    *v = (off + 3 * i) as u32;
                }
                self.fixed_frame_features(
                    seq, freq, f, fixed[off], table, common, stops[off], &bases,
                );
                self.dense[f][SCORE] = if off < m { self.best[off] } else { 0.0 };
                self.gain[f] = self.dense[f][SCORE] - fixed[off].1;
            }
            return;
        }
        self.step.clear();
        self.step.resize(m, END);
        // The last four scores ride along in registers: (best[p + 1], ..., best[p + 4]).
        let (best, step, score) = (&mut self.best[..m], &mut self.step[..m], &self.score[..m]);
        let mut next = [f32::NEG_INFINITY; 4];
        // From `tail` on (p + 6 > n: the last three codon starts) the path may stop, as
        // it has covered the read.
        let tail = m.saturating_sub(3);
        for p in (0..m).rev() {
            let (b3, b2, b4) = (next[2], next[1] - lam, next[3] - lam);
            // Ties go to the unshifted step, then deletion, then insertion.
            let (mut b, mut st) = if b3 >= b2 && b3 >= b4 {
                (b3, 3)
            } else if b2 >= b4 {
                (b2, 2)
            } else {
                (b4, 4)
            };
            if p >= tail && 0.0 >= b {
                (b, st) = (0.0, END);
            }
            let v = score[p] + b;
            best[p] = v;
            step[p] = st;
            next = [v, next[0], next[1], next[2]];
        }
        for off in 0..3 {
            let f = first + off;
            let pth = &mut self.paths[f];
            pth.clear();
            let mut p = off;
            while p < m {
                pth.push(p as u32);
                match self.step[p] {
                    END => break,
                    d => p += d as usize,
                }
            }
            self.frame_features(seq, freq, f, fixed[off], table, common);
            self.dense[f][SCORE] = if off < m { self.best[off] } else { 0.0 };
            self.gain[f] = self.dense[f][SCORE] - fixed[off].1;
        }
    }

    /// Fills `best[..m]` with the fixed frames' scores to the read's end and returns
    /// whether they are what the backward pass would find at shift cost `lam`: then no
    /// shift can pay (every gap between two of them is under `lam`, by a margin far
    /// beyond rounding) and no path ends early (each is under `lam`), so every path is
    /// its fixed frame. The sums are taken in the backward pass's order, so the scores
    /// are the very same numbers.
    fn fixed_paths(&mut self, m: usize, lam: f32) -> bool {
        let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
        let (best, score) = (&mut self.best[..m], &self.score[..m]);
        for r in 0..3.min(m) {
            // The last codon start of this grid, then backwards.
            let mut p = r + (m - 1 - r) / 3 * 3;
            let mut next = 0.0;
            loop {
                let b = score[p] + next;
                best[p] = b;
                if b < lo {
                    lo = b;
                }
                if b > hi {
                    hi = b;
                }
                next = b;
                if p < 3 {
                    break;
                }
                p -= 3;
            }
        }
        m == 0 || (hi - lo <= lam - 1.0 && hi <= lam - 1.0)
    }

    /// Features of hypothesis `f` from its path; `fixed` holds its fixed frame's
    /// internal stops, summed log-odds and codon count.
    fn frame_features(
        &mut self,
        seq: &[Base],
        freq: &[f32; 4],
        f: usize,
        fixed: (u32, f32, u32),
        table: &TableContext,
        common: &Common,
    ) {
        let n = seq.len();
        let ids = &mut self.ids[f];
        let pth = &self.paths[f];
        let k = pth.len();
        // One dicodon per step of the path.
        ids.clear();
        ids.resize(k.saturating_sub(1), 0);
        let mut comp = [[0u32; 4]; 3];
        let mut stops = 0u32;
        let (mut shifts, mut first_shift) = (0u32, n);
        let mut pp = 0u32;
        for (i, &p) in pth.iter().enumerate() {
            let c = self.codon[p as usize] as usize;
            stops += table.stop[c] as u32;
            if i > 0 {
                // A step of 3 stays on the codon grid, whose dicodon is precomputed.
                ids[i - 1] = if p - pp == 3 {
                    self.dicodon[p as usize]
                } else {
                    shifts += 1;
                    first_shift = first_shift.min(p as usize);
                    let prev = table.synonym[self.codon[pp as usize] as usize];
                    prev as u16 * 65 + table.synonym[c] as u16
                };
            }
            pp = p;
            if c < N_CODON {
                comp[0][c >> 4] += 1;
                comp[1][(c >> 2) & 3] += 1;
                comp[2][c & 3] += 1;
            } else {
                for (j, &b) in seq[p as usize..p as usize + 3].iter().enumerate() {
                    if b < 4 {
                        comp[j][b as usize] += 1;
                    }
                }
            }
        }
        let last_stop = pth
            .last()
            .is_some_and(|&p| table.stop[self.codon[p as usize] as usize]);
        let counts = PathCounts {
            k,
            comp,
            stops,
            last_stop,
            shifts,
            first_shift,
        };
        self.write_dense(f, n, freq, fixed, common, &counts);
    }

    /// [`FrameInputs::frame_features`] for a path that is hypothesis `f`'s fixed frame
    /// (`paths[f]` holds it), from the strand's precomputed dicodon ids, stop counts by
    /// codon start mod 3 and called bases by position mod 3: the same ids and inputs.
    #[allow(clippy::too_many_arguments)]
    fn fixed_frame_features(
        &mut self,
        seq: &[Base],
        freq: &[f32; 4],
        f: usize,
        fixed: (u32, f32, u32),
        table: &TableContext,
        common: &Common,
        stops: u32,
        bases: &[[u32; 4]; 3],
    ) {
        let n = seq.len();
        let pth = &self.paths[f];
        let k = pth.len();
        let ids = &mut self.ids[f];
        ids.clear();
        let (mut comp, mut last_stop) = ([[0u32; 4]; 3], false);
        if let (Some(&first), Some(&last)) = (pth.first(), pth.last()) {
            let (first, last) = (first as usize, last as usize);
            ids.resize(k - 1, 0);
            for (i, v) in ids.iter_mut().enumerate() {
                *v = self.dicodon[first + 3 + 3 * i];
            }
            last_stop = table.stop[self.codon[last] as usize];
            // The path covers bases first..last + 3; base q sits at codon position
            // (q - first) mod 3.
            for j in 0..3 {
                comp[j] = bases[(first + j) % 3];
            }
            for q in (0..first).chain(last + 3..n) {
                let b = seq[q];
                if b < 4 {
                    comp[(q + 3 - first % 3) % 3][b as usize] -= 1;
                }
            }
        }
        let counts = PathCounts {
            k,
            comp,
            stops,
            last_stop,
            shifts: 0,
            first_shift: n,
        };
        self.write_dense(f, n, freq, fixed, common, &counts);
    }

    /// Writes hypothesis `f`'s dense inputs from its path's counts.
    fn write_dense(
        &mut self,
        f: usize,
        n: usize,
        freq: &[f32; 4],
        fixed: (u32, f32, u32),
        common: &Common,
        c: &PathCounts,
    ) {
        let PathCounts {
            k,
            comp,
            stops,
            last_stop,
            shifts,
            first_shift,
        } = *c;
        let internal = stops - last_stop as u32;
        let (fixed_stops, fixed_llr, fixed_n) = fixed;
        let d = &mut self.dense[f];
        d[0] = (internal > 0) as u8 as f32;
        d[1] = (1.0 + internal as f32).ln();
        d[2] = last_stop as u8 as f32;
        let kf = k.max(1) as f32;
        for j in 0..3 {
            for b in 0..4 {
                d[3 + 4 * j + b] = comp[j][b] as f32 / kf - freq[b];
            }
        }
        d[15] = common.gc - 0.5;
        d[16] = common.len as f32 / 300.0;
        d[17] = 1.0 / kf.sqrt();
        d[18] = common.nfrac;
        d[19] = (1.0 + shifts as f32).ln();
        d[20] = first_shift as f32 / n.max(1) as f32;
        d[FIXED_STOPS] = (1.0 + fixed_stops as f32).ln();
        d[23] = (fixed_llr / fixed_n.max(1) as f32).clamp(-LLR_CLAMP, LLR_CLAMP);
        d[26] = common.hint.unwrap_or(0.0).clamp(0.0, 10.0);
        d[27] = common.hint.is_some() as u8 as f32;
    }
}

/// What a hypothesis' dense inputs count along its path.
#[derive(Debug, Clone, Copy)]
struct PathCounts {
    /// Codons on the path.
    k: usize,
    /// Called bases by codon position.
    comp: [[u32; 4]; 3],
    /// Stops on the path, its last codon included.
    stops: u32,
    /// Whether the last codon is a stop.
    last_stop: bool,
    /// Shifts on the path.
    shifts: u32,
    /// Where the first shift lands (the read's length: none).
    first_shift: usize,
}

/// Read-wide values shared by all six hypotheses.
struct Common {
    /// Whether fixed frames may skip the backward pass (see `fixed_paths`).
    try_fixed: bool,
    hint: Option<f32>,
    gc: f32,
    nfrac: f32,
    len: usize,
}
#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use cdspred_core::DnaSeq;

    /// The next state of a 64-bit linear congruential generator (Knuth's MMIX).
    pub(crate) fn lcg(x: &mut u64) -> u64 {
        *x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        *x
    }

    /// `len` letters drawn from `alphabet` (a power-of-two length; repeats weight them).
    pub(crate) fn random_read(x: &mut u64, len: usize, alphabet: &[u8]) -> Vec<u8> {
        let bits = alphabet.len().trailing_zeros();
        (0..len)
            .map(|_| alphabet[(lcg(x) >> (64 - bits)) as usize])
            .collect()
    }

    fn scorer(llr: &[f32]) -> PathScorer<'_> {
        PathScorer {
            llr,
            shift: 3.0,
            stop: 8.0,
            hint: None,
        }
    }

    #[test]
    fn frames_of_reverse_complement_are_mirrored() {
        let t = TableContext::new(GeneticCode::bacterial());
        let llr: Vec<f32> = (0..VOCAB)
            .map(|i| ((i * 37) % 11) as f32 / 10.0 - 0.5)
            .collect();
        let s = DnaSeq::from_ascii(b"ATGGCTAAACGTTGACCCGGGTTTAAANACGTAGCTAGGATCCATAGA").unwrap();
        let (mut a, mut b) = (FrameInputs::default(), FrameInputs::default());
        a.fill(s.codes(), &t, &scorer(&llr));
        b.fill(s.reverse_complement().codes(), &t, &scorer(&llr));
        for f in 0..3 {
            assert_eq!(a.ids[f], b.ids[f + 3]);
            assert_eq!(a.dense[f], b.dense[f + 3]);
            assert_eq!(a.paths[f], b.paths[f + 3]);
        }
    }

    #[test]
    fn a_clean_open_frame_is_read_without_shifts() {
        let t = TableContext::new(GeneticCode::bacterial());
        let llr = vec![0.0; VOCAB];
        // 20 codons, no stop in frame +0.
        let s = DnaSeq::from_ascii(&b"GCTAAACGT".repeat(7)[..60]).unwrap();
        let mut a = FrameInputs::default();
        a.fill(s.codes(), &t, &scorer(&llr));
        assert_eq!(a.paths[0], (0..20).map(|i| i * 3).collect::<Vec<u32>>());
        assert!(a.shifts(0).is_empty());
        assert_eq!(a.ids[0].len(), 19);
        assert_eq!(a.dense[0][19], 0.0);
        assert_eq!(a.dense[0][20], 1.0);
    }

    #[test]
    fn fixed_frames_read_as_the_backward_pass_reads_them() {
        // The clean expert's shift cost: the fixed-frame shortcut must give the very
        // inputs the backward pass gives, and step aside where a path would shift or
        // end early (a read of stops only).
        let mut x = 7u64;
        let llr: Vec<f32> = (0..VOCAB)
            .map(|_| ((lcg(&mut x) >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 6.0)
            .collect();
        let mut reads: Vec<Vec<u8>> = Vec::new();
        for len in [8usize, 9, 10, 11, 12, 13, 14, 59, 60, 61, 150, 300, 400] {
            let mut r = random_read(&mut x, len, b"ACGT");
            reads.push(r.clone());
            if len > 4 {
                r[len / 3] = b'N';
                r[len - 1] = b'N';
                reads.push(r);
            }
        }
        reads.push(b"TAA".repeat(133));
        reads.push(b"TAATGA".repeat(66));
        let tables = [
            TableContext::new(GeneticCode::bacterial()),
            TableContext::new(GeneticCode::new(4).unwrap()),
        ];
        for (stop, shift) in [(8.0, 1000.0), (8.0, 100.0), (400.0, 1000.0)] {
            let path = PathScorer {
                llr: &llr,
                shift,
                stop,
                hint: Some(0.5),
            };
            for t in &tables {
                for r in &reads {
                    let s = DnaSeq::from_ascii(r).unwrap();
                    let (mut a, mut b) = (FrameInputs::default(), FrameInputs::default());
                    a.fill_with(s.codes(), t, &path, true);
                    b.fill_with(s.codes(), t, &path, false);
                    let what = (String::from_utf8_lossy(r), stop, shift);
                    assert_eq!(a.ids, b.ids, "{what:?}");
                    assert_eq!(a.paths, b.paths, "{what:?}");
                    for f in 0..FRAMES {
                        let bits = |d: &[f32]| d.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                        assert_eq!(bits(&a.dense[f]), bits(&b.dense[f]), "{what:?} {f}");
                        assert_eq!(a.gain[f].to_bits(), b.gain[f].to_bits(), "{what:?} {f}");
                    }
                }
            }
        }
    }

    #[test]
    fn fixed_frame_inputs_match_a_plain_count() {
        // Slots 22 and 23: internal stops of each fixed frame (codon starts p with
        // p + 6 <= n) and its mean codon log-odds, counted the plain way.
        let t = TableContext::new(GeneticCode::bacterial());
        let llr: Vec<f32> = (0..VOCAB)
            .map(|i| ((i * 31) % 17) as f32 / 8.0 - 1.0)
            .collect();
        let path = scorer(&llr);
        let mut x = 11u64;
        for len in 8..40 {
            let read = random_read(&mut x, len, b"ACGTTAAG");
            let s = DnaSeq::from_ascii(&read).unwrap();
            let mut a = FrameInputs::default();
            a.fill(s.codes(), &t, &path);
            let c = s.codes();
            let m = len - 2;
            for off in 0..3 {
                let (mut stops, mut sum, mut k) = (0u32, 0f32, 0u32);
                for p in (off..m).step_by(3) {
                    let id = 16 * c[p] as usize + 4 * c[p + 1] as usize + c[p + 2] as usize;
                    let stop = t.is_stop(id);
                    stops += (stop && p + 6 <= len) as u32;
                    sum += if stop {
                        -path.stop
                    } else if p >= 3 {
                        let prev =
                            16 * c[p - 3] as usize + 4 * c[p - 2] as usize + c[p - 1] as usize;
                        llr[t.synonym(prev) as usize * 65 + t.synonym(id) as usize]
                    } else {
                        0.0
                    };
                    k += 1;
                }
                assert_eq!(a.dense[off][22], (1.0 + stops as f32).ln(), "{len} {off}");
                let mean = (sum / k as f32).clamp(-LLR_CLAMP, LLR_CLAMP);
                assert_eq!(a.dense[off][23], mean, "{len} {off}");
            }
        }
    }

    #[test]
    fn path_inputs_match_a_walk_along_the_path() {
        // Cheap shifts, so the paths shift often: ids, stops, composition and shifts as
        // a plain walk along each path reads them.
        let t = TableContext::new(GeneticCode::new(4).unwrap());
        let llr: Vec<f32> = (0..VOCAB)
            .map(|i| ((i * 7) % 13) as f32 / 4.0 - 1.5)
            .collect();
        let path = PathScorer {
            llr: &llr,
            shift: 0.5,
            stop: 3.0,
            hint: None,
        };
        let mut x = 5u64;
        for len in (8..200).step_by(7) {
            let read = random_read(&mut x, len, b"ACGTTANG");
            let s = DnaSeq::from_ascii(&read).unwrap();
            let mut a = FrameInputs::default();
            a.fill(s.codes(), &t, &path);
            let mut shifted = 0;
            for f in 0..FRAMES {
                let seq: Vec<u8> = if f < 3 {
                    s.codes().to_vec()
                } else {
                    s.reverse_complement().codes().to_vec()
                };
                let codon = |p: usize| {
                    let w = &seq[p..p + 3];
                    if w.iter().all(|&b| b < 4) {
                        16 * w[0] as usize + 4 * w[1] as usize + w[2] as usize
                    } else {
                        N_CODON
                    }
                };
                let pth = &a.paths[f];
                let (mut ids, mut comp, mut stops) = (Vec::new(), [[0u32; 4]; 3], 0);
                let (mut shifts, mut first) = (0u32, len);
                for (i, &p) in pth.iter().enumerate() {
                    let p = p as usize;
                    stops += (t.is_stop(codon(p)) && i + 1 < pth.len()) as u32;
                    for j in 0..3 {
                        if seq[p + j] < 4 {
                            comp[j][seq[p + j] as usize] += 1;
                        }
                    }
                    if i > 0 {
                        let pp = pth[i - 1] as usize;
                        ids.push(t.synonym(codon(pp)) as u16 * 65 + t.synonym(codon(p)) as u16);
                        if p - pp != 3 {
                            shifts += 1;
                            first = first.min(p);
                        }
                    }
                }
                shifted += shifts;
                assert_eq!(a.ids[f], ids, "{len} {f}");
                let d = &a.dense[f];
                assert_eq!(d[1], (1.0 + stops as f32).ln(), "{len} {f}");
                assert_eq!(d[19], (1.0 + shifts as f32).ln(), "{len} {f}");
                assert_eq!(d[20], first as f32 / len as f32, "{len} {f}");
                let kf = pth.len().max(1) as f32;
                let called = seq.iter().filter(|&&b| b < 4).count().max(1) as f32;
                for j in 0..3 {
                    for b in 0..4 {
                        let freq = seq.iter().filter(|&&c| c as usize == b).count() as f32 / called;
                        let want = comp[j][b] as f32 / kf - freq;
                        assert_eq!(d[3 + 4 * j + b], want, "{len} {f} {j} {b}");
                    }
                }
            }
            if len > 100 {
                assert!(shifted > 0, "the test should see shifts ({len})");
            }
        }
    }

    #[test]
    fn an_insertion_is_stepped_over() {
        let t = TableContext::new(GeneticCode::bacterial());
        let llr = vec![0.0; VOCAB];
        // Frame +0 is open; frames +1 and +2 are full of stops (TAA, TAG, TGA ...).
        let orf = b"ATAAGTAATGAC".repeat(10);
        let mut read = orf[..60].to_vec();
        read.insert(30, b'C');
        read.extend_from_slice(&orf[60..]);
        let s = DnaSeq::from_ascii(&read).unwrap();
        let mut a = FrameInputs::default();
        a.fill(s.codes(), &t, &scorer(&llr));
        let sh = a.shifts(0);
        assert_eq!(sh.len(), 1, "{:?}", a.paths[0]);
        assert_eq!(sh[0].delta, 1);
        assert!((28..=34).contains(&sh[0].pos), "{sh:?}");
        // No stop is read on the path, while the fixed frame meets them.
        assert_eq!(a.dense[0][0], 0.0);
        assert!(a.dense[0][22] > 0.0);
    }
}
