/* signal.c: SIGINT and SIGTERM as requests to stop cleanly.
 *
 *   ae.trap_signals(true)   from now on SIGINT and SIGTERM only set a flag
 *   ae.interrupted()        "SIGINT", "SIGTERM" or nil: the first one received
 *   ae.trap_signals(false)  the handlers that were there before come back
 *
 * A training loop polls ae.interrupted() between steps, so the step in
 * flight finishes, a checkpoint is written and the run exits with a word on
 * how to resume (Slurm sends SIGTERM some time before it preempts a job).
 * A second signal while the first is pending means "now": the process
 * leaves at once with _exit(128 + signal), which keeps the last checkpoint
 * because checkpoints are replaced atomically.
 *
 * The handlers replace, and on trap_signals(false) give back, whatever was
 * installed: the executable's own SIGINT handler (aerun.c stops the script
 * with a Lua error through lua_sethook) or lua.c's when aerun.so is loaded
 * by a stock lua5.4.  A handler only stores into sig_atomic_t flags and
 * calls write(2) and _exit(2), which are async-signal-safe. */
#include "binding.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t first_signal; /* 0, SIGINT or SIGTERM */
static int trapping;
static struct sigaction saved_int, saved_term;

static void say(const char *s) { (void)!write(STDERR_FILENO, s, strlen(s)); }

static void on_signal(int sig)
{
    if (first_signal) {
        say(sig == SIGINT ? "\naerun: second interrupt (SIGINT): exiting now\n"
                          : "\naerun: second termination request (SIGTERM): exiting now\n");
        _exit(128 + sig);
    }
    first_signal = sig;
    say(sig == SIGINT ? "\naerun: SIGINT received: stopping after the current step (^C again to quit now)\n"
                      : "\naerun: SIGTERM received: stopping after the current step\n");
}

static void install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART; /* a write(2) in a checkpoint save goes on */
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGINT);
    sigaddset(&sa.sa_mask, SIGTERM);
    sigaction(SIGINT, &sa, &saved_int);
    sigaction(SIGTERM, &sa, &saved_term);
    trapping = 1;
}

static void restore(void)
{
    if (!trapping) return;
    sigaction(SIGINT, &saved_int, NULL);
    sigaction(SIGTERM, &saved_term, NULL);
    trapping = 0;
}

/* the state going away must not leave handlers that nobody polls */
static int l_restore_on_close(lua_State *L)
{
    (void)L;
    restore();
    return 0;
}

static void restore_when_closed(lua_State *L)
{
    static const char key[] = "aerun.signals";
    if (lua_getfield(L, LUA_REGISTRYINDEX, key) == LUA_TNIL) {
        lua_newuserdatauv(L, 1, 0);
        lua_createtable(L, 0, 1);
        lua_pushcfunction(L, l_restore_on_close);
        lua_setfield(L, -2, "__gc");
        lua_setmetatable(L, -2);
        lua_setfield(L, LUA_REGISTRYINDEX, key);
    }
    lua_pop(L, 1);
}

/* trap_signals(on): returns whether signals were trapped before */
static int l_trap_signals(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TBOOLEAN);
    int on = lua_toboolean(L, 1), was = trapping;
    if (on) {
        first_signal = 0;
        if (!trapping) {
            restore_when_closed(L);
            install();
        }
    } else {
        restore();
    }
    lua_pushboolean(L, was);
    return 1;
}

static int l_interrupted(lua_State *L)
{
    int sig = first_signal;
    if (sig == SIGINT) lua_pushliteral(L, "SIGINT");
    else if (sig == SIGTERM) lua_pushliteral(L, "SIGTERM");
    else lua_pushnil(L);
    return 1;
}

static const luaL_Reg functions[] = {{"trap_signals", l_trap_signals}, {"interrupted", l_interrupted}, {NULL, NULL}};

void lae_open_signal(lua_State *L) { luaL_setfuncs(L, functions, 0); }
