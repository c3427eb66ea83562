/* conv.c: the conv family (ops/conv.h) for Lua, with PyTorch's functional
 * argument order:
 *     ae.conv2d(x, w [, b [, stride [, padding [, relu]]]])
 *     ae.conv_transpose2d(x, w [, b [, stride [, padding [, output_padding [, relu]]]]])
 * Every size is a number or an {h, w} pair; relu (a boolean) puts the
 * layer's output through a ReLU fused into it (ops/conv.h). */
#include "binding.h"

#include "ops/conv.h"

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

static const luaL_Reg functions[] = {{"conv2d", l_conv2d}, {"conv_transpose2d", l_conv_transpose2d}, {NULL, NULL}};

void lae_open_conv(lua_State *L) { luaL_setfuncs(L, functions, 0); }
