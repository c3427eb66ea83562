/* reduce.c: the reduce family (ops/reduce.h) for Lua.  Each is both a
 * function (ae.sum(x)) and a method (x:sum()); dimensions are 1-based,
 * negative from the end; keepdim is a boolean (default false); positions
 * are float tensors of 1-based positions (Lua's and Torch7's convention,
 * minus 1 gives PyTorch's index).  Any other or extra argument is an error.
 *   x:sum([dim[, keepdim]])     x:mean([dim[, keepdim]])
 *   x:max() -> number, position          x:min() likewise: the whole
 *                                        tensor's extreme and its 1-based flat
 *                                        position, plain Lua numbers, no graph
 *   x:max(dim[, keepdim]) -> values, positions   x:min(dim[, keepdim]) likewise:
 *                                        torch.max(x, dim); values differentiable
 *                                        (to the selected element), the first
 *                                        on ties, NaN counting as largest/smallest
 *   x:argmax([dim[, keepdim]])  x:argmin(...): positions along dim, or without
 *                                        dim the 1-based flat position (0-D), as
 *                                        torch.argmax(x)
 *   x:var([dim[, keepdim]][, opts])      x:std(...): torch.var/std, opts a table
 *                                        {correction = c} (an integer >= 0,
 *                                        default 1: unbiased) or
 *                                        {unbiased = true|false} (correction 1|0),
 *                                        not both; N - c <= 0 gives NaN/inf */
#include "binding.h"

#include "ops/reduce.h"
#include "ops/unary.h"

#include <string.h>

/* keepdim at arg: absent, nil or a boolean */
static int check_keepdim(lua_State *L, int arg)
{
    if (lua_isnoneornil(L, arg)) return 0;
    luaL_checktype(L, arg, LUA_TBOOLEAN);
    return lua_toboolean(L, arg);
}

/* no argument past last */
static void check_nargs(lua_State *L, int last, const char *op)
{
    if (lua_gettop(L) > last) luaL_argerror(L, last + 1, lua_pushfstring(L, "%s takes at most %d arguments", op, last));
}

/* sum(x) / sum(x, dim[, keepdim]) and the same for mean */
static int reduce(lua_State *L, int mean)
{
    ae_tensor *t = lae_check_tensor(L, 1);
    check_nargs(L, 3, mean ? "mean" : "sum");
    if (lua_isnoneornil(L, 2)) {
        if (!lua_isnoneornil(L, 3)) luaL_argerror(L, 3, "keepdim needs a dimension");
        return lae_push_tensor(L, mean ? ae_mean(t) : ae_sum(t));
    }
    int d = lae_check_dim(L, 2, t->ndim);
    int keep = check_keepdim(L, 3);
    return lae_push_tensor(L, mean ? ae_mean_dim(t, d, keep) : ae_sum_dim(t, d, keep));
}

static int l_sum(lua_State *L) { return reduce(L, 0); }
static int l_mean(lua_State *L) { return reduce(L, 1); }

/* 0-based positions (taken over) to 1-based ones, pushed */
static int push_positions(lua_State *L, ae_tensor *pos)
{
    if (!pos) return lae_raise(L);
    ae_tensor *one_based = ae_unary(AE_ADD_SCALAR, pos, 1.0, 0);
    ae_release(pos);
    return lae_push_tensor(L, one_based);
}

/* max(x): plain numbers out, no graph, for metrics and tests;
 * max(x, dim[, keepdim]): values and positions along dim */
static int extreme(lua_State *L, int want_max)
{
    const char *op = want_max ? "max" : "min";
    ae_tensor *t = lae_check_tensor(L, 1);
    check_nargs(L, 3, op);
    if (!lua_isnoneornil(L, 2)) {
        int d = lae_check_dim(L, 2, t->ndim);
        int keep = check_keepdim(L, 3);
        ae_tensor *values, *pos;
        if ((want_max ? ae_max_dim : ae_min_dim)(t, d, keep, &values, &pos) != 0) return lae_raise(L);
        lae_push_tensor(L, values);
        push_positions(L, pos);
        return 2;
    }
    if (!lua_isnoneornil(L, 3)) luaL_argerror(L, 3, "keepdim needs a dimension");
    int64_t n = ae_numel(t);
    if (n == 0) return luaL_error(L, "%s: empty tensor", op);
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

static int arg_extreme(lua_State *L, int want_max)
{
    ae_tensor *t = lae_check_tensor(L, 1);
    check_nargs(L, 3, want_max ? "argmax" : "argmin");
    if (lua_isnoneornil(L, 2)) {
        if (!lua_isnoneornil(L, 3)) luaL_argerror(L, 3, "keepdim needs a dimension");
        return push_positions(L, want_max ? ae_argmax_all(t) : ae_argmin_all(t));
    }
    int d = lae_check_dim(L, 2, t->ndim);
    int keep = check_keepdim(L, 3);
    return push_positions(L, want_max ? ae_argmax(t, d, keep) : ae_argmin(t, d, keep));
}

static int l_argmax(lua_State *L) { return arg_extreme(L, 1); }
static int l_argmin(lua_State *L) { return arg_extreme(L, 0); }

/* the options table of var/std at arg: the correction */
static int64_t check_correction(lua_State *L, int arg)
{
    lae_check_options(L, arg, "var/std");
    int64_t correction = 1;
    int seen = 0;
    lua_pushnil(L);
    while (lua_next(L, arg)) {
        const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
        if (key && strcmp(key, "correction") == 0) {
            int ok;
            lua_Integer c = lua_tointegerx(L, -1, &ok);
            if (!ok || c < 0)
                luaL_argerror(
                    L, arg,
                    lua_pushfstring(L, "correction must be an integer >= 0, got %s", luaL_tolstring(L, -1, NULL)));
            correction = c;
        } else if (key && strcmp(key, "unbiased") == 0) {
            if (!lua_isboolean(L, -1))
                luaL_argerror(L, arg, lua_pushfstring(L, "unbiased must be a boolean, got %s", luaL_typename(L, -1)));
            correction = lua_toboolean(L, -1) ? 1 : 0;
        } else {
            luaL_argerror(
                L, arg,
                lua_pushfstring(L, "unknown option %s (expected correction or unbiased)", luaL_tolstring(L, -2, NULL)));
        }
        seen++;
        lua_pop(L, 1);
    }
    if (seen > 1) luaL_argerror(L, arg, "give correction or unbiased, not both");
    return correction;
}

/* var(x[, dim[, keepdim]][, opts]) and std */
static int var_std(lua_State *L, int take_sqrt)
{
    const char *op = take_sqrt ? "std" : "var";
    ae_tensor *t = lae_check_tensor(L, 1);
    int top = lua_gettop(L);
    int64_t correction = 1;
    if (top >= 2 && lua_istable(L, top)) {
        correction = check_correction(L, top);
        top--;
    }
    if (top > 3) luaL_argerror(L, 4, lua_pushfstring(L, "%s takes (x[, dim[, keepdim]][, opts])", op));
    if (top < 2 || lua_isnil(L, 2)) {
        if (top >= 3 && !lua_isnil(L, 3)) luaL_argerror(L, 3, "keepdim needs a dimension");
        return lae_push_tensor(L, take_sqrt ? ae_std(t, correction) : ae_var(t, correction));
    }
    int d = lae_check_dim(L, 2, t->ndim);
    int keep = top >= 3 ? check_keepdim(L, 3) : 0;
    return lae_push_tensor(L, take_sqrt ? ae_std_dim(t, d, keep, correction) : ae_var_dim(t, d, keep, correction));
}

static int l_var(lua_State *L) { return var_std(L, 0); }
static int l_std(lua_State *L) { return var_std(L, 1); }

static const luaL_Reg methods[] = {{"sum", l_sum}, {"mean", l_mean},     {"max", l_max},
                                   {"min", l_min}, {"argmax", l_argmax}, {"argmin", l_argmin},
                                   {"var", l_var}, {"std", l_std},       {NULL, NULL}};

void lae_open_reduce(lua_State *L)
{
    luaL_setfuncs(L, methods, 0);
    lae_add_methods(L, methods);
}
