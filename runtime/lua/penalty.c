/* penalty.c: the penalty family (ops/penalty.h) for Lua: regularisers for
 * sparse and contractive autoencoders, the table ae.penalty (core.penalty).
 * Both are fused C ops; the script multiplies them by its λ:
 * loss = recon + lambda * ae.penalty.l1(z).
 *
 * ae.penalty.l1(z): Σ_j |z_ij| per sample, averaged over the batch (the
 * first dimension): (1/N)·Σ_i Σ_j |z_ij|.  A 0-D or 1-D z counts as one
 * sample, so it gives the plain Σ|z|.  The gradient at exactly 0 is 0.
 *
 * ae.penalty.contractive(h, W): the contractive autoencoder's ‖∂h/∂x‖²_F
 * for a sigmoid layer h = sigmoid(x Wᵀ + b), in closed form:
 * (1/N)·Σ_i Σ_j (h_ij(1 - h_ij))²·Σ_k W_jk², i.e. the squared Frobenius
 * norm of each sample's Jacobian, averaged over the batch.  h is N×H (the
 * layer's sigmoid output), W is H×D (the nn.Linear weight, PyTorch's
 * orientation).  Differentiable in h and W, so the gradient reaches the
 * encoder through both. */
#include "binding.h"

#include "ops/penalty.h"

static int l_l1(lua_State *L) { return lae_push_tensor(L, ae_l1_penalty(lae_check_tensor(L, 1))); }

static int l_contractive(lua_State *L)
{
    ae_tensor *h = lae_check_tensor(L, 1), *w = lae_check_tensor(L, 2);
    return lae_push_tensor(L, ae_contractive_penalty(h, w));
}

static const luaL_Reg functions[] = {{"l1", l_l1}, {"contractive", l_contractive}, {NULL, NULL}};

void lae_open_penalty(lua_State *L) { lae_add_subtable(L, "penalty", functions); }
