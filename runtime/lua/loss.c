/* loss.c: the loss family (ops/loss.h) for Lua: the reconstruction losses,
 * the table ae.loss (core.loss).  Each takes a reduction, "mean" (the
 * default, as in PyTorch), "sum" or "none".
 *   ae.loss.mse(input, target[, reduction])        mean squared error
 *   ae.loss.bce(p, target[, reduction])            binary cross-entropy on
 *       probabilities in [0, 1]; logs are clamped at -100 as in PyTorch, so
 *       saturated outputs give finite losses
 *   ae.loss.bce_logits(logits, target[, reduction])  binary cross-entropy on
 *       logits, stable for any logit
 * ae.loss.cross_entropy is the classify family's (classify.c). */
#include "binding.h"

#include "ops/loss.h"

typedef ae_tensor *(*loss_fn)(ae_tensor *, ae_tensor *, ae_reduction);

static int loss(lua_State *L, loss_fn f, const char *fname)
{
    ae_tensor *a = lae_check_tensor(L, 1), *t = lae_check_tensor(L, 2);
    return lae_push_tensor(L, f(a, t, lae_check_reduction(L, 3, "mean", fname)));
}

static int l_mse(lua_State *L) { return loss(L, ae_mse_loss, "ae.loss.mse"); }
static int l_bce(lua_State *L) { return loss(L, ae_bce_loss, "ae.loss.bce"); }
static int l_bce_logits(lua_State *L) { return loss(L, ae_bce_logits_loss, "ae.loss.bce_logits"); }

static const luaL_Reg functions[] = {{"mse", l_mse}, {"bce", l_bce}, {"bce_logits", l_bce_logits}, {NULL, NULL}};

void lae_open_loss(lua_State *L) { lae_add_subtable(L, "loss", functions); }
