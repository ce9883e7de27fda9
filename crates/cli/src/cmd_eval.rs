//! `cdspred eval`: metrics per genome and read length on labelled read sets.

use std::path::PathBuf;

use anyhow::{bail, Result};
use cdspred_core::TableId;
use cdspred_model::estimate::ErrorHint;
use cdspred_model::hmm::SelfTrainMode;
use cdspred_train::evaluate::{
    evaluate_sense, evaluate_sets, hinted_for_set, read_reads, read_truth, render,
};
use clap::Args;

#[derive(Args)]
pub struct EvalArgs {
    /// Model directory (default: the embedded model).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Truth TSVs (`id genome table length sense gene strand frame gc`); each needs a
    /// matching --reads file, given in the same order.
    #[arg(long)]
    truth: Vec<PathBuf>,
    /// Read files (FASTA/FASTQ) for the truth TSVs.
    #[arg(long)]
    reads: Vec<PathBuf>,
    /// Seed CSV fragment sets (sense labels), scored under --table.
    #[arg(long)]
    seed_csv: Vec<PathBuf>,
    /// Genetic code for --seed-csv.
    #[arg(long, default_value_t = TableId::BACTERIAL)]
    table: TableId,
    /// Decision threshold (0–1).
    #[arg(long, default_value_t = 0.5, value_parser = crate::config::probability)]
    threshold: f32,
    /// Threads.
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// What the model is told about the reads' sequencing errors (see `predict`); with
    /// `auto` each read set is surveyed on its own.
    #[arg(long, default_value = "auto", value_parser = crate::cmd_predict::parse_error_hint)]
    errors: ErrorHint,
    /// Self-training (see `predict`: every read of a set told or surveyed to carry
    /// indels, otherwise its reads under 150 nt): `auto` when a set holds 1,000
    /// confidently coding reads, `on` from 300, `off` never. Each set teaches only
    /// itself.
    #[arg(long, default_value = "auto", value_parser = crate::cmd_predict::parse_self_train)]
    self_train: SelfTrainMode,
    /// Also write the full report as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
}

pub fn run(a: EvalArgs) -> Result<()> {
    if a.truth.len() != a.reads.len() {
        bail!(
            "give one --reads file per --truth file ({} vs {})",
            a.reads.len(),
            a.truth.len()
        );
    }
    let files = crate::cmd_predict::load_model(a.model.as_deref())?;
    let pred = cdspred_model::Predictor::new(&files);
    let threads = crate::cmd_predict::thread_count(a.threads);
    let mut json = serde_json::Map::new();
    if !a.truth.is_empty() {
        let mut sets = Vec::new();
        for (t, r) in a.truth.iter().zip(&a.reads) {
            sets.push((read_reads(r)?, read_truth(t)?));
        }
        let rep = evaluate_sets(&pred, &sets, a.errors, a.threshold, threads, a.self_train);
        for (est, r) in rep.error_estimates.iter().zip(&a.reads) {
            if let Some(e) = est {
                tracing::info!("{}: sequencing errors: {}", r.display(), e.describe());
            }
        }
        print!("{}", render(&rep));
        if rep.missing > 0 {
            eprintln!("warning: {} truth rows without a read", rep.missing);
        }
        json.insert("read_sets".into(), serde_json::to_value(&rep)?);
    }
    for csv in &a.seed_csv {
        let ds = cdspred_data::seed::read_seed_csv(csv, a.table, 0)?;
        let reads: Vec<(&[u8], TableId)> =
            ds.samples.iter().map(|s| (ds.read(s), a.table)).collect();
        let (hinted, est) = hinted_for_set(&pred, a.errors, &reads, threads, a.self_train);
        if let Some(e) = est {
            tracing::info!("{}: sequencing errors: {}", csv.display(), e.describe());
        }
        let b = evaluate_sense(&hinted, &ds, a.table, a.threshold, threads);
        println!(
            "{} (table {}): n={} sense accuracy={:.4} mcc={:.4} auc={:.4}",
            csv.display(),
            a.table,
            b.n,
            b.accuracy,
            b.mcc,
            b.roc_auc
        );
        json.insert(csv.display().to_string(), serde_json::to_value(b)?);
    }
    if let Some(p) = a.json {
        std::fs::write(&p, serde_json::to_string_pretty(&json)?)?;
    }
    Ok(())
}
