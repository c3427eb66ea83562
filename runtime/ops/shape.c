/* shape.c: reshape, transpose and narrow as views that stay in the
 * graph; their backward moves the gradient back into the input's shape. */
#include "core/autograd.h"
#include "core/error.h"
#include "shape.h"
#include "binary.h"
#include "unary.h"
#include "compare.h"
#include "reduce.h"
#include "matmul.h"
#include "loss.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ae_dim_index(int dim, int ndim)
{
    if (dim < 0) dim += ndim;
    return dim >= 0 && dim < ndim ? dim : -1;
}

/* reshape: the gradient has the same elements in the same order */
static void reshape_backward(ae_node *n)
{
    float *g = ae_grad_of(n, 0);
    if (!g) return;
    const float *go = ae_gout(n);
    int64_t count = ae_numel(n->gout);
    for (int64_t i = 0; i < count; i++) g[i] += go[i];
}

ae_tensor *ae_reshape(ae_tensor *a, int ndim, const int64_t *shape)
{
    int64_t s[AE_MAX_DIMS];
    int infer = -1;
    int64_t known = 1;
    if (ndim > AE_MAX_DIMS) return ae_fail("reshape: %d dimensions, at most %d", ndim, AE_MAX_DIMS);
    for (int d = 0; d < ndim; d++) {
        s[d] = shape[d];
        if (s[d] == -1) {
            if (infer >= 0) return ae_fail("reshape: only one dimension can be -1");
            infer = d;
        } else if (s[d] < 0) {
            return ae_fail("reshape: size %lld of dimension %d is negative", (long long)s[d], d + 1);
        } else if (s[d] > 0 && known > INT64_MAX / s[d]) {
            char b[AE_SHAPE_STR], c[AE_SHAPE_STR];
            return ae_fail("reshape: cannot view %s as %s (too many elements)", ae_shape_str(a, b),
                           ae_dims_str(ndim, shape, c));
        } else {
            known *= s[d];
        }
    }
    if (infer >= 0) {
        char b[AE_SHAPE_STR];
        if (known == 0 || ae_numel(a) % known != 0)
            return ae_fail("reshape: cannot infer the -1 dimension to view %s", ae_shape_str(a, b));
        s[infer] = ae_numel(a) / known;
    }
    ae_tensor *out = ae_view_reshape(a, ndim, s);
    return out ? ae_record(out, "reshape", reshape_backward, 1, &a, 0, NULL, NULL, 0) : NULL;
}

/* g += the values of view (an input-shaped view of the output gradient)
 * in row-major order; takes over view's reference.  A failed copy leaves g
 * alone: ae_backward reports the allocation failure */
static void add_view_into(float *g, ae_tensor *view)
{
    ae_tensor *c = view ? ae_contiguous(view) : NULL;
    if (c) {
        const float *src = ae_data(c);
        int64_t count = ae_numel(c);
        for (int64_t i = 0; i < count; i++) g[i] += src[i];
    }
    ae_release(c);
    ae_release(view);
}

/* transpose: the gradient is the output gradient with the two dims swapped */
typedef struct {
    int d0, d1;
} transpose_state;

static void transpose_backward(ae_node *n)
{
    float *g = ae_grad_of(n, 0);
    if (!g) return;
    const transpose_state *s = ae_node_state(n);
    add_view_into(g, ae_view_transpose(n->gout, s->d0, s->d1));
}

ae_tensor *ae_transpose(ae_tensor *a, int d0, int d1)
{
    int i0 = ae_dim_index(d0, a->ndim), i1 = ae_dim_index(d1, a->ndim);
    if (i0 < 0 || i1 < 0) {
        char b[AE_SHAPE_STR];
        return ae_fail("transpose: dimensions %d and %d out of range for shape %s", d0 + 1, d1 + 1, ae_shape_str(a, b));
    }
    ae_tensor *out = ae_view_transpose(a, i0, i1);
    if (!out) return NULL;
    const transpose_state s = {i0, i1};
    return ae_record(out, "transpose", transpose_backward, 1, &a, 0, NULL, &s, sizeof s);
}

/* narrow: the gradient lands in the slice [start, start+len) of dim */
typedef struct {
    int dim;
    int64_t start;
} narrow_state;

static void narrow_backward(ae_node *n)
{
    float *g = ae_grad_of(n, 0);
    if (!g) return;
    ae_tensor *in = n->inputs[0];
    const narrow_state *s = ae_node_state(n);
    int dim = s->dim;
    int64_t start = s->start, len = n->out_shape[dim];
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < dim; d++) outer *= in->shape[d];
    for (int d = dim + 1; d < in->ndim; d++) inner *= in->shape[d];
    const float *go = ae_gout(n);
    for (int64_t o = 0; o < outer; o++) {
        float *dst = g + (o * in->shape[dim] + start) * inner;
        const float *src = go + o * len * inner;
        for (int64_t i = 0; i < len * inner; i++) dst[i] += src[i];
    }
}

ae_tensor *ae_narrow(ae_tensor *a, int dim, int64_t start, int64_t len)
{
    int d = ae_dim_index(dim, a->ndim);
    if (d < 0) {
        char b[AE_SHAPE_STR];
        return ae_fail("narrow: dimension %d out of range for shape %s", dim + 1, ae_shape_str(a, b));
    }
    ae_tensor *out = ae_view_narrow(a, d, start, len);
    if (!out) return NULL;
    const narrow_state s = {d, start};
    return ae_record(out, "narrow", narrow_backward, 1, &a, 0, NULL, &s, sizeof s);
}

ae_tensor *ae_detach(ae_tensor *a) { return ae_alias(a); }

/* cat: inputs joined along dim (the state); each input's gradient is its slice */
static void cat_backward(ae_node *n)
{
    const int *along = ae_node_state(n);
    int dim = *along;
    const float *go = ae_gout(n);
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < dim; d++) outer *= n->out_shape[d];
    for (int d = dim + 1; d < n->out_ndim; d++) inner *= n->out_shape[d];
    int64_t total = n->out_shape[dim], offset = 0;
    for (int i = 0; i < n->ninputs; i++) {
        int64_t len = n->inputs[i]->shape[dim];
        float *g = ae_grad_of(n, i);
        if (g)
            for (int64_t o = 0; o < outer; o++) {
                const float *src = go + (o * total + offset) * inner;
                float *dst = g + o * len * inner;
                for (int64_t k = 0; k < len * inner; k++) dst[k] += src[k];
            }
        offset += len;
    }
}

ae_tensor *ae_cat(int count, ae_tensor *const *ts, int dim)
{
    char a[AE_SHAPE_STR], b[AE_SHAPE_STR];
    if (count < 1) return ae_fail("cat: expects at least one tensor");
    ae_tensor *first = ts[0];
    int d = ae_dim_index(dim, first->ndim);
    if (d < 0) return ae_fail("cat: dimension %d out of range for shape %s", dim + 1, ae_shape_str(first, a));
    int64_t shape[AE_MAX_DIMS];
    for (int k = 0; k < first->ndim; k++) shape[k] = first->shape[k];
    shape[d] = 0;
    for (int i = 0; i < count; i++) {
        ae_tensor *t = ts[i];
        bool fits = t->ndim == first->ndim;
        for (int k = 0; fits && k < t->ndim; k++) fits = k == d || t->shape[k] == first->shape[k];
        if (!fits)
            return ae_fail("cat: tensor %d has shape %s, which does not fit %s along dimension %d", i + 1,
                           ae_shape_str(t, a), ae_shape_str(first, b), d + 1);
        shape[d] += t->shape[d];
    }
    ae_tensor *out = ae_empty(first->ndim, shape);
    if (!out) return NULL;
    int64_t outer = 1, inner = 1;
    for (int k = 0; k < d; k++) outer *= shape[k];
    for (int k = d + 1; k < first->ndim; k++) inner *= shape[k];
    int64_t offset = 0;
    for (int i = 0; i < count; i++) {
        ae_tensor *c = ae_contiguous(ts[i]);
        if (!c) {
            ae_release(out);
            return NULL;
        }
        int64_t len = ts[i]->shape[d];
        for (int64_t o = 0; o < outer; o++)
            memcpy(ae_data(out) + (o * shape[d] + offset) * inner, ae_data(c) + o * len * inner,
                   (size_t)(len * inner) * sizeof(float));
        offset += len;
        ae_release(c);
    }
    /* a node holds at most AE_NODE_INPUTS inputs: wider cats that need
     * gradients are built as a chain of cats */
    if (ae_any_requires_grad(count, ts) && count > AE_NODE_INPUTS) {
        ae_release(out);
        ae_tensor *left = ae_cat(AE_NODE_INPUTS, ts, dim);
        if (!left) return NULL;
        ae_tensor *rest[AE_NODE_INPUTS];
        int taken = AE_NODE_INPUTS, k = 0;
        rest[k++] = left;
        ae_tensor *result = NULL;
        while (taken < count) {
            while (k < AE_NODE_INPUTS && taken < count) rest[k++] = ts[taken++];
            result = ae_cat(k, rest, dim);
            ae_release(rest[0]);
            if (!result) return NULL;
            rest[0] = result;
            k = 1;
        }
        return result;
    }
    return ae_record(out, "cat", cat_backward, count, ts, 0, NULL, &d, sizeof d);
}

/* squeeze and unsqueeze only add or drop size-1 dimensions: the elements
 * keep their order, so the gradient is reshape's */
ae_tensor *ae_squeeze(ae_tensor *a, int dim)
{
    int only = -1;
    if (dim != AE_SQUEEZE_ALL) {
        only = ae_dim_index(dim, a->ndim);
        if (only < 0) {
            char b[AE_SHAPE_STR];
            return ae_fail("squeeze: dimension %d out of range for shape %s", dim + 1, ae_shape_str(a, b));
        }
    }
    ae_tensor *out = ae_alias(a);
    if (!out) return NULL;
    int k = 0;
    for (int d = 0; d < a->ndim; d++) {
        bool drop = a->shape[d] == 1 && (only < 0 || only == d);
        if (drop) continue;
        out->shape[k] = a->shape[d];
        out->stride[k] = a->stride[d];
        k++;
    }
    out->ndim = k;
    return ae_record(out, "squeeze", reshape_backward, 1, &a, 0, NULL, NULL, 0);
}

ae_tensor *ae_unsqueeze(ae_tensor *a, int dim)
{
    char b[AE_SHAPE_STR];
    if (dim < 0) dim += a->ndim + 1;
    if (dim < 0 || dim > a->ndim)
        return ae_fail("unsqueeze: dimension %d out of range for shape %s", dim + 1, ae_shape_str(a, b));
    if (a->ndim + 1 > AE_MAX_DIMS)
        return ae_fail("unsqueeze: shape %s already has %d dimensions, the most a tensor has", ae_shape_str(a, b),
                       AE_MAX_DIMS);
    ae_tensor *out = ae_alias(a);
    if (!out) return NULL;
    for (int d = a->ndim; d > dim; d--) {
        out->shape[d] = a->shape[d - 1];
        out->stride[d] = a->stride[d - 1];
    }
    out->shape[dim] = 1;
    out->stride[dim] = dim < a->ndim ? a->shape[dim] * a->stride[dim] : 1;
    out->ndim = a->ndim + 1;
    return ae_record(out, "unsqueeze", reshape_backward, 1, &a, 0, NULL, NULL, 0);
}

/* permute: the gradient is the output gradient permuted back */
typedef struct {
    int perm[AE_MAX_DIMS];
} permute_state;

static void permute_backward(ae_node *n)
{
    float *g = ae_grad_of(n, 0);
    if (!g) return;
    const permute_state *s = ae_node_state(n);
    ae_tensor *gt = ae_alias(n->gout);
    if (!gt) return;
    /* input dimension perm[i] is output dimension i */
    for (int i = 0; i < n->gout->ndim; i++) {
        gt->shape[s->perm[i]] = n->gout->shape[i];
        gt->stride[s->perm[i]] = n->gout->stride[i];
    }
    add_view_into(g, gt);
}

ae_tensor *ae_permute(ae_tensor *a, int n, const int *perm)
{
    char b[AE_SHAPE_STR];
    if (n != a->ndim)
        return ae_fail("permute: %d dimensions given for shape %s, which has %d", n, ae_shape_str(a, b), a->ndim);
    permute_state s;
    bool seen[AE_MAX_DIMS] = {false};
    for (int i = 0; i < n; i++) {
        int d = ae_dim_index(perm[i], n);
        if (d < 0) return ae_fail("permute: dimension %d out of range for shape %s", perm[i] + 1, ae_shape_str(a, b));
        if (seen[d]) return ae_fail("permute: dimension %d repeated", d + 1);
        seen[d] = true;
        s.perm[i] = d;
    }
    ae_tensor *out = ae_alias(a);
    if (!out) return NULL;
    for (int i = 0; i < n; i++) {
        out->shape[i] = a->shape[s.perm[i]];
        out->stride[i] = a->stride[s.perm[i]];
    }
    return ae_record(out, "permute", permute_backward, 1, &a, 0, NULL, &s, sizeof s);
}

/* copies the view (shape, possibly negative strides, base pointer) into dst
 * in row-major order, adding when add is set */
static void gather_strided(float *dst, const float *base, int ndim, const int64_t *shape, const int64_t *stride,
                           bool add)
{
    int64_t count = 1, idx[AE_MAX_DIMS] = {0};
    for (int d = 0; d < ndim; d++) count *= shape[d];
    const float *p = base;
    for (int64_t i = 0; i < count; i++) {
        if (add) dst[i] += *p;
        else dst[i] = *p;
        for (int d = ndim - 1; d >= 0; d--) {
            if (++idx[d] < shape[d]) {
                p += stride[d];
                break;
            }
            p -= stride[d] * (shape[d] - 1);
            idx[d] = 0;
        }
    }
}

/* flip: the gradient is the output gradient flipped the same way */
typedef struct {
    bool flip[AE_MAX_DIMS];
} flip_state;

static void flip_strides(const ae_tensor *t, const bool *flip, int64_t *stride, int64_t *start)
{
    int64_t s = 1;
    *start = 0;
    for (int d = t->ndim - 1; d >= 0; d--) {
        stride[d] = flip[d] ? -s : s;
        if (flip[d] && t->shape[d] > 0) *start += s * (t->shape[d] - 1);
        s *= t->shape[d];
    }
}

static void flip_backward(ae_node *n)
{
    float *g = ae_grad_of(n, 0);
    if (!g) return;
    const flip_state *s = ae_node_state(n);
    int64_t stride[AE_MAX_DIMS], start;
    flip_strides(n->gout, s->flip, stride, &start);
    if (ae_numel(n->gout) > 0) gather_strided(g, ae_gout(n) + start, n->gout->ndim, n->gout->shape, stride, true);
}

ae_tensor *ae_flip(ae_tensor *a, int n, const int *dims)
{
    char b[AE_SHAPE_STR];
    flip_state s = {{false}};
    for (int i = 0; i < n; i++) {
        int d = ae_dim_index(dims[i], a->ndim);
        if (d < 0) return ae_fail("flip: dimension %d out of range for shape %s", dims[i] + 1, ae_shape_str(a, b));
        if (s.flip[d]) return ae_fail("flip: dimension %d repeated", d + 1);
        s.flip[d] = true;
    }
    ae_tensor *c = ae_contiguous(a);
    if (!c) return NULL;
    ae_tensor *out = ae_empty(a->ndim, a->shape);
    if (out && ae_numel(a) > 0) {
        int64_t stride[AE_MAX_DIMS], start;
        flip_strides(c, s.flip, stride, &start);
        gather_strided(ae_data(out), ae_data(c) + start, c->ndim, c->shape, stride, false);
    }
    ae_release(c);
    return out ? ae_record(out, "flip", flip_backward, 1, &a, 0, NULL, &s, sizeof s) : NULL;
}

ae_tensor *ae_stack(int count, ae_tensor *const *ts, int dim)
{
    char a[AE_SHAPE_STR], b[AE_SHAPE_STR];
    if (count < 1) return ae_fail("stack: expects at least one tensor");
    for (int i = 1; i < count; i++)
        if (!ae_same_shape(ts[i], ts[0]))
            return ae_fail("stack: tensor %d has shape %s, tensor 1 has %s", i + 1, ae_shape_str(ts[i], a),
                           ae_shape_str(ts[0], b));
    if (dim < 0) dim += ts[0]->ndim + 1;
    if (dim < 0 || dim > ts[0]->ndim)
        return ae_fail("stack: dimension %d out of range for shape %s", dim + 1, ae_shape_str(ts[0], a));
    if (count > 4096) return ae_fail("stack: at most 4096 tensors");
    ae_tensor *parts[4096];
    int made = 0;
    ae_tensor *out = NULL;
    for (; made < count; made++) {
        parts[made] = ae_unsqueeze(ts[made], dim);
        if (!parts[made]) break;
    }
    if (made == count) out = ae_cat(count, parts, dim);
    for (int i = 0; i < made; i++) ae_release(parts[i]);
    return out;
}

/* index_select: the gradient of slice k is added into slice idx[k] */
typedef struct {
    int dim;
    int64_t n;
    int64_t idx[];
} index_state;

static void index_select_backward(ae_node *n)
{
    float *g = ae_grad_of(n, 0);
    if (!g) return;
    const index_state *s = ae_node_state(n);
    ae_tensor *in = n->inputs[0];
    int64_t outer = 1, inner = 1, size = in->shape[s->dim];
    for (int d = 0; d < s->dim; d++) outer *= in->shape[d];
    for (int d = s->dim + 1; d < in->ndim; d++) inner *= in->shape[d];
    const float *go = ae_gout(n);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t k = 0; k < s->n; k++) {
            float *dst = g + (o * size + s->idx[k]) * inner;
            const float *src = go + (o * s->n + k) * inner;
            for (int64_t i = 0; i < inner; i++) dst[i] += src[i];
        }
}

ae_tensor *ae_index_select(ae_tensor *a, int dim, int64_t n, const int64_t *idx)
{
    char b[AE_SHAPE_STR];
    int d = ae_dim_index(dim, a->ndim);
    if (d < 0) return ae_fail("index_select: dimension %d out of range for shape %s", dim + 1, ae_shape_str(a, b));
    int64_t size = a->shape[d];
    for (int64_t k = 0; k < n; k++)
        if (idx[k] < 0 || idx[k] >= size)
            return ae_fail(
                "index_select: index %lld (entry %lld) out of range for dimension %d of size %lld (shape %s)",
                (long long)idx[k] + 1, (long long)k + 1, d + 1, (long long)size, ae_shape_str(a, b));
    int64_t shape[AE_MAX_DIMS];
    for (int k = 0; k < a->ndim; k++) shape[k] = a->shape[k];
    shape[d] = n;
    size_t bytes = sizeof(index_state) + (size_t)n * sizeof(int64_t);
    index_state *s = malloc(bytes);
    if (!s) return ae_fail("index_select: out of memory for %lld indices", (long long)n);
    ae_tensor *c = ae_contiguous(a);
    ae_tensor *out = c ? ae_empty(a->ndim, shape) : NULL;
    if (!out) {
        ae_release(c);
        free(s);
        return NULL;
    }
    int64_t outer = 1, inner = 1;
    for (int k = 0; k < d; k++) outer *= a->shape[k];
    for (int k = d + 1; k < a->ndim; k++) inner *= a->shape[k];
    if (inner > 0)
        for (int64_t o = 0; o < outer; o++)
            for (int64_t k = 0; k < n; k++)
                memcpy(ae_data(out) + (o * n + k) * inner, ae_data(c) + (o * size + idx[k]) * inner,
                       (size_t)inner * sizeof(float));
    ae_release(c);
    s->dim = d;
    s->n = n;
    if (n > 0) memcpy(s->idx, idx, (size_t)n * sizeof(int64_t));
    ae_tensor *r = ae_record(out, "index_select", index_select_backward, 1, &a, 0, NULL, s, bytes);
    free(s);
    return r;
}

ae_tensor *ae_select(ae_tensor *a, int dim, int64_t i)
{
    char b[AE_SHAPE_STR];
    int d = ae_dim_index(dim, a->ndim);
    if (d < 0) {
        if (a->ndim == 0) return ae_fail("select: cannot index a 0-D tensor");
        return ae_fail("select: dimension %d out of range for shape %s", dim + 1, ae_shape_str(a, b));
    }
    int64_t size = a->shape[d];
    if (i < -size || i >= size)
        return ae_fail("select: index %lld out of range for dimension %d of size %lld (shape %s)",
                       (long long)(i < 0 ? i : i + 1), d + 1, (long long)size, ae_shape_str(a, b));
    if (i < 0) i += size;
    ae_tensor *row = ae_narrow(a, d, i, 1);
    if (!row) return NULL;
    ae_tensor *out = ae_squeeze(row, d);
    ae_release(row);
    return out;
}

/* "[2][3]": the 1-based position of element flat of a row-major shape, as
 * ae.tensor's errors name elements; buf holds AE_POS_STR bytes */
#define AE_POS_STR (AE_MAX_DIMS * 22 + 1)
static const char *position_str(int ndim, const int64_t *shape, int64_t flat, char *buf)
{
    int64_t at[AE_MAX_DIMS];
    for (int d = ndim - 1; d >= 0; d--) {
        at[d] = shape[d] > 0 ? flat % shape[d] : 0;
        flat = shape[d] > 0 ? flat / shape[d] : 0;
    }
    size_t n = 0;
    buf[0] = '\0';
    for (int d = 0; d < ndim; d++) n += (size_t)snprintf(buf + n, AE_POS_STR - n, "[%lld]", (long long)at[d] + 1);
    if (ndim == 0) snprintf(buf, AE_POS_STR, "[]");
    return buf;
}

/* gather: the state holds, for each output element, the offset of its
 * source in the contiguous input; backward adds the gradient there */
typedef struct {
    int64_t count;
    int64_t off[];
} gather_state;

static void gather_backward(ae_node *n)
{
    float *g = ae_grad_of(n, 0);
    if (!g) return;
    const gather_state *s = ae_node_state(n);
    const float *go = ae_gout(n);
    for (int64_t i = 0; i < s->count; i++) g[s->off[i]] += go[i];
}

ae_tensor *ae_gather(ae_tensor *a, int dim, ae_tensor *index, int first)
{
    char b[AE_SHAPE_STR], c[AE_SHAPE_STR], at[AE_POS_STR];
    int d = ae_dim_index(dim, a->ndim), ndim = index->ndim;
    const int64_t *shape = index->shape;
    if (d < 0) return ae_fail("gather: dimension %d out of range for shape %s", dim + 1, ae_shape_str(a, b));
    if (ndim != a->ndim)
        return ae_fail("gather: the index has shape %s and the tensor %s: they must have as many dimensions",
                       ae_shape_str(index, c), ae_shape_str(a, b));
    for (int k = 0; k < ndim; k++)
        if (k != d && shape[k] > a->shape[k])
            return ae_fail("gather: the index has shape %s, larger than the tensor's %s in dimension %d",
                           ae_shape_str(index, c), ae_shape_str(a, b), k + 1);
    ae_tensor *ic = ae_contiguous(index);
    if (!ic) return NULL;
    int64_t count = ae_numel(ic), size = a->shape[d];
    size_t bytes = sizeof(gather_state) + (size_t)count * sizeof(int64_t);
    gather_state *s = malloc(bytes);
    if (!s) {
        ae_release(ic);
        return ae_fail("gather: out of memory for an index of %lld elements", (long long)count);
    }
    /* offsets into the contiguous input: the output position's own
     * coordinates in every dimension but d, the index's value in d */
    int64_t stride[AE_MAX_DIMS], pos[AE_MAX_DIMS] = {0}, base = 0, st = 1;
    for (int k = ndim - 1; k >= 0; k--) {
        stride[k] = st;
        st *= a->shape[k];
    }
    const float *iv = ae_data(ic);
    s->count = count;
    for (int64_t i = 0; i < count; i++) {
        double v = (double)iv[i] - first;
        if (!(v >= 0 && v < (double)size && v == (double)(int64_t)v)) {
            double given = isnan(iv[i]) ? NAN : iv[i]; /* "nan", not glibc's "-nan" */
            ae_release(ic);
            free(s);
            return ae_fail("gather: index %g at %s is not a position %d..%lld of dimension %d (shape %s)", given,
                           position_str(ndim, shape, i, at), first, (long long)size - 1 + first, d + 1,
                           ae_shape_str(a, b));
        }
        s->off[i] = base + (int64_t)v * stride[d];
        for (int k = ndim - 1; k >= 0; k--) {
            pos[k]++;
            if (k != d) base += stride[k];
            if (pos[k] < shape[k]) break;
            if (k != d) base -= pos[k] * stride[k];
            pos[k] = 0;
        }
    }
    ae_release(ic);
    ae_tensor *src = ae_contiguous(a);
    ae_tensor *out = src ? ae_empty(ndim, shape) : NULL;
    if (!out) {
        ae_release(src);
        free(s);
        return NULL;
    }
    const float *p = ae_data(src);
    float *q = ae_data(out);
    for (int64_t i = 0; i < count; i++) q[i] = p[s->off[i]];
    ae_release(src);
    ae_tensor *r = ae_record(out, "gather", gather_backward, 1, &a, 0, NULL, s, bytes);
    free(s);
    return r;
}

/* masked_fill and masked_select: the tensor and its mask broadcast
 * together (numpy's rule, as in binary.c); strides into the contiguous
 * copies, 0 along broadcast dimensions */
typedef struct {
    int ndim;
    int64_t shape[AE_MAX_DIMS];
    int64_t sa[AE_MAX_DIMS], sm[AE_MAX_DIMS];
} mask_plan;

static void mask_strides(const ae_tensor *t, const mask_plan *p, int64_t *s)
{
    int64_t st = 1;
    int off = p->ndim - t->ndim;
    for (int d = p->ndim - 1; d >= 0; d--) {
        int td = d - off;
        if (td < 0) {
            s[d] = 0;
            continue;
        }
        s[d] = t->shape[td] == 1 && p->shape[d] != 1 ? 0 : st;
        st *= t->shape[td];
    }
}

/* the plan of a with mask, and mask's contiguous copy once it is checked
 * to hold only 0 and 1 */
static ae_tensor *mask_plan_make(const char *op, ae_tensor *a, ae_tensor *mask, mask_plan *p)
{
    char s1[AE_SHAPE_STR], s2[AE_SHAPE_STR], at[AE_POS_STR];
    int nd = a->ndim > mask->ndim ? a->ndim : mask->ndim;
    p->ndim = nd;
    for (int d = 0; d < nd; d++) {
        int da = d - (nd - a->ndim), dm = d - (nd - mask->ndim);
        int64_t x = da >= 0 ? a->shape[da] : 1, y = dm >= 0 ? mask->shape[dm] : 1;
        if (x != y && x != 1 && y != 1)
            return ae_fail("%s: shapes %s and %s (the mask) cannot be broadcast together (dimension %d: %lld vs %lld)",
                           op, ae_shape_str(a, s1), ae_shape_str(mask, s2), d + 1, (long long)x, (long long)y);
        p->shape[d] = x == 1 ? y : x;
    }
    mask_strides(a, p, p->sa);
    mask_strides(mask, p, p->sm);
    ae_tensor *m = ae_contiguous(mask);
    if (!m) return NULL;
    const float *v = ae_data(m);
    int64_t count = ae_numel(m);
    for (int64_t i = 0; i < count; i++)
        if (v[i] != 0.0f && v[i] != 1.0f) {
            double bad = isnan(v[i]) ? NAN : v[i];
            ae_release(m);
            return ae_fail("%s: the mask holds %g at %s; a mask holds only 0 and 1 (as x:gt(v) and the other "
                           "comparisons give)",
                           op, bad, position_str(mask->ndim, mask->shape, i, at));
        }
    return m;
}

/* steps the offsets into a and the mask to the next element of the plan's
 * shape in row-major order */
typedef struct {
    int64_t pos[AE_MAX_DIMS], oa, om;
} mask_iter;

static void mask_next(const mask_plan *p, mask_iter *it)
{
    for (int d = p->ndim - 1; d >= 0; d--) {
        it->pos[d]++;
        it->oa += p->sa[d];
        it->om += p->sm[d];
        if (it->pos[d] < p->shape[d]) return;
        it->oa -= it->pos[d] * p->sa[d];
        it->om -= it->pos[d] * p->sm[d];
        it->pos[d] = 0;
    }
}

static int64_t plan_numel(const mask_plan *p)
{
    int64_t n = 1;
    for (int d = 0; d < p->ndim; d++) n *= p->shape[d];
    return n;
}

/* masked_fill: the gradient passes where the mask is 0 (summed over the
 * dimensions a was broadcast along) */
static void masked_fill_backward(ae_node *n)
{
    float *g = ae_grad_of(n, 0);
    if (!g) return;
    const mask_plan *p = ae_node_state(n);
    const float *m = ae_data(n->saved[0]), *go = ae_gout(n);
    mask_iter it = {{0}, 0, 0};
    int64_t count = plan_numel(p);
    for (int64_t i = 0; i < count; i++, mask_next(p, &it))
        if (m[it.om] == 0.0f) g[it.oa] += go[i];
}

ae_tensor *ae_masked_fill(ae_tensor *a, ae_tensor *mask, float value)
{
    mask_plan p;
    ae_tensor *m = mask_plan_make("masked_fill", a, mask, &p);
    ae_tensor *src = m ? ae_contiguous(a) : NULL;
    ae_tensor *out = src ? ae_empty(p.ndim, p.shape) : NULL;
    if (!out) {
        ae_release(src);
        ae_release(m);
        return NULL;
    }
    const float *x = ae_data(src), *mv = ae_data(m);
    float *q = ae_data(out);
    mask_iter it = {{0}, 0, 0};
    int64_t count = plan_numel(&p);
    for (int64_t i = 0; i < count; i++, mask_next(&p, &it)) q[i] = mv[it.om] != 0.0f ? value : x[it.oa];
    ae_release(src);
    ae_tensor *r = ae_record(out, "masked_fill", masked_fill_backward, 1, &a, 1, &m, &p, sizeof p);
    ae_release(m);
    return r;
}

/* masked_select: output element k came from the k-th selected position */
static void masked_select_backward(ae_node *n)
{
    float *g = ae_grad_of(n, 0);
    if (!g) return;
    const mask_plan *p = ae_node_state(n);
    const float *m = ae_data(n->saved[0]), *go = ae_gout(n);
    mask_iter it = {{0}, 0, 0};
    int64_t count = plan_numel(p), k = 0;
    for (int64_t i = 0; i < count; i++, mask_next(p, &it))
        if (m[it.om] != 0.0f) g[it.oa] += go[k++];
}

ae_tensor *ae_masked_select(ae_tensor *a, ae_tensor *mask)
{
    mask_plan p;
    ae_tensor *m = mask_plan_make("masked_select", a, mask, &p);
    ae_tensor *src = m ? ae_contiguous(a) : NULL;
    if (!src) {
        ae_release(m);
        return NULL;
    }
    const float *x = ae_data(src), *mv = ae_data(m);
    int64_t count = plan_numel(&p), selected = 0;
    mask_iter it = {{0}, 0, 0};
    for (int64_t i = 0; i < count; i++, mask_next(&p, &it)) selected += mv[it.om] != 0.0f;
    ae_tensor *out = ae_empty(1, &selected);
    if (!out) {
        ae_release(src);
        ae_release(m);
        return NULL;
    }
    float *q = ae_data(out);
    mask_iter jt = {{0}, 0, 0};
    for (int64_t i = 0, k = 0; i < count; i++, mask_next(&p, &jt))
        if (mv[jt.om] != 0.0f) q[k++] = x[jt.oa];
    ae_release(src);
    ae_tensor *r = ae_record(out, "masked_select", masked_select_backward, 1, &a, 1, &m, &p, sizeof p);
    ae_release(m);
    return r;
}
