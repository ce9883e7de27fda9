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
use cdspred_model::estimate::{survey, ErrorEstimate, ErrorHint, Verdict};
use cdspred_model::files::ModelFiles;
use cdspred_model::{Predictor, TableContext};
use clap::Args;

use crate::output::{preamble, write_record, Format};
use crate::sink::Sink;

#[derive(Args)]
pub struct PredictArgs {
    /// FASTA/FASTQ files, plain, gzip or zstd (`-` for standard input).
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
    /// What the model is told about the reads' sequencing errors: `auto` surveys the
    /// first reads (up to 65,536) and tells it the `indel1` rate when they clearly carry
    /// indels, the `indel0.5` rate when they show some sign of them, and sends them to
    /// the clean expert when they clearly carry none, else tells nothing (see the model
    /// card); a profile name tells it that profile's indel rate (none, sub0.5, sub1,
    /// illumina, adna, indel0.5, indel1, homopolymer1, mixed4, long6; those without
    /// indels select the clean expert); `unknown` tells the main network nothing (it
    /// assumes the mix it was trained on).
    #[arg(long, default_value = "auto", value_parser = parse_error_hint)]
    errors: ErrorHint,
    /// Only survey the reads: print what `--errors auto` would tell the model, as a
    /// value for `--errors` (`indel1`, `indel0.5`, `none` or `unknown`), and exit. A sharded run
    /// surveys the whole input once and passes the value to every shard.
    #[arg(long)]
    survey_errors: bool,
    /// Output file (default: standard output); `.gz` means gzip. Written beside it and
    /// renamed over it when the run succeeds; a failed run keeps its rows in
    /// FILE.partial and leaves FILE as it was.
    #[arg(short, long)]
    output: Option<PathBuf>,
}

/// Parses `--errors auto|unknown|PROFILE` (an unknown name is a usage error).
pub fn parse_error_hint(name: &str) -> Result<ErrorHint, String> {
    match name {
        "auto" => Ok(ErrorHint::Auto),
        "unknown" => Ok(ErrorHint::Fixed(None)),
        _ => cdspred_data::ErrorProfile::named(name)
            .map(|p| ErrorHint::Fixed(Some(p.indels_per_100nt() as f32)))
            .map_err(|e| format!("{e}; or auto, unknown")),
    }
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

/// Surveys the first chunks of the input for `--errors auto`; returns the estimate and
/// the chunks read (the last one may carry an input error).
fn survey_first(
    base: &Predictor,
    rx: &mpsc::Receiver<Chunk>,
    table: &TableContext,
    threads: usize,
) -> (ErrorEstimate, Vec<Chunk>) {
    let mut est = ErrorEstimate::default();
    let mut first = Vec::new();
    while !est.settled() {
        let Ok(chunk) = rx.recv() else { break };
        let reads: Vec<&[u8]> = chunk.0.iter().map(|r| r.seq().codes()).collect();
        survey(base, &mut est, &reads, table, threads);
        let failed = chunk.1.is_some();
        first.push(chunk);
        if failed {
            break;
        }
    }
    (est, first)
}

/// The `--errors` value that tells the model what the survey would: `indel1` or
/// `indel0.5` (their rates are the survey's hints), `none` (no indels: the clean
/// expert) or `unknown`.
pub fn errors_value(est: &ErrorEstimate) -> &'static str {
    match est.verdict() {
        Verdict::Indels => "indel1",
        Verdict::SomeIndels => "indel0.5",
        Verdict::Clean => "none",
        Verdict::Unclear | Verdict::TooFew => "unknown",
    }
}

/// Runs `cdspred predict`; `quiet` (`-q`) also hides the progress display.
pub fn run(a: PredictArgs, quiet: bool) -> Result<()> {
    // Every input must open before anything is surveyed or any output created.
    for path in a.inputs.iter().filter(|p| p.as_str() != "-") {
        if let Err(e) = std::fs::File::open(path) {
            return Err(InputError(FastxError::cannot_open(path, &e)).into());
        }
    }
    let code = a.table.code();
    let files = load_model(a.model.as_deref())?;
    tracing::info!(model = %files.card.version, table = a.table.get(), "model loaded");
    let base = Predictor::new(&files);
    let table = TableContext::new(code.clone());
    let threads = thread_count(a.threads);
    let (tx, rx) = mpsc::sync_channel::<Chunk>(2);
    let inputs = a.inputs.clone();
    let reader = std::thread::spawn(move || reader_thread(inputs, tx));
    // With `--errors auto`, the first chunks are surveyed before any is predicted.
    let mut first: Vec<Chunk> = Vec::new();
    let predictor = match a.errors {
        ErrorHint::Fixed(h) if !a.survey_errors => base.with_error_hint(h),
        _ => {
            let est;
            (est, first) = survey_first(&base, &rx, &table, threads);
            tracing::info!("sequencing errors: {}", est.describe());
            if a.survey_errors {
                if let Some((_, Some(e))) = first.pop() {
                    return Err(e.into());
                }
                println!("{}", errors_value(&est));
                return Ok(());
            }
            base.with_error_hint(est.hint())
        }
    };
    let mut out = Sink::open(a.output.as_deref())?;
    let progress = !quiet && std::io::stderr().is_terminal();
    let written = write_all(&a, &predictor, &table, (first, rx), &mut out, progress);
    reader
        .join()
        .map_err(|_| anyhow::anyhow!("reader thread failed"))?;
    match written {
        Ok((n, None)) => {
            out.commit()?;
            tracing::info!(reads = n, "done");
            Ok(())
        }
        Ok((_, Some(e))) => {
            keep_partial(out);
            Err(e.into())
        }
        Err(e) => {
            keep_partial(out);
            Err(e)
        }
    }
}

/// After a failure: the output target stays as it was; the rows written are kept
/// beside it.
fn keep_partial(out: Sink) {
    if let Some(p) = out.abandon() {
        tracing::warn!("rows written before the error are in {}", p.display());
    }
}

/// Predicts every chunk (the surveyed ones first) and writes the records; returns the
/// reads written and the input error that stopped reading, if any.
fn write_all(
    a: &PredictArgs,
    predictor: &Predictor,
    table: &TableContext,
    (first, rx): (Vec<Chunk>, mpsc::Receiver<Chunk>),
    out: &mut Sink,
    progress: bool,
) -> Result<(u64, Option<InputError>)> {
    let code = a.table.code();
    let threads = thread_count(a.threads);
    let out_name = out.name();
    out.write_all(preamble(a.format).as_bytes())
        .with_context(|| format!("writing {out_name}"))?;
    let bar = progress.then(|| {
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
    for (records, err) in first.into_iter().chain(rx) {
        let reads: Vec<&[u8]> = records.iter().map(|r| r.seq().codes()).collect();
        let preds = predictor.predict_batch(&reads, table, a.threshold, threads);
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
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok((n, failure))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn survey_values_parse_to_the_hints_the_survey_gives() {
        for (confident, shifted) in [(0, 0), (200, 5), (200, 30), (200, 150)] {
            let est = ErrorEstimate {
                reads: 1000,
                bases: 300_000,
                usable: 1000,
                confident,
                shifted,
                ..Default::default()
            };
            assert_eq!(
                parse_error_hint(errors_value(&est)).unwrap(),
                ErrorHint::Fixed(est.hint()),
                "{}",
                est.describe()
            );
        }
    }
}
