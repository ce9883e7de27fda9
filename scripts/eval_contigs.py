#!/usr/bin/env python3
"""Gene calls on short contigs (an assembly's, a metagenome's): cdspred against pyrodigal
meta, side by side.

Cuts each named set's records into non-overlapping pieces of --size nt (the remainder
of a record is dropped), writes all pieces into one FASTA — several sets together make
a small "metagenome" whose contigs come from genomes of different GC content — and calls
genes on it with cdspred (`predict --format gff3`) and pyrodigal 3.7.1 in meta mode.
Each set's pieces are then scored as `eval_genes.py` scores records: nucleotide
strand+frame sensitivity and precision, stop-exact gene sensitivity. A gene cut by a
piece's end counts on neither side (its bases and its stop), for both tools alike.

Sets are those of eval_genes.py; `mtb` needs --model, a model trained without it
(data/recipes/logo_no_mtb.toml), and is then the only set scored against annotation
no gene finder made (the others: agreement with their pyrodigal labels, which favours
pyrodigal).

Example:
  python scripts/eval_contigs.py --size 3000 cdiphtheriae ssuis paeruginosa acidilobus
  python scripts/eval_contigs.py --size 5000 --model MODEL mtb
Needs: numpy, pyrodigal==3.7.1 (PyPI).
"""

import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import eval_genes as eg  # noqa: E402


def cut(seqs, truth, size, prefix):
    """({piece: seq}, {piece: [cds]}): `size`-nt pieces of every record; genes cut by a
    piece's end become pseudogenes there (counted on neither side)."""
    pieces, ptruth = {}, {}
    for rec, s in seqs.items():
        for k in range(0, len(s) - size + 1, size):
            name = f"{prefix}|{rec}_{k + 1}"
            pieces[name] = s[k:k + size]
            lst = []
            for spans, p5, p3, ps in truth.get(rec, []):
                lo, hi = min(x[0] for x in spans), max(x[1] for x in spans)
                if lo >= k and hi <= k + size:
                    lst.append(([(a - k, b - k, st) for a, b, st in spans], p5, p3, ps))
                elif lo < k + size and hi > k:
                    inside = [(max(a, k) - k, min(b, k + size) - k, st) for a, b, st in spans if a < k + size and b > k]
                    # Its stop still counts on neither side when it lies in the piece.
                    stop_out = spans[-1][1] > k + size if spans[-1][2] > 0 else spans[-1][0] < k
                    lst.append((inside, True, stop_out, True))
            ptruth[name] = lst
    return pieces, ptruth


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sets", nargs="+", help="sets of eval_genes.py, cut and pooled into one file")
    ap.add_argument("--size", type=int, default=3000, help="piece length (nt)")
    ap.add_argument("--model", help="model directory (default: the embedded model)")
    ap.add_argument("--cdspred", default="target/release/cdspred")
    ap.add_argument("--extra", default="", help="more cdspred arguments, space-separated")
    a = ap.parse_args()
    pieces, truth, owner, tables = {}, {}, {}, set()
    for name in a.sets:
        seqs, t, table, what = eg.load_set(name)
        tables.add(table)
        p, pt = cut(seqs, t, a.size, name)
        pieces.update(p)
        truth.update(pt)
        owner.update({k: name for k in p})
        print(f"{name} ({what}): {len(p)} pieces of {a.size} nt")
    if len(tables) != 1:
        raise SystemExit("sets with different genetic codes cannot share a file")
    table = tables.pop()
    with tempfile.NamedTemporaryFile("w", suffix=".fasta", delete=False) as f:
        for k, v in pieces.items():
            f.write(f">{k}\n{v}\n")
        fasta = f.name
    try:
        cd, cd_cpu = eg.cdspred_calls(a.cdspred, a.model, fasta, table, a.extra.split())
    finally:
        os.unlink(fasta)
    py, py_cpu = eg.pyrodigal_calls(pieces, table, True)
    print("| set | tool | nt sens | nt prec | gene sens | gene prec |")
    print("|---|---|---:|---:|---:|---:|")
    for name in a.sets:
        mine = {k: v for k, v in pieces.items() if owner[k] == name}
        for tool, calls, own_mask in (("cdspred", cd, True), ("pyrodigal meta", py, False)):
            r = eg.score(mine, truth, calls, own_mask)
            print(f"| {name} | {tool} | {r['nt_sens']:.3f} | {r['nt_prec']:.3f} | "
                  f"{r['gene_sens']:.3f} | {r['gene_prec']:.3f} |")
    print(f"CPU seconds (all pieces): cdspred {cd_cpu:.2f}, pyrodigal meta {py_cpu:.2f}")


if __name__ == "__main__":
    main()
