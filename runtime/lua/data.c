/* data.c: the Lua binding of idx.c and dataset.c.
 *
 *   core.idx_read(path)                              -> tensor (file's shape, ubyte /255)
 *   core.dataset_open(images_path [, labels_path [, name]]) -> aerun.Dataset
 *
 * The data set object scripts use is this userdata itself, methods and
 * all, so a script's calls reach C directly and an error names the
 * script's line.  batches() returns a C function as the generic-for
 * iterator: an epoch costs one C call per batch and no Lua per sample.
 * Sample numbers are 1-based in Lua; labels are the file's values (0..9). */
#include "io/dataset.h"
#include "core/error.h"
#include "io/idx.h"
#include "binding.h"

#include <string.h>

#define LAE_DATASET "aerun.Dataset"

/* the userdata; its one user value is the data set's name */
typedef struct {
    ae_dataset *ds; /* NULL once closed */
} dataset_ud;

/* one epoch's iteration state; perm is there only when shuffled */
typedef struct {
    int64_t pos, n, batch;
    int drop_last, shuffled;
    int64_t perm[];
} epoch;

/* pushes ds named by the string at name_idx; ds NULL raises ae_error() */
static int push_dataset(lua_State *L, ae_dataset *ds, int name_idx)
{
    if (!ds) return lae_raise(L);
    name_idx = lua_absindex(L, name_idx);
    dataset_ud *u = lua_newuserdatauv(L, sizeof *u, 1);
    u->ds = ds;
    luaL_setmetatable(L, LAE_DATASET);
    lua_pushvalue(L, name_idx);
    lua_setiuservalue(L, -2, 1);
    /* the samples are invisible to the collector; report them as tensors do */
    size_t kb = (size_t)(ds->n * ds->d + (ds->labels ? ds->n : 0)) >> 10;
    lua_gc(L, LUA_GCSTEP, kb > (size_t)1 << 30 ? 1 << 30 : (int)kb);
    return 1;
}

static ae_dataset *check_dataset(lua_State *L, int arg)
{
    dataset_ud *u = luaL_checkudata(L, arg, LAE_DATASET);
    if (!u->ds) luaL_error(L, "the data set was closed");
    return u->ds;
}

static int l_idx_read(lua_State *L)
{
    ae_idx *idx = ae_idx_read(luaL_checkstring(L, 1));
    if (!idx) return lae_raise(L);
    ae_tensor *t = ae_idx_to_tensor(idx);
    ae_idx_free(idx);
    return lae_push_tensor(L, t);
}

static int l_dataset_open(lua_State *L)
{
    const char *images = luaL_checkstring(L, 1);
    const char *labels = luaL_optstring(L, 2, NULL);
    int name = lua_isnoneornil(L, 3) ? 1 : 3;
    luaL_checkstring(L, name);
    return push_dataset(L, ae_dataset_open(images, labels), name);
}

static int l_close(lua_State *L)
{
    dataset_ud *u = luaL_checkudata(L, 1, LAE_DATASET);
    ae_dataset_free(u->ds);
    u->ds = NULL;
    return 0;
}

static int l_len(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)check_dataset(L, 1)->n);
    return 1;
}

static int l_name(lua_State *L)
{
    luaL_checkudata(L, 1, LAE_DATASET);
    lua_getiuservalue(L, 1, 1);
    return 1;
}

static int l_tostring(lua_State *L)
{
    dataset_ud *u = luaL_checkudata(L, 1, LAE_DATASET);
    lua_getiuservalue(L, 1, 1);
    const char *name = lua_tostring(L, -1);
    if (!u->ds) {
        lua_pushfstring(L, "Dataset %s (closed)", name);
        return 1;
    }
    char b[AE_SHAPE_STR];
    lua_pushfstring(L, "Dataset %s: %I samples of %s%s", name, (lua_Integer)u->ds->n,
                    ae_dims_str(u->ds->sample_ndim, u->ds->sample_shape, b), u->ds->labels ? "" : ", no labels");
    return 1;
}

static int l_dim(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)check_dataset(L, 1)->d);
    return 1;
}

static int l_sample_shape(lua_State *L)
{
    ae_dataset *ds = check_dataset(L, 1);
    lua_createtable(L, ds->sample_ndim, 0);
    for (int i = 0; i < ds->sample_ndim; i++) {
        lua_pushinteger(L, (lua_Integer)ds->sample_shape[i]);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

static int l_has_labels(lua_State *L)
{
    lua_pushboolean(L, check_dataset(L, 1)->labels != NULL);
    return 1;
}

/* x, and y (nil without labels) for perm[start .. start+count) */
static int push_batch(lua_State *L, const ae_dataset *ds, const int64_t *perm, int64_t start, int64_t count)
{
    lae_push_tensor(L, ae_dataset_images(ds, perm, start, count));
    if (ds->labels) lae_push_tensor(L, ae_dataset_labels(ds, perm, start, count));
    else lua_pushnil(L);
    return 2;
}

/* ds:batch(start, count): samples start .. start+count-1 in file order */
static int l_batch(lua_State *L)
{
    ae_dataset *ds = check_dataset(L, 1);
    int64_t start = lae_check_int(L, 2, "start");
    int64_t count = lae_check_int(L, 3, "count");
    if (count < 1) return luaL_error(L, "batch: count must be at least 1, got %I", (lua_Integer)count);
    if (start < 1 || start > ds->n || count > ds->n - start + 1)
        return luaL_error(L, "batch: samples %I..%I are outside the data set (1..%I)", (lua_Integer)start,
                          (lua_Integer)(start + count - 1), (lua_Integer)ds->n);
    return push_batch(L, ds, NULL, start - 1, count);
}

/* ds:gather(indices): the samples at the 1-based indices of a Lua array */
static int l_gather(lua_State *L)
{
    ae_dataset *ds = check_dataset(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_Integer n = luaL_len(L, 2);
    if (n < 1) return luaL_error(L, "gather: the index list is empty");
    int64_t *perm = lua_newuserdatauv(L, (size_t)n * sizeof *perm, 0);
    for (lua_Integer k = 1; k <= n; k++) {
        int isint;
        lua_geti(L, 2, k);
        lua_Integer i = lua_tointegerx(L, -1, &isint);
        lua_pop(L, 1);
        if (!isint || i < 1 || i > ds->n)
            return luaL_error(L, "gather: entry %I of the index list is not a sample number in 1..%I", k,
                              (lua_Integer)ds->n);
        perm[k - 1] = i - 1;
    }
    return push_batch(L, ds, perm, 0, n);
}

static int l_images(lua_State *L)
{
    ae_dataset *ds = check_dataset(L, 1);
    return lae_push_tensor(L, ae_dataset_images(ds, NULL, 0, ds->n));
}

static int l_labels(lua_State *L)
{
    ae_dataset *ds = check_dataset(L, 1);
    if (!ds->labels) return 0;
    return lae_push_tensor(L, ae_dataset_labels(ds, NULL, 0, ds->n));
}

/* ds:counts() -> {[label] = number of samples} */
static int l_counts(lua_State *L)
{
    ae_dataset *ds = check_dataset(L, 1);
    if (!ds->labels) return 0;
    int64_t c[256] = {0};
    for (int64_t i = 0; i < ds->n; i++) c[ds->labels[i]]++;
    lua_newtable(L);
    for (int k = 0; k < 256; k++)
        if (c[k]) {
            lua_pushinteger(L, (lua_Integer)c[k]);
            lua_rawseti(L, -2, k);
        }
    return 1;
}

/* a label or a list of labels at arg into keep */
static void check_classes(lua_State *L, int arg, bool keep[256])
{
    if (lua_type(L, arg) == LUA_TNUMBER) {
        lua_createtable(L, 1, 0);
        lua_pushvalue(L, arg);
        lua_rawseti(L, -2, 1);
        lua_replace(L, arg);
    }
    if (lua_type(L, arg) != LUA_TTABLE)
        luaL_error(L, "classes must be a label or a list of labels, got %s", luaL_typename(L, arg));
    lua_Integer n = luaL_len(L, arg);
    if (n < 1) luaL_error(L, "classes: the list of labels is empty");
    for (lua_Integer k = 1; k <= n; k++) {
        int isint;
        lua_geti(L, arg, k);
        lua_Integer c = lua_tointegerx(L, -1, &isint);
        lua_pop(L, 1);
        if (!isint || c < 0 || c > 255) luaL_error(L, "classes: entry %I is not a label in 0..255", k);
        keep[c] = true;
    }
}

static int64_t check_limit(lua_State *L, int arg)
{
    int64_t limit = lae_check_int(L, arg, "limit");
    if (limit < 1) luaL_error(L, "limit must be at least 1, got %I", (lua_Integer)limit);
    return limit;
}

/* a copy of the samples with a label in classes (nil: all), cut to the
 * first limit (nil: no limit), under the same name */
static int select_into(lua_State *L, int classes_arg, int limit_arg)
{
    ae_dataset *ds = check_dataset(L, 1);
    bool keep[256] = {false};
    bool filter = classes_arg && !lua_isnoneornil(L, classes_arg);
    if (filter) check_classes(L, classes_arg, keep);
    int64_t limit = limit_arg && !lua_isnoneornil(L, limit_arg) ? check_limit(L, limit_arg) : -1;
    lua_getiuservalue(L, 1, 1);
    return push_dataset(L, ae_dataset_select(ds, filter ? keep : NULL, limit), -1);
}

/* ds:select(classes | nil, limit | nil) */
static int l_select(lua_State *L) { return select_into(L, 2, 3); }

/* ds:subset(n): the first n samples */
static int l_subset(lua_State *L)
{
    luaL_checkany(L, 2);
    return select_into(L, 0, 2);
}

/* ds:filter(classes): the samples with one of these labels */
static int l_filter(lua_State *L)
{
    luaL_checkany(L, 2);
    return select_into(L, 2, 0);
}

/* {shuffle = bool, drop_last = bool} at arg; other keys are typos */
static void batch_options(lua_State *L, int arg, const char *fn, int *shuffle, int *drop_last)
{
    *shuffle = *drop_last = 0;
    if (lua_isnoneornil(L, arg)) return;
    luaL_checktype(L, arg, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, arg)) {
        const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
        if (strcmp(k, "shuffle") == 0) *shuffle = lua_toboolean(L, -1);
        else if (strcmp(k, "drop_last") == 0) *drop_last = lua_toboolean(L, -1);
        else luaL_error(L, "%s: unknown option '%s' (known: drop_last, shuffle)", fn, luaL_tolstring(L, -2, NULL));
        lua_pop(L, 1);
    }
}

static int64_t check_batch_size(lua_State *L, const char *fn)
{
    int64_t size = lae_check_int(L, 2, "batch size");
    if (size < 1) luaL_error(L, "%s: batch size must be at least 1, got %I", fn, (lua_Integer)size);
    return size;
}

/* ds:num_batches(size [, opts]): how many batches an epoch yields */
static int l_num_batches(lua_State *L)
{
    ae_dataset *ds = check_dataset(L, 1);
    int64_t size = check_batch_size(L, "num_batches");
    int shuffle, drop_last;
    batch_options(L, 3, "num_batches", &shuffle, &drop_last);
    lua_pushinteger(L, (lua_Integer)(drop_last ? ds->n / size : (ds->n + size - 1) / size));
    return 1;
}

static int epoch_next(lua_State *L)
{
    ae_dataset *ds = check_dataset(L, lua_upvalueindex(1));
    epoch *e = lua_touserdata(L, lua_upvalueindex(2));
    int64_t left = e->n - e->pos;
    if (left <= 0 || (e->drop_last && left < e->batch)) return 0;
    int64_t count = left < e->batch ? left : e->batch;
    int64_t start = e->pos;
    e->pos += count;
    return push_batch(L, ds, e->shuffled ? e->perm : NULL, start, count);
}

/* ds:batches(size [, {shuffle =, drop_last =}]) -> iterator yielding x, y.
 * The order is drawn here, when the epoch starts, as DataLoader's __iter__. */
static int l_batches(lua_State *L)
{
    ae_dataset *ds = check_dataset(L, 1);
    int64_t size = check_batch_size(L, "batches");
    int shuffle, drop_last;
    batch_options(L, 3, "batches", &shuffle, &drop_last);
    size_t bytes = sizeof(epoch) + (shuffle ? (size_t)ds->n * sizeof(int64_t) : 0);
    lua_settop(L, 1);
    epoch *e = lua_newuserdatauv(L, bytes, 0);
    e->pos = 0;
    e->n = ds->n;
    e->batch = size;
    e->drop_last = drop_last;
    e->shuffled = shuffle;
    if (shuffle) ae_permutation(e->perm, ds->n, true);
    lua_pushcclosure(L, epoch_next, 2);
    return 1;
}

static const luaL_Reg dataset_methods[] = {
    {"size", l_len},
    {"name", l_name},
    {"dim", l_dim},
    {"sample_shape", l_sample_shape},
    {"has_labels", l_has_labels},
    {"batches", l_batches},
    {"num_batches", l_num_batches},
    {"batch", l_batch},
    {"gather", l_gather},
    {"images", l_images},
    {"labels", l_labels},
    {"counts", l_counts},
    {"select", l_select},
    {"subset", l_subset},
    {"filter", l_filter},
    {"close", l_close},
    {NULL, NULL},
};

static const luaL_Reg dataset_meta[] = {
    {"__gc", l_close}, {"__close", l_close}, {"__len", l_len}, {"__tostring", l_tostring}, {NULL, NULL},
};

void lae_open_data(lua_State *L)
{
    lae_new_class(L, LAE_DATASET, dataset_meta, dataset_methods);
    lua_pop(L, 1);
    lua_pushcfunction(L, l_idx_read);
    lua_setfield(L, -2, "idx_read");
    lua_pushcfunction(L, l_dataset_open);
    lua_setfield(L, -2, "dataset_open");
}
