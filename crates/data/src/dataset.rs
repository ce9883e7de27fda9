//! The compact dataset file.
//!
//! Layout: the magic line `CDSPRED-DATASET 1\n`, then a gzip stream of records
//! `[label u8][table u8][source u16 LE][length u16 LE][length base codes]`.
//! Labels 0–6 are [`ReadClass`] indices; 7 and 8 are sense-only labels (the seed's
//! CSVs: 7 = the read as given is the coding strand, 8 = it is not).

use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

use cdspred_core::dna::Base;
use cdspred_core::{ReadClass, TableId};

const MAGIC: &[u8] = b"CDSPRED-DATASET 1\n";

/// What is known about a read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadLabel {
    /// Full label: non-coding or strand and frame.
    Class(ReadClass),
    /// Only whether the read as given is the coding strand.
    Sense(bool),
}

impl ReadLabel {
    /// The byte stored in files.
    pub fn to_byte(self) -> u8 {
        match self {
            ReadLabel::Class(c) => c.index() as u8,
            ReadLabel::Sense(true) => 7,
            ReadLabel::Sense(false) => 8,
        }
    }
    /// Inverse of [`ReadLabel::to_byte`].
    pub fn from_byte(b: u8) -> Option<ReadLabel> {
        match b {
            0..=6 => ReadClass::from_index(b as usize).map(ReadLabel::Class),
            7 => Some(ReadLabel::Sense(true)),
            8 => Some(ReadLabel::Sense(false)),
            _ => None,
        }
    }
    /// Whether the read lies in a gene (unknown for sense-only negatives).
    pub fn is_coding(self) -> Option<bool> {
        match self {
            ReadLabel::Class(c) => Some(c != ReadClass::NonCoding),
            ReadLabel::Sense(true) => Some(true),
            ReadLabel::Sense(false) => None,
        }
    }
}

/// One read's metadata; its bases live in [`Dataset::codes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// Offset of the first base in the dataset's code buffer.
    pub offset: u64,
    /// Length in nt.
    pub len: u16,
    /// The label.
    pub label: ReadLabel,
    /// NCBI genetic code.
    pub table: TableId,
    /// Index of the source (recipe order).
    pub source: u16,
}

/// Reads with labels, all bases in one buffer.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    /// All bases.
    pub codes: Vec<Base>,
    /// The reads.
    pub samples: Vec<Sample>,
}

/// A dataset file that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {msg}")]
pub struct DatasetError {
    /// The file.
    pub file: String,
    /// What is wrong.
    pub msg: String,
}

impl Dataset {
    /// Adds a read.
    pub fn push(&mut self, codes: &[Base], label: ReadLabel, table: TableId, source: u16) {
        let offset = self.codes.len() as u64;
        self.codes.extend_from_slice(codes);
        self.samples.push(Sample {
            offset,
            len: codes.len() as u16,
            label,
            table,
            source,
        });
    }

    /// The bases of a read.
    pub fn read(&self, s: &Sample) -> &[Base] {
        &self.codes[s.offset as usize..s.offset as usize + s.len as usize]
    }

    /// Appends all reads of another dataset.
    pub fn extend(&mut self, other: &Dataset) {
        for s in &other.samples {
            self.push(other.read(s), s.label, s.table, s.source);
        }
    }

    /// Writes the dataset file.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let mut f = BufWriter::new(std::fs::File::create(path)?);
        f.write_all(MAGIC)?;
        let mut gz = flate2::write::GzEncoder::new(f, flate2::Compression::new(6));
        for s in &self.samples {
            gz.write_all(&[s.label.to_byte(), s.table.get() as u8])?;
            gz.write_all(&s.source.to_le_bytes())?;
            gz.write_all(&s.len.to_le_bytes())?;
            gz.write_all(self.read(s))?;
        }
        gz.finish()?.flush()
    }

    /// Reads a dataset file.
    pub fn load(path: &Path) -> Result<Dataset, DatasetError> {
        let err = |msg: String| DatasetError {
            file: path.display().to_string(),
            msg,
        };
        let f = std::fs::File::open(path).map_err(|e| err(e.to_string()))?;
        let mut r = BufReader::new(f);
        let mut magic = vec![0u8; MAGIC.len()];
        r.read_exact(&mut magic)
            .map_err(|_| err("not a cds-predictor dataset (too short)".into()))?;
        if magic != MAGIC {
            return Err(err("not a cds-predictor dataset (bad magic line)".into()));
        }
        let mut raw = Vec::new();
        flate2::read::GzDecoder::new(r)
            .read_to_end(&mut raw)
            .map_err(|e| err(format!("corrupt data: {e}")))?;
        let mut ds = Dataset::default();
        let mut p = 0usize;
        let mut n = 0usize;
        while p < raw.len() {
            n += 1;
            if p + 6 > raw.len() {
                return Err(err(format!("record {n} is truncated")));
            }
            let label = ReadLabel::from_byte(raw[p])
                .ok_or_else(|| err(format!("record {n}: bad label {}", raw[p])))?;
            let table =
                TableId::new(raw[p + 1] as u32).map_err(|e| err(format!("record {n}: {e}")))?;
            let source = u16::from_le_bytes([raw[p + 2], raw[p + 3]]);
            let len = u16::from_le_bytes([raw[p + 4], raw[p + 5]]) as usize;
            p += 6;
            let Some(codes) = raw.get(p..p + len) else {
                return Err(err(format!("record {n} is truncated")));
            };
            if codes.iter().any(|&b| b > 4) {
                return Err(err(format!("record {n}: invalid base code")));
            }
            ds.push(codes, label, table, source);
            p += len;
        }
        Ok(ds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_with(record: &[u8], name: &str) -> std::path::PathBuf {
        let p = std::env::temp_dir().join(format!("cdspred-ds-{}-{name}", std::process::id()));
        let mut f = std::fs::File::create(&p).unwrap();
        f.write_all(MAGIC).unwrap();
        let mut gz = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
        gz.write_all(record).unwrap();
        gz.finish().unwrap();
        p
    }

    #[test]
    fn tables_round_trip_and_an_unknown_one_is_an_error() {
        let mut ds = Dataset::default();
        ds.push(&[0, 1, 2, 3], ReadLabel::Sense(true), TableId::known(4), 3);
        let p = std::env::temp_dir().join(format!("cdspred-ds-{}-ok", std::process::id()));
        ds.write(&p).unwrap();
        assert_eq!(Dataset::load(&p).unwrap().samples, ds.samples);
        std::fs::remove_file(&p).unwrap();
        // The same record with table 7, which NCBI does not define.
        let label = ReadLabel::Sense(true).to_byte();
        let p = file_with(&[label, 7, 3, 0, 4, 0, 0, 1, 2, 3], "bad");
        let e = Dataset::load(&p).unwrap_err().to_string();
        std::fs::remove_file(&p).unwrap();
        assert!(e.contains("record 1: unknown genetic code 7"), "{e}");
    }
}
