/* norm.c: the norm family (ops/norm.h) for Lua: ae.batch_norm, the
 * functional form under nn.BatchNorm1d/2d. */
#include "binding.h"

#include "ops/norm.h"

/* batch_norm(x, weight, bias, running_mean, running_var[, training=false,
 * momentum=0.1, eps=1e-5]); any of the four per-channel tensors may be nil */
static int l_batch_norm(lua_State *L)
{
    ae_tensor *x = lae_check_tensor(L, 1);
    ae_tensor *w = lae_opt_tensor(L, 2), *b = lae_opt_tensor(L, 3);
    ae_tensor *rm = lae_opt_tensor(L, 4), *rv = lae_opt_tensor(L, 5);
    bool training = lua_toboolean(L, 6);
    double momentum = lae_opt_number(L, 7, 0.1), eps = lae_opt_number(L, 8, 1e-5);
    return lae_push_tensor(L, ae_batch_norm(x, w, b, rm, rv, training, momentum, eps));
}

static const luaL_Reg functions[] = {{"batch_norm", l_batch_norm}, {NULL, NULL}};

void lae_open_norm(lua_State *L) { luaL_setfuncs(L, functions, 0); }
