-- aerun.kl: KL divergence terms (ae.kl).  Both are fused C ops
-- (runtime/ops_kl.c) with their gradients; ae.reparameterize is their
-- companion in the core.
local core = require "aerun.core"

local kl = {}

-- kl.normal(mu, logvar[, reduction]): KL(N(mu, e^logvar) || N(0, I)),
-- -0.5·Σ_j (1 + logvar - mu² - e^logvar) summed over the latent units (the
-- last dimension).  reduction:
--   "mean" (default)  the batch mean of the per-sample sums: nats per sample
--   "sum"             the batch total, as in PyTorch's VAE example
--                     (pair it with ae.loss.bce(p, x, "sum"))
--   "none"            one value per sample
-- logvar is clamped to [-30, 20] inside the op, so a diverging encoder gives
-- a large finite loss rather than inf or NaN; its gradient is zero outside
-- that range, as for clamp.
kl.normal = core.kl_normal

-- kl.sparsity(h, rho[, reduction]): Σ_j KL(rho || rho_hat_j) for the
-- sparse autoencoder, rho_hat_j = mean over the batch (first dimension) of
-- the activation h[:, j] of sigmoid unit j (h must lie in [0, 1]).
-- reduction "sum" (default) over the units, "mean" over the units, or "none"
-- (one value per unit).  rho_hat is clamped to [1e-6, 1 - 1e-6] inside the
-- logs, so dead or saturated units give finite values and gradients.
kl.sparsity = core.kl_sparsity

return require("aerun.guard").module("ae.kl", kl)
