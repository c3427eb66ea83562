/* conv.c: the convolution ops for Lua, with PyTorch's functional
 * argument order:
 *     core.conv2d(x, w [, b [, stride [, padding [, relu]]]])
 *     core.conv_transpose2d(x, w [, b [, stride [, padding [, output_padding [, relu]]]]])
 *     core.max_pool2d(x, kernel_size [, stride [, padding]])   stride defaults to kernel_size
 *     core.upsample_nearest(x, scale_factor)
 * Every size is a number or an {h, w} pair; relu (a boolean) puts the
 * layer's output through a ReLU fused into it (ops_conv.h). */
#include "binding.h"

#include <math.h>

#include "ops/conv.h"
#include "ops/pool.h"

/* a size argument: nil (the default), an integer, or an {h, w} pair */
static void check_pair(lua_State *L, int arg, const char *op, const char *what, int64_t def, int64_t out[2])
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

static ae_tensor *opt_bias(lua_State *L, int arg) { return lua_isnoneornil(L, arg) ? NULL : lae_check_tensor(L, arg); }

static int l_conv2d(lua_State *L)
{
    ae_tensor *x = lae_check_tensor(L, 1), *w = lae_check_tensor(L, 2), *b = opt_bias(L, 3);
    int64_t stride[2], pad[2];
    check_pair(L, 4, "conv2d", "stride", 1, stride);
    check_pair(L, 5, "conv2d", "padding", 0, pad);
    bool relu = lua_toboolean(L, 6);
    return lae_push_tensor(L, ae_conv2d(x, w, b, stride[0], stride[1], pad[0], pad[1], relu));
}

static int l_conv_transpose2d(lua_State *L)
{
    ae_tensor *x = lae_check_tensor(L, 1), *w = lae_check_tensor(L, 2), *b = opt_bias(L, 3);
    int64_t stride[2], pad[2], out_pad[2];
    check_pair(L, 4, "conv_transpose2d", "stride", 1, stride);
    check_pair(L, 5, "conv_transpose2d", "padding", 0, pad);
    check_pair(L, 6, "conv_transpose2d", "output_padding", 0, out_pad);
    bool relu = lua_toboolean(L, 7);
    return lae_push_tensor(
        L, ae_conv_transpose2d(x, w, b, stride[0], stride[1], pad[0], pad[1], out_pad[0], out_pad[1], relu));
}

static int l_max_pool2d(lua_State *L)
{
    ae_tensor *x = lae_check_tensor(L, 1);
    int64_t k[2], stride[2], pad[2];
    luaL_checkany(L, 2);
    check_pair(L, 2, "max_pool2d", "kernel_size", 1, k);
    if (lua_isnoneornil(L, 3)) {
        stride[0] = k[0];
        stride[1] = k[1];
    } else {
        check_pair(L, 3, "max_pool2d", "stride", 1, stride);
    }
    check_pair(L, 4, "max_pool2d", "padding", 0, pad);
    return lae_push_tensor(L, ae_max_pool2d(x, k[0], k[1], stride[0], stride[1], pad[0], pad[1]));
}

static int l_upsample_nearest(lua_State *L)
{
    ae_tensor *x = lae_check_tensor(L, 1);
    int64_t scale[2];
    luaL_checkany(L, 2);
    check_pair(L, 2, "upsample_nearest", "scale_factor", 1, scale);
    return lae_push_tensor(L, ae_upsample_nearest2d(x, scale[0], scale[1]));
}

static const luaL_Reg functions[] = {{"conv2d", l_conv2d},
                                     {"conv_transpose2d", l_conv_transpose2d},
                                     {"max_pool2d", l_max_pool2d},
                                     {"upsample_nearest", l_upsample_nearest},
                                     {NULL, NULL}};

void lae_open_conv(lua_State *L) { luaL_setfuncs(L, functions, 0); }
