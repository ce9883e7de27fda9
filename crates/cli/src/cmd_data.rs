//! `cdspred data …`: build datasets from recipes, import seed CSVs.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Subcommand;

#[derive(Subcommand)]
pub enum DataCommand {
    /// Sample labelled reads from the genomes of a recipe; write train.ds,
    /// validation.ds and manifest.json (sha256 of every input and output).
    ///
    /// Example: cdspred data build --recipe data/recipes/default.toml --out work/data
    Build {
        /// The recipe (TOML).
        #[arg(long)]
        recipe: PathBuf,
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
    },
    /// Convert a seed CSV fragment set into FASTA (labels go into the ids' suffix
    /// `_sense1`/`_sense0`).
    ///
    /// Example: cdspred data import-seed ../shared/data/seed/tt4.csv.gz -o tt4.fasta
    ImportSeed {
        /// The CSV (plain or gzip).
        csv: PathBuf,
        /// Output FASTA.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Add sequencing errors to a labelled read set (reads + truth TSV, as in
    /// shared/data/eval): writes PREFIX.fasta and PREFIX.tsv with the frames of coding
    /// reads tracked through indels. Deterministic in --seed.
    ///
    /// Example: cdspred data mutate --profile indel1 --reads r.fasta.gz --truth r.tsv.gz --out work/indel1/r
    Mutate {
        /// A built-in profile: none, sub0.5, sub1, illumina, adna, indel0.5, indel1,
        /// homopolymer1, mixed4, long6.
        #[arg(long)]
        profile: String,
        /// Seed of the errors.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Reads (FASTA/FASTQ, plain or gzip).
        #[arg(long)]
        reads: PathBuf,
        /// Their truth TSV (columns id genome table length sense gene strand frame).
        #[arg(long)]
        truth: PathBuf,
        /// Output prefix.
        #[arg(long)]
        out: PathBuf,
    },
}

pub fn run(cmd: DataCommand) -> Result<()> {
    match cmd {
        DataCommand::Build { recipe, out } => {
            let m = cdspred_data::recipe::build(&recipe, &out)?;
            for o in &m.outputs {
                println!("{}\t{}\t{} bytes", o.path, o.sha256, o.bytes);
            }
            for (role, by_src) in &m.counts {
                let n: usize = by_src
                    .values()
                    .flat_map(|l| l.values())
                    .flat_map(|x| x.values())
                    .sum();
                println!("{role}: {n} reads from {} sources", by_src.len());
            }
            let skipped: usize = m.skipped.values().map(|s| s.0).sum();
            if skipped > 0 {
                println!("skipped features: {skipped} (listed in manifest.json)");
            }
            Ok(())
        }
        DataCommand::Mutate {
            profile,
            seed,
            reads,
            truth,
            out,
        } => mutate(&profile, seed, &reads, &truth, &out),
        DataCommand::ImportSeed { csv, output } => {
            let ds = cdspred_data::seed::read_seed_csv(&csv, cdspred_core::TableId::BACTERIAL, 0)?;
            let mut text = String::new();
            for (i, s) in ds.samples.iter().enumerate() {
                let lab = matches!(s.label, cdspred_data::ReadLabel::Sense(true)) as u8;
                text += &format!(
                    ">seed_{i}_sense{lab}\n{}\n",
                    cdspred_core::dna::codes_to_ascii(ds.read(s))
                );
            }
            std::fs::write(&output, text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", output.display()))?;
            println!(
                "{} fragments written to {}",
                ds.samples.len(),
                output.display()
            );
            Ok(())
        }
    }
}

fn mutate(profile: &str, seed: u64, reads: &Path, truth: &Path, out: &Path) -> Result<()> {
    use cdspred_core::ReadClass;
    use cdspred_data::{sample::Rng, ErrorProfile, ReadLabel};
    let p = ErrorProfile::named(profile)?;
    let reads = cdspred_train::evaluate::read_reads(reads)?;
    let truth = cdspred_train::evaluate::read_truth(truth)?;
    let by_id: std::collections::HashMap<&str, &cdspred_train::evaluate::Truth> =
        truth.iter().map(|t| (t.id.as_str(), t)).collect();
    let (mut fa, mut tsv) = (
        String::new(),
        String::from("id\tgenome\ttable\tlength\tsense\tgene\tstrand\tframe\tgc\n"),
    );
    let mut buf = Vec::new();
    let mut n = 0usize;
    for (i, (id, seq)) in reads.iter().enumerate() {
        let Some(t) = by_id.get(id.as_str()) else {
            anyhow::bail!("read {id:?} (record {}) has no truth row", i + 1);
        };
        let mut rng = Rng::new(seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let label = p.apply(seq.codes(), ReadLabel::Class(t.class), &mut rng, &mut buf);
        let (strand, frame) = match label {
            ReadLabel::Class(ReadClass::Coding(s, f)) => (s.symbol(), f.offset().to_string()),
            _ => ('.', ".".to_string()),
        };
        fa += &format!(">{id}\n{}\n", cdspred_core::dna::codes_to_ascii(&buf));
        tsv += &format!(
            "{id}\t{}\t{}\t{}\t{}\t{}\t{strand}\t{frame}\t{:.4}\n",
            t.genome,
            t.table,
            t.length,
            t.sense as u8,
            t.gene as u8,
            cdspred_core::dna::gc_fraction(&buf)
        );
        n += 1;
    }
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).with_context(|| dir.display().to_string())?;
    }
    let (fp, tp) = (
        PathBuf::from(format!("{}.fasta", out.display())),
        PathBuf::from(format!("{}.tsv", out.display())),
    );
    std::fs::write(&fp, fa).with_context(|| fp.display().to_string())?;
    std::fs::write(&tp, tsv).with_context(|| tp.display().to_string())?;
    println!(
        "{n} reads with profile {} v{} written to {} and {}",
        p.name,
        p.version,
        fp.display(),
        tp.display()
    );
    Ok(())
}
