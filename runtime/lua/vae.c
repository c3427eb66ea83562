/* vae.c: the autoencoder terms of ops_ae.h for Lua: KL divergences,
 * reparameterization, the L1 and contractive penalties and input noise.
 * They are functions of the core table (core.kl_normal, …); the Lua
 * modules aerun.kl, aerun.penalty and aerun.noise give them their public
 * names, and ae.reparameterize is the core function itself. */
#include "binding.h"

#include <math.h>

#include "ops/kl.h"
#include "ops/reparameterize.h"
#include "ops/penalty.h"
#include "ops/noise.h"

static ae_reduction check_reduction(lua_State *L, int arg, const char *def)
{
    static const char *const names[] = {"mean", "sum", "none", NULL};
    return (ae_reduction)luaL_checkoption(L, arg, def, names);
}

/* kl_normal(mu, logvar[, reduction = "mean"]) */
static int l_kl_normal(lua_State *L)
{
    ae_tensor *mu = lae_check_tensor(L, 1), *lv = lae_check_tensor(L, 2);
    return lae_push_tensor(L, ae_kl_normal(mu, lv, check_reduction(L, 3, "mean")));
}

/* reparameterize(mu, logvar[, eps]) */
static int l_reparameterize(lua_State *L)
{
    ae_tensor *mu = lae_check_tensor(L, 1), *lv = lae_check_tensor(L, 2);
    ae_tensor *eps = lua_isnoneornil(L, 3) ? NULL : lae_check_tensor(L, 3);
    return lae_push_tensor(L, ae_reparameterize(mu, lv, eps));
}

/* kl_sparsity(h, rho[, reduction = "sum"]) */
static int l_kl_sparsity(lua_State *L)
{
    ae_tensor *h = lae_check_tensor(L, 1);
    double rho = luaL_checknumber(L, 2);
    return lae_push_tensor(L, ae_kl_sparsity(h, rho, check_reduction(L, 3, "sum")));
}

static int l_l1_penalty(lua_State *L) { return lae_push_tensor(L, ae_l1_penalty(lae_check_tensor(L, 1))); }

static int l_contractive_penalty(lua_State *L)
{
    ae_tensor *h = lae_check_tensor(L, 1), *w = lae_check_tensor(L, 2);
    return lae_push_tensor(L, ae_contractive_penalty(h, w));
}

/* noise_gaussian(x, std[, clip = true]) */
static int l_noise_gaussian(lua_State *L)
{
    ae_tensor *x = lae_check_tensor(L, 1);
    double std = luaL_checknumber(L, 2);
    int clip = lua_isnoneornil(L, 3) ? 1 : lua_toboolean(L, 3);
    return lae_push_tensor(L, ae_noise_gaussian(x, std, clip));
}

static int l_noise_masking(lua_State *L)
{
    ae_tensor *x = lae_check_tensor(L, 1);
    return lae_push_tensor(L, ae_noise_masking(x, luaL_checknumber(L, 2)));
}

static int l_noise_salt_pepper(lua_State *L)
{
    ae_tensor *x = lae_check_tensor(L, 1);
    return lae_push_tensor(L, ae_noise_salt_pepper(x, luaL_checknumber(L, 2)));
}

static const luaL_Reg functions[] = {{"kl_normal", l_kl_normal},
                                     {"reparameterize", l_reparameterize},
                                     {"kl_sparsity", l_kl_sparsity},
                                     {"l1_penalty", l_l1_penalty},
                                     {"contractive_penalty", l_contractive_penalty},
                                     {"noise_gaussian", l_noise_gaussian},
                                     {"noise_masking", l_noise_masking},
                                     {"noise_salt_pepper", l_noise_salt_pepper},
                                     {NULL, NULL}};

void lae_open_vae(lua_State *L) { luaL_setfuncs(L, functions, 0); }
