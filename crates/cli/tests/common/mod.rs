//! Helpers shared by the CLI integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The shared data folder (`CDSPRED_SHARED`, default `../shared` beside the clone).
pub fn shared() -> PathBuf {
    std::env::var_os("CDSPRED_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared"))
}

/// The text of a gzipped file (every member).
pub fn gunzip(path: &Path) -> String {
    let mut s = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::MultiGzDecoder::new(std::fs::File::open(path).unwrap()),
        &mut s,
    )
    .unwrap();
    s
}

/// `cdspred data mutate` of a dev read set (`OUT.fasta`, `OUT.tsv`).
pub fn mutate(genome: &str, profile: &str, seed: &str, out: &Path) -> String {
    let eval = shared().join("data/eval");
    cdspred(&[
        "data",
        "mutate",
        "--profile",
        profile,
        "--seed",
        seed,
        "--reads",
        eval.join(format!("{genome}.fasta.gz")).to_str().unwrap(),
        "--truth",
        eval.join(format!("{genome}.tsv.gz")).to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ])
}

/// Runs the binary in the repository root; panics with its stderr when it fails.
pub fn cdspred(args: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_cdspred"))
        .current_dir(repo())
        .args(args)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "cdspred {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// Builds the dataset of `recipe` (a path, absolute or relative to the repository)
/// into `out`.
pub fn build_data(recipe: &Path, out: &Path) {
    cdspred(&[
        "data",
        "build",
        "--recipe",
        recipe.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
}

/// The smoke dataset (`data/recipes/smoke.toml`), built once per test binary.
pub fn smoke_data() -> PathBuf {
    static ONCE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    ONCE.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("cdspred-smoke-{}", std::process::id()));
        build_data(Path::new("data/recipes/smoke.toml"), &dir);
        dir
    })
    .clone()
}

/// Writes a one-source recipe for a training genome (FASTA + GFF) into `dir`.
pub fn genome_recipe(
    dir: &Path,
    fasta: &str,
    gff: &str,
    seed: u64,
    lengths: &str,
    coding: usize,
    noncoding: usize,
) -> PathBuf {
    let g = shared().join("data/genomes/train");
    let recipe = dir.join("recipe.toml");
    std::fs::write(
        &recipe,
        format!(
            "name='t'\nseed={seed}\nlengths={lengths}\n[[source]]\nname='s'\nrole='train'\ntable=11\nfasta='{}'\ngff='{}'\ncoding_reads={coding}\nnoncoding_reads={noncoding}\npackage={{registry='Debian',name='abacas-examples',version='1.3.1-9',path='SS_SC84.dna.gz'}}\n",
            g.join(fasta).display(),
            g.join(gff).display()
        ),
    )
    .unwrap();
    recipe
}
