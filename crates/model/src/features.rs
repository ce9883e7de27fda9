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
use cdspred_core::dna::Base;

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
    score: Vec<f32>,
    best: Vec<f32>,
    step: Vec<u8>,
}

/// Step codes of the backward pass.
const END: u8 = 0;

impl FrameInputs {
    /// Fills the inputs for `read` (base codes, length ≥ 8).
    pub fn fill(&mut self, read: &[Base], table: &TableContext, path: &PathScorer<'_>) {
        let len = read.len();
        let mut rc = std::mem::take(&mut self.rc);
        rc.clear();
        rc.extend(read.iter().rev().map(|&b| if b < 4 { 3 - b } else { 4 }));
        let mut counts = [0usize; 5];
        for &b in read {
            counts[b as usize] += 1;
        }
        let called = (len - counts[4]).max(1) as f32;
        let fwd_freq = [0, 1, 2, 3].map(|b| counts[b] as f32 / called);
        let rev_freq = [fwd_freq[3], fwd_freq[2], fwd_freq[1], fwd_freq[0]];
        let common = Common {
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
        {
            let (codon, score) = (&mut self.codon[..m], &mut self.score[..m]);
            let llr = &path.llr[..VOCAB];
            // Rolling 6-bit codon code; `clean` counts called bases in a row.
            let (mut c, mut clean) = (0usize, 0usize);
            let mut r = 0usize; // p mod 3
            for (i, &b) in seq.iter().enumerate() {
                if b > 3 {
                    clean = 0;
                    c <<= 2;
                } else {
                    clean += 1;
                    c = (c << 2) | b as usize;
                }
                c &= 63;
                if i < 2 {
                    continue;
                }
                let p = i - 2;
                let idx = if clean >= 3 { c } else { N_CODON };
                let syn = table.synonym[idx];
                codon[p] = idx as u8;
                let s = if table.stop[idx] {
                    -path.stop
                } else if p >= 3 {
                    let prev = table.synonym[codon[p - 3] as usize] as usize;
                    llr[prev * 65 + syn as usize]
                } else {
                    0.0
                };
                score[p] = s;
                let fx = &mut fixed[r];
                fx.0 += (table.stop[idx] && p + 6 <= n) as u32;
                fx.1 += s;
                fx.2 += 1;
                r = if r == 2 { 0 } else { r + 1 };
            }
        }
        // best[p]: the best score of a path from the codon at p to the read's end;
        // padded with -inf so the steps need no bounds checks.
        self.best.clear();
        self.best.resize(m + 4, f32::NEG_INFINITY);
        self.step.clear();
        self.step.resize(m, END);
        let lam = path.shift;
        for p in (0..m).rev() {
            let (b3, b2, b4) = (
                self.best[p + 3],
                self.best[p + 2] - lam,
                self.best[p + 4] - lam,
            );
            // Ties go to the unshifted step, then deletion, then insertion.
            let (mut b, mut st) = if b3 >= b2 && b3 >= b4 {
                (b3, 3)
            } else if b2 >= b4 {
                (b2, 2)
            } else {
                (b4, 4)
            };
            // Near the end the path may stop (it has covered the read).
            if p + 6 > n && 0.0 >= b {
                (b, st) = (0.0, END);
            }
            self.best[p] = self.score[p] + b;
            self.step[p] = st;
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
        ids.clear();
        let pth = &self.paths[f];
        let k = pth.len();
        let mut comp = [[0u32; 4]; 3];
        let (mut internal, mut last_stop) = (0u32, false);
        let (mut shifts, mut first_shift) = (0u32, n);
        let mut prev: Option<(u8, u32)> = None;
        for (i, &p) in pth.iter().enumerate() {
            let c = self.codon[p as usize] as usize;
            if table.stop[c] {
                if i + 1 == k {
                    last_stop = true;
                } else {
                    internal += 1;
                }
            }
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
            let syn = table.synonym[c];
            if let Some((pk, pp)) = prev {
                ids.push(pk as u16 * 65 + syn as u16);
                if p - pp != 3 {
                    shifts += 1;
                    first_shift = first_shift.min(p as usize);
                }
            }
            prev = Some((syn, p));
        }
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
        d[22] = (1.0 + fixed_stops as f32).ln();
        d[23] = (fixed_llr / fixed_n.max(1) as f32).clamp(-LLR_CLAMP, LLR_CLAMP);
        d[26] = common.hint.unwrap_or(0.0).clamp(0.0, 10.0);
        d[27] = common.hint.is_some() as u8 as f32;
    }
}

/// Read-wide values shared by all six hypotheses.
struct Common {
    hint: Option<f32>,
    gc: f32,
    nfrac: f32,
    len: usize,
}
#[cfg(test)]
mod tests {
    use super::*;
    use cdspred_core::DnaSeq;

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
