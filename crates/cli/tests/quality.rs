//! The shipped model's quality gate: `models/default` evaluated on the development
//! read sets (genomes never trained on) must reproduce every figure of its card to
//! ±0.002, and `cdspred eval` must agree with the project's scorer
//! (`../shared/eval/score.py`) on the same predictions to the scorer's printed digits.
//! A worse model with a stale card, a card edited by hand, or an evaluator that drifts
//! from the scorer fails here.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

mod common;
use common::{cdspred, repo, shared};

const GENOMES: [&str; 3] = ["cdiphtheriae", "kutzneria", "mhyorhinis"];

fn eval_set(genome: &str) -> (PathBuf, PathBuf) {
    let e = shared().join("data/eval");
    (
        e.join(format!("{genome}.tsv.gz")),
        e.join(format!("{genome}.fasta.gz")),
    )
}

/// Every numeric leaf of `want` equals `got`'s within `tol`; other leaves are equal.
fn close(
    path: &str,
    want: &serde_json::Value,
    got: &serde_json::Value,
    tol: f64,
    bad: &mut Vec<String>,
) {
    use serde_json::Value;
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            for (k, v) in w {
                match g.get(k) {
                    Some(x) => close(&format!("{path}.{k}"), v, x, tol, bad),
                    None => bad.push(format!("{path}.{k} missing")),
                }
            }
        }
        (Value::Array(w), Value::Array(g)) if w.len() == g.len() => {
            for (i, (v, x)) in w.iter().zip(g).enumerate() {
                close(&format!("{path}[{i}]"), v, x, tol, bad);
            }
        }
        (Value::Number(w), Value::Number(g)) => {
            let (w, g) = (w.as_f64().unwrap(), g.as_f64().unwrap());
            if (w - g).abs() > tol {
                bad.push(format!("{path}: card {w} measured {g}"));
            }
        }
        (w, g) if w != g => bad.push(format!("{path}: card {w} measured {g}")),
        _ => {}
    }
}

/// `cdspred eval --json` of the embedded model on the three development sets.
fn evaluate() -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("eval.json");
    let mut args = vec![
        "eval".to_string(),
        "--json".into(),
        json.display().to_string(),
    ];
    for g in GENOMES {
        let (t, r) = eval_set(g);
        args.extend([
            "--truth".into(),
            t.display().to_string(),
            "--reads".into(),
            r.display().to_string(),
        ]);
    }
    cdspred(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    v["read_sets"].clone()
}

fn group<'a>(v: &'a serde_json::Value, genome: &str, length: u64) -> &'a serde_json::Value {
    v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["genome"] == genome && g["length"] == length)
        .unwrap_or_else(|| panic!("no group {genome} {length}"))
}

#[test]
fn the_shipped_model_reproduces_its_card_and_the_scorer() {
    let measured = evaluate();
    let card: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("models/default/card.json")).unwrap(),
    )
    .unwrap();
    let card = &card["metrics"]["read_sets"];
    let groups = card["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 12, "3 genomes x 4 read lengths in the card");
    // Every figure: per genome and length, the means, the confusion matrix and the
    // survey of each set.
    let mut bad = Vec::new();
    close("read_sets", card, &measured, 0.002, &mut bad);
    assert!(
        bad.is_empty(),
        "the model differs from its card:\n{}",
        bad.join("\n")
    );

    // The same reads through `cdspred predict` (each set surveyed on its own, as eval
    // does) and the project's scorer.
    let dir = tempfile::tempdir().unwrap();
    let pred = dir.path().join("pred.tsv");
    let mut tsv = String::new();
    for g in GENOMES {
        // The genetic code the truth names (M. hyorhinis: 4).
        let truth = common::gunzip(&eval_set(g).0);
        let table = truth
            .lines()
            .nth(1)
            .unwrap()
            .split('\t')
            .nth(2)
            .unwrap()
            .to_string();
        let out = cdspred(&[
            "predict",
            "-q",
            "--table",
            &table,
            eval_set(g).1.to_str().unwrap(),
        ]);
        let skip = if tsv.is_empty() { 0 } else { 1 };
        for l in out.lines().skip(skip) {
            tsv.push_str(l);
            tsv.push('\n');
        }
    }
    std::fs::write(&pred, tsv).unwrap();
    let mut score = Command::new("python3");
    score
        .arg(shared().join("eval/score.py"))
        .arg("--pred")
        .arg(&pred);
    for g in GENOMES {
        score.arg(eval_set(g).0);
    }
    let o = score.output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    let mut rows = 0;
    for line in text.lines().skip(1).filter(|l| !l.starts_with("MEAN")) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let num = |i: usize| f[i].parse::<f64>().unwrap();
        let m = group(&measured, f[0], f[1].parse().unwrap());
        let ours: HashMap<&str, (f64, f64, f64)> = HashMap::from([
            (
                "sense_acc",
                (num(3), m["sense"]["accuracy"].as_f64().unwrap(), 1e-4),
            ),
            (
                "sense_mcc",
                (num(4), m["sense"]["mcc"].as_f64().unwrap(), 1e-4),
            ),
            (
                "sense_auc",
                (num(5), m["sense"]["roc_auc"].as_f64().unwrap(), 1e-4),
            ),
            (
                "gene_acc",
                (num(6), m["gene"]["accuracy"].as_f64().unwrap(), 1e-4),
            ),
            (
                "gene_mcc",
                (num(7), m["gene"]["mcc"].as_f64().unwrap(), 1e-4),
            ),
            (
                "gene_auc",
                (num(8), m["gene"]["roc_auc"].as_f64().unwrap(), 1e-4),
            ),
            (
                "frame",
                (num(9), m["frame_accuracy"].as_f64().unwrap(), 1e-3),
            ),
        ]);
        for (k, (scorer, eval, tol)) in ours {
            assert!(
                (scorer - eval).abs() <= tol,
                "{} {}: {k} scorer {scorer} eval {eval}",
                f[0],
                f[1]
            );
        }
        rows += 1;
    }
    assert_eq!(rows, 12, "{text}");
}
