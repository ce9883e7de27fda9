#!/usr/bin/env python3
"""Runs an exported cdspred ONNX model in onnxruntime on prepared inputs and compares
its probabilities with cdspred's own (crates/cli/tests/onnx.rs writes both).
Usage: onnx_parity.py MODEL.onnx DATA.json   -> prints the max abs difference; exit 1 if > tol."""
import json
import sys

import numpy as np
import onnxruntime as ort

model, data = sys.argv[1], sys.argv[2]
d = json.load(open(data))
n, l = d["n"], d["l"]
ids = np.array(d["ids"], dtype=np.int64).reshape(n, 6, l)
counts = np.array(d["counts"], dtype=np.float32).reshape(n, 6)
dense = np.array(d["dense"], dtype=np.float32).reshape(n, 6, -1)  # DENSE inputs per frame
want = np.array(d["probs"], dtype=np.float32).reshape(n, 7)
sess = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
got = sess.run(["probs"], {"ids": ids, "counts": counts, "dense": dense})[0]
diff = float(np.max(np.abs(got - want)))
print(f"onnxruntime {ort.__version__}: {n} reads, max |p_onnx - p_cdspred| = {diff:.3g}")
sys.exit(0 if diff <= d["tolerance"] else 1)
