//! Output formats of `cdspred predict`: TSV (the contract), JSON Lines, GFF3, protein
//! FASTA (faa) and nucleotide FASTA of the coding strand (ffn).

use std::fmt::Write as _;

use cdspred_core::dna::codes_to_ascii;
use cdspred_core::GeneticCode;
use cdspred_model::predict::{Frameshift, Prediction, Segment};
use cdspred_model::result::feature_id;
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

/// What a run's outputs say produced them (GFF3 `#!` lines, the stats file).
#[derive(Debug, Clone)]
pub struct Provenance {
    /// The model's version label.
    pub model: String,
    /// The sha256 of its weights file.
    pub weights_sha256: String,
    /// The genetic code translated with.
    pub table: u32,
}

/// Text written before the first record.
pub fn preamble(f: Format, prov: &Provenance) -> String {
    match f {
        Format::Tsv => format!("{}\n", ReadResult::TSV_HEADER),
        Format::Gff3 => format!(
            "##gff-version 3\n#!processor cdspred {}\n#!model {} weights-sha256 {}\n#!genetic-code {}\n",
            env!("CARGO_PKG_VERSION"),
            prov.model,
            prov.weights_sha256,
            prov.table
        ),
        _ => String::new(),
    }
}

/// A segment's frame shifts: a gene call's own, or the read's for a read scored whole
/// along its path.
fn segment_shifts(p: &Prediction, s: &Segment) -> Vec<Frameshift> {
    if s.gene.is_some() {
        s.gene_frameshifts()
    } else if s.path.is_empty() {
        Vec::new()
    } else {
        p.frameshifts.clone()
    }
}

/// `pos:kind` list of frame shifts.
fn shift_list(shifts: &[Frameshift]) -> String {
    shifts
        .iter()
        .map(|f| format!("{}:{}", f.pos, f.kind.as_str()))
        .collect::<Vec<_>>()
        .join(",")
}

/// One input record as the writers see it.
pub struct Rec<'a> {
    /// The read's id (first word of its header).
    pub id: &'a str,
    /// The id made unique in the run ([`cdspred_model::result::SeqNames`]): the GFF3
    /// seqid and the stem of its feature IDs.
    pub seqid: &'a str,
    /// Its bases.
    pub codes: &'a [u8],
    /// Its prediction.
    pub p: &'a Prediction,
}

/// Whether a segment runs off the sequence's left and right ends (its coding stretch
/// may go on beyond them): within 3 nt of an end.
pub fn partial(s: &Segment, length: usize) -> (bool, bool) {
    match s.gene {
        Some(g) => g.partial,
        None => (s.start < 3, s.end + 3 > length),
    }
}

/// Appends `text` %-escaped for a GFF3 seqid: only `[a-zA-Z0-9.:^*$@!+_?|-]` stay
/// as they are (so a leading `>` is escaped too).
pub fn gff3_seqid(out: &mut String, text: &str) {
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b".:^*$@!+_?|-".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

/// Appends `text` %-escaped for a GFF3 attribute value: `;=&,%`, tab, newline and
/// other control characters are escaped; other characters stay (UTF-8 included).
pub fn gff3_value(out: &mut String, text: &str) {
    for c in text.chars() {
        if matches!(c, ';' | '=' | '&' | ',' | '%') || c.is_control() {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                let _ = write!(out, "%{b:02X}");
            }
        } else {
            out.push(c);
        }
    }
}

/// Appends one record's output to `out`.
pub fn write_record(out: &mut String, f: Format, r: &Rec, code: &GeneticCode) {
    let p = r.p;
    match f {
        Format::Tsv => ReadResult::write_tsv(out, r.id, r.seqid, p),
        Format::Jsonl => {
            let res = ReadResult::new(r.id.to_string(), r.seqid, r.codes, p, code);
            out.push_str(&serde_json::to_string(&res).expect("a result serialises"));
            out.push('\n');
        }
        Format::Gff3 => {
            if p.segments.is_empty() {
                return;
            }
            let mut seqid = String::new();
            gff3_seqid(&mut seqid, r.seqid);
            let _ = writeln!(out, "##sequence-region {seqid} 1 {}", p.length);
            for s in &p.segments {
                let shifts = segment_shifts(p, s);
                let _ = write!(out, "{seqid}\tcdspred\tCDS\t{}\t{}\t", s.start + 1, s.end,);
                match s.gene {
                    Some(g) => {
                        let _ = write!(out, "{:.1}", g.score);
                    }
                    None => {
                        let _ = write!(out, "{:.4}", s.coding_prob);
                    }
                }
                let _ = write!(out, "\t{}\t{}\tID=", s.strand.symbol(), s.frame);
                gff3_value(out, &feature_id(r.seqid, s));
                let _ = write!(
                    out,
                    ";coding_prob={:.4};transl_table={}",
                    s.coding_prob,
                    code.id()
                );
                let (left, right) = partial(s, p.length);
                if let Some(g) = s.gene {
                    // As Prodigal writes it: left and right end, 1 = runs off it.
                    let _ = write!(
                        out,
                        ";partial={}{};score={:.1}",
                        u8::from(left),
                        u8::from(right),
                        g.score
                    );
                } else if left || right {
                    out.push_str(";partial=true");
                }
                if left {
                    let _ = write!(out, ";start_range=.,{}", s.start + 1);
                }
                if right {
                    let _ = write!(out, ";end_range={},.", s.end);
                }
                if !shifts.is_empty() {
                    let _ = write!(out, ";frameshifts={}", shift_list(&shifts));
                }
                out.push('\n');
            }
        }
        Format::Faa | Format::Ffn => {
            for s in &p.segments {
                let shifts = segment_shifts(p, s);
                let shifted = !shifts.is_empty();
                // Along the frame path: the frameshift-corrected protein, and in ffn
                // the bases of the path's codons (sense strand, from its first codon).
                let body = if f == Format::Faa {
                    s.protein(r.codes, code)
                } else if shifted {
                    codes_to_ascii(&s.codons(r.codes))
                } else {
                    codes_to_ascii(&s.sense(r.codes))
                };
                let shifts = if shifted {
                    format!(" frameshifts={}", shift_list(&shifts))
                } else {
                    String::new()
                };
                let (left, right) = partial(s, p.length);
                let _ = writeln!(
                    out,
                    ">{} strand={} frame={} start={} end={} coding_prob={:.4} partial={}{} transl_table={}{shifts}\n{body}",
                    feature_id(r.seqid, s),
                    s.strand.symbol(),
                    s.frame,
                    s.start + 1,
                    s.end,
                    s.coding_prob,
                    u8::from(left),
                    u8::from(right),
                    code.id()
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
    fn gff3_escapes_reserved_characters() {
        let mut s = String::new();
        gff3_seqid(&mut s, ">contig;x=y 1\tz%");
        assert_eq!(s, "%3Econtig%3Bx%3Dy%201%09z%25");
        let mut v = String::new();
        gff3_value(&mut v, "a;b=c&d,e%f g>é\n");
        assert_eq!(v, "a%3Bb%3Dc%26d%2Ce%25f g>é%0A");
    }
}
