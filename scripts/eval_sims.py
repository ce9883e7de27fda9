#!/usr/bin/env python3
"""Reads from two more established simulators, scored for cdspred and FragGeneScanRs.

scripts/eval_art.py does this for ART; this script adds
- **pbsim** (Debian `pbsim`, its PacBio CLR quality model `model_qc_clr`, mean read
  accuracy --pbsim-accuracy, default 0.95): 5-20-kb reads cut, as sequenced, into
  consecutive pieces of 300 and of 150 nt; every base's genome origin comes from pbsim's
  MAF alignment (scripts/eval_longreads.py's reader), so indels are tracked;
- **InSilicoSeq** (PyPI `insilicoseq`, its pre-built Illumina error models `novaseq`
  (151-nt reads, cut to 150) and `miseq` (301 nt, cut to 300); read 1 of each pair):
  InSilicoSeq writes no read positions, so each read is placed by 20-mers that occur once
  in the genome, at its first and last bases, on either strand, and kept only where both
  agree on an unbroken placement (its substitutions then leave positions as they are;
  reads whose ends hold an error or an indel are left out).

Labels as in eval_art.py (its `label`): a read is coding when its aligned span lies
wholly inside one complete CDS of the genome's pyrodigal annotation, non-coding when it
touches no CDS, left out otherwise; `frame` is the offset of its first base, sense-
oriented, that starts a codon of the gene. Up to --n coding and --n non-coding reads per
genome and length. cdspred (embedded model, default settings and told the matching
`--errors` profile) and FragGeneScanRs 1.1.0 with its matching training file run on the
same reads; ../shared/eval/score.py scores them. Prints a Markdown table (gene MCC, mean
over C. diphtheriae and M. hyorhinis, each genome, strand+frame).

usage: scripts/eval_sims.py [--n 2000] [--out work/eval-sims] [--iss iss] [--cdspred BIN]
Needs: numpy; pbsim (apt-get install pbsim); InSilicoSeq (pip install insilicoseq==2.0.1,
`iss` on PATH or --iss); FragGeneScanRs 1.1.0 (cargo install frag_gene_scan_rs).
"""
import argparse
import os
import random
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import eval_art as ea  # noqa: E402
import eval_longreads as el  # noqa: E402

K = 20
# (run, lengths, cdspred --errors hint, FragGeneScanRs training file)
RUNS = [
    ("pbsim_clr", [300, 150], "long6", "454_30"),
    ("iss_novaseq", [150], "illumina", "illumina_5"),
    ("iss_miseq", [300], "illumina", "illumina_5"),
]


def aligned(seq, org, minus):
    """(SEQ, refs, rev) in SAM terms for a read as sequenced with 0-based genome origins
    (−1: inserted): SEQ runs along the reference, refs are 1-based (None: inserted)."""
    refs = [o + 1 if o >= 0 else None for o in org]
    if minus:
        return ea.rc(seq), refs[::-1], True
    return seq, refs, False


def pbsim_records(genome, accuracy, total_bases, lengths, seed):
    """Consecutive pieces of each length cut from pbsim CLR reads: (qname, chrom, L, SEQ,
    refs, rev) with SEQ and refs of exactly L bases."""
    n = max(1, int(total_bases / 8000))
    for rid, chrom, read, org, minus in el.pbsim_reads(genome, n, accuracy, seed):
        for L in lengths:
            for i in range(0, len(read) - L + 1, L):
                s, r, rev = aligned(read[i:i + L], list(org[i:i + L]), minus)
                yield (f"{rid}_{L}_{i}", chrom, L, s, r, rev)


def kmer_index(genome):
    """{20-mer: (chrom, 0-based start)} for 20-mers that occur once on the + strand and
    nowhere on the − strand."""
    seen, dup = {}, set()
    for chrom, s in genome.items():
        for p in range(len(s) - K + 1):
            k = s[p:p + K]
            if k in dup:
                continue
            if k in seen:
                del seen[k]
                dup.add(k)
            else:
                seen[k] = (chrom, p)
    for s in genome.values():
        r = ea.rc(s)
        for p in range(len(r) - K + 1):
            seen.pop(r[p:p + K], None)
    return seen


def place(read, index):
    """(chrom, 0-based start on +, rev) of a read whose first and last 20-mers both
    occur once, on one strand, at distance len − 20; else None."""
    n = len(read)
    for rev, s in ((False, read), (True, ea.rc(read))):
        a, b = index.get(s[:K]), index.get(s[n - K:])
        if a and b and a[0] == b[0] and b[1] - a[1] == n - K:
            return a[0], a[1], rev
    return None


def iss_records(iss, model, fna, out, n_reads, lengths, genome, seed):
    """The first L bases of each read 1 of InSilicoSeq's `model`, placed on the genome."""
    prefix = os.path.join(out, f"iss_{model}")
    if not os.path.exists(prefix + "_R1.fastq"):
        subprocess.run([iss, "generate", "--genomes", fna, "--model", model, "--n_reads", str(n_reads),
                        "--output", prefix, "--seed", str(seed), "--cpus", "2"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    index = kmer_index(genome)
    with open(prefix + "_R1.fastq") as f:
        for k, line in enumerate(f):
            if k % 4 != 1:
                continue
            seq = line.strip().upper()
            for L in lengths:
                if len(seq) < L:
                    continue
                s = seq[:L]
                pl = place(s, index)
                if pl is None:
                    continue
                chrom, start, rev = pl
                # SEQ along the reference: the read itself, or its reverse complement.
                yield (f"iss{k // 4}_{L}", chrom, L, ea.rc(s) if rev else s,
                       list(range(start + 1, start + L + 1)), rev)


def rows_from(records, cds, genome_name, table, n, seed):
    """eval_art's selection (`pick_rows`) for records (qname, chrom, L, SEQ, refs, rev)."""
    per = {}
    for qname, chrom, L, seq, refs, rev in records:
        lab = ea.label(refs, rev, cds.get(chrom, []))
        if lab is None:
            continue
        read = ea.rc(seq) if rev else seq
        per.setdefault(L, {0: [], 1: []})[lab[0]].append((qname, read, lab))
    return ea.pick_rows(per, genome_name, table, n, random.Random(seed))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--out", default=os.path.join(ea.ROOT, "work/eval-sims"))
    ap.add_argument("--cdspred", default=os.path.join(ea.ROOT, "target/release/cdspred"))
    ap.add_argument("--fgs", default=shutil.which("FragGeneScanRs") or "FragGeneScanRs")
    ap.add_argument("--iss", default=shutil.which("iss") or "iss")
    ap.add_argument("--pbsim-accuracy", type=float, default=0.95)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    table = []
    for run, lengths, hint, fgs_train in RUNS:
        scores = {"cdspred": {}, f"cdspred --errors {hint}": {}, f"FragGeneScanRs -t {fgs_train}": {}}
        for gname, code, fna_gz, gff, _fold in ea.GENOMES:
            d = os.path.join(a.out, gname)
            os.makedirs(d, exist_ok=True)
            genome, fna = ea.genome_fna(d, fna_gz)
            size = sum(len(v) for v in genome.values())
            if run == "pbsim_clr":
                # Two genome lengths of reads: enough non-coding 300-nt pieces.
                recs = pbsim_records(genome, a.pbsim_accuracy, 2 * size, lengths, 1)
            else:
                # About 40 reads per kb: enough non-coding reads of a compact genome.
                recs = iss_records(a.iss, run.split("_")[1], fna, d, 40 * size // 1000, lengths, genome, 1)
            rows = rows_from(recs, ea.read_cds(gff), gname, code, a.n, 1)
            n_c = sum(1 for r in rows if r[2].split("\t")[5] == "1")
            print(f"{run} {gname}: {n_c} coding, {len(rows) - n_c} non-coding reads", file=sys.stderr)
            ea.run_tools(rows, os.path.join(d, run), code, hint, fgs_train, a.cdspred, a.fgs, scores)
        table.extend(ea.table_rows(run, lengths, scores))
    print("| reads | L | tool | gene MCC (mean) | C. diphtheriae / M. hyorhinis | strand+frame |")
    print("|---|---:|---|---:|---|---:|")
    print("\n".join(table))


if __name__ == "__main__":
    main()
