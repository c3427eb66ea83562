/* binding.c: the helpers of binding.h, shared by every binding file:
 * tensors in and out of Lua, argument checks, and the registration of
 * functions, tensor methods and classes. */
#include "binding.h"

#include <math.h>
#include <string.h>

#include "core/error.h"
#include "anomaly.h"

/* bytes of tensors handed to Lua since the collector was last told */
static size_t unreported_bytes;

int lae_raise(lua_State *L) { return luaL_error(L, "%s", ae_error()); }

ae_tensor *lae_test_tensor(lua_State *L, int idx)
{
    ae_tensor **u = luaL_testudata(L, idx, LAE_TENSOR);
    return u ? *u : NULL;
}

ae_tensor *lae_check_tensor(lua_State *L, int idx)
{
    ae_tensor *t = lae_test_tensor(L, idx);
    if (!t) {
        const char *got = luaL_typename(L, idx);
        luaL_argerror(L, idx, lua_pushfstring(L, "tensor expected, got %s", got));
    }
    return t;
}

ae_tensor *lae_opt_tensor(lua_State *L, int arg) { return lua_isnoneornil(L, arg) ? NULL : lae_check_tensor(L, arg); }

int lae_push_tensor(lua_State *L, ae_tensor *t)
{
    if (!t) return lae_raise(L);
    if (ae_anomaly_on) lae_anomaly_check_result(L, t);
    ae_tensor **u = lua_newuserdatauv(L, sizeof *u, 0);
    *u = t;
    luaL_setmetatable(L, LAE_TENSOR);
    /* Lua sees a pointer-sized userdata; tell the collector about the
     * floats behind it so it runs as often as the memory really demands */
    unreported_bytes += (size_t)ae_numel(t) * sizeof(float) + sizeof *t;
    if (unreported_bytes > (1u << 20)) {
        lua_gc(L, LUA_GCSTEP, (int)(unreported_bytes >> 10));
        unreported_bytes = 0;
    }
    return 1;
}

int64_t lae_check_int(lua_State *L, int arg, const char *what)
{
    lua_Number x = luaL_checknumber(L, arg);
    if (!(x == floor(x)) || fabs(x) > 9.0e15)
        luaL_argerror(L, arg, lua_pushfstring(L, "%s must be an integer, got %s", what, luaL_tolstring(L, arg, NULL)));
    return (int64_t)x;
}

int lae_check_dim(lua_State *L, int arg, int ndim)
{
    int64_t d = lae_check_int(L, arg, "dimension");
    int64_t r = d > 0 ? d - 1 : d < 0 ? ndim + d : -1;
    if (r < 0 || r >= ndim)
        luaL_argerror(L, arg,
                      lua_pushfstring(L, "dimension %d out of range for a %d-D tensor (use 1..%d or -1..-%d)", (int)d,
                                      ndim, ndim, ndim));
    return (int)r;
}

int lae_check_shape(lua_State *L, int arg, int64_t *shape)
{
    int n;
    if (lua_istable(L, arg)) {
        n = (int)luaL_len(L, arg);
        if (n > AE_MAX_DIMS) luaL_argerror(L, arg, "too many dimensions (at most 8)");
        for (int i = 0; i < n; i++) {
            lua_geti(L, arg, i + 1);
            shape[i] = lae_check_int(L, -1, "size");
            lua_pop(L, 1);
        }
        return n;
    }
    n = lua_gettop(L) - arg + 1;
    if (n > AE_MAX_DIMS) luaL_argerror(L, arg, "too many dimensions (at most 8)");
    for (int i = 0; i < n; i++) shape[i] = lae_check_int(L, arg + i, "size");
    return n < 0 ? 0 : n;
}

ae_reduction lae_check_reduction(lua_State *L, int arg, const char *def)
{
    static const char *const names[] = {"mean", "sum", "none", NULL};
    return (ae_reduction)luaL_checkoption(L, arg, def, names);
}

void lae_check_pair(lua_State *L, int arg, const char *op, const char *what, int64_t def, int64_t out[2])
{
    if (lua_isnoneornil(L, arg)) {
        out[0] = out[1] = def;
        return;
    }
    if (lua_type(L, arg) == LUA_TNUMBER) {
        out[0] = out[1] = lae_check_int(L, arg, what);
        return;
    }
    if (!lua_istable(L, arg) || luaL_len(L, arg) != 2)
        luaL_argerror(
            L, arg,
            lua_pushfstring(L, "%s: %s must be an integer or an {h, w} pair, got %s", op, what, luaL_typename(L, arg)));
    for (int i = 0; i < 2; i++) {
        lua_geti(L, arg, i + 1);
        lua_Number v = lua_tonumber(L, -1);
        if (lua_type(L, -1) != LUA_TNUMBER || v != floor(v) || fabs(v) > 9.0e15)
            luaL_argerror(L, arg, lua_pushfstring(L, "%s: %s must hold two integers", op, what));
        out[i] = (int64_t)v;
        lua_pop(L, 1);
    }
}

void lae_add_methods(lua_State *L, const luaL_Reg *methods)
{
    luaL_getmetatable(L, LAE_TENSOR);
    lua_getfield(L, -1, "methods");
    luaL_setfuncs(L, methods, 0);
    lua_pop(L, 2);
}

void lae_add_metamethods(lua_State *L, const luaL_Reg *metamethods)
{
    luaL_getmetatable(L, LAE_TENSOR);
    luaL_setfuncs(L, metamethods, 0);
    lua_pop(L, 1);
}

void lae_add_subtable(lua_State *L, const char *name, const luaL_Reg *functions)
{
    luaL_getsubtable(L, -1, name);
    luaL_setfuncs(L, functions, 0);
    lua_pop(L, 1);
}

void lae_new_class(lua_State *L, const char *tname, const luaL_Reg *meta, const luaL_Reg *methods)
{
    if (!luaL_newmetatable(L, tname)) return;
    luaL_setfuncs(L, meta, 0);
    if (methods) {
        lua_newtable(L);
        luaL_setfuncs(L, methods, 0);
        lua_setfield(L, -2, "__index");
    }
}
