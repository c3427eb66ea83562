"""PyTorch reference for experiments/timeseries_anomaly.lua: the same data
preparation, model, training and scoring, so that aerun's ROC AUC can be
read next to PyTorch's.

    aerun tools/make_series.lua --out=series.h5 --seed=0
    /usr/bin/python3 tests/interop/timeseries_torch.py series.h5 --model=lstm --epochs=20
    aerun experiments/timeseries_anomaly.lua --data=series.h5 --model=lstm --epochs=20

It reads a file of ae.series.write (train/x, train/y, test/x, test/y) and
does what the experiment does with the same options: the last
--val-fraction of the train part is the validation part; each channel is
standardised with the mean and population std of the steps before it (a
constant channel: std 1); windows of --window steps every --stride (the
test windows every --test-stride); training and validation windows that
touch a labelled step are left out; a test window is anomalous when at
least max(1, ceil(--fraction * window)) of its steps are labelled.  The
models (mlp, conv, lstm, gru) are the experiment's, with PyTorch's default
initialisation (lstm and gru are ae.models.seq_ae, with its parameter
names); Adam, MSE, shuffled batches.  A window's score is its
mean squared reconstruction error; the threshold is the ceil(q*n)-th
smallest validation score.  The last line is "result {json}".
"""
import argparse
import json
import math
import time

import h5py
import numpy as np
import torch
from torch import nn


def options():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("path")
    p.add_argument("--model", default="conv", choices=["mlp", "conv", "lstm", "gru"])
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--window", type=int, default=64)
    p.add_argument("--stride", type=int, default=1)
    p.add_argument("--test-stride", type=int, default=1)
    p.add_argument("--fraction", type=float, default=0.0)
    p.add_argument("--val-fraction", type=float, default=0.2)
    p.add_argument("--quantile", type=float, default=0.99)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--code", type=int, default=16)
    p.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: torch's default)")
    return p.parse_args()


class SeqEncoder(nn.Module):
    """aerun's nn.SeqEncoder: an LSTM or GRU (batch first) whose last
    layer's final hidden state a Linear maps to the code."""

    def __init__(self, cell, steps, width, hidden, code):
        super().__init__()
        self.steps, self.width = steps, width
        self.rnn = (nn.LSTM if cell == "lstm" else nn.GRU)(width, hidden, batch_first=True)
        self.to_code = nn.Linear(hidden, code)

    def forward(self, x):
        _, state = self.rnn(x.reshape(x.shape[0], self.steps, self.width))
        h = state[0] if isinstance(state, tuple) else state
        return self.to_code(h[-1])


class SeqDecoder(nn.Module):
    """aerun's nn.SeqDecoder (linear output, flat): the code at every step
    into an LSTM or GRU, each step's output through a Linear."""

    def __init__(self, cell, steps, width, hidden, code):
        super().__init__()
        self.steps, self.width = steps, width
        self.rnn = (nn.LSTM if cell == "lstm" else nn.GRU)(code, hidden, batch_first=True)
        self.output = nn.Linear(hidden, width)

    def forward(self, z):
        n = z.shape[0]
        y, _ = self.rnn(z.unsqueeze(1).expand(n, self.steps, z.shape[1]))
        return self.output(y).reshape(n, self.steps * self.width)


class AutoEncoder(nn.Module):
    def __init__(self, encoder, decoder):
        super().__init__()
        self.encoder, self.decoder = encoder, decoder

    def forward(self, x):
        return self.decoder(self.encoder(x))


def build(o, channels):
    w = o.window
    if o.model == "mlp":
        d = channels * w
        return AutoEncoder(
            nn.Sequential(nn.Linear(d, o.hidden), nn.ReLU(), nn.Linear(o.hidden, o.code), nn.ReLU()),
            nn.Sequential(nn.Linear(o.code, o.hidden), nn.ReLU(), nn.Linear(o.hidden, d))), "ncw"
    if o.model == "conv":
        assert w % 4 == 0, "--model=conv needs a window that is a multiple of 4"
        return AutoEncoder(
            nn.Sequential(nn.Unflatten(1, (channels, w)),
                          nn.Conv1d(channels, 32, 7, stride=2, padding=3), nn.ReLU(),
                          nn.Conv1d(32, 16, 7, stride=2, padding=3), nn.ReLU()),
            nn.Sequential(nn.ConvTranspose1d(16, 32, 7, stride=2, padding=3, output_padding=1), nn.ReLU(),
                          nn.ConvTranspose1d(32, channels, 7, stride=2, padding=3, output_padding=1),
                          nn.Flatten())), "ncw"
    return AutoEncoder(SeqEncoder(o.model, w, channels, o.hidden, o.code),
                       SeqDecoder(o.model, w, channels, o.hidden, o.code)), "nwc"


def windows(x, y, size, stride, layout, fraction=0.0):
    """N windows (flattened in the layout's order), their labels (or None)
    and their starts (0-based)."""
    t = x.shape[0]
    starts = np.arange(0, t - size + 1, stride)
    win = np.stack([x[s:s + size] for s in starts])          # N x W x C
    if layout == "ncw":
        win = win.transpose(0, 2, 1)
    flat = np.ascontiguousarray(win.reshape(len(starts), -1), dtype=np.float32)
    if y is None:
        return flat, None, starts
    need = max(1, math.ceil(fraction * size))
    counts = np.array([(y[s:s + size] != 0).sum() for s in starts])
    return flat, (counts >= need).astype(np.int64), starts


def roc_auc(scores, labels):
    """Mann-Whitney U with ties counting half, as ae.metrics.roc_auc."""
    order = np.argsort(scores, kind="mergesort")
    s = scores[order]
    ranks = np.empty(len(s))
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        ranks[i:j + 1] = (i + j) / 2 + 1
        i = j + 1
    pos = labels[order].astype(bool)
    n_pos, n_neg = pos.sum(), (~pos).sum()
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def scores_of(model, data, batch=1000):
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(data), batch):
            xb = torch.from_numpy(data[i:i + batch])
            out.append(((model(xb) - xb) ** 2).mean(1).numpy())
    model.train()
    return np.concatenate(out).astype(np.float64)


def main():
    o = options()
    if o.threads > 0:
        torch.set_num_threads(o.threads)
    torch.manual_seed(o.seed)
    with h5py.File(o.path, "r") as f:
        train_x, train_y = f["train/x"][...].astype(np.float32), f["train/y"][...]
        test_x, test_y = f["test/x"][...].astype(np.float32), f["test/y"][...]
    channels = train_x.shape[1]
    model, layout = build(o, channels)

    t = train_x.shape[0]
    n_val = int(math.floor(t * o.val_fraction + 0.5))
    n_fit = t - n_val
    fit = train_x[:n_fit].astype(np.float64)
    mean, std = fit.mean(0), fit.std(0)
    std[std == 0] = 1
    mean, std = mean.astype(np.float32), std.astype(np.float32)

    def prepared(x):
        return (x - mean) / std

    def normal(x, y):
        w, lab, _ = windows(prepared(x), y, o.window, o.stride, layout)
        return w[lab == 0]

    train = normal(train_x[:n_fit], train_y[:n_fit])
    val = normal(train_x[n_fit:], train_y[n_fit:]) if n_val > 0 else None
    test, test_lab, starts = windows(prepared(test_x), test_y, o.window, o.test_stride, layout, o.fraction)

    opt = torch.optim.Adam(model.parameters(), lr=o.lr)
    data = torch.from_numpy(train)
    started = time.time()
    for epoch in range(1, o.epochs + 1):
        order = torch.randperm(len(data))
        total = 0.0
        for i in range(0, len(data), o.batch_size):
            xb = data[order[i:i + o.batch_size]]
            opt.zero_grad()
            loss = ((model(xb) - xb) ** 2).mean()
            loss.backward()
            opt.step()
            total += loss.item() * len(xb)
        sc = scores_of(model, test)
        print(f"epoch {epoch}/{o.epochs}  train_loss {total / len(data):.6g}  test_auc {roc_auc(sc, test_lab):.6f}",
              flush=True)
    seconds = time.time() - started

    reference = scores_of(model, val if val is not None else train)
    ref = np.sort(reference)
    threshold = float(ref[max(1, math.ceil(o.quantile * len(ref))) - 1])
    sc = scores_of(model, test)
    flagged = sc > threshold
    anomalous = test_lab == 1
    tp, fp, fn = int((flagged & anomalous).sum()), int((flagged & ~anomalous).sum()), int((~flagged & anomalous).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    result = {"framework": "pytorch " + torch.__version__, "model": o.model, "epochs": o.epochs,
              "auc": roc_auc(sc, test_lab), "threshold": threshold, "precision": precision, "recall": recall,
              "f1": f1, "train_windows": len(train), "val_windows": 0 if val is None else len(val),
              "test_windows": len(test), "test_anomalous": int(anomalous.sum()), "seconds": seconds}
    print("result " + json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main()
