//! Per-frame inputs of a read.
//!
//! For each of the six frames (strand × offset) the sense-oriented read is cut into
//! codons from the offset; each codon is replaced by its table-11 synonym under the
//! read's genetic code, and each pair of adjacent codons becomes one *dicodon id*
//! (`65 * c1 + c2`, 65 codon ids because 64 stands for a codon holding an N). The
//! dense side of a frame's input is:
//!
//! | slots | what |
//! |---|---|
//! | 3 | internal stop present, ln(1 + internal stops), last codon is a stop |
//! | 12 | base composition at codon positions 1, 2, 3 minus the read's composition |
//! | 4 | GC − 0.5, length / 300, 1/√codons, N fraction |

use cdspred_core::code::{codon_index, GeneticCode, N_CODON};
use cdspred_core::dna::Base;

/// Number of distinct dicodon ids.
pub const VOCAB: usize = 65 * 65;
/// Dense (non-embedding) inputs per frame.
pub const DENSE: usize = 19;
/// The six frames, in class order: `+0 +1 +2 -0 -1 -2`.
pub const FRAMES: usize = 6;

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
}

/// Inputs of the six frames of one read, reusable across reads.
#[derive(Debug, Clone, Default)]
pub struct FrameInputs {
    /// Dicodon ids of each frame.
    pub ids: [Vec<u16>; FRAMES],
    /// Dense inputs of each frame.
    pub dense: [[f32; DENSE]; FRAMES],
    rc: Vec<Base>,
}

impl FrameInputs {
    /// Fills the inputs for `read` (base codes, length ≥ 8).
    pub fn fill(&mut self, read: &[Base], table: &TableContext) {
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
        let gc = fwd_freq[1] + fwd_freq[2];
        let nfrac = counts[4] as f32 / len.max(1) as f32;
        for frame in 0..FRAMES {
            let (seq, freq) = if frame < 3 {
                (read, &fwd_freq)
            } else {
                (&rc[..], &rev_freq)
            };
            let offset = frame % 3;
            let ids = &mut self.ids[frame];
            ids.clear();
            let mut comp = [[0f32; 4]; 3];
            let (mut internal, mut last_stop) = (0u32, false);
            let mut prev: Option<u8> = None;
            let codons = seq.get(offset..).unwrap_or(&[]).chunks_exact(3);
            let m = codons.len();
            for (i, c) in codons.enumerate() {
                let idx = codon_index(c);
                if table.stop[idx] {
                    if i + 1 == m {
                        last_stop = true;
                    } else {
                        internal += 1;
                    }
                }
                for p in 0..3 {
                    if c[p] < 4 {
                        comp[p][c[p] as usize] += 1.0;
                    }
                }
                let k = table.synonym[idx.min(N_CODON)];
                if let Some(pk) = prev {
                    ids.push(pk as u16 * 65 + k as u16);
                }
                prev = Some(k);
            }
            let d = &mut self.dense[frame];
            d[0] = (internal > 0) as u8 as f32;
            d[1] = (1.0 + internal as f32).ln();
            d[2] = last_stop as u8 as f32;
            let mf = m.max(1) as f32;
            for p in 0..3 {
                for b in 0..4 {
                    d[3 + 4 * p + b] = comp[p][b] / mf - freq[b];
                }
            }
            d[15] = gc - 0.5;
            d[16] = len as f32 / 300.0;
            d[17] = 1.0 / mf.sqrt();
            d[18] = nfrac;
        }
        self.rc = rc;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cdspred_core::DnaSeq;

    #[test]
    fn frames_of_reverse_complement_are_mirrored() {
        let t = TableContext::new(GeneticCode::bacterial());
        let s = DnaSeq::from_ascii(b"ATGGCTAAACGTTGACCCGGGTTTAAANACGTAGC").unwrap();
        let (mut a, mut b) = (FrameInputs::default(), FrameInputs::default());
        a.fill(s.codes(), &t);
        b.fill(s.reverse_complement().codes(), &t);
        for f in 0..3 {
            assert_eq!(a.ids[f], b.ids[f + 3]);
            assert_eq!(a.dense[f], b.dense[f + 3]);
        }
        // Frame +0: ATG GCT AAA CGT TGA ... has an internal stop (TGA).
        assert_eq!(a.dense[0][0], 1.0);
        assert_eq!(a.ids[0].len(), 35 / 3 - 1);
    }
}
