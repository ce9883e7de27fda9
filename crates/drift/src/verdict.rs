//! The verdict: `ok`, `warning` or `alarm`, from the estimated performance and
//! detectors of failure modes a user can act on. Effect sizes decide, never p-values
//! (at 10,000 reads every difference is significant). The per-feature distribution
//! tests stay in the report as detail; they do not drive the verdict, because every
//! new genome moves some distribution while the model still works on it.
//!
//! | cause | warning | alarm |
//! |---|---|---|
//! | `performance_drop`: estimated accuracy under what the model reaches on clean reads of genomes it never saw, at the same read lengths | ≥ [`DROP_WARNING`] | ≥ [`DROP_ALARM`] |
//! | `genetic_code`: another code fits the reads better than the one in use | | suggested ≠ in use |
//! | `sequencing_errors`: the error survey's frame-path gains (share of confident 250–400-nt reads) | some indels | indels |
//! | `non_coding`: share of reads called coding (shuffled, eukaryotic or intergenic DNA) | < [`CODING_WARNING`] | < [`CODING_ALARM`] |
//! | `short_reads`: median read length | < [`SHORT_WARNING`] nt | |

use cdspred_model::estimate::{ErrorEstimate, Verdict as Survey};
use serde::Serialize;

use crate::performance::Estimate;

/// Estimated accuracy drop that warns.
pub const DROP_WARNING: f64 = 0.04;
/// Estimated accuracy drop that alarms.
pub const DROP_ALARM: f64 = 0.08;
/// Share of reads called coding under which the input looks non-coding-rich (warning).
pub const CODING_WARNING: f64 = 0.35;
/// … (alarm).
pub const CODING_ALARM: f64 = 0.25;
/// Median read length (nt) under which reads are shorter than the model's comfort zone.
pub const SHORT_WARNING: f64 = 80.0;

/// How bad.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Nothing to act on.
    Ok,
    /// Look at it.
    Warning,
    /// The model's output on these reads is not to be trusted as it is.
    Alarm,
}

impl Level {
    /// 0, 1, 2 (the Prometheus gauge).
    pub fn code(self) -> u8 {
        self as u8
    }
    /// `ok`, `warning`, `alarm`.
    pub fn word(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Warning => "warning",
            Level::Alarm => "alarm",
        }
    }
}

/// The causes, in report order.
pub const CAUSES: [&str; 5] = [
    "performance_drop",
    "genetic_code",
    "sequencing_errors",
    "non_coding",
    "short_reads",
];

/// One detector that fired.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Cause {
    /// One of [`CAUSES`].
    pub cause: &'static str,
    /// Warning or alarm.
    pub level: Level,
    /// What was measured and what to do.
    pub detail: String,
}

/// What the detectors look at.
#[derive(Debug, Clone)]
pub struct Evidence<'a> {
    /// Estimated performance of the calls.
    pub estimate: Option<&'a Estimate>,
    /// Accuracy the model reaches on clean reads of unseen genomes at these lengths.
    pub reference_accuracy: Option<f64>,
    /// Genetic code in use and the one the reads support best.
    pub table_in_use: u32,
    /// The suggested code.
    pub suggested_table: u32,
    /// The sequencing-error survey.
    pub survey: &'a ErrorEstimate,
    /// Median read length.
    pub median_length: f64,
}

/// The verdict and the causes that fired (worst first).
pub fn judge(e: &Evidence) -> (Level, Vec<Cause>) {
    let mut causes = Vec::new();
    if let (Some(est), Some(reference)) = (e.estimate, e.reference_accuracy) {
        let drop = reference - est.accuracy;
        let level = if drop >= DROP_ALARM {
            Some(Level::Alarm)
        } else if drop >= DROP_WARNING {
            Some(Level::Warning)
        } else {
            None
        };
        if let Some(level) = level {
            causes.push(Cause {
                cause: "performance_drop",
                level,
                detail: format!(
                    "Estimated accuracy {:.3} (interval {:.3}–{:.3}) is {:.3} under the {:.3} the model reaches on clean reads of genomes it never saw, at these read lengths.",
                    est.accuracy, est.accuracy_interval[0], est.accuracy_interval[1], drop, reference
                ),
            });
        }
    }
    if e.suggested_table != e.table_in_use {
        causes.push(Cause {
            cause: "genetic_code",
            level: Level::Alarm,
            detail: format!(
                "The reads fit genetic code {} better than the code in use ({}): rerun with --table {}.",
                e.suggested_table, e.table_in_use, e.suggested_table
            ),
        });
    }
    let share = e.survey.shifted as f64 / e.survey.confident.max(1) as f64;
    match e.survey.verdict() {
        Survey::Indels => causes.push(Cause {
            cause: "sequencing_errors",
            level: Level::Alarm,
            detail: format!(
                "The reads carry indels: {} of {} confident 250–400-nt reads ({:.0}%) gain by shifting frame. Expect lower accuracy; predict already tells the model (--errors auto).",
                e.survey.shifted, e.survey.confident, share * 100.0
            ),
        }),
        Survey::LongIndels => causes.push(Cause {
            cause: "sequencing_errors",
            level: Level::Alarm,
            detail: format!(
                "The long sequences carry indels: {} of {} confident 300-nt windows of them gain by shifting frame. Predict tells the model (--errors auto) the long6 rate.",
                e.survey.window_shifted, e.survey.window_confident
            ),
        }),
        Survey::SomeIndels => causes.push(Cause {
            cause: "sequencing_errors",
            level: Level::Warning,
            detail: format!(
                "Some sign of indels: {} of {} confident 250–400-nt reads ({:.0}%) gain by shifting frame.",
                e.survey.shifted, e.survey.confident, share * 100.0
            ),
        }),
        _ => {}
    }
    if let Some(est) = e.estimate {
        let level = if est.called_coding < CODING_ALARM {
            Some(Level::Alarm)
        } else if est.called_coding < CODING_WARNING {
            Some(Level::Warning)
        } else {
            None
        };
        if let Some(level) = level {
            causes.push(Cause {
                cause: "non_coding",
                level,
                detail: format!(
                    "Only {:.0}% of the reads are called coding (prokaryotic genomes are 85–90% coding): non-coding, eukaryotic, shuffled or contaminant DNA?",
                    est.called_coding * 100.0
                ),
            });
        }
    }
    if e.median_length < SHORT_WARNING {
        causes.push(Cause {
            cause: "short_reads",
            level: Level::Warning,
            detail: format!(
                "Median read length {:.0} nt: the model is least sure under 80 nt (gene MCC about 0.5 at 60 nt).",
                e.median_length
            ),
        });
    }
    causes.sort_by_key(|c| std::cmp::Reverse(c.level));
    let level = causes.first().map(|c| c.level).unwrap_or(Level::Ok);
    (level, causes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn est(accuracy: f64, called: f64) -> Estimate {
        Estimate {
            n: 1000,
            accuracy,
            accuracy_interval: [accuracy - 0.01, accuracy + 0.01],
            mcc: Some(0.7),
            mcc_interval: Some([0.68, 0.72]),
            called_coding: called,
            expected_coding: called,
        }
    }

    fn survey(confident: usize, shifted: usize) -> ErrorEstimate {
        ErrorEstimate {
            confident,
            shifted,
            ..ErrorEstimate::default()
        }
    }

    fn judge_of(
        e: &Estimate,
        reference: f64,
        suggested: u32,
        s: &ErrorEstimate,
        median: f64,
    ) -> (Level, Vec<&'static str>) {
        let (l, c) = judge(&Evidence {
            estimate: Some(e),
            reference_accuracy: Some(reference),
            table_in_use: 11,
            suggested_table: suggested,
            survey: s,
            median_length: median,
        });
        (l, c.iter().map(|c| c.cause).collect())
    }

    #[test]
    fn each_detector_fires_at_its_threshold_and_not_below() {
        let clean = survey(300, 3);
        assert_eq!(
            judge_of(&est(0.90, 0.6), 0.92, 11, &clean, 150.0),
            (Level::Ok, vec![])
        );
        assert_eq!(
            judge_of(&est(0.87, 0.6), 0.92, 11, &clean, 150.0).0,
            Level::Warning
        );
        assert_eq!(
            judge_of(&est(0.83, 0.6), 0.92, 11, &clean, 150.0),
            (Level::Alarm, vec!["performance_drop"])
        );
        assert_eq!(
            judge_of(&est(0.90, 0.6), 0.92, 4, &clean, 150.0),
            (Level::Alarm, vec!["genetic_code"])
        );
        assert_eq!(
            judge_of(&est(0.90, 0.6), 0.92, 11, &survey(300, 150), 150.0),
            (Level::Alarm, vec!["sequencing_errors"])
        );
        assert_eq!(
            judge_of(&est(0.90, 0.6), 0.92, 11, &survey(300, 45), 150.0),
            (Level::Warning, vec!["sequencing_errors"])
        );
        assert_eq!(
            judge_of(&est(0.95, 0.1), 0.92, 11, &clean, 150.0),
            (Level::Alarm, vec!["non_coding"])
        );
        assert_eq!(
            judge_of(&est(0.95, 0.3), 0.92, 11, &clean, 150.0),
            (Level::Warning, vec!["non_coding"])
        );
        assert_eq!(
            judge_of(&est(0.90, 0.6), 0.92, 11, &clean, 60.0),
            (Level::Warning, vec!["short_reads"])
        );
        // Worst first.
        let (l, c) = judge_of(&est(0.80, 0.6), 0.92, 4, &clean, 60.0);
        assert_eq!(l, Level::Alarm);
        assert_eq!(c.last(), Some(&"short_reads"));
    }
}
