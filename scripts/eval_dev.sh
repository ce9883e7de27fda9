#!/usr/bin/env bash
# Scores a model on the development read sets and the seed's test sets.
# usage: scripts/eval_dev.sh [MODEL_DIR] [JSON_OUT]   (default: the embedded model)
set -euo pipefail
cd "$(dirname "$0")/.."
E=${CDSPRED_SHARED:-../shared}/data
BIN=${CDSPRED_BIN:-target/release/cdspred}
M=(); [ -n "${1:-}" ] && M=(--model "$1")
J=(); [ -n "${2:-}" ] && J=(--json "$2")
"$BIN" eval "${M[@]}" "${J[@]}" \
  --truth $E/eval/cdiphtheriae.tsv.gz --reads $E/eval/cdiphtheriae.fasta.gz \
  --truth $E/eval/kutzneria.tsv.gz --reads $E/eval/kutzneria.fasta.gz \
  --truth $E/eval/mhyorhinis.tsv.gz --reads $E/eval/mhyorhinis.fasta.gz
"$BIN" eval "${M[@]}" --seed-csv $E/seed/test_subset.csv.gz --table 11
"$BIN" eval "${M[@]}" --seed-csv $E/seed/tt4.csv.gz --table 4
