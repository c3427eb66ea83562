#!/usr/bin/python3
"""Writes tests/golden/shape_golden.lua: PyTorch's values for aerun's shape
ops (squeeze, unsqueeze, permute, flip, stack, index_select, x[i]).

Run by hand from the repository root, with Debian's python3-torch:

    /usr/bin/python3 tests/golden/make_golden_shape.py

These ops only move data, so the inputs and the upstream gradients g are
small integers (the loss is (y * g).sum()): every value and gradient is exact
in float32 and tests/shape_spec.lua compares them with equality.  Dimensions
and positions are written 1-based, as aerun's Lua API takes them.
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_golden import leaf, write_golden  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "shape_golden.lua")


def ints(*shape):
    return torch.randint(-9, 10, shape).to(torch.float32)


def case(xs, f):
    xs = [leaf(x) for x in xs]
    y = f(*xs)
    g = ints(*y.shape)
    (y * g).sum().backward()
    out = {"y": y, "g": g, "yshape": list(y.shape)}
    for i, x in enumerate(xs):
        out["x%d" % (i + 1)] = x
        out["xshape%d" % (i + 1)] = list(x.shape)
        out["grad%d" % (i + 1)] = x.grad
    return out


def main():
    torch.manual_seed(0)
    x = ints(2, 3, 4)
    s = ints(2, 1, 3, 1)
    cases = {
        "squeeze_all": case([s], lambda a: a.squeeze()),
        "squeeze_2": case([s], lambda a: a.squeeze(1)),
        "squeeze_1_noop": case([s], lambda a: a.squeeze(0)),
        "unsqueeze_2": case([x], lambda a: a.unsqueeze(1)),
        "unsqueeze_m1": case([x], lambda a: a.unsqueeze(-1)),
        "permute_312": case([x], lambda a: a.permute(2, 0, 1)),
        "flip_13": case([x], lambda a: a.flip(0, 2)),
        "flip_2": case([x], lambda a: a.flip(1)),
        "stack_1": case([ints(3, 4), ints(3, 4)], lambda a, b: torch.stack([a, b], 0)),
        "stack_m1": case([ints(3, 4), ints(3, 4), ints(3, 4)], lambda a, b, c: torch.stack([a, b, c], -1)),
        # positions 1-based in Lua: {3, 1, 3} is torch's [2, 0, 2]
        "index_select_2": case([x], lambda a: a.index_select(1, torch.tensor([2, 0, 2]))),
        "index_select_3": case([x], lambda a: a.index_select(2, torch.tensor([3, 3, 0, 1, 3]))),
        "row_2": case([x], lambda a: a[1]),
        "row_m2": case([x], lambda a: a[-2]),
    }
    write_golden(OUT, cases)


if __name__ == "__main__":
    main()
