#!/usr/bin/env python3
"""Genome-specific statistics for reads with indels (docs/experiments.md, 2026-12-01).

Builds on hmm_baseline.py (GeneMark-style 5th-order chains per codon position, a
non-coding chain, a frame-shifting HMM scored by the forward algorithm; score = log-
likelihood ratio coding on either strand vs non-coding). Three ways to get the chains:

- generic: counted from six training genomes (hmm_baseline.py's figures);
- oracle:  counted from the read set's own genome and its annotation (an upper bound:
           what a model that knew the sample's genome could do; never a shipped model);
- self:    counted from unlabelled reads of the sample itself, as a predictor could at
           run time: cdspred's confident calls (coding_prob >= 0.9 with its strand, <= 0.1
           non-coding) are the pseudo-labels, the generic chains' Viterbi path through each
           coding read gives every base its codon position (indels included), and the
           generic chains are the prior (PRIOR pseudo-counts). The sample is either the
           labelled read set itself (`--pool eval`: 16,000 reads, half of them non-coding)
           or a simulated run (`--pool run`: --run-reads, default 30,000, reads of 300 nt from uniform positions
           of the same genome, both strands, 0.4% insertions, 0.4% deletions, 0.2%
           substitutions: what one sequencing run of that genome looks like).

For each setting it prints best MCC over all thresholds, AUC and MCC at log-likelihood
ratio 0 (no tuned threshold) on the dev reads mutated by scripts/eval_errors.sh
(work/eval-errors/PROFILE/), and for `self` also the network's own MCC and the best
fixed mix `logit(coding_prob) + b * LLR`.

usage: scripts/experiments/selftrain_hmm.py oracle|self [--pool eval|run] [--length 300]
       [--profiles indel1,mixed4,none]     (needs NumPy and target/release/cdspred)
"""
import argparse
import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import hmm_baseline as H  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
GENOMES = ROOT / "../shared/data/genomes"
BIN = ROOT / "target/release/cdspred"
DEV = {
    "cdiphtheriae": (11, "dev/Corynebacterium_diphtheriae_NCTC11397_LN831026", "pyrodigal_tt11"),
    "mhyorhinis": (4, "altcode/Mycoplasma_hyorhinis_HUB-1_CP002170", "pyrodigal_tt4"),
}
EPS = 0.002
PRIOR = 3e5
K = H.K


def logs(cod, nc):
    return np.stack([H.condlog(cod[p]) for p in range(3)]), H.condlog(nc)


def genome_tables(genome):
    """Chains counted from one genome and its annotation (hmm_baseline's counting)."""
    path = Path(DEV[genome][1])
    H.TRAIN = GENOMES / path.parent
    H.GENOMES = [(path.name + ".fna.gz", f"{path.name}.{DEV[genome][2]}.gff.gz")]
    return H.count_tables()


def codes(s):
    return H.ENC[np.frombuffer(s.encode(), np.uint8)]


def simulate_run(genome, n=30000, length=300, seed=7, rates=(0.004, 0.002, 0.004)):
    """Reads from uniform positions of both strands with (deletion, substitution,
    insertion) rates per base (default indel1-like)."""
    rng = np.random.default_rng(seed)
    s = "".join(H.fasta(GENOMES / (DEV[genome][1] + ".fna.gz")).values())
    comp = str.maketrans("ACGT", "TGCA")
    dele, sub, ins = rates
    reads = {}
    for i in range(n):
        st = rng.integers(0, len(s) - length - 20)
        r = s[st : st + length + 20]
        if rng.random() < 0.5:
            r = r.translate(comp)[::-1]
        out = []
        for c in r:
            u = rng.random()
            if u < dele:
                continue  # deletion
            if u < dele + sub and c in "ACGT":
                c = rng.choice([x for x in "ACGT" if x != c])
            out.append(c)
            if rng.random() < ins:
                out.append("ACGT"[rng.integers(4)])  # insertion
        reads[f"run{i}"] = "".join(out)[:length]
    return reads


def cdspred_calls(reads, table):
    fa = "".join(f">{k}\n{v}\n" for k, v in reads.items())
    out = subprocess.run(
        [str(BIN), "predict", "-q", "--format", "jsonl", "--table", str(table), "-"],
        input=fa, capture_output=True, text=True, check=True,
    ).stdout
    return {r["id"]: r for r in map(json.loads, out.splitlines())}


def viterbi_phases(seqs, lc_tab, lb_tab):
    """Codon position of every base on the Viterbi path (-1: an inserted base)."""
    n, L = len(seqs), max(len(a) for a in seqs)
    lens = np.array([len(a) for a in seqs])
    X = np.full((n, L), 4, np.uint8)
    for r, a in enumerate(seqs):
        X[r, : len(a)] = a
    km, bad = np.zeros((n, L), np.int64), np.zeros((n, L), bool)
    for j in range(K):
        back = K - 1 - j
        sh = np.full((n, L), 4, np.uint8)
        sh[:, back:] = X[:, : L - back]
        bad |= sh > 3
        km = km * 4 + np.minimum(sh, 3)
    lc = np.where(bad[:, :, None], 0.0, lc_tab[:, km].transpose(1, 2, 0))
    lb = np.where(bad, 0.0, lb_tab[km])
    lm, li = np.log(1 - 2 * EPS), np.log(EPS)
    a = np.full((n, 3), -np.log(3.0))
    bp = np.zeros((n, L, 3), np.int8)
    for i in range(L):
        c, b = lc[:, i, :], lb[:, i]
        cand = np.stack([
            np.roll(a + lm + c, 1, axis=1),  # match
            np.roll(a + li + np.roll(c, -1, axis=1), 2, axis=1),  # deletion
            a + li + b[:, None],  # insertion
        ])
        live = (i < lens)[:, None]
        bp[:, i, :] = np.where(live, cand.argmax(0), 0)
        a = np.where(live, cand.max(0), a)
    out = []
    for r, s in enumerate(a.argmax(1)):
        ph = np.full(lens[r], -1, np.int8)
        for i in range(lens[r] - 1, -1, -1):
            k = bp[r, i, s]
            if k < 2:
                ph[i] = (s - 1) % 3
                s = (s - 1 - k) % 3
        out.append(ph)
    return out


def count_sample(reads, calls, lc, lb):
    """Chains counted from a sample's confident calls (see the module docs)."""
    cod, nc = np.zeros((3, 4**K)), np.zeros(4**K)
    sense = []
    for k, a in reads.items():
        c = calls[k]
        if len(a) < 100:
            continue
        if c["coding_prob"] >= 0.9:
            sense.append(a if c["strand"] == "+" else H.rcs(a))
        elif c["coding_prob"] <= 0.1:
            for b in (a, H.rcs(a)):
                km = H.kmers(b)
                np.add.at(nc, km[km >= 0], 1)
    for a, ph in zip(sense, viterbi_phases(sense, lc, lb)):
        km = H.kmers(a)
        if len(km) == 0:
            continue
        end = ph[K - 1 :]
        ok = (km >= 0) & (end >= 0)
        for j in range(1, K):  # no indel inside the k-mer
            prev = ph[K - 1 - j : len(ph) - j]
            ok &= (prev >= 0) & ((end - prev) % 3 == j % 3)
        for p in range(3):
            np.add.at(cod[p], km[ok & (end == p)], 1)
    return cod, nc, len(sense)


def mcc_at(s, y, t=0.0):
    pr = s > t
    tp, tn = (pr & (y == 1)).sum(), (~pr & (y == 0)).sum()
    fp, fn = (pr & (y == 0)).sum(), (~pr & (y == 1)).sum()
    return (tp * tn - fp * fn) / np.sqrt(max((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn), 1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["oracle", "self"])
    ap.add_argument("--pool", choices=["eval", "run"], default="run")
    ap.add_argument("--length", default="300")
    ap.add_argument("--run-reads", type=int, default=30000)
    ap.add_argument("--profiles", default="indel1,mixed4,none")
    a = ap.parse_args()
    gen_cod, gen_nc = H.count_tables() if a.mode == "self" else (None, None)
    learnt = {}
    print("genome\tprofile\tlength\tchains\tbest_mcc\tauc\tmcc_at_0\tnetwork_mcc\tbest_mix")
    for genome, (table, _, _) in DEV.items():
        if a.mode == "oracle":
            lc, lb = logs(*genome_tables(genome))
            label = "oracle"
        for prof in a.profiles.split(","):
            d = ROOT / "work/eval-errors" / prof
            reads = H.fasta(d / f"{genome}.fasta")
            rows = [r for r in csv.DictReader(open(d / f"{genome}.tsv"), delimiter="\t")
                    if f"_L{a.length}_" in r["id"]]
            y = np.array([r["gene"] == "1" for r in rows], float)
            net, mix = "", ""
            if a.mode == "self":
                key = (genome, prof if a.pool == "eval" else "run")
                if key not in learnt:
                    pool = reads if a.pool == "eval" else simulate_run(genome, a.run_reads)
                    calls = cdspred_calls(pool, table)
                    cod, nc, n = count_sample({k: codes(v) for k, v in pool.items()}, calls,
                                              *logs(gen_cod, gen_nc))
                    learnt[key] = (logs(cod + PRIOR * gen_cod / gen_cod.sum(1, keepdims=True),
                                        nc + PRIOR * gen_nc / gen_nc.sum()), n)
                (lc, lb), n = learnt[key]
                label = f"self ({a.pool}, {n} coding reads)"
                calls = cdspred_calls(reads, table)  # the whole set, as eval_errors.sh
                cp = np.clip([calls[r["id"]]["coding_prob"] for r in rows], 1e-4, 1 - 1e-4)
                logit = np.log(cp / (1 - cp))
            sc = H.score([reads[r["id"]] for r in rows], lc, lb, EPS, "forward")
            s = np.logaddexp(sc[:, 0], sc[:, 1])
            if a.mode == "self":
                net = f"{mcc_at(logit, y):.3f}"
                mix = max((mcc_at(logit + b * s, y), b) for b in (0.05, 0.1, 0.2, 0.4))
                mix = f"{mix[0]:.3f} (b={mix[1]})"
            print(f"{genome}\t{prof}\t{a.length}\t{label}\t{H.best_mcc(s, y):.3f}\t"
                  f"{H.auc(s, y):.3f}\t{mcc_at(s, y):.3f}\t{net}\t{mix}", flush=True)


if __name__ == "__main__":
    main()
