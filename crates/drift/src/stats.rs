//! Two-sample tests and distances, as Evidently chooses them by default.

/// Kolmogorov–Smirnov statistic and asymptotic p-value of two samples.
pub fn ks(a: &[f64], b: &[f64]) -> (f64, f64) {
    let mut x: Vec<f64> = a.iter().copied().filter(|v| v.is_finite()).collect();
    let mut y: Vec<f64> = b.iter().copied().filter(|v| v.is_finite()).collect();
    if x.is_empty() || y.is_empty() {
        return (0.0, 1.0);
    }
    x.sort_by(f64::total_cmp);
    y.sort_by(f64::total_cmp);
    let (n, m) = (x.len() as f64, y.len() as f64);
    let (mut i, mut j, mut d) = (0usize, 0usize, 0f64);
    while i < x.len() && j < y.len() {
        let v = x[i].min(y[j]);
        while i < x.len() && x[i] <= v {
            i += 1;
        }
        while j < y.len() && y[j] <= v {
            j += 1;
        }
        d = d.max((i as f64 / n - j as f64 / m).abs());
    }
    let ne = n * m / (n + m);
    let lambda = (ne.sqrt() + 0.12 + 0.11 / ne.sqrt()) * d;
    (d, kolmogorov_q(lambda))
}

/// Survival function of the Kolmogorov distribution.
fn kolmogorov_q(lambda: f64) -> f64 {
    if lambda < 1e-3 {
        return 1.0;
    }
    let mut s = 0.0;
    for j in 1..=100 {
        let t = 2.0 * (-1f64).powi(j - 1) * (-2.0 * (j as f64).powi(2) * lambda * lambda).exp();
        s += t;
        if t.abs() < 1e-12 {
            break;
        }
    }
    s.clamp(0.0, 1.0)
}

/// Wasserstein-1 distance of two samples divided by the reference's standard deviation.
pub fn wasserstein_normed(reference: &[f64], current: &[f64]) -> f64 {
    let mut r: Vec<f64> = reference
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    let mut c: Vec<f64> = current.iter().copied().filter(|v| v.is_finite()).collect();
    if r.is_empty() || c.is_empty() {
        return 0.0;
    }
    r.sort_by(f64::total_cmp);
    c.sort_by(f64::total_cmp);
    let q = |v: &[f64], u: f64| v[((u * v.len() as f64) as usize).min(v.len() - 1)];
    let k = 2000;
    let w: f64 = (0..k)
        .map(|i| (i as f64 + 0.5) / k as f64)
        .map(|u| (q(&r, u) - q(&c, u)).abs())
        .sum::<f64>()
        / k as f64;
    let mean = r.iter().sum::<f64>() / r.len() as f64;
    let sd = (r.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / r.len() as f64).sqrt();
    // A constant reference: any move is a full move.
    if sd < 1e-12 {
        return if w > 1e-12 { f64::INFINITY } else { 0.0 };
    }
    w / sd
}

/// Jensen–Shannon distance (natural log, as scipy) of two count vectors.
pub fn js_distance(p: &[f64], q: &[f64]) -> f64 {
    let (sp, sq) = (p.iter().sum::<f64>(), q.iter().sum::<f64>());
    if sp <= 0.0 || sq <= 0.0 {
        return 0.0;
    }
    let mut d = 0.0;
    for (a, b) in p.iter().zip(q) {
        let (a, b) = (a / sp, b / sq);
        let m = (a + b) / 2.0;
        if a > 0.0 {
            d += 0.5 * a * (a / m).ln();
        }
        if b > 0.0 {
            d += 0.5 * b * (b / m).ln();
        }
    }
    d.max(0.0).sqrt()
}

/// Two-sample chi-square test of homogeneity on a 2×k table of counts (reference,
/// current): (statistic, p-value). Categories empty in both samples are left out.
pub fn chi_square(reference: &[f64], current: &[f64]) -> (f64, f64) {
    let (sr, sc) = (reference.iter().sum::<f64>(), current.iter().sum::<f64>());
    if sr <= 0.0 || sc <= 0.0 {
        return (0.0, 1.0);
    }
    let n = sr + sc;
    let mut stat = 0.0;
    let mut cats = 0;
    for (r, c) in reference.iter().zip(current) {
        let col = r + c;
        if col <= 0.0 {
            continue;
        }
        cats += 1;
        let (er, ec) = (sr * col / n, sc * col / n);
        stat += (r - er).powi(2) / er + (c - ec).powi(2) / ec;
    }
    if cats < 2 {
        return (0.0, 1.0);
    }
    (stat, gamma_q((cats - 1) as f64 / 2.0, stat / 2.0))
}

/// Two-proportion Z-test p-value (two-sided).
pub fn z_test(k1: f64, n1: f64, k2: f64, n2: f64) -> (f64, f64) {
    if n1 == 0.0 || n2 == 0.0 {
        return (0.0, 1.0);
    }
    let p = (k1 + k2) / (n1 + n2);
    let se = (p * (1.0 - p) * (1.0 / n1 + 1.0 / n2)).sqrt();
    if se == 0.0 {
        return (0.0, 1.0);
    }
    let z = (k1 / n1 - k2 / n2) / se;
    (z, erfc(z.abs() / std::f64::consts::SQRT_2))
}

fn erfc(x: f64) -> f64 {
    // Numerical Recipes erfcc, |error| < 1.2e-7.
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.26551223
            + t * (1.00002368
                + t * (0.37409196
                    + t * (0.09678418
                        + t * (-0.18628806
                            + t * (0.27886807
                                + t * (-1.13520398
                                    + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))))
            .exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

fn ln_gamma(x: f64) -> f64 {
    let c = [
        76.18009172947146,
        -86.50532032941677,
        24.01409824083091,
        -1.231739572450155,
        0.1208650973866179e-2,
        -0.5395239384953e-5,
    ];
    let mut y = x;
    let tmp = x + 5.5;
    let tmp = tmp - (x + 0.5) * tmp.ln();
    let mut ser = 1.000000000190015;
    for ci in c {
        y += 1.0;
        ser += ci / y;
    }
    -tmp + (2.5066282746310005 * ser / x).ln()
}

/// Regularised upper incomplete gamma function Q(a, x).
pub fn gamma_q(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    if x < a + 1.0 {
        // Series for P, then Q = 1 - P.
        let (mut sum, mut del, mut ap) = (1.0 / a, 1.0 / a, a);
        for _ in 0..1000 {
            ap += 1.0;
            del *= x / ap;
            sum += del;
            if del.abs() < sum.abs() * 1e-14 {
                break;
            }
        }
        1.0 - sum * (-x + a * x.ln() - ln_gamma(a)).exp()
    } else {
        // Continued fraction (Lentz).
        let tiny = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / tiny;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..1000 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < tiny {
                d = tiny;
            }
            c = b + an / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            let del = d * c;
            h *= del;
            if (del - 1.0).abs() < 1e-14 {
                break;
            }
        }
        ((-x + a * x.ln() - ln_gamma(a)).exp() * h).clamp(0.0, 1.0)
    }
}

/// Cross-validated ROC AUC of a logistic-regression classifier telling the two samples
/// apart (the domain-classifier test). Deterministic: folds by index.
pub fn domain_classifier_auc(reference: &[Vec<f32>], current: &[Vec<f32>], folds: usize) -> f64 {
    let dim = reference.first().map(|v| v.len()).unwrap_or(0);
    if dim == 0 || current.is_empty() {
        return 0.5;
    }
    let mut rows: Vec<(&[f32], bool)> = reference
        .iter()
        .map(|v| (v.as_slice(), false))
        .chain(current.iter().map(|v| (v.as_slice(), true)))
        .collect();
    // Interleave deterministically so folds mix both samples.
    rows.sort_by_key(|r| r.1);
    let n = rows.len();
    // Standardise with the pooled mean and sd.
    let mut mean = vec![0f64; dim];
    let mut sd = vec![0f64; dim];
    for (v, _) in &rows {
        for k in 0..dim {
            mean[k] += v[k] as f64 / n as f64;
        }
    }
    for (v, _) in &rows {
        for k in 0..dim {
            sd[k] += (v[k] as f64 - mean[k]).powi(2) / n as f64;
        }
    }
    let sd: Vec<f64> = sd.iter().map(|s| s.sqrt().max(1e-9)).collect();
    let x: Vec<Vec<f64>> = rows
        .iter()
        .map(|(v, _)| (0..dim).map(|k| (v[k] as f64 - mean[k]) / sd[k]).collect())
        .collect();
    let y: Vec<bool> = rows.iter().map(|r| r.1).collect();
    let mut scores = vec![0f64; n];
    for f in 0..folds {
        let test = |i: usize| i % folds == f;
        let mut w = vec![0f64; dim + 1];
        for _ in 0..150 {
            let mut g = vec![0f64; dim + 1];
            let mut cnt = 0.0;
            for i in (0..n).filter(|&i| !test(i)) {
                let z = w[dim] + (0..dim).map(|k| w[k] * x[i][k]).sum::<f64>();
                let p = 1.0 / (1.0 + (-z).exp());
                let e = p - y[i] as u8 as f64;
                for k in 0..dim {
                    g[k] += e * x[i][k];
                }
                g[dim] += e;
                cnt += 1.0;
            }
            for k in 0..=dim {
                w[k] -= 0.5 * (g[k] / cnt + if k < dim { 1e-3 * w[k] } else { 0.0 });
            }
        }
        for i in (0..n).filter(|&i| test(i)) {
            scores[i] = w[dim] + (0..dim).map(|k| w[k] * x[i][k]).sum::<f64>();
        }
    }
    auc(&y, &scores)
}

fn auc(y: &[bool], s: &[f64]) -> f64 {
    let mut idx: Vec<usize> = (0..y.len()).collect();
    idx.sort_by(|&a, &b| s[a].total_cmp(&s[b]));
    let (mut rank_sum, mut i) = (0f64, 0usize);
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && s[idx[j + 1]] == s[idx[i]] {
            j += 1;
        }
        for &k in &idx[i..=j] {
            if y[k] {
                rank_sum += (i + j) as f64 / 2.0 + 1.0;
            }
        }
        i = j + 1;
    }
    let pos = y.iter().filter(|&&v| v).count() as f64;
    let neg = y.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 {
        return 0.5;
    }
    (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // scipy.stats.ks_2samp([1,2,3,4,5],[6,7,8,9,10]) -> D = 1.0
        let (d, p) = ks(&[1., 2., 3., 4., 5.], &[6., 7., 8., 9., 10.]);
        assert_eq!(d, 1.0);
        assert!(p < 0.01);
        let (d, p) = ks(&[1., 2., 3.], &[1., 2., 3.]);
        assert_eq!((d, p), (0.0, 1.0));
        // chi2.sf(3.84, 1) ≈ 0.05; chi2.sf(10, 4) ≈ 0.0404
        assert!((gamma_q(0.5, 3.841 / 2.0) - 0.05).abs() < 1e-3);
        assert!((gamma_q(2.0, 5.0) - 0.0404).abs() < 1e-3);
        assert!(
            js_distance(&[1., 0.], &[0., 1.]) > 0.83 && js_distance(&[1., 1.], &[2., 2.]) < 1e-12
        );
        assert!((wasserstein_normed(&[0., 2.], &[1., 3.]) - 1.0).abs() < 1e-9);
        let (_, p) = z_test(50., 100., 50., 100.);
        assert!((p - 1.0).abs() < 1e-6);
    }

    #[test]
    fn domain_classifier_separates_shifted_samples() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut u = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f32 / (1u64 << 53) as f32
        };
        let mut sample =
            |shift: f32| -> Vec<Vec<f32>> { (0..400).map(|_| vec![u() + shift, u()]).collect() };
        let (a, b, c) = (sample(0.0), sample(0.8), sample(0.0));
        assert!(domain_classifier_auc(&a, &b, 5) > 0.9);
        let same = domain_classifier_auc(&a, &c, 5);
        assert!((same - 0.5).abs() < 0.08, "{same}");
    }
}
