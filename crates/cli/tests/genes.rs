//! Gene calls on long sequences, through the real binary, on real genomes from
//! `../shared/data` (cdspred_model::genes).

mod common;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use common::{cdspred, gunzip, shared};

/// Writes the gzipped FASTA `gz` (one record) into `dir`; returns its path and its
/// bases, upper-cased.
fn unpack_fasta(gz: &Path, dir: &Path) -> (PathBuf, Vec<u8>) {
    let text = gunzip(gz);
    let fasta = dir.join("genome.fna");
    std::fs::write(&fasta, &text).unwrap();
    let seq = text
        .lines()
        .filter(|l| !l.starts_with('>'))
        .flat_map(|l| l.trim().bytes())
        .map(|b| b.to_ascii_uppercase())
        .collect();
    (fasta, seq)
}

/// The gene calls of `cdspred predict --format gff3 -q EXTRA... FASTA`.
/// `cdspred predict --format gff3 EXTRA FASTA`: the GFF3.
fn gene_gff(fasta: &Path, extra: &[&str]) -> String {
    let mut args = vec!["predict", "--format", "gff3", "-q"];
    args.extend_from_slice(extra);
    args.push(fasta.to_str().unwrap());
    cdspred(&args)
}

fn gene_calls(fasta: &Path, extra: &[&str]) -> Calls {
    cds(&gene_gff(fasta, extra))
}

/// The tab-separated fields of each CDS line of a GFF3.
fn cds_fields(gff: &str) -> impl Iterator<Item = Vec<&str>> {
    gff.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .filter(|f| f.len() >= 9 && f[2] == "CDS")
}

/// (strand, 3' coordinate) → (start, end) of each CDS line of a GFF3, and the
/// attributes of each.
type Calls = HashMap<(char, usize), (usize, usize, HashMap<String, String>)>;

fn cds(gff: &str) -> Calls {
    let mut out = HashMap::new();
    for f in cds_fields(gff) {
        let (s, e): (usize, usize) = (f[3].parse().unwrap(), f[4].parse().unwrap());
        let strand = f[6].chars().next().unwrap();
        let attrs = f[8]
            .split(';')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let three = if strand == '+' { e } else { s };
        out.insert((strand, three), (s, e, attrs));
    }
    out
}

fn revcomp(s: &[u8]) -> Vec<u8> {
    s.iter()
        .rev()
        .map(|b| match b {
            b'A' => b'T',
            b'C' => b'G',
            b'G' => b'C',
            b'T' => b'A',
            x => *x,
        })
        .collect()
}

/// Table 4 (M. hyorhinis): agreement with the genome's table-4 pyrodigal labels (stops
/// and starts), and every call ends at a table-4 stop and begins at a start codon unless
/// partial.
#[test]
fn mycoplasma_genes_agree_with_table_4_labels_and_end_at_stops() {
    let g = shared().join("data/genomes/altcode");
    let dir = tempfile::tempdir().unwrap();
    let (fasta, seq) = unpack_fasta(
        &g.join("Mycoplasma_hyorhinis_HUB-1_CP002170.fna.gz"),
        dir.path(),
    );
    let ours = gene_calls(&fasta, &["--table", "4"]);
    let truth = cds(&gunzip(
        &g.join("Mycoplasma_hyorhinis_HUB-1_CP002170.pyrodigal_tt4.gff.gz"),
    ));
    let t: HashSet<_> = truth.keys().collect();
    let o: HashSet<_> = ours.keys().collect();
    let both = t.intersection(&o).count() as f64;
    let (sens, prec) = (both / t.len() as f64, both / o.len() as f64);
    assert!(
        sens >= 0.95 && prec >= 0.95,
        "stop-exact agreement {sens:.3} / {prec:.3}"
    );
    // Of those, most start where pyrodigal starts them: the learnt start model weighs
    // its evidence (GeneOptions::start_weight; 0.967 measured, 0.918 at weight 1).
    let same_start = t
        .intersection(&o)
        .filter(|k| {
            let ((strand, _), (s0, e0, _), (s1, e1, _)) = (k, &truth[*k], &ours[*k]);
            if *strand == '+' {
                s0 == s1
            } else {
                e0 == e1
            }
        })
        .count() as f64;
    assert!(
        same_start / both >= 0.95,
        "start agreement {:.3}",
        same_start / both
    );
    for ((strand, _), (s, e, a)) in &ours {
        let bases = &seq[s - 1..*e];
        let sense = if *strand == '+' {
            bases.to_vec()
        } else {
            revcomp(bases)
        };
        let partial = a["partial"].as_bytes();
        let (p5, p3) = if *strand == '+' {
            (partial[0], partial[1])
        } else {
            (partial[1], partial[0])
        };
        assert_eq!(a["transl_table"], "4");
        assert!(a.contains_key("score"));
        assert!(!a.contains_key("frameshifts"), "no shifts without a hint");
        assert_eq!(sense.len() % 3, 0, "{s}-{e}");
        if p3 == b'0' {
            let stop = &sense[sense.len() - 3..];
            assert!(stop == b"TAA" || stop == b"TAG", "{s}-{e} ends {stop:?}");
        }
        if p5 == b'0' {
            let start = &sense[..3];
            assert!(
                [&b"ATG"[..], b"GTG", b"TTG"].contains(&start),
                "{s}-{e} starts {start:?}"
            );
        }
        // No stop inside (TGA codes for Trp under table 4).
        for c in sense[..sense.len() - 3].chunks(3) {
            assert!(c != b"TAA" && c != b"TAG", "{s}-{e}: internal stop");
        }
    }
}

/// The proteins of gene calls are their translations (the stop as `*`), and with an
/// indel hint a read with a frameshift gets one call with its shift in the GFF3 and a
/// corrected protein.
#[test]
fn gene_proteins_and_frameshifts_through_the_binary() {
    let g = shared().join("data/genomes/fixtures");
    let dir = tempfile::tempdir().unwrap();
    let gb = gunzip(&g.join("Ypestis_pPCP1_NC_005816.gb.gz"));
    let origin = gb.split("ORIGIN").nth(1).unwrap();
    let seq: String = origin
        .chars()
        .filter(|c| c.is_ascii_alphabetic())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    assert_eq!(seq.len(), 9609);
    let fasta = dir.path().join("p.fna");
    std::fs::write(&fasta, format!(">pPCP1\n{seq}\n")).unwrap();
    let gff = gene_gff(&fasta, &[]);
    let faa = cdspred(&["predict", "--format", "faa", "-q", fasta.to_str().unwrap()]);
    let calls = cds(&gff);
    assert!(calls.len() >= 5, "{gff}");
    let proteins: Vec<&str> = faa.lines().filter(|l| !l.starts_with('>')).collect();
    assert_eq!(proteins.len(), calls.len());
    let complete = proteins.iter().filter(|p| p.ends_with('*')).count();
    assert!(complete >= calls.len() - 2, "{faa}");
    assert!(proteins.iter().all(|p| !p[..p.len() - 1].contains('*')));
    // The plasmid's pla gene (6664..7602 on +, NC_005816 annotation) and pst
    // (complement(4815..5888)) are found stop-exact.
    assert!(calls.contains_key(&('+', 7602)), "{gff}");
    assert!(calls.contains_key(&('-', 4815)), "{gff}");
    // Insert one base into the middle of the longest call and decode with a hint.
    let (&(strand, _), &(s, e, _)) = calls.iter().max_by_key(|(_, v)| v.1 - v.0).unwrap();
    let mid = (s + e) / 2;
    let mutated = format!("{}A{}", &seq[..mid], &seq[mid..]);
    std::fs::write(&fasta, format!(">pPCP1_ins\n{mutated}\n")).unwrap();
    let clean = gene_calls(&fasta, &[]);
    assert!(
        !clean
            .values()
            .any(|v| v.0 < mid && v.1 > mid + 1 && v.2.contains_key("frameshifts")),
        "no hint, no shifts"
    );
    let hinted = gene_calls(&fasta, &["--errors", "indel1"]);
    // Some call on the gene's strand spans the insertion with an insertion shift
    // near it (the path may place a shift some codons off: the codons between score
    // alike in both frames).
    let shifted_near = hinted
        .iter()
        .filter(|(k, v)| k.0 == strand && v.0 < mid && v.1 > mid + 1)
        .filter_map(|(_, v)| v.2.get("frameshifts"))
        .flat_map(|list| list.split(','))
        .filter_map(|x| x.strip_suffix(":ins"))
        .map(|p| p.parse::<usize>().unwrap())
        .any(|p| p.abs_diff(mid) <= 30);
    assert!(shifted_near, "no insertion shift near {mid}: {hinted:?}");
}

/// A contig that is half N (a 433-kb scaffold gap): no call crosses the gap, and
/// calls still cover both flanks.
#[test]
fn no_call_crosses_a_scaffold_gap() {
    let dir = tempfile::tempdir().unwrap();
    let (fasta, seq) = unpack_fasta(
        &shared().join("data/genomes/fixtures/Ecoli_MIIJ01000039.fna.gz"),
        dir.path(),
    );
    let first_n = seq.iter().position(|&b| b == b'N').unwrap();
    let last_n = seq.iter().rposition(|&b| b == b'N').unwrap();
    assert!(last_n - first_n > 400_000);
    let calls = gene_calls(&fasta, &[]);
    assert!(calls.len() > 300, "{}", calls.len());
    for (s, e, _) in calls.values() {
        // 1-based inclusive [s, e] against 0-based [first_n, last_n].
        assert!(*e <= first_n || *s > last_n + 1, "{s}-{e} crosses the gap");
    }
    assert!(calls.values().any(|v| v.1 <= first_n));
    assert!(calls.values().any(|v| v.0 > last_n + 1));
}

/// A long read: its bases, each base's genome position (`None`: inserted), and
/// whether it was reverse-complemented.
type LongRead = (Vec<u8>, Vec<Option<usize>>, bool);

/// Long reads with 6% errors (1% substitutions, 3% insertions, 2% deletions), each
/// base's genome position kept (`None`: inserted), cut from `seq` at deterministic
/// places, half of them reverse-complemented (then positions count from the right).
fn long_reads(seq: &[u8], n: usize, len: usize) -> Vec<LongRead> {
    long_reads_with(seq, n, len, (0.01, 0.03, 0.02))
}

/// [`long_reads`] with other rates of substitutions, insertions and deletions.
fn long_reads_with(
    seq: &[u8],
    n: usize,
    len: usize,
    (sub, ins, del): (f64, f64, f64),
) -> Vec<LongRead> {
    let mut x = 0x5eed_u64;
    let mut next = move || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..n)
        .map(|_| {
            let start = (next() * (seq.len() - len) as f64) as usize;
            let (mut read, mut origin) = (Vec::new(), Vec::new());
            for (k, &b) in seq[start..start + len].iter().enumerate() {
                let u = next();
                if u < ins {
                    read.push(b"ACGT"[(next() * 4.0) as usize]);
                    origin.push(None);
                }
                if (ins..ins + del).contains(&u) {
                    continue; // deleted
                }
                let substituted = (ins + del..ins + del + sub).contains(&u);
                read.push(if substituted {
                    b"ACGT"[(next() * 4.0) as usize]
                } else {
                    b
                });
                origin.push(Some(start + k));
            }
            let rev = next() < 0.5;
            if rev {
                read = revcomp(&read);
                origin.reverse();
            }
            (read, origin, rev)
        })
        .collect()
}

/// Strand-level base sensitivity and precision of GFF3 calls on `reads` against a
/// genome's coding mask (bit 1: coding on +, bit 2: on −), as
/// `scripts/eval_longreads.py` scores them.
fn strand_scores(gff: &str, reads: &[LongRead], mask: &[u8]) -> (f64, f64) {
    let mut called: HashMap<usize, Vec<(usize, usize, u8)>> = HashMap::new();
    for f in cds_fields(gff) {
        let k: usize = f[0].trim_start_matches('r').parse().unwrap();
        let st = if f[6] == "+" { 1 } else { 2 };
        called.entry(k).or_default().push((
            f[3].parse::<usize>().unwrap() - 1,
            f[4].parse().unwrap(),
            st,
        ));
    }
    let (mut hit, mut truth, mut calls) = (0usize, 0usize, 0usize);
    for (k, (read, origin, rev)) in reads.iter().enumerate() {
        let mut p = vec![0u8; read.len()];
        for &(s, e, st) in called.get(&k).into_iter().flatten() {
            p[s..e].iter_mut().for_each(|v| *v |= st);
        }
        for (i, o) in origin.iter().enumerate() {
            let Some(o) = *o else { continue };
            let mut t = mask[o];
            if *rev {
                t = ((t & 1) << 1) | ((t & 2) >> 1);
            }
            truth += usize::from(t != 0);
            calls += usize::from(p[i] != 0);
            hit += usize::from(t & p[i] != 0);
        }
    }
    (hit as f64 / truth as f64, hit as f64 / calls as f64)
}

/// Long reads with indels, each too short to self-train its own gene model, learn one
/// together (with `--errors long6`, by default): their calls gain in both strand-level
/// sensitivity and precision over calls decoded read by read (`--self-train off`; on
/// C. diphtheriae, never trained on, 0.779 / 0.785 → 0.823 / 0.821 with 60 reads in
/// scripts/eval_longreads.py), the run's stats say so, and the output does not depend
/// on the thread count.
#[test]
fn long_reads_with_indels_learn_their_genes_together() {
    let dir = tempfile::tempdir().unwrap();
    let dev = shared().join("data/genomes/dev");
    let (_, seq) = unpack_fasta(
        &dev.join("Corynebacterium_diphtheriae_NCTC11397_LN831026.fna.gz"),
        dir.path(),
    );
    let mut mask = vec![0u8; seq.len()];
    for l in
        gunzip(&dev.join("Corynebacterium_diphtheriae_NCTC11397_LN831026.pyrodigal_tt11.gff.gz"))
            .lines()
    {
        let f: Vec<&str> = l.split('\t').collect();
        if f.len() > 6 && f[2] == "CDS" {
            let (s, e): (usize, usize) = (f[3].parse().unwrap(), f[4].parse().unwrap());
            let st = if f[6] == "+" { 1 } else { 2 };
            mask[s - 1..e].iter_mut().for_each(|v| *v |= st);
        }
    }
    let reads = long_reads(&seq, 30, 8000);
    let fasta = dir.path().join("long.fa");
    let text: String = reads
        .iter()
        .enumerate()
        .map(|(k, r)| format!(">r{k}\n{}\n", String::from_utf8_lossy(&r.0)))
        .collect();
    std::fs::write(&fasta, text).unwrap();
    let stats = dir.path().join("stats.json");
    let f = fasta.to_str().unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec!["predict", "--format", "gff3", "-q", "--errors", "long6"];
        args.extend_from_slice(extra);
        args.push(f);
        cdspred(&args)
    };
    let taught = run(&["--threads", "1", "--stats", stats.to_str().unwrap()]);
    assert_eq!(taught, run(&["--threads", "2"]));
    let own = run(&["--self-train", "off"]);
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
    let training = &s["cdspred"]["run"]["errors"]["gene_training"];
    assert_eq!(training["sequences"], 30, "{s}");
    assert!(training["codons"].as_u64().unwrap() > 6000, "{s}");
    let (a, b) = (
        strand_scores(&taught, &reads, &mask),
        strand_scores(&own, &reads, &mask),
    );
    assert!(
        a.0 > b.0 + 0.01 && a.1 > b.1 + 0.01,
        "taught {a:?}, read by read {b:?}"
    );
}

/// Without a flag (`--errors auto`) the survey cuts 300-nt windows from long reads and
/// finds the indels there, so long reads with 6% errors are decoded as with `--errors
/// long6`; the same genome's clean 8-kb pieces are told nothing, as before.
#[test]
fn long_reads_with_indels_are_found_without_a_flag() {
    let dir = tempfile::tempdir().unwrap();
    let dev = shared().join("data/genomes/dev");
    let (_, seq) = unpack_fasta(
        &dev.join("Corynebacterium_diphtheriae_NCTC11397_LN831026.fna.gz"),
        dir.path(),
    );
    let write = |name: &str, reads: &[Vec<u8>]| {
        let path = dir.path().join(name);
        let text: String = reads
            .iter()
            .enumerate()
            .map(|(k, r)| format!(">r{k}\n{}\n", String::from_utf8_lossy(r)))
            .collect();
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    };
    let noisy: Vec<Vec<u8>> = long_reads(&seq, 100, 8000)
        .into_iter()
        .map(|r| r.0)
        .collect();
    let noisy = write("noisy.fa", &noisy);
    let clean: Vec<Vec<u8>> = (0..100)
        .map(|k| seq[k * 20_000..k * 20_000 + 8000].to_vec())
        .collect();
    let clean = write("clean.fa", &clean);
    let survey = |f: &str| cdspred(&["predict", "-q", "--survey-errors", f]);
    assert_eq!(survey(&noisy).trim(), "long6");
    assert_eq!(survey(&clean).trim(), "unknown");
    let gff = |f: &str, errors: &str| {
        cdspred(&["predict", "--format", "gff3", "-q", "--errors", errors, f])
    };
    assert_eq!(gff(&noisy, "auto"), gff(&noisy, "long6"));
    assert_eq!(gff(&clean, "auto"), gff(&clean, "unknown"));
}

/// Long reads with 4% errors (2% substitutions, 1% insertions, 1% deletions) show
/// fewer lasting frame shifts in their own gene calls than long reads with 6% errors
/// (`cdspred_model::estimate::LASTING_CUT`), so without a flag they are decoded as
/// with `--errors mixed4`, the 6% ones as with `--errors long6`; the run's stats give
/// the figure and the rate told.
#[test]
fn long_reads_with_fewer_indels_are_told_a_lower_rate() {
    let dir = tempfile::tempdir().unwrap();
    let dev = shared().join("data/genomes/dev");
    let (_, seq) = unpack_fasta(
        &dev.join("Corynebacterium_diphtheriae_NCTC11397_LN831026.fna.gz"),
        dir.path(),
    );
    let run = |name: &str, rates: (f64, f64, f64)| {
        let path = dir.path().join(name);
        let text: String = long_reads_with(&seq, 60, 8000, rates)
            .iter()
            .enumerate()
            .map(|(k, r)| format!(">r{k}\n{}\n", String::from_utf8_lossy(&r.0)))
            .collect();
        std::fs::write(&path, text).unwrap();
        let f = path.to_str().unwrap().to_string();
        let stats = dir.path().join(format!("{name}.json"));
        let auto = cdspred(&[
            "predict",
            "--format",
            "gff3",
            "-q",
            "--threads",
            "2",
            "--stats",
            stats.to_str().unwrap(),
            &f,
        ]);
        let one = cdspred(&["predict", "--format", "gff3", "-q", "--threads", "1", &f]);
        assert_eq!(auto, one, "the same calls in any thread count");
        let s: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
        let errors = s["cdspred"]["run"]["errors"].clone();
        assert_eq!(errors["survey"], "long6", "{errors}");
        let told = errors["long_rate"].as_str().unwrap().to_string();
        assert_eq!(
            auto,
            cdspred(&["predict", "--format", "gff3", "-q", "--errors", &told, &f]),
            "{errors}"
        );
        (told, errors["lasting_shifts_per_100nt"].as_f64().unwrap())
    };
    let (four, a) = run("mixed4.fa", (0.02, 0.01, 0.01));
    let (six, b) = run("long6.fa", (0.01, 0.03, 0.02));
    assert_eq!(
        (four.as_str(), six.as_str()),
        ("mixed4", "long6"),
        "{a} {b}"
    );
    assert!(a < 1.55 && b >= 1.55 && b > a + 0.1, "{a} {b}");
}

/// Short contigs (an assembly cut into 3-kb pieces), too short to teach themselves,
/// borrow the gene model the file's contigs learn together for their GC content:
/// more of the genome's labelled genes found stop-exact than each contig alone with
/// the model's table (`--self-train off`), and the same calls in any thread count.
#[test]
fn short_contigs_learn_their_genes_together() {
    let g = shared().join("data/genomes/dev");
    let dir = tempfile::tempdir().unwrap();
    let (_, seq) = unpack_fasta(
        &g.join("Corynebacterium_diphtheriae_NCTC11397_LN831026.fna.gz"),
        dir.path(),
    );
    const PIECE: usize = 3000;
    let pieces = 500.min(seq.len() / PIECE);
    let mut fasta = String::new();
    for k in 0..pieces {
        fasta.push_str(&format!(">p{}\n", k * PIECE));
        fasta.push_str(std::str::from_utf8(&seq[k * PIECE..(k + 1) * PIECE]).unwrap());
        fasta.push('\n');
    }
    let path = dir.path().join("contigs.fna");
    std::fs::write(&path, fasta).unwrap();
    // (strand, genome 3' coordinate) of every call, from the pieces' GFF3.
    let stops = |gff: &str| -> HashSet<(char, usize)> {
        cds_fields(gff)
            .map(|f| {
                let off: usize = f[0][1..].parse().unwrap();
                let (s, e): (usize, usize) = (f[3].parse().unwrap(), f[4].parse().unwrap());
                let strand = f[6].chars().next().unwrap();
                (strand, off + if strand == '+' { e } else { s })
            })
            .collect()
    };
    let run = |extra: &[&str]| gene_gff(&path, extra);
    // Labelled genes lying wholly inside one piece.
    let truth: HashSet<(char, usize)> = cds(&gunzip(
        &g.join("Corynebacterium_diphtheriae_NCTC11397_LN831026.pyrodigal_tt11.gff.gz"),
    ))
    .into_iter()
    .filter(|(_, (s, e, _))| (s - 1) / PIECE == (e - 1) / PIECE && (s - 1) / PIECE < pieces)
    .map(|(k, _)| k)
    .collect();
    let sens = |gff: &str| {
        let o = stops(gff);
        truth.iter().filter(|k| o.contains(k)).count() as f64 / truth.len() as f64
    };
    let pooled = run(&["--threads", "2"]);
    let alone = run(&["--self-train", "off"]);
    let (sp, sa) = (sens(&pooled), sens(&alone));
    assert!(truth.len() > 500, "{} genes", truth.len());
    assert!(
        sp >= 0.90 && sp >= sa + 0.03,
        "stop-exact sensitivity {sp:.3} vs alone {sa:.3}"
    );
    assert_eq!(
        run(&["--threads", "1"]),
        pooled,
        "calls depend on the thread count"
    );
}
