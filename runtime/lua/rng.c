/* rng.c: the runtime's random number generator (core/rng.h) for Lua:
 * ae.manual_seed(s), ae.initial_seed(), ae.rng_state() and
 * ae.set_rng_state(s).  rand, randn, dropout, reparameterize and the noise
 * draw from it. */
#include "binding.h"

#include "core/rng.h"

static int l_manual_seed(lua_State *L)
{
    int64_t s = lae_check_int(L, 1, "seed");
    ae_rng_seed((uint64_t)s);
    return 0;
}

static int l_initial_seed(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)ae_rng_initial_seed());
    return 1;
}

static int l_rng_state(lua_State *L)
{
    unsigned char s[AE_RNG_STATE_BYTES];
    ae_rng_get_state(s);
    lua_pushlstring(L, (const char *)s, sizeof s);
    return 1;
}

static int l_set_rng_state(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    if (len != AE_RNG_STATE_BYTES)
        return luaL_error(L, "set_rng_state: a state is %d bytes, got %d", AE_RNG_STATE_BYTES, (int)len);
    if (ae_rng_set_state((const unsigned char *)s) != 0) return lae_raise(L);
    return 0;
}

static const luaL_Reg functions[] = {{"manual_seed", l_manual_seed},
                                     {"initial_seed", l_initial_seed},
                                     {"rng_state", l_rng_state},
                                     {"set_rng_state", l_set_rng_state},
                                     {NULL, NULL}};

void lae_open_rng(lua_State *L) { luaL_setfuncs(L, functions, 0); }
