//! `cdspred drift`: compare reads with the model's reference profile, and build
//! profiles.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use cdspred_core::fastx::FastxReader;
use cdspred_core::TableId;
use cdspred_drift::Profile;
use cdspred_model::Predictor;
use clap::{Args, Subcommand};

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct DriftArgs {
    #[command(subcommand)]
    cmd: Option<DriftSub>,
    #[command(flatten)]
    check: CheckArgs,
}

#[derive(Subcommand)]
enum DriftSub {
    /// Build a reference profile from a dataset (written at training time too).
    ///
    /// Example: cdspred drift profile --data work/data/train.ds --out models/default/profile.json
    Profile {
        /// Dataset file (`train.ds`).
        #[arg(long)]
        data: PathBuf,
        /// Reads to use (evenly spaced over the dataset).
        #[arg(long, default_value_t = 20_000)]
        sample: usize,
        /// Model directory (default: embedded).
        #[arg(long)]
        model: Option<PathBuf>,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Args)]
struct CheckArgs {
    /// Read files (FASTA/FASTQ, plain or gzip).
    #[arg(long, num_args = 1..)]
    current: Vec<String>,
    /// Use the reads logged by a server in this data directory instead.
    #[arg(long, conflicts_with = "current")]
    logs: Option<PathBuf>,
    /// With --logs: from this time (unix seconds or an age like 24h).
    #[arg(long, requires = "logs")]
    since: Option<String>,
    /// With --logs: at most the last N reads.
    #[arg(long, default_value_t = 100_000)]
    last: usize,
    /// Genetic code the reads are scored with (read files; logs carry their own).
    #[arg(long, default_value_t = TableId::BACTERIAL)]
    table: TableId,
    /// Reference profile (default: the model's).
    #[arg(long)]
    reference: Option<PathBuf>,
    /// Model directory (default: embedded).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Output: text summary or JSON.
    #[arg(long, default_value = "text")]
    format: String,
    /// Also write a self-contained HTML report here.
    #[arg(long)]
    html: Option<PathBuf>,
    /// Threads.
    #[arg(long, default_value_t = 0)]
    threads: usize,
}

/// Builds a profile from a sample of a dataset file; the sources are named from the
/// `manifest.json` beside it, when there is one.
pub fn profile_from_dataset(
    pred: &Predictor,
    data: &Path,
    sample: usize,
    threads: usize,
) -> Result<Profile> {
    let ds = cdspred_data::Dataset::load(data)?;
    let names: Vec<String> = std::fs::read_to_string(data.with_file_name("manifest.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|m| {
            m["recipe"]["source"].as_array().map(|a| {
                a.iter()
                    .map(|s| s["name"].as_str().unwrap_or("").to_string())
                    .collect()
            })
        })
        .unwrap_or_default();
    Ok(Profile::from_dataset(pred, &ds, &names, sample, threads))
}

pub fn run(a: DriftArgs) -> Result<()> {
    if let Some(DriftSub::Profile {
        data,
        sample,
        model,
        out,
    }) = a.cmd
    {
        return write_profile(&data, sample, model.as_deref(), &out);
    }
    let c = a.check;
    let files = crate::cmd_predict::load_model(c.model.as_deref())?;
    let pred = Predictor::new(&files);
    let threads = crate::cmd_predict::thread_count(c.threads);
    let reference = reference_profile(&c)?;
    let (reads, tables) = current_reads(&c)?;
    let pairs: Vec<(&[u8], TableId)> = reads
        .iter()
        .map(|r| r.as_slice())
        .zip(tables.iter().copied())
        .collect();
    let (report, current) = cdspred_drift::check(&pred, &reference, &pairs, threads);
    if let Some(p) = &c.html {
        let chosen = reference
            .sources
            .get(&report.reference)
            .unwrap_or(&reference.mixture);
        std::fs::write(p, cdspred_drift::report::html(&report, chosen, &current))
            .with_context(|| p.display().to_string())?;
    }
    print_report(&report, &c.format)
}

/// `cdspred drift profile`: the reference profile of a dataset, written to `out`.
fn write_profile(
    data: &std::path::Path,
    sample: usize,
    model: Option<&std::path::Path>,
    out: &std::path::Path,
) -> Result<()> {
    let files = crate::cmd_predict::load_model(model)?;
    let p = profile_from_dataset(
        &Predictor::new(&files),
        data,
        sample,
        crate::cmd_predict::thread_count(0),
    )?;
    std::fs::write(out, serde_json::to_string(&p)?).with_context(|| out.display().to_string())?;
    println!(
        "profile of {} reads ({} sources) written to {}",
        p.mixture.n_reads,
        p.sources.len(),
        out.display()
    );
    Ok(())
}

/// The reference: `--reference`, else the `--model` directory's profile, else the
/// embedded model's.
fn reference_profile(c: &CheckArgs) -> Result<Profile> {
    let reference: Profile = match &c.reference {
        Some(p) => serde_json::from_str(
            &std::fs::read_to_string(p).with_context(|| p.display().to_string())?,
        )
        .with_context(|| format!("{}: not a drift profile", p.display()))?,
        None if c.model.is_some() => {
            let p = c.model.as_ref().expect("checked").join("profile.json");
            serde_json::from_str(
                &std::fs::read_to_string(&p).with_context(|| p.display().to_string())?,
            )?
        }
        None => cdspred_drift::default_profile()?,
    };
    if reference.mixture.n_reads == 0 {
        bail!("the reference profile is empty");
    }
    Ok(reference)
}

/// The reads to compare and their genetic codes: from the server's input log
/// (`--logs`) or from `--current` files (all under `--table`).
fn current_reads(c: &CheckArgs) -> Result<(Vec<Vec<u8>>, Vec<TableId>)> {
    let (reads, tables): (Vec<Vec<u8>>, Vec<TableId>) = if let Some(dir) = &c.logs {
        let db = dir.join("input_log.sqlite");
        let since = c
            .since
            .as_deref()
            .map(crate::cmd_serve::parse_time)
            .transpose()?
            .unwrap_or(0.0);
        let rows = cdspred_serve::logstore::export(&db, since, f64::MAX, usize::MAX)
            .with_context(|| db.display().to_string())?;
        cdspred_serve::logstore::drift_reads(rows, c.last)
            .with_context(|| db.display().to_string())?
            .into_iter()
            .unzip()
    } else {
        if c.current.is_empty() {
            bail!("give --current FILE... or --logs DATA_DIR");
        }
        let mut reads = Vec::new();
        for f in &c.current {
            for rec in FastxReader::open(f).map_err(crate::cmd_predict::InputError)? {
                reads.push(
                    rec.map_err(crate::cmd_predict::InputError)?
                        .seq()
                        .codes()
                        .to_vec(),
                );
            }
        }
        let n = reads.len();
        (reads, vec![c.table; n])
    };
    if reads.is_empty() {
        bail!("no reads to compare");
    }
    Ok((reads, tables))
}

/// The report on stdout, as text or JSON.
fn print_report(report: &cdspred_drift::DriftReport, format: &str) -> Result<()> {
    match format {
        "json" => println!("{}", serde_json::to_string_pretty(report)?),
        "text" => {
            for s in &report.summary {
                println!("{s}");
            }
            println!("\nfeature\ttest\tstatistic\tthreshold\tdrift");
            for f in &report.features {
                println!(
                    "{}\t{}\t{:.4}\t{}\t{}",
                    f.name, f.test, f.statistic, f.threshold, f.drift
                );
            }
            println!(
                "reference: {}; suggested genetic code: {} (in use: {})",
                report.reference, report.suggested_table, report.table_in_use
            );
        }
        f => bail!("--format {f:?}: use text or json"),
    }
    Ok(())
}
