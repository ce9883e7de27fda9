//! `cdspred serve` and `cdspred logs export`.
//!
//! Every server option comes, in order of precedence, from the command line, an
//! environment variable (`CDSPRED_…`), a TOML config file (`--config`, same keys with
//! underscores) or the default.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use cdspred_core::TableId;
use cdspred_model::{Prediction, Predictor, TableContext};
use cdspred_serve::logstore::LogConfig;
use cdspred_serve::{Backend, BatchConfig, ModelInfo, ServeConfig};
use clap::{Args, Subcommand};
use serde::Deserialize;

#[derive(Args, Debug, Default)]
pub struct ServeArgs {
    /// TOML file with any of the options below (keys with underscores).
    #[arg(long, env = "CDSPRED_CONFIG")]
    config: Option<PathBuf>,
    #[command(flatten)]
    options: ServeOptions,
}

/// The server's options: one struct read both from the command line (and environment)
/// and from the `--config` file, where an option given on the command line wins. The
/// defaults in the help texts are checked against [`ServeOptions::resolve`], the one
/// place they are applied.
#[derive(Args, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeOptions {
    /// Listen address [default: 127.0.0.1:8000].
    #[arg(long, env = "CDSPRED_ADDR")]
    addr: Option<String>,
    /// Data directory for the input log [default: cdspred-data].
    #[arg(long, env = "CDSPRED_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Model directory [default: the embedded model].
    #[arg(long, env = "CDSPRED_MODEL")]
    model: Option<PathBuf>,
    /// Inference threads [default: all cores].
    #[arg(long, env = "CDSPRED_THREADS")]
    threads: Option<usize>,
    /// Largest request body in bytes [default: 10000000].
    #[arg(long, env = "CDSPRED_MAX_BODY_BYTES")]
    max_body_bytes: Option<usize>,
    /// Most reads per request [default: 100000].
    #[arg(long, env = "CDSPRED_MAX_READS")]
    max_reads: Option<usize>,
    /// Longest read in nt [default: 100000].
    #[arg(long, env = "CDSPRED_MAX_READ_LEN")]
    max_read_len: Option<usize>,
    /// Request timeout in ms [default: 30000].
    #[arg(long, env = "CDSPRED_REQUEST_TIMEOUT_MS")]
    request_timeout_ms: Option<u64>,
    /// Dynamic batching across requests [default: true].
    #[arg(long, env = "CDSPRED_BATCHING")]
    batching: Option<bool>,
    /// Run a batch at this many reads [default: 2048].
    #[arg(long, env = "CDSPRED_MAX_BATCH_READS")]
    max_batch_reads: Option<usize>,
    /// …or after this many ms [default: 2].
    #[arg(long, env = "CDSPRED_MAX_WAIT_MS")]
    max_wait_ms: Option<u64>,
    /// Answer 429 while this many reads wait [default: 200000].
    #[arg(long, env = "CDSPRED_QUEUE_CAPACITY_READS")]
    queue_capacity_reads: Option<usize>,
    /// Write the input/output log [default: true].
    #[arg(long, env = "CDSPRED_LOG_ENABLED")]
    log_enabled: Option<bool>,
    /// Keep at most this many logged reads [default: 10000000].
    #[arg(long, env = "CDSPRED_LOG_RETENTION_ROWS")]
    log_retention_rows: Option<u64>,
    /// Keep logged requests this many days [default: 30].
    #[arg(long, env = "CDSPRED_LOG_RETENTION_DAYS")]
    log_retention_days: Option<f64>,
    /// Require `Authorization: Bearer TOKEN` on /v1 routes.
    #[arg(long, env = "CDSPRED_AUTH_TOKEN", hide_env_values = true)]
    auth_token: Option<String>,
    /// Recompute drift over the log every N seconds for the metrics (0 = off) [default: 300].
    #[arg(long, env = "CDSPRED_DRIFT_INTERVAL_S")]
    drift_interval_s: Option<u64>,
    /// Logged reads the periodic drift check uses [default: 10000].
    #[arg(long, env = "CDSPRED_DRIFT_WINDOW_READS")]
    drift_window_reads: Option<usize>,
}

impl ServeOptions {
    /// Each option from `self`, else from `file`.
    fn or(self, file: ServeOptions) -> ServeOptions {
        macro_rules! pick {
            ($($f:ident),+) => { ServeOptions { $($f: self.$f.or(file.$f)),+ } };
        }
        pick!(
            addr,
            data_dir,
            model,
            threads,
            max_body_bytes,
            max_reads,
            max_read_len,
            request_timeout_ms,
            batching,
            max_batch_reads,
            max_wait_ms,
            queue_capacity_reads,
            log_enabled,
            log_retention_rows,
            log_retention_days,
            auth_token,
            drift_interval_s,
            drift_window_reads
        )
    }

    /// The server config, with every default applied here and only here (the model
    /// directory and thread count stay options: they are resolved by the caller).
    fn resolve(&self) -> Result<ServeConfig> {
        let addr = self.addr.as_deref().unwrap_or("127.0.0.1:8000");
        let addr = addr
            .parse()
            .map_err(|_| anyhow!("--addr {addr:?} is not HOST:PORT"))?;
        let data_dir = self
            .data_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("cdspred-data"));
        let config = ServeConfig {
            addr,
            data_dir: data_dir.clone(),
            max_body_bytes: self.max_body_bytes.unwrap_or(10_000_000),
            max_reads: self.max_reads.unwrap_or(100_000),
            max_read_len: self.max_read_len.unwrap_or(100_000),
            request_timeout: Duration::from_millis(self.request_timeout_ms.unwrap_or(30_000)),
            batch: BatchConfig {
                enabled: self.batching.unwrap_or(true),
                max_batch_reads: self.max_batch_reads.unwrap_or(2048),
                max_wait: Duration::from_millis(self.max_wait_ms.unwrap_or(2)),
                queue_capacity_reads: self.queue_capacity_reads.unwrap_or(200_000),
            },
            log: LogConfig {
                path: data_dir.join("input_log.sqlite"),
                enabled: self.log_enabled.unwrap_or(true),
                retention_rows: self.log_retention_rows.unwrap_or(10_000_000),
                retention_days: self.log_retention_days.unwrap_or(30.0),
            },
            auth_token: self.auth_token.clone().filter(|t| !t.is_empty()),
            drift_interval: Duration::from_secs(self.drift_interval_s.unwrap_or(300)),
            drift_window_reads: self.drift_window_reads.unwrap_or(10_000),
        };
        if config.max_reads == 0
            || config.max_body_bytes == 0
            || config.batch.queue_capacity_reads == 0
        {
            bail!("max_reads, max_body_bytes and queue_capacity_reads must be positive");
        }
        Ok(config)
    }
}

struct ModelBackend {
    predictor: Predictor,
    tables: Mutex<std::collections::HashMap<TableId, Arc<TableContext>>>,
    threads: usize,
}

impl Backend for ModelBackend {
    fn predict(&self, reads: &[&[u8]], table: TableId, threshold: f32) -> Vec<Prediction> {
        let ctx = {
            let mut t = self.tables.lock().unwrap_or_else(|p| p.into_inner());
            t.entry(table)
                .or_insert_with(|| Arc::new(TableContext::new(table.code())))
                .clone()
        };
        self.predictor
            .predict_batch(reads, &ctx, threshold, self.threads)
    }
}

pub fn run(a: ServeArgs) -> Result<()> {
    let file: ServeOptions = match &a.config {
        Some(p) => {
            toml::from_str(&std::fs::read_to_string(p).with_context(|| p.display().to_string())?)
                .map_err(|e| anyhow!("{}: {e}", p.display()))?
        }
        None => ServeOptions::default(),
    };
    let opts = a.options.or(file);
    let config = opts.resolve()?;
    let data_dir = config.data_dir.clone();
    let model_dir = opts.model.clone();
    let threads = crate::cmd_predict::thread_count(opts.threads.unwrap_or(0));
    let files = crate::cmd_predict::load_model(model_dir.as_deref())?;
    if config.log.enabled {
        if let Err(e) = std::fs::create_dir_all(&data_dir) {
            tracing::warn!(dir = %data_dir.display(), error = %e, "cannot create the data directory; the input log will report failures");
        }
    }
    let info = ModelInfo {
        version: files.card.version.clone(),
        card: serde_json::to_value(&files.card)?,
        config: serde_json::to_value(&files.config)?,
        min_read_len: files.config.min_len,
    };
    let backend = Arc::new(ModelBackend {
        predictor: Predictor::new(&files),
        tables: Default::default(),
        threads,
    });
    // Drift against the model's profile: the embedded one, or profile.json in --model
    // (a model without one serves without drift reports; a malformed one is an error).
    let profile = match &model_dir {
        Some(d) => {
            let p = d.join("profile.json");
            match std::fs::read_to_string(&p) {
                Ok(t) => Some(
                    serde_json::from_str::<cdspred_drift::Profile>(&t)
                        .with_context(|| format!("{}: not a drift profile", p.display()))?,
                ),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    tracing::warn!(file = %p.display(), "no drift profile: /v1/drift is off");
                    None
                }
                Err(e) => return Err(e).with_context(|| format!("cannot read {}", p.display())),
            }
        }
        None => Some(cdspred_drift::default_profile()?),
    };
    let drift: Option<cdspred_serve::DriftFn> = profile.map(|profile| {
        let pred = Predictor::new(&files);
        let f: cdspred_serve::DriftFn = Arc::new(move |reads: Vec<(Vec<u8>, TableId)>| {
            let pairs: Vec<(&[u8], TableId)> =
                reads.iter().map(|(r, t)| (r.as_slice(), *t)).collect();
            cdspred_drift::check(&pred, &profile, &pairs, threads).0
        });
        f
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.addr)
            .await
            .with_context(|| format!("cannot listen on {}", config.addr))?;
        // The bound address on stdout lets scripts and tests use port 0.
        println!("listening on http://{}", listener.local_addr()?);
        let (router, state) = cdspred_serve::build(config, backend, info, drift);
        cdspred_serve::serve(listener, router, state).await?;
        Ok(())
    })
}

#[derive(Subcommand)]
pub enum LogsCommand {
    /// Write logged reads of a time range as FASTA or TSV.
    ///
    /// Example: cdspred logs export --data-dir cdspred-data --since 24h --format tsv -o last_day.tsv
    Export {
        /// The server's data directory.
        #[arg(long, default_value = "cdspred-data")]
        data_dir: PathBuf,
        /// Start: unix seconds, or an age like 30m, 24h, 7d [default: everything].
        #[arg(long)]
        since: Option<String>,
        /// End (exclusive), same forms [default: now].
        #[arg(long)]
        until: Option<String>,
        /// fasta or tsv.
        #[arg(long, default_value = "tsv")]
        format: String,
        /// At most this many reads.
        #[arg(long, default_value_t = 10_000_000)]
        limit: usize,
        /// Output file [default: stdout].
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
}

/// Parses unix seconds or an age (`90s`, `30m`, `24h`, `7d`) into unix seconds.
pub fn parse_time(s: &str) -> Result<f64> {
    if let Ok(v) = s.parse::<f64>() {
        return Ok(v);
    }
    let (num, unit) = s.split_at(s.len().saturating_sub(1));
    let n: f64 = num
        .parse()
        .map_err(|_| anyhow!("time {s:?}: use unix seconds or an age like 30m, 24h, 7d"))?;
    let mult = match unit {
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86400.0,
        _ => bail!("time {s:?}: unit must be s, m, h or d"),
    };
    Ok(cdspred_serve::logstore::now() - n * mult)
}

pub fn run_logs(cmd: LogsCommand) -> Result<()> {
    let LogsCommand::Export {
        data_dir,
        since,
        until,
        format,
        limit,
        output,
    } = cmd;
    let db = data_dir.join("input_log.sqlite");
    if !Path::new(&db).exists() {
        bail!("{}: no input log here", db.display());
    }
    let since = since.as_deref().map(parse_time).transpose()?.unwrap_or(0.0);
    let until = until
        .as_deref()
        .map(parse_time)
        .transpose()?
        .unwrap_or(f64::MAX);
    let rows = cdspred_serve::logstore::export(&db, since, until, limit)
        .with_context(|| db.display().to_string())?;
    let mut text = String::new();
    match format.as_str() {
        "fasta" => {
            for r in &rows {
                text += &format!(
                    ">{} request={} time={:.3} table={} call={}\n{}\n",
                    r.read.read_id, r.request_id, r.time, r.table, r.read.call, r.read.sequence
                );
            }
        }
        "tsv" => {
            text += "request_id\ttime\tmodel_version\ttable\tid\tlength\tcoding_prob\tsense_prob\tstrand\tframe\tcall\tsequence\n";
            let num = |v: Option<f64>| v.map(|x| format!("{x:.4}")).unwrap_or_else(|| "NaN".into());
            for r in &rows {
                text += &format!(
                    "{}\t{:.3}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
                    r.request_id,
                    r.time,
                    r.model_version,
                    r.table,
                    r.read.read_id,
                    r.read.sequence.len(),
                    num(r.read.coding_prob),
                    num(r.read.sense_prob),
                    r.read.strand,
                    r.read.frame,
                    r.read.call,
                    r.read.sequence
                );
            }
        }
        f => bail!("--format {f:?}: use fasta or tsv"),
    }
    match output {
        Some(p) => std::fs::write(&p, text).with_context(|| p.display().to_string())?,
        None => print!("{text}"),
    }
    eprintln!("{} reads exported", rows.len());
    Ok(())
}

/// `cdspred health`: exit 0 when a server's readiness probe answers 200 (for container
/// health checks where no curl exists).
pub fn run_health(url: &str) -> Result<()> {
    use std::io::{Read, Write};
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| anyhow!("--url {url:?}: only http:// URLs"))?;
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/health/ready"),
    };
    let addr = std::net::ToSocketAddrs::to_socket_addrs(host)
        .with_context(|| format!("cannot resolve {host}"))?
        .next()
        .ok_or_else(|| anyhow!("cannot resolve {host}"))?;
    let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(3))
        .with_context(|| format!("cannot connect to {host}"))?;
    s.set_read_timeout(Some(Duration::from_secs(3)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )?;
    let mut head = [0u8; 12];
    s.read_exact(&mut head).context("no HTTP answer")?;
    let status = String::from_utf8_lossy(&head[9..12]).to_string();
    if status == "200" {
        println!("ready");
        Ok(())
    } else {
        bail!("{url} answered {status}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `[default: …]` in each option's help is the value `resolve` applies, so the
    /// one place defaults live and what `--help` and docs/cli.md say cannot drift.
    #[test]
    fn help_defaults_are_the_resolved_defaults() {
        let c = ServeOptions::default().resolve().unwrap();
        let resolved = [
            ("addr", c.addr.to_string()),
            ("data_dir", c.data_dir.display().to_string()),
            ("max_body_bytes", c.max_body_bytes.to_string()),
            ("max_reads", c.max_reads.to_string()),
            ("max_read_len", c.max_read_len.to_string()),
            (
                "request_timeout_ms",
                c.request_timeout.as_millis().to_string(),
            ),
            ("batching", c.batch.enabled.to_string()),
            ("max_batch_reads", c.batch.max_batch_reads.to_string()),
            ("max_wait_ms", c.batch.max_wait.as_millis().to_string()),
            (
                "queue_capacity_reads",
                c.batch.queue_capacity_reads.to_string(),
            ),
            ("log_enabled", c.log.enabled.to_string()),
            ("log_retention_rows", c.log.retention_rows.to_string()),
            ("log_retention_days", c.log.retention_days.to_string()),
            ("drift_interval_s", c.drift_interval.as_secs().to_string()),
            ("drift_window_reads", c.drift_window_reads.to_string()),
        ];
        let cmd = ServeOptions::augment_args(clap::Command::new("serve"));
        let mut checked = 0;
        for arg in cmd.get_arguments() {
            let id = arg.get_id().as_str();
            let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
            let Some(said) = help
                .split("[default: ")
                .nth(1)
                .and_then(|r| r.split(']').next())
            else {
                continue;
            };
            if let Some((_, v)) = resolved.iter().find(|r| r.0 == id) {
                assert_eq!(said, v, "--{id}");
                checked += 1;
            }
        }
        assert_eq!(checked, resolved.len());
        // A command-line value wins over the file's, the file's over the default.
        let cli = ServeOptions {
            max_reads: Some(5),
            ..Default::default()
        };
        let file = ServeOptions {
            max_reads: Some(7),
            max_read_len: Some(9),
            ..Default::default()
        };
        let c = cli.or(file).resolve().unwrap();
        assert_eq!(
            (c.max_reads, c.max_read_len, c.max_body_bytes),
            (5, 9, 10_000_000)
        );
    }
}
