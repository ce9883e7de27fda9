#!/usr/bin/env bash
# The Python package, as a user gets it: builds the wheel (scripts/build_wheel.sh),
# installs it alone into a fresh virtual environment with no index (no network, no
# NumPy) and predicts the example reads there, then runs the pytest suite
# (crates/python/tests: parity with the CLI binary given as $1, errors, the GIL, files)
# in the test environment, which has NumPy and pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "${1:-target/debug/cdspred}")
VENV=${CDSPRED_VENV:-$HOME/.cache/cdspred-venv}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
wheel=$(bash scripts/build_wheel.sh "$tmp/dist" | tail -1)
python3 -m venv "$tmp/fresh"
"$tmp/fresh/bin/python" -m pip install -q --disable-pip-version-check --no-index "$wheel"
"$tmp/fresh/bin/python" - <<'PY'
import cdspred
p = cdspred.Predictor()
ids, seqs = [], []
for line in open("examples/reads.fasta"):
    if line.startswith(">"):
        ids.append(line[1:].split()[0]); seqs.append("")
    else:
        seqs[-1] += line.strip()
reads = p.predict(seqs, ids=ids)
assert len(reads) == 400 and sum(r.call == "coding" for r in reads) > 200, reads[:3]
try:
    p.predict_arrays(seqs)
except ImportError as e:
    print("without NumPy, predict_arrays says:", e)
print("fresh venv:", len(reads), "reads,", sum(r.call == "coding" for r in reads), "coding")
PY
"$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps --force-reinstall "$wheel"
CDSPRED_BIN=$BIN "$VENV/bin/python" -m pytest -q -p no:cacheprovider crates/python/tests
