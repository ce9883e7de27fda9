//! Reads with sequencing errors, through the real binary and the embedded model:
//! frameshift reporting, the `--errors` hint, and `cdspred data mutate`.

mod common;

use std::path::Path;
use std::process::Command;

use common::{cdspred, mutate, shared};

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
    // The config is an empty file of the test's own: /dev/null is not always empty
    // (a CI machine once had it as a regular file holding a shell's output).
    let dir = tempfile::tempdir().unwrap();
    let run_dir = dir.path().join("run");
    let config = dir.path().join("empty.toml");
    std::fs::write(&config, "").unwrap();
    let o = bin()
        .args([
            "train",
            "--config",
            config.to_str().unwrap(),
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
        std::fs::write(&all, of("60", 700) + &of("300", 1200)).unwrap();
        std::fs::write(&short, of("60", 700)).unwrap();
        std::fs::write(&mid, of("150", 4000)).unwrap();
        (all, short, mid)
    };
    for (profile, verdict, same_as, not_as) in [
        (
            "none",
            "no sign of errors: told 0, error-free (pristine expert)",
            "none",
            "sub1",
        ),
        // Substitutions make stops in coding frames: the clean expert, which
        // tolerates them, scores such reads.
        (
            "sub1",
            "no sign of indels: told 0 (clean expert)",
            "sub1",
            "none",
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
        // indel-laden nor error-free: clean ones go to the clean expert, those with
        // indels are told nothing.
        let (auto, log) = predict_logged(&mid, &[]);
        let (verdict, same_as) = match profile {
            "none" | "sub1" => ("no sign of indels: told 0 (clean expert)", "sub1"),
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

/// `cdspred eval --json` gene MCC of one set at one length.
fn eval_mcc(dir: &Path, set: &Path, extra: &[&str], length: u64) -> f64 {
    eval_group(dir, set, extra, length)["gene"]["mcc"]
        .as_f64()
        .unwrap()
}

/// `cdspred eval --json` figures of one set at one length.
fn eval_group(dir: &Path, set: &Path, extra: &[&str], length: u64) -> serde_json::Value {
    let json = dir.join("eval.json");
    let (truth, reads) = (set.with_extension("tsv"), set.with_extension("fasta"));
    let mut args = vec![
        "eval",
        "--truth",
        truth.to_str().unwrap(),
        "--reads",
        reads.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    cdspred(&args);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    v["read_sets"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["length"].as_u64() == Some(length))
        .unwrap()
        .clone()
}

/// The `--stats` file of a run that self-trained, on at least `coding` teaching reads.
fn assert_self_trained(stats: &Path, coding: u64) {
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(stats).unwrap()).unwrap();
    let errors = &s["cdspred"]["run"]["errors"];
    assert_eq!(errors["self_trained"], true, "{errors}");
    let taught = errors["self_training"]["coding_reads"].as_u64().unwrap();
    assert!(taught >= coding, "{errors}");
}

/// Self-training: a dev read set with 1% indels teaches the chains of its own genome
/// (C. diphtheriae, never trained on), which lift gene MCC at 300 and 150 nt well above
/// the network alone (measured 0.725 → 0.804 and 0.588 → 0.723); it does so by default
/// (`auto`: 1,000 confidently coding reads; the set holds about 3,200); a sample with
/// fewer self-trains only when asked (`on`: 300); clean reads (surveyed clean) change
/// under 150 nt only; output does not depend on the thread count; the run's stats say what it
/// learnt from.
#[test]
fn self_training_lifts_reads_with_indels_and_short_clean_reads() {
    let dir = tempfile::tempdir().unwrap();
    let indel = dir.path().join("indel1");
    mutate("cdiphtheriae", "indel1", "1", &indel);
    let off = ["--self-train", "off"];
    let (base300, base150) = (
        eval_mcc(dir.path(), &indel, &off, 300),
        eval_mcc(dir.path(), &indel, &off, 150),
    );
    let (st300, st150) = (
        eval_mcc(dir.path(), &indel, &["--self-train", "on"], 300),
        eval_mcc(dir.path(), &indel, &["--self-train", "on"], 150),
    );
    assert_eq!(eval_mcc(dir.path(), &indel, &[], 300), st300);
    assert!(st300 > base300 + 0.04, "300 nt: {base300} -> {st300}");
    assert!(st150 > base150 + 0.05, "150 nt: {base150} -> {st150}");
    // The chains help pick the frame on their strand: strand+frame at 300 nt measured
    // 0.786 (0.765 with the chains' best path's start frame as a bonus, the rule
    // before; 0.746 with the network's frame alone).
    let frame = eval_group(dir.path(), &indel, &[], 300)["frame_accuracy"]
        .as_f64()
        .unwrap();
    assert!(frame > 0.776, "strand+frame at 300 nt: {frame}");
    // predict agrees with eval's self-training and is thread-count independent.
    let fasta = indel.with_extension("fasta");
    let stats = dir.path().join("stats.json");
    let one = cdspred(&[
        "predict",
        fasta.to_str().unwrap(),
        "--self-train",
        "on",
        "--threads",
        "1",
        "--stats",
        stats.to_str().unwrap(),
    ]);
    let three = cdspred(&[
        "predict",
        fasta.to_str().unwrap(),
        "--self-train",
        "on",
        "--threads",
        "3",
    ]);
    assert_eq!(one, three);
    let plain = cdspred(&["predict", fasta.to_str().unwrap()]);
    assert_eq!(one, plain);
    assert_ne!(
        plain,
        cdspred(&["predict", fasta.to_str().unwrap(), "--self-train", "off"])
    );
    assert_self_trained(&stats, 1000);
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
    assert_eq!(
        s["cdspred"]["run"]["errors"]["self_training"]["joins"],
        "every read"
    );
    let text = std::fs::read_to_string(&fasta).unwrap();
    let long: String = text
        .split('>')
        .skip(1)
        .filter(|r| r.lines().nth(1).is_some_and(|s| s.len() >= 250))
        .map(|r| format!(">{r}"))
        .collect();
    // A small sample (1,200 of the 300-nt reads, about 490 confidently coding)
    // self-trains when asked, not by default.
    let small = dir.path().join("small.fa");
    let first: String = long.split_inclusive('\n').take(2 * 1200).collect();
    std::fs::write(&small, first).unwrap();
    let small_stats = |mode: &str| {
        let stats = dir.path().join(format!("small_{mode}.json"));
        cdspred(&[
            "predict",
            small.to_str().unwrap(),
            "--self-train",
            mode,
            "--stats",
            stats.to_str().unwrap(),
        ]);
        let s: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(stats).unwrap()).unwrap();
        s["cdspred"]["run"]["errors"].clone()
    };
    let (auto, on) = (small_stats("auto"), small_stats("on"));
    assert_eq!(auto["self_trained"], false, "{auto}");
    assert_eq!(on["self_trained"], true, "{on}");
    let taught = on["self_training"]["coding_reads"].as_u64().unwrap();
    assert!((300..1000).contains(&taught), "{on}");
    // Clean reads go to the pristine expert; the chains join its reads under 150 nt
    // only (measured: 60 nt 0.475 -> 0.601, 100 nt 0.664 -> 0.743), and 150- and
    // 300-nt reads score as without self-training.
    let clean = dir.path().join("none");
    mutate("cdiphtheriae", "none", "1", &clean);
    for length in [150, 300] {
        assert_eq!(
            eval_mcc(dir.path(), &clean, &off, length),
            eval_mcc(dir.path(), &clean, &[], length)
        );
    }
    for (length, gain) in [(60, 0.08), (100, 0.05)] {
        let (before, after) = (
            eval_mcc(dir.path(), &clean, &off, length),
            eval_mcc(dir.path(), &clean, &[], length),
        );
        assert!(
            after > before + gain,
            "clean {length} nt: {before} -> {after}"
        );
    }
    // Their strand and frame take the chains' evidence too (strand+frame at 60 nt
    // measured 0.748 -> 0.836, 2026-12-02; 0.831 with the best path's start frame as a
    // bonus).
    let frame = |extra: &[&str]| {
        eval_group(dir.path(), &clean, extra, 60)["frame_accuracy"]
            .as_f64()
            .unwrap()
    };
    let (before, after) = (frame(&off), frame(&[]));
    assert!(
        after > before + 0.03,
        "strand+frame at 60 nt: {before} -> {after}"
    );
}

/// A sample of short clean reads alone (60 and 100 nt, as ancient DNA is): the survey
/// cannot tell (no read of 120 nt or more), the main network scores them told nothing,
/// and the sample's chains, taught by its own reads of 60 nt and more, join them —
/// gene MCC lifts at both lengths (measured 0.458 -> 0.539 at 60 nt and 0.625 ->
/// 0.687 at 100 nt); the same output in any thread count.
#[test]
fn short_clean_reads_alone_self_train() {
    let dir = tempfile::tempdir().unwrap();
    let clean = dir.path().join("none");
    mutate("cdiphtheriae", "none", "1", &clean);
    let short = dir.path().join("short");
    let keep = |l: &str| {
        l.split('\t')
            .nth(3)
            .is_some_and(|n| n == "60" || n == "100")
    };
    let tsv = std::fs::read_to_string(clean.with_extension("tsv")).unwrap();
    let mut lines = tsv.lines();
    let mut truth = format!("{}\n", lines.next().unwrap());
    let mut ids = std::collections::HashSet::new();
    for l in lines.filter(|l| keep(l)) {
        ids.insert(l.split('\t').next().unwrap().to_string());
        truth.push_str(l);
        truth.push('\n');
    }
    std::fs::write(short.with_extension("tsv"), truth).unwrap();
    let fasta = std::fs::read_to_string(clean.with_extension("fasta")).unwrap();
    let reads: String = fasta
        .split('>')
        .skip(1)
        .filter(|r| ids.contains(r.lines().next().unwrap().split_whitespace().next().unwrap()))
        .map(|r| format!(">{r}"))
        .collect();
    assert_eq!(reads.matches('>').count(), 8000);
    let fa = short.with_extension("fasta");
    std::fs::write(&fa, reads).unwrap();
    let off = ["--self-train", "off"];
    for (length, gain) in [(60, 0.05), (100, 0.04)] {
        let (before, after) = (
            eval_mcc(dir.path(), &short, &off, length),
            eval_mcc(dir.path(), &short, &[], length),
        );
        assert!(after > before + gain, "{length} nt: {before} -> {after}");
    }
    let stats = dir.path().join("stats.json");
    let one = cdspred(&[
        "predict",
        fa.to_str().unwrap(),
        "--threads",
        "1",
        "--stats",
        stats.to_str().unwrap(),
    ]);
    assert_eq!(
        one,
        cdspred(&["predict", fa.to_str().unwrap(), "--threads", "3"])
    );
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
    let errors = &s["cdspred"]["run"]["errors"];
    assert_eq!(errors["survey"], "unknown", "{errors}");
    assert_eq!(errors["self_training"]["joins"], "reads under 150 nt");
    assert_self_trained(&stats, 1000);
    // Strand consistency holds with the chains: the file's reverse complement teaches
    // the same chains, and each read gets the same coding_prob and frame, strand
    // mirrored.
    let rc: String = std::fs::read_to_string(&fa)
        .unwrap()
        .lines()
        .map(|l| {
            if l.starts_with('>') {
                format!("{l}\n")
            } else {
                let seq = cdspred_core::dna::DnaSeq::from_ascii(l.as_bytes()).unwrap();
                format!("{}\n", seq.reverse_complement().to_ascii())
            }
        })
        .collect();
    let rc_fa = dir.path().join("short_rc.fasta");
    std::fs::write(&rc_fa, rc).unwrap();
    let mirrored = cdspred(&["predict", rc_fa.to_str().unwrap()]);
    let rows = |t: &str| -> Vec<Vec<String>> {
        t.lines()
            .skip(1)
            .map(|l| l.split('\t').map(String::from).collect())
            .collect()
    };
    let (a, b) = (rows(&one), rows(&mirrored));
    assert_eq!(a.len(), 8000);
    for (x, y) in a.iter().zip(&b) {
        // id, length, coding_prob, sense_prob, strand, frame
        assert_eq!(
            (&x[0], &x[2], &x[5]),
            (&y[0], &y[2], &y[5]),
            "{x:?} vs {y:?}"
        );
        let flip = if x[4] == "+" { "-" } else { "+" };
        assert_eq!(y[4], flip, "{x:?} vs {y:?}");
    }
}
