#!/usr/bin/python3
"""Writes tests/golden/conv1d_golden.lua: PyTorch reference values for aerun's
1-D convolution layers (Conv1d, ConvTranspose1d) and for a small Conv1d
autoencoder that runs each layer with the ReLU after it fused.

Run by hand from the repository root, with Debian's python3-torch:

    /usr/bin/python3 tests/golden/make_golden_conv1d.py

Like make_golden_conv.py it seeds torch and computes in float32, so the same
torch version writes the same file; tests/conv1d_spec.lua compares aerun
against it.  Each layer case holds the input, the parameters (PyTorch's own
init), a fixed upstream gradient g (the loss is (y * g).sum()), the output and
the gradients of the input and of every parameter (golden_conv.layer_case,
which make_golden_conv.py uses too).
"""

import os
import sys

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import golden_conv  # noqa: E402
from make_golden import leaf, write_golden  # noqa: E402

SEED = 20261206
OUT = os.path.join(HERE, "conv1d_golden.lua")


CLASSES = {"conv1d": nn.Conv1d, "conv_transpose1d": nn.ConvTranspose1d}


def layer_case(name, kind, *args):
    case = {"name": name}
    case.update(golden_conv.layer_case(CLASSES, kind, *args))
    return case


CASES = [
    # name, kind, x shape, in, out, kernel, stride, padding, output_padding, bias
    ("conv k3 stride 1", "conv1d", (2, 3, 9), 3, 4, 3, 1, 0, 0, True),
    ("conv k5 stride 2 pad 2, odd length", "conv1d", (3, 2, 11), 2, 5, 5, 2, 2, 0, True),
    ("conv k4 stride 3 pad 1, no bias", "conv1d", (2, 3, 13), 3, 2, 4, 3, 1, 0, False),
    ("conv kernel covering the input (dense)", "conv1d", (4, 3, 6), 3, 5, 6, 1, 0, 0, True),
    ("conv batch 1, 1 input channel", "conv1d", (1, 1, 10), 1, 3, 3, 2, 1, 0, True),
    ("conv k1 (pointwise)", "conv1d", (2, 4, 7), 4, 3, 1, 1, 0, 0, True),
    ("conv padding larger than half the kernel, stride 4", "conv1d", (2, 2, 8), 2, 3, 2, 4, 3, 0, True),
    ("convT k3 stride 1", "conv_transpose1d", (2, 3, 6), 3, 2, 3, 1, 0, 0, True),
    ("convT k5 stride 2 pad 2 output_padding 1", "conv_transpose1d", (3, 4, 7), 4, 3, 5, 2, 2, 1, True),
    ("convT k4 stride 3 pad 1 output_padding 2, no bias", "conv_transpose1d", (2, 2, 5), 2, 3, 4, 3, 1, 2,
     False),
    ("convT from length 1 (dense)", "conv_transpose1d", (3, 5, 1), 5, 2, 4, 1, 0, 0, True),
    ("convT from length 1, stride 2 output_padding 1", "conv_transpose1d", (2, 3, 1), 3, 2, 3, 2, 0, 1,
     True),
    ("convT batch 1, 1 output channel", "conv_transpose1d", (1, 3, 6), 3, 1, 3, 2, 1, 1, True),
    ("convT padding 2, stride 3, k5", "conv_transpose1d", (2, 2, 4), 2, 3, 5, 3, 2, 2, True),
]


def autoencoder_case():
    """Conv1d(2, 8, 5, s2 p2) ReLU Conv1d(8, 4, 3, s2 p1) ReLU |
    ConvTranspose1d(4, 8, 3, s2 p1 op1) ReLU ConvTranspose1d(8, 2, 5, s2 p2 op1),
    on 3 series of 2 channels × 24 steps, MSE loss."""
    enc = nn.Sequential(nn.Conv1d(2, 8, 5, stride=2, padding=2), nn.ReLU(),
                        nn.Conv1d(8, 4, 3, stride=2, padding=1), nn.ReLU())
    dec = nn.Sequential(nn.ConvTranspose1d(4, 8, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
                        nn.ConvTranspose1d(8, 2, 5, stride=2, padding=2, output_padding=1))
    model = nn.Sequential(enc, dec)
    x = leaf(torch.randn(3, 2, 24))
    y = model(x)
    loss = torch.nn.functional.mse_loss(y, x)
    loss.backward()
    params = []
    for k, p in model.named_parameters():
        params.append({"name": k, "value": p, "grad": p.grad})
    return {"x": x, "y": y, "z": enc(x), "loss": loss.item(), "grad_x": x.grad, "params": params}


def main():
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    data = {
        "torch_version": torch.__version__,
        "seed": SEED,
        "layers": [layer_case(*c) for c in CASES],
        "autoencoder": autoencoder_case(),
    }
    write_golden(OUT, data)


if __name__ == "__main__":
    main()
