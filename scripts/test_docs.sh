#!/usr/bin/env bash
# Docs that run: the shell blocks of docs/getting-started.md under "Predict" and "Train
# your own model", run as written (placeholders filled, see below) in a fresh clone of
# this checkout's commit, with `cdspred` on PATH. A documented command that no longer
# works fails the test command. Filled in: the input files the page names are made from
# the example reads and a development genome (reads.fastq.gz, reads.fq.gz, reads.fa,
# contigs.fa), and `runs/<run>` is the run the page's train command made. Not run here:
# "Install" (the README's `cargo run` line is run by scripts/test_readme.sh) and
# "Serve" (a foreground server; the server tests cover it).
# usage: scripts/test_docs.sh [CDSPRED_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "${1:-${CARGO_TARGET_DIR:-target}/debug/cdspred}")
SHARED=$(realpath "${CDSPRED_SHARED:-../shared}")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git clone -q "$PWD" "$tmp/clone"
ln -s "$SHARED" "$tmp/shared"          # the clone's ../shared
mkdir "$tmp/bin" && ln -s "$BIN" "$tmp/bin/cdspred"
export PATH="$tmp/bin:$PATH"
cd "$tmp/clone"
python3 - <<'PY'
import gzip, re
recs, name = [], None
for line in open("examples/reads.fasta"):
    line = line.strip()
    if line.startswith(">"):
        recs.append([line[1:], ""])
    elif line:
        recs[-1][1] += line
with gzip.open("reads.fastq.gz", "wt") as f:
    for n, s in recs:
        f.write(f"@{n}\n{s}\n+\n{'I' * len(s)}\n")
open("reads.fq.gz", "wb").write(open("reads.fastq.gz", "rb").read())
with open("reads.fa", "w") as f:
    for n, s in recs:
        f.write(f">{n}\n{s}\n")
contig = "".join(l.strip() for l in gzip.open(
    "../shared/data/genomes/dev/Kutzneria_sp744_KK037166_20kb.fna.gz", "rt") if not l.startswith(">"))
open("contigs.fa", "w").write(">contig1\n" + contig + "\n")
# The page's blocks, in order, from the two sections.
page = open("docs/getting-started.md").read()
out = ["set -euxo pipefail"]
for section in ["## Predict", "## Train your own model"]:
    body = page.split(section, 1)[1].split("\n## ", 1)[0]
    for block in re.findall(r"```sh\n(.*?)```", body, re.S):
        for cmd in block.replace("\\\n", " ").splitlines():
            cmd = re.sub(r"\s+#.*$", "", cmd).strip()
            if cmd:
                out.append(cmd.replace("runs/<run>", "runs/$(cd runs && ls -d *-mine | head -1)"))
open("docs_commands.sh", "w").write("\n".join(out) + "\n")
PY
cat docs_commands.sh
bash docs_commands.sh > "$tmp/out.txt" 2> "$tmp/err.txt" || { tail -30 "$tmp/err.txt" >&2; exit 1; }
# What the commands should have left behind.
test -s predictions.tsv && test -s p.tsv && test -s p.gff3 && test -s p.faa && test -s s_mqc.json
test -s models/mine/model.safetensors
grep -q "^MEAN L=300" "$tmp/out.txt"
echo "ok: $(grep -c . docs_commands.sh) documented commands ran"
