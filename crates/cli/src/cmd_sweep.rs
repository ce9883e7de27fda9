//! `cdspred sweep SWEEP.toml`: grid or random search over config keys with successive
//! halving, several trials at a time, a summary table and a parameter-importance plot.
//!
//! Every trial is a `cdspred train` child process with its own run directory. Trials
//! train with the full epoch budget fixed (so the learning-rate schedule does not
//! change) and `stop_after_epochs` set to the current rung; survivors resume to the next
//! rung. The same sweep file gives the same trials and, as training is deterministic,
//! the same results.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use cdspred_data::sample::Rng;
use cdspred_train::rundir::RunDir;
use cdspred_train::trainer::EpochMetrics;
use clap::Args;
use serde::Deserialize;

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

/// A sweep file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepFile {
    /// Name of the sweep.
    pub name: String,
    /// Training config every trial starts from.
    pub base_config: PathBuf,
    /// `random` or `grid`.
    pub method: Method,
    /// Trials (random search; grid search takes every combination, at most this many).
    pub trials: usize,
    /// Seed of the random search.
    #[serde(default = "one")]
    pub seed: u64,
    /// Trials trained at the same time.
    #[serde(default = "one_usize")]
    pub parallel: usize,
    /// Fixed overrides for every trial.
    #[serde(default)]
    pub overrides: Vec<String>,
    /// Successive halving.
    pub halving: Halving,
    /// Search space: key -> distribution.
    pub space: BTreeMap<String, Dist>,
}

fn one() -> u64 {
    1
}
fn one_usize() -> usize {
    1
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    Random,
    Grid,
}

/// Successive halving: every trial trains `min_epochs`; the best 1/eta go on with eta
/// times the epochs, up to `max_epochs`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Halving {
    pub min_epochs: usize,
    pub max_epochs: usize,
    pub eta: usize,
}

/// A distribution over one config key.
#[derive(Debug, Deserialize, Clone)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Dist {
    /// One of the values.
    Choice(Vec<toml::Value>),
    /// Uniform in [lo, hi].
    Uniform([f64; 2]),
    /// Log-uniform in [lo, hi].
    LogUniform([f64; 2]),
}

impl Dist {
    fn sample(&self, rng: &mut Rng) -> (String, f64) {
        match self {
            Dist::Choice(v) => {
                let i = rng.below(v.len() as u64) as usize;
                (value_text(&v[i]), i as f64)
            }
            Dist::Uniform([lo, hi]) => {
                let x = lo + (hi - lo) * rng.unit();
                (format!("{x:.6}"), x)
            }
            Dist::LogUniform([lo, hi]) => {
                let x = (lo.ln() + (hi.ln() - lo.ln()) * rng.unit()).exp();
                (format!("{x:.6e}"), x.ln())
            }
        }
    }
    /// Grid points: the choices, or 3 points over a range.
    fn grid(&self) -> Vec<(String, f64)> {
        match self {
            Dist::Choice(v) => v
                .iter()
                .enumerate()
                .map(|(i, x)| (value_text(x), i as f64))
                .collect(),
            Dist::Uniform([lo, hi]) => (0..3)
                .map(|k| {
                    let x = lo + (hi - lo) * k as f64 / 2.0;
                    (format!("{x:.6}"), x)
                })
                .collect(),
            Dist::LogUniform([lo, hi]) => (0..3)
                .map(|k| {
                    let x = (lo.ln() + (hi.ln() - lo.ln()) * k as f64 / 2.0).exp();
                    (format!("{x:.6e}"), x.ln())
                })
                .collect(),
        }
    }
}

fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// One trial: its overrides (key, text) and the numeric value per key for importance.
#[derive(Debug, Clone)]
pub struct Trial {
    pub id: usize,
    pub params: Vec<(String, String, f64)>,
}

/// The trials a sweep file describes (deterministic in its seed).
pub fn plan(s: &SweepFile) -> Result<Vec<Trial>> {
    let keys: Vec<&String> = s.space.keys().collect();
    let mut out = Vec::new();
    match s.method {
        Method::Random => {
            let mut rng = Rng::new(s.seed);
            for id in 0..s.trials {
                let params = keys
                    .iter()
                    .map(|k| {
                        let (t, x) = s.space[*k].sample(&mut rng);
                        ((*k).clone(), t, x)
                    })
                    .collect();
                out.push(Trial { id, params });
            }
        }
        Method::Grid => {
            let grids: Vec<Vec<(String, f64)>> = keys.iter().map(|k| s.space[*k].grid()).collect();
            let total: usize = grids.iter().map(Vec::len).product();
            for id in 0..total.min(s.trials) {
                let mut rest = id;
                let params = keys
                    .iter()
                    .zip(&grids)
                    .map(|(k, g)| {
                        let (t, x) = g[rest % g.len()].clone();
                        rest /= g.len();
                        ((*k).clone(), t, x)
                    })
                    .collect();
                out.push(Trial { id, params });
            }
        }
    }
    if out.is_empty() {
        bail!("the sweep has no trials");
    }
    Ok(out)
}

/// Rungs of successive halving: min, min·eta, … up to max (always ending at max).
pub fn rungs(h: &Halving) -> Vec<usize> {
    let mut r = vec![h.min_epochs.max(1)];
    while *r.last().unwrap_or(&1) < h.max_epochs {
        let next = (r.last().unwrap_or(&1) * h.eta.max(2)).min(h.max_epochs);
        r.push(next);
    }
    r
}

/// The epoch of the lowest validation loss in a trial's run directory (None before its
/// first epoch).
fn best_of(run: &Path) -> Result<Option<EpochMetrics>> {
    Ok(EpochMetrics::best(&RunDir::new(run).metrics()?).cloned())
}

fn epochs_done(run: &Path) -> Result<usize> {
    Ok(RunDir::new(run).metrics()?.len())
}

/// Spearman rank correlation.
pub fn spearman(x: &[f64], y: &[f64]) -> f64 {
    fn ranks(v: &[f64]) -> Vec<f64> {
        let mut idx: Vec<usize> = (0..v.len()).collect();
        idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
        let mut r = vec![0.0; v.len()];
        let mut i = 0;
        while i < idx.len() {
            let mut j = i;
            while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
                j += 1;
            }
            for k in i..=j {
                r[idx[k]] = (i + j) as f64 / 2.0;
            }
            i = j + 1;
        }
        r
    }
    let (rx, ry) = (ranks(x), ranks(y));
    let n = x.len() as f64;
    let (mx, my) = (rx.iter().sum::<f64>() / n, ry.iter().sum::<f64>() / n);
    let cov: f64 = rx.iter().zip(&ry).map(|(a, b)| (a - mx) * (b - my)).sum();
    let vx: f64 = rx.iter().map(|a| (a - mx).powi(2)).sum();
    let vy: f64 = ry.iter().map(|b| (b - my).powi(2)).sum();
    if vx == 0.0 || vy == 0.0 {
        0.0
    } else {
        cov / (vx * vy).sqrt()
    }
}

fn importance_svg(rows: &[(String, f64)]) -> String {
    let (w, bar_h, left) = (560.0, 26.0, 150.0);
    let h = 50.0 + bar_h * rows.len() as f64;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"{}\" y=\"20\" text-anchor=\"middle\" font-weight=\"bold\">parameter importance: |Spearman ρ| with first-rung val_loss</text>\n",
        w / 2.0
    );
    for (i, (k, v)) in rows.iter().enumerate() {
        let y = 35.0 + bar_h * i as f64;
        let len = (w - left - 60.0) * v.abs().min(1.0);
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{k}</text><rect x=\"{left}\" y=\"{}\" width=\"{len:.1}\" height=\"{}\" fill=\"#1f77b4\"/><text x=\"{:.1}\" y=\"{}\">{v:.2}</text>",
            left - 6.0,
            y + 16.0,
            y + 4.0,
            bar_h - 8.0,
            left + len + 4.0,
            y + 16.0
        );
    }
    s.push_str("</svg>\n");
    s
}

pub fn run(a: SweepArgs) -> Result<()> {
    let text = std::fs::read_to_string(&a.sweep)
        .with_context(|| format!("cannot read {}", a.sweep.display()))?;
    let s: SweepFile =
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", a.sweep.display()))?;
    if s.halving.min_epochs == 0 || s.halving.max_epochs < s.halving.min_epochs {
        bail!(
            "{}: halving needs 1 <= min_epochs <= max_epochs",
            a.sweep.display()
        );
    }
    let trials = plan(&s)?;
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
    let dir = |t: &Trial| out.join(format!("trial-{:02}", t.id));
    let started = std::time::Instant::now();
    let mut alive: Vec<Trial> = trials.clone();
    let rung_list = rungs(&s.halving);
    let mut first_rung_scores: BTreeMap<usize, f64> = BTreeMap::new();
    for (ri, &epochs) in rung_list.iter().enumerate() {
        eprintln!(
            "rung {}/{}: {} trial(s) to {epochs} epoch(s)",
            ri + 1,
            rung_list.len(),
            alive.len()
        );
        // Run the alive trials, `parallel` at a time.
        for chunk in alive.chunks(parallel) {
            let mut children = Vec::new();
            for t in chunk {
                let d = dir(t);
                // `stop_after_epochs` counts the epochs of this invocation.
                let remaining = epochs.saturating_sub(epochs_done(&d)?);
                if remaining == 0 {
                    continue;
                }
                let resume = d.join(RunDir::CHECKPOINT).exists();
                let mut cmd = Command::new(&exe);
                cmd.args(["-q", "train", "--config"])
                    .arg(&s.base_config)
                    .arg("--run-dir")
                    .arg(&d);
                if resume {
                    cmd.arg("--resume");
                }
                cmd.args(&s.overrides).args(&a.overrides);
                cmd.args(t.params.iter().map(|(k, v, _)| format!("{k}={v}")));
                cmd.arg(format!("epochs={}", s.halving.max_epochs))
                    .arg(format!("stop_after_epochs={remaining}"))
                    .arg(format!("threads={threads}"))
                    .arg(format!("name={}-{:02}", s.name, t.id));
                cmd.stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::piped());
                children.push((t.id, cmd.spawn().context("cannot start a trial")?));
            }
            for (id, child) in children {
                let o = child.wait_with_output()?;
                if !o.status.success() {
                    bail!(
                        "trial {id} failed: {}",
                        String::from_utf8_lossy(&o.stderr).trim()
                    );
                }
            }
        }
        let mut scored: Vec<(f64, Trial)> = alive
            .iter()
            .map(|t| {
                let loss = best_of(&dir(t))?.map_or(f64::INFINITY, |b| b.val_loss);
                Ok((loss, t.clone()))
            })
            .collect::<Result<_>>()?;
        if ri == 0 {
            first_rung_scores = scored.iter().map(|(l, t)| (t.id, *l)).collect();
        }
        scored.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.id.cmp(&b.1.id)));
        let keep = alive.len().div_ceil(s.halving.eta.max(2)).max(1);
        if ri + 1 < rung_list.len() {
            alive = scored.into_iter().take(keep).map(|(_, t)| t).collect();
        }
    }
    // Summary over all trials.
    let mut rows: Vec<(f64, String)> = Vec::new();
    let keys: Vec<String> = s.space.keys().cloned().collect();
    let mut json_trials = Vec::new();
    for t in &trials {
        let d = dir(t);
        let b = best_of(&d)?;
        let loss = b.as_ref().map_or(f64::INFINITY, |b| b.val_loss);
        let done = epochs_done(&d)?;
        let mut line = format!("| {:02} |", t.id);
        for (_, v, _) in &t.params {
            let _ = write!(line, " {v} |");
        }
        let _ = write!(
            line,
            " {} | {:.4} | {:.4} | {:.4} |",
            done,
            loss,
            b.as_ref().map_or(f64::NAN, |b| b.val_gene_mcc),
            b.as_ref().map_or(f64::NAN, |b| b.val_frame)
        );
        rows.push((loss, line));
        json_trials.push(serde_json::json!({
            "trial": t.id, "run_dir": d,
            "params": t.params.iter().map(|(k, v, _)| (k.clone(), v.clone())).collect::<BTreeMap<_, _>>(),
            "epochs": done, "best": b,
        }));
    }
    rows.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut md = format!(
        "# Sweep {}\n\n{} trials ({:?}, seed {}), successive halving over rungs {:?} (eta {}), {} at a time; {:.0} s.\n\n| trial |",
        s.name,
        trials.len(),
        s.method,
        s.seed,
        rung_list,
        s.halving.eta,
        parallel,
        started.elapsed().as_secs_f64()
    );
    for k in &keys {
        let _ = write!(md, " {k} |");
    }
    md.push_str(" epochs | best val_loss | val_gene_mcc | val_frame |\n|---|");
    for _ in &keys {
        md.push_str("---|");
    }
    md.push_str("---:|---:|---:|---:|\n");
    for (_, l) in &rows {
        md.push_str(l);
        md.push('\n');
    }
    // Importance: |Spearman| between each parameter and the first-rung loss.
    let ys: Vec<f64> = trials
        .iter()
        .map(|t| {
            first_rung_scores
                .get(&t.id)
                .copied()
                .unwrap_or(f64::INFINITY)
        })
        .collect();
    let mut imp: Vec<(String, f64)> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let xs: Vec<f64> = trials.iter().map(|t| t.params[i].2).collect();
            (k.clone(), spearman(&xs, &ys).abs())
        })
        .collect();
    imp.sort_by(|a, b| b.1.total_cmp(&a.1));
    md.push_str("\n## Parameter importance\n\n|Spearman ρ| between the parameter and the first-rung validation loss (all trials).\n\n![importance](importance.svg)\n\n| parameter | importance |\n|---|---:|\n");
    for (k, v) in &imp {
        let _ = writeln!(md, "| {k} | {v:.2} |");
    }
    std::fs::write(out.join("summary.md"), &md)?;
    std::fs::write(out.join("importance.svg"), importance_svg(&imp))?;
    std::fs::write(
        out.join("summary.json"),
        serde_json::to_string_pretty(&serde_json::json!({
            "name": s.name, "trials": json_trials, "rungs": rung_list,
            "importance": imp.iter().map(|(k, v)| serde_json::json!({"param": k, "importance": v})).collect::<Vec<_>>(),
            "seconds": started.elapsed().as_secs_f64(),
        }))?,
    )?;
    crate::output::print_stdout(&md)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sweep(method: &str) -> SweepFile {
        toml::from_str(&format!(
            r#"
name = "t"
base_config = "configs/smoke.toml"
method = "{method}"
trials = 8
seed = 5
halving = {{ min_epochs = 1, max_epochs = 4, eta = 2 }}
[space]
lr = {{ log_uniform = [0.001, 0.02] }}
dim = {{ choice = [8, 16] }}
"#
        ))
        .unwrap()
    }

    #[test]
    fn random_plans_are_deterministic_and_in_range() {
        let (a, b) = (
            plan(&sweep("random")).unwrap(),
            plan(&sweep("random")).unwrap(),
        );
        assert_eq!(a.len(), 8);
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.params, y.params);
            let lr: f64 = x
                .params
                .iter()
                .find(|p| p.0 == "lr")
                .unwrap()
                .1
                .parse()
                .unwrap();
            assert!((0.001..=0.02).contains(&lr), "{lr}");
            let dim = &x.params.iter().find(|p| p.0 == "dim").unwrap().1;
            assert!(dim == "8" || dim == "16");
        }
        assert!(a.windows(2).any(|w| w[0].params != w[1].params));
    }

    #[test]
    fn grid_takes_every_combination() {
        let g = plan(&sweep("grid")).unwrap();
        assert_eq!(g.len(), 6, "3 lr points x 2 dims");
        let mut seen: Vec<String> = g
            .iter()
            .map(|t| format!("{}/{}", t.params[0].1, t.params[1].1))
            .collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 6);
    }

    #[test]
    fn rungs_and_spearman() {
        assert_eq!(
            rungs(&Halving {
                min_epochs: 1,
                max_epochs: 4,
                eta: 2
            }),
            vec![1, 2, 4]
        );
        assert_eq!(
            rungs(&Halving {
                min_epochs: 1,
                max_epochs: 5,
                eta: 3
            }),
            vec![1, 3, 5]
        );
        assert!((spearman(&[1.0, 2.0, 3.0], &[10.0, 20.0, 30.0]) - 1.0).abs() < 1e-12);
        assert!((spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]) + 1.0).abs() < 1e-12);
        assert_eq!(spearman(&[1.0, 1.0], &[1.0, 2.0]), 0.0);
    }
}
