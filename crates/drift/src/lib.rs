//! Data drift for cds-predictor.
//!
//! - [`profile`]: per-read features (length, GC, N share, coding probability, in-frame
//!   stop rate, k-mer spectra, codon usage, calls, the model's penultimate layer) and
//!   reference profiles built from training reads.
//! - [`stats`]: KS, chi-square, Z-test, normed Wasserstein, Jensen–Shannon and a
//!   cross-validated domain classifier.
//! - [`report`]: the per-feature tests chosen as Evidently does by default, the
//!   dataset-level verdict, the genetic-code check and a self-contained HTML report.
//!
//! [`default_profile`] is the reference profile of the embedded default model.

use cdspred_core::TableId;

pub mod profile;
pub mod report;
pub mod stats;

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
    pred: &cdspred_model::Predictor,
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
    (compare(profile, &current, in_use.get(), codes), current)
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
