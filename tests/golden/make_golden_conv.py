#!/usr/bin/python3
"""Writes tests/golden/conv_golden.lua: PyTorch reference values for aerun's
convolution layers (conv2d, conv_transpose2d, max_pool2d, nearest upsampling)
and for the tutorial's whole convolutional autoencoder.

Run by hand from the repository root, with Debian's python3-torch:

    /usr/bin/python3 tests/golden/make_golden_conv.py

Like make_golden.py (whose Lua writer it uses), it seeds torch and computes
everything in float32, so the same torch version writes the same file.
tests/conv_spec.lua compares aerun against it.  Each layer case holds the
input, the parameters, a fixed upstream gradient g (the loss is (y * g).sum()),
the output and the gradients of the input and of every parameter.  The whole
autoencoder case (batch 2, MSE loss) draws its parameters from a generator the
spec reproduces (see lcg_values) and stores the gradients of the two
64x32x7x7 weights as a strided sample and sums, to keep the file small.
"""

import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import golden_conv  # noqa: E402
from make_golden import leaf, write_golden  # noqa: E402

SEED = 20240602
OUT = os.path.join(HERE, "conv_golden.lua")


def pair(v):
    return list(v) if isinstance(v, (tuple, list)) else [v, v]


CLASSES = {"conv2d": nn.Conv2d, "conv_transpose2d": nn.ConvTranspose2d}


def layer_case(kind, x_shape, in_c, out_c, k, stride=1, padding=0, output_padding=0, bias=True):
    """One Conv2d or ConvTranspose2d with PyTorch's own init, sizes as pairs."""
    return golden_conv.layer_case(CLASSES, kind, x_shape, in_c, out_c, k, stride, padding, output_padding,
                                  bias, size=pair)


def conv_cases():
    c = [
        # name, kind, x shape, in, out, kernel, stride, padding, output_padding, bias
        ("conv 3x3 stride 1", "conv2d", (2, 3, 5, 5), 3, 4, 3, 1, 0, 0, True),
        ("conv 3x3 stride 2 pad 1, odd sizes", "conv2d", (2, 3, 7, 6), 3, 4, 3, 2, 1, 0, True),
        ("conv 2x3 kernel, stride (2,1), pad (1,0), no bias", "conv2d", (3, 2, 6, 5), 2, 3, (2, 3),
         (2, 1), (1, 0), 0, False),
        ("conv kernel covering the input (dense)", "conv2d", (3, 4, 5, 5), 4, 3, 5, 1, 0, 0, True),
        ("conv batch 1, 1 input channel", "conv2d", (1, 1, 6, 6), 1, 2, 3, 2, 1, 0, True),
        ("conv kernel as large as the input, padding 1, stride 3", "conv2d", (2, 2, 3, 3), 2, 3, 3,
         3, 1, 0, True),
        ("conv padding 2, stride 3", "conv2d", (2, 2, 7, 8), 2, 3, 4, 3, 2, 0, True),
        ("convT 3x3 stride 1", "conv_transpose2d", (2, 3, 4, 4), 3, 2, 3, 1, 0, 0, True),
        ("convT 3x3 stride 2 pad 1 output_padding 1", "conv_transpose2d", (2, 4, 3, 3), 4, 3, 3, 2,
         1, 1, True),
        ("convT 2x3 kernel, stride (2,3), pad (0,1), output_padding (1,2), no bias",
         "conv_transpose2d", (3, 2, 3, 4), 2, 3, (2, 3), (2, 3), (0, 1), (1, 2), False),
        ("convT from 1x1 (dense)", "conv_transpose2d", (3, 5, 1, 1), 5, 3, 4, 1, 0, 0, True),
        ("convT from 1x1, stride 2 output_padding 1", "conv_transpose2d", (2, 3, 1, 1), 3, 2, 3, 2,
         0, 1, True),
        ("convT batch 1, 1 output channel", "conv_transpose2d", (1, 3, 4, 4), 3, 1, 3, 2, 1, 1, True),
        ("convT padding 2, stride 3", "conv_transpose2d", (2, 2, 3, 3), 2, 3, 5, 3, 2, 2, True),
    ]
    out = []
    for name, kind, xs, ic, oc, k, s, p, op, b in c:
        case = layer_case(kind, xs, ic, oc, k, s, p, op, b)
        case["name"] = name
        out.append(case)
    return out


def pool_cases():
    out = []
    for name, xs, k, s, p in [
        ("max_pool2d 2", (2, 3, 6, 6), 2, None, 0),
        ("max_pool2d 3 stride 2 pad 1", (2, 2, 7, 7), 3, 2, 1),
        ("max_pool2d (2,3) stride (1,2)", (1, 2, 5, 7), (2, 3), (1, 2), 0),
        ("max_pool2d 2 with ties", (2, 2, 4, 6), 2, None, 0),
        ("max_pool2d 3 stride 1 with ties, overlapping windows", (1, 2, 5, 5), 3, 1, 1),
    ]:
        x = leaf(torch.randn(*xs))
        if "ties" in name:
            # small integers: windows hold equal maxima, and PyTorch sends
            # the gradient to the first of them
            x = leaf(torch.randint(-1, 2, xs).float())
        y = F.max_pool2d(x, k, s, p)
        g = torch.randn(*y.shape)
        (y * g).sum().backward()
        out.append({"name": name, "kernel_size": pair(k), "stride": pair(s if s is not None else k),
                    "padding": pair(p), "x": x, "g": g, "y": y, "grad_x": x.grad})
    return out


def upsample_cases():
    out = []
    for name, xs, sf in [("upsample 2", (2, 3, 3, 4), 2), ("upsample (2,3)", (1, 2, 2, 3), (2, 3)),
                         ("upsample 1", (1, 1, 2, 2), 1)]:
        x = leaf(torch.randn(*xs))
        y = F.interpolate(x, scale_factor=sf, mode="nearest")
        g = torch.randn(*y.shape)
        (y * g).sum().backward()
        out.append({"name": name, "scale_factor": pair(sf), "x": x, "g": g, "y": y,
                    "grad_x": x.grad})
    return out


class CAE(nn.Module):
    """The seed tutorial's convolutional autoencoder, named as aerun names it."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 16, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(32, 64, 7))
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(64, 32, 7), nn.ReLU(),
            nn.ConvTranspose2d(32, 16, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
            nn.ConvTranspose2d(16, 1, 3, stride=2, padding=1, output_padding=1), nn.Sigmoid())

    def forward(self, x):
        return self.decoder(self.encoder(x))


# The whole model's parameters and input come from this generator rather
# than from torch's, so the spec can rebuild them in Lua and the file need
# not hold two 64x32x7x7 weights: a 64-bit LCG (Knuth's MMIX constants;
# Lua's integers wrap the same way), 24 bits of each state scaled to
# [-1, 1).  Both sides round the same double to float32.
LCG_A, LCG_C, MASK = 6364136223846793005, 1442695040888963407, (1 << 64) - 1


def lcg_values(seed, n):
    state, out = seed & MASK, []
    for _ in range(n):
        state = (state * LCG_A + LCG_C) & MASK
        out.append((state >> 40) / float(1 << 24) * 2.0 - 1.0)
    return out


def lcg_tensor(seed, shape, scale, offset=0.0):
    n = 1
    for d in shape:
        n *= d
    v = [x * scale + offset for x in lcg_values(seed, n)]
    return torch.tensor(v, dtype=torch.float64).to(torch.float32).reshape(shape)


# gradients above this size are stored as every stride-th element (a prime
# stride, so the sample walks across every dimension) plus sums
SAMPLE_ABOVE, SAMPLES = 2000, 600


def prime_at_least(n):
    n = max(n, 2)
    while any(n % d == 0 for d in range(2, int(n ** 0.5) + 1)):
        n += 1
    return n


def stored(t):
    flat = t.detach().reshape(-1)
    if flat.numel() <= SAMPLE_ABOVE:
        return t
    stride = prime_at_least(flat.numel() // SAMPLES)
    return {"shape": list(t.shape), "stride": stride,
            "sample": flat[::stride],
            "sum": flat.double().sum().item(), "abs_sum": flat.double().abs().sum().item()}


def cae_case():
    m = CAE()
    names = [k for k, _ in m.named_parameters()]
    with torch.no_grad():
        for i, (k, p) in enumerate(m.named_parameters()):
            # PyTorch's init bound for this layer: 1/sqrt(fan_in), fan_in from dims 1..
            fan_in = 1
            w = dict(m.named_parameters())[k.rsplit(".", 1)[0] + ".weight"]
            for d in w.shape[1:]:
                fan_in *= d
            # the bound rounded to float32, which the spec can reproduce exactly
            scale = torch.tensor(fan_in ** -0.5, dtype=torch.float32).item()
            p.copy_(lcg_tensor(1000 + i, list(p.shape), scale))
    x = lcg_tensor(7, [2, 1, 28, 28], 0.5, 0.5)
    z = m.encoder(x)
    y = m(x)
    loss = F.mse_loss(y, x)
    loss.backward()
    params = []
    for i, (k, p) in enumerate(m.named_parameters()):
        params.append({"name": k, "seed": 1000 + i, "shape": list(p.shape),
                       "grad": stored(p.grad)})
    return {"x_seed": 7, "z": z, "y": y, "loss": loss.item(), "params": params,
            "lcg_check": lcg_values(42, 3)}


def main():
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    data = {
        "torch_version": torch.__version__,
        "seed": SEED,
        "layers": conv_cases(),
        "max_pool2d": pool_cases(),
        "upsample": upsample_cases(),
        "cae": cae_case(),
    }
    write_golden(OUT, data)


if __name__ == "__main__":
    main()
