//! AdamW with linear warm-up and cosine decay.

use cdspred_model::net::Weights;

use crate::backward::Grads;

/// Optimiser state.
#[derive(Debug, Clone)]
pub struct AdamW {
    m: Grads,
    v: Grads,
    /// Steps taken.
    pub step: u64,
    lr: f32,
    weight_decay: f32,
    warmup: u64,
    total: u64,
}

impl AdamW {
    /// New state for weights of this size.
    pub fn new(w: &Weights, lr: f32, weight_decay: f32, warmup: u64, total: u64) -> AdamW {
        AdamW {
            m: Grads::zeros_like(w),
            v: Grads::zeros_like(w),
            step: 0,
            lr,
            weight_decay,
            warmup,
            total: total.max(1),
        }
    }

    /// The learning rate at the current step.
    pub fn current_lr(&self) -> f32 {
        let s = self.step as f32;
        if self.step < self.warmup {
            return self.lr * (s + 1.0) / self.warmup as f32;
        }
        let t = ((s - self.warmup as f32) / (self.total.saturating_sub(self.warmup).max(1)) as f32)
            .min(1.0);
        self.lr * (0.05 + 0.95 * 0.5 * (1.0 + (std::f32::consts::PI * t).cos()))
    }

    /// One update with gradient `g` (already averaged over the batch).
    pub fn update(&mut self, w: &mut Weights, g: &Grads) {
        let lr = self.current_lr();
        self.step += 1;
        let (b1, b2, eps) = (0.9f32, 0.999f32, 1e-8f32);
        let c1 = 1.0 - b1.powi(self.step as i32);
        let c2 = 1.0 - b2.powi(self.step as i32);
        let gt = g.0.tensors();
        let wd = self.weight_decay;
        for (((wt, mt), vt), (name, _, gv)) in w
            .tensors_mut()
            .into_iter()
            .zip(self.m.0.tensors_mut())
            .zip(self.v.0.tensors_mut())
            .zip(gt)
        {
            // The frame-path tables are counted, not trained.
            if name.starts_with("path_") {
                continue;
            }
            // No decay on biases.
            let decay = if name.starts_with('b') || name == "c0" {
                0.0
            } else {
                wd
            };
            for i in 0..wt.len() {
                let gi = gv[i];
                mt[i] = b1 * mt[i] + (1.0 - b1) * gi;
                vt[i] = b2 * vt[i] + (1.0 - b2) * gi * gi;
                let upd = (mt[i] / c1) / ((vt[i] / c2).sqrt() + eps);
                wt[i] -= lr * (upd + decay * wt[i]);
            }
        }
    }

    /// State tensors for checkpoints (first moments, then second moments).
    pub fn state(&self) -> (&Weights, &Weights) {
        (&self.m.0, &self.v.0)
    }

    /// Restores state from a checkpoint.
    pub fn restore(&mut self, m: Weights, v: Weights, step: u64) {
        self.m = Grads(m);
        self.v = Grads(v);
        self.step = step;
    }
}
