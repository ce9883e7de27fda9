//! `cdspred train`: train a model from a config with overrides; writes a run directory.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use cdspred_train::rundir::RunDir;
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
    /// Track the run on this MLflow server (params, per-epoch metrics, tags, artifacts).
    #[arg(long, env = "MLFLOW_TRACKING_URI")]
    mlflow: Option<String>,
    /// MLflow experiment name (created when missing).
    #[arg(long, default_value = "cdspred")]
    mlflow_experiment: String,
}

/// An MLflow run being tracked, and how many epochs it has been sent.
struct Tracking {
    client: cdspred_track::Mlflow,
    run: cdspred_track::Run,
    epochs_sent: usize,
}

impl Tracking {
    /// Sends the epochs of metrics.jsonl not sent yet.
    fn send_epochs(&mut self, run_dir: &std::path::Path) -> Result<()> {
        let epochs = RunDir::new(run_dir).metrics()?;
        let mut metrics = Vec::new();
        for e in &epochs[self.epochs_sent.min(epochs.len())..] {
            for (k, x) in e.named() {
                metrics.push((k.to_string(), x, e.epoch as i64));
            }
        }
        self.client
            .log_batch(&self.run, &[], &metrics, &[])
            .context("sending metrics to MLflow")?;
        self.epochs_sent = epochs.len();
        Ok(())
    }
}

/// Makes sure the config's datasets exist before any run directory is made: builds
/// them from the config's recipe when they are missing, or names the exact command.
fn ensure_data(cfg: &TrainConfig, config: &Path) -> Result<()> {
    let missing: Vec<&Path> = [&cfg.train_data, &cfg.val_data]
        .into_iter()
        .map(PathBuf::as_path)
        .filter(|p| !p.is_file())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let dir = cfg.train_data.parent().unwrap_or(Path::new("."));
    let standard = cfg.train_data.file_name() == Some("train.ds".as_ref())
        && cfg.val_data == dir.join("validation.ds");
    let names = missing
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(" and ");
    let recipe = (!cfg.recipe.as_os_str().is_empty()).then_some(&cfg.recipe);
    match recipe {
        Some(recipe) if standard => {
            eprintln!(
                "{names} missing: building them from {} into {} (cdspred data build --recipe {} --out {})",
                recipe.display(),
                dir.display(),
                recipe.display(),
                dir.display()
            );
            cdspred_data::recipe::build(recipe, dir)
                .with_context(|| format!("building the data of {}", config.display()))?;
            Ok(())
        }
        Some(recipe) => bail!(
            "{names} not found, and the recipe {} builds train.ds and validation.ds in one folder, not these names: run `cdspred data build --recipe {} --out DIR` and point train_data/val_data at DIR",
            recipe.display(),
            recipe.display()
        ),
        None => bail!(
            "{names} not found: run `cdspred data build --recipe RECIPE --out {}` (recipes in data/recipes/), or name it in {} as `recipe = \"RECIPE\"` and train builds it",
            dir.display(),
            config.display()
        ),
    }
}

pub fn run(a: TrainArgs) -> Result<()> {
    let cfg: TrainConfig =
        crate::config::load_with_overrides(&a.config, &a.overrides, &TrainConfig::default())?;
    // The config is checked before any data is read or built.
    cfg.profiles()?;
    ensure_data(&cfg, &a.config)?;
    let run_dir = a.run_dir.unwrap_or_else(|| {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        PathBuf::from("runs").join(format!("{secs}-{}", cfg.name))
    });
    let fresh = !run_dir.exists();
    std::fs::create_dir_all(&run_dir).with_context(|| run_dir.display().to_string())?;
    // A run that fails before its first epoch is finished leaves no run directory
    // behind (nothing `runs list` would show); a later failure keeps it for --resume.
    let discard = |e: anyhow::Error| -> anyhow::Error {
        let epochs = RunDir::new(&run_dir)
            .metrics()
            .map(|m| m.len())
            .unwrap_or(0);
        if fresh && epochs == 0 {
            let _ = std::fs::remove_dir_all(&run_dir);
        } else if epochs > 0 {
            tracing::warn!(
                "the run stopped after {epochs} epochs; continue it with --resume --run-dir {}",
                run_dir.display()
            );
        }
        e
    };
    record_provenance(&run_dir, &cfg).map_err(&discard)?;
    let mut tracking = match a.mlflow.as_deref().filter(|u| !u.is_empty()) {
        Some(uri) => {
            Some(start_tracking(uri, &a.mlflow_experiment, &cfg, &run_dir).map_err(&discard)?)
        }
        None => None,
    };
    let bar = progress_bar();
    let mut last_epoch = 0;
    let result = cdspred_train::train(&cfg, &run_dir, a.resume, &mut |p| {
        // A new epoch began: the previous one's metrics are on disk; send them.
        if p.epoch != last_epoch {
            if let Some(t) = tracking.as_mut() {
                if let Err(e) = t.send_epochs(&run_dir) {
                    tracing::warn!(error = %e, "MLflow tracking failed; training goes on");
                }
            }
        }
        if let Some(b) = &bar {
            b.set_length(p.steps as u64);
            b.set_position(p.step as u64);
            b.set_prefix(format!("{}/{}", p.epoch, p.epochs));
            b.set_message(format!("loss {:.4}", p.loss));
        } else if p.epoch != last_epoch {
            tracing::info!(epoch = p.epoch, "training");
        }
        last_epoch = p.epoch;
    })
    .with_context(|| format!("training run {}", run_dir.display()));
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            if let Some(t) = &tracking {
                let _ = t.client.end_run(&t.run, false);
            }
            return Err(discard(e));
        }
    };
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    print_epochs(&report.epochs);
    write_drift_profile(&cfg, &report.best_dir)?;
    if let Some(t) = tracking.as_mut() {
        // Training is done and on disk; a tracking server gone by now loses the
        // tracking, not the run.
        if let Err(e) = finish_tracking(t, &run_dir, &report.best_dir, report.best_epoch) {
            tracing::warn!(
                error = format!("{e:#}"),
                "MLflow tracking failed at the end of training; the run directory is complete"
            );
        }
    }
    println!(
        "best epoch {} -> {}",
        report.best_epoch,
        report.best_dir.display()
    );
    Ok(())
}

/// Writes the command line, the git commit (`-dirty` with uncommitted changes) and the
/// training data's manifest sha256 into the run directory.
fn record_provenance(run_dir: &std::path::Path, cfg: &TrainConfig) -> Result<()> {
    let command: Vec<String> = std::env::args().collect();
    std::fs::write(run_dir.join(RunDir::COMMAND), command.join(" "))?;
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
        std::fs::write(run_dir.join(RunDir::COMMIT), s)?;
    }
    // The data version this run trained on: the sha256 of the dataset's manifest.
    let manifest = std::path::Path::new(&cfg.train_data).with_file_name("manifest.json");
    if let Ok(b) = std::fs::read(&manifest) {
        std::fs::write(
            run_dir.join(RunDir::DATA_MANIFEST),
            cdspred_model::files::sha256_hex(&b),
        )?;
    }
    Ok(())
}

/// A progress bar on a terminal, none otherwise.
fn progress_bar() -> Option<indicatif::ProgressBar> {
    if std::io::stderr().is_terminal() {
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
    }
}

/// The per-epoch table on stdout.
fn print_epochs(epochs: &[cdspred_train::trainer::EpochMetrics]) {
    println!("epoch\ttrain_loss\tval_loss\tval_acc\tval_gene_mcc\tval_frame\tseconds");
    for m in epochs {
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
}

/// The reference profile for drift reports, written beside the best model.
fn write_drift_profile(cfg: &TrainConfig, best_dir: &std::path::Path) -> Result<()> {
    let best = cdspred_model::files::ModelFiles::load(best_dir)?;
    let profile = crate::cmd_drift::profile_from_dataset(
        &cdspred_model::Predictor::new(&best),
        &cfg.train_data,
        20_000,
        crate::cmd_predict::thread_count(cfg.threads),
    )?;
    std::fs::write(
        best_dir.join("profile.json"),
        serde_json::to_string(&profile)?,
    )?;
    Ok(())
}

/// Finds or creates the experiment, starts the run, and logs the config as params and
/// the provenance (commit, data manifest hash, run directory) as tags.
fn start_tracking(
    uri: &str,
    experiment: &str,
    cfg: &TrainConfig,
    run_dir: &std::path::Path,
) -> Result<Tracking> {
    let client = cdspred_track::Mlflow::new(uri);
    let exp = client
        .experiment(experiment)
        .with_context(|| format!("MLflow server {uri}"))?;
    let read = |f: &str| {
        std::fs::read_to_string(run_dir.join(f))
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    let name = run_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| cfg.name.clone());
    let (commit, data, dir) = (
        read("git_commit.txt"),
        read("data_manifest_sha256.txt"),
        run_dir.display().to_string(),
    );
    let run = client.create_run(
        &exp,
        &name,
        &[
            ("git_commit", commit.as_str()),
            ("data_manifest_sha256", data.as_str()),
            ("run_dir", dir.as_str()),
            ("mlflow.source.name", "cdspred train"),
        ],
    )?;
    // Through text, so f32 values keep their short form (0.004, not 0.004000000189…).
    let params: Vec<(String, String)> = match serde_json::from_str(&serde_json::to_string(cfg)?)? {
        serde_json::Value::Object(m) => m
            .into_iter()
            .map(|(k, v)| {
                let v = match v {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                (k, v)
            })
            .collect(),
        _ => Vec::new(),
    };
    client.log_batch(&run, &params, &[], &[])?;
    tracing::info!(run = %run.id, experiment = %exp, "tracking on MLflow");
    Ok(Tracking {
        client,
        run,
        epochs_sent: 0,
    })
}

/// Sends the last metrics, the best epoch, the model directory, plots and run files,
/// and ends the run.
fn finish_tracking(
    t: &mut Tracking,
    run_dir: &std::path::Path,
    best_dir: &std::path::Path,
    best_epoch: usize,
) -> Result<()> {
    t.send_epochs(run_dir)?;
    t.client.log_batch(
        &t.run,
        &[],
        &[("best_epoch".into(), best_epoch as f64, 0)],
        &[],
    )?;
    t.client.log_artifact_dir(&t.run, best_dir, "model")?;
    // (path, file name) of the run's plots, config, metrics and command.
    let mut files: Vec<_> = std::fs::read_dir(run_dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .filter_map(|p| {
            let n = p.file_name()?.to_string_lossy().into_owned();
            let keep = n.ends_with(".svg")
                || n == "config.json"
                || n == "metrics.jsonl"
                || n == "command.txt";
            keep.then_some((p, n))
        })
        .collect();
    files.sort();
    for (f, n) in files {
        let dest = if n.ends_with(".svg") {
            format!("plots/{n}")
        } else {
            n
        };
        t.client.log_artifact(&t.run, &f, &dest)?;
    }
    t.client.end_run(&t.run, true)?;
    println!("MLflow run {}", t.run.id);
    Ok(())
}
