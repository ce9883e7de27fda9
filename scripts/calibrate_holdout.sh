#!/usr/bin/env bash
# Calibrates a model on genomes its networks never saw (docs/drift.md, "Calibration").
#
# For each fold, the default recipe is split in two: the fold's genomes are left out of
# a training recipe and make up a held-out recipe of their own. The three networks (the
# main one, configs/default.toml, the clean expert, configs/clean.toml, and the pristine
# expert, configs/pristine.toml) are retrained on
# the rest, promoted into work/calibration/models/foldN, and `cdspred model calibrate
# MODEL --holdout work/calibration/models/foldN=work/calibration-foldN/holdout/validation.ds …`
# fits the temperatures on how those retrains score the genomes they never saw.
# About 10 minutes on 2 cores. Deterministic (fixed seeds).
# usage: scripts/calibrate_holdout.sh [MODEL_DIR]   (default models/default)
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=${1:-models/default}
BIN=${CDSPRED_BIN:-target/release/cdspred}
W=work/calibration
# Held-out genomes per fold: GC from 0.36 to 0.66, one archaeon, the reference genome.
FOLDS=(
  "mtuberculosis_h37rv streptococcus_suis acidilobus_saccharovorans"
  "paeruginosa_gn04821 lachnospiraceae_mag leptospira_kirschneri"
)
mkdir -p "$W"
args=()
for i in "${!FOLDS[@]}"; do
  f=fold$((i + 1))
  # work/calibration-foldN/ is as deep as data/recipes/, so the recipe's relative
  # paths to ../shared stay right.
  d=$W-$f
  mkdir -p "$d"
  python3 - "$d" ${FOLDS[$i]} <<'EOF'
import re, sys
out, held = sys.argv[1], set(sys.argv[2:])
text = open("data/recipes/default.toml").read()
head, *blocks = text.split("[[source]]")
train, hold = [head], [head.replace('name = "default"', 'name = "holdout"')]
for b in blocks:
    name = re.search(r'^name = "([^"]+)"', b, re.M).group(1)
    if name in held:
        b = re.sub(r'^role = "train"', 'role = "validation"', b, flags=re.M)
        b = re.sub(r'^val_fraction = .*\n', '', b, flags=re.M)
        hold.append(b)
    else:
        train.append(b)
missing = held - {re.search(r'^name = "([^"]+)"', b, re.M).group(1) for b in blocks}
assert not missing, f"unknown sources {missing}"
open(f"{out}/train.toml", "w").write("[[source]]".join(train))
open(f"{out}/holdout.toml", "w").write("[[source]]".join(hold))
EOF
  [ -s "$d/train/train.ds" ] || "$BIN" -q data build --recipe "$d/train.toml" --out "$d/train"
  [ -s "$d/holdout/validation.ds" ] || "$BIN" -q data build --recipe "$d/holdout.toml" --out "$d/holdout"
  for net in default clean pristine; do
    r=$W/runs/$f-$net
    [ -s "$r/best/model.safetensors" ] || "$BIN" -q train --config "configs/$net.toml" --run-dir "$r" \
      name="$f-$net" recipe="$d/train.toml" train_data="$d/train/train.ds" val_data="$d/train/validation.ds"
  done
  "$BIN" -q model promote "$W/runs/$f-default" "$f" --registry "$W/models" --clean-expert "$W/runs/$f-clean" \
    --pristine-expert "$W/runs/$f-pristine" >/dev/null
  args+=(--holdout "$W/models/$f=$d/holdout/validation.ds")
done
"$BIN" model calibrate "$MODEL" "${args[@]}" --config configs/default.toml --clean-config configs/clean.toml
