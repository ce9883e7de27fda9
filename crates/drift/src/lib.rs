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
pub const CANDIDATE_TABLES: [u32; 4] = [11, 4, 25, 15];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_profile_loads_with_every_feature() {
        let p = default_profile().unwrap();
        assert_eq!(p.mixture.n_reads, 20_000);
        assert_eq!(p.sources.len(), 13);
        for n in profile::NUMERIC {
            assert!(!p.mixture.numeric[n].is_empty(), "{n}");
        }
        for n in profile::CATEGORICAL {
            assert!(p.mixture.categorical[n].iter().sum::<f64>() > 0.0, "{n}");
        }
        assert_eq!(p.mixture.representation.len(), 1000);
    }
}
