#!/usr/bin/env python3
"""Gene calls on whole genomes and contigs: cdspred against pyrodigal, side by side.

For each set, cdspred (`predict --format gff3`) and pyrodigal 3.7.1 in single and meta
mode call genes on the same records, and each is scored against annotation no gene
finder of ours made:

- nucleotide strand+frame sensitivity: annotated coding bases called on their strand
  in their codon frame; precision: called coding bases that are annotated in that frame;
- stop-exact gene sensitivity and precision: calls whose stop codon (strand and 3' end)
  is an annotated gene's; and of the complete genes found so by complete calls, the
  share whose start is the annotated one too (start-exact). Genes running off a
  record's end at their 3' end count on neither side; pseudogenes' bases and stops
  count on neither side either.
- CPU seconds of each tool on the set (cdspred: the child process; pyrodigal: this
  process), and bases per CPU-second.

Sets (held out of the default model's training):
  leptospira   the Leptospira kirschneri records the default recipe holds out
               (val_fraction 0.1, by a hash of the record name; NCBI PGAP annotation)
  mtb          M. tuberculosis H37Rv (reference annotation); needs --mtb-model, a model
               trained without it (data/recipes/logo_no_mtb.toml)
  ypestis      Y. pestis plasmid pPCP1 (curated GenBank)
  chloroplast  A. thaliana chloroplast: its CDS without joins
  mhyorhinis   M. hyorhinis, table 4: agreement with its pyrodigal table-4 labels
  cdiphtheriae C. diphtheriae: agreement with its pyrodigal labels
  ssuis, paeruginosa, acidilobus, lachnospiraceae
               training genomes of the default model (agreement with their pyrodigal
               labels): where the decoder's settings are chosen
  leptospira-train
               the Leptospira records the default model trains on (NCBI PGAP): a
               training set scored against annotation no gene finder of ours made

Example:
  python scripts/eval_genes.py --cdspred target/release/cdspred leptospira ypestis
  python scripts/eval_genes.py --missed leptospira   # and which genes cdspred misses
Needs: numpy, pyrodigal==3.7.1 (PyPI).
"""

import argparse
import gzip
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
G = os.path.join(HERE, "..", "..", "shared", "data", "genomes")


def opener(path):
    return gzip.open(path, "rt") if path.endswith(".gz") else open(path)


def fnv(s):
    h = 0xCBF29CE484222325
    for b in s.encode():
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def read_fasta(path):
    recs, name, parts = {}, None, []
    with opener(path) as f:
        for line in f:
            if line.startswith(">"):
                if name is not None:
                    recs[name] = "".join(parts).upper()
                name, parts = line[1:].split()[0], []
            else:
                parts.append(line.strip())
    if name is not None:
        recs[name] = "".join(parts).upper()
    return recs


def parse_location(loc):
    """[(start0, end0, strand)] in sense order, and whether the 5'/3' end is partial.

    >>> parse_location("complement(<10..>99)")
    ([(9, 99, -1)], True, True)
    >>> parse_location("complement(join(1..50,60..>90))")
    ([(59, 90, -1), (0, 50, -1)], True, False)
    >>> parse_location("<1..300")
    ([(0, 300, 1)], True, False)
    """
    strand = -1 if loc.startswith("complement(") else 1
    parts = [(int(a), int(b)) for a, b in re.findall(r"<?(\d+)\.\.>?(\d+)", loc)]
    if not parts:
        m = re.findall(r"(\d+)", loc)
        parts = [(int(m[0]), int(m[0]))]
    left_partial, right_partial = "<" in loc, ">" in loc
    spans = [(a - 1, b, strand) for a, b in parts]
    if strand < 0:
        spans = spans[::-1]
        return spans, right_partial, left_partial
    return spans, left_partial, right_partial


def first_codon(spans, skip):
    """`spans` (sense order) without the `skip` bases before the first full codon at
    the 5' end (GenBank `/codon_start` − 1, GFF3 phase), so that the frames counted
    from the first span's sense start are the gene's (a 5'-partial gene at a record's
    start begins mid-codon)."""
    if skip <= 0:
        return spans
    a, b, strand = spans[0]
    first = (a + skip, b, strand) if strand > 0 else (a, b - skip, strand)
    return [first] + spans[1:]


# GenBank `/product` of each CDS read, by stop key (for --missed).
PRODUCTS = {}


def read_genbank(path):
    """{record: (sequence, [cds])}; a cds is (spans, partial5, partial3, pseudo)."""
    out = {}
    with opener(path) as f:
        text = f.read()
    for rec in text.split("\n//"):
        m = re.search(r"^LOCUS\s+(\S+)", rec, re.M)
        if not m:
            continue
        name = m.group(1)
        seq = ""
        if "\nORIGIN" in rec:
            seq = re.sub(r"[^a-zA-Z]", "", rec.split("\nORIGIN", 1)[1]).upper()
        feats = rec.split("\nFEATURES", 1)[1].split("\nORIGIN", 1)[0] if "\nFEATURES" in rec else ""
        cds = []
        blocks = re.split(r"\n     (?=\S)", feats)
        for b in blocks:
            if not b.startswith("CDS "):
                continue
            lines = b.split("\n")
            loc = lines[0][3:].strip()
            k = 1
            while k < len(lines) and not lines[k].strip().startswith("/"):
                loc += lines[k].strip()
                k += 1
            quals = "\n".join(lines[k:])
            pseudo = "/pseudo" in quals
            spans, p5, p3 = parse_location(loc)
            m = re.search(r"/codon_start=(\d)", quals)
            spans = first_codon(spans, int(m.group(1)) - 1 if m else 0)
            cds.append((spans, p5, p3, pseudo))
            m = re.search(r'/product="([^"]*)"', quals)
            if m:
                PRODUCTS[stop_key(name, spans)] = re.sub(r"\s+", " ", m.group(1))
        out[name] = (seq, cds)
    return out


def read_gff(path, feature="CDS"):
    """{seqid: [cds]} from a GFF3 (single-span CDS)."""
    out = {}
    with opener(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            c = line.rstrip("\n").split("\t")
            if len(c) < 9 or c[2] != feature:
                continue
            strand = 1 if c[6] == "+" else -1
            a = c[8]
            partial = re.search(r"partial=(\d)(\d)", a)
            l, r = (partial.group(1) == "1", partial.group(2) == "1") if partial else (False, False)
            spans = first_codon([(int(c[3]) - 1, int(c[4]), strand)], int(c[7]) if c[7] in ("0", "1", "2") else 0)
            p5, p3 = (l, r) if strand > 0 else (r, l)
            out.setdefault(c[0], []).append((spans, p5, p3, "pseudo" in a.lower()))
    return out


def frame_mask(n, cds_list):
    """uint8 per base: bit (0..2 plus strand, 3..5 minus strand) of the codon frame;
    and a mask of pseudogene bases."""
    m = np.zeros(n, dtype=np.uint8)
    pseudo = np.zeros(n, dtype=bool)
    for spans, _p5, _p3, ps in cds_list:
        if ps:
            for s, e, _ in spans:
                pseudo[s:e] = True
            continue
        off = 0
        for s, e, strand in spans:
            if strand > 0:
                lab = (s - off) % 3
                m[s:e] |= 1 << lab
            else:
                lab = (off + e - 1) % 3
                m[s:e] |= 8 << lab
            off += e - s
    return m, pseudo


def stop_key(rec, spans):
    """A gene's stop key: (record, strand, 3' coordinate)."""
    s, e, strand = spans[-1]
    return (rec, strand, e if strand > 0 else s)


def stops(rec, cds_list):
    """Stop keys of genes with their stop in the record, and those of pseudogenes."""
    keys, pseudo = set(), set()
    for spans, _p5, p3, ps in cds_list:
        if p3:
            continue
        (pseudo if ps else keys).add(stop_key(rec, spans))
    return keys, pseudo


def cdspred_calls(binary, model, fasta, table, extra):
    """{record: [cds]} from cdspred's GFF3 and its CPU seconds; a call's spans are its
    frame path cut at the shifts, in sense order (see pred_mask)."""
    with tempfile.NamedTemporaryFile(suffix=".gff3", delete=False) as t:
        out = t.name
    cmd = [binary, "predict", "--format", "gff3", "--table", str(table), "-q", "-o", out, fasta]
    if model:
        cmd += ["--model", model]
    cmd += extra
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, check=True)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    calls = {}
    with open(out) as f:
        for line in f:
            if line.startswith("#"):
                continue
            c = line.rstrip("\n").split("\t")
            if len(c) < 9 or c[2] != "CDS":
                continue
            s, e, strand = int(c[3]) - 1, int(c[4]), 1 if c[6] == "+" else -1
            a = dict(kv.split("=", 1) for kv in c[8].split(";"))
            pl, pr = (a.get("partial", "00") + "00")[:2]
            shifts = []
            if a.get("frameshifts", ".") != ".":
                shifts = [int(x.split(":")[0]) for x in a["frameshifts"].split(",")]
            # Spans between shift points, in sense order.
            cuts = [s] + shifts + [e]
            spans = [(cuts[k], cuts[k + 1], strand) for k in range(len(cuts) - 1)]
            if strand < 0:
                spans = spans[::-1]
            p5, p3 = (pl == "1", pr == "1") if strand > 0 else (pr == "1", pl == "1")
            calls.setdefault(c[0], []).append((spans, p5, p3, False))
    os.unlink(out)
    return calls, cpu


def pred_mask(n, cds_list):
    """Like frame_mask, but each span of a shifted call sets its own frame: a + span's
    first base starts a codon, a − span's last base is a codon's first (sense) base."""
    m = np.zeros(n, dtype=np.uint8)
    for spans, _p5, _p3, _ps in cds_list:
        for s, e, strand in spans:
            if strand > 0:
                m[s:e] |= 1 << (s % 3)
            else:
                m[s:e] |= 8 << ((e - 1) % 3)
    return m


def pyrodigal_calls(seqs, table, meta):
    import pyrodigal

    t0 = time.process_time()
    gf = pyrodigal.GeneFinder(meta=meta)
    if not meta:
        if sum(len(s) for s in seqs.values()) < 20000:
            return None, 0.0
        gf.train(*[s.encode() for s in seqs.values()], translation_table=table)
    calls = {}
    for name, s in seqs.items():
        genes = gf.find_genes(s.encode())
        lst = []
        for g in genes:
            spans = [(g.begin - 1, g.end, g.strand)]
            p5, p3 = (g.partial_begin, g.partial_end) if g.strand > 0 else (g.partial_end, g.partial_begin)
            lst.append((spans, p5, p3, False))
        calls[name] = lst
    return calls, time.process_time() - t0


def five_ends(rec, cds_list):
    """{stop key: 5' coordinate} of complete genes (a start and a stop in the record)."""
    out = {}
    for spans, p5, p3, ps in cds_list:
        if p3 or p5 or ps:
            continue
        strand = spans[-1][2]
        out[stop_key(rec, spans)] = spans[0][0] if strand > 0 else spans[0][1]
    return out


def score(seqs, truth, calls, use_pred_mask):
    truth_n = pred_n = hit_n = 0
    starts_both = starts_hit = 0
    tkeys, pkeys_all, pseudo_keys = set(), set(), set()
    for rec, s in seqs.items():
        n = len(s)
        tm, pseudo = frame_mask(n, truth.get(rec, []))
        pm = pred_mask(n, calls.get(rec, [])) if use_pred_mask else frame_mask(n, calls.get(rec, []))[0]
        keep = ~pseudo
        t, p = tm[keep], pm[keep]
        truth_n += int((t != 0).sum())
        pred_n += int((p != 0).sum())
        hit_n += int(((t & p) != 0).sum())
        k, ps = stops(rec, truth.get(rec, []))
        tkeys |= k
        pseudo_keys |= ps
        pk, _ = stops(rec, calls.get(rec, []))
        pkeys_all |= pk
        tf, cf = five_ends(rec, truth.get(rec, [])), five_ends(rec, calls.get(rec, []))
        for k, v in tf.items():
            if k in cf:
                starts_both += 1
                starts_hit += cf[k] == v
    pkeys = pkeys_all - pseudo_keys
    return {
        "nt_sens": hit_n / max(truth_n, 1),
        "nt_prec": hit_n / max(pred_n, 1),
        "gene_sens": len(tkeys & pkeys) / max(len(tkeys), 1),
        "gene_prec": len(tkeys & pkeys) / max(len(pkeys), 1),
        "genes_true": len(tkeys),
        "genes_called": len(pkeys),
        # Of the complete genes found stop-exact (by complete calls): start-exact.
        "start_exact": starts_hit / max(starts_both, 1),
    }


def extent(spans):
    """(start0, end0, strand) of a gene's spans: its leftmost and rightmost bases,
    whatever their order (sense order runs right to left on the minus strand).

    >>> extent([(59, 90, -1), (0, 50, -1)])
    (0, 90, -1)
    """
    return min(a for a, _, _ in spans), max(b for _, b, _ in spans), spans[0][2]


def overlap_kind(gene, call):
    """How `call` overlaps `gene` (each (start0, end0, strand)): None, "same strand",
    "inside" (one holds the other, opposite strands), "tail to tail" (their 3' ends
    meet) or "head to head" (their 5' ends meet).

    >>> overlap_kind((100, 400, 1), (400, 700, -1)) is None  # adjacent, not overlapping
    True
    >>> overlap_kind((100, 400, 1), (350, 700, -1)), overlap_kind((350, 700, -1), (100, 400, 1))
    ('tail to tail', 'tail to tail')
    >>> overlap_kind((100, 400, -1), (350, 700, 1)), overlap_kind((350, 700, 1), (100, 400, -1))
    ('head to head', 'head to head')
    >>> overlap_kind((100, 400, 1), (200, 300, -1)), overlap_kind((100, 400, -1), (390, 600, -1))
    ('inside', 'same strand')
    """
    if min(gene[1], call[1]) <= max(gene[0], call[0]):
        return None
    if gene[2] == call[2]:
        return "same strand"
    plus, minus = (gene, call) if gene[2] > 0 else (call, gene)
    if plus[0] >= minus[0] and plus[1] <= minus[1] or minus[0] >= plus[0] and minus[1] <= plus[1]:
        return "inside"
    return "tail to tail" if plus[0] < minus[0] else "head to head"


def missed(name, seqs, truth, calls, peer):
    """Prints the annotated genes (stop in the record, not pseudo) whose stop no call
    has: where, how long, how the calls overlapping them lie, whether `peer` (calls or
    None) found them, and their GenBank product; then counts by overlap and product."""
    kinds, products, rows = {}, {}, 0
    for rec in seqs:
        found, _ = stops(rec, calls.get(rec, []))
        peer_found = stops(rec, peer.get(rec, []))[0] if peer is not None else None
        spans_of = [extent(c[0]) for c in calls.get(rec, [])]
        for spans, _p5, p3, ps in truth.get(rec, []):
            key = stop_key(rec, spans)
            if p3 or ps or key in found:
                continue
            gene = extent(spans)
            strand = gene[2]
            length = sum(b - a for a, b, _ in spans)
            kind = " + ".join(sorted({k for c in spans_of if (k := overlap_kind(gene, c))})) or "no call"
            product = PRODUCTS.get(key, "-")
            kinds[kind] = kinds.get(kind, 0) + 1
            products[product] = products.get(product, 0) + 1
            rows += 1
            peer_col = "" if peer_found is None else ("peer found" if key in peer_found else "peer missed")
            print(f"  missed {rec} {gene[0] + 1}..{gene[1]} {'+' if strand > 0 else '-'} "
                  f"{length} nt  overlaps: {kind}  {peer_col}  {product}")
    print(f"  {name}: {rows} missed; by the calls over them: "
          + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items(), key=lambda x: -x[1])))
    top = sorted(products.items(), key=lambda x: -x[1])[:5]
    print(f"  {name}: commonest products: " + "; ".join(f"{k} {v}" for k, v in top))


def load_set(name):
    """(records {name: seq}, truth {name: [cds]}, table, what the truth is)."""
    if name in ("leptospira", "leptospira-train"):
        gb = read_genbank(os.path.join(G, "train", "Leptospira_kirschneri_H1_AHMY02.gbk.gz"))
        held_out = name == "leptospira"
        held = {k: v for k, v in gb.items() if (fnv(k) % 10000 < 1000) == held_out and v[0]}
        what = "NCBI PGAP" if held_out else "NCBI PGAP (training records)"
        return {k: v[0] for k, v in held.items()}, {k: v[1] for k, v in held.items()}, 11, what
    if name == "mtb":
        seqs = read_fasta(os.path.join(G, "train", "Mtuberculosis_H37Rv_NC_000962.fna.gz"))
        return seqs, read_gff(os.path.join(G, "train", "Mtuberculosis_H37Rv_NC_000962.gff3.gz")), 11, "reference"
    if name in ("ypestis", "chloroplast"):
        f = "Ypestis_pPCP1_NC_005816.gb.gz" if name == "ypestis" else "Athaliana_chloroplast_NC_000932.gb.gz"
        gb = read_genbank(os.path.join(G, "fixtures", f))
        truth = {k: [c for c in v[1] if len(c[0]) == 1] for k, v in gb.items()}
        # Joined CDS (trans-spliced, intron-containing) leave their bases out of both classes.
        for k, v in gb.items():
            truth[k] += [(c[0], c[1], c[2], True) for c in v[1] if len(c[0]) > 1]
        return {k: v[0] for k, v in gb.items()}, truth, 11, "curated GenBank"
    if name == "mhyorhinis":
        seqs = read_fasta(os.path.join(G, "altcode", "Mycoplasma_hyorhinis_HUB-1_CP002170.fna.gz"))
        return seqs, read_gff(os.path.join(G, "altcode", "Mycoplasma_hyorhinis_HUB-1_CP002170.pyrodigal_tt4.gff.gz")), 4, "pyrodigal tt4 (agreement)"
    if name == "cdiphtheriae":
        seqs = read_fasta(os.path.join(G, "dev", "Corynebacterium_diphtheriae_NCTC11397_LN831026.fna.gz"))
        return seqs, read_gff(os.path.join(G, "dev", "Corynebacterium_diphtheriae_NCTC11397_LN831026.pyrodigal_tt11.gff.gz")), 11, "pyrodigal (agreement)"
    train = {
        "ssuis": "Streptococcus_suis_SC84",
        "paeruginosa": "Paeruginosa_GN04821_CP147557",
        "acidilobus": "Acidilobus_saccharovorans_CP001742",
        "lachnospiraceae": "Lachnospiraceae_MAG_CAJTEK01",
    }
    if name in train:
        f = os.path.join(G, "train", train[name])
        return read_fasta(f + ".fna.gz"), read_gff(f + ".pyrodigal_tt11.gff.gz"), 11, "pyrodigal (agreement; a training genome)"
    raise SystemExit(f"unknown set {name!r}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sets", nargs="+")
    ap.add_argument("--cdspred", default="target/release/cdspred")
    ap.add_argument("--model", help="model directory (default: the embedded model)")
    ap.add_argument("--mtb-model", help="model trained without M. tuberculosis (for the mtb set)")
    ap.add_argument("--no-pyrodigal", action="store_true")
    ap.add_argument("--json", help="write the figures here")
    ap.add_argument("--missed", action="store_true",
                    help="list the annotated genes cdspred misses (stop-exact), with how its calls "
                    "overlap them, whether pyrodigal single found them and their GenBank product")
    a = ap.parse_args()
    results = []
    for name in a.sets:
        seqs, truth, table, what = load_set(name)
        with tempfile.NamedTemporaryFile("w", suffix=".fna", delete=False) as t:
            for k, s in seqs.items():
                t.write(f">{k}\n{s}\n")
            fasta = t.name
        model = a.mtb_model if name == "mtb" else a.model
        if name == "mtb" and not model:
            print("mtb: --mtb-model not given; the default model trained on it", file=sys.stderr)
        tools = []
        calls, cpu = cdspred_calls(a.cdspred, model, fasta, table, [])
        tools.append(("cdspred", calls, cpu, True))
        if not a.no_pyrodigal:
            for meta in (False, True):
                c, cpu = pyrodigal_calls(seqs, table, meta)
                if c is not None:
                    tools.append(("pyrodigal " + ("meta" if meta else "single"), c, cpu, False))
        os.unlink(fasta)
        bases = sum(len(s) for s in seqs.values())
        for tool, calls, cpu, shifted in tools:
            r = score(seqs, truth, calls, shifted)
            r.update(set=name, truth=what, tool=tool, records=len(seqs), bases=bases,
                     cpu_s=round(cpu, 3), bases_per_cpu_s=round(bases / cpu) if cpu > 0 else None)
            results.append(r)
            print(f"{name:12} {tool:17} nt sens {r['nt_sens']:.3f} prec {r['nt_prec']:.3f}  "
                  f"stop-exact genes sens {r['gene_sens']:.3f} prec {r['gene_prec']:.3f} "
                  f"({r['genes_true']} true, {r['genes_called']} called)  starts {r['start_exact']:.3f}  "
                  f"{cpu:.2f} CPU s", flush=True)
        if a.missed:
            peer = next((c for tool, c, _, _ in tools if tool == "pyrodigal single"), None)
            missed(name, seqs, truth, tools[0][1], peer)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
