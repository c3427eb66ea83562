/* norm.c: batch_norm and dropout for Lua (core.batch_norm,
 * core.dropout), the functional forms under nn.BatchNorm1d/2d and
 * nn.Dropout. */
#include "binding.h"

#include "ops/norm.h"
#include "ops/dropout.h"

static ae_tensor *opt_tensor(lua_State *L, int arg)
{
    return lua_isnoneornil(L, arg) ? NULL : lae_check_tensor(L, arg);
}

/* batch_norm(x, weight, bias, running_mean, running_var[, training=false,
 * momentum=0.1, eps=1e-5]); any of the four per-channel tensors may be nil */
static int l_batch_norm(lua_State *L)
{
    ae_tensor *x = lae_check_tensor(L, 1);
    ae_tensor *w = opt_tensor(L, 2), *b = opt_tensor(L, 3);
    ae_tensor *rm = opt_tensor(L, 4), *rv = opt_tensor(L, 5);
    bool training = lua_toboolean(L, 6);
    double momentum = luaL_optnumber(L, 7, 0.1), eps = luaL_optnumber(L, 8, 1e-5);
    return lae_push_tensor(L, ae_batch_norm(x, w, b, rm, rv, training, momentum, eps));
}

/* dropout(x[, p=0.5, training=true]); out of training x itself comes back */
static int l_dropout(lua_State *L)
{
    ae_tensor *x = lae_check_tensor(L, 1);
    double p = luaL_optnumber(L, 2, 0.5);
    bool training = lua_isnoneornil(L, 3) ? true : lua_toboolean(L, 3);
    ae_tensor *y = ae_dropout(x, p, training);
    if (y == x) {
        ae_release(y);
        lua_settop(L, 1);
        return 1;
    }
    return lae_push_tensor(L, y);
}

static const luaL_Reg functions[] = {{"batch_norm", l_batch_norm}, {"dropout", l_dropout}, {NULL, NULL}};

void lae_open_norm(lua_State *L) { luaL_setfuncs(L, functions, 0); }
