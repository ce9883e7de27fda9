//! The genome readers on real files from `../shared/data/genomes`.

use std::path::PathBuf;

use cdspred_core::Strand;
use cdspred_data::genbank::read_genbank;
use cdspred_data::genome::{read_fasta_faa, read_gff};

fn g(rel: &str) -> PathBuf {
    let base = std::env::var_os("CDSPRED_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    base.join("data/genomes").join(rel)
}

#[test]
fn genbank_plasmid() {
    let gb = read_genbank(&g("fixtures/Ypestis_pPCP1_NC_005816.gb.gz")).unwrap();
    assert_eq!(gb.contigs.len(), 1);
    let c = &gb.contigs[0];
    assert_eq!(c.id, "NC_005816");
    assert_eq!(c.seq.len(), 9609);
    assert!(c.cds.len() >= 10, "{}", c.cds.len());
    // Every complete CDS has a length that is a multiple of 3 and lies inside the sequence.
    for cds in c.cds.iter().filter(|x| x.complete) {
        assert_eq!((cds.end - cds.start) % 3, 0);
        assert!(cds.end <= c.seq.len());
    }
}

#[test]
fn genbank_joined_cds_are_never_complete() {
    let gb = read_genbank(&g("fixtures/Athaliana_chloroplast_NC_000932.gb.gz")).unwrap();
    let c = &gb.contigs[0];
    assert_eq!(c.seq.len(), 154_478);
    assert!(c.cds.iter().any(|x| x.strand == Strand::Minus));
    // Joined CDSs (introns, trans-splicing) are kept as blocked regions.
    assert!(!c.blocked.is_empty());
}

#[test]
fn gff3_with_embedded_fasta() {
    let gff = read_gff(&g("train/Ecoli_like_Prokka_BAC.gff3.gz"), None).unwrap();
    assert_eq!(gff.contigs.len(), 226);
    let cds: usize = gff.contigs.iter().map(|c| c.cds.len()).sum();
    assert_eq!(cds, 4611);
    let rna: usize = gff.contigs.iter().map(|c| c.blocked.len()).sum();
    assert_eq!(rna, 90, "77 tRNA + 12 rRNA + 1 tmRNA");
}

#[test]
fn fasta_with_pyrodigal_proteins() {
    let gn = read_fasta_faa(
        &g("altcode/phage_Topaz_code15.fna.gz"),
        &g("altcode/phage_Topaz_code15.pyrodigal-gv.faa.gz"),
    )
    .unwrap();
    let cds: Vec<_> = gn.contigs.iter().flat_map(|c| c.cds.iter()).collect();
    assert!(cds.len() > 10);
    assert!(cds.iter().any(|c| c.complete));
    assert!(gn.skipped.is_empty(), "{:?}", gn.skipped);
}
