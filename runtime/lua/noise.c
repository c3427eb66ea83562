/* noise.c: the noise family (ops/noise.h) for Lua: input corruption for
 * denoising autoencoders, the table ae.noise (core.noise).  The kernels
 * draw from the runtime RNG, so ae.manual_seed fixes the noise.  Each
 * returns a new tensor and records no graph: noise corrupts data, it is not
 * part of what is differentiated (the result never requires grad, even when
 * x does).
 *
 * ae.noise.gaussian(x, std[, {clip = true}]): x + std·N(0, 1), clipped to
 *     [0, 1] unless clip = false (the default suits images in [0, 1]).
 * ae.noise.masking(x, p): each element set to 0 with probability p.
 * ae.noise.salt_pepper(x, p): each element, with probability p, set to 0
 *     or 1 with equal chance. */
#include "binding.h"

#include <math.h>
#include <string.h>

#include "ops/noise.h"

/* the options table at arg of noise.gaussian: {clip = bool}; true unless
 * clip = false */
static bool gaussian_clip(lua_State *L, int arg)
{
    if (lua_isnoneornil(L, arg)) return true;
    lae_check_options(L, arg, "noise.gaussian");
    lua_pushnil(L);
    while (lua_next(L, arg)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING || strcmp(lua_tostring(L, -1), "clip") != 0)
            luaL_error(L, "noise.gaussian: unknown option %s (known: clip)", luaL_tolstring(L, -1, NULL));
    }
    lua_getfield(L, arg, "clip");
    int type = lua_type(L, -1);
    bool clip = type == LUA_TNIL || lua_toboolean(L, -1);
    if (type != LUA_TNIL && type != LUA_TBOOLEAN) luaL_error(L, "noise.gaussian: clip must be a boolean");
    lua_pop(L, 1);
    return clip;
}

static int l_gaussian(lua_State *L)
{
    bool clip = gaussian_clip(L, 3);
    ae_tensor *x = lae_test_tensor(L, 1);
    if (!x) return luaL_error(L, "noise.gaussian: x must be a tensor, got %s", luaL_typename(L, 1));
    double std = lua_tonumber(L, 2);
    if (lua_type(L, 2) != LUA_TNUMBER || !(std >= 0 && std < HUGE_VAL))
        return luaL_error(L, "noise.gaussian: std must be a finite number >= 0, got %s", lae_describe(L, 2));
    return lae_push_tensor(L, ae_noise_gaussian(x, std, clip));
}

static int l_masking(lua_State *L)
{
    ae_tensor *x = lae_check_tensor(L, 1);
    return lae_push_tensor(L, ae_noise_masking(x, lae_check_number(L, 2)));
}

static int l_salt_pepper(lua_State *L)
{
    ae_tensor *x = lae_check_tensor(L, 1);
    return lae_push_tensor(L, ae_noise_salt_pepper(x, lae_check_number(L, 2)));
}

static const luaL_Reg functions[] = {
    {"gaussian", l_gaussian}, {"masking", l_masking}, {"salt_pepper", l_salt_pepper}, {NULL, NULL}};

void lae_open_noise(lua_State *L) { lae_add_subtable(L, "noise", functions); }
