//! Reads with sequencing errors, through the real binary and the embedded model:
//! frameshift reporting, the `--errors` hint, and `cdspred data mutate`.

mod common;

use std::path::Path;
use std::process::Command;

use common::{cdspred, shared};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cdspred"))
}

fn example() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/reads.fasta")
        .display()
        .to_string()
}

/// (id, sequence) of the example reads.
fn example_reads() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(example()).unwrap();
    let mut out = Vec::new();
    for rec in text.split('>').skip(1) {
        let mut lines = rec.lines();
        let id = lines.next().unwrap().split_whitespace().next().unwrap();
        out.push((id.to_string(), lines.collect::<String>()));
    }
    out
}

fn jsonl(fasta: &str, extra: &[&str]) -> Vec<serde_json::Value> {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("r.fa");
    std::fs::write(&p, fasta).unwrap();
    let mut args = vec!["predict", "--format", "jsonl", p.to_str().unwrap()];
    args.extend_from_slice(extra);
    cdspred(&args)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn an_inserted_base_is_reported_as_a_frameshift_near_where_it_is() {
    // Clean 300-nt reads the model calls coding without shifts.
    let reads = example_reads();
    let fasta: String = reads.iter().map(|(i, s)| format!(">{i}\n{s}\n")).collect();
    let clean = jsonl(&fasta, &[]);
    let (picked, picked_clean): (Vec<&(String, String)>, Vec<&serde_json::Value>) = reads
        .iter()
        .zip(&clean)
        .filter(|(r, p)| {
            r.1.len() == 300
                && p["call"] == "coding"
                && p["frameshifts"].as_array().unwrap().is_empty()
        })
        .take(60)
        .unzip();
    assert!(picked.len() >= 30, "{} clean coding reads", picked.len());
    // One extra base in the middle of each.
    let mutated: String = picked
        .iter()
        .map(|(i, s)| format!(">{i}\n{}A{}\n", &s[..150], &s[150..]))
        .collect();
    let out = jsonl(&mutated, &["--errors", "indel1"]);
    let mut near = 0;
    for p in &out {
        let shifts = p["frameshifts"].as_array().unwrap();
        if shifts
            .iter()
            .any(|s| s["kind"] == "ins" && (s["pos"].as_u64().unwrap() as i64 - 150).abs() <= 45)
        {
            near += 1;
        }
    }
    // The decoder finds most of them (measured: see the model card); a frame path
    // that ignored indels would find none.
    assert!(
        near * 10 >= out.len() * 6,
        "{near} of {} insertions found",
        out.len()
    );
    // The TSV counts them, and the protein in faa is read along the corrected path:
    // as long as the clean read's protein, give or take one residue.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("m.fa");
    std::fs::write(&p, &mutated).unwrap();
    let tsv = cdspred(&["predict", "--errors", "indel1", p.to_str().unwrap()]);
    let counted = tsv
        .lines()
        .skip(1)
        .filter(|l| l.split('\t').nth(7).unwrap() != "0")
        .count();
    assert!(
        counted >= near,
        "{counted} rows with frameshifts, {near} found"
    );
    for (p, c) in out.iter().zip(&picked_clean) {
        if let (Some(a), Some(b)) = (p["protein"].as_str(), c["protein"].as_str()) {
            if !p["frameshifts"].as_array().unwrap().is_empty() {
                assert!(a.len().abs_diff(b.len()) <= 1, "{a} vs {b}");
            }
        }
    }
}

#[test]
fn strand_symmetry_holds_for_frameshifted_reads() {
    let reads = example_reads();
    let (id, s) = reads.iter().find(|r| r.1.len() == 300).unwrap();
    let m = format!("{}T{}", &s[..100], &s[100..]);
    let rc: String = m
        .chars()
        .rev()
        .map(|c| match c {
            'A' => 'T',
            'C' => 'G',
            'G' => 'C',
            'T' => 'A',
            o => o,
        })
        .collect();
    let out = jsonl(&format!(">{id}\n{m}\n>{id}_rc\n{rc}\n"), &[]);
    assert_eq!(out[0]["coding_prob"], out[1]["coding_prob"]);
    let a = out[0]["frameshifts"].as_array().unwrap();
    let b = out[1]["frameshifts"].as_array().unwrap();
    assert_eq!(a.len(), b.len());
    // Positions mirror: pos in the read ↔ len − pos in its reverse complement.
    for (x, y) in a.iter().zip(b.iter().rev()) {
        assert_eq!(
            x["pos"].as_u64().unwrap() + y["pos"].as_u64().unwrap(),
            m.len() as u64
        );
        assert_eq!(x["kind"], y["kind"]);
    }
}

#[test]
fn unknown_error_profiles_are_usage_errors() {
    let o = bin()
        .args(["predict", "--errors", "nanopore9", &example()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("unknown error profile") && e.contains("indel1"),
        "{e}"
    );
    // A training config naming an unknown profile fails before any data is read.
    let dir = tempfile::tempdir().unwrap();
    let run_dir = dir.path().join("run");
    let o = bin()
        .args([
            "train",
            "--config",
            "/dev/null",
            "--run-dir",
            run_dir.to_str().unwrap(),
            "error_profiles=[\"bogus\"]",
            "error_fraction=0.5",
        ])
        .output()
        .unwrap();
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("unknown error profile \"bogus\""), "{e}");
}

/// `cdspred data mutate` of a dev read set (`OUT.fasta`, `OUT.tsv`).
fn mutate(genome: &str, profile: &str, seed: &str, out: &Path) -> String {
    let eval = shared().join("data/eval");
    cdspred(&[
        "data",
        "mutate",
        "--profile",
        profile,
        "--seed",
        seed,
        "--reads",
        eval.join(format!("{genome}.fasta.gz")).to_str().unwrap(),
        "--truth",
        eval.join(format!("{genome}.tsv.gz")).to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ])
}

#[test]
fn mutate_keeps_truth_and_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let run = |out: &Path| mutate("kutzneria", "mixed4", "7", out);
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    run(&a);
    run(&b);
    let fa = std::fs::read_to_string(dir.path().join("a.fasta")).unwrap();
    assert_eq!(
        fa,
        std::fs::read_to_string(dir.path().join("b.fasta")).unwrap()
    );
    let tsv = std::fs::read_to_string(dir.path().join("a.tsv")).unwrap();
    let rows: Vec<Vec<&str>> = tsv.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(
        rows[0],
        ["id", "genome", "table", "length", "sense", "gene", "strand", "frame", "gc"]
    );
    // Lengths change with indels; the nominal length column does not.
    let seqs: Vec<&str> = fa.lines().filter(|l| !l.starts_with('>')).collect();
    assert_eq!(seqs.len(), rows.len() - 1);
    let changed = rows[1..]
        .iter()
        .zip(&seqs)
        .filter(|(r, s)| r[3].parse::<usize>().unwrap() != s.len())
        .count();
    assert!(changed > seqs.len() / 4, "{changed} of {}", seqs.len());
    // The scorer reads the result.
    let pred = dir.path().join("pred.tsv");
    cdspred(&[
        "predict",
        dir.path().join("a.fasta").to_str().unwrap(),
        "-o",
        pred.to_str().unwrap(),
    ]);
    let o = Command::new("python3")
        .arg(shared().join("eval/score.py"))
        .args(["--pred", pred.to_str().unwrap()])
        .arg(dir.path().join("a.tsv"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("kutzneria"));
}

/// `cdspred predict` with its flags and `CDSPRED_LOG=info`: (stdout, stderr).
fn predict_logged(path: &Path, extra: &[&str]) -> (String, String) {
    let o = bin()
        .env("CDSPRED_LOG", "info")
        .env("NO_COLOR", "1")
        .args(["predict", path.to_str().unwrap()])
        .args(extra)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    (
        String::from_utf8(o.stdout).unwrap(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn the_default_error_hint_is_estimated_from_the_reads() {
    let dir = tempfile::tempdir().unwrap();
    // 700 reads of nominal length 300 (and 700 of 60) from a dev genome, clean and
    // with 1% indels; the 60-nt reads come first, as in a length-sorted file.
    let pick = |profile: &str| -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
        let out = dir.path().join(profile);
        mutate("cdiphtheriae", profile, "1", &out);
        let truth = std::fs::read_to_string(out.with_extension("tsv")).unwrap();
        let fasta = std::fs::read_to_string(out.with_extension("fasta")).unwrap();
        let length: std::collections::HashMap<&str, &str> = truth
            .lines()
            .skip(1)
            .map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                (f[0], f[3])
            })
            .collect();
        let recs: Vec<(&str, &str)> = fasta
            .split('>')
            .skip(1)
            .map(|r| r.split_once('\n').unwrap())
            .collect();
        let of = |len: &str, n: usize| -> String {
            recs.iter()
                .filter(|(h, _)| length[h.split_whitespace().next().unwrap()] == len)
                .take(n)
                .map(|(h, s)| format!(">{h}\n{s}"))
                .collect()
        };
        let (all, short, mid) = (
            dir.path().join(format!("{profile}.fa")),
            dir.path().join(format!("{profile}_60.fa")),
            dir.path().join(format!("{profile}_150.fa")),
        );
        std::fs::write(&all, of("60", 700) + &of("300", 700)).unwrap();
        std::fs::write(&short, of("60", 700)).unwrap();
        std::fs::write(&mid, of("150", 4000)).unwrap();
        (all, short, mid)
    };
    for (profile, verdict, same_as, not_as) in [
        (
            "none",
            "no sign of indels: told 0 (clean expert)",
            "none",
            "unknown",
        ),
        ("indel1", "indels: told 0.8 per 100 nt", "indel1", "unknown"),
    ] {
        let (all, short, mid) = pick(profile);
        let (auto, log) = predict_logged(&all, &[]);
        assert!(log.contains(verdict), "{profile}: {log}");
        // Exactly as if that hint had been given, and not the other.
        assert_eq!(
            auto,
            predict_logged(&all, &["--errors", same_as]).0,
            "{profile}"
        );
        assert_ne!(
            auto,
            predict_logged(&all, &["--errors", not_as]).0,
            "{profile}"
        );
        let survey = cdspred(&["predict", all.to_str().unwrap(), "--survey-errors"]);
        assert_eq!(survey.trim(), same_as);
        // Short reads alone say too little: nothing is told, as before the estimate.
        let (auto, log) = predict_logged(&short, &["--threads", "3"]);
        assert!(log.contains("too few confident reads"), "{log}");
        assert_eq!(auto, predict_logged(&short, &["--errors", "unknown"]).0);
        // 150-nt reads can show a sample clean (given enough of them), never
        // indel-laden: clean ones go to the clean expert, those with indels are told
        // nothing.
        let (auto, log) = predict_logged(&mid, &[]);
        let (verdict, same_as) = match profile {
            "none" => ("no sign of indels", "none"),
            _ => ("nothing told", "unknown"),
        };
        assert!(log.contains(verdict), "{profile} 150 nt: {log}");
        assert_eq!(
            auto,
            predict_logged(&mid, &["--errors", same_as]).0,
            "{profile}"
        );
    }
}
