#!/usr/bin/env bash
# The project's test command: formatting, lints, every Rust test (unit, property, CLI,
# server, drift and training smoke tests against ../shared/data), the browser test of
# the web page and the alert-rule tests. Installs the Debian packages it needs when
# missing (chromium, prometheus) and playwright-core from npm.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
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

cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked

# End-to-end browser test of the web page: Debian's chromium driven by playwright-core.
(cd tests/browser && npm ci --no-audit --no-fund --silent && node --test)

# Alert rules: syntax and unit tests.
(cd deploy/prometheus && promtool check rules alerts.yml && promtool test rules alerts_test.yml)
