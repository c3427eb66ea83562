/* guard.c: the C side of lua/aerun/guard.lua, the library's boundary with
 * scripts.  guard.wrap hands scripts a C closure around its Lua handler
 * rather than a Lua function, because Lua keeps the caller's frame when a
 * C function is called in tail position (`return self.dec(z)`) but drops
 * it for a Lua function: the handler then still sees the script's line
 * that made the call, and errors name it (a REPL line "return f(x)" too).
 *
 * The factory is kept in the registry (not in the core table, where the
 * API walk and scripts would see it): registry["aerun.boundary"](handler)
 * returns the closure that calls handler with its arguments. */
#include "binding.h"

static int finish(lua_State *L, int status, lua_KContext ctx)
{
    (void)status, (void)ctx;
    return lua_gettop(L);
}

static int boundary_call(lua_State *L)
{
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    /* with a continuation, so that a coroutine may yield through it */
    lua_callk(L, lua_gettop(L) - 1, LUA_MULTRET, 0, finish);
    return finish(L, LUA_OK, 0);
}

static int boundary(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_settop(L, 1);
    lua_pushcclosure(L, boundary_call, 1);
    return 1;
}

void lae_open_guard(lua_State *L)
{
    lua_pushcfunction(L, boundary);
    lua_setfield(L, LUA_REGISTRYINDEX, "aerun.boundary");
}
