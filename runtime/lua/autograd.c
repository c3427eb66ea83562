/* autograd.c: the autograd engine (core/autograd.h) for Lua: x:backward([g]),
 * ae.no_grad(f, ...), ae.set_grad_enabled(on) and ae.is_grad_enabled(). */
#include "binding.h"

#include "core/autograd.h"
#include "anomaly.h"

static int l_backward(lua_State *L)
{
    ae_tensor *t = lae_check_tensor(L, 1);
    ae_tensor *g = lae_opt_tensor(L, 2);
    int rc = ae_backward(t, g);
    if (ae_anomaly_on) lae_anomaly_locate(L, " in backward");
    if (rc != 0) return lae_raise(L);
    return 0;
}

/* grad mode */
static int l_no_grad(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TFUNCTION);
    bool was = ae_grad_enabled();
    ae_set_grad_enabled(false);
    int n = lua_gettop(L) - 1;
    int rc = lua_pcall(L, n, LUA_MULTRET, 0);
    ae_set_grad_enabled(was);
    if (rc != LUA_OK) return lua_error(L);
    return lua_gettop(L);
}

static int l_set_grad_enabled(lua_State *L)
{
    ae_set_grad_enabled(lua_toboolean(L, 1));
    return 0;
}

static int l_is_grad_enabled(lua_State *L)
{
    lua_pushboolean(L, ae_grad_enabled());
    return 1;
}

static const luaL_Reg methods[] = {{"backward", l_backward}, {NULL, NULL}};

static const luaL_Reg functions[] = {{"no_grad", l_no_grad},
                                     {"set_grad_enabled", l_set_grad_enabled},
                                     {"is_grad_enabled", l_is_grad_enabled},
                                     {NULL, NULL}};

void lae_open_autograd(lua_State *L)
{
    luaL_setfuncs(L, functions, 0);
    lae_add_methods(L, methods);
}
