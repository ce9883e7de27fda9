//! Data drift for cds-predictor.
//!
//! - [`profile`]: per-read features (length, GC, N share, coding probability, in-frame
//!   stop rate, k-mer spectra, codon usage, calls, the model's penultimate layer) and
//!   reference profiles built from training reads.
//! - [`stats`]: KS, chi-square, Z-test, normed Wasserstein, Jensen–Shannon and a
//!   cross-validated domain classifier.
//! - [`report`]: the per-feature tests chosen as Evidently does by default (detail),
//!   the genetic-code check and a self-contained HTML report.
//! - [`performance`]: accuracy and MCC estimated from calibrated probabilities (CBPE).
//! - [`verdict`]: `ok` / `warning` / `alarm` from the estimated performance drop and
//!   failure-mode detectors (genetic code, sequencing errors, non-coding input, short
//!   reads).
//!
//! [`default_profile`] is the reference profile of the embedded default model.

use cdspred_core::TableId;
use cdspred_model::calibrate::Scorer;
use cdspred_model::estimate::{ErrorEstimate, Verdict as Survey};
use cdspred_model::{Predictor, TableContext};
use report::SurveySummary;

pub mod performance;
pub mod profile;
pub mod report;
pub mod stats;
pub mod verdict;

pub use profile::{collect, Collected, Profile};
pub use report::{compare, genetic_code_check, DriftReport};

const DEFAULT_PROFILE: &[u8] = include_bytes!("../../../models/default/profile.json");

/// The embedded default model's reference profile.
pub fn default_profile() -> Result<Profile, serde_json::Error> {
    serde_json::from_slice(DEFAULT_PROFILE)
}

/// Candidate genetic codes checked by default.
pub const CANDIDATE_TABLES: [TableId; 4] = [
    TableId::BACTERIAL,
    TableId::known(4),
    TableId::known(25),
    TableId::known(15),
];

/// Reads the genetic-code check looks at, at most (evenly spaced).
pub const CODE_CHECK_READS: usize = 20_000;

/// The whole check for reads with their genetic codes: features, the genetic-code
/// check and the comparison with the profile. The code in use is the median of the
/// reads' codes. Returns the report and the current features (for the HTML report).
/// `reads` must not be empty.
pub fn check(
    pred: &Predictor,
    profile: &Profile,
    reads: &[(&[u8], TableId)],
    threads: usize,
) -> (DriftReport, Collected) {
    let mut tables: Vec<TableId> = reads.iter().map(|r| r.1).collect();
    tables.sort_unstable();
    let in_use = tables[tables.len() / 2];
    let current = collect(pred, reads, threads);
    let step = (reads.len() / CODE_CHECK_READS).max(1);
    let sample: Vec<&[u8]> = reads.iter().step_by(step).map(|r| r.0).collect();
    let codes = genetic_code_check(pred, &sample, &CANDIDATE_TABLES, threads);
    let mut report = compare(profile, &current, in_use.get(), codes);
    assess(pred, reads, in_use, threads, &mut report);
    (report, current)
}

/// The survey, the estimated performance and the verdict, filled into `report` (whose
/// distribution detail and suggested code are already there). `pred` carries no hint;
/// the reads are surveyed as `cdspred predict` surveys a file, self-trained as it
/// would self-train on them by default, and scored as it would score them.
pub fn assess(
    pred: &Predictor,
    reads: &[(&[u8], TableId)],
    in_use: TableId,
    threads: usize,
    report: &mut DriftReport,
) {
    let ctx = TableContext::new(in_use.code());
    let of_code: Vec<&[u8]> = reads
        .iter()
        .filter(|r| r.1 == in_use)
        .map(|r| r.0)
        .collect();
    let mut survey = ErrorEstimate::default();
    cdspred_model::estimate::survey(pred, &mut survey, &of_code, &ctx, threads);
    // Self-trained as `cdspred predict --self-train auto` would be, on the same reads.
    let hinted = cdspred_model::hmm::teach(
        survey.tell(pred.clone()),
        &of_code,
        &ctx,
        threads,
        cdspred_model::hmm::SelfTrainMode::Auto,
    );
    let mut tables: Vec<TableId> = reads.iter().map(|r| r.1).collect();
    tables.sort_unstable();
    tables.dedup();
    let (mut probs, mut lens) = (Vec::new(), Vec::new());
    for t in tables {
        let ctx = TableContext::new(t.code());
        let batch: Vec<&[u8]> = reads.iter().filter(|r| r.1 == t).map(|r| r.0).collect();
        for p in hinted.predict_batch(&batch, &ctx, 0.5, threads) {
            if p.best.is_some() {
                probs.push(p.coding_prob);
                lens.push(p.length);
            }
        }
    }
    let estimate = performance::estimate(&probs, 0.5);
    // What the model reaches on clean reads of unseen genomes at these lengths.
    let reference = pred.config().calibration.as_ref().and_then(|c| {
        let table = c.table(if pred.has_pristine_expert() {
            Scorer::Pristine
        } else if pred.has_clean_expert() {
            Scorer::Clean
        } else {
            Scorer::Main
        });
        let acc: Option<Vec<f32>> = lens.iter().map(|&l| table.accuracy_at(l)).collect();
        acc.filter(|a| !a.is_empty())
            .map(|a| a.iter().map(|&x| x as f64).sum::<f64>() / a.len() as f64)
    });
    let mut all_lens: Vec<usize> = reads.iter().map(|r| r.0.len()).collect();
    all_lens.sort_unstable();
    let median = all_lens.get(all_lens.len() / 2).copied().unwrap_or(0) as f64;
    let (level, causes) = verdict::judge(&verdict::Evidence {
        estimate: estimate.as_ref(),
        reference_accuracy: reference,
        table_in_use: report.table_in_use,
        suggested_table: report.suggested_table,
        survey: &survey,
        median_length: median,
    });
    report.sequencing_errors = SurveySummary {
        verdict: match survey.verdict() {
            Survey::Indels => "indels",
            Survey::LongIndels => "long_indels",
            Survey::SomeIndels => "some_indels",
            Survey::Clean => "clean",
            Survey::Unclear => "unclear",
            Survey::TooFew => "too_few",
        }
        .into(),
        confident: survey.confident,
        shifted: survey.shifted,
        hint: survey.hint(),
    };
    report.accuracy_drop = match (&estimate, reference) {
        (Some(e), Some(r)) => Some(r - e.accuracy),
        _ => None,
    };
    report.estimated_performance = estimate;
    report.reference_accuracy = reference;
    report.median_length = median;
    report.verdict = level;
    report.causes = causes;
    report.summary = report::summarise(report);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_profile_loads_with_every_feature() {
        let p = default_profile().unwrap();
        assert_eq!(p.mixture.n_reads, 20_000);
        // The 15 training sources of data/recipes/default.toml.
        assert_eq!(p.sources.len(), 15);
        for n in profile::NUMERIC {
            assert!(!p.mixture.numeric[n].is_empty(), "{n}");
        }
        for n in profile::CATEGORICAL {
            assert!(p.mixture.categorical[n].iter().sum::<f64>() > 0.0, "{n}");
        }
        assert_eq!(p.mixture.representation.len(), 1000);
    }
}
