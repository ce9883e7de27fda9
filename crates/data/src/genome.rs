//! Annotated genomes and their readers.
//!
//! Coordinates are 0-based, end-exclusive. A [`Cds`] is *complete* when it is neither
//! partial (`<`/`>` in GenBank, `partial=` other than `00` in GFF), pseudo, joined nor
//! of a length that is not a multiple of 3; only complete CDSs give coding reads, but
//! every CDS, pseudogene and RNA gene keeps non-coding reads away from it.

use std::io::BufRead;
use std::path::Path;

use cdspred_core::fastx::{open_path, DynRead, FastxError, FastxReader, Record};
use cdspred_core::{DnaSeq, Strand};

/// A protein-coding feature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cds {
    /// First base (0-based).
    pub start: usize,
    /// One past the last base.
    pub end: usize,
    /// Strand of the gene on the contig.
    pub strand: Strand,
    /// Usable for coding reads.
    pub complete: bool,
}

/// One sequence with its annotation.
#[derive(Debug, Clone, Default)]
pub struct Contig {
    /// Record identifier.
    pub id: String,
    /// The sequence.
    pub seq: DnaSeq,
    /// Protein-coding features.
    pub cds: Vec<Cds>,
    /// Other genes (pseudogenes, RNA genes) that non-coding reads must not touch.
    pub blocked: Vec<(usize, usize)>,
}

/// An annotated genome (one file or file pair).
#[derive(Debug, Clone, Default)]
pub struct Genome {
    /// Its contigs.
    pub contigs: Vec<Contig>,
    /// Features skipped, with the reason (e.g. CDS beyond the sequence end).
    pub skipped: Vec<String>,
}

impl Genome {
    /// Contigs with their sequences and no features yet.
    pub fn unannotated(seqs: Vec<(String, DnaSeq)>) -> Genome {
        let contigs = seqs
            .into_iter()
            .map(|(id, seq)| Contig {
                id,
                seq,
                ..Default::default()
            })
            .collect();
        Genome {
            contigs,
            skipped: Vec::new(),
        }
    }
}

/// Why a genome could not be read.
#[derive(Debug, thiserror::Error)]
pub enum GenomeError {
    /// Reading failed.
    #[error("{file}: {msg}")]
    Io {
        /// The file.
        file: String,
        /// What went wrong.
        msg: String,
    },
    /// A line could not be parsed.
    #[error("{file}: line {line}: {msg}")]
    Parse {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        msg: String,
    },
    /// A FASTA record could not be read (the error names file, record and line).
    #[error(transparent)]
    Fasta(#[from] FastxError),
    /// The genome has no sequence.
    #[error("{file}: no sequence found")]
    Empty {
        /// The file.
        file: String,
    },
}

/// Opens a file, decompressing gzip when the content starts with its magic bytes
/// (core's one opener, with the error as a [`GenomeError`]).
pub fn open_text(path: &Path) -> Result<DynRead, GenomeError> {
    open_path(path).map_err(|e| io_err(path, e))
}

fn io_err(path: &Path, e: std::io::Error) -> GenomeError {
    GenomeError::Io {
        file: path.display().to_string(),
        msg: e.to_string(),
    }
}

/// All lines of a text (without line ends); `file` names it in errors.
pub(crate) fn lines_from(mut r: impl BufRead, file: &str) -> Result<Vec<String>, GenomeError> {
    let mut s = String::new();
    r.read_to_string(&mut s).map_err(|e| GenomeError::Io {
        file: file.to_string(),
        msg: e.to_string(),
    })?;
    Ok(s.lines()
        .map(|l| l.trim_end_matches('\r').to_string())
        .collect())
}

pub(crate) fn lines_of(path: &Path) -> Result<Vec<String>, GenomeError> {
    lines_from(open_text(path)?, &path.display().to_string())
}

pub(crate) fn parse_err(file: &str, line: usize, msg: impl Into<String>) -> GenomeError {
    GenomeError::Parse {
        file: file.to_string(),
        line,
        msg: msg.into(),
    }
}

/// Reads the FASTA records of a genome with core's one FASTA/FASTQ reader.
pub fn read_fasta(path: &Path) -> Result<Vec<(String, DnaSeq)>, GenomeError> {
    let file = path.display().to_string();
    let out = FastxReader::new(open_text(path)?, &file)
        .map(|r| r.map(Record::into_parts))
        .collect::<Result<Vec<_>, _>>()?;
    if out.is_empty() {
        return Err(GenomeError::Empty { file });
    }
    Ok(out)
}

/// Adds a feature to a contig, or records why it was skipped.
#[allow(clippy::too_many_arguments)]
pub(crate) fn add_feature(
    contig: &mut Contig,
    skipped: &mut Vec<String>,
    where_: String,
    kind: FeatureKind,
    start: usize,
    end: usize,
    strand: Strand,
    complete: bool,
) {
    if end > contig.seq.len() || start >= end {
        skipped.push(format!(
            "{where_}: feature {}..{} lies beyond the end of {} ({} nt)",
            start + 1,
            end,
            contig.id,
            contig.seq.len()
        ));
        return;
    }
    match kind {
        FeatureKind::Cds => {
            let complete = complete && (end - start).is_multiple_of(3);
            contig.cds.push(Cds {
                start,
                end,
                strand,
                complete,
            });
        }
        FeatureKind::Blocked => contig.blocked.push((start, end)),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum FeatureKind {
    /// A protein-coding feature.
    Cds,
    /// A gene that is neither coding read material nor non-coding.
    Blocked,
}

const RNA_TYPES: &[&str] = &[
    "tRNA",
    "rRNA",
    "ncRNA",
    "tmRNA",
    "misc_RNA",
    "RNA",
    "pseudogene",
    "pseudogenic_region",
];

/// Reads GFF3 features onto contigs (from an embedded `##FASTA` section, or `fasta`).
pub fn read_gff(gff: &Path, fasta: Option<&Path>) -> Result<Genome, GenomeError> {
    parse_gff(open_text(gff)?, &gff.display().to_string(), fasta)
}

/// Parses GFF3 from any reader (`gff` names it in errors); the sequences come from an
/// embedded `##FASTA` section, or from `fasta`.
pub fn parse_gff(r: impl BufRead, gff: &str, fasta: Option<&Path>) -> Result<Genome, GenomeError> {
    let lines = lines_from(r, gff)?;
    let fasta_at = lines.iter().position(|l| l.trim() == "##FASTA");
    let seqs = match (fasta_at, fasta) {
        (_, Some(f)) => read_fasta(f)?,
        (Some(at), None) => embedded_fasta(&lines, at, gff)?,
        (None, None) => {
            return Err(GenomeError::Empty {
                file: format!("{} (no ##FASTA section and no FASTA file)", gff),
            })
        }
    };
    if seqs.is_empty() || seqs.iter().all(|s| s.1.is_empty()) {
        return Err(GenomeError::Empty {
            file: gff.to_string(),
        });
    }
    let mut genome = Genome::unannotated(seqs);
    let index: std::collections::HashMap<String, usize> = genome
        .contigs
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.clone(), i))
        .collect();
    let end = fasta_at.unwrap_or(lines.len());
    for (i, line) in lines[..end].iter().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 9 {
            return Err(parse_err(
                gff,
                i + 1,
                format!("expected 9 tab-separated columns, found {}", f.len()),
            ));
        }
        let kind = if f[2] == "CDS" {
            FeatureKind::Cds
        } else if RNA_TYPES.contains(&f[2]) || f[8].contains("pseudo=true") {
            FeatureKind::Blocked
        } else {
            continue;
        };
        let num = |s: &str, what: &str| {
            s.parse::<usize>().map_err(|_| {
                parse_err(
                    gff,
                    i + 1,
                    format!("{what} {s:?} is not a positive integer"),
                )
            })
        };
        let (start, stop) = (num(f[3], "start")?, num(f[4], "end")?);
        if start == 0 || stop < start {
            return Err(parse_err(
                gff,
                i + 1,
                format!("bad coordinates {start}..{stop}"),
            ));
        }
        let strand = match f[6] {
            "+" => Strand::Plus,
            "-" => Strand::Minus,
            s => return Err(parse_err(gff, i + 1, format!("strand {s:?} is not + or -"))),
        };
        let Some(&ci) = index.get(f[0]) else {
            genome
                .skipped
                .push(format!("{}:{}: unknown sequence {:?}", gff, i + 1, f[0]));
            continue;
        };
        let attrs = f[8];
        let partial = attrs
            .split(';')
            .any(|a| a.starts_with("partial=") && a != "partial=00");
        let pseudo = attrs.contains("pseudo=true") || attrs.contains("pseudogene=");
        let complete = !partial && !pseudo && (f[7] == "0" || f[7] == ".");
        let where_ = format!("{}:{}", gff, i + 1);
        let c = &mut genome.contigs[ci];
        add_feature(
            c,
            &mut genome.skipped,
            where_,
            kind,
            start - 1,
            stop,
            strand,
            complete,
        );
    }
    Ok(genome)
}

/// The sequences of a GFF3 file's `##FASTA` section (at line index `at`).
fn embedded_fasta(
    lines: &[String],
    at: usize,
    gff: &str,
) -> Result<Vec<(String, DnaSeq)>, GenomeError> {
    let mut recs: Vec<(String, Vec<u8>)> = Vec::new();
    for (i, line) in lines.iter().enumerate().skip(at + 1) {
        if let Some(h) = line.strip_prefix('>') {
            recs.push((
                h.split_whitespace().next().unwrap_or("").to_string(),
                Vec::new(),
            ));
        } else if let Some(last) = recs.last_mut() {
            DnaSeq::extend_ascii(&mut last.1, line.trim().as_bytes(), 0)
                .map_err(|e| parse_err(gff, i + 1, format!("{e} of the line")))?;
        }
    }
    Ok(recs
        .into_iter()
        .map(|(id, c)| (id, DnaSeq::from_codes(c).expect("parsed codes")))
        .collect())
}

/// Reads a FASTA genome with pyrodigal-style protein headers
/// (`>id_n # start # end # strand # attrs`), giving CDS coordinates.
pub fn read_fasta_faa(fasta: &Path, faa: &Path) -> Result<Genome, GenomeError> {
    let faa_name = faa.display().to_string();
    let seqs = read_fasta(fasta)?;
    let mut genome = Genome::unannotated(seqs);
    for (i, line) in lines_of(faa)?.iter().enumerate() {
        let Some(h) = line.strip_prefix('>') else {
            continue;
        };
        let parts: Vec<&str> = h.split(" # ").collect();
        if parts.len() < 5 {
            return Err(parse_err(
                &faa_name,
                i + 1,
                "expected '>id # start # end # strand # attributes'",
            ));
        }
        let id = parts[0].trim();
        let contig = id.rsplit_once('_').map(|x| x.0).unwrap_or(id);
        let num = |s: &str| {
            s.trim()
                .parse::<usize>()
                .map_err(|_| parse_err(&faa_name, i + 1, format!("bad number {s:?}")))
        };
        let (start, stop) = (num(parts[1])?, num(parts[2])?);
        let strand = match parts[3].trim() {
            "1" => Strand::Plus,
            "-1" => Strand::Minus,
            s => {
                return Err(parse_err(
                    &faa_name,
                    i + 1,
                    format!("strand {s:?} is not 1 or -1"),
                ))
            }
        };
        let complete = parts[4].contains("partial=00");
        let Some(ci) = genome.contigs.iter().position(|c| c.id == contig) else {
            genome.skipped.push(format!(
                "{}:{}: unknown sequence {contig:?}",
                faa.display(),
                i + 1
            ));
            continue;
        };
        if start == 0 || stop < start {
            return Err(parse_err(
                &faa_name,
                i + 1,
                format!("bad coordinates {start}..{stop}"),
            ));
        }
        let where_ = format!("{}:{}", faa.display(), i + 1);
        let c = &mut genome.contigs[ci];
        add_feature(
            c,
            &mut genome.skipped,
            where_,
            FeatureKind::Cds,
            start - 1,
            stop,
            strand,
            complete,
        );
    }
    Ok(genome)
}
