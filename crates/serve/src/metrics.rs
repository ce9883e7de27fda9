//! Prometheus metrics, rendered in the text exposition format.
//!
//! A deliberately small registry: counters and gauges with at most two label values,
//! histograms with explicit buckets. Every name starts with `cdspred_`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

use cdspred_drift::DriftReport;

/// Buckets for request and stage latencies (seconds).
pub const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Buckets for batch sizes (reads).
pub const BATCH_BUCKETS: &[f64] = &[
    1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0,
];

#[derive(Debug, Clone)]
struct Histogram {
    buckets: &'static [f64],
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    fn new(buckets: &'static [f64]) -> Histogram {
        Histogram {
            buckets,
            counts: vec![0; buckets.len()],
            sum: 0.0,
            count: 0,
        }
    }
    fn observe(&mut self, v: f64) {
        for (i, b) in self.buckets.iter().enumerate() {
            if v <= *b {
                self.counts[i] += 1;
            }
        }
        self.sum += v;
        self.count += 1;
    }
}

#[derive(Debug, Default)]
struct Inner {
    requests: BTreeMap<(String, u16), u64>,
    durations: BTreeMap<String, Histogram>,
    reads_predicted: u64,
    batch_size: Option<Histogram>,
    queue_wait: Option<Histogram>,
    inference: Option<Histogram>,
    log_failures: u64,
    rejected: u64,
    recent_coding: f64,
    recent_n: u64,
    drift: Option<DriftGauges>,
}

#[derive(Debug, Clone)]
struct DriftGauges {
    verdict: u8,
    causes: Vec<(&'static str, u8)>,
    estimate: Option<(f64, f64, f64, Option<f64>)>,
    reference: Option<f64>,
    detected: bool,
    suggested_table: u64,
    table_in_use: u64,
    features: Vec<(String, f64, bool)>,
}

/// The server's metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

/// Weight of the newest read in the recent coding fraction (≈ last 1,000 reads).
const RECENT_ALPHA: f64 = 0.001;

impl Metrics {
    fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut g)
    }

    /// Counts a finished request.
    pub fn request(&self, route: &str, status: u16, seconds: f64) {
        self.with(|m| {
            *m.requests.entry((route.to_string(), status)).or_default() += 1;
            m.durations
                .entry(route.to_string())
                .or_insert_with(|| Histogram::new(LATENCY_BUCKETS))
                .observe(seconds);
        });
    }

    /// Records one inference batch.
    pub fn batch(&self, reads: usize, coding: usize, queue_wait: &[f64], inference_seconds: f64) {
        self.with(|m| {
            m.reads_predicted += reads as u64;
            m.batch_size
                .get_or_insert_with(|| Histogram::new(BATCH_BUCKETS))
                .observe(reads as f64);
            let qw = m
                .queue_wait
                .get_or_insert_with(|| Histogram::new(LATENCY_BUCKETS));
            for w in queue_wait {
                qw.observe(*w);
            }
            m.inference
                .get_or_insert_with(|| Histogram::new(LATENCY_BUCKETS))
                .observe(inference_seconds);
            // Exponentially weighted share of coding calls over recent reads.
            for k in 0..reads {
                let x = (k < coding) as u8 as f64;
                m.recent_coding = if m.recent_n == 0 {
                    x
                } else {
                    m.recent_coding + RECENT_ALPHA * (x - m.recent_coding)
                };
                m.recent_n += 1;
            }
        });
    }

    /// Stores the latest drift report's numbers for the gauges.
    pub fn set_drift(&self, report: &DriftReport) {
        let g = DriftGauges {
            verdict: report.verdict.code(),
            causes: cdspred_drift::verdict::CAUSES
                .iter()
                .map(|&c| {
                    let level = report
                        .causes
                        .iter()
                        .filter(|x| x.cause == c)
                        .map(|x| x.level.code())
                        .max()
                        .unwrap_or(0);
                    (c, level)
                })
                .collect(),
            estimate: report.estimated_performance.as_ref().map(|e| {
                (
                    e.accuracy,
                    e.accuracy_interval[0],
                    e.accuracy_interval[1],
                    e.mcc,
                )
            }),
            reference: report.reference_accuracy,
            detected: report.drift_detected,
            suggested_table: report.suggested_table as u64,
            table_in_use: report.table_in_use as u64,
            features: report
                .features
                .iter()
                .map(|f| (f.name.clone(), f.statistic, f.drift))
                .collect(),
        };
        self.with(|m| m.drift = Some(g));
    }

    /// Counts a failed input-log write.
    pub fn log_failure(&self) {
        self.with(|m| m.log_failures += 1);
    }

    /// Counts a request turned away because the queue was full.
    pub fn rejected(&self) {
        self.with(|m| m.rejected += 1);
    }

    /// Total input-log write failures so far.
    pub fn log_failures(&self) -> u64 {
        self.with(|m| m.log_failures)
    }

    /// Renders all metrics; `queue_depth` and `model_version` are read at scrape time.
    pub fn render(&self, queue_depth: usize, model_version: &str) -> String {
        let mut s = String::new();
        self.with(|m| {
            s += "# HELP cdspred_requests_total HTTP requests by route and status.\n# TYPE cdspred_requests_total counter\n";
            for ((route, status), n) in &m.requests {
                let _ = writeln!(s, "cdspred_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}");
            }
            s += "# HELP cdspred_request_duration_seconds Request latency by route.\n# TYPE cdspred_request_duration_seconds histogram\n";
            for (route, h) in &m.durations {
                hist(&mut s, "cdspred_request_duration_seconds", &format!("route=\"{route}\""), h);
            }
            s += "# HELP cdspred_reads_predicted_total Reads predicted.\n# TYPE cdspred_reads_predicted_total counter\n";
            let _ = writeln!(s, "cdspred_reads_predicted_total {}", m.reads_predicted);
            for (name, help, h, buckets) in [
                ("cdspred_batch_size_reads", "Reads per inference batch.", &m.batch_size, BATCH_BUCKETS),
                ("cdspred_queue_wait_seconds", "Time a request waited in the batching queue.", &m.queue_wait, LATENCY_BUCKETS),
                ("cdspred_inference_seconds", "Time to run one inference batch.", &m.inference, LATENCY_BUCKETS),
            ] {
                let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} histogram");
                hist(&mut s, name, "", h.as_ref().unwrap_or(&Histogram::new(buckets)));
            }
            s += "# HELP cdspred_queue_depth_reads Reads waiting in the batching queue.\n# TYPE cdspred_queue_depth_reads gauge\n";
            let _ = writeln!(s, "cdspred_queue_depth_reads {queue_depth}");
            s += "# HELP cdspred_queue_rejections_total Requests answered 429 because the queue was full.\n# TYPE cdspred_queue_rejections_total counter\n";
            let _ = writeln!(s, "cdspred_queue_rejections_total {}", m.rejected);
            s += "# HELP cdspred_recent_coding_fraction Share of coding calls over about the last 1000 reads.\n# TYPE cdspred_recent_coding_fraction gauge\n";
            let _ = writeln!(s, "cdspred_recent_coding_fraction {}", m.recent_coding);
            s += "# HELP cdspred_input_log_write_failures_total Failed writes to the input/output log.\n# TYPE cdspred_input_log_write_failures_total counter\n";
            let _ = writeln!(s, "cdspred_input_log_write_failures_total {}", m.log_failures);
            if let Some(d) = &m.drift {
                s += "# HELP cdspred_drift_verdict Verdict of the last drift check: 0 ok, 1 warning, 2 alarm.\n# TYPE cdspred_drift_verdict gauge\n";
                let _ = writeln!(s, "cdspred_drift_verdict {}", d.verdict);
                s += "# HELP cdspred_drift_cause Level (0 none, 1 warning, 2 alarm) of each failure-mode detector in the last check.\n# TYPE cdspred_drift_cause gauge\n";
                for (c, l) in &d.causes {
                    let _ = writeln!(s, "cdspred_drift_cause{{cause=\"{c}\"}} {l}");
                }
                if let Some((acc, lo, hi, mcc)) = d.estimate {
                    s += "# HELP cdspred_estimated_accuracy Accuracy of the coding calls estimated from calibrated probabilities (CBPE) over the last drift window.\n# TYPE cdspred_estimated_accuracy gauge\n";
                    let _ = writeln!(s, "cdspred_estimated_accuracy {acc}");
                    s += "# HELP cdspred_estimated_accuracy_lower 2.5% bound of the estimated accuracy.\n# TYPE cdspred_estimated_accuracy_lower gauge\n";
                    let _ = writeln!(s, "cdspred_estimated_accuracy_lower {lo}");
                    s += "# HELP cdspred_estimated_accuracy_upper 97.5% bound of the estimated accuracy.\n# TYPE cdspred_estimated_accuracy_upper gauge\n";
                    let _ = writeln!(s, "cdspred_estimated_accuracy_upper {hi}");
                    if let Some(m) = mcc {
                        s += "# HELP cdspred_estimated_mcc MCC of the coding calls estimated from calibrated probabilities.\n# TYPE cdspred_estimated_mcc gauge\n";
                        let _ = writeln!(s, "cdspred_estimated_mcc {m}");
                    }
                    if let Some(r) = d.reference {
                        s += "# HELP cdspred_reference_accuracy Accuracy the model reaches on clean reads of unseen genomes at the window's read lengths.\n# TYPE cdspred_reference_accuracy gauge\n";
                        let _ = writeln!(s, "cdspred_reference_accuracy {r}");
                        s += "# HELP cdspred_estimated_accuracy_drop Reference accuracy minus estimated accuracy.\n# TYPE cdspred_estimated_accuracy_drop gauge\n";
                        let _ = writeln!(s, "cdspred_estimated_accuracy_drop {}", r - acc);
                    }
                }
                s += "# HELP cdspred_drift_score Drift statistic per feature (p-value, distance or AUC; see /v1/drift).\n# TYPE cdspred_drift_score gauge\n";
                for (f, v, _) in &d.features {
                    let _ = writeln!(s, "cdspred_drift_score{{feature=\"{f}\"}} {v}");
                }
                s += "# HELP cdspred_drift_feature_detected Whether each feature drifted in the last check.\n# TYPE cdspred_drift_feature_detected gauge\n";
                for (f, _, d) in &d.features {
                    let _ = writeln!(s, "cdspred_drift_feature_detected{{feature=\"{f}\"}} {}", *d as u8);
                }
                s += "# HELP cdspred_drift_detected Dataset-level drift in the last check.\n# TYPE cdspred_drift_detected gauge\n";
                let _ = writeln!(s, "cdspred_drift_detected {}", d.detected as u8);
                s += "# HELP cdspred_genetic_code_suggested Genetic code the logged reads support best.\n# TYPE cdspred_genetic_code_suggested gauge\n";
                let _ = writeln!(s, "cdspred_genetic_code_suggested {}", d.suggested_table);
                s += "# HELP cdspred_genetic_code_mismatch 1 when the suggested genetic code differs from the one in use.\n# TYPE cdspred_genetic_code_mismatch gauge\n";
                let _ = writeln!(s, "cdspred_genetic_code_mismatch {}", (d.suggested_table != d.table_in_use) as u8);
            }
        });
        s += "# HELP cdspred_model_info The model being served.\n# TYPE cdspred_model_info gauge\n";
        let _ = writeln!(
            s,
            "cdspred_model_info{{version=\"{}\"}} 1",
            model_version.replace('"', "'")
        );
        let (cpu, rss) = process_stats();
        s += "# HELP process_cpu_seconds_total CPU time of the server process.\n# TYPE process_cpu_seconds_total counter\n";
        let _ = writeln!(s, "process_cpu_seconds_total {cpu}");
        s += "# HELP process_resident_memory_bytes Resident memory of the server process.\n# TYPE process_resident_memory_bytes gauge\n";
        let _ = writeln!(s, "process_resident_memory_bytes {rss}");
        s
    }
}

fn hist(s: &mut String, name: &str, labels: &str, h: &Histogram) {
    let sep = if labels.is_empty() { "" } else { "," };
    for (b, c) in h.buckets.iter().zip(&h.counts) {
        let _ = writeln!(s, "{name}_bucket{{{labels}{sep}le=\"{b}\"}} {c}");
    }
    let _ = writeln!(s, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}", h.count);
    let braces = if labels.is_empty() {
        String::new()
    } else {
        format!("{{{labels}}}")
    };
    let _ = writeln!(s, "{name}_sum{braces} {}", h.sum);
    let _ = writeln!(s, "{name}_count{braces} {}", h.count);
}

/// CPU seconds and resident bytes of this process (Linux `/proc`; zeros elsewhere).
fn process_stats() -> (f64, u64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after ") ".
    let after = stat.rsplit_once(") ").map(|x| x.1).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = 100.0; // USER_HZ on Linux
    let cpu = match (f.get(11), f.get(12)) {
        (Some(u), Some(s)) => {
            (u.parse::<f64>().unwrap_or(0.0) + s.parse::<f64>().unwrap_or(0.0)) / ticks
        }
        _ => 0.0,
    };
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    (cpu, pages * 4096)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histograms() {
        let m = Metrics::default();
        m.request("/v1/predict", 200, 0.003);
        m.request("/v1/predict", 200, 0.2);
        m.batch(10, 7, &[0.001, 0.002], 0.004);
        let t = m.render(3, "default-e4");
        assert!(t.contains("cdspred_requests_total{route=\"/v1/predict\",status=\"200\"} 2"));
        assert!(t.contains(
            "cdspred_request_duration_seconds_bucket{route=\"/v1/predict\",le=\"0.005\"} 1"
        ));
        assert!(t.contains("cdspred_request_duration_seconds_count{route=\"/v1/predict\"} 2"));
        assert!(t.contains("cdspred_reads_predicted_total 10"));
        assert!(t.contains("cdspred_queue_depth_reads 3"));
        assert!(t.contains("cdspred_model_info{version=\"default-e4\"} 1"));
        assert!(t.contains("cdspred_batch_size_reads_bucket{le=\"10\"} 1"));
    }
}
