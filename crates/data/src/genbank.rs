//! GenBank flat-file reader (multi-record).
//!
//! Locations: `a..b`, `<a..b`, `a..>b` (partial), `complement(...)`, `join(...)`/
//! `order(...)` (kept as blocked regions, never as coding reads), single bases and
//! `a^b` sites (ignored). `/pseudo` and `/pseudogene` mark pseudo features.

use std::io::BufRead;
use std::path::Path;

use cdspred_core::{DnaSeq, Strand};

use crate::genome::{
    add_feature, lines_from, open_text, parse_err, Contig, FeatureKind, Genome, GenomeError,
};

struct Feature {
    key: String,
    location: String,
    qualifiers: Vec<String>,
    line: usize,
}

/// Reads every record of a GenBank file.
pub fn read_genbank(path: &Path) -> Result<Genome, GenomeError> {
    parse_genbank(open_text(path)?, &path.display().to_string())
}

/// Parses every GenBank record from any reader (`path` names it in errors).
pub fn parse_genbank(r: impl BufRead, path: &str) -> Result<Genome, GenomeError> {
    let lines = lines_from(r, path)?;
    let mut genome = Genome::default();
    let mut i = 0;
    while i < lines.len() {
        if !lines[i].starts_with("LOCUS") {
            if !lines[i].trim().is_empty() && genome.contigs.is_empty() && i == 0 {
                return Err(parse_err(
                    path,
                    1,
                    "not a GenBank file: expected a LOCUS line",
                ));
            }
            i += 1;
            continue;
        }
        let id = lines[i]
            .split_whitespace()
            .nth(1)
            .ok_or_else(|| parse_err(path, i + 1, "LOCUS without a name"))?;
        let mut contig = Contig {
            id: id.to_string(),
            ..Default::default()
        };
        i += 1;
        let (features, codes) = record_body(&lines, &mut i, path, id)?;
        contig.seq = DnaSeq::from_codes(codes).expect("parsed codes");
        if contig.seq.is_empty() {
            genome
                .skipped
                .push(format!("{}: record {} has no sequence", path, contig.id));
            i += 1;
            continue;
        }
        add_features(&mut contig, &mut genome.skipped, features, path)?;
        genome.contigs.push(contig);
        i += 1;
    }
    if genome.contigs.is_empty() {
        return Err(GenomeError::Empty {
            file: path.to_string(),
        });
    }
    Ok(genome)
}

/// Reads one record's lines from `*i` (just after its LOCUS line) to its `//`, leaving
/// `*i` there: its features and its sequence's base codes.
fn record_body(
    lines: &[String],
    i: &mut usize,
    path: &str,
    id: &str,
) -> Result<(Vec<Feature>, Vec<u8>), GenomeError> {
    let mut features: Vec<Feature> = Vec::new();
    let mut codes = Vec::new();
    let mut section = "";
    let mut ended = false;
    while *i < lines.len() {
        let at = *i;
        let line = &lines[at];
        if line.starts_with("//") {
            ended = true;
            break;
        }
        if !line.starts_with(' ') && !line.is_empty() {
            section = if line.starts_with("FEATURES") {
                "features"
            } else if line.starts_with("ORIGIN") {
                "origin"
            } else if line.starts_with("LOCUS") {
                return Err(parse_err(
                    path,
                    at + 1,
                    "LOCUS before the previous record's '//'",
                ));
            } else {
                ""
            };
        } else if section == "features" && line.len() > 21 {
            // Feature tables are ASCII: column 21 must fall between characters.
            let key = line
                .get(..21)
                .ok_or_else(|| {
                    parse_err(
                        path,
                        at + 1,
                        "non-ASCII character in the feature key column",
                    )
                })?
                .trim();
            let rest = line.get(21..).unwrap_or("").trim();
            if !key.is_empty() {
                features.push(Feature {
                    key: key.to_string(),
                    location: rest.to_string(),
                    qualifiers: Vec::new(),
                    line: at + 1,
                });
            } else if let Some(f) = features.last_mut() {
                if rest.starts_with('/') {
                    f.qualifiers.push(rest.to_string());
                } else if f.qualifiers.is_empty() {
                    f.location.push_str(rest);
                } else if let Some(q) = f.qualifiers.last_mut() {
                    q.push(' ');
                    q.push_str(rest);
                }
            }
        } else if section == "origin" {
            for word in line.split_whitespace().skip(1) {
                DnaSeq::extend_ascii(&mut codes, word.as_bytes(), 0).map_err(|e| {
                    parse_err(path, at + 1, format!("in ORIGIN: {e} of the word {word:?}"))
                })?;
            }
        }
        *i += 1;
    }
    if !ended {
        return Err(parse_err(
            path,
            *i,
            format!("record {id} ends without '//'"),
        ));
    }
    Ok((features, codes))
}

/// Adds a record's CDS and blocked (RNA, pseudogene, joined) features to `contig`.
fn add_features(
    contig: &mut Contig,
    skipped: &mut Vec<String>,
    features: Vec<Feature>,
    path: &str,
) -> Result<(), GenomeError> {
    for f in features {
        let kind = match f.key.as_str() {
            "CDS" => FeatureKind::Cds,
            "tRNA" | "rRNA" | "ncRNA" | "tmRNA" | "misc_RNA" => FeatureKind::Blocked,
            "gene" if is_pseudo(&f.qualifiers) => FeatureKind::Blocked,
            _ => continue,
        };
        let where_ = format!("{}:{}", path, f.line);
        let loc = parse_location(&f.location).map_err(|m| parse_err(path, f.line, m))?;
        let Some(loc) = loc else { continue };
        let complete = !loc.partial && !loc.joined && !is_pseudo(&f.qualifiers);
        let kind = if kind == FeatureKind::Cds && loc.joined {
            FeatureKind::Blocked
        } else {
            kind
        };
        add_feature(
            contig, skipped, where_, kind, loc.start, loc.end, loc.strand, complete,
        );
    }
    Ok(())
}

fn is_pseudo(q: &[String]) -> bool {
    q.iter()
        .any(|q| q == "/pseudo" || q.starts_with("/pseudogene"))
}

/// A parsed feature location.
#[derive(Debug, PartialEq, Eq)]
pub struct Location {
    /// First base, 0-based.
    pub start: usize,
    /// One past the last base.
    pub end: usize,
    /// Strand.
    pub strand: Strand,
    /// `<` or `>` present.
    pub partial: bool,
    /// More than one part (`join`/`order`).
    pub joined: bool,
}

/// Parses a location; `Ok(None)` for sites and remote references that carry no span.
pub fn parse_location(loc: &str) -> Result<Option<Location>, String> {
    let s: String = loc.chars().filter(|c| !c.is_whitespace()).collect();
    if s.contains(':') {
        return Ok(None);
    }
    let strand = if s.starts_with("complement(") {
        Strand::Minus
    } else {
        Strand::Plus
    };
    let joined = s.contains("join(") || s.contains("order(");
    let strand = if joined && s.contains("complement(") && !s.starts_with("complement(") {
        // join(complement(a..b),complement(c..d))
        Strand::Minus
    } else {
        strand
    };
    let partial = s.contains('<') || s.contains('>');
    let mut nums = Vec::new();
    let mut cur = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            cur.push(c);
        } else {
            if !cur.is_empty() {
                nums.push(
                    cur.parse::<usize>()
                        .map_err(|_| format!("bad number in location {loc:?}"))?,
                );
                cur.clear();
            }
            if !(c.is_ascii_alphabetic() || "().,<>^".contains(c)) {
                return Err(format!("unexpected character {c:?} in location {loc:?}"));
            }
        }
    }
    if !cur.is_empty() {
        nums.push(
            cur.parse::<usize>()
                .map_err(|_| format!("bad number in location {loc:?}"))?,
        );
    }
    if s.contains('^') || nums.len() < 2 {
        if nums.is_empty() {
            return Err(format!("no coordinates in location {loc:?}"));
        }
        return Ok(None);
    }
    let (lo, hi) = (
        *nums.iter().min().expect("≥2"),
        *nums.iter().max().expect("≥2"),
    );
    if lo == 0 {
        return Err(format!(
            "coordinate 0 in location {loc:?} (GenBank is 1-based)"
        ));
    }
    Ok(Some(Location {
        start: lo - 1,
        end: hi,
        strand,
        partial,
        joined,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the genbank fuzz target: a multi-byte character across column 21 of a
    /// feature line made the reader panic; now it is an error naming the line.
    #[test]
    fn non_ascii_feature_column_is_an_error_not_a_panic() {
        let p = std::env::temp_dir().join(format!("cdspred-gb-{}.gb", std::process::id()));
        std::fs::write(
            &p,
            "LOCUS       X   10 bp    DNA\nFEATURES             Location/Qualifiers\n     CDS            \u{69c}1..9\nORIGIN\n        1 atggcttaa\n//\n",
        )
        .unwrap();
        let e = read_genbank(&p).unwrap_err().to_string();
        std::fs::remove_file(&p).unwrap();
        assert!(e.contains("line 3") && e.contains("non-ASCII"), "{e}");
    }

    #[test]
    fn locations() {
        let l = parse_location("complement(<10..200)").unwrap().unwrap();
        assert_eq!(
            (l.start, l.end, l.strand, l.partial, l.joined),
            (9, 200, Strand::Minus, true, false)
        );
        let l = parse_location("join(1..10,20..30)").unwrap().unwrap();
        assert!(l.joined && l.strand == Strand::Plus && l.end == 30);
        let l = parse_location("join(complement(20..30),complement(1..10))")
            .unwrap()
            .unwrap();
        assert_eq!(l.strand, Strand::Minus);
        assert_eq!(parse_location("5^6").unwrap(), None);
        assert!(parse_location("1..x10?").is_err());
    }
}
