//! The training config: every key of a `[train]` config file, its defaults, and the
//! checks that need more than its types.

use std::path::PathBuf;

use cdspred_data::ErrorProfile;
use serde::{Deserialize, Serialize};

use crate::trainer::TrainError;

/// Everything that shapes a training run (the `[train]` part of a config file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Run name.
    pub name: String,
    /// Training dataset file (`train.ds`).
    pub train_data: PathBuf,
    /// Validation dataset file.
    pub val_data: PathBuf,
    /// The data recipe (`cdspred data build --recipe`) that makes `train_data` and
    /// `val_data` (`train.ds` and `validation.ds` in one folder): `cdspred train` builds
    /// them from it when they are missing. Empty: none.
    #[serde(default)]
    pub recipe: PathBuf,
    /// Embedding width.
    pub dim: usize,
    /// Hidden width.
    pub hidden: usize,
    /// Maximum epochs.
    pub epochs: usize,
    /// Stop after this many epochs without a better validation loss.
    pub patience: usize,
    /// Reads per batch.
    pub batch_size: usize,
    /// Peak learning rate.
    pub lr: f32,
    /// AdamW weight decay.
    pub weight_decay: f32,
    /// Linear warm-up steps.
    pub warmup_steps: u64,
    /// Seed of initialisation and shuffling.
    pub seed: u64,
    /// Worker threads (0 = all cores); does not change the result.
    pub threads: usize,
    /// Weight of reads with sense-only labels (the seed's fragments).
    pub sense_label_weight: f32,
    /// Use at most this many training reads (0 = all), drawn with the seed.
    pub max_train_reads: usize,
    /// Use at most this many validation reads (0 = all).
    pub max_val_reads: usize,
    /// Share of training reads shown GC-shifted (see [`crate::augment`]).
    #[serde(default)]
    pub gc_augment: f64,
    /// Largest share of eligible positions a GC shift changes (drawn uniformly up to it).
    #[serde(default)]
    pub gc_augment_strength: f64,
    /// Of the shifted reads, the share shifted towards GC (the rest towards AT).
    #[serde(default)]
    pub gc_augment_up: f64,
    /// First-position changes in coding reads, relative to the third-position share
    /// (0 = third positions only).
    #[serde(default)]
    pub gc_augment_first: f64,
    /// Sequencing-error profiles shown in training (built-in names, see
    /// [`cdspred_data::errors`]); each mutated read gets one, drawn uniformly.
    #[serde(default)]
    pub error_profiles: Vec<String>,
    /// Share of training (and validation) reads given a sequencing-error profile.
    #[serde(default)]
    pub error_fraction: f64,
    /// Share of training reads shown their true indel rate as the error hint (the
    /// rest get none); see `cdspred_model::features`.
    #[serde(default)]
    pub error_hint: f64,
    /// Share of the reads shown no hint that carry errors (the prior the model assumes
    /// when `predict` gets no `--errors`); used when `error_hint > 0`.
    #[serde(default)]
    pub error_fraction_unhinted: f64,
    /// Frame-path cost of one shift (see `cdspred_model::features`).
    #[serde(default = "default_shift_penalty")]
    pub shift_penalty: f32,
    /// Frame-path cost of one stop codon.
    #[serde(default = "default_stop_penalty")]
    pub stop_penalty: f32,
    /// Largest |dicodon log-odds| the frame-path decoder uses.
    #[serde(default = "default_llr_clamp")]
    pub path_llr_clamp: f32,
    /// Stop this invocation after this many epochs (0 = run to the end); a later
    /// `--resume` continues. For planned interruptions and their tests.
    #[serde(default)]
    pub stop_after_epochs: usize,
}

fn default_shift_penalty() -> f32 {
    4.0
}

fn default_stop_penalty() -> f32 {
    8.0
}

fn default_llr_clamp() -> f32 {
    4.0
}

/// The value of every key a config file leaves out (a config names what it changes).
impl Default for TrainConfig {
    fn default() -> TrainConfig {
        TrainConfig {
            name: "run".into(),
            train_data: "work/data/train.ds".into(),
            val_data: "work/data/validation.ds".into(),
            recipe: PathBuf::new(),
            dim: 16,
            hidden: 32,
            epochs: 10,
            patience: 3,
            batch_size: 256,
            lr: 0.003,
            weight_decay: 1e-5,
            warmup_steps: 200,
            seed: 1,
            threads: 0,
            sense_label_weight: 1.0,
            max_train_reads: 0,
            max_val_reads: 0,
            gc_augment: 0.0,
            gc_augment_strength: 0.5,
            gc_augment_up: 0.8,
            gc_augment_first: 0.0,
            error_profiles: Vec::new(),
            error_fraction: 0.0,
            error_hint: 0.0,
            error_fraction_unhinted: 0.0,
            shift_penalty: 4.0,
            stop_penalty: 8.0,
            path_llr_clamp: 4.0,
            stop_after_epochs: 0,
        }
    }
}

impl TrainConfig {
    /// The error profiles this config names, checked.
    pub fn profiles(&self) -> Result<Vec<ErrorProfile>, TrainError> {
        if !(0.0..=1.0).contains(&self.error_fraction) {
            return Err(TrainError::Config(format!(
                "error_fraction = {} is outside [0, 1]",
                self.error_fraction
            )));
        }
        if self.error_fraction > 0.0 && self.error_profiles.is_empty() {
            return Err(TrainError::Config(
                "error_fraction > 0 needs error_profiles".into(),
            ));
        }
        self.error_profiles
            .iter()
            .map(|n| ErrorProfile::named(n).map_err(|e| TrainError::Config(e.to_string())))
            .collect()
    }
}
