/* tensor.c: storage, views and creation; see tensor.h */
#include "tensor.h"
#include "autograd.h"
#include "error.h"
#include "pool.h"
#include "rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* a tensor above this many elements is refused before any allocation is
 * tried: 2^34 floats is 64 GiB, more than any machine this targets */
#define MAX_NUMEL ((int64_t)1 << 34)

static ae_storage *storage_new(size_t n)
{
    ae_storage *s = malloc(sizeof *s);
    if (!s) return ae_fail("out of memory");
    s->data = ae_pool_get(n);
    if (!s->data) {
        free(s);
        return NULL;
    }
    s->size = n;
    s->refs = 1;
    return s;
}

static void storage_release(ae_storage *s)
{
    if (s && --s->refs == 0) {
        ae_pool_put(s->data, s->size);
        free(s);
    }
}

static void set_contiguous_strides(ae_tensor *t)
{
    int64_t st = 1;
    for (int d = t->ndim - 1; d >= 0; d--) {
        t->stride[d] = st;
        st *= t->shape[d];
    }
}

static ae_tensor *tensor_header(int ndim, const int64_t *shape)
{
    ae_tensor *t = calloc(1, sizeof *t);
    if (!t) return ae_fail("out of memory");
    t->refs = 1;
    t->ndim = ndim;
    for (int d = 0; d < ndim; d++) t->shape[d] = shape[d];
    set_contiguous_strides(t);
    return t;
}

const char *ae_dims_str(int ndim, const int64_t *shape, char *buf)
{
    size_t used = 0;
    buf[0] = '\0';
    if (ndim == 0) {
        snprintf(buf, AE_SHAPE_STR, "scalar");
        return buf;
    }
    for (int d = 0; d < ndim && used < AE_SHAPE_STR - 24; d++)
        used += (size_t)snprintf(buf + used, AE_SHAPE_STR - used, d ? "\xC3\x97%lld" : "%lld", (long long)shape[d]);
    return buf;
}

const char *ae_shape_str(const ae_tensor *t, char *buf) { return ae_dims_str(t->ndim, t->shape, buf); }

int64_t ae_check_shape(const char *op, int ndim, const int64_t *shape)
{
    if (ndim < 0 || ndim > AE_MAX_DIMS)
        return ae_failc("%s: %d dimensions, at most %d supported", op, ndim, AE_MAX_DIMS);
    int64_t n = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 0) return ae_failc("%s: size %lld of dimension %d is negative", op, (long long)shape[d], d + 1);
        if (shape[d] > 0 && n > MAX_NUMEL / shape[d]) {
            char b[AE_SHAPE_STR];
            return ae_failc("%s: shape %s is too large (more than 2^34 elements)", op, ae_dims_str(ndim, shape, b));
        }
        n *= shape[d];
    }
    /* refused here, with the op's name, rather than by the allocator */
    size_t machine = ae_pool_machine_bytes();
    if ((uint64_t)n > machine / sizeof(float)) {
        char b[AE_SHAPE_STR];
        return ae_failc("%s: shape %s needs %.1f GiB, more than this machine's %.1f GiB of memory", op,
                        ae_dims_str(ndim, shape, b), (double)n * sizeof(float) / (1 << 30),
                        (double)machine / (1 << 30));
    }
    return n;
}

ae_tensor *ae_empty(int ndim, const int64_t *shape)
{
    int64_t n = ae_check_shape("tensor", ndim, shape);
    if (n < 0) return NULL;
    ae_tensor *t = tensor_header(ndim, shape);
    if (!t) return NULL;
    t->storage = storage_new((size_t)n);
    if (!t->storage) {
        free(t);
        return NULL;
    }
    return t;
}

ae_tensor *ae_empty_like(const ae_tensor *t) { return ae_empty(t->ndim, t->shape); }

ae_tensor *ae_full(int ndim, const int64_t *shape, float value)
{
    ae_tensor *t = ae_empty(ndim, shape);
    if (t) (void)ae_fill(t, value);
    return t;
}

ae_tensor *ae_zeros(int ndim, const int64_t *shape)
{
    ae_tensor *t = ae_empty(ndim, shape);
    if (t) memset(ae_data(t), 0, (size_t)ae_numel(t) * sizeof(float));
    return t;
}

ae_tensor *ae_scalar(float value) { return ae_full(0, NULL, value); }

ae_tensor *ae_arange(double start, double stop, double step)
{
    if (step == 0 || !isfinite(start) || !isfinite(stop) || !isfinite(step))
        return ae_fail("arange: start, stop and step must be finite and step non-zero");
    double count = ceil((stop - start) / step);
    if (count < 0) count = 0;
    if (count > (double)MAX_NUMEL) return ae_fail("arange: %.0f elements is too many", count);
    int64_t n = (int64_t)count;
    ae_tensor *t = ae_empty(1, &n);
    if (!t) return NULL;
    float *x = ae_data(t);
    for (int64_t i = 0; i < n; i++) x[i] = (float)(start + step * (double)i);
    return t;
}

ae_tensor *ae_rand(int ndim, const int64_t *shape)
{
    ae_tensor *t = ae_empty(ndim, shape);
    if (t) ae_rng_fill_uniform(ae_data(t), ae_numel(t), 0.0f, 1.0f);
    return t;
}

ae_tensor *ae_randn(int ndim, const int64_t *shape)
{
    ae_tensor *t = ae_empty(ndim, shape);
    if (t) ae_rng_fill_normal(ae_data(t), ae_numel(t), 0.0f, 1.0f);
    return t;
}

ae_tensor *ae_retain(ae_tensor *t)
{
    if (t) t->refs++;
    return t;
}

void ae_release(ae_tensor *t)
{
    if (!t || --t->refs > 0) return;
    storage_release(t->storage);
    ae_release(t->grad);
    ae_node_release(t->grad_fn);
    free(t);
}

int64_t ae_numel(const ae_tensor *t)
{
    int64_t n = 1;
    for (int d = 0; d < t->ndim; d++) n *= t->shape[d];
    return n;
}

bool ae_is_contiguous(const ae_tensor *t)
{
    int64_t st = 1;
    for (int d = t->ndim - 1; d >= 0; d--) {
        if (t->shape[d] != 1 && t->stride[d] != st) return false;
        st *= t->shape[d];
    }
    return true;
}

bool ae_same_shape(const ae_tensor *a, const ae_tensor *b)
{
    if (a->ndim != b->ndim) return false;
    for (int d = 0; d < a->ndim; d++)
        if (a->shape[d] != b->shape[d]) return false;
    return true;
}

static ae_tensor *view_of(ae_tensor *t)
{
    ae_tensor *v = tensor_header(t->ndim, t->shape);
    if (!v) return NULL;
    memcpy(v->stride, t->stride, sizeof v->stride);
    v->offset = t->offset;
    v->storage = t->storage;
    t->storage->refs++;
    return v;
}

ae_tensor *ae_alias(ae_tensor *t) { return view_of(t); }

ae_tensor *ae_view_reshape(ae_tensor *t, int ndim, const int64_t *shape)
{
    int64_t n = ae_check_shape("reshape", ndim, shape);
    if (n < 0) return NULL;
    if (n != ae_numel(t)) {
        char a[AE_SHAPE_STR], b[AE_SHAPE_STR];
        return ae_fail("reshape: cannot view %s (%lld elements) as %s (%lld elements)", ae_shape_str(t, a),
                       (long long)ae_numel(t), ae_dims_str(ndim, shape, b), (long long)n);
    }
    ae_tensor *src = ae_contiguous(t);
    if (!src) return NULL;
    ae_tensor *v = tensor_header(ndim, shape);
    if (v) {
        v->offset = src->offset;
        v->storage = src->storage;
        src->storage->refs++;
    }
    ae_release(src);
    return v;
}

ae_tensor *ae_view_transpose(ae_tensor *t, int d0, int d1)
{
    if (d0 < 0 || d1 < 0 || d0 >= t->ndim || d1 >= t->ndim) {
        char a[AE_SHAPE_STR];
        return ae_fail("transpose: dimensions %d and %d out of range for shape %s", d0 + 1, d1 + 1, ae_shape_str(t, a));
    }
    ae_tensor *v = view_of(t);
    if (!v) return NULL;
    int64_t s = v->shape[d0], st = v->stride[d0];
    v->shape[d0] = v->shape[d1];
    v->stride[d0] = v->stride[d1];
    v->shape[d1] = s;
    v->stride[d1] = st;
    return v;
}

ae_tensor *ae_view_narrow(ae_tensor *t, int dim, int64_t start, int64_t len)
{
    char a[AE_SHAPE_STR];
    if (dim < 0 || dim >= t->ndim)
        return ae_fail("narrow: dimension %d out of range for shape %s", dim + 1, ae_shape_str(t, a));
    if (start < 0 || len < 0 || start + len > t->shape[dim])
        return ae_fail("narrow: range [%lld, %lld) outside dimension %d of size %lld (shape %s)", (long long)start + 1,
                       (long long)(start + len) + 1, dim + 1, (long long)t->shape[dim], ae_shape_str(t, a));
    ae_tensor *v = view_of(t);
    if (!v) return NULL;
    v->offset += start * t->stride[dim];
    v->shape[dim] = len;
    return v;
}

/* visits every element of a strided tensor in row-major order */
static void gather(const ae_tensor *t, float *out)
{
    int64_t n = ae_numel(t);
    if (n == 0) return;
    int64_t idx[AE_MAX_DIMS] = {0};
    const float *base = t->storage->data;
    int64_t off = t->offset;
    int last = t->ndim - 1;
    if (last < 0) {
        out[0] = base[off];
        return;
    }
    int64_t inner = t->shape[last], ist = t->stride[last];
    for (int64_t i = 0; i < n; i += inner) {
        const float *p = base + off;
        for (int64_t j = 0; j < inner; j++) out[i + j] = p[j * ist];
        for (int d = last - 1; d >= 0; d--) {
            idx[d]++;
            off += t->stride[d];
            if (idx[d] < t->shape[d]) break;
            off -= idx[d] * t->stride[d];
            idx[d] = 0;
        }
    }
}

ae_tensor *ae_clone_data(ae_tensor *t)
{
    ae_tensor *c = ae_empty(t->ndim, t->shape);
    if (!c) return NULL;
    if (ae_is_contiguous(t)) memcpy(ae_data(c), ae_data(t), (size_t)ae_numel(t) * sizeof(float));
    else gather(t, ae_data(c));
    return c;
}

ae_tensor *ae_contiguous(ae_tensor *t)
{
    if (ae_is_contiguous(t)) return ae_retain(t);
    return ae_clone_data(t);
}

int ae_copy_into(ae_tensor *dst, ae_tensor *src)
{
    char a[AE_SHAPE_STR], b[AE_SHAPE_STR];
    if (ae_numel(dst) != ae_numel(src))
        return ae_failc("copy: destination %s and source %s differ in size", ae_shape_str(dst, a),
                        ae_shape_str(src, b));
    if (!ae_is_contiguous(dst)) return ae_failc("copy: destination must be contiguous");
    if (ae_is_contiguous(src)) memmove(ae_data(dst), ae_data(src), (size_t)ae_numel(src) * sizeof(float));
    else gather(src, ae_data(dst));
    return 0;
}

int ae_fill(ae_tensor *t, float v)
{
    if (!ae_is_contiguous(t)) return ae_failc("fill: tensor must be contiguous");
    float *x = ae_data(t);
    int64_t n = ae_numel(t);
    for (int64_t i = 0; i < n; i++) x[i] = v;
    return 0;
}

int ae_check_same_shape(const char *op, const char *name_a, const ae_tensor *a, const char *name_b, const ae_tensor *b)
{
    char s1[AE_SHAPE_STR], s2[AE_SHAPE_STR];
    if (ae_same_shape(a, b)) return 0;
    return ae_failc("%s: %s %s and %s %s must have the same shape", op, name_a, ae_shape_str(a, s1), name_b,
                    ae_shape_str(b, s2));
}
