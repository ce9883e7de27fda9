//! `cdspred model export --onnx`: the exported graph, run in onnxruntime (PyPI; the
//! test command installs it), gives the same probabilities as cdspred's network to 1e-5 (measured: 4.2e-7)
//! on 1,000 reads of a genome the model never saw, 60–300 nt.

mod common;

use cdspred_core::fastx::FastxReader;
use cdspred_core::GeneticCode;
use cdspred_model::features::FrameInputs;
use cdspred_model::net::{Forward, Model};
use cdspred_model::TableContext;
use common::{cdspred, repo, shared};

#[test]
fn onnx_export_matches_in_onnxruntime() {
    let reads: Vec<Vec<u8>> = FastxReader::open(
        shared()
            .join("data/eval/cdiphtheriae.fasta.gz")
            .to_str()
            .unwrap(),
    )
    .unwrap()
    .take(1000)
    .map(|r| r.unwrap().seq().codes().to_vec())
    .collect();
    assert_eq!(reads.len(), 1000);
    let files = cdspred_model::embedded::default_model().unwrap();
    let clean = files
        .clean
        .as_ref()
        .expect("the default model has a clean expert");
    let pristine = files
        .pristine
        .as_ref()
        .expect("the default model has a pristine expert");
    // The main network, the clean expert (`--clean-expert`) and the pristine one.
    for (extra, weights) in [
        (None, &files.weights),
        (Some("--clean-expert"), clean),
        (Some("--pristine-expert"), pristine),
    ] {
        parity(&reads, extra, weights);
    }
}

fn parity(reads: &[Vec<u8>], extra: Option<&str>, weights: &cdspred_model::Weights) {
    let tmp = tempfile::tempdir().unwrap();
    let onnx = tmp.path().join("model.onnx");
    let mut args = vec!["model", "export", "--onnx", onnx.to_str().unwrap()];
    args.extend(extra);
    let out = cdspred(&args);
    assert!(out.contains("model.onnx"), "{out}");
    let table = TableContext::new(GeneticCode::bacterial());
    let refs: Vec<&[u8]> = reads.iter().map(Vec::as_slice).collect();
    let (ids, l, counts, dense) = cdspred_model::onnx::prepare(&refs, &table, &weights.path());
    let model = Model::new(weights.clone());
    let (mut fi, mut fw) = (FrameInputs::default(), Forward::default());
    let mut probs = Vec::new();
    for r in &refs {
        fi.fill(r, &table, &weights.path());
        model.forward(&fi, &mut fw);
        probs.extend_from_slice(&fw.probs);
    }
    let data = tmp.path().join("data.json");
    std::fs::write(
        &data,
        serde_json::json!({"n": reads.len(), "l": l, "ids": ids, "counts": counts,
            "dense": dense, "probs": probs, "tolerance": 1e-6})
        .to_string(),
    )
    .unwrap();
    let o = std::process::Command::new("python3")
        .arg(repo().join("scripts/onnx_parity.py"))
        .arg(&onnx)
        .arg(&data)
        .output()
        .expect("python3 with onnxruntime (pip install -r scripts/ci-requirements.txt)");
    let text = String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{extra:?}: {text}");
    assert!(text.contains("1000 reads"), "{text}");
    eprintln!("{extra:?}: {text}");
}
