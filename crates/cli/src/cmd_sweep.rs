//! `cdspred sweep SWEEP.toml`: runs the sweep engine of the train crate
//! ([`cdspred_train::sweep`]), training every trial as a `cdspred train` child process
//! with its own run directory, several at a time.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result};
use cdspred_train::sweep::{run_sweep, SweepError, SweepFile, TrialJob};
use clap::Args;

#[derive(Args)]
pub struct SweepArgs {
    /// Sweep file (TOML); see configs/sweep.toml.
    sweep: PathBuf,
    /// Output directory (default: runs/sweep-<time>-<name>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Extra overrides for every trial, e.g. `train_data=… val_data=…`.
    overrides: Vec<String>,
}

pub fn run(a: SweepArgs) -> Result<()> {
    let text = std::fs::read_to_string(&a.sweep)
        .with_context(|| format!("cannot read {}", a.sweep.display()))?;
    let s: SweepFile =
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", a.sweep.display()))?;
    s.check().with_context(|| a.sweep.display().to_string())?;
    let out = a.out.clone().unwrap_or_else(|| {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        PathBuf::from("runs").join(format!("sweep-{secs}-{}", s.name))
    });
    std::fs::create_dir_all(&out).with_context(|| out.display().to_string())?;
    std::fs::write(out.join("sweep.toml"), &text)?;
    let exe = std::env::current_exe().context("cannot find the cdspred binary")?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let parallel = s.parallel.max(1);
    let threads = (cores / parallel).max(1);
    // Trains the jobs of one batch at the same time, each as a child process.
    let mut train = |jobs: &[TrialJob<'_>]| -> Result<(), SweepError> {
        let mut children = Vec::new();
        for j in jobs {
            let mut cmd = Command::new(&exe);
            cmd.args(["-q", "train", "--config"])
                .arg(&s.base_config)
                .arg("--run-dir")
                .arg(&j.dir);
            if j.resume {
                cmd.arg("--resume");
            }
            cmd.args(&s.overrides).args(&a.overrides);
            cmd.args(j.trial.params.iter().map(|(k, v, _)| format!("{k}={v}")));
            cmd.arg(format!("epochs={}", s.halving.max_epochs))
                .arg(format!("stop_after_epochs={}", j.remaining))
                .arg(format!("threads={threads}"))
                .arg(format!("name={}-{:02}", s.name, j.trial.id));
            cmd.stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped());
            let child = cmd
                .spawn()
                .map_err(|e| SweepError::Trial(format!("cannot start a trial: {e}")))?;
            children.push((j.trial.id, child));
        }
        for (id, child) in children {
            let o = child
                .wait_with_output()
                .map_err(|e| SweepError::Trial(format!("trial {id}: {e}")))?;
            if !o.status.success() {
                return Err(SweepError::Trial(format!(
                    "trial {id} failed: {}",
                    String::from_utf8_lossy(&o.stderr).trim()
                )));
            }
        }
        Ok(())
    };
    let md = run_sweep(&s, &out, parallel, &mut train)?;
    crate::output::print_stdout(&md)
}
