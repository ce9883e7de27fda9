//! The real server (the `cdspred serve` binary on port 0) over real HTTP.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Server {
    child: Child,
    addr: String,
    data: tempfile::TempDir,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        let data = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cdspred"));
        cmd.args(["serve", "--addr", "127.0.0.1:0"]).args(args);
        if !args.contains(&"--data-dir") {
            cmd.arg("--data-dir").arg(data.path().join("d"));
        }
        let (child, addr) = spawn(cmd.stderr(Stdio::null()));
        let s = Server { child, addr, data };
        // Wait until ready: the warm-up batch has run, which takes up to the batch
        // wait (--max-wait-ms) while /health/ready answers 503.
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while std::time::Instant::now() < deadline {
            if s.get("/health/ready").0 == 200 {
                return s;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("server never became ready");
    }

    fn db(&self) -> PathBuf {
        self.data.path().join("d/input_log.sqlite")
    }

    /// The read ids in the input log, sorted.
    fn logged_read_ids(&self) -> Vec<String> {
        rusqlite::Connection::open(self.db())
            .unwrap()
            .prepare("SELECT read_id FROM reads ORDER BY read_id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect()
    }

    /// Waits (up to 4 s) until the input log has written at least `n` requests;
    /// returns the count it last saw.
    fn wait_written(&self, n: u64) -> u64 {
        let mut written = 0;
        for _ in 0..200 {
            let v: serde_json::Value =
                serde_json::from_slice(&self.get("/health/ready").2).unwrap();
            written = v["input_log"]["requests_written"].as_u64().unwrap();
            if written >= n {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        written
    }

    fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> (u16, Vec<(String, String)>, Vec<u8>) {
        http(&self.addr, method, path, headers, body)
    }

    fn get(&self, path: &str) -> (u16, Vec<(String, String)>, Vec<u8>) {
        self.request("GET", path, &[], b"")
    }

    fn post_json(&self, path: &str, v: &serde_json::Value) -> (u16, serde_json::Value) {
        let (s, _, b) = self.request(
            "POST",
            path,
            &[("content-type", "application/json")],
            v.to_string().as_bytes(),
        );
        (
            s,
            serde_json::from_slice(&b)
                .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&b))),
        )
    }
}

/// Spawns a `cdspred serve` command (stdout piped) and reads the address from its
/// first line, `listening on http://ADDR`.
fn spawn(cmd: &mut Command) -> (Child, String) {
    let mut child = cmd.stdout(Stdio::piped()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected: {line}"))
        .to_string();
    (child, addr)
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req += &format!("{k}: {v}\r\n");
    }
    req += "\r\n";
    s.write_all(req.as_bytes()).unwrap();
    let _ = s.write_all(body);
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a full HTTP response");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let hdrs: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if hdrs
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"))
    {
        body = dechunk(&body);
    }
    (status, hdrs, body)
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let nl = b.windows(2).position(|w| w == b"\r\n").unwrap();
        let n = usize::from_str_radix(std::str::from_utf8(&b[..nl]).unwrap().trim(), 16).unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&b[nl + 2..nl + 2 + n]);
        b = &b[nl + 4 + n..];
    }
}

fn header<'a>(h: &'a [(String, String)], k: &str) -> Option<&'a str> {
    h.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
}

fn example() -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/reads.fasta")).unwrap()
}

fn assert_error(status: u16, body: &serde_json::Value, want_status: u16, kind: &str) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["error_type"], kind, "{body}");
    assert!(
        body["error"].is_string() && body.get("detail").is_some() && body["request_id"].is_string(),
        "{body}"
    );
}

#[test]
fn probes_info_config_openapi_and_pages() {
    let s = Server::start(&[]);
    assert_eq!(s.get("/health/live").0, 200);
    let (st, _, b) = s.get("/health/ready");
    let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(
        (st, v["warmed_up"].as_bool(), v["input_log"]["ok"].as_bool()),
        (200, Some(true), Some(true))
    );
    let (_, _, b) = s.get("/v1/info");
    let info: serde_json::Value = serde_json::from_slice(&b).unwrap();
    assert!(info["model_version"]
        .as_str()
        .unwrap()
        .starts_with("default"));
    let codes: Vec<u64> = info["genetic_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_u64().unwrap())
        .collect();
    for t in [4, 11, 15, 25] {
        assert!(codes.contains(&t));
    }
    let (_, _, b) = s.get("/v1/config");
    let cfg: serde_json::Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(cfg["max_body_bytes"], 10_000_000);
    let (_, h, b) = s.get("/openapi.json");
    assert!(header(&h, "content-type")
        .unwrap()
        .starts_with("application/json"));
    let doc: serde_json::Value = serde_json::from_slice(&b).unwrap();
    for p in [
        "/v1/predict",
        "/v1/info",
        "/v1/config",
        "/health/ready",
        "/health/live",
        "/metrics",
    ] {
        assert!(
            doc["paths"].get(p).is_some(),
            "{p} missing from the OpenAPI document"
        );
    }
    let (_, _, page) = s.get("/");
    let page = String::from_utf8(page).unwrap();
    assert!(
        page.contains("<title>cds-predictor</title>")
            && !page.contains("http://")
            && !page.contains("https://"),
        "no external assets"
    );
    let (_, _, docs) = s.get("/docs");
    assert!(String::from_utf8(docs).unwrap().contains("/openapi.json"));
    let (st, h, b) = s.get("/no/such/route");
    assert_eq!(st, 404);
    let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(v["request_id"], header(&h, "x-request-id").unwrap());
}

#[test]
fn json_fasta_gzip_and_multipart_agree_with_the_cli() {
    let s = Server::start(&[]);
    let fasta = example();
    // The CLI's TSV for the same reads.
    let cli = Command::new(env!("CARGO_BIN_EXE_cdspred"))
        .arg("predict")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/reads.fasta"))
        .output()
        .unwrap();
    let tsv = String::from_utf8(cli.stdout).unwrap();
    let cli_rows: Vec<Vec<String>> = tsv
        .lines()
        .skip(1)
        .map(|l| l.split('\t').map(String::from).collect())
        .collect();

    let (st, _, b) = s.request(
        "POST",
        "/v1/predict",
        &[("content-type", "text/plain")],
        &fasta,
    );
    assert_eq!(st, 200, "{}", String::from_utf8_lossy(&b));
    let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
    let res = v["results"].as_array().unwrap();
    assert_eq!(res.len(), 400);
    for (r, c) in res.iter().zip(&cli_rows) {
        assert_eq!(r["id"], c[0].as_str());
        assert_eq!(format!("{:.4}", r["coding_prob"].as_f64().unwrap()), c[2]);
        assert_eq!(r["strand"], c[4].as_str());
        assert_eq!(r["frame"].to_string(), c[5]);
        assert_eq!(r["call"], c[6].as_str());
        let features: Vec<&str> = r["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap())
            .collect();
        assert_eq!(features.join(","), if c[8] == "." { "" } else { &c[8] });
        assert_eq!(r["protein"].is_string(), c[6] == "coding");
    }

    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&fasta).unwrap();
    let (st, _, b2) = s.request(
        "POST",
        "/v1/predict",
        &[("content-type", "application/octet-stream")],
        &gz.finish().unwrap(),
    );
    assert_eq!(st, 200);
    let v2: serde_json::Value = serde_json::from_slice(&b2).unwrap();
    assert_eq!(v2["results"], v["results"]);

    let boundary = "XyZzy42";
    let mut mp = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"table\"\r\n\r\n11\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"reads.fasta\"\r\nContent-Type: text/plain\r\n\r\n").into_bytes();
    mp.extend_from_slice(&fasta);
    mp.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let ct = format!("multipart/form-data; boundary={boundary}");
    let (st, _, b3) = s.request("POST", "/v1/predict", &[("content-type", &ct)], &mp);
    assert_eq!(st, 200, "{}", String::from_utf8_lossy(&b3));
    let v3: serde_json::Value = serde_json::from_slice(&b3).unwrap();
    assert_eq!(v3["results"], v["results"]);

    let (st, v4) = s.post_json("/v1/predict", &serde_json::json!({"sequences": [{"id": "x", "sequence": "acgtnACGTTGCA"}, {"id": "long", "sequence": "ATGGCT".repeat(20)}], "table": 4, "threshold": 0.3}));
    assert_eq!(st, 200);
    assert_eq!(v4["table"], 4);
    assert_eq!(v4["results"][0]["call"], "too_short");
    assert!(v4["results"][0]["coding_prob"].is_null());
}

#[test]
fn bad_requests_get_json_errors_never_500() {
    let s = Server::start(&[
        "--max-reads",
        "5",
        "--max-read-len",
        "500",
        "--max-body-bytes",
        "20000",
    ]);
    let (st, h, b) = s.request(
        "POST",
        "/v1/predict",
        &[("content-type", "application/json")],
        b"{\"sequences\": [",
    );
    let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
    assert_error(st, &v, 400, "bad_request");
    assert_eq!(v["request_id"], header(&h, "x-request-id").unwrap());
    let (st, _, b) = s.request(
        "POST",
        "/v1/predict",
        &[("content-type", "text/plain")],
        b">a\nACGT\n>b\nACGJT\n",
    );
    let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
    assert_error(st, &v, 400, "bad_request");
    assert_eq!(
        (
            v["detail"]["record"].as_u64(),
            v["detail"]["id"].as_str(),
            v["detail"]["line"].as_u64()
        ),
        (Some(2), Some("b"), Some(4))
    );
    let (st, v) = s.post_json(
        "/v1/predict",
        &serde_json::json!({"sequences": [{"id": "a", "sequence": "ACGU-"}]}),
    );
    assert_error(st, &v, 400, "bad_request");
    assert_eq!(v["detail"]["position"], 5);
    let many: Vec<serde_json::Value> = (0..6).map(|i| serde_json::json!({"id": format!("r{i}"), "sequence": "ACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGT"})).collect();
    let (st, v) = s.post_json("/v1/predict", &serde_json::json!({ "sequences": many }));
    assert_error(st, &v, 422, "validation");
    let (st, v) = s.post_json(
        "/v1/predict",
        &serde_json::json!({"sequences": [{"id": "big", "sequence": "A".repeat(501)}]}),
    );
    assert_error(st, &v, 422, "validation");
    assert_eq!(v["detail"]["id"], "big");
    let (st, v) = s.post_json("/v1/predict", &serde_json::json!({"sequences": [{"id": "a", "sequence": "ACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGT"}], "table": 7}));
    assert_error(st, &v, 422, "validation");
    assert_eq!(v["detail"]["field"], "table");
    // In the query string too, also when the body's own table is fine.
    let (st, v) = s.post_json("/v1/predict?table=7", &serde_json::json!({"sequences": [{"id": "a", "sequence": "ACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGT"}], "table": 4}));
    assert_error(st, &v, 422, "validation");
    assert_eq!(v["detail"]["field"], "query table");
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("unknown genetic code 7"),
        "{v}"
    );
    let (st, v) = s.post_json("/v1/predict", &serde_json::json!({"sequences": []}));
    assert_error(st, &v, 422, "validation");
    let (st, _, b) = s.request(
        "POST",
        "/v1/predict",
        &[("content-type", "text/plain")],
        &vec![b'A'; 30_000],
    );
    let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
    assert_error(st, &v, 413, "payload_too_large");
    // A gzip bomb: 15 kB on the wire (under the 20 kB limit), 3 MB inflated; the
    // inflated body is capped at ten times the limit and answered with 413.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(b">a\n").unwrap();
    gz.write_all(&vec![b'A'; 3_000_000]).unwrap();
    let bomb = gz.finish().unwrap();
    assert!(bomb.len() < 20_000, "{}", bomb.len());
    let (st, _, b) = s.request(
        "POST",
        "/v1/predict",
        &[("content-type", "text/plain"), ("content-encoding", "gzip")],
        &bomb,
    );
    let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
    assert_error(st, &v, 413, "payload_too_large");
    let (st, _, b) = s.request(
        "POST",
        "/v1/predict",
        &[("content-type", "multipart/form-data; boundary=zz")],
        b"--zz\r\nbroken",
    );
    let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
    assert_error(st, &v, 400, "bad_request");
    // A query string that does not parse, and a wrong method, get JSON errors too
    // (found by the api fuzz target: axum's own answers were plain text).
    let (st, _, b) = s.request(
        "POST",
        "/v1/predict?table=abc",
        &[("content-type", "text/plain")],
        b">a\nACGT\n",
    );
    let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
    assert_error(st, &v, 400, "bad_request");
    assert_eq!(v["detail"]["source"], "query");
    let (st, _, b) = s.get("/v1/drift?last=-3");
    let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
    assert_error(st, &v, 400, "bad_request");
    let (st, _, b) = s.get("/v1/predict");
    let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
    assert_error(st, &v, 405, "method_not_allowed");
    let (_, _, m) = s.get("/metrics");
    let m = String::from_utf8(m).unwrap();
    assert!(!m.contains("status=\"500\""), "{m}");
    assert!(
        m.contains("cdspred_requests_total{route=\"/v1/predict\",status=\"422\"} 5"),
        "{m}"
    );
}

#[test]
fn metrics_and_input_log_record_each_request() {
    let s = Server::start(&[]);
    for i in 0..3 {
        let (st, _) = s.post_json("/v1/predict", &serde_json::json!({"sequences": [{"id": format!("q{i}"), "sequence": "ATGGCTGCTAAAGAAGCTCTGGCTAAAGAAATTGCTGCTCTGGAAAAAGCTGGC"}, {"id": "n", "sequence": "ACGTAC"}], "table": 4}));
        assert_eq!(st, 200);
    }
    let (_, _, m) = s.get("/metrics");
    let m = String::from_utf8(m).unwrap();
    for needle in [
        "cdspred_requests_total{route=\"/v1/predict\",status=\"200\"} 3",
        "cdspred_request_duration_seconds_count{route=\"/v1/predict\"} 3",
        "cdspred_batch_size_reads_count",
        "cdspred_queue_wait_seconds_bucket",
        "cdspred_inference_seconds_sum",
        "cdspred_queue_depth_reads 0",
        "cdspred_recent_coding_fraction",
        "cdspred_model_info{version=\"default",
        "cdspred_input_log_write_failures_total 0",
        "process_resident_memory_bytes",
    ] {
        assert!(m.contains(needle), "{needle} missing");
    }
    // The log is written by a background thread: wait for it.
    let mut n = 0;
    for _ in 0..100 {
        let v: serde_json::Value = serde_json::from_slice(&s.get("/health/ready").2).unwrap();
        n = v["input_log"]["requests_written"].as_u64().unwrap();
        if n == 3 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(n, 3);
    let c = rusqlite::Connection::open(s.db()).unwrap();
    let mode: String = c
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let (reqs, reads): (i64, i64) = (
        c.query_row(
            "SELECT COUNT(*) FROM requests WHERE genetic_code = 4",
            [],
            |r| r.get(0),
        )
        .unwrap(),
        c.query_row("SELECT COUNT(*) FROM reads", [], |r| r.get(0))
            .unwrap(),
    );
    assert_eq!((reqs, reads), (3, 6));
    let short: String = c
        .query_row(
            "SELECT call FROM reads WHERE read_id = 'n' LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(short, "too_short");
    let out = Command::new(env!("CARGO_BIN_EXE_cdspred"))
        .args([
            "logs",
            "export",
            "--format",
            "fasta",
            "--since",
            "1h",
            "--data-dir",
        ])
        .arg(s.data.path().join("d"))
        .output()
        .unwrap();
    let fa = String::from_utf8(out.stdout).unwrap();
    assert_eq!(fa.matches('>').count(), 6, "{fa}");
    assert!(fa.contains(">q0 request=") && fa.contains("table=4"));
}

#[test]
fn bearer_token_guards_the_api_but_not_the_probes() {
    let s = Server::start(&["--auth-token", "s3cret"]);
    let body =
        br#"{"sequences":[{"id":"a","sequence":"ATGGCTGCTAAAGAAGCTCTGGCTAAAGAAATTGCTGCT"}]}"#;
    let (st, h, b) = s.request(
        "POST",
        "/v1/predict",
        &[("content-type", "application/json")],
        body,
    );
    assert_eq!(st, 401);
    assert_eq!(header(&h, "www-authenticate"), Some("Bearer"));
    let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(v["error_type"], "unauthorized");
    let (st, _, _) = s.request(
        "POST",
        "/v1/predict",
        &[
            ("content-type", "application/json"),
            ("authorization", "Bearer wrong"),
        ],
        body,
    );
    assert_eq!(st, 401);
    let (st, _, _) = s.request(
        "POST",
        "/v1/predict",
        &[
            ("content-type", "application/json"),
            ("authorization", "Bearer s3cret"),
        ],
        body,
    );
    assert_eq!(st, 200);
    assert_eq!(s.get("/health/ready").0, 200);
    assert_eq!(s.get("/metrics").0, 200);
}

#[test]
fn full_queue_answers_429_with_retry_after() {
    // A long batching window holds the first request in the queue.
    let s = Server::start(&[
        "--queue-capacity-reads",
        "10",
        "--max-batch-reads",
        "1000",
        "--max-wait-ms",
        "1500",
    ]);
    let reads: Vec<serde_json::Value> = (0..8).map(|i| serde_json::json!({"id": format!("r{i}"), "sequence": "ATGGCTGCTAAAGAAGCTCTGGCTAAAGAAATTGCTGCT"})).collect();
    let body = serde_json::json!({ "sequences": reads }).to_string();
    let addr = s.addr.clone();
    let b1 = body.clone();
    let first = std::thread::spawn(move || {
        http(
            &addr,
            "POST",
            "/v1/predict",
            &[("content-type", "application/json")],
            b1.as_bytes(),
        )
        .0
    });
    std::thread::sleep(Duration::from_millis(400));
    let (st, h, b) = s.request(
        "POST",
        "/v1/predict",
        &[("content-type", "application/json")],
        body.as_bytes(),
    );
    let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
    assert_error(st, &v, 429, "overloaded");
    assert_eq!(header(&h, "retry-after"), Some("1"));
    assert_eq!(
        first.join().unwrap(),
        200,
        "the queued request still completes"
    );
}

#[test]
fn unwritable_data_dir_keeps_predicting_and_reports_the_log() {
    let blocker = tempfile::NamedTempFile::new().unwrap();
    // The data directory would have to be created inside a regular file: impossible,
    // even for root.
    let dir = blocker.path().join("data");
    let s = Server::start(&["--data-dir", dir.to_str().unwrap()]);
    let (st, _) = s.post_json("/v1/predict", &serde_json::json!({"sequences": [{"id": "a", "sequence": "ATGGCTGCTAAAGAAGCTCTGGCTAAAGAAATTGCTGCT"}]}));
    assert_eq!(st, 200);
    let mut ok = true;
    let mut failures = String::new();
    for _ in 0..100 {
        let v: serde_json::Value = serde_json::from_slice(&s.get("/health/ready").2).unwrap();
        ok = v["input_log"]["ok"].as_bool().unwrap();
        let m = String::from_utf8(s.get("/metrics").2).unwrap();
        failures = m
            .lines()
            .find(|l| l.starts_with("cdspred_input_log_write_failures_total"))
            .unwrap()
            .to_string();
        if !ok && !failures.ends_with(" 0") {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!ok, "the log failure shows in /health/ready");
    assert!(!failures.ends_with(" 0"), "{failures}");
    assert_eq!(
        s.get("/health/ready").0,
        200,
        "a failing log does not make the server unready"
    );
}

#[test]
fn sigterm_drains_in_flight_requests() {
    let mut s = Server::start(&["--max-wait-ms", "800", "--max-batch-reads", "100000"]);
    let addr = s.addr.clone();
    let inflight = std::thread::spawn(move || {
        http(
            &addr,
            "POST",
            "/v1/predict",
            &[("content-type", "application/json")],
            br#"{"sequences":[{"id":"a","sequence":"ATGGCTGCTAAAGAAGCTCTGGCTAAAGAAATTGCTGCT"}]}"#,
        )
        .0
    });
    std::thread::sleep(Duration::from_millis(300));
    Command::new("kill")
        .args(["-TERM", &s.child.id().to_string()])
        .status()
        .unwrap();
    assert_eq!(inflight.join().unwrap(), 200);
    let status = s.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

#[test]
fn log_retention_by_rows_and_switching_the_log_off() {
    let s = Server::start(&["--log-retention-rows", "3"]);
    for i in 0..6 {
        let (st, _) = s.post_json("/v1/predict", &serde_json::json!({"sequences": [{"id": format!("k{i}"), "sequence": "ATGGCTGCTAAAGAAGCTCTGGCTAAAGAAATTGCTGCT"}]}));
        assert_eq!(st, 200);
    }
    assert_eq!(s.wait_written(6), 6);
    assert_eq!(
        s.logged_read_ids(),
        vec!["k3", "k4", "k5"],
        "the newest requests are kept"
    );
    let c = rusqlite::Connection::open(s.db()).unwrap();
    let ok: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");

    let off = Server::start(&["--log-enabled", "false"]);
    let (st, _) = off.post_json("/v1/predict", &serde_json::json!({"sequences": [{"id": "a", "sequence": "ATGGCTGCTAAAGAAGCTCTGGCTAAAGAAATTGCTGCT"}]}));
    assert_eq!(st, 200);
    std::thread::sleep(Duration::from_millis(100));
    assert!(!off.db().exists());
}

#[test]
fn json_access_log_has_one_line_per_request() {
    let data = tempfile::tempdir().unwrap();
    let (mut child, addr) = spawn(
        Command::new(env!("CARGO_BIN_EXE_cdspred"))
            .args([
                "serve",
                "-v",
                "--log-format",
                "json",
                "--addr",
                "127.0.0.1:0",
                "--data-dir",
            ])
            .arg(data.path())
            .stderr(Stdio::piped()),
    );
    let (st, h, _) = http(
        &addr,
        "POST",
        "/v1/predict",
        &[
            ("content-type", "application/json"),
            ("x-request-id", "abc-123"),
        ],
        br#"{"sequences":[{"id":"a","sequence":"ATGGCTGCTAAAGAAGCTCTGGCTAAAGAAATTGCTGCT"}]}"#,
    );
    assert_eq!(st, 200);
    assert_eq!(header(&h, "x-request-id"), Some("abc-123"));
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    child.wait().unwrap();
    let req: Vec<serde_json::Value> = err
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["fields"]["request_id"] == "abc-123")
        .collect();
    assert_eq!(req.len(), 1, "{err}");
    let f = &req[0]["fields"];
    assert_eq!(
        (
            f["route"].as_str(),
            f["status"].as_u64(),
            f["reads"].as_u64()
        ),
        (Some("/v1/predict"), Some(200), Some(1))
    );
    assert!(f["latency_ms"].as_f64().unwrap() > 0.0);
}

#[test]
fn drift_endpoint_and_gauges_over_logged_reads() {
    let s = Server::start(&["--drift-interval-s", "1"]);
    let (st, _, b) = s.get("/v1/drift");
    let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
    assert_error(st, &v, 409, "no_data");
    // The seed's code-4 reads, sent as if they used the bacterial code.
    let seed = std::env::var_os("CDSPRED_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
        .join("data/seed/tt4.csv.gz");
    let ds = cdspred_data::seed::read_seed_csv(&seed, cdspred_core::TableId::BACTERIAL, 0).unwrap();
    let reads: Vec<serde_json::Value> = ds
        .samples
        .iter()
        .take(3000)
        .enumerate()
        .map(|(i, smp)| serde_json::json!({"id": format!("t{i}"), "sequence": cdspred_core::dna::codes_to_ascii(ds.read(smp))}))
        .collect();
    for chunk in reads.chunks(1000) {
        let (st, _) = s.post_json("/v1/predict", &serde_json::json!({ "sequences": chunk }));
        assert_eq!(st, 200);
    }
    for _ in 0..200 {
        let v: serde_json::Value = serde_json::from_slice(&s.get("/health/ready").2).unwrap();
        if v["input_log"]["requests_written"].as_u64().unwrap() == 3 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // The periodic check (every second here) sets the gauges with nobody asking; a
    // check over 3,000 reads in a debug build on a busy 2-core machine can take
    // several seconds, so wait up to 60 s.
    let mut m = String::new();
    for _ in 0..600 {
        m = String::from_utf8(s.get("/metrics").2).unwrap();
        if m.contains("cdspred_drift_detected 1") {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(m.contains("cdspred_drift_detected 1"), "{m}");
    assert!(m.contains("cdspred_genetic_code_suggested 4"), "{m}");
    let (st, _, b) = s.get("/v1/drift?last=3000");
    assert_eq!(st, 200, "{}", String::from_utf8_lossy(&b));
    let r: serde_json::Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(
        (
            r["drift_detected"].as_bool(),
            r["suggested_table"].as_u64(),
            r["table_in_use"].as_u64()
        ),
        (Some(true), Some(4), Some(11))
    );
    assert_eq!(r["n_current"], 3000);
    // The answer set the gauges before it was sent.
    let m = String::from_utf8(s.get("/metrics").2).unwrap();
    assert!(m.contains("cdspred_drift_detected 1"), "{m}");
    assert!(m.contains("cdspred_genetic_code_mismatch 1"));
    assert!(m.contains("cdspred_drift_score{feature=\"stop_rate\"}"));
    // The verdict and the estimated performance, as the alert rules read them.
    assert_eq!(r["verdict"], "alarm", "{r}");
    assert!(
        r["causes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["cause"] == "genetic_code" && c["level"] == "alarm"),
        "{r}"
    );
    assert!(m.contains("cdspred_drift_verdict 2"), "{m}");
    assert!(
        m.contains("cdspred_drift_cause{cause=\"genetic_code\"} 2"),
        "{m}"
    );
    let gauge = |name: &str| -> f64 {
        m.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name} missing:\n{m}"))
            .parse()
            .unwrap()
    };
    let est = r["estimated_performance"]["accuracy"].as_f64().unwrap();
    assert!((gauge("cdspred_estimated_accuracy") - est).abs() < 1e-9);
    assert!(gauge("cdspred_estimated_accuracy_lower") <= est);
    assert!(
        (gauge("cdspred_estimated_accuracy_drop") - (gauge("cdspred_reference_accuracy") - est))
            .abs()
            < 1e-9
    );
}

/// The binary the containers copy runs from an empty directory with only its data
/// directory, writes nothing else, and answers its own health check.
#[test]
fn runs_from_an_empty_directory_and_answers_the_health_command() {
    let empty = tempfile::tempdir().unwrap();
    let (mut child, addr) = spawn(
        Command::new(env!("CARGO_BIN_EXE_cdspred"))
            .current_dir(empty.path())
            .args(["serve", "--addr", "127.0.0.1:0", "--data-dir", "data"])
            .stderr(Stdio::null()),
    );
    let url = format!("http://{addr}/health/ready");
    let mut ok = false;
    for _ in 0..100 {
        let o = Command::new(env!("CARGO_BIN_EXE_cdspred"))
            .args(["health", "--url", &url])
            .output()
            .unwrap();
        if o.status.success() {
            ok = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(ok, "cdspred health never succeeded");
    let (st, _, _) = http(
        &addr,
        "POST",
        "/v1/predict",
        &[("content-type", "text/plain")],
        b">a\nATGGCTGCTAAAGAAGCTCTGGCTAAAGAAATTGCTGCT\n",
    );
    assert_eq!(st, 200);
    let names: Vec<String> = std::fs::read_dir(empty.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(
        names,
        vec!["data"],
        "nothing written outside the data directory"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_cdspred"))
        .args(["health", "--url", &url])
        .output()
        .unwrap();
    assert!(
        !o.status.success(),
        "health must fail once the server is gone"
    );
}

/// A real Prometheus (Debian package) on loopback scrapes the server; the metric is
/// read back with PromQL.
#[test]
fn prometheus_scrapes_the_server() {
    let s = Server::start(&[]);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("prometheus.yml");
    std::fs::write(&cfg, format!("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: cdspred\n    static_configs:\n      - targets: [\"{}\"]\n", s.addr)).unwrap();
    let mut prom = Command::new("prometheus")
        .arg(format!("--config.file={}", cfg.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("tsdb").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus (Debian package) is installed by scripts/test.sh");
    let prom_addr = format!("127.0.0.1:{port}");
    let mut found = String::new();
    for _ in 0..150 {
        std::thread::sleep(Duration::from_millis(200));
        if TcpStream::connect(&prom_addr).is_err() {
            continue;
        }
        let (st, _, b) = http(
            &prom_addr,
            "GET",
            "/api/v1/query?query=cdspred_model_info",
            &[],
            b"",
        );
        if st == 200 {
            let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
            if let Some(r) = v["data"]["result"].as_array().and_then(|a| a.first()) {
                found = r["metric"]["version"].as_str().unwrap_or("").to_string();
                break;
            }
        }
    }
    let _ = prom.kill();
    let _ = prom.wait();
    assert!(
        found.starts_with("default"),
        "Prometheus never read cdspred_model_info (got {found:?})"
    );
}

#[test]
fn sigkill_under_load_leaves_a_sound_log_with_whole_requests() {
    let s = Server::start(&[]);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Set just before the kill: a failed request before it is a failure of the test,
    // after it the expected end of a client.
    let killing = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut clients = Vec::new();
    for c in 0..4 {
        let addr = s.addr.clone();
        let stop = stop.clone();
        let killing = killing.clone();
        clients.push(std::thread::spawn(move || {
            let mut ok = 0;
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                // Requests of 1..=50 reads, so a half-written one would show.
                let n = 1 + (c * 13 + i * 7) % 50;
                let reads: Vec<serde_json::Value> = (0..n)
                    .map(|k| serde_json::json!({"id": format!("c{c}r{i}k{k}"), "sequence": "ATGGCTGCTAAAGAAGCTCTGGCTAAAGAAATTGCTGCTCTGGAAAAAGCTGGC"}))
                    .collect();
                let body = serde_json::json!({ "sequences": reads }).to_string();
                // After the kill, connections fail: that ends the client.
                let r = std::panic::catch_unwind(|| {
                    http(
                        &addr,
                        "POST",
                        "/v1/predict",
                        &[("content-type", "application/json")],
                        body.as_bytes(),
                    )
                    .0
                });
                match r {
                    Ok(200) => ok += 1,
                    other if !killing.load(std::sync::atomic::Ordering::SeqCst) => {
                        return (ok, Some(format!("client {c} request {i}: {other:?}")));
                    }
                    _ => break,
                }
                i += 1;
            }
            (ok, None)
        }));
    }
    // Let the log fill, then kill -9 in the middle of the load. A request is logged
    // before it is answered, so up to one per client (4) may be written but not yet
    // answered when the kill lands: wait for 204 written to see 200 answered.
    let db = s.db();
    for _ in 0..500 {
        let v: serde_json::Value = serde_json::from_slice(&s.get("/health/ready").2).unwrap();
        if v["input_log"]["requests_written"].as_u64().unwrap_or(0) >= 204 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut s = s;
    killing.store(true, std::sync::atomic::Ordering::SeqCst);
    s.child.kill().unwrap(); // SIGKILL
    s.child.wait().unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let results: Vec<(usize, Option<String>)> =
        clients.into_iter().map(|c| c.join().unwrap()).collect();
    let failed: Vec<&String> = results.iter().filter_map(|r| r.1.as_ref()).collect();
    assert!(
        failed.is_empty(),
        "requests failed before the kill: {failed:?}"
    );
    let answered: usize = results.iter().map(|r| r.0).sum();
    assert!(answered >= 200, "the load ran: {answered} answers");

    let c = rusqlite::Connection::open(&db).unwrap();
    let check: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let requests: i64 = c
        .query_row("SELECT COUNT(*) FROM requests", [], |r| r.get(0))
        .unwrap();
    assert!(requests >= 100, "{requests} requests logged");
    // Every logged request holds exactly its reads, numbered 0..n, and no read is
    // without its request.
    let partial: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM requests q WHERE q.n_reads != \
             (SELECT COUNT(*) FROM reads r WHERE r.request_id = q.id) \
             OR q.n_reads - 1 != (SELECT MAX(idx) FROM reads r WHERE r.request_id = q.id)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(partial, 0, "half-written requests in the log");
    let orphans: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM reads WHERE request_id NOT IN (SELECT id FROM requests)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(orphans, 0);
    // A restarted server opens the same log and goes on writing it.
    let s2 = Server::start(&["--data-dir", db.parent().unwrap().to_str().unwrap()]);
    let (st, _) = s2.post_json(
        "/v1/predict",
        &serde_json::json!({"sequences": [{"id": "after", "sequence": "ATGGCTGCTAAAGAAGCTCTGGCTAAAGAA"}]}),
    );
    assert_eq!(st, 200);
    let mut found = 0;
    for _ in 0..100 {
        found = c
            .query_row(
                "SELECT COUNT(*) FROM reads WHERE read_id = 'after'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .unwrap();
        if found == 1 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(found, 1);
}

/// A request that waits longer than `--request-timeout-ms` (here: held in the queue by
/// a long batching window) is answered 503 with a JSON error, not left hanging; with
/// `--batching false` the same request is predicted on its own at once, as the CLI
/// predicts it.
#[test]
fn request_timeout_is_503_and_batching_off_predicts_alone() {
    let s = Server::start(&[
        "--request-timeout-ms",
        "200",
        "--max-wait-ms",
        "3000",
        "--max-batch-reads",
        "1000",
    ]);
    let t0 = std::time::Instant::now();
    let (st, v) = s.post_json("/v1/predict", &serde_json::json!({"sequences": [{"id": "a", "sequence": "ATGGCTGCTAAAGAAGCTCTGGCTAAAGAAATTGCTGCT"}]}));
    assert_error(st, &v, 503, "timeout");
    assert_eq!(v["detail"]["timeout_ms"], 200);
    assert!(
        t0.elapsed() < Duration::from_millis(2500),
        "{:?}",
        t0.elapsed()
    );

    let off = Server::start(&[
        "--batching",
        "false",
        "--max-wait-ms",
        "3000",
        "--request-timeout-ms",
        "2000",
    ]);
    let (_, _, b) = off.get("/v1/config");
    let cfg: serde_json::Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(cfg["batching"], false, "{cfg}");
    let (st, _, b) = off.request(
        "POST",
        "/v1/predict",
        &[("content-type", "text/plain")],
        &example(),
    );
    assert_eq!(st, 200, "{}", String::from_utf8_lossy(&b));
    let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
    let cli = Command::new(env!("CARGO_BIN_EXE_cdspred"))
        .arg("predict")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/reads.fasta"))
        .output()
        .unwrap();
    let tsv = String::from_utf8(cli.stdout).unwrap();
    let res = v["results"].as_array().unwrap();
    assert_eq!(res.len(), 400);
    for (r, line) in res.iter().zip(tsv.lines().skip(1)) {
        let c: Vec<&str> = line.split('\t').collect();
        assert_eq!(r["id"], c[0]);
        assert_eq!(format!("{:.4}", r["coding_prob"].as_f64().unwrap()), c[2]);
        assert_eq!(r["call"], c[6]);
    }
}

/// `--log-retention-days`: requests older than that are pruned (every 50 writes).
#[test]
fn log_retention_by_days() {
    // 0.00002 days = 1.7 s.
    let s = Server::start(&["--log-retention-days", "0.00002"]);
    let send = |id: &str| {
        let (st, _) = s.post_json("/v1/predict", &serde_json::json!({"sequences": [{"id": id, "sequence": "ATGGCTGCTAAAGAAGCTCTGGCTAAAGAAATTGCTGCT"}]}));
        assert_eq!(st, 200);
    };
    let written = |n: u64| assert!(s.wait_written(n) >= n, "the log never wrote {n} requests");
    send("old");
    written(1);
    std::thread::sleep(Duration::from_millis(2500));
    // Retention runs every 50 writes (and at shutdown).
    for i in 0..49 {
        send(&format!("new{i:02}"));
    }
    written(50);
    let ids = s.logged_read_ids();
    let want: Vec<String> = (0..49).map(|i| format!("new{i:02}")).collect();
    assert_eq!(ids, want, "the request older than the retention is pruned");
}

/// Codes 15 and 25 through the server: `?table=N` gives the proteins `cdspred predict
/// --table N --faa` writes for the same reads (whose translation
/// `crates/cli/tests/codes.rs` checks against Biopython), and they differ from table 11's
/// where the reads use a reassigned codon.
#[test]
fn genetic_codes_15_and_25_through_the_server() {
    let s = Server::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let fa = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/reads.fasta");
    let proteins = |table: u32| -> Vec<(String, String)> {
        let (st, _, b) = s.request(
            "POST",
            &format!("/v1/predict?table={table}"),
            &[("content-type", "text/plain")],
            &example(),
        );
        assert_eq!(st, 200, "{}", String::from_utf8_lossy(&b));
        let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["protein"].is_string())
            .map(|r| {
                (
                    r["id"].as_str().unwrap().to_string(),
                    r["protein"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let p11 = proteins(11);
    for table in [15u32, 25] {
        let faa = dir.path().join(format!("t{table}.faa"));
        let out = Command::new(env!("CARGO_BIN_EXE_cdspred"))
            .args([
                "predict",
                "-q",
                "--table",
                &table.to_string(),
                "--faa",
                faa.to_str().unwrap(),
            ])
            .arg(&fa)
            .output()
            .unwrap();
        assert!(out.status.success());
        let text = std::fs::read_to_string(&faa).unwrap();
        let cli: Vec<(String, String)> = text
            .split('>')
            .skip(1)
            .map(|rec| {
                let (head, seq) = rec.split_once('\n').unwrap();
                let id = head
                    .split_whitespace()
                    .next()
                    .unwrap()
                    .rsplitn(4, '_')
                    .last()
                    .unwrap();
                (id.to_string(), seq.replace('\n', ""))
            })
            .collect();
        let served = proteins(table);
        assert!(served.len() > 100, "{table}: {} proteins", served.len());
        assert_eq!(served, cli, "table {table}: server and CLI proteins differ");
        assert_ne!(served, p11, "table {table} translates like table 11");
    }
}
