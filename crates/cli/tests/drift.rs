//! `cdspred drift` on real read sets against the default model's profile.

use std::path::Path;

mod common;
use common::{build_data, cdspred, genome_recipe, shared};

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
        page.contains("<svg") && page.contains("Dataset drift detected") && !page.contains("http")
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
/// length mix: at most one dataset-level alarm (false-alarm rate ≤ 5%).
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
    let mut alarms = 0;
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
        alarms += (r["drift_detected"] == true) as usize;
    }
    assert!(alarms <= 1, "{alarms} false alarms in 20 samples");
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
