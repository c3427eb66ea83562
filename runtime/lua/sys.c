/* sys.c: the little of the operating system that experiments need and
 * standard Lua lacks: a wall clock, mkdir -p, and whether a stream is a
 * terminal (progress bars redraw in place only there). */
#include "binding.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/pool.h"

static int l_time(lua_State *L)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    lua_pushnumber(L, (lua_Number)ts.tv_sec + 1e-9 * (lua_Number)ts.tv_nsec);
    return 1;
}

/* creates path and its missing parents; true, or nil plus a message */
static int l_mkdir_p(lua_State *L)
{
    size_t len;
    const char *path = luaL_checklstring(L, 1, &len);
    if (len == 0 || len >= 4096) return luaL_argerror(L, 1, "path must be 1 to 4095 bytes");
    char buf[4096];
    memcpy(buf, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char keep = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
            lua_pushnil(L);
            lua_pushfstring(L, "cannot create directory %s: %s", buf, strerror(errno));
            return 2;
        }
        buf[i] = keep;
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        lua_pushnil(L);
        lua_pushfstring(L, "cannot create directory %s: a file of that name exists", path);
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* symlink(target, path): true, or nil plus a message */
static int l_symlink(lua_State *L)
{
    const char *target = luaL_checkstring(L, 1), *path = luaL_checkstring(L, 2);
    if (symlink(target, path) != 0) {
        lua_pushnil(L);
        lua_pushfstring(L, "cannot link %s to %s: %s", path, target, strerror(errno));
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int l_getpid(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)getpid());
    return 1;
}

static int l_isatty(lua_State *L)
{
    lua_pushboolean(L, isatty((int)lae_opt_integer(L, 1, 1)));
    return 1;
}

/* bytes in live tensors and in the buffer pool, for memory tests */
static int l_memory(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)ae_pool_live_bytes());
    lua_pushinteger(L, (lua_Integer)ae_pool_cached_bytes());
    return 2;
}

/* list_dir(path) -> {{name =, kind = "f"|"d"|"o", mtime =}, ...} in no
 * particular order (symbolic links followed), or nil plus a message */
static int l_list_dir(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    DIR *d = opendir(path);
    if (!d) {
        lua_pushnil(L);
        lua_pushfstring(L, "%s: %s", path, strerror(errno));
        return 2;
    }
    lua_newtable(L);
    int n = 0;
    struct dirent *e;
    char full[4096];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        struct stat st;
        if (snprintf(full, sizeof full, "%s/%s", path, e->d_name) >= (int)sizeof full) continue;
        if (stat(full, &st) != 0) continue; /* vanished, or a dangling link */
        lua_createtable(L, 0, 3);
        lua_pushstring(L, e->d_name);
        lua_setfield(L, -2, "name");
        lua_pushstring(L, S_ISDIR(st.st_mode) ? "d" : S_ISREG(st.st_mode) ? "f" : "o");
        lua_setfield(L, -2, "kind");
        lua_pushnumber(L, (lua_Number)st.st_mtim.tv_sec + 1e-9 * (lua_Number)st.st_mtim.tv_nsec);
        lua_setfield(L, -2, "mtime");
        lua_rawseti(L, -2, ++n);
    }
    closedir(d);
    return 1;
}

static const luaL_Reg functions[] = {
    {"time", l_time},     {"mkdir_p", l_mkdir_p}, {"isatty", l_isatty},     {"symlink", l_symlink},
    {"getpid", l_getpid}, {"memory", l_memory},   {"list_dir", l_list_dir}, {NULL, NULL}};

void lae_open_sys(lua_State *L) { luaL_setfuncs(L, functions, 0); }
