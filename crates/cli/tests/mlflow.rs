//! Tracking against a real MLflow server (`mlflow server` from PyPI, on loopback; the
//! test command installs it): a smoke training run sends params, per-epoch metrics,
//! provenance tags and artifacts, and the test reads them back over MLflow's REST API.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{cdspred, repo, smoke_data};

struct MlflowServer {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for MlflowServer {
    fn drop(&mut self) {
        let _ = Command::new("pkill")
            .args(["-TERM", "-P", &self.child.id().to_string()])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_mlflow() -> MlflowServer {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("mlflow")
        .args(["server", "--host", "127.0.0.1", "--port", &port.to_string()])
        .arg("--backend-store-uri")
        .arg(format!(
            "sqlite:///{}",
            dir.path().join("mlflow.db").display()
        ))
        .arg("--artifacts-destination")
        .arg(dir.path().join("artifacts"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the `mlflow` command (pip install -r scripts/ci-requirements.txt)");
    let url = format!("http://127.0.0.1:{port}");
    let s = MlflowServer {
        child,
        url,
        _dir: dir,
    };
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(180) {
        if ureq::get(format!("{}/health", s.url)).call().is_ok() {
            return s;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    panic!("mlflow server did not start");
}

fn post(url: &str, body: serde_json::Value) -> serde_json::Value {
    let text = ureq::post(url)
        .header("content-type", "application/json")
        .send(body.to_string().as_bytes())
        .unwrap()
        .into_body()
        .read_to_string()
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn get(url: &str) -> Vec<u8> {
    ureq::get(url)
        .call()
        .unwrap()
        .into_body()
        .read_to_vec()
        .unwrap()
}

#[test]
fn training_is_tracked_on_a_real_mlflow_server() {
    let work = tempfile::tempdir().unwrap();
    let data = smoke_data();
    let server = start_mlflow();
    let run_dir = work.path().join("run");
    let out = cdspred(&[
        "train",
        "--config",
        "configs/smoke.toml",
        "--run-dir",
        run_dir.to_str().unwrap(),
        "--mlflow",
        &server.url,
        "--mlflow-experiment",
        "ci-smoke",
        &format!("train_data={}", data.join("train.ds").display()),
        &format!("val_data={}", data.join("validation.ds").display()),
        "epochs=2",
        "patience=5",
        "max_train_reads=3000",
        "lr=0.004",
    ]);
    let run_id = out
        .lines()
        .find_map(|l| l.strip_prefix("MLflow run "))
        .expect("the run id is printed")
        .to_string();
    let api = format!("{}/api/2.0/mlflow", server.url);
    let v: serde_json::Value = serde_json::from_slice(&get(&format!(
        "{api}/experiments/get-by-name?experiment_name=ci-smoke"
    )))
    .unwrap();
    let exp = v["experiment"]["experiment_id"]
        .as_str()
        .unwrap()
        .to_string();
    let runs = post(
        &format!("{api}/runs/search"),
        serde_json::json!({"experiment_ids": [exp]}),
    );
    let run = &runs["runs"][0];
    assert_eq!(run["info"]["run_id"], run_id.as_str());
    assert_eq!(run["info"]["status"], "FINISHED");
    let kv = |list: &serde_json::Value, key: &str| -> Option<String> {
        list.as_array()?
            .iter()
            .find(|p| p["key"] == key)
            .and_then(|p| p["value"].as_str().map(str::to_string))
    };
    // Params: the resolved config.
    assert_eq!(kv(&run["data"]["params"], "lr").as_deref(), Some("0.004"));
    assert_eq!(kv(&run["data"]["params"], "epochs").as_deref(), Some("2"));
    // Tags: provenance, equal to what the run directory records.
    let read = |f: &str| std::fs::read_to_string(run_dir.join(f)).unwrap();
    assert_eq!(
        kv(&run["data"]["tags"], "data_manifest_sha256"),
        Some(read("data_manifest_sha256.txt"))
    );
    assert!(kv(&run["data"]["tags"], "git_commit").is_some());
    // Per-epoch metrics, step = epoch, equal to metrics.jsonl.
    let hist: serde_json::Value = serde_json::from_slice(&get(&format!(
        "{api}/metrics/get-history?run_id={run_id}&metric_key=val_loss"
    )))
    .unwrap();
    let logged: Vec<(i64, f64)> = hist["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["step"].as_i64().unwrap(), m["value"].as_f64().unwrap()))
        .collect();
    let local: Vec<(i64, f64)> = read("metrics.jsonl")
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["epoch"].as_i64().unwrap(),
                v["val_loss"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(logged.len(), 2);
    for ((s1, v1), (s2, v2)) in logged.iter().zip(&local) {
        assert_eq!(s1, s2);
        assert!((v1 - v2).abs() < 1e-9);
    }
    // Artifacts: the model directory (byte-identical weights) and the plots.
    let list: serde_json::Value = serde_json::from_slice(&get(&format!(
        "{api}/artifacts/list?run_id={run_id}&path=model"
    )))
    .unwrap();
    let files: Vec<&str> = list["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert!(files.contains(&"model/model.safetensors"), "{files:?}");
    assert!(files.contains(&"model/card.json"), "{files:?}");
    let weights = get(&format!(
        "{}/get-artifact?path=model/model.safetensors&run_id={run_id}",
        server.url
    ));
    assert_eq!(
        weights,
        std::fs::read(run_dir.join("best/model.safetensors")).unwrap()
    );
    let plots: serde_json::Value = serde_json::from_slice(&get(&format!(
        "{api}/artifacts/list?run_id={run_id}&path=plots"
    )))
    .unwrap();
    assert!(plots["files"].as_array().unwrap().len() >= 4, "{plots}");
}

#[test]
fn an_unreachable_tracking_server_fails_before_training() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let run = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_cdspred"))
        .current_dir(repo())
        .args(["train", "--config", "configs/smoke.toml", "--run-dir"])
        .arg(run.path())
        .args(["--mlflow", &format!("http://127.0.0.1:{port}")])
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
    assert!(
        !run.path().join("metrics.jsonl").exists(),
        "no training ran"
    );
}

/// The tracking server dies after the first epoch is tracked: training goes on to the
/// end and succeeds, with a warning, and the run directory holds every epoch.
#[test]
fn a_tracking_server_failing_mid_training_does_not_stop_training() {
    let work = tempfile::tempdir().unwrap();
    let data = smoke_data();
    let server = start_mlflow();
    let url = server.url.clone();
    let run_dir = work.path().join("run");
    let epochs = 8;
    let child = Command::new(env!("CARGO_BIN_EXE_cdspred"))
        .current_dir(repo())
        .args(["train", "--config", "configs/smoke.toml", "--run-dir"])
        .arg(&run_dir)
        .args(["--mlflow", &url, "--mlflow-experiment", "ci-dies"])
        .arg(format!("train_data={}", data.join("train.ds").display()))
        .arg(format!("val_data={}", data.join("validation.ds").display()))
        .args([&format!("epochs={epochs}"), "patience=100", "threads=1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until MLflow holds the first epoch's metrics, then stop the server.
    let api = format!("{url}/api/2.0/mlflow");
    let t0 = Instant::now();
    let tracked = loop {
        let runs = ureq::get(format!(
            "{api}/experiments/get-by-name?experiment_name=ci-dies"
        ))
        .call()
        .ok()
        .and_then(|r| r.into_body().read_to_string().ok())
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| {
            v["experiment"]["experiment_id"]
                .as_str()
                .map(str::to_string)
        })
        .map(|exp| {
            post(
                &format!("{api}/runs/search"),
                serde_json::json!({"experiment_ids": [exp]}),
            )
        });
        let n = runs
            .as_ref()
            .and_then(|r| r["runs"][0]["data"]["metrics"].as_array().map(Vec::len))
            .unwrap_or(0);
        if n > 0 {
            break runs.unwrap()["runs"][0]["info"]["run_id"].clone();
        }
        assert!(
            t0.elapsed() < Duration::from_secs(300),
            "no epoch was tracked"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    drop(server);
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "training stopped: {err}");
    assert!(
        err.contains("MLflow tracking failed; training goes on"),
        "the server died while training ran, so a send failed: {err}"
    );
    assert!(err.contains("the run directory is complete"), "{err}");
    let metrics = std::fs::read_to_string(run_dir.join("metrics.jsonl")).unwrap();
    assert_eq!(metrics.lines().count(), epochs, "{metrics}");
    assert!(run_dir.join("best/model.safetensors").exists());
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("best epoch"), "{out}");
    assert!(!out.contains(&format!("MLflow run {}", tracked.as_str().unwrap())));
}
