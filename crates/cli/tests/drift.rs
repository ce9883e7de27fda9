//! `cdspred drift` on real read sets against the default model's profile.

use std::path::Path;

mod common;
use common::{build_data, cdspred, genome_recipe, mutate, shared};

fn drift(args: &[&str]) -> serde_json::Value {
    let mut a = vec!["drift", "--format", "json"];
    a.extend_from_slice(args);
    serde_json::from_str(&cdspred(&a)).unwrap()
}

fn drifted(r: &serde_json::Value) -> Vec<String> {
    r["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["drift"] == true)
        .map(|f| f["name"].as_str().unwrap().to_string())
        .collect()
}

fn write_fasta(path: &Path, reads: &[Vec<u8>]) {
    let text: String = reads
        .iter()
        .enumerate()
        .map(|(i, r)| format!(">r{i}\n{}\n", cdspred_core::dna::codes_to_ascii(r)))
        .collect();
    std::fs::write(path, text).unwrap();
}

#[test]
fn code_4_reads_drift_and_code_4_is_suggested() {
    let dir = tempfile::tempdir().unwrap();
    let tt4 = dir.path().join("tt4.fasta");
    let seed = shared().join("data/seed/tt4.csv.gz");
    cdspred(&[
        "data",
        "import-seed",
        seed.to_str().unwrap(),
        "-o",
        tt4.to_str().unwrap(),
    ]);
    let html = dir.path().join("tt4.html");
    let myco = shared().join("data/eval/mhyorhinis.fasta.gz");
    for (reads, html) in [
        (tt4.to_str().unwrap(), Some(&html)),
        (myco.to_str().unwrap(), None),
    ] {
        let mut args = vec!["--current", reads];
        if let Some(h) = html {
            args.extend(["--html", h.to_str().unwrap()]);
        }
        let r = drift(&args);
        assert_eq!(r["drift_detected"], true, "{reads}");
        assert_eq!(r["suggested_table"], 4, "{reads}");
        assert_eq!(r["verdict"], "alarm", "{reads}");
        assert_eq!(r["causes"][0]["cause"], "genetic_code", "{reads}");
        assert_eq!(r["table_in_use"], 11);
        let d = drifted(&r);
        assert!(
            d.contains(&"stop_rate".to_string()) && d.contains(&"codon_usage".to_string()),
            "{d:?}"
        );
        for f in r["features"].as_array().unwrap() {
            for k in ["name", "test", "statistic", "threshold", "drift"] {
                assert!(f.get(k).is_some(), "{k} missing in {f}");
            }
        }
        assert!(r["summary"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s.as_str().unwrap().contains("--table 4")));
    }
    let page = std::fs::read_to_string(html).unwrap();
    assert!(
        page.contains("<svg")
            && page.contains("Verdict: alarm")
            && page.contains("id=\"estimate\"")
            && !page.contains("http")
    );
    // Scored under the right code, the in-frame stop signal shrinks.
    let stat = |r: &serde_json::Value| {
        r["features"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == "stop_rate")
            .unwrap()["current_mean"]
            .as_f64()
            .unwrap()
    };
    let t11 = drift(&["--current", tt4.to_str().unwrap()]);
    let t4 = drift(&["--current", tt4.to_str().unwrap(), "--table", "4"]);
    assert!(
        stat(&t4) < stat(&t11) / 2.0,
        "stop rate under 4: {} vs under 11: {}",
        stat(&t4),
        stat(&t11)
    );
}

/// 20 random samples of 1,000 reads from a training genome (S. suis) with the training
/// length mix: at most one dataset-level distribution drift and no alarm.
#[test]
fn training_genome_samples_raise_no_alarm() {
    let dir = tempfile::tempdir().unwrap();
    let recipe = genome_recipe(
        dir.path(),
        "Streptococcus_suis_SC84.fna.gz",
        "Streptococcus_suis_SC84.pyrodigal_tt11.gff.gz",
        5,
        "[40, 60, 80, 100, 125, 150, 200, 250, 300]",
        14000,
        7000,
    );
    let out = dir.path().join("ds");
    build_data(&recipe, &out);
    let ds = cdspred_data::Dataset::load(&out.join("train.ds")).unwrap();
    let mut rng = cdspred_data::sample::Rng::new(11);
    let (mut alarms, mut drifts) = (0, 0);
    for k in 0..20 {
        let reads: Vec<Vec<u8>> = (0..1000)
            .map(|_| {
                ds.read(&ds.samples[rng.below(ds.samples.len() as u64) as usize])
                    .to_vec()
            })
            .collect();
        let fa = dir.path().join(format!("s{k}.fasta"));
        write_fasta(&fa, &reads);
        let r = drift(&["--current", fa.to_str().unwrap()]);
        assert_eq!(r["suggested_table"], 11);
        drifts += (r["drift_detected"] == true) as usize;
        alarms += (r["verdict"] == "alarm") as usize;
    }
    assert!(drifts <= 1, "{drifts} distribution drifts in 20 samples");
    assert_eq!(
        alarms, 0,
        "{alarms} alarms in 20 samples of a training genome"
    );
}

/// All reads cut to 60 nt: length and the per-read statistics whose spread depends on
/// length move; composition (k-mer spectra, codon usage) does not.
#[test]
fn a_length_shift_flags_only_length_related_features() {
    let dir = tempfile::tempdir().unwrap();
    let recipe = genome_recipe(
        dir.path(),
        "Streptococcus_suis_SC84.fna.gz",
        "Streptococcus_suis_SC84.pyrodigal_tt11.gff.gz",
        6,
        "[300]",
        1000,
        500,
    );
    let out = dir.path().join("ds");
    build_data(&recipe, &out);
    let ds = cdspred_data::Dataset::load(&out.join("train.ds")).unwrap();
    let reads: Vec<Vec<u8>> = ds
        .samples
        .iter()
        .map(|s| ds.read(s)[100..160].to_vec())
        .collect();
    let fa = dir.path().join("short.fasta");
    write_fasta(&fa, &reads);
    let r = drift(&["--current", fa.to_str().unwrap()]);
    let d = drifted(&r);
    assert!(d.contains(&"length".to_string()), "{d:?}");
    let length_related = [
        "length",
        "gc",
        "n_fraction",
        "coding_prob",
        "stop_rate",
        "calls",
        "representation",
    ];
    for f in &d {
        assert!(
            length_related.contains(&f.as_str()),
            "{f} flagged by a length shift: {d:?}"
        );
    }
}

/// Reads of a FASTA/FASTQ file.
fn read_fasta(path: &Path) -> Vec<Vec<u8>> {
    cdspred_core::fastx::FastxReader::open(path.to_str().unwrap())
        .unwrap()
        .map(|r| r.unwrap().seq().codes().to_vec())
        .collect()
}

/// `n` reads drawn without replacement (fixed seed).
fn sample(reads: &[Vec<u8>], n: usize, seed: u64) -> Vec<Vec<u8>> {
    let mut rng = cdspred_data::sample::Rng::new(seed);
    rng.choose((0..reads.len()).collect(), n)
        .into_iter()
        .map(|i| reads[i].clone())
        .collect()
}

fn causes(r: &serde_json::Value) -> Vec<(String, String)> {
    r["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["cause"].as_str().unwrap().to_string(),
                c["level"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The acceptance sets, 10,000 reads each: healthy samples are `ok`; a wrong
/// genetic code, reads with 1% indels and shuffled reads each raise an `alarm` that
/// names the cause.
#[test]
fn healthy_samples_are_ok_and_failures_alarm_naming_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    let eval = shared().join("data/eval");
    let cdiph = read_fasta(&eval.join("cdiphtheriae.fasta.gz"));
    let myco = read_fasta(&eval.join("mhyorhinis.fasta.gz"));
    let indel = dir.path().join("indel1");
    cdspred(&[
        "data",
        "mutate",
        "--profile",
        "indel1",
        "--reads",
        eval.join("cdiphtheriae.fasta.gz").to_str().unwrap(),
        "--truth",
        eval.join("cdiphtheriae.tsv.gz").to_str().unwrap(),
        "--out",
        indel.to_str().unwrap(),
    ]);
    let indel_reads = read_fasta(&dir.path().join("indel1.fasta"));
    // Each read's bases shuffled: composition kept, codon structure gone.
    let mut rng = cdspred_data::sample::Rng::new(5);
    let shuffled: Vec<Vec<u8>> = sample(&cdiph, 10_000, 4)
        .into_iter()
        .map(|mut r| {
            for i in (1..r.len()).rev() {
                r.swap(i, rng.below(i as u64 + 1) as usize);
            }
            r
        })
        .collect();
    let tt4 = dir.path().join("tt4.fasta");
    cdspred(&[
        "data",
        "import-seed",
        shared().join("data/seed/tt4.csv.gz").to_str().unwrap(),
        "-o",
        tt4.to_str().unwrap(),
    ]);
    // (what, reads, genetic code, the cause that must alarm; none: must be ok)
    type Case<'a> = (&'a str, Vec<Vec<u8>>, &'a str, Option<&'a str>);
    let cases: Vec<Case> = vec![
        ("C. diphtheriae", sample(&cdiph, 10_000, 1), "11", None),
        ("M. hyorhinis, code 4", sample(&myco, 10_000, 2), "4", None),
        (
            "M. hyorhinis as 11",
            sample(&myco, 10_000, 2),
            "11",
            Some("genetic_code"),
        ),
        (
            "seed tt4 as 11",
            read_fasta(&tt4),
            "11",
            Some("genetic_code"),
        ),
        (
            "C. diphtheriae, 1% indels",
            sample(&indel_reads, 10_000, 3),
            "11",
            Some("sequencing_errors"),
        ),
        (
            "shuffled C. diphtheriae",
            shuffled,
            "11",
            Some("non_coding"),
        ),
    ];
    for (name, reads, table, cause) in cases {
        let fa = dir.path().join("current.fasta");
        write_fasta(&fa, &reads);
        let r = drift(&["--current", fa.to_str().unwrap(), "--table", table]);
        let c = causes(&r);
        match cause {
            None => assert_eq!(r["verdict"], "ok", "{name}: {c:?} {}", r["summary"]),
            Some(cause) => {
                assert_eq!(r["verdict"], "alarm", "{name}: {c:?}");
                assert!(
                    c.contains(&(cause.to_string(), "alarm".to_string())),
                    "{name}: {cause} should alarm: {c:?}"
                );
            }
        }
    }
}

/// The estimated accuracy (CBPE on calibrated probabilities) lies within ±0.05 of the
/// accuracy `cdspred predict` measurably has, on both development genomes, clean and
/// with each simulated error profile.
#[test]
fn estimated_accuracy_matches_the_measured_accuracy_on_dev_sets() {
    let dir = tempfile::tempdir().unwrap();
    let mut report = Vec::new();
    for (genome, table) in [("cdiphtheriae", "11"), ("mhyorhinis", "4")] {
        for profile in ["none", "sub1", "adna", "indel1", "mixed4"] {
            let prefix = dir.path().join(format!("{genome}_{profile}"));
            // Seed 1, `data mutate`'s default.
            mutate(genome, profile, "1", &prefix);
            let fa = prefix.with_extension("fasta");
            let truth: std::collections::HashMap<String, bool> =
                std::fs::read_to_string(prefix.with_extension("tsv"))
                    .unwrap()
                    .lines()
                    .skip(1)
                    .map(|l| {
                        let f: Vec<&str> = l.split('\t').collect();
                        (f[0].to_string(), f[5] == "1")
                    })
                    .collect();
            let pred = cdspred(&["predict", "-q", "--table", table, fa.to_str().unwrap()]);
            let (mut right, mut n) = (0usize, 0usize);
            for l in pred.lines().skip(1) {
                let f: Vec<&str> = l.split('\t').collect();
                n += 1;
                right += ((f[6] == "coding") == truth[f[0]]) as usize;
            }
            let measured = right as f64 / n as f64;
            let r = drift(&["--current", fa.to_str().unwrap(), "--table", table]);
            let est = r["estimated_performance"]["accuracy"].as_f64().unwrap();
            report.push(format!(
                "{genome} {profile}: estimated {est:.3} measured {measured:.3}"
            ));
            assert!(
                (est - measured).abs() <= 0.05,
                "{genome} {profile}: estimated {est:.3}, measured {measured:.3}\n{}",
                report.join("\n")
            );
        }
    }
    eprintln!("{}", report.join("\n"));
}

/// 20 random samples of 1,000 reads of a healthy set (C. diphtheriae dev reads, a
/// genome the model never saw): at most one alarm.
#[test]
fn a_healthy_set_alarms_at_most_once_in_20_samples() {
    let dir = tempfile::tempdir().unwrap();
    let reads = read_fasta(&shared().join("data/eval/cdiphtheriae.fasta.gz"));
    let mut alarms = Vec::new();
    for k in 0..20u64 {
        let fa = dir.path().join(format!("s{k}.fasta"));
        write_fasta(&fa, &sample(&reads, 1000, 100 + k));
        let r = drift(&["--current", fa.to_str().unwrap()]);
        if r["verdict"] == "alarm" {
            alarms.push(format!("sample {k}: {:?}", causes(&r)));
        }
    }
    assert!(alarms.len() <= 1, "{alarms:?}");
}
