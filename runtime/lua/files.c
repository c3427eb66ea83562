/* files.c: the Lua binding of npy.c, npz.c and csv.c, the readers of data
 * files that other tools write.  Each returns float32 tensors (data sets
 * are built from them by the library: ae.data).
 *
 *   core.npy_read(path) -> tensor
 *       A .npy file (format 1.0, 2.0 or 3.0) in the file's shape.  dtypes
 *       bool, u1 i1 u2 i2 u4 i4 u8 i8, f2 f4 f8, either byte order; the
 *       values are numpy's a.astype(np.float32): integers beyond 2^24 round
 *       to the nearest float32, bools are 0 and 1, NaN and inf stay.  A 0-d
 *       array gives a 0-d tensor.  Errors (each naming the file): not a
 *       .npy, Fortran order (save np.ascontiguousarray(a)), object arrays,
 *       structured, complex, string and datetime dtypes, more than 8
 *       dimensions, an f8 value outside float32's range (its index), a file
 *       shorter than its header says (both sizes) or longer.
 *
 *   core.npz_read(path [, name]) -> tensor, or {name = tensor, ...}
 *       An .npz (np.savez, np.savez_compressed; zip64 too) through libzip.
 *       With a name, that array ("x" for the member "x.npy"); a name that
 *       is not there is an error listing those that are.  Without one,
 *       every array in a table keyed by name.  Members are checked as .npy
 *       files are, and against the archive's CRC-32.
 *
 *   core.npz_names(path) -> {"x", "y", ...}
 *       The arrays' names, in the archive's order, without reading them.
 *
 *   core.csv_read(path [, opts]) -> x, y, names, label
 *       A numeric CSV file.  opts (all optional):
 *         header    = true | false | nil  (nil: the first row is a header
 *                     when none of its cells is a number)
 *         label     = "name" | column number (1-based, -1 the last)
 *         delimiter = ","  (one character; "\t", ";", ...)
 *       x: rows × columns, every column but the label's; y: the label
 *       column (a 1-D tensor of rows), nil without a label; names: the
 *       names of x's columns from the header, nil without one; label: the
 *       label column's name (nil without a header or a label).  Quoted
 *       fields, CRLF, blank lines and a last line without its newline are
 *       handled.  Errors name the file and the line: a ragged row (expected
 *       and found counts), an empty cell or nan/NA/null (a missing value),
 *       inf, a word (with the column's number and name), a value float32
 *       cannot hold, a label column that does not exist (the columns are
 *       listed), an empty file, a header without rows.
 *
 * The C readers hold nothing of Lua: their results go into a box whose
 * __gc frees them, so a Lua error part way (out of memory) leaks nothing. */
#include "binding.h"
#include "core/error.h"
#include "io/csv.h"
#include "io/npy.h"
#include "io/npz.h"

#include <string.h>

#define LAE_FILES_BOX "aerun.files_box"

typedef struct {
    void (*release)(void *);
    void *p;
} box;

static int box_gc(lua_State *L)
{
    box *b = luaL_checkudata(L, 1, LAE_FILES_BOX);
    if (b->p) b->release(b->p);
    b->p = NULL;
    return 0;
}

/* a box for p, pushed; p NULL raises ae_error() */
static box *push_box(lua_State *L, void *p, void (*release)(void *))
{
    if (!p) lae_raise(L);
    box *b = lua_newuserdatauv(L, sizeof *b, 0);
    b->release = release;
    b->p = p;
    luaL_setmetatable(L, LAE_FILES_BOX);
    return b;
}

static void release_npz(void *p) { ae_npz_close(p); }
static void release_csv(void *p) { ae_csv_free(p); }

static int l_npy_read(lua_State *L) { return lae_push_tensor(L, ae_npy_read(luaL_checkstring(L, 1))); }

static int l_npz_read(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    const char *name = luaL_optstring(L, 2, NULL);
    lua_settop(L, 2);
    box *b = push_box(L, ae_npz_open(path), release_npz);
    ae_npz *z = b->p;
    if (name) return lae_push_tensor(L, ae_npz_read(z, name));
    int64_t n = ae_npz_count(z);
    lua_createtable(L, 0, n > 1000 ? 1000 : (int)n);
    for (int64_t i = 0; i < n; i++) {
        lae_push_tensor(L, ae_npz_read_index(z, i));
        lua_setfield(L, -2, ae_npz_name(z, i));
    }
    return 1;
}

static int l_npz_names(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    box *b = push_box(L, ae_npz_open(path), release_npz);
    ae_npz *z = b->p;
    int64_t n = ae_npz_count(z);
    lua_createtable(L, n > 1000 ? 1000 : (int)n, 0);
    for (int64_t i = 0; i < n; i++) {
        lua_pushstring(L, ae_npz_name(z, i));
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

/* the options table at arg into o; unknown keys and wrong types are errors */
static void check_csv_options(lua_State *L, int arg, ae_csv_options *o)
{
    o->header = -1;
    o->label_name = NULL;
    o->label_index = 0;
    o->delimiter = ',';
    if (lua_isnoneornil(L, arg)) return;
    lae_check_options(L, arg, "csv_read");
    lua_pushnil(L);
    while (lua_next(L, arg)) {
        const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
        int t = lua_type(L, -1);
        if (key && !strcmp(key, "header")) {
            if (t != LUA_TBOOLEAN)
                luaL_error(L, "csv_read: header must be true, false or nil, got %s", luaL_typename(L, -1));
            o->header = lua_toboolean(L, -1);
        } else if (key && !strcmp(key, "label")) {
            if (t == LUA_TSTRING) {
                o->label_name = lua_tostring(L, -1); /* the table keeps the string alive */
            } else if (lua_isinteger(L, -1) && lua_tointeger(L, -1) != 0) {
                o->label_index = (int64_t)lua_tointeger(L, -1);
            } else {
                luaL_error(L, "csv_read: label must be a column's name or its number (1-based, -1 the last), got %s",
                           luaL_tolstring(L, -1, NULL));
            }
        } else if (key && !strcmp(key, "delimiter")) {
            size_t n = 0;
            const char *d = t == LUA_TSTRING ? lua_tolstring(L, -1, &n) : NULL;
            if (!d || n != 1 || *d == '"' || *d == '\n' || *d == '\r' || *d == ' ')
                luaL_error(L, "csv_read: delimiter must be one character (not a quote, a space or a line end), got %s",
                           luaL_tolstring(L, -1, NULL));
            o->delimiter = *d;
        } else {
            luaL_error(L, "csv_read: unknown option %s (the options are header, label and delimiter)",
                       luaL_tolstring(L, -2, NULL));
        }
        lua_pop(L, 1);
    }
}

static int l_csv_read(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    ae_csv_options o;
    check_csv_options(L, 2, &o);
    lua_settop(L, 2);
    box *b = push_box(L, ae_csv_read(path, &o), release_csv);
    ae_csv *c = b->p;
    lae_push_tensor(L, c->x);
    c->x = NULL;
    if (c->y) {
        lae_push_tensor(L, c->y);
        c->y = NULL;
    } else {
        lua_pushnil(L);
    }
    if (c->names) {
        lua_createtable(L, c->cols > 100000 ? 100000 : (int)c->cols, 0);
        for (int64_t i = 0; i < c->cols; i++) {
            lua_pushstring(L, c->names[i]);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
    } else {
        lua_pushnil(L);
    }
    if (c->label) lua_pushstring(L, c->label);
    else lua_pushnil(L);
    return 4;
}

static const luaL_Reg box_meta[] = {{"__gc", box_gc}, {NULL, NULL}};

static const luaL_Reg functions[] = {
    {"npy_read", l_npy_read},
    {"npz_read", l_npz_read},
    {"npz_names", l_npz_names},
    {"csv_read", l_csv_read},
    {NULL, NULL},
};

void lae_open_files(lua_State *L)
{
    lae_new_class(L, LAE_FILES_BOX, box_meta, NULL);
    lua_pop(L, 1);
    luaL_setfuncs(L, functions, 0);
}
