/* data.c: the Lua binding of idx.c, dataset.c and h5_source.c.
 *
 *   core.idx_read(path)                              -> tensor (file's shape, ubyte /255)
 *   core.dataset_open(images_path [, labels_path [, name]]) -> aerun.Dataset
 *   core.dataset_tensor(x [, y [, name]])            -> aerun.Dataset (copies x)
 *   core.dataset_h5(path, x_name [, y_name [, scale [, stream [, window [, name]]]]])
 *                                                    -> aerun.Dataset, streamed
 *   core.dataset_split(ds, {count, ...} [, seed])    -> {aerun.Dataset, ...}
 *   core.dataset_moments(ds)                         -> mean, std (sample shape)
 *   core.is_dataset(v)                               -> boolean
 *
 * The data set object scripts use is this userdata itself, methods and
 * all, so a script's calls reach C directly and an error names the
 * script's line:
 *   #ds, ds:size(), ds:name(), ds:dim(), ds:sample_shape(), ds:has_labels(),
 *   ds:streamed(), ds:standardized(),
 *   ds:batches(size [, {shuffle =, drop_last =}]), ds:num_batches(size [, opts]),
 *   ds:batch(start, count), ds:gather{i, ...}, ds:images(), ds:labels(),
 *   ds:counts(), ds:select(classes, limit), ds:subset(n), ds:filter(classes),
 *   ds:standardize{mean = t, std = t}, ds:close().
 * batches() returns a C function as the generic-for iterator: an epoch
 * costs one C call per batch and no Lua per sample.  Sample numbers are
 * 1-based in Lua; labels are the file's values, any integers. */
#include "io/dataset.h"
#include "core/error.h"
#include "io/h5_source.h"
#include "io/idx.h"
#include "binding.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LAE_DATASET "aerun.Dataset"
#define LAE_EPOCH "aerun.Epoch"

/* the userdata; its one user value is the data set's name */
typedef struct {
    ae_dataset *ds; /* NULL once closed */
} dataset_ud;

typedef struct {
    ae_epoch *e;
} epoch_ud;

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
    /* the samples are invisible to the collector; report them as tensors do
     * (a view is reported too: the collector then runs a little early) */
    int64_t esize = ds->store->type == AE_DS_U8 ? 1 : ds->store->type == AE_DS_F32 ? 4 : 0;
    size_t kb = (size_t)(ds->n * ds->d * esize + (ds->labels ? ds->n * 8 : 0)) >> 10;
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

/* a malloc'd copy of t's values */
static float *copy_values(lua_State *L, ae_tensor *t)
{
    ae_tensor *c = ae_contiguous(t);
    if (!c) lae_raise(L);
    int64_t n = ae_numel(c);
    float *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    if (v) memcpy(v, ae_data(c), (size_t)n * sizeof *v);
    ae_release(c);
    if (!v) luaL_error(L, "out of memory copying %I values", (lua_Integer)n);
    return v;
}

/* core.dataset_tensor(x [, y [, name]]) */
static int l_dataset_tensor(lua_State *L)
{
    ae_tensor *x = lae_check_tensor(L, 1);
    ae_tensor *y = lae_opt_tensor(L, 2);
    int name = lua_isnoneornil(L, 3) ? 0 : 3;
    if (name) luaL_checkstring(L, name);
    else {
        lua_pushliteral(L, "tensor");
        name = lua_gettop(L);
    }
    char b[AE_SHAPE_STR];
    if (x->ndim < 1 || x->shape[0] < 1)
        return luaL_error(L, "tensor: x has shape %s; it must be N × ... with N ≥ 1", ae_shape_str(x, b));
    int64_t n = x->shape[0];
    if (y && (y->ndim != 1 || y->shape[0] != n)) {
        if (y->ndim == 1)
            return luaL_error(L, "tensor: x has %I samples but y has %I labels; they must be the same length",
                              (lua_Integer)n, (lua_Integer)y->shape[0]);
        return luaL_error(L, "tensor: y has shape %s; labels must be one-dimensional, one per sample of x (%I)",
                          ae_shape_str(y, b), (lua_Integer)n);
    }
    int64_t *labels = NULL;
    if (y) {
        float *v = copy_values(L, y);
        labels = malloc((size_t)n * sizeof *labels);
        for (int64_t i = 0; labels && i < n; i++) {
            if (!(v[i] == floorf(v[i])) || fabsf(v[i]) > AE_DS_LABEL_MAX) {
                double bad = v[i];
                free(v);
                free(labels);
                return luaL_error(L, "tensor: y[%I] = %f is not an integer label", (lua_Integer)i + 1, bad);
            }
            labels[i] = (int64_t)v[i];
        }
        free(v);
        if (!labels) return luaL_error(L, "out of memory");
    }
    float *xv = copy_values(L, x);
    return push_dataset(L, ae_dataset_from_f32("tensor: x", "sample", x->ndim - 1, x->shape + 1, n, xv, labels), name);
}

/* core.dataset_h5(path, x, y|nil, scale|nil, stream|nil, window|nil, name|nil) */
static int l_dataset_h5(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    ae_h5_source_opts o = {luaL_checkstring(L, 2), luaL_optstring(L, 3, NULL), 1.0, 0, 0};
    if (!lua_isnoneornil(L, 4)) {
        o.scale = lae_check_number(L, 4);
        if (!isfinite(o.scale)) return luaL_error(L, "h5: scale must be a finite number");
    }
    if (!lua_isnoneornil(L, 5)) o.stream = lua_toboolean(L, 5) ? 1 : -1;
    if (!lua_isnoneornil(L, 6)) {
        o.window = lae_check_int(L, 6, "window");
        if (o.window < 1) return luaL_error(L, "h5: window must be at least 1 row, got %I", (lua_Integer)o.window);
    }
    int name = lua_isnoneornil(L, 7) ? 1 : 7;
    luaL_checkstring(L, name);
    int streamed = 0;
    push_dataset(L, ae_h5_dataset(path, &o, &streamed), name);
    lua_pushboolean(L, streamed);
    return 2;
}

/* core.dataset_split(ds, {count, ...} [, seed]) */
static int l_dataset_split(lua_State *L)
{
    ae_dataset *ds = check_dataset(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_Integer parts = luaL_len(L, 2);
    if (parts < 1 || parts > 1000) return luaL_error(L, "split: 1 to 1000 parts, got %I", parts);
    bool has_seed = !lua_isnoneornil(L, 3);
    uint64_t seed = has_seed ? (uint64_t)lae_check_int(L, 3, "seed") : 0;
    int64_t counts[1000];
    ae_dataset *out[1000];
    for (lua_Integer k = 1; k <= parts; k++) {
        int isint;
        lua_geti(L, 2, k);
        counts[k - 1] = lua_tointegerx(L, -1, &isint);
        lua_pop(L, 1);
        if (!isint) return luaL_error(L, "split: count %I is not an integer", k);
    }
    if (ae_dataset_split(ds, counts, (int)parts, has_seed, seed, out) < 0) return lae_raise(L);
    lua_createtable(L, (int)parts, 0);
    for (lua_Integer k = 1; k <= parts; k++) {
        lua_getiuservalue(L, 1, 1);
        lua_pushfstring(L, "%s [%I/%I]", lua_tostring(L, -1), k, parts);
        push_dataset(L, out[k - 1], -1);
        lua_rawseti(L, -4, k);
        lua_pop(L, 2);
    }
    return 1;
}

/* a sample-shaped tensor from d doubles */
static int push_features(lua_State *L, const ae_dataset *ds, const double *v)
{
    ae_tensor *t = ae_empty(ds->sample_ndim, ds->sample_shape);
    if (!t) return lae_raise(L);
    for (int64_t j = 0; j < ds->d; j++) ae_data(t)[j] = (float)v[j];
    return lae_push_tensor(L, t);
}

/* core.dataset_moments(ds) -> mean, std (population), as sample-shaped tensors */
static int l_dataset_moments(lua_State *L)
{
    ae_dataset *ds = check_dataset(L, 1);
    double *m = lua_newuserdatauv(L, (size_t)ds->d * 2 * sizeof *m, 0);
    if (ae_dataset_moments(ds, m, m + ds->d) < 0) return lae_raise(L);
    push_features(L, ds, m);
    push_features(L, ds, m + ds->d);
    return 2;
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
    lua_pushfstring(L, "Dataset %s: %I samples of %s%s%s%s", name, (lua_Integer)u->ds->n,
                    ae_dims_str(u->ds->sample_ndim, u->ds->sample_shape, b), u->ds->labels ? "" : ", no labels",
                    u->ds->store->type == AE_DS_STREAM ? ", streamed" : "", u->ds->mean ? ", standardized" : "");
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

static int l_streamed(lua_State *L)
{
    lua_pushboolean(L, check_dataset(L, 1)->store->type == AE_DS_STREAM);
    return 1;
}

static int l_standardized(lua_State *L)
{
    lua_pushboolean(L, check_dataset(L, 1)->mean != NULL);
    return 1;
}

/* x, and y (nil without labels) for idx[start .. start+count) */
static int push_batch(lua_State *L, const ae_dataset *ds, const int64_t *idx, int64_t start, int64_t count)
{
    ae_tensor *x, *y;
    if (ae_dataset_gather(ds, idx, start, count, &x, &y) < 0) return lae_raise(L);
    lae_push_tensor(L, x);
    if (y) lae_push_tensor(L, y);
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
    ae_tensor *x;
    if (ae_dataset_gather(ds, NULL, 0, ds->n, &x, NULL) < 0) return lae_raise(L);
    return lae_push_tensor(L, x);
}

static int l_labels(lua_State *L)
{
    ae_dataset *ds = check_dataset(L, 1);
    if (!ds->labels) return 0;
    int64_t n = ds->n;
    ae_tensor *t = ae_empty(1, &n);
    if (!t) return lae_raise(L);
    for (int64_t i = 0; i < n; i++) ae_data(t)[i] = (float)ds->labels[i];
    return lae_push_tensor(L, t);
}

/* ds:counts() -> {[label] = number of samples} */
static int l_counts(lua_State *L)
{
    ae_dataset *ds = check_dataset(L, 1);
    if (!ds->labels) return 0;
    int64_t *labels, *counts, k;
    if (ae_dataset_counts(ds, &labels, &counts, &k) < 0) return lae_raise(L);
    lua_createtable(L, 0, (int)(k < 1 << 20 ? k : 1 << 20));
    for (int64_t i = 0; i < k; i++) {
        lua_pushinteger(L, (lua_Integer)counts[i]);
        lua_rawseti(L, -2, (lua_Integer)labels[i]);
    }
    free(labels);
    free(counts);
    return 1;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* a label or a list of labels at arg: a sorted array (a userdata on the
 * stack) of *n labels */
static int64_t *check_classes(lua_State *L, int arg, int64_t *n)
{
    if (lua_type(L, arg) == LUA_TNUMBER) {
        lua_createtable(L, 1, 0);
        lua_pushvalue(L, arg);
        lua_rawseti(L, -2, 1);
        lua_replace(L, arg);
    }
    if (lua_type(L, arg) != LUA_TTABLE)
        luaL_error(L, "classes must be a label or a list of labels, got %s", lae_describe(L, arg));
    lua_Integer len = luaL_len(L, arg);
    if (len < 1) luaL_error(L, "classes: the list of labels is empty");
    int64_t *keep = lua_newuserdatauv(L, (size_t)len * sizeof *keep, 0);
    for (lua_Integer k = 1; k <= len; k++) {
        int isint;
        lua_geti(L, arg, k);
        lua_Integer c = lua_tointegerx(L, -1, &isint);
        lua_pop(L, 1);
        if (!isint) luaL_error(L, "classes: entry %I is not an integer label", k);
        keep[k - 1] = c;
    }
    qsort(keep, (size_t)len, sizeof *keep, cmp_i64);
    *n = len;
    return keep;
}

static int64_t check_limit(lua_State *L, int arg)
{
    int64_t limit = lae_check_int(L, arg, "limit");
    if (limit < 1) luaL_error(L, "limit must be at least 1, got %I", (lua_Integer)limit);
    return limit;
}

/* the samples with a label in classes (nil: all), cut to the first limit
 * (nil: no limit), under the same name */
static int select_into(lua_State *L, int classes_arg, int limit_arg)
{
    ae_dataset *ds = check_dataset(L, 1);
    int64_t *keep = NULL, nkeep = 0;
    if (classes_arg && !lua_isnoneornil(L, classes_arg)) keep = check_classes(L, classes_arg, &nkeep);
    int64_t limit = limit_arg && !lua_isnoneornil(L, limit_arg) ? check_limit(L, limit_arg) : -1;
    lua_getiuservalue(L, 1, 1);
    return push_dataset(L, ae_dataset_select(ds, keep, nkeep, limit), -1);
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

/* field key of the table at arg as d floats in buf, or an error naming
 * the shape wanted: the sample shape, or d values in one dimension */
static void feature_tensor(lua_State *L, int arg, const char *key, const ae_dataset *ds, float *buf)
{
    lua_getfield(L, arg, key);
    ae_tensor *t = lae_test_tensor(L, -1);
    char want[AE_SHAPE_STR], got[AE_SHAPE_STR];
    ae_dims_str(ds->sample_ndim, ds->sample_shape, want);
    if (!t) luaL_error(L, "standardize: %s must be a tensor of shape %s, got %s", key, want, luaL_typename(L, -1));
    bool same = t->ndim == ds->sample_ndim;
    for (int i = 0; same && i < t->ndim; i++) same = t->shape[i] == ds->sample_shape[i];
    if (!same && !(t->ndim == 1 && t->shape[0] == ds->d))
        luaL_error(L, "standardize: %s has shape %s but the data set's samples are %s (%I features)", key,
                   ae_shape_str(t, got), want, (lua_Integer)ds->d);
    float *v = copy_values(L, t);
    memcpy(buf, v, (size_t)ds->d * sizeof *buf);
    free(v);
    lua_pop(L, 1);
}

/* ds:standardize{mean = t, std = t}: a view whose batches are (x - mean) / std */
static int l_standardize(lua_State *L)
{
    ae_dataset *ds = check_dataset(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    if (ds->mean) return luaL_error(L, "standardize: the data set is standardized already");
    float *m = lua_newuserdatauv(L, (size_t)ds->d * 2 * sizeof *m, 0);
    feature_tensor(L, 2, "mean", ds, m);
    feature_tensor(L, 2, "std", ds, m + ds->d);
    lua_getiuservalue(L, 1, 1);
    return push_dataset(L, ae_dataset_standardize(ds, m, m + ds->d), -1);
}

/* {shuffle = bool, drop_last = bool} at arg; other keys are typos */
static void batch_options(lua_State *L, int arg, const char *fn, int *shuffle, int *drop_last)
{
    *shuffle = *drop_last = 0;
    if (lua_isnoneornil(L, arg)) return;
    lae_check_options(L, arg, fn);
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

static int epoch_gc(lua_State *L)
{
    epoch_ud *u = luaL_checkudata(L, 1, LAE_EPOCH);
    ae_epoch_free(u->e);
    u->e = NULL;
    return 0;
}

static int epoch_next(lua_State *L)
{
    ae_dataset *ds = check_dataset(L, lua_upvalueindex(1));
    epoch_ud *u = lua_touserdata(L, lua_upvalueindex(2));
    if (!u->e) return 0;
    ae_tensor *x, *y;
    int got = ae_epoch_next(u->e, ds, &x, &y);
    if (got < 0) return lae_raise(L);
    if (got == 0) {
        /* the blocks a streamed epoch holds go now, not at collection */
        ae_epoch_free(u->e);
        u->e = NULL;
        return 0;
    }
    lae_push_tensor(L, x);
    if (y) lae_push_tensor(L, y);
    else lua_pushnil(L);
    return 2;
}

/* ds:batches(size [, {shuffle =, drop_last =}]) -> iterator yielding x, y.
 * The order is drawn here, when the epoch starts, as DataLoader's __iter__. */
static int l_batches(lua_State *L)
{
    ae_dataset *ds = check_dataset(L, 1);
    int64_t size = check_batch_size(L, "batches");
    int shuffle, drop_last;
    batch_options(L, 3, "batches", &shuffle, &drop_last);
    lua_settop(L, 1);
    epoch_ud *u = lua_newuserdatauv(L, sizeof *u, 0);
    u->e = NULL;
    luaL_setmetatable(L, LAE_EPOCH);
    if (!(u->e = ae_epoch_new(ds, size, shuffle, drop_last))) return lae_raise(L);
    lua_pushcclosure(L, epoch_next, 2);
    return 1;
}

static const luaL_Reg dataset_methods[] = {
    {"size", l_len},
    {"name", l_name},
    {"dim", l_dim},
    {"sample_shape", l_sample_shape},
    {"has_labels", l_has_labels},
    {"streamed", l_streamed},
    {"standardized", l_standardized},
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
    {"standardize", l_standardize},
    {"close", l_close},
    {NULL, NULL},
};

static const luaL_Reg dataset_meta[] = {
    {"__gc", l_close}, {"__close", l_close}, {"__len", l_len}, {"__tostring", l_tostring}, {NULL, NULL},
};

static const luaL_Reg epoch_meta[] = {{"__gc", epoch_gc}, {NULL, NULL}};

/* core.is_dataset(v) */
static int l_is_dataset(lua_State *L)
{
    lua_pushboolean(L, luaL_testudata(L, 1, LAE_DATASET) != NULL);
    return 1;
}

static const luaL_Reg data_functions[] = {
    {"is_dataset", l_is_dataset},           {"idx_read", l_idx_read},
    {"dataset_open", l_dataset_open},       {"dataset_tensor", l_dataset_tensor},
    {"dataset_h5", l_dataset_h5},           {"dataset_split", l_dataset_split},
    {"dataset_moments", l_dataset_moments}, {NULL, NULL},
};

void lae_open_data(lua_State *L)
{
    lae_new_class(L, LAE_DATASET, dataset_meta, dataset_methods);
    lua_pop(L, 1);
    lae_new_class(L, LAE_EPOCH, epoch_meta, NULL);
    lua_pop(L, 1);
    luaL_setfuncs(L, data_functions, 0);
}
