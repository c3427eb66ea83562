#!/usr/bin/python3
"""Writes tests/golden/optim_golden.lua: PyTorch's optimizer arithmetic, to the
bit, for tests/optim_spec.lua.

Run by hand, with Debian's python3-torch:

    /usr/bin/python3 tests/golden/make_golden_optim.py

The cases, all float32 on the CPU (PyTorch 1.13's single-tensor path):
  - the issue's reproducer: p = 0, gradient 1, lr 1, beta1 0.9, eps 0 and
    beta2 0.999, 0.9999, 0.99999, one step of Adam and of AdamW;
  - one step from a given state (exp_avg, exp_avg_sq, step 7) of Adam,
    Adam with L2 weight decay and AdamW, parameters spread over +-10;
  - 300 steps of Adam, AdamW, RMSprop and SGD on a fixed quadratic,
    gradient (p - target) * curvature computed outside autograd (two
    float32 operations, which aerun repeats exactly), betas (0.9, 0.9999)
    for the Adams: the parameter at a few steps and the final state;
  - the learning-rate schedulers' lr over 60 epochs, as exact doubles;
  - clip_grad_norm_'s total and clipped gradients for each norm type.
Parameters are a 71-vector (ATen's AVX2 loops do 16 at a time, so both the
vector body and the scalar tail are covered) and a 3x5 matrix.  Values are
written with '%.9g', which reads back to the same float32.
"""

import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True   # no __pycache__ beside the committed files
from make_golden import write_golden  # noqa: E402

SEED = 20240603
OUT = os.path.join(HERE, "optim_golden.lua")
SHAPES = [(71,), (3, 5)]
STEPS = 300
CHECKPOINTS = [1, 2, 3, 10, 50, 100, 150, 200, 250, 300]


def reproducer_cases():
    out = []
    for name, cls in (("Adam", torch.optim.Adam), ("AdamW", torch.optim.AdamW)):
        for beta2 in (0.999, 0.9999, 0.99999):
            p = torch.zeros(1, requires_grad=True)
            opt = cls([p], lr=1.0, betas=(0.9, beta2), eps=0.0)
            opt.zero_grad()
            p.sum().backward()
            opt.step()
            out.append({"optimizer": name, "beta2": beta2, "p": p})
    return out


def single_step_cases():
    ps = [torch.randn(s) * 10 for s in SHAPES]
    grads = [torch.randn(s) * 3 for s in SHAPES]
    exp_avgs = [torch.randn(s) * 0.5 for s in SHAPES]
    exp_avg_sqs = [torch.rand(s) * 2 + 1e-3 for s in SHAPES]
    step = 7  # the state after 6 steps: this step is the 7th
    cases = []
    for name, cls, opts in (
            ("Adam", torch.optim.Adam, {"lr": 1e-2, "betas": [0.9, 0.9999], "eps": 1e-8, "weight_decay": 0.0}),
            ("Adam", torch.optim.Adam, {"lr": 3e-3, "betas": [0.8, 0.999], "eps": 1e-6, "weight_decay": 0.1}),
            ("AdamW", torch.optim.AdamW, {"lr": 5e-2, "betas": [0.9, 0.99999], "eps": 1e-8, "weight_decay": 0.05})):
        params = [p.clone().requires_grad_(True) for p in ps]
        o = dict(opts)
        o["betas"] = tuple(o["betas"])
        opt = cls(params, **o)
        for i, p in enumerate(params):
            opt.state[p] = {"step": torch.tensor(float(step - 1)),
                            "exp_avg": exp_avgs[i].clone(), "exp_avg_sq": exp_avg_sqs[i].clone()}
            p.grad = grads[i].clone()
        opt.step()
        cases.append({"optimizer": name, "opts": opts,
                      "p": [p.detach() for p in params],
                      "exp_avg": [opt.state[p]["exp_avg"] for p in params],
                      "exp_avg_sq": [opt.state[p]["exp_avg_sq"] for p in params]})
    return {"step": step, "p": ps, "grad": grads, "exp_avg": exp_avgs, "exp_avg_sq": exp_avg_sqs,
            "cases": cases}


def trajectory_cases():
    inits = [torch.randn(s) * 10 for s in SHAPES]
    targets = [torch.randn(s) * 5 for s in SHAPES]
    curvatures = [torch.rand(s) * 2 + 0.1 for s in SHAPES]
    makers = [
        ("Adam", {"lr": 5e-2, "betas": [0.9, 0.9999], "eps": 1e-8, "weight_decay": 0.0}),
        ("Adam", {"lr": 5e-2, "betas": [0.9, 0.9999], "eps": 1e-8, "weight_decay": 1e-2}),
        ("AdamW", {"lr": 5e-2, "betas": [0.9, 0.9999], "eps": 1e-8, "weight_decay": 1e-2}),
        ("RMSprop", {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8, "weight_decay": 1e-2, "momentum": 0.5,
                     "centered": True}),
        ("RMSprop", {"lr": 1e-2, "alpha": 0.9, "eps": 1e-8, "weight_decay": 0.0, "momentum": 0.0,
                     "centered": False}),
        ("SGD", {"lr": 2e-2, "momentum": 0.9, "dampening": 0.1, "weight_decay": 1e-2, "nesterov": False}),
        ("SGD", {"lr": 2e-2, "momentum": 0.9, "dampening": 0.0, "weight_decay": 1e-2, "nesterov": True}),
    ]
    cases = []
    for name, opts in makers:
        o = dict(opts)
        if "betas" in o:
            o["betas"] = tuple(o["betas"])
        params = [t.clone().requires_grad_(True) for t in inits]
        opt = getattr(torch.optim, name)(params, **o)
        at = []
        for k in range(1, STEPS + 1):
            with torch.no_grad():
                for p, t, a in zip(params, targets, curvatures):
                    p.grad = (p - t) * a
            opt.step()
            if k in CHECKPOINTS:
                at.append([p.detach().clone() for p in params])
        state = [{k: v for k, v in opt.state[p].items() if k != "step"} for p in params]
        cases.append({"optimizer": name, "opts": opts, "at": at, "state": state})
    return {"steps": STEPS, "checkpoints": CHECKPOINTS, "inits": inits, "targets": targets,
            "curvatures": curvatures, "cases": cases}


def clip_cases():
    """clip_grad_norm_ over gradients of 196, 70, 3x5, 5 and 1 elements
    (ATen's 2-norm does blocks of eight, then four, then one, so the sizes
    and counts leave remainders 0 to 7), each norm type."""
    grads = [torch.randn(196) * 0.3, torch.randn(70) * 5, torch.randn(3, 5), torch.randn(5) * 0.01,
             torch.randn(1) * 2]
    out = []
    for norm_type in (2.0, 1.0, float("inf"), 3.0, 2.5):
        runs = [(0.5, (0, 1, 2, 3, 4)), (0.5, (2,)), (0.5, (0, 1, 2))]
        if norm_type == 2.0:
            runs.append((1e4, (0, 1, 2, 3, 4)))   # below max_norm: unchanged
        for max_norm, subset in runs:
            gs = [grads[i] for i in subset]
            ps = [torch.zeros_like(g, requires_grad=True) for g in gs]
            for p, g in zip(ps, gs):
                p.grad = g.clone()
            total = torch.nn.utils.clip_grad_norm_(ps, max_norm, norm_type)
            out.append({"max_norm": max_norm, "norm_type": "inf" if norm_type == float("inf") else norm_type,
                        "which": [i + 1 for i in subset], "total": total, "grads": [p.grad for p in ps]})
    return {"grads": grads, "cases": out}


def scheduler_cases():
    """Each scheduler's lr over 60 epochs, written with '%.17g' as strings
    (the Lua writer's '%.9g' suits float32, not the double an lr is)."""
    base_lr, epochs = 0.1, 60
    S = torch.optim.lr_scheduler
    makers = [
        ("StepLR", {"step_size": 3, "gamma": 0.1}, lambda o: S.StepLR(o, step_size=3, gamma=0.1)),
        ("MultiStepLR", {"milestones": [2, 5, 9], "gamma": 0.3},
         lambda o: S.MultiStepLR(o, milestones=[2, 5, 9], gamma=0.3)),
        ("ExponentialLR", {"gamma": 0.9}, lambda o: S.ExponentialLR(o, gamma=0.9)),
        ("CosineAnnealingLR", {"T_max": 7, "eta_min": 1e-3}, lambda o: S.CosineAnnealingLR(o, T_max=7, eta_min=1e-3)),
        ("CosineAnnealingLR", {"T_max": 50, "eta_min": 0}, lambda o: S.CosineAnnealingLR(o, T_max=50)),
    ]
    out = []
    for name, opts, make in makers:
        p = torch.zeros(1, requires_grad=True)
        opt = torch.optim.SGD([p], lr=base_lr)
        sched = make(opt)
        lrs = []
        for _ in range(epochs):
            opt.step()
            sched.step()
            lrs.append("%.17g" % opt.param_groups[0]["lr"])
        out.append({"name": name, "opts": opts, "lrs": lrs})
    return {"base_lr": base_lr, "schedulers": out}


def main():
    torch.manual_seed(SEED)
    torch.set_default_dtype(torch.float32)
    golden = {
        "torch_version": torch.__version__,
        "seed": SEED,
        "reproducer": reproducer_cases(),
        "single_step": single_step_cases(),
        "trajectory": trajectory_cases(),
        "lr_scheduler": scheduler_cases(),
        "clip": clip_cases(),
    }
    write_golden(OUT, golden)


if __name__ == "__main__":
    main()
