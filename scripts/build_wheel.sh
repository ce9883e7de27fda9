#!/usr/bin/env bash
# Builds the Python wheel of cdspred (crates/python, PyO3 + maturin; the model is
# embedded) into DIR (default dist/): dist/cdspred-VERSION-cp39-abi3-linux_x86_64.whl,
# one wheel for CPython 3.9 and later. maturin comes from PyPI into a virtual
# environment under ~/.cache when missing.
#   bash scripts/build_wheel.sh [DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-dist}
VENV=${CDSPRED_VENV:-$HOME/.cache/cdspred-venv}
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
[ -x "$VENV/bin/maturin" ] || "$VENV/bin/python" -m pip install -q --disable-pip-version-check maturin==1.16.0
"$VENV/bin/maturin" build --release --locked -m crates/python/Cargo.toml -o "$out" >&2
ls "$out"/cdspred-*.whl
