//! The run directory: one type owns its layout. The trainer writes `config.json`,
//! `metrics.jsonl` (one [`EpochMetrics`] per line), `checkpoint.safetensors`, the plots
//! and `best/`; `cdspred train` adds `command.txt`, `git_commit.txt` and
//! `data_manifest_sha256.txt`; `cdspred runs`, `cdspred model promote` and `cdspred
//! sweep` read them back, typed, through [`RunDir`].

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::trainer::{EpochMetrics, TrainConfig};

/// A run directory that cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum RunDirError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A line of `metrics.jsonl` is not one epoch's metrics.
    #[error("{path}: line {line}: {source}")]
    Metrics {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// Why.
        source: serde_json::Error,
    },
    /// `config.json` is not a training config of this version.
    #[error("{path}: not a training config: {source}")]
    Config {
        /// The file.
        path: PathBuf,
        /// Why.
        source: serde_json::Error,
    },
}

/// A run directory (`runs/<time>-<name>/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunDir {
    dir: PathBuf,
}

impl RunDir {
    /// The resolved training config.
    pub const CONFIG: &'static str = "config.json";
    /// Per-epoch metrics, one JSON object per line.
    pub const METRICS: &'static str = "metrics.jsonl";
    /// The last epoch's weights and optimiser state (for `--resume`).
    pub const CHECKPOINT: &'static str = "checkpoint.safetensors";
    /// The model of the best epoch.
    pub const BEST: &'static str = "best";
    /// The command line that started the run.
    pub const COMMAND: &'static str = "command.txt";
    /// The source revision.
    pub const COMMIT: &'static str = "git_commit.txt";
    /// sha256 of the training data's manifest.
    pub const DATA_MANIFEST: &'static str = "data_manifest_sha256.txt";

    /// The run directory at `dir` (nothing is read yet).
    pub fn new(dir: impl Into<PathBuf>) -> RunDir {
        RunDir { dir: dir.into() }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// A file of the run.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The best model's directory.
    pub fn best_dir(&self) -> PathBuf {
        self.file(Self::BEST)
    }

    /// Whether the directory holds a run (its config was written).
    pub fn exists(&self) -> bool {
        self.file(Self::CONFIG).is_file()
    }

    /// A small text file of the run, trimmed (None when absent).
    pub fn text(&self, name: &str) -> Option<String> {
        std::fs::read_to_string(self.file(name))
            .ok()
            .map(|s| s.trim().to_string())
    }

    /// Writes the resolved training config.
    pub fn write_config(&self, cfg: &TrainConfig) -> Result<(), RunDirError> {
        let path = self.file(Self::CONFIG);
        let text = serde_json::to_string_pretty(cfg).expect("a config serialises");
        std::fs::write(&path, text).map_err(|source| RunDirError::Io { path, source })
    }

    /// The run's training config.
    pub fn config(&self) -> Result<TrainConfig, RunDirError> {
        let path = self.file(Self::CONFIG);
        let text = std::fs::read_to_string(&path).map_err(|source| RunDirError::Io {
            path: path.clone(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|source| RunDirError::Config { path, source })
    }

    /// The epochs recorded so far (none when `metrics.jsonl` does not exist yet); a
    /// line that is not one epoch's metrics is an error naming the file and line.
    pub fn metrics(&self) -> Result<Vec<EpochMetrics>, RunDirError> {
        self.parse_metrics(&self.metrics_text()?, usize::MAX)
    }

    /// `metrics.jsonl`'s text (empty when it does not exist yet).
    fn metrics_text(&self) -> Result<String, RunDirError> {
        let path = self.file(Self::METRICS);
        match std::fs::read_to_string(&path) {
            Ok(t) => Ok(t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
            Err(source) => Err(RunDirError::Io { path, source }),
        }
    }

    /// The first `n` epochs of a metrics text (a line that is not one epoch's metrics
    /// is an error naming the file and line).
    fn parse_metrics(&self, text: &str, n: usize) -> Result<Vec<EpochMetrics>, RunDirError> {
        let path = self.file(Self::METRICS);
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .take(n)
            .map(|(i, l)| {
                serde_json::from_str(l).map_err(|source| RunDirError::Metrics {
                    path: path.clone(),
                    line: i + 1,
                    source,
                })
            })
            .collect()
    }

    /// The first `n` epochs recorded, with `metrics.jsonl` cut back to them (written
    /// beside and renamed over it). For resuming from a checkpoint of epoch `n`: a run
    /// killed after it logged a later epoch, or in the middle of logging it, leaves
    /// lines past `n` (the last possibly torn); they are dropped, since that epoch runs
    /// again. The first `n` lines must be whole.
    pub fn metrics_up_to(&self, n: usize) -> Result<Vec<EpochMetrics>, RunDirError> {
        let text = self.metrics_text()?;
        let kept = self.parse_metrics(&text, n)?;
        let body: String = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .take(n)
            .map(|l| format!("{l}\n"))
            .collect();
        let path = self.file(Self::METRICS);
        let tmp = path.with_extension("jsonl.tmp");
        let io = |source| RunDirError::Io {
            path: path.clone(),
            source,
        };
        std::fs::write(&tmp, body).map_err(io)?;
        std::fs::rename(&tmp, &path).map_err(io)?;
        Ok(kept)
    }

    /// Appends one epoch's metrics.
    pub fn append_metrics(&self, m: &EpochMetrics) -> Result<(), RunDirError> {
        let path = self.file(Self::METRICS);
        let line = serde_json::to_string(m).expect("metrics serialise");
        let io = |source| RunDirError::Io {
            path: path.clone(),
            source,
        };
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io)?;
        writeln!(f, "{line}").map_err(io)
    }
}

impl EpochMetrics {
    /// The epoch with the lowest validation loss (the one `best/` holds; the first of
    /// equals).
    pub fn best(epochs: &[EpochMetrics]) -> Option<&EpochMetrics> {
        epochs
            .iter()
            .reduce(|a, b| if b.val_loss < a.val_loss { b } else { a })
    }

    /// The metrics by name, as `metrics.jsonl` names them (without `epoch`).
    pub fn named(&self) -> [(&'static str, f64); 8] {
        [
            ("train_loss", self.train_loss),
            ("val_loss", self.val_loss),
            ("val_accuracy", self.val_accuracy),
            ("val_gene_mcc", self.val_gene_mcc),
            ("val_gene_auc", self.val_gene_auc),
            ("val_frame", self.val_frame),
            ("lr", self.lr),
            ("seconds", self.seconds),
        ]
    }

    /// One metric by name (`epoch` too).
    pub fn get(&self, name: &str) -> Option<f64> {
        if name == "epoch" {
            return Some(self.epoch as f64);
        }
        self.named().iter().find(|m| m.0 == name).map(|m| m.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn epoch(n: usize, val_loss: f64) -> EpochMetrics {
        EpochMetrics {
            epoch: n,
            train_loss: 1.0,
            val_loss,
            val_accuracy: 0.5,
            val_gene_mcc: 0.4,
            val_gene_auc: 0.9,
            val_frame: 0.8,
            lr: 1e-3,
            seconds: 2.0,
        }
    }

    #[test]
    fn resuming_cuts_the_log_back_to_the_checkpoint() {
        // Killed after logging epoch 3 and in the middle of logging epoch 4, with the
        // checkpoint still at epoch 2.
        let dir = std::env::temp_dir().join(format!("cdspred-rundir-cut-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let run = RunDir::new(&dir);
        for (n, l) in [(1, 0.7), (2, 0.5), (3, 0.4)] {
            run.append_metrics(&epoch(n, l)).unwrap();
        }
        let path = dir.join(RunDir::METRICS);
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("{\"epoch\":4,\"train_lo");
        std::fs::write(&path, text).unwrap();
        assert!(
            run.metrics().is_err(),
            "the torn line is an error when read whole"
        );
        let kept = run.metrics_up_to(2).unwrap();
        assert_eq!(kept.len(), 2);
        assert_eq!(
            run.metrics().unwrap().len(),
            2,
            "the file holds epochs 1-2 only"
        );
        run.append_metrics(&epoch(3, 0.4)).unwrap();
        assert_eq!(run.metrics().unwrap().len(), 3);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn metrics_round_trip_and_a_bad_line_is_named() {
        let dir = std::env::temp_dir().join(format!("cdspred-rundir-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let run = RunDir::new(&dir);
        assert!(run.metrics().unwrap().is_empty());
        for (n, l) in [(1, 0.7), (2, 0.5), (3, 0.5), (4, 0.6)] {
            run.append_metrics(&epoch(n, l)).unwrap();
        }
        let m = run.metrics().unwrap();
        assert_eq!(m.len(), 4);
        assert_eq!(EpochMetrics::best(&m).unwrap().epoch, 2);
        assert_eq!(m[1].get("val_loss"), Some(0.5));
        assert_eq!(m[1].get("epoch"), Some(2.0));
        assert_eq!(m[1].get("nope"), None);
        std::fs::write(run.file(RunDir::METRICS), "{\"epoch\": 1}\n").unwrap();
        let e = run.metrics().unwrap_err().to_string();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(e.contains("metrics.jsonl: line 1: missing field"), "{e}");
    }

    #[test]
    fn config_round_trips_and_an_unknown_key_is_named() {
        let dir = std::env::temp_dir().join(format!("cdspred-rundir-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let run = RunDir::new(&dir);
        let cfg = TrainConfig {
            name: "rt".into(),
            dim: 8,
            ..TrainConfig::default()
        };
        run.write_config(&cfg).unwrap();
        assert_eq!(run.config().unwrap(), cfg);
        std::fs::write(run.file(RunDir::CONFIG), "{\"nme\": \"x\"}").unwrap();
        let e = run.config().unwrap_err().to_string();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(
            e.contains("config.json: not a training config: unknown field `nme`"),
            "{e}"
        );
    }
}
