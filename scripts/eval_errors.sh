#!/usr/bin/env bash
# Scores a model on the development read sets with simulated sequencing errors:
# each profile is applied by `cdspred data mutate` (seed 1) to the reads of
# C. diphtheriae (table 11), M. hyorhinis (table 4) and the Kutzneria slice, then
# `cdspred eval` scores them. Mutated sets are cached under work/eval-errors/.
# With EVAL_HINT=1 each set is scored with `--errors PROFILE` (the model is told);
# with EVAL_ERRORS=VALUE with `--errors VALUE` (e.g. `unknown`); by default the
# survey decides (`--errors auto`). With EVAL_SELF_TRAIN=MODE, `--self-train MODE`
# (auto, on, off; default auto: sets with 1,000 confidently coding reads and a survey
# verdict of indels self-train, each on itself).
# usage: scripts/eval_errors.sh [MODEL_DIR] [PROFILES...]   (default: embedded model;
#        profiles none sub1 adna indel1 mixed4 homopolymer1)
set -euo pipefail
cd "$(dirname "$0")/.."
E=${CDSPRED_SHARED:-../shared}/data
BIN=${CDSPRED_BIN:-target/release/cdspred}
M=(); [ -n "${1:-}" ] && [ "${1:-}" != "-" ] && M=(--model "$1")
shift || true
PROFILES=("$@"); [ ${#PROFILES[@]} -eq 0 ] && PROFILES=(none sub1 adna indel1 mixed4 homopolymer1)
OUT=${EVAL_ERRORS_DIR:-work/eval-errors}
for p in "${PROFILES[@]}"; do
  args=()
  for g in cdiphtheriae mhyorhinis kutzneria; do
    f=$OUT/$p/$g
    [ -s "$f.tsv" ] || "$BIN" data mutate --profile "$p" --seed 1 \
      --reads "$E/eval/$g.fasta.gz" --truth "$E/eval/$g.tsv.gz" --out "$f" >/dev/null
    args+=(--truth "$f.tsv" --reads "$f.fasta")
  done
  echo "== profile $p"
  H=(); [ -n "${EVAL_HINT:-}" ] && H=(--errors "$p")
  [ -n "${EVAL_ERRORS:-}" ] && H=(--errors "$EVAL_ERRORS")
  [ -n "${EVAL_SELF_TRAIN:-}" ] && H+=(--self-train "$EVAL_SELF_TRAIN")
  "$BIN" eval "${M[@]}" "${H[@]}" "${args[@]}" ${EVAL_JSON:+--json "$OUT/$p.json"}
done
