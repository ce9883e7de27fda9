//! The default model, compiled into the binary so prediction needs no file.
//!
//! The bytes come from `models/default/` at build time; [`default_model`] parses them
//! with the same checks as a model directory on disk.

use std::path::Path;

use crate::files::{ModelError, ModelFiles};

const CONFIG: &[u8] = include_bytes!("../../../models/default/config.json");
const WEIGHTS: &[u8] = include_bytes!("../../../models/default/model.safetensors");
const CARD: &[u8] = include_bytes!("../../../models/default/card.json");

/// Loads the embedded default model.
pub fn default_model() -> Result<ModelFiles, ModelError> {
    ModelFiles::from_bytes(
        Path::new("<embedded>/models/default"),
        CONFIG,
        WEIGHTS,
        CARD,
    )
}

/// sha256 of the embedded weight bytes (the registry check compares it with the card).
pub fn embedded_weights_sha256() -> String {
    crate::files::sha256_hex(WEIGHTS)
}
