//! `cdspred predict`: stream reads, predict in parallel, write in input order.
//!
//! A reader thread parses records into chunks and hands them over a bounded channel
//! (so memory stays bounded whatever the input size); the main thread predicts each
//! chunk on `--threads` threads and writes it before taking the next. Output does not
//! depend on the thread count. On bad input, every row already written stays complete
//! and the command fails naming the file, record and position.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use anyhow::{Context, Result};
use cdspred_core::fastx::{FastxError, FastxReader, Record};
use cdspred_core::TableId;
use cdspred_model::files::ModelFiles;
use cdspred_model::{Predictor, TableContext};
use clap::Args;

use crate::output::{preamble, write_record, Format};

#[derive(Args)]
pub struct PredictArgs {
    /// FASTA/FASTQ files, plain or gzip (`-` for standard input).
    #[arg(default_value = "-")]
    inputs: Vec<String>,
    /// NCBI genetic code (11 bacteria/archaea, 4 Mycoplasma, 25 SR1, 15 …).
    #[arg(long, default_value_t = TableId::BACTERIAL)]
    table: TableId,
    /// Worker threads (0 = all cores). Output is the same for any number.
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Output format.
    #[arg(long, value_enum, default_value = "tsv")]
    format: Format,
    /// Model directory (default: the model embedded in this binary).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Call a read coding when coding_prob ≥ this (0–1).
    #[arg(long, default_value_t = 0.5, value_parser = crate::config::probability)]
    threshold: f32,
    /// The reads' sequencing-error profile, when known: none, sub0.5, sub1, illumina,
    /// adna, indel1, homopolymer1, mixed4, long6. Without it the model assumes the mix
    /// it was trained on.
    #[arg(long, value_parser = parse_error_hint)]
    errors: Option<ErrorHint>,
    /// Output file (default: standard output).
    #[arg(short, long)]
    output: Option<PathBuf>,
}

/// A sequencing-error profile named on the command line, as the model's hint.
#[derive(Debug, Clone, Copy)]
pub struct ErrorHint(pub f32);

/// Parses `--errors NAME` (an unknown name is a usage error).
pub fn parse_error_hint(name: &str) -> Result<ErrorHint, String> {
    cdspred_data::ErrorProfile::named(name)
        .map(|p| ErrorHint(p.indels_per_100nt() as f32))
        .map_err(|e| e.to_string())
}

/// Bad input data (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct InputError(#[from] pub FastxError);

/// The model from `--model`, or the embedded default.
pub fn load_model(dir: Option<&Path>) -> Result<ModelFiles> {
    Ok(match dir {
        Some(d) => ModelFiles::load(d)?,
        None => cdspred_model::embedded::default_model()?,
    })
}

/// `0` means all cores.
pub fn thread_count(n: usize) -> usize {
    if n == 0 {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    } else {
        n
    }
}

const CHUNK: usize = 4096;

type Chunk = (Vec<Record>, Option<InputError>);

fn reader_thread(inputs: Vec<String>, tx: mpsc::SyncSender<Chunk>) {
    let mut buf = Vec::with_capacity(CHUNK);
    for path in inputs {
        let mut rd = match FastxReader::open(&path) {
            Ok(r) => r,
            Err(e) => {
                let _ = tx.send((std::mem::take(&mut buf), Some(InputError(e))));
                return;
            }
        };
        loop {
            match rd.next_record() {
                Ok(Some(r)) => {
                    buf.push(r);
                    if buf.len() == CHUNK
                        && tx
                            .send((std::mem::replace(&mut buf, Vec::with_capacity(CHUNK)), None))
                            .is_err()
                    {
                        return;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    let _ = tx.send((std::mem::take(&mut buf), Some(InputError(e))));
                    return;
                }
            }
        }
    }
    if !buf.is_empty() {
        let _ = tx.send((buf, None));
    }
}

pub fn run(a: PredictArgs) -> Result<()> {
    let code = a.table.code();
    let files = load_model(a.model.as_deref())?;
    tracing::info!(model = %files.card.version, table = a.table.get(), "model loaded");
    let predictor = Predictor::new(&files).with_error_hint(a.errors.map(|h| h.0));
    let table = TableContext::new(code.clone());
    let threads = thread_count(a.threads);
    let mut out: Box<dyn Write> = match &a.output {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let out_name = a
        .output
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "<stdout>".into());
    out.write_all(preamble(a.format).as_bytes())
        .with_context(|| format!("writing {out_name}"))?;
    let (tx, rx) = mpsc::sync_channel::<Chunk>(2);
    let inputs = a.inputs.clone();
    let reader = std::thread::spawn(move || reader_thread(inputs, tx));
    let bar = std::io::stderr().is_terminal().then(|| {
        let b = indicatif::ProgressBar::new_spinner();
        b.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {pos} reads {per_sec}")
                .expect("valid template"),
        );
        b
    });
    let mut text = String::new();
    let mut n = 0u64;
    let mut failure = None;
    for (records, err) in rx {
        let reads: Vec<&[u8]> = records.iter().map(|r| r.seq().codes()).collect();
        let preds = predictor.predict_batch(&reads, &table, a.threshold, threads);
        text.clear();
        for (r, p) in records.iter().zip(&preds) {
            write_record(&mut text, a.format, r.id(), r.seq().codes(), p, &code);
        }
        out.write_all(text.as_bytes())
            .with_context(|| format!("writing {out_name}"))?;
        n += records.len() as u64;
        if let Some(b) = &bar {
            b.set_position(n);
        }
        if err.is_some() {
            failure = err;
            break;
        }
    }
    out.flush().with_context(|| format!("writing {out_name}"))?;
    reader
        .join()
        .map_err(|_| anyhow::anyhow!("reader thread failed"))?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    tracing::info!(reads = n, "done");
    match failure {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}
