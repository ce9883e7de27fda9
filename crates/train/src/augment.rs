//! GC-shift augmentation.
//!
//! The training pool spans GC 0.35–0.51 with one genome at 0.66, while real samples
//! span 0.25–0.72. This augmentation shows the model reads as they would look in a
//! genome of higher (or lower) GC without changing their labels:
//! - in a coding read, third codon positions of the sense frame are changed to a
//!   *synonymous* G/C (or A/T) ending, so the protein — and the absence of stops in the
//!   coding frame — is unchanged, while the other five frames shift as they would;
//!   Optionally first codon positions move too (A→G, T→C or the reverse, never making
//!   a stop): the amino-acid shift of real high-GC genomes (towards Ala, Gly, Pro, Arg,
//!   Val), which changes the protein but keeps it stop-free;
//! - in a non-coding read, A/T bases become G/C (A→G, T→C) or the reverse.

use cdspred_core::code::{codon_index, GeneticCode};
use cdspred_core::{ReadClass, Strand};
use cdspred_data::sample::Rng;
use cdspred_data::{Dataset, ErrorProfile, ReadLabel};

/// A↔G, C↔T: the transition of a called base (codes A=0, C=1, G=2, T=3).
fn transition(b: u8) -> u8 {
    [2, 3, 0, 1][b as usize]
}

/// One GC shift.
#[derive(Debug, Clone, Copy)]
pub struct Shift {
    /// Towards GC (else towards AT).
    pub up: bool,
    /// Share of eligible positions changed (third codon positions in coding reads).
    pub strength: f64,
    /// Share of eligible first codon positions changed in coding reads.
    pub first: f64,
}

/// Writes an augmented copy of `read` into `out`.
pub fn gc_shift(
    read: &[u8],
    label: ReadLabel,
    code: &GeneticCode,
    shift: Shift,
    rng: &mut Rng,
    out: &mut Vec<u8>,
) {
    let Shift {
        up,
        strength,
        first,
    } = shift;
    out.clear();
    out.extend_from_slice(read);
    // A base the shift may change: A/T going up, G/C going down (N never).
    let movable = |b: u8| {
        if up {
            b == 0 || b == 3
        } else {
            b == 1 || b == 2
        }
    };
    let ReadLabel::Class(class) = label else {
        return;
    };
    match class {
        ReadClass::NonCoding => {
            for b in out.iter_mut() {
                if movable(*b) && rng.unit() < strength {
                    *b = transition(*b);
                }
            }
        }
        ReadClass::Coding(strand, frame) => {
            let n = out.len();
            let mut i = frame.offset() as usize;
            while i + 3 <= n {
                // Positions of the codon in read coordinates (sense order).
                let pos: [usize; 3] = match strand {
                    Strand::Plus => [i, i + 1, i + 2],
                    Strand::Minus => [n - 1 - i, n - 2 - i, n - 3 - i],
                };
                let sense = |b: u8| {
                    if strand == Strand::Plus || b > 3 {
                        b
                    } else {
                        3 - b
                    }
                };
                let c = [sense(out[pos[0]]), sense(out[pos[1]]), sense(out[pos[2]])];
                let third_ok = movable(c[2]);
                if first > 0.0
                    && c.iter().all(|&b| b < 4)
                    && movable(c[0])
                    && !code.is_stop(codon_index(&c))
                    && rng.unit() < first
                {
                    // A transition, as in the non-coding shift.
                    let nb = transition(c[0]);
                    if !code.is_stop(codon_index(&[nb, c[1], c[2]])) {
                        out[pos[0]] = sense(nb);
                    }
                }
                let c = [sense(out[pos[0]]), c[1], c[2]];
                if c.iter().all(|&b| b < 4) && third_ok && rng.unit() < strength {
                    let aa = code.amino_acid(codon_index(&c));
                    let choices: &[u8] = if up { &[1, 2] } else { &[0, 3] };
                    let start = rng.below(2) as usize;
                    for k in 0..2 {
                        let nb = choices[(start + k) % 2];
                        if code.amino_acid(codon_index(&[c[0], c[1], nb])) == aa {
                            out[pos[2]] = sense(nb);
                            break;
                        }
                    }
                }
                i += 3;
            }
        }
    }
}

/// A copy of `ds` in which each read, with probability `fraction`, carries one of
/// `profiles` (drawn uniformly), with its label kept true. Deterministic in `seed`.
pub fn with_errors(ds: &Dataset, profiles: &[ErrorProfile], fraction: f64, seed: u64) -> Dataset {
    let mut out = Dataset::default();
    let mut buf = Vec::new();
    for (i, s) in ds.samples.iter().enumerate() {
        let mut rng = Rng::new(seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let read = ds.read(s);
        match pick(profiles, fraction, &mut rng) {
            Some(p) => {
                let label = p.apply(read, s.label, &mut rng, &mut buf);
                out.push(&buf, label, s.table, s.source);
            }
            None => out.push(read, s.label, s.table, s.source),
        }
    }
    out
}

/// With probability `fraction`, one of `profiles` drawn uniformly.
pub fn pick<'a>(
    profiles: &'a [ErrorProfile],
    fraction: f64,
    rng: &mut Rng,
) -> Option<&'a ErrorProfile> {
    if profiles.is_empty() || fraction <= 0.0 || rng.unit() >= fraction {
        return None;
    }
    Some(&profiles[rng.below(profiles.len() as u64) as usize])
}

#[cfg(test)]
mod tests {
    use super::*;
    use cdspred_core::code::translate;
    use cdspred_core::dna::revcomp_codes;
    use cdspred_core::{DnaSeq, Frame};

    #[test]
    fn coding_shift_keeps_the_protein_and_raises_gc() {
        let code = GeneticCode::bacterial();
        let sense = DnaSeq::from_ascii(b"GATGAAATTTTAAAAGATCTTACTGCAAATTATGAAGATTTTTAA").unwrap();
        for strand in [Strand::Plus, Strand::Minus] {
            let read = if strand == Strand::Plus {
                sense.codes().to_vec()
            } else {
                revcomp_codes(sense.codes())
            };
            let label = ReadLabel::Class(ReadClass::Coding(strand, Frame::new(1).unwrap()));
            let mut out = Vec::new();
            let shift = Shift {
                up: true,
                strength: 1.0,
                first: 0.0,
            };
            gc_shift(&read, label, &code, shift, &mut Rng::new(1), &mut out);
            let back = if strand == Strand::Plus {
                out.clone()
            } else {
                revcomp_codes(&out)
            };
            assert_eq!(
                translate(&back, 1, &code),
                translate(sense.codes(), 1, &code)
            );
            let gc = cdspred_core::dna::gc_fraction(&out);
            assert!(gc > sense.gc() + 0.1, "{gc} vs {}", sense.gc());
        }
    }

    /// First-position shifts raise GC at codon position 1, leave positions 2 untouched
    /// and never make a stop in the coding frame, on either strand and both ways.
    #[test]
    fn first_position_shift_keeps_the_frame_open() {
        let code = GeneticCode::bacterial();
        let mut rng = Rng::new(5);
        let bases = b"ACGT";
        let mut sense = Vec::new();
        while sense.len() < 600 {
            let c = [0, 1, 2].map(|_| bases[rng.below(4) as usize]);
            let idx = codon_index(&c.map(|b| match b {
                b'A' => 0,
                b'C' => 1,
                b'G' => 2,
                _ => 3,
            }));
            if !code.is_stop(idx) {
                sense.extend_from_slice(&c);
            }
        }
        let sense = DnaSeq::from_ascii(&sense).unwrap();
        let pos_gc = |codes: &[u8], p: usize| {
            codes
                .iter()
                .skip(p)
                .step_by(3)
                .filter(|&&b| b == 1 || b == 2)
                .count()
        };
        for (strand, up) in [
            (Strand::Plus, true),
            (Strand::Minus, true),
            (Strand::Plus, false),
            (Strand::Minus, false),
        ] {
            let read = if strand == Strand::Plus {
                sense.codes().to_vec()
            } else {
                revcomp_codes(sense.codes())
            };
            let label = ReadLabel::Class(ReadClass::Coding(strand, Frame::new(0).unwrap()));
            let shift = Shift {
                up,
                strength: 0.0,
                first: 1.0,
            };
            let mut out = Vec::new();
            gc_shift(&read, label, &code, shift, &mut Rng::new(9), &mut out);
            let back = if strand == Strand::Plus {
                out.clone()
            } else {
                revcomp_codes(&out)
            };
            let prot = translate(&back, 0, &code);
            assert!(!prot.contains('*'), "{prot}");
            let (before, after) = (pos_gc(sense.codes(), 0), pos_gc(&back, 0));
            if up {
                assert!(after > before + 50, "{before} -> {after}");
            } else {
                assert!(after + 50 < before, "{before} -> {after}");
            }
            assert_eq!(pos_gc(sense.codes(), 1), pos_gc(&back, 1));
            assert_eq!(pos_gc(sense.codes(), 2), pos_gc(&back, 2));
        }
    }
}
