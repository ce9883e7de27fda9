//! A small MLflow tracking client over MLflow's REST API (no Python needed): create or
//! find an experiment, create a run, log params, metrics and tags in batches, upload
//! artifacts through the server's artifact proxy (`mlflow-artifacts:` runs), and end
//! the run.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// Why a tracking call failed.
#[derive(Debug, thiserror::Error)]
pub enum TrackError {
    /// Transport or HTTP error, with the endpoint.
    #[error("MLflow {endpoint}: {message}")]
    Http { endpoint: String, message: String },
    /// The server answered something unexpected.
    #[error("MLflow {endpoint}: unexpected answer: {message}")]
    Protocol { endpoint: String, message: String },
    /// A local file could not be read.
    #[error("{path}: {message}")]
    Io { path: String, message: String },
}

/// `[{"key", "value"}]`, as MLflow's params and tags.
fn key_values<K: AsRef<str>, V: AsRef<str>>(kv: &[(K, V)]) -> Vec<serde_json::Value> {
    kv.iter()
        .map(|(k, v)| serde_json::json!({"key": k.as_ref(), "value": v.as_ref()}))
        .collect()
}

/// Milliseconds since the epoch, as MLflow wants them.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A connection to one MLflow tracking server.
pub struct Mlflow {
    base: String,
    agent: ureq::Agent,
}

/// One tracked run.
pub struct Run {
    /// The run id.
    pub id: String,
    /// The experiment id.
    pub experiment_id: String,
    /// Where its artifacts go (e.g. `mlflow-artifacts:/1/<id>/artifacts`).
    pub artifact_uri: String,
}

impl Mlflow {
    /// A client for `uri` (e.g. `http://127.0.0.1:5000`).
    pub fn new(uri: &str) -> Mlflow {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(std::time::Duration::from_secs(30)))
            .http_status_as_error(false)
            .build()
            .into();
        Mlflow {
            base: uri.trim_end_matches('/').to_string(),
            agent,
        }
    }

    fn call(
        &self,
        method: &str,
        endpoint: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<(u16, serde_json::Value), TrackError> {
        let url = format!("{}/api/2.0/mlflow/{endpoint}", self.base);
        let err = |message: String| TrackError::Http {
            endpoint: endpoint.to_string(),
            message,
        };
        let resp = match (method, body) {
            ("GET", _) => self.agent.get(&url).call(),
            (_, Some(b)) => self
                .agent
                .post(&url)
                .header("content-type", "application/json")
                .send(b.to_string().as_bytes()),
            (_, None) => self.agent.post(&url).send_empty(),
        }
        .map_err(|e| err(e.to_string()))?;
        let status = resp.status().as_u16();
        let text = resp
            .into_body()
            .read_to_string()
            .map_err(|e| err(e.to_string()))?;
        let v = if text.trim().is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_str(&text).map_err(|_| TrackError::Protocol {
                endpoint: endpoint.to_string(),
                message: text.chars().take(200).collect(),
            })?
        };
        Ok((status, v))
    }

    fn ok(
        &self,
        method: &str,
        endpoint: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<serde_json::Value, TrackError> {
        let (status, v) = self.call(method, endpoint, body)?;
        if status != 200 {
            return Err(TrackError::Http {
                endpoint: endpoint.to_string(),
                message: format!("HTTP {status}: {v}"),
            });
        }
        Ok(v)
    }

    /// The id of the experiment called `name`, created when missing.
    pub fn experiment(&self, name: &str) -> Result<String, TrackError> {
        let q: String = name
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect();
        let (status, v) = self.call(
            "GET",
            &format!("experiments/get-by-name?experiment_name={q}"),
            None,
        )?;
        if status == 200 {
            if let Some(id) = v["experiment"]["experiment_id"].as_str() {
                return Ok(id.to_string());
            }
        }
        let v = self.ok(
            "POST",
            "experiments/create",
            Some(&serde_json::json!({ "name": name })),
        )?;
        v["experiment_id"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| TrackError::Protocol {
                endpoint: "experiments/create".into(),
                message: v.to_string(),
            })
    }

    /// Starts a run in the experiment.
    pub fn create_run(
        &self,
        experiment_id: &str,
        name: &str,
        tags: &[(&str, &str)],
    ) -> Result<Run, TrackError> {
        let tags = key_values(tags);
        let v = self.ok(
            "POST",
            "runs/create",
            Some(&serde_json::json!({
                "experiment_id": experiment_id, "run_name": name,
                "start_time": now_ms(), "tags": tags,
            })),
        )?;
        let info = &v["run"]["info"];
        match (info["run_id"].as_str(), info["artifact_uri"].as_str()) {
            (Some(id), Some(uri)) => Ok(Run {
                id: id.into(),
                experiment_id: experiment_id.into(),
                artifact_uri: uri.into(),
            }),
            _ => Err(TrackError::Protocol {
                endpoint: "runs/create".into(),
                message: v.to_string(),
            }),
        }
    }

    /// Logs params, metrics (`key, value, step`) and tags in one batch.
    pub fn log_batch(
        &self,
        run: &Run,
        params: &[(String, String)],
        metrics: &[(String, f64, i64)],
        tags: &[(String, String)],
    ) -> Result<(), TrackError> {
        let ts = now_ms();
        // MLflow takes at most 100 params and 1000 metrics per batch.
        for chunk in params.chunks(100) {
            let p = key_values(chunk);
            self.ok(
                "POST",
                "runs/log-batch",
                Some(&serde_json::json!({"run_id": run.id, "params": p})),
            )?;
        }
        for chunk in metrics.chunks(1000) {
            let m: Vec<_> = chunk
                .iter()
                .filter(|(_, v, _)| v.is_finite())
                .map(|(k, v, s)| serde_json::json!({"key": k, "value": v, "timestamp": ts, "step": s}))
                .collect();
            self.ok(
                "POST",
                "runs/log-batch",
                Some(&serde_json::json!({"run_id": run.id, "metrics": m})),
            )?;
        }
        if !tags.is_empty() {
            let t = key_values(tags);
            self.ok(
                "POST",
                "runs/log-batch",
                Some(&serde_json::json!({"run_id": run.id, "tags": t})),
            )?;
        }
        Ok(())
    }

    /// Uploads a file as the artifact `artifact_path` (relative, `/`-separated).
    /// Needs a run whose artifact URI is `mlflow-artifacts:` (the server's proxy, the
    /// default of `mlflow server`).
    pub fn log_artifact(
        &self,
        run: &Run,
        file: &Path,
        artifact_path: &str,
    ) -> Result<(), TrackError> {
        let root = run
            .artifact_uri
            .strip_prefix("mlflow-artifacts:")
            .map(|r| match r.strip_prefix("//") {
                // mlflow-artifacts://host:port/path carries a host first.
                Some(hosted) => hosted.split_once('/').map_or("", |(_, p)| p),
                None => r.trim_start_matches('/'),
            })
            .ok_or_else(|| TrackError::Protocol {
                endpoint: "mlflow-artifacts".into(),
                message: format!(
                    "artifact URI {} is not served by the tracking server (start it with --serve-artifacts)",
                    run.artifact_uri
                ),
            })?;
        let bytes = std::fs::read(file).map_err(|e| TrackError::Io {
            path: file.display().to_string(),
            message: e.to_string(),
        })?;
        let url = format!(
            "{}/api/2.0/mlflow-artifacts/artifacts/{}/{}",
            self.base,
            root.trim_end_matches('/'),
            artifact_path
        );
        let resp = self
            .agent
            .put(&url)
            .header("content-type", "application/octet-stream")
            .send(&bytes[..])
            .map_err(|e| TrackError::Http {
                endpoint: "mlflow-artifacts".into(),
                message: e.to_string(),
            })?;
        if resp.status().as_u16() != 200 {
            return Err(TrackError::Http {
                endpoint: "mlflow-artifacts".into(),
                message: format!("HTTP {} for {artifact_path}", resp.status()),
            });
        }
        Ok(())
    }

    /// Uploads every file under `dir` (recursively) below `prefix`.
    pub fn log_artifact_dir(
        &self,
        run: &Run,
        dir: &Path,
        prefix: &str,
    ) -> Result<usize, TrackError> {
        let mut n = 0;
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| TrackError::Io {
                path: dir.display().to_string(),
                message: e.to_string(),
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for p in entries {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let rel = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            if p.is_dir() {
                n += self.log_artifact_dir(run, &p, &rel)?;
            } else {
                self.log_artifact(run, &p, &rel)?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Ends the run (`FINISHED` or `FAILED`).
    pub fn end_run(&self, run: &Run, ok: bool) -> Result<(), TrackError> {
        self.ok(
            "POST",
            "runs/update",
            Some(&serde_json::json!({
                "run_id": run.id, "status": if ok { "FINISHED" } else { "FAILED" },
                "end_time": now_ms(),
            })),
        )?;
        Ok(())
    }
}
