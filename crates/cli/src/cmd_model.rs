//! `cdspred model …`: the model registry under `models/`.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use cdspred_model::files::{ModelCard, ModelFiles};
use cdspred_train::rundir::RunDir;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum ModelCommand {
    /// Copy a run's best model into models/NAME, filling in its card (data manifest
    /// hash, git commit, training command, metrics from an `eval --json` file).
    ///
    /// Example: cdspred model promote runs/1764230000-default default --metrics eval.json
    Promote {
        /// The run directory.
        run: PathBuf,
        /// Registry name.
        name: String,
        /// Metrics JSON written by `cdspred eval --json`.
        #[arg(long)]
        metrics: Option<PathBuf>,
        /// Registry folder.
        #[arg(long, default_value = "models")]
        registry: PathBuf,
        /// A second run whose best network becomes the clean expert (trained without
        /// indels, fixed frames; scores reads told or surveyed to have no indels).
        #[arg(long, value_name = "RUN")]
        clean_expert: Option<PathBuf>,
    },
    /// Print a model's config and card (default: the embedded model).
    ///
    /// Example: cdspred model info --model models/default
    Info {
        /// Model directory.
        #[arg(long)]
        model: Option<PathBuf>,
    },
    /// Export the main network (or its clean expert) as ONNX (opset 13): inputs `ids`, `counts`, `dense` (see
    /// docs/experiments.md), output `probs`. Feature extraction stays in cdspred.
    ///
    /// Example: cdspred model export --onnx model.onnx
    Export {
        /// Write the ONNX file here.
        #[arg(long)]
        onnx: PathBuf,
        /// Model directory (default: the embedded model).
        #[arg(long)]
        model: Option<PathBuf>,
        /// Export the clean expert instead of the main network.
        #[arg(long)]
        clean_expert: bool,
    },
}

pub fn run(cmd: ModelCommand) -> Result<()> {
    match cmd {
        ModelCommand::Promote {
            run,
            name,
            metrics,
            registry,
            clean_expert,
        } => {
            let rd = RunDir::new(&run);
            let mut files = ModelFiles::load(&rd.best_dir())
                .with_context(|| format!("run {}", run.display()))?;
            if name.is_empty() || name.contains(['/', '\\', '.']) {
                bail!("model name {name:?} must be a plain word");
            }
            if let Some(expert) = &clean_expert {
                let other = ModelFiles::load(&RunDir::new(expert).best_dir())
                    .with_context(|| format!("clean expert run {}", expert.display()))?;
                if (other.config.dim, other.config.hidden)
                    != (files.config.dim, files.config.hidden)
                {
                    bail!(
                        "clean expert run {}: dim {} hidden {}, but run {} has dim {} hidden {}",
                        expert.display(),
                        other.config.dim,
                        other.config.hidden,
                        run.display(),
                        files.config.dim,
                        files.config.hidden
                    );
                }
                files.clean = Some(other.weights);
            }
            let manifest = rd.config()?.train_data.with_file_name("manifest.json");
            let card = &mut files.card;
            card.name = name.clone();
            card.data_manifest_sha256 = std::fs::read(&manifest)
                .map(|b| cdspred_model::files::sha256_hex(&b))
                .with_context(|| format!("data manifest {}", manifest.display()))?;
            card.git_commit = rd.text(RunDir::COMMIT).unwrap_or_default();
            card.training_command = rd.text(RunDir::COMMAND).unwrap_or_default();
            if let Some(expert) = &clean_expert {
                let more = RunDir::new(expert)
                    .text(RunDir::COMMAND)
                    .unwrap_or_default();
                card.training_command = format!("{}; clean expert: {more}", card.training_command);
            }
            if let Some(m) = metrics {
                card.metrics = serde_json::from_str(
                    &std::fs::read_to_string(&m).with_context(|| m.display().to_string())?,
                )?;
            }
            card.limits = ModelCard::standard_limits();
            let dest = registry.join(&name);
            files.save(&dest)?;
            let profile = rd.best_dir().join("profile.json");
            if profile.exists() {
                std::fs::copy(&profile, dest.join("profile.json"))
                    .with_context(|| profile.display().to_string())?;
            }
            println!(
                "promoted {} -> {} (weights sha256 {})",
                run.display(),
                dest.display(),
                files.card.weights_sha256
            );
            Ok(())
        }
        ModelCommand::Export {
            onnx,
            model,
            clean_expert,
        } => {
            let files = crate::cmd_predict::load_model(model.as_deref())?;
            let weights = match (clean_expert, &files.clean) {
                (false, _) => &files.weights,
                (true, Some(w)) => w,
                (true, None) => bail!("model {} has no clean expert", files.card.version),
            };
            let bytes = cdspred_model::onnx::export(weights, &files.card.version);
            std::fs::write(&onnx, &bytes)
                .with_context(|| format!("cannot write {}", onnx.display()))?;
            println!(
                "{} ({} bytes, model {})",
                onnx.display(),
                bytes.len(),
                files.card.version
            );
            Ok(())
        }
        ModelCommand::Info { model } => {
            let files = crate::cmd_predict::load_model(model.as_deref())?;
            println!(
                "{}",
                serde_json::to_string_pretty(
                    &serde_json::json!({"config": files.config, "card": files.card})
                )?
            );
            Ok(())
        }
    }
}
