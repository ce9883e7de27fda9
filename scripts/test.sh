#!/usr/bin/env bash
# The project's test command: formatting, lints and whitespace (through the pre-commit
# hooks), every Rust test (unit, property, fuzz-corpus replay, CLI, server, drift,
# training smoke, MLflow tracking, ONNX parity — against ../shared/data), the README's
# main command run literally in a fresh clone, the getting-started page's commands, the
# Python wheel and its pytest suite,
# the Snakemake
# workflow, the DVC pipeline, schemathesis against the API, the gene-call scorer's
# doctests, the documentation book, the
# browser test of the web page and the alert-rule tests. Installs what it needs when
# missing: Debian's chromium, prometheus and genometools, playwright-core from npm, mdbook from
# crates.io, and the pinned Python tools of scripts/ci-requirements.txt (Snakemake,
# pre-commit, schemathesis, MLflow, DVC, onnxruntime, MultiQC) in a virtual environment under
# ~/.cache.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
# step NAME: marks where the time goes (seconds since the start) in the log.
step() { echo "[test.sh +${SECONDS}s] $*" >&2; }
rustup component add rustfmt clippy >/dev/null 2>&1 || true

# need COMMAND PACKAGE: install a Debian package when its command is missing.
need() {
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
  else
    echo "the tests need Debian's $2 (apt-get install $2)" >&2
    exit 1
  fi
}
need promtool prometheus   # promtool for the rules, prometheus for the scrape test
need chromium chromium     # the browser test
need gt genometools        # gt gff3validator on predict's GFF3 (crates/cli/tests/outputs.rs)

step "python tools (in the background), mdbook, the release build of every test"
# Python tools, pinned, in a cached virtual environment; pip mostly waits on downloads,
# so it runs while the compilers work.
VENV=${CDSPRED_VENV:-$HOME/.cache/cdspred-venv}
PIP_LOG=$(mktemp)
( { [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"; } &&
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r scripts/ci-requirements.txt ) > "$PIP_LOG" 2>&1 &
PIP_PID=$!
# mdbook for the documentation book (the book needs only its search feature).
command -v mdbook >/dev/null 2>&1 ||
  cargo install -q --locked mdbook --version 0.5.4 --no-default-features --features search
# The tests run on a release build: their dependencies, and the binary they run, are
# the ones the README's `cargo run --release`, the docs check and the wheel reuse
# (test targets use the bench profile, which keeps debug assertions and overflow checks).
cargo test --workspace --locked --release --no-run
wait "$PIP_PID" || { cat "$PIP_LOG" >&2; echo "pip install -r scripts/ci-requirements.txt failed" >&2; exit 1; }
rm -f "$PIP_LOG"
export PATH="$VENV/bin:$PATH"

step "pre-commit hooks (fmt, clippy, whitespace)"
# Formatting, lints and whitespace, through the contributors' pre-commit hooks.
PRE_COMMIT_HOME=${PRE_COMMIT_HOME:-$HOME/.cache/pre-commit} pre-commit run --all-files --show-diff-on-failure
step "cargo test"
cargo test --workspace --locked --release

step "README main command in a fresh clone"
# The README's main command, copied from the README, on a fresh clone of this commit.
scripts/test_readme.sh

step "getting-started in a fresh clone"
# Docs that run: docs/getting-started.md's predict and train blocks, as written, in a
# fresh clone. With CARGO_TARGET_DIR set, the release binary of this commit is the one
# the README check just built there (building it again here, from this checkout's path,
# would recompile the workspace); without it, build one.
REL="${CARGO_TARGET_DIR:-target}/release/cdspred"
{ [ -n "${CARGO_TARGET_DIR:-}" ] && [ -x "$REL" ]; } || cargo build -q --release --locked -p cdspred
scripts/test_docs.sh "$REL"

step "Python wheel and pytest"
# The Python package: the wheel built, installed alone in a fresh venv, and its pytest
# suite (parity with the CLI, errors, GIL release, gzip files).
scripts/test_python.sh "$REL"

step "Snakemake workflow"
# Scale-out workflow: Snakemake's sharded run equals one cdspred predict run.
scripts/test_workflow.sh "$REL"

step "DVC pipeline"
# Data versioning: the DVC pipeline in a temporary project with a local remote.
scripts/test_dvc.sh "$REL"

step "schemathesis"
# API conformance: schemathesis against the server's /openapi.json.
scripts/test_api_conformance.sh "$REL"

step "evaluation scripts' doctests"
# The gene-call scorer's location parser and overlap classes (scripts/eval_genes.py).
python -m doctest scripts/eval_genes.py

step "mdbook build"
# The documentation book (reference pages are checked current by crates/cli/tests/docs.rs).
mdbook build docs

step "browser test"
# End-to-end browser test of the web page: Debian's chromium driven by playwright-core.
(export CDSPRED_BIN="$(realpath "$REL")"; cd tests/browser && npm ci --no-audit --no-fund --silent && node --test)

step "alert rules"
# Alert rules: syntax and unit tests.
(cd deploy/prometheus && promtool check rules alerts.yml && promtool test rules alerts_test.yml)
step "all tests passed"
