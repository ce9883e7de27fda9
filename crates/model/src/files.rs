//! Model directories: `model.safetensors` + `config.json` + `card.json`.
//!
//! Weights never travel without the config that shapes them and the card that says
//! where they came from. Loading checks the architecture name, the format version and
//! every tensor's shape, and names the file that is wrong.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use safetensors::{tensor::TensorView, Dtype, SafeTensors};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::hmm::{ChainCounts, WORDS};
use crate::net::Weights;

/// The architecture name written into configs.
pub const ARCH: &str = "framepath";
/// The config format version this build reads.
pub const FORMAT_VERSION: u32 = 2;

/// The shape and inference settings of a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Always [`ARCH`].
    pub arch: String,
    /// Config format version ([`FORMAT_VERSION`]).
    pub format_version: u32,
    /// Embedding width.
    pub dim: usize,
    /// Hidden width.
    pub hidden: usize,
    /// Reads shorter than this are not scored (`too_short`).
    pub min_len: usize,
    /// Sequences longer than this are scored in windows of `window` nt.
    pub max_len: usize,
    /// Window length for long sequences.
    pub window: usize,
    /// Step between windows.
    pub stride: usize,
    /// Whether `model.safetensors` also holds the *clean expert*: a second network of
    /// the same shape, trained without indels and decoded in fixed frames, under
    /// `clean.`-prefixed tensor names (see [`crate::predict::Predictor::with_error_hint`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub clean_expert: bool,
    /// Whether `model.safetensors` also holds the *pristine expert*: a third network of
    /// the same shape, trained on error-free reads and decoded in fixed frames, under
    /// `pristine.`-prefixed tensor names; it scores reads told or surveyed to carry no
    /// errors at all (see [`crate::predict::Predictor::with_error_free`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pristine_expert: bool,
    /// Temperatures that calibrate the coding probability by read length (see
    /// [`crate::calibrate`]); none: the networks' own probabilities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<crate::calibrate::Calibration>,
}

impl ModelConfig {
    /// The default shape.
    pub fn new(dim: usize, hidden: usize) -> ModelConfig {
        ModelConfig {
            arch: ARCH.into(),
            format_version: FORMAT_VERSION,
            dim,
            hidden,
            min_len: 40,
            max_len: 400,
            window: 300,
            stride: 150,
            clean_expert: false,
            pristine_expert: false,
            calibration: None,
        }
    }
}

/// The model card: provenance and measured quality, as JSON next to the weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ModelCard {
    /// A short name, e.g. `default`.
    pub name: String,
    /// Version label shown by the CLI and the server.
    pub version: String,
    /// sha256 of `model.safetensors`.
    pub weights_sha256: String,
    /// sha256 of the training dataset manifest.
    pub data_manifest_sha256: String,
    /// Git commit the model was trained from.
    pub git_commit: String,
    /// The command that trained it.
    pub training_command: String,
    /// Free-form measured metrics.
    pub metrics: serde_json::Value,
    /// What the model is not for.
    pub limits: Vec<String>,
}

impl ModelCard {
    /// The limits every promoted model's card states (what the model is not for).
    pub fn standard_limits() -> Vec<String> {
        vec![
            "Sequencing errors are modelled by the training profiles named in the config (substitutions, indels, homopolymer indels, ancient-DNA deamination); reads with indels score well below clean reads (see the card's error tables). The clean expert scores only samples surveyed (250-400-nt reads, or enough 120-249-nt ones) or told (--errors) to have no indels, the pristine expert (models that have one) those surveyed (250-400-nt reads) or told (--errors none) to have no errors at all; reads under 120 nt go to the main network told nothing, which scores clean reads lower, unless --errors none is given; reads under 150 nt not told indels, and all reads told or surveyed to carry indels, are scored with chains self-trained on the sample's first reads (--self-train).".into(),
            "Prokaryotes only: eukaryotic genes with introns, and organelles, are out of scope.".into(),
            "Genetic codes other than 11 are handled by mapping reassigned codons to a table-11 synonym; only tables 11 and 4 were evaluated.".into(),
            "High-GC genomes (GC > 0.65) are the weakest case (see the metrics per genome).".into(),
        ]
    }
}

/// Why a model could not be loaded or saved.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A JSON file is malformed.
    #[error("{path}: invalid JSON: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: serde_json::Error,
    },
    /// A weight file is malformed or does not match the config.
    #[error("{path}: {msg}")]
    Weights {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        msg: String,
    },
    /// The config names another architecture or version.
    #[error("{path}: unsupported model: {msg}")]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        msg: String,
    },
}

/// A loaded model directory.
#[derive(Debug, Clone)]
pub struct ModelFiles {
    /// The config.
    pub config: ModelConfig,
    /// The weights.
    pub weights: Weights,
    /// The clean expert's weights (present exactly when `config.clean_expert`).
    pub clean: Option<Weights>,
    /// The pristine expert's weights (present exactly when `config.pristine_expert`).
    pub pristine: Option<Weights>,
    /// Chain counts over the training reads, the prior of self-training on a sample
    /// with indels ([`crate::hmm`]); tensors `chains.coding` and `chains.noncoding`,
    /// absent in older models.
    pub chains: Option<ChainCounts>,
    /// The card.
    pub card: ModelCard,
}

/// sha256 of bytes, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl ModelFiles {
    /// Reads a model directory.
    pub fn load(dir: &Path) -> Result<ModelFiles, ModelError> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read(&path).map_err(|source| ModelError::Io { path, source })
        };
        let (cfg, w, card) = (
            read("config.json")?,
            read("model.safetensors")?,
            read("card.json")?,
        );
        Self::from_bytes(dir, &cfg, &w, &card)
    }

    /// Parses the three files' contents; `dir` names them in errors.
    pub fn from_bytes(
        dir: &Path,
        cfg: &[u8],
        weights: &[u8],
        card: &[u8],
    ) -> Result<ModelFiles, ModelError> {
        let cpath = dir.join("config.json");
        let config: ModelConfig =
            serde_json::from_slice(cfg).map_err(|source| ModelError::Json {
                path: cpath.clone(),
                source,
            })?;
        if config.arch != ARCH || config.format_version != FORMAT_VERSION {
            return Err(ModelError::Unsupported {
                path: cpath,
                msg: format!(
                    "arch {:?} version {} (this build reads {ARCH:?} version {FORMAT_VERSION})",
                    config.arch, config.format_version
                ),
            });
        }
        if config.min_len < 8
            || config.window < config.min_len
            || config.stride == 0
            || config.max_len < config.window
        {
            return Err(ModelError::Unsupported {
                path: cpath,
                msg: "inconsistent lengths".into(),
            });
        }
        if let Some(e) = config.calibration.as_ref().and_then(|c| c.validate().err()) {
            return Err(ModelError::Unsupported {
                path: cpath,
                msg: e,
            });
        }
        let card: ModelCard = serde_json::from_slice(card).map_err(|source| ModelError::Json {
            path: dir.join("card.json"),
            source,
        })?;
        let wpath = dir.join("model.safetensors");
        let st = SafeTensors::deserialize(weights).map_err(|e| ModelError::Weights {
            path: wpath.clone(),
            msg: format!("not a safetensors file: {e}"),
        })?;
        let main = read_weights(&wpath, &st, &config, "")?;
        // An expert's network, when the config says the file holds it.
        let expert = |held: bool, prefix: &str| {
            held.then(|| read_weights(&wpath, &st, &config, prefix))
                .transpose()
        };
        let clean = expert(config.clean_expert, CLEAN_PREFIX)?;
        let pristine = expert(config.pristine_expert, PRISTINE_PREFIX)?;
        let chains = read_chains(&wpath, &st)?;
        Ok(ModelFiles {
            config,
            weights: main,
            clean,
            pristine,
            chains,
            card,
        })
    }

    /// Writes the directory (creating it), filling in the card's weight checksum.
    pub fn save(&mut self, dir: &Path) -> Result<(), ModelError> {
        let io = |path: PathBuf| move |source| ModelError::Io { path, source };
        std::fs::create_dir_all(dir).map_err(io(dir.to_path_buf()))?;
        self.config.clean_expert = self.clean.is_some();
        self.config.pristine_expert = self.pristine.is_some();
        let experts = Experts {
            clean: self.clean.as_ref(),
            pristine: self.pristine.as_ref(),
        };
        let bytes = model_bytes(&self.weights, experts, self.chains.as_ref());
        self.card.weights_sha256 = sha256_hex(&bytes);
        let wp = dir.join("model.safetensors");
        std::fs::write(&wp, &bytes).map_err(io(wp))?;
        let cp = dir.join("config.json");
        let cfg = serde_json::to_vec_pretty(&self.config).expect("config serialises");
        std::fs::write(&cp, cfg).map_err(io(cp))?;
        let kp = dir.join("card.json");
        let card = serde_json::to_vec_pretty(&self.card).expect("card serialises");
        std::fs::write(&kp, card).map_err(io(kp))?;
        Ok(())
    }
}

/// Prefix of the clean expert's tensor names.
pub const CLEAN_PREFIX: &str = "clean.";
/// Prefix of the pristine expert's tensor names.
pub const PRISTINE_PREFIX: &str = "pristine.";

/// The networks a weight file holds beside the main one.
#[derive(Debug, Clone, Copy, Default)]
pub struct Experts<'a> {
    /// The clean expert (tensors under [`CLEAN_PREFIX`]).
    pub clean: Option<&'a Weights>,
    /// The pristine expert (tensors under [`PRISTINE_PREFIX`]).
    pub pristine: Option<&'a Weights>,
}

/// Names of the chain-count tensors.
const CHAIN_TENSORS: [&str; 2] = ["chains.coding", "chains.noncoding"];

/// Serialises, as little-endian f32 safetensors, the main network and, when given, the
/// experts (each under its prefix) and the chain counts.
pub fn model_bytes(w: &Weights, experts: Experts<'_>, chains: Option<&ChainCounts>) -> Vec<u8> {
    let le = |d: &[f32]| -> Vec<u8> { d.iter().flat_map(|v| v.to_le_bytes()).collect() };
    let mut raw: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    let nets = [
        ("", Some(w)),
        (CLEAN_PREFIX, experts.clean),
        (PRISTINE_PREFIX, experts.pristine),
    ];
    for (prefix, net) in nets {
        for (n, s, d) in net.map(|n| n.tensors()).unwrap_or_default() {
            raw.push((format!("{prefix}{n}"), s, le(d)));
        }
    }
    if let Some(c) = chains {
        raw.push((CHAIN_TENSORS[0].into(), vec![3, WORDS], le(&c.coding)));
        raw.push((CHAIN_TENSORS[1].into(), vec![WORDS], le(&c.noncoding)));
    }
    let views: Vec<(&str, TensorView<'_>)> = raw
        .iter()
        .map(|(n, s, b)| {
            (
                n.as_str(),
                TensorView::new(Dtype::F32, s.clone(), b).expect("sizes match shapes"),
            )
        })
        .collect();
    let mut meta = HashMap::new();
    meta.insert("arch".to_string(), ARCH.to_string());
    safetensors::serialize(views, Some(meta)).expect("in-memory serialisation")
}

/// The chain counts, when the file has them (both tensors or neither).
fn read_chains(path: &Path, st: &SafeTensors<'_>) -> Result<Option<ChainCounts>, ModelError> {
    let bad = |msg: String| ModelError::Weights {
        path: path.to_path_buf(),
        msg,
    };
    let found: Vec<bool> = CHAIN_TENSORS.iter().map(|n| st.tensor(n).is_ok()).collect();
    if found == [false, false] {
        return Ok(None);
    }
    let mut out = ChainCounts::default();
    for ((name, dst), len) in CHAIN_TENSORS
        .iter()
        .zip([&mut out.coding, &mut out.noncoding])
        .zip([3 * WORDS, WORDS])
    {
        let t = st.tensor(name).map_err(|_| {
            bad(format!(
                "tensor {name:?} is missing (the other chain tensor is present)"
            ))
        })?;
        if t.dtype() != Dtype::F32 || t.shape().iter().product::<usize>() != len {
            return Err(bad(format!(
                "tensor {name:?} must be F32 with {len} values, has {:?} {:?}",
                t.dtype(),
                t.shape()
            )));
        }
        *dst = t
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        if dst.iter().any(|v| !v.is_finite() || *v < 0.0) {
            return Err(bad(format!(
                "tensor {name:?} holds a negative or non-finite count"
            )));
        }
    }
    Ok(Some(out))
}

fn read_weights(
    path: &Path,
    st: &SafeTensors<'_>,
    cfg: &ModelConfig,
    prefix: &str,
) -> Result<Weights, ModelError> {
    let bad = |msg: String| ModelError::Weights {
        path: path.to_path_buf(),
        msg,
    };
    let mut w = Weights::zeros(cfg.dim, cfg.hidden);
    let expected: Vec<(&str, Vec<usize>)> =
        w.tensors().into_iter().map(|(n, s, _)| (n, s)).collect();
    for ((name, shape), dst) in expected.into_iter().zip(w.tensors_mut()) {
        let name = format!("{prefix}{name}");
        let t = st
            .tensor(&name)
            .map_err(|_| bad(format!("tensor {name:?} is missing")))?;
        if t.dtype() != Dtype::F32 {
            return Err(bad(format!(
                "tensor {name:?} has dtype {:?}, expected F32",
                t.dtype()
            )));
        }
        if t.shape() != shape.as_slice() {
            return Err(bad(format!(
                "tensor {name:?} has shape {:?}, config.json implies {:?}",
                t.shape(),
                shape
            )));
        }
        *dst = t
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        if dst.iter().any(|v| !v.is_finite()) {
            return Err(bad(format!("tensor {name:?} holds non-finite values")));
        }
    }
    Ok(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_load_round_trip_and_shape_check() {
        let dir = std::env::temp_dir().join(format!("cdspred-files-{}", std::process::id()));
        let mut w = Weights::zeros(4, 3);
        w.emb[7] = 1.5;
        w.c0[0] = -2.0;
        let mut m = ModelFiles {
            config: ModelConfig::new(4, 3),
            weights: w.clone(),
            clean: None,
            pristine: None,
            chains: None,
            card: ModelCard::default(),
        };
        m.save(&dir).unwrap();
        let back = ModelFiles::load(&dir).unwrap();
        assert_eq!(back.weights, w);
        assert_eq!(back.card.weights_sha256.len(), 64);
        // A config that disagrees with the weights is refused, naming the weight file.
        let cfg = serde_json::to_vec(&ModelConfig::new(5, 3)).unwrap();
        let wb = std::fs::read(dir.join("model.safetensors")).unwrap();
        let e = ModelFiles::from_bytes(&dir, &cfg, &wb, b"{}")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("model.safetensors") && e.contains("shape"),
            "{e}"
        );
        // With a clean expert: both networks round-trip; a file that lacks the
        // expert's tensors while the config says it has one is refused by name.
        let mut c = Weights::zeros(4, 3);
        c.w2[1] = 0.25;
        m.clean = Some(c.clone());
        m.save(&dir).unwrap();
        let back = ModelFiles::load(&dir).unwrap();
        assert!(back.config.clean_expert);
        assert_eq!((back.weights, back.clean), (w.clone(), Some(c.clone())));
        let cfg = std::fs::read(dir.join("config.json")).unwrap();
        let none = Experts::default();
        let e = ModelFiles::from_bytes(&dir, &cfg, &model_bytes(&w, none, None), b"{}")
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"clean.emb\" is missing"), "{e}");
        // So does a pristine expert, beside the clean one.
        let mut q = Weights::zeros(4, 3);
        q.w2[2] = -0.5;
        m.pristine = Some(q.clone());
        m.save(&dir).unwrap();
        let back = ModelFiles::load(&dir).unwrap();
        assert!(back.config.pristine_expert && back.config.clean_expert);
        assert_eq!((back.clean, back.pristine), (Some(c.clone()), Some(q)));
        let cfg2 = std::fs::read(dir.join("config.json")).unwrap();
        let only_clean = Experts {
            clean: Some(&c),
            pristine: None,
        };
        let e = ModelFiles::from_bytes(&dir, &cfg2, &model_bytes(&w, only_clean, None), b"{}")
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"pristine.emb\" is missing"), "{e}");
        m.pristine = None;
        // Chain counts round-trip; a negative count is refused by name.
        let mut ch = ChainCounts::default();
        ch.coding[5] = 3.0;
        ch.noncoding[7] = 2.0;
        m.chains = Some(ch.clone());
        m.save(&dir).unwrap();
        assert_eq!(ModelFiles::load(&dir).unwrap().chains, Some(ch.clone()));
        ch.noncoding[7] = -1.0;
        let e = ModelFiles::from_bytes(&dir, &cfg, &model_bytes(&w, only_clean, Some(&ch)), b"{}")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("chains.noncoding") && e.contains("negative"),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}
