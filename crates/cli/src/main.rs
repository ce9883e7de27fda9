//! `cdspred`: the command line. Parses arguments, sets up logging, dispatches to the
//! library crates and maps errors to exit codes — nothing else.

mod cmd_data;
mod cmd_docs;
mod cmd_drift;
mod cmd_eval;
mod cmd_model;
mod cmd_predict;
mod cmd_runs;
mod cmd_serve;
mod cmd_shard;
mod cmd_sweep;
mod cmd_train;
mod config;
mod output;
mod sink;

use clap::{CommandFactory, Parser, Subcommand};

/// Tell which short DNA reads from bacteria and archaea are protein-coding, on which
/// strand and in which frame.
#[derive(Parser)]
#[command(name = "cdspred", version, about, long_about = None)]
struct Cli {
    /// More log output (-v info, -vv debug).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    /// Only errors.
    #[arg(short, long, global = true)]
    quiet: bool,
    /// Log format.
    #[arg(long, global = true, value_enum, default_value = "text")]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Predict coding reads in FASTA/FASTQ files (plain, gzip or zstd).
    ///
    /// Example: cdspred predict examples/reads.fasta -o predictions.tsv
    Predict(cmd_predict::PredictArgs),
    /// Build training data from a recipe.
    ///
    /// Example: cdspred data build --recipe data/recipes/default.toml --out work/data
    #[command(subcommand)]
    Data(cmd_data::DataCommand),
    /// Train a model from a config file with key=value overrides.
    ///
    /// Example: cdspred train --config configs/default.toml epochs=3 lr=0.003
    Train(cmd_train::TrainArgs),
    /// Evaluate a model on labelled read sets (per genome and read length).
    ///
    /// Example: cdspred eval --truth ../shared/data/eval/cdiphtheriae.tsv.gz --reads ../shared/data/eval/cdiphtheriae.fasta.gz
    Eval(cmd_eval::EvalArgs),
    /// Serve predictions over HTTP (API, web page, metrics, input log).
    ///
    /// Example: cdspred serve --addr 127.0.0.1:8000 --data-dir cdspred-data
    Serve(cmd_serve::ServeArgs),
    /// Exit 0 when a running server is ready (for container health checks).
    ///
    /// Example: cdspred health --url http://127.0.0.1:8000/health/ready
    Health {
        /// Readiness URL.
        #[arg(long, default_value = "http://127.0.0.1:8000/health/ready")]
        url: String,
    },
    /// Export the server's input/output log.
    #[command(subcommand)]
    Logs(cmd_serve::LogsCommand),
    /// Compare reads (files or the server's log) with the model's reference profile:
    /// per-feature drift tests, a verdict, the best-supported genetic code, HTML report.
    ///
    /// Example: cdspred drift --current reads.fasta --format json --html drift.html
    Drift(cmd_drift::DriftArgs),
    /// Manage the model registry (promote a run, show a model's card).
    #[command(subcommand)]
    Model(cmd_model::ModelCommand),
    /// Hyper-parameter sweep: grid or random search with successive halving.
    ///
    /// Example: cdspred sweep configs/sweep.toml train_data=work/smoke/train.ds val_data=work/smoke/validation.ds
    Sweep(cmd_sweep::SweepArgs),
    /// Tables over the run store: list runs, show one, compare several.
    #[command(subcommand)]
    Runs(cmd_runs::RunsCommand),
    /// Split large read files into shards and merge per-shard predictions (scale-out;
    /// see workflow/Snakefile).
    #[command(subcommand)]
    Shard(cmd_shard::ShardCommand),
    /// Print reference pages generated from this binary (CLI, OpenAPI, HTTP API).
    #[command(subcommand)]
    Docs(cmd_docs::DocsCommand),
}

/// Parses the command line; `--version` also names the embedded model and its weights.
fn parse_args() -> Cli {
    use clap::FromArgMatches;
    let mut cmd = Cli::command();
    if std::env::args().any(|a| a == "--version" || a == "-V") {
        let model = cdspred_model::embedded::default_model()
            .map(|m| m.card.version)
            .unwrap_or_else(|e| format!("unreadable: {e}"));
        let version = format!(
            "{} (embedded model {model}, weights sha256 {})",
            env!("CARGO_PKG_VERSION"),
            cdspred_model::embedded::embedded_weights_sha256()
        );
        cmd = cmd.version(&*Box::leak(version.into_boxed_str()));
    }
    Cli::from_arg_matches(&cmd.get_matches()).unwrap_or_else(|e| e.exit())
}

fn main() {
    let cli = parse_args();
    let level = if cli.quiet {
        "error"
    } else {
        match cli.verbose {
            0 => "warn",
            1 => "info",
            _ => "debug",
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("CDSPRED_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    // Colour only on a terminal, and never with NO_COLOR set.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none();
    let sub = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Json => sub.json().init(),
        LogFormat::Text => sub.init(),
    }
    let result = match cli.command {
        Command::Predict(a) => cmd_predict::run(a, cli.quiet),
        Command::Data(c) => cmd_data::run(c),
        Command::Train(a) => cmd_train::run(a),
        Command::Eval(a) => cmd_eval::run(a),
        Command::Model(c) => cmd_model::run(c),
        Command::Drift(a) => cmd_drift::run(a),
        Command::Serve(a) => cmd_serve::run(a),
        Command::Health { url } => cmd_serve::run_health(&url),
        Command::Logs(c) => cmd_serve::run_logs(c),
        Command::Shard(c) => cmd_shard::run(c),
        Command::Runs(c) => cmd_runs::run(c),
        Command::Sweep(a) => cmd_sweep::run(a),
        Command::Docs(c) => cmd_docs::run(c, Cli::command()),
    };
    if let Err(e) = result {
        if e.downcast_ref::<cmd_predict::PipeClosed>().is_some() {
            std::process::exit(0);
        }
        eprintln!("error: {e}");
        for cause in e.chain().skip(1) {
            eprintln!("  caused by: {cause}");
        }
        let usage = e.downcast_ref::<cmd_predict::InputError>().is_some()
            || e.downcast_ref::<cmd_predict::UsageError>().is_some();
        std::process::exit(if usage { 2 } else { 1 });
    }
}
