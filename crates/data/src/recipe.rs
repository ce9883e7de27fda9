//! Recipes: which genomes, which reads, where they come from.
//!
//! A recipe is a TOML file; paths in it are relative to the recipe's own folder.
//! Each source names the public package it was taken from so that a user can rebuild
//! it ([`Package`]). [`build`] samples every source, writes `train.ds` and
//! `validation.ds` and a `manifest.json` with sha256 of every input and output, the
//! resolved recipe and counts per role, source, class and length — the data version.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cdspred_core::TableId;
use serde::{Deserialize, Serialize};

use crate::dataset::{Dataset, ReadLabel};
use crate::genbank::read_genbank;
use crate::genome::{read_fasta_faa, read_gff, Cds, Contig, Genome, GenomeError};
use crate::sample::{sample_genome, Rng, SampleSpec, SampleStats};
use crate::seed::read_seed_csv;

/// Where a source file comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Package {
    /// `PyPI`, `Debian` or `GitHub`.
    pub registry: String,
    /// Package name.
    pub name: String,
    /// Package version.
    pub version: String,
    /// Path of the file inside the package.
    pub path: String,
    /// sha256 of the package file, when known.
    #[serde(default)]
    pub sha256: Option<String>,
}

/// Train or validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Training reads.
    Train,
    /// Validation reads (early stopping, model selection).
    Validation,
}

/// How `val_fraction` holds out part of a genome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// Whole records (contigs), chosen by a hash of their id.
    #[default]
    Record,
    /// The last `val_fraction` of every record (for one-record genomes): CDSs crossing
    /// the cut are used on neither side, not even as non-coding DNA.
    Region,
}

/// Cuts every contig at `(1 - frac)` of its length: (heads, tails).
fn split_by_region(genome: Genome, frac: f64) -> (Genome, Genome) {
    let (mut main, mut held) = (Genome::default(), Genome::default());
    main.skipped = genome.skipped;
    for c in genome.contigs {
        let n = c.seq.len();
        let cut = ((n as f64) * (1.0 - frac)).round() as usize;
        let (mut head, mut tail) = (
            Contig {
                id: c.id.clone(),
                seq: c.seq.slice(0, cut),
                cds: vec![],
                blocked: vec![],
            },
            Contig {
                id: format!("{}:{}-{}", c.id, cut + 1, n),
                seq: c.seq.slice(cut, n),
                cds: vec![],
                blocked: vec![],
            },
        );
        let mut place = |s: usize, e: usize, cds: Option<&Cds>| {
            if e <= cut {
                match cds {
                    Some(g) => head.cds.push(g.clone()),
                    None => head.blocked.push((s, e)),
                }
            } else if s >= cut {
                match cds {
                    Some(g) => tail.cds.push(Cds {
                        start: s - cut,
                        end: e - cut,
                        ..g.clone()
                    }),
                    None => tail.blocked.push((s - cut, e - cut)),
                }
            } else {
                head.blocked.push((s, cut));
                tail.blocked.push((0, e - cut));
            }
        };
        for g in &c.cds {
            place(g.start, g.end, Some(g));
        }
        for &(s, e) in &c.blocked {
            place(s, e, None);
        }
        main.contigs.push(head);
        held.contigs.push(tail);
    }
    (main, held)
}

/// One genome (or fragment set) in a recipe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// Short name.
    pub name: String,
    /// Role of the whole source (with `split = "record"`, of most of its records).
    pub role: Role,
    /// NCBI genetic code (an unknown number is an error when the recipe is read).
    pub table: TableId,
    /// A GenBank file.
    #[serde(default)]
    pub genbank: Option<PathBuf>,
    /// A GFF3 file (with `##FASTA`, or with `fasta`).
    #[serde(default)]
    pub gff: Option<PathBuf>,
    /// A FASTA file (with `gff` or `faa`).
    #[serde(default)]
    pub fasta: Option<PathBuf>,
    /// A protein FASTA with pyrodigal-style coordinate headers (with `fasta`).
    #[serde(default)]
    pub faa: Option<PathBuf>,
    /// A seed CSV fragment set (sense-only labels).
    #[serde(default)]
    pub seed_csv: Option<PathBuf>,
    /// Coding reads to draw.
    #[serde(default)]
    pub coding_reads: usize,
    /// Non-coding reads to draw.
    #[serde(default)]
    pub noncoding_reads: usize,
    /// Drop near-identical loci.
    #[serde(default)]
    pub dedup: bool,
    /// Non-coding reads never touch a stop-to-stop open reading frame at least this
    /// long (nt, either strand) that no CDS explains: such an ORF is more likely a
    /// gene the annotation missed than intergenic DNA (0 = no such mask).
    #[serde(default)]
    pub noncoding_max_orf: usize,
    /// Share of records held out for validation (split by record, never by read).
    #[serde(default)]
    pub val_fraction: f64,
    /// How `val_fraction` splits: by `record` (default) or by `region`.
    #[serde(default)]
    pub val_split: Split,
    /// Read lengths for this source (default: the recipe's).
    #[serde(default)]
    pub lengths: Option<Vec<usize>>,
    /// Where the files come from.
    pub package: Package,
}

/// A whole recipe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipe {
    /// Name of the dataset.
    pub name: String,
    /// Sampling seed.
    pub seed: u64,
    /// Read lengths, used in turn.
    pub lengths: Vec<usize>,
    /// The sources.
    #[serde(rename = "source")]
    pub sources: Vec<Source>,
}

/// Why a recipe could not be built.
#[derive(Debug, thiserror::Error)]
pub enum RecipeError {
    /// The recipe file is unreadable or invalid.
    #[error("{file}: {msg}")]
    Recipe {
        /// The recipe.
        file: String,
        /// What is wrong.
        msg: String,
    },
    /// A source could not be read.
    #[error("source {source_name:?}: {err}")]
    Source {
        /// The source's name.
        source_name: String,
        /// The cause.
        err: GenomeError,
    },
    /// Writing the output failed.
    #[error("{file}: {msg}")]
    Output {
        /// The file.
        file: String,
        /// What went wrong.
        msg: String,
    },
}

impl Recipe {
    /// Reads and checks a recipe; returns it with its folder (for relative paths).
    pub fn load(path: &Path) -> Result<(Recipe, PathBuf), RecipeError> {
        let err = |msg: String| RecipeError::Recipe {
            file: path.display().to_string(),
            msg,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let r: Recipe = toml::from_str(&text).map_err(|e| err(e.to_string()))?;
        r.check().map_err(err)?;
        Ok((r, path.parent().unwrap_or(Path::new(".")).to_path_buf()))
    }

    fn check(&self) -> Result<(), String> {
        if self.lengths.is_empty() || self.lengths.iter().any(|&l| !(8..=10_000).contains(&l)) {
            return Err("lengths must be a non-empty list of 8..=10000".into());
        }
        for s in &self.sources {
            let kinds = [
                s.genbank.is_some(),
                s.gff.is_some() && s.fasta.is_none(),
                s.fasta.is_some(),
                s.seed_csv.is_some(),
            ];
            if kinds.iter().filter(|k| **k).count() != 1 {
                return Err(format!(
                    "source {:?}: give exactly one of genbank, gff (with ##FASTA), fasta (+ gff or faa), seed_csv",
                    s.name
                ));
            }
            if s.fasta.is_some() && s.gff.is_none() && s.faa.is_none() {
                return Err(format!("source {:?}: fasta needs gff or faa", s.name));
            }
            if !(0.0..1.0).contains(&s.val_fraction) {
                return Err(format!(
                    "source {:?}: val_fraction must be in [0, 1)",
                    s.name
                ));
            }
            if s.val_split == Split::Region && s.val_fraction == 0.0 {
                return Err(format!(
                    "source {:?}: val_split = \"region\" needs a val_fraction above 0",
                    s.name
                ));
            }
            if s.noncoding_max_orf != 0 && s.noncoding_max_orf < 60 {
                return Err(format!(
                    "source {:?}: noncoding_max_orf must be 0 (off) or at least 60 nt",
                    s.name
                ));
            }
        }
        Ok(())
    }
}

impl Source {
    /// The input files of this source.
    pub fn files(&self) -> Vec<&PathBuf> {
        [
            &self.genbank,
            &self.gff,
            &self.fasta,
            &self.faa,
            &self.seed_csv,
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    fn load_genome(&self, dir: &Path) -> Result<Genome, GenomeError> {
        let p = |x: &PathBuf| dir.join(x);
        if let Some(g) = &self.genbank {
            read_genbank(&p(g))
        } else if let (Some(f), Some(a)) = (&self.fasta, &self.faa) {
            read_fasta_faa(&p(f), &p(a))
        } else if let Some(g) = &self.gff {
            read_gff(&p(g), self.fasta.as_ref().map(p).as_deref())
        } else {
            Err(GenomeError::Empty {
                file: self.name.clone(),
            })
        }
    }
}

/// A file with its checksum.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileSum {
    /// Path as given.
    pub path: String,
    /// sha256, hex.
    pub sha256: String,
    /// Size in bytes.
    pub bytes: u64,
}

fn file_sum(path: &Path) -> Result<FileSum, String> {
    use sha2::{Digest, Sha256};
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(FileSum {
        path: path.display().to_string(),
        sha256: hex::encode(Sha256::digest(&bytes)),
        bytes: bytes.len() as u64,
    })
}

/// Reads per role → source → label → length.
pub type Counts = BTreeMap<String, BTreeMap<String, BTreeMap<String, BTreeMap<usize, usize>>>>;

/// The data version: what went in, what came out, how many of what.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// The recipe as resolved.
    pub recipe: Recipe,
    /// Every input file.
    pub inputs: Vec<FileSum>,
    /// Every output file.
    pub outputs: Vec<FileSum>,
    /// Reads per role → source → label → length.
    pub counts: Counts,
    /// Sampling statistics per source.
    pub stats: BTreeMap<String, serde_json::Value>,
    /// Features skipped while reading (first 50 per source) and their count.
    pub skipped: BTreeMap<String, (usize, Vec<String>)>,
}

fn label_name(l: ReadLabel) -> String {
    match l {
        ReadLabel::Class(c) => match c {
            cdspred_core::ReadClass::NonCoding => "noncoding".into(),
            cdspred_core::ReadClass::Coding(s, f) => format!("{}{}", s.symbol(), f),
        },
        ReadLabel::Sense(true) => "sense".into(),
        ReadLabel::Sense(false) => "not_sense".into(),
    }
}

/// Builds the datasets of a recipe into `out`; returns the manifest (also written).
pub fn build(recipe_path: &Path, out: &Path) -> Result<Manifest, RecipeError> {
    let (recipe, dir) = Recipe::load(recipe_path)?;
    let oerr = |file: &Path, msg: String| RecipeError::Output {
        file: file.display().to_string(),
        msg,
    };
    std::fs::create_dir_all(out).map_err(|e| oerr(out, e.to_string()))?;
    let mut rng = Rng::new(recipe.seed);
    let mut sets: BTreeMap<Role, Dataset> = BTreeMap::new();
    let mut manifest = Manifest {
        recipe: recipe.clone(),
        inputs: Vec::new(),
        outputs: Vec::new(),
        counts: BTreeMap::new(),
        stats: BTreeMap::new(),
        skipped: BTreeMap::new(),
    };
    manifest
        .inputs
        .push(file_sum(recipe_path).map_err(|m| oerr(recipe_path, m))?);
    for (si, s) in recipe.sources.iter().enumerate() {
        let serr = |err| RecipeError::Source {
            source_name: s.name.clone(),
            err,
        };
        for f in s.files() {
            let sum = file_sum(&dir.join(f)).map_err(|msg| {
                serr(GenomeError::Io {
                    file: dir.join(f).display().to_string(),
                    msg,
                })
            })?;
            manifest.inputs.push(sum);
        }
        if let Some(csv) = &s.seed_csv {
            let ds = read_seed_csv(&dir.join(csv), s.table, si as u16).map_err(serr)?;
            sets.entry(s.role).or_default().extend(&ds);
            continue;
        }
        let genome = s.load_genome(&dir).map_err(serr)?;
        manifest.skipped.insert(
            s.name.clone(),
            (
                genome.skipped.len(),
                genome.skipped.iter().take(50).cloned().collect(),
            ),
        );
        let lengths = s.lengths.clone().unwrap_or_else(|| recipe.lengths.clone());
        let (main, held) = split_for_validation(genome, s);
        let other = if s.role == Role::Train {
            Role::Validation
        } else {
            Role::Train
        };
        let mut all_stats = Vec::new();
        for (g, role, frac) in [
            (&main, s.role, 1.0 - s.val_fraction),
            (&held, other, s.val_fraction),
        ] {
            if g.contigs.is_empty() || frac <= 0.0 {
                continue;
            }
            let spec = SampleSpec {
                lengths: lengths.clone(),
                coding: (s.coding_reads as f64 * frac).round() as usize,
                noncoding: (s.noncoding_reads as f64 * frac).round() as usize,
                dedup: s.dedup,
                max_orf: s.noncoding_max_orf,
                table: s.table,
                source: si as u16,
            };
            let st: SampleStats = sample_genome(g, &spec, &mut rng, sets.entry(role).or_default());
            all_stats
                .push(serde_json::json!({"role": role, "records": g.contigs.len(), "stats": st}));
        }
        manifest
            .stats
            .insert(s.name.clone(), serde_json::Value::Array(all_stats));
    }
    write_sets(&recipe, &sets, out, &mut manifest)?;
    let mpath = out.join("manifest.json");
    let text = serde_json::to_string_pretty(&manifest).expect("manifest serialises");
    std::fs::write(&mpath, text).map_err(|e| oerr(&mpath, e.to_string()))?;
    Ok(manifest)
}

/// Splits a source's genome into the part for its own role and the part held out for
/// the other, by record or by region, so no read draws on both sides.
fn split_for_validation(genome: Genome, s: &Source) -> (Genome, Genome) {
    match s.val_split {
        _ if s.val_fraction == 0.0 => (genome, Genome::default()),
        Split::Region => split_by_region(genome, s.val_fraction),
        Split::Record => {
            let (m, h): (Vec<_>, Vec<_>) = genome
                .contigs
                .into_iter()
                .partition(|c| (fnv(&c.id) % 10_000) as f64 >= s.val_fraction * 10_000.0);
            (
                Genome {
                    contigs: m,
                    skipped: genome.skipped,
                },
                Genome {
                    contigs: h,
                    skipped: vec![],
                },
            )
        }
    }
}

/// Writes each role's dataset into `out` and records its checksum and counts.
fn write_sets(
    recipe: &Recipe,
    sets: &BTreeMap<Role, Dataset>,
    out: &Path,
    manifest: &mut Manifest,
) -> Result<(), RecipeError> {
    let oerr = |file: &Path, msg: String| RecipeError::Output {
        file: file.display().to_string(),
        msg,
    };
    for (role, ds) in sets {
        let rname = match role {
            Role::Train => "train",
            Role::Validation => "validation",
        };
        let path = out.join(format!("{rname}.ds"));
        ds.write(&path).map_err(|e| oerr(&path, e.to_string()))?;
        manifest
            .outputs
            .push(file_sum(&path).map_err(|m| oerr(&path, m))?);
        let c = manifest.counts.entry(rname.into()).or_default();
        for smp in &ds.samples {
            let src = recipe.sources[smp.source as usize].name.clone();
            *c.entry(src)
                .or_default()
                .entry(label_name(smp.label))
                .or_default()
                .entry(smp.len as usize)
                .or_default() += 1;
        }
    }
    Ok(())
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cdspred_core::{DnaSeq, Strand};

    /// A region split keeps CDSs on their side (tail coordinates shifted) and uses a CDS
    /// crossing the cut on neither side.
    #[test]
    fn region_split_moves_features_and_blocks_the_crossing_gene() {
        let cds = |start, end| Cds {
            start,
            end,
            strand: Strand::Plus,
            complete: true,
        };
        let genome = Genome {
            contigs: vec![Contig {
                id: "chr".into(),
                seq: DnaSeq::from_ascii("ACGT".repeat(250).as_bytes()).unwrap(),
                cds: vec![cds(10, 100), cds(780, 830), cds(850, 880)],
                blocked: vec![(700, 760), (890, 900)],
            }],
            skipped: vec![],
        };
        let (head, tail) = split_by_region(genome, 0.2);
        let (h, t) = (&head.contigs[0], &tail.contigs[0]);
        assert_eq!((h.seq.len(), t.seq.len()), (800, 200));
        assert_eq!(t.id, "chr:801-1000");
        assert_eq!(h.cds, vec![cds(10, 100)]);
        assert_eq!(t.cds, vec![cds(50, 80)]);
        // The gene crossing the cut is blocked on both sides, other stretches move.
        assert_eq!(h.blocked, vec![(780, 800), (700, 760)]);
        assert_eq!(t.blocked, vec![(0, 30), (90, 100)]);
    }

    /// Settings that would silently do nothing or mask everything are refused.
    #[test]
    fn region_split_and_orf_mask_settings_are_checked() {
        let recipe = |extra: &str| -> Recipe {
            toml::from_str(&format!(
                "name = \"r\"\nseed = 1\nlengths = [100]\n[[source]]\nname = \"g\"\n\
                 role = \"train\"\ntable = 11\ngenbank = \"g.gbk\"\n{extra}\n\
                 package = {{ registry = \"PyPI\", name = \"p\", version = \"1\", path = \"x\" }}\n"
            ))
            .unwrap()
        };
        assert!(recipe("val_fraction = 0.1\nval_split = \"region\"")
            .check()
            .is_ok());
        let err = recipe("val_split = \"region\"").check().unwrap_err();
        assert!(err.contains("needs a val_fraction"), "{err}");
        assert!(recipe("noncoding_max_orf = 450").check().is_ok());
        let err = recipe("noncoding_max_orf = 9").check().unwrap_err();
        assert!(err.contains("at least 60 nt"), "{err}");
    }
}
