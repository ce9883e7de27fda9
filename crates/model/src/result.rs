//! One read's result as every output shows it: the CLI's TSV and JSON Lines, the HTTP
//! API's `results` and the server's input log all build a [`ReadResult`] from a
//! [`Prediction`] and serialise it with serde, so the words, the rounding and the
//! field names cannot drift apart.
//!
//! Fields are declared in alphabetical order, the order `cdspred predict --format
//! jsonl` has always written them in.

use std::str::FromStr;

use cdspred_core::{Frame, GeneticCode, Strand};
use serde::{Deserialize, Serialize};

use crate::predict::{Call, Frameshift, Prediction, ShiftKind};

/// Probabilities in outputs are rounded to 4 decimals, once, here.
pub fn round4(v: f32) -> f64 {
    (v as f64 * 1e4).round() / 1e4
}

/// Writes a probability rounded by [`round4`] with exactly 4 decimals, as
/// `format!("{:.4}", round4(v))` would, from the integer count of 1e-4 steps instead
/// of the general float formatter (it is on the hot path of `cdspred predict`).
fn write_fixed4(out: &mut String, v: f32) {
    use std::fmt::Write as _;
    let k = (v as f64 * 1e4).round();
    if (0.0..=1e4).contains(&k) {
        let k = k as u32;
        let _ = write!(out, "{}.{:04}", k / 10_000, k % 10_000);
    } else {
        let _ = write!(out, "{:.4}", round4(v));
    }
}

/// The strand of a read's best hypothesis: `+`, `-`, or `.` when there is none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub enum ReadStrand {
    /// The read as given is the coding strand.
    #[serde(rename = "+")]
    Plus,
    /// Its reverse complement is.
    #[serde(rename = "-")]
    Minus,
    /// Not scored (too short).
    #[serde(rename = ".")]
    None,
}

/// The frame of a read's best hypothesis: `0`, `1`, `2`, or `.` when there is none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub enum ReadFrame {
    /// The first full codon starts at the first base of the coding strand.
    #[serde(rename = "0")]
    Zero,
    /// … at the second.
    #[serde(rename = "1")]
    One,
    /// … at the third.
    #[serde(rename = "2")]
    Two,
    /// Not scored (too short).
    #[serde(rename = ".")]
    None,
}

/// A word in an output that is not one of its type's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} {got:?} is not one of {allowed}")]
pub struct BadWord {
    /// Which field.
    pub what: &'static str,
    /// The text found.
    pub got: String,
    /// The words allowed.
    pub allowed: &'static str,
}

macro_rules! words {
    ($t:ty, $what:literal, $($v:path => $w:literal),+) => {
        impl $t {
            /// The word used in outputs.
            pub fn as_str(self) -> &'static str {
                match self { $($v => $w),+ }
            }
        }
        impl FromStr for $t {
            type Err = BadWord;
            fn from_str(s: &str) -> Result<$t, BadWord> {
                match s {
                    $($w => Ok($v),)+
                    _ => Err(BadWord {
                        what: $what,
                        got: s.to_string(),
                        allowed: concat!($($w, " "),+),
                    }),
                }
            }
        }
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

words!(ReadStrand, "strand", ReadStrand::Plus => "+", ReadStrand::Minus => "-", ReadStrand::None => ".");
words!(ReadFrame, "frame", ReadFrame::Zero => "0", ReadFrame::One => "1", ReadFrame::Two => "2", ReadFrame::None => ".");
words!(Call, "call", Call::Coding => "coding", Call::NonCoding => "noncoding", Call::TooShort => "too_short");
words!(ShiftKind, "frameshift kind", ShiftKind::Insertion => "ins", ShiftKind::Deletion => "del");

impl From<Option<Strand>> for ReadStrand {
    fn from(s: Option<Strand>) -> ReadStrand {
        match s {
            Some(Strand::Plus) => ReadStrand::Plus,
            Some(Strand::Minus) => ReadStrand::Minus,
            None => ReadStrand::None,
        }
    }
}

impl From<Option<Frame>> for ReadFrame {
    fn from(f: Option<Frame>) -> ReadFrame {
        match f.map(Frame::offset) {
            Some(0) => ReadFrame::Zero,
            Some(1) => ReadFrame::One,
            Some(_) => ReadFrame::Two,
            None => ReadFrame::None,
        }
    }
}

/// One read's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct ReadResult {
    /// `coding`, `noncoding` or `too_short`.
    pub call: Call,
    /// P(read lies in a coding gene), 4 decimals; null for too-short reads.
    pub coding_prob: Option<f64>,
    /// Frame of the best hypothesis.
    pub frame: ReadFrame,
    /// Frame shifts on the path of the reported strand and frame (reads scored whole).
    pub frameshifts: Vec<Frameshift>,
    /// Read id.
    pub id: String,
    /// Length in nt.
    pub length: usize,
    /// Translation along the coding frame path, frameshift-corrected (coding reads
    /// only).
    pub protein: Option<String>,
    /// P(read as given is the coding strand), 4 decimals; null for too-short reads.
    pub sense_prob: Option<f64>,
    /// Strand of the best hypothesis.
    pub strand: ReadStrand,
}

impl ReadResult {
    /// The result of `p` for the read `id` with bases `codes`, translated with `code`.
    pub fn new(id: String, codes: &[u8], p: &Prediction, code: &GeneticCode) -> ReadResult {
        let scored = p.call != Call::TooShort;
        ReadResult {
            call: p.call,
            coding_prob: scored.then_some(round4(p.coding_prob)),
            frame: p.best.map(|b| b.1).into(),
            frameshifts: p.frameshifts.clone(),
            id,
            length: p.length,
            protein: p.protein(codes, code),
            sense_prob: scored.then_some(round4(p.sense_prob)),
            strand: p.best.map(|b| b.0).into(),
        }
    }

    /// Appends the TSV row of `p` for the read `id` (columns as in
    /// [`ReadResult::TSV_HEADER`], with its line end) without building the whole result:
    /// the same words and rounding, no protein.
    pub fn write_tsv(out: &mut String, id: &str, p: &Prediction) {
        use std::fmt::Write as _;
        let scored = p.call != Call::TooShort;
        let _ = write!(out, "{id}\t{}\t", p.length);
        for v in [p.coding_prob, p.sense_prob] {
            if scored {
                write_fixed4(out, v);
            } else {
                out.push_str("NaN");
            }
            out.push('\t');
        }
        let _ = write!(
            out,
            "{}\t{}\t{}\t",
            ReadStrand::from(p.best.map(|b| b.0)),
            ReadFrame::from(p.best.map(|b| b.1)),
            p.call,
        );
        if scored {
            let _ = writeln!(out, "{}", p.frameshifts.len());
        } else {
            out.push_str(".\n");
        }
    }

    /// The TSV header line (without its line end).
    pub const TSV_HEADER: &'static str =
        "id\tlength\tcoding_prob\tsense_prob\tstrand\tframe\tcall\tframeshifts";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip_and_unknown_ones_are_errors() {
        for s in [ReadStrand::Plus, ReadStrand::Minus, ReadStrand::None] {
            assert_eq!(s.as_str().parse::<ReadStrand>(), Ok(s));
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{s}\""));
        }
        for f in [
            ReadFrame::Zero,
            ReadFrame::One,
            ReadFrame::Two,
            ReadFrame::None,
        ] {
            assert_eq!(f.as_str().parse::<ReadFrame>(), Ok(f));
        }
        for k in [ShiftKind::Insertion, ShiftKind::Deletion] {
            assert_eq!(k.as_str().parse::<ShiftKind>(), Ok(k));
            assert_eq!(serde_json::to_string(&k).unwrap(), format!("\"{k}\""));
        }
        for c in [Call::Coding, Call::NonCoding, Call::TooShort] {
            assert_eq!(c.as_str().parse::<Call>(), Ok(c));
            assert_eq!(serde_json::to_string(&c).unwrap(), format!("\"{c}\""));
        }
        let e = "maybe".parse::<Call>().unwrap_err().to_string();
        assert!(e.contains("call \"maybe\""), "{e}");
        assert_eq!(ReadFrame::from(Frame::new(2)), ReadFrame::Two);
    }

    #[test]
    fn fixed_point_writing_matches_the_float_formatter() {
        let mut i = 0u32;
        while i <= 1_000_000 {
            let v = i as f32 / 1e6;
            let mut s = String::new();
            write_fixed4(&mut s, v);
            assert_eq!(s, format!("{:.4}", round4(v)), "{i}");
            i += 7;
        }
    }

    #[test]
    fn probabilities_are_rounded_once() {
        assert_eq!(round4(0.123_456), 0.1235);
        assert_eq!(round4(1.0), 1.0);
        assert_eq!(format!("{:.4}", round4(0.99996)), "1.0000");
        assert_eq!(round4(0.99994), 0.9999);
    }
}
