/* reduce.c: sum and mean over all elements or one dimension.
 * Long sums fold float lanes into double (ae_sumf): a batch loss sums 10^5
 * terms, and plain float accumulation would lose digits the golden tests
 * compare. */
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

#include "core/mathf.h"

/* the factor backward spreads the gradient with (1/count for a mean), and
 * the dimension reduced (reduce_dim) */
typedef struct {
    float scale;
    int dim;
} reduce_state;

/* all elements: out = scale * Σx; backward spreads scale * gout */
static void reduce_all_backward(ae_node *n)
{
    float *g = ae_grad_of(n, 0);
    if (!g) return;
    const reduce_state *s = ae_node_state(n);
    float v = s->scale * ae_gout(n)[0];
    int64_t count = ae_numel(n->inputs[0]);
    for (int64_t i = 0; i < count; i++) g[i] += v;
}

static ae_tensor *reduce_all(ae_tensor *a, int mean)
{
    ae_tensor *x = ae_contiguous(a);
    if (!x) return NULL;
    int64_t count = ae_numel(x);
    double s = ae_sumf(ae_data(x), count);
    double scale = mean ? 1.0 / (double)count : 1.0;
    ae_release(x);
    ae_tensor *out = ae_scalar((float)(s * scale));
    if (!out) return NULL;
    const reduce_state st = {(float)scale, 0};
    return ae_record(out, mean ? "mean" : "sum", reduce_all_backward, 1, &a, 0, NULL, &st, sizeof st);
}

ae_tensor *ae_sum(ae_tensor *a) { return reduce_all(a, 0); }
ae_tensor *ae_mean(ae_tensor *a) { return reduce_all(a, 1); }

/* one dimension: the input is seen as outer × size × inner */
static void split_dims(const ae_tensor *a, int d, int64_t *outer, int64_t *inner)
{
    *outer = 1;
    *inner = 1;
    for (int i = 0; i < d; i++) *outer *= a->shape[i];
    for (int i = d + 1; i < a->ndim; i++) *inner *= a->shape[i];
}

static void reduce_dim_backward(ae_node *n)
{
    float *g = ae_grad_of(n, 0);
    if (!g) return;
    ae_tensor *a = n->inputs[0];
    const reduce_state *s = ae_node_state(n);
    int d = s->dim;
    float scale = s->scale;
    int64_t outer, inner, size = a->shape[d];
    split_dims(a, d, &outer, &inner);
    const float *go = ae_gout(n);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t k = 0; k < size; k++) {
            float *gi = g + (o * size + k) * inner;
            const float *goi = go + o * inner;
            for (int64_t i = 0; i < inner; i++) gi[i] += scale * goi[i];
        }
}

/* dim (0-based, negative from the end) resolved against x, or -1 with an
 * error naming op, the dimension as the script gave it and the shape */
static int checked_dim(const char *op, const ae_tensor *x, int dim)
{
    int d = ae_dim_index(dim, x->ndim);
    if (d < 0) {
        char b[AE_SHAPE_STR];
        ae_fail("%s: dimension %d out of range for shape %s", op, dim >= 0 ? dim + 1 : dim, ae_shape_str(x, b));
    }
    return d;
}

static ae_tensor *reduce_dim(ae_tensor *a, int dim, int keepdim, int mean)
{
    int d = checked_dim(mean ? "mean" : "sum", a, dim);
    if (d < 0) return NULL;
    int64_t shape[AE_MAX_DIMS];
    int nd = 0;
    for (int i = 0; i < a->ndim; i++) {
        if (i != d) shape[nd++] = a->shape[i];
        else if (keepdim) shape[nd++] = 1;
    }
    ae_tensor *x = ae_contiguous(a);
    ae_tensor *out = x ? ae_empty(nd, shape) : NULL;
    if (out) {
        int64_t outer, inner, size = a->shape[d];
        split_dims(a, d, &outer, &inner);
        double scale = mean ? (size ? 1.0 / (double)size : NAN) : 1.0;
        const float *p = ae_data(x);
        float *q = ae_data(out);
        for (int64_t o = 0; o < outer; o++)
            for (int64_t i = 0; i < inner; i++) {
                double s = 0;
                for (int64_t k = 0; k < size; k++) s += p[(o * size + k) * inner + i];
                q[o * inner + i] = (float)(s * scale);
            }
        const reduce_state st = {(float)scale, d};
        out = ae_record(out, mean ? "mean" : "sum", reduce_dim_backward, 1, &a, 0, NULL, &st, sizeof st);
    }
    ae_release(x);
    return out;
}

ae_tensor *ae_sum_dim(ae_tensor *a, int dim, int keepdim) { return reduce_dim(a, dim, keepdim, 0); }
ae_tensor *ae_mean_dim(ae_tensor *a, int dim, int keepdim) { return reduce_dim(a, dim, keepdim, 1); }

/* ------------------------------------------------- max, min, argmax, argmin */

/* the shape of a reduction of a over d (d < 0: over everything) */
static int reduced_shape(const ae_tensor *a, int d, int keepdim, int64_t *shape)
{
    int nd = 0;
    if (d < 0) return 0;
    for (int i = 0; i < a->ndim; i++) {
        if (i != d) shape[nd++] = a->shape[i];
        else if (keepdim) shape[nd++] = 1;
    }
    return nd;
}

/* the position along the reduced dimension of the largest (want_max) or
 * smallest value: the first one on ties, the first NaN when there is one
 * (torch.max/min/argmax/argmin propagate NaN) */
static int64_t extreme_at(const float *p, int64_t k, int64_t stride, int want_max)
{
    int64_t best = 0;
    float bv = p[0];
    for (int64_t j = 1; j < k && bv == bv; j++) {
        float v = p[j * stride];
        if ((want_max ? v > bv : v < bv) || v != v) {
            bv = v;
            best = j;
        }
    }
    return best;
}

/* positions (0-based) of the extremes along d (d < 0: the flat position in
 * the whole tensor); also their values when vals is not NULL */
static ae_tensor *extreme_dim(const char *op, ae_tensor *x, int dim, int all, int keepdim, int want_max,
                              ae_tensor **vals)
{
    char s1[AE_SHAPE_STR];
    int d = -1;
    if (!all) {
        if ((d = checked_dim(op, x, dim)) < 0) return NULL;
        if (x->shape[d] == 0) return ae_fail("%s: dimension %d of %s is empty", op, d + 1, ae_shape_str(x, s1));
    } else if (ae_numel(x) == 0) return ae_fail("%s: empty tensor %s", op, ae_shape_str(x, s1));
    int64_t shape[AE_MAX_DIMS];
    int nd = reduced_shape(x, d, keepdim, shape);
    ae_tensor *cx = ae_contiguous(x);
    ae_tensor *pos = cx ? ae_empty(nd, shape) : NULL;
    ae_tensor *v = pos && vals ? ae_empty(nd, shape) : NULL;
    if (!pos || (vals && !v)) {
        ae_release(cx);
        ae_release(pos);
        return NULL;
    }
    int64_t k = all ? ae_numel(x) : x->shape[d], inner = 1, outer = 1;
    if (!all) split_dims(x, d, &outer, &inner);
    const float *in = ae_data(cx);
    float *o = ae_data(pos), *ov = v ? ae_data(v) : NULL;
    for (int64_t a = 0; a < outer; a++)
        for (int64_t b = 0; b < inner; b++) {
            const float *p = in + a * k * inner + b;
            int64_t j = extreme_at(p, k, inner, want_max);
            o[a * inner + b] = (float)j;
            if (ov) ov[a * inner + b] = p[j * inner];
        }
    ae_release(cx);
    if (vals) *vals = v;
    return pos;
}

ae_tensor *ae_argmax(ae_tensor *x, int dim, int keepdim) { return extreme_dim("argmax", x, dim, 0, keepdim, 1, NULL); }
ae_tensor *ae_argmin(ae_tensor *x, int dim, int keepdim) { return extreme_dim("argmin", x, dim, 0, keepdim, 0, NULL); }
ae_tensor *ae_argmax_all(ae_tensor *x) { return extreme_dim("argmax", x, 0, 1, 0, 1, NULL); }
ae_tensor *ae_argmin_all(ae_tensor *x) { return extreme_dim("argmin", x, 0, 1, 0, 0, NULL); }

/* the gradient goes to the selected element of each slice (the saved
 * positions), as PyTorch's value_selecting_reduction_backward */
static void select_backward(ae_node *n)
{
    float *g = ae_grad_of(n, 0);
    if (!g) return;
    ae_tensor *a = n->inputs[0];
    const int *d = ae_node_state(n);
    int64_t outer, inner, size = a->shape[*d];
    split_dims(a, *d, &outer, &inner);
    const float *go = ae_gout(n), *pos = ae_data(n->saved[0]);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            int64_t j = (int64_t)pos[o * inner + i];
            g[(o * size + j) * inner + i] += go[o * inner + i];
        }
}

static int select_dim(const char *op, ae_tensor *x, int dim, int keepdim, int want_max, ae_tensor **values,
                      ae_tensor **indices)
{
    ae_tensor *v = NULL;
    ae_tensor *pos = extreme_dim(op, x, dim, 0, keepdim, want_max, &v);
    if (!pos) return -1;
    int d = ae_dim_index(dim, x->ndim);
    v = ae_record(v, op, select_backward, 1, &x, 1, &pos, &d, sizeof d);
    if (!v) {
        ae_release(pos);
        return -1;
    }
    *values = v;
    *indices = pos;
    return 0;
}

int ae_max_dim(ae_tensor *x, int dim, int keepdim, ae_tensor **values, ae_tensor **indices)
{
    return select_dim("max", x, dim, keepdim, 1, values, indices);
}

int ae_min_dim(ae_tensor *x, int dim, int keepdim, ae_tensor **values, ae_tensor **indices)
{
    return select_dim("min", x, dim, keepdim, 0, values, indices);
}

/* -------------------------------------------------------------- var, std */

typedef struct {
    int dim;            /* the dimension reduced, -1 for all of them */
    int take_sqrt;      /* std: the output is sqrt(var) */
    int64_t correction; /* divisor N - correction */
} var_state;

/* var: gx = 2/(N - c) · g · (x - mean); std: g/(2·std) first (0 where
 * std is 0), as PyTorch's var_backward and std_backward. Saved: the
 * contiguous input, the means (keepdim shape) and, for std, the output. */
static void var_backward(ae_node *n)
{
    float *g = ae_grad_of(n, 0);
    if (!g) return;
    const var_state *s = ae_node_state(n);
    ae_tensor *a = n->inputs[0];
    int64_t outer = 1, inner = 1, size = ae_numel(a);
    if (s->dim >= 0) {
        split_dims(a, s->dim, &outer, &inner);
        size = a->shape[s->dim];
    }
    int64_t dof = size - s->correction;
    float factor = dof > 0 ? (float)(2.0 / (double)dof) : INFINITY;
    const float *go = ae_gout(n), *x = ae_data(n->saved[0]), *mean = ae_data(n->saved[1]);
    const float *out = s->take_sqrt ? ae_data(n->saved[2]) : NULL;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            int64_t r = o * inner + i;
            float gv = go[r];
            if (out) gv = out[r] == 0 ? 0.0f : gv / (2.0f * out[r]);
            float m = mean[r];
            for (int64_t k = 0; k < size; k++) {
                int64_t at = (o * size + k) * inner + i;
                g[at] += factor * gv * (x[at] - m);
            }
        }
}

/* two passes in double, as ATen 1.13's float32 var/std on the CPU (a mean,
 * then Σ(x - mean)², the sqrt taken in double); N - c <= 0 divides by 0 */
static ae_tensor *var_impl(const char *op, ae_tensor *a, int dim, int all, int keepdim, int64_t correction,
                           int take_sqrt)
{
    int d = -1;
    if (!all && (d = checked_dim(op, a, dim)) < 0) return NULL;
    if (correction < 0) return ae_fail("%s: correction %lld must be 0 or more", op, (long long)correction);
    int64_t shape[AE_MAX_DIMS], mshape[AE_MAX_DIMS];
    int nd = reduced_shape(a, d, keepdim, shape);
    int mnd = reduced_shape(a, d, 1, mshape);
    ae_tensor *x = ae_contiguous(a);
    ae_tensor *out = x ? ae_empty(nd, shape) : NULL;
    ae_tensor *mean = out ? ae_empty(mnd, mshape) : NULL;
    if (!mean) {
        ae_release(x);
        ae_release(out);
        return NULL;
    }
    int64_t outer = 1, inner = 1, size = ae_numel(a);
    if (!all) {
        split_dims(a, d, &outer, &inner);
        size = a->shape[d];
    }
    int64_t dof = size - correction;
    double divisor = dof > 0 ? (double)dof : 0.0;
    const float *p = ae_data(x);
    float *q = ae_data(out), *mq = ae_data(mean);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            double s = 0;
            for (int64_t k = 0; k < size; k++) s += p[(o * size + k) * inner + i];
            double m = s / (double)size, m2 = 0;
            for (int64_t k = 0; k < size; k++) {
                double dx = (double)p[(o * size + k) * inner + i] - m;
                m2 += dx * dx;
            }
            double var = m2 / divisor;
            q[o * inner + i] = (float)(take_sqrt ? sqrt(var) : var);
            mq[o * inner + i] = (float)m;
        }
    const var_state st = {d, take_sqrt, correction};
    ae_tensor *saved[3] = {x, mean, out};
    out = ae_record(out, op, var_backward, 1, &a, take_sqrt ? 3 : 2, saved, &st, sizeof st);
    ae_release(x);
    ae_release(mean);
    return out;
}

ae_tensor *ae_var(ae_tensor *a, int64_t correction) { return var_impl("var", a, 0, 1, 0, correction, 0); }
ae_tensor *ae_std(ae_tensor *a, int64_t correction) { return var_impl("std", a, 0, 1, 0, correction, 1); }
ae_tensor *ae_var_dim(ae_tensor *a, int dim, int keepdim, int64_t correction)
{
    return var_impl("var", a, dim, 0, keepdim, correction, 0);
}
ae_tensor *ae_std_dim(ae_tensor *a, int dim, int keepdim, int64_t correction)
{
    return var_impl("std", a, dim, 0, keepdim, correction, 1);
}
