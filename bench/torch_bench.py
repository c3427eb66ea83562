"""bench/torch_bench.py: the PyTorch side of `make bench`.

The same three models as bench/train.lua (those of shared/reference/
torch_reference.py), on the same IDX files, batch and optimizer, after the
same kind of warm-up.  Prints one JSON line.  Needs Debian's python3-torch:
    /usr/bin/python3 bench/torch_bench.py MODEL THREADS [--seed=N] [--batch=128] [--hidden=400]
THREADS is torch.set_num_threads (intra-op, OpenMP).  Debian's torch does its
matrix products in OpenBLAS, whose own thread pool follows
OPENBLAS_NUM_THREADS (default: one per core) whatever THREADS says; bench/run.lua
tries both.
"""
import gzip
import json
import os
import resource
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


def main():
    which, threads = sys.argv[1], int(sys.argv[2])
    opts = dict(a[2:].split("=", 1) for a in sys.argv[3:] if a.startswith("--"))
    seed, batch, hidden = int(opts.get("seed", 1)), int(opts.get("batch", 128)), int(opts.get("hidden", 400))
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    root = opts.get("data", "data/fashion-mnist")
    X = torch.from_numpy(idx(find(root, "train-images-idx3-ubyte")).astype(np.float32) / 255.0).view(-1, 784)
    Xt = torch.from_numpy(idx(find(root, "t10k-images-idx3-ubyte")).astype(np.float32) / 255.0).view(-1, 784)
    build = {"ae": AE, "vae": lambda: VAE(hidden), "cae": CAE}[which]
    lossf = vae_loss if which == "vae" else mse

    m = build()
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    for _ in range(20):  # warm-up, as bench/train.lua does
        opt.zero_grad()
        lossf(m, X[:batch]).backward()
        opt.step()
    torch.manual_seed(seed)
    m = build()
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)

    t, c = time.time(), time.process_time()
    perm = torch.randperm(X.shape[0])
    for i in range(0, X.shape[0], batch):
        xb = X[perm[i:i + batch]]
        opt.zero_grad()
        l = lossf(m, xb)
        l.backward()
        opt.step()
    dt, dc = time.time() - t, time.process_time() - c
    with torch.no_grad():
        if which == "vae":
            tl = sum(lossf(m, Xt[i:i + 1000]).item() for i in range(0, 10000, 1000)) / 10000
        else:
            tl = sum(lossf(m, Xt[i:i + 1000]).item() for i in range(0, 10000, 1000)) / 10
    print(json.dumps({"model": which, "threads": threads, "seed": seed, "batch_size": batch, "hidden": hidden,
                      "samples_per_second": X.shape[0] / dt, "seconds": dt, "cpu_seconds": dc, "test_loss": tl,
                      "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "default"),
                      "blas": blas_library(),
                      "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "torch": torch.__version__}))


main()
