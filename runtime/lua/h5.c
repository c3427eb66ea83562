/* h5.c: HDF5 files as Lua userdata (the C side of ae.h5).
 *
 * core.h5_open(path, mode [, atomic]) returns a file whose methods read and
 * write tensors, float64 series, byte strings and attributes (h5.h says
 * what each stores).  A file left open is closed by the collector, which
 * writes a writable one.  An atomic file is written only by an explicit
 * :close() or by leaving a to-be-closed variable normally, never by the
 * collector or an error, so a failed save cannot replace a good file. */
#include "binding.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "io/h5.h"

#define LAE_H5 "aerun.H5File"

typedef struct lae_h5 {
    ae_h5 *f; /* NULL once closed */
    bool atomic;
} lae_h5;

static lae_h5 *check_handle(lua_State *L) { return luaL_checkudata(L, 1, LAE_H5); }

static ae_h5 *check_open(lua_State *L)
{
    lae_h5 *h = check_handle(L);
    if (!h->f) {
        lua_getiuservalue(L, 1, 1);
        luaL_error(L, "%s: the file is closed", lua_tostring(L, -1));
    }
    return h->f;
}

/* a name argument, with the argument number in the error */
static const char *check_name(lua_State *L, int arg)
{
    size_t len;
    const char *s = luaL_checklstring(L, arg, &len);
    if (strlen(s) != len) luaL_argerror(L, arg, "name contains a NUL byte");
    return s;
}

static int l_open(lua_State *L)
{
    const char *path = check_name(L, 1);
    const char *mode = luaL_optstring(L, 2, "r");
    bool atomic = lua_toboolean(L, 3);
    if (atomic && strcmp(mode, "r") == 0) return luaL_error(L, "%s: a file opened for reading cannot be atomic", path);
    lae_h5 *h = lua_newuserdatauv(L, sizeof *h, 1);
    h->f = NULL;
    h->atomic = atomic;
    luaL_setmetatable(L, LAE_H5);
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, -2, 1);
    h->f = ae_h5_open(path, mode);
    if (!h->f) return lae_raise(L);
    return 1;
}

static int l_close(lua_State *L)
{
    lae_h5 *h = check_handle(L);
    ae_h5 *f = h->f;
    h->f = NULL;
    if (f && ae_h5_close(f) != 0) return lae_raise(L);
    return 0;
}

static int l_abort(lua_State *L)
{
    lae_h5 *h = check_handle(L);
    ae_h5_abort(h->f);
    h->f = NULL;
    return 0;
}

/* the collector: an atomic file was never committed, so it is discarded */
static int l_gc(lua_State *L)
{
    lae_h5 *h = check_handle(L);
    if (h->f) {
        if (h->atomic) ae_h5_abort(h->f);
        else ae_h5_close(h->f);
        h->f = NULL;
    }
    return 0;
}

/* `local f <close> = ...`: an error on the way out discards an atomic file */
static int l_toclose(lua_State *L)
{
    lae_h5 *h = check_handle(L);
    if (h->atomic && !lua_isnil(L, 2)) return l_abort(L);
    return l_close(L);
}

static int l_tostring(lua_State *L)
{
    lae_h5 *h = check_handle(L);
    lua_getiuservalue(L, 1, 1);
    if (!h->f) lua_pushfstring(L, "HDF5 file %s (closed)", lua_tostring(L, -1));
    else lua_pushfstring(L, "HDF5 file %s (%s)", lua_tostring(L, -1), ae_h5_writable(h->f) ? "writable" : "read-only");
    return 1;
}

static int l_path(lua_State *L)
{
    check_handle(L);
    lua_getiuservalue(L, 1, 1);
    return 1;
}

static int l_is_open(lua_State *L)
{
    lua_pushboolean(L, check_handle(L)->f != NULL);
    return 1;
}

static int l_write(lua_State *L)
{
    ae_h5 *f = check_open(L);
    const char *name = check_name(L, 2);
    if (ae_h5_write_tensor(f, name, lae_check_tensor(L, 3)) != 0) return lae_raise(L);
    return 0;
}

static int l_read(lua_State *L)
{
    ae_h5 *f = check_open(L);
    return lae_push_tensor(L, ae_h5_read_tensor(f, check_name(L, 2)));
}

/* f:write_numbers(name, {1.5, 2, ...}): a float64 1-D dataset */
static int l_write_numbers(lua_State *L)
{
    ae_h5 *f = check_open(L);
    const char *name = check_name(L, 2);
    luaL_checktype(L, 3, LUA_TTABLE);
    lua_Integer n = luaL_len(L, 3);
    double *v = lua_newuserdatauv(L, (size_t)(n > 0 ? n : 1) * sizeof *v, 0);
    for (lua_Integer i = 0; i < n; i++) {
        if (lua_geti(L, 3, i + 1) != LUA_TNUMBER)
            return luaL_error(L, "write_numbers: %s: element %d is %s, not a number", name, (int)(i + 1),
                              luaL_typename(L, -1));
        v[i] = lua_tonumber(L, -1);
        lua_pop(L, 1);
    }
    if (ae_h5_write_f64(f, name, v, (int64_t)n) != 0) return lae_raise(L);
    return 0;
}

static int l_read_numbers(lua_State *L)
{
    ae_h5 *f = check_open(L);
    int64_t n;
    double *v = ae_h5_read_f64(f, check_name(L, 2), &n);
    if (!v) return lae_raise(L);
    lua_createtable(L, (int)n, 0);
    for (int64_t i = 0; i < n; i++) {
        lua_pushnumber(L, v[i]);
        lua_rawseti(L, -2, (lua_Integer)(i + 1));
    }
    free(v);
    return 1;
}

static int l_write_bytes(lua_State *L)
{
    ae_h5 *f = check_open(L);
    const char *name = check_name(L, 2);
    size_t len;
    const char *s = luaL_checklstring(L, 3, &len);
    if (ae_h5_write_bytes(f, name, s, len) != 0) return lae_raise(L);
    return 0;
}

static int l_read_bytes(lua_State *L)
{
    ae_h5 *f = check_open(L);
    size_t n;
    unsigned char *v = ae_h5_read_bytes(f, check_name(L, 2), &n);
    if (!v) return lae_raise(L);
    lua_pushlstring(L, (const char *)v, n);
    free(v);
    return 1;
}

/* f:set_attr(name, key, value): strings, integers, floats; booleans as 0/1 */
static int l_set_attr(lua_State *L)
{
    ae_h5 *f = check_open(L);
    const char *name = check_name(L, 2), *key = check_name(L, 3);
    int rc;
    switch (lua_type(L, 4)) {
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, 4, &len);
        if (strlen(s) != len)
            return luaL_error(L, "%s: %s: attribute %s: the string contains a NUL byte", ae_h5_path(f), name, key);
        rc = ae_h5_set_attr_str(f, name, key, s);
        break;
    }
    case LUA_TBOOLEAN: rc = ae_h5_set_attr_int(f, name, key, lua_toboolean(L, 4)); break;
    case LUA_TNUMBER:
        if (lua_isinteger(L, 4)) rc = ae_h5_set_attr_int(f, name, key, (int64_t)lua_tointeger(L, 4));
        else rc = ae_h5_set_attr_f64(f, name, key, lua_tonumber(L, 4));
        break;
    default:
        return luaL_error(L,
                          "%s: %s: attribute %s: cannot store a %s (strings, numbers and booleans only; "
                          "encode tables as JSON)",
                          ae_h5_path(f), name, key, luaL_typename(L, 4));
    }
    if (rc != 0) return lae_raise(L);
    return 0;
}

static void push_value(lua_State *L, const ae_h5_value *v)
{
    if (!v->scalar) lua_createtable(L, (int)v->count, 0);
    for (size_t i = 0; i < v->count; i++) {
        switch (v->kind) {
        case AE_H5_STR: lua_pushstring(L, v->str[i]); break;
        case AE_H5_INT: lua_pushinteger(L, (lua_Integer)v->i[i]); break;
        case AE_H5_F64: lua_pushnumber(L, v->f[i]); break;
        }
        if (v->scalar) return;
        lua_rawseti(L, -2, (lua_Integer)(i + 1));
    }
}

/* f:attr(name, key) -> value; an error when missing */
static int l_attr(lua_State *L)
{
    ae_h5 *f = check_open(L);
    ae_h5_value v;
    if (ae_h5_get_attr(f, check_name(L, 2), check_name(L, 3), &v) != 0) return lae_raise(L);
    push_value(L, &v);
    ae_h5_value_free(&v);
    return 1;
}

/* f:attrs(name) -> {key = value}; attributes of types aerun does not
 * convert (compound, enum...) are left out rather than failing the lot */
static int l_attrs(lua_State *L)
{
    ae_h5 *f = check_open(L);
    const char *name = check_name(L, 2);
    char **keys;
    size_t n;
    if (ae_h5_attr_names(f, name, &keys, &n) != 0) return lae_raise(L);
    lua_createtable(L, 0, (int)n);
    for (size_t i = 0; i < n; i++) {
        ae_h5_value v;
        int rc = ae_h5_get_attr(f, name, keys[i], &v);
        if (rc == AE_H5_UNSUPPORTED) continue;
        if (rc != 0) {
            ae_h5_free_names(keys, n);
            return lae_raise(L);
        }
        push_value(L, &v);
        ae_h5_value_free(&v);
        lua_setfield(L, -2, keys[i]);
    }
    ae_h5_free_names(keys, n);
    return 1;
}

static int push_names(lua_State *L, char **names, size_t n)
{
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lua_pushstring(L, names[i]);
        lua_rawseti(L, -2, (lua_Integer)(i + 1));
    }
    ae_h5_free_names(names, n);
    return 1;
}

/* f:list(group) -> sorted member names */
static int l_list(lua_State *L)
{
    ae_h5 *f = check_open(L);
    char **names;
    size_t n;
    if (ae_h5_list(f, luaL_optstring(L, 2, "/"), &names, &n) != 0) return lae_raise(L);
    return push_names(L, names, n);
}

static int l_kind(lua_State *L)
{
    ae_h5 *f = check_open(L);
    static const char *const kinds[] = {NULL, "group", "dataset", "other"};
    int k = ae_h5_kind(f, check_name(L, 2));
    if (k < 0) return lae_raise(L);
    if (k == AE_H5_MISSING) lua_pushnil(L);
    else lua_pushstring(L, kinds[k]);
    return 1;
}

static int l_exists(lua_State *L)
{
    ae_h5 *f = check_open(L);
    int k = ae_h5_kind(f, check_name(L, 2));
    if (k < 0) return lae_raise(L);
    lua_pushboolean(L, k != AE_H5_MISSING);
    return 1;
}

static int l_shape(lua_State *L)
{
    ae_h5 *f = check_open(L);
    int64_t shape[AE_MAX_DIMS];
    int rank = ae_h5_shape(f, check_name(L, 2), shape);
    if (rank < 0) return lae_raise(L);
    lua_createtable(L, rank, 0);
    for (int i = 0; i < rank; i++) {
        lua_pushinteger(L, (lua_Integer)shape[i]);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

static int l_create_group(lua_State *L)
{
    ae_h5 *f = check_open(L);
    if (ae_h5_create_group(f, check_name(L, 2)) != 0) return lae_raise(L);
    return 0;
}

static int l_open_objects(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)ae_h5_open_objects());
    return 1;
}

static const luaL_Reg file_methods[] = {
    {"write", l_write},
    {"read", l_read},
    {"write_numbers", l_write_numbers},
    {"read_numbers", l_read_numbers},
    {"write_bytes", l_write_bytes},
    {"read_bytes", l_read_bytes},
    {"set_attr", l_set_attr},
    {"attr", l_attr},
    {"attrs", l_attrs},
    {"list", l_list},
    {"kind", l_kind},
    {"exists", l_exists},
    {"shape", l_shape},
    {"create_group", l_create_group},
    {"close", l_close},
    {"abort", l_abort},
    {"path", l_path},
    {"is_open", l_is_open},
    {NULL, NULL},
};

static const luaL_Reg file_meta[] = {
    {"__gc", l_gc},
    {"__close", l_toclose},
    {"__tostring", l_tostring},
    {NULL, NULL},
};

static const luaL_Reg functions[] = {
    {"h5_open", l_open},
    {"h5_open_objects", l_open_objects},
    {NULL, NULL},
};

void lae_open_h5(lua_State *L)
{
    lae_new_class(L, LAE_H5, file_meta, file_methods);
    lua_pop(L, 1);
    luaL_setfuncs(L, functions, 0);
}
