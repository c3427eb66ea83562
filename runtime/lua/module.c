/* module.c: luaopen_aerun, the entry point of both the C module
 * (require "aerun" from a stock lua5.4) and the executable.  It builds the
 * C table "aerun.core", registers the compiled-in Lua library in
 * package.preload, and returns what the library's init module returns. */
#include "binding.h"

#include <string.h>

#include "embedded_lua.h"

static int load_embedded(lua_State *L)
{
    const lae_embedded *e = lua_touserdata(L, lua_upvalueindex(1));
    if (luaL_loadbuffer(L, e->source, e->size, e->chunkname) != LUA_OK) return lua_error(L);
    lua_pushvalue(L, 1); /* module name, as require passes it */
    lua_call(L, 1, 1);
    return 1;
}

static int open_core(lua_State *L)
{
    lua_newtable(L);
    lae_open_denormals(L); /* first: the mode holds before anything computes */
    lae_open_tensor(L);
    lae_open_autograd(L);
    lae_open_rng(L);
    lae_open_shape(L);
    lae_open_binary(L);
    lae_open_unary(L);
    lae_open_compare(L);
    lae_open_reduce(L);
    lae_open_matmul(L);
    lae_open_loss(L);
    lae_open_classify(L);
    lae_open_conv(L);
    lae_open_rnn(L);
    lae_open_pool(L);
    lae_open_norm(L);
    lae_open_dropout(L);
    lae_open_kl(L);
    lae_open_reparameterize(L);
    lae_open_penalty(L);
    lae_open_noise(L);
    lae_open_optim(L);
    lae_open_data(L);
    lae_open_files(L);
    lae_open_sys(L);
    lae_open_image(L);
    lae_open_h5(L);
    lae_open_gemm(L);
    lae_open_signal(L);
    lae_open_anomaly(L);
    lae_open_guard(L);
    lae_open_profile(L);
    return 1;
}

/* the op families registered as tables of the core (core.kl...), which
 * are also the modules "aerun.kl"... */
static const char *const core_tables[] = {"kl", "loss", "penalty", "noise", NULL};

static int open_core_table(lua_State *L)
{
    lua_getglobal(L, "require");
    lua_pushliteral(L, "aerun.core");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, lua_tostring(L, lua_upvalueindex(1)));
    return 1;
}

/* puts the core and every compiled-in module into package.preload;
 * returns the entry of the main module */
static const lae_embedded *register_modules(lua_State *L)
{
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_pushcfunction(L, open_core);
    lua_setfield(L, -2, "aerun.core");
    for (const char *const *t = core_tables; *t; t++) {
        const char *module = lua_pushfstring(L, "aerun.%s", *t);
        lua_pushstring(L, *t);
        lua_pushcclosure(L, open_core_table, 1);
        lua_setfield(L, -3, module);
        lua_pop(L, 1);
    }
    const lae_embedded *main = NULL;
    for (const lae_embedded *e = lae_embedded_files; e->module; e++) {
        if (e->module[0] == 'a' && !strcmp(e->module, "aerun")) {
            main = e;
            continue;
        }
        lua_pushlightuserdata(L, (void *)e);
        lua_pushcclosure(L, load_embedded, 1);
        lua_setfield(L, -2, e->module);
    }
    lua_pop(L, 1);
    return main;
}

int lae_require_embedded(lua_State *L, const char *module)
{
    register_modules(L);
    lua_getglobal(L, "require");
    lua_pushstring(L, module);
    lua_call(L, 1, 1);
    return 1;
}

int luaopen_aerun(lua_State *L)
{
    /* lua5.4's own interpreter runs the collector in generational mode, in
     * which the size hints of lae_push_tensor barely move it and dead
     * tensors pile up between rare full collections; the incremental mode
     * frees them at the pace they are made */
    lua_gc(L, LUA_GCINC, 0, 0, 0);
    const lae_embedded *main = register_modules(L);
    if (!main) return luaL_error(L, "aerun: the Lua library was not compiled in");
    lua_settop(L, 1);
    if (lua_isnil(L, 1)) {
        lua_pushstring(L, "aerun");
        lua_replace(L, 1);
    }
    lua_pushlightuserdata(L, (void *)main);
    lua_pushcclosure(L, load_embedded, 1);
    lua_insert(L, 1);
    lua_call(L, 1, 1);
    return 1;
}

/* require "aerun.core" from a stock lua5.4 finds this in aerun.so */
int luaopen_aerun_core(lua_State *L) { return lae_require_embedded(L, "aerun.core"); }
/* and "aerun.kl"... the tables of the core */
int luaopen_aerun_kl(lua_State *L) { return lae_require_embedded(L, "aerun.kl"); }
int luaopen_aerun_loss(lua_State *L) { return lae_require_embedded(L, "aerun.loss"); }
int luaopen_aerun_penalty(lua_State *L) { return lae_require_embedded(L, "aerun.penalty"); }
int luaopen_aerun_noise(lua_State *L) { return lae_require_embedded(L, "aerun.noise"); }
