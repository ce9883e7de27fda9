#!/usr/bin/env bash
# The README's main command, taken from the README literally and run in a fresh clone of
# this checkout's commit (what a new user does; the README's other command, the test
# command, is the one running this). Release dependencies are reused from
# CARGO_TARGET_DIR when set; the clone's own crates always build anew.
set -euo pipefail
cd "$(dirname "$0")/.."
cmd=$(grep -m1 '^cargo run ' README.md | sed 's/[[:space:]]*#.*$//')
[ -n "$cmd" ] || { echo "README.md has no 'cargo run' line" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git clone -q "$PWD" "$tmp/clone"
echo "README main command, in a fresh clone: $cmd"
(cd "$tmp/clone" && bash -c "$cmd" > "$tmp/out.tsv" 2> "$tmp/err.txt") || {
  cat "$tmp/err.txt" >&2
  exit 1
}
lines=$(wc -l < "$tmp/out.tsv")
head -1 "$tmp/out.tsv" | grep -q "^id	length	coding_prob" || { echo "no TSV header" >&2; head -3 "$tmp/out.tsv" >&2; exit 1; }
records=$(grep -c '^>' "$tmp/clone/examples/reads.fasta")
[ "$lines" -eq $((records + 1)) ] || { echo "expected $((records + 1)) lines, got $lines" >&2; exit 1; }
echo "ok: $lines lines"
