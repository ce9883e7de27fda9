//! Validated DNA sequences.
//!
//! Bases are stored as small codes: A=0, C=1, G=2, T=3 and N=4 (any IUPAC ambiguity code
//! is read as N). The complement of code `b < 4` is `3 - b`, which keeps reverse
//! complementing branch-free.

use std::fmt;

/// One base code (0..=4). `N` is 4.
pub type Base = u8;
/// The code for an unknown base.
pub const N: Base = 4;

/// Why a byte could not be read as a base.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid base {byte:?} at position {position}")]
pub struct InvalidBase {
    /// 1-based position in the sequence.
    pub position: usize,
    /// The offending character.
    pub byte: char,
}

/// Lookup from an ASCII byte to a base code; 255 marks bytes that are not nucleotides.
const fn build_table() -> [u8; 256] {
    let mut t = [255u8; 256];
    let pairs: [(u8, u8); 4] = [(b'A', 0), (b'C', 1), (b'G', 2), (b'T', 3)];
    let mut i = 0;
    while i < 4 {
        t[pairs[i].0 as usize] = pairs[i].1;
        t[pairs[i].0.to_ascii_lowercase() as usize] = pairs[i].1;
        i += 1;
    }
    t[b'U' as usize] = 3;
    t[b'u' as usize] = 3;
    // IUPAC ambiguity codes (and N itself) are read as N.
    let amb = b"NRYKMSWBDHVnrykmswbdhv";
    let mut j = 0;
    while j < amb.len() {
        t[amb[j] as usize] = N;
        j += 1;
    }
    t
}
static BASE_OF: [u8; 256] = build_table();

/// Converts one ASCII byte to a base code, or `None` when it is not a nucleotide letter.
#[inline]
pub fn base_of(byte: u8) -> Option<Base> {
    let b = BASE_OF[byte as usize];
    (b != 255).then_some(b)
}

/// A DNA sequence whose every element is a valid base code.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct DnaSeq {
    codes: Vec<Base>,
}

impl DnaSeq {
    /// Parses ASCII nucleotides (any case; U as T; IUPAC codes as N).
    pub fn from_ascii(bytes: &[u8]) -> Result<Self, InvalidBase> {
        let mut codes = Vec::with_capacity(bytes.len());
        Self::extend_ascii(&mut codes, bytes, 0)?;
        Ok(DnaSeq { codes })
    }

    /// Appends parsed ASCII to `codes`; `offset` is added to reported positions.
    pub fn extend_ascii(
        codes: &mut Vec<Base>,
        bytes: &[u8],
        offset: usize,
    ) -> Result<(), InvalidBase> {
        codes.reserve(bytes.len());
        for (i, &c) in bytes.iter().enumerate() {
            match base_of(c) {
                Some(b) => codes.push(b),
                None => {
                    return Err(InvalidBase {
                        position: offset + i + 1,
                        byte: c as char,
                    });
                }
            }
        }
        Ok(())
    }

    /// Wraps codes that are already known to be valid (each ≤ 4).
    pub fn from_codes(codes: Vec<Base>) -> Option<Self> {
        codes.iter().all(|&b| b <= N).then_some(DnaSeq { codes })
    }

    /// The base codes.
    pub fn codes(&self) -> &[Base] {
        &self.codes
    }

    /// Number of bases.
    pub fn len(&self) -> usize {
        self.codes.len()
    }

    /// True for the empty sequence.
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// The reverse complement.
    pub fn reverse_complement(&self) -> DnaSeq {
        DnaSeq {
            codes: revcomp_codes(&self.codes),
        }
    }

    /// A sub-sequence `[start, end)`.
    pub fn slice(&self, start: usize, end: usize) -> DnaSeq {
        DnaSeq {
            codes: self.codes[start..end].to_vec(),
        }
    }

    /// Share of G and C among the called (non-N) bases; 0 when none is called.
    pub fn gc(&self) -> f64 {
        gc_fraction(&self.codes)
    }

    /// Upper-case ASCII text.
    pub fn to_ascii(&self) -> String {
        codes_to_ascii(&self.codes)
    }
}

/// Reverse complement of base codes (N stays N).
pub fn revcomp_codes(codes: &[Base]) -> Vec<Base> {
    let mut out = Vec::with_capacity(codes.len());
    revcomp_into(codes, &mut out);
    out
}

/// `out` := the reverse complement of `codes` (N stays N), reusing its allocation.
pub fn revcomp_into(codes: &[Base], out: &mut Vec<Base>) {
    out.clear();
    out.extend(codes.iter().rev().map(|&b| if b < 4 { 3 - b } else { N }));
}

/// Share of G and C among called bases.
pub fn gc_fraction(codes: &[Base]) -> f64 {
    let (mut gc, mut called) = (0usize, 0usize);
    for &b in codes {
        if b < 4 {
            called += 1;
            if b == 1 || b == 2 {
                gc += 1;
            }
        }
    }
    if called == 0 {
        0.0
    } else {
        gc as f64 / called as f64
    }
}

/// Base codes as upper-case ASCII.
pub fn codes_to_ascii(codes: &[Base]) -> String {
    codes
        .iter()
        .map(|&b| b"ACGTN"[b.min(4) as usize] as char)
        .collect()
}

impl fmt::Debug for DnaSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DnaSeq({})", self.to_ascii())
    }
}

impl fmt::Display for DnaSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_ascii())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_case_iupac_and_rejects_others() {
        let s = DnaSeq::from_ascii(b"acgTNRy").unwrap();
        assert_eq!(s.codes(), &[0, 1, 2, 3, 4, 4, 4]);
        assert_eq!(
            DnaSeq::from_ascii(b"ACX").unwrap_err(),
            InvalidBase {
                position: 3,
                byte: 'X'
            }
        );
        assert_eq!(DnaSeq::from_ascii(b"AC-").unwrap_err().position, 3);
    }

    #[test]
    fn reverse_complement_example() {
        let s = DnaSeq::from_ascii(b"AACGTN").unwrap();
        assert_eq!(s.reverse_complement().to_ascii(), "NACGTT");
        assert!((DnaSeq::from_ascii(b"GCAT").unwrap().gc() - 0.5).abs() < 1e-12);
    }

    proptest! {
        #[test]
        fn reverse_complement_is_an_involution(s in "[ACGTN]{0,400}") {
            let d = DnaSeq::from_ascii(s.as_bytes()).unwrap();
            prop_assert_eq!(d.reverse_complement().reverse_complement(), d.clone());
            prop_assert_eq!(d.to_ascii(), s);
        }
    }
}
