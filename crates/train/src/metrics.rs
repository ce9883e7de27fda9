//! Binary classification metrics and calibration.

use serde::Serialize;

/// Metrics of a binary classifier at one threshold, plus threshold-free ones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Binary {
    /// Number of items.
    pub n: usize,
    /// Accuracy.
    pub accuracy: f64,
    /// Precision.
    pub precision: f64,
    /// Recall.
    pub recall: f64,
    /// F1.
    pub f1: f64,
    /// Matthews correlation coefficient.
    pub mcc: f64,
    /// Area under the ROC curve.
    pub roc_auc: f64,
    /// Area under the precision-recall curve (average precision).
    pub pr_auc: f64,
    /// Expected calibration error (10 equal-width bins).
    pub ece: f64,
}

/// Computes [`Binary`] for truths and scores at `threshold`.
pub fn binary(truth: &[bool], score: &[f32], threshold: f32) -> Binary {
    let n = truth.len();
    let (mut tp, mut tn, mut fp, mut fneg) = (0f64, 0f64, 0f64, 0f64);
    for (&y, &s) in truth.iter().zip(score) {
        match (y, s >= threshold) {
            (true, true) => tp += 1.0,
            (false, false) => tn += 1.0,
            (false, true) => fp += 1.0,
            (true, false) => fneg += 1.0,
        }
    }
    let div = |a: f64, b: f64| if b == 0.0 { 0.0 } else { a / b };
    let precision = div(tp, tp + fp);
    let recall = div(tp, tp + fneg);
    let den = ((tp + fp) * (tp + fneg) * (tn + fp) * (tn + fneg)).sqrt();
    Binary {
        n,
        accuracy: div(tp + tn, n as f64),
        precision,
        recall,
        f1: div(2.0 * precision * recall, precision + recall),
        mcc: if den == 0.0 {
            0.0
        } else {
            (tp * tn - fp * fneg) / den
        },
        roc_auc: roc_auc(truth, score),
        pr_auc: average_precision(truth, score),
        ece: ece(truth, score, 10),
    }
}

/// ROC AUC with average ranks for ties; NaN when one class is absent.
pub fn roc_auc(truth: &[bool], score: &[f32]) -> f64 {
    let mut idx: Vec<usize> = (0..truth.len()).collect();
    idx.sort_by(|&a, &b| score[a].total_cmp(&score[b]));
    let mut rank_sum = 0f64;
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && score[idx[j + 1]] == score[idx[i]] {
            j += 1;
        }
        let r = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            if truth[k] {
                rank_sum += r;
            }
        }
        i = j + 1;
    }
    let pos = truth.iter().filter(|&&t| t).count() as f64;
    let neg = truth.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 {
        return f64::NAN;
    }
    (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg)
}

/// Average precision (area under the precision-recall curve, step-wise).
pub fn average_precision(truth: &[bool], score: &[f32]) -> f64 {
    let mut idx: Vec<usize> = (0..truth.len()).collect();
    idx.sort_by(|&a, &b| score[b].total_cmp(&score[a]));
    let pos = truth.iter().filter(|&&t| t).count() as f64;
    if pos == 0.0 {
        return f64::NAN;
    }
    let (mut tp, mut ap) = (0f64, 0f64);
    for (rank, &k) in idx.iter().enumerate() {
        if truth[k] {
            tp += 1.0;
            ap += tp / (rank + 1) as f64;
        }
    }
    ap / pos
}

/// Expected calibration error over `bins` equal-width probability bins.
pub fn ece(truth: &[bool], score: &[f32], bins: usize) -> f64 {
    let mut cnt = vec![0f64; bins];
    let mut conf = vec![0f64; bins];
    let mut acc = vec![0f64; bins];
    for (&y, &s) in truth.iter().zip(score) {
        let b = ((s.clamp(0.0, 1.0) * bins as f32) as usize).min(bins - 1);
        cnt[b] += 1.0;
        conf[b] += s as f64;
        acc[b] += y as u8 as f64;
    }
    let n = truth.len().max(1) as f64;
    (0..bins)
        .filter(|&b| cnt[b] > 0.0)
        .map(|b| (acc[b] - conf[b]).abs() / n)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        let y = [true, true, false, false];
        let s = [0.9, 0.4, 0.6, 0.1];
        let m = binary(&y, &s, 0.5);
        assert_eq!(m.accuracy, 0.5);
        assert!((m.roc_auc - 0.75).abs() < 1e-12);
        assert!((m.mcc - 0.0).abs() < 1e-12);
        assert!((average_precision(&y, &s) - (1.0 + 2.0 / 3.0) / 2.0).abs() < 1e-12);
        let perfect = binary(&y, &[1.0, 1.0, 0.0, 0.0], 0.5);
        assert_eq!((perfect.mcc, perfect.ece), (1.0, 0.0));
    }
}
