/* harness.c: the libFuzzer entry point shared by every fuzz target.
 *
 * A target is a Lua driver (fuzz/drivers/<name>.lua, its path compiled in
 * as FUZZ_DRIVER) run by an embedded lua_State with the aerun runtime
 * loaded, as a script would use it.  The driver chunk returns a function
 * that is called once with a scratch directory and returns the function
 * that takes one input (a Lua string).  That function must return for every input: it catches the
 * errors it expects (a clear message for a bad file) and raises for what is
 * a defect (a Lua runtime error from inside the library, an error that
 * does not name the file, a result that breaks an invariant).  A raised
 * error is printed and turned into abort(), which libFuzzer records as a
 * crash like any ASan report.  fuzz/replay.lua runs the same drivers in the
 * aerun executable, so a crash file becomes a regression test that needs
 * no clang. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#ifndef FUZZ_DRIVER
#error "build with -DFUZZ_DRIVER=\"path/to/driver.lua\""
#endif

int luaopen_aerun(lua_State *L);

static lua_State *L;
static int one_input = LUA_NOREF;
static char scratch[64];

/* Coverage of the Lua code: libFuzzer sees the C it instruments, not the
 * lines of the library's Lua files, which a config parser or a checkpoint
 * loader mostly is.  A line hook hashes each (function, line) transition
 * inside the library (sources "@lua/aerun/...", not the driver's own code)
 * into counters in the section libFuzzer reads as extra coverage, the way
 * AFL records edges, so an input that reaches new library lines is kept. */
#define LUA_COUNTERS (1 << 16)
__attribute__((section("__libfuzzer_extra_counters"))) static uint8_t lua_counters[LUA_COUNTERS];
static uintptr_t previous_line;
static const void *last_function;
static int last_is_library;

static void line_hook(lua_State *S, lua_Debug *ar)
{
    if (!lua_getinfo(S, "f", ar)) return;
    const void *fn = lua_topointer(S, -1);
    lua_pop(S, 1);
    if (fn != last_function) {
        last_function = fn;
        last_is_library = lua_getinfo(S, "S", ar) && strncmp(ar->source, "@lua/aerun/", 11) == 0;
    }
    if (!last_is_library) return;
    uintptr_t here = (uintptr_t)fn * 2654435761u ^ (uintptr_t)ar->currentline * 40503u;
    lua_counters[(here ^ previous_line) % LUA_COUNTERS]++;
    previous_line = here >> 1;
}

static void remove_scratch(void)
{
    DIR *d = opendir(scratch);
    if (!d) return;
    struct dirent *e;
    char path[512];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        snprintf(path, sizeof path, "%s/%s", scratch, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(scratch);
}

static int traceback(lua_State *S)
{
    const char *msg = lua_tostring(S, 1);
    luaL_traceback(S, S, msg ? msg : "(error object is not a string)", 1);
    return 1;
}

static void die(const char *what)
{
    fprintf(stderr, "fuzz driver %s: %s\n", FUZZ_DRIVER, what);
    fflush(stderr);
    abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *tmp = getenv("TMPDIR");
    snprintf(scratch, sizeof scratch, "%s/aerun-fuzz-XXXXXX", tmp && strlen(tmp) < 32 ? tmp : "/tmp");
    if (!mkdtemp(scratch)) die("cannot create a scratch directory");
    atexit(remove_scratch);
    L = luaL_newstate();
    if (!L) die("cannot create a Lua state");
    luaL_openlibs(L);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_pushcfunction(L, luaopen_aerun);
    lua_setfield(L, -2, "aerun");
    lua_pop(L, 1);
    lua_pushcfunction(L, traceback);
    /* require "aerun", which registers its submodules, then the driver:
     * its chunk returns a function of the scratch directory, which returns
     * the function of one input */
    lua_getglobal(L, "require");
    lua_pushliteral(L, "aerun");
    if (lua_pcall(L, 1, 0, 1) != LUA_OK) die(lua_tostring(L, -1));
    if (luaL_loadfile(L, FUZZ_DRIVER) != LUA_OK) die(lua_tostring(L, -1));
    if (lua_pcall(L, 0, 1, 1) != LUA_OK) die(lua_tostring(L, -1));
    lua_pushstring(L, scratch);
    if (lua_pcall(L, 1, 1, 1) != LUA_OK) die(lua_tostring(L, -1));
    if (!lua_isfunction(L, -1)) die("the driver must return a function of the scratch directory");
    one_input = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_settop(L, 0);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lua_pushcfunction(L, traceback);
    lua_rawgeti(L, LUA_REGISTRYINDEX, one_input);
    lua_pushlstring(L, (const char *)data, size);
    previous_line = 0;
    lua_sethook(L, line_hook, LUA_MASKLINE, 0);
    int status = lua_pcall(L, 1, 0, 1);
    lua_sethook(L, NULL, 0, 0);
    if (status != LUA_OK) die(lua_tostring(L, -1));
    lua_settop(L, 0);
    return 0;
}
