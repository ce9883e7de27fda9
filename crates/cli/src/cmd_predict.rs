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
use std::sync::Arc;

use anyhow::Result;
use cdspred_core::fastx::{FastxError, FastxReader, Record};
use cdspred_core::TableId;
use cdspred_model::estimate::{survey, ErrorEstimate, ErrorHint, Verdict};
use cdspred_model::files::ModelFiles;
use cdspred_model::hmm::SelfTrainMode;
use cdspred_model::{Predictor, TableContext};
use clap::Args;

use cdspred_model::predict::{Call, Prediction};
use cdspred_model::result::SeqNames;

use crate::output::{preamble, write_record, Format, Provenance, Rec};
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
    /// the clean expert when they clearly carry none — to the pristine expert when
    /// they carry no substitutions either (few stops in coding frames) —; when too few
    /// reads of 250–400 nt decide, 300-nt windows of the sequences above 400 nt (long
    /// reads, contigs) can show indels, and the `long6` rate is told — the `mixed4`
    /// rate when the reads' own gene calls then show few lasting frame shifts
    /// (docs/genes.md); else it tells nothing (see the model card); a profile name
    /// tells it that profile's indel rate
    /// (none, sub0.5, sub1, illumina, adna, indel0.5, indel1, homopolymer1, mixed4,
    /// long6; `none` selects the pristine expert, the others without indels the clean
    /// expert); `unknown` tells the main network nothing (it assumes the mix it was
    /// trained on).
    #[arg(long, default_value = "auto", value_parser = parse_error_hint)]
    errors: ErrorHint,
    /// Only survey the reads: print what `--errors auto` would tell the model, as a
    /// value for `--errors` (`indel1`, `indel0.5`, `long6`, `none`, `sub1` or `unknown`), and exit. A sharded run
    /// surveys the whole input once and passes the value to every shard. Long reads
    /// surveyed `long6` may still be told the `mixed4` rate in a run, once their gene
    /// calls are made (see `--errors`).
    #[arg(long)]
    survey_errors: bool,
    /// Self-training: the first reads (up to 30,000 of 100–400 nt; of 40–400 nt where
    /// the reads are not told indels), as the network calls them, teach a chain model
    /// of the sample's own codon usage, which then adds to `coding_prob` — of every
    /// read told or surveyed to carry indels (and picks its strand), otherwise of reads
    /// under 150 nt only (docs/model-card.md, "Self-training"). `auto`: when they hold
    /// 1,000 confidently coding reads; `on`: from 300; `off`: never. Needs a model with
    /// chain counts (the default has them). Long sequences (over 400 nt) learn gene
    /// models together the same way, one per GC range (0.10 wide, every 0.05), from
    /// the first records (up to 32 MB; a range needs 6,000 codons in confident calls):
    /// long reads told indels are decoded with them; clean contigs too short to
    /// teach themselves borrow the one for their GC content (learnt when some
    /// contig is under 18 kb; `auto` and `on` alike; docs/genes.md).
    #[arg(long, default_value = "auto", value_parser = parse_self_train)]
    self_train: SelfTrainMode,
    /// Output file (default: standard output); `.gz` means gzip. Written beside it and
    /// renamed over it when the run succeeds; a failed run keeps its rows in
    /// FILE.partial and leaves FILE as it was.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Also write GFF3 to FILE in the same pass (staged like -o; `.gz` means gzip; `-`
    /// is standard output when -o names a file).
    #[arg(long, value_name = "FILE")]
    gff3: Option<PathBuf>,
    /// Also write the proteins (faa) to FILE in the same pass.
    #[arg(long, value_name = "FILE")]
    faa: Option<PathBuf>,
    /// Also write the coding-strand nucleotides (ffn) to FILE in the same pass.
    #[arg(long, value_name = "FILE")]
    ffn: Option<PathBuf>,
    /// Write the run's counts as JSON to FILE, in MultiQC's custom-content format
    /// (name it `*_mqc.json` for MultiQC to find it; `-`: standard output).
    #[arg(long, value_name = "FILE")]
    stats: Option<PathBuf>,
    /// Sample name in the stats file (default: the first input's name without its
    /// extensions, or `stdin`).
    #[arg(long, value_name = "NAME")]
    sample: Option<String>,
}

/// Parses `--errors auto|unknown|PROFILE` (an unknown name is a usage error).
pub fn parse_error_hint(name: &str) -> Result<ErrorHint, String> {
    match name {
        "auto" => Ok(ErrorHint::Auto),
        "unknown" => Ok(ErrorHint::Fixed(None)),
        "none" => Ok(ErrorHint::ErrorFree),
        _ => cdspred_data::ErrorProfile::named(name)
            .map(|p| ErrorHint::Fixed(Some(p.indels_per_100nt() as f32)))
            .map_err(|e| format!("{e}; or auto, unknown")),
    }
}

/// Bad input data (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct InputError(#[from] pub FastxError);

/// A usage error found after parsing, e.g. two outputs to one file (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Standard output was closed by its reader (`| head`): the run ends quietly with
/// status 0.
#[derive(Debug, thiserror::Error)]
#[error("standard output closed")]
pub struct PipeClosed;

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

/// Parses `--self-train` (`auto`, `on`, `off`).
pub fn parse_self_train(s: &str) -> Result<SelfTrainMode, String> {
    s.parse()
}

/// Reads further chunks into `first` until it holds the reads self-training looks at
/// (at most [`cdspred_model::hmm::MAX_TEACHING_READS`] of `lengths`), the whole input,
/// [`TEACHING_BASES`] bases or [`TEACHING_RECORDS`] records held; stops at an input
/// error.
fn gather_teaching_reads(
    rx: &mpsc::Receiver<Chunk>,
    first: &mut Vec<Chunk>,
    lengths: std::ops::RangeInclusive<usize>,
) {
    use cdspred_model::hmm::MAX_TEACHING_READS;
    // (teaching reads, bases, records) of a chunk.
    let count = |c: &Chunk| -> (usize, usize, usize) {
        let teaching =
            c.0.iter()
                .filter(|r| lengths.contains(&r.seq().len()))
                .count();
        (teaching, c.0.iter().map(|r| r.seq().len()).sum(), c.0.len())
    };
    let add =
        |a: (usize, usize, usize), b: (usize, usize, usize)| (a.0 + b.0, a.1 + b.1, a.2 + b.2);
    let (mut have, mut bases, mut records) = first.iter().map(count).fold((0, 0, 0), add);
    while have < MAX_TEACHING_READS
        && bases < TEACHING_BASES
        && records < TEACHING_RECORDS
        && first.last().is_none_or(|c| c.1.is_none())
    {
        let Ok(chunk) = rx.recv() else { break };
        (have, bases, records) = add((have, bases, records), count(&chunk));
        first.push(chunk);
    }
}

/// Most bases held in memory while gathering the reads to self-train on.
const TEACHING_BASES: usize = 32 << 20;
/// Most records held while gathering (short reads that cannot teach count here).
const TEACHING_RECORDS: usize = 65_536;

/// The `--errors` value that tells the model what the survey would: `indel1` or
/// `indel0.5` (their rates are the survey's hints), `long6` (long sequences with
/// indels), `none` (no errors: the pristine expert), `sub1` (no indels, but
/// substitutions: the clean expert) or `unknown`.
pub fn errors_value(est: &ErrorEstimate) -> &'static str {
    match est.verdict() {
        Verdict::Indels => "indel1",
        Verdict::LongIndels => "long6",
        Verdict::SomeIndels => "indel0.5",
        Verdict::Clean if est.error_free() => "none",
        Verdict::Clean => "sub1",
        Verdict::Unclear | Verdict::TooFew => "unknown",
    }
}

/// The outputs of a run: the main one (`-o`/`--format`) and the extra ones, each
/// with its format.
struct Outputs(Vec<(Format, Sink)>);

impl Outputs {
    /// The extra outputs' formats and files.
    fn extra(a: &PredictArgs) -> [(Format, &Option<PathBuf>); 3] {
        [
            (Format::Gff3, &a.gff3),
            (Format::Faa, &a.faa),
            (Format::Ffn, &a.ffn),
        ]
    }

    /// Checks that no two outputs share a file (a usage error).
    fn check(a: &PredictArgs) -> Result<()> {
        let extra = Outputs::extra(a);
        let stdout = PathBuf::from("-");
        // Without -o the main output is standard output, which `-` also names.
        let main = Some(a.output.clone().unwrap_or_else(|| stdout.clone()));
        let mut paths: Vec<(&str, PathBuf)> = Vec::new();
        let named = std::iter::once(("-o", &main))
            .chain(extra.iter().map(|(f, p)| (flag(*f), *p)))
            .chain(std::iter::once(("--stats", &a.stats)));
        for (flag, p) in named {
            let Some(p) = p else { continue };
            let key = if *p == stdout {
                stdout.clone()
            } else {
                std::path::absolute(p).unwrap_or_else(|_| p.clone())
            };
            if let Some((other, _)) = paths.iter().find(|(_, q)| *q == key) {
                let what = if key == stdout {
                    "standard output".to_string()
                } else {
                    p.display().to_string()
                };
                return Err(UsageError(format!(
                    "{flag} and {other} both name {what}: give each output its own file"
                ))
                .into());
            }
            paths.push((flag, key));
        }
        Ok(())
    }

    /// Opens them all (`-` is standard output).
    fn open(a: &PredictArgs) -> Result<Outputs> {
        let extra = Outputs::extra(a);
        let mut outs = vec![(a.format, Sink::open(file(&a.output))?)];
        for (f, p) in extra {
            if p.is_some() {
                outs.push((f, Sink::open(file(p))?));
            }
        }
        Ok(Outputs(outs))
    }

    fn commit(self) -> Result<()> {
        for (_, s) in self.0 {
            s.commit()?;
        }
        Ok(())
    }

    /// After a failure: every output target stays as it was; the rows written are
    /// kept beside it.
    fn abandon(self) {
        for (_, s) in self.0 {
            if let Some(p) = s.abandon() {
                tracing::warn!("rows written before the error are in {}", p.display());
            }
        }
    }
}

/// An output path, `None` for standard output (no path, or `-`).
fn file(p: &Option<PathBuf>) -> Option<&Path> {
    p.as_deref().filter(|p| p.as_os_str() != "-")
}

fn flag(f: Format) -> &'static str {
    match f {
        Format::Gff3 => "--gff3",
        Format::Faa => "--faa",
        Format::Ffn => "--ffn",
        _ => "-o",
    }
}

/// A write error: a closed standard output becomes [`PipeClosed`].
fn write_error(e: std::io::Error, sink: &Sink) -> anyhow::Error {
    if e.kind() == std::io::ErrorKind::BrokenPipe && sink.is_stdout() {
        PipeClosed.into()
    } else {
        anyhow::Error::new(e).context(format!("writing {}", sink.name()))
    }
}

/// What a run saw: the closing summary line and the stats file.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Tally {
    /// Records read.
    pub reads: u64,
    /// Their bases.
    pub bases: u64,
    /// Called coding.
    pub coding: u64,
    /// Called non-coding.
    pub noncoding: u64,
    /// Too short to score.
    pub too_short: u64,
    /// Reads called coding whose reported frame path has frame shifts (a non-coding
    /// read's best path shifts too, but no gene is read along it).
    pub with_frameshifts: u64,
    /// Frame shifts on those paths.
    pub frameshifts: u64,
    /// Features written (coding reads and segments).
    pub features: u64,
    /// Records whose name an earlier record had (renamed `name.2`, … in feature IDs).
    pub duplicate_names: u64,
}

impl Tally {
    fn add(&mut self, p: &Prediction) {
        self.reads += 1;
        self.bases += p.length as u64;
        match p.call {
            Call::Coding => self.coding += 1,
            Call::NonCoding => self.noncoding += 1,
            Call::TooShort => self.too_short += 1,
        }
        if matches!(p.call, Call::Coding) && !p.frameshifts.is_empty() {
            self.with_frameshifts += 1;
            self.frameshifts += p.frameshifts.len() as u64;
        }
        self.features += p.segments.len() as u64;
    }

    /// The closing line on standard error.
    fn summary(&self, seconds: f64) -> String {
        format!(
            "cdspred: {} reads: {} coding, {} noncoding, {} too short; {} coding with frameshifts; {} features; {} duplicate names; {:.2} s, {:.0} reads/s",
            self.reads,
            self.coding,
            self.noncoding,
            self.too_short,
            self.with_frameshifts,
            self.features,
            self.duplicate_names,
            seconds,
            self.reads as f64 / seconds.max(1e-9)
        )
    }
}

/// The sample name of the stats file: `--sample`, else the first input's file name
/// without its compression and sequence extensions.
fn sample_name(a: &PredictArgs) -> String {
    if let Some(s) = &a.sample {
        return s.clone();
    }
    let first = a.inputs.first().map(String::as_str).unwrap_or("-");
    if first == "-" {
        return "stdin".into();
    }
    let mut name = Path::new(first)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| first.to_string());
    for ext in [".gz", ".zst", ".bz2", ".xz"] {
        if let Some(s) = name.strip_suffix(ext) {
            name = s.to_string();
            break;
        }
    }
    for ext in [".fasta", ".fastq", ".fna", ".fa", ".fq", ".fas", ".seq"] {
        if let Some(s) = name.strip_suffix(ext) {
            name = s.to_string();
            break;
        }
    }
    name
}

/// The stats file: MultiQC custom content (a general-statistics table, one row per
/// sample) plus a `cdspred` section with the run's settings.
fn stats_json(a: &PredictArgs, t: &Tally, seconds: f64, run: serde_json::Value) -> String {
    let pct_of = |n: u64, of: u64| {
        if of == 0 {
            0.0
        } else {
            (n as f64 * 1e4 / of as f64).round() / 100.0
        }
    };
    let pct = |n: u64| pct_of(n, t.reads);
    let v = serde_json::json!({
        "id": "cdspred",
        "section_name": "cdspred",
        "description": "Protein-coding reads called by cdspred predict.",
        "plot_type": "generalstats",
        "pconfig": [
            {"coding_pct": {"title": "% coding", "max": 100, "min": 0, "suffix": "%"}},
            {"reads": {"title": "Reads", "format": "{:,.0f}"}},
            {"coding": {"title": "Coding", "format": "{:,.0f}"}},
            {"noncoding": {"title": "Non-coding", "format": "{:,.0f}"}},
            {"too_short": {"title": "Too short", "format": "{:,.0f}"}},
            {"frameshift_pct": {"title": "% of coding with frameshifts", "max": 100, "min": 0, "suffix": "%"}}
        ],
        "data": {
            sample_name(a): {
                "reads": t.reads,
                "coding": t.coding,
                "noncoding": t.noncoding,
                "too_short": t.too_short,
                "coding_pct": pct(t.coding),
                "frameshift_pct": pct_of(t.with_frameshifts, t.coding),
            }
        },
        "cdspred": {
            "version": env!("CARGO_PKG_VERSION"),
            "counts": t,
            "seconds": (seconds * 1e3).round() / 1e3,
            "run": run,
        }
    });
    serde_json::to_string_pretty(&v).expect("stats serialise") + "\n"
}

/// Runs `cdspred predict`; `quiet` (`-q`) also hides the progress display and the
/// closing summary.
pub fn run(a: PredictArgs, quiet: bool) -> Result<()> {
    let started = std::time::Instant::now();
    Outputs::check(&a)?;
    // Every input must open before anything is surveyed or any output created.
    for path in a.inputs.iter().filter(|p| p.as_str() != "-") {
        if let Err(e) = std::fs::File::open(path) {
            return Err(InputError(FastxError::cannot_open(path, &e)).into());
        }
    }
    let code = a.table.code();
    let files = load_model(a.model.as_deref())?;
    tracing::info!(model = %files.card.version, table = a.table.get(), "model loaded");
    let prov = Provenance {
        model: files.card.version.clone(),
        weights_sha256: files.card.weights_sha256.clone(),
        table: code.id(),
    };
    let base = Predictor::new(&files);
    let table = TableContext::new(code.clone());
    let threads = thread_count(a.threads);
    let (tx, rx) = mpsc::sync_channel::<Chunk>(2);
    let inputs = a.inputs.clone();
    let reader = std::thread::spawn(move || reader_thread(inputs, tx));
    // With `--errors auto`, the first chunks are surveyed before any is predicted.
    let mut first: Vec<Chunk> = Vec::new();
    let mut errors = serde_json::json!({"given": true});
    // Whether the survey told long sequences the `long6` rate (their calls may lower it).
    let mut long_surveyed = false;
    let predictor = match a.errors {
        ErrorHint::Fixed(_) | ErrorHint::ErrorFree if !a.survey_errors => a.errors.tell(base),
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
            errors = serde_json::json!({"given": false, "survey": errors_value(&est)});
            long_surveyed = est.verdict() == Verdict::LongIndels;
            est.tell(base)
        }
    };
    let min_coding = a.self_train.min_coding_reads();
    // The chains' bar when their self-training applies (`None`: it does not).
    let teach_chains = min_coding.filter(|_| predictor.wants_self_training());
    let teach_genes = min_coding.is_some();
    let lengths = cdspred_model::hmm::teaching_lengths(&predictor);
    if teach_chains.is_some() || teach_genes {
        gather_teaching_reads(&rx, &mut first, lengths.clone());
    }
    let reads: Vec<&[u8]> = first
        .iter()
        .flat_map(|c| c.0.iter().map(|r| r.seq().codes()))
        .collect();
    // Long sequences (long reads, short contigs) learn their genes together. Long reads
    // the survey told the `long6` rate are told the `mixed4` rate instead when their
    // calls show few lasting shifts, and learn again with it.
    let predictor = if !teach_genes {
        predictor
    } else {
        let measured =
            predictor.train_sample_genes_measured(&reads, &table, threads, long_surveyed);
        let density = measured.as_ref().and_then(|m| m.1);
        let low = density.is_some_and(|d| d < cdspred_model::estimate::LASTING_CUT);
        if let Some(density) = density {
            let rate = if low { "mixed4" } else { "long6" };
            tracing::info!(
                "long sequences: {density:.2} lasting frame shifts per 100 nt of their calls: told the {rate} rate"
            );
            errors["lasting_shifts_per_100nt"] = serde_json::json!((density * 1e3).round() / 1e3);
            errors["long_rate"] = serde_json::json!(rate);
        }
        let (trained, predictor) = match measured {
            Some(_) if low => {
                let told = predictor.with_error_hint(Some(cdspred_model::estimate::LONG_LOW_HINT));
                (told.train_sample_genes(&reads, &table, threads), told)
            }
            Some((g, _)) => (Some(g), predictor),
            None => (None, predictor),
        };
        match trained {
            Some(g) => {
                let gcs: Vec<String> = g.models().iter().map(|m| format!("{:.2}", m.gc)).collect();
                tracing::info!(
                    "gene models self-trained on {} long sequences ({} codons in confident calls; GC {})",
                    g.sequences,
                    g.codons(),
                    gcs.join(", ")
                );
                errors["gene_training"] = serde_json::json!({
                    "sequences": g.sequences, "codons": g.codons(),
                    "gc": g.models().iter().map(|m| m.gc).collect::<Vec<f64>>(),
                });
                predictor.with_sample_genes(Arc::new(g))
            }
            None => predictor,
        }
    };
    let predictor = match teach_chains {
        Some(min_coding) => {
            match cdspred_model::hmm::self_train(&predictor, &reads, &table, threads, min_coding) {
                Some(t) => {
                    tracing::info!(
                        "self-trained on {} reads ({} confidently coding, {} non-coding)",
                        t.reads,
                        t.coding_reads,
                        t.noncoding_reads
                    );
                    // Which reads the chains join (see Predictor::chains_join).
                    let joins = if predictor.told_indels() {
                        "every read".to_string()
                    } else {
                        format!(
                            "reads under {} nt",
                            cdspred_model::predict::SHORT_CHAINS_BELOW
                        )
                    };
                    errors["self_training"] = serde_json::json!({
                        "reads": t.reads, "coding_reads": t.coding_reads, "noncoding_reads": t.noncoding_reads,
                        "joins": joins,
                    });
                    predictor.with_sample_chains(t.chains)
                }
                None => {
                    tracing::info!(
                        "fewer than {min_coding} confidently coding reads of {}-{} nt (or no read to use the chains): no self-training",
                        lengths.start(),
                        lengths.end()
                    );
                    predictor
                }
            }
        }
        None => predictor,
    };
    drop(reads);
    errors["indels_per_100nt"] = serde_json::json!(predictor.error_hint());
    errors["clean_expert"] = serde_json::json!(predictor.uses_clean_expert());
    errors["pristine_expert"] = serde_json::json!(predictor.uses_pristine_expert());
    errors["self_trained"] = serde_json::json!(predictor.self_trained());
    let mut outs = match Outputs::open(&a) {
        Ok(o) => o,
        Err(e) => {
            drop(rx);
            let _ = reader.join();
            return Err(e);
        }
    };
    let progress = !quiet && std::io::stderr().is_terminal();
    let written = write_all(
        &a,
        &predictor,
        &table,
        &prov,
        (first, rx),
        &mut outs,
        progress,
    );
    // Dropping the receiver (done in write_all) lets a reader blocked on a full channel
    // end.
    reader
        .join()
        .map_err(|_| anyhow::anyhow!("reader thread failed"))?;
    let tally = match written {
        Ok((t, None)) => t,
        Ok((_, Some(e))) => {
            outs.abandon();
            return Err(e.into());
        }
        Err(e) => {
            outs.abandon();
            return Err(e);
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    if a.stats.is_some() {
        let run = serde_json::json!({
            "inputs": a.inputs,
            "model": prov.model,
            "weights_sha256": prov.weights_sha256,
            "table": prov.table,
            "threshold": a.threshold,
            "errors": errors,
        });
        let mut s = Sink::open(file(&a.stats))?;
        s.write_all(stats_json(&a, &tally, seconds, run).as_bytes())
            .map_err(|e| write_error(e, &s))?;
        s.commit()?;
    }
    outs.commit()?;
    if tally.duplicate_names > 0 {
        tracing::warn!(
            "{} records repeat an earlier record's name; their feature IDs use name.2, name.3, …",
            tally.duplicate_names
        );
    }
    tracing::info!(reads = tally.reads, "done");
    if !quiet {
        eprintln!("{}", tally.summary(seconds));
    }
    Ok(())
}

/// Predicts every chunk (the surveyed ones first) and writes the records to every
/// output; returns what was written and the input error that stopped reading, if any.
fn write_all(
    a: &PredictArgs,
    predictor: &Predictor,
    table: &TableContext,
    prov: &Provenance,
    (first, rx): (Vec<Chunk>, mpsc::Receiver<Chunk>),
    outs: &mut Outputs,
    progress: bool,
) -> Result<(Tally, Option<InputError>)> {
    let code = a.table.code();
    let threads = thread_count(a.threads);
    for (f, sink) in outs.0.iter_mut() {
        sink.write_all(preamble(*f, prov).as_bytes())
            .map_err(|e| write_error(e, sink))?;
    }
    let bar = progress.then(|| {
        let b = indicatif::ProgressBar::new_spinner();
        b.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {pos} reads {per_sec}")
                .expect("valid template"),
        );
        b
    });
    let mut texts = vec![String::new(); outs.0.len()];
    let mut names = SeqNames::default();
    let mut tally = Tally::default();
    let mut failure = None;
    for (records, err) in first.into_iter().chain(rx) {
        let reads: Vec<&[u8]> = records.iter().map(|r| r.seq().codes()).collect();
        let preds = predictor.predict_batch(&reads, table, a.threshold, threads);
        texts.iter_mut().for_each(String::clear);
        for (r, p) in records.iter().zip(&preds) {
            let seqid = names.unique(r.id());
            let rec = Rec {
                id: r.id(),
                seqid: &seqid,
                codes: r.seq().codes(),
                p,
            };
            for ((f, _), text) in outs.0.iter().zip(texts.iter_mut()) {
                write_record(text, *f, &rec, &code);
            }
            tally.add(p);
        }
        for ((_, sink), text) in outs.0.iter_mut().zip(&texts) {
            sink.write_all(text.as_bytes())
                .map_err(|e| write_error(e, sink))?;
        }
        if let Some(b) = &bar {
            b.set_position(tally.reads);
        }
        if err.is_some() {
            failure = err;
            break;
        }
    }
    for (_, sink) in outs.0.iter_mut() {
        sink.flush().map_err(|e| write_error(e, sink))?;
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    tally.duplicate_names = names.duplicates();
    Ok((tally, failure))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn survey_values_parse_to_the_hints_the_survey_gives() {
        let cases = [
            (0, 0, 0),
            (200, 5, 0),
            (200, 5, 100),
            (200, 30, 0),
            (200, 150, 0),
        ];
        for (confident, shifted, stopped) in cases {
            let est = ErrorEstimate {
                reads: 1000,
                bases: 300_000,
                usable: 1000,
                confident,
                shifted,
                stop_survey: true,
                expert_coding: 1000,
                expert_stopped: stopped,
                ..Default::default()
            };
            assert_eq!(
                parse_error_hint(errors_value(&est)).unwrap(),
                est.as_hint(),
                "{}",
                est.describe()
            );
        }
    }
}
