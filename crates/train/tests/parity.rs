//! The inference path (`Predictor`, used by `predict` and `serve`) and the training
//! path (`Model::forward`, used by `train` and its validation) give the same
//! probabilities on the same weights; the hand-written gradient the trainer follows is
//! checked against finite differences of that same forward pass (`backward::tests`).

use cdspred_core::{DnaSeq, GeneticCode};
use cdspred_model::embedded::default_model;
use cdspred_model::features::FrameInputs;
use cdspred_model::net::{Forward, Model};
use cdspred_model::predict::Scratch;
use cdspred_model::{Predictor, TableContext};

#[test]
fn predictor_matches_the_training_forward_pass() {
    let files = default_model().unwrap();
    // The network's own probabilities; the calibrated ones are checked below.
    let pred = Predictor::new(&files).uncalibrated();
    let calibrated = Predictor::new(&files);
    let cal = files
        .config
        .calibration
        .as_ref()
        .expect("the default model is calibrated");
    let model = Model::new(files.weights.clone());
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/reads.fasta"
    ))
    .unwrap();
    let reads: Vec<DnaSeq> = text
        .lines()
        .filter(|l| !l.starts_with('>'))
        .map(|l| DnaSeq::from_ascii(l.as_bytes()).unwrap())
        .collect();
    assert_eq!(reads.len(), 400);
    for table in [11, 4] {
        let ctx = TableContext::new(GeneticCode::new(table).unwrap());
        let (mut s, mut inp, mut fw) = (
            Scratch::default(),
            FrameInputs::default(),
            Forward::default(),
        );
        for r in &reads {
            let p = pred.predict(r.codes(), &ctx, 0.5, &mut s);
            inp.fill(r.codes(), &ctx, &model.weights().path());
            model.forward(&inp, &mut fw);
            for k in 0..7 {
                assert!(
                    (p.probs[k] - fw.probs[k]).abs() <= 1e-6,
                    "class {k}: {} vs {}",
                    p.probs[k],
                    fw.probs[k]
                );
            }
            assert!((p.coding_prob - (1.0 - fw.probs[0])).abs() <= 1e-6);
            // Calibrated: the network's probabilities at the temperature of the read's
            // length (the main network, told nothing), the same best class.
            let c = calibrated.predict(r.codes(), &ctx, 0.5, &mut s);
            let want = cdspred_model::calibrate::apply(
                fw.probs,
                cal.table(cdspred_model::calibrate::Scorer::Main)
                    .at(r.len()),
            );
            for k in 0..7 {
                assert!((c.probs[k] - want[k]).abs() <= 1e-6, "calibrated class {k}");
            }
            assert_eq!(c.best, p.best);
            assert_eq!(c.call, p.call);
        }
    }
}
