//! Files that join: one feature ID across every output, GFF3 that `gt gff3validator`
//! passes without a warning, several outputs in one pass, the closing summary and the
//! MultiQC stats file, a closed pipe — all through the real binary. Needs `gt`
//! (Debian's genometools) and `multiqc` (PyPI) on PATH, as the test command installs
//! them.

use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

mod common;

fn example() -> PathBuf {
    common::repo().join("examples/reads.fasta")
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cdspred"))
        .args(args)
        .output()
        .expect("binary runs")
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The example's sequences.
fn example_seqs() -> Vec<String> {
    read(&example())
        .lines()
        .filter(|l| !l.starts_with('>'))
        .map(String::from)
        .collect()
}

/// Reads with hostile and repeated names, and a 6-kb "contig" of 40 reads.
fn hostile_input(dir: &Path) -> PathBuf {
    let seqs = example_seqs();
    let names = [
        "contig;x=y",
        ">weird",
        "a%b",
        "dup",
        "dup",
        "dup.2",
        "a,b&c=d",
        "ünï",
        "dup",
        "r10",
        "r11",
        "r12",
    ];
    let mut text = String::new();
    for (n, s) in names.iter().zip(&seqs[1..]) {
        text += &format!(">{n} a description\n{s}\n");
    }
    text += &format!(">long|1\n{}\n", seqs[..40].concat());
    let p = dir.join("hostile.fa");
    std::fs::write(&p, text).unwrap();
    p
}

/// Undoes GFF3 %-escaping.
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// The GFF3 features: (ID unescaped, attributes).
fn gff3_features(gff: &str) -> Vec<(String, HashMap<String, String>)> {
    gff.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            assert_eq!(cols.len(), 9, "{l}");
            let attrs: HashMap<String, String> = cols[8]
                .split(';')
                .map(|kv| {
                    let (k, v) = kv.split_once('=').unwrap();
                    (k.to_string(), unescape(v))
                })
                .collect();
            (attrs["ID"].clone(), attrs)
        })
        .collect()
}

fn fasta_ids(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix('>'))
        .map(|h| h.split_whitespace().next().unwrap().to_string())
        .collect()
}

#[test]
fn one_feature_id_joins_every_output() {
    let dir = tempfile::tempdir().unwrap();
    let input = hostile_input(dir.path());
    let input = input.to_str().unwrap();
    let p = |n: &str| dir.path().join(n);
    let o = run(&[
        "predict",
        input,
        "-o",
        p("o.tsv").to_str().unwrap(),
        "--gff3",
        p("o.gff3").to_str().unwrap(),
        "--faa",
        p("o.faa").to_str().unwrap(),
        "--ffn",
        p("o.ffn").to_str().unwrap(),
    ]);
    ok(&o);
    // The repeated names are counted once, as a warning.
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        err.matches("repeat an earlier record's name").count(),
        1,
        "{err}"
    );
    assert!(err.contains("3 records repeat"), "{err}");
    let tsv: Vec<String> = read(&p("o.tsv"))
        .lines()
        .skip(1)
        .map(|l| l.rsplit('\t').next().unwrap().to_string())
        .filter(|f| f != ".")
        .flat_map(|f| f.split(',').map(String::from).collect::<Vec<_>>())
        .collect();
    let jsonl: Vec<String> = ok(&run(&["predict", "--format", "jsonl", input]))
        .lines()
        .flat_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["features"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f.as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    let gff: Vec<String> = gff3_features(&read(&p("o.gff3")))
        .into_iter()
        .map(|f| f.0)
        .collect();
    let faa = fasta_ids(&read(&p("o.faa")));
    let ffn = fasta_ids(&read(&p("o.ffn")));
    assert!(tsv.len() > 15, "{tsv:?}");
    assert_eq!(
        tsv.iter().collect::<BTreeSet<_>>().len(),
        tsv.len(),
        "unique: {tsv:?}"
    );
    for (name, ids) in [
        ("jsonl", &jsonl),
        ("gff3", &gff),
        ("faa", &faa),
        ("ffn", &ffn),
    ] {
        assert_eq!(ids, &tsv, "{name}");
    }
    // IDs are {seqid}_{start}_{end}_{strand}; a repeated name gets the first unused
    // suffix (the real "dup.2" is taken by the second "dup").
    for id in &tsv {
        let parts: Vec<&str> = id.rsplitn(4, '_').collect();
        assert!(["+", "-"].contains(&parts[0]), "{id}");
        assert!(parts[1].parse::<usize>().unwrap() > parts[2].parse::<usize>().unwrap());
    }
    let seqids: BTreeSet<&str> = tsv
        .iter()
        .map(|i| i.rsplitn(4, '_').last().unwrap())
        .collect();
    let expected_names = [
        "contig;x=y",
        ">weird",
        "a%b",
        "dup",
        "dup.2",
        "dup.2.2",
        "a,b&c=d",
        "ünï",
        "dup.3",
        "r10",
        "r11",
        "r12",
        "long|1",
    ];
    assert!(
        seqids.iter().all(|s| expected_names.contains(s)),
        "{seqids:?}"
    );
    assert!(
        seqids.contains("long|1") && seqids.contains("contig;x=y"),
        "{seqids:?}"
    );
}

/// Runs `gt gff3validator` on `path`; panics on an error or any warning.
fn gt_validates(path: &Path) {
    let o = Command::new("gt")
        .args(["gff3validator", path.to_str().unwrap()])
        .output()
        .expect("gt (Debian genometools) is installed");
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert!(o.status.success(), "{}: {out}{err}", path.display());
    assert!(out.contains("input is valid GFF3"), "{out}");
    assert!(
        err.trim().is_empty(),
        "gt warns on {}: {err}",
        path.display()
    );
}

#[test]
fn gff3_validates_clean_for_reads_long_sequences_and_hostile_ids() {
    let dir = tempfile::tempdir().unwrap();
    let hostile = hostile_input(dir.path());
    // A 60-kb contig in one line: real genome sequence from the example's reads.
    let contig = dir.path().join("contig.fa");
    std::fs::write(
        &contig,
        format!(">contig_1 len=60000\n{}\n", example_seqs().concat()),
    )
    .unwrap();
    for (name, input, table) in [
        ("reads", example(), "11"),
        ("contig", contig, "11"),
        ("hostile", hostile, "4"),
    ] {
        let out = dir.path().join(format!("{name}.gff3"));
        ok(&run(&[
            "predict",
            "--table",
            table,
            "--format",
            "gff3",
            input.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ]));
        gt_validates(&out);
        let text = read(&out);
        let head: Vec<&str> = text.lines().take(4).collect();
        assert_eq!(head[0], "##gff-version 3");
        assert!(head[1].starts_with("#!processor cdspred "), "{head:?}");
        assert!(head[2].contains("weights-sha256 "), "{head:?}");
        let feats = gff3_features(&text);
        assert!(!feats.is_empty(), "{name}");
        for (id, a) in &feats {
            assert_eq!(a["transl_table"], table, "{id}");
        }
        // Every seqid is introduced once, before its features.
        let regions = text
            .lines()
            .filter(|l| l.starts_with("##sequence-region "))
            .count();
        let seqids: BTreeSet<&str> = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.split('\t').next().unwrap())
            .collect();
        assert_eq!(regions, seqids.len(), "{name}");
        // Reads scored whole run off both ends; a contig's inner segments do not.
        if name == "reads" {
            for (id, a) in &feats {
                assert_eq!(a["partial"], "true", "{id}");
                assert_eq!(a["start_range"], ".,1", "{id}");
                assert!(a["end_range"].ends_with(",."), "{id}");
            }
        }
        // A contig's features are gene calls: Prodigal's partial flags (left and right
        // end) and a score; most are complete.
        if name == "contig" {
            for (id, a) in &feats {
                assert!(
                    ["00", "01", "10", "11"].contains(&a["partial"].as_str()),
                    "{id}"
                );
                assert!(a["score"].parse::<f64>().is_ok(), "{id}");
            }
            assert!(feats.iter().any(|(_, a)| a["partial"] == "00"));
        }
    }
}

#[test]
fn several_outputs_in_one_pass_equal_separate_runs() {
    let dir = tempfile::tempdir().unwrap();
    let input = hostile_input(dir.path());
    let input = input.to_str().unwrap();
    let p = |n: &str| dir.path().join(n);
    ok(&run(&[
        "predict",
        "--format",
        "jsonl",
        input,
        "-o",
        p("o.jsonl").to_str().unwrap(),
        "--gff3",
        p("o.gff3.gz").to_str().unwrap(),
        "--faa",
        p("o.faa").to_str().unwrap(),
        "--ffn",
        p("o.ffn").to_str().unwrap(),
    ]));
    let gunzip = |path: &Path| {
        let mut s = String::new();
        std::io::Read::read_to_string(
            &mut flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap()),
            &mut s,
        )
        .unwrap();
        s
    };
    assert_eq!(
        read(&p("o.jsonl")),
        ok(&run(&["predict", "--format", "jsonl", input]))
    );
    assert_eq!(
        gunzip(&p("o.gff3.gz")),
        ok(&run(&["predict", "--format", "gff3", input]))
    );
    assert_eq!(
        read(&p("o.faa")),
        ok(&run(&["predict", "--format", "faa", input]))
    );
    assert_eq!(
        read(&p("o.ffn")),
        ok(&run(&["predict", "--format", "ffn", input]))
    );

    // A run that fails on a bad record leaves every earlier output as it was.
    let bad = p("bad.fa");
    std::fs::write(&bad, format!("{}>bad\nACGU-T\n", read(Path::new(input)))).unwrap();
    let before: Vec<String> = ["o.jsonl", "o.faa", "o.ffn"]
        .iter()
        .map(|n| read(&p(n)))
        .collect();
    let o = run(&[
        "predict",
        bad.to_str().unwrap(),
        "-o",
        p("o.jsonl").to_str().unwrap(),
        "--faa",
        p("o.faa").to_str().unwrap(),
        "--ffn",
        p("o.ffn").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let after: Vec<String> = ["o.jsonl", "o.faa", "o.ffn"]
        .iter()
        .map(|n| read(&p(n)))
        .collect();
    assert_eq!(before, after);
    assert!(p("o.faa.partial").exists() && p("o.ffn.partial").exists());

    // Two outputs to one file are a usage error, found before anything is written.
    let o = run(&[
        "predict",
        input,
        "-o",
        p("same").to_str().unwrap(),
        "--faa",
        p("same").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--faa and -o both name"));
    assert!(!p("same").exists());
    // `-` is standard output: free when -o names a file, a usage error when not.
    let gff_out = ok(&run(&[
        "predict",
        input,
        "-o",
        p("x.tsv").to_str().unwrap(),
        "--gff3",
        "-",
    ]));
    assert_eq!(gff_out, ok(&run(&["predict", "--format", "gff3", input])));
    let o = run(&["predict", input, "--faa", "-"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("both name standard output"));
}

#[test]
fn summary_line_and_multiqc_stats() {
    let dir = tempfile::tempdir().unwrap();
    let stats = dir.path().join("sample1_mqc.json");
    let o = run(&[
        "predict",
        example().to_str().unwrap(),
        "--stats",
        stats.to_str().unwrap(),
    ]);
    let tsv = ok(&o);
    let rows: Vec<Vec<&str>> = tsv
        .lines()
        .skip(1)
        .map(|l| l.split('\t').collect())
        .collect();
    let count = |call: &str| rows.iter().filter(|r| r[6] == call).count();
    // Frame shifts are counted on coding calls only.
    let shifted = rows
        .iter()
        .filter(|r| r[6] == "coding" && r[7] != "0" && r[7] != ".")
        .count();
    let (coding, noncoding) = (count("coding"), count("noncoding"));
    // The closing line on stderr.
    let err = String::from_utf8_lossy(&o.stderr);
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.starts_with(&format!(
            "cdspred: 400 reads: {coding} coding, {noncoding} noncoding, 0 too short; {shifted} coding with frameshifts; {coding} features; 0 duplicate names; "
        )) && last.ends_with(" reads/s"),
        "{last}"
    );
    // -q: nothing on stderr.
    let q = run(&["predict", "-q", example().to_str().unwrap()]);
    assert!(q.status.success() && q.stderr.is_empty(), "{:?}", q.stderr);

    // The stats file, read by MultiQC's custom-content module.
    let v: serde_json::Value = serde_json::from_str(&read(&stats)).unwrap();
    assert_eq!(v["cdspred"]["counts"]["reads"], 400);
    assert_eq!(v["cdspred"]["run"]["table"], 11);
    let out = dir.path().join("mqc");
    let m = Command::new("multiqc")
        .args([
            dir.path().to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--no-ansi",
            "-q",
        ])
        .output()
        .expect("multiqc (PyPI) is installed");
    assert!(m.status.success(), "{}", String::from_utf8_lossy(&m.stderr));
    let general = read(&out.join("multiqc_data/multiqc_general_stats.txt"));
    let mut lines = general.lines();
    let head: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let row: Vec<&str> = lines
        .find(|l| l.starts_with("reads\t"))
        .unwrap_or_else(|| panic!("no row for sample 'reads': {general}"))
        .split('\t')
        .collect();
    let col = |suffix: &str| {
        let i = head
            .iter()
            .position(|h| h.ends_with(&format!("cdspred-{suffix}")))
            .unwrap_or_else(|| panic!("no {suffix} column: {head:?}"));
        row[i].parse::<f64>().unwrap()
    };
    assert_eq!(col("reads"), 400.0);
    assert_eq!(col("coding"), coding as f64);
    assert_eq!(col("noncoding"), noncoding as f64);
    assert_eq!(
        col("coding_pct"),
        (coding as f64 * 1e4 / 400.0).round() / 100.0
    );
    // The share of coding calls read along a shifted path.
    assert_eq!(
        col("frameshift_pct"),
        (shifted as f64 * 1e4 / coding as f64).round() / 100.0
    );
}

#[test]
fn a_closed_pipe_ends_quietly_with_status_0() {
    // Enough output (over a megabyte) to fill any pipe buffer after the reader has gone.
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.fa");
    let ex = read(&example());
    let mut f = std::fs::File::create(&big).unwrap();
    for _ in 0..60 {
        f.write_all(ex.as_bytes()).unwrap();
    }
    drop(f);
    let mut c = Command::new(env!("CARGO_BIN_EXE_cdspred"))
        .args(["predict", "--threads", "1", big.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(c.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("id\t"));
    // The reader is dropped here, like `head -1` exiting.
    let o = c.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(!err.contains("error"), "{err}");
}
