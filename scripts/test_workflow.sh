#!/usr/bin/env bash
# Runs workflow/Snakefile with Snakemake on a FASTQ.gz input (and a 2-file FASTA input)
# and checks that the merged predictions are byte-identical to one `cdspred predict` run
# (`--self-train off`, as the shards run: each would learn its own chains).
# Usage: scripts/test_workflow.sh PATH/TO/cdspred
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "$1")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# sm ARGS...: run Snakemake quietly; show its log when it fails.
sm() {
  snakemake -q -s workflow/Snakefile --cores 2 --directory "$tmp" "$@" >"$tmp/snakemake.log" 2>&1 \
    || { cat "$tmp/snakemake.log" >&2; exit 1; }
}
# A FASTQ.gz of the example reads, 5 copies with distinct ids (2,000 reads).
python3 - "$tmp/reads.fastq.gz" <<'PY'
import gzip, sys
recs, cur = [], None
for line in open("examples/reads.fasta"):
    line = line.strip()
    if line.startswith(">"):
        cur = [line[1:].split()[0], ""]; recs.append(cur)
    elif cur:
        cur[1] += line
with gzip.open(sys.argv[1], "wt") as f:
    for k in range(5):
        for rid, s in recs:
            f.write(f"@{rid}_{k} copy {k}\n{s}\n+\n{'I' * len(s)}\n")
PY
for fmt in tsv gff3; do
  sm --config input="$tmp/reads.fastq.gz" shards=7 outdir="$tmp/out-$fmt" format=$fmt cdspred="$BIN"
  "$BIN" predict "$tmp/reads.fastq.gz" --self-train off --format $fmt -o "$tmp/single.$fmt"
  cmp "$tmp/out-$fmt/predictions.$fmt" "$tmp/single.$fmt"
  # Shards and per-shard predictions are temporary: only the result and logs remain.
  test -z "$(ls -A "$tmp/out-$fmt/shards" 2>/dev/null)"
done
# Two input files, read in order.
sm --config input="$PWD/examples/reads.fasta,$tmp/reads.fastq.gz" shards=3 outdir="$tmp/out-two" cdspred="$BIN"
"$BIN" predict examples/reads.fasta "$tmp/reads.fastq.gz" --self-train off -o "$tmp/single-two.tsv"
cmp "$tmp/out-two/predictions.tsv" "$tmp/single-two.tsv"
echo "workflow: merged predictions identical to a single run ($(($(wc -l < "$tmp/single.tsv") - 1)) reads, 7 shards; 2 inputs, 3 shards)"
