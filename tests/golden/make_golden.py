#!/usr/bin/python3
"""Writes tests/golden/core_golden.lua: PyTorch reference values for aerun.

Run by hand, with Debian's python3-torch (the pyenv python3 on PATH has no
torch):

    /usr/bin/python3 tests/golden/make_golden.py

Every case is computed in float32 from a fixed torch seed, so a rerun with the
same torch version rewrites the same file.  The output is a Lua chunk that
returns one table; tests/golden_spec.lua compares aerun against it, so the
specs need no PyTorch at run time.  Tensors are written as nested Lua tables
(row-major, like aerun's t:totable()), scalars as numbers; '%.9g' prints
every float32 exactly enough to read it back bit for bit.
"""

import math
import os

import torch
import torch.nn.functional as F

SEED = 20240601
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "core_golden.lua")


# ---------------------------------------------------------------- Lua writer

def num(x):
    x = float(x)
    if not math.isfinite(x):
        raise ValueError("non-finite golden value %r" % x)
    s = "%.9g" % x
    return "0" if s == "-0" else s


def lua(v, indent=""):
    """Lua source for v: tensors, numbers, strings, bools, lists, dicts."""
    inner = indent + "  "
    if isinstance(v, torch.Tensor):
        return lua(v.detach().to(torch.float32).tolist(), indent)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return num(v)
    if isinstance(v, str):
        return '"%s"' % v.replace("\\", "\\\\").replace('"', '\\"')
    if isinstance(v, (list, tuple)):
        if all(isinstance(e, (int, float)) and not isinstance(e, bool) for e in v):
            return "{" + ", ".join(num(e) for e in v) + "}"
        return "{\n" + "".join(inner + lua(e, inner) + ",\n" for e in v) + indent + "}"
    if isinstance(v, dict):
        parts = []
        for k, e in v.items():
            key = k if k.isidentifier() else '["%s"]' % k
            parts.append(inner + key + " = " + lua(e, inner) + ",\n")
        return "{\n" + "".join(parts) + indent + "}"
    raise TypeError("cannot write %r as Lua" % type(v))


def leaf(t):
    return t.detach().clone().to(torch.float32).requires_grad_(True)


# ---------------------------------------------------------------- cases

def linear_case():
    x = leaf(torch.randn(4, 5))
    lin = torch.nn.Linear(5, 3)
    g = torch.randn(4, 3)  # fixed upstream gradient: loss = (y * g).sum()
    y = lin(x)
    (y * g).sum().backward()
    return {
        "x": x, "W": lin.weight, "b": lin.bias, "g": g, "y": y,
        "grad_x": x.grad, "grad_W": lin.weight.grad, "grad_b": lin.bias.grad,
    }


def mse_case():
    a0 = torch.randn(3, 4)
    b0 = torch.randn(3, 4)
    w = torch.rand(3, 4)
    case = {"input": a0, "target": b0, "weights": w}
    for red in ("mean", "sum"):
        a, b = leaf(a0), leaf(b0)
        loss = F.mse_loss(a, b, reduction=red)
        loss.backward()
        case[red] = {"loss": loss, "grad_input": a.grad, "grad_target": b.grad}
    # reduction "none", then a weighted sum: checks the elementwise output
    # and that its backward takes an arbitrary upstream gradient.
    a, b = leaf(a0), leaf(b0)
    none = F.mse_loss(a, b, reduction="none")
    loss = (none * w).sum()
    loss.backward()
    case["none_weighted"] = {"out": none, "loss": loss,
                             "grad_input": a.grad, "grad_target": b.grad}
    return case


def bce_case():
    # Probabilities well inside (0, 1), next to the ends (1e-7, 1-1e-7) and
    # exactly at the ends with the matching target, where the loss is 0 and
    # PyTorch's gradient is 0 too.
    p0 = torch.tensor([[0.3, 0.9, 0.05, 0.5],
                       [1e-7, 1 - 1e-7, 0.0, 1.0],
                       [0.7, 0.2, 0.999, 0.01]])
    t = torch.tensor([[0.0, 1.0, 0.2, 0.5],
                      [0.3, 0.6, 0.0, 1.0],
                      [1.0, 0.0, 0.4, 0.8]])
    case = {"p": p0, "target": t}
    for red in ("mean", "sum"):
        p = leaf(p0)
        loss = F.binary_cross_entropy(p, t, reduction=red)
        loss.backward()
        case[red] = {"loss": loss, "grad_input": p.grad}
    return case


def bce_edge_case():
    # Exactly 0 or 1 against the opposite target: PyTorch clamps each log at
    # -100, so every element costs 100.  The gradient there depends on how the
    # clamp is differentiated (PyTorch divides by max(p(1-p), 1e-12) and gets
    # +-1e12), so it is stored for reference but the spec checks only that it
    # is finite.
    p0 = torch.tensor([0.0, 1.0, 0.0, 1.0])
    t = torch.tensor([1.0, 0.0, 0.75, 0.25])
    case = {"p": p0, "target": t}
    for red in ("mean", "sum"):
        p = leaf(p0)
        loss = F.binary_cross_entropy(p, t, reduction=red)
        loss.backward()
        case[red] = {"loss": loss, "grad_input": p.grad}
    return case


def bce_logits_case():
    z0 = torch.tensor([[100.0, -100.0, 30.0, -30.0],
                       [0.0, 1.5, -2.25, 0.4],
                       [-0.7, 5.0, -8.0, 12.0]])
    t = torch.tensor([[0.0, 1.0, 0.5, 0.2],
                      [0.7, 0.0, 1.0, 0.35],
                      [0.9, 0.1, 0.0, 1.0]])
    case = {"logits": z0, "target": t}
    for red in ("mean", "sum"):
        z, y = leaf(z0), leaf(t)
        loss = F.binary_cross_entropy_with_logits(z, y, reduction=red)
        loss.backward()
        for v in (loss, z.grad, y.grad):
            assert torch.isfinite(v).all(), "bce_logits must stay finite"
        case[red] = {"loss": loss, "grad_logits": z.grad, "grad_target": y.grad}
    return case


def mlp_case():
    model = torch.nn.Sequential(
        torch.nn.Linear(6, 4), torch.nn.ReLU(),
        torch.nn.Linear(4, 3), torch.nn.Sigmoid())
    x = torch.randn(5, 6)
    target = torch.rand(5, 3)
    out = model(x)
    loss = F.mse_loss(out, target)
    loss.backward()
    params = []
    for name, p in model.named_parameters():
        # aerun names module paths with "/" where PyTorch uses "."
        params.append({"name": name.replace(".", "/"), "value": p, "grad": p.grad})
    return {"x": x, "target": target, "out": out, "loss": loss, "params": params}


def run_optimizer(make, init, grads):
    p = init.clone().requires_grad_(True)
    opt = make([p])
    steps = []
    for g in grads:
        p.grad = g.clone()
        opt.step()
        steps.append(p.detach().clone())
    return steps


def optim_cases():
    init = torch.randn(7)
    grads = [torch.randn(7) for _ in range(5)]
    adam_opts = [
        {"lr": 1e-2, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0},
        {"lr": 1e-3, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1},
    ]
    sgd_opts = [
        {"lr": 0.1, "momentum": 0.0, "dampening": 0.0, "nesterov": False, "weight_decay": 0.0},
        {"lr": 0.1, "momentum": 0.9, "dampening": 0.0, "nesterov": False, "weight_decay": 0.0},
        {"lr": 0.1, "momentum": 0.9, "dampening": 0.0, "nesterov": True, "weight_decay": 0.0},
        {"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "nesterov": False, "weight_decay": 0.0},
        {"lr": 0.1, "momentum": 0.9, "dampening": 0.0, "nesterov": False, "weight_decay": 0.01},
    ]
    adam = [{"opts": o, "steps": run_optimizer(
        lambda ps, o=o: torch.optim.Adam(ps, **o), init, grads)} for o in adam_opts]
    sgd = [{"opts": o, "steps": run_optimizer(
        lambda ps, o=o: torch.optim.SGD(ps, **o), init, grads)} for o in sgd_opts]
    return {"init": init, "grads": grads, "adam": adam, "sgd": sgd}


def main():
    torch.manual_seed(SEED)
    torch.set_default_dtype(torch.float32)
    golden = {
        "torch_version": torch.__version__,
        "seed": SEED,
        "linear": linear_case(),
        "mse": mse_case(),
        "bce": bce_case(),
        "bce_edge": bce_edge_case(),
        "bce_logits": bce_logits_case(),
        "mlp": mlp_case(),
        "optim": optim_cases(),
    }
    with open(OUT, "w") as f:
        f.write("-- Generated by tests/golden/make_golden.py with torch %s; "
                "do not edit by hand.\n" % torch.__version__)
        f.write("return " + lua(golden) + "\n")
    print("wrote %s (%d bytes)" % (OUT, os.path.getsize(OUT)))


if __name__ == "__main__":
    main()
