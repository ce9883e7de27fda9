//! Sequencing-error profiles: substitutions, insertions and deletions, and
//! ancient-DNA deamination, applied to labelled reads.
//!
//! A profile is named and versioned (the version changes whenever what a name means
//! changes), so a model card or a read set can say exactly which errors it saw.
//! [`ErrorProfile::apply`] mutates one read and keeps its label true:
//!
//! - indels are applied in the read's *sense* orientation, and the label's frame
//!   becomes the offset, in the mutated sense-oriented read, of the first codon of the
//!   original grid whose first base survived (so frame is still "the offset of the
//!   first full codon at the read's start on the sense strand"; an indel further in
//!   does not change it, one before it does);
//! - substitutions (uniform, or rising towards the 3′ end) and deamination (C→T at the
//!   5′ end, G→A at the 3′ end, decaying inwards) are applied in the read's *given*
//!   orientation, as the sequencer and the library make them; they never change a
//!   label;
//! - with `homopolymer > 0`, indels concentrate in homopolymer runs (Ion Torrent, 454)
//!   and an insertion repeats its neighbour; the mean rate stays as given.
//!
//! Rates are per base and must lie in [0, 0.3].

use cdspred_core::dna::{revcomp_codes as revcomp, Base};
use cdspred_core::{Frame, ReadClass, Strand};
use serde::{Deserialize, Serialize};

use crate::dataset::ReadLabel;
use crate::sample::Rng;

/// The largest per-base rate a profile may hold.
pub const MAX_RATE: f64 = 0.3;

/// One named error model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorProfile {
    /// Name, e.g. `indel1`.
    pub name: String,
    /// Version of what the name means.
    pub version: u32,
    /// Mean substitution rate per base.
    pub substitution: f64,
    /// Slope of the substitution rate along the read (0 = uniform; 1 = from half the
    /// mean at the 5′ end to 1.5× the mean at the 3′ end). In [0, 2].
    #[serde(default)]
    pub substitution_3prime: f64,
    /// Insertion rate per base.
    pub insertion: f64,
    /// Deletion rate per base.
    pub deletion: f64,
    /// Weight of homopolymer runs for indels (0 = uniform): a base in a run of r gets
    /// weight 1 + homopolymer·(r − 1), normalised so the mean rate is unchanged.
    #[serde(default)]
    pub homopolymer: f64,
    /// Deamination probability at the terminal base (C→T at 5′, G→A at 3′).
    #[serde(default)]
    pub deamination: f64,
    /// Factor by which deamination falls per base inwards, in (0, 1].
    #[serde(default = "default_decay")]
    pub deamination_decay: f64,
}

fn default_decay() -> f64 {
    0.5
}

/// Why a profile is unusable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProfileError {
    /// No built-in profile has this name.
    #[error("unknown error profile {name:?}: known profiles are {known}")]
    Unknown {
        /// The name asked for.
        name: String,
        /// The built-in names.
        known: String,
    },
    /// A rate or shape parameter is out of range.
    #[error("error profile {name:?}: {field} = {value} is outside [{lo}, {hi}]")]
    OutOfRange {
        /// The profile.
        name: String,
        /// The parameter.
        field: &'static str,
        /// Its value.
        value: f64,
        /// Lowest allowed.
        lo: f64,
        /// Highest allowed.
        hi: f64,
    },
}

/// The built-in profiles: (name, substitution, 3′ slope, insertion, deletion,
/// homopolymer, deamination).
const BUILTIN: &[(&str, f64, f64, f64, f64, f64, f64)] = &[
    ("none", 0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
    ("sub0.5", 0.005, 0.0, 0.0, 0.0, 0.0, 0.0),
    ("sub1", 0.01, 0.0, 0.0, 0.0, 0.0, 0.0),
    ("illumina", 0.005, 1.5, 0.0001, 0.0001, 0.0, 0.0),
    ("adna", 0.002, 0.0, 0.0, 0.0, 0.0, 0.3),
    ("indel0.5", 0.001, 0.0, 0.002, 0.002, 0.0, 0.0),
    ("indel1", 0.002, 0.0, 0.004, 0.004, 0.0, 0.0),
    ("homopolymer1", 0.002, 0.0, 0.004, 0.004, 2.0, 0.0),
    ("mixed4", 0.02, 0.0, 0.01, 0.01, 0.0, 0.0),
    ("long6", 0.01, 0.0, 0.03, 0.02, 0.0, 0.0),
];

impl ErrorProfile {
    /// A built-in profile by name.
    pub fn named(name: &str) -> Result<ErrorProfile, ProfileError> {
        let &(n, sub, slope, ins, del, homo, deam) = BUILTIN
            .iter()
            .find(|b| b.0 == name)
            .ok_or_else(|| ProfileError::Unknown {
                name: name.to_string(),
                known: ErrorProfile::known().join(", "),
            })?;
        Ok(ErrorProfile {
            name: n.to_string(),
            version: 1,
            substitution: sub,
            substitution_3prime: slope,
            insertion: ins,
            deletion: del,
            homopolymer: homo,
            deamination: deam,
            deamination_decay: default_decay(),
        })
    }

    /// The built-in names.
    pub fn known() -> Vec<&'static str> {
        BUILTIN.iter().map(|b| b.0).collect()
    }

    /// Expected insertions plus deletions per 100 nt.
    pub fn indels_per_100nt(&self) -> f64 {
        100.0 * (self.insertion + self.deletion)
    }

    /// Checks every parameter's range.
    pub fn validate(&self) -> Result<(), ProfileError> {
        let check = |field: &'static str, value: f64, lo: f64, hi: f64| {
            if (lo..=hi).contains(&value) {
                Ok(())
            } else {
                Err(ProfileError::OutOfRange {
                    name: self.name.clone(),
                    field,
                    value,
                    lo,
                    hi,
                })
            }
        };
        check("substitution", self.substitution, 0.0, MAX_RATE)?;
        check("insertion", self.insertion, 0.0, MAX_RATE)?;
        check("deletion", self.deletion, 0.0, MAX_RATE)?;
        check("deamination", self.deamination, 0.0, MAX_RATE)?;
        check("substitution_3prime", self.substitution_3prime, 0.0, 2.0)?;
        check("homopolymer", self.homopolymer, 0.0, 10.0)?;
        check("deamination_decay", self.deamination_decay, 1e-6, 1.0)
    }

    /// Writes a mutated copy of `read` into `out` and returns its label.
    pub fn apply(
        &self,
        read: &[Base],
        label: ReadLabel,
        rng: &mut Rng,
        out: &mut Vec<Base>,
    ) -> ReadLabel {
        let minus = matches!(label, ReadLabel::Class(ReadClass::Coding(Strand::Minus, _)));
        let frame = match label {
            ReadLabel::Class(ReadClass::Coding(_, f)) => Some(f.offset() as usize),
            _ => None,
        };
        // 1. Indels, in the sense orientation.
        let sense: Vec<Base> = if minus { revcomp(read) } else { read.to_vec() };
        let mut work = Vec::with_capacity(read.len() + 8);
        let mut new_frame = frame;
        if self.insertion > 0.0 || self.deletion > 0.0 {
            let weights = self.indel_weights(&sense);
            let mut pending = frame;
            for (i, &b) in sense.iter().enumerate() {
                let w = weights.as_ref().map_or(1.0, |v| v[i]);
                let u = rng.unit();
                let (pd, pi) = (self.deletion * w, self.insertion * w);
                if u < pd {
                    continue;
                }
                if let Some(f) = pending {
                    if i >= f && (i - f) % 3 == 0 {
                        new_frame = Some(work.len() % 3);
                        pending = None;
                    }
                }
                work.push(b);
                if u < pd + pi {
                    let ins = if self.homopolymer > 0.0 && b < 4 {
                        b
                    } else {
                        rng.below(4) as Base
                    };
                    work.push(ins);
                }
            }
            if pending.is_some() {
                new_frame = frame;
            }
        } else {
            work.extend_from_slice(&sense);
        }
        // 2. Back to the given orientation; substitutions and deamination there.
        out.clear();
        if minus {
            out.extend(revcomp(&work));
        } else {
            out.extend_from_slice(&work);
        }
        let n = out.len();
        let denom = n.saturating_sub(1).max(1) as f64;
        for (j, b) in out.iter_mut().enumerate() {
            if *b > 3 {
                continue;
            }
            if self.substitution > 0.0 {
                let x = j as f64 / denom;
                let s = self.substitution_3prime;
                let rate = self.substitution * (1.0 - s / 2.0 + s * x);
                if rng.unit() < rate {
                    *b = (*b + 1 + rng.below(3) as Base) % 4;
                    continue;
                }
            }
            if self.deamination > 0.0 {
                let d5 = self.deamination * self.deamination_decay.powi(j as i32);
                let d3 = self.deamination * self.deamination_decay.powi((n - 1 - j) as i32);
                if *b == 1 && d5 > 1e-4 && rng.unit() < d5 {
                    *b = 3; // C→T
                } else if *b == 2 && d3 > 1e-4 && rng.unit() < d3 {
                    *b = 0; // G→A
                }
            }
        }
        match (label, new_frame) {
            (ReadLabel::Class(ReadClass::Coding(strand, _)), Some(f)) => ReadLabel::Class(
                ReadClass::Coding(strand, Frame::new(f as u8).expect("mod 3")),
            ),
            _ => label,
        }
    }

    /// Per-base indel weights for homopolymer runs (mean 1), or none when uniform.
    fn indel_weights(&self, seq: &[Base]) -> Option<Vec<f64>> {
        if self.homopolymer <= 0.0 || seq.is_empty() {
            return None;
        }
        let mut w = vec![0.0; seq.len()];
        let mut i = 0;
        while i < seq.len() {
            let mut j = i + 1;
            while j < seq.len() && seq[j] == seq[i] {
                j += 1;
            }
            let v = 1.0 + self.homopolymer * (j - i - 1) as f64;
            w[i..j].iter_mut().for_each(|x| *x = v);
            i = j;
        }
        let mean = w.iter().sum::<f64>() / w.len() as f64;
        w.iter_mut().for_each(|x| *x /= mean);
        Some(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cdspred_core::DnaSeq;

    #[test]
    fn unknown_names_and_bad_rates_are_refused() {
        let e = ErrorProfile::named("nanopore9").unwrap_err();
        assert!(matches!(e, ProfileError::Unknown { .. }));
        assert!(e.to_string().contains("indel1"), "{e}");
        let mut p = ErrorProfile::named("indel1").unwrap();
        p.insertion = 0.31;
        let e = p.validate().unwrap_err();
        assert!(matches!(
            e,
            ProfileError::OutOfRange {
                field: "insertion",
                ..
            }
        ));
        p.insertion = -0.01;
        assert!(p.validate().is_err());
        for n in ErrorProfile::known() {
            ErrorProfile::named(n).unwrap().validate().unwrap();
        }
    }

    #[test]
    fn none_changes_nothing_and_rates_are_met() {
        let read = DnaSeq::from_ascii(&b"ACGTTGCAAC".repeat(30)).unwrap();
        let mut rng = Rng::new(3);
        let mut out = Vec::new();
        let label = ReadLabel::Class(ReadClass::Coding(Strand::Minus, Frame::new(2).unwrap()));
        let none = ErrorProfile::named("none").unwrap();
        assert_eq!(none.apply(read.codes(), label, &mut rng, &mut out), label);
        assert_eq!(out, read.codes());
        // Mean length change of mixed4 ≈ 0 (1% in, 1% out), substitutions ≈ 2%.
        let p = ErrorProfile::named("sub1").unwrap();
        let mut diff = 0usize;
        for _ in 0..200 {
            p.apply(read.codes(), label, &mut rng, &mut out);
            diff += out.iter().zip(read.codes()).filter(|(a, b)| a != b).count();
        }
        let rate = diff as f64 / (200.0 * 300.0);
        assert!((0.008..0.012).contains(&rate), "{rate}");
    }

    #[test]
    fn frame_follows_an_indel_before_the_first_codon() {
        // Sense read, frame 1: the first full codon starts at 1.
        let read = DnaSeq::from_ascii(&b"ACGTTGCAAC".repeat(10)).unwrap();
        let p = ErrorProfile {
            name: "t".into(),
            version: 1,
            substitution: 0.0,
            substitution_3prime: 0.0,
            insertion: 0.3,
            deletion: 0.0,
            homopolymer: 0.0,
            deamination: 0.0,
            deamination_decay: 0.5,
        };
        let mut out = Vec::new();
        for seed in 0..50 {
            let mut rng = Rng::new(seed);
            let l = ReadLabel::Class(ReadClass::Coding(Strand::Plus, Frame::new(1).unwrap()));
            let ReadLabel::Class(ReadClass::Coding(_, f)) =
                p.apply(read.codes(), l, &mut rng, &mut out)
            else {
                panic!()
            };
            // The original codon at 1 now starts after base 0 and at most one
            // inserted base, at the new frame offset.
            let f = f.offset() as usize;
            assert!(f == 1 || f == 2, "seed {seed}: {f}");
            assert_eq!(out[f], read.codes()[1], "seed {seed}");
        }
    }

    #[test]
    fn minus_strand_frames_are_tracked_from_the_sense_start() {
        // A minus read: its sense start is the read's end, where the frame is kept
        // unless an indel falls before the first codon.
        let sense = DnaSeq::from_ascii(&b"ATGGCTAAACGT".repeat(10)).unwrap();
        let read = sense.reverse_complement();
        let p = ErrorProfile::named("mixed4").unwrap();
        let mut out = Vec::new();
        for seed in 0..100 {
            let mut rng = Rng::new(seed);
            let l = ReadLabel::Class(ReadClass::Coding(Strand::Minus, Frame::new(0).unwrap()));
            let ReadLabel::Class(ReadClass::Coding(s, f)) =
                p.apply(read.codes(), l, &mut rng, &mut out)
            else {
                panic!()
            };
            assert_eq!(s, Strand::Minus);
            // With no indel in the first few sense bases the frame stays 0; the sense
            // read then starts with ATG (or a substituted copy).
            let s2 = revcomp(&out);
            if s2.len() >= 6 && s2[..6] == sense.codes()[..6] {
                assert_eq!(f.offset(), 0, "seed {seed}");
            }
        }
    }
}
