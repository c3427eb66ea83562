/* profile.c: the Lua side of `aerun --profile` (or AERUN_PROFILE=1 with
 * a stock lua5.4).  When profiling is on as the core opens, every core
 * function, tensor method and data set method that does tensor work is
 * replaced by a closure that charges its time to its kind (profile.h):
 * forward ops at this binding layer, backward ops in autograd.c, GEMMs in
 * gemm.c.  When it is off nothing is wrapped and nothing costs.
 * ae.profile() returns the totals so far (nil when off), ae.profile_reset()
 * starts them again, ae.profile_report() prints the table to stderr.
 * Must be opened last, after every other lae_open_*. */
#include "binding.h"

#include <stdlib.h>
#include <string.h>

#include "core/profile.h"

/* functions that call back into Lua, or do no tensor work worth a line:
 * their time stays with the interpreter */
static const char *const unwrapped[] = {
    "no_grad",      "set_grad_enabled", "is_grad_enabled", "time",       "memory",      "gemm_flops",
    "gemm_backend", "gemm_threads",     "gemm_use",        "bench_gemm", "manual_seed", "initial_seed",
    "rng_state",    "set_rng_state",    "isatty",          "mkdir_p",    "symlink",     "plot",
    "profile",      "profile_reset",    "profile_report",  NULL};

static const char *const optimizer_ops[] = {"sgd_step",    "adam_step", "adam_step_all", "rmsprop_step", "grad_norm",
                                            "grad_scale_", NULL};
static const char *const data_ops[] = {"dataset_open",    "dataset_tensor", "dataset_h5", "dataset_split",
                                       "dataset_moments", "idx_read",       NULL};

static bool listed(const char *name, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(name, *list) == 0) return true;
    return false;
}

/* -1: leave it alone */
static int kind_of_function(const char *name)
{
    if (listed(name, unwrapped) || strncmp(name, "h5_", 3) == 0 || strncmp(name, "png_", 4) == 0 ||
        strcmp(name, "canvas") == 0 || strncmp(name, "anomaly", 7) == 0 || strncmp(name, "__", 2) == 0)
        return -1;
    if (listed(name, optimizer_ops)) return AE_PROF_OPTIMIZER;
    if (listed(name, data_ops)) return AE_PROF_DATA;
    if (strcmp(name, "backward") == 0) return AE_PROF_AUTOGRAD;
    return (int)ae_prof_kind_of_op(name);
}

static void wrap(lua_State *L, int idx, int kind, const char *name);

/* upvalues: the original function, its kind, its name */
static int profiled(lua_State *L)
{
    int nargs = lua_gettop(L);
    int kind = (int)lua_tointeger(L, lua_upvalueindex(2));
    const char *name = lua_tostring(L, lua_upvalueindex(3));
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    int token = ae_prof_enter((ae_prof_kind)kind, name);
    int status = lua_pcall(L, nargs, LUA_MULTRET, 0);
    ae_prof_leave(token);
    if (status != LUA_OK) {
        /* the wrapped function placed its error at its caller, which is
         * this closure (a C function: no position); place it at ours */
        if (lua_type(L, -1) == LUA_TSTRING) {
            luaL_where(L, 1);
            lua_insert(L, -2);
            lua_concat(L, 2);
        }
        return lua_error(L);
    }
    int nres = lua_gettop(L);
    /* an iterator (ds:batches) does its work when called: profile it too */
    for (int i = 1; i <= nres; i++)
        if (lua_iscfunction(L, i) && lua_tocfunction(L, i) != profiled) wrap(L, i, kind, name);
    return nres;
}

/* replaces the C function at idx by its profiled closure */
static void wrap(lua_State *L, int idx, int kind, const char *name)
{
    idx = lua_absindex(L, idx);
    lua_pushvalue(L, idx);
    lua_pushinteger(L, kind);
    lua_pushstring(L, name);
    lua_pushcclosure(L, profiled, 3);
    lua_replace(L, idx);
}

/* wraps every C function of the table at idx that does tensor work;
 * fixed_kind >= 0 puts them all in that kind.  The op families that are
 * tables of the core (loss, kl, penalty, noise) are walked too, their
 * functions named as scripts call them ("loss.mse"). */
static void wrap_table(lua_State *L, int idx, int fixed_kind, const char *prefix)
{
    idx = lua_absindex(L, idx);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        if (lua_type(L, -2) != LUA_TSTRING) {
            lua_pop(L, 1);
            continue;
        }
        if (!prefix && lua_type(L, -1) == LUA_TTABLE) {
            if (lua_getmetatable(L, -1)) lua_pop(L, 1); /* an object, not a family */
            else wrap_table(L, -1, fixed_kind, lua_tostring(L, -2));
        } else if (lua_iscfunction(L, -1) && lua_tocfunction(L, -1) != profiled) {
            const char *key = lua_tostring(L, -2);
            const char *name = prefix ? lua_pushfstring(L, "%s.%s", prefix, key) : key;
            int kind = kind_of_function(name);
            if (kind >= 0 && fixed_kind >= 0) kind = fixed_kind;
            if (kind >= 0) {
                wrap(L, prefix ? -2 : -1, kind, name);
                if (prefix) lua_pop(L, 1);
                lua_pushvalue(L, -2);
                lua_insert(L, -2);
                lua_rawset(L, idx); /* replacing an existing key keeps lua_next valid */
                continue;
            }
            if (prefix) lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
}

/* the tensor metatable's arithmetic metamethods */
static void wrap_metamethods(lua_State *L, int mt)
{
    static const char *const mms[] = {"__add", "__sub", "__mul", "__div", "__unm", "__pow", NULL};
    for (const char *const *m = mms; *m; m++) {
        if (lua_getfield(L, mt, *m) == LUA_TFUNCTION && lua_iscfunction(L, -1)) {
            wrap(L, -1, AE_PROF_ELEMENTWISE, *m + 2);
            lua_setfield(L, mt, *m);
        } else {
            lua_pop(L, 1);
        }
    }
}

static void wrap_everything(lua_State *L)
{
    int core = lua_gettop(L);
    wrap_table(L, core, -1, NULL);
    if (luaL_getmetatable(L, LAE_TENSOR) == LUA_TTABLE) {
        int mt = lua_gettop(L);
        if (lua_getfield(L, mt, "methods") == LUA_TTABLE) wrap_table(L, -1, -1, NULL);
        lua_pop(L, 1);
        wrap_metamethods(L, mt);
    }
    lua_pop(L, 1);
    if (luaL_getmetatable(L, "aerun.Dataset") == LUA_TTABLE) {
        if (lua_getfield(L, -1, "__index") == LUA_TTABLE) wrap_table(L, -1, AE_PROF_DATA, NULL);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

static const char *const field_names[AE_PROF_KINDS] = {
    [AE_PROF_LUA] = "lua",
    [AE_PROF_GEMM] = "gemm",
    [AE_PROF_CONV] = "conv",
    [AE_PROF_ELEMENTWISE] = "elementwise",
    [AE_PROF_OPTIMIZER] = "optimizer",
    [AE_PROF_DATA] = "data",
    [AE_PROF_AUTOGRAD] = "autograd",
};

/* profile() -> {total =, gemm =, conv =, elementwise =, optimizer =, data =,
 * autograd =, lua = (seconds), calls = {gemm =, ...}} or nil when off */
static int l_profile(lua_State *L)
{
    if (!ae_profile_enabled()) return lua_pushnil(L), 1;
    ae_profile_totals t;
    ae_profile_get(&t);
    lua_createtable(L, 0, AE_PROF_KINDS + 2);
    lua_pushnumber(L, t.total);
    lua_setfield(L, -2, "total");
    lua_createtable(L, 0, AE_PROF_KINDS);
    for (int k = 0; k < AE_PROF_KINDS; k++) {
        lua_pushnumber(L, t.seconds[k]);
        lua_setfield(L, -3, field_names[k]);
        lua_pushinteger(L, (lua_Integer)t.calls[k]);
        lua_setfield(L, -2, field_names[k]);
    }
    lua_setfield(L, -2, "calls");
    return 1;
}

static int l_profile_reset(lua_State *L)
{
    (void)L;
    ae_profile_reset();
    return 0;
}

static int l_profile_report(lua_State *L)
{
    (void)L;
    ae_profile_report(stderr);
    return 0;
}

static const luaL_Reg functions[] = {
    {"profile", l_profile}, {"profile_reset", l_profile_reset}, {"profile_report", l_profile_report}, {NULL, NULL}};

void lae_open_profile(lua_State *L)
{
    const char *env = getenv("AERUN_PROFILE");
    if (env && *env && strcmp(env, "0") != 0) ae_profile_enable();
    if (ae_profile_enabled()) wrap_everything(L);
    luaL_setfuncs(L, functions, 0);
}
