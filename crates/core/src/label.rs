//! What a read is: non-coding, or coding on a strand in a frame.
//!
//! Convention (shared with `shared/data/eval/*.tsv.gz`): [`Strand::Plus`] means the read
//! as given is the coding (sense) strand, [`Strand::Minus`] that its reverse complement is.
//! The [`Frame`] is the offset (0, 1, 2) of the first full codon in the sense-oriented read.

use std::fmt;

/// Which strand of the read is the coding strand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Strand {
    /// The read as given is the sense strand.
    Plus,
    /// The reverse complement of the read is the sense strand.
    Minus,
}

impl Strand {
    /// The other strand.
    pub fn flip(self) -> Strand {
        match self {
            Strand::Plus => Strand::Minus,
            Strand::Minus => Strand::Plus,
        }
    }
    /// `+` or `-`.
    pub fn symbol(self) -> char {
        match self {
            Strand::Plus => '+',
            Strand::Minus => '-',
        }
    }
}

/// Offset of the first full codon in the sense-oriented read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Frame(u8);

impl Frame {
    /// A frame from 0, 1 or 2.
    pub fn new(offset: u8) -> Option<Frame> {
        (offset < 3).then_some(Frame(offset))
    }
    /// The offset, 0..=2.
    pub fn offset(self) -> u8 {
        self.0
    }
}

impl fmt::Display for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The seven classes the model tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReadClass {
    /// Touches no coding sequence.
    NonCoding,
    /// Wholly inside a CDS.
    Coding(Strand, Frame),
}

impl ReadClass {
    /// Number of classes.
    pub const COUNT: usize = 7;

    /// Class index: 0 non-coding, 1–3 `+0..+2`, 4–6 `-0..-2`.
    pub fn index(self) -> usize {
        match self {
            ReadClass::NonCoding => 0,
            ReadClass::Coding(Strand::Plus, f) => 1 + f.offset() as usize,
            ReadClass::Coding(Strand::Minus, f) => 4 + f.offset() as usize,
        }
    }

    /// Inverse of [`ReadClass::index`].
    pub fn from_index(i: usize) -> Option<ReadClass> {
        match i {
            0 => Some(ReadClass::NonCoding),
            1..=3 => Some(ReadClass::Coding(Strand::Plus, Frame(i as u8 - 1))),
            4..=6 => Some(ReadClass::Coding(Strand::Minus, Frame(i as u8 - 4))),
            _ => None,
        }
    }

    /// The class of the reverse complement of a read of length `len` with this class.
    ///
    /// A sense-oriented read is the same sequence whichever way the read was given, so
    /// only the strand flips; the frame is unchanged.
    pub fn mirrored(self) -> ReadClass {
        match self {
            ReadClass::NonCoding => ReadClass::NonCoding,
            ReadClass::Coding(s, f) => ReadClass::Coding(s.flip(), f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_round_trips() {
        for i in 0..ReadClass::COUNT {
            assert_eq!(ReadClass::from_index(i).unwrap().index(), i);
            assert_eq!(
                ReadClass::from_index(i)
                    .unwrap()
                    .mirrored()
                    .mirrored()
                    .index(),
                i
            );
        }
        assert!(ReadClass::from_index(7).is_none());
        assert!(Frame::new(3).is_none());
    }
}
