//! `cdspred data …`: build datasets from recipes, import seed CSVs.

use std::path::PathBuf;

use anyhow::Result;
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
        DataCommand::ImportSeed { csv, output } => {
            let ds = cdspred_data::seed::read_seed_csv(&csv, 11, 0)?;
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
