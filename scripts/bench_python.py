#!/usr/bin/env python3
"""Reads per second from Python, side by side in one run: cdspred's wheel, pyfgs
(FragGeneScanRs bindings) and pyrodigal in metagenomic mode, on the same reads (the
development read sets' reads of one length, genomes never trained on).

Needs, in one environment: the cdspred wheel (scripts/build_wheel.sh), pyfgs and
pyrodigal from PyPI. Example:
    python -m venv /tmp/bench && /tmp/bench/bin/pip install dist/cdspred-*.whl pyfgs==0.0.3 pyrodigal==3.7.1
    /tmp/bench/bin/python scripts/bench_python.py --length 150 --repeat 3
Prints a Markdown table (median of --repeat runs; one thread unless said)."""

import argparse
import gzip
import os
import statistics
import time
from importlib.metadata import version
from pathlib import Path

import cdspred
import pyfgs
import pyrodigal

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "eval"


def reads(genomes, length):
    out = []
    for g in genomes:
        keep = False
        with gzip.open(SHARED / f"{g}.fasta.gz", "rt") as f:
            for line in f:
                if line.startswith(">"):
                    keep = f"_L{length}_" in line
                elif keep:
                    out.append(line.strip())
    return out


def timed(fn, repeat):
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--length", type=int, default=150)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--genomes", default="cdiphtheriae,mhyorhinis")
    a = ap.parse_args()
    seqs = reads(a.genomes.split(","), a.length)
    raw = [s.encode() for s in seqs]
    cores = len(os.sched_getaffinity(0))
    cds1 = cdspred.Predictor(threads=1, errors="unknown")
    cdsn = cdspred.Predictor(threads=cores, errors="unknown")
    fgs = pyfgs.GeneFinder(pyfgs.Model.Illumina1, whole_genome=False)
    rod = pyrodigal.GeneFinder(meta=True)
    rows = [
        (f"cdspred {cdspred.__version__} `Predictor.predict`", 1, lambda: cds1.predict(seqs)),
        (f"cdspred {cdspred.__version__} `predict_arrays`", 1, lambda: cds1.predict_arrays(seqs)),
        (f"pyfgs {version('pyfgs')} `find_genes` (illumina_1)", 1, lambda: [fgs.find_genes(r) for r in raw]),
        (f"pyrodigal {version('pyrodigal')} meta `find_genes`", 1, lambda: [rod.find_genes(r) for r in raw]),
        (f"cdspred `Predictor(threads={cores}).predict`", cores, lambda: cdsn.predict(seqs)),
        (f"pyfgs `find_genes_batch` (Rayon)", cores, lambda: fgs.find_genes_batch(raw)),
    ]
    print(f"{len(seqs)} reads of {a.length} nt ({a.genomes}); median of {a.repeat} runs; {cores} cores\n")
    print("| tool | threads | seconds | reads/s | vs cdspred (1 thread) |")
    print("|---|---|---|---|---|")
    base = None
    for name, threads, fn in rows:
        fn()  # warm up
        s = timed(fn, a.repeat)
        rate = len(seqs) / s
        base = base or rate
        print(f"| {name} | {threads} | {s:.3f} | {rate:,.0f} | {rate / base:.2f}x |")


if __name__ == "__main__":
    main()
