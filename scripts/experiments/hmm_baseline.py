#!/usr/bin/env python3
"""A classical baseline for reads with indels (docs/experiments.md, 2026-12-01).

A GeneMark-style model: per-codon-position 5th-order Markov chains counted from the CDS
of six training genomes (their GFFs), a homogeneous 5th-order chain from their intergenic
DNA, and a frame-shifting HMM (insertion / deletion probability EPS each per base) run
by the forward algorithm or Viterbi on both strands of each read. The read's score is
the log-likelihood ratio coding (either strand) vs non-coding; the figures are the best
MCC over all thresholds (optimistic for the baseline) and the AUC, on the dev reads of
C. diphtheriae mutated by scripts/eval_errors.sh (work/eval-errors/PROFILE/).

usage: scripts/experiments/hmm_baseline.py [LENGTH] [PROFILES]   (needs NumPy)
"""
import csv
import gzip
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
TRAIN = ROOT / "../shared/data/genomes/train"
GENOMES = [
    ("Streptococcus_suis_SC84.fna.gz", "Streptococcus_suis_SC84.pyrodigal_tt11.gff.gz"),
    ("Mtuberculosis_H37Rv_NC_000962.fna.gz", "Mtuberculosis_H37Rv_NC_000962.gff3.gz"),
    ("Paeruginosa_GN04821_CP147557.fna.gz", "Paeruginosa_GN04821_CP147557.pyrodigal_tt11.gff.gz"),
    ("Acidilobus_saccharovorans_CP001742.fna.gz", "Acidilobus_saccharovorans_CP001742.pyrodigal_tt11.gff.gz"),
    ("Lachnospiraceae_MAG_CAJTEK01.fna.gz", "Lachnospiraceae_MAG_CAJTEK01.pyrodigal_tt11.gff.gz"),
    ("Bamyloliquefaciens_OFHT01000022.fna.gz", "Bamyloliquefaciens_OFHT01000022.pyrodigal_tt11.gff.gz"),
]
K = 6
ENC = np.full(256, 4, np.uint8)
for i, c in enumerate(b"ACGT"):
    ENC[c] = i


def fasta(p):
    op = gzip.open if str(p).endswith(".gz") else open
    d, k = {}, None
    for line in op(p, "rt"):
        line = line.strip()
        if line.startswith(">"):
            k = line[1:].split()[0]
            d[k] = []
        elif k is not None:
            d[k].append(line.upper())
    return {k: "".join(v) for k, v in d.items()}


def rcs(a):
    return np.where(a[::-1] < 4, 3 - a[::-1], 4)


def kmers(a):
    """6-mer codes ending at positions K-1..n-1 (-1 where an N is inside)."""
    n = len(a)
    if n < K:
        return np.zeros(0, np.int64)
    v = np.zeros(n - K + 1, np.int64)
    bad = np.zeros(n - K + 1, bool)
    for j in range(K):
        x = a[j : n - K + 1 + j].astype(np.int64)
        bad |= x > 3
        v = v * 4 + np.minimum(x, 3)
    v[bad] = -1
    return v


def count_tables():
    cod, nc = np.zeros((3, 4**K)), np.zeros(4**K)
    for fa, gff in GENOMES:
        seqs = {k: ENC[np.frombuffer(v.encode(), np.uint8)] for k, v in fasta(TRAIN / fa).items()}
        mask = {k: np.zeros(len(v), bool) for k, v in seqs.items()}
        for line in gzip.open(TRAIN / gff, "rt"):
            f = line.rstrip("\n").split("\t")
            if line.startswith("#") or len(f) < 9 or f[2] != "CDS" or f[0] not in seqs:
                continue
            s, e = int(f[3]) - 1, int(f[4])
            mask[f[0]][s:e] = True
            if "partial=" in f[8] and not re.search(r"partial=00", f[8]):
                continue
            a = seqs[f[0]][s:e]
            if f[6] == "-":
                a = rcs(a)
            km = kmers(a)
            phase = (np.arange(len(km)) + K - 1) % 3
            for p in range(3):
                np.add.at(cod[p], km[(km >= 0) & (phase == p)], 1)
        for k, a in seqs.items():
            idx = np.flatnonzero(~mask[k])
            if idx.size == 0:
                continue
            br = np.flatnonzero(np.diff(idx) > 1)
            for s, e in zip(np.r_[idx[0], idx[br + 1]], np.r_[idx[br], idx[-1]] + 1):
                if e - s >= 30:
                    for b in (a[s:e], rcs(a[s:e])):
                        km = kmers(b)
                        np.add.at(nc, km[km >= 0], 1)
    return cod, nc


def condlog(c):
    c = c.reshape(-1, 4) + 0.5
    return np.log(c / c.sum(1, keepdims=True)).reshape(-1)


def score(seqs, lc_tab, lb_tab, eps, mode):
    """Log-likelihood ratio coding vs non-coding of each read, per strand [n, 2]."""
    n, L = len(seqs), max(len(s) for s in seqs)
    lens = np.array([len(s) for s in seqs])
    A = np.full((n, L), 4, np.uint8)
    for r, s in enumerate(seqs):
        A[r, : len(s)] = ENC[np.frombuffer(s.encode(), np.uint8)]
    out = []
    for strand in (0, 1):
        if strand == 0:
            X = A
        else:
            # reverse complement of each read, left-aligned
            X = np.full((n, L), 4, np.uint8)
            for r in range(n):
                X[r, : lens[r]] = rcs(A[r, : lens[r]])
        km = np.zeros((n, L), np.int64)
        bad = np.zeros((n, L), bool)
        for j in range(K):
            back = K - 1 - j
            sh = np.full((n, L), 4, np.uint8)
            sh[:, back:] = X[:, : L - back]
            bad |= sh > 3
            km = km * 4 + np.minimum(sh, 3)
        lc = np.where(bad[:, :, None], 0.0, lc_tab[:, km].transpose(1, 2, 0))
        lb = np.where(bad, 0.0, lb_tab[km])
        lm, li = np.log(1 - 2 * eps), np.log(eps)
        a = np.full((n, 3), -np.log(3.0))  # state: codon position of the next base
        for i in range(L):
            c, b = lc[:, i, :], lb[:, i]
            match = np.roll(a + lm + c, 1, axis=1)  # e -> e+1
            dele = np.roll(a + li + np.roll(c, -1, axis=1), 2, axis=1)  # skip e: e -> e+2
            ins = a + li + b[:, None]  # an extra base: stays at e
            cand = np.stack([match, dele, ins])
            new = np.logaddexp.reduce(cand, 0) if mode == "forward" else cand.max(0)
            a = np.where((i < lens)[:, None], new, a)
        tot = np.logaddexp.reduce(a, 1) if mode == "forward" else a.max(1)
        out.append(tot - lb.sum(1))
    return np.stack(out, 1)


def best_mcc(s, y):
    o = np.argsort(-s)
    tp = np.cumsum(y[o])
    fp = np.cumsum(1 - y[o])
    P, N = y.sum(), len(y) - y.sum()
    fn, tn = P - tp, N - fp
    return ((tp * tn - fp * fn) / np.sqrt(np.maximum((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn), 1))).max()


def auc(s, y):
    r = np.empty(len(s))
    r[np.argsort(s)] = np.arange(len(s))
    P, N = y.sum(), len(y) - y.sum()
    return (r[y == 1].sum() - P * (P - 1) / 2) / (P * N)


def main():
    length = sys.argv[1] if len(sys.argv) > 1 else "300"
    profiles = (sys.argv[2] if len(sys.argv) > 2 else "none,indel1").split(",")
    cod, nc = count_tables()
    lc_tab, lb_tab = np.stack([condlog(cod[p]) for p in range(3)]), condlog(nc)
    print("profile\teps\tdecoder\tbest_mcc\tauc\tstrand_ok")
    for prof in profiles:
        d = ROOT / "work/eval-errors" / prof
        reads = fasta(d / "cdiphtheriae.fasta")
        rows = [r for r in csv.DictReader(open(d / "cdiphtheriae.tsv"), delimiter="\t") if f"_L{length}_" in r["id"]]
        y = np.array([r["gene"] == "1" for r in rows], float)
        minus = np.array([r["strand"] == "-" for r in rows])
        seqs = [reads[r["id"]] for r in rows]
        for eps in (0.001, 0.004):
            for mode in ("forward", "viterbi"):
                sc = score(seqs, lc_tab, lb_tab, eps, mode)
                s = np.logaddexp(sc[:, 0], sc[:, 1])
                strand_ok = ((sc[:, 1] > sc[:, 0]) == minus)[y == 1].mean()
                print(f"{prof}\t{eps}\t{mode}\t{best_mcc(s, y):.3f}\t{auc(s, y):.3f}\t{strand_ok:.3f}", flush=True)


if __name__ == "__main__":
    main()
