//! Calibrated coding probabilities: temperature scaling by read length.
//!
//! The networks are trained for accuracy, and on genomes they never saw they are
//! over-confident, more so on short reads. A model may carry a [`Calibration`]: for
//! each network it is used as (main network told nothing, main network told an indel
//! rate, clean expert), one temperature per read length, fitted on validation reads
//! (`cdspred model calibrate`, `cdspred model promote`). The coding logit
//! `ln(cp / (1 − cp))` is divided by the temperature of the nearest fitted length and
//! the six coding classes are rescaled to the new total, so strand, frame and the call
//! at 0.5 never change; only how sure the model says it is.
//!
//! Estimated performance without labels (`cdspred drift`, CBPE) rests on these
//! probabilities meaning what they say.

use serde::{Deserialize, Serialize};

/// Temperatures by read length for one network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Temperatures {
    /// Read lengths the temperatures were fitted at, ascending.
    pub lengths: Vec<u32>,
    /// One temperature per length (> 0; above 1 softens).
    pub temperatures: Vec<f32>,
    /// The coding-vs-non-coding accuracy (at 0.5) the fit measured at each length: what
    /// to expect of reads like those it was fitted on (empty: not recorded).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accuracy: Vec<f32>,
}

/// Smallest and largest temperature a fit may choose.
pub const T_RANGE: (f32, f32) = (0.25, 8.0);

impl Temperatures {
    /// Checks the shape: as many temperatures as lengths, lengths ascending, every
    /// temperature in [`T_RANGE`].
    pub fn validate(&self) -> Result<(), String> {
        if self.lengths.is_empty() || self.lengths.len() != self.temperatures.len() {
            return Err(format!(
                "{} lengths but {} temperatures",
                self.lengths.len(),
                self.temperatures.len()
            ));
        }
        if !self.accuracy.is_empty() && self.accuracy.len() != self.lengths.len() {
            return Err(format!(
                "{} lengths but {} accuracies",
                self.lengths.len(),
                self.accuracy.len()
            ));
        }
        if self.lengths.windows(2).any(|w| w[1] <= w[0]) {
            return Err("lengths must ascend".into());
        }
        if let Some(t) = self
            .temperatures
            .iter()
            .find(|t| !(T_RANGE.0..=T_RANGE.1).contains(*t))
        {
            return Err(format!(
                "temperature {t} outside [{}, {}]",
                T_RANGE.0, T_RANGE.1
            ));
        }
        Ok(())
    }

    /// The temperature for a read of `len` nt: that of the nearest fitted length
    /// (the lower one on a tie).
    pub fn at(&self, len: usize) -> f32 {
        self.temperatures[self.nearest(len)]
    }

    /// The accuracy the fit measured at the nearest fitted length, if recorded.
    pub fn accuracy_at(&self, len: usize) -> Option<f32> {
        self.accuracy.get(self.nearest(len)).copied()
    }

    fn nearest(&self, len: usize) -> usize {
        let len = len as i64;
        let mut best = 0;
        for (i, &l) in self.lengths.iter().enumerate() {
            if (l as i64 - len).abs() < (self.lengths[best] as i64 - len).abs() {
                best = i;
            }
        }
        best
    }
}

/// Which network a read was scored by, as calibration sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scorer {
    /// The main network, told no error rate (`--errors unknown`, or the survey was
    /// unsure).
    Main,
    /// The main network told an indel rate above the clean limit.
    MainHinted,
    /// The clean expert.
    Clean,
    /// The pristine expert.
    Pristine,
}

/// A model's calibration (in `config.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calibration {
    /// `temperature` (the only method).
    pub method: String,
    /// What the temperatures were fitted on (data file, error mix, reads).
    pub fitted_on: String,
    /// The main network told nothing.
    pub main: Temperatures,
    /// The main network told an indel rate.
    pub main_hinted: Temperatures,
    /// The clean expert (models that have one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clean: Option<Temperatures>,
    /// The pristine expert (models that have one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pristine: Option<Temperatures>,
}

impl Calibration {
    /// Checks every table.
    pub fn validate(&self) -> Result<(), String> {
        if self.method != "temperature" {
            return Err(format!(
                "calibration method {:?}: only \"temperature\" is known",
                self.method
            ));
        }
        for (name, t) in [
            ("main", Some(&self.main)),
            ("main_hinted", Some(&self.main_hinted)),
            ("clean", self.clean.as_ref()),
            ("pristine", self.pristine.as_ref()),
        ] {
            if let Some(t) = t {
                t.validate()
                    .map_err(|e| format!("calibration.{name}: {e}"))?;
            }
        }
        Ok(())
    }

    /// The temperatures of one scorer (the main network's when an expert's table is
    /// missing).
    pub fn table(&self, s: Scorer) -> &Temperatures {
        match s {
            Scorer::Main => &self.main,
            Scorer::MainHinted => &self.main_hinted,
            Scorer::Clean => self.clean.as_ref().unwrap_or(&self.main),
            Scorer::Pristine => self.pristine.as_ref().unwrap_or(&self.main),
        }
    }
}

/// Class probabilities with the coding logit divided by `t`; the coding classes keep
/// their proportions. The coding probability is taken as the sum of the six coding
/// classes, not `1 − P(non-coding)`, so a tiny one keeps its relative precision (a
/// read and its reverse complement must stay equal to 1e-4 after a temperature that
/// multiplies it a thousandfold).
pub fn apply(probs: [f32; 7], t: f32) -> [f32; 7] {
    let cp: f64 = probs[1..].iter().map(|&p| p as f64).sum();
    let p0 = probs[0] as f64;
    if t == 1.0 || cp <= 0.0 || p0 <= 0.0 {
        return probs;
    }
    let z = (cp.ln() - p0.ln()) / t as f64;
    let sigmoid = |x: f64| 1.0 / (1.0 + (-x).exp());
    let scale = sigmoid(z) / cp;
    let mut out = probs;
    out[0] = sigmoid(-z) as f32;
    for p in out.iter_mut().skip(1) {
        *p = (*p as f64 * scale) as f32;
    }
    out
}

/// The temperature minimising the mean negative log-likelihood of labels `y` given
/// coding logits `z` (golden-section search on ln t over [`T_RANGE`]).
pub fn fit_temperature(z: &[f32], y: &[bool]) -> f32 {
    let nll = |lt: f64| -> f64 {
        let t = lt.exp();
        z.iter()
            .zip(y)
            .map(|(&z, &y)| {
                let s = z as f64 / t;
                // −ln σ(s) for positives, −ln(1 − σ(s)) for negatives, stably.
                let m = if y { -s } else { s };
                m.max(0.0) + (-m.abs()).exp().ln_1p()
            })
            .sum::<f64>()
    };
    let (mut a, mut b) = ((T_RANGE.0 as f64).ln(), (T_RANGE.1 as f64).ln());
    let g = (5f64.sqrt() - 1.0) / 2.0;
    let (mut c, mut d) = (b - g * (b - a), a + g * (b - a));
    let (mut fc, mut fd) = (nll(c), nll(d));
    for _ in 0..60 {
        if fc < fd {
            b = d;
            d = c;
            fd = fc;
            c = b - g * (b - a);
            fc = nll(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + g * (b - a);
            fd = nll(d);
        }
    }
    (((a + b) / 2.0).exp() as f32).clamp(T_RANGE.0, T_RANGE.1)
}

/// The coding logit of a coding probability (clamped away from 0 and 1).
pub fn logit(cp: f32) -> f32 {
    let p = cp.clamp(1e-7, 1.0 - 1e-7);
    (p / (1.0 - p)).ln()
}

/// Expected calibration error: ten equal-width bins of the coding probability, the
/// read-weighted mean gap between mean probability and share coding.
pub fn ece(p: &[f32], y: &[bool]) -> f64 {
    let mut bins = [(0usize, 0f64, 0usize); 10];
    for (&p, &y) in p.iter().zip(y) {
        let b = ((p * 10.0) as usize).min(9);
        bins[b].0 += 1;
        bins[b].1 += p as f64;
        bins[b].2 += y as usize;
    }
    let n = p.len().max(1) as f64;
    bins.iter()
        .filter(|b| b.0 > 0)
        .map(|&(k, s, c)| (s / k as f64 - c as f64 / k as f64).abs() * k as f64)
        .sum::<f64>()
        / n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apply_keeps_the_call_the_frame_and_the_total() {
        let p = [0.2, 0.5, 0.1, 0.05, 0.05, 0.05, 0.05];
        let q = apply(p, 2.0);
        assert!((q.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(q[0] > 0.2 && q[0] < 0.5, "{q:?}");
        assert!((q[1] / q[2] - 5.0).abs() < 1e-4);
        assert_eq!(apply(p, 1.0), p);
        // A softer temperature never crosses 0.5.
        let r = apply([0.49, 0.51, 0.0, 0.0, 0.0, 0.0, 0.0], 3.0);
        assert!(r[0] < 0.5);
    }

    #[test]
    fn the_fit_recovers_a_known_temperature() {
        // Labels drawn from σ(z / 2): the fitted temperature is near 2.
        let mut z = Vec::new();
        let mut y = Vec::new();
        let mut s: u64 = 7;
        for i in 0..20_000 {
            let zi = (i % 200) as f32 / 10.0 - 10.0;
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let u = (s >> 11) as f64 / (1u64 << 53) as f64;
            z.push(zi);
            y.push(u < 1.0 / (1.0 + (-(zi as f64) / 2.0).exp()));
        }
        let t = fit_temperature(&z, &y);
        assert!((t - 2.0).abs() < 0.15, "{t}");
        // Perfectly separated labels want the sharpest temperature allowed.
        let y2: Vec<bool> = z.iter().map(|&z| z > 0.0).collect();
        assert!(fit_temperature(&z, &y2) < 0.3);
    }

    #[test]
    fn nearest_length_and_validation() {
        let t = Temperatures {
            lengths: vec![60, 100, 300],
            temperatures: vec![2.0, 1.5, 1.1],
            accuracy: vec![0.7, 0.8, 0.95],
        };
        assert_eq!(t.accuracy_at(290), Some(0.95));
        assert_eq!(t.at(40), 2.0);
        assert_eq!(t.at(80), 2.0);
        assert_eq!(t.at(81), 1.5);
        assert_eq!(t.at(5000), 1.1);
        assert!(t.validate().is_ok());
        let bad = Temperatures {
            lengths: vec![60, 60],
            temperatures: vec![1.0, 1.0],
            accuracy: Vec::new(),
        };
        assert!(bad.validate().unwrap_err().contains("ascend"));
        let bad = Temperatures {
            lengths: vec![60],
            temperatures: vec![0.0],
            accuracy: Vec::new(),
        };
        assert!(bad.validate().unwrap_err().contains("outside"));
    }

    #[test]
    fn ece_of_calibrated_and_of_overconfident_scores() {
        let p = vec![0.9f32; 1000];
        let y: Vec<bool> = (0..1000).map(|i| i % 10 != 0).collect();
        assert!(ece(&p, &y) < 1e-6);
        let y2: Vec<bool> = (0..1000).map(|i| i % 10 < 7).collect();
        assert!((ece(&p, &y2) - 0.2).abs() < 1e-6);
    }
}
