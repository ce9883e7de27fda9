#!/usr/bin/env bash
# Regenerates the reference pages of the mdBook from the binary: docs/cli.md (CLI
# definition), docs/openapi.json and docs/api.md (the server's OpenAPI document).
# crates/cli/tests/docs.rs fails when the committed pages are out of date.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q --locked -p cdspred
BIN=${CARGO_TARGET_DIR:-target}/debug/cdspred
"$BIN" docs cli > docs/cli.md
"$BIN" docs openapi > docs/openapi.json
"$BIN" docs api > docs/api.md
