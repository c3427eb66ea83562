/* anomaly.c: anomaly detection for scripts.
 *
 *   ae.detect_anomaly(true)  check every tensor a function returns and every
 *                            gradient backward computes; returns the old flag
 *   ae.anomaly()             nil, or the first non-finite tensor:
 *                            {what, op, shape, count, index, value, where, message}
 *   ae.clear_anomaly()       forget it, keep detecting
 *   ae.count_nonfinite(t)    how many of t's values are NaN or ±inf, and the
 *                            (1-based) index of the first, or nil
 *
 * "where" is the script's file:line: the innermost frame that is not the
 * library's own Lua code (lua/aerun/...), so a NaN born in nn.Linear is
 * reported at the line of the script that called the model. */
#include "binding.h"
#include "anomaly.h"

#include <string.h>

#include "core/autograd.h"

static int is_library(const lua_Debug *ar) { return strncmp(ar->source, "@lua/aerun/", 11) == 0; }

/* "script.lua:12" (and "lua/aerun/nn.lua:88 in" before it when the library
 * made the call) */
static void locate(lua_State *L, char *out, size_t size, const char *context)
{
    lua_Debug ar;
    char lib[128] = "";
    if (!context) context = "";
    for (int level = 1; lua_getstack(L, level, &ar); level++) {
        if (!lua_getinfo(L, "Sl", &ar) || ar.currentline <= 0) continue;
        if (is_library(&ar)) {
            if (!lib[0]) snprintf(lib, sizeof lib, "%s:%d", ar.short_src, ar.currentline);
            continue;
        }
        snprintf(out, size, "%s:%d%s%s%s%s", ar.short_src, ar.currentline, context, lib[0] ? " (in " : "", lib,
                 lib[0] ? ")" : "");
        return;
    }
    snprintf(out, size, "%s%s", lib, context);
}

/* the running C function's name as its caller spelled it: "exp" for x:exp() */
static const char *function_name(lua_State *L)
{
    lua_Debug ar;
    if (lua_getstack(L, 0, &ar) && lua_getinfo(L, "n", &ar) && ar.name) return ar.name;
    return NULL;
}

void lae_anomaly_check_result(lua_State *L, const ae_tensor *t)
{
    const char *op = t->grad_fn ? t->grad_fn->op : function_name(L);
    ae_anomaly *a = ae_anomaly_check(t, "output", op);
    if (a) locate(L, a->where, sizeof a->where, NULL);
}

void lae_anomaly_locate(lua_State *L, const char *context)
{
    ae_anomaly *a = ae_anomaly_get();
    if (a && !a->where[0]) locate(L, a->where, sizeof a->where, context);
}

static int l_detect_anomaly(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TBOOLEAN);
    lua_pushboolean(L, ae_anomaly_on);
    ae_anomaly_enable(lua_toboolean(L, 1));
    return 1;
}

static int l_anomaly(lua_State *L)
{
    const ae_anomaly *a = ae_anomaly_get();
    if (!a) return lua_pushnil(L), 1;
    char msg[512];
    lua_createtable(L, 0, 8);
    lua_pushstring(L, a->what);
    lua_setfield(L, -2, "what");
    lua_pushstring(L, a->op);
    lua_setfield(L, -2, "op");
    lua_createtable(L, a->ndim, 0);
    for (int d = 0; d < a->ndim; d++) {
        lua_pushinteger(L, a->shape[d]);
        lua_rawseti(L, -2, d + 1);
    }
    lua_setfield(L, -2, "shape");
    lua_pushinteger(L, a->bad);
    lua_setfield(L, -2, "count");
    lua_pushinteger(L, a->first + 1);
    lua_setfield(L, -2, "index");
    lua_pushnumber(L, a->value);
    lua_setfield(L, -2, "value");
    lua_pushstring(L, a->where);
    lua_setfield(L, -2, "where");
    lua_pushstring(L, ae_anomaly_describe(a, msg, sizeof msg));
    lua_setfield(L, -2, "message");
    return 1;
}

static int l_clear_anomaly(lua_State *L)
{
    (void)L;
    ae_anomaly_clear();
    return 0;
}

static int l_count_nonfinite(lua_State *L)
{
    ae_tensor *c = ae_contiguous(lae_check_tensor(L, 1));
    if (!c) return lae_raise(L);
    int64_t first = 0, bad = ae_count_nonfinite(ae_data(c), ae_numel(c), &first);
    ae_release(c);
    lua_pushinteger(L, bad);
    if (bad > 0) lua_pushinteger(L, first + 1);
    else lua_pushnil(L);
    return 2;
}

static const luaL_Reg functions[] = {{"detect_anomaly", l_detect_anomaly},
                                     {"anomaly", l_anomaly},
                                     {"clear_anomaly", l_clear_anomaly},
                                     {"count_nonfinite", l_count_nonfinite},
                                     {NULL, NULL}};

void lae_open_anomaly(lua_State *L) { luaL_setfuncs(L, functions, 0); }
