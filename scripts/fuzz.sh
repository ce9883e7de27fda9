#!/usr/bin/env bash
# Runs every fuzz target (fuzz/fuzz_targets: fastx, genbank, gff, api) with libFuzzer
# for SECONDS each (default 600), JOBS targets at a time (default 2), and prints the
# executions and crashes of each. Needs the nightly toolchain and cargo-fuzz
# (cargo install cargo-fuzz). A crash leaves its input in fuzz/artifacts/TARGET/:
# fix the bug, then copy the input into fuzz/regressions/TARGET/ so that
# `cargo test -p cdspred-fuzz` replays it in every test run.
#
# Usage: scripts/fuzz.sh [SECONDS] [JOBS] [TARGET...]
set -uo pipefail
cd "$(dirname "$0")/.."
secs=${1:-600}
jobs=${2:-2}
shift 2 2>/dev/null || shift $#
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fastx genbank gff api)
cargo +nightly fuzz build -O >/dev/null || exit 1
logdir=$(mktemp -d)
run() {
  local t=$1
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  # Work on a copy of the seed corpus, so the committed one stays small.
  local work="$logdir/corpus-$t"
  cp -r "fuzz/corpus/$t" "$work"
  cargo +nightly fuzz run -O "$t" "$work" -- -max_total_time="$secs" -rss_limit_mb=2048 \
    -max_len=65536 -timeout=10 >"$logdir/$t.log" 2>&1
  echo $? >"$logdir/$t.rc"
}
running=0
for t in "${targets[@]}"; do
  run "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then wait -n; running=$((running - 1)); fi
done
wait
status=0
printf '%-8s %12s %8s %8s %s\n' target executions exec/s crashes "corpus"
for t in "${targets[@]}"; do
  log="$logdir/$t.log"
  done_line=$(grep -E "^Done [0-9]+ runs" "$log" | tail -1)
  execs=$(echo "$done_line" | awk '{print $2}')
  per_s=$(grep -oE "exec/s: [0-9]+" "$log" | tail -1 | awk '{print $2}')
  cov=$(grep -oE "corp: [0-9]+/[0-9]+[a-zA-Z]*" "$log" | tail -1 | awk '{print $2}')
  crashes=$(ls "fuzz/artifacts/$t" 2>/dev/null | grep -cE "^(crash|oom|timeout|leak)-" || true)
  printf '%-8s %12s %8s %8s %s\n' "$t" "${execs:-?}" "${per_s:-?}" "$crashes" "${cov:-?}"
  if [ "$(cat "$logdir/$t.rc")" != 0 ] || [ "$crashes" != 0 ]; then
    status=1
    echo "--- $t: see fuzz/artifacts/$t; last lines of its log:"
    tail -30 "$log"
  fi
done
rm -rf "$logdir"
exit $status
