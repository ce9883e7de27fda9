#!/usr/bin/env python3
"""Samples a labelled read set in the format of shared/data/eval (reads FASTA.gz + truth
TSV.gz: id genome table length sense gene strand frame gc) from a genome FASTA + GFF3,
for leave-one-genome-out checks (docs/experiments.md, "Mtb holdout"): 2,000 coding reads
(wholly inside one complete CDS) and 2,000 non-coding reads (touching no annotated
feature) per length 60/100/150/300, random orientation. Table 11 only.

usage: scripts/sample_eval_reads.py NAME FASTA.gz GFF.gz OUTPREFIX [SEED]
e.g.   scripts/sample_eval_reads.py mtb ../shared/data/genomes/train/Mtuberculosis_H37Rv_NC_000962.fna.gz \
           ../shared/data/genomes/train/Mtuberculosis_H37Rv_NC_000962.gff3.gz /tmp/mtb
       cdspred eval --model DIR --truth /tmp/mtb.tsv.gz --reads /tmp/mtb.fasta.gz
Sampled the same way from the dev Kutzneria genome, the labels of every coding read of
shared/data/eval/kutzneria agree (strand and frame).
"""
import gzip, random, sys
comp = str.maketrans('ACGTN', 'TGCAN')
rc = lambda s: s.translate(comp)[::-1]
def fasta(f):
    s = {}; k = None
    for l in gzip.open(f, 'rt'):
        l = l.strip()
        if not l: continue
        if l.startswith('>'): k = l[1:].split()[0]; s[k] = []
        elif k: s[k].append(l)
    return {k: ''.join(v).upper() for k, v in s.items()}
def gff(f):
    cds, block = [], []
    for l in gzip.open(f, 'rt'):
        if l.startswith('##FASTA'): break
        if l.startswith('#') or not l.strip(): continue
        x = l.rstrip('\n').split('\t')
        if len(x) < 9: continue
        a, b = int(x[3]), int(x[4])
        block.append((x[0], a, b))
        if x[2] == 'CDS' and 'pseudo' not in x[8] and 'partial=1' not in x[8] and 'partial=01' not in x[8] and 'partial=10' not in x[8]:
            cds.append((x[0], a, b, x[6]))
    return cds, block
def label(G, cds, rec, x, L):
    for (r, a, b, st) in cds:
        if r == rec and a - 1 <= x and x + L <= b:
            if st == '+': ph = (x - (a - 1)) % 3
            else: ph = ((b - 1) - (x + L - 1)) % 3
            return st, (3 - ph) % 3
    return None
def main():
    name, fa, gf, out = sys.argv[1:5]
    seed = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    rng = random.Random(seed)
    G = fasta(fa); cds, block = gff(gf)
    recs = list(G)
    cov = {r: bytearray(len(G[r])) for r in recs}
    for (r, a, b) in block:
        if r in cov: cov[r][a-1:b] = b'\x01' * (b - a + 1)
    tsv = gzip.open(out + '.tsv.gz', 'wt'); fq = gzip.open(out + '.fasta.gz', 'wt')
    tsv.write('id\tgenome\ttable\tlength\tsense\tgene\tstrand\tframe\tgc\n')
    n = 0
    for L in (60, 100, 150, 300):
        # coding: pick a CDS (length-weighted), a position wholly inside
        got = 0; tries = 0
        longc = [c for c in cds if c[2] - c[1] + 1 >= L]
        wts = [c[2] - c[1] + 2 - L for c in longc]
        while got < 2000 and tries < 100000:
            tries += 1
            (r, a, b, st) = rng.choices(longc, wts)[0]
            x = rng.randint(a - 1, b - L)
            s = G[r][x:x + L]
            if 'N' in s: continue
            lab = label(G, [(r, a, b, st)], r, x, L)
            sense = s if st == '+' else rc(s)
            flip = rng.random() < 0.5
            read = rc(sense) if flip else sense
            strand = '-' if flip else '+'
            gc = sum(c in 'GC' for c in read) / L
            i = f'{name}_L{L}_{n}'; n += 1
            fq.write(f'>{i}\n{read}\n')
            tsv.write(f'{i}\t{name}\t11\t{L}\t{int(not flip)}\t1\t{strand}\t{lab[1]}\t{gc:.3f}\n')
            got += 1
        got = 0; tries = 0
        while got < 2000 and tries < 2000000:
            tries += 1
            r = rng.choice(recs)
            if len(G[r]) < L: continue
            x = rng.randint(0, len(G[r]) - L)
            if any(cov[r][x:x + L]): continue
            s = G[r][x:x + L]
            if 'N' in s: continue
            read = rc(s) if rng.random() < 0.5 else s
            gc = sum(c in 'GC' for c in read) / L
            i = f'{name}_L{L}_{n}'; n += 1
            fq.write(f'>{i}\n{read}\n')
            tsv.write(f'{i}\t{name}\t11\t{L}\t0\t0\t.\t.\t{gc:.3f}\n')
            got += 1
    tsv.close(); fq.close()
if __name__ == '__main__':
    main()
