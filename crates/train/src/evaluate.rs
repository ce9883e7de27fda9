//! Scoring a model on labelled read sets, per genome and read length.
//!
//! Truth files follow `shared/data/eval/*.tsv.gz`: `id genome table length sense gene
//! strand frame gc`. Seed CSVs carry only the sense label.

use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;
use std::path::Path;

use cdspred_core::fastx::FastxReader;
use cdspred_core::{DnaSeq, Frame, ReadClass, Strand, TableId};
use cdspred_data::genome::open_text;
use cdspred_data::{Dataset, ReadLabel};
use cdspred_model::estimate::{survey, ErrorEstimate, ErrorHint};
use cdspred_model::hmm::{teach, SelfTrainMode};
use cdspred_model::result::printed;
use cdspred_model::{Prediction, Predictor, TableContext};
use serde::Serialize;

use crate::metrics::{binary, Binary};

/// Why an evaluation could not run.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {msg}")]
pub struct EvalError {
    /// The file.
    pub file: String,
    /// What is wrong.
    pub msg: String,
}

/// The truth about one read.
#[derive(Debug, Clone, PartialEq)]
pub struct Truth {
    /// Read id.
    pub id: String,
    /// Genome name.
    pub genome: String,
    /// Genetic code.
    pub table: TableId,
    /// Nominal read length.
    pub length: usize,
    /// The read as given is the coding strand.
    pub sense: bool,
    /// The read lies in a CDS.
    pub gene: bool,
    /// Strand and frame of coding reads.
    pub class: ReadClass,
}

/// Reads a truth TSV (plain or gzip).
pub fn read_truth(path: &Path) -> Result<Vec<Truth>, EvalError> {
    let file = path.display().to_string();
    let err = |line: usize, msg: String| EvalError {
        file: file.clone(),
        msg: format!("line {line}: {msg}"),
    };
    let rd = open_text(path).map_err(|e| EvalError {
        file: file.clone(),
        msg: e.to_string(),
    })?;
    let mut cols: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::new();
    for (i, line) in rd.lines().enumerate() {
        let line = line.map_err(|e| err(i + 1, e.to_string()))?;
        let f: Vec<&str> = line.trim_end_matches('\r').split('\t').collect();
        if cols.is_empty() {
            cols = f
                .iter()
                .enumerate()
                .map(|(i, c)| (c.to_string(), i))
                .collect();
            for need in [
                "id", "genome", "table", "length", "sense", "gene", "strand", "frame",
            ] {
                if !cols.contains_key(need) {
                    return Err(err(1, format!("missing column {need:?}")));
                }
            }
            continue;
        }
        let get = |c: &str| {
            f.get(cols[c])
                .copied()
                .ok_or_else(|| err(i + 1, format!("missing field {c}")))
        };
        let num = |c: &str| {
            get(c)?
                .parse::<usize>()
                .map_err(|_| err(i + 1, format!("{c} is not a number")))
        };
        let gene = get("gene")? == "1";
        let class = if gene {
            let strand = match get("strand")? {
                "+" => Strand::Plus,
                "-" => Strand::Minus,
                s => return Err(err(i + 1, format!("bad strand {s:?}"))),
            };
            let frame = Frame::new(num("frame")? as u8)
                .ok_or_else(|| err(i + 1, "frame must be 0..2".into()))?;
            ReadClass::Coding(strand, frame)
        } else {
            ReadClass::NonCoding
        };
        out.push(Truth {
            id: get("id")?.to_string(),
            genome: get("genome")?.to_string(),
            table: TableId::new(num("table")? as u32).map_err(|e| err(i + 1, e.to_string()))?,
            length: num("length")?,
            sense: get("sense")? == "1",
            gene,
            class,
        });
    }
    Ok(out)
}

/// Reads all records of a FASTA/FASTQ file.
pub fn read_reads(path: &Path) -> Result<Vec<(String, DnaSeq)>, EvalError> {
    let file = path.display().to_string();
    let rd = FastxReader::open(&file).map_err(|e| EvalError {
        file: file.clone(),
        msg: e.to_string(),
    })?;
    rd.map(|r| {
        r.map(|r| r.into_parts()).map_err(|e| EvalError {
            file: file.clone(),
            msg: e.to_string(),
        })
    })
    .collect()
}

/// Metrics of one genome at one read length.
#[derive(Debug, Clone, Serialize)]
pub struct Group {
    /// Genome.
    pub genome: String,
    /// Read length.
    pub length: usize,
    /// The seed's task: is the read as given the coding strand?
    pub sense: Binary,
    /// Does the read lie in a gene (either strand)?
    pub gene: Binary,
    /// Share of coding reads with strand and frame right.
    pub frame_accuracy: f64,
}

/// A whole evaluation.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Per genome and length.
    pub groups: Vec<Group>,
    /// Means over genomes per length (key `"all"` over everything).
    pub means: BTreeMap<String, BTreeMap<String, f64>>,
    /// 7×7 confusion matrix (truth rows, predicted argmax columns).
    pub confusion: [[usize; 7]; 7],
    /// Reads without truth or truth without reads.
    pub missing: usize,
    /// Per read set, in order: the sequencing-error survey behind its hint (with
    /// `ErrorHint::Auto`).
    pub error_estimates: Vec<Option<ErrorEstimate>>,
}

/// Predicts reads, each with the genetic code of its truth row.
pub fn predict_with_tables(
    pred: &Predictor,
    reads: &[(&[u8], TableId)],
    threshold: f32,
    threads: usize,
) -> Vec<Prediction> {
    let mut out: Vec<Option<Prediction>> = vec![None; reads.len()];
    let mut tables: Vec<TableId> = reads.iter().map(|r| r.1).collect();
    tables.sort_unstable();
    tables.dedup();
    for t in tables {
        let ctx = TableContext::new(t.code());
        let idx: Vec<usize> = (0..reads.len()).filter(|&i| reads[i].1 == t).collect();
        let batch: Vec<&[u8]> = idx.iter().map(|&i| reads[i].0).collect();
        for (i, p) in idx
            .into_iter()
            .zip(pred.predict_batch(&batch, &ctx, threshold, threads))
        {
            out[i] = Some(p);
        }
    }
    out.into_iter()
        .map(|p| p.expect("every read predicted"))
        .collect()
}

/// Reads (id, sequence) with their truth rows.
pub type LabelledSet = (Vec<(String, DnaSeq)>, Vec<Truth>);

/// Evaluates read sets given as (reads, truth) pairs; `pred` carries no hint, `errors`
/// says what each set's predictor is told (with `Auto`, each set is surveyed on its own,
/// as `cdspred predict` would survey that file).
pub fn evaluate_sets(
    pred: &Predictor,
    sets: &[LabelledSet],
    errors: ErrorHint,
    threshold: f32,
    threads: usize,
    self_training: SelfTrainMode,
) -> Report {
    let mut missing = 0;
    let mut rows: Vec<(&Truth, Prediction)> = Vec::new();
    let mut estimates = Vec::new();
    for (reads, truth) in sets {
        let by_id: HashMap<&str, &DnaSeq> = reads.iter().map(|(i, s)| (i.as_str(), s)).collect();
        let paired: Vec<(&Truth, &DnaSeq)> = truth
            .iter()
            .filter_map(|t| by_id.get(t.id.as_str()).map(|s| (t, *s)))
            .collect();
        missing += truth.len() - paired.len();
        let inputs: Vec<(&[u8], TableId)> =
            paired.iter().map(|(t, s)| (s.codes(), t.table)).collect();
        let (hinted, estimate) = hinted_for_set(pred, errors, &inputs, threads, self_training);
        estimates.push(estimate);
        let preds = predict_with_tables(&hinted, &inputs, threshold, threads);
        rows.extend(paired.into_iter().map(|p| p.0).zip(preds));
    }
    let mut rep = report(&rows, threshold, missing);
    rep.error_estimates = estimates;
    rep
}

/// `pred` (which carries no hint) told what `errors` says for one read set: a fixed
/// hint, or with `Auto` the hint of the set's own survey (returned too); with
/// `self_training` allowing it, a set told indels self-trains on its own reads
/// ([`cdspred_model::hmm::teach`]).
pub fn hinted_for_set(
    pred: &Predictor,
    errors: ErrorHint,
    inputs: &[(&[u8], TableId)],
    threads: usize,
    self_training: SelfTrainMode,
) -> (Predictor, Option<ErrorEstimate>) {
    let (hinted, est) = match errors {
        ErrorHint::Auto => {
            let est = survey_set(pred, inputs, threads);
            (est.tell(pred.clone()), Some(est))
        }
        told => (told.tell(pred.clone()), None),
    };
    // As `cdspred predict` would self-train on the set as a file: its first reads, with
    // the genetic code of its first read.
    let Some(&(_, t)) = inputs.first() else {
        return (hinted, est);
    };
    let reads: Vec<&[u8]> = inputs.iter().filter(|r| r.1 == t).map(|r| r.0).collect();
    let ctx = TableContext::new(t.code());
    (teach(hinted, &reads, &ctx, threads, self_training), est)
}

/// The sequencing-error survey of a read set, as `cdspred predict` would survey it as
/// a file: its first reads, with the genetic code of its first read.
fn survey_set(pred: &Predictor, inputs: &[(&[u8], TableId)], threads: usize) -> ErrorEstimate {
    let mut est = ErrorEstimate::default();
    if let Some(&(_, t)) = inputs.first() {
        let reads: Vec<&[u8]> = inputs.iter().filter(|r| r.1 == t).map(|r| r.0).collect();
        survey(
            pred,
            &mut est,
            &reads,
            &TableContext::new(t.code()),
            threads,
        );
    }
    est
}

fn report(rows: &[(&Truth, Prediction)], threshold: f32, missing: usize) -> Report {
    let mut groups: BTreeMap<(String, usize), Vec<usize>> = BTreeMap::new();
    let mut confusion = [[0usize; 7]; 7];
    for (i, (t, p)) in rows.iter().enumerate() {
        groups
            .entry((t.genome.clone(), t.length))
            .or_default()
            .push(i);
        let k = (0..7)
            .max_by(|&a, &b| p.probs[a].total_cmp(&p.probs[b]).then(b.cmp(&a)))
            .unwrap_or(0);
        confusion[t.class.index()][k] += 1;
    }
    let mut out = Vec::new();
    for ((genome, length), idx) in groups {
        let ys: Vec<bool> = idx.iter().map(|&i| rows[i].0.sense).collect();
        // Scored as printed (4 decimals), as the project's scorer reads them.
        let ss: Vec<f32> = idx.iter().map(|&i| printed(rows[i].1.sense_prob)).collect();
        let yg: Vec<bool> = idx.iter().map(|&i| rows[i].0.gene).collect();
        let sg: Vec<f32> = idx
            .iter()
            .map(|&i| printed(rows[i].1.coding_prob))
            .collect();
        let coding: Vec<usize> = idx.iter().copied().filter(|&i| rows[i].0.gene).collect();
        let right = coding
            .iter()
            .filter(|&&i| {
                let ReadClass::Coding(s, f) = rows[i].0.class else {
                    return false;
                };
                rows[i].1.best == Some((s, f))
            })
            .count();
        out.push(Group {
            genome,
            length,
            sense: binary(&ys, &ss, printed(threshold)),
            gene: binary(&yg, &sg, printed(threshold)),
            frame_accuracy: right as f64 / coding.len().max(1) as f64,
        });
    }
    let mut means: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    for key in out
        .iter()
        .map(|g| g.length.to_string())
        .chain(["all".to_string()])
    {
        let sel: Vec<&Group> = out
            .iter()
            .filter(|g| key == "all" || g.length.to_string() == key)
            .collect();
        let mean = |f: &dyn Fn(&Group) -> f64| {
            sel.iter().map(|g| f(g)).sum::<f64>() / sel.len().max(1) as f64
        };
        let m: BTreeMap<String, f64> = [
            ("sense_acc", mean(&|g| g.sense.accuracy)),
            ("sense_mcc", mean(&|g| g.sense.mcc)),
            ("sense_auc", mean(&|g| g.sense.roc_auc)),
            ("gene_acc", mean(&|g| g.gene.accuracy)),
            ("gene_mcc", mean(&|g| g.gene.mcc)),
            ("gene_auc", mean(&|g| g.gene.roc_auc)),
            ("gene_pr_auc", mean(&|g| g.gene.pr_auc)),
            ("gene_f1", mean(&|g| g.gene.f1)),
            ("gene_ece", mean(&|g| g.gene.ece)),
            ("frame", mean(&|g| g.frame_accuracy)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        means.insert(key, m);
    }
    Report {
        groups: out,
        means,
        confusion,
        missing,
        error_estimates: Vec::new(),
    }
}

/// Sense accuracy (the seed's task) on a sense-labelled dataset under one table.
pub fn evaluate_sense(
    pred: &Predictor,
    ds: &Dataset,
    table: TableId,
    threshold: f32,
    threads: usize,
) -> Binary {
    let ctx = TableContext::new(table.code());
    let reads: Vec<&[u8]> = ds.samples.iter().map(|s| ds.read(s)).collect();
    let preds = pred.predict_batch(&reads, &ctx, threshold, threads);
    let y: Vec<bool> = ds
        .samples
        .iter()
        .map(|s| matches!(s.label, ReadLabel::Sense(true)))
        .collect();
    let sc: Vec<f32> = preds.iter().map(|p| printed(p.sense_prob)).collect();
    binary(&y, &sc, printed(threshold))
}

/// Renders a report as a text table like `shared/eval/score.py`.
pub fn render(report: &Report) -> String {
    let mut s = format!(
        "{:16} {:>4} {:>5} {:>9} {:>9} {:>9} {:>8} {:>8} {:>8} {:>6}\n",
        "genome",
        "L",
        "n",
        "sense_acc",
        "sense_mcc",
        "sense_auc",
        "gene_acc",
        "gene_mcc",
        "gene_auc",
        "frame"
    );
    for g in &report.groups {
        s += &format!(
            "{:16} {:>4} {:>5} {:>9.4} {:>9.4} {:>9.4} {:>8.4} {:>8.4} {:>8.4} {:>6.3}\n",
            g.genome,
            g.length,
            g.sense.n,
            g.sense.accuracy,
            g.sense.mcc,
            g.sense.roc_auc,
            g.gene.accuracy,
            g.gene.mcc,
            g.gene.roc_auc,
            g.frame_accuracy
        );
    }
    for (k, m) in &report.means {
        s += &format!(
            "MEAN L={k}: sense_acc={:.4} sense_mcc={:.4} gene_acc={:.4} gene_mcc={:.4} gene_auc={:.4} frame={:.4}\n",
            m["sense_acc"], m["sense_mcc"], m["gene_acc"], m["gene_mcc"], m["gene_auc"], m["frame"]
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_truth_file_with_an_unknown_table_is_an_error() {
        let p = std::env::temp_dir().join(format!("cdspred-truth-{}.tsv", std::process::id()));
        let head = "id\tgenome\ttable\tlength\tsense\tgene\tstrand\tframe\tgc\n";
        std::fs::write(&p, format!("{head}r1\tg\t4\t60\t1\t1\t+\t0\t0.5\n")).unwrap();
        let t = read_truth(&p).unwrap();
        assert_eq!(t[0].table, TableId::known(4));
        std::fs::write(
            &p,
            format!("{head}r1\tg\t4\t60\t1\t1\t+\t0\t0.5\nr2\tg\t99\t60\t0\t0\t.\t.\t0.5\n"),
        )
        .unwrap();
        let e = read_truth(&p).unwrap_err().to_string();
        std::fs::remove_file(&p).unwrap();
        assert!(e.contains("line 3: unknown genetic code 99"), "{e}");
    }
}
