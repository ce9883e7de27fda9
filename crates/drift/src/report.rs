//! Comparing current reads with a reference profile: per-feature tests, the dataset
//! verdict, the genetic-code check and the HTML report.

use std::fmt::Write as _;

use cdspred_core::code::codon_index;
use cdspred_core::dna::revcomp_codes;
use cdspred_core::{GeneticCode, Strand, TableId};
use cdspred_model::{Call, Predictor, TableContext};
use serde::Serialize;

use crate::performance::Estimate;
use crate::profile::{Collected, Profile, CATEGORICAL, NUMERIC};
use crate::stats::{chi_square, domain_classifier_auc, js_distance, ks, wasserstein_normed};
use crate::verdict::{Cause, Level};

/// Above this many current reads, distances replace p-value tests (as Evidently).
pub const SMALL_SAMPLE: usize = 1000;
/// Share of drifted features that makes the dataset drifted.
pub const DATASET_SHARE: f64 = 0.5;
/// Share of reads that must support an alternative genetic code before it is suggested.
pub const MIN_CODE_SUPPORT: f64 = 0.1;
/// Domain-classifier ROC AUC above which the representation drifted.
pub const DOMAIN_AUC: f64 = 0.55;

/// One feature's test.
#[derive(Debug, Clone, Serialize)]
pub struct FeatureResult {
    /// Feature name.
    pub name: String,
    /// Test used: `ks`, `wasserstein_normed`, `jensen_shannon`, `chi_square`, `domain_classifier_roc_auc`.
    pub test: String,
    /// The test statistic (p-value for `ks`/`chi_square`, distance or AUC otherwise).
    pub statistic: f64,
    /// Drift when the statistic is below (p-values) or at/above (distances, AUC) this.
    pub threshold: f64,
    /// Drift detected.
    pub drift: bool,
    /// Reference mean (numeric features).
    pub reference_mean: Option<f64>,
    /// Current mean (numeric features).
    pub current_mean: Option<f64>,
}

/// Support for one genetic code.
#[derive(Debug, Clone, Serialize)]
pub struct CodeSupport {
    /// NCBI table.
    pub table: u32,
    /// Share of reads called coding under this code but not under table 11 whose
    /// coding frame uses a codon this code reassigns.
    pub support: f64,
    /// Mean coding probability of those reads under this code.
    pub mean_coding_prob: f64,
}

/// The sequencing-error survey of the current reads (see `cdspred_model::estimate`).
#[derive(Debug, Clone, Serialize, Default, PartialEq)]
pub struct SurveySummary {
    /// `indels`, `some_indels`, `clean`, `unclear` or `too_few`.
    pub verdict: String,
    /// Confident 250–400-nt reads looked at.
    pub confident: usize,
    /// Those whose frame path gained a lot by shifting.
    pub shifted: usize,
    /// Indels per 100 nt the model was told for the estimate (none: nothing).
    pub hint: Option<f32>,
}

/// The whole comparison.
#[derive(Debug, Clone, Serialize)]
pub struct DriftReport {
    /// `ok`, `warning` or `alarm` (see [`crate::verdict`]).
    pub verdict: Level,
    /// The detectors that fired, worst first.
    pub causes: Vec<Cause>,
    /// Performance estimated from the calibrated probabilities (CBPE).
    pub estimated_performance: Option<Estimate>,
    /// Accuracy the model reaches on clean reads of genomes it never saw, at the
    /// current reads' lengths (from its calibration fit).
    pub reference_accuracy: Option<f64>,
    /// `reference_accuracy − estimated accuracy`.
    pub accuracy_drop: Option<f64>,
    /// The sequencing-error survey.
    pub sequencing_errors: SurveySummary,
    /// Median read length.
    pub median_length: f64,
    /// Distribution detail: share of drifted features ≥ 0.5 (does not drive the
    /// verdict).
    pub drift_detected: bool,
    /// Share of drifted features.
    pub drift_share: f64,
    /// The genetic code the reads support best.
    pub suggested_table: u32,
    /// The genetic code the reads were scored with.
    pub table_in_use: u32,
    /// The reference judged against: `mixture` or a training source's name.
    pub reference: String,
    /// Reads in that reference.
    pub n_reference: usize,
    /// Current reads.
    pub n_current: usize,
    /// Per-feature results.
    pub features: Vec<FeatureResult>,
    /// Evidence per candidate genetic code.
    pub genetic_codes: Vec<CodeSupport>,
    /// Plain-language summary.
    pub summary: Vec<String>,
}

fn mean(v: &[f32]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64
}

/// Compares current features with a profile: with the mixture and each source, keeping
/// the closest reference (fewest drifted features; the mixture wins ties).
pub fn compare(
    profile: &Profile,
    current: &Collected,
    table_in_use: u32,
    codes: Vec<CodeSupport>,
) -> DriftReport {
    let mut best = compare_one(
        &profile.mixture,
        "mixture",
        current,
        table_in_use,
        codes.clone(),
    );
    for (name, src) in &profile.sources {
        if src.n_reads == 0 {
            continue;
        }
        let r = compare_one(src, name, current, table_in_use, codes.clone());
        if r.drift_share < best.drift_share {
            best = r;
        }
    }
    best
}

/// Compares current features with one reference.
pub fn compare_one(
    reference: &Collected,
    name: &str,
    current: &Collected,
    table_in_use: u32,
    codes: Vec<CodeSupport>,
) -> DriftReport {
    let mut features = Vec::new();
    let small = current.n_reads <= SMALL_SAMPLE;
    for name in NUMERIC {
        let (r, c) = (&reference.numeric[name], &current.numeric[name]);
        let (rf, cf): (Vec<f64>, Vec<f64>) = (
            r.iter().map(|&x| x as f64).collect(),
            c.iter().map(|&x| x as f64).collect(),
        );
        let (test, statistic, threshold, drift) = if small {
            let (_, p) = ks(&rf, &cf);
            ("ks", p, 0.05, p < 0.05)
        } else {
            let w = wasserstein_normed(&rf, &cf);
            ("wasserstein_normed", w, 0.1, w >= 0.1)
        };
        features.push(FeatureResult {
            name: name.into(),
            test: test.into(),
            statistic,
            threshold,
            drift: drift && !c.is_empty(),
            reference_mean: Some(mean(r)),
            current_mean: Some(mean(c)),
        });
    }
    for name in CATEGORICAL {
        let (r, c) = (&reference.categorical[name], &current.categorical[name]);
        // Spectra pool many counts per read: always compared as distributions.
        let (test, statistic, threshold, drift) = if name == "calls" && small {
            let (_, p) = chi_square(r, c);
            ("chi_square", p, 0.05, p < 0.05)
        } else {
            let d = js_distance(r, c);
            ("jensen_shannon", d, 0.1, d >= 0.1)
        };
        features.push(FeatureResult {
            name: name.into(),
            test: test.into(),
            statistic,
            threshold,
            drift,
            reference_mean: None,
            current_mean: None,
        });
    }
    let auc = domain_classifier_auc(
        &reference.representation,
        &current.representation[..current.representation.len().min(1000)],
        5,
    );
    features.push(FeatureResult {
        name: "representation".into(),
        test: "domain_classifier_roc_auc".into(),
        statistic: auc,
        threshold: DOMAIN_AUC,
        drift: auc >= DOMAIN_AUC,
        reference_mean: None,
        current_mean: None,
    });
    let share = features.iter().filter(|f| f.drift).count() as f64 / features.len() as f64;
    // Codes 4 and 25 reassign the same codon (TGA) and reads cannot tell them apart;
    // among codes with about the best support, the first candidate (the commoner code)
    // wins.
    let best = codes.iter().map(|c| c.support).fold(0.0, f64::max);
    let suggested = codes
        .iter()
        .find(|c| c.support >= MIN_CODE_SUPPORT && c.support >= 0.8 * best)
        .map(|c| c.table)
        .unwrap_or(11);
    let mut report = DriftReport {
        verdict: Level::Ok,
        causes: Vec::new(),
        estimated_performance: None,
        reference_accuracy: None,
        accuracy_drop: None,
        sequencing_errors: SurveySummary::default(),
        median_length: 0.0,
        drift_detected: share >= DATASET_SHARE,
        drift_share: share,
        suggested_table: suggested,
        table_in_use,
        reference: name.to_string(),
        n_reference: reference.n_reads,
        n_current: current.n_reads,
        features,
        genetic_codes: codes,
        summary: Vec::new(),
    };
    report.summary = summarise(&report);
    report
}

/// The plain-language summary: verdict, estimate and causes, then the distribution
/// detail.
pub fn summarise(r: &DriftReport) -> Vec<String> {
    let mut s = Vec::new();
    let est = match (&r.estimated_performance, r.reference_accuracy) {
        (Some(e), Some(reference)) => format!(
            " Estimated accuracy {:.3} ({:.3}–{:.3}; {:.3} expected at these read lengths){}.",
            e.accuracy,
            e.accuracy_interval[0],
            e.accuracy_interval[1],
            reference,
            e.mcc
                .map(|m| format!(", estimated MCC {m:.3}"))
                .unwrap_or_default()
        ),
        (Some(e), None) => format!(" Estimated accuracy {:.3}.", e.accuracy),
        _ => String::new(),
    };
    s.push(format!("Verdict: {}.{est}", r.verdict.word()));
    for c in &r.causes {
        s.push(format!("{} ({}): {}", c.cause, c.level.word(), c.detail));
    }
    let drifted: Vec<&FeatureResult> = r.features.iter().filter(|f| f.drift).collect();
    s.push(if r.drift_detected {
        format!(
            "Detail (does not set the verdict): the reads' distributions differ from the training data in {} of {} features.",
            drifted.len(),
            r.features.len()
        )
    } else if drifted.is_empty() {
        "Detail: the reads' distributions look like the training data (no feature drifted).".to_string()
    } else {
        format!(
            "Detail: no dataset-level distribution drift; {} of {} features moved.",
            drifted.len(),
            r.features.len()
        )
    });
    for f in &drifted {
        if let (Some(a), Some(b)) = (f.reference_mean, f.current_mean) {
            if (a - b).abs() <= 0.02 * a.abs().max(b.abs()).max(1e-9) {
                s.push(format!("The spread of {} changed, not its mean ({a:.3} → {b:.3}); read length changes the spread of per-read statistics.", f.name));
                continue;
            }
        }
        let line = match (f.name.as_str(), f.reference_mean, f.current_mean) {
            ("length", Some(a), Some(b)) => format!("Read length moved (mean {a:.0} → {b:.0} nt)."),
            ("gc", Some(a), Some(b)) => format!("GC content moved (mean {a:.2} → {b:.2})."),
            ("stop_rate", Some(a), Some(b)) if b > a => format!("More in-frame stop codons in the predicted frame ({a:.4} → {b:.4} per codon): a sign of another genetic code, or of non-coding or foreign DNA."),
            ("stop_rate", Some(a), Some(b)) => format!("Fewer in-frame stop codons in the predicted frame ({a:.4} → {b:.4} per codon)."),
            ("coding_prob", Some(a), Some(b)) => format!("The model's coding probability moved (mean {a:.2} → {b:.2})."),
            ("codon_usage", _, _) => "Codon usage of coding reads differs from the training genomes.".to_string(),
            ("calls", _, _) => "The mix of coding/non-coding calls, strands and frames changed.".to_string(),
            ("representation", _, _) => format!("The model's internal representation tells these reads from the training reads (ROC AUC {:.2}).", f.statistic),
            (n, _, _) if n.starts_with("kmer") => format!("The {}-mer spectrum differs (Jensen–Shannon {:.3}).", &n[4..], f.statistic),
            (n, _, _) => format!("{n} drifted."),
        };
        s.push(line);
    }
    s
}

/// Scores reads under candidate codes and measures how much each is supported.
pub fn genetic_code_check(
    pred: &Predictor,
    reads: &[&[u8]],
    candidates: &[TableId],
    threads: usize,
) -> Vec<CodeSupport> {
    let base = TableContext::new(GeneticCode::bacterial());
    let p11 = pred.predict_batch(reads, &base, 0.5, threads);
    let std = GeneticCode::bacterial();
    let mut out = Vec::new();
    for &t in candidates.iter().filter(|&&t| t != TableId::BACTERIAL) {
        let code = t.code();
        let reassigned: Vec<bool> = (0..64)
            .map(|c| std.amino_acid(c) != code.amino_acid(c))
            .collect();
        let ctx = TableContext::new(code);
        let pt = pred.predict_batch(reads, &ctx, 0.5, threads);
        let (mut n, mut cp) = (0usize, 0f64);
        for ((r, a), b) in reads.iter().zip(&p11).zip(&pt) {
            if b.call != Call::Coding || a.call == Call::Coding {
                continue;
            }
            let Some((strand, frame)) = b.best else {
                continue;
            };
            let sense = if strand == Strand::Plus {
                r.to_vec()
            } else {
                revcomp_codes(r)
            };
            let codons: Vec<usize> = sense[frame.offset() as usize..]
                .chunks_exact(3)
                .map(codon_index)
                .collect();
            if codons.len() > 1
                && codons[..codons.len() - 1]
                    .iter()
                    .any(|&c| c < 64 && reassigned[c])
            {
                n += 1;
                cp += b.coding_prob as f64;
            }
        }
        out.push(CodeSupport {
            table: t.get(),
            support: n as f64 / reads.len().max(1) as f64,
            mean_coding_prob: if n > 0 { cp / n as f64 } else { 0.0 },
        });
    }
    out
}

/// A self-contained HTML report (inline SVG, no external assets).
pub fn html(r: &DriftReport, reference: &Collected, current: &Collected) -> String {
    let mut h = String::from("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>cds-predictor drift report</title><style>body{font-family:system-ui,sans-serif;max-width:1000px;margin:1rem auto;padding:0 1rem;color:#1d2230}table{border-collapse:collapse}td,th{border-bottom:1px solid #e3e6ee;padding:.25rem .6rem;text-align:left}.drift{color:#c5221f;font-weight:700}.ok{color:#1e8e3e}.grid{display:flex;flex-wrap:wrap;gap:1rem}</style></head><body>");
    let _ = write!(
        h,
        "<h1>Drift report</h1><p id=\"verdict\" class=\"{}\">Verdict: {}</p><ul>{}</ul>",
        if r.verdict == Level::Ok {
            "ok"
        } else {
            "drift"
        },
        r.verdict.word(),
        r.summary
            .iter()
            .map(|s| format!("<li>{}</li>", esc(s)))
            .collect::<String>()
    );
    let _ = write!(h, "<p>Reference: {} ({} reads of the model's profile). Current: {} reads, scored with genetic code {}; best-supported code: <b>{}</b>. Drifted features: {:.0}%.</p>", r.reference, r.n_reference, r.n_current, r.table_in_use, r.suggested_table, r.drift_share * 100.0);
    if let Some(e) = &r.estimated_performance {
        let _ = write!(
            h,
            "<h2>Estimated performance</h2><table id=\"estimate\"><tr><th>estimated accuracy</th><th>interval</th><th>expected at these lengths</th><th>estimated MCC</th><th>called coding</th><th>reads scored</th></tr><tr><td>{:.3}</td><td>{:.3}–{:.3}</td><td>{}</td><td>{}</td><td>{:.3}</td><td>{}</td></tr></table>",
            e.accuracy,
            e.accuracy_interval[0],
            e.accuracy_interval[1],
            r.reference_accuracy.map(|x| format!("{x:.3}")).unwrap_or_default(),
            e.mcc.map(|x| format!("{x:.3}")).unwrap_or_default(),
            e.called_coding,
            e.n
        );
    }
    h += "<h2>Features (detail)</h2><table><tr><th>feature</th><th>test</th><th>statistic</th><th>threshold</th><th>drift</th><th>reference mean</th><th>current mean</th></tr>";
    for f in &r.features {
        let m = |v: Option<f64>| v.map(|x| format!("{x:.4}")).unwrap_or_default();
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{:.4}</td><td>{}</td><td class=\"{}\">{}</td><td>{}</td><td>{}</td></tr>",
            f.name,
            f.test,
            f.statistic,
            f.threshold,
            if f.drift { "drift" } else { "ok" },
            if f.drift { "yes" } else { "no" },
            m(f.reference_mean),
            m(f.current_mean)
        );
    }
    h += "</table><h2>Genetic codes</h2><table><tr><th>table</th><th>support</th><th>mean coding_prob</th></tr>";
    for c in &r.genetic_codes {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{:.3}</td><td>{:.3}</td></tr>",
            c.table, c.support, c.mean_coding_prob
        );
    }
    h += "</table><h2>Distributions</h2><div class=\"grid\">";
    for name in NUMERIC {
        h += &hist_svg(name, &reference.numeric[name], &current.numeric[name]);
    }
    h += "</div></body></html>\n";
    h
}

fn hist_svg(name: &str, a: &[f32], b: &[f32]) -> String {
    let lo = a.iter().chain(b).cloned().fold(f32::INFINITY, f32::min);
    let hi = a.iter().chain(b).cloned().fold(f32::NEG_INFINITY, f32::max);
    if !lo.is_finite() || !hi.is_finite() {
        return String::new();
    }
    let bins = 30;
    let width = (hi - lo).max(1e-6) / bins as f32;
    let dens = |v: &[f32]| {
        let mut c = vec![0f32; bins];
        for &x in v {
            c[(((x - lo) / width) as usize).min(bins - 1)] += 1.0;
        }
        let n = v.len().max(1) as f32;
        c.into_iter().map(|x| x / n).collect::<Vec<f32>>()
    };
    let (da, db) = (dens(a), dens(b));
    let max = da.iter().chain(&db).cloned().fold(1e-6, f32::max);
    let mut s = format!("<figure><svg width=\"300\" height=\"150\" role=\"img\" aria-label=\"{name}\"><rect width=\"300\" height=\"150\" fill=\"white\"/>");
    for (i, (x, y)) in da.iter().zip(&db).enumerate() {
        let bx = 10.0 + i as f32 * 9.3;
        let _ = write!(
            s,
            "<rect x=\"{bx:.1}\" y=\"{:.1}\" width=\"4.5\" height=\"{:.1}\" fill=\"#7a8bb5\"/>",
            130.0 - x / max * 120.0,
            x / max * 120.0
        );
        let _ = write!(
            s,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"4.5\" height=\"{:.1}\" fill=\"#e07b39\"/>",
            bx + 4.5,
            130.0 - y / max * 120.0,
            y / max * 120.0
        );
    }
    let _ = write!(s, "<text x=\"10\" y=\"145\" font-size=\"10\">{lo:.2}</text><text x=\"290\" y=\"145\" font-size=\"10\" text-anchor=\"end\">{hi:.2}</text></svg><figcaption>{name}: reference (blue) vs current (orange)</figcaption></figure>");
    s
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
