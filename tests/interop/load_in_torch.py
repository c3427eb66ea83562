"""load_in_torch.py: an aerun checkpoint, read by PyTorch through h5py alone.

    /usr/bin/python3 tests/interop/load_in_torch.py CHECKPOINT IO_FILE EXPORT

CHECKPOINT holds the seed tutorial's MLP autoencoder (784-128-64-32 and the
mirror, ReLU, sigmoid output) saved by aerun; IO_FILE holds inputs /x and
aerun's outputs /y.  The script

  1. builds the equivalent torch model by hand (encoder and decoder
     Sequentials), loads /params with load_state_dict(strict=True), runs it
     on /x and compares with /y (max abs difference <= 1e-5);
  2. builds a second torch model from /model's architecture JSON alone
     (tools/aerun_torch.py's build) and checks that it computes the same;
  3. writes EXPORT, a checkpoint in aerun's format made from a torch model
     with new weights (format attributes, /params, /model, /config), with
     inputs /interop/x and torch's outputs /interop/y, for aerun to load.

Prints "OK" and exits 0 when everything holds.
"""
import json
import sys

import os

import h5py
import numpy as np
import torch
from torch import nn

# the converter's builder (tools/aerun_torch.py) makes the model from /model
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import aerun_torch  # noqa: E402


class AutoEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU())
        self.decoder = nn.Sequential(
            nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 784), nn.Sigmoid())

    def forward(self, x):
        return self.decoder(self.encoder(x))


def read_state_dict(f):
    """/params/<module path> -> {"encoder.0.weight": tensor}"""
    sd = {}

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            assert obj.dtype == np.float32, f"/params/{name} is {obj.dtype}"
            sd[name.replace("/", ".")] = torch.from_numpy(obj[()])

    f["params"].visititems(visit)
    return sd


def max_diff(a, b):
    return float(np.max(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))))


def main(checkpoint, io_file, export):
    with h5py.File(checkpoint, "r") as f:
        assert f.attrs["format"] == "aerun.checkpoint"
        assert int(f.attrs["format_version"]) == 1
        sd = read_state_dict(f)
        arch = json.loads(f["model"].attrs["architecture"])
    with h5py.File(io_file, "r") as f:
        x = torch.from_numpy(f["x"][()])
        y_aerun = f["y"][()]

    model = AutoEncoder()
    model.load_state_dict(sd, strict=True)
    model.eval()
    with torch.no_grad():
        y = model(x).numpy()
    d = max_diff(y, y_aerun)
    print(f"torch vs aerun outputs: max |difference| = {d:.3g}")
    assert d <= 1e-5, d

    rebuilt = aerun_torch.build(arch)
    rebuilt.load_state_dict(sd, strict=True)
    with torch.no_grad():
        d2 = max_diff(rebuilt(x).numpy(), y)
    assert d2 == 0.0, d2

    # the other way: torch's weights in aerun's layout
    torch.manual_seed(0)
    other = AutoEncoder().eval()
    xs = torch.rand(8, 784)
    with torch.no_grad():
        ys = other(xs)
    with h5py.File(export, "w") as f:
        f.attrs["format"] = "aerun.checkpoint"
        f.attrs["format_version"] = 1
        f.attrs["aerun_version"] = "torch " + torch.__version__
        f.attrs["created"] = "2024-01-01T00:00:00Z"
        for key, value in other.state_dict().items():
            f.create_dataset("params/" + key.replace(".", "/"), data=value.numpy().astype("<f4"))
        f.create_group("buffers")
        f.create_group("model").attrs["architecture"] = json.dumps(arch)
        f.create_group("config").attrs["json"] = json.dumps({"source": "torch", "lr": 0.001})
        f.create_group("train").attrs["epoch"] = 7
        f["interop/x"] = xs.numpy()
        f["interop/y"] = ys.numpy()
    print("OK")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
