//! Data building, training and evaluation through the real binary, on real genomes
//! from `../shared/data` (fixed seeds, small sizes).

use std::path::Path;
use std::process::Command;

mod common;
use common::{build_data, cdspred, repo, shared, smoke_data};

fn train(run: &Path, extra: &[&str]) -> String {
    let d = smoke_data();
    let mut args = vec![
        "train".to_string(),
        "--config".into(),
        "configs/smoke.toml".into(),
        "--run-dir".into(),
        run.display().to_string(),
        format!("train_data={}", d.join("train.ds").display()),
        format!("val_data={}", d.join("validation.ds").display()),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    cdspred(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

#[test]
fn manifest_records_inputs_outputs_and_counts() {
    let d = smoke_data();
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(
        m["inputs"].as_array().unwrap().len(),
        7,
        "recipe + 3 sources × 2 files"
    );
    assert_eq!(m["outputs"].as_array().unwrap().len(), 2);
    let train = &m["counts"]["train"]["streptococcus_suis"];
    let total: u64 = train
        .as_object()
        .unwrap()
        .values()
        .flat_map(|l| l.as_object().unwrap().values())
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(total, 18_000);
    assert!(
        m["counts"]["validation"]["bamyloliquefaciens_contig"]["noncoding"]["300"]
            .as_u64()
            .unwrap()
            > 0
    );
    // Same recipe, same seed: the same bytes.
    let again = std::env::temp_dir().join(format!("cdspred-smoke-again-{}", std::process::id()));
    build_data(Path::new("data/recipes/smoke.toml"), &again);
    assert_eq!(
        std::fs::read(d.join("train.ds")).unwrap(),
        std::fs::read(again.join("train.ds")).unwrap()
    );
    std::fs::remove_dir_all(again).ok();
}

/// The CI training smoke test: a fixed-seed run must reach gene accuracy ≥ 0.90 and
/// strand+frame accuracy ≥ 0.95 on 300-nt reads of a genome it never saw
/// (C. diphtheriae), and ≥ 0.80 gene accuracy at 150 nt.
#[test]
fn smoke_training_reaches_stated_accuracy_on_a_held_out_genome() {
    let run = tempfile::tempdir().unwrap();
    train(run.path(), &[]);
    for f in [
        "config.json",
        "metrics.jsonl",
        "checkpoint.safetensors",
        "loss.svg",
        "accuracy.svg",
        "best/model.safetensors",
        "roc.svg",
    ] {
        assert!(
            run.path().join(f).exists(),
            "{f} missing from the run directory"
        );
    }
    let e = shared().join("data/eval");
    let json = run.path().join("eval.json");
    cdspred(&[
        "eval",
        "--model",
        run.path().join("best").to_str().unwrap(),
        "--truth",
        e.join("cdiphtheriae.tsv.gz").to_str().unwrap(),
        "--reads",
        e.join("cdiphtheriae.fasta.gz").to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    // Promote the run into a registry: weights, config, card with provenance, profile.
    let registry = run.path().join("registry");
    let (runs, regs) = (
        run.path().to_str().unwrap().to_string(),
        registry.to_str().unwrap().to_string(),
    );
    cdspred(&[
        "model",
        "promote",
        &runs,
        "smoke",
        "--metrics",
        run.path().join("eval.json").to_str().unwrap(),
        "--registry",
        &regs,
    ]);
    for f in [
        "model.safetensors",
        "config.json",
        "card.json",
        "profile.json",
    ] {
        assert!(registry.join("smoke").join(f).exists(), "{f} not promoted");
    }
    let info: serde_json::Value = serde_json::from_str(&cdspred(&[
        "model",
        "info",
        "--model",
        registry.join("smoke").to_str().unwrap(),
    ]))
    .unwrap();
    let card = &info["card"];
    assert_eq!(card["name"], "smoke");
    assert_eq!(card["data_manifest_sha256"].as_str().unwrap().len(), 64);
    assert!(card["training_command"]
        .as_str()
        .unwrap()
        .contains("configs/smoke.toml"));
    assert!(card["metrics"]["read_sets"]["means"]["300"]["gene_acc"].is_number());
    let bytes = std::fs::read(registry.join("smoke/model.safetensors")).unwrap();
    assert_eq!(
        card["weights_sha256"],
        cdspred_model::files::sha256_hex(&bytes)
    );
    assert!(cdspred(&["model", "info"]).contains("\"name\": \"default\""));
    // Promotion calibrated the model on the run's validation reads: temperatures per
    // read length in the config, the fit in the card, the same calls.
    let cal = &info["config"]["calibration"];
    assert_eq!(cal["method"], "temperature", "{cal}");
    let lengths = cal["main"]["lengths"].as_array().unwrap();
    assert!(!lengths.is_empty());
    assert_eq!(
        cal["main"]["temperatures"].as_array().unwrap().len(),
        lengths.len()
    );
    assert!(card["metrics"]["calibration"]["scorers"]["main"].is_array());
    // A config whose calibration is malformed is refused, naming the file.
    let bad = run.path().join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    for f in ["model.safetensors", "card.json"] {
        std::fs::copy(registry.join("smoke").join(f), bad.join(f)).unwrap();
    }
    let mut cfg = info["config"].clone();
    cfg["calibration"]["main"]["temperatures"][0] = serde_json::json!(-1.0);
    std::fs::write(bad.join("config.json"), cfg.to_string()).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cdspred"))
        .args(["model", "info", "--model", bad.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("config.json") && err.contains("calibration.main") && err.contains("outside"),
        "{err}"
    );
    let m300 = &v["read_sets"]["means"]["300"];
    let m150 = &v["read_sets"]["means"]["150"];
    assert!(m300["gene_acc"].as_f64().unwrap() >= 0.90, "{m300}");
    assert!(m300["frame"].as_f64().unwrap() >= 0.95, "{m300}");
    assert!(m150["gene_acc"].as_f64().unwrap() >= 0.80, "{m150}");
}

#[test]
fn same_weights_at_any_thread_count() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    train(a.path(), &["threads=1", "epochs=2", "max_train_reads=4000"]);
    train(b.path(), &["threads=2", "epochs=2", "max_train_reads=4000"]);
    let wa = std::fs::read(a.path().join("best/model.safetensors")).unwrap();
    let wb = std::fs::read(b.path().join("best/model.safetensors")).unwrap();
    assert_eq!(wa, wb);
    // Thread counts that do not divide the batch's 8 chunks evenly.
    for n in [3, 7] {
        let c = tempfile::tempdir().unwrap();
        let threads = format!("threads={n}");
        train(
            c.path(),
            &[threads.as_str(), "epochs=2", "max_train_reads=4000"],
        );
        let wc = std::fs::read(c.path().join("best/model.safetensors")).unwrap();
        assert_eq!(wa, wc, "{n} threads");
    }
}

#[test]
fn interrupted_and_resumed_training_matches_an_uninterrupted_run() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let common = ["epochs=3", "patience=5", "max_train_reads=6000"];
    train(a.path(), &common);
    let mut first = common.to_vec();
    first.push("stop_after_epochs=1");
    train(b.path(), &first);
    assert_eq!(
        std::fs::read_to_string(b.path().join("metrics.jsonl"))
            .unwrap()
            .lines()
            .count(),
        1
    );
    let d = smoke_data();
    cdspred(&[
        "train",
        "--config",
        "configs/smoke.toml",
        "--run-dir",
        b.path().to_str().unwrap(),
        "--resume",
        &format!("train_data={}", d.join("train.ds").display()),
        &format!("val_data={}", d.join("validation.ds").display()),
        "epochs=3",
        "patience=5",
        "max_train_reads=6000",
    ]);
    assert_same_run(a.path(), b.path());
}

#[test]
fn overrides_reject_unknown_keys_with_a_suggestion() {
    let o = Command::new(env!("CARGO_BIN_EXE_cdspred"))
        .current_dir(repo())
        .args(["train", "--config", "configs/smoke.toml", "epoch=3"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("unknown key \"epoch\"") && err.contains("did you mean \"epochs\""),
        "{err}"
    );
}

#[test]
fn builder_reports_bad_input_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let fa = dir.path().join("g.fna");
    std::fs::write(
        &fa,
        ">c1\nACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGT\n",
    )
    .unwrap();
    let gff = dir.path().join("g.gff");
    std::fs::write(&gff, "##gff-version 3\nc1\tx\tCDS\t1\t30\t.\t+\t0\tID=a\nc1\tx\tCDS\t10\t900\t.\t+\t0\tID=b\nc1\tx\tCDS\tone\t9\t.\t+\t0\tID=c\n").unwrap();
    let recipe = dir.path().join("r.toml");
    let write_recipe = |table: u32| {
        std::fs::write(
            &recipe,
            format!(
                "name='t'\nseed=1\nlengths=[30]\n[[source]]\nname='g'\nrole='train'\ntable={table}\nfasta='g.fna'\ngff='g.gff'\ncoding_reads=5\nnoncoding_reads=5\npackage={{registry='x',name='x',version='1',path='x'}}\n"
            ),
        )
        .unwrap();
    };
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_cdspred"))
            .args([
                "data",
                "build",
                "--recipe",
                recipe.to_str().unwrap(),
                "--out",
                dir.path().join("o").to_str().unwrap(),
            ])
            .output()
            .unwrap()
    };
    write_recipe(11);
    let o = run();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("g.gff: line 4: start \"one\" is not a positive integer"),
        "{err}"
    );
    // Fix line 4: the CDS beyond the end is then a counted, reported skip.
    std::fs::write(
        &gff,
        "##gff-version 3\nc1\tx\tCDS\t1\t30\t.\t+\t0\tID=a\nc1\tx\tCDS\t10\t900\t.\t+\t0\tID=b\n",
    )
    .unwrap();
    let o = run();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("o/manifest.json")).unwrap())
            .unwrap();
    assert_eq!(m["skipped"]["g"][0], 1);
    assert!(m["skipped"]["g"][1][0]
        .as_str()
        .unwrap()
        .contains("g.gff:3: feature 10..900 lies beyond the end"));
    write_recipe(7);
    let err = String::from_utf8_lossy(&run().stderr).to_string();
    assert!(err.contains("unknown genetic code 7"), "{err}");
    std::fs::write(&fa, "").unwrap();
    write_recipe(11);
    let err = String::from_utf8_lossy(&run().stderr).to_string();
    assert!(err.contains("g.fna: no sequence found"), "{err}");
}

#[test]
fn run_store_lists_shows_and_compares_runs() {
    let store = tempfile::tempdir().unwrap();
    let (a, b) = (store.path().join("1-lr-a"), store.path().join("2-lr-b"));
    train(&a, &["epochs=1", "max_train_reads=3000", "lr=0.004"]);
    train(&b, &["epochs=1", "max_train_reads=3000", "lr=0.002"]);
    // The run records the data version it trained on.
    let manifest = std::fs::read(smoke_data().join("manifest.json")).unwrap();
    assert_eq!(
        std::fs::read_to_string(a.join("data_manifest_sha256.txt")).unwrap(),
        cdspred_model::files::sha256_hex(&manifest)
    );
    let list = cdspred(&["runs", "list", "--runs-dir", store.path().to_str().unwrap()]);
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 3, "{list}");
    assert!(lines[0].starts_with("run") && lines[0].contains("gene_mcc"));
    assert!(lines[1].starts_with("1-lr-a") && lines[2].starts_with("2-lr-b"));
    let metrics: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(a.join("metrics.jsonl"))
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    let mcc = format!("{:.4}", metrics["val_gene_mcc"].as_f64().unwrap());
    assert!(lines[1].contains(&mcc), "{list} lacks {mcc}");
    let show = cdspred(&["runs", "show", a.to_str().unwrap()]);
    assert!(show.contains("lr") && show.contains("0.004") && show.contains("best epoch 1"));
    let cmp = cdspred(&["runs", "compare", a.to_str().unwrap(), b.to_str().unwrap()]);
    let lr_row = cmp.lines().find(|l| l.starts_with("lr ")).unwrap();
    assert!(
        lr_row.contains("0.004") && lr_row.contains("0.002"),
        "{cmp}"
    );
    assert!(
        !cmp.lines().any(|l| l.starts_with("epochs ")),
        "equal keys are not shown: {cmp}"
    );
    assert!(cmp.contains("val_gene_mcc"));
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_cdspred"))
        .args(["runs", "show", store.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("is not a run directory"));
}

#[test]
fn sweep_halves_trials_and_is_reproducible() {
    let d = smoke_data();
    let dir = tempfile::tempdir().unwrap();
    let sweep = dir.path().join("sweep.toml");
    std::fs::write(
        &sweep,
        r#"
name = "t"
base_config = "configs/smoke.toml"
method = "random"
trials = 4
seed = 7
parallel = 2
overrides = ["max_train_reads=2000", "patience=5"]
halving = { min_epochs = 1, max_epochs = 2, eta = 2 }
[space]
lr = { log_uniform = [0.001, 0.02] }
dim = { choice = [8, 16] }
"#,
    )
    .unwrap();
    let run = |out: &Path| -> serde_json::Value {
        cdspred(&[
            "sweep",
            sweep.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            &format!("train_data={}", d.join("train.ds").display()),
            &format!("val_data={}", d.join("validation.ds").display()),
        ]);
        assert!(out.join("summary.md").exists() && out.join("importance.svg").exists());
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap()
    };
    let a = run(&dir.path().join("a"));
    let trials = a["trials"].as_array().unwrap();
    assert_eq!(trials.len(), 4);
    // Successive halving: two trials got 1 epoch, the better two went on to 2.
    let mut epochs: Vec<u64> = trials
        .iter()
        .map(|t| t["epochs"].as_u64().unwrap())
        .collect();
    epochs.sort();
    assert_eq!(epochs, [1, 1, 2, 2]);
    let loss = |t: &serde_json::Value| t["best"]["val_loss"].as_f64().unwrap();
    let first_epoch_loss = |t: &serde_json::Value| -> f64 {
        let run = Path::new(t["run_dir"].as_str().unwrap());
        let line = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
        let v: serde_json::Value = serde_json::from_str(line.lines().next().unwrap()).unwrap();
        v["val_loss"].as_f64().unwrap()
    };
    let worst_kept = trials
        .iter()
        .filter(|t| t["epochs"] == 2)
        .map(first_epoch_loss)
        .fold(f64::MIN, f64::max);
    let best_dropped = trials
        .iter()
        .filter(|t| t["epochs"] == 1)
        .map(first_epoch_loss)
        .fold(f64::MAX, f64::min);
    assert!(worst_kept <= best_dropped, "the better half went on");
    assert!(trials.iter().all(|t| loss(t).is_finite()));
    // Same sweep file, same trials and results.
    let b = run(&dir.path().join("b"));
    for (x, y) in trials.iter().zip(b["trials"].as_array().unwrap()) {
        assert_eq!(x["params"], y["params"]);
        assert_eq!(x["best"]["val_loss"], y["best"]["val_loss"]);
    }
    assert_eq!(a["importance"].as_array().unwrap().len(), 2);
}

#[test]
fn train_builds_missing_data_from_its_recipe_and_a_failed_run_leaves_no_run() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let runs = dir.path().join("runs");
    let train = |config: &str, run: &str, extra: &[&str]| {
        let mut args = vec![
            "train".to_string(),
            "--config".into(),
            config.into(),
            "--run-dir".into(),
            runs.join(run).display().to_string(),
            format!("train_data={}", data.join("train.ds").display()),
            format!("val_data={}", data.join("validation.ds").display()),
            "epochs=1".into(),
            "max_train_reads=3000".into(),
            "max_val_reads=1000".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        Command::new(env!("CARGO_BIN_EXE_cdspred"))
            .current_dir(repo())
            .args(&args)
            .output()
            .unwrap()
    };
    // A config without a recipe names the exact command and leaves no run behind.
    let bare = dir.path().join("bare.toml");
    let smoke = std::fs::read_to_string(repo().join("configs/smoke.toml")).unwrap();
    let without: String = smoke
        .lines()
        .filter(|l| !l.starts_with("recipe"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(without, smoke, "configs/smoke.toml names its recipe");
    std::fs::write(&bare, without).unwrap();
    let o = train(bare.to_str().unwrap(), "bare", &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("not found: run `cdspred data build --recipe RECIPE --out"),
        "{err}"
    );
    assert!(!runs.join("bare").exists());
    // configs/smoke.toml names data/recipes/smoke.toml: train builds the data first.
    let o = train("configs/smoke.toml", "ok", &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("building them from data/recipes/smoke.toml"),
        "{err}"
    );
    assert!(data.join("manifest.json").is_file());
    assert_eq!(
        std::fs::read(data.join("train.ds")).unwrap(),
        std::fs::read(smoke_data().join("train.ds")).unwrap(),
        "the same bytes as `cdspred data build`"
    );
    // A run that fails inside training before its first epoch (here: validation data
    // that is not a dataset) leaves nothing `runs list` shows.
    let not_data = format!("val_data={}", data.join("manifest.json").display());
    let o = train("configs/smoke.toml", "failed", &[&not_data]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(err.contains("training run"), "{err}");
    assert!(!runs.join("failed").exists());
    let list = cdspred(&["runs", "list", "--runs-dir", runs.to_str().unwrap()]);
    assert_eq!(
        list.lines().count(),
        2,
        "header and the one good run:\n{list}"
    );
    assert!(list.contains("ok") && !list.contains("failed"), "{list}");
}

/// A real SIGKILL in the middle of an epoch, then `--resume`: the run ends with the
/// weights and metrics of an uninterrupted run (the killed epoch runs again from the
/// last checkpoint; lines it had logged past that are dropped).
#[test]
fn sigkilled_mid_epoch_and_resumed_matches_an_uninterrupted_run() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let common = ["epochs=4", "patience=5", "max_train_reads=8000"];
    train(a.path(), &common);
    let d = smoke_data();
    let args = |resume: bool| -> Vec<String> {
        let mut v: Vec<String> = vec![
            "train".into(),
            "--config".into(),
            "configs/smoke.toml".into(),
            "--run-dir".into(),
            b.path().display().to_string(),
        ];
        if resume {
            v.push("--resume".into());
        }
        v.push(format!("train_data={}", d.join("train.ds").display()));
        v.push(format!("val_data={}", d.join("validation.ds").display()));
        v.extend(common.iter().map(|s| s.to_string()));
        v
    };
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cdspred"))
        .args(args(false))
        .current_dir(repo())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait for the first epoch, then kill half an epoch into the second.
    let metrics = b.path().join("metrics.jsonl");
    let mut first: Option<serde_json::Value> = None;
    for _ in 0..6000 {
        if let Some(l) = std::fs::read_to_string(&metrics)
            .ok()
            .and_then(|t| t.lines().next().map(String::from))
        {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&l) {
                first = Some(v);
                break;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let first = first.expect("the first epoch was logged");
    let half = first["seconds"].as_f64().unwrap() / 2.0;
    std::thread::sleep(std::time::Duration::from_secs_f64(half));
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success(), "the run finished before the kill");
    let logged = std::fs::read_to_string(&metrics).unwrap().lines().count();
    assert!(logged < 4, "killed after {logged} epochs");
    let resume = args(true);
    cdspred(&resume.iter().map(String::as_str).collect::<Vec<_>>());
    assert_same_run(a.path(), b.path());
}

/// Two runs logged the same epochs (timings aside) and kept the same best weights.
fn assert_same_run(a: &Path, b: &Path) {
    let strip = |p: &Path| -> Vec<String> {
        std::fs::read_to_string(p.join("metrics.jsonl"))
            .unwrap()
            .lines()
            .map(|l| {
                let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
                v.as_object_mut().unwrap().remove("seconds");
                v.to_string()
            })
            .collect()
    };
    assert_eq!(strip(a), strip(b));
    assert_eq!(
        std::fs::read(a.join("best/model.safetensors")).unwrap(),
        std::fs::read(b.join("best/model.safetensors")).unwrap()
    );
    // The last checkpoints too, byte for byte (weights, optimiser state, metadata).
    assert!(
        std::fs::read(a.join("checkpoint.safetensors")).unwrap()
            == std::fs::read(b.join("checkpoint.safetensors")).unwrap(),
        "checkpoints differ"
    );
}
