//! Hyper-parameter sweeps: grid or random search over config keys with successive
//! halving, a summary table and a parameter-importance plot.
//!
//! The engine ([`run_sweep`]) decides which trials train for how many epochs and reads
//! their run directories back; the caller trains them (`cdspred sweep` starts a
//! `cdspred train` child process per trial). Trials train with the full epoch budget
//! fixed (so the learning-rate schedule does not change) and `stop_after_epochs` set to
//! the current rung; survivors resume to the next rung. The same sweep file gives the
//! same trials and, as training is deterministic, the same results.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use cdspred_data::sample::Rng;
use serde::Deserialize;

use crate::rundir::{RunDir, RunDirError};
use crate::trainer::EpochMetrics;

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

/// How trials are drawn.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Independent draws from each distribution (seeded).
    Random,
    /// Every combination of the grid points, in order.
    Grid,
}

/// Successive halving: every trial trains `min_epochs`; the best 1/eta go on with eta
/// times the epochs, up to `max_epochs`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Halving {
    /// Epochs every trial trains.
    pub min_epochs: usize,
    /// Epochs the last rung trains to.
    pub max_epochs: usize,
    /// Keep the best 1/eta at each rung.
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
    /// 0-based trial number.
    pub id: usize,
    /// (key, value as an override, numeric value for the importance).
    pub params: Vec<(String, String, f64)>,
}

/// The trials a sweep file describes (deterministic in its seed).
pub fn plan(s: &SweepFile) -> Result<Vec<Trial>, SweepError> {
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
        return Err(SweepError::Invalid("the sweep has no trials".into()));
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
fn best_of(run: &Path) -> Result<Option<EpochMetrics>, SweepError> {
    Ok(EpochMetrics::best(&RunDir::new(run).metrics()?).cloned())
}

fn epochs_done(run: &Path) -> Result<usize, SweepError> {
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

/// One trial to train up to the current rung.
#[derive(Debug)]
pub struct TrialJob<'a> {
    /// The trial.
    pub trial: &'a Trial,
    /// Its run directory.
    pub dir: PathBuf,
    /// Epochs to run in this invocation.
    pub remaining: usize,
    /// Whether it continues from its checkpoint.
    pub resume: bool,
}

/// A sweep that cannot run.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// The sweep file is unusable.
    #[error("{0}")]
    Invalid(String),
    /// A trial's run directory cannot be read back.
    #[error(transparent)]
    Run(#[from] RunDirError),
    /// A summary file cannot be written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Training a trial failed.
    #[error("{0}")]
    Trial(String),
}

fn write(path: &Path, text: &str) -> Result<(), SweepError> {
    std::fs::write(path, text).map_err(|source| SweepError::Io {
        path: path.to_path_buf(),
        source,
    })
}

impl SweepFile {
    /// Checks the halving settings.
    pub fn check(&self) -> Result<(), SweepError> {
        if self.halving.min_epochs == 0 || self.halving.max_epochs < self.halving.min_epochs {
            return Err(SweepError::Invalid(
                "halving needs 1 <= min_epochs <= max_epochs".into(),
            ));
        }
        Ok(())
    }
}

/// Runs a sweep with successive halving in `out` (trial `i` in `out/trial-0i`): at each
/// rung, `train` is called with up to `parallel` trials at a time and must train each
/// for its `remaining` epochs (resuming when asked); the best 1/eta by validation loss
/// go on. Writes `summary.md`, `summary.json` and `importance.svg` and returns the
/// Markdown summary.
pub fn run_sweep(
    s: &SweepFile,
    out: &Path,
    parallel: usize,
    train: &mut dyn FnMut(&[TrialJob<'_>]) -> Result<(), SweepError>,
) -> Result<String, SweepError> {
    s.check()?;
    let trials = plan(s)?;
    let started = std::time::Instant::now();
    let first_rung_scores = run_rungs(s, &trials, out, parallel, train)?;
    write_summary(s, &trials, out, parallel, &first_rung_scores, started)
}

/// Trial `t`'s run directory.
fn trial_dir(out: &Path, t: &Trial) -> PathBuf {
    out.join(format!("trial-{:02}", t.id))
}

/// Trains the rungs of successive halving; returns each trial's best validation loss
/// after the first rung.
fn run_rungs(
    s: &SweepFile,
    trials: &[Trial],
    out: &Path,
    parallel: usize,
    train: &mut dyn FnMut(&[TrialJob<'_>]) -> Result<(), SweepError>,
) -> Result<BTreeMap<usize, f64>, SweepError> {
    let dir = |t: &Trial| trial_dir(out, t);
    let mut alive: Vec<Trial> = trials.to_vec();
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
            let mut jobs = Vec::new();
            for t in chunk {
                let d = dir(t);
                // `stop_after_epochs` counts the epochs of this invocation.
                let remaining = epochs.saturating_sub(epochs_done(&d)?);
                if remaining > 0 {
                    jobs.push(TrialJob {
                        trial: t,
                        resume: d.join(RunDir::CHECKPOINT).exists(),
                        dir: d,
                        remaining,
                    });
                }
            }
            if !jobs.is_empty() {
                train(&jobs)?;
            }
        }
        let mut scored: Vec<(f64, Trial)> = alive
            .iter()
            .map(|t| {
                let loss = best_of(&dir(t))?.map_or(f64::INFINITY, |b| b.val_loss);
                Ok((loss, t.clone()))
            })
            .collect::<Result<_, SweepError>>()?;
        if ri == 0 {
            first_rung_scores = scored.iter().map(|(l, t)| (t.id, *l)).collect();
        }
        scored.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.id.cmp(&b.1.id)));
        let keep = alive.len().div_ceil(s.halving.eta.max(2)).max(1);
        if ri + 1 < rung_list.len() {
            alive = scored.into_iter().take(keep).map(|(_, t)| t).collect();
        }
    }
    Ok(first_rung_scores)
}

/// Writes `summary.md` (returned), `summary.json` and `importance.svg`.
fn write_summary(
    s: &SweepFile,
    trials: &[Trial],
    out: &Path,
    parallel: usize,
    first_rung_scores: &BTreeMap<usize, f64>,
    started: std::time::Instant,
) -> Result<String, SweepError> {
    let dir = |t: &Trial| trial_dir(out, t);
    let rung_list = rungs(&s.halving);
    let mut rows: Vec<(f64, String)> = Vec::new();
    let keys: Vec<String> = s.space.keys().cloned().collect();
    let mut json_trials = Vec::new();
    for t in trials {
        let d = dir(t);
        let m = RunDir::new(&d).metrics()?;
        let b = EpochMetrics::best(&m).cloned();
        let loss = b.as_ref().map_or(f64::INFINITY, |b| b.val_loss);
        let done = m.len();
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
    write(&out.join("summary.md"), &md)?;
    write(&out.join("importance.svg"), &importance_svg(&imp))?;
    write(
        &out.join("summary.json"),
        &serde_json::to_string_pretty(&serde_json::json!({
            "name": s.name, "trials": json_trials, "rungs": rung_list,
            "importance": imp.iter().map(|(k, v)| serde_json::json!({"param": k, "importance": v})).collect::<Vec<_>>(),
            "seconds": started.elapsed().as_secs_f64(),
        }))
        .expect("a summary serialises"),
    )?;
    Ok(md)
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
