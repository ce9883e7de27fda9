//! Fitting a model's calibration (see [`cdspred_model::calibrate`]) on validation
//! reads, with the error mix each network meets in use.
//!
//! | scorer | validation reads | told |
//! |---|---|---|
//! | main network, told nothing | the training mix's unhinted share with errors | nothing |
//! | main network, told an indel rate | every read with one of the mix's indel profiles | [`INDEL_HINT`] |
//! | clean expert | the clean expert's own error mix | 0 |
//!
//! One temperature per read length of the validation data (reads with indels count
//! at the length they were sampled at).

use std::collections::BTreeMap;

use cdspred_core::TableId;
use cdspred_data::errors::ErrorProfile;
use cdspred_data::{Dataset, ReadLabel};
use cdspred_model::calibrate::{apply, ece, fit_temperature, logit, Calibration, Temperatures};
use cdspred_model::estimate::INDEL_HINT;
use cdspred_model::files::ModelFiles;
use cdspred_model::Predictor;
use serde::Serialize;

use crate::augment::with_errors;
use crate::evaluate::predict_with_tables;

/// An error mix: profiles and the share of reads that get one (the default: none,
/// error-free reads).
#[derive(Debug, Clone, Default)]
pub struct Mix {
    /// Profiles drawn uniformly.
    pub profiles: Vec<ErrorProfile>,
    /// Share of reads with errors.
    pub fraction: f64,
}

/// What to fit on.
#[derive(Debug, Clone)]
pub struct FitSpec<'a> {
    /// Models with the error-free labelled reads each scores (as `data build` writes
    /// them): the model's own validation reads, or reads of genomes held out of a
    /// retrain scored by that retrain (what the model will meet: genomes it never saw).
    pub parts: Vec<(&'a ModelFiles, &'a Dataset)>,
    /// What the reads are (recorded in the calibration).
    pub data_name: String,
    /// Errors of reads the main network sees without a hint.
    pub main: Mix,
    /// The main network's indel profiles (reads told [`INDEL_HINT`]).
    pub indels: Vec<ErrorProfile>,
    /// Errors of reads the clean expert sees.
    pub clean: Mix,
    /// Seed of the errors.
    pub seed: u64,
}

/// One length of one scorer.
#[derive(Debug, Clone, Serialize)]
pub struct LengthFit {
    /// Read length (nt).
    pub length: u32,
    /// Labelled reads.
    pub n: usize,
    /// Fitted temperature.
    pub temperature: f32,
    /// Coding-vs-non-coding accuracy at 0.5.
    pub accuracy: f64,
    /// Mean confidence (max(p, 1 − p)) before calibration.
    pub confidence_before: f64,
    /// After.
    pub confidence_after: f64,
    /// ECE before calibration.
    pub ece_before: f64,
    /// After.
    pub ece_after: f64,
}

/// The fit of every scorer, for the card.
#[derive(Debug, Clone, Serialize, Default)]
pub struct FitReport {
    /// What the temperatures were fitted on.
    pub fitted_on: String,
    /// Per scorer (`main`, `main_hinted`, `clean`), per length.
    pub scorers: BTreeMap<String, Vec<LengthFit>>,
}

/// Fits a calibration on `spec.parts` (a clean table when every part's model has a
/// clean expert). Deterministic for a seed; the thread count does not matter.
pub fn fit(spec: &FitSpec, threads: usize) -> (Calibration, FitReport) {
    let mut report = FitReport::default();
    let mut one = |name: &str, mix: &Mix, seed: u64, hint: Option<f32>, error_free: bool| {
        let mut by_len: BTreeMap<u32, (Vec<f32>, Vec<bool>)> = BTreeMap::new();
        for (files, ds) in &spec.parts {
            let pred = Predictor::new(files)
                .uncalibrated()
                .with_error_hint(hint)
                .with_error_free(error_free);
            collect(&pred, ds, &mutated(ds, mix, seed), threads, &mut by_len);
        }
        let (t, rows) = fit_lengths(by_len);
        report.scorers.insert(name.to_string(), rows);
        t
    };
    let main = one("main", &spec.main, spec.seed, None, false);
    let hinted_mix = Mix {
        profiles: spec.indels.clone(),
        fraction: if spec.indels.is_empty() { 0.0 } else { 1.0 },
    };
    let main_hinted = one(
        "main_hinted",
        &hinted_mix,
        spec.seed ^ 1,
        Some(INDEL_HINT),
        false,
    );
    let every = |has: fn(&ModelFiles) -> bool| {
        !spec.parts.is_empty() && spec.parts.iter().all(|p| has(p.0))
    };
    let clean = every(|f| f.clean.is_some())
        .then(|| one("clean", &spec.clean, spec.seed ^ 2, Some(0.0), false));
    // The pristine expert meets error-free reads only.
    let pristine = every(|f| f.pristine.is_some())
        .then(|| one("pristine", &Mix::default(), spec.seed ^ 3, Some(0.0), true));
    let describe = |m: &Mix| {
        let names: Vec<&str> = m.profiles.iter().map(|p| p.name.as_str()).collect();
        format!(
            "{:.0}% of reads with {}",
            m.fraction * 100.0,
            names.join("/")
        )
    };
    let reads: usize = spec.parts.iter().map(|p| p.1.samples.len()).sum();
    let fitted_on = format!(
        "{} ({reads} reads); main: {}; main_hinted: every read with {}; clean: {}; pristine: error-free reads; seed {}",
        spec.data_name,
        describe(&spec.main),
        spec.indels
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join("/"),
        describe(&spec.clean),
        spec.seed
    );
    report.fitted_on = fitted_on.clone();
    let cal = Calibration {
        method: "temperature".into(),
        fitted_on,
        main,
        main_hinted,
        clean,
        pristine,
    };
    (cal, report)
}

fn mutated(val: &Dataset, mix: &Mix, seed: u64) -> Dataset {
    if mix.profiles.is_empty() || mix.fraction == 0.0 {
        return val.clone();
    }
    with_errors(val, &mix.profiles, mix.fraction, seed)
}

/// Scores `ds` (the reads of the error-free `orig`, in its order, possibly mutated)
/// and adds each labelled read's coding probability and truth under its original
/// length.
fn collect(
    pred: &Predictor,
    orig: &Dataset,
    ds: &Dataset,
    threads: usize,
    by_len: &mut BTreeMap<u32, (Vec<f32>, Vec<bool>)>,
) {
    let reads: Vec<(&[u8], TableId)> = ds.samples.iter().map(|s| (ds.read(s), s.table)).collect();
    let preds = predict_with_tables(pred, &reads, 0.5, threads);
    for ((o, s), p) in orig.samples.iter().zip(&ds.samples).zip(&preds) {
        let ReadLabel::Class(c) = s.label else {
            continue;
        };
        if p.best.is_none() {
            continue;
        }
        let e = by_len.entry(o.len as u32).or_default();
        e.0.push(p.coding_prob);
        e.1.push(c.index() > 0);
    }
}

/// One temperature per length with at least 200 reads.
fn fit_lengths(by_len: BTreeMap<u32, (Vec<f32>, Vec<bool>)>) -> (Temperatures, Vec<LengthFit>) {
    let mut t = Temperatures {
        lengths: Vec::new(),
        temperatures: Vec::new(),
        accuracy: Vec::new(),
    };
    let mut rows = Vec::new();
    for (len, (p, y)) in by_len {
        if p.len() < 200 {
            continue;
        }
        let z: Vec<f32> = p.iter().map(|&p| logit(p)).collect();
        let temp = fit_temperature(&z, &y);
        let after: Vec<f32> = p
            .iter()
            .map(|&cp| 1.0 - apply([1.0 - cp, cp, 0.0, 0.0, 0.0, 0.0, 0.0], temp)[0])
            .collect();
        let conf =
            |v: &[f32]| v.iter().map(|&p| p.max(1.0 - p) as f64).sum::<f64>() / v.len() as f64;
        let right = p.iter().zip(&y).filter(|(&p, &y)| (p >= 0.5) == y).count();
        rows.push(LengthFit {
            length: len,
            n: p.len(),
            temperature: (temp * 1000.0).round() / 1000.0,
            accuracy: right as f64 / p.len() as f64,
            confidence_before: conf(&p),
            confidence_after: conf(&after),
            ece_before: ece(&p, &y),
            ece_after: ece(&after, &y),
        });
        t.lengths.push(len);
        t.temperatures.push((temp * 1000.0).round() / 1000.0);
        t.accuracy
            .push(((right as f64 / p.len() as f64) * 1e4).round() as f32 / 1e4);
    }
    if t.lengths.is_empty() {
        t.lengths.push(300);
        t.temperatures.push(1.0);
        t.accuracy.clear();
    }
    (t, rows)
}
