#!/usr/bin/python3
"""Writes tests/golden/ae_golden.lua: PyTorch reference values for aerun's
autoencoder terms and the optimizers beyond SGD and Adam.

Run by hand, with Debian's python3-torch:

    /usr/bin/python3 tests/golden/make_golden_ae.py

The cases, each computed in float32 from a fixed seed:
  - the VAE's KL term and reparameterization written as in PyTorch's VAE
    example (std = exp(0.5 logvar), mu + eps*std with a fixed eps,
    KLD = -0.5 * sum(1 + logvar - mu^2 - exp(logvar))), for each reduction,
    and a whole tiny VAE (BCE sum + KLD) with its parameters' gradients;
  - the sparse autoencoder's KL sparsity penalty (rho_hat clamped like aerun);
  - the L1 penalty;
  - the contractive penalty computed from the Jacobian itself, by
    torch.autograd, to confirm aerun's closed form (the script asserts the
    closed form agrees before writing anything);
  - AdamW and RMSprop trajectories over five steps of fixed gradients,
    clip_grad_norm_, and the learning-rate schedulers.
tests/ae_ops_spec.lua and tests/optim_spec.lua read the file.  The Lua writer
is make_golden.py's, so both golden files have the same format.
"""

import math
import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True   # no __pycache__ beside the committed files
from make_golden import leaf, write_golden  # noqa: E402

SEED = 20240602
OUT = os.path.join(HERE, "ae_golden.lua")


# ---------------------------------------------------------------- VAE terms

def kl_normal_terms(mu, logvar):
    """Per-sample KL(N(mu, e^logvar) || N(0, I)), the example's formula."""
    return -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), dim=-1)


def vae_case():
    mu0 = torch.randn(6, 4)
    logvar0 = torch.randn(6, 4) * 1.5
    eps = torch.randn(6, 4)
    g = torch.randn(6, 4)          # upstream gradient for z: loss = (z * g).sum()
    w = torch.rand(6) + 0.5        # weights for the per-sample KL values
    case = {"mu": mu0, "logvar": logvar0, "eps": eps, "g": g, "w": w}

    for red in ("sum", "mean"):
        mu, logvar = leaf(mu0), leaf(logvar0)
        per = kl_normal_terms(mu, logvar)
        kl = per.sum() if red == "sum" else per.mean()
        kl.backward()
        case["kl_" + red] = {"value": kl, "grad_mu": mu.grad, "grad_logvar": logvar.grad}
    # the example's own one-liner is the "sum" reduction
    kld = -0.5 * torch.sum(1 + logvar0 - mu0.pow(2) - logvar0.exp())
    assert torch.allclose(kld, case["kl_sum"]["value"])

    mu, logvar = leaf(mu0), leaf(logvar0)
    per = kl_normal_terms(mu, logvar)
    (per * w).sum().backward()
    case["kl_none"] = {"value": per, "grad_mu": mu.grad, "grad_logvar": logvar.grad}

    mu, logvar, e = leaf(mu0), leaf(logvar0), leaf(eps)
    std = torch.exp(0.5 * logvar)
    z = mu + e * std
    (z * g).sum().backward()
    case["reparameterize"] = {"z": z, "grad_mu": mu.grad, "grad_logvar": logvar.grad,
                              "grad_eps": e.grad}
    return case


def tiny_vae_case():
    """pytorch/examples' VAE shrunk to 6-4-2: fc1, relu, fc21/fc22, reparameterize
    with a fixed eps, fc3, sigmoid; loss = BCE(sum) + KLD."""
    fc1, fc21, fc22, fc3 = (torch.nn.Linear(6, 4), torch.nn.Linear(4, 2),
                            torch.nn.Linear(4, 2), torch.nn.Linear(2, 6))
    x = torch.rand(5, 6)
    eps = torch.randn(5, 2)
    h1 = F.relu(fc1(x))
    mu, logvar = fc21(h1), fc22(h1)
    z = mu + eps * torch.exp(0.5 * logvar)
    recon = torch.sigmoid(fc3(z))
    bce = F.binary_cross_entropy(recon, x, reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    loss = bce + kld
    loss.backward()
    params = []
    for name, mod in (("fc1", fc1), ("fc21", fc21), ("fc22", fc22), ("fc3", fc3)):
        params.append({"name": name, "weight": mod.weight, "bias": mod.bias,
                       "grad_weight": mod.weight.grad, "grad_bias": mod.bias.grad})
    return {"x": x, "eps": eps, "params": params, "bce": bce, "kld": kld, "loss": loss}


# ---------------------------------------------------------------- sparsity, L1

def kl_sparsity_terms(h, rho):
    rho_hat = torch.clamp(h.mean(0), 1e-6, 1 - 1e-6)
    return rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))


def sparsity_case():
    h0 = torch.sigmoid(torch.randn(8, 5) * 2)
    # a dead unit (all 0) and a saturated one (all 1): clamped, finite, no gradient
    h_edge = h0.clone()
    h_edge[:, 1] = 0.0
    h_edge[:, 3] = 1.0
    rho = 0.1
    w = torch.rand(5) + 0.5
    case = {"rho": rho, "w": w, "h": h0, "h_edge": h_edge}
    for key, base in (("plain", h0), ("edge", h_edge)):
        out = {}
        for red in ("sum", "mean", "none"):
            h = leaf(base)
            terms = kl_sparsity_terms(h, rho)
            if red == "sum":
                v = terms.sum()
                v.backward()
            elif red == "mean":
                v = terms.mean()
                v.backward()
            else:
                v = terms
                (terms * w).sum().backward()
            assert torch.isfinite(v).all() and torch.isfinite(h.grad).all()
            out[red] = {"value": v, "grad_h": h.grad}
        case[key] = out
    return case


def l1_case():
    z0 = torch.randn(4, 6)
    z = leaf(z0)
    v = z.abs().sum(1).mean()
    v.backward()
    return {"z": z0, "value": v, "grad_z": z.grad}


# ---------------------------------------------------------------- contractive

def contractive_case():
    n, d, hdim = 5, 6, 4
    x0 = torch.randn(n, d)
    lin = torch.nn.Linear(d, hdim)
    with torch.no_grad():
        lin.weight.mul_(3)   # larger weights: h away from 1/2, a sterner test
    W, b, x = lin.weight, lin.bias, leaf(x0)

    def encode(xi):
        return torch.sigmoid(F.linear(xi, W, b))

    # ||dh/dx||_F^2 per sample from the Jacobian, by autograd, averaged
    total = 0
    for i in range(n):
        J = torch.autograd.functional.jacobian(encode, x[i], create_graph=True)  # hdim x d
        assert J.shape == (hdim, d)
        total = total + (J ** 2).sum()
    penalty = total / n
    penalty.backward()

    # the closed form aerun uses, which must agree
    h = encode(x0)
    closed = (((h * (1 - h)) ** 2) * (W.detach() ** 2).sum(1)).sum(1).mean()
    assert torch.allclose(penalty, closed, rtol=1e-5, atol=1e-7), (penalty, closed)

    # the op on its own, with h and W independent leaves
    h_leaf, W_leaf = leaf(h), leaf(W)
    direct = (((h_leaf * (1 - h_leaf)) ** 2) * (W_leaf ** 2).sum(1)).sum(1).mean()
    direct.backward()
    return {
        "x": x0, "W": W, "b": b, "h": h, "penalty": penalty,
        "grad_W": W.grad, "grad_b": b.grad, "grad_x": x.grad,
        "direct": {"value": direct, "grad_h": h_leaf.grad, "grad_W": W_leaf.grad},
    }


# ---------------------------------------------------------------- optimizers

def run_optimizer(make, inits, grads):
    ps = [t.clone().requires_grad_(True) for t in inits]
    opt = make(ps)
    steps = []
    for gs in grads:
        for p, g in zip(ps, gs):
            p.grad = g.clone()
        opt.step()
        steps.append([p.detach().clone() for p in ps])
    return steps


def optim_cases():
    inits = [torch.randn(7), torch.randn(2, 3)]
    grads = [[torch.randn(7), torch.randn(2, 3)] for _ in range(5)]
    adamw_opts = [
        {},   # PyTorch's defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 1e-2
        {"lr": 1e-2, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1},
        {"lr": 5e-2, "weight_decay": 0.0},
    ]
    rmsprop_opts = [
        {},   # lr 1e-2, alpha 0.99, eps 1e-8, no decay, no momentum, not centered
        {"lr": 1e-2, "momentum": 0.9},
        {"lr": 1e-2, "centered": True},
        {"lr": 1e-2, "weight_decay": 0.1},
        {"lr": 5e-3, "alpha": 0.9, "eps": 1e-6, "momentum": 0.5, "centered": True, "weight_decay": 0.05},
    ]

    def cases(cls, opts_list):
        return [{"opts": o, "steps": run_optimizer(lambda ps, o=o: cls(ps, **o), inits, grads)}
                for o in opts_list]

    return {"inits": inits, "grads": grads,
            "adamw": cases(torch.optim.AdamW, adamw_opts),
            "rmsprop": cases(torch.optim.RMSprop, rmsprop_opts)}


def clip_cases():
    grads = [torch.randn(7), torch.randn(2, 3), torch.randn(4)]
    out = []
    for max_norm, norm_type in ((1.0, 2.0), (100.0, 2.0), (2.0, 1.0), (0.5, math.inf), (1.5, 3.0)):
        ps = [torch.zeros_like(g, requires_grad=True) for g in grads]
        for p, g in zip(ps, grads):
            p.grad = g.clone()
        total = torch.nn.utils.clip_grad_norm_(ps, max_norm, norm_type)
        out.append({"max_norm": max_norm, "norm_type": "inf" if math.isinf(norm_type) else norm_type,
                    "total": total, "grads": [p.grad for p in ps]})
    return {"grads": grads, "cases": out}


def scheduler_cases():
    base_lr, epochs = 0.1, 12
    makers = {
        "StepLR": ({"step_size": 3, "gamma": 0.5},
                   lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5)),
        "MultiStepLR": ({"milestones": [2, 5], "gamma": 0.1},
                        lambda o: torch.optim.lr_scheduler.MultiStepLR(o, milestones=[2, 5], gamma=0.1)),
        "ExponentialLR": ({"gamma": 0.9},
                          lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.9)),
        "CosineAnnealingLR": ({"T_max": 4, "eta_min": 1e-3},
                              lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=4, eta_min=1e-3)),
    }
    out = []
    for name, (opts, make) in makers.items():
        p = torch.zeros(1, requires_grad=True)
        opt = torch.optim.SGD([p], lr=base_lr)
        sched = make(opt)
        lrs = []
        for _ in range(epochs):
            opt.step()
            sched.step()
            lrs.append(opt.param_groups[0]["lr"])
        out.append({"name": name, "opts": opts, "lrs": lrs})
    return {"base_lr": base_lr, "schedulers": out}


def main():
    torch.manual_seed(SEED)
    torch.set_default_dtype(torch.float32)
    golden = {
        "torch_version": torch.__version__,
        "seed": SEED,
        "vae": vae_case(),
        "tiny_vae": tiny_vae_case(),
        "sparsity": sparsity_case(),
        "l1": l1_case(),
        "contractive": contractive_case(),
        "optim": optim_cases(),
        "clip": clip_cases(),
        "lr_scheduler": scheduler_cases(),
    }
    write_golden(OUT, golden)


if __name__ == "__main__":
    main()
