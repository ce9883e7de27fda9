//! `cdspred predict` run as a user would: the real binary, the embedded model.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

mod common;
use common::shared;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cdspred"))
}

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/reads.fasta")
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("binary runs")
}

fn run_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut c = bin()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(input).unwrap();
    c.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[test]
fn tsv_contract_on_the_example() {
    let ex = example();
    let out = stdout(&run(&["predict", ex.to_str().unwrap()]));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "id\tlength\tcoding_prob\tsense_prob\tstrand\tframe\tcall\tframeshifts\tfeatures"
    );
    assert_eq!(lines.len(), 401);
    let mut coding = 0;
    for (i, l) in lines[1..].iter().enumerate() {
        let f: Vec<&str> = l.split('\t').collect();
        assert_eq!(f[0], format!("read{}", i + 1), "input order");
        let cp: f32 = f[2].parse().unwrap();
        let sp: f32 = f[3].parse().unwrap();
        assert!((0.0..=1.0).contains(&cp) && sp <= cp + 1e-4);
        assert!(["+", "-"].contains(&f[4]) && ["0", "1", "2"].contains(&f[5]));
        assert_eq!(f[6], if cp >= 0.5 { "coding" } else { "noncoding" });
        // A coding read is one feature, named by its coordinates and strand.
        if f[6] == "coding" {
            assert_eq!(f[8], format!("{}_1_{}_{}", f[0], f[1], f[4]));
        } else {
            assert_eq!(f[8], ".");
        }
        coding += (f[6] == "coding") as usize;
    }
    // An E. coli contig is mostly coding; the model must say so for most reads.
    assert!(coding > 200 && coding < 400, "{coding} coding reads of 400");
}

#[test]
fn output_is_identical_across_threads_and_compression() {
    let ex = example();
    let text = std::fs::read(&ex).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("reads.fa.renamed");
    std::fs::write(&gz, gzip(&text)).unwrap();
    let one = stdout(&run(&["predict", "--threads", "1", ex.to_str().unwrap()]));
    let two = stdout(&run(&["predict", "--threads", "2", ex.to_str().unwrap()]));
    let zipped = stdout(&run(&["predict", "--threads", "2", gz.to_str().unwrap()]));
    let piped = stdout(&run_stdin(&["predict", "-"], &text));
    for n in ["3", "7"] {
        let other = stdout(&run(&["predict", "--threads", n, ex.to_str().unwrap()]));
        assert_eq!(one, other, "{n} threads");
    }
    assert_eq!(one, two);
    assert_eq!(one, zipped);
    assert_eq!(one, piped);
}

#[test]
fn lowercase_crlf_and_fastq_give_the_same_answers() {
    let fa = b">r1\nATGGCTGCTAAAGAAGCTCTGGCTAAAGAAATTGCTGCTCTGGAAAAAGCTGGCGCTAAAGTTATTGAAGCTAAA\n";
    let lower =
        b">r1\r\natggctgctaaagaagctctggctaaagaaattgctgctctggaaaaagctggcgctaaagttattgaagctaaa\r\n";
    let seq = &fa[4..fa.len() - 1];
    let mut fq = b"@r1 desc\n".to_vec();
    fq.extend_from_slice(seq);
    fq.extend_from_slice(b"\n+\n");
    fq.extend(std::iter::repeat_n(b'I', seq.len()));
    fq.push(b'\n');
    let a = stdout(&run_stdin(&["predict"], fa));
    assert_eq!(a, stdout(&run_stdin(&["predict"], lower)));
    assert_eq!(a, stdout(&run_stdin(&["predict"], &fq)));
}

#[test]
fn iupac_codes_are_read_as_n_and_short_reads_are_too_short() {
    let input = b">amb\nATGRYKMSWBDHVNATGGCTGCTAAAGAAGCTCTGGCTAAAGAAATTGCTG\n>tiny\nACGTACGT\n";
    let out = stdout(&run_stdin(&["predict"], input));
    let rows: Vec<Vec<&str>> = out
        .lines()
        .skip(1)
        .map(|l| l.split('\t').collect())
        .collect();
    assert_eq!(rows[0][1], "51");
    assert_ne!(rows[0][6], "too_short");
    assert_eq!(
        rows[1],
        vec!["tiny", "8", "NaN", "NaN", ".", ".", "too_short", ".", "."]
    );
}

fn fails_with(input: &[u8], name: &str, needles: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(name);
    std::fs::write(&p, input).unwrap();
    let out_file = dir.path().join("out.tsv");
    let o = run(&[
        "predict",
        p.to_str().unwrap(),
        "-o",
        out_file.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    for n in needles {
        assert!(err.contains(n), "{n:?} not in {err}");
    }
    // A failed run creates no output; the rows written before the bad record are
    // complete lines in OUT.partial.
    assert!(
        !out_file.exists(),
        "a failed run left {}",
        out_file.display()
    );
    if let Ok(written) = std::fs::read_to_string(dir.path().join("out.tsv.partial")) {
        assert!(written.is_empty() || written.ends_with('\n'));
    }
}

#[test]
fn bad_input_names_file_record_and_position() {
    // Header lines are bounded (1 MiB), for the first record and a later one.
    let mut long = b">".to_vec();
    long.extend(std::iter::repeat_n(b'x', 2 << 20));
    let first = [long.as_slice(), b"\nACGT\n"].concat();
    fails_with(
        &first,
        "long.fa",
        &[
            "long.fa",
            "record 1",
            "line 1",
            "header longer than 1048576 bytes",
        ],
    );
    let second = [b">a\nACGT\n".as_slice(), &long, b"\nACGT\n"].concat();
    fails_with(
        &second,
        "long2.fa",
        &[
            "long2.fa",
            "record 2",
            "line 3",
            "header longer than 1048576 bytes",
        ],
    );
    fails_with(
        b">a\nACGT\n>b\nACGTX\n",
        "bad.fa",
        &[
            "bad.fa",
            "record 2 (b)",
            "line 4",
            "invalid base 'X' at column 5",
        ],
    );
    fails_with(
        b"@a\nACGT\n+\nIII\n",
        "q.fq",
        &[
            "q.fq",
            "record 1 (a)",
            "quality length 3 differs from sequence length 4",
        ],
    );
    fails_with(
        b">a\n>b\nACGT\n",
        "empty.fa",
        &["empty.fa", "record 1 (a)", "empty record"],
    );
    let mut gz = gzip(&std::fs::read(example()).unwrap());
    gz.truncate(gz.len() / 2);
    fails_with(&gz, "cut.fa.gz", &["cut.fa.gz", "record"]);
    let o = run(&["predict", "/nonexistent/reads.fa"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr)
        .contains("cannot open /nonexistent/reads.fa: No such file"));
    // An endless binary stream is refused on its first byte, in bounded time and memory.
    let mut c = bin()
        .args(["predict", "/dev/zero"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = std::time::Instant::now();
    let status = loop {
        if let Some(st) = c.try_wait().unwrap() {
            break st;
        }
        if t0.elapsed() > std::time::Duration::from_secs(20) {
            c.kill().unwrap();
            panic!("predict /dev/zero still running after 20 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(2));
    let mut err = String::new();
    c.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(
        err.contains("/dev/zero: record 1, line 1: not FASTA or FASTQ"),
        "{err}"
    );
    // Compressed formats that are not read are named.
    let mut bz = b"BZh91AY&SY".to_vec();
    bz.extend_from_slice(&[0; 32]);
    fails_with(
        &bz,
        "reads.fa.bz2",
        &["reads.fa.bz2", "bzip2-compressed input is not read"],
    );
}

#[test]
fn rows_before_a_bad_record_are_kept() {
    let ex = std::fs::read(example()).unwrap();
    let mut input = ex.clone();
    input.extend_from_slice(b">bad\nACGU-T\n");
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("mixed.fa");
    std::fs::write(&p, &input).unwrap();
    let out = dir.path().join("o.tsv");
    std::fs::write(&out, "an earlier result\n").unwrap();
    let o = run(&["predict", p.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("o.tsv.partial"));
    let text = std::fs::read_to_string(dir.path().join("o.tsv.partial")).unwrap();
    assert_eq!(
        text.lines().count(),
        401,
        "all 400 good rows and the header are kept"
    );
    // The earlier result is untouched, by a bad record and by a missing input alike,
    // and no temporary file is left beside it.
    for input in [p.to_str().unwrap(), "/nonexistent/reads.fa"] {
        let o = run(&["predict", input, "-o", out.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2));
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "an earlier result\n"
        );
    }
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.ends_with(".tmp")), "{names:?}");
}

#[test]
fn gz_output_is_gzip_and_zstd_input_is_read() {
    let ex = example();
    let plain = stdout(&run(&["predict", ex.to_str().unwrap()]));
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("o.tsv.gz");
    stdout(&run(&[
        "predict",
        ex.to_str().unwrap(),
        "-o",
        gz.to_str().unwrap(),
    ]));
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&gz).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, plain);
    // The example as two zstd frames (as pzstd writes them).
    let fasta = std::fs::read(&ex).unwrap();
    let cut = fasta.windows(2).position(|w| w == b"\n>").unwrap() + 1;
    let mut z = ruzstd::encoding::compress_to_vec(
        &fasta[..cut],
        ruzstd::encoding::CompressionLevel::Fastest,
    );
    z.extend(ruzstd::encoding::compress_to_vec(
        &fasta[cut..],
        ruzstd::encoding::CompressionLevel::Fastest,
    ));
    let zst = dir.path().join("reads.fa.zst");
    std::fs::write(&zst, z).unwrap();
    assert_eq!(stdout(&run(&["predict", zst.to_str().unwrap()])), plain);
}

#[test]
fn other_formats() {
    let ex = example();
    let tsv = stdout(&run(&["predict", ex.to_str().unwrap()]));
    let coding: Vec<Vec<String>> = tsv
        .lines()
        .skip(1)
        .map(|l| l.split('\t').map(String::from).collect::<Vec<_>>())
        .filter(|f| f[6] == "coding")
        .collect();
    let jsonl = stdout(&run(&[
        "predict",
        "--format",
        "jsonl",
        ex.to_str().unwrap(),
    ]));
    let objs: Vec<serde_json::Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(objs.len(), 400);
    let with_protein = objs.iter().filter(|o| o["protein"].is_string()).count();
    assert_eq!(with_protein, coding.len());
    // JSON frames are numbers.
    assert!(objs
        .iter()
        .all(|o| o["frame"].as_u64().is_some_and(|f| f < 3)));
    let gff = stdout(&run(&["predict", "--format", "gff3", ex.to_str().unwrap()]));
    assert!(gff.starts_with("##gff-version 3\n"));
    assert_eq!(
        gff.lines().filter(|l| !l.starts_with('#')).count(),
        coding.len()
    );
    let faa = stdout(&run(&["predict", "--format", "faa", ex.to_str().unwrap()]));
    let proteins: Vec<&str> = faa.lines().filter(|l| !l.starts_with('>')).collect();
    assert_eq!(proteins.len(), coding.len());
    // A coding call's protein has no internal stop in most reads.
    let clean = proteins
        .iter()
        .filter(|p| !p.trim_end_matches('*').contains('*'))
        .count();
    assert!(
        clean * 10 >= proteins.len() * 9,
        "{clean} of {}",
        proteins.len()
    );
    let ffn = stdout(&run(&["predict", "--format", "ffn", ex.to_str().unwrap()]));
    assert_eq!(
        ffn.lines().filter(|l| l.starts_with('>')).count(),
        coding.len()
    );
}

#[test]
fn genetic_code_is_validated_and_changes_translation() {
    // An unknown code is a usage error at the edge (exit 2), never table 11, in every
    // command that takes one.
    let ex = example();
    let ex = ex.to_str().unwrap();
    for args in [
        &["predict", "--table", "7", ex][..],
        &["eval", "--table", "7", "--seed-csv", ex],
        &["drift", "--table", "7", "--current", ex],
    ] {
        let o = run(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("unknown genetic code 7"), "{args:?}: {err}");
    }
    // So is a threshold outside 0–1.
    for args in [
        &["predict", "--threshold", "1.5", ex][..],
        &["eval", "--threshold=-0.1", "--seed-csv", ex],
    ] {
        let o = run(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&o.stderr).contains("is not between 0 and 1"));
    }
    // TGA read through as Trp under table 4.
    let read =
        b">r\nATGGCTTGAAAAGCTGAAGCTCTGGCTTGAGAAATTGCTGCTCTGGAAAAAGCTGGCGCTAAAGTTATTTGAGCTAAAGCT\n";
    let t4 = stdout(&run_stdin(
        &[
            "predict",
            "--format",
            "jsonl",
            "--table",
            "4",
            "--threshold",
            "0",
        ],
        read,
    ));
    let v: serde_json::Value = serde_json::from_str(t4.lines().next().unwrap()).unwrap();
    assert_eq!(v["call"], "coding");
}

/// (header, sequence) records of FASTA text.
fn records(text: &str) -> Vec<(String, String)> {
    text.split('>')
        .skip(1)
        .map(|r| {
            let (h, s) = r.split_once('\n').unwrap();
            (h.to_string(), s.lines().collect())
        })
        .collect()
}

#[test]
fn table_4_proteins_read_tga_as_trp() {
    // Real M. hyorhinis (table 4) reads: every protein in faa is the translation of the
    // codons in ffn under NCBI table 4 (TCAG order; TGA = W), by a table written here.
    const TABLE_4: &[u8; 64] = b"FFLLSSSSYY**CCWWLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG";
    let b = |c: u8| b"TCAG".iter().position(|&x| x == c);
    let translate = |s: &str| -> String {
        s.as_bytes()
            .chunks_exact(3)
            .map(|c| match (b(c[0]), b(c[1]), b(c[2])) {
                (Some(x), Some(y), Some(z)) => TABLE_4[x * 16 + y * 4 + z] as char,
                _ => 'X',
            })
            .collect()
    };
    let reads = shared().join("data/eval/mhyorhinis.fasta.gz");
    let reads = reads.to_str().unwrap();
    let ffn = records(&stdout(&run(&[
        "predict", "--table", "4", "--format", "ffn", reads,
    ])));
    let faa = records(&stdout(&run(&[
        "predict", "--table", "4", "--format", "faa", reads,
    ])));
    // Reads without frame shifts: ffn holds the read (sense strand), faa its
    // translation from the reported frame.
    let unshifted: std::collections::HashSet<String> = stdout(&run(&[
        "predict", "--table", "4", "--format", "jsonl", reads,
    ]))
    .lines()
    .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
    .filter(|v| v["call"] == "coding" && v["frameshifts"].as_array().unwrap().is_empty())
    .map(|v| v["features"][0].as_str().unwrap().to_string())
    .collect();
    assert_eq!(ffn.len(), faa.len());
    let (mut checked, mut with_tga) = (0, 0);
    for ((hn, n), (hp, p)) in ffn.iter().zip(&faa) {
        assert_eq!(hn, hp);
        let id = hn.split_whitespace().next().unwrap();
        if !unshifted.contains(id) {
            continue;
        }
        let frame: usize = hn.split("frame=").nth(1).unwrap()[..1].parse().unwrap();
        let codons = &n[frame..];
        assert_eq!(&translate(codons), p, "{hn}");
        checked += 1;
        with_tga += codons.as_bytes().chunks_exact(3).any(|c| c == b"TGA") as usize;
    }
    assert!(checked > 3000, "{checked} proteins checked");
    // The reads exercise the reassignment (M. hyorhinis uses TGA for Trp).
    assert!(with_tga > 500, "{with_tga} proteins with an in-frame TGA");
}

#[test]
fn long_sequences_get_gene_calls_in_gff() {
    let ex = std::fs::read_to_string(example()).unwrap();
    let long: String = ex
        .lines()
        .filter(|l| !l.starts_with('>'))
        .take(30)
        .collect();
    let input = format!(">contig\n{long}\n");
    let gff = stdout(&run_stdin(
        &["predict", "--format", "gff3"],
        input.as_bytes(),
    ));
    for l in gff.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = l.split('\t').collect();
        let (s, e): (usize, usize) = (f[3].parse().unwrap(), f[4].parse().unwrap());
        assert!(s >= 1 && e <= long.len() && s < e);
        // A complete call ends at a stop codon (table 11).
        if f[8].contains("partial=00") {
            let stop = if f[6] == "+" {
                long[e - 3..e].to_string()
            } else {
                long[s - 1..s + 2].to_string()
            };
            assert!(
                ["TAA", "TAG", "TGA", "TTA", "CTA", "TCA"].contains(&stop.as_str()),
                "{l}"
            );
        }
    }
    let tsv = stdout(&run_stdin(&["predict"], input.as_bytes()));
    assert_eq!(tsv.lines().count(), 2);
}

#[test]
fn logs_to_a_file_carry_no_colour_codes() {
    let ex = example();
    let o = bin()
        .env_remove("NO_COLOR")
        .args(["predict", "-v", ex.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("INFO"), "-v logs: {err}");
    assert!(
        !err.contains('\x1b'),
        "ANSI codes on a non-terminal: {err:?}"
    );
}

#[test]
fn version_names_the_embedded_model_and_its_weights() {
    let o = run(&["--version"]);
    let text = stdout(&o);
    let card: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/default/card.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let sha = card["weights_sha256"].as_str().unwrap();
    let name = card["version"].as_str().unwrap();
    assert!(text.starts_with("cdspred "), "{text}");
    assert!(text.contains(sha) && text.contains(name), "{text}");
}
