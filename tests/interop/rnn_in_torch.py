"""tests/rnn_spec.lua's interop check: an aerun LSTM (or GRU) checkpoint
loaded into torch.nn.LSTM (GRU) by tools/aerun_torch.py with
load_state_dict(strict=True), the state_dict keys equal to aerun's
parameter names, and torch's output, h_n and c_n on aerun's inputs (x, the
initial state, and a packed batch of the given lengths) equal to aerun's
within the tolerance.

    rnn_in_torch.py CHECKPOINT.h5 IO.h5 TOL

IO.h5 holds x, h0, (c0,) lengths and what aerun computed: output, h_n,
(c_n,) and output_packed, h_n_packed, (c_n_packed).  Prints OK and the
largest difference, or fails with the first mismatch."""
import os
import sys

import h5py
import numpy as np
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import aerun_torch  # noqa: E402

ckpt, io_path, tol = sys.argv[1], sys.argv[2], float(sys.argv[3])
model = aerun_torch.load(ckpt)  # strict
with h5py.File(ckpt, "r") as f:
    names = []
    f["params"].visititems(lambda n, o: names.append(n.replace("/", ".")) if isinstance(o, h5py.Dataset) else None)
keys = sorted(model.state_dict().keys())
assert keys == sorted(names), f"state_dict keys {keys} != aerun's {sorted(names)}"
lstm = isinstance(model, torch.nn.LSTM)
with h5py.File(io_path, "r") as f:
    io = {k: torch.from_numpy(f[k][()]) for k in f.keys()}
state = (io["h0"], io["c0"]) if lstm else io["h0"]
worst = 0.0


def same(name, got, want):
    global worst
    d = float((got.double() - want.double()).abs().max())
    assert got.shape == want.shape, f"{name}: torch {tuple(got.shape)}, aerun {tuple(want.shape)}"
    assert d <= tol, f"{name}: max |torch - aerun| = {d:.3g} > {tol:g}"
    worst = max(worst, d)


with torch.no_grad():
    y, hn = model(io["x"], state)
    same("output", y, io["output"])
    same("h_n", hn[0] if lstm else hn, io["h_n"])
    if lstm:
        same("c_n", hn[1], io["c_n"])
    T = io["x"].shape[1 if model.batch_first else 0]
    lengths = io["lengths"].long()
    packed = pack_padded_sequence(io["x"], lengths, batch_first=model.batch_first, enforce_sorted=False)
    out, hn = model(packed, state)
    y, _ = pad_packed_sequence(out, batch_first=model.batch_first, total_length=T)
    same("output (lengths)", y, io["output_packed"])
    same("h_n (lengths)", hn[0] if lstm else hn, io["h_n_packed"])
    if lstm:
        same("c_n (lengths)", hn[1], io["c_n_packed"])
print(f"OK keys={len(keys)} max |torch - aerun| = {worst:.3g}")
