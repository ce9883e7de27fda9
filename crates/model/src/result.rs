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

use crate::predict::{Call, Frameshift, Prediction, Segment, ShiftKind};

/// Probabilities in outputs are rounded to 4 decimals, once, here.
pub fn round4(v: f32) -> f64 {
    (v as f64 * 1e4).round() / 1e4
}

/// A probability as outputs print it (4 decimals), for comparing with a threshold:
/// a read is called coding when its *printed* coding_prob reaches the (printed)
/// threshold, so a TSV row never shows `0.5000` beside `noncoding`, and the project's
/// scorer, which reads the printed values, counts the same calls.
pub fn printed(v: f32) -> f32 {
    round4(v) as f32
}

/// `printed(p) >= printed(threshold)`.
pub fn reaches(p: f32, threshold: f32) -> bool {
    printed(p) >= printed(threshold)
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
/// In JSON it is the number 0, 1 or 2, or `null` (the words `"0"`…`"."` of earlier
/// versions are still read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadFrame {
    /// The first full codon starts at the first base of the coding strand.
    Zero,
    /// … at the second.
    One,
    /// … at the third.
    Two,
    /// Not scored (too short).
    None,
}

impl ReadFrame {
    /// The offset, or `None` when not scored.
    pub fn offset(self) -> Option<u8> {
        match self {
            ReadFrame::Zero => Some(0),
            ReadFrame::One => Some(1),
            ReadFrame::Two => Some(2),
            ReadFrame::None => None,
        }
    }
}

impl Serialize for ReadFrame {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.offset().serialize(s)
    }
}

impl<'de> Deserialize<'de> for ReadFrame {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<ReadFrame, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Number(Option<u8>),
            Word(String),
        }
        match Either::deserialize(d)? {
            Either::Number(None) => Ok(ReadFrame::None),
            Either::Number(Some(n)) => n.to_string().parse(),
            Either::Word(w) => w.parse(),
        }
        .map_err(serde::de::Error::custom)
    }
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
    /// The IDs of the read's features (its coding segments), `{seqid}_{start}_{end}_{strand}`:
    /// the same IDs as the GFF3 `ID`s and the first words of the faa/ffn headers.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schema(required = true))]
    pub features: Vec<String>,
    /// Frame of the best hypothesis: 0, 1, 2, or null when not scored.
    #[cfg_attr(
        feature = "schema",
        schema(value_type = Option<u8>, required = true, minimum = 0, maximum = 2)
    )]
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
    /// The result of `p` for the read `id` with bases `codes`, translated with `code`;
    /// its feature IDs are built on `seqid` (the read id made unique, see
    /// [`SeqNames`]).
    pub fn new(
        id: String,
        seqid: &str,
        codes: &[u8],
        p: &Prediction,
        code: &GeneticCode,
    ) -> ReadResult {
        let scored = p.call != Call::TooShort;
        ReadResult {
            call: p.call,
            coding_prob: scored.then_some(round4(p.coding_prob)),
            features: p.segments.iter().map(|s| feature_id(seqid, s)).collect(),
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
    /// the same words and rounding, no protein; feature IDs are built on `seqid`.
    pub fn write_tsv(out: &mut String, id: &str, seqid: &str, p: &Prediction) {
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
            let _ = write!(out, "{}\t", p.frameshifts.len());
        } else {
            out.push_str(".\t");
        }
        if p.segments.is_empty() {
            out.push('.');
        }
        for (k, s) in p.segments.iter().enumerate() {
            if k > 0 {
                out.push(',');
            }
            write_feature_id(out, seqid, s);
        }
        out.push('\n');
    }

    /// The TSV header line (without its line end).
    pub const TSV_HEADER: &'static str =
        "id\tlength\tcoding_prob\tsense_prob\tstrand\tframe\tcall\tframeshifts\tfeatures";
}

/// The ID of a feature — a coding segment of a sequence, which the GFF3 `ID`, the first
/// word of the faa/ffn header and the TSV/JSONL `features` all carry:
/// `{seqid}_{start}_{end}_{strand}`, 1-based inclusive coordinates on the sequence as
/// given, strand `+` or `-`. Unique as long as `seqid` is (see [`SeqNames`]).
pub fn feature_id(seqid: &str, s: &Segment) -> String {
    let mut out = String::with_capacity(seqid.len() + 16);
    write_feature_id(&mut out, seqid, s);
    out
}

fn write_feature_id(out: &mut String, seqid: &str, s: &Segment) {
    use std::fmt::Write as _;
    let _ = write!(
        out,
        "{seqid}_{}_{}_{}",
        s.start + 1,
        s.end,
        s.strand.symbol()
    );
}

/// Makes sequence names unique, in input order: a name seen before becomes
/// `name.2`, `name.3`, … (the first of those not used yet), so feature IDs stay unique
/// when reads share a name (paired R1/R2 files with Casava names do). Remembers a
/// 64-bit hash of every name (about 16 bytes a read).
#[derive(Debug, Default)]
pub struct SeqNames {
    seen: std::collections::HashSet<u64, BuildIdentity>,
    next: std::collections::HashMap<u64, u32, BuildIdentity>,
    duplicates: u64,
}

type BuildIdentity = std::hash::BuildHasherDefault<IdentityHasher>;

/// Hashes a `u64` that already is a hash to itself.
#[derive(Debug, Default)]
struct IdentityHasher(u64);

impl std::hash::Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | b as u64;
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

/// A fixed-key hash of a name (the same in every run).
fn name_hash(name: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    name.hash(&mut h);
    h.finish()
}

impl SeqNames {
    /// The unique name for the next sequence called `name`.
    pub fn unique<'a>(&mut self, name: &'a str) -> std::borrow::Cow<'a, str> {
        let h = name_hash(name);
        if self.seen.insert(h) {
            return std::borrow::Cow::Borrowed(name);
        }
        self.duplicates += 1;
        let k = self.next.entry(h).or_insert(1);
        loop {
            *k += 1;
            let candidate = format!("{name}.{k}");
            if self.seen.insert(name_hash(&candidate)) {
                return std::borrow::Cow::Owned(candidate);
            }
        }
    }

    /// How many names were renamed because they had been seen before.
    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }
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
    fn frames_are_numbers_in_json_and_old_words_still_read() {
        for (f, json) in [
            (ReadFrame::Zero, "0"),
            (ReadFrame::One, "1"),
            (ReadFrame::Two, "2"),
            (ReadFrame::None, "null"),
        ] {
            assert_eq!(serde_json::to_string(&f).unwrap(), json);
            assert_eq!(serde_json::from_str::<ReadFrame>(json).unwrap(), f);
            let word = format!("\"{}\"", f.as_str());
            assert_eq!(serde_json::from_str::<ReadFrame>(&word).unwrap(), f);
        }
        assert!(serde_json::from_str::<ReadFrame>("3").is_err());
        assert!(serde_json::from_str::<ReadFrame>("\"x\"").is_err());
    }

    #[test]
    fn repeated_names_get_unused_suffixes() {
        let mut n = SeqNames::default();
        let got: Vec<String> = ["a", "b", "a", "a.2", "a", "b"]
            .iter()
            .map(|x| n.unique(x).into_owned())
            .collect();
        assert_eq!(got, ["a", "b", "a.2", "a.2.2", "a.3", "b.2"]);
        assert_eq!(n.duplicates(), 4);
    }

    #[test]
    fn feature_ids_name_sequence_coordinates_and_strand() {
        let s = Segment {
            start: 9,
            end: 300,
            strand: Strand::Minus,
            frame: Frame::new(1).unwrap(),
            coding_prob: 0.9,
            path: Vec::new(),
            gene: None,
        };
        assert_eq!(feature_id("contig;x", &s), "contig;x_10_300_-");
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
