"""09_results_elsewhere.py: an aerun run's results in Python, without aerun.

Run examples/09_results_elsewhere.lua first (from the same directory); this
reads checkpoints/results_elsewhere/result.json, which names the newest run's
directory, then
  - metrics.csv with the csv module (a row per epoch),
  - codes.h5 with h5py (the test codes and labels as numpy arrays),
  - checkpoint.h5 with h5py (parameters under /params, PyTorch's names and
    orientation) and with tools/aerun_torch.py, which builds the torch model
    and checks its outputs against those aerun saved (the probe).
    /usr/bin/python3 examples/09_results_elsewhere.py
The command line does the same conversion:
    /usr/bin/python3 tools/aerun_torch.py to-torch CHECKPOINT --check -o model.pt
Needs h5py, numpy and torch (Debian: python3-h5py python3-torch).
docs/guide.md, "Loading results in other tools".
"""
import csv
import json
import os
import sys

import h5py
import numpy as np
import torch

result = json.load(open("checkpoints/results_elsewhere/result.json"))
run_dir = result["run_dir"]
print("run", run_dir, "test_mse", result["test_mse"])

with open(os.path.join(run_dir, "metrics.csv")) as f:
    rows = list(csv.DictReader(f))
losses = [float(r["test_loss"]) for r in rows]
print("test_loss by epoch:", ", ".join("%.5f" % v for v in losses))

with h5py.File(result["codes"], "r") as f:
    codes, labels = f["codes"][()], f["labels"][()]
    print("codes", codes.shape, codes.dtype, "from", f["codes"].attrs["model"])
# the mean code of each digit: the kind of summary another tool takes over from here
means = np.stack([codes[labels == k].mean(0) for k in np.unique(labels)])
print("mean codes per label:", means.shape)

checkpoint = os.path.join(run_dir, "checkpoint.h5")
with h5py.File(checkpoint, "r") as f:
    print("format", f.attrs["format"], "version", f.attrs["format_version"], "epoch", f["train"].attrs["epoch"])
    weight = f["params/encoder/0/weight"][()]   # encoder.0.weight in PyTorch, (out, in)
    print("encoder.0.weight", weight.shape)

# tools/aerun_torch.py (in this checkout's tools/) as a library: the torch model the
# checkpoint describes, then its outputs against those aerun saved with it (the probe)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import aerun_torch  # noqa: E402

model = aerun_torch.load(checkpoint)
diffs = aerun_torch.check(checkpoint, model)
print("torch model", type(model).__name__, "probe: max |torch - aerun| =", max(diffs.values()))
assert max(diffs.values()) <= 1e-5, diffs   # float32 rounding of the same sums, as the tool's --check
with torch.no_grad():
    print("torch model output", tuple(model(torch.rand(4, 784)).shape))
print("result " + json.dumps({"epochs": len(losses), "test_loss_first": losses[0], "test_loss_last": losses[-1],
                              "codes": list(codes.shape), "labels": len(np.unique(labels)),
                              "torch_max_difference": max(diffs.values())}))
