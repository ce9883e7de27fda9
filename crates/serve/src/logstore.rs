//! The input/output log: every request's reads and predictions in a SQLite database
//! (WAL mode) in the data directory.
//!
//! Requests hand their entry to a writer thread through a bounded queue and never wait
//! for the disk. Each request is written in one transaction, so a crash (even
//! `kill -9`) leaves either the whole request or none of it. When the database cannot
//! be opened or written (read-only or full disk), the server keeps predicting; the
//! failure shows in `/health/ready` and in `cdspred_input_log_write_failures_total`.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use cdspred_core::{DnaSeq, TableId, UnknownTable};
use cdspred_model::result::{BadWord, ReadFrame, ReadStrand};
use cdspred_model::Call;
use rusqlite::{params, Connection};
use serde::Serialize;

use crate::metrics::Metrics;

/// Log settings.
#[derive(Debug, Clone)]
pub struct LogConfig {
    /// The database file.
    pub path: PathBuf,
    /// Whether to log at all.
    pub enabled: bool,
    /// Keep at most this many read rows (oldest requests go first).
    pub retention_rows: u64,
    /// Keep requests for this many days.
    pub retention_days: f64,
}

/// One read as logged.
#[derive(Debug, Clone, Serialize)]
pub struct LoggedRead {
    /// Read id.
    pub read_id: String,
    /// Sequence (upper-case).
    pub sequence: String,
    /// Coding probability (None for too-short reads).
    pub coding_prob: Option<f64>,
    /// Sense probability.
    pub sense_prob: Option<f64>,
    /// Strand of the best hypothesis.
    pub strand: ReadStrand,
    /// Frame of the best hypothesis.
    pub frame: ReadFrame,
    /// The call.
    pub call: Call,
}

/// One request as logged.
#[derive(Debug, Clone)]
pub struct LogEntry {
    /// Request id.
    pub request_id: String,
    /// Unix time in seconds.
    pub time: f64,
    /// Model version label.
    pub model_version: String,
    /// Genetic code.
    pub table: u32,
    /// Its reads.
    pub reads: Vec<LoggedRead>,
}

/// What `/health/ready` reports about the log.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LogState {
    /// Logging switched on.
    pub enabled: bool,
    /// The last write (or the opening) succeeded.
    pub ok: bool,
    /// The last error, if any.
    pub last_error: Option<String>,
    /// Requests written since start.
    pub requests_written: u64,
    /// The database file.
    pub path: String,
}

/// Handle to the log writer.
pub struct LogStore {
    tx: Option<SyncSender<LogEntry>>,
    state: Arc<Mutex<LogState>>,
    metrics: Arc<Metrics>,
}

/// Seconds since the Unix epoch.
pub fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

const SCHEMA: &str = "
PRAGMA journal_mode=WAL;
PRAGMA synchronous=NORMAL;
PRAGMA foreign_keys=ON;
CREATE TABLE IF NOT EXISTS requests (
  id TEXT PRIMARY KEY, time REAL NOT NULL, model_version TEXT NOT NULL,
  genetic_code INTEGER NOT NULL, n_reads INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS requests_time ON requests(time);
CREATE TABLE IF NOT EXISTS reads (
  request_id TEXT NOT NULL REFERENCES requests(id) ON DELETE CASCADE,
  idx INTEGER NOT NULL, read_id TEXT NOT NULL, sequence TEXT NOT NULL, length INTEGER NOT NULL,
  coding_prob REAL, sense_prob REAL, strand TEXT NOT NULL, frame TEXT NOT NULL, call TEXT NOT NULL,
  PRIMARY KEY (request_id, idx));
";

/// Opens (creating) the database with the schema.
pub fn open(path: &Path) -> rusqlite::Result<Connection> {
    let c = Connection::open(path)?;
    c.busy_timeout(std::time::Duration::from_secs(5))?;
    c.execute_batch(SCHEMA)?;
    Ok(c)
}

impl LogStore {
    /// Starts the writer thread (or a disabled store).
    pub fn start(cfg: LogConfig, metrics: Arc<Metrics>) -> LogStore {
        let state = Arc::new(Mutex::new(LogState {
            enabled: cfg.enabled,
            ok: true,
            last_error: None,
            requests_written: 0,
            path: cfg.path.display().to_string(),
        }));
        if !cfg.enabled {
            return LogStore {
                tx: None,
                state,
                metrics,
            };
        }
        let (tx, rx) = sync_channel::<LogEntry>(1024);
        let st = state.clone();
        let m = metrics.clone();
        std::thread::Builder::new()
            .name("input-log".into())
            .spawn(move || {
                let mut conn: Option<Connection> = None;
                let mut since_prune = 0u32;
                // Read rows in the database, kept in memory so the row limit is checked
                // after every write without counting the table.
                let mut rows: Option<u64> = None;
                let fail = |e: String| {
                    tracing::warn!(error = %e, "input log write failed");
                    m.log_failure();
                    let mut s = st.lock().unwrap_or_else(|p| p.into_inner());
                    s.ok = false;
                    s.last_error = Some(e);
                };
                match open(&cfg.path) {
                    Ok(c) => conn = Some(c),
                    Err(e) => fail(format!("{}: {e}", cfg.path.display())),
                }
                for entry in rx {
                    if conn.is_none() {
                        conn = open(&cfg.path)
                            .map_err(|e| fail(format!("{}: {e}", cfg.path.display())))
                            .ok();
                    }
                    let Some(c) = conn.as_mut() else { continue };
                    if rows.is_none() {
                        rows = c
                            .query_row("SELECT COUNT(*) FROM reads", [], |r| r.get::<_, i64>(0))
                            .ok()
                            .map(|n| n as u64);
                    }
                    let written = match write(c, &entry) {
                        Ok(()) => {
                            rows = rows.map(|n| n + entry.reads.len() as u64);
                            true
                        }
                        Err(e) => {
                            fail(format!("{}: {e}", cfg.path.display()));
                            false
                        }
                    };
                    since_prune += 1;
                    let mut pruned = true;
                    if since_prune >= 50 || rows.is_some_and(|n| n > cfg.retention_rows) {
                        since_prune = 0;
                        match prune(c, cfg.retention_rows, cfg.retention_days) {
                            Ok(left) => rows = Some(left),
                            Err(e) => {
                                fail(format!("retention: {e}"));
                                pruned = false;
                            }
                        }
                    }
                    // Counted once retention has been applied, so a reader who sees
                    // the count also sees the pruned table.
                    if written {
                        let mut s = st.lock().unwrap_or_else(|p| p.into_inner());
                        s.ok = pruned;
                        s.requests_written += 1;
                    }
                }
                if let Some(c) = conn.as_mut() {
                    let _ = prune(c, cfg.retention_rows, cfg.retention_days);
                }
            })
            .expect("spawning the log thread");
        LogStore {
            tx: Some(tx),
            state,
            metrics,
        }
    }

    /// Queues an entry; never blocks. A full queue counts as a failure.
    pub fn log(&self, entry: LogEntry) {
        let Some(tx) = &self.tx else { return };
        match tx.try_send(entry) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                self.metrics.log_failure();
                let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
                s.last_error = Some("log queue full: entry dropped".into());
            }
            Err(TrySendError::Disconnected(_)) => self.metrics.log_failure(),
        }
    }

    /// The current state.
    pub fn state(&self) -> LogState {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Stops accepting entries; the writer drains what is queued and exits.
    pub fn close(&mut self) {
        self.tx = None;
    }
}

/// A logged word (strand, frame or call) read back as its type; a word that is not
/// one is an error for that column, not a guess.
fn word<T: std::str::FromStr<Err = BadWord>>(
    r: &rusqlite::Row<'_>,
    i: usize,
) -> rusqlite::Result<T> {
    let s: String = r.get(i)?;
    s.parse().map_err(|e: BadWord| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn write(c: &mut Connection, e: &LogEntry) -> rusqlite::Result<()> {
    let tx = c.transaction()?;
    tx.execute(
        "INSERT INTO requests (id, time, model_version, genetic_code, n_reads) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![e.request_id, e.time, e.model_version, e.table, e.reads.len() as i64],
    )?;
    {
        let mut st = tx.prepare_cached(
            "INSERT INTO reads (request_id, idx, read_id, sequence, length, coding_prob, sense_prob, strand, frame, call) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?;
        for (i, r) in e.reads.iter().enumerate() {
            st.execute(params![
                e.request_id,
                i as i64,
                r.read_id,
                r.sequence,
                r.sequence.len() as i64,
                r.coding_prob,
                r.sense_prob,
                r.strand.as_str(),
                r.frame.as_str(),
                r.call.as_str()
            ])?;
        }
    }
    tx.commit()
}

/// Applies retention; returns the read rows left.
fn prune(c: &mut Connection, max_rows: u64, days: f64) -> rusqlite::Result<u64> {
    let cutoff = now() - days * 86_400.0;
    let tx = c.transaction()?;
    tx.execute("DELETE FROM requests WHERE time < ?1", params![cutoff])?;
    let total: i64 = tx.query_row("SELECT COUNT(*) FROM reads", [], |r| r.get(0))?;
    if total as u64 > max_rows {
        // Drop the oldest whole requests until the read count fits.
        let mut excess = total as u64 - max_rows;
        let mut victims = Vec::new();
        {
            let mut st = tx.prepare("SELECT id, n_reads FROM requests ORDER BY time, id")?;
            let mut rows = st.query([])?;
            while excess > 0 {
                let Some(r) = rows.next()? else { break };
                let (id, n): (String, i64) = (r.get(0)?, r.get(1)?);
                victims.push(id);
                excess = excess.saturating_sub(n as u64);
            }
        }
        for id in victims {
            tx.execute("DELETE FROM requests WHERE id = ?1", params![id])?;
        }
    }
    let left: i64 = tx.query_row("SELECT COUNT(*) FROM reads", [], |r| r.get(0))?;
    tx.commit()?;
    Ok(left as u64)
}

/// A logged read with its request's context, for exports and drift reports.
#[derive(Debug, Clone, Serialize)]
pub struct ExportRow {
    /// Request id.
    pub request_id: String,
    /// Unix time.
    pub time: f64,
    /// Genetic code.
    pub table: u32,
    /// Model version.
    pub model_version: String,
    /// The read.
    #[serde(flatten)]
    pub read: LoggedRead,
}

/// A logged read whose genetic code is not a known table (the log was edited or
/// damaged).
#[derive(Debug, thiserror::Error)]
#[error("request {request_id}: {source}")]
pub struct BadLoggedTable {
    /// The request that logged it.
    pub request_id: String,
    /// The number found.
    pub source: UnknownTable,
}

/// The last `last` of exported rows as reads for a drift check: base codes with their
/// genetic codes, the table number checked again (the log is read back from disk).
/// Reads whose sequence no longer parses are left out.
pub fn drift_reads(
    rows: Vec<ExportRow>,
    last: usize,
) -> Result<Vec<(Vec<u8>, TableId)>, BadLoggedTable> {
    let skip = rows.len().saturating_sub(last);
    let mut reads = Vec::with_capacity(rows.len() - skip);
    for r in rows.into_iter().skip(skip) {
        let table = TableId::new(r.table).map_err(|source| BadLoggedTable {
            request_id: r.request_id.clone(),
            source,
        })?;
        if let Ok(s) = DnaSeq::from_ascii(r.read.sequence.as_bytes()) {
            if !s.is_empty() {
                reads.push((s.codes().to_vec(), table));
            }
        }
    }
    Ok(reads)
}

/// Reads logged rows in `[since, until)` (unix seconds), oldest first, at most `limit`.
pub fn export(
    path: &Path,
    since: f64,
    until: f64,
    limit: usize,
) -> rusqlite::Result<Vec<ExportRow>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let c = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    // A log whose writer has not created the tables yet is an empty log.
    let tables: i64 = c.query_row(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ('requests', 'reads')",
        [],
        |r| r.get(0),
    )?;
    if tables < 2 {
        return Ok(Vec::new());
    }
    let mut st = c.prepare(
        "SELECT q.id, q.time, q.genetic_code, q.model_version, r.read_id, r.sequence, r.coding_prob, r.sense_prob, r.strand, r.frame, r.call \
         FROM requests q JOIN reads r ON r.request_id = q.id WHERE q.time >= ?1 AND q.time < ?2 ORDER BY q.time, q.id, r.idx LIMIT ?3",
    )?;
    let rows = st.query_map(params![since, until, limit as i64], |r| {
        Ok(ExportRow {
            request_id: r.get(0)?,
            time: r.get(1)?,
            table: r.get(2)?,
            model_version: r.get(3)?,
            read: LoggedRead {
                read_id: r.get(4)?,
                sequence: r.get(5)?,
                coding_prob: r.get(6)?,
                sense_prob: r.get(7)?,
                strand: word(r, 8)?,
                frame: word(r, 9)?,
                call: word(r, 10)?,
            },
        })
    })?;
    rows.collect()
}
