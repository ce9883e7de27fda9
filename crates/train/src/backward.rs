//! Loss and gradient of one read.

use cdspred_data::ReadLabel;
use cdspred_model::features::{FrameInputs, FRAMES, VOCAB};
use cdspred_model::net::{Forward, Weights};

/// Gradients with the same layout as [`Weights`].
#[derive(Debug, Clone)]
pub struct Grads(pub Weights);

impl Grads {
    /// Zero gradients for weights of this size.
    pub fn zeros_like(w: &Weights) -> Grads {
        Grads(Weights::zeros(w.dim, w.hidden))
    }

    /// Sets all to zero.
    pub fn clear(&mut self) {
        for t in self.0.tensors_mut() {
            t.iter_mut().for_each(|v| *v = 0.0);
        }
    }

    /// Adds another gradient.
    pub fn add(&mut self, other: &Grads) {
        let o = other.0.tensors();
        for (dst, (_, _, src)) in self.0.tensors_mut().into_iter().zip(o) {
            dst.iter_mut().zip(src.iter()).for_each(|(d, s)| *d += s);
        }
    }
}

/// The classes a label allows, as a mask over the seven classes.
fn allowed(label: ReadLabel) -> [bool; 7] {
    match label {
        ReadLabel::Class(c) => {
            let mut m = [false; 7];
            m[c.index()] = true;
            m
        }
        ReadLabel::Sense(true) => [false, true, true, true, false, false, false],
        ReadLabel::Sense(false) => [true, false, false, false, true, true, true],
    }
}

/// P(the classes a label allows), floored at 1e-12 so its log is finite.
fn allowed_prob(fw: &Forward, m: [bool; 7]) -> f32 {
    fw.probs
        .iter()
        .zip(m)
        .filter(|(_, a)| *a)
        .map(|(p, _)| *p)
        .sum::<f32>()
        .max(1e-12)
}

/// Loss `-weight * ln P(allowed classes)` for a forward pass.
pub fn loss(fw: &Forward, label: ReadLabel, weight: f32) -> f32 {
    -weight * allowed_prob(fw, allowed(label)).ln()
}

/// Adds the gradient of [`loss`] for one read to `g`; returns the loss.
pub fn backward(
    w: &Weights,
    inp: &FrameInputs,
    fw: &Forward,
    label: ReadLabel,
    weight: f32,
    g: &mut Grads,
) -> f32 {
    let m = allowed(label);
    let ps = allowed_prob(fw, m);
    // d(-ln P(S))/dz_k = p_k - [k in S] p_k / P(S)
    let mut dz = [0f32; 7];
    for k in 0..7 {
        let q = if m[k] { fw.probs[k] / ps } else { 0.0 };
        dz[k] = weight * (fw.probs[k] - q);
    }
    let (d, h, iw) = (w.dim, w.hidden, w.input_width());
    let g = &mut g.0;
    g.c0[0] += dz[0];
    for j in 0..h {
        g.u_mean[j] += dz[0] * fw.h_mean[j];
        g.u_max[j] += dz[0] * fw.h_max[j];
    }
    let mut dx = vec![0f32; iw];
    for f in 0..FRAMES {
        let ds = dz[f + 1];
        g.b2[0] += ds;
        let (a, x) = (&fw.a[f], &fw.x[f]);
        dx.iter_mut().for_each(|v| *v = 0.0);
        for j in 0..h {
            if a[j] <= 0.0 {
                continue;
            }
            g.w2[j] += ds * a[j];
            let mut dh = ds * w.w2[j] + dz[0] * w.u_mean[j] / FRAMES as f32;
            if fw.max_frame[j] as usize == f {
                dh += dz[0] * w.u_max[j];
            }
            g.b1[j] += dh;
            let row = &w.w1[j * iw..(j + 1) * iw];
            let grow = &mut g.w1[j * iw..(j + 1) * iw];
            for i in 0..iw {
                grow[i] += dh * x[i];
                dx[i] += dh * row[i];
            }
        }
        let ids = &inp.ids[f];
        if !ids.is_empty() {
            let inv = 1.0 / ids.len() as f32;
            for &id in ids {
                debug_assert!((id as usize) < VOCAB);
                let gr = &mut g.emb[id as usize * d..id as usize * d + d];
                for (gv, dv) in gr.iter_mut().zip(&dx[..d]) {
                    *gv += dv * inv;
                }
            }
        }
    }
    -weight * ps.ln()
}

#[cfg(test)]
mod tests {
    use super::*;
    use cdspred_core::{DnaSeq, GeneticCode, ReadClass};
    use cdspred_data::sample::Rng;
    use cdspred_model::net::Model;
    use cdspred_model::TableContext;

    fn random_weights(seed: u64) -> Weights {
        let mut rng = Rng::new(seed);
        let mut w = Weights::zeros(4, 5);
        for t in w.tensors_mut() {
            t.iter_mut()
                .for_each(|v| *v = (rng.unit() as f32 - 0.5) * 0.8);
        }
        w
    }

    /// The analytic gradient matches central finite differences.
    #[test]
    fn gradient_matches_finite_differences() {
        let seq =
            DnaSeq::from_ascii(b"ATGGCTAAACGTTGACCCGGGTTTAAAGACGTAGCTTAGCAGGCATCGATCGG").unwrap();
        let table = TableContext::new(GeneticCode::bacterial());
        let mut inp = FrameInputs::default();
        let llr: Vec<f32> = (0..cdspred_model::features::VOCAB)
            .map(|i| (i % 7) as f32 * 0.3 - 1.0)
            .collect();
        let path = cdspred_model::features::PathScorer {
            llr: &llr,
            shift: 3.0,
            stop: 8.0,
            hint: Some(0.8),
        };
        inp.fill(seq.codes(), &table, &path);
        for label in [
            ReadLabel::Class(ReadClass::from_index(2).unwrap()),
            ReadLabel::Class(ReadClass::NonCoding),
            ReadLabel::Sense(true),
            ReadLabel::Sense(false),
        ] {
            let w = random_weights(3);
            let mut fw = Forward::default();
            Model::new(w.clone()).forward(&inp, &mut fw);
            let mut g = Grads::zeros_like(&w);
            backward(&w, &inp, &fw, label, 1.3, &mut g);
            let eps = 1e-3f32;
            let names: Vec<&str> = w.tensors().iter().map(|t| t.0).collect();
            for (ti, name) in names.iter().enumerate() {
                let n = w.tensors()[ti].2.len();
                // Probe a handful of entries, including ones the read touches.
                let probes: Vec<usize> = if *name == "emb" {
                    inp.ids[0].iter().take(3).map(|&i| i as usize * 4).collect()
                } else {
                    (0..n).step_by((n / 4).max(1)).collect()
                };
                for k in probes {
                    let eval = |delta: f32| {
                        let mut w2 = w.clone();
                        w2.tensors_mut()[ti][k] += delta;
                        let mut fw = Forward::default();
                        Model::new(w2).forward(&inp, &mut fw);
                        loss(&fw, label, 1.3)
                    };
                    let num = (eval(eps) - eval(-eps)) / (2.0 * eps);
                    let ana = g.0.tensors()[ti].2[k];
                    assert!(
                        (num - ana).abs() < 2e-3 + 2e-2 * num.abs(),
                        "{name}[{k}] {label:?}: numeric {num} analytic {ana}"
                    );
                }
            }
        }
    }
}
