#!/usr/bin/env python3
"""Self-training (`--self-train`) on reads with indels, as a sequencing run sees it.

A labelled dev read set alone (16,000 reads, half of them non-coding) is a small and odd
sample to self-train on; a sequencing run of one genome holds far more reads, most of
them coding. For each dev genome and profile this writes one FASTA: a simulated run of
30,000 unlabelled 300-nt reads from uniform positions of the genome (both strands, with
that profile's rates: `indel1` 0.4% deletions, 0.2% substitutions, 0.4% insertions;
`mixed4` 1% / 2% / 1%; seed 7) followed by the labelled reads of
scripts/eval_errors.sh (work/eval-errors/PROFILE/GENOME), predicts it with
`--self-train off` (the network alone) and as by default (`--errors auto --self-train
auto`: the run self-trains), and scores the labelled reads with
../shared/eval/score.py: gene MCC and strand+frame accuracy per read length.

usage: scripts/eval_selftrain.py [PROFILES]   (default indel1,mixed4; needs NumPy and
       target/release/cdspred; run scripts/eval_errors.sh first for the labelled sets)
"""
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "experiments"))
import selftrain_hmm as S  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RATES = {"indel1": (0.004, 0.002, 0.004), "mixed4": (0.01, 0.02, 0.01)}


def score(pred, truth):
    out = subprocess.run(
        ["python3", str(ROOT / "../shared/eval/score.py"), "--pred", str(pred), str(truth)],
        capture_output=True, text=True, check=True,
    ).stdout
    rows = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) == 10 and f[1].isdigit():
            rows[int(f[1])] = (float(f[7]), float(f[9]))
    return rows


def within_run(tmp, genome, prof, labelled, args):
    """[(length, (gene MCC, strand+frame) alone, the same self-trained)]: `labelled`'s
    reads (work/…/PROFILE/GENOME without suffix) scored inside a simulated 30,000-read
    run of `genome` with `prof`'s rates, by `cdspred predict ARGS` with `--self-train
    off` and by default."""
    run = S.simulate_run(genome, rates=RATES[prof])
    fa = Path(tmp) / f"{prof}_{genome}.fa"
    with open(fa, "w") as fh:
        fh.writelines(f">{k}\n{v}\n" for k, v in run.items())
        fh.write(labelled.with_suffix(".fasta").read_text())
    res = []
    for extra in (["--self-train", "off"], []):
        pred = Path(tmp) / "pred.tsv"
        subprocess.run([str(S.BIN), "predict", "-q"] + args + [str(fa), "-o", str(pred)] + extra,
                       check=True)
        res.append(score(pred, labelled.with_suffix(".tsv")))
    return [(length, res[0][length], res[1][length]) for length in sorted(res[0])]


def main():
    profiles = (sys.argv[1] if len(sys.argv) > 1 else "indel1,mixed4").split(",")
    print("| profile | genome | length | gene MCC: network / self-trained | strand+frame: network / self-trained |")
    print("|---|---|---:|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for prof in profiles:
            for genome, (table, _, _) in S.DEV.items():
                labelled = ROOT / "work/eval-errors" / prof / genome
                for length, (a, fa_), (b, fb) in within_run(tmp, genome, prof, labelled,
                                                            ["--table", str(table)]):
                    print(f"| {prof} | {genome} | {length} | {a:.4f} / **{b:.4f}** | {fa_:.3f} / {fb:.3f} |",
                          flush=True)


if __name__ == "__main__":
    main()
