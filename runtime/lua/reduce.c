/* reduce.c: the reduce family (ops/reduce.h) for Lua: sum and mean over
 * everything or one dimension (x:sum(), x:mean(2, true)), and max and min
 * as plain numbers with their 1-based flat position, outside the graph.
 * Each is both a function (ae.sum(x)) and a method. */
#include "binding.h"

#include "ops/reduce.h"

/* sum(x) / sum(x, dim[, keepdim]) and the same for mean */
static int reduce(lua_State *L, int mean)
{
    ae_tensor *t = lae_check_tensor(L, 1);
    if (lua_isnoneornil(L, 2)) return lae_push_tensor(L, mean ? ae_mean(t) : ae_sum(t));
    int d = lae_check_dim(L, 2, t->ndim);
    int keep = lua_toboolean(L, 3);
    return lae_push_tensor(L, mean ? ae_mean_dim(t, d, keep) : ae_sum_dim(t, d, keep));
}

static int l_sum(lua_State *L) { return reduce(L, 0); }
static int l_mean(lua_State *L) { return reduce(L, 1); }

/* plain numbers out, no graph: for metrics and tests */
static int extreme(lua_State *L, int want_max)
{
    ae_tensor *t = lae_check_tensor(L, 1);
    int64_t n = ae_numel(t);
    if (n == 0) return luaL_error(L, "%s: empty tensor", want_max ? "max" : "min");
    ae_tensor *c = ae_contiguous(t);
    if (!c) return lae_raise(L);
    const float *p = ae_data(c);
    float best = p[0];
    int64_t at = 0;
    for (int64_t i = 1; i < n; i++)
        if (want_max ? p[i] > best : p[i] < best) best = p[i], at = i;
    ae_release(c);
    lua_pushnumber(L, best);
    lua_pushinteger(L, at + 1);
    return 2;
}

static int l_max(lua_State *L) { return extreme(L, 1); }
static int l_min(lua_State *L) { return extreme(L, 0); }

static const luaL_Reg methods[] = {{"sum", l_sum}, {"mean", l_mean}, {"max", l_max}, {"min", l_min}, {NULL, NULL}};

void lae_open_reduce(lua_State *L)
{
    luaL_setfuncs(L, methods, 0);
    lae_add_methods(L, methods);
}
