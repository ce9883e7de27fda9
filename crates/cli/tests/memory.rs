//! Peak memory of real runs against the issues' bound of 200 MB: 100,000 reads with
//! indels streamed while self-training holds the first 30,000 (the costliest route for
//! reads), and a chromosome-sized record (11.5 Mb) decoded into gene calls.
//!
//! The peak is the kernel's high-water mark of the process's resident memory
//! (`VmHWM` in `/proc/PID/status`), read every few milliseconds while it runs; only
//! an allocation in its last milliseconds could go unseen.

mod common;

use std::fmt::Write as _;
use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{gunzip, mutate, repo, shared};

/// The issues' bound on a run's resident memory.
const BOUND_MB: f64 = 200.0;

/// The process's resident-memory high-water mark (MB), if it still runs.
fn vm_hwm_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Runs the binary with stdout into `out`; returns its peak resident memory (MB) and
/// its stderr. Panics when it fails.
fn peak_mb(args: &[&str], out: &Path) -> (f64, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cdspred"))
        .current_dir(repo())
        .args(args)
        .stdout(File::create(out).unwrap())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        stderr.read_to_string(&mut s).unwrap();
        s
    });
    let mut peak: f64 = 0.0;
    let status = loop {
        if let Some(m) = vm_hwm_mb(child.id()) {
            peak = peak.max(m);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let err = reader.join().unwrap();
    assert!(status.success(), "cdspred {args:?} failed: {err}");
    assert!(peak > 0.0, "no memory reading of cdspred {args:?}");
    (peak, err)
}

/// 300-nt reads of both dev genomes' labelled sets with 1% indels (`cdspred data
/// mutate`), repeated with new names to `n` reads.
fn indel_reads(dir: &Path, n: usize) -> std::path::PathBuf {
    let mut fasta = String::new();
    let mut reads = Vec::new();
    for g in ["cdiphtheriae", "mhyorhinis"] {
        let prefix = dir.join(g);
        mutate(g, "indel1", "1", &prefix);
        let text = std::fs::read_to_string(prefix.with_extension("fasta")).unwrap();
        for rec in text.split('>').skip(1) {
            let (name, seq) = rec.split_once('\n').unwrap();
            let seq = seq.replace('\n', "");
            if seq.len() >= 250 {
                reads.push((name.to_string(), seq));
            }
        }
    }
    assert!(
        reads.len() > 1000,
        "{} reads of 250 nt or more",
        reads.len()
    );
    for k in 0..n {
        let (name, seq) = &reads[k % reads.len()];
        writeln!(fasta, ">{name}_{}\n{seq}", k / reads.len()).unwrap();
    }
    let path = dir.join("reads.fasta");
    std::fs::write(&path, fasta).unwrap();
    path
}

#[test]
fn reads_with_indels_stream_within_the_bound_while_self_training() {
    let dir = tempfile::tempdir().unwrap();
    let n = 100_000;
    let reads = indel_reads(dir.path(), n);
    let stats = dir.path().join("stats.json");
    let out = dir.path().join("out.tsv");
    let (mb, err) = peak_mb(
        &[
            "predict",
            "--threads",
            "2",
            "--stats",
            stats.to_str().unwrap(),
            reads.to_str().unwrap(),
        ],
        &out,
    );
    // The run took the costly route: surveyed as carrying indels, self-trained.
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
    let errors = &s["cdspred"]["run"]["errors"];
    assert_eq!(errors["survey"], "indel1", "{errors}");
    assert_eq!(errors["self_trained"], true, "{errors}");
    let lines = std::fs::read_to_string(&out).unwrap().lines().count();
    assert_eq!(lines, n + 1, "one line per read and a header");
    assert!(
        mb <= BOUND_MB,
        "peak resident memory {mb:.1} MB for {n} reads (bound {BOUND_MB} MB): {err}"
    );
    eprintln!("{n} reads with indels: peak {mb:.1} MB");
}

#[test]
fn a_chromosome_sized_record_decodes_within_the_bound() {
    let dir = tempfile::tempdir().unwrap();
    let g = shared().join("data/genomes/train");
    // P. aeruginosa (6.96 Mb) and M. tuberculosis (4.41 Mb) joined into one record,
    // in 80-nt lines.
    let mut seq = String::new();
    for f in [
        "Paeruginosa_GN04821_CP147557.fna.gz",
        "Mtuberculosis_H37Rv_NC_000962.fna.gz",
    ] {
        for line in gunzip(&g.join(f)).lines().filter(|l| !l.starts_with('>')) {
            seq.push_str(line.trim());
        }
    }
    assert!(seq.len() > 11_000_000, "{} nt", seq.len());
    let mut fasta = String::from(">joined\n");
    for chunk in seq.as_bytes().chunks(80) {
        fasta.push_str(std::str::from_utf8(chunk).unwrap());
        fasta.push('\n');
    }
    let input = dir.path().join("joined.fna");
    std::fs::write(&input, fasta).unwrap();
    let out = dir.path().join("out.gff3");
    let (mb, err) = peak_mb(
        &[
            "predict",
            "--format",
            "gff3",
            "--threads",
            "2",
            input.to_str().unwrap(),
        ],
        &out,
    );
    let genes = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .filter(|l| l.split('\t').nth(2) == Some("CDS"))
        .count();
    // The two genomes hold about 10,000 annotated genes.
    assert!(genes > 9000, "{genes} calls");
    assert!(
        mb <= BOUND_MB,
        "peak resident memory {mb:.1} MB for an {:.1}-Mb record (bound {BOUND_MB} MB): {err}",
        seq.len() as f64 / 1e6
    );
    eprintln!("{:.1}-Mb record: peak {mb:.1} MB", seq.len() as f64 / 1e6);
}
