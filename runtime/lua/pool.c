/* pool.c: the pool family (ops/pool.h) for Lua, with PyTorch's functional
 * argument order:
 *     ae.max_pool2d(x, kernel_size [, stride [, padding]])   stride defaults to kernel_size
 *     ae.upsample_nearest(x, scale_factor)
 * Every size is a number or an {h, w} pair. */
#include "binding.h"

#include "ops/pool.h"

static int l_max_pool2d(lua_State *L)
{
    ae_tensor *x = lae_check_tensor(L, 1);
    int64_t k[2], stride[2], pad[2];
    luaL_checkany(L, 2);
    lae_check_pair(L, 2, "max_pool2d", "kernel_size", 1, k);
    if (lua_isnoneornil(L, 3)) {
        stride[0] = k[0];
        stride[1] = k[1];
    } else {
        lae_check_pair(L, 3, "max_pool2d", "stride", 1, stride);
    }
    lae_check_pair(L, 4, "max_pool2d", "padding", 0, pad);
    return lae_push_tensor(L, ae_max_pool2d(x, k[0], k[1], stride[0], stride[1], pad[0], pad[1]));
}

static int l_upsample_nearest(lua_State *L)
{
    ae_tensor *x = lae_check_tensor(L, 1);
    int64_t scale[2];
    luaL_checkany(L, 2);
    lae_check_pair(L, 2, "upsample_nearest", "scale_factor", 1, scale);
    return lae_push_tensor(L, ae_upsample_nearest2d(x, scale[0], scale[1]));
}

static const luaL_Reg functions[] = {
    {"max_pool2d", l_max_pool2d}, {"upsample_nearest", l_upsample_nearest}, {NULL, NULL}};

void lae_open_pool(lua_State *L) { luaL_setfuncs(L, functions, 0); }
