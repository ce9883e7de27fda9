//! `cdspred shard split|merge`: cut large read files into contiguous shards and join
//! the per-shard predictions back in input order (used by `workflow/Snakefile`).
//!
//! `split` reads the inputs twice (once to count, once to write), so shard `i` holds
//! reads `[i·n/N, (i+1)·n/N)` in input order and there are always exactly N shards
//! (some empty when there are fewer reads than shards). A shard is written to a
//! temporary name and renamed when complete. Shards are FASTA with the read's id and
//! its bases as the predictor sees them (IUPAC codes other than ACGT become N; quality
//! lines are dropped): predictions of the shards equal predictions of the input.
//!
//! `merge` concatenates prediction files in the order given, keeping the format's
//! header (TSV column line, `##gff-version 3`) once.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use cdspred_core::fastx::FastxReader;
use clap::{Args, Subcommand};

use crate::cmd_predict::InputError;
use crate::output::Format;

#[derive(Subcommand)]
pub enum ShardCommand {
    /// Split FASTA/FASTQ files (plain or gzip) into N contiguous FASTA shards.
    ///
    /// Example: cdspred shard split reads.fastq.gz --shards 8 --out-dir shards
    Split(SplitArgs),
    /// Join per-shard prediction files in the given order (one header kept).
    ///
    /// Example: cdspred shard merge --format tsv pred/shard-*.tsv -o predictions.tsv
    Merge(MergeArgs),
}

#[derive(Args)]
pub struct SplitArgs {
    /// Input FASTA/FASTQ files, read in order (not standard input: it is read twice).
    #[arg(required = true)]
    inputs: Vec<String>,
    /// Number of shards (files shard-0000.fasta … in --out-dir).
    #[arg(long)]
    shards: usize,
    /// Directory for the shards (created if missing).
    #[arg(long)]
    out_dir: PathBuf,
}

#[derive(Args)]
pub struct MergeArgs {
    /// Prediction files, in input order.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Their format (as written by `cdspred predict --format`).
    #[arg(long, value_enum, default_value = "tsv")]
    format: Format,
    /// Output file (default: standard output).
    #[arg(short, long)]
    output: Option<PathBuf>,
}

pub fn run(c: ShardCommand) -> Result<()> {
    match c {
        ShardCommand::Split(a) => split(a),
        ShardCommand::Merge(a) => merge(a),
    }
}

/// The name of shard `i`.
pub fn shard_name(i: usize) -> String {
    format!("shard-{i:04}.fasta")
}

fn count(inputs: &[String]) -> Result<u64> {
    let mut n = 0u64;
    for path in inputs {
        let mut rd = FastxReader::open(path).map_err(InputError)?;
        while rd.next_record().map_err(InputError)?.is_some() {
            n += 1;
        }
    }
    Ok(n)
}

/// Writes a file through a temporary name in the same directory, renamed on `finish`;
/// dropped unfinished (an error on the way), the temporary file is removed.
struct AtomicFile {
    tmp: PathBuf,
    dest: PathBuf,
    w: std::io::BufWriter<std::fs::File>,
    done: bool,
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

impl AtomicFile {
    fn create(dest: &Path) -> Result<Self> {
        let name = dest
            .file_name()
            .context("output path has no file name")?
            .to_string_lossy();
        let tmp = dest.with_file_name(format!(".{name}.partial"));
        let f = std::fs::File::create(&tmp)
            .with_context(|| format!("cannot create {}", tmp.display()))?;
        Ok(AtomicFile {
            tmp,
            dest: dest.to_path_buf(),
            w: std::io::BufWriter::new(f),
            done: false,
        })
    }
    fn finish(mut self) -> Result<()> {
        self.w
            .flush()
            .with_context(|| format!("writing {}", self.tmp.display()))?;
        std::fs::rename(&self.tmp, &self.dest)
            .with_context(|| format!("cannot rename to {}", self.dest.display()))?;
        self.done = true;
        Ok(())
    }
}

fn split(a: SplitArgs) -> Result<()> {
    if a.shards == 0 {
        bail!("--shards must be at least 1");
    }
    if a.inputs.iter().any(|p| p == "-") {
        bail!("shard split reads its inputs twice: give files, not standard input");
    }
    let total = count(&a.inputs)?;
    std::fs::create_dir_all(&a.out_dir)
        .with_context(|| format!("cannot create {}", a.out_dir.display()))?;
    // Shard i ends after reads [0, bound(i+1)).
    let bound = |i: usize| -> u64 { (total as u128 * i as u128 / a.shards as u128) as u64 };
    let mut shard = 0usize;
    let mut out = AtomicFile::create(&a.out_dir.join(shard_name(0)))?;
    let mut seen = 0u64;
    let mut line = String::new();
    for path in &a.inputs {
        let mut rd = FastxReader::open(path).map_err(InputError)?;
        while let Some(r) = rd.next_record().map_err(InputError)? {
            while seen >= bound(shard + 1) {
                out.finish()?;
                shard += 1;
                out = AtomicFile::create(&a.out_dir.join(shard_name(shard)))?;
            }
            line.clear();
            line.push('>');
            line.push_str(r.id());
            line.push('\n');
            line.push_str(&r.seq().to_ascii());
            line.push('\n');
            out.w
                .write_all(line.as_bytes())
                .with_context(|| format!("writing {}", out.tmp.display()))?;
            seen += 1;
        }
    }
    out.finish()?;
    for i in shard + 1..a.shards {
        AtomicFile::create(&a.out_dir.join(shard_name(i)))?.finish()?;
    }
    tracing::info!(reads = total, shards = a.shards, "split");
    Ok(())
}

fn merge(a: MergeArgs) -> Result<()> {
    // The lines each shard's output starts with: TSV's header, GFF3's version and
    // provenance lines (all shards' must be the same; the first one's are kept).
    let (head_lines, must_start) = match a.format {
        Format::Tsv => (1, format!("{}\n", cdspred_model::ReadResult::TSV_HEADER)),
        Format::Gff3 => (4, "##gff-version 3\n".to_string()),
        _ => (0, String::new()),
    };
    let mut file = a.output.as_deref().map(AtomicFile::create).transpose()?;
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    let out: &mut dyn Write = match &mut file {
        Some(f) => &mut f.w,
        None => &mut stdout,
    };
    let mut head: Option<String> = None;
    let mut line = String::new();
    for (i, path) in a.inputs.iter().enumerate() {
        let f =
            std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let mut rd = std::io::BufReader::new(f);
        let mut this = String::new();
        for _ in 0..head_lines {
            line.clear();
            rd.read_line(&mut line)
                .with_context(|| format!("reading {}", path.display()))?;
            this.push_str(&line);
        }
        let expected = head.get_or_insert_with(|| this.clone());
        if !this.starts_with(&must_start) || this != *expected {
            bail!(
                "{}: line 1: expected the {} header {:?}, found {:?}",
                path.display(),
                format!("{:?}", a.format).to_lowercase(),
                expected.trim_end(),
                this.trim_end()
            );
        }
        if i == 0 {
            out.write_all(this.as_bytes())?;
        }
        std::io::copy(&mut rd, out).with_context(|| format!("copying {}", path.display()))?;
    }
    if a.inputs.is_empty() && head_lines == 1 {
        out.write_all(must_start.as_bytes())?;
    }
    match file {
        Some(f) => f.finish(),
        None => stdout.flush().context("writing <stdout>"),
    }
}
