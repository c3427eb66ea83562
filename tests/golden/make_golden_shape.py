#!/usr/bin/python3
"""Writes tests/golden/shape_golden.lua: PyTorch's values for aerun's shape
ops (squeeze, unsqueeze, permute, flip, stack, index_select, x[i], gather,
masked_fill, masked_select).

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


def case_with(xs, f, data):
    """case() for ops that also take an index or a mask: data maps a name to
    (tensor torch takes, tensor written for aerun), the latter a float
    tensor of 1-based positions or of 0/1"""
    out = case(xs, lambda *a: f(*a, **{k: v[0] for k, v in data.items()}))
    for k, v in data.items():
        out[k] = v[1]
        out[k + "shape"] = list(v[1].shape)
    return out


def index(high, *shape):
    i = torch.randint(0, high, shape)
    return (i, (i + 1).to(torch.float32))


def mask(*shape):
    m = torch.rand(shape) > 0.5
    return (m, m.to(torch.float32))


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
        # gather: the index is written 1-based; it may be longer than x
        # along dim and shorter in the others, and repeats accumulate
        "gather_2": case_with([x], lambda a, index: a.gather(1, index), {"index": index(3, 2, 5, 4)}),
        "gather_1_smaller": case_with([ints(3, 4)], lambda a, index: a.gather(0, index), {"index": index(3, 2, 3)}),
        "gather_m1": case_with([x], lambda a, index: a.gather(-1, index), {"index": index(4, 1, 2, 6)}),
        # masks broadcast with x both ways; the filled value is -7.5
        "masked_fill_same": case_with([ints(3, 4)], lambda a, mask: a.masked_fill(mask, -7.5), {"mask": mask(3, 4)}),
        "masked_fill_row": case_with([ints(3, 4)], lambda a, mask: a.masked_fill(mask, -7.5), {"mask": mask(4)}),
        "masked_fill_grow": case_with([ints(4)], lambda a, mask: a.masked_fill(mask, -7.5), {"mask": mask(3, 4)}),
        "masked_fill_both": case_with([ints(2, 1, 4)], lambda a, mask: a.masked_fill(mask, -7.5),
                                      {"mask": mask(3, 1)}),
        "masked_select_same": case_with([ints(3, 4)], lambda a, mask: a.masked_select(mask), {"mask": mask(3, 4)}),
        "masked_select_grow": case_with([ints(3, 1)], lambda a, mask: a.masked_select(mask), {"mask": mask(3, 4)}),
        "masked_select_row": case_with([x], lambda a, mask: a.masked_select(mask), {"mask": mask(4)}),
    }
    write_golden(OUT, cases)


if __name__ == "__main__":
    main()
