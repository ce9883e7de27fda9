//! Replays the committed seed corpora and every regression input (a crash the fuzzer
//! found, kept after the fix) through the fuzz harnesses, on stable, in the test run.

use std::path::Path;

fn replay(target: &str, f: fn(&[u8])) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut n = 0;
    for dir in [
        root.join("corpus").join(target),
        root.join("regressions").join(target),
    ] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut paths: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
        paths.sort();
        for p in paths {
            let data = std::fs::read(&p).unwrap();
            let r = std::panic::catch_unwind(|| f(&data));
            assert!(r.is_ok(), "{target}: {} fails", p.display());
            n += 1;
        }
    }
    assert!(n >= 2, "{target}: at least two corpus inputs, found {n}");
}

#[test]
fn fastx_corpus() {
    replay("fastx", cdspred_fuzz::fastx);
}

#[test]
fn genbank_corpus() {
    replay("genbank", cdspred_fuzz::genbank);
}

#[test]
fn gff_corpus() {
    replay("gff", cdspred_fuzz::gff);
}

#[test]
fn api_corpus() {
    replay("api", cdspred_fuzz::api);
}
