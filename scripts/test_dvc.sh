#!/usr/bin/env bash
# The DVC pipeline (dvc.yaml + params.yaml) with DVC from PyPI, in a temporary project
# on the smoke recipe and config: `dvc repro` builds data -> train -> eval; a second
# repro runs nothing; a changed train parameter reruns train and eval but not data;
# `dvc push` to a local remote and `dvc pull` into an empty checkout restore the
# outputs byte for byte.
# Usage: scripts/test_dvc.sh PATH/TO/cdspred
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "$1")
SHARED=$(realpath "${CDSPRED_SHARED:-../shared}")/data
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
proj=$tmp/proj
mkdir -p "$proj/data/recipes" "$proj/configs"
cp dvc.yaml "$proj/"
cp configs/smoke.toml "$proj/configs/"
# The recipe names its genomes relative to itself; point them at the shared data.
sed "s#\.\./\.\./\.\./shared/data#$SHARED#g" data/recipes/smoke.toml >"$proj/data/recipes/smoke.toml"
params() {
  cat >"$proj/params.yaml" <<YAML
bin: $BIN
shared: $SHARED
data:
  recipe: data/recipes/smoke.toml
train:
  config: configs/smoke.toml
  seed: 3
  epochs: $1
YAML
}
params 2
cd "$proj"
log=$tmp/dvc.log
run() { "$@" >"$log" 2>&1 || { cat "$log" >&2; exit 1; }; }
run dvc init --no-scm -q
run dvc repro
for s in data train eval; do grep -q "Running stage '$s'" "$log" || { cat "$log"; echo "stage $s did not run"; exit 1; }; done
test -s work/dvc/eval.json
test -s work/dvc/run/best/model.safetensors
sha_data=$(sha256sum work/dvc/data/train.ds | cut -d' ' -f1)
sha_model=$(sha256sum work/dvc/run/best/model.safetensors | cut -d' ' -f1)
# Nothing changed: nothing runs.
run dvc repro
if grep -q "Running stage" "$log"; then cat "$log"; echo "a stage reran without a change"; exit 1; fi
# A training parameter changed: train and eval rerun, data does not.
params 1
run dvc repro
grep -q "Running stage 'train'" "$log" && grep -q "Running stage 'eval'" "$log" \
  || { cat "$log"; echo "train/eval did not rerun"; exit 1; }
if grep -q "Running stage 'data'" "$log"; then cat "$log"; echo "data reran"; exit 1; fi
sha_model1=$(sha256sum work/dvc/run/best/model.safetensors | cut -d' ' -f1)
[ "$sha_model1" != "$sha_model" ] || { echo "the 1-epoch run left the 2-epoch weights"; exit 1; }
# Back to 2 epochs: the same weights again (fixed seed), restored from the run cache.
params 2
run dvc repro
[ "$(sha256sum work/dvc/run/best/model.safetensors | cut -d' ' -f1)" = "$sha_model" ] \
  || { echo "2-epoch weights differ after going back"; exit 1; }
# Push to a local remote; an empty copy of the project pulls the same outputs.
run dvc remote add -d local "$tmp/remote"
run dvc push
clone=$tmp/clone
mkdir "$clone"
cp -r .dvc dvc.yaml dvc.lock params.yaml configs data "$clone/"
rm -rf "$clone/.dvc/cache" "$clone/.dvc/tmp"
cd "$clone"
run dvc pull
[ "$(sha256sum work/dvc/data/train.ds | cut -d' ' -f1)" = "$sha_data" ] || { echo "pulled data differ"; exit 1; }
[ "$(sha256sum work/dvc/run/best/model.safetensors | cut -d' ' -f1)" = "$sha_model" ] || { echo "pulled model differs"; exit 1; }
run dvc status
grep -qi "up to date" "$log" || { cat "$log"; echo "pulled project not up to date"; exit 1; }
echo "dvc: repro data->train->eval, no-op repro, param change reruns train+eval only, push/pull restore identical outputs, the 1-epoch model differs"
