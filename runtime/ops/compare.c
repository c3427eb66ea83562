/* compare.c: elementwise comparisons with a number, giving 1.0 where
 * they hold and 0.0 elsewhere.  Not differentiable (a step function has no
 * useful gradient), so nothing is recorded: masks and counts for metrics. */
#include "core/error.h"
#include "shape.h"
#include "binary.h"
#include "unary.h"
#include "compare.h"
#include "reduce.h"
#include "matmul.h"
#include "loss.h"

ae_tensor *ae_compare(ae_tensor *a, ae_cmp op, float v)
{
    ae_tensor *x = ae_contiguous(a);
    ae_tensor *y = x ? ae_empty(a->ndim, a->shape) : NULL;
    if (y) {
        const float *p = ae_data(x);
        float *q = ae_data(y);
        int64_t n = ae_numel(y);
        switch (op) {
        case AE_LT:
            for (int64_t i = 0; i < n; i++) q[i] = p[i] < v ? 1.0f : 0.0f;
            break;
        case AE_LE:
            for (int64_t i = 0; i < n; i++) q[i] = p[i] <= v ? 1.0f : 0.0f;
            break;
        case AE_GT:
            for (int64_t i = 0; i < n; i++) q[i] = p[i] > v ? 1.0f : 0.0f;
            break;
        case AE_GE:
            for (int64_t i = 0; i < n; i++) q[i] = p[i] >= v ? 1.0f : 0.0f;
            break;
        case AE_EQ:
            for (int64_t i = 0; i < n; i++) q[i] = p[i] == v ? 1.0f : 0.0f;
            break;
        case AE_NE:
            for (int64_t i = 0; i < n; i++) q[i] = p[i] != v ? 1.0f : 0.0f;
            break;
        }
    }
    ae_release(x);
    return y;
}
