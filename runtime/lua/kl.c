/* kl.c: the kl family (ops/kl.h) for Lua: the KL divergence terms, the
 * table ae.kl (core.kl).  Both are fused C ops with their gradients;
 * ae.reparameterize (reparameterize.c) is their companion.
 *
 * ae.kl.normal(mu, logvar[, reduction]): KL(N(mu, e^logvar) || N(0, I)),
 * -0.5·Σ_j (1 + logvar - mu² - e^logvar) summed over the latent units (the
 * last dimension).  reduction:
 *   "mean" (default)  the batch mean of the per-sample sums: nats per sample
 *   "sum"             the batch total, as in PyTorch's VAE example
 *                     (pair it with ae.loss.bce(p, x, "sum"))
 *   "none"            one value per sample
 * logvar is clamped to [-30, 20] inside the op, so a diverging encoder gives
 * a large finite loss rather than inf or NaN; its gradient is zero outside
 * that range, as for clamp.
 *
 * ae.kl.sparsity(h, rho[, reduction]): Σ_j KL(rho || rho_hat_j) for the
 * sparse autoencoder, rho_hat_j = mean over the batch (first dimension) of
 * the activation h[:, j] of sigmoid unit j (h must lie in [0, 1]).
 * reduction "sum" (default) over the units, "mean" over the units, or "none"
 * (one value per unit).  rho_hat is clamped to [1e-6, 1 - 1e-6] inside the
 * logs, so dead or saturated units give finite values and gradients. */
#include "binding.h"

#include "ops/kl.h"

static int l_normal(lua_State *L)
{
    ae_tensor *mu = lae_check_tensor(L, 1), *lv = lae_check_tensor(L, 2);
    return lae_push_tensor(L, ae_kl_normal(mu, lv, lae_check_reduction(L, 3, "mean", "ae.kl.normal")));
}

static int l_sparsity(lua_State *L)
{
    ae_tensor *h = lae_check_tensor(L, 1);
    double rho = lae_check_number(L, 2);
    return lae_push_tensor(L, ae_kl_sparsity(h, rho, lae_check_reduction(L, 3, "sum", "ae.kl.sparsity")));
}

static const luaL_Reg functions[] = {{"normal", l_normal}, {"sparsity", l_sparsity}, {NULL, NULL}};

void lae_open_kl(lua_State *L) { lae_add_subtable(L, "kl", functions); }
