//! Performance estimated without labels (CBPE, confidence-based performance
//! estimation, as NannyML does it).
//!
//! With calibrated coding probabilities `p_i` (see `cdspred_model::calibrate`), a read
//! called coding (`p_i` ≥ threshold) is right with probability `p_i` and a read called
//! non-coding with probability `1 − p_i`. The expected confusion matrix is the sum of
//! those probabilities; the expected accuracy is their mean, and the MCC is taken from
//! the expected matrix. The interval is the 2.5–97.5% range of accuracy and MCC over
//! [`DRAWS`] sets of labels drawn from the probabilities (fixed seed): how far the
//! realised performance of these reads may lie from the estimate when the
//! probabilities are right. How right they are on genomes the model never saw is
//! measured in `docs/drift.md`.

use cdspred_data::sample::Rng;
use serde::Serialize;

/// Label draws for the interval.
pub const DRAWS: usize = 200;

/// Estimated performance of a set of calls.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Estimate {
    /// Reads scored (too-short reads are not).
    pub n: usize,
    /// Expected share of right coding/non-coding calls.
    pub accuracy: f64,
    /// 2.5% and 97.5% of the accuracy over label draws.
    pub accuracy_interval: [f64; 2],
    /// MCC of the expected confusion matrix (none when a margin is empty).
    pub mcc: Option<f64>,
    /// 2.5% and 97.5% of the MCC over label draws (none with `mcc`).
    pub mcc_interval: Option<[f64; 2]>,
    /// Share of reads called coding.
    pub called_coding: f64,
    /// Expected share of reads that are coding.
    pub expected_coding: f64,
}

fn mcc(tp: f64, fp: f64, tn: f64, fn_: f64) -> Option<f64> {
    let d = (tp + fp) * (tp + fn_) * (tn + fp) * (tn + fn_);
    (d > 0.0).then(|| (tp * tn - fp * fn_) / d.sqrt())
}

fn percentile(v: &mut [f64], q: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    let i = ((v.len() - 1) as f64 * q).round() as usize;
    v[i]
}

/// Estimates the performance of calls at `threshold` from calibrated coding
/// probabilities. `None` for no reads. Deterministic.
pub fn estimate(probs: &[f32], threshold: f32) -> Option<Estimate> {
    if probs.is_empty() {
        return None;
    }
    let n = probs.len() as f64;
    let called: Vec<bool> = probs
        .iter()
        .map(|&p| cdspred_model::result::reaches(p, threshold))
        .collect();
    let (mut tp, mut fp, mut tn, mut fn_) = (0.0, 0.0, 0.0, 0.0);
    for (&p, &c) in probs.iter().zip(&called) {
        let p = p as f64;
        if c {
            tp += p;
            fp += 1.0 - p;
        } else {
            fn_ += p;
            tn += 1.0 - p;
        }
    }
    let mut rng = Rng::new(0xCB9E);
    let unit = |rng: &mut Rng| (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    let (mut accs, mut mccs) = (Vec::with_capacity(DRAWS), Vec::with_capacity(DRAWS));
    for _ in 0..DRAWS {
        let (mut a, mut b, mut c, mut d) = (0.0, 0.0, 0.0, 0.0);
        for (&p, &called) in probs.iter().zip(&called) {
            let coding = unit(&mut rng) < p as f64;
            match (called, coding) {
                (true, true) => a += 1.0,
                (true, false) => b += 1.0,
                (false, false) => c += 1.0,
                (false, true) => d += 1.0,
            }
        }
        accs.push((a + c) / n);
        if let Some(m) = mcc(a, b, c, d) {
            mccs.push(m);
        }
    }
    let m = mcc(tp, fp, tn, fn_);
    let mcc_interval = (m.is_some() && !mccs.is_empty())
        .then(|| [percentile(&mut mccs, 0.025), percentile(&mut mccs, 0.975)]);
    Some(Estimate {
        n: probs.len(),
        accuracy: (tp + tn) / n,
        accuracy_interval: [percentile(&mut accs, 0.025), percentile(&mut accs, 0.975)],
        mcc: mcc_interval.and(m),
        mcc_interval,
        called_coding: called.iter().filter(|&&c| c).count() as f64 / n,
        expected_coding: (tp + fn_) / n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confident_right_calls_estimate_high_and_unsure_ones_low() {
        let sure: Vec<f32> = (0..1000)
            .map(|i| if i % 2 == 0 { 0.99 } else { 0.01 })
            .collect();
        let e = estimate(&sure, 0.5).unwrap();
        assert!((e.accuracy - 0.99).abs() < 1e-6, "{e:?}");
        assert!(e.mcc.unwrap() > 0.95);
        assert!(e.accuracy_interval[0] < 0.99 && e.accuracy_interval[1] > 0.98);
        assert!((e.called_coding - 0.5).abs() < 1e-9);
        let unsure = vec![0.6f32; 1000];
        let e = estimate(&unsure, 0.5).unwrap();
        assert!((e.accuracy - 0.6).abs() < 1e-6);
        // Every read called coding: the MCC is undefined.
        assert_eq!(e.mcc, None);
        assert!(estimate(&[], 0.5).is_none());
    }

    #[test]
    fn the_estimate_matches_labels_drawn_from_the_probabilities() {
        // Labels drawn from the probabilities: the realised accuracy lies inside the
        // interval.
        let mut rng = Rng::new(3);
        let probs: Vec<f32> = (0..5000)
            .map(|_| (rng.next_u64() % 1000) as f32 / 1000.0)
            .collect();
        let e = estimate(&probs, 0.5).unwrap();
        let right = probs
            .iter()
            .filter(|&&p| {
                let coding = (rng.next_u64() % 1_000_000) as f32 / 1e6 < p;
                (p >= 0.5) == coding
            })
            .count() as f64
            / 5000.0;
        assert!((e.accuracy - 0.75).abs() < 0.01, "{e:?}");
        assert!(
            right >= e.accuracy_interval[0] - 0.005 && right <= e.accuracy_interval[1] + 0.005,
            "{right} {e:?}"
        );
    }
}
