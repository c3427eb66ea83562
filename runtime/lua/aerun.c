/* aerun.c: the aerun executable, Lua 5.4's stand-alone interpreter with the
 * aerun runtime built in.
 *
 *     aerun [options] [script [args]]
 *
 * It behaves like the `lua` command (-e -l -i -v -E -W, "--", "-", the
 * global `arg`, LUA_INIT, a REPL, ^C stopping the running script with a Lua
 * error) so that what a researcher knows about lua holds here.  On top:
 *   - `require "aerun"` (and "aerun.nn" etc., even first) resolves to the
 *     runtime linked into this binary (package.preload), so no file has to
 *     be installed beside it;
 *   - aerun's own long options (--help, --version, ...) come from one table,
 *     so a new one is a row, a field in `cli` and its use in run();
 *   - every word after the script name is the script's, --key=value pairs
 *     included: those are read by ae.config.
 * One deliberate difference from lua: with no script, all words are
 * interpreter options, so they all sit at negative indices of `arg` (lua
 * puts them at 1.., where ae.config would take them for script arguments). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "embedded_lua.h"
#include "binding.h"
#include "core/profile.h"
#include "core/denormals.h"
#include "core/error.h"
#include "core/gemm.h"
#include "core/version.h"

#define PROGNAME "aerun"

/* ------------------------------------------------------------------ */
/* the command line                                                    */

/* -e and -l run in command-line order, so they are kept as a list */
typedef struct action {
    char kind; /* 'e' or 'l' */
    const char *value;
} action;

typedef struct cli {
    int interactive;           /* -i */
    int version;               /* -v, --version */
    int no_env;                /* -E */
    int warnings;              /* -W */
    int help;                  /* --help */
    int sweep_list;            /* --sweep-list (1) or --sweep-count (2) */
    const char *sweep_collect; /* --sweep-collect DIR */
    const char *report_dir;    /* --report DIR */
    int script;                /* argv index of the script; argc when there is none */
    int script_literal;        /* the script came after "--": "-" is then a file name */
    int executes;              /* some -e: no implicit REPL or stdin afterwards */
    int nactions;
    action *actions;
} cli;

typedef struct long_option {
    const char *name; /* without the leading "--" */
    const char *arg;  /* the value's name for --help; NULL: a flag */
    const char *help;
    void (*set)(cli *c, const char *value);
} long_option;

static void set_help(cli *c, const char *value)
{
    (void)value;
    c->help = 1;
}
static void set_version(cli *c, const char *value)
{
    (void)value;
    c->version = 1;
}
static void set_sweep_list(cli *c, const char *value)
{
    (void)value;
    c->sweep_list = 1;
}
static void set_sweep_count(cli *c, const char *value)
{
    (void)value;
    c->sweep_list = 2;
}
static void set_sweep_collect(cli *c, const char *value) { c->sweep_collect = value; }
static void set_report(cli *c, const char *value) { c->report_dir = value; }
/* the clock starts now; the table is printed to stderr at exit */
static void set_profile(cli *c, const char *value)
{
    (void)c, (void)value;
    ae_profile_enable();
}

static const long_option long_options[] = {
    {"help", NULL, "show this help and exit", set_help},
    {"version", NULL, "show aerun's and Lua's versions (as -v)", set_version},
    {"sweep-list", NULL, "print one command per config of the sweep script", set_sweep_list},
    {"sweep-count", NULL, "print the sweep script's number of configs (a Slurm array's size)", set_sweep_count},
    {"sweep-collect", "DIR", "merge the runs' results under DIR into DIR/sweep.csv", set_sweep_collect},
    {"report", "DIR", "write DIR/report.html for the run or sweep in DIR", set_report},
    {"profile", NULL, "print at exit where the time went, by kind of work", set_profile},
    {NULL, NULL, NULL, NULL}};

static void print_usage(FILE *f)
{
    fputs("usage: " PROGNAME " [options] [script [args]]\n"
          "Runs a Lua 5.4 script with the aerun runtime (require \"aerun\").\n"
          "Options:\n"
          "  -e stat      execute string 'stat'\n"
          "  -i           enter interactive mode after running the script\n"
          "  -l mod       require library 'mod' into global 'mod'\n"
          "  -l g=mod     require library 'mod' into global 'g'\n"
          "  -v           show version information\n"
          "  -E           ignore environment variables (LUA_INIT, LUA_PATH, LUA_CPATH)\n"
          "  -W           turn warnings on\n",
          f);
    for (const long_option *o = long_options; o->name; o++) {
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        fprintf(f, "  %-12s %s\n", left, o->help);
    }
    fputs("  --           stop handling options\n"
          "  -            run stdin and stop handling options\n"
          "Every argument after the script belongs to the script: it sees them\n"
          "in the global 'arg' and as '...'.  Experiments take --key=value\n"
          "arguments, read by ae.config, for example\n"
          "  " PROGNAME " experiments/vae_mnist.lua --epochs=3 --lr=1e-3\n"
          "and '" PROGNAME " script.lua --help' lists the keys a script accepts.\n"
          "Commands in place of a script:\n"
          "  " PROGNAME " eval CHECKPOINT.h5 --data=SPEC   score a saved model on any data\n"
          "                                          (" PROGNAME " eval --help)\n"
          "With no script, " PROGNAME " is interactive when stdin is a terminal\n"
          "and runs stdin otherwise.\n"
          "An error shows the script's own frames, not the library's;\n"
          "AERUN_TRACEBACK=1 shows them all.\n",
          f);
}

static int option_error(const char *fmt, const char *what)
{
    fprintf(stderr, PROGNAME ": ");
    fprintf(stderr, fmt, what);
    fprintf(stderr, "\ntry '" PROGNAME " --help'\n");
    return -1;
}

static int parse_long(int argc, char **argv, int *i, cli *c)
{
    const char *word = argv[*i], *name = word + 2;
    const char *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    for (const long_option *o = long_options; o->name; o++) {
        if (strlen(o->name) != len || strncmp(o->name, name, len) != 0) continue;
        const char *value = NULL;
        if (o->arg == NULL && eq) return option_error("option '%s' takes no value", word);
        if (o->arg && eq) value = eq + 1;
        else if (o->arg && *i + 1 < argc) value = argv[++*i];
        else if (o->arg) return option_error("option '%s' needs an argument", word);
        o->set(c, value);
        return 0;
    }
    if (eq) /* the usual slip: a script's --key=value before the script */
        return option_error("unrecognized option '%s' (arguments for the "
                            "script go after its name)",
                            word);
    return option_error("unrecognized option '%s'", word);
}

/* options of the interpreter itself: everything before the script name */
static int parse_args(int argc, char **argv, cli *c)
{
    c->script = argc;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || a[1] == '\0') { /* a script, or "-" for stdin */
            c->script = i;
            return 0;
        }
        if (a[1] == '-' && a[2] == '\0') {
            if (i + 1 < argc) {
                c->script = i + 1;
                c->script_literal = 1;
            }
            return 0;
        }
        if (a[1] == '-') {
            if (parse_long(argc, argv, &i, c) != 0) return -1;
            continue;
        }
        switch (a[1]) {
        case 'i':
        case 'v':
        case 'E':
        case 'W':
            if (a[2] != '\0') return option_error("unrecognized option '%s'", a);
            if (a[1] == 'i') c->interactive = c->version = 1; /* -i shows the banner, as lua */
            else if (a[1] == 'v') c->version = 1;
            else if (a[1] == 'E') c->no_env = 1;
            else c->warnings = 1;
            break;
        case 'e':
        case 'l': {
            const char *value = a[2] ? a + 2 : argv[++i];
            if (value == NULL) return option_error("option '%s' needs an argument", a);
            c->actions[c->nactions].kind = a[1];
            c->actions[c->nactions].value = value;
            c->nactions++;
            if (a[1] == 'e') c->executes = 1;
            break;
        }
        default: return option_error("unrecognized option '%s'", a);
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* running code                                                        */

static lua_State *running; /* the state ^C interrupts */

static void stop_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    luaL_error(L, "interrupted!");
}

/* A signal handler may not touch the state, except lua_sethook, which Lua
 * makes safe for this: the hook raises the error at the next Lua
 * instruction, where unwinding is legal.  SA_RESETHAND makes a second ^C
 * kill a script stuck in C code. */
static void on_sigint(int sig)
{
    (void)sig;
    lua_sethook(running, stop_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

static void catch_sigint(void (*handler)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
}

/* ------------------------------------------------------------------ */
/* what an error shows                                                 */

/* AERUN_TRACEBACK=1 (any value but "" and "0"): every frame, as lua shows */
static int full_traceback(void)
{
    const char *e = getenv("AERUN_TRACEBACK");
    return e && *e && strcmp(e, "0") != 0;
}

/* a frame of the library's own Lua code: its chunk is compiled in */
static int library_source(const char *source)
{
    for (const lae_embedded *e = lae_embedded_files; e->module; e++)
        if (strcmp(source, e->chunkname) == 0) return 1;
    return 0;
}

/* the message starts with a position inside the library ("lua/aerun/x.lua:12:"):
 * the library raised it with no boundary in between, which is its bug */
static int library_located(const char *msg)
{
    for (const lae_embedded *e = lae_embedded_files; e->module; e++) {
        const char *src = e->chunkname[0] == '@' ? e->chunkname + 1 : e->chunkname;
        size_t n = strlen(src);
        if (strncmp(msg, src, n) == 0 && msg[n] == ':') return 1;
    }
    return 0;
}

/* pushes where inside the library the error msg began, when lua/aerun/guard.lua
 * saw it as the library's bug (a Lua runtime error there), or nothing; returns
 * whether it pushed */
static int push_internal(lua_State *L, const char *msg)
{
    int top = lua_gettop(L);
    if (lua_getfield(L, LUA_REGISTRYINDEX, "aerun.internal_error") == LUA_TTABLE) {
        lua_rawgeti(L, top + 1, 1);
        lua_rawgeti(L, top + 1, 2);
        const char *m = lua_tostring(L, top + 2), *where = lua_tostring(L, top + 3);
        if (m && where && strcmp(m, msg) == 0) {
            lua_pushfstring(L, "\n(an error inside aerun: please report it with what follows)\nraised at %s", where);
            lua_replace(L, top + 1);
            lua_settop(L, top + 1);
            return 1;
        }
    }
    lua_settop(L, top);
    return 0;
}

/* pushes msg followed by the frames of the script's own code (no C
 * function, nothing of the library), in luaL_traceback's layout; none
 * when the only frame is the position msg starts with */
#define MAX_FRAMES 22
static void push_script_traceback(lua_State *L, const char *msg)
{
    int base = lua_gettop(L), frames = 0, repeats = 0;
    lua_pushstring(L, msg);
    lua_pushliteral(L, "\nstack traceback:");
    lua_Debug ar;
    for (int level = 1; lua_getstack(L, level, &ar); level++) {
        lua_getinfo(L, "Slnt", &ar);
        if (*ar.what == 'C' || ar.currentline <= 0 || library_source(ar.source)) continue;
        if (frames >= MAX_FRAMES) { /* deep recursion: the innermost frames, then a count */
            frames++;
            continue;
        }
        if (*ar.namewhat)
            lua_pushfstring(L, "\n\t%s:%d: in %s '%s'", ar.short_src, ar.currentline, ar.namewhat, ar.name);
        else if (*ar.what == 'm') lua_pushfstring(L, "\n\t%s:%d: in main chunk", ar.short_src, ar.currentline);
        else
            lua_pushfstring(L, "\n\t%s:%d: in function <%s:%d>", ar.short_src, ar.currentline, ar.short_src,
                            ar.linedefined);
        if (ar.istailcall) lua_pushliteral(L, "\n\t(...tail calls...)");
        if (frames++ == 0) {
            char pos[LUA_IDSIZE + 32];
            snprintf(pos, sizeof pos, "%s:%d:", ar.short_src, ar.currentline);
            repeats = strncmp(msg, pos, strlen(pos)) == 0;
        }
        luaL_checkstack(L, 4, "traceback");
        if (lua_gettop(L) - base > 40) lua_concat(L, lua_gettop(L) - base - 1); /* keep the stack small */
    }
    if (frames > MAX_FRAMES) lua_pushfstring(L, "\n\t(... %d more)", frames - MAX_FRAMES);
    if (frames == 0 || (frames == 1 && repeats)) lua_settop(L, base + 1);
    else lua_concat(L, lua_gettop(L) - base);
}

/* message handler: the error as text, whatever was thrown, and the
 * frames that help: the script's own when the script caused it; every
 * frame when the library failed by itself (a bug) or AERUN_TRACEBACK is set */
static int with_traceback(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) msg = lua_tostring(L, -1);
        else msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    if (full_traceback() || strstr(msg, "stack overflow") != NULL || library_located(msg)) {
        luaL_traceback(L, L, msg, 1);
        if (push_internal(L, msg)) lua_concat(L, 2);
        return 1;
    }
    if (push_internal(L, msg)) {
        lua_pushstring(L, msg);
        lua_insert(L, -2);
        lua_concat(L, 2);
        return 1;
    }
    push_script_traceback(L, msg);
    return 1;
}

static int docall(lua_State *L, int narg, int nres)
{
    int base = lua_gettop(L) - narg; /* the function's slot */
    lua_pushcfunction(L, with_traceback);
    lua_insert(L, base);
    running = L;
    catch_sigint(on_sigint);
    int status = lua_pcall(L, narg, nres, base);
    catch_sigint(SIG_DFL);
    lua_remove(L, base);
    return status;
}

/* prints the error on top of the stack, if any, and pops it */
static int report(lua_State *L, int status)
{
    if (status != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        fprintf(stderr, PROGNAME ": %s\n", msg ? msg : "(error object is not a string)");
        fflush(stderr);
        lua_pop(L, 1);
    }
    return status;
}

static int dochunk(lua_State *L, int status)
{
    if (status == LUA_OK) status = docall(L, 0, 0);
    return report(L, status);
}

static int dostring(lua_State *L, const char *s, const char *name)
{
    return dochunk(L, luaL_loadbuffer(L, s, strlen(s), name));
}

/* -l mod or -l g=mod: global g (or mod) = require "mod" */
static int dolibrary(lua_State *L, const char *spec)
{
    const char *eq = strchr(spec, '=');
    const char *modname = eq ? eq + 1 : spec;
    lua_getglobal(L, "require");
    lua_pushstring(L, modname);
    int status = docall(L, 1, 1);
    if (status == LUA_OK) {
        if (eq) lua_pushlstring(L, spec, (size_t)(eq - spec));
        else lua_pushstring(L, spec);
        lua_insert(L, -2);
        lua_setglobal(L, lua_tostring(L, -2));
        lua_pop(L, 1);
    }
    return report(L, status);
}

static int run_actions(lua_State *L, const cli *c)
{
    for (int k = 0; k < c->nactions; k++) {
        const action *a = &c->actions[k];
        int status = a->kind == 'e' ? dostring(L, a->value, "=(command line)") : dolibrary(L, a->value);
        if (status != LUA_OK) return 0;
    }
    return 1;
}

static int run_lua_init(lua_State *L)
{
    const char *name = "=LUA_INIT_5_4";
    const char *init = getenv(name + 1);
    if (init == NULL) {
        name = "=LUA_INIT";
        init = getenv(name + 1);
    }
    if (init == NULL) return LUA_OK;
    if (init[0] == '@') return dochunk(L, luaL_loadfile(L, init + 1));
    return dostring(L, init, name);
}

/* arg[0] is the script, arg[1..] its arguments, arg[-k] what came before */
static void create_arg_table(lua_State *L, char **argv, int argc, int script)
{
    lua_createtable(L, argc - script - 1 > 0 ? argc - script - 1 : 0, script + 1);
    for (int i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - script);
    }
    lua_setglobal(L, "arg");
}

/* the script's `...` is arg[1..#arg], read back from the table so that
 * LUA_INIT or -e may rewrite the arguments, as with lua */
static int push_script_args(lua_State *L)
{
    if (lua_getglobal(L, "arg") != LUA_TTABLE) luaL_error(L, "'arg' is not a table");
    int n = (int)luaL_len(L, -1);
    luaL_checkstack(L, n + 3, "too many arguments to script");
    for (int i = 1; i <= n; i++) lua_rawgeti(L, -i, i);
    lua_remove(L, -n - 1);
    return n;
}

static int run_script(lua_State *L, char **argv, const cli *c)
{
    const char *fname = argv[c->script];
    if (strcmp(fname, "-") == 0 && !c->script_literal) fname = NULL; /* stdin */
    int status = luaL_loadfile(L, fname);
    if (status == LUA_OK) {
        int n = push_script_args(L);
        status = docall(L, n, 0);
    }
    return report(L, status);
}

/* the version; for -v, also what computes: the GEMM backend with its
 * ISA, bf16 and the denormal mode, so that a user sees the fast path is
 * taken (the REPL's banner stays one line, as lua's) */
static void print_version(bool computes)
{
    fputs(PROGNAME " " AERUN_VERSION " with " LUA_COPYRIGHT "\n", stdout);
    if (!computes) {
        fflush(stdout);
        return;
    }
    const char *denormals = "flushed to zero";
    if (!ae_denormals_supported()) denormals = "IEEE (this CPU has no flush)";
    else if (ae_denormals_init() != 0) denormals = ae_error();
    else if (!ae_denormals_flushed()) denormals = "kept (AERUN_DENORMALS=keep)";
    printf("products: %s; bf16: %s; denormals: %s\n", ae_gemm_backend(),
           ae_gemm_bf16_available() ? ae_gemm_isa() : "no (fp32 only)", denormals);
    fflush(stdout);
}

/* ------------------------------------------------------------------ */
/* the REPL: plain stdio, no readline                                  */

#define LINE_CHUNK 512

/* pushes the next line of stdin without its newline; 0 at end of input */
static int push_line(lua_State *L, int first, int show_prompt)
{
    if (show_prompt) {
        lua_getglobal(L, first ? "_PROMPT" : "_PROMPT2");
        const char *p = lua_tostring(L, -1);
        fputs(p ? p : first ? "> " : ">> ", stdout);
        fflush(stdout);
        lua_pop(L, 1);
    }
    char chunk[LINE_CHUNK];
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    int got = 0;
    while (fgets(chunk, sizeof chunk, stdin) != NULL) {
        size_t n = strlen(chunk);
        got = 1;
        if (n > 0 && chunk[n - 1] == '\n') {
            luaL_addlstring(&b, chunk, n - 1);
            break;
        }
        luaL_addlstring(&b, chunk, n);
    }
    luaL_pushresult(&b);
    if (!got) {
        lua_pop(L, 1);
        return 0;
    }
    return 1;
}

/* a syntax error at the end of the input means "type more" */
static int incomplete(lua_State *L, int status)
{
    static const char eof[] = "<eof>";
    const size_t eoflen = sizeof eof - 1;
    size_t len;
    const char *msg;
    if (status != LUA_ERRSYNTAX) return 0;
    msg = lua_tolstring(L, -1, &len);
    return msg && len >= eoflen && strcmp(msg + len - eoflen, eof) == 0;
}

/* compiles what the user typed: first as an expression whose values are
 * printed, then as statements, reading more lines while they are
 * incomplete.  Leaves the function (or the error) alone on the stack;
 * returns -1 at end of input. */
static int read_chunk(lua_State *L, int show_prompt)
{
    lua_settop(L, 0);
    if (!push_line(L, 1, show_prompt)) return -1;
    const char *expr = lua_pushfstring(L, "return %s;", lua_tostring(L, 1));
    int status = luaL_loadbuffer(L, expr, strlen(expr), "=stdin");
    if (status == LUA_OK) {
        lua_replace(L, 1);
        lua_settop(L, 1);
        return status;
    }
    lua_settop(L, 1);
    for (;;) {
        size_t len;
        const char *code = lua_tolstring(L, 1, &len);
        status = luaL_loadbuffer(L, code, len, "=stdin");
        if (!incomplete(L, status)) break;
        lua_pop(L, 1);
        if (!push_line(L, 0, show_prompt)) {
            status = luaL_loadbuffer(L, code, len, "=stdin"); /* its error */
            break;
        }
        lua_pushliteral(L, "\n");
        lua_insert(L, -2);
        lua_concat(L, 3);
    }
    lua_remove(L, 1);
    return status;
}

/* pushes the function that shows the REPL's results: aerun.repl.print
 * (tensors in torch's layout, tables one level deep, modules as their
 * repr), or print when the library cannot be loaded */
static void push_printer(lua_State *L)
{
    int top = lua_gettop(L);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "aerun.repl");
    if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_istable(L, -1)) {
        lua_getfield(L, -1, "print");
        if (lua_isfunction(L, -1)) {
            lua_remove(L, -2);
            return;
        }
    }
    lua_settop(L, top);
    lua_getglobal(L, "print");
}

static void print_results(lua_State *L)
{
    int n = lua_gettop(L);
    if (n == 0) return;
    luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
    push_printer(L);
    lua_insert(L, 1);
    if (lua_pcall(L, n, 0, 0) != LUA_OK) {
        fprintf(stderr, PROGNAME ": error calling 'print' (%s)\n", lua_tostring(L, -1));
        lua_pop(L, 1);
    }
}

static void repl(lua_State *L)
{
    /* prompts only for a person: piped input gives clean output */
    int tty = isatty(STDIN_FILENO);
    int status;
    while ((status = read_chunk(L, tty)) != -1) {
        if (status == LUA_OK) status = docall(L, 0, LUA_MULTRET);
        if (status == LUA_OK) print_results(L);
        else report(L, status);
    }
    lua_settop(L, 0);
    if (tty) fputc('\n', stdout);
    fflush(stdout);
}

/* ------------------------------------------------------------------ */

/* The library's modules (aerun.nn, aerun.config, ...) get their loaders
 * from luaopen_aerun.  So that a script may require one of them before
 * "aerun" itself, each starts as this stand-in: it loads "aerun", which
 * replaces the stand-in, then uses the real loader. */
static int load_via_aerun(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "aerun");
    lua_call(L, 1, 0);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    if (lua_getfield(L, -1, name) != LUA_TNIL) /* "aerun" required it */
        return 1;
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_getfield(L, -1, name);
    if (lua_tocfunction(L, -1) == load_via_aerun || lua_isnil(L, -1))
        return luaL_error(L, "module '%s' was not registered by aerun", name);
    lua_pushvalue(L, 1);
    lua_call(L, 1, 1);
    return 1;
}

static void preload_aerun(lua_State *L)
{
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    for (const lae_embedded *e = lae_embedded_files; e->module; e++) {
        lua_pushcfunction(L, load_via_aerun);
        lua_setfield(L, -2, e->module);
    }
    lua_pushcfunction(L, load_via_aerun);
    lua_setfield(L, -2, "aerun.core");
    lua_pushcfunction(L, luaopen_aerun);
    lua_setfield(L, -2, "aerun");
    lua_pop(L, 1);
}

/* --sweep-list, --sweep-collect and --report are functions of library
 * modules: calls module's function fn with arg (when not NULL).  Their
 * errors are messages for the user, printed without a traceback. */
static int module_call(lua_State *L, const char *module, const char *fn, const char *arg)
{
    lua_getglobal(L, "require");
    lua_pushstring(L, module);
    int status = docall(L, 1, 1);
    if (status != LUA_OK) return report(L, status);
    lua_getfield(L, -1, fn);
    lua_remove(L, -2);
    if (arg) lua_pushstring(L, arg);
    return report(L, lua_pcall(L, arg ? 1 : 0, 0, 0));
}

static int sweep_call(lua_State *L, const char *fn, const char *arg) { return module_call(L, "aerun.sweep", fn, arg); }

/* `aerun eval ...`: the command is the main function of the module
 * aerun.eval, called with the global arg (the words after "eval"); its
 * errors are messages for the user, printed without a traceback.  A
 * script file named eval runs as ./eval. */
static int command_call(lua_State *L, const char *module)
{
    lua_getglobal(L, "require");
    lua_pushstring(L, module);
    int status = docall(L, 1, 1);
    if (status != LUA_OK) return report(L, status);
    lua_getfield(L, -1, "main");
    lua_remove(L, -2);
    lua_getglobal(L, "arg");
    return report(L, lua_pcall(L, 1, 0, 0));
}

/* everything that can raise runs here, under lua_pcall */
static int run(lua_State *L)
{
    int argc = (int)lua_tointeger(L, 1);
    char **argv = lua_touserdata(L, 2);
    const cli *c = lua_touserdata(L, 3);
    luaL_checkversion(L);
    if (c->version) print_version(!c->interactive);
    if (c->no_env) { /* package reads this before LUA_PATH and LUA_CPATH */
        lua_pushboolean(L, 1);
        lua_setfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
    }
    luaL_openlibs(L);
    preload_aerun(L);
    create_arg_table(L, argv, argc, c->script);
    lua_gc(L, LUA_GCRESTART);
    if (c->warnings) lua_warning(L, "@on", 0);
    if (!c->no_env && run_lua_init(L) != LUA_OK) return 0;
    if (!run_actions(L, c)) return 0;
    if (c->sweep_collect) {
        if (c->script < argc) {
            fputs(PROGNAME ": --sweep-collect DIR takes no script\n", stderr);
            return 0;
        }
        if (sweep_call(L, "collect", c->sweep_collect) != LUA_OK) return 0;
        lua_pushboolean(L, 1);
        return 1;
    }
    if (c->report_dir) {
        if (c->script < argc) {
            fputs(PROGNAME ": --report DIR takes no script\n", stderr);
            return 0;
        }
        if (module_call(L, "aerun.report", "write", c->report_dir) != LUA_OK) return 0;
        lua_pushboolean(L, 1);
        return 1;
    }
    if (c->sweep_list) { /* the script runs with its runs only counted */
        const char *option = c->sweep_list == 2 ? "--sweep-count" : "--sweep-list";
        if (c->script == argc) {
            fprintf(stderr, PROGNAME ": %s needs a sweep script\n", option);
            return 0;
        }
        if (sweep_call(L, "begin_listing", option) != LUA_OK || run_script(L, argv, c) != LUA_OK ||
            sweep_call(L, c->sweep_list == 2 ? "print_count" : "list_commands", argv[0]) != LUA_OK)
            return 0;
        lua_pushboolean(L, 1);
        return 1;
    }
    if (c->script < argc && !c->script_literal && strcmp(argv[c->script], "eval") == 0) {
        if (command_call(L, "aerun.eval") != LUA_OK) return 0;
        lua_pushboolean(L, 1);
        return 1;
    }
    if (c->script < argc && run_script(L, argv, c) != LUA_OK) return 0;
    if (c->interactive) {
        repl(L);
    } else if (c->script == argc && !c->executes && !c->version) {
        if (isatty(STDIN_FILENO)) {
            print_version(false);
            repl(L);
        } else if (dochunk(L, luaL_loadfile(L, NULL)) != LUA_OK) {
            return 0;
        }
    }
    lua_pushboolean(L, 1);
    return 1;
}

int main(int argc, char **argv)
{
    cli c;
    memset(&c, 0, sizeof c);
    c.actions = calloc((size_t)argc + 1, sizeof *c.actions);
    if (c.actions == NULL) {
        fputs(PROGNAME ": not enough memory\n", stderr);
        return EXIT_FAILURE;
    }
    if (parse_args(argc, argv, &c) != 0) {
        free(c.actions);
        return EXIT_FAILURE;
    }
    if (c.help) {
        print_usage(stdout);
        free(c.actions);
        return EXIT_SUCCESS;
    }
    lua_State *L = luaL_newstate();
    if (L == NULL) {
        fputs(PROGNAME ": cannot create the Lua state: not enough memory\n", stderr);
        free(c.actions);
        return EXIT_FAILURE;
    }
    lua_gc(L, LUA_GCSTOP); /* no collection while the libraries load */
    lua_pushcfunction(L, run);
    lua_pushinteger(L, argc);
    lua_pushlightuserdata(L, argv);
    lua_pushlightuserdata(L, &c);
    int status = lua_pcall(L, 3, 1, 0);
    int ok = status == LUA_OK && lua_toboolean(L, -1);
    report(L, status);
    lua_close(L);
    free(c.actions);
    return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
