//! Properties of the embedded default model.

use cdspred_core::{DnaSeq, GeneticCode};
use cdspred_model::embedded::{default_model, embedded_weights_sha256};
use cdspred_model::predict::Scratch;
use cdspred_model::{Predictor, TableContext};
use proptest::prelude::*;

fn predictor() -> Predictor {
    Predictor::new(&default_model().expect("embedded model loads"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    /// A read and its reverse complement get the same coding_prob (±1e-4), mirrored
    /// strand and the same frame (the frame is defined on the sense-oriented read),
    /// from the main network (no hint, or an indel hint), from the clean expert and
    /// from the pristine expert.
    #[test]
    fn strand_consistent(
        s in "[ACGTN]{40,400}",
        table in prop::sample::select(vec![11u32, 4, 25, 15]),
        hint in prop::sample::select(vec![None, Some(0.0f32), Some(0.8)]),
        error_free in any::<bool>(),
    ) {
        let p = predictor().with_error_hint(hint).with_error_free(error_free);
        prop_assert_eq!(p.uses_clean_expert(), hint == Some(0.0) && !error_free);
        prop_assert_eq!(p.uses_pristine_expert(), hint == Some(0.0) && error_free);
        let t = TableContext::new(GeneticCode::new(table).unwrap());
        let d = DnaSeq::from_ascii(s.as_bytes()).unwrap();
        let mut sc = Scratch::default();
        let a = p.predict(d.codes(), &t, 0.5, &mut sc);
        let b = p.predict(d.reverse_complement().codes(), &t, 0.5, &mut sc);
        prop_assert!((a.coding_prob - b.coding_prob).abs() <= 1e-4, "{} vs {}", a.coding_prob, b.coding_prob);
        prop_assert!((b.sense_prob - (a.coding_prob - a.sense_prob)).abs() <= 1e-4);
        let (sa, fa) = a.best.unwrap();
        let (sb, fb) = b.best.unwrap();
        // Ties between frames may break differently; only compare clear winners.
        let margin = {
            let mut v: Vec<f32> = a.probs[1..].to_vec();
            v.sort_by(|x, y| y.total_cmp(x));
            v[0] - v[1]
        };
        if margin > 1e-4 {
            prop_assert_eq!(sa.flip(), sb);
            prop_assert_eq!(fa, fb);
        }
    }

    /// Predicting a batch on two threads equals predicting read by read.
    #[test]
    fn batch_equals_single(reads in prop::collection::vec("[ACGT]{30,900}", 1..40)) {
        let p = predictor();
        let t = TableContext::new(GeneticCode::bacterial());
        let seqs: Vec<DnaSeq> = reads.iter().map(|r| DnaSeq::from_ascii(r.as_bytes()).unwrap()).collect();
        let refs: Vec<&[u8]> = seqs.iter().map(|s| s.codes()).collect();
        let batch = p.predict_batch(&refs, &t, 0.5, 2);
        let mut sc = Scratch::default();
        for (s, b) in refs.iter().zip(&batch) {
            prop_assert_eq!(&p.predict(s, &t, 0.5, &mut sc), b);
        }
    }
}

#[test]
fn embedded_model_matches_its_card_and_the_registry_copy() {
    let m = default_model().unwrap();
    assert_eq!(
        m.card.weights_sha256,
        embedded_weights_sha256(),
        "card.json names other weights"
    );
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/default");
    let disk = cdspred_model::files::ModelFiles::load(&dir).unwrap();
    assert_eq!(disk.weights, m.weights);
    assert!(m.clean.is_some(), "the default model has a clean expert");
    assert_eq!(disk.clean, m.clean);
    assert!(
        m.pristine.is_some(),
        "the default model has a pristine expert"
    );
    assert_eq!(disk.pristine, m.pristine);
    assert_ne!(m.pristine, m.clean);
    let bytes = std::fs::read(dir.join("model.safetensors")).unwrap();
    assert_eq!(
        cdspred_model::files::sha256_hex(&bytes),
        disk.card.weights_sha256
    );
    assert!(m.weights.parameter_count() > 10_000);
}

/// The network's operations on 300-nt reads, counted in the forward pass itself: the
/// figure net.rs and docs/benchmarks.md give, and the 4 MFLOP budget.
#[test]
fn counted_flops_per_300nt_read() {
    let m = default_model().unwrap();
    let t = TableContext::new(GeneticCode::bacterial());
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut counts = Vec::new();
    for (name, w) in [
        ("main", &m.weights),
        ("clean expert", m.clean.as_ref().unwrap()),
        ("pristine expert", m.pristine.as_ref().unwrap()),
    ] {
        let net = cdspred_model::net::Model::new(w.clone());
        let mut inp = cdspred_model::features::FrameInputs::default();
        let mut fw = cdspred_model::net::Forward::default();
        for _ in 0..50 {
            let read: Vec<u8> = (0..300).map(|_| (next() % 4) as u8).collect();
            inp.fill(&read, &t, &w.path());
            let flops = net.forward_counting(&inp, &mut fw);
            // Counting changes nothing.
            let probs = fw.probs;
            net.forward(&inp, &mut fw);
            assert_eq!(probs, fw.probs);
            // The count follows the work: the embedding sums grow with the path lengths.
            let codons: usize = inp.ids.iter().map(Vec::len).sum();
            let (d, h, iw) = (w.dim as u64, w.hidden as u64, w.input_width() as u64);
            let dense_part =
                6 * (d + 1 + d + h * (2 * iw + 3 + 1) + 5 * h) + h + 2 * (2 * h + 3) + 2 + 35;
            assert_eq!(flops, codons as u64 * d + dense_part, "{name}");
            counts.push(flops);
        }
    }
    let (lo, hi) = (*counts.iter().min().unwrap(), *counts.iter().max().unwrap());
    assert!(
        hi <= 4_000_000,
        "{hi} FLOP per read exceeds the 4 MFLOP budget"
    );
    // docs/benchmarks.md and net.rs say "about 0.028 MFLOP per 300-nt read".
    assert!(
        (26_000..=30_000).contains(&lo) && (26_000..=30_000).contains(&hi),
        "counted {lo}..{hi} FLOP per 300-nt read; update the documented figure"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]
    /// Above 400 nt too (scored in windows): a sequence and its reverse complement get
    /// the same coding_prob, and their coding segments mirror each other.
    #[test]
    fn strand_consistent_when_windowed(s in "[ACGT]{401,1500}") {
        let p = predictor();
        let t = TableContext::new(GeneticCode::bacterial());
        let d = DnaSeq::from_ascii(s.as_bytes()).unwrap();
        let mut sc = Scratch::default();
        let a = p.predict(d.codes(), &t, 0.5, &mut sc);
        let b = p.predict(d.reverse_complement().codes(), &t, 0.5, &mut sc);
        prop_assert!((a.coding_prob - b.coding_prob).abs() <= 1e-4, "{} vs {}", a.coding_prob, b.coding_prob);
        let n = s.len();
        let mut sa: Vec<(usize, usize)> = a.segments.iter().map(|g| (g.start, g.end)).collect();
        let mut sb: Vec<(usize, usize)> = b.segments.iter().map(|g| (n - g.end, n - g.start)).collect();
        sa.sort_unstable();
        sb.sort_unstable();
        prop_assert_eq!(sa, sb);
    }
}

#[test]
fn short_reads_are_not_scored_and_long_ones_get_gene_calls() {
    let p = predictor();
    let t = TableContext::new(GeneticCode::bacterial());
    let mut sc = Scratch::default();
    let short = DnaSeq::from_ascii(&[b'A'; 20]).unwrap();
    assert_eq!(
        p.predict(short.codes(), &t, 0.5, &mut sc).call,
        cdspred_model::Call::TooShort
    );
    // Above max_len the row comes from the best window and the segments are gene
    // calls: on the example reads joined into one sequence, every complete call runs
    // from a start codon to a stop codon with no stop between.
    let joined: String = include_str!("../../../examples/reads.fasta")
        .lines()
        .filter(|l| !l.starts_with('>'))
        .collect();
    let long = DnaSeq::from_ascii(joined.as_bytes()).unwrap();
    let r = p.predict(long.codes(), &t, 0.5, &mut sc);
    assert!(r.segments.len() > 10, "{}", r.segments.len());
    let code = GeneticCode::bacterial();
    for s in &r.segments {
        let g = s.gene.expect("a gene call");
        let (p5, p3) = match s.strand {
            cdspred_core::Strand::Plus => g.partial,
            cdspred_core::Strand::Minus => (g.partial.1, g.partial.0),
        };
        let protein = s.protein(long.codes(), &code);
        assert_eq!(protein.ends_with('*'), !p3, "{s:?}");
        assert!(!protein[..protein.len() - 1].contains('*'), "{s:?}");
        if !p5 {
            let sense = s.sense(long.codes());
            let start = cdspred_core::code::codon_index(&sense[..3]);
            assert!([14, 46, 62].contains(&start), "{s:?}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    /// With shifts ruled out, the dicodon ids of the six frames decode back to the read
    /// (code 11: no synonym mapping): frame f < 3 holds consecutive codons from offset
    /// f; frames 3..5 the same for the reverse complement.
    #[test]
    fn dicodon_ids_round_trip(s in "[ACGT]{8,300}") {
        use cdspred_core::code::codon_index;
        let d = DnaSeq::from_ascii(s.as_bytes()).unwrap();
        let t = TableContext::new(GeneticCode::bacterial());
        let mut fi = cdspred_model::features::FrameInputs::default();
        // A prohibitive shift cost: every path is its fixed frame.
        let llr = vec![0.0; cdspred_model::features::VOCAB];
        let path = cdspred_model::features::PathScorer { llr: &llr, shift: 1e6, stop: 8.0, hint: None };
        fi.fill(d.codes(), &t, &path);
        let rc = d.reverse_complement();
        for frame in 0..6 {
            let seq = if frame < 3 { d.codes() } else { rc.codes() };
            let codons: Vec<usize> = seq[frame % 3..].chunks_exact(3).map(codon_index).collect();
            let decoded: Vec<(usize, usize)> = fi.ids[frame]
                .iter()
                .map(|&id| (id as usize / 65, id as usize % 65))
                .collect();
            let expect: Vec<(usize, usize)> = codons.windows(2).map(|w| (w[0], w[1])).collect();
            prop_assert_eq!(decoded, expect, "frame {}", frame);
        }
    }
}
