//! `cdspred train`: train a model from a config with overrides; writes a run directory.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context, Result};
use cdspred_train::TrainConfig;
use clap::Args;

#[derive(Args)]
pub struct TrainArgs {
    /// Config file (TOML); see configs/default.toml.
    #[arg(long)]
    config: PathBuf,
    /// Overrides, e.g. `epochs=3 lr=0.003`.
    overrides: Vec<String>,
    /// Run directory (default: runs/<time>-<name>).
    #[arg(long)]
    run_dir: Option<PathBuf>,
    /// Continue the run in --run-dir from its last checkpoint.
    #[arg(long, requires = "run_dir")]
    resume: bool,
}

pub fn default_config() -> TrainConfig {
    TrainConfig {
        name: "run".into(),
        train_data: "work/data/train.ds".into(),
        val_data: "work/data/validation.ds".into(),
        dim: 16,
        hidden: 32,
        epochs: 10,
        patience: 3,
        batch_size: 256,
        lr: 0.003,
        weight_decay: 1e-5,
        warmup_steps: 200,
        seed: 1,
        threads: 0,
        sense_label_weight: 1.0,
        max_train_reads: 0,
        max_val_reads: 0,
        gc_augment: 0.0,
        gc_augment_strength: 0.5,
        gc_augment_up: 0.8,
        stop_after_epochs: 0,
    }
}

pub fn run(a: TrainArgs) -> Result<()> {
    let cfg: TrainConfig =
        crate::config::load_with_overrides(&a.config, &a.overrides, &default_config())?;
    let run_dir = a.run_dir.unwrap_or_else(|| {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        PathBuf::from("runs").join(format!("{secs}-{}", cfg.name))
    });
    std::fs::create_dir_all(&run_dir).with_context(|| run_dir.display().to_string())?;
    let command: Vec<String> = std::env::args().collect();
    std::fs::write(run_dir.join("command.txt"), command.join(" "))?;
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success());
    let dirty = std::process::Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=no"])
        .output()
        .ok();
    if let Some(c) = commit {
        let mut s = String::from_utf8_lossy(&c.stdout).trim().to_string();
        if dirty.is_some_and(|d| !d.stdout.is_empty()) {
            s.push_str("-dirty");
        }
        std::fs::write(run_dir.join("git_commit.txt"), s)?;
    }
    // The data version this run trained on: the sha256 of the dataset's manifest.
    let manifest = std::path::Path::new(&cfg.train_data).with_file_name("manifest.json");
    if let Ok(b) = std::fs::read(&manifest) {
        std::fs::write(
            run_dir.join("data_manifest_sha256.txt"),
            cdspred_model::files::sha256_hex(&b),
        )?;
    }
    let bar = if std::io::stderr().is_terminal() {
        let b = indicatif::ProgressBar::new(0);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "epoch {prefix} [{bar:30}] {pos}/{len} {msg} ETA {eta}",
            )
            .expect("valid template"),
        );
        Some(b)
    } else {
        None
    };
    let mut last_epoch = 0;
    let report = cdspred_train::train(&cfg, &run_dir, a.resume, &mut |p| {
        if let Some(b) = &bar {
            b.set_length(p.steps as u64);
            b.set_position(p.step as u64);
            b.set_prefix(format!("{}/{}", p.epoch, p.epochs));
            b.set_message(format!("loss {:.4}", p.loss));
        } else if p.epoch != last_epoch {
            last_epoch = p.epoch;
            tracing::info!(epoch = p.epoch, "training");
        }
    })
    .with_context(|| format!("training run {}", run_dir.display()))?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    println!("epoch\ttrain_loss\tval_loss\tval_acc\tval_gene_mcc\tval_frame\tseconds");
    for m in &report.epochs {
        println!(
            "{}\t{:.4}\t{:.4}\t{:.4}\t{:.4}\t{:.4}\t{:.1}",
            m.epoch,
            m.train_loss,
            m.val_loss,
            m.val_accuracy,
            m.val_gene_mcc,
            m.val_frame,
            m.seconds
        );
    }
    // The reference profile for drift reports travels with the best model.
    let best = cdspred_model::files::ModelFiles::load(&report.best_dir)?;
    let profile = crate::cmd_drift::profile_from_dataset(
        &cdspred_model::Predictor::new(&best),
        &cfg.train_data,
        20_000,
        crate::cmd_predict::thread_count(cfg.threads),
    )?;
    std::fs::write(
        report.best_dir.join("profile.json"),
        serde_json::to_string(&profile)?,
    )?;
    println!(
        "best epoch {} -> {}",
        report.best_epoch,
        report.best_dir.display()
    );
    Ok(())
}
