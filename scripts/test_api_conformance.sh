#!/usr/bin/env bash
# API conformance: schemathesis (PyPI) generates requests from the server's own
# /openapi.json (coverage and fuzzing phases, every check): zero 5xx, every response
# documented and matching its schema, schema-valid requests accepted and
# schema-violating ones rejected. Deterministic generation, so a failure reproduces.
# Usage: scripts/test_api_conformance.sh PATH/TO/cdspred [MAX_EXAMPLES]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "$1")
n=${2:-100}
tmp=$(mktemp -d)
"$BIN" -q serve --addr 127.0.0.1:0 --data-dir "$tmp/data" >"$tmp/out" 2>"$tmp/err" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do
  grep -q "listening on" "$tmp/out" 2>/dev/null && break
  sleep 0.1
done
url=$(sed -n 's/^listening on //p' "$tmp/out")
[ -n "$url" ] || { echo "server did not start:"; cat "$tmp/err"; exit 1; }
schemathesis run "$url/openapi.json" --checks all --max-examples "$n" \
  --generation-deterministic --no-color >"$tmp/st.log" 2>&1 || { cat "$tmp/st.log"; exit 1; }
grep -E "generated|No issues" "$tmp/st.log" | sed 's/^ */schemathesis: /'
