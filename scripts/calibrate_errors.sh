#!/usr/bin/env bash
# Measures the sequencing-error survey of `--errors auto` (cdspred_model::estimate) on
# reads sampled from training genomes only: for each genome and error profile, how many
# of the confident 250-400-nt reads the survey saw gained more than 12 by shifting
# (the share the cut is set on), and of the confident 120-249-nt reads when only
# those are surveyed (the short-read clean cut). Reads come from scripts/sample_eval_reads.py (seed 7),
# errors from `cdspred data mutate` (seed 3); sets are cached in OUT_DIR.
# usage: scripts/calibrate_errors.sh [OUT_DIR]   (default work/calib)
set -euo pipefail
cd "$(dirname "$0")/.."
T=${CDSPRED_SHARED:-../shared}/data/genomes/train
BIN=${CDSPRED_BIN:-target/release/cdspred}
OUT=${1:-work/calib}
mkdir -p "$OUT"
printf '| genome | profile | shifted / confident (250-400 nt) | share | shifted / confident (120-249 nt) | share |\n|---|---|---:|---:|---:|---:|\n'
for g in ssuis:Streptococcus_suis_SC84 paer:Paeruginosa_GN04821_CP147557 \
         acid:Acidilobus_saccharovorans_CP001742 lach:Lachnospiraceae_MAG_CAJTEK01; do
  n=${g%%:*}; f=${g#*:}
  [ -s "$OUT/$n.tsv.gz" ] || python3 scripts/sample_eval_reads.py "$n" "$T/$f.fna.gz" \
    "$T/$f.pyrodigal_tt11.gff.gz" "$OUT/$n" 7 >/dev/null
  for p in none sub1 adna illumina indel1 homopolymer1 mixed4; do
    s=$OUT/$p/$n; mkdir -p "$OUT/$p"
    [ -s "$s.tsv" ] || "$BIN" data mutate --profile "$p" --seed 3 --reads "$OUT/$n.fasta.gz" \
      --truth "$OUT/$n.tsv.gz" --out "$s" >/dev/null
    line=$(CDSPRED_LOG=info NO_COLOR=1 "$BIN" eval --truth "$s.tsv" --reads "$s.fasta" 2>&1 >/dev/null \
      | grep -o '([0-9]* of [0-9]* confident' | tr -d '(')
    k=$(echo "$line" | cut -d' ' -f1); c=$(echo "$line" | cut -d' ' -f3)
    python3 -c 'import sys
r=open(sys.argv[1]).read().split(">")[1:]
for x in r:
    h,_,q=x.partition("\n"); q=q.replace("\n","")
    if 120<=len(q)<250: print(">"+h+"\n"+q)' "$s.fasta" > "$s.short.fa"
    short=$(CDSPRED_LOG=info NO_COLOR=1 "$BIN" predict --survey-errors "$s.short.fa" 2>&1 >/dev/null \
      | grep -o 'and [0-9]* of [0-9]* of 120' | cut -d' ' -f2,4)
    ks=${short% *}; cs=${short#* }
    printf '| %s | %s | %s / %s | %.3f | %s / %s | %.4f |\n' "$n" "$p" "$k" "$c" "$(echo "$k / $c" | bc -l)" \
      "$ks" "$cs" "$(echo "$ks / $cs" | bc -l)"
  done
done
