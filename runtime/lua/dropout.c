/* dropout.c: the dropout family (ops/dropout.h) for Lua: ae.dropout, the
 * functional form under nn.Dropout. */
#include "binding.h"

#include "ops/dropout.h"

/* dropout(x[, p=0.5, training=true]); out of training x itself comes back */
static int l_dropout(lua_State *L)
{
    ae_tensor *x = lae_check_tensor(L, 1);
    double p = lae_opt_number(L, 2, 0.5);
    bool training = lua_isnoneornil(L, 3) ? true : lua_toboolean(L, 3);
    ae_tensor *y = ae_dropout(x, p, training);
    if (y == x) {
        ae_release(y);
        lua_settop(L, 1);
        return 1;
    }
    return lae_push_tensor(L, y);
}

static const luaL_Reg functions[] = {{"dropout", l_dropout}, {NULL, NULL}};

void lae_open_dropout(lua_State *L) { luaL_setfuncs(L, functions, 0); }
