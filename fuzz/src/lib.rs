//! Fuzz harnesses. Each function takes arbitrary bytes and panics only on a bug: the
//! readers must return `Ok` or a typed error (never panic, never loop), and the HTTP
//! API must answer every request with a JSON body and a status below 500.
//!
//! `cargo +nightly fuzz run TARGET` (see scripts/fuzz.sh) drives them with libFuzzer;
//! `tests/corpus.rs` replays the committed corpora and regression inputs on stable in
//! the normal test run.

use std::sync::{Arc, Mutex, OnceLock};

use cdspred_core::fastx::FastxReader;
use cdspred_core::TableId;
use cdspred_model::{Prediction, Predictor, TableContext};

/// Reads every record; checks each is well-formed.
pub fn fastx(data: &[u8]) {
    for rec in FastxReader::new(data, "fuzz").take(1_000_000) {
        match rec {
            Ok(r) => {
                assert!(r.seq().codes().iter().all(|&c| c <= 4), "bad base code");
                assert!(!r.id().contains(char::is_whitespace), "id with whitespace");
            }
            Err(e) => {
                assert_eq!(e.file, "fuzz", "error names the file");
                assert!(!e.to_string().is_empty());
                break;
            }
        }
    }
}

fn check_genome(g: &cdspred_data::Genome) {
    for c in &g.contigs {
        for cds in &c.cds {
            assert!(
                cds.start < cds.end && cds.end <= c.seq.len(),
                "CDS outside its contig accepted"
            );
        }
    }
}

/// The GenBank reader.
pub fn genbank(data: &[u8]) {
    if let Ok(g) = cdspred_data::genbank::parse_genbank(data, "fuzz.gb") {
        check_genome(&g);
    }
}

/// The GFF3 reader (with an embedded `##FASTA` section).
pub fn gff(data: &[u8]) {
    if let Ok(g) = cdspred_data::genome::parse_gff(data, "fuzz.gff", None) {
        check_genome(&g);
    }
}

struct ModelBackend {
    predictor: Predictor,
    tables: Mutex<std::collections::HashMap<TableId, Arc<TableContext>>>,
}

impl cdspred_serve::Backend for ModelBackend {
    fn predict(&self, reads: &[&[u8]], table: TableId, threshold: f32) -> Vec<Prediction> {
        let ctx = self
            .tables
            .lock()
            .expect("not poisoned")
            .entry(table)
            .or_insert_with(|| Arc::new(TableContext::new(table.code())))
            .clone();
        self.predictor.predict_batch(reads, &ctx, threshold, 1)
    }
}

struct Api {
    rt: tokio::runtime::Runtime,
    router: axum::Router,
}

fn api_server() -> &'static Api {
    static API: OnceLock<Api> = OnceLock::new();
    API.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let files = cdspred_model::embedded::default_model().expect("embedded model");
        let info = cdspred_serve::ModelInfo {
            version: files.card.version.clone(),
            card: serde_json::to_value(&files.card).expect("card"),
            config: serde_json::to_value(&files.config).expect("config"),
            min_read_len: files.config.min_len,
        };
        let backend = Arc::new(ModelBackend {
            predictor: Predictor::new(&files),
            tables: Default::default(),
        });
        let config = cdspred_serve::ServeConfig {
            addr: "127.0.0.1:0".parse().expect("addr"),
            data_dir: std::env::temp_dir(),
            max_body_bytes: 1_000_000,
            max_reads: 1000,
            max_read_len: 10_000,
            request_timeout: std::time::Duration::from_secs(30),
            batch: cdspred_serve::BatchConfig {
                enabled: false,
                max_batch_reads: 2048,
                max_wait: std::time::Duration::from_millis(2),
                queue_capacity_reads: 100_000,
            },
            log: cdspred_serve::logstore::LogConfig {
                path: std::env::temp_dir().join("cdspred-fuzz-unused.sqlite"),
                enabled: false,
                retention_rows: 1000,
                retention_days: 1.0,
            },
            auth_token: None,
            drift_interval: std::time::Duration::ZERO,
            drift_window_reads: 1000,
        };
        let router = rt.block_on(async { cdspred_serve::build(config, backend, info, None).0 });
        Api { rt, router }
    })
}

const CONTENT_TYPES: &[&str] = &[
    "application/json",
    "text/x-fasta",
    "text/plain",
    "application/gzip",
    "multipart/form-data; boundary=XyZ",
    "multipart/form-data",
    "",
    "application/json; charset=utf-8",
];

const QUERIES: &[&str] = &[
    "",
    "?table=4",
    "?threshold=0.9",
    "?table=0",
    "?table=abc",
    "?threshold=-1",
    "?table=25&threshold=0.1",
    "?threshold=NaN",
];

/// One request to `/v1/predict`: byte 0 picks the content type, byte 1 the query, the
/// rest is the body. The answer must be JSON, below 500, and an error body when >= 400.
pub fn api(data: &[u8]) {
    use tower::ServiceExt;
    let (ct, q, body) = match data {
        [a, b, rest @ ..] => (
            CONTENT_TYPES[*a as usize % CONTENT_TYPES.len()],
            QUERIES[*b as usize % QUERIES.len()],
            rest.to_vec(),
        ),
        _ => return,
    };
    let api = api_server();
    let mut req = axum::http::Request::builder()
        .method("POST")
        .uri(format!("/v1/predict{q}"));
    if !ct.is_empty() {
        req = req.header("content-type", ct);
    }
    let req = req.body(axum::body::Body::from(body)).expect("request");
    let (status, bytes) = api.rt.block_on(async {
        let resp = api.router.clone().oneshot(req).await.expect("infallible");
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .expect("body");
        (status, bytes)
    });
    assert!(
        status.as_u16() < 500,
        "{status} for {ct:?} {q:?}: {}",
        String::from_utf8_lossy(&bytes)
    );
    let v: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON answer");
    if status.as_u16() >= 400 {
        assert!(v["error"].is_string() && v["error_type"].is_string(), "{v}");
    } else {
        assert!(v["results"].is_array(), "{v}");
    }
}
