-- aerun.penalty: regularisers for sparse and contractive autoencoders
-- (ae.penalty).  Both are fused C ops (runtime/ops_penalty.c); the script
-- multiplies them by its λ: loss = recon + lambda * ae.penalty.l1(z).
local core = require "aerun.core"

local penalty = {}

-- penalty.l1(z): Σ_j |z_ij| per sample, averaged over the batch (the first
-- dimension): (1/N)·Σ_i Σ_j |z_ij|.  A 0-D or 1-D z counts as one sample, so
-- it gives the plain Σ|z|.  The gradient at exactly 0 is 0.
penalty.l1 = core.l1_penalty

-- penalty.contractive(h, W): the contractive autoencoder's ‖∂h/∂x‖²_F for
-- a sigmoid layer h = sigmoid(x Wᵀ + b), in closed form:
-- (1/N)·Σ_i Σ_j (h_ij(1 - h_ij))²·Σ_k W_jk², i.e. the squared Frobenius
-- norm of each sample's Jacobian, averaged over the batch.  h is N×H (the
-- layer's sigmoid output), W is H×D (the nn.Linear weight, PyTorch's
-- orientation).  Differentiable in h and W, so the gradient reaches the
-- encoder through both.
penalty.contractive = core.contractive_penalty

return require("aerun.guard").module("ae.penalty", penalty)
