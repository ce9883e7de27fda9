//! One pass over the training reads.
//!
//! Each read is shown as the model sees it this epoch ([`training_example`]: a GC
//! shift, sequencing errors and the error hint, drawn from a generator seeded by the
//! run's seed, the epoch and the read's index, so independent of threads). Each batch
//! is cut into [`CHUNKS`] fixed parts whose gradients are computed on the worker
//! threads into separate buffers and summed in part order.

use cdspred_core::ReadClass;
use cdspred_data::dataset::Sample;
use cdspred_data::sample::Rng;
use cdspred_data::{Dataset, ErrorProfile, ReadLabel};
use cdspred_model::features::{FrameInputs, PathScorer};
use cdspred_model::net::{Forward, Model, Weights};
use cdspred_model::TableContext;

use crate::augment::{gc_shift, pick, Shift};
use crate::backward::{backward, Grads};
use crate::optim::AdamW;
use crate::trainer::{shuffle, Ctx, Progress, TrainConfig, CHUNKS};

/// Loss weight of each kind of label: coding and non-coding reads balanced, reads
/// with sense-only labels (the seed's fragments) as configured.
pub(crate) struct LabelWeights {
    non_coding: f32,
    coding: f32,
    sense: f32,
}

impl LabelWeights {
    /// Balances the classes of `ds`.
    pub(crate) fn new(ds: &Dataset, sense: f32) -> LabelWeights {
        let nc = ReadLabel::Class(ReadClass::NonCoding);
        let n_nc = ds.samples.iter().filter(|s| s.label == nc).count();
        let n_cls = ds
            .samples
            .iter()
            .filter(|s| matches!(s.label, ReadLabel::Class(_)))
            .count();
        LabelWeights {
            non_coding: n_cls as f32 / (2.0 * n_nc.max(1) as f32),
            coding: n_cls as f32 / (2.0 * (n_cls - n_nc).max(1) as f32),
            sense,
        }
    }

    /// The weight of one label.
    pub(crate) fn of(&self, l: ReadLabel) -> f32 {
        match l {
            ReadLabel::Class(ReadClass::NonCoding) => self.non_coding,
            ReadLabel::Class(_) => self.coding,
            ReadLabel::Sense(_) => self.sense,
        }
    }
}

/// What every epoch reads.
pub(crate) struct EpochData<'a> {
    pub cfg: &'a TrainConfig,
    pub train: &'a Dataset,
    pub ctx: &'a Ctx,
    pub profiles: &'a [ErrorProfile],
    pub weights: &'a LabelWeights,
    pub threads: usize,
}

/// Gradient buffers, one per chunk and their sum, reused across batches.
pub(crate) struct GradBuffers {
    chunks: Vec<Grads>,
    total: Grads,
}

impl GradBuffers {
    /// Buffers shaped like `w`.
    pub(crate) fn new(w: &Weights) -> GradBuffers {
        GradBuffers {
            chunks: (0..CHUNKS).map(|_| Grads::zeros_like(w)).collect(),
            total: Grads::zeros_like(w),
        }
    }
}

/// One epoch of updates; returns the mean training loss.
pub(crate) fn run_epoch(
    d: &EpochData<'_>,
    epoch: usize,
    weights: &mut Weights,
    opt: &mut AdamW,
    bufs: &mut GradBuffers,
    progress: &mut dyn FnMut(Progress),
) -> f64 {
    let cfg = d.cfg;
    let steps = d.train.samples.len().div_ceil(cfg.batch_size);
    let mut order: Vec<usize> = (0..d.train.samples.len()).collect();
    shuffle(
        &mut order,
        &mut Rng::new(cfg.seed.wrapping_add(epoch as u64)),
    );
    let (mut loss_sum, mut weight_sum) = (0f64, 0f64);
    for (step, batch) in order.chunks(cfg.batch_size).enumerate() {
        let model = Model::new(weights.clone());
        let losses = batch_gradients(d, epoch, &model, batch, &mut bufs.chunks);
        let total = &mut bufs.total;
        total.clear();
        for g in &bufs.chunks {
            total.add(g);
        }
        let wsum: f64 = losses.iter().map(|x| x.1).sum();
        let scale = 1.0 / wsum.max(1e-9) as f32;
        for t in total.0.tensors_mut() {
            t.iter_mut().for_each(|v| *v *= scale);
        }
        opt.update(weights, total);
        loss_sum += losses.iter().map(|x| x.0).sum::<f64>();
        weight_sum += wsum;
        if step % 20 == 0 || step + 1 == steps {
            progress(Progress {
                epoch,
                epochs: cfg.epochs,
                step: step + 1,
                steps,
                loss: loss_sum / weight_sum.max(1e-9),
            });
        }
    }
    loss_sum / weight_sum.max(1e-9)
}

/// The batch's gradient, part `c` into `grads[c]`; returns each part's (weighted loss
/// sum, weight sum).
fn batch_gradients(
    d: &EpochData<'_>,
    epoch: usize,
    model: &Model,
    batch: &[usize],
    grads: &mut [Grads],
) -> Vec<(f64, f64)> {
    let part = batch.len().div_ceil(CHUNKS);
    let parts: Vec<&[usize]> = (0..CHUNKS)
        .map(|c| &batch[(c * part).min(batch.len())..((c + 1) * part).min(batch.len())])
        .collect();
    let per = CHUNKS.div_ceil(d.threads);
    std::thread::scope(|sc| {
        let handles: Vec<_> = grads
            .chunks_mut(per)
            .zip(parts.chunks(per))
            .map(|(grads, parts)| {
                sc.spawn(move || {
                    let mut scratch = Scratch::default();
                    grads
                        .iter_mut()
                        .zip(parts)
                        .map(|(g, ids)| part_gradient(d, epoch, model, ids, g, &mut scratch))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("training threads do not panic"))
            .collect()
    })
}

/// One worker's reusable buffers.
#[derive(Default)]
struct Scratch {
    inp: FrameInputs,
    fw: Forward,
    aug: Vec<u8>,
    noisy: Vec<u8>,
}

/// The gradient of the reads `ids` into `g`; returns (weighted loss sum, weight sum).
fn part_gradient(
    d: &EpochData<'_>,
    epoch: usize,
    model: &Model,
    ids: &[usize],
    g: &mut Grads,
    scratch: &mut Scratch,
) -> (f64, f64) {
    g.clear();
    let path = model.weights().path();
    let Scratch {
        inp,
        fw,
        aug,
        noisy,
    } = scratch;
    let (mut l, mut wsum) = (0f64, 0f64);
    for &i in ids {
        let s = &d.train.samples[i];
        let table = &d.ctx.tables[&s.table];
        let (read, label, hint) = training_example(d, epoch, i, s, table, aug, noisy);
        inp.fill(read, table, &PathScorer { hint, ..path });
        model.forward(inp, fw);
        let w = d.weights.of(label);
        l += backward(model.weights(), inp, fw, label, w, g) as f64;
        wsum += w as f64;
    }
    (l, wsum)
}

/// Read `i` as the model sees it in `epoch`: maybe GC-shifted (into `aug`), maybe with
/// sequencing errors (into `noisy`, the label's frame tracked through them), and the
/// error hint (expected indels per 100 nt) when this read is told it.
fn training_example<'a>(
    d: &EpochData<'a>,
    epoch: usize,
    i: usize,
    s: &Sample,
    table: &TableContext,
    aug: &'a mut Vec<u8>,
    noisy: &'a mut Vec<u8>,
) -> (&'a [u8], ReadLabel, Option<f32>) {
    let cfg = d.cfg;
    // One generator per (epoch, read): independent of threads.
    let mut rng =
        Rng::new(cfg.seed ^ ((epoch as u64) << 40) ^ (i as u64).wrapping_mul(0x9E37_79B9));
    let mut read: &[u8] = d.train.read(s);
    if cfg.gc_augment > 0.0 && rng.unit() < cfg.gc_augment {
        let up = rng.unit() < cfg.gc_augment_up;
        let strength = cfg.gc_augment_strength * rng.unit();
        let shift = Shift {
            up,
            strength,
            first: strength * cfg.gc_augment_first,
        };
        gc_shift(read, s.label, table.code(), shift, &mut rng, aug);
        read = aug;
    }
    // Reads told their error rate, and the rest.
    let hinted = cfg.error_hint > 0.0 && rng.unit() < cfg.error_hint;
    let fraction = if hinted || cfg.error_hint == 0.0 {
        cfg.error_fraction
    } else {
        cfg.error_fraction_unhinted
    };
    let mut label = s.label;
    let mut indels = 0.0;
    if let Some(p) = pick(d.profiles, fraction, &mut rng) {
        label = p.apply(read, label, &mut rng, noisy);
        read = noisy;
        indels = p.indels_per_100nt();
    }
    (read, label, hinted.then_some(indels as f32))
}
