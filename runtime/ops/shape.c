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

#include <stdint.h>
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

/* transpose: the gradient is the output gradient with the two dims swapped */
typedef struct {
    int d0, d1;
} transpose_state;

static void transpose_backward(ae_node *n)
{
    float *g = ae_grad_of(n, 0);
    if (!g) return;
    const transpose_state *s = ae_node_state(n);
    ae_tensor *gt = ae_view_transpose(n->gout, s->d0, s->d1);
    ae_tensor *c = gt ? ae_contiguous(gt) : NULL;
    if (c) {
        const float *src = ae_data(c);
        int64_t count = ae_numel(c);
        for (int64_t i = 0; i < count; i++) g[i] += src[i];
    }
    ae_release(c);
    ae_release(gt);
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
