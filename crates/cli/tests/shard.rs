//! `cdspred shard split|merge`: shards cover the input in order, and predicting the
//! shards then merging gives exactly the single-run output (every format), also with
//! more shards than reads, FASTQ/gzip input and IUPAC codes. The Snakemake workflow
//! built on these commands is run by scripts/test.sh.

mod common;

use std::path::Path;
use std::process::Command;

use common::{cdspred, repo};

fn run(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cdspred"))
        .current_dir(repo())
        .args(args)
        .output()
        .unwrap()
}

fn shard_paths(dir: &Path, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            dir.join(format!("shard-{i:04}.fasta"))
                .to_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

/// Splits `input` into `n` shards, predicts each in `format` with the whole input's
/// error survey, merges, and compares with one `cdspred predict` of the input.
fn roundtrip(input: &str, n: usize, format: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let shards = tmp.path().join("shards");
    cdspred(&[
        "shard",
        "split",
        input,
        "--shards",
        &n.to_string(),
        "--out-dir",
        shards.to_str().unwrap(),
    ]);
    // The whole input's sequencing-error survey, passed to every shard.
    let errors = cdspred(&["predict", input, "--survey-errors"]);
    let errors = errors.trim();
    assert!(["indel1", "none", "unknown"].contains(&errors), "{errors}");
    let mut preds = Vec::new();
    for (i, s) in shard_paths(&shards, n).iter().enumerate() {
        let p = tmp.path().join(format!("p{i}.{format}"));
        cdspred(&[
            "predict",
            s,
            "--format",
            format,
            "--errors",
            errors,
            "-o",
            p.to_str().unwrap(),
        ]);
        preds.push(p.to_str().unwrap().to_string());
    }
    let merged = tmp.path().join(format!("merged.{format}"));
    let mut args = vec!["shard", "merge", "--format", format];
    args.extend(preds.iter().map(String::as_str));
    args.extend(["-o", merged.to_str().unwrap()]);
    cdspred(&args);
    let whole = cdspred(&["predict", input, "--format", format]);
    assert_eq!(
        std::fs::read_to_string(&merged).unwrap(),
        whole,
        "{input} in {n} shards, {format}"
    );
    // No temporary files are left behind.
    for e in std::fs::read_dir(tmp.path()).unwrap() {
        let name = e.unwrap().file_name();
        assert!(!name.to_string_lossy().ends_with(".partial"), "{name:?}");
    }
}

#[test]
fn shards_merge_to_the_single_run_output() {
    let ex = repo().join("examples/reads.fasta");
    let ex = ex.to_str().unwrap();
    for format in ["tsv", "jsonl", "gff3", "faa"] {
        roundtrip(ex, 3, format);
    }
    roundtrip(ex, 1, "tsv");
    roundtrip(ex, 7, "tsv");
}

#[test]
fn shards_are_contiguous_and_balanced_even_with_more_shards_than_reads() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in.fastq");
    let mut text = String::new();
    for i in 0..5 {
        text += &format!("@r{i} extra words\nACGTRYACGTACGTAAAAC\n+\nIIIIIIIIIIIIIIIIIII\n");
    }
    std::fs::write(&input, &text).unwrap();
    let out = tmp.path().join("sh");
    cdspred(&[
        "shard",
        "split",
        input.to_str().unwrap(),
        "--shards",
        "8",
        "--out-dir",
        out.to_str().unwrap(),
    ]);
    let paths = shard_paths(&out, 8);
    let ids: Vec<Vec<String>> = paths
        .iter()
        .map(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .lines()
                .filter_map(|l| l.strip_prefix('>').map(str::to_string))
                .collect()
        })
        .collect();
    let flat: Vec<String> = ids.iter().flatten().cloned().collect();
    assert_eq!(flat, ["r0", "r1", "r2", "r3", "r4"], "input order kept");
    assert!(ids.iter().all(|s| s.len() <= 1), "{ids:?}");
    assert_eq!(ids.iter().filter(|s| s.is_empty()).count(), 3);
    // IUPAC codes become N, as the predictor reads them.
    let first = std::fs::read_to_string(&paths[1]).unwrap();
    assert!(first.contains("ACGTNNACGT"), "{first}");
    roundtrip(input.to_str().unwrap(), 8, "tsv");
}

#[test]
fn bad_input_and_bad_merge_fail_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.fasta");
    std::fs::write(&bad, ">ok\nACGT\n>broken\nAC#GT\n").unwrap();
    let out = tmp.path().join("sh");
    let o = run(&[
        "shard",
        "split",
        bad.to_str().unwrap(),
        "--shards",
        "2",
        "--out-dir",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("bad.fasta") && err.contains("broken"),
        "names file and record: {err}"
    );
    assert!(!out.exists(), "nothing written for bad input");

    let o = run(&["shard", "split", "-", "--shards", "2", "--out-dir", "x"]);
    assert!(!o.status.success());
    let o = run(&[
        "shard",
        "split",
        bad.to_str().unwrap(),
        "--shards",
        "0",
        "--out-dir",
        "x",
    ]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("at least 1"));

    // Merging something that is not a prediction file of the format names it.
    let merged = tmp.path().join("m.tsv");
    let o = run(&[
        "shard",
        "merge",
        bad.to_str().unwrap(),
        "-o",
        merged.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("bad.fasta: line 1"), "{err}");
    assert!(!merged.exists());
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().contains("partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
