//! Output formats of `cdspred predict`: TSV (the contract), JSON Lines, GFF3, protein
//! FASTA (faa) and nucleotide FASTA of the coding strand (ffn).

use std::fmt::Write as _;

use cdspred_core::code::translate;
use cdspred_core::dna::{codes_to_ascii, revcomp_codes};
use cdspred_core::{GeneticCode, Strand};
use cdspred_model::predict::{Call, Prediction, Segment};

/// The output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Tab-separated, one row per read, with a header.
    Tsv,
    /// One JSON object per read.
    Jsonl,
    /// A CDS feature per coding read or segment.
    Gff3,
    /// Protein translation of each coding read or segment.
    Faa,
    /// Coding-strand nucleotides of each coding read or segment.
    Ffn,
}

/// Text written before the first record.
pub fn preamble(f: Format) -> &'static str {
    match f {
        Format::Tsv => "id\tlength\tcoding_prob\tsense_prob\tstrand\tframe\tcall\n",
        Format::Gff3 => "##gff-version 3\n",
        _ => "",
    }
}

fn prob(p: f32, call: Call) -> String {
    if call == Call::TooShort {
        "NaN".into()
    } else {
        format!("{p:.4}")
    }
}

/// Sense-oriented bases of a segment and the offset of its first full codon.
fn segment_sense(codes: &[u8], seg: &Segment) -> Vec<u8> {
    let part = &codes[seg.start..seg.end];
    match seg.strand {
        Strand::Plus => part.to_vec(),
        Strand::Minus => revcomp_codes(part),
    }
}

/// The protein of a coding read (the best frame), for APIs and the faa format.
pub fn protein(codes: &[u8], p: &Prediction, code: &GeneticCode) -> Option<String> {
    if p.call != Call::Coding {
        return None;
    }
    let (strand, frame) = p.best?;
    let sense = match strand {
        Strand::Plus => codes.to_vec(),
        Strand::Minus => revcomp_codes(codes),
    };
    Some(translate(&sense, frame.offset() as usize, code))
}

/// Appends one record's output to `out`.
pub fn write_record(
    out: &mut String,
    f: Format,
    id: &str,
    codes: &[u8],
    p: &Prediction,
    code: &GeneticCode,
) {
    let (strand, frame) = match p.best {
        Some((s, fr)) => (s.symbol().to_string(), fr.to_string()),
        None => (".".into(), ".".into()),
    };
    match f {
        Format::Tsv => {
            let _ = writeln!(
                out,
                "{id}\t{}\t{}\t{}\t{strand}\t{frame}\t{}",
                p.length,
                prob(p.coding_prob, p.call),
                prob(p.sense_prob, p.call),
                p.call.as_str()
            );
        }
        Format::Jsonl => {
            let v = serde_json::json!({
                "id": id,
                "length": p.length,
                "coding_prob": (p.call != Call::TooShort).then_some(round4(p.coding_prob)),
                "sense_prob": (p.call != Call::TooShort).then_some(round4(p.sense_prob)),
                "strand": strand,
                "frame": frame,
                "call": p.call.as_str(),
                "protein": protein(codes, p, code),
            });
            out.push_str(&v.to_string());
            out.push('\n');
        }
        Format::Gff3 => {
            for (k, s) in p.segments.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "{id}\tcdspred\tCDS\t{}\t{}\t{:.4}\t{}\t{}\tID={id}_cds{};coding_prob={:.4}",
                    s.start + 1,
                    s.end,
                    s.coding_prob,
                    s.strand.symbol(),
                    s.frame,
                    k + 1,
                    s.coding_prob
                );
            }
        }
        Format::Faa | Format::Ffn => {
            for (k, s) in p.segments.iter().enumerate() {
                let sense = segment_sense(codes, s);
                let name = if p.segments.len() == 1 {
                    id.to_string()
                } else {
                    format!("{id}_seg{}", k + 1)
                };
                let body = if f == Format::Faa {
                    translate(&sense, s.frame.offset() as usize, code)
                } else {
                    codes_to_ascii(&sense)
                };
                let _ = writeln!(
                    out,
                    ">{name} strand={} frame={} start={} end={} coding_prob={:.4}\n{body}",
                    s.strand.symbol(),
                    s.frame,
                    s.start + 1,
                    s.end,
                    s.coding_prob
                );
            }
        }
    }
}

fn round4(v: f32) -> f64 {
    (v as f64 * 1e4).round() / 1e4
}

/// Writes text to standard output; a closed pipe (`| head`) is not an error.
pub fn print_stdout(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut o = std::io::stdout().lock();
    match o.write_all(text.as_bytes()).and_then(|_| o.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(anyhow::Error::new(e).context("writing <stdout>"))
        }
        _ => Ok(()),
    }
}
