#!/usr/bin/python3
"""Writes tests/golden/sched_golden.lua: PyTorch's learning-rate schedulers,
to the bit, for tests/optim_spec.lua and tests/schedule_spec.lua.

Run by hand, with Debian's python3-torch:

    /usr/bin/python3 tests/golden/make_golden_sched.py

The cases (lr starts at 0.1 on one SGD parameter group; optimizer.step()
before scheduler.step(), as PyTorch wants):
  - every chainable scheduler aerun wraps (StepLR, MultiStepLR,
    ExponentialLR, CosineAnnealingLR, LinearLR, LambdaLR, SequentialLR)
    over 30 steps: lrs[1] is the rate after construction, lrs[k + 1] after
    k steps;
  - ReduceLROnPlateau over metric sequences that exercise patience,
    cooldown, both modes and threshold modes, min_lr and eps: the rate
    and best / num_bad_epochs / cooldown_counter after each step;
  - warm-ups: SequentialLR of LinearLR(start_factor, total_iters = n) and
    a second scheduler with milestone n, for ae.schedule.warmup;
  - combined: that warm-up + cosine stepped per batch and a
    ReduceLROnPlateau stepped per epoch on one optimizer (the rate after
    every step of either).
Doubles are written with '%.17g' as strings (they read back exactly; the
Lua writer's '%.9g' suits float32).  LambdaLR's functions are named (the
spec has the same formula in Lua): "pow" is 0.95 ** e, "inv" 1 / (e + 1).
"""

import os
import sys
import warnings

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True   # no __pycache__ beside the committed files
from make_golden import write_golden  # noqa: E402

OUT = os.path.join(HERE, "sched_golden.lua")
BASE_LR = 0.1
STEPS = 30
S = torch.optim.lr_scheduler
LAMBDAS = {"pow": lambda e: 0.95 ** e, "inv": lambda e: 1 / (e + 1)}


def d(x):
    return "%.17g" % x


def new_opt():
    p = torch.zeros(1, requires_grad=True)
    return torch.optim.SGD([p], lr=BASE_LR)


def make(opt, name, opts):
    if name == "LambdaLR":
        return S.LambdaLR(opt, LAMBDAS[opts["lr_lambda"]])
    if name == "SequentialLR":
        subs = [make(opt, n, o) for n, o in opts["schedulers"]]
        return S.SequentialLR(opt, subs, opts["milestones"])
    return getattr(S, name)(opt, **opts)


def lua_opts(name, opts):
    if name == "SequentialLR":
        return {"schedulers": [{"name": n, "opts": lua_opts(n, o)} for n, o in opts["schedulers"]],
                "milestones": opts["milestones"]}
    return opts


def chain_cases():
    cases = [
        ("StepLR", {"step_size": 4, "gamma": 0.7}),
        ("MultiStepLR", {"milestones": [3, 7, 8, 20], "gamma": 0.3}),
        ("ExponentialLR", {"gamma": 0.93}),
        ("CosineAnnealingLR", {"T_max": 9, "eta_min": 0.003}),
        ("CosineAnnealingLR", {"T_max": 1}),
        ("LinearLR", {}),
        ("LinearLR", {"start_factor": 0.25, "end_factor": 0.8, "total_iters": 11}),
        ("LinearLR", {"start_factor": 1.0, "end_factor": 0.1, "total_iters": 7}),
        ("LambdaLR", {"lr_lambda": "pow"}),
        ("LambdaLR", {"lr_lambda": "inv"}),
        ("SequentialLR", {"schedulers": [("LinearLR", {"start_factor": 0.1, "total_iters": 5}),
                                         ("CosineAnnealingLR", {"T_max": 20, "eta_min": 0.001})],
                          "milestones": [5]}),
        ("SequentialLR", {"schedulers": [("ExponentialLR", {"gamma": 0.9}),
                                         ("StepLR", {"step_size": 3, "gamma": 0.5}),
                                         ("LambdaLR", {"lr_lambda": "inv"})],
                          "milestones": [4, 12]}),
    ]
    out = []
    for name, opts in cases:
        opt = new_opt()
        sched = make(opt, name, opts)
        lrs = [d(opt.param_groups[0]["lr"])]
        for _ in range(STEPS):
            opt.step()
            sched.step()
            lrs.append(d(opt.param_groups[0]["lr"]))
        out.append({"name": name, "opts": lua_opts(name, opts), "lrs": lrs})
    return out


def plateau_cases():
    # metrics: a fall, a plateau inside the threshold, a rise, a fall again
    down_flat = [10, 9, 8, 8, 7.9999, 7.9995, 8, 8, 8, 7.5, 7.5, 7.5, 7.5, 7.5, 7.5,
                 7.4, 7.4, 7.4, 7.4, 7.4, 7.4, 7.4, 7.4, 7.4, 7.4, 7.4, 7.4, 7.4, 7.4, 7.4]
    up_flat = [1, 2, 2.05, 2.2, 2.25, 2.25, 2.3, 2.3, 2.3, 2.3, 2.3, 3, 3, 3, 3, 3, 3, 3, 3, 3]
    cases = [
        ({}, down_flat),
        ({"patience": 2}, down_flat),
        ({"patience": 1, "cooldown": 2, "factor": 0.5}, down_flat),
        ({"patience": 0, "threshold": 0.05, "threshold_mode": "abs", "min_lr": 0.02}, down_flat),
        ({"mode": "max", "patience": 1, "factor": 0.3}, up_flat),
        ({"mode": "max", "patience": 0, "threshold": 0.1, "threshold_mode": "abs", "cooldown": 1}, up_flat),
        # eps: a reduction smaller than eps is skipped (min_lr close to lr)
        ({"patience": 0, "factor": 0.9, "min_lr": 0.085, "eps": 1e-3}, down_flat),
        ({"patience": 0, "factor": 0.9, "min_lr": 0.085, "eps": 0.006}, down_flat),
        ({"patience": 0, "factor": 0.0, "min_lr": 1e-3, "eps": 0}, down_flat),
    ]
    out = []
    for opts, metrics in cases:
        opt = new_opt()
        sched = S.ReduceLROnPlateau(opt, **opts)
        rows = []
        for m in metrics:
            opt.step()
            sched.step(m)
            rows.append({"lr": d(opt.param_groups[0]["lr"]), "best": d(sched.best),
                         "num_bad_epochs": sched.num_bad_epochs, "cooldown_counter": sched.cooldown_counter})
        out.append({"opts": opts, "metrics": [d(m) for m in metrics], "steps": rows})
    return out


def warmup_cases():
    """SequentialLR(LinearLR(start_factor=f, total_iters=n), X, milestones=[n])."""
    cases = [
        (0.01, 5, ("CosineAnnealingLR", {"T_max": 20, "eta_min": 0.0})),
        (0.5, 3, ("ExponentialLR", {"gamma": 0.9})),
        (1e-3, 10, ("StepLR", {"step_size": 5, "gamma": 0.5})),
    ]
    out = []
    for f, n, (name, opts) in cases:
        opt = new_opt()
        lin = S.LinearLR(opt, start_factor=f, total_iters=n)
        after = make(opt, name, opts)
        sched = S.SequentialLR(opt, [lin, after], [n])
        lrs = [d(opt.param_groups[0]["lr"])]
        for _ in range(STEPS):
            opt.step()
            sched.step()
            lrs.append(d(opt.param_groups[0]["lr"]))
        out.append({"start_factor": d(f), "n": n, "after": {"name": name, "opts": opts}, "lrs": lrs})
    return out


def combined_cases():
    """A SequentialLR (LinearLR warm-up, then CosineAnnealingLR) stepped per
    batch (3 per epoch) and a ReduceLROnPlateau stepped per epoch on the same
    optimizer: the chain continues from the rate the plateau lowered."""
    metrics = [3, 2, 2, 2, 2, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1, 1, 1, 1]
    opt = new_opt()
    warm = S.LinearLR(opt, start_factor=0.1, total_iters=5)
    cos = S.CosineAnnealingLR(opt, T_max=40, eta_min=0.001)
    seq = S.SequentialLR(opt, [warm, cos], [5])
    plateau = S.ReduceLROnPlateau(opt, patience=1, factor=0.5, cooldown=1)
    lrs = []
    for m in metrics:
        for _ in range(3):
            opt.step()
            seq.step()
            lrs.append(d(opt.param_groups[0]["lr"]))
        plateau.step(m)
        lrs.append(d(opt.param_groups[0]["lr"]))
    return {"batches": 3, "metrics": [d(m) for m in metrics], "lrs": lrs}


def main():
    warnings.simplefilter("ignore")   # SequentialLR's step(0) is "deprecated"
    golden = {
        "torch_version": torch.__version__,
        "base_lr": d(BASE_LR),
        "steps": STEPS,
        "chain": chain_cases(),
        "plateau": plateau_cases(),
        "warmup": warmup_cases(),
        "combined": combined_cases(),
    }
    write_golden(OUT, golden)


if __name__ == "__main__":
    main()
