"""aerun_torch.py: aerun checkpoints as PyTorch modules, and back.  Needs only
h5py and torch (Debian: python3-h5py python3-torch).

    aerun_torch.py to-torch CHECKPOINT.h5 [-o MODEL.pt] [--check] [--tol 1e-5]
                            [--class NAME=module:Class ...]
    aerun_torch.py from-torch STATE_DICT.pt --like CHECKPOINT.h5 -o OUT.h5
                              [--class NAME=module:Class ...]

to-torch builds the torch model that /model describes, loads /params and
/buffers into it with load_state_dict(strict=True) and puts it in eval mode.
-o saves it with torch.save (torch.load needs this file importable:
PYTHONPATH=tools).  --check runs it on the checkpoint's probe input (saved by
ae.checkpoint.save(path, {model =, probe = x})) and compares with aerun's
outputs saved beside it: exit status 0 when the largest absolute difference
is at most --tol.

from-torch writes a torch state_dict (or a whole saved nn.Module) into an
aerun checkpoint shaped like --like: same /model, every name and shape
checked.  ae.checkpoint.model and ae.checkpoint.load read the result.  When
--like has a probe, OUT.h5 gets one computed by torch with the new weights.

As a library (with tools/ on sys.path):

    import aerun_torch
    model = aerun_torch.load("checkpoints/ae_mnist/latest.h5")

Every module aerun has maps to torch's: Linear, ReLU, Sigmoid, Tanh,
LeakyReLU, ELU, Softplus, Identity, Flatten, Reshape, Sequential, Conv2d,
ConvTranspose2d, Conv1d, ConvTranspose1d, MaxPool2d, Upsample, BatchNorm1d,
BatchNorm2d, Dropout, LSTM, GRU, AutoEncoder, VAE, SeqEncoder and SeqDecoder
(the last four and Reshape are classes defined here, with aerun's
encode/decode/forward).  A class a script defined (Module:extend) becomes the
built-in class it derives from when it replaces none of forward, encode and
decode; otherwise --class NAME=module:Class names a torch class, which is
called with the arguments the aerun module was made with (modules among them
already converted) and must have the same state_dict keys.
"""
import argparse
import importlib
import json
import os
import sys

import h5py
import numpy as np
import torch
from torch import nn

FORMAT, VERSION = "aerun.checkpoint", 1


class ConversionError(Exception):
    """A checkpoint or state_dict that cannot be converted; the message says why."""


# --- torch counterparts of aerun's own classes ---------------------------


class Reshape(nn.Module):
    """aerun's nn.Reshape(...): each sample to `shape`, the batch kept."""

    def __init__(self, shape):
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x):
        return x.reshape(x.shape[0], *self.shape)

    def extra_repr(self):
        return "shape=" + str(self.shape)


class AutoEncoder(nn.Module):
    """aerun's nn.AutoEncoder(encoder, decoder)."""

    def __init__(self, encoder, decoder):
        super().__init__()
        self.encoder, self.decoder = encoder, decoder

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z)

    def forward(self, x):
        return self.decoder(self.encoder(x))


class VAE(nn.Module):
    """aerun's nn.VAE(encoder, mu, logvar, decoder).  forward samples
    z = mu + exp(logvar / 2) * eps (eps from torch's RNG unless given) in
    training and evaluation alike, as aerun's does, and returns the
    reconstruction, mu and logvar."""

    def __init__(self, encoder, mu, logvar, decoder):
        super().__init__()
        self.encoder, self.mu, self.logvar, self.decoder = encoder, mu, logvar, decoder

    def encode(self, x):
        h = self.encoder(x)
        return self.mu(h), self.logvar(h)

    def decode(self, z):
        return self.decoder(z)

    def forward(self, x, eps=None):
        mu, logvar = self.encode(x)
        if eps is None:
            eps = torch.randn_like(mu)
        return self.decoder(mu + torch.exp(0.5 * logvar) * eps), mu, logvar


class SeqEncoder(nn.Module):
    """aerun's nn.SeqEncoder: a batch-first nn.LSTM or nn.GRU whose last
    layer's final hidden state a Linear maps to the code; flat
    N x (steps * input_size) input is read as N x steps x input_size."""

    def __init__(self, rnn, to_code, steps, input_size):
        super().__init__()
        self.rnn, self.to_code, self.steps, self.input_size = rnn, to_code, steps, input_size

    def forward(self, x):
        if x.dim() == 2:
            x = x.reshape(x.shape[0], self.steps, self.input_size)
        _, h = self.rnn(x)
        h = h[0] if isinstance(h, tuple) else h
        return self.to_code(h[-1])


class SeqDecoder(nn.Module):
    """aerun's nn.SeqDecoder: the code fed at every one of `steps` steps
    into a batch-first nn.LSTM or nn.GRU, a Linear a step, then a sigmoid
    (output "sigmoid") and N x (steps * output_size) (flat)."""

    def __init__(self, rnn, output, steps, sigmoid, flat):
        super().__init__()
        self.rnn, self.output, self.steps, self.sigmoid, self.flat = rnn, output, steps, sigmoid, flat

    def forward(self, z):
        y, _ = self.rnn(z.unsqueeze(1).expand(z.shape[0], self.steps, z.shape[1]))
        y = self.output(y)
        if self.sigmoid:
            y = torch.sigmoid(y)
        return y.reshape(y.shape[0], -1) if self.flat else y


def _pair(v):
    return tuple(v) if isinstance(v, (list, tuple)) else (v, v)


def _by_name(children, names, kind):
    by = dict(children)
    missing = [n for n in names if n not in by]
    if missing or len(by) != len(names):
        raise ConversionError(f"{kind} needs the children {', '.join(names)}, the architecture has "
                              f"{', '.join(by) or 'none'}")
    return [by[n] for n in names]


def _sequential(cfg, children):
    names = [n for n, _ in children]
    if names != [str(i) for i in range(len(names))]:
        raise ConversionError("Sequential's children must be named 0, 1, ... in order, got " + ", ".join(names))
    return nn.Sequential(*[m for _, m in children])


def _batch_norm(cls):
    def make(c, _):
        return cls(c["num_features"], eps=c["eps"], momentum=c["momentum"], affine=c["affine"],
                   track_running_stats=c["track_running_stats"])
    return make


def _upsample(c, _):
    if c.get("mode", "nearest") != "nearest":
        raise ConversionError("Upsample: only mode nearest exists in aerun, got " + str(c.get("mode")))
    s = c["scale_factor"]
    s = tuple(float(v) for v in s) if isinstance(s, (list, tuple)) else float(s)
    return nn.Upsample(scale_factor=s, mode="nearest")


# type name -> (config, [(child name, torch module)]) -> torch module
BUILDERS = {
    "Linear": lambda c, _: nn.Linear(c["in_features"], c["out_features"], bias=c["bias"]),
    "ReLU": lambda c, _: nn.ReLU(),
    "Sigmoid": lambda c, _: nn.Sigmoid(),
    "Tanh": lambda c, _: nn.Tanh(),
    "LeakyReLU": lambda c, _: nn.LeakyReLU(c["negative_slope"]),
    "ELU": lambda c, _: nn.ELU(c["alpha"]),
    "Softplus": lambda c, _: nn.Softplus(beta=c["beta"], threshold=c["threshold"]),
    "Identity": lambda c, _: nn.Identity(),
    # aerun's Flatten is x:reshape(N, -1), torch's default start_dim=1
    "Flatten": lambda c, _: nn.Flatten(),
    "Reshape": lambda c, _: Reshape(c["shape"]),
    "Dropout": lambda c, _: nn.Dropout(c["p"]),
    "Conv2d": lambda c, _: nn.Conv2d(c["in_channels"], c["out_channels"], _pair(c["kernel_size"]),
                                     stride=_pair(c["stride"]), padding=_pair(c["padding"]), bias=c["bias"]),
    "ConvTranspose2d": lambda c, _: nn.ConvTranspose2d(
        c["in_channels"], c["out_channels"], _pair(c["kernel_size"]), stride=_pair(c["stride"]),
        padding=_pair(c["padding"]), output_padding=_pair(c["output_padding"]), bias=c["bias"]),
    # the 1-D sizes come as one-element lists, PyTorch's (n,)
    "Conv1d": lambda c, _: nn.Conv1d(c["in_channels"], c["out_channels"], tuple(c["kernel_size"]),
                                     stride=tuple(c["stride"]), padding=tuple(c["padding"]), bias=c["bias"]),
    "ConvTranspose1d": lambda c, _: nn.ConvTranspose1d(
        c["in_channels"], c["out_channels"], tuple(c["kernel_size"]), stride=tuple(c["stride"]),
        padding=tuple(c["padding"]), output_padding=tuple(c["output_padding"]), bias=c["bias"]),
    "MaxPool2d": lambda c, _: nn.MaxPool2d(_pair(c["kernel_size"]), stride=_pair(c["stride"]),
                                           padding=_pair(c["padding"])),
    "Upsample": _upsample,
    "BatchNorm1d": _batch_norm(nn.BatchNorm1d),
    "BatchNorm2d": _batch_norm(nn.BatchNorm2d),
    "LSTM": lambda c, _: nn.LSTM(c["input_size"], c["hidden_size"], num_layers=c["num_layers"], bias=c["bias"],
                                 batch_first=c["batch_first"], dropout=c["dropout"],
                                 bidirectional=c["bidirectional"]),
    "GRU": lambda c, _: nn.GRU(c["input_size"], c["hidden_size"], num_layers=c["num_layers"], bias=c["bias"],
                               batch_first=c["batch_first"], dropout=c["dropout"], bidirectional=c["bidirectional"]),
    "Sequential": _sequential,
    "AutoEncoder": lambda c, ch: AutoEncoder(*_by_name(ch, ["encoder", "decoder"], "AutoEncoder")),
    "VAE": lambda c, ch: VAE(*_by_name(ch, ["encoder", "mu", "logvar", "decoder"], "VAE")),
    "SeqEncoder": lambda c, ch: SeqEncoder(*_by_name(ch, ["rnn", "to_code"], "SeqEncoder"), c.get("steps"),
                                           c["input_size"]),
    "SeqDecoder": lambda c, ch: SeqDecoder(*_by_name(ch, ["rnn", "output"], "SeqDecoder"), c["steps"],
                                           c["output"] == "sigmoid", c["flat"]),
}

MODULE_TYPES = sorted(BUILDERS)


# --- the architecture JSON -> a torch module -------------------------------


def parse_classes(specs):
    """["BetaVAE=mymodels:BetaVAE", ...] -> {"BetaVAE": class}"""
    out = {}
    for spec in specs or []:
        name, sep, target = spec.partition("=")
        mod, sep2, attr = target.partition(":")
        if not sep or not sep2 or not name or not mod or not attr:
            raise ConversionError(f"--class {spec}: expected NAME=module:Class")
        if os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())
        try:
            out[name] = getattr(importlib.import_module(mod), attr)
        except (ImportError, AttributeError) as e:
            raise ConversionError(f"--class {spec}: {e}") from e
    return out


def _revive(v, classes, where):
    """a constructor argument as aerun.nn recorded it -> a Python value"""
    if not isinstance(v, dict):
        return v
    if v.get("nil") is True:
        return None
    if "module" in v:
        return build(v["module"], classes, where)
    if "class" in v:
        name = v["class"]
        if name in classes:
            return classes[name]
        if hasattr(nn, name):
            return getattr(nn, name)
        raise ConversionError(f"{where}: the argument is the class {name}; name a torch class for it with "
                              f"--class {name}=module:Class")
    if "list" in v:
        return [_revive(x, classes, where) for x in v["list"]]
    if "table" in v:
        return {k: _revive(x, classes, where) for k, x in v["table"]}
    raise ConversionError(f"{where}: not a recorded argument: {v!r}")


def build(arch, classes=None, where="model"):
    """the torch module for an architecture (aerun's Module:architecture()),
    with torch's fresh weights; classes: {type name: torch class} for the
    classes a script defined"""
    classes = classes or {}
    kind = arch.get("type")
    if kind in classes:
        args = [_revive(a, classes, f"{where} ({kind}) argument {i + 1}") for i, a in enumerate(arch.get("args", []))]
        try:
            return classes[kind](*args)
        except Exception as e:  # the user's constructor: say whose it is
            raise ConversionError(f"{where}: {classes[kind].__name__}(*{args!r}) failed: {e}") from e
    base, overrides = arch.get("base"), arch.get("overrides") or []
    if overrides:
        raise ConversionError(
            f"{where}: the class {kind} replaces {', '.join(overrides)} of {base or kind}, which only its script "
            f"knows: write the torch class and pass --class {kind}=module:Class (it is called with the arguments "
            f"the aerun module was made with: {json.dumps(arch.get('args', []))})")
    target = base if base is not None else kind
    if target == "Module":
        raise ConversionError(f"{where}: the class {kind} derives from nn.Module and has no forward of its own "
                              f"in the checkpoint; pass --class {kind}=module:Class")
    if target not in BUILDERS:
        raise ConversionError(f"{where}: no torch counterpart for the module type {kind!r} "
                              f"(known: {', '.join(MODULE_TYPES)})")
    children = [(c["name"], build(c["module"], classes, f"{where}.{c['name']}")) for c in arch.get("children", [])]
    try:
        return BUILDERS[target](arch.get("config") or {}, children)
    except KeyError as e:
        raise ConversionError(f"{where}: the {kind} module's config lacks {e}") from e


# --- checkpoints ------------------------------------------------------------


def _datasets(group):
    out = {}

    def visit(name, obj):  # returns None: visititems stops at the first value returned
        if isinstance(obj, h5py.Dataset):
            out[name] = obj

    group.visititems(visit)
    return out


def _open_checked(path):
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise ConversionError(f"{path}: cannot open as HDF5: {e}") from e
    if f.attrs.get("format") != FORMAT:
        f.close()
        raise ConversionError(f"{path}: not an aerun checkpoint (format attribute {f.attrs.get('format')!r})")
    if int(f.attrs.get("format_version", 0)) > VERSION:
        f.close()
        raise ConversionError(f"{path}: format_version {int(f.attrs['format_version'])} is newer than this tool")
    if "model" not in f or "architecture" not in f["model"].attrs:
        f.close()
        raise ConversionError(f"{path}: no /model architecture")
    return f


def read_state(f):
    """/params and /buffers as a state_dict ("encoder.0.weight": tensor)"""
    sd = {}
    for group in ("params", "buffers"):
        if group in f:
            for name, d in _datasets(f[group]).items():
                sd[name.replace("/", ".")] = torch.from_numpy(np.asarray(d[()], dtype=np.float32))
    return sd


def _with_batches_tracked(model, sd):
    """aerun keeps no num_batches_tracked (momentum is always a number, where
    torch ignores it): zero, for a strict load"""
    sd = dict(sd)
    for name, m in model.named_modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats:
            sd[(name + "." if name else "") + "num_batches_tracked"] = torch.tensor(0, dtype=torch.long)
    return sd


def load(path, classes=None):
    """the torch model a checkpoint describes, weights loaded strictly, in eval mode"""
    with _open_checked(path) as f:
        arch = json.loads(f["model"].attrs["architecture"])
        sd = read_state(f)
    model = build(arch, classes)
    try:
        model.load_state_dict(_with_batches_tracked(model, sd), strict=True)
    except RuntimeError as e:
        raise ConversionError(f"{path}: the weights do not fit the torch model: {e}") from e
    return model.eval()


def is_vae(arch):
    return arch.get("type") == "VAE" or arch.get("base") == "VAE"


def probe(model, arch, x):
    """what aerun's ae.checkpoint.probe computes, in torch: {name: array}"""
    model.eval()
    with torch.no_grad():
        if is_vae(arch):
            mu, logvar = model.encode(x)
            return {"mu": mu.numpy(), "logvar": logvar.numpy(), "decoded": model.decode(mu).numpy()}
        out = model(x)
        out = out if isinstance(out, tuple) else (out,)
        return {("output" if i == 0 else f"output{i + 1}"): t.numpy() for i, t in enumerate(out)
                if isinstance(t, torch.Tensor)}


def check(path, model=None, classes=None):
    """{name: max |torch - aerun|} on the checkpoint's probe"""
    with _open_checked(path) as f:
        if "probe" not in f or "input" not in f["probe"]:
            raise ConversionError(f"{path}: no /probe to check against: save with "
                                  "ae.checkpoint.save(path, {model = model, probe = x})")
        arch = json.loads(f["model"].attrs["architecture"])
        x = torch.from_numpy(f["probe/input"][()])
        want = {k: d[()] for k, d in f["probe"].items() if k != "input"}
    model = model if model is not None else load(path, classes)
    got = probe(model, arch, x)
    if sorted(got) != sorted(want):
        raise ConversionError(f"{path}: torch gives the outputs {sorted(got)}, the probe holds {sorted(want)}")
    diffs = {}
    for k in want:
        if got[k].shape != want[k].shape:
            raise ConversionError(f"{path}: probe {k}: torch gives {got[k].shape}, aerun saved {want[k].shape}")
        diffs[k] = float(np.max(np.abs(got[k].astype(np.float64) - want[k].astype(np.float64)), initial=0.0))
    return diffs


def from_torch(state, like, out, classes=None):
    """writes `state` (a state_dict, a path to one, or an nn.Module) into
    OUT, an aerun checkpoint with LIKE's /model; returns the probe's names
    written (empty when LIKE has none or its classes are not given)"""
    if isinstance(state, str):
        try:
            state = torch.load(state, map_location="cpu")
        except Exception as e:
            raise ConversionError(f"{state}: cannot read with torch.load: {e}") from e
    if isinstance(state, nn.Module):
        state = state.state_dict()
    if not isinstance(state, dict):
        raise ConversionError(f"expected a state_dict (a dict of tensors) or an nn.Module, got {type(state).__name__}")
    with _open_checked(like) as f:
        arch_text = f["model"].attrs["architecture"]
        want = {}
        for group in ("params", "buffers"):
            for name, d in (_datasets(f[group]).items() if group in f else []):
                want[name.replace("/", ".")] = (group, tuple(d.shape))
        config = f["config"].attrs["json"] if "config" in f and "json" in f["config"].attrs else "{}"
        probe_x = f["probe/input"][()] if "probe" in f and "input" in f["probe"] else None
    problems, values = [], {}
    for key, t in state.items():
        if key.endswith("num_batches_tracked") and key[:-len("num_batches_tracked")] + "running_mean" in want:
            continue  # aerun keeps none (see _with_batches_tracked)
        if key not in want:
            problems.append(f"{key}: not in {like}")
            continue
        if not isinstance(t, torch.Tensor) or not t.is_floating_point():
            problems.append(f"{key}: expected a floating-point tensor, got "
                            f"{t.dtype if isinstance(t, torch.Tensor) else type(t).__name__}")
            continue
        if tuple(t.shape) != want[key][1]:
            problems.append(f"{key}: state_dict has {tuple(t.shape)}, {like} has {want[key][1]}")
            continue
        values[key] = t.detach().cpu().to(torch.float32).contiguous().numpy()
    missing = [k for k in want if k not in state]
    if missing:
        problems.append("missing in the state_dict: " + ", ".join(sorted(missing)))
    if problems:
        raise ConversionError("the state_dict does not match " + like + ":\n  " + "\n  ".join(problems))
    outputs = {}
    if probe_x is not None:
        arch = json.loads(arch_text)
        try:
            model = build(arch, classes)
        except ConversionError as e:
            print(f"note: no probe written ({e})", file=sys.stderr)
        else:
            model.load_state_dict(_with_batches_tracked(model, {k: torch.from_numpy(v) for k, v in values.items()}),
                                  strict=True)
            outputs = probe(model, arch, torch.from_numpy(probe_x))
    tmp = out + ".tmp"
    with h5py.File(tmp, "w") as g:
        g.attrs["format"] = FORMAT
        g.attrs["format_version"] = np.int64(VERSION)
        g.attrs["aerun_version"] = "aerun_torch.py (torch " + torch.__version__ + ")"
        g.attrs["created"] = __import__("datetime").datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
        g.create_group("params")
        g.create_group("buffers")
        for key, v in values.items():
            g.create_dataset(want[key][0] + "/" + key.replace(".", "/"), data=v.astype("<f4"))
        g.create_group("model").attrs["architecture"] = arch_text
        g.create_group("config").attrs["json"] = config
        train = g.create_group("train")
        for k in ("epoch", "step", "seed"):
            train.attrs[k] = np.int64(0)
        train.attrs["script"] = "from-torch"
        train.create_group("metrics")
        if outputs:
            g["probe/input"] = probe_x
            for k, v in outputs.items():
                g["probe/" + k] = v.astype("<f4")
    os.replace(tmp, out)
    return sorted(outputs)


# --- the command line -------------------------------------------------------


def main(argv=None):
    p = argparse.ArgumentParser(prog="aerun_torch.py", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("to-torch", help="a checkpoint's model as a torch nn.Module")
    t.add_argument("checkpoint")
    t.add_argument("-o", "--output", help="torch.save the module here")
    t.add_argument("--check", action="store_true", help="compare with aerun's outputs on the checkpoint's probe")
    t.add_argument("--tol", type=float, default=1e-5, help="largest absolute difference --check accepts")
    t.add_argument("--class", dest="classes", action="append", metavar="NAME=module:Class")
    b = sub.add_parser("from-torch", help="a torch state_dict into an aerun checkpoint")
    b.add_argument("state_dict")
    b.add_argument("--like", required=True, help="an aerun checkpoint of the same model")
    b.add_argument("-o", "--output", required=True)
    b.add_argument("--class", dest="classes", action="append", metavar="NAME=module:Class")
    a = p.parse_args(argv)
    try:
        classes = parse_classes(a.classes)
        if a.command == "to-torch":
            model = load(a.checkpoint, classes)
            print(model)
            if a.output:
                torch.save(model, a.output)
                print("saved", a.output)
            if a.check:
                diffs = check(a.checkpoint, model, classes)
                for k, d in sorted(diffs.items()):
                    print(f"probe {k}: max |torch - aerun| = {d:.3g}")
                worst = max(diffs.values())
                if worst > a.tol:
                    print(f"FAILED: {worst:.3g} > {a.tol:g}")
                    return 1
                print(f"OK: max |torch - aerun| = {worst:.3g} <= {a.tol:g}")
        else:
            names = from_torch(a.state_dict, a.like, a.output, classes)
            print("wrote", a.output + (" with the probe " + ", ".join(names) if names else ""))
    except ConversionError as e:
        print("aerun_torch.py: " + str(e), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    # run as a script, the classes above are __main__'s; torch.save must
    # name them as aerun_torch's so that torch.load finds them again
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import aerun_torch
    sys.exit(aerun_torch.main())
