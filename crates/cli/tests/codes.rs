//! Every NCBI genetic code cdspred accepts (1–6, 9–16, 21–33), end to end: `cdspred
//! predict --table N --faa` on real coding reads, and every protein it writes equals
//! Biopython's translation of the same codons under table N (PyPI; the test command
//! installs it).

mod common;

use std::io::Write as _;

use cdspred_core::fastx::FastxReader;
use cdspred_core::GeneticCode;
use common::{cdspred, shared};

const CHECK: &str = r#"
import sys
from Bio.Seq import Seq
reads = {}
for line in open(sys.argv[1]):
    line = line.strip()
    if line.startswith(">"):
        name = line[1:].split()[0]
    elif line:
        reads[name] = line
checked = 0
for faa in sys.argv[2:]:
    table = int(faa.rsplit("_", 1)[1].split(".")[0])
    head = None
    for line in open(faa):
        line = line.strip()
        if line.startswith(">"):
            head = dict(f.split("=", 1) for f in line.split()[1:])
            rid = line[1:].split()[0].rsplit("_", 3)[0]
            continue
        s = Seq(reads[rid])
        if head["strand"] == "-":
            s = s.reverse_complement()
        off = int(head["frame"])
        n = (len(s) - off) // 3 * 3
        want = str(s[off:off + n].translate(table=table))
        if want != line:
            sys.exit(f"table {table}, {rid} ({head['strand']}{off}): cdspred {line} biopython {want}")
        checked += 1
    if checked == 0:
        sys.exit(f"{faa}: no proteins")
print(checked)
"#;

#[test]
fn every_genetic_code_translates_as_biopython_does() {
    let dir = tempfile::tempdir().unwrap();
    // 300 reads of 300 nt from a genome the model never saw, without N.
    let reads: Vec<(String, String)> = FastxReader::open(
        shared()
            .join("data/eval/cdiphtheriae.fasta.gz")
            .to_str()
            .unwrap(),
    )
    .unwrap()
    .map(|r| r.unwrap())
    .filter(|r| r.seq().len() == 300)
    .map(|r| (r.id().to_string(), r.seq().to_string()))
    .filter(|(_, s)| !s.contains('N'))
    .take(300)
    .collect();
    assert_eq!(reads.len(), 300);
    let fa = dir.path().join("reads.fa");
    let mut f = std::fs::File::create(&fa).unwrap();
    for (n, s) in &reads {
        writeln!(f, ">{n}\n{s}").unwrap();
    }
    let tables: Vec<u32> = GeneticCode::known_ids().collect();
    assert_eq!(tables.len(), 27, "{tables:?}");
    let mut faas = Vec::new();
    for t in &tables {
        let faa = dir.path().join(format!("p_{t}.faa"));
        // The pristine expert decodes fixed frames: every codon is the read's own.
        cdspred(&[
            "predict",
            "-q",
            "--errors",
            "none",
            "--table",
            &t.to_string(),
            fa.to_str().unwrap(),
            "--faa",
            faa.to_str().unwrap(),
            "-o",
            dir.path().join(format!("p_{t}.tsv")).to_str().unwrap(),
        ]);
        faas.push(faa.to_str().unwrap().to_string());
    }
    let script = dir.path().join("check.py");
    std::fs::write(&script, CHECK).unwrap();
    let mut args = vec![script.to_str().unwrap(), fa.to_str().unwrap()];
    args.extend(faas.iter().map(|s| s.as_str()));
    let out = std::process::Command::new("python3")
        .args(&args)
        .output()
        .expect("python3 with biopython (pip install -r scripts/ci-requirements.txt)");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let checked: usize = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    // About half the reads are coding, in each of 27 codes.
    assert!(checked > 27 * 100, "{checked} proteins checked");
}
