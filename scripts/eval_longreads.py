#!/usr/bin/env python3
"""Long reads with sequencing errors: strand-level coding calls, per read base.

Cuts pieces of 5–20 kb from a genome (either strand), adds substitutions, insertions
and deletions at the given rates while tracking, for every read base, the genome base
it came from, and scores each tool's coding calls on the reads per read base:

- sensitivity: read bases from an annotated CDS that a call covers on the CDS's strand
  (relative to the read);
- precision: read bases inside calls whose genome base lies in an annotated CDS on the
  call's strand.
Inserted bases count on neither side. Tools, on the same reads: cdspred (with and
without the `--errors` hint), FragGeneScanRs 1.1.0 with error models (`-w 0`) and its
complete-genome model (`-w 1`), pyrodigal 3.7.1 meta.

Example:
  python scripts/eval_longreads.py --genome cdiphtheriae --profile long6 --reads 60
  python scripts/eval_longreads.py --genome mtb --model MODEL --pbsim 0.95 --profile long6
Needs: numpy, pyrodigal==3.7.1 (PyPI); for --pbsim Debian's pbsim (apt-get install pbsim);
FragGeneScanRs on PATH (cargo install
frag_gene_scan_rs --version 1.1.0) unless --no-fgs.
"""

import argparse
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import eval_genes as eg  # noqa: E402

COMP = str.maketrans("ACGTN", "TGCAN")
# cdspred's profiles (crates/data/src/errors.rs): substitutions, insertions, deletions.
PROFILES = {"mixed4": (0.02, 0.01, 0.01), "long6": (0.01, 0.03, 0.02)}


def mutate(seq, sub, ins, dele, rng):
    """(read, origins): origins[i] is the genome offset of read base i, −1 if inserted."""
    out, org = [], []
    bases = "ACGT"
    for i, b in enumerate(seq):
        r = rng.random()
        if r < dele:
            continue
        if r < dele + sub:
            b = rng.choice([x for x in bases if x != b] or bases)
        out.append(b)
        org.append(i)
        if rng.random() < ins:
            out.append(rng.choice(bases))
            org.append(-1)
    return "".join(out), np.array(org, dtype=np.int64)


def simulate(genome, n, sub, ins, dele, seed, lo=5000, hi=20000):
    rng = random.Random(seed)
    recs = list(genome.items())
    total = sum(len(s) for _, s in recs)
    reads = []
    for k in range(n):
        # A record chosen by length, a piece inside it.
        x = rng.randrange(total)
        for name, s in recs:
            if x < len(s):
                break
            x -= len(s)
        L = min(rng.randint(lo, hi), len(s))
        start = rng.randrange(0, len(s) - L + 1)
        piece = s[start:start + L]
        read, org = mutate(piece, sub, ins, dele, rng)
        rev = rng.random() < 0.5
        if rev:
            read = read.translate(COMP)[::-1]
            org = org[::-1]
        org = np.where(org >= 0, org + start, -1)
        reads.append((f"lr{k}", name, read, org, rev))
    return reads


def pbsim_reads(genome, n, accuracy, seed, binary="pbsim"):
    """`n` (about) PacBio CLR reads of 5-20 kb from pbsim (Debian `pbsim`, its CLR quality
    model), read accuracy `accuracy` (sd 0.02); every read base's genome origin comes
    from pbsim's MAF alignment (−1: inserted)."""
    total = sum(len(s) for s in genome.values())
    depth = n * 8000 / total
    model = "/usr/share/pbsim/models/model_qc_clr"
    reads = []
    comp_reads = 0
    with tempfile.TemporaryDirectory() as d:
        names = list(genome)
        with open(os.path.join(d, "g.fa"), "w") as f:
            for name in names:
                f.write(f">{name}\n{genome[name]}\n")
        subprocess.run([binary, "--data-type", "CLR", "--model_qc", model, "--depth", f"{depth:.6f}",
                        "--length-mean", "8000", "--length-sd", "3000", "--length-min", "5000",
                        "--length-max", "20000", "--accuracy-mean", str(accuracy), "--accuracy-sd", "0.02",
                        "--seed", str(seed), "--prefix", os.path.join(d, "sd"), os.path.join(d, "g.fa")],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for k, name in enumerate(names):
            maf = os.path.join(d, f"sd_{k + 1:04d}.maf")
            if not os.path.exists(maf):
                continue
            lines = [ln.split() for ln in open(maf) if ln.startswith("s ")]
            for ref, rd in zip(lines[0::2], lines[1::2]):
                start, rseq, qseq, minus = int(ref[2]), ref[6], rd[6], rd[4] == "-"
                read, org, pos = [], [], start
                for a, b in zip(rseq, qseq):
                    if b != "-":
                        read.append(b)
                        org.append(pos if a != "-" else -1)
                    if a != "-":
                        pos += 1
                read, org = "".join(read), np.array(org, dtype=np.int64)
                if minus:  # the read as sequenced is the aligned sequence's reverse complement
                    read, org = read.translate(COMP)[::-1], org[::-1]
                reads.append((f"pb{comp_reads}", name, read, org, minus))
                comp_reads += 1
    return reads


def strand_masks(genome, truth):
    """{record: uint8 per base}: bit 1 = coding on +, bit 2 = coding on −; and pseudo."""
    out = {}
    for rec, s in genome.items():
        m = np.zeros(len(s), dtype=np.uint8)
        ps = np.zeros(len(s), dtype=bool)
        for spans, _p5, _p3, pseudo in truth.get(rec, []):
            for a, b, st in spans:
                if pseudo:
                    ps[a:b] = True
                else:
                    m[a:b] |= 1 if st > 0 else 2
        out[rec] = (m, ps)
    return out


def score(reads, masks, calls):
    """Per read base sensitivity and precision (strand-level)."""
    hit = tn = cp = 0
    for rid, rec, read, org, rev in reads:
        m, ps = masks[rec]
        keep = org >= 0
        o = np.where(keep, org, 0)
        t = m[o]
        if rev:  # the read's + strand is the genome's −
            t = ((t & 1) << 1) | ((t & 2) >> 1)
        keep &= ~ps[o]
        p = np.zeros(len(read), dtype=np.uint8)
        for s, e, st in calls.get(rid, []):
            p[s:e] |= 1 if st > 0 else 2
        t, p = t[keep], p[keep]
        tn += int((t != 0).sum())
        cp += int((p != 0).sum())
        hit += int(((t & p) != 0).sum())
    return hit / max(tn, 1), hit / max(cp, 1)


def cdspred(binary, model, fasta, table, extra):
    """{read: [(start, end, strand)]} of cdspred's calls, and its CPU seconds."""
    calls, cpu = eg.cdspred_calls(binary, model, fasta, table, extra)
    return {
        rid: [(min(s[0] for s in c[0]), max(s[1] for s in c[0]), c[0][0][2]) for c in lst]
        for rid, lst in calls.items()
    }, cpu


def fgs(binary, fasta, train, whole):
    d = tempfile.mkdtemp()
    out = os.path.join(d, "o")
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([binary, "-s", fasta, "-o", out, "-w", "1" if whole else "0", "-t", train],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    calls, rid = {}, None
    with open(out + ".out") as f:
        for line in f:
            if line.startswith(">"):
                rid = line[1:].split()[0]
            elif line.strip():
                c = line.split("\t")
                calls.setdefault(rid, []).append((int(c[0]) - 1, int(c[1]), 1 if c[2] == "+" else -1))
    shutil.rmtree(d)
    return calls, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)


def pyrodigal_meta(reads, table):
    import pyrodigal

    t0 = time.process_time()
    gf = pyrodigal.GeneFinder(meta=True)
    calls = {}
    for rid, _rec, read, _org, _rev in reads:
        calls[rid] = [(g.begin - 1, g.end, g.strand) for g in gf.find_genes(read.encode())]
    return calls, time.process_time() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--genome", default="cdiphtheriae", help="a set of eval_genes.py")
    ap.add_argument("--model", help="model directory (default: the embedded model)")
    ap.add_argument("--cdspred", default="target/release/cdspred")
    ap.add_argument("--fgs", default=shutil.which("FragGeneScanRs") or "FragGeneScanRs")
    ap.add_argument("--no-fgs", action="store_true")
    ap.add_argument("--profile", default="long6", choices=sorted(PROFILES),
                    help="error profile (cdspred's names; the hint --errors NAME)")
    ap.add_argument("--pbsim", type=float, metavar="ACCURACY",
                    help="reads from pbsim's CLR model with this mean read accuracy (e.g. 0.95) "
                         "instead of our own mutator; --profile then only names the hint")
    ap.add_argument("--also-errors", default="", metavar="P1,P2",
                    help="also run cdspred told these profiles (comma-separated names)")
    ap.add_argument("--reads", type=int, default=60)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    sub, ins, dele = PROFILES[a.profile]
    genome, truth, table, what = eg.load_set(a.genome)
    if a.pbsim:
        reads = pbsim_reads(genome, a.reads, a.pbsim, a.seed)
    else:
        reads = simulate(genome, a.reads, sub, ins, dele, a.seed)
    masks = strand_masks(genome, truth)
    with tempfile.NamedTemporaryFile("w", suffix=".fasta", delete=False) as f:
        for rid, _r, read, _o, _v in reads:
            f.write(f">{rid}\n{read}\n")
        fasta = f.name
    bases = sum(len(r[2]) for r in reads)
    if a.pbsim:
        errs = f"pbsim CLR, mean accuracy {a.pbsim}"
    else:
        errs = f"errors {a.profile} ({sub:.0%} substitutions, {ins:.0%} insertions, {dele:.0%} deletions)"
    print(f"{a.genome} ({what}), {len(reads)} reads, {bases} nt, {errs}")
    runs = [("cdspred", lambda: cdspred(a.cdspred, a.model, fasta, table, [])),
            (f"cdspred --errors {a.profile}", lambda: cdspred(a.cdspred, a.model, fasta, table, ["--errors", a.profile]))]
    for p in filter(None, a.also_errors.split(",")):
        runs.append((f"cdspred --errors {p}", lambda p=p: cdspred(a.cdspred, a.model, fasta, table, ["--errors", p])))
    if not a.no_fgs:
        for train in ("454_30", "454_10", "illumina_10"):
            runs.append((f"FragGeneScanRs -w 0 -t {train}", lambda t=train: fgs(a.fgs, fasta, t, False)))
        runs.append(("FragGeneScanRs -w 1 -t complete", lambda: fgs(a.fgs, fasta, "complete", True)))
    runs.append(("pyrodigal meta", lambda: pyrodigal_meta(reads, table)))
    for name, run in runs:
        calls, cpu = run()
        sens, prec = score(reads, masks, calls)
        print(f"| {name} | {sens:.3f} | {prec:.3f} | {cpu:.1f} |", flush=True)
    os.unlink(fasta)


if __name__ == "__main__":
    main()
