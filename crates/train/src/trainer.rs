//! The training loop.
//!
//! Determinism: reads are shuffled by a generator seeded with `seed + epoch`; each
//! batch is cut into [`CHUNKS`] fixed parts whose gradients are computed (on any
//! number of threads) into separate buffers and summed in part order. So the same
//! config gives the same weights bit for bit at any thread count, and resuming from a
//! checkpoint (written after every epoch) continues exactly where the run stopped.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use cdspred_core::TableId;
use cdspred_data::sample::Rng;
use cdspred_data::{Dataset, ErrorProfile, ReadLabel};
use cdspred_model::features::{FrameInputs, DENSE};
use cdspred_model::files::{ModelCard, ModelConfig, ModelFiles};
use cdspred_model::hmm::ChainCounts;
use cdspred_model::net::{Forward, Model, Weights};
use cdspred_model::TableContext;
use safetensors::{tensor::TensorView, Dtype, SafeTensors};
use serde::{Deserialize, Serialize};

use crate::augment::with_errors;
use crate::backward::loss;
use crate::epoch::{run_epoch, EpochData, GradBuffers, LabelWeights};
use crate::metrics::binary;
use crate::optim::AdamW;
use crate::pathtable::{count_chains, count_llr};
use crate::plot::{line_plot, Series};
use crate::rundir::{RunDir, RunDirError};

pub use crate::config::TrainConfig;

/// Parts per batch; fixed so results do not depend on the thread count.
pub const CHUNKS: usize = 8;

/// Per-epoch metrics.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EpochMetrics {
    /// Epoch (1-based).
    pub epoch: usize,
    /// Mean training loss.
    pub train_loss: f64,
    /// Mean validation loss.
    pub val_loss: f64,
    /// 7-class accuracy on validation.
    pub val_accuracy: f64,
    /// Coding-vs-non-coding MCC on validation.
    pub val_gene_mcc: f64,
    /// Coding-vs-non-coding ROC AUC on validation.
    pub val_gene_auc: f64,
    /// Strand+frame accuracy on coding validation reads.
    pub val_frame: f64,
    /// Learning rate at the end of the epoch.
    pub lr: f64,
    /// Seconds spent.
    pub seconds: f64,
}

/// The outcome of a run.
#[derive(Debug, Clone, Serialize)]
pub struct TrainReport {
    /// All epochs run (including ones before a resume).
    pub epochs: Vec<EpochMetrics>,
    /// Epoch of the best validation loss.
    pub best_epoch: usize,
    /// Where the best model was written.
    pub best_dir: PathBuf,
}

/// Progress for a progress bar.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// Current epoch (1-based).
    pub epoch: usize,
    /// Maximum epochs.
    pub epochs: usize,
    /// Batches done in this epoch.
    pub step: usize,
    /// Batches per epoch.
    pub steps: usize,
    /// Running mean loss of this epoch.
    pub loss: f64,
}

/// Why training failed.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// Input data problem.
    #[error(transparent)]
    Data(#[from] cdspred_data::dataset::DatasetError),
    /// Writing artifacts failed.
    #[error("{path}: {msg}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        msg: String,
    },
    /// The config is unusable.
    #[error("invalid config: {0}")]
    Config(String),
    /// The run directory cannot be read back or written.
    #[error(transparent)]
    Run(#[from] RunDirError),
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> TrainError + '_ {
    move |e| TrainError::Io {
        path: path.to_path_buf(),
        msg: e.to_string(),
    }
}

/// Random initial weights.
pub fn init_weights(dim: usize, hidden: usize, seed: u64) -> Weights {
    let mut rng = Rng::new(seed ^ 0xA5A5);
    let mut w = Weights::zeros(dim, hidden);
    let inp = (dim + DENSE) as f32;
    let mut fill = |t: &mut Vec<f32>, a: f32| {
        t.iter_mut()
            .for_each(|v| *v = (rng.unit() as f32 * 2.0 - 1.0) * a)
    };
    fill(&mut w.emb, 0.05);
    fill(&mut w.w1, (6.0 / (inp + hidden as f32)).sqrt());
    fill(&mut w.w2, (6.0 / (hidden as f32 + 1.0)).sqrt());
    fill(&mut w.u_mean, 0.1);
    fill(&mut w.u_max, 0.1);
    w
}

/// The lookups of every genetic code in the data.
pub(crate) struct Ctx {
    pub(crate) tables: HashMap<TableId, TableContext>,
}

impl Ctx {
    fn new(ds: &[&Dataset]) -> Ctx {
        let mut tables = HashMap::new();
        for d in ds {
            for s in &d.samples {
                tables
                    .entry(s.table)
                    .or_insert_with(|| TableContext::new(s.table.code()));
            }
        }
        Ctx { tables }
    }
}

fn subsample(ds: Dataset, max: usize, seed: u64) -> Dataset {
    if max == 0 || ds.samples.len() <= max {
        return ds;
    }
    let mut idx: Vec<usize> = (0..ds.samples.len()).collect();
    shuffle(&mut idx, &mut Rng::new(seed));
    idx.truncate(max);
    idx.sort_unstable();
    let mut out = Dataset::default();
    for i in idx {
        let s = ds.samples[i];
        out.push(ds.read(&s), s.label, s.table, s.source);
    }
    out
}

pub(crate) fn shuffle(v: &mut [usize], rng: &mut Rng) {
    for i in (1..v.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        v.swap(i, j);
    }
}

/// Trains a model; writes `run_dir/{config.json, metrics.jsonl, checkpoint.safetensors,
/// best/, *.svg}`. With `resume`, continues from the run's checkpoint.
pub fn train(
    cfg: &TrainConfig,
    run_dir: &Path,
    resume: bool,
    progress: &mut dyn FnMut(Progress),
) -> Result<TrainReport, TrainError> {
    if cfg.batch_size < CHUNKS || cfg.dim == 0 || cfg.hidden == 0 || cfg.epochs == 0 {
        return Err(TrainError::Config(format!(
            "batch_size must be ≥ {CHUNKS}; dim, hidden and epochs > 0"
        )));
    }
    let profiles = cfg.profiles()?;
    std::fs::create_dir_all(run_dir).map_err(io(run_dir))?;
    let (train_ds, val_ds, ctx) = load_data(cfg, &profiles)?;
    let run = RunDir::new(run_dir);
    run.write_config(cfg)?;

    let steps_per_epoch = train_ds.samples.len().div_ceil(cfg.batch_size);
    let mut weights = init_weights(cfg.dim, cfg.hidden, cfg.seed);
    weights.path_llr = count_llr(&train_ds, &ctx.tables, cfg.path_llr_clamp);
    weights.path_pen = vec![cfg.shift_penalty, cfg.stop_penalty];
    let chains = count_chains(&train_ds);
    let mut opt = AdamW::new(
        &weights,
        cfg.lr,
        cfg.weight_decay,
        cfg.warmup_steps,
        (steps_per_epoch * cfg.epochs) as u64,
    );
    let (mut history, mut best) = start_or_resume(&run, resume, &mut weights, &mut opt)?;
    let threads = if cfg.threads == 0 {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    } else {
        cfg.threads
    };
    let label_weights = LabelWeights::new(&train_ds, cfg.sense_label_weight);
    let data = EpochData {
        cfg,
        train: &train_ds,
        ctx: &ctx,
        profiles: &profiles,
        weights: &label_weights,
        threads,
    };
    let mut grads = GradBuffers::new(&weights);
    let first_epoch = history.len() + 1;
    for epoch in first_epoch..=cfg.epochs {
        if best.bad >= cfg.patience && !history.is_empty() {
            break;
        }
        if cfg.stop_after_epochs > 0 && epoch - first_epoch >= cfg.stop_after_epochs {
            break;
        }
        let t0 = std::time::Instant::now();
        let train_loss = run_epoch(&data, epoch, &mut weights, &mut opt, &mut grads, progress);
        let model = Model::new(weights.clone());
        let (mut m, truth, score) = validate_with_scores(&model, &val_ds, &ctx, threads);
        m.epoch = epoch;
        m.train_loss = train_loss;
        m.lr = opt.current_lr() as f64;
        m.seconds = t0.elapsed().as_secs_f64();
        if m.val_loss < best.best_loss {
            best = CkptState {
                epoch,
                best_loss: m.val_loss,
                best_epoch: epoch,
                bad: 0,
            };
            save_best(cfg, &run, (&weights, &chains), &m, &truth, &score)?;
        } else {
            best.bad += 1;
        }
        best.epoch = epoch;
        run.append_metrics(&m)?;
        history.push(m);
        save_checkpoint(&run.file(RunDir::CHECKPOINT), &weights, &opt, &best)?;
        write_plots(run_dir, &history)?;
    }
    Ok(TrainReport {
        epochs: history,
        best_epoch: best.best_epoch,
        best_dir: run.best_dir(),
    })
}

/// The training and validation reads (subsampled as configured; validation reads
/// carry the training error mix, fixed across epochs) and their genetic codes.
fn load_data(
    cfg: &TrainConfig,
    profiles: &[ErrorProfile],
) -> Result<(Dataset, Dataset, Ctx), TrainError> {
    let train_ds = subsample(
        Dataset::load(&cfg.train_data)?,
        cfg.max_train_reads,
        cfg.seed,
    );
    let val_ds = subsample(
        Dataset::load(&cfg.val_data)?,
        cfg.max_val_reads,
        cfg.seed + 1,
    );
    if train_ds.samples.is_empty() || val_ds.samples.is_empty() {
        return Err(TrainError::Config(
            "training and validation data must not be empty".into(),
        ));
    }
    let ctx = Ctx::new(&[&train_ds, &val_ds]);
    let val_ds = if profiles.is_empty() {
        val_ds
    } else {
        with_errors(
            &val_ds,
            profiles,
            cfg.error_fraction,
            cfg.seed ^ 0x5EED_E770,
        )
    };
    Ok((train_ds, val_ds, ctx))
}

/// A fresh run (an old `metrics.jsonl` removed), or the state of the run's checkpoint
/// with the epochs it had finished.
fn start_or_resume(
    run: &RunDir,
    resume: bool,
    weights: &mut Weights,
    opt: &mut AdamW,
) -> Result<(Vec<EpochMetrics>, CkptState), TrainError> {
    let ckpt = run.file(RunDir::CHECKPOINT);
    let metrics_path = run.file(RunDir::METRICS);
    if resume && ckpt.exists() {
        let st = load_checkpoint(&ckpt, weights, opt)?;
        let history = run.metrics_up_to(st.epoch)?;
        return Ok((history, st));
    }
    if metrics_path.exists() {
        std::fs::remove_file(&metrics_path).map_err(io(&metrics_path))?;
    }
    let fresh = CkptState {
        epoch: 0,
        best_loss: f64::INFINITY,
        best_epoch: 0,
        bad: 0,
    };
    Ok((Vec::new(), fresh))
}

/// Writes the best model so far to `best/` and its validation ROC to `roc.svg`.
fn save_best(
    cfg: &TrainConfig,
    run: &RunDir,
    (weights, chains): (&Weights, &ChainCounts),
    m: &EpochMetrics,
    truth: &[bool],
    score: &[f32],
) -> Result<(), TrainError> {
    let epoch = m.epoch;
    let mut files = ModelFiles {
        config: ModelConfig::new(cfg.dim, cfg.hidden),
        weights: weights.clone(),
        clean: None,
        pristine: None,
        chains: Some(chains.clone()),
        card: ModelCard {
            name: cfg.name.clone(),
            version: format!("{}-e{epoch}", cfg.name),
            ..Default::default()
        },
    };
    files.save(&run.best_dir()).map_err(|e| TrainError::Io {
        path: run.best_dir(),
        msg: e.to_string(),
    })?;
    // ROC of the best model on the validation reads (coding vs non-coding).
    let roc = line_plot(
        &format!(
            "Validation ROC, best epoch {epoch} (AUC {:.4})",
            m.val_gene_auc
        ),
        "false positive rate",
        "true positive rate",
        &[Series {
            name: "coding vs non-coding",
            points: crate::plot::roc_points(truth, score),
        }],
    );
    let roc_path = run.file("roc.svg");
    std::fs::write(&roc_path, roc).map_err(io(&roc_path))
}

/// Loss, accuracy and gene metrics on a dataset, with each labelled read's truth
/// (coding or not) and coding score, for the ROC curve.
pub fn validate_with_scores(
    model: &Model,
    ds: &Dataset,
    ctx_tables: &impl TableLookup,
    threads: usize,
) -> (EpochMetrics, Vec<bool>, Vec<f32>) {
    let n = ds.samples.len();
    let per = n.div_ceil(threads.max(1)).max(1);
    let idx: Vec<usize> = (0..n).collect();
    let rows: Vec<(f64, [f32; 7])> = std::thread::scope(|sc| {
        let hs: Vec<_> = idx
            .chunks(per)
            .map(|part| {
                sc.spawn(move || {
                    let mut inp = FrameInputs::default();
                    let mut fw = Forward::default();
                    let path = model.weights().path();
                    part.iter()
                        .map(|&i| {
                            let s = &ds.samples[i];
                            inp.fill(ds.read(s), ctx_tables.table(s.table), &path);
                            model.forward(&inp, &mut fw);
                            (loss(&fw, s.label, 1.0) as f64, fw.probs)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        hs.into_iter()
            .flat_map(|h| h.join().expect("validation threads do not panic"))
            .collect()
    });
    let val_loss = rows.iter().map(|r| r.0).sum::<f64>() / n.max(1) as f64;
    let (mut right, mut cls, mut fr, mut coding) = (0usize, 0usize, 0usize, 0usize);
    let (mut y, mut sc) = (Vec::new(), Vec::new());
    for (s, (_, p)) in ds.samples.iter().zip(&rows) {
        if let ReadLabel::Class(c) = s.label {
            let k = (0..7)
                .max_by(|&a, &b| p[a].total_cmp(&p[b]).then(b.cmp(&a)))
                .unwrap_or(0);
            cls += 1;
            right += (k == c.index()) as usize;
            if c.index() > 0 {
                coding += 1;
                let kf = (1..7)
                    .max_by(|&a, &b| p[a].total_cmp(&p[b]).then(b.cmp(&a)))
                    .unwrap_or(1);
                fr += (kf == c.index()) as usize;
            }
            y.push(c.index() > 0);
            sc.push(1.0 - p[0]);
        }
    }
    let b = binary(&y, &sc, 0.5);
    let m = EpochMetrics {
        epoch: 0,
        train_loss: 0.0,
        val_loss,
        val_accuracy: right as f64 / cls.max(1) as f64,
        val_gene_mcc: b.mcc,
        val_gene_auc: b.roc_auc,
        val_frame: fr as f64 / coding.max(1) as f64,
        lr: 0.0,
        seconds: 0.0,
    };
    (m, y, sc)
}

/// Maps a table number to its lookups.
pub trait TableLookup: Sync {
    /// The context of a table.
    fn table(&self, t: TableId) -> &TableContext;
}

impl TableLookup for Ctx {
    fn table(&self, t: TableId) -> &TableContext {
        &self.tables[&t]
    }
}

fn write_plots(dir: &Path, h: &[EpochMetrics]) -> Result<(), TrainError> {
    let s = |name, f: &dyn Fn(&EpochMetrics) -> f64| Series {
        name,
        points: h.iter().map(|m| (m.epoch as f64, f(m))).collect(),
    };
    let plots = [
        (
            "loss.svg",
            "Loss",
            vec![
                s("train", &|m| m.train_loss),
                s("validation", &|m| m.val_loss),
            ],
        ),
        (
            "accuracy.svg",
            "Validation accuracy",
            vec![
                s("7-class", &|m| m.val_accuracy),
                s("strand+frame", &|m| m.val_frame),
            ],
        ),
        (
            "mcc.svg",
            "Validation coding MCC / AUC",
            vec![
                s("MCC", &|m| m.val_gene_mcc),
                s("ROC AUC", &|m| m.val_gene_auc),
            ],
        ),
        ("lr.svg", "Learning rate", vec![s("lr", &|m| m.lr)]),
    ];
    for (file, title, series) in plots {
        let p = dir.join(file);
        std::fs::write(&p, line_plot(title, "epoch", "", &series)).map_err(io(&p))?;
    }
    Ok(())
}

struct CkptState {
    epoch: usize,
    best_loss: f64,
    best_epoch: usize,
    bad: usize,
}

fn save_checkpoint(
    path: &Path,
    w: &Weights,
    opt: &AdamW,
    st: &CkptState,
) -> Result<(), TrainError> {
    let (m, v) = opt.state();
    let mut raw: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for (prefix, ws) in [("w.", w), ("m.", m), ("v.", v)] {
        for (n, shape, d) in ws.tensors() {
            raw.push((
                format!("{prefix}{n}"),
                shape,
                d.iter().flat_map(|x| x.to_le_bytes()).collect(),
            ));
        }
    }
    let views: Vec<(String, TensorView<'_>)> = raw
        .iter()
        .map(|(n, s, b)| {
            (
                n.clone(),
                TensorView::new(Dtype::F32, s.clone(), b).expect("shapes match"),
            )
        })
        .collect();
    // One metadata entry holding the state as sorted JSON: safetensors writes its
    // metadata map in hash order, so several entries would make the bytes of two
    // identical checkpoints differ.
    let state: std::collections::BTreeMap<&str, String> = [
        ("epoch", st.epoch.to_string()),
        ("step", opt.step.to_string()),
        ("best_loss", format!("{:e}", st.best_loss)),
        ("best_epoch", st.best_epoch.to_string()),
        ("bad", st.bad.to_string()),
    ]
    .into_iter()
    .collect();
    let meta: HashMap<String, String> = HashMap::from([(
        CKPT_STATE.to_string(),
        serde_json::to_string(&state).expect("strings serialize"),
    )]);
    let bytes = safetensors::serialize(views, Some(meta)).map_err(|e| TrainError::Io {
        path: path.into(),
        msg: e.to_string(),
    })?;
    // Write then rename, so an interruption never leaves a half checkpoint.
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))
}

/// The checkpoint's metadata entry holding the training state (sorted JSON).
const CKPT_STATE: &str = "cdspred_state";

fn load_checkpoint(path: &Path, w: &mut Weights, opt: &mut AdamW) -> Result<CkptState, TrainError> {
    let bad = |msg: String| TrainError::Io {
        path: path.into(),
        msg,
    };
    let bytes = std::fs::read(path).map_err(io(path))?;
    let (_, meta) = SafeTensors::read_metadata(&bytes).map_err(|e| bad(e.to_string()))?;
    let st = SafeTensors::deserialize(&bytes).map_err(|e| bad(e.to_string()))?;
    let mut md = meta.metadata().clone().unwrap_or_default();
    // Checkpoints written before the state moved into one entry hold its keys directly.
    if let Some(state) = md.get(CKPT_STATE).cloned() {
        let keys: HashMap<String, String> = serde_json::from_str(&state)
            .map_err(|e| bad(format!("bad {CKPT_STATE} metadata: {e}")))?;
        md.extend(keys);
    }
    let get = |k: &str| {
        md.get(k)
            .cloned()
            .ok_or_else(|| bad(format!("checkpoint lacks {k}")))
    };
    let num = |k: &str| get(k)?.parse::<f64>().map_err(|_| bad(format!("bad {k}")));
    let mut m = Weights::zeros(w.dim, w.hidden);
    let mut v = Weights::zeros(w.dim, w.hidden);
    for (prefix, target) in [("w.", &mut *w), ("m.", &mut m), ("v.", &mut v)] {
        let names: Vec<&str> = target.tensors().iter().map(|t| t.0).collect();
        for (name, dst) in names.into_iter().zip(target.tensors_mut()) {
            let t = st
                .tensor(&format!("{prefix}{name}"))
                .map_err(|e| bad(e.to_string()))?;
            let vals: Vec<f32> = t
                .data()
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            if vals.len() != dst.len() {
                return Err(bad(format!(
                    "tensor {prefix}{name} has the wrong size for this config"
                )));
            }
            *dst = vals;
        }
    }
    opt.restore(m, v, num("step")? as u64);
    Ok(CkptState {
        epoch: num("epoch")? as usize,
        best_loss: num("best_loss")?,
        best_epoch: num("best_epoch")? as usize,
        bad: num("bad")? as usize,
    })
}
