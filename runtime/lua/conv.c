/* conv.c: the conv family (ops/conv.h) for Lua, with PyTorch's functional
 * argument order:
 *     ae.conv2d(x, w [, b [, stride [, padding [, relu]]]])
 *     ae.conv_transpose2d(x, w [, b [, stride [, padding [, output_padding [, relu]]]]])
 *     ae.conv1d(x, w [, b [, stride [, padding [, relu]]]])
 *     ae.conv_transpose1d(x, w [, b [, stride [, padding [, output_padding [, relu]]]]])
 * Every 2-D size is a number or an {h, w} pair, every 1-D size a number
 * or a one-element table (PyTorch's (3,)); relu (a boolean) puts the
 * layer's output through a ReLU fused into it (ops/conv.h). */
#include "binding.h"

#include "ops/conv.h"

#include <math.h>

static int l_conv2d(lua_State *L)
{
    ae_tensor *x = lae_check_tensor(L, 1), *w = lae_check_tensor(L, 2), *b = lae_opt_tensor(L, 3);
    int64_t stride[2], pad[2];
    lae_check_pair(L, 4, "conv2d", "stride", 1, stride);
    lae_check_pair(L, 5, "conv2d", "padding", 0, pad);
    bool relu = lua_toboolean(L, 6);
    return lae_push_tensor(L, ae_conv2d(x, w, b, stride[0], stride[1], pad[0], pad[1], relu));
}

static int l_conv_transpose2d(lua_State *L)
{
    ae_tensor *x = lae_check_tensor(L, 1), *w = lae_check_tensor(L, 2), *b = lae_opt_tensor(L, 3);
    int64_t stride[2], pad[2], out_pad[2];
    lae_check_pair(L, 4, "conv_transpose2d", "stride", 1, stride);
    lae_check_pair(L, 5, "conv_transpose2d", "padding", 0, pad);
    lae_check_pair(L, 6, "conv_transpose2d", "output_padding", 0, out_pad);
    bool relu = lua_toboolean(L, 7);
    return lae_push_tensor(
        L, ae_conv_transpose2d(x, w, b, stride[0], stride[1], pad[0], pad[1], out_pad[0], out_pad[1], relu));
}

/* a 1-D size: an integer or {n}; def when absent */
static int64_t check_size1(lua_State *L, int arg, const char *op, const char *what, int64_t def)
{
    if (lua_isnoneornil(L, arg)) return def;
    if (lua_type(L, arg) == LUA_TNUMBER) return lae_check_int(L, arg, what);
    if (!lua_istable(L, arg) || luaL_len(L, arg) != 1)
        luaL_argerror(L, arg,
                      lua_pushfstring(L, "%s: %s must be an integer or a one-element table, got %s", op, what,
                                      lae_describe(L, arg)));
    lua_geti(L, arg, 1);
    lua_Number v = lua_tonumber(L, -1);
    if (lua_type(L, -1) != LUA_TNUMBER || v != floor(v) || fabs(v) > 9.0e15)
        luaL_argerror(L, arg, lua_pushfstring(L, "%s: %s must hold an integer", op, what));
    lua_pop(L, 1);
    return (int64_t)v;
}

static int l_conv1d(lua_State *L)
{
    ae_tensor *x = lae_check_tensor(L, 1), *w = lae_check_tensor(L, 2), *b = lae_opt_tensor(L, 3);
    int64_t stride = check_size1(L, 4, "conv1d", "stride", 1), pad = check_size1(L, 5, "conv1d", "padding", 0);
    bool relu = lua_toboolean(L, 6);
    return lae_push_tensor(L, ae_conv1d(x, w, b, stride, pad, relu));
}

static int l_conv_transpose1d(lua_State *L)
{
    const char *op = "conv_transpose1d";
    ae_tensor *x = lae_check_tensor(L, 1), *w = lae_check_tensor(L, 2), *b = lae_opt_tensor(L, 3);
    int64_t stride = check_size1(L, 4, op, "stride", 1), pad = check_size1(L, 5, op, "padding", 0);
    int64_t out_pad = check_size1(L, 6, op, "output_padding", 0);
    bool relu = lua_toboolean(L, 7);
    return lae_push_tensor(L, ae_conv_transpose1d(x, w, b, stride, pad, out_pad, relu));
}

static const luaL_Reg functions[] = {{"conv2d", l_conv2d},
                                     {"conv_transpose2d", l_conv_transpose2d},
                                     {"conv1d", l_conv1d},
                                     {"conv_transpose1d", l_conv_transpose1d},
                                     {NULL, NULL}};

void lae_open_conv(lua_State *L) { luaL_setfuncs(L, functions, 0); }
