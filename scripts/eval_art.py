#!/usr/bin/env python3
"""Reads from an established simulator (ART), scored for cdspred and FragGeneScanRs.

For each development genome (C. diphtheriae, table 11; M. hyorhinis, table 4) this
simulates reads with ART (Debian `art-nextgen-simulation-tools`): `art_illumina` with
the HiSeq 2500 profile at 150 nt and the MiSeq v3 profile at 250 nt, and `art_454`
with the GS FLX Titanium profile (reads of ~400 nt, cut to their first 300 and 150
sequenced bases). Labels come from the simulator's SAM alignment (position, strand,
CIGAR, so indels are tracked): a read is coding when its aligned span lies wholly
inside one complete CDS of the genome's pyrodigal annotation, non-coding when it
touches no CDS; others are left out; `frame` is the offset, in the read as sequenced
and sense-oriented, of its first base that starts a codon of the gene (mod 3).
Up to --n coding and --n non-coding reads per genome and length are kept.

Then cdspred (embedded model, no hint and with the matching --errors hint) and
FragGeneScanRs 1.1.0 with its matching training file run on the same reads, each is
converted to the scorer's TSV, and `shared/eval/score.py` scores them. Prints a
Markdown table of gene MCC and strand+frame accuracy (mean over the two genomes).

usage: scripts/eval_art.py [--n 2000] [--out work/eval-art] [--cdspred BIN] [--fgs BIN]
"""
import argparse, gzip, os, random, re, shutil, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("CDSPRED_SHARED", os.path.join(ROOT, "..", "shared"))
D = os.path.join(SHARED, "data/genomes")
GENOMES = [
    ("cdiphtheriae", 11, f"{D}/dev/Corynebacterium_diphtheriae_NCTC11397_LN831026.fna.gz",
     f"{D}/dev/Corynebacterium_diphtheriae_NCTC11397_LN831026.pyrodigal_tt11.gff.gz", 1),
    ("mhyorhinis", 4, f"{D}/altcode/Mycoplasma_hyorhinis_HUB-1_CP002170.fna.gz",
     f"{D}/altcode/Mycoplasma_hyorhinis_HUB-1_CP002170.pyrodigal_tt4.gff.gz", 3),
]
# (simulator run name, lengths kept, cdspred --errors hint, FragGeneScanRs training file)
RUNS = [
    ("illumina_hs25", [150], "illumina", "illumina_5"),
    ("illumina_msv3", [250], "illumina", "illumina_5"),
    ("454_titanium", [300, 150], "homopolymer1", "454_10"),
]
COMP = str.maketrans("ACGTN", "TGCAN")


def rc(s):
    return s.translate(COMP)[::-1]


def read_fasta(path):
    seqs, cur = {}, None
    with gzip.open(path, "rt") as f:
        for line in f:
            if line.startswith(">"):
                cur = line[1:].split()[0]
                seqs[cur] = []
            else:
                seqs[cur].append(line.strip().upper())
    return {k: "".join(v) for k, v in seqs.items()}


def genome_fna(d, fna_gz):
    """The genome's records and an uncompressed copy of them, D/genome.fna (written once),
    as the simulators read it."""
    genome = read_fasta(fna_gz)
    fna = os.path.join(d, "genome.fna")
    if not os.path.exists(fna):
        with open(fna, "w") as f:
            f.writelines(f">{k}\n{v}\n" for k, v in genome.items())
    return genome, fna


def read_cds(path):
    cds = {}
    with gzip.open(path, "rt") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            p = line.rstrip("\n").split("\t")
            if len(p) < 9 or p[2] != "CDS":
                continue
            complete = "partial=00" in p[8]
            cds.setdefault(p[0], []).append((int(p[3]), int(p[4]), p[6], complete))
    for v in cds.values():
        v.sort()
    return cds


def simulate(name, fna, out, fold):
    prefix = os.path.join(out, name)
    if not os.path.exists(prefix + ".sam"):
        if name == "illumina_hs25":
            cmd = ["art_illumina", "-ss", "HS25", "-l", "150"]
        elif name == "illumina_msv3":
            cmd = ["art_illumina", "-ss", "MSv3", "-l", "250"]
        else:
            cmd = None
        if cmd:
            cmd += ["-i", fna, "-f", str(0.3 * fold), "-o", prefix, "-sam", "-na", "-rs", "1"]
        else:
            cmd = ["art_454", "-s", "-t", "-r", "1", fna, prefix, str(fold)]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return prefix + ".sam"


def ref_positions(pos, cigar, n):
    """1-based reference position of each SEQ base (None for inserted bases)."""
    out, r = [], pos
    for num, op in re.findall(r"(\d+)([MIDNSHP=X])", cigar):
        num = int(num)
        if op in "M=X":
            out.extend(range(r, r + num))
            r += num
        elif op in "IS":
            out.extend([None] * num)
        elif op in "DN":
            r += num
    # ART occasionally writes a CIGAR one base longer than SEQ: such records are skipped.
    return out if len(out) == n else None


def label(refs, rev, cds):
    """(gene, strand, frame) of a read with these reference positions (ref order)."""
    aligned = [r for r in refs if r is not None]
    if not aligned:
        return None
    lo, hi = min(aligned), max(aligned)
    touching = [c for c in cds if c[0] <= hi and c[1] >= lo]
    if not touching:
        return (0, ".", ".")
    inside = [c for c in touching if c[0] <= lo and hi <= c[1] and c[3]]
    if len(inside) != 1 or len(touching) != 1:
        return None
    start, end, strand, _ = inside[0]
    sense_plus = (strand == "+") != rev  # the read as sequenced is the coding strand
    # Sense-oriented read: ref order for a + gene, reversed for a - gene.
    order = refs if strand == "+" else refs[::-1]
    for i, r in enumerate(order):
        if r is None:
            continue
        if (strand == "+" and (r - start) % 3 == 0) or (strand == "-" and (end - r) % 3 == 0):
            return (1, "+" if sense_plus else "-", str(i % 3))
    return None


def reads_from_sam(sam, lengths, cds, genome_name, table, n, seed):
    rng = random.Random(seed)
    per = {L: {0: [], 1: []} for L in lengths}
    with open(sam) as f:
        for line in f:
            if line.startswith("@"):
                continue
            p = line.split("\t")
            flag, chrom, pos, cigar, seq = int(p[1]), p[2], int(p[3]), p[5], p[9]
            rev = bool(flag & 16)
            refs = ref_positions(pos, cigar, len(seq))
            if refs is None:
                continue
            for L in lengths:
                if len(seq) < L:
                    continue
                # Keep the first L sequenced bases: a suffix of SEQ for reverse reads.
                s, r = (seq[-L:], refs[-L:]) if rev else (seq[:L], refs[:L])
                lab = label(r, rev, cds.get(chrom, []))
                if lab is None:
                    continue
                read = rc(s) if rev else s
                per[L][lab[0]].append((p[0], read, lab))
    return pick_rows(per, genome_name, table, n, rng)


def pick_rows(per, genome_name, table, n, rng):
    """Up to `n` coding and `n` non-coding reads per length from `per` ({L: {gene: [(name,
    read, label)]}}), shuffled by `rng`: (id, read, truth row)."""
    rows = []
    for L in per:
        for g in (1, 0):
            pool = per[L][g]
            rng.shuffle(pool)
            for k, (_qname, read, lab) in enumerate(pool[:n]):
                rid = f"{genome_name}_L{L}_{'c' if g else 'n'}{k}"
                gc = (read.count("G") + read.count("C")) / max(1, len(read))
                sense = 1 if lab[1] == "+" else 0
                rows.append((rid, read, f"{rid}\t{genome_name}\t{table}\t{L}\t{sense}\t{g}\t{lab[1]}\t{lab[2]}\t{gc:.4f}"))
    return rows


def run_tools(rows, base, code, hint, fgs_train, cdspred, fgs, scores):
    """Writes `rows` as BASE.fasta and BASE.tsv, runs cdspred (default and told `hint`)
    and FragGeneScanRs with `fgs_train` on them, and adds each one's scores (per genome
    and length) to `scores`."""
    with open(base + ".fasta", "w") as f:
        f.writelines(f">{r[0]}\n{r[1]}\n" for r in rows)
    with open(base + ".tsv", "w") as f:
        f.write("id\tgenome\ttable\tlength\tsense\tgene\tstrand\tframe\tgc\n")
        f.writelines(r[2] + "\n" for r in rows)
    for key, extra in (("cdspred", []), (f"cdspred --errors {hint}", ["--errors", hint])):
        pred = base + (".hint" if extra else "") + ".pred.tsv"
        subprocess.run([cdspred, "predict", "--table", str(code), *extra, base + ".fasta", "-o", pred], check=True)
        scores[key].update(score(pred, base + ".tsv"))
    # FragGeneScanRs (table 11 only: it has no genetic-code option).
    fo = base + ".fgs"
    subprocess.run([fgs, "-s", base + ".fasta", "-o", fo, "-w", "0", "-t", fgs_train],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pred = base + ".fgs.pred.tsv"
    with open(pred, "w") as f:
        subprocess.run([sys.executable, os.path.join(SHARED, "eval/fgs_to_pred.py"), base + ".fasta", fo + ".out"],
                       check=True, stdout=f)
    scores[f"FragGeneScanRs -t {fgs_train}"].update(score(pred, base + ".tsv"))


def table_rows(run, lengths, scores):
    """Markdown rows: per tool and length, mean gene MCC, each genome's, strand+frame."""
    out = []
    for tool, res in scores.items():
        for L in lengths:
            vals = [res[(g[0], L)] for g in GENOMES if (g[0], L) in res]
            if not vals:
                continue
            mcc = sum(v[0] for v in vals) / len(vals)
            fr = sum(v[1] for v in vals) / len(vals)
            per = " / ".join(f"{res[(g[0], L)][0]:.3f}" for g in GENOMES if (g[0], L) in res)
            out.append(f"| {run} | {L} | {tool} | {mcc:.3f} | {per} | {fr:.3f} |")
    return out


def score(pred, truth):
    out = subprocess.run([sys.executable, os.path.join(SHARED, "eval/score.py"), "--pred", pred, truth],
                         check=True, capture_output=True, text=True).stdout
    res = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) == 10 and f[1].isdigit():
            res[(f[0], int(f[1]))] = (float(f[7]), float(f[9]))
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--out", default=os.path.join(ROOT, "work/eval-art"))
    ap.add_argument("--cdspred", default=os.path.join(ROOT, "target/release/cdspred"))
    ap.add_argument("--fgs", default=shutil.which("FragGeneScanRs") or "FragGeneScanRs")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    table = []
    for run, lengths, hint, fgs_train in RUNS:
        scores = {"cdspred": {}, f"cdspred --errors {hint}": {}, f"FragGeneScanRs -t {fgs_train}": {}}
        for gname, code, fna_gz, gff, fold in GENOMES:
            d = os.path.join(a.out, gname)
            os.makedirs(d, exist_ok=True)
            _, fna = genome_fna(d, fna_gz)
            sam = simulate(run, fna, d, fold)
            rows = reads_from_sam(sam, lengths, read_cds(gff), gname, code, a.n, 1)
            run_tools(rows, os.path.join(d, run), code, hint, fgs_train, a.cdspred, a.fgs, scores)
        table.extend(table_rows(run, lengths, scores))
    print("| reads | L | tool | gene MCC (mean) | C. diphtheriae / M. hyorhinis | strand+frame |")
    print("|---|---:|---|---:|---|---:|")
    print("\n".join(table))


if __name__ == "__main__":
    main()
