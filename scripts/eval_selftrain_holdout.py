#!/usr/bin/env python3
"""Self-training (`--self-train`) on genomes the networks never saw, within a run.

scripts/eval_selftrain.py measures self-training on the two dev genomes; this measures
it on four more, each held out of training: the leave-genomes-out fold models of
scripts/calibrate_holdout.sh (fold1 never saw S. suis and Acidilobus, fold2
P. aeruginosa and the Lachnospiraceae MAG), with chain counts from their own training
data (`cdspred model chains`, done here when missing) and the default model's
calibration. For each genome and profile one FASTA: a simulated run of 30,000
unlabelled 300-nt reads from uniform positions of the genome (both strands, seed 7,
the profile's rates as in eval_selftrain.py) followed by the genome's labelled reads
of scripts/calibrate_errors.sh (work/calib/PROFILE/GENOME, table 11); predicted with
`--self-train off` and by default, the labelled reads scored with
../shared/eval/score.py: gene MCC and strand+frame accuracy per read length.

usage: scripts/calibrate_holdout.sh /tmp/scratch-model  (the folds; ~10 min on 2 cores;
       it also calibrates the model it is given, so give it a copy)
       scripts/calibrate_errors.sh                     (the labelled reads)
       scripts/eval_selftrain_holdout.py [PROFILES]    (default indel1,mixed4; NumPy)
"""
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "experiments"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import selftrain_hmm as S  # noqa: E402
from eval_selftrain import within_run  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TRAIN = {
    "ssuis": ("train/Streptococcus_suis_SC84", "fold1"),
    "acid": ("train/Acidilobus_saccharovorans_CP001742", "fold1"),
    "paer": ("train/Paeruginosa_GN04821_CP147557", "fold2"),
    "lach": ("train/Lachnospiraceae_MAG_CAJTEK01", "fold2"),
}


def fold_model(fold):
    """The fold's model directory, given chain counts and the default's calibration."""
    d = ROOT / "work/calibration/models" / fold
    conf = json.loads((d / "config.json").read_text())
    default = json.loads((ROOT / "models/default/config.json").read_text())
    if conf.get("calibration") != default["calibration"]:
        conf["calibration"] = default["calibration"]
        (d / "config.json").write_text(json.dumps(conf, indent=2) + "\n")
    with open(d / "model.safetensors", "rb") as f:
        header = f.read(8 + int.from_bytes(f.read(8), "little"))
    if b"chains.coding" not in header:
        subprocess.run([str(S.BIN), "-q", "model", "chains", str(d), "--data",
                        str(ROOT / f"work/calibration-{fold}/train/train.ds")], check=True)
    return d


def main():
    profiles = (sys.argv[1] if len(sys.argv) > 1 else "indel1,mixed4").split(",")
    for g, (path, _) in TRAIN.items():
        S.DEV[g] = (11, path, "")
    print("| profile | genome (model) | length | gene MCC: network / self-trained | strand+frame: network / self-trained |")
    print("|---|---|---:|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for prof in profiles:
            for g, (_, fold) in TRAIN.items():
                model = fold_model(fold)
                labelled = ROOT / "work/calib" / prof / g
                for length, (a, fa_), (b, fb) in within_run(tmp, g, prof, labelled,
                                                            ["--model", str(model)]):
                    print(f"| {prof} | {g} ({fold}) | {length} | {a:.4f} / **{b:.4f}** | {fa_:.3f} / {fb:.3f} |",
                          flush=True)

if __name__ == "__main__":
    main()
