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

static ae_tensor *reduce_dim(ae_tensor *a, int dim, int keepdim, int mean)
{
    int d = ae_dim_index(dim, a->ndim);
    if (d < 0) {
        char b[AE_SHAPE_STR];
        return ae_fail("%s: dimension %d out of range for shape %s", mean ? "mean" : "sum", dim >= 0 ? dim + 1 : dim,
                       ae_shape_str(a, b));
    }
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
