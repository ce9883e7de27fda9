//! The original project's CSV fragment sets (`nt_seq,label[,id,seq_desc]`).
//!
//! Label 1 means the fragment as given is the coding strand; 0 mixes antisense copies,
//! intergenic DNA and windows overlapping genes. So a seed fragment carries a
//! sense-only label ([`ReadLabel::Sense`]).

use std::io::BufRead;
use std::path::Path;

use cdspred_core::{DnaSeq, TableId};

use crate::dataset::{Dataset, ReadLabel};
use crate::genome::{open_text, GenomeError};

/// Reads a seed CSV (plain or gzip) into a dataset with sense-only labels.
pub fn read_seed_csv(path: &Path, table: TableId, source: u16) -> Result<Dataset, GenomeError> {
    let file = path.display().to_string();
    let perr = |line: usize, msg: String| GenomeError::Parse {
        file: file.clone(),
        line,
        msg,
    };
    let mut ds = Dataset::default();
    let mut cols: Option<(usize, usize)> = None;
    for (i, line) in open_text(path)?.lines().enumerate() {
        let line = line.map_err(|e| GenomeError::Io {
            file: file.clone(),
            msg: e.to_string(),
        })?;
        let line = line.trim_end_matches('\r');
        let f: Vec<&str> = line.split(',').collect();
        let Some((sc, lc)) = cols else {
            let find = |n: &str| f.iter().position(|c| *c == n);
            match (find("nt_seq"), find("label")) {
                (Some(s), Some(l)) => cols = Some((s, l)),
                _ => {
                    return Err(perr(
                        i + 1,
                        "header must name the columns nt_seq and label".into(),
                    ))
                }
            }
            continue;
        };
        if line.is_empty() {
            continue;
        }
        let (Some(seq), Some(label)) = (f.get(sc), f.get(lc)) else {
            return Err(perr(
                i + 1,
                format!("expected at least {} columns", sc.max(lc) + 1),
            ));
        };
        let seq =
            DnaSeq::from_ascii(seq.as_bytes()).map_err(|e| perr(i + 1, format!("nt_seq: {e}")))?;
        let label = match *label {
            "1" => ReadLabel::Sense(true),
            "0" => ReadLabel::Sense(false),
            l => return Err(perr(i + 1, format!("label {l:?} is not 0 or 1"))),
        };
        if seq.is_empty() || seq.len() > u16::MAX as usize {
            return Err(perr(
                i + 1,
                format!("sequence length {} out of range", seq.len()),
            ));
        }
        ds.push(seq.codes(), label, table, source);
    }
    if cols.is_none() {
        return Err(GenomeError::Empty { file });
    }
    Ok(ds)
}
