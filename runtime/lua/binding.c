/* binding.c: the helpers of binding.h, shared by every binding file:
 * tensors in and out of Lua, argument checks, and the registration of
 * functions, tensor methods and classes. */
#include "binding.h"

#include <math.h>
#include <string.h>

#include "core/error.h"
#include "core/pool.h"
#include "anomaly.h"

/* bytes of tensors handed to Lua since the collector was last told */
static size_t unreported_bytes;
/* the pool's live bytes after the last full collection forced here */
static size_t live_after_collect;
#define COLLECT_SLACK ((size_t)256 << 20)

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
        size_t kib = unreported_bytes >> 10;
        lua_gc(L, LUA_GCSTEP, kib > (size_t)1 << 30 ? 1 << 30 : (int)kib);
        unreported_bytes = 0;
    }
    /* The steps pace an incremental collector by estimates; should dead
     * tensors still pile up (the fuzzer once held 18 GB of them), live
     * memory doubling past the last full collection forces one, so the
     * garbage stays within the live set's size plus the slack. */
    size_t live = ae_pool_live_bytes();
    size_t slack = live_after_collect > COLLECT_SLACK ? live_after_collect : COLLECT_SLACK;
    if (live > live_after_collect + slack && lua_gc(L, LUA_GCISRUNNING)) {
        lua_gc(L, LUA_GCCOLLECT);
        live_after_collect = ae_pool_live_bytes();
    } else if (live < live_after_collect) {
        live_after_collect = live;
    }
    return 1;
}

int64_t lae_check_int(lua_State *L, int arg, const char *what)
{
    if (lua_type(L, arg) != LUA_TNUMBER)
        luaL_argerror(L, arg, lua_pushfstring(L, "%s must be an integer, got %s", what, lae_describe(L, arg)));
    lua_Number x = lua_tonumber(L, arg);
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

ae_reduction lae_check_reduction(lua_State *L, int arg, const char *def, const char *fname)
{
    static const char *const names[] = {"mean", "sum", "none", NULL};
    if (lua_isnoneornil(L, arg)) lua_pushstring(L, def);
    else lua_pushvalue(L, arg);
    const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    for (int i = 0; s && names[i]; i++)
        if (strcmp(s, names[i]) == 0) return lua_pop(L, 1), (ae_reduction)i;
    return (ae_reduction)luaL_error(L, "%s: reduction must be \"mean\", \"sum\" or \"none\", got %s", fname,
                                    lae_describe(L, arg));
}

lua_Number lae_check_number(lua_State *L, int arg)
{
    if (lua_type(L, arg) != LUA_TNUMBER)
        luaL_argerror(L, arg, lua_pushfstring(L, "number expected, got %s", lae_describe(L, arg)));
    return lua_tonumber(L, arg);
}

lua_Number lae_opt_number(lua_State *L, int arg, lua_Number def)
{
    return lua_isnoneornil(L, arg) ? def : lae_check_number(L, arg);
}

lua_Integer lae_opt_integer(lua_State *L, int arg, lua_Integer def)
{
    if (lua_isnoneornil(L, arg)) return def;
    if (!lua_isinteger(L, arg))
        luaL_argerror(L, arg, lua_pushfstring(L, "integer expected, got %s", lae_describe(L, arg)));
    return lua_tointeger(L, arg);
}

/* the table at arg is nn[name] (a built-in module class) */
static int is_nn_class(lua_State *L, int arg, const char *name)
{
    int top = lua_gettop(L), same = 0;
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    if (lua_getfield(L, -1, "aerun.nn") == LUA_TTABLE) {
        lua_pushstring(L, name);
        lua_rawget(L, -2);
        same = lua_rawequal(L, -1, arg);
    }
    lua_settop(L, top);
    return same;
}

const char *lae_describe(lua_State *L, int arg)
{
    arg = lua_absindex(L, arg);
    switch (lua_type(L, arg)) {
    case LUA_TSTRING: {
        size_t n;
        lua_tolstring(L, arg, &n);
        if (n > 40) return "a string";
        luaL_Buffer b;
        luaL_buffinit(L, &b);
        luaL_addstring(&b, "the string ");
        lua_getglobal(L, "string");
        lua_getfield(L, -1, "format");
        lua_remove(L, -2);
        lua_pushliteral(L, "%q");
        lua_pushvalue(L, arg);
        lua_call(L, 2, 1);
        luaL_addvalue(&b);
        luaL_pushresult(&b);
        return lua_tostring(L, -1);
    }
    case LUA_TNUMBER:
    case LUA_TBOOLEAN:
    case LUA_TNIL: return luaL_tolstring(L, arg, NULL);
    case LUA_TNONE: return "nothing";
    case LUA_TTABLE: {
        /* a module class holds __module itself (nn.ReLU); a module has a _type */
        lua_pushliteral(L, "__name");
        if (lua_rawget(L, arg) == LUA_TSTRING) {
            lua_pushliteral(L, "__module");
            if (lua_rawget(L, arg) == LUA_TBOOLEAN && lua_toboolean(L, -1)) {
                lua_pop(L, 1);
                return lua_pushfstring(L, "the class %s%s", is_nn_class(L, arg, lua_tostring(L, -1)) ? "nn." : "",
                                       lua_tostring(L, -1));
            }
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
        lua_pushliteral(L, "_type");
        if (lua_rawget(L, arg) == LUA_TSTRING) return lua_pushfstring(L, "a %s module", lua_tostring(L, -1));
        lua_pop(L, 1);
        return "a table";
    }
    default:
        if (lae_test_tensor(L, arg)) return "a tensor";
        return lua_pushfstring(L, "a %s", luaL_typename(L, arg));
    }
}

void lae_check_options(lua_State *L, int arg, const char *fname)
{
    arg = lua_absindex(L, arg);
    int isclass = 0;
    if (lua_type(L, arg) == LUA_TTABLE) {
        lua_pushliteral(L, "__module");
        isclass = lua_rawget(L, arg) == LUA_TBOOLEAN;
        lua_pop(L, 1);
    }
    if (lua_type(L, arg) != LUA_TTABLE || isclass)
        luaL_error(L, "%s: options must be a table of named options, got %s", fname, lae_describe(L, arg));
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
            lua_pushfstring(L, "%s: %s must be an integer or an {h, w} pair, got %s", op, what, lae_describe(L, arg)));
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
