"""bench/torch_bench.py: the PyTorch side of `make bench`.

The same models as bench/train.lua (those of shared/reference/
torch_reference.py), on the same IDX files, batch and optimizer, after the
same kind of warm-up.  Prints one JSON line.  Needs Debian's python3-torch:
    /usr/bin/python3 bench/torch_bench.py MODEL THREADS [--seed=N] [--batch=128] [--hidden=400]
        [--epochs=3] [--limit=N] [--warmup=20] [--flush_denormal=1] [--precision=fp32|bf16]
    /usr/bin/python3 bench/torch_bench.py isa
THREADS is torch.set_num_threads (intra-op, OpenMP).  Debian's torch does its
fp32 matrix products in OpenBLAS, whose own thread pool follows
OPENBLAS_NUM_THREADS (default: one per core) whatever THREADS says; bench/run.lua
tries both.  Each epoch is timed on its own, as bench/train.lua does:
samples_per_second is the mean of the epochs after the first.
--flush_denormal=1 calls torch.set_flush_denormal(True) first;
--precision=bf16 runs the forward pass and the loss under
torch.autocast("cpu", dtype=torch.bfloat16), the optimizer step outside, as
PyTorch's documentation shows.  `isa` prints which engine and ISA torch's
fp32 and bf16 products and convolutions dispatch to (a short probe under
oneDNN's verbose mode, in a child process).
"""
import gzip
import json
import os
import re
import resource
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def idx(path):
    opener = gzip.open if open(path, "rb").read(2) == b"\x1f\x8b" else open
    with opener(path, "rb") as f:
        b = f.read()
    nd = b[3]
    dims = [int.from_bytes(b[4 + 4 * i:8 + 4 * i], "big") for i in range(nd)]
    return np.frombuffer(b, dtype=np.uint8, offset=4 + 4 * nd).reshape(dims)


def find(root, name):
    for suffix in ("", ".gz"):
        p = os.path.join(root, name + suffix)
        if os.path.exists(p):
            return p
    raise SystemExit(f"torch_bench: {name} not found in {root}")


class AE(nn.Module):
    def __init__(s):
        super().__init__()
        s.encoder = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU())
        s.decoder = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 784), nn.Sigmoid())

    def forward(s, x):
        return s.decoder(s.encoder(x))


class VAE(nn.Module):
    def __init__(s, hidden):
        super().__init__()
        s.fc1, s.fc21, s.fc22 = nn.Linear(784, hidden), nn.Linear(hidden, 20), nn.Linear(hidden, 20)
        s.fc3, s.fc4 = nn.Linear(20, hidden), nn.Linear(hidden, 784)

    def forward(s, x):
        h = F.relu(s.fc1(x))
        mu, lv = s.fc21(h), s.fc22(h)
        z = mu + torch.randn_like(lv) * torch.exp(0.5 * lv)
        return torch.sigmoid(s.fc4(F.relu(s.fc3(z)))), mu, lv


class CAE(nn.Module):
    def __init__(s):
        super().__init__()
        s.enc = nn.Sequential(nn.Conv2d(1, 16, 3, stride=2, padding=1), nn.ReLU(), nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(), nn.Conv2d(32, 64, 7))
        s.dec = nn.Sequential(nn.ConvTranspose2d(64, 32, 7), nn.ReLU(), nn.ConvTranspose2d(32, 16, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
                              nn.ConvTranspose2d(16, 1, 3, stride=2, padding=1, output_padding=1), nn.Sigmoid())

    def forward(s, x):
        return s.dec(s.enc(x.view(-1, 1, 28, 28))).view(-1, 784)


class SeqAE(nn.Module):
    """ae.models.seq_ae: images read as `steps` rows of `width`, an
    encoder RNN whose last hidden state becomes the code, the code repeated
    at every step into a decoder RNN, a Linear per step and a sigmoid"""

    def __init__(s, cell, hidden, code=32, steps=28, width=28):
        super().__init__()
        rnn = {"lstm": nn.LSTM, "gru": nn.GRU}[cell]
        s.steps, s.width = steps, width
        s.encoder, s.to_code = rnn(width, hidden, batch_first=True), nn.Linear(hidden, code)
        s.decoder, s.output = rnn(code, hidden, batch_first=True), nn.Linear(hidden, width)

    def forward(s, x):
        n = x.shape[0]
        _, h = s.encoder(x.view(n, s.steps, s.width))
        h = h[0] if isinstance(h, tuple) else h
        z = s.to_code(h[-1])
        y, _ = s.decoder(z.unsqueeze(1).expand(n, s.steps, z.shape[1]))
        return torch.sigmoid(s.output(y)).reshape(n, s.steps * s.width)


def blas_library():
    """the BLAS Debian's torch reaches through libblas.so.3 (update-alternatives)"""
    for p in ("/usr/lib/x86_64-linux-gnu/libblas.so.3", "/usr/lib/libblas.so.3"):
        if os.path.exists(p):
            return os.path.realpath(p)
    return "unknown"


def mse(m, x):
    return F.mse_loss(m(x), x)


def vae_loss(m, x):
    r, mu, lv = m(x)
    return F.binary_cross_entropy(r, x, reduction="sum") - 0.5 * torch.sum(1 + lv - mu.pow(2) - lv.exp())


def probe():
    """the products and convolutions isa() reports on, in fp32 and under autocast"""
    a, w = torch.rand(128, 784), torch.rand(400, 784)
    x, k = torch.rand(8, 1, 28, 28), torch.rand(16, 1, 3, 3)
    print("probe fp32", flush=True)
    F.linear(a, w)
    F.conv2d(x, k)
    print("probe bf16", flush=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        F.linear(a, w)
        F.conv2d(x, k)
    print("probe end", flush=True)


def isa():
    """torch's CPU capability (its own kernels) and, from oneDNN's verbose
    lines, the implementation each product and convolution ran on; a
    product with no oneDNN line ran in the BLAS torch links"""
    cap = re.search(r"CPU capability usage: *(\S+)", torch.__config__.show())
    env = dict(os.environ, DNNL_VERBOSE="1", ONEDNN_VERBOSE="1")
    out = subprocess.run([sys.executable, __file__, "probe"], env=env, capture_output=True, text=True).stdout
    found, section = {}, None
    for line in out.splitlines():
        if line.startswith("probe "):
            section = line.split()[1]
            continue
        f = line.split(",")
        # onednn_verbose,exec,cpu,PRIMITIVE,IMPLEMENTATION,...
        if section in ("fp32", "bf16") and len(f) > 4 and f[1] == "exec" and f[3] in ("matmul", "inner_product", "convolution"):
            kind = "matmul" if f[3] in ("matmul", "inner_product") else "conv"
            found.setdefault(section + "_" + kind, "oneDNN " + f[4])
    lib = blas_library()
    blas = "OpenBLAS (no oneDNN)" if "openblas" in lib.lower() else "BLAS " + lib + " (no oneDNN)"
    return {"torch": torch.__version__, "cpu_capability": cap.group(1) if cap else "unknown",
            "fp32_matmul": found.get("fp32_matmul", blas), "bf16_matmul": found.get("bf16_matmul", "not oneDNN (ATen kernel)"),
            "fp32_conv": found.get("fp32_conv", "not oneDNN"), "bf16_conv": found.get("bf16_conv", "not oneDNN"),
            "onednn_verbose": bool(found)}


def main():
    if sys.argv[1] == "probe":
        return probe()
    if sys.argv[1] == "isa":
        return print(json.dumps(isa()))
    which, threads = sys.argv[1], int(sys.argv[2])
    opts = dict(a[2:].split("=", 1) for a in sys.argv[3:] if a.startswith("--"))
    seed, batch, hidden = int(opts.get("seed", 1)), int(opts.get("batch", 128)), int(opts.get("hidden", 400))
    epochs, limit, warmup = int(opts.get("epochs", 3)), int(opts.get("limit", 0)), int(opts.get("warmup", 20))
    precision, flush = opts.get("precision", "fp32"), opts.get("flush_denormal", "0") == "1"
    if precision not in ("fp32", "bf16") or epochs < 1:
        raise SystemExit(f"torch_bench: --precision must be fp32 or bf16 (got {precision}), --epochs at least 1 (got {epochs})")
    # returns False where the CPU cannot flush; then the run says so
    flushed = torch.set_flush_denormal(True) if flush else False
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    root = opts.get("data", "data/fashion-mnist")
    X = torch.from_numpy(idx(find(root, "train-images-idx3-ubyte")).astype(np.float32) / 255.0).view(-1, 784)
    if limit > 0:
        X = X[:limit]
    Xt = torch.from_numpy(idx(find(root, "t10k-images-idx3-ubyte")).astype(np.float32) / 255.0).view(-1, 784)
    build = {"ae": AE, "vae": lambda: VAE(hidden), "cae": CAE, "lstm": lambda: SeqAE("lstm", hidden),
             "gru": lambda: SeqAE("gru", hidden)}[which]
    lossf = vae_loss if which == "vae" else mse

    def step(m, opt, xb):
        opt.zero_grad()
        if precision == "bf16":
            with torch.autocast("cpu", dtype=torch.bfloat16):
                l = lossf(m, xb)
        else:
            l = lossf(m, xb)
        l.backward()
        opt.step()

    m = build()
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    for _ in range(warmup):  # warm-up, as bench/train.lua does
        step(m, opt, X[:batch])
    torch.manual_seed(seed)
    m = build()
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)

    rates, secs = [], []
    c = time.process_time()
    for _ in range(epochs):
        t = time.time()
        perm = torch.randperm(X.shape[0])
        for i in range(0, X.shape[0], batch):
            step(m, opt, X[perm[i:i + batch]])
        secs.append(time.time() - t)
        rates.append(X.shape[0] / secs[-1])
    dc = time.process_time() - c
    steady = rates[1:] or rates  # the epochs after the first (the only one when there is one)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
        if which == "vae":
            tl = sum(lossf(m, Xt[i:i + 1000]).item() for i in range(0, 10000, 1000)) / 10000
        else:
            tl = sum(lossf(m, Xt[i:i + 1000]).item() for i in range(0, 10000, 1000)) / 10
    print(json.dumps({"model": which, "threads": threads, "seed": seed, "batch_size": batch, "hidden": hidden,
                      "epochs": epochs, "limit": limit, "precision": precision, "flush_denormal": flushed,
                      "samples_per_second": sum(steady) / len(steady), "first_epoch": rates[0],
                      "epoch_samples_per_second": rates, "seconds": sum(secs[1:] or secs), "cpu_seconds": dc, "test_loss": tl,
                      "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "default"),
                      "blas": blas_library(),
                      "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "torch": torch.__version__}))


main()
