#!/usr/bin/python3
"""Writes tests/golden/numerics_golden.lua: PyTorch's float32 arithmetic, to
the bit, for the elementwise and per-channel kernels that
tests/numerics_spec.lua checks ulp by ulp.

Run by hand, with Debian's python3-torch:

    /usr/bin/python3 tests/golden/make_golden_numerics.py

The cases, all float32 on the CPU, torch.set_num_threads(1) (BatchNorm1d's
N x C statistics are summed per thread in ATen, so one thread fixes the
order aerun follows):
  - dropout: for several p, an input x and upstream g, and for every
    element torch's output and input gradient from a draw in which that
    element was kept (aerun draws its own mask, so only kept elements can
    be compared): x * (1/(1-p) as float) and g * the same;
  - unary ops: forward and backward ((y * g).sum()) of sigmoid, tanh,
    exp, log, sqrt, pow, relu, leaky_relu, elu, softplus, abs, clamp, neg
    over spread-out inputs, extremes included;
  - batch_norm running statistics: one training step of
    torch.nn.functional.batch_norm from given running_mean / running_var,
    for N x C, N x C x L and N x C x H x W inputs of random sizes,
    momentum 0.1, 0.01 and 0.37 (also y and the gradients, which the spec
    reports but does not hold to the bit);
  - losses: MSE and BCE (mean and sum) values and gradients over several
    sizes, BCE also on the output of a sigmoid.
Values are written with '%.9g', which reads back to the same float32.
"""

import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True   # no __pycache__ beside the committed files
from make_golden import leaf, write_golden  # noqa: E402

SEED = 20240604
OUT = os.path.join(HERE, "numerics_golden.lua")


def dropout_cases():
    out = []
    for p in (0.15, 0.45, 0.1, 0.3, 0.5, 0.7, 0.9, 0.123456, 0.01):
        x = torch.randn(41) * 10
        g = torch.randn(41)
        y_kept = torch.zeros(41)
        gx_kept = torch.zeros(41)
        seen = torch.zeros(41, dtype=torch.bool)
        while not bool(seen.all()):
            xl = leaf(x)
            y = F.dropout(xl, p, True)
            (y * g).sum().backward()
            kept = (y != 0) & ~seen
            y_kept[kept] = y.detach()[kept]
            gx_kept[kept] = xl.grad[kept]
            seen |= kept
        out.append({"p": p, "x": x, "g": g, "y": y_kept, "grad_x": gx_kept})
    return out




def unary_cases():
    n = 200
    z = torch.randn(n)
    signed = torch.cat([torch.randn(n) * 3, torch.tensor([0.0, -0.0, 1e-30, -1e-30, 1e-6, -1e-6, 15.0, -15.0,
                                                          30.0, -30.0, 80.0, -80.0, 88.0, -87.0])])
    positive = torch.cat([torch.rand(n) * 10 + 1e-3, torch.exp(torch.randn(n) * 8).clamp(1e-30, 1e30),
                          torch.tensor([1e-30, 1e-10, 1.0, 2.0, 1e10, 1e30])])
    specs = [
        ("sigmoid", [], signed, lambda x: torch.sigmoid(x)),
        ("tanh", [], signed, lambda x: torch.tanh(x)),
        ("exp", [], torch.cat([torch.randn(n) * 5, torch.tensor([0.0, 1.0, -1.0, 80.0, -80.0, 85.0])]),
         lambda x: torch.exp(x)),
        ("log", [], positive, lambda x: torch.log(x)),
        ("sqrt", [], positive, lambda x: torch.sqrt(x)),
        ("pow", [2], signed[:n], lambda x: torch.pow(x, 2)),
        ("pow", [3], signed[:n], lambda x: torch.pow(x, 3)),
        ("pow", [0.5], positive[:n], lambda x: torch.pow(x, 0.5)),
        ("pow", [-1.5], positive[:n], lambda x: torch.pow(x, -1.5)),
        ("relu", [], signed, lambda x: torch.relu(x)),
        ("leaky_relu", [0.01], signed, lambda x: F.leaky_relu(x, 0.01)),
        ("leaky_relu", [0.2], signed, lambda x: F.leaky_relu(x, 0.2)),
        ("elu", [1.0], signed, lambda x: F.elu(x, 1.0)),
        ("elu", [0.7], signed, lambda x: F.elu(x, 0.7)),
        ("softplus", [1, 20], signed, lambda x: F.softplus(x, 1, 20)),
        ("softplus", [2, 5], signed, lambda x: F.softplus(x, 2, 5)),
        ("abs", [], signed, lambda x: torch.abs(x)),
        ("clamp", [-0.5, 0.8], z, lambda x: torch.clamp(x, -0.5, 0.8)),
        ("neg", [], signed, lambda x: torch.neg(x)),
    ]
    out = []
    for name, args, x, f in specs:
        xl = leaf(x)
        y = f(xl)
        g = torch.randn(x.shape)
        (y * g).sum().backward()
        out.append({"op": name, "args": args, "x": x, "g": g, "y": y, "grad_x": xl.grad})
    return out


def bn_cases():
    out = []
    moms = (0.1, 0.01, 0.37)
    for k in range(48):
        n = int(torch.randint(2, 9, ()))
        c = int(torch.randint(1, 6, ()))
        kind = k % 3
        shape = (n, c) if kind == 0 else (n, c, int(torch.randint(2, 9, ()))) if kind == 1 else \
            (n, c, int(torch.randint(1, 5, ())), int(torch.randint(2, 5, ())))
        mom = moms[(k // 3) % 3]
        eps = 1e-5 if k % 2 == 0 else 1e-3
        x = torch.randn(shape) * float(torch.rand(()) * 5 + 0.1) + float(torch.randn(()) * 5)
        w = torch.rand(c) + 0.5
        b = torch.randn(c)
        rm0 = torch.randn(c) * 3
        rv0 = torch.rand(c) + 0.5
        rm, rv = rm0.clone(), rv0.clone()
        xl, wl, bl = leaf(x), leaf(w), leaf(b)
        y = F.batch_norm(xl, rm, rv, wl, bl, True, mom, eps)
        g = torch.randn(shape)
        (y * g).sum().backward()
        out.append({"x": x, "weight": w, "bias": b, "momentum": mom, "eps": eps,
                    "running_mean0": rm0, "running_var0": rv0,
                    "running_mean": rm, "running_var": rv, "g": g, "y": y,
                    "grad_x": xl.grad, "grad_weight": wl.grad, "grad_bias": bl.grad})
    return out


def loss_cases():
    out = []
    for size in (7, 64, 100, 257, 1000):
        a = torch.randn(size)
        t = torch.randn(size)
        z = torch.randn(size) * 3
        p = torch.sigmoid(z)
        tb = torch.rand(size)
        case = {"size": size, "a": a, "t": t, "z": z, "p": p, "tb": tb}
        for red in ("mean", "sum"):
            al = leaf(a)
            v = F.mse_loss(al, t, reduction=red)
            v.backward()
            case["mse_" + red] = v.reshape(1)
            case["mse_" + red + "_grad"] = al.grad
            pl = leaf(p)
            v = F.binary_cross_entropy(pl, tb, reduction=red)
            v.backward()
            case["bce_" + red] = v.reshape(1)
            case["bce_" + red + "_grad"] = pl.grad
            zl = leaf(z)
            v = F.binary_cross_entropy(torch.sigmoid(zl), tb, reduction=red)
            v.backward()
            case["bce_sigmoid_" + red + "_grad"] = zl.grad
        out.append(case)
    return out


def main():
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float32)
    golden = {
        "torch_version": torch.__version__,
        "seed": SEED,
        "dropout": dropout_cases(),
        "unary": unary_cases(),
        "batch_norm": bn_cases(),
        "loss": loss_cases(),
    }
    write_golden(OUT, golden)


if __name__ == "__main__":
    main()
