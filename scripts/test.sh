#!/usr/bin/env bash
# The project's test command: formatting, lints, then every test (unit, property,
# CLI and training smoke tests against ../shared/data). Needs only a Rust toolchain.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
rustup component add rustfmt clippy >/dev/null 2>&1 || true
# Debian's prometheus: promtool for the alert rules, the server for the scrape test.
if ! command -v promtool >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null
  else
    echo "the alert-rule tests need Debian's prometheus (promtool)" >&2
    exit 1
  fi
fi

cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked

# End-to-end browser test of the web page: Debian's chromium driven by playwright-core.
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "the browser test needs Debian's chromium (apt-get install chromium)" >&2
    exit 1
  fi
fi
(cd tests/browser && npm ci --no-audit --no-fund --silent && node --test)

# Alert rules: syntax and unit tests.
(cd deploy/prometheus && promtool check rules alerts.yml && promtool test rules alerts_test.yml)
