//! Training and evaluation of the cds-predictor network.
//!
//! - [`backward`]: the loss and its gradient for one read (hand-written backward pass
//!   of [`cdspred_model::net`], checked against finite differences in tests).
//! - [`optim`]: AdamW with warm-up and cosine decay.
//! - [`trainer`]: the run — data, initial weights, the epochs, validation, early
//!   stopping on validation loss, best checkpoint, resume. One epoch (`epoch`, private):
//!   fixed-seed shuffling, each read's augmentation, batches split into a fixed number
//!   of chunks whose gradients are summed in order (so the weights do not depend on the
//!   thread count).
//! - [`metrics`]: accuracy, precision, recall, F1, MCC, ROC/PR AUC, calibration error.
//! - [`evaluate`]: scoring a model on labelled read sets, per genome and read length.
//! - [`plot`]: small SVG line plots for run directories.
//! - [`config`]: the training config, its defaults and checks.
//! - [`rundir`]: the run directory — its file names, typed per-epoch metrics.
//! - [`sweep`]: hyper-parameter sweeps with successive halving (the caller trains the
//!   trials).
//! - [`augment`], [`pathtable`]: GC and sequencing-error augmentation; the frame-path
//!   decoder's dicodon log-odds, counted from the training reads.

pub mod augment;
pub mod backward;
pub mod calibration;
pub mod config;
mod epoch;
pub mod evaluate;
pub mod metrics;
pub mod optim;
pub mod pathtable;
pub mod plot;
pub mod rundir;
pub mod sweep;
pub mod trainer;

pub use trainer::{train, TrainConfig, TrainError, TrainReport};
