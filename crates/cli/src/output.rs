//! Output formats of `cdspred predict`: TSV (the contract), JSON Lines, GFF3, protein
//! FASTA (faa) and nucleotide FASTA of the coding strand (ffn).

use std::fmt::Write as _;

use cdspred_core::dna::codes_to_ascii;
use cdspred_core::GeneticCode;
use cdspred_model::predict::Prediction;
use cdspred_model::ReadResult;

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
        Format::Tsv => "id\tlength\tcoding_prob\tsense_prob\tstrand\tframe\tcall\tframeshifts\n",
        Format::Gff3 => "##gff-version 3\n",
        _ => "",
    }
}

/// `pos:kind` list of a read's frame shifts (`.` when none).
fn shift_list(p: &Prediction) -> String {
    if p.frameshifts.is_empty() {
        return ".".into();
    }
    p.frameshifts
        .iter()
        .map(|f| format!("{}:{}", f.pos, f.kind.as_str()))
        .collect::<Vec<_>>()
        .join(",")
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
    match f {
        Format::Tsv => ReadResult::write_tsv(out, id, p),
        Format::Jsonl => {
            let r = ReadResult::new(id.to_string(), codes, p, code);
            out.push_str(&serde_json::to_string(&r).expect("a result serialises"));
            out.push('\n');
        }
        Format::Gff3 => {
            for (k, s) in p.segments.iter().enumerate() {
                let shifted = !s.path.is_empty() && !p.frameshifts.is_empty();
                let _ = writeln!(
                    out,
                    "{id}\tcdspred\tCDS\t{}\t{}\t{:.4}\t{}\t{}\tID={id}_cds{};coding_prob={:.4}{}",
                    s.start + 1,
                    s.end,
                    s.coding_prob,
                    s.strand.symbol(),
                    s.frame,
                    k + 1,
                    s.coding_prob,
                    if shifted {
                        format!(";frameshifts={}", shift_list(p))
                    } else {
                        String::new()
                    }
                );
            }
        }
        Format::Faa | Format::Ffn => {
            for (k, s) in p.segments.iter().enumerate() {
                let shifted = !s.path.is_empty() && !p.frameshifts.is_empty();
                let name = if p.segments.len() == 1 {
                    id.to_string()
                } else {
                    format!("{id}_seg{}", k + 1)
                };
                // Along the frame path: the frameshift-corrected protein, and in ffn
                // the bases of the path's codons (sense strand, from its first codon).
                let body = if f == Format::Faa {
                    s.protein(codes, code)
                } else if shifted {
                    codes_to_ascii(&s.codons(codes))
                } else {
                    codes_to_ascii(&s.sense(codes))
                };
                let shifts = if shifted {
                    format!(" frameshifts={}", shift_list(p))
                } else {
                    String::new()
                };
                let _ = writeln!(
                    out,
                    ">{name} strand={} frame={} start={} end={} coding_prob={:.4}{shifts}\n{body}",
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tsv_header_names_the_result_columns() {
        assert_eq!(
            preamble(Format::Tsv),
            format!("{}\n", ReadResult::TSV_HEADER)
        );
    }
}
