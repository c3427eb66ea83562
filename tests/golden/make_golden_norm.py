#!/usr/bin/python3
"""Writes tests/golden/norm_golden.lua: PyTorch reference values for
BatchNorm1d and BatchNorm2d, which tests/norm_spec.lua compares against.

Run by hand from the repository root, with Debian's python3-torch:

    /usr/bin/python3 tests/golden/make_golden_norm.py

Each case builds a torch layer with a non-trivial weight and bias, runs
three training steps (one batch each) and records for every step the
input, the upstream gradient g, the output, the gradients of
(y * g).sum() with respect to input, weight and bias, and the running
statistics after the step; then an eval-mode forward and its input
gradient.  The Lua writer is make_golden.py's, so the format is the same.
"""

import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_golden import leaf, write_golden  # noqa: E402

SEED = 20240602
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "norm_golden.lua")


def bn_case(layer, shape, offset, scale):
    """Three train steps then one eval step of `layer` on inputs of `shape`.

    Inputs are offset and scaled per step so the running statistics move
    away from their initial 0 and 1 and each step's batch differs."""
    c = shape[1]
    with torch.no_grad():
        layer.weight.copy_(torch.rand(c) + 0.5)
        layer.bias.copy_(torch.randn(c) * 0.5)
    case = {"weight": layer.weight.detach().clone(), "bias": layer.bias.detach().clone(),
            "eps": layer.eps, "momentum": layer.momentum, "steps": []}
    layer.train()
    for step in range(3):
        x = leaf(torch.randn(*shape) * scale * (step + 1) + offset)
        g = torch.randn(*shape)
        layer.zero_grad()
        y = layer(x)
        (y * g).sum().backward()
        case["steps"].append({
            "x": x, "g": g, "y": y,
            # zero_grad() zeroes .grad in place, so the values are copied
            "grad_x": x.grad, "grad_weight": layer.weight.grad.clone(),
            "grad_bias": layer.bias.grad.clone(),
            "running_mean": layer.running_mean.clone(),
            "running_var": layer.running_var.clone(),
        })
    layer.eval()
    x = leaf(torch.randn(*shape) * scale + offset)
    g = torch.randn(*shape)
    layer.zero_grad()
    y = layer(x)
    (y * g).sum().backward()
    case["eval"] = {"x": x, "g": g, "y": y, "grad_x": x.grad,
                    "grad_weight": layer.weight.grad.clone(), "grad_bias": layer.bias.grad.clone()}
    return case


def main():
    torch.manual_seed(SEED)
    torch.set_default_dtype(torch.float32)
    golden = {
        "torch_version": torch.__version__,
        "seed": SEED,
        # N×C, the BatchNorm1d after a Linear
        "bn1d": bn_case(torch.nn.BatchNorm1d(5), (6, 5), 1.5, 2.0),
        # N×C×L, the other shape BatchNorm1d accepts
        "bn1d_ncl": bn_case(torch.nn.BatchNorm1d(3), (4, 3, 5), -0.5, 1.0),
        # N×C×H×W with a large mean, where a one-pass variance would cancel
        "bn2d": bn_case(torch.nn.BatchNorm2d(3), (2, 3, 4, 5), 10.0, 3.0),
        # momentum and eps other than the defaults
        "bn2d_opts": bn_case(torch.nn.BatchNorm2d(2, eps=1e-3, momentum=0.3), (3, 2, 3, 3), 0.0, 0.5),
    }
    write_golden(OUT, golden)


if __name__ == "__main__":
    main()
