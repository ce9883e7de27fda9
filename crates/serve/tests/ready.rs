//! Readiness: the server accepts connections at once and answers `/health/ready` with
//! 503 until its warm-up batch (a real prediction with the embedded model) is done.

use cdspred_core::TableId;
use cdspred_model::embedded::default_model;
use cdspred_model::{Prediction, Predictor, TableContext};
use cdspred_serve::batcher::{Backend, BatchConfig};
use cdspred_serve::logstore::LogConfig;
use cdspred_serve::{ModelInfo, ServeConfig};
use std::io::{Read, Write};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// The embedded model behind a gate: the first batch (the warm-up) waits until the
/// test opens the gate.
struct GatedModel {
    predictor: Predictor,
    open: Mutex<bool>,
    opened: Condvar,
}

impl Backend for GatedModel {
    fn predict(&self, reads: &[&[u8]], table: TableId, threshold: f32) -> Vec<Prediction> {
        let mut open = self.open.lock().unwrap();
        while !*open {
            open = self.opened.wait(open).unwrap();
        }
        let ctx = TableContext::new(table.code());
        self.predictor.predict_batch(reads, &ctx, threshold, 1)
    }
}

impl GatedModel {
    fn open(&self) {
        *self.open.lock().unwrap() = true;
        self.opened.notify_all();
    }
}

/// Opens the gate when dropped, so a failing assertion cannot leave the warm-up (and
/// the runtime's shutdown) waiting forever.
struct OpenOnDrop(Arc<GatedModel>);

impl Drop for OpenOnDrop {
    fn drop(&mut self) {
        self.0.open();
    }
}

/// Status code and body of a GET on loopback.
fn get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut r = String::new();
    s.read_to_string(&mut r).unwrap();
    let code = r.split(' ').nth(1).unwrap().parse().unwrap();
    let body = r.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (code, body)
}

#[test]
fn ready_is_503_until_the_warm_up_batch_is_done() {
    let files = default_model().unwrap();
    let backend = Arc::new(GatedModel {
        predictor: Predictor::new(&files),
        open: Mutex::new(false),
        opened: Condvar::new(),
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let config = ServeConfig {
        addr: "127.0.0.1:0".parse().unwrap(),
        data_dir: std::env::temp_dir(),
        max_body_bytes: 1 << 20,
        max_reads: 100,
        max_read_len: 10_000,
        request_timeout: Duration::from_secs(30),
        batch: BatchConfig {
            enabled: true,
            max_batch_reads: 64,
            max_wait: Duration::from_millis(1),
            queue_capacity_reads: 1000,
        },
        log: LogConfig {
            path: std::env::temp_dir().join("unused.sqlite"),
            enabled: false,
            retention_rows: 0,
            retention_days: 0.0,
        },
        auth_token: None,
        drift_interval: Duration::ZERO,
        drift_window_reads: 0,
    };
    let info = ModelInfo {
        version: files.card.version.clone(),
        card: serde_json::to_value(&files.card).unwrap(),
        config: serde_json::to_value(&files.config).unwrap(),
        min_read_len: files.config.min_len,
    };
    let addr = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (router, state) = cdspred_serve::build(config, backend.clone(), info, None);
        tokio::spawn(cdspred_serve::serve(listener, router, state));
        addr
    });
    let _guard = OpenOnDrop(backend.clone());
    // Warm-up is held at the gate: alive, not ready.
    for _ in 0..3 {
        let (code, body) = get(addr, "/health/ready");
        assert_eq!(code, 503, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["status"], "not_ready", "{body}");
        assert_eq!(v["warmed_up"], false, "{body}");
        assert_eq!(get(addr, "/health/live").0, 200);
        std::thread::sleep(Duration::from_millis(50));
    }
    backend.open();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (code, body) = get(addr, "/health/ready");
        if code == 200 {
            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert_eq!(v["warmed_up"], true, "{body}");
            break;
        }
        assert_eq!(code, 503, "{body}");
        assert!(
            std::time::Instant::now() < deadline,
            "never ready after warm-up"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    rt.shutdown_background();
}
