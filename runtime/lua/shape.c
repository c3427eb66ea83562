/* shape.c: the shape family (ops/shape.h) for Lua: the views as tensor
 * methods (x:reshape(2, 3), x:view, x:transpose(1, 2), x:t(), x:narrow(dim,
 * start, length), x:contiguous(), x:detach()) and ae.cat({a, b, ...}[, dim]). */
#include "binding.h"

#include "core/error.h"
#include "ops/shape.h"

static int l_reshape(lua_State *L)
{
    ae_tensor *t = lae_check_tensor(L, 1);
    int64_t s[AE_MAX_DIMS];
    int n = lae_check_shape(L, 2, s);
    return lae_push_tensor(L, ae_reshape(t, n, s));
}

static int l_transpose(lua_State *L)
{
    ae_tensor *t = lae_check_tensor(L, 1);
    int d0 = lae_check_dim(L, 2, t->ndim), d1 = lae_check_dim(L, 3, t->ndim);
    return lae_push_tensor(L, ae_transpose(t, d0, d1));
}

static int l_t(lua_State *L)
{
    ae_tensor *t = lae_check_tensor(L, 1);
    if (t->ndim != 2) {
        char b[AE_SHAPE_STR];
        return luaL_error(L, "t: expects a 2-D tensor, got %s", ae_shape_str(t, b));
    }
    return lae_push_tensor(L, ae_transpose(t, 0, 1));
}

static int l_narrow(lua_State *L)
{
    ae_tensor *t = lae_check_tensor(L, 1);
    int d = lae_check_dim(L, 2, t->ndim);
    int64_t start = lae_check_int(L, 3, "start"), len = lae_check_int(L, 4, "length");
    if (start < 1) luaL_argerror(L, 3, "start must be at least 1");
    return lae_push_tensor(L, ae_narrow(t, d, start - 1, len));
}

static int l_contiguous(lua_State *L)
{
    ae_tensor *t = lae_check_tensor(L, 1);
    if (ae_is_contiguous(t)) {
        lua_settop(L, 1);
        return 1;
    }
    /* a copy that stays in the graph: reshape to the same shape does that */
    return lae_push_tensor(L, ae_reshape(t, t->ndim, t->shape));
}

static int l_detach(lua_State *L) { return lae_push_tensor(L, ae_detach(lae_check_tensor(L, 1))); }

/* cat({a, b, ...}[, dim = 1]) */
static int l_cat(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    int n = (int)luaL_len(L, 1);
    if (n < 1) return luaL_argerror(L, 1, "expects a non-empty list of tensors");
    if (n > 4096) return luaL_argerror(L, 1, "at most 4096 tensors");
    ae_tensor *ts[4096];
    for (int i = 0; i < n; i++) {
        lua_geti(L, 1, i + 1);
        ts[i] = lae_test_tensor(L, -1);
        if (!ts[i]) return luaL_error(L, "cat: element %d is %s, not a tensor", i + 1, luaL_typename(L, -1));
        lua_pop(L, 1); /* the list keeps it alive */
    }
    int dim = lua_isnoneornil(L, 2) ? 0 : lae_check_dim(L, 2, ts[0]->ndim);
    return lae_push_tensor(L, ae_cat(n, ts, dim));
}

static const luaL_Reg methods[] = {
    {"reshape", l_reshape}, {"view", l_reshape},          {"transpose", l_transpose}, {"t", l_t},
    {"narrow", l_narrow},   {"contiguous", l_contiguous}, {"detach", l_detach},       {NULL, NULL}};

static const luaL_Reg functions[] = {{"cat", l_cat}, {NULL, NULL}};

void lae_open_shape(lua_State *L)
{
    luaL_setfuncs(L, functions, 0);
    lae_add_methods(L, methods);
}
