//! `cdspred runs list|show|compare`: tables over the run store (`runs/<time>-<name>/`).
//!
//! A run directory holds `config.json` (the resolved config), `command.txt`,
//! `git_commit.txt`, `metrics.jsonl` (one JSON object per epoch), plots and `best/`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use cdspred_train::rundir::RunDir;
use cdspred_train::trainer::EpochMetrics;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum RunsCommand {
    /// One line per run: best epoch and its validation metrics.
    ///
    /// Example: cdspred runs list --runs-dir runs
    List {
        /// The run store.
        #[arg(long, default_value = "runs")]
        runs_dir: PathBuf,
    },
    /// A run's command, commit, config and per-epoch metrics.
    ///
    /// Example: cdspred runs show runs/1764230000-default
    Show {
        /// The run directory.
        run: PathBuf,
    },
    /// Runs side by side: the config keys that differ and the best metrics.
    ///
    /// Example: cdspred runs compare runs/a runs/b
    Compare {
        /// Two or more run directories.
        #[arg(required = true, num_args = 2..)]
        runs: Vec<PathBuf>,
    },
}

/// What the run store knows about one run.
pub struct RunSummary {
    pub dir: PathBuf,
    pub config: serde_json::Map<String, serde_json::Value>,
    pub epochs: Vec<EpochMetrics>,
    pub commit: Option<String>,
    pub command: Option<String>,
}

impl RunSummary {
    pub fn load(dir: &Path) -> Result<RunSummary> {
        let run = RunDir::new(dir);
        if !run.file(RunDir::CONFIG).exists() {
            bail!("{} is not a run directory", dir.display());
        }
        // Typed on reading; a map of its keys for listing and comparing.
        let config = serde_json::to_value(run.config()?)?
            .as_object()
            .cloned()
            .unwrap_or_default();
        Ok(RunSummary {
            dir: dir.to_path_buf(),
            config,
            epochs: run.metrics()?,
            commit: run.text(RunDir::COMMIT),
            command: run.text(RunDir::COMMAND),
        })
    }

    /// The epoch with the lowest validation loss (the one `best/` holds).
    pub fn best(&self) -> Option<&EpochMetrics> {
        EpochMetrics::best(&self.epochs)
    }

    fn seconds(&self) -> f64 {
        self.epochs.iter().map(|e| e.seconds).sum()
    }

    fn name(&self) -> String {
        self.dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.dir.display().to_string())
    }
}

/// A metric of the best epoch, or `-` when the run has none yet.
fn num(b: Option<&EpochMetrics>, key: &str) -> String {
    b.and_then(|b| b.get(key))
        .map(|x| format!("{x:.4}"))
        .unwrap_or_else(|| "-".into())
}

/// The best epoch's number, or `-`.
fn epoch_of(b: Option<&EpochMetrics>) -> String {
    b.map_or_else(|| "-".into(), |b| b.epoch.to_string())
}

fn value(v: Option<&serde_json::Value>) -> String {
    match v {
        None => "-".into(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
    }
}

/// Formats rows as an aligned text table.
fn table(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .map(|r| r.get(c).map_or(0, |s| s.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for r in rows {
        let line: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(i, s)| format!("{s:<w$}", w = widths[i]))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// Appends a line to the output text.
macro_rules! w {
    ($o:expr, $($t:tt)*) => {{
        use std::fmt::Write as _;
        let _ = writeln!($o, $($t)*);
    }};
}

pub fn run(c: RunsCommand) -> Result<()> {
    let out = match c {
        RunsCommand::List { runs_dir } => list(&runs_dir)?,
        RunsCommand::Show { run } => show(&run)?,
        RunsCommand::Compare { runs } => compare(&runs)?,
    };
    crate::output::print_stdout(&out)
}

/// One line per run under `runs_dir`.
fn list(runs_dir: &Path) -> Result<String> {
    let mut out = String::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(runs_dir)
        .with_context(|| format!("cannot read {}", runs_dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| RunDir::new(p).exists())
        .collect();
    dirs.sort();
    let mut rows = vec![[
        "run", "epochs", "best", "val_loss", "gene_mcc", "frame", "seconds", "commit",
    ]
    .map(String::from)
    .to_vec()];
    for d in dirs {
        let r = RunSummary::load(&d)?;
        let b = r.best();
        rows.push(vec![
            r.name(),
            r.epochs.len().to_string(),
            epoch_of(b),
            num(b, "val_loss"),
            num(b, "val_gene_mcc"),
            num(b, "val_frame"),
            format!("{:.0}", r.seconds()),
            r.commit
                .as_deref()
                .map(|c| c.chars().take(10).collect())
                .unwrap_or_else(|| "-".into()),
        ]);
    }
    out.push_str(&table(&rows));
    Ok(out)
}

/// One run: command, commit, data, config and epochs.
fn show(run: &Path) -> Result<String> {
    let mut out = String::new();
    let r = RunSummary::load(run)?;
    w!(out, "run      {}", r.dir.display());
    w!(out, "command  {}", r.command.as_deref().unwrap_or("-"));
    w!(out, "commit   {}", r.commit.as_deref().unwrap_or("-"));
    if let Some(m) = RunDir::new(run).text(RunDir::DATA_MANIFEST) {
        w!(out, "data     manifest sha256 {m}");
    }
    w!(out, "\nconfig");
    let rows: Vec<Vec<String>> = r
        .config
        .iter()
        .map(|(k, v)| vec![format!("  {k}"), value(Some(v))])
        .collect();
    out.push_str(&table(&rows));
    w!(out, "\nepochs");
    let keys = [
        "epoch",
        "train_loss",
        "val_loss",
        "val_accuracy",
        "val_gene_mcc",
        "val_frame",
        "lr",
        "seconds",
    ];
    let mut rows = vec![keys.map(String::from).to_vec()];
    for e in &r.epochs {
        rows.push(
            keys.iter()
                .map(|k| match e.get(k) {
                    Some(x) if *k == "epoch" => format!("{x}"),
                    Some(x) if *k == "lr" => format!("{x:.2e}"),
                    Some(x) => format!("{x:.4}"),
                    None => "-".into(),
                })
                .collect(),
        );
    }
    out.push_str(&table(&rows));
    if let Some(b) = r.best() {
        w!(
            out,
            "\nbest epoch {} -> {}",
            b.epoch,
            RunDir::new(run).best_dir().display()
        );
    }
    Ok(out)
}

/// The config keys that differ between runs, and their best metrics.
fn compare(runs: &[PathBuf]) -> Result<String> {
    let mut out = String::new();
    let rs: Vec<RunSummary> = runs
        .iter()
        .map(|d| RunSummary::load(d))
        .collect::<Result<_>>()?;
    let keys: BTreeSet<&String> = rs.iter().flat_map(|r| r.config.keys()).collect();
    let mut rows = vec![std::iter::once("".to_string())
        .chain(rs.iter().map(RunSummary::name))
        .collect::<Vec<_>>()];
    for k in keys {
        let vals: Vec<String> = rs.iter().map(|r| value(r.config.get(k))).collect();
        if vals.iter().any(|v| v != &vals[0]) {
            rows.push(std::iter::once(k.clone()).chain(vals).collect());
        }
    }
    for (label, key) in [
        ("best epoch", "epoch"),
        ("val_loss", "val_loss"),
        ("val_accuracy", "val_accuracy"),
        ("val_gene_mcc", "val_gene_mcc"),
        ("val_frame", "val_frame"),
    ] {
        let vals = rs.iter().map(|r| {
            if key == "epoch" {
                epoch_of(r.best())
            } else {
                num(r.best(), key)
            }
        });
        rows.push(std::iter::once(label.to_string()).chain(vals).collect());
    }
    rows.push(
        std::iter::once("seconds".to_string())
            .chain(rs.iter().map(|r| format!("{:.0}", r.seconds())))
            .collect(),
    );
    out.push_str(&table(&rows));
    Ok(out)
}
