/* shape.c: the shape family (ops/shape.h) for Lua: the views as tensor
 * methods (x:reshape(2, 3), x:view, x:transpose(1, 2), x:t(), x:narrow(dim,
 * start, length), x:contiguous(), x:detach(), x:squeeze([dim]), x:unsqueeze(dim),
 * x:permute(d1, d2, ...), x:select(dim, i)) and the copies x:flip(dims...),
 * x:index_select(dim, idx), x:gather(dim, index), x:masked_fill(mask, value),
 * x:masked_select(mask), ae.cat({a, b, ...}[, dim]) and
 * ae.stack({a, b, ...}[, dim]); gather, masked_fill and masked_select are
 * also functions (ae.gather(x, dim, index)), as in torch.  Dimensions and positions are 1-based,
 * negative from the end, as everywhere in the binding. */
#include "binding.h"

#include "core/error.h"
#include "ops/shape.h"

#include <stdio.h>

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

#define MAX_LIST 4096

/* the tensors of the non-empty list at arg (at most MAX_LIST), for cat
 * and stack; the list keeps them alive */
static int check_tensor_list(lua_State *L, int arg, const char *op, ae_tensor **ts)
{
    luaL_checktype(L, arg, LUA_TTABLE);
    int n = (int)luaL_len(L, arg);
    if (n < 1) luaL_argerror(L, arg, "expects a non-empty list of tensors");
    if (n > MAX_LIST) luaL_argerror(L, arg, "at most 4096 tensors");
    for (int i = 0; i < n; i++) {
        lua_geti(L, arg, i + 1);
        ts[i] = lae_test_tensor(L, -1);
        if (!ts[i]) luaL_error(L, "%s: element %d is %s, not a tensor", op, i + 1, luaL_typename(L, -1));
        lua_pop(L, 1);
    }
    return n;
}

/* cat({a, b, ...}[, dim = 1]) */
static int l_cat(lua_State *L)
{
    ae_tensor *ts[MAX_LIST];
    int n = check_tensor_list(L, 1, "cat", ts);
    int dim = lua_isnoneornil(L, 2) ? 0 : lae_check_dim(L, 2, ts[0]->ndim);
    return lae_push_tensor(L, ae_cat(n, ts, dim));
}

static int l_squeeze(lua_State *L)
{
    ae_tensor *t = lae_check_tensor(L, 1);
    int d = lua_isnoneornil(L, 2) ? AE_SQUEEZE_ALL : lae_check_dim(L, 2, t->ndim);
    return lae_push_tensor(L, ae_squeeze(t, d));
}

static int l_unsqueeze(lua_State *L)
{
    ae_tensor *t = lae_check_tensor(L, 1);
    /* the new dimension may also go after the last one */
    return lae_push_tensor(L, ae_unsqueeze(t, lae_check_dim(L, 2, t->ndim + 1)));
}

/* dimensions given as numbers from arg on, or as one table at arg */
static int check_dims(lua_State *L, int arg, int ndim, int *dims)
{
    int n;
    if (lua_istable(L, arg)) {
        n = (int)luaL_len(L, arg);
        if (n > AE_MAX_DIMS) luaL_argerror(L, arg, "too many dimensions (at most 8)");
        for (int i = 0; i < n; i++) {
            lua_geti(L, arg, i + 1);
            dims[i] = lae_check_dim(L, lua_gettop(L), ndim);
            lua_pop(L, 1);
        }
        if (!lua_isnone(L, arg + 1))
            luaL_argerror(L, arg + 1, "dimensions are given as a table or as numbers, not both");
        return n;
    }
    n = lua_gettop(L) - arg + 1;
    if (n > AE_MAX_DIMS) luaL_argerror(L, arg + AE_MAX_DIMS, "too many dimensions (at most 8)");
    for (int i = 0; i < n; i++) dims[i] = lae_check_dim(L, arg + i, ndim);
    return n < 0 ? 0 : n;
}

static int l_permute(lua_State *L)
{
    ae_tensor *t = lae_check_tensor(L, 1);
    int dims[AE_MAX_DIMS];
    int n = check_dims(L, 2, t->ndim, dims);
    return lae_push_tensor(L, ae_permute(t, n, dims));
}

static int l_flip(lua_State *L)
{
    ae_tensor *t = lae_check_tensor(L, 1);
    int dims[AE_MAX_DIMS];
    int n = check_dims(L, 2, t->ndim, dims);
    if (n < 1) return luaL_error(L, "flip: expects at least one dimension");
    return lae_push_tensor(L, ae_flip(t, n, dims));
}

/* a 1-based position (negative from the end) -> ae_select's convention */
static int64_t check_position(lua_State *L, int arg)
{
    int64_t i = lae_check_int(L, arg, "index");
    if (i == 0) luaL_argerror(L, arg, "index 0: positions start at 1 (or -1 from the end)");
    return i > 0 ? i - 1 : i;
}

static int l_select(lua_State *L)
{
    ae_tensor *t = lae_check_tensor(L, 1);
    int d = lae_check_dim(L, 2, t->ndim);
    return lae_push_tensor(L, ae_select(t, d, check_position(L, 3)));
}

/* idx: a 1-D tensor or a list of 1-based positions */
static int l_index_select(lua_State *L)
{
    ae_tensor *t = lae_check_tensor(L, 1);
    int d = lae_check_dim(L, 2, t->ndim);
    ae_tensor *it = lae_test_tensor(L, 3);
    int64_t n;
    if (it) {
        if (it->ndim != 1) {
            char b[AE_SHAPE_STR];
            return luaL_argerror(L, 3, lua_pushfstring(L, "index must be a 1-D tensor, got %s", ae_shape_str(it, b)));
        }
        n = it->shape[0];
    } else {
        if (!lua_istable(L, 3)) return luaL_typeerror(L, 3, "tensor or table of positions");
        n = (int64_t)luaL_len(L, 3);
    }
    int64_t *idx = lua_newuserdatauv(L, (size_t)(n > 0 ? n : 1) * sizeof(int64_t), 0);
    for (int64_t k = 0; k < n; k++) {
        double v;
        if (it) {
            v = ae_data(it)[k * it->stride[0]];
        } else {
            lua_geti(L, 3, k + 1);
            if (!lua_isnumber(L, -1))
                return luaL_error(L, "index_select: entry %d of the index is %s, not a number", (int)k + 1,
                                  luaL_typename(L, -1));
            v = lua_tonumber(L, -1);
            lua_pop(L, 1);
        }
        if (!(v >= 1 && v <= 9.0e15 && v == (double)(int64_t)v)) {
            char num[32];
            snprintf(num, sizeof num, "%.9g", v);
            return luaL_error(L, "index_select: index %s (entry %d) is not a position 1..%d of dimension %d", num,
                              (int)k + 1, (int)t->shape[d], d + 1);
        }
        idx[k] = (int64_t)v - 1;
    }
    return lae_push_tensor(L, ae_index_select(t, d, n, idx));
}

/* stack({a, b, ...}[, dim = 1]) */
static int l_stack(lua_State *L)
{
    ae_tensor *ts[MAX_LIST];
    int n = check_tensor_list(L, 1, "stack", ts);
    int dim = lua_isnoneornil(L, 2) ? 0 : lae_check_dim(L, 2, ts[0]->ndim + 1);
    return lae_push_tensor(L, ae_stack(n, ts, dim));
}

/* gather(dim, index): index a tensor of 1-based positions along dim */
static int l_gather(lua_State *L)
{
    ae_tensor *t = lae_check_tensor(L, 1);
    int d = lae_check_dim(L, 2, t->ndim);
    return lae_push_tensor(L, ae_gather(t, d, lae_check_tensor(L, 3), 1));
}

/* masked_fill(mask, value): value a number (-math.huge and 0/0 too) */
static int l_masked_fill(lua_State *L)
{
    ae_tensor *t = lae_check_tensor(L, 1), *m = lae_check_tensor(L, 2);
    return lae_push_tensor(L, ae_masked_fill(t, m, (float)lae_check_number(L, 3)));
}

static int l_masked_select(lua_State *L)
{
    ae_tensor *t = lae_check_tensor(L, 1), *m = lae_check_tensor(L, 2);
    return lae_push_tensor(L, ae_masked_select(t, m));
}

static const luaL_Reg methods[] = {{"reshape", l_reshape},
                                   {"view", l_reshape},
                                   {"transpose", l_transpose},
                                   {"t", l_t},
                                   {"narrow", l_narrow},
                                   {"contiguous", l_contiguous},
                                   {"detach", l_detach},
                                   {"squeeze", l_squeeze},
                                   {"unsqueeze", l_unsqueeze},
                                   {"permute", l_permute},
                                   {"flip", l_flip},
                                   {"select", l_select},
                                   {"index_select", l_index_select},
                                   {"gather", l_gather},
                                   {"masked_fill", l_masked_fill},
                                   {"masked_select", l_masked_select},
                                   {NULL, NULL}};

static const luaL_Reg functions[] = {{"cat", l_cat},
                                     {"stack", l_stack},
                                     {"gather", l_gather},
                                     {"masked_fill", l_masked_fill},
                                     {"masked_select", l_masked_select},
                                     {NULL, NULL}};

void lae_open_shape(lua_State *L)
{
    luaL_setfuncs(L, functions, 0);
    lae_add_methods(L, methods);
}
