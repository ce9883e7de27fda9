//! Dynamic batching.
//!
//! Reads from concurrent requests share one bounded queue. A single batcher task takes
//! the first waiting request, keeps collecting until `max_batch_reads` reads are
//! gathered or `max_wait` has passed since that request arrived, runs the batch on a
//! blocking thread, and hands each request its own predictions. While a batch runs,
//! new requests pile up and form the next batch. When the queue holds
//! `queue_capacity_reads` reads, new requests are refused at once (the API answers 429
//! with `Retry-After`) instead of making everyone slower.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cdspred_core::{DnaSeq, TableId};
use cdspred_model::Prediction;
use tokio::sync::{mpsc, oneshot};

use crate::metrics::Metrics;

/// The model behind the service.
pub trait Backend: Send + Sync + 'static {
    /// Predicts reads under one genetic code and threshold (results in input order).
    fn predict(&self, reads: &[&[u8]], table: TableId, threshold: f32) -> Vec<Prediction>;
}

/// Batching settings.
#[derive(Debug, Clone)]
pub struct BatchConfig {
    /// Batch across requests; when false each request is predicted on its own.
    pub enabled: bool,
    /// Run a batch once it holds this many reads.
    pub max_batch_reads: usize,
    /// …or once its first request has waited this long.
    pub max_wait: Duration,
    /// Refuse new requests while this many reads wait.
    pub queue_capacity_reads: usize,
}

/// Why a request could not be queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubmitError {
    /// The queue is full; retry later.
    QueueFull,
    /// The batcher has stopped.
    Closed,
}

struct Job {
    reads: Vec<DnaSeq>,
    table: TableId,
    threshold: f32,
    enqueued: Instant,
    done: oneshot::Sender<Vec<Prediction>>,
}

/// Handle for submitting reads.
#[derive(Clone)]
pub struct Batcher {
    tx: mpsc::UnboundedSender<Job>,
    depth: Arc<AtomicUsize>,
    cfg: BatchConfig,
}

impl Batcher {
    /// Starts the batcher task on the current runtime.
    pub fn start(backend: Arc<dyn Backend>, cfg: BatchConfig, metrics: Arc<Metrics>) -> Batcher {
        let (tx, rx) = mpsc::unbounded_channel::<Job>();
        let depth = Arc::new(AtomicUsize::new(0));
        tokio::spawn(run(rx, backend, cfg.clone(), metrics, depth.clone()));
        Batcher { tx, depth, cfg }
    }

    /// Reads waiting in the queue.
    pub fn depth(&self) -> usize {
        self.depth.load(Ordering::Relaxed)
    }

    /// Queues reads and waits for their predictions.
    pub async fn submit(
        &self,
        reads: Vec<DnaSeq>,
        table: TableId,
        threshold: f32,
    ) -> Result<Vec<Prediction>, SubmitError> {
        let n = reads.len();
        // Reserve room first so concurrent submitters cannot overshoot the bound.
        let prev = self.depth.fetch_add(n, Ordering::AcqRel);
        if prev > 0 && prev + n > self.cfg.queue_capacity_reads {
            self.depth.fetch_sub(n, Ordering::AcqRel);
            return Err(SubmitError::QueueFull);
        }
        let (done, rx) = oneshot::channel();
        let job = Job {
            reads,
            table,
            threshold,
            enqueued: Instant::now(),
            done,
        };
        if self.tx.send(job).is_err() {
            self.depth.fetch_sub(n, Ordering::AcqRel);
            return Err(SubmitError::Closed);
        }
        rx.await.map_err(|_| SubmitError::Closed)
    }
}

async fn run(
    mut rx: mpsc::UnboundedReceiver<Job>,
    backend: Arc<dyn Backend>,
    cfg: BatchConfig,
    metrics: Arc<Metrics>,
    depth: Arc<AtomicUsize>,
) {
    while let Some(first) = rx.recv().await {
        let mut n = first.reads.len();
        let deadline = tokio::time::Instant::from_std(first.enqueued + cfg.max_wait);
        let mut jobs = vec![first];
        while cfg.enabled && n < cfg.max_batch_reads {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(j)) => {
                    n += j.reads.len();
                    jobs.push(j);
                }
                _ => break,
            }
        }
        depth.fetch_sub(n, Ordering::AcqRel);
        let backend = backend.clone();
        let metrics = metrics.clone();
        let task = tokio::task::spawn_blocking(move || run_batch(backend.as_ref(), jobs, &metrics));
        if cfg.enabled {
            // One batch at a time: the next one gathers while this one runs.
            let _ = task.await;
        }
    }
}

fn run_batch(backend: &dyn Backend, jobs: Vec<Job>, metrics: &Metrics) {
    let started = Instant::now();
    let waits: Vec<f64> = jobs
        .iter()
        .map(|j| (started - j.enqueued).as_secs_f64())
        .collect();
    let total: usize = jobs.iter().map(|j| j.reads.len()).sum();
    // Requests with the same code and threshold share one call.
    let mut groups: Vec<((TableId, u32), Vec<usize>)> = Vec::new();
    for (i, j) in jobs.iter().enumerate() {
        let key = (j.table, j.threshold.to_bits());
        match groups.iter_mut().find(|g| g.0 == key) {
            Some(g) => g.1.push(i),
            None => groups.push((key, vec![i])),
        }
    }
    let mut results: Vec<Option<Vec<Prediction>>> = (0..jobs.len()).map(|_| None).collect();
    let mut coding = 0usize;
    for ((table, thr), idx) in groups {
        let reads: Vec<&[u8]> = idx
            .iter()
            .flat_map(|&i| jobs[i].reads.iter().map(|r| r.codes()))
            .collect();
        let mut preds = backend
            .predict(&reads, table, f32::from_bits(thr))
            .into_iter();
        for &i in &idx {
            let mine: Vec<Prediction> = preds.by_ref().take(jobs[i].reads.len()).collect();
            coding += mine
                .iter()
                .filter(|p| p.call == cdspred_model::Call::Coding)
                .count();
            results[i] = Some(mine);
        }
    }
    metrics.batch(total, coding, &waits, started.elapsed().as_secs_f64());
    for (job, res) in jobs.into_iter().zip(results) {
        let _ = job.done.send(res.unwrap_or_default());
    }
}
