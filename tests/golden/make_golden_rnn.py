#!/usr/bin/python3
"""Writes tests/golden/rnn_golden.lua: PyTorch reference values for aerun's
recurrent layers, nn.LSTM and nn.GRU.

Run by hand from the repository root, with Debian's python3-torch:

    /usr/bin/python3 tests/golden/make_golden_rnn.py

Like make_golden.py (whose Lua writer it uses), it seeds torch and computes
in float32.  Each case is one torch.nn.LSTM or GRU with torch's own init:
its constructor arguments, the state_dict (PyTorch's names), the input x,
the initial state, fixed upstream gradients for output, h_n and c_n (the
loss is (output * g_out).sum() + (h_n * g_h).sum() + (c_n * g_c).sum()), and
what torch computes: output, h_n, c_n and the gradients of x, h0, c0 and
every parameter.  Cases with lengths go through pack_padded_sequence
(enforce_sorted=False) and pad_packed_sequence(total_length=T), so the
output is 0 past each sequence's end, as aerun's is.  tests/rnn_spec.lua
compares aerun against it.
"""

import os
import sys

import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_golden import leaf, write_golden  # noqa: E402

SEED = 20261206
OUT = os.path.join(HERE, "rnn_golden.lua")


def case(name, kind, T, B, I, H, num_layers=1, bidirectional=False, batch_first=False, bias=True,
         lengths=None, state=True):
    cls = nn.LSTM if kind == "LSTM" else nn.GRU
    m = cls(I, H, num_layers=num_layers, bias=bias, batch_first=batch_first, bidirectional=bidirectional)
    D = 2 if bidirectional else 1
    x = leaf(torch.randn(B, T, I) if batch_first else torch.randn(T, B, I))
    h0 = leaf(torch.randn(D * num_layers, B, H))
    c0 = leaf(torch.randn(D * num_layers, B, H))
    hx = (h0, c0) if kind == "LSTM" else h0
    if lengths is not None:
        packed = pack_padded_sequence(x, torch.tensor(lengths), batch_first=batch_first, enforce_sorted=False)
        out, hn = m(packed, hx if state else None)
        y, _ = pad_packed_sequence(out, batch_first=batch_first, total_length=T)
    else:
        y, hn = m(x, hx if state else None)
    h_n, c_n = hn if kind == "LSTM" else (hn, None)
    g_out, g_h = torch.randn(*y.shape), torch.randn(*h_n.shape)
    loss = (y * g_out).sum() + (h_n * g_h).sum()
    c = {
        "name": name, "kind": kind, "input_size": I, "hidden_size": H, "num_layers": num_layers,
        "bidirectional": bidirectional, "batch_first": batch_first, "bias": bias, "state": state,
        "x": x, "g_out": g_out, "g_h": g_h, "output": y, "h_n": h_n,
    }
    if kind == "LSTM":
        g_c = torch.randn(*c_n.shape)
        loss = loss + (c_n * g_c).sum()
        c.update({"g_c": g_c, "c_n": c_n})
    if lengths is not None:
        c["lengths"] = list(lengths)
    loss.backward()
    c["grad_x"] = x.grad
    if state:
        c["h0"], c["grad_h0"] = h0, h0.grad
        if kind == "LSTM":
            c["c0"], c["grad_c0"] = c0, c0.grad
    c["params"] = {k: v for k, v in m.state_dict().items()}
    c["grads"] = {k: p.grad for k, p in m.named_parameters()}
    c["param_names"] = [k for k, _ in m.named_parameters()]
    return c


def main():
    torch.manual_seed(SEED)
    cases = []
    for kind in ("LSTM", "GRU"):
        k = kind.lower()
        cases += [
            case(k + " one layer", kind, 5, 3, 4, 6),
            case(k + " no initial state, no bias", kind, 4, 2, 3, 5, bias=False, state=False),
            case(k + " two layers", kind, 4, 3, 5, 4, num_layers=2),
            case(k + " bidirectional, batch_first", kind, 5, 2, 3, 4, bidirectional=True, batch_first=True),
            case(k + " two layers bidirectional", kind, 4, 3, 3, 5, num_layers=2, bidirectional=True),
            case(k + " lengths, unsorted, bidirectional", kind, 6, 4, 3, 4, bidirectional=True,
                 lengths=[3, 6, 1, 4]),
            case(k + " lengths, two layers, batch_first", kind, 5, 3, 2, 3, num_layers=2, batch_first=True,
                 lengths=[5, 2, 4]),
        ]
    write_golden(OUT, {"torch_version": torch.__version__, "seed": SEED, "cases": cases})


if __name__ == "__main__":
    main()
