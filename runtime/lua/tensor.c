/* tensor.c: the tensor userdata: its metatable, creation, queries,
 * conversion to and from Lua tables, in-place writes, the fields .grad
 * and .requires_grad, and printing (tostring as torch's str, x:summary()).  The ops' methods come from their families' binding
 * files (shape.c: reshape, transpose...; unary.c: exp...), which add them
 * to the method table made here with lae_add_methods. */
#include "binding.h"

#include <math.h>
#include <string.h>

#include "core/autograd.h"
#include "core/error.h"
#include "ops/shape.h"
#include "ops/unary.h"

static int check_new_shape(lua_State *L, const char *op, int arg, int64_t *shape)
{
    int n = lae_check_shape(L, arg, shape);
    if (ae_check_shape(op, n, shape) < 0) lae_raise(L);
    return n;
}

/* creation: name(shape...) or name({shape}) */
static int create(lua_State *L, const char *name, ae_tensor *(*make)(int, const int64_t *))
{
    int64_t s[AE_MAX_DIMS];
    int n = check_new_shape(L, name, 1, s);
    return lae_push_tensor(L, make(n, s));
}

static ae_tensor *ones(int n, const int64_t *s) { return ae_full(n, s, 1.0f); }

static int l_zeros(lua_State *L) { return create(L, "zeros", ae_zeros); }
static int l_ones(lua_State *L) { return create(L, "ones", ones); }
static int l_empty(lua_State *L) { return create(L, "empty", ae_zeros); }
static int l_rand(lua_State *L) { return create(L, "rand", ae_rand); }
static int l_randn(lua_State *L) { return create(L, "randn", ae_randn); }

/* full(shape..., value) or full({shape}, value) */
static int l_full(lua_State *L)
{
    int top = lua_gettop(L);
    float v = (float)lae_check_number(L, top);
    lua_pop(L, 1);
    int64_t s[AE_MAX_DIMS];
    int n = check_new_shape(L, "full", 1, s);
    return lae_push_tensor(L, ae_full(n, s, v));
}

static int l_arange(lua_State *L)
{
    double a = lae_check_number(L, 1);
    if (lua_isnoneornil(L, 2)) return lae_push_tensor(L, ae_arange(0, a, 1));
    double b = lae_check_number(L, 2), st = lae_opt_number(L, 3, 1);
    return lae_push_tensor(L, ae_arange(a, b, st));
}

/* ae.tensor{...}: nested tables, shape taken from the first elements */
static void nested_shape(lua_State *L, int idx, int *ndim, int64_t *shape)
{
    *ndim = 0;
    lua_pushvalue(L, idx);
    while (lua_istable(L, -1)) {
        if (*ndim == AE_MAX_DIMS) luaL_error(L, "tensor: nested table deeper than %d levels", AE_MAX_DIMS);
        shape[(*ndim)++] = (int64_t)luaL_len(L, -1);
        lua_geti(L, -1, 1);
        lua_remove(L, -2);
    }
    lua_pop(L, 1);
}

static void nested_fill(lua_State *L, int idx, int d, int ndim, const int64_t *shape, float **out, char *path,
                        size_t pathlen)
{
    if (d == ndim) {
        int isnum;
        lua_Number x = lua_tonumberx(L, idx, &isnum);
        if (!isnum || lua_type(L, idx) != LUA_TNUMBER)
            luaL_error(L, "tensor: element %s is %s, expected a number", pathlen ? path : "[]", luaL_typename(L, idx));
        if (*out) *(*out)++ = (float)x;
        return;
    }
    if (!lua_istable(L, idx))
        luaL_error(L, "tensor: element %s is %s, expected a table of %d", pathlen ? path : "[]", luaL_typename(L, idx),
                   (int)shape[d]);
    int64_t len = (int64_t)luaL_len(L, idx);
    if (len != shape[d])
        luaL_error(L, "tensor: ragged nested table: %s has %d elements, expected %d", pathlen ? path : "the table",
                   (int)len, (int)shape[d]);
    luaL_checkstack(L, 4, "tensor: nesting too deep");
    for (int64_t i = 1; i <= len; i++) {
        int w = snprintf(path + pathlen, 256 - pathlen, "[%lld]", (long long)i);
        lua_geti(L, idx, i);
        nested_fill(L, lua_gettop(L), d + 1, ndim, shape, out, path, pathlen + (size_t)(w > 0 ? w : 0));
        lua_pop(L, 1);
    }
    path[pathlen] = '\0';
}

static int l_tensor(lua_State *L)
{
    if (lae_test_tensor(L, 1)) return lae_push_tensor(L, ae_clone_data(lae_check_tensor(L, 1)));
    if (lua_type(L, 1) == LUA_TNUMBER) return lae_push_tensor(L, ae_scalar((float)lua_tonumber(L, 1)));
    luaL_checktype(L, 1, LUA_TTABLE);
    int ndim;
    int64_t shape[AE_MAX_DIMS];
    nested_shape(L, 1, &ndim, shape);
    if (ae_check_shape("tensor", ndim, shape) < 0) return lae_raise(L);
    /* the shape comes from the first element at each level: a ragged
     * table is refused by a walk that writes nothing before the tensor is
     * allocated, since its first elements may claim gigabytes */
    char path[300] = "";
    float *p = NULL;
    nested_fill(L, 1, 0, ndim, shape, &p, path, 0);
    ae_tensor *t = ae_empty(ndim, shape);
    if (!t) return lae_raise(L);
    lae_push_tensor(L, t);
    p = ae_data(t);
    path[0] = '\0';
    nested_fill(L, 1, 0, ndim, shape, &p, path, 0);
    return 1;
}

/* queries */
static int l_shape(lua_State *L)
{
    ae_tensor *t = lae_check_tensor(L, 1);
    lua_createtable(L, t->ndim, 0);
    for (int d = 0; d < t->ndim; d++) {
        lua_pushinteger(L, t->shape[d]);
        lua_rawseti(L, -2, d + 1);
    }
    return 1;
}

static int l_size(lua_State *L)
{
    ae_tensor *t = lae_check_tensor(L, 1);
    if (lua_isnoneornil(L, 2)) return l_shape(L);
    lua_pushinteger(L, t->shape[lae_check_dim(L, 2, t->ndim)]);
    return 1;
}

static int l_dim(lua_State *L)
{
    lua_pushinteger(L, lae_check_tensor(L, 1)->ndim);
    return 1;
}

static int l_numel(lua_State *L)
{
    lua_pushinteger(L, ae_numel(lae_check_tensor(L, 1)));
    return 1;
}

static int l_is_contiguous(lua_State *L)
{
    lua_pushboolean(L, ae_is_contiguous(lae_check_tensor(L, 1)));
    return 1;
}

static int l_clone(lua_State *L)
{
    ae_tensor *t = lae_check_tensor(L, 1);
    ae_tensor *c = ae_clone_data(t);
    if (c && t->requires_grad && ae_grad_enabled()) {
        /* clone keeps the graph, as in PyTorch: add zero through an op */
        ae_release(c);
        c = ae_unary(AE_ADD_SCALAR, t, 0, 0);
    }
    return lae_push_tensor(L, c);
}

/* values */
static int l_item(lua_State *L)
{
    ae_tensor *t = lae_check_tensor(L, 1);
    if (ae_numel(t) != 1) {
        char b[AE_SHAPE_STR];
        return luaL_error(L, "item: only a one-element tensor converts to a number, got shape %s", ae_shape_str(t, b));
    }
    ae_tensor *c = ae_contiguous(t);
    if (!c) return lae_raise(L);
    lua_pushnumber(L, ae_data(c)[0]);
    ae_release(c);
    return 1;
}

/* x:tobytes() -> the values as float32 bytes in the machine's order,
 * row-major (numpy's tobytes()); bits are copied, never converted */
static int l_tobytes(lua_State *L)
{
    ae_tensor *c = ae_contiguous(lae_check_tensor(L, 1));
    if (!c) return lae_raise(L);
    lua_pushlstring(L, (const char *)ae_data(c), (size_t)ae_numel(c) * sizeof(float));
    ae_release(c);
    return 1;
}

/* frombytes(s, shape...) or frombytes(s, {shape}): the inverse */
static int l_frombytes(lua_State *L)
{
    size_t len;
    const char *bytes = luaL_checklstring(L, 1, &len);
    int64_t s[AE_MAX_DIMS];
    int n = check_new_shape(L, "frombytes", 2, s);
    int64_t numel = 1;
    for (int d = 0; d < n; d++) numel *= s[d];
    if ((uint64_t)numel * sizeof(float) != len) {
        char b[AE_SHAPE_STR];
        ae_tensor probe = {.ndim = n};
        for (int d = 0; d < n; d++) probe.shape[d] = s[d];
        return luaL_error(L, "frombytes: %I bytes do not hold %s float32 values (%I bytes)", (lua_Integer)len,
                          ae_shape_str(&probe, b), (lua_Integer)numel * 4);
    }
    ae_tensor *t = ae_empty(n, s);
    if (t) memcpy(ae_data(t), bytes, len);
    return lae_push_tensor(L, t);
}

static void push_nested(lua_State *L, const float **p, const ae_tensor *t, int d)
{
    if (d == t->ndim) {
        lua_pushnumber(L, *(*p)++);
        return;
    }
    luaL_checkstack(L, 3, "totable");
    lua_createtable(L, (int)t->shape[d], 0);
    for (int64_t i = 0; i < t->shape[d]; i++) {
        push_nested(L, p, t, d + 1);
        lua_rawseti(L, -2, i + 1);
    }
}

static int l_totable(lua_State *L)
{
    ae_tensor *t = lae_check_tensor(L, 1);
    ae_tensor *c = ae_contiguous(t);
    if (!c) return lae_raise(L);
    const float *p = ae_data(c);
    if (t->ndim == 0) lua_pushnumber(L, p[0]);
    else push_nested(L, &p, c, 0);
    ae_release(c);
    return 1;
}

/* in-place writes: for initialisation and optimizers, outside the graph */
static ae_tensor *check_writable(lua_State *L, const char *op)
{
    ae_tensor *t = lae_check_tensor(L, 1);
    if (!ae_is_contiguous(t)) luaL_error(L, "%s: the tensor must be contiguous", op);
    if (t->grad_fn && ae_grad_enabled())
        luaL_error(L,
                   "%s: an in-place write to a tensor computed by the graph (%s) would "
                   "corrupt its backward; use ae.no_grad or write to a leaf",
                   op, t->grad_fn->op);
    return t;
}

static int l_copy_(lua_State *L)
{
    ae_tensor *t = check_writable(L, "copy_");
    ae_tensor *src = lae_check_tensor(L, 2);
    if (!ae_same_shape(t, src) && ae_numel(src) != 1) {
        char a[AE_SHAPE_STR], b[AE_SHAPE_STR];
        return luaL_error(L, "copy_: source %s does not match destination %s", ae_shape_str(src, a),
                          ae_shape_str(t, b));
    }
    if (ae_numel(src) == 1 && ae_numel(t) != 1) {
        ae_tensor *c = ae_contiguous(src);
        if (!c || ae_fill(t, ae_data(c)[0]) != 0) {
            ae_release(c);
            return lae_raise(L);
        }
        ae_release(c);
    } else if (ae_copy_into(t, src) != 0) {
        return lae_raise(L);
    }
    lua_settop(L, 1);
    return 1;
}

static int l_fill_(lua_State *L)
{
    ae_tensor *t = check_writable(L, "fill_");
    if (ae_fill(t, (float)lae_check_number(L, 2)) != 0) return lae_raise(L);
    lua_settop(L, 1);
    return 1;
}

static int l_zero_(lua_State *L)
{
    lua_settop(L, 1);
    lua_pushnumber(L, 0);
    return l_fill_(L);
}

/* autograd fields */
static int l_requires_grad_(lua_State *L)
{
    ae_tensor *t = lae_check_tensor(L, 1);
    int on = lua_isnoneornil(L, 2) ? 1 : lua_toboolean(L, 2);
    if (t->grad_fn && !on)
        return luaL_error(L, "requires_grad_: a tensor computed by the graph always requires grad; use detach()");
    t->requires_grad = on;
    lua_settop(L, 1);
    return 1;
}

static int l_index(lua_State *L)
{
    ae_tensor *t = lae_check_tensor(L, 1);
    if (lua_type(L, 2) == LUA_TNUMBER) {
        /* x[i]: row i (1-based, negative from the end) as a view, x:select(1, i) */
        lua_Number x = lua_tonumber(L, 2);
        if (!(x == floor(x)) || fabs(x) > 9.0e15)
            return luaL_error(L, "index: row index must be an integer, got %s", luaL_tolstring(L, 2, NULL));
        int64_t i = (int64_t)x;
        if (t->ndim == 0) return luaL_error(L, "index: cannot take row %d of a 0-D tensor", (int)i);
        if (i == 0) return luaL_error(L, "index: row 0: rows are numbered from 1 (or -1 from the end)");
        if (i > t->shape[0] || i < -t->shape[0]) {
            char b[AE_SHAPE_STR];
            return luaL_error(L, "index: row %d out of range for shape %s (%d rows)", (int)i, ae_shape_str(t, b),
                              (int)t->shape[0]);
        }
        return lae_push_tensor(L, ae_select(t, 0, i > 0 ? i - 1 : i));
    }
    const char *k = lua_tostring(L, 2);
    if (k && lua_type(L, 2) == LUA_TSTRING) {
        if (strcmp(k, "grad") == 0) {
            if (!t->grad) return lua_pushnil(L), 1;
            return lae_push_tensor(L, ae_retain(t->grad));
        }
        if (strcmp(k, "requires_grad") == 0) return lua_pushboolean(L, t->requires_grad), 1;
        if (strcmp(k, "is_leaf") == 0) return lua_pushboolean(L, t->grad_fn == NULL), 1;
        if (strcmp(k, "grad_fn") == 0) {
            if (t->grad_fn) lua_pushstring(L, t->grad_fn->op);
            else lua_pushnil(L);
            return 1;
        }
    }
    lua_pushvalue(L, 2);
    lua_gettable(L, lua_upvalueindex(1));
    return 1;
}

static int l_newindex(lua_State *L)
{
    ae_tensor *t = lae_check_tensor(L, 1);
    const char *k = luaL_checkstring(L, 2);
    if (strcmp(k, "grad") == 0) {
        ae_tensor *g = lua_isnil(L, 3) ? NULL : lae_check_tensor(L, 3);
        if (g && !ae_same_shape(g, t)) {
            char a[AE_SHAPE_STR], b[AE_SHAPE_STR];
            return luaL_error(L, "grad: assigned gradient %s does not match tensor %s", ae_shape_str(g, a),
                              ae_shape_str(t, b));
        }
        /* .grad is written into by backward, so it must own contiguous memory */
        ae_tensor *c = g ? ae_clone_data(g) : NULL;
        if (g && !c) return lae_raise(L);
        ae_release(t->grad);
        t->grad = c;
        return 0;
    }
    if (strcmp(k, "requires_grad") == 0) {
        lua_settop(L, 3);
        lua_remove(L, 2);
        l_requires_grad_(L);
        return 0;
    }
    return luaL_error(L, "tensor: cannot set field '%s' (only grad and requires_grad)", k);
}

static int l_gc(lua_State *L)
{
    ae_tensor **u = luaL_checkudata(L, 1, LAE_TENSOR);
    ae_release(*u);
    *u = NULL;
    return 0;
}

/* tostring(x): PyTorch's str(tensor) (torch/_tensor_str.py with its
 * default print options): nested rows, 4 decimals, scientific notation when
 * the magnitudes demand it, integer values as "1.", rows wrapped at 80
 * columns, and above 1000 elements only the 3 first and last items of each
 * dimension around "...".  The formatting is decided from the elements
 * shown, as torch's _Formatter does on the summarised data. */
#define PRINT_PRECISION 4
#define PRINT_THRESHOLD 1000
#define PRINT_EDGEITEMS 3
#define PRINT_LINEWIDTH 80

typedef struct {
    bool sci, int_mode;
    int width;
} formatter;

/* visits the elements shown, in order: all of them, or with summarize the
 * edge items of every dimension longer than 2 * PRINT_EDGEITEMS */
typedef void (*visit_fn)(void *ctx, float v);

static void visit_shown(const ae_tensor *c, const float *p, int d, bool summarize, visit_fn fn, void *ctx)
{
    if (d == c->ndim) {
        fn(ctx, *p);
        return;
    }
    int64_t n = c->shape[d];
    bool cut = summarize && n > 2 * PRINT_EDGEITEMS;
    for (int64_t i = 0; i < n; i++) {
        if (cut && i == PRINT_EDGEITEMS) i = n - PRINT_EDGEITEMS;
        visit_shown(c, p + i * c->stride[d], d + 1, summarize, fn, ctx);
    }
}

typedef struct {
    bool any;
    bool int_mode;
    double min, max;
} magnitudes;

static void collect_magnitudes(void *ctx, float v)
{
    magnitudes *m = ctx;
    if (!isfinite(v) || v == 0.0f) return;
    double a = fabs((double)v);
    if (!m->any || a < m->min) m->min = a;
    if (!m->any || a > m->max) m->max = a;
    m->any = true;
    if (v != ceilf(v)) m->int_mode = false;
}

/* v as torch formats it, without the padding to the common width */
static int format_plain(const formatter *f, float v, char *s, size_t size)
{
    double x = isnan(v) ? NAN : (double)v; /* "nan", never glibc's "-nan" */
    if (f->sci) return snprintf(s, size, "%.*e", PRINT_PRECISION, x);
    if (f->int_mode) return snprintf(s, size, isfinite(v) ? "%.0f." : "%.0f", x);
    return snprintf(s, size, "%.*f", PRINT_PRECISION, x);
}

static void collect_width(void *ctx, float v)
{
    formatter *f = ctx;
    char s[64];
    if (!isfinite(v) || v == 0.0f) return;
    int w = format_plain(f, v, s, sizeof s);
    if (w > f->width) f->width = w;
}

static void formatter_init(formatter *f, const ae_tensor *c, bool summarize)
{
    magnitudes m = {false, true, 0, 0};
    visit_shown(c, ae_data(c), 0, summarize, collect_magnitudes, &m);
    f->sci = false;
    f->int_mode = true;
    f->width = 1;
    if (!m.any) return;
    f->int_mode = m.int_mode;
    f->sci = m.max / m.min > 1000.0 || m.max > 1.0e8 || (!m.int_mode && m.min < 1.0e-4);
    visit_shown(c, ae_data(c), 0, summarize, collect_width, f);
}

static void add_value(luaL_Buffer *b, const formatter *f, float v)
{
    char s[64];
    int w = format_plain(f, v, s, sizeof s);
    for (int i = w; i < f->width; i++) luaL_addchar(b, ' ');
    luaL_addstring(b, s);
}

static void add_spaces(luaL_Buffer *b, int n)
{
    for (int i = 0; i < n; i++) luaL_addchar(b, ' ');
}

/* one row: torch's _vector_str, items wrapped to the line width */
static void add_vector(luaL_Buffer *b, const formatter *f, const ae_tensor *c, const float *p, int indent,
                       bool summarize)
{
    int64_t n = c->shape[c->ndim - 1], stride = c->stride[c->ndim - 1];
    int per_line = (PRINT_LINEWIDTH - indent) / (f->width + 2);
    if (per_line < 1) per_line = 1;
    bool cut = summarize && n > 2 * PRINT_EDGEITEMS;
    int64_t items = cut ? 2 * PRINT_EDGEITEMS + 1 : n;
    luaL_addchar(b, '[');
    for (int64_t k = 0; k < items; k++) {
        if (k > 0) {
            luaL_addchar(b, ',');
            if (k % per_line == 0) {
                luaL_addchar(b, '\n');
                add_spaces(b, indent + 1);
            } else {
                luaL_addchar(b, ' ');
            }
        }
        if (cut && k == PRINT_EDGEITEMS) {
            luaL_addstring(b, " ...");
            continue;
        }
        int64_t i = cut && k > PRINT_EDGEITEMS ? n - (items - k) : k;
        add_value(b, f, p[i * stride]);
    }
    luaL_addchar(b, ']');
}

/* torch's _tensor_str_with_formatter: dimension d and the ones below */
static void add_rows(luaL_Buffer *b, const formatter *f, const ae_tensor *c, const float *p, int d, int indent,
                     bool summarize)
{
    int left = c->ndim - d;
    if (left == 1) {
        add_vector(b, f, c, p, indent, summarize);
        return;
    }
    int64_t n = c->shape[d];
    bool cut = summarize && n > 2 * PRINT_EDGEITEMS;
    luaL_addchar(b, '[');
    for (int64_t i = 0; i < n; i++) {
        if (i > 0) {
            luaL_addchar(b, ',');
            for (int k = 0; k < left - 1; k++) luaL_addchar(b, '\n');
            add_spaces(b, indent + 1);
        }
        if (cut && i == PRINT_EDGEITEMS) {
            luaL_addstring(b, "...");
            i = n - PRINT_EDGEITEMS - 1;
            continue;
        }
        add_rows(b, f, c, p + i * c->stride[d], d + 1, indent + 1, summarize);
    }
    luaL_addchar(b, ']');
}

/* torch's _add_suffixes: ", suffix", or on a new line past the line width */
static void add_suffix(luaL_Buffer *b, int *last_line, const char *suffix)
{
    int len = (int)strlen(suffix);
    if (*last_line + len + 2 > PRINT_LINEWIDTH) {
        luaL_addstring(b, ",\n       ");
        *last_line = 7 + len;
    } else {
        luaL_addstring(b, ", ");
        *last_line += len + 2;
    }
    luaL_addstring(b, suffix);
}

static int l_tostring(lua_State *L)
{
    ae_tensor *t = lae_check_tensor(L, 1);
    ae_tensor *c = ae_contiguous(t);
    if (!c) return lae_raise(L);
    int64_t n = ae_numel(c);
    bool summarize = n > PRINT_THRESHOLD;
    char suffix[AE_SHAPE_STR + 64];
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, "tensor(");
    if (n == 0) {
        luaL_addstring(&b, "[]");
    } else {
        formatter f;
        formatter_init(&f, c, summarize);
        if (c->ndim == 0) add_value(&b, &f, ae_data(c)[0]);
        else add_rows(&b, &f, c, ae_data(c), 0, 7, summarize);
    }
    ae_release(c);
    /* the length of the last line plus one, as torch counts it */
    luaL_pushresult(&b);
    int body_at = lua_gettop(L);
    size_t len;
    const char *body = lua_tolstring(L, body_at, &len);
    const char *nl = strrchr(body, '\n');
    int last_line = nl ? (int)(body + len - nl) + 1 : (int)len + 2;
    luaL_buffinit(L, &b);
    lua_pushvalue(L, body_at);
    luaL_addvalue(&b);
    if (n == 0 && t->ndim != 1) {
        /* torch shows the shape of an empty tensor unless it is (0,) */
        int w = snprintf(suffix, sizeof suffix, "size=(");
        for (int d = 0; d < t->ndim && w < (int)sizeof suffix - 24; d++)
            w += snprintf(suffix + w, sizeof suffix - (size_t)w, "%s%lld", d ? ", " : "", (long long)t->shape[d]);
        snprintf(suffix + w, sizeof suffix - (size_t)w, ")");
        add_suffix(&b, &last_line, suffix);
    }
    if (t->grad_fn) {
        snprintf(suffix, sizeof suffix, "grad_fn=<%s>", t->grad_fn->op);
        add_suffix(&b, &last_line, suffix);
    } else if (t->requires_grad) {
        add_suffix(&b, &last_line, "requires_grad=True");
    }
    luaL_addchar(&b, ')');
    luaL_pushresult(&b);
    return 1;
}

/* x:summary(): one line, whatever the size: the first values, the shape and
 * the autograd state (what tostring gave before it followed torch) */
static int l_summary(lua_State *L)
{
    ae_tensor *t = lae_check_tensor(L, 1);
    ae_tensor *c = ae_contiguous(t);
    if (!c) return lae_raise(L);
    char sh[AE_SHAPE_STR], s[32];
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, "tensor(");
    int64_t n = ae_numel(c), shown = n < 12 ? n : 12;
    const float *p = ae_data(c);
    for (int64_t i = 0; i < shown; i++) {
        snprintf(s, sizeof s, "%s%.4g", i ? ", " : "", (double)p[i]);
        luaL_addstring(&b, s);
    }
    if (shown < n) luaL_addstring(&b, ", ...");
    luaL_addstring(&b, shown ? ", shape=" : "shape=");
    luaL_addstring(&b, ae_shape_str(t, sh));
    if (t->grad_fn) {
        luaL_addstring(&b, ", grad_fn=");
        luaL_addstring(&b, t->grad_fn->op);
    } else if (t->requires_grad) {
        luaL_addstring(&b, ", requires_grad=true");
    }
    luaL_addstring(&b, ")");
    ae_release(c);
    luaL_pushresult(&b);
    return 1;
}

static const luaL_Reg methods[] = {{"shape", l_shape},
                                   {"size", l_size},
                                   {"dim", l_dim},
                                   {"numel", l_numel},
                                   {"is_contiguous", l_is_contiguous},
                                   {"clone", l_clone},
                                   {"item", l_item},
                                   {"totable", l_totable},
                                   {"tobytes", l_tobytes},
                                   {"copy_", l_copy_},
                                   {"fill_", l_fill_},
                                   {"zero_", l_zero_},
                                   {"requires_grad_", l_requires_grad_},
                                   {"summary", l_summary},
                                   {NULL, NULL}};

static const luaL_Reg functions[] = {
    {"zeros", l_zeros}, {"ones", l_ones},     {"empty", l_empty},   {"full", l_full},           {"rand", l_rand},
    {"randn", l_randn}, {"arange", l_arange}, {"tensor", l_tensor}, {"frombytes", l_frombytes}, {NULL, NULL}};

static const luaL_Reg meta[] = {{"__gc", l_gc}, {"__tostring", l_tostring}, {"__newindex", l_newindex}, {NULL, NULL}};

void lae_open_tensor(lua_State *L)
{
    luaL_setfuncs(L, functions, 0);
    lae_new_class(L, LAE_TENSOR, meta, NULL);
    lua_pushstring(L, "tensor");
    lua_setfield(L, -2, "__name");
    /* methods live in their own table, which the op families' binding
     * files reach through the metatable's "methods" field */
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "methods");
    lua_pushcclosure(L, l_index, 1);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
}
