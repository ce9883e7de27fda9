//! `cdspred model …`: the model registry under `models/`.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use cdspred_model::files::{ModelCard, ModelFiles};
use cdspred_train::rundir::RunDir;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum ModelCommand {
    /// Copy a run's best model into models/NAME, filling in its card (data manifest
    /// hash, git commit, training command, metrics from an `eval --json` file) and
    /// calibrating it on the run's validation reads (see `model calibrate`).
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
        /// A third run whose best network becomes the pristine expert (trained on
        /// error-free reads, fixed frames; scores reads told or surveyed to carry no
        /// errors at all).
        #[arg(long, value_name = "RUN", requires = "clean_expert")]
        pristine_expert: Option<PathBuf>,
    },
    /// Fit the model's calibration (temperatures by read length for each network) on
    /// validation reads with the training configs' error mixes, and write it into the
    /// model's config.json; the fit per length (ECE before and after) goes into the
    /// card as `metrics.calibration`. `model promote` does this too.
    ///
    /// Example: cdspred model calibrate models/default --val work/data/validation.ds --config configs/default.toml --clean-config configs/clean.toml
    Calibrate {
        /// Model directory (rewritten in place).
        model: PathBuf,
        /// Validation reads (`validation.ds` of the training data), scored by the model
        /// itself.
        #[arg(long, required_unless_present = "holdout")]
        val: Option<PathBuf>,
        /// Instead: MODEL_DIR=DATA.ds, a retrain without some genomes and reads of
        /// those genomes (repeatable; scripts/calibrate_holdout.sh makes them): what
        /// the model's networks are like on genomes they never saw.
        #[arg(long, value_name = "MODEL_DIR=DATA", conflicts_with = "val")]
        holdout: Vec<String>,
        /// Training config of the main network (its error profiles and unhinted share).
        #[arg(long)]
        config: PathBuf,
        /// Training config of the clean expert (its error profiles and share).
        #[arg(long)]
        clean_config: Option<PathBuf>,
        /// Threads (0: all cores; the result does not depend on it).
        #[arg(long, default_value_t = 0)]
        threads: usize,
    },
    /// Count the chain model that self-trains on samples with indels (see
    /// `cdspred_model::hmm`) over labelled training reads and store it in the model's
    /// weight file; the networks are unchanged. Training does this too.
    ///
    /// Example: cdspred model chains models/default --data work/data/train.ds
    Chains {
        /// Model directory (rewritten in place).
        model: PathBuf,
        /// Labelled reads (`train.ds` of the model's training data).
        #[arg(long)]
        data: PathBuf,
    },
    /// Print a model's config and card (default: the embedded model).
    ///
    /// Example: cdspred model info --model models/default
    Info {
        /// Model directory.
        #[arg(long)]
        model: Option<PathBuf>,
    },
    /// Export the main network (or one of its experts) as ONNX (opset 13): inputs `ids`, `counts`, `dense` (see
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
        /// Export the pristine expert instead of the main network.
        #[arg(long, conflicts_with = "clean_expert")]
        pristine_expert: bool,
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
            pristine_expert,
        } => {
            let rd = RunDir::new(&run);
            let mut files = ModelFiles::load(&rd.best_dir())
                .with_context(|| format!("run {}", run.display()))?;
            if name.is_empty() || name.contains(['/', '\\', '.']) {
                bail!("model name {name:?} must be a plain word");
            }
            // An expert's network, of the main network's shape.
            let expert = |what: &str, expert: &PathBuf| -> Result<_> {
                let other = ModelFiles::load(&RunDir::new(expert).best_dir())
                    .with_context(|| format!("{what} run {}", expert.display()))?;
                if (other.config.dim, other.config.hidden)
                    != (files.config.dim, files.config.hidden)
                {
                    bail!(
                        "{what} run {}: dim {} hidden {}, but run {} has dim {} hidden {}",
                        expert.display(),
                        other.config.dim,
                        other.config.hidden,
                        run.display(),
                        files.config.dim,
                        files.config.hidden
                    );
                }
                Ok(other.weights)
            };
            if let Some(e) = &clean_expert {
                files.clean = Some(expert("clean expert", e)?);
            }
            if let Some(e) = &pristine_expert {
                files.pristine = Some(expert("pristine expert", e)?);
            }
            let manifest = rd.config()?.train_data.with_file_name("manifest.json");
            let card = &mut files.card;
            card.name = name.clone();
            card.data_manifest_sha256 = std::fs::read(&manifest)
                .map(|b| cdspred_model::files::sha256_hex(&b))
                .with_context(|| format!("data manifest {}", manifest.display()))?;
            card.git_commit = rd.text(RunDir::COMMIT).unwrap_or_default();
            card.training_command = rd.text(RunDir::COMMAND).unwrap_or_default();
            let experts = [
                ("clean expert", &clean_expert),
                ("pristine expert", &pristine_expert),
            ];
            for (what, run) in experts {
                if let Some(run) = run {
                    let more = RunDir::new(run).text(RunDir::COMMAND).unwrap_or_default();
                    card.training_command = format!("{}; {what}: {more}", card.training_command);
                }
            }
            if let Some(m) = metrics {
                card.metrics = serde_json::from_str(
                    &std::fs::read_to_string(&m).with_context(|| m.display().to_string())?,
                )?;
            }
            card.limits = ModelCard::standard_limits();
            // Calibration on the run's own validation reads (scripts/calibrate_holdout.sh
            // refits it on genomes held out of retrains, as the shipped model is).
            let main_cfg = rd.config()?;
            let clean_cfg = clean_expert
                .as_ref()
                .map(|e| RunDir::new(e).config())
                .transpose()?;
            let val = cdspred_data::Dataset::load(&main_cfg.val_data)?;
            let parts = [(
                files.clone(),
                val,
                format!("{} scored by the model", main_cfg.val_data.display()),
            )];
            calibrate(&mut files, &parts, &main_cfg, clean_cfg.as_ref(), 0)?;
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
        ModelCommand::Calibrate {
            model,
            val,
            holdout,
            config,
            clean_config,
            threads,
        } => {
            let mut files =
                ModelFiles::load(&model).with_context(|| format!("model {}", model.display()))?;
            let main = load_train_config(&config)?;
            let clean = clean_config.as_deref().map(load_train_config).transpose()?;
            if files.clean.is_some() && clean.is_none() {
                bail!(
                    "model {} has a clean expert: give --clean-config",
                    model.display()
                );
            }
            let mut parts = Vec::new();
            for h in &holdout {
                let Some((m, d)) = h.split_once('=') else {
                    bail!("--holdout {h:?}: write MODEL_DIR=DATA.ds");
                };
                let fm = ModelFiles::load(std::path::Path::new(m))
                    .with_context(|| format!("holdout model {m}"))?;
                let ds = cdspred_data::Dataset::load(std::path::Path::new(d))?;
                parts.push((fm, ds, format!("{d} scored by {m}")));
            }
            if let Some(v) = &val {
                let ds = cdspred_data::Dataset::load(v)?;
                parts.push((
                    files.clone(),
                    ds,
                    format!("{} scored by the model", v.display()),
                ));
            }
            let report = calibrate(&mut files, &parts, &main, clean.as_ref(), threads)?;
            files.save(&model)?;
            for (name, rows) in &report.scorers {
                for r in rows {
                    println!(
                        "{name}\t{} nt\tT {:.3}\taccuracy {:.4}\tconfidence {:.4} -> {:.4}\tECE {:.4} -> {:.4}",
                        r.length, r.temperature, r.accuracy, r.confidence_before, r.confidence_after, r.ece_before, r.ece_after
                    );
                }
            }
            println!(
                "calibration written to {}",
                model.join("config.json").display()
            );
            Ok(())
        }
        ModelCommand::Export {
            onnx,
            model,
            clean_expert,
            pristine_expert,
        } => {
            let files = crate::cmd_predict::load_model(model.as_deref())?;
            let weights = match (clean_expert, pristine_expert) {
                (false, false) => &files.weights,
                (true, _) => files
                    .clean
                    .as_ref()
                    .with_context(|| format!("model {} has no clean expert", files.card.version))?,
                (false, true) => files.pristine.as_ref().with_context(|| {
                    format!("model {} has no pristine expert", files.card.version)
                })?,
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
        ModelCommand::Chains { model, data } => {
            let mut files =
                ModelFiles::load(&model).with_context(|| format!("model {}", model.display()))?;
            let ds = cdspred_data::Dataset::load(&data)
                .with_context(|| format!("data {}", data.display()))?;
            let chains = cdspred_train::pathtable::count_chains(&ds);
            let (coding, noncoding) = chains.totals();
            files.chains = Some(chains);
            files.save(&model)?;
            eprintln!(
                "{}: chains counted from {} ({coding:.0} coding and {noncoding:.0} non-coding words); weights sha256 {}",
                model.display(),
                data.display(),
                files.card.weights_sha256
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

/// Fits `files`' calibration on `parts` (a model, labelled reads it scores, their
/// name) with the error mixes of the main network's config and the clean expert's,
/// stores it in the config and the fit in the card (`metrics.calibration`).
pub fn calibrate(
    files: &mut ModelFiles,
    parts: &[(ModelFiles, cdspred_data::Dataset, String)],
    main: &cdspred_train::config::TrainConfig,
    clean: Option<&cdspred_train::config::TrainConfig>,
    threads: usize,
) -> Result<cdspred_train::calibration::FitReport> {
    use cdspred_train::calibration::{fit, FitSpec, Mix};
    let profiles = main.profiles()?;
    let indels: Vec<_> = profiles
        .iter()
        .filter(|p| p.indels_per_100nt() > 0.0)
        .cloned()
        .collect();
    let unhinted = if main.error_hint > 0.0 {
        main.error_fraction_unhinted
    } else {
        main.error_fraction
    };
    let clean_mix = match clean {
        Some(c) => Mix {
            profiles: c.profiles()?,
            fraction: c.error_fraction,
        },
        None => Mix::default(),
    };
    let spec = FitSpec {
        parts: parts.iter().map(|p| (&p.0, &p.1)).collect(),
        data_name: parts
            .iter()
            .map(|p| p.2.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        main: Mix {
            profiles,
            fraction: unhinted,
        },
        indels,
        clean: clean_mix,
        seed: main.seed,
    };
    let (cal, report) = fit(&spec, crate::cmd_predict::thread_count(threads));
    if files.clean.is_some() && cal.clean.is_none() {
        bail!("the model has a clean expert, but not every holdout model has one");
    }
    if files.pristine.is_some() && cal.pristine.is_none() {
        bail!("the model has a pristine expert, but not every holdout model has one");
    }
    files.config.calibration = Some(cal);
    if !files.card.metrics.is_object() {
        files.card.metrics = serde_json::json!({});
    }
    files.card.metrics["calibration"] = serde_json::to_value(&report)?;
    Ok(report)
}

fn load_train_config(p: &std::path::Path) -> Result<cdspred_train::config::TrainConfig> {
    crate::config::load_with_overrides(p, &[], &cdspred_train::config::TrainConfig::default())
}
