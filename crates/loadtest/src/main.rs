//! `cdspred-load`: a Goose load test of a running `cdspred serve`.
//!
//! Scenarios: single short reads, 10- and 100-read JSON batches, FASTA uploads,
//! `/health/ready` and `/metrics`. Every run is bounded in time (`--run-time`) and in
//! requests (`--max-rps` × run time), and only loopback hosts are accepted. Goose
//! schedules the users; each request's latency (to the last byte of the body) and status
//! are recorded here, so the percentiles are exact, and written as JSON.
//!
//! Example:
//! `cdspred-load --host http://127.0.0.1:8000 --users 50 --run-time 15 --mix batch10`

use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use clap::{Parser, ValueEnum};
use goose::prelude::*;

use cdspred_core::dna::codes_to_ascii;
use cdspred_core::fastx::FastxReader;

/// Load test of a local cdspred server.
#[derive(Parser, Debug)]
#[command(name = "cdspred-load", version, about)]
struct Args {
    /// Server base URL (loopback only).
    #[arg(long, default_value = "http://127.0.0.1:8000")]
    host: String,
    /// Concurrent users (each sends its next request when the last one answered).
    #[arg(long, default_value_t = 10)]
    users: usize,
    /// Seconds the load runs after all users started.
    #[arg(long, default_value_t = 15)]
    run_time: u64,
    /// Upper bound on requests per second over all users (bounds the total requests).
    #[arg(long, default_value_t = 50_000)]
    max_rps: usize,
    /// Request mix.
    #[arg(long, value_enum, default_value = "mixed")]
    mix: Mix,
    /// FASTA file the reads come from.
    #[arg(long, default_value = "examples/reads.fasta")]
    reads: std::path::PathBuf,
    /// Read length sent in JSON requests (reads are cut to it).
    #[arg(long, default_value_t = 150)]
    read_len: usize,
    /// Bearer token, when the server was started with --auth-token.
    #[arg(long, env = "CDSPRED_AUTH_TOKEN")]
    token: Option<String>,
    /// Write the summary JSON here (stdout otherwise).
    #[arg(long)]
    out: Option<std::path::PathBuf>,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq)]
enum Mix {
    /// 40% single reads, 20% 10-read and 10% 100-read batches, 15% FASTA uploads,
    /// 10% /health/ready, 5% /metrics.
    Mixed,
    /// Only 10-read JSON requests.
    Batch10,
    /// Only single-read JSON requests.
    Single,
}

/// What a request was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Single,
    Batch10,
    Batch100,
    Fasta,
    Health,
    Metrics,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Single => "single",
            Kind::Batch10 => "batch10",
            Kind::Batch100 => "batch100",
            Kind::Fasta => "fasta",
            Kind::Health => "health",
            Kind::Metrics => "metrics",
        }
    }
    fn reads(self) -> usize {
        match self {
            Kind::Single => 1,
            Kind::Batch10 => 10,
            Kind::Batch100 => 100,
            Kind::Fasta => FASTA_READS,
            Kind::Health | Kind::Metrics => 0,
        }
    }
}

const FASTA_READS: usize = 20;

/// One finished request: kind, status (0 = no response), start offset and latency.
struct Sample {
    kind: Kind,
    status: u16,
    start_us: u64,
    latency_us: u64,
}

struct Shared {
    bodies: Bodies,
    token: Option<String>,
    t0: Instant,
    samples: Mutex<Vec<Sample>>,
    next: std::sync::atomic::AtomicUsize,
}

/// Request bodies, built once; each user walks through them.
struct Bodies {
    single: Vec<String>,
    batch10: Vec<String>,
    batch100: Vec<String>,
    fasta: Vec<String>,
}

static SHARED: OnceLock<Shared> = OnceLock::new();

fn shared() -> &'static Shared {
    SHARED.get().expect("initialised in main")
}

/// The reads to send, read with the project's one FASTA/FASTQ reader.
fn read_fasta(path: &std::path::Path) -> Result<Vec<(String, String)>, String> {
    let name = path.display().to_string();
    let mut out: Vec<(String, String)> = Vec::new();
    for rec in FastxReader::open(&name).map_err(|e| e.to_string())? {
        let (id, seq) = rec.map_err(|e| e.to_string())?.into_parts();
        out.push((id, codes_to_ascii(seq.codes())));
    }
    if out.is_empty() {
        return Err(format!("{}: no reads", path.display()));
    }
    Ok(out)
}

fn json_body(reads: &[(String, String)]) -> String {
    let seqs: Vec<serde_json::Value> = reads
        .iter()
        .map(|(id, s)| serde_json::json!({"id": id, "sequence": s}))
        .collect();
    serde_json::json!({ "sequences": seqs }).to_string()
}

fn build_bodies(reads: &[(String, String)], read_len: usize) -> Bodies {
    let cut: Vec<(String, String)> = reads
        .iter()
        .map(|(id, s)| (id.clone(), s[..s.len().min(read_len)].to_string()))
        .collect();
    let windows = |k: usize| -> Vec<Vec<(String, String)>> {
        (0..cut.len().max(1))
            .step_by(k.min(cut.len()).max(1))
            .take(64)
            .map(|start| {
                (0..k)
                    .map(|j| cut[(start + j) % cut.len()].clone())
                    .collect()
            })
            .collect()
    };
    Bodies {
        single: windows(1).iter().map(|w| json_body(w)).collect(),
        batch10: windows(10).iter().map(|w| json_body(w)).collect(),
        batch100: windows(100).iter().map(|w| json_body(w)).collect(),
        fasta: windows(FASTA_READS)
            .iter()
            .map(|w| w.iter().map(|(id, s)| format!(">{id}\n{s}\n")).collect())
            .collect(),
    }
}

/// Sends one request and records its status and latency (to the body's last byte).
async fn send(user: &mut GooseUser, kind: Kind) -> TransactionResult {
    let sh = shared();
    let n = sh.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let pick = |v: &Vec<String>| v[n % v.len()].clone();
    let (method, path, ctype, body) = match kind {
        Kind::Single => (
            GooseMethod::Post,
            "/v1/predict",
            "application/json",
            pick(&sh.bodies.single),
        ),
        Kind::Batch10 => (
            GooseMethod::Post,
            "/v1/predict",
            "application/json",
            pick(&sh.bodies.batch10),
        ),
        Kind::Batch100 => (
            GooseMethod::Post,
            "/v1/predict",
            "application/json",
            pick(&sh.bodies.batch100),
        ),
        Kind::Fasta => (
            GooseMethod::Post,
            "/v1/predict",
            "text/x-fasta",
            pick(&sh.bodies.fasta),
        ),
        Kind::Health => (GooseMethod::Get, "/health/ready", "", String::new()),
        Kind::Metrics => (GooseMethod::Get, "/metrics", "", String::new()),
    };
    let mut rb = user.get_request_builder(&method, path)?;
    if !ctype.is_empty() {
        rb = rb.header("content-type", ctype).body(body);
    }
    if let Some(t) = &sh.token {
        rb = rb.bearer_auth(t);
    }
    let req = GooseRequest::builder()
        .method(method)
        .path(path)
        .name(kind.name())
        .set_request_builder(rb)
        .build();
    let started = Instant::now();
    let start_us = started.duration_since(sh.t0).as_micros() as u64;
    let result = user.request(req).await;
    let status = match result {
        Ok(goose) => match goose.response {
            Ok(resp) => {
                let status = resp.status().as_u16();
                match resp.bytes().await {
                    Ok(_) => status,
                    Err(_) => 0,
                }
            }
            Err(_) => 0,
        },
        Err(_) => 0,
    };
    let latency_us = started.elapsed().as_micros() as u64;
    sh.samples.lock().expect("not poisoned").push(Sample {
        kind,
        status,
        start_us,
        latency_us,
    });
    Ok(())
}

async fn single(user: &mut GooseUser) -> TransactionResult {
    send(user, Kind::Single).await
}
async fn batch10(user: &mut GooseUser) -> TransactionResult {
    send(user, Kind::Batch10).await
}
async fn batch100(user: &mut GooseUser) -> TransactionResult {
    send(user, Kind::Batch100).await
}
async fn fasta(user: &mut GooseUser) -> TransactionResult {
    send(user, Kind::Fasta).await
}
async fn health(user: &mut GooseUser) -> TransactionResult {
    send(user, Kind::Health).await
}
async fn metrics(user: &mut GooseUser) -> TransactionResult {
    send(user, Kind::Metrics).await
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1] as f64 / 1000.0
}

fn summarise(samples: &[Sample], window_s: f64) -> serde_json::Value {
    let mut lat: Vec<u64> = samples.iter().map(|s| s.latency_us).collect();
    lat.sort_unstable();
    let mut by_status = std::collections::BTreeMap::<String, usize>::new();
    for s in samples {
        let key = if s.status == 0 {
            "no_response".to_string()
        } else {
            s.status.to_string()
        };
        *by_status.entry(key).or_default() += 1;
    }
    let ok = samples.iter().filter(|s| s.status == 200).count();
    let reads_ok: usize = samples
        .iter()
        .filter(|s| s.status == 200)
        .map(|s| s.kind.reads())
        .sum();
    let errors_5xx = samples.iter().filter(|s| s.status >= 500).count();
    let rejected_429 = samples.iter().filter(|s| s.status == 429).count();
    let other = samples.len() - ok - errors_5xx - rejected_429;
    let mut kinds = serde_json::Map::new();
    let mut ks: Vec<Kind> = samples.iter().map(|s| s.kind).collect();
    ks.sort();
    ks.dedup();
    for k in ks {
        let mut l: Vec<u64> = samples
            .iter()
            .filter(|s| s.kind == k)
            .map(|s| s.latency_us)
            .collect();
        l.sort_unstable();
        kinds.insert(
            k.name().into(),
            serde_json::json!({"requests": l.len(), "p50_ms": percentile(&l, 50.0),
                "p95_ms": percentile(&l, 95.0), "p99_ms": percentile(&l, 99.0)}),
        );
    }
    serde_json::json!({
        "requests": samples.len(),
        "window_s": window_s,
        "rps": samples.len() as f64 / window_s,
        "reads_per_s": reads_ok as f64 / window_s,
        "ok": ok,
        "errors_5xx": errors_5xx,
        "rejected_429": rejected_429,
        "other_errors": other,
        "by_status": by_status,
        "p50_ms": percentile(&lat, 50.0),
        "p95_ms": percentile(&lat, 95.0),
        "p99_ms": percentile(&lat, 99.0),
        "max_ms": lat.last().map(|&v| v as f64 / 1000.0),
        "by_kind": kinds,
    })
}

fn loopback(host: &str) -> bool {
    let rest = host
        .strip_prefix("http://")
        .or_else(|| host.strip_prefix("https://"))
        .unwrap_or("");
    let hostpart = rest.split('/').next().unwrap_or("");
    let name = if let Some(v6) = hostpart.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        hostpart.split(':').next().unwrap_or("")
    };
    name == "localhost"
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("cdspred-load: {e}");
        std::process::exit(2);
    }
}

async fn run() -> Result<(), String> {
    let args = Args::parse();
    if !loopback(&args.host) {
        return Err(format!(
            "{}: only loopback hosts (127.0.0.0/8, ::1, localhost) may be load-tested",
            args.host
        ));
    }
    if args.users == 0 || args.run_time == 0 {
        return Err("--users and --run-time must be positive".into());
    }
    let reads = read_fasta(&args.reads)?;
    let bodies = build_bodies(&reads, args.read_len);
    let t0 = Instant::now();
    SHARED
        .set(Shared {
            bodies,
            token: args.token.clone(),
            t0,
            samples: Mutex::new(Vec::new()),
            next: std::sync::atomic::AtomicUsize::new(0),
        })
        .map_err(|_| "initialised twice".to_string())?;

    let users = args.users.to_string();
    let run_time = args.run_time.to_string();
    let rps = args.max_rps.to_string();
    let goose_args = [
        "--host",
        args.host.as_str(),
        "--users",
        users.as_str(),
        "--increase-rate",
        users.as_str(),
        "--run-time",
        run_time.as_str(),
        "--throttle-requests",
        rps.as_str(),
        "--timeout",
        "30",
        "--no-print-metrics",
        "--no-error-summary",
        "--no-telnet",
        "--quiet",
    ];
    let config = goose::config::GooseConfiguration::parse_args_default(&goose_args)
        .map_err(|e| format!("goose configuration: {e:?}"))?;
    // One scenario; each user runs the weighted transactions in turn, so every user
    // sends the same mix.
    let txs: Vec<(usize, Transaction)> = match args.mix {
        Mix::Mixed => vec![
            (8, transaction!(single)),
            (4, transaction!(batch10)),
            (2, transaction!(batch100)),
            (3, transaction!(fasta)),
            (2, transaction!(health)),
            (1, transaction!(metrics)),
        ],
        Mix::Batch10 => vec![(1, transaction!(batch10))],
        Mix::Single => vec![(1, transaction!(single))],
    };
    let mut attack = GooseAttack::initialize_with_config(config).map_err(|e| e.to_string())?;
    let mut sc = scenario!("cdspred");
    for (weight, tx) in txs {
        sc = sc.register_transaction(tx.set_weight(weight).map_err(|e| e.to_string())?);
    }
    attack = attack.register_scenario(sc);
    let started = Instant::now();
    attack.execute().await.map_err(|e| e.to_string())?;
    let total_s = started.elapsed().as_secs_f64();

    // Drop the ramp-up second: all users start within it.
    let ramp_us = (started.duration_since(t0).as_secs_f64() * 1e6) as u64 + 1_000_000;
    let samples = std::mem::take(&mut *shared().samples.lock().expect("not poisoned"));
    let kept: Vec<Sample> = samples
        .into_iter()
        .filter(|s| s.start_us >= ramp_us)
        .collect();
    let window_s = (total_s - 1.0).max(1e-3);
    let mut summary = summarise(&kept, window_s);
    summary["users"] = serde_json::json!(args.users);
    summary["mix"] = serde_json::json!(format!("{:?}", args.mix).to_lowercase());
    summary["run_time_s"] = serde_json::json!(args.run_time);
    let text = serde_json::to_string_pretty(&summary).map_err(|e| e.to_string())?;
    match &args.out {
        Some(p) => std::fs::write(p, text + "\n").map_err(|e| format!("{}: {e}", p.display()))?,
        None => println!("{text}"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_hosts() {
        assert!(loopback("http://127.0.0.1:8000"));
        assert!(loopback("http://localhost:80/x"));
        assert!(loopback("http://[::1]:8000"));
        assert!(!loopback("http://10.0.0.1:8000"));
        assert!(!loopback("http://example.org"));
        assert!(!loopback("http://127.0.0.1.example.org"));
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<u64> = (1..=100).map(|i| i * 1000).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 95.0), 95.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert!(percentile(&[], 50.0).is_nan());
    }

    #[test]
    fn bodies_hold_the_stated_number_of_reads() {
        let reads: Vec<(String, String)> = (0..25)
            .map(|i| (format!("r{i}"), "ACGT".repeat(60)))
            .collect();
        let b = build_bodies(&reads, 150);
        let v: serde_json::Value = serde_json::from_str(&b.batch100[0]).unwrap();
        assert_eq!(v["sequences"].as_array().unwrap().len(), 100);
        assert_eq!(
            v["sequences"][0]["sequence"].as_str().unwrap().len(),
            150,
            "reads are cut to --read-len"
        );
        let v: serde_json::Value = serde_json::from_str(&b.batch10[0]).unwrap();
        assert_eq!(v["sequences"].as_array().unwrap().len(), 10);
        assert_eq!(b.fasta[0].matches('>').count(), FASTA_READS);
    }
}
