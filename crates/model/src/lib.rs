//! The cds-predictor network ("FramePath"): definition, weight files and fast inference.
//!
//! - [`features`]: decodes, for each of the six strand × start-frame hypotheses, the
//!   best frame path through the read (codons that may step 2 or 4 nt where the read has
//!   an indel) and turns it into the network's inputs (dicodon ids along the path, stop,
//!   shift, path-score and codon-position composition features).
//! - [`net`]: the weights and the forward pass, with the intermediate values training
//!   needs for its backward pass ([`net::Forward`]).
//! - [`files`]: loading and saving a model directory (safetensors + `config.json` +
//!   `card.json`), with checks that name the wrong file.
//! - [`predict`]: per-read outputs (`coding_prob`, `sense_prob`, strand, frame, frame
//!   shifts, the protein along the path), windows for long sequences, batches over
//!   threads; an optional error hint (`--errors`).
//! - [`estimate`]: a sample's sequencing-error level from its first reads (the hint
//!   `--errors auto` gives).
//! - [`calibrate`]: temperature scaling of the coding probability by read length.
//! - [`embedded`]: the default model compiled into the binary.
//!
//! The network scores each of the six frames with one shared scorer and the non-coding
//! class from a symmetric pooling over frames, so a read and its reverse complement get
//! the same `coding_prob` and mirrored strands by construction.

pub mod calibrate;
pub mod embedded;
pub mod estimate;
pub mod features;
pub mod files;
pub mod genes;
pub mod hmm;
pub mod net;
pub mod onnx;
pub mod predict;
pub mod result;

pub use features::TableContext;
pub use files::{ModelCard, ModelConfig, ModelError};
pub use net::{Model, Weights};
pub use predict::{Call, Prediction, Predictor};
pub use result::ReadResult;
