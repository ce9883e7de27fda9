//! The frame-path decoder's dicodon table, counted from training reads.
//!
//! `llr[id] = ln P(id | coding frame) − ln P(id | elsewhere)`, with add-one smoothing:
//! "coding frame" counts the dicodons of labelled coding reads read in their sense
//! frame; "elsewhere" counts the other two frames of the sense strand, the three
//! frames of the antisense strand and all six frames of non-coding reads. Codons are
//! table-11 synonyms under each read's code, as the network sees them; dicodons
//! holding an N score 0. Reads with sense-only labels (no frame) are not counted.

use std::collections::HashMap;

use cdspred_core::code::{codon_index, N_CODON};
use cdspred_core::dna::revcomp_codes;
use cdspred_core::{ReadClass, Strand, TableId};
use cdspred_data::{Dataset, ReadLabel};
use cdspred_model::features::VOCAB;
use cdspred_model::hmm::ChainCounts;
use cdspred_model::TableContext;

/// Counts the table over a dataset's labelled reads; log-odds are clamped to
/// `[-clamp, clamp]` so that no single dicodon outweighs a frame shift.
pub fn count_llr(ds: &Dataset, tables: &HashMap<TableId, TableContext>, clamp: f32) -> Vec<f32> {
    let mut coding = vec![0f64; VOCAB];
    let mut other = vec![0f64; VOCAB];
    for s in &ds.samples {
        let ReadLabel::Class(class) = s.label else {
            continue;
        };
        let Some(table) = tables.get(&s.table) else {
            continue;
        };
        let read = ds.read(s);
        let rc = revcomp_codes(read);
        for (strand, seq) in [(Strand::Plus, read), (Strand::Minus, &rc[..])] {
            for off in 0..3 {
                let in_frame = matches!(class, ReadClass::Coding(st, f)
                    if st == strand && f.offset() as usize == off);
                let dst = if in_frame { &mut coding } else { &mut other };
                let mut prev: Option<u8> = None;
                for c in seq.get(off..).unwrap_or(&[]).chunks_exact(3) {
                    let k = table.synonym(codon_index(c));
                    if let Some(pk) = prev {
                        if pk as usize != N_CODON && k as usize != N_CODON {
                            dst[pk as usize * 65 + k as usize] += 1.0;
                        }
                    }
                    prev = Some(k);
                }
            }
        }
    }
    let (tc, to) = (coding.iter().sum::<f64>(), other.iter().sum::<f64>());
    let v = VOCAB as f64;
    (0..VOCAB)
        .map(|id| {
            if id / 65 == N_CODON || id % 65 == N_CODON {
                return 0.0;
            }
            let l = ((coding[id] + 1.0) / (tc + v)).ln() - ((other[id] + 1.0) / (to + v)).ln();
            (l as f32).clamp(-clamp, clamp)
        })
        .collect()
}

/// Counts the chains of [`cdspred_model::hmm`] over a dataset's labelled reads: coding
/// reads on their sense strand from their frame, non-coding reads on both strands.
/// Reads with sense-only labels (no frame) are not counted.
pub fn count_chains(ds: &Dataset) -> ChainCounts {
    let mut counts = ChainCounts::default();
    for s in &ds.samples {
        let ReadLabel::Class(class) = s.label else {
            continue;
        };
        let read = ds.read(s);
        match class {
            ReadClass::Coding(Strand::Plus, f) => {
                counts.add_coding_frame(read, f.offset() as usize)
            }
            ReadClass::Coding(Strand::Minus, f) => {
                counts.add_coding_frame(&revcomp_codes(read), f.offset() as usize)
            }
            _ => counts.add_noncoding(read),
        }
    }
    counts
}
