//! Encodings round-trip: ASCII ↔ base codes, codons ↔ codon indices, and the reverse
//! complement of the reverse complement.

use cdspred_core::code::{codon_index, GeneticCode, N_CODON};
use cdspred_core::DnaSeq;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// ASCII → codes → ASCII gives the upper-case sequence back (U as T, IUPAC as N).
    #[test]
    fn ascii_round_trip(s in "[ACGTUNRYKMSWBDHVacgtunrykmswbdhv]{0,300}") {
        let d = DnaSeq::from_ascii(s.as_bytes()).unwrap();
        let expect: String = s
            .to_ascii_uppercase()
            .chars()
            .map(|c| match c {
                'A' | 'C' | 'G' | 'T' => c,
                'U' => 'T',
                _ => 'N',
            })
            .collect();
        prop_assert_eq!(d.to_ascii(), expect.clone());
        prop_assert_eq!(DnaSeq::from_ascii(expect.as_bytes()).unwrap(), d);
    }

    /// Every codon of called bases has its own index in 0..64 that decodes back to it;
    /// a codon with an N maps to N_CODON.
    #[test]
    fn codon_index_round_trip(a in 0u8..5, b in 0u8..5, c in 0u8..5) {
        let idx = codon_index(&[a, b, c]);
        if a < 4 && b < 4 && c < 4 {
            prop_assert!(idx < N_CODON);
            prop_assert_eq!([(idx / 16) as u8, (idx / 4 % 4) as u8, (idx % 4) as u8], [a, b, c]);
        } else {
            prop_assert_eq!(idx, N_CODON);
        }
    }

    /// Reverse complement is an involution and complements base counts.
    #[test]
    fn reverse_complement_mirrors(s in "[ACGTN]{0,400}") {
        let d = DnaSeq::from_ascii(s.as_bytes()).unwrap();
        let r = d.reverse_complement();
        prop_assert_eq!(r.reverse_complement(), d.clone());
        prop_assert_eq!(r.len(), d.len());
        let count = |x: &DnaSeq, b: u8| x.codes().iter().filter(|&&c| c == b).count();
        prop_assert_eq!(count(&d, 0), count(&r, 3));
        prop_assert_eq!(count(&d, 1), count(&r, 2));
        prop_assert_eq!(count(&d, 4), count(&r, 4));
    }
}

#[test]
fn all_64_codons_have_distinct_indices_and_translate() {
    let code = GeneticCode::bacterial();
    let mut seen = [false; N_CODON];
    for a in 0..4u8 {
        for b in 0..4u8 {
            for c in 0..4u8 {
                let i = codon_index(&[a, b, c]);
                assert!(!seen[i]);
                seen[i] = true;
                assert_ne!(code.amino_acid(i), b'X');
            }
        }
    }
    assert!(seen.iter().all(|&s| s));
}
