//! Weights and the forward pass.
//!
//! Shapes (D = embedding width, H = hidden width, IN = D + [`DENSE`]):
//!
//! ```text
//! per frame f (6):  ids_i = dicodons along f's frame path (features.rs)
//!                   e_f = mean_i emb[id_i]                      [D]
//!                   x_f = concat(e_f, dense_f)                  [IN]
//!                   a_f = w1 · x_f + b1,  h_f = relu(a_f)       [H]
//!                   s_f = w2 · h_f + b2                         frame logit
//! non-coding:       z_0 = u_mean · mean_f h_f + u_max · max_f h_f + c0
//! logits = [z_0, s_+0, s_+1, s_+2, s_-0, s_-1, s_-2] → softmax
//! ```
//!
//! About 6·(n·D + 2·IN·H) floating-point operations per read, counted by
//! [`Model::forward_counting`]: about 0.028 MFLOP for a 300-nt read at D=16, H=32
//! (28,353–28,561 counted on random reads; tested).

use crate::features::{FrameInputs, PathScorer, DENSE, FRAMES, VOCAB};

/// All trainable parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Weights {
    /// Embedding width D.
    pub dim: usize,
    /// Hidden width H.
    pub hidden: usize,
    /// Dicodon embeddings `[VOCAB, D]`.
    pub emb: Vec<f32>,
    /// First layer `[H, IN]`.
    pub w1: Vec<f32>,
    /// First-layer bias `[H]`.
    pub b1: Vec<f32>,
    /// Frame scorer `[H]`.
    pub w2: Vec<f32>,
    /// Frame scorer bias `[1]`.
    pub b2: Vec<f32>,
    /// Non-coding head on the frame mean `[H]`.
    pub u_mean: Vec<f32>,
    /// Non-coding head on the frame max `[H]`.
    pub u_max: Vec<f32>,
    /// Non-coding bias `[1]`.
    pub c0: Vec<f32>,
    /// Frame-path dicodon log-odds `[VOCAB]`; counted from the training data, not
    /// trained by gradient (see [`crate::features`]).
    pub path_llr: Vec<f32>,
    /// Frame-path costs `[2]`: one shift, one stop.
    pub path_pen: Vec<f32>,
}

impl Weights {
    /// Zero weights of the given size.
    pub fn zeros(dim: usize, hidden: usize) -> Weights {
        let inp = dim + DENSE;
        Weights {
            dim,
            hidden,
            emb: vec![0.0; VOCAB * dim],
            w1: vec![0.0; hidden * inp],
            b1: vec![0.0; hidden],
            w2: vec![0.0; hidden],
            b2: vec![0.0; 1],
            u_mean: vec![0.0; hidden],
            u_max: vec![0.0; hidden],
            c0: vec![0.0; 1],
            path_llr: vec![0.0; VOCAB],
            path_pen: vec![0.0; 2],
        }
    }

    /// Input width of the first layer.
    pub fn input_width(&self) -> usize {
        self.dim + DENSE
    }

    /// Named tensors with their shapes, in a fixed order (for files and optimisers).
    pub fn tensors(&self) -> Vec<(&'static str, Vec<usize>, &Vec<f32>)> {
        let (d, h, i) = (self.dim, self.hidden, self.input_width());
        vec![
            ("emb", vec![VOCAB, d], &self.emb),
            ("w1", vec![h, i], &self.w1),
            ("b1", vec![h], &self.b1),
            ("w2", vec![h], &self.w2),
            ("b2", vec![1], &self.b2),
            ("u_mean", vec![h], &self.u_mean),
            ("u_max", vec![h], &self.u_max),
            ("c0", vec![1], &self.c0),
            ("path_llr", vec![VOCAB], &self.path_llr),
            ("path_pen", vec![2], &self.path_pen),
        ]
    }

    /// Mutable views in the same order as [`Weights::tensors`].
    pub fn tensors_mut(&mut self) -> [&mut Vec<f32>; 10] {
        [
            &mut self.emb,
            &mut self.w1,
            &mut self.b1,
            &mut self.w2,
            &mut self.b2,
            &mut self.u_mean,
            &mut self.u_max,
            &mut self.c0,
            &mut self.path_llr,
            &mut self.path_pen,
        ]
    }

    /// The frame-path decoder's scores.
    pub fn path(&self) -> PathScorer<'_> {
        PathScorer {
            llr: &self.path_llr,
            shift: self.path_pen[0],
            stop: self.path_pen[1],
            hint: None,
        }
    }

    /// Number of parameters.
    pub fn parameter_count(&self) -> usize {
        self.tensors().iter().map(|t| t.2.len()).sum()
    }
}

/// Intermediate values of one forward pass (what the backward pass needs).
#[derive(Debug, Clone, Default)]
pub struct Forward {
    /// Frame inputs `x_f` `[6][IN]`.
    pub x: [Vec<f32>; FRAMES],
    /// Pre-activations `a_f` `[6][H]`.
    pub a: [Vec<f32>; FRAMES],
    /// Mean over frames of `h_f` `[H]`.
    pub h_mean: Vec<f32>,
    /// Max over frames of `h_f` `[H]`.
    pub h_max: Vec<f32>,
    /// Which frame gave each max `[H]`.
    pub max_frame: Vec<u8>,
    /// The seven logits.
    pub logits: [f32; 7],
    /// Softmax of the logits.
    pub probs: [f32; 7],
}

/// A network ready to run.
#[derive(Debug, Clone)]
pub struct Model {
    weights: Weights,
    /// `w1` by blocks of [`B`] hidden units, `[hidden / B][input][B]`, for the first
    /// layer's fast path; empty unless the input width is [`FAST_WIDTH`] and the hidden
    /// width a multiple of `B` (then the plain dot products run).
    w1_blocks: Vec<f32>,
}

impl Model {
    /// Wraps weights.
    pub fn new(weights: Weights) -> Model {
        let (h, iw) = (weights.hidden, weights.input_width());
        let mut w1_blocks = Vec::new();
        if iw == FAST_WIDTH && h % B == 0 && weights.w1.len() == h * iw {
            w1_blocks.reserve(h * iw);
            for g in 0..h / B {
                for i in 0..iw {
                    w1_blocks.extend((0..B).map(|q| weights.w1[(B * g + q) * iw + i]));
                }
            }
        }
        Model { weights, w1_blocks }
    }

    /// The weights.
    pub fn weights(&self) -> &Weights {
        &self.weights
    }

    /// Runs the network on one read's frame inputs.
    pub fn forward(&self, inp: &FrameInputs, fw: &mut Forward) {
        self.run(inp, fw, &mut NoCount);
    }

    /// Runs the network like [`Model::forward`] and returns the floating-point
    /// operations it performed, counted where they happen (each add, multiply,
    /// comparison and exponential on `f32`; a fused multiply-add counts as two).
    pub fn forward_counting(&self, inp: &FrameInputs, fw: &mut Forward) -> u64 {
        let mut c = OpCount(0);
        self.run(inp, fw, &mut c);
        c.0
    }

    fn run<C: Ops>(&self, inp: &FrameInputs, fw: &mut Forward, ops: &mut C) {
        let w = &self.weights;
        let (d, h, iw) = (w.dim, w.hidden, w.input_width());
        fw.h_mean.clear();
        fw.h_mean.resize(h, 0.0);
        fw.h_max.clear();
        fw.h_max.resize(h, f32::NEG_INFINITY);
        fw.max_frame.clear();
        fw.max_frame.resize(h, 0);
        for f in 0..FRAMES {
            let x = &mut fw.x[f];
            x.clear();
            x.resize(iw, 0.0);
            let ids = &inp.ids[f];
            match d {
                16 => sum_rows::<16, C>(&w.emb, ids, &mut x[..d], ops),
                32 => sum_rows::<32, C>(&w.emb, ids, &mut x[..d], ops),
                _ => {
                    for &id in ids {
                        let row = &w.emb[id as usize * d..id as usize * d + d];
                        for (xe, r) in x[..d].iter_mut().zip(row) {
                            *xe += r;
                        }
                        ops.add(d);
                    }
                }
            }
            if !ids.is_empty() {
                let inv = 1.0 / ids.len() as f32;
                x[..d].iter_mut().for_each(|v| *v *= inv);
                ops.add(1 + d);
            }
            x[d..].copy_from_slice(&inp.dense[f]);
            let a = &mut fw.a[f];
            a.clear();
            a.extend_from_slice(&w.b1);
            if self.w1_blocks.is_empty() {
                for (j, aj) in a.iter_mut().enumerate() {
                    let row = &w.w1[j * iw..(j + 1) * iw];
                    *aj += dot(row, x, ops);
                    ops.add(1);
                }
            } else {
                // The default width: the same sums, B hidden units at once.
                affine::<FAST_WIDTH, C>(&self.w1_blocks, x, a, ops);
            }
            let mut s = w.b2[0];
            for j in 0..h {
                let hj = a[j].max(0.0);
                s += w.w2[j] * hj;
                fw.h_mean[j] += hj;
                if hj > fw.h_max[j] {
                    fw.h_max[j] = hj;
                    fw.max_frame[j] = f as u8;
                }
                // relu, multiply-add, mean sum, max comparison
                ops.add(5);
            }
            fw.logits[f + 1] = s;
        }
        fw.h_mean.iter_mut().for_each(|v| *v /= FRAMES as f32);
        ops.add(h);
        fw.logits[0] = w.c0[0] + dot(&w.u_mean, &fw.h_mean, ops) + dot(&w.u_max, &fw.h_max, ops);
        ops.add(2);
        fw.probs = softmax(&fw.logits);
        // max (7 comparisons), 7 subtractions, 7 exponentials, 7 sums, 7 divisions
        ops.add(35);
    }
}

/// Where the forward pass reports the operations it performs.
trait Ops {
    fn add(&mut self, n: usize);
}

/// Counts nothing (the production path; compiles away).
struct NoCount;

impl Ops for NoCount {
    #[inline(always)]
    fn add(&mut self, _: usize) {}
}

/// Counts floating-point operations.
struct OpCount(u64);

impl Ops for OpCount {
    #[inline(always)]
    fn add(&mut self, n: usize) {
        self.0 += n as u64;
    }
}

/// Adds the embedding rows `ids` of width `D` into `out`, in order, in registers.
#[inline]
fn sum_rows<const D: usize, C: Ops>(emb: &[f32], ids: &[u16], out: &mut [f32], ops: &mut C) {
    let mut acc = [0f32; D];
    for &id in ids {
        let i = id as usize * D;
        let row: &[f32; D] = emb[i..i + D].try_into().expect("row of width D");
        for k in 0..D {
            acc[k] += row[k];
        }
        ops.add(D);
    }
    for (o, a) in out.iter_mut().zip(acc) {
        *o += a;
    }
    ops.add(D);
}

/// Hidden units per block of the first layer's fast path.
const B: usize = 8;
/// Input width of the first layer's fast path: the default model's (embedding width 16
/// plus the dense inputs).
const FAST_WIDTH: usize = 16 + DENSE;

/// Adds `w1 · x` to `out` from `w1` in blocks of [`B`] hidden units (`[out.len() / B]
/// [N][B]`), a block at once; each unit's dot product is summed exactly as [`dot`]
/// sums it (four lanes by input index mod 4, joined as `(l0 + l1) + (l2 + l3)`, then
/// the remainder in order), so the result is the same to the bit.
#[inline]
fn affine<const N: usize, C: Ops>(blocks: &[f32], x: &[f32], out: &mut [f32], ops: &mut C) {
    let x: &[f32; N] = x.try_into().expect("input of width N");
    for (g, o) in out.chunks_exact_mut(B).enumerate() {
        let blk: &[f32] = &blocks[g * N * B..(g + 1) * N * B];
        // lane[k][q]: unit q's sum over inputs i with i mod 4 == k.
        let mut lane = [[0f32; B]; 4];
        for c in 0..N / 4 {
            for k in 0..4 {
                let i = 4 * c + k;
                let w: &[f32; B] = blk[B * i..B * i + B].try_into().expect("B units");
                for q in 0..B {
                    lane[k][q] += w[q] * x[i];
                }
            }
        }
        let mut s = [0f32; B];
        for q in 0..B {
            s[q] = (lane[0][q] + lane[1][q]) + (lane[2][q] + lane[3][q]);
        }
        for i in N / 4 * 4..N {
            let w: &[f32; B] = blk[B * i..B * i + B].try_into().expect("B units");
            for q in 0..B {
                s[q] += w[q] * x[i];
            }
        }
        for q in 0..B {
            o[q] += s[q];
        }
        ops.add(B * (2 * N + 3 + 1));
    }
}

#[inline]
fn dot<C: Ops>(a: &[f32], b: &[f32], ops: &mut C) -> f32 {
    // Four lanes, each summing every fourth product in order: the compiler maps the
    // lanes onto one SIMD register, and the result does not depend on whether it does.
    let mut acc = [0f32; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ta, tb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..4 {
            acc[k] += x[k] * y[k];
        }
    }
    let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for (x, y) in ta.iter().zip(tb) {
        s += x * y;
    }
    // a multiply and an add per element pair, three adds joining the lanes
    ops.add(2 * a.len().min(b.len()) + 3);
    s
}

/// Numerically stable softmax of seven logits.
pub fn softmax(z: &[f32; 7]) -> [f32; 7] {
    let m = z.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
    let mut p = z.map(|v| (v - m).exp());
    let s: f32 = p.iter().sum();
    p.iter_mut().for_each(|v| *v /= s);
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_layer_by_blocks_sums_as_dot_does() {
        let mut w = Weights::zeros(16, 32);
        let mut x = 3u64;
        let mut next = || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        };
        for v in w.emb.iter_mut().chain(&mut w.w1).chain(&mut w.b1) {
            *v = next();
        }
        let mut inp = FrameInputs::default();
        for f in 0..FRAMES {
            inp.ids[f] = (0..40)
                .map(|i| ((i * 97 + f * 13) % VOCAB) as u16)
                .collect();
            for d in inp.dense[f].iter_mut() {
                *d = next() * 10.0;
            }
        }
        let model = Model::new(w.clone());
        assert!(!model.w1_blocks.is_empty());
        let mut fw = Forward::default();
        model.forward(&inp, &mut fw);
        // The reference: one dot product per hidden unit, as for any other width.
        let iw = w.input_width();
        for f in 0..FRAMES {
            for j in 0..32 {
                let want = w.b1[j] + dot(&w.w1[j * iw..(j + 1) * iw], &fw.x[f], &mut NoCount);
                assert_eq!(fw.a[f][j].to_bits(), want.to_bits(), "frame {f} unit {j}");
            }
        }
    }
}
