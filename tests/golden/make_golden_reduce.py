#!/usr/bin/python3
"""Writes tests/golden/reduce_golden.lua: PyTorch's max/min along a
dimension (values and indices), argmax/argmin, var and std, for
tests/reduce_spec.lua.

    /usr/bin/python3 tests/golden/make_golden_reduce.py

Indices are written 1-based (PyTorch's + 1), as aerun returns them.  Inputs
hold ties and a NaN-free tensor (NaN is checked by hand in the spec, since
the golden writer refuses non-finite values).
"""

import os

import torch

from make_golden import write_golden, leaf

SEED = 20261205
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reduce_golden.lua")


def extremes():
    # small integers make ties likely: the first occurrence must win
    x = torch.randint(-3, 4, (3, 4, 5)).to(torch.float32)
    cases = []
    for dim in (0, 1, 2, -1):
        for keep in (False, True):
            mx = torch.max(x, dim, keep)
            mn = torch.min(x, dim, keep)
            cases.append({
                "dim": dim + 1 if dim >= 0 else dim, "keepdim": keep,
                "max": mx.values, "max_at": mx.indices + 1,
                "min": mn.values, "min_at": mn.indices + 1,
                "argmax": torch.argmax(x, dim, keep) + 1,
                "argmin": torch.argmin(x, dim, keep) + 1,
            })
    return {"x": x, "argmax": int(torch.argmax(x)) + 1, "argmin": int(torch.argmin(x)) + 1,
            "cases": cases}


def variances():
    x = torch.randn(4, 6, 7) * 3 + 1.5
    g = torch.randn(4, 7)
    cases = []
    for dim in (None, 0, 1, 2):
        for corr in (1, 0, 2):
            for keep in (False, True):
                if dim is None and keep:
                    continue
                c = {"dim": dim + 1 if dim is not None else False, "keepdim": keep, "correction": corr}
                for name, f in (("var", torch.var), ("std", torch.std)):
                    if dim is None:
                        c[name] = f(x, unbiased=bool(corr)) if corr < 2 else f(x, None, correction=corr)
                    else:
                        c[name] = f(x, dim, correction=corr, keepdim=keep)
                cases.append(c)
    # gradients: (std(x, 2) * g).sum() and (var(x, 2) * g).sum()
    grads = {}
    for name, f in (("var", torch.var), ("std", torch.std)):
        xl = leaf(x)
        (f(xl, 1) * g).sum().backward()
        grads[name] = xl.grad
    # a larger tensor, to see the two-pass sums over many terms
    big = torch.randn(3, 5000) * 0.01 + 100
    return {"x": x, "g": g, "grad": grads, "cases": cases,
            "big": big, "big_var": torch.var(big, 1), "big_std": torch.std(big, 1),
            "big_var_all": torch.var(big), "big_std_all": torch.std(big)}


def main():
    torch.manual_seed(SEED)
    write_golden(OUT, {"torch_version": torch.__version__, "seed": SEED,
                       "extremes": extremes(), "var": variances()})


if __name__ == "__main__":
    main()
