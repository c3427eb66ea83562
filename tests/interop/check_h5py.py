"""check_h5py.py: an aerun checkpoint as h5py (and so NumPy users) sees it.

    /usr/bin/python3 tests/interop/check_h5py.py CHECKPOINT EXPECTED_JSON

EXPECTED_JSON, written by tests/interop_spec.lua, lists the model's
parameters ({"params": {"encoder/0/weight": [128, 784], ...}}) and what was
saved (epoch, step, seed, script, metric names, config, optimizer type).
Checks every item of README.md's "Checkpoint format, version 1" section:
names, dtypes, shapes, and that strings come back as str, integers as
integers.  Needs only h5py.  Prints "OK" and exits 0 when everything holds.
"""
import json
import sys

import h5py
import numpy as np


def datasets(group):
    out = {}
    group.visititems(lambda name, obj: out.__setitem__(name, obj) if isinstance(obj, h5py.Dataset) else None)
    return out


def is_str(v):
    return isinstance(v, str)


def is_int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def main(path, expected_path):
    with open(expected_path) as f:
        want = json.load(f)
    with h5py.File(path, "r") as f:
        root = f.attrs
        assert root["format"] == "aerun.checkpoint" and is_str(root["format"]), root["format"]
        assert is_int(root["format_version"]) and root["format_version"] == 1
        assert is_str(root["aerun_version"])
        assert is_str(root["created"]) and root["created"].endswith("Z")

        params = datasets(f["params"])
        assert sorted(params) == sorted(want["params"]), (sorted(params), sorted(want["params"]))
        for name, shape in want["params"].items():
            d = params[name]
            assert d.dtype == np.dtype("<f4"), (name, d.dtype)
            assert list(d.shape) == shape, (name, d.shape, shape)
            assert np.all(np.isfinite(d[()])), name
        assert isinstance(f["buffers"], h5py.Group)

        arch = json.loads(f["model"].attrs["architecture"])
        assert is_str(f["model"].attrs["architecture"])
        assert arch["type"] == want["architecture_type"], arch["type"]

        opt = f["optimizer"].attrs
        assert is_str(opt["type"]) and opt["type"] == want["optimizer"]
        hyper = json.loads(opt["hyperparameters"])
        assert isinstance(hyper, dict) and "lr" in hyper, hyper
        assert is_int(opt["step"]) and opt["step"] == want["step"]
        state = datasets(f["optimizer/state"])
        for name, shape in want["params"].items():
            for slot in ("exp_avg", "exp_avg_sq"):
                d = state[name + "/" + slot]
                assert d.dtype == np.dtype("<f4") and list(d.shape) == shape, (name, slot)
            assert state[name + "/step"].shape == ()

        train = f["train"].attrs
        for key in ("epoch", "step", "seed"):
            assert is_int(train[key]) and train[key] == want[key], (key, train[key], want[key])
        assert is_str(train["script"]) and train["script"] == want["script"]
        rng = f["train/rng_state"]
        assert rng.dtype == np.uint8 and rng.shape == (48,), (rng.dtype, rng.shape)
        metrics = datasets(f["train/metrics"])
        assert sorted(metrics) == sorted(want["metrics"]), sorted(metrics)
        for name, values in want["metrics"].items():
            assert metrics[name].dtype == np.dtype("<f8")
            assert metrics[name][()].tolist() == values, (name, metrics[name][()])

        config = json.loads(f["config"].attrs["json"])
        assert is_str(f["config"].attrs["json"])
        assert config == want["config"], (config, want["config"])
    print("OK")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(*sys.argv[1:])
