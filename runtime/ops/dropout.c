/* dropout.c: dropout, forward and backward side by side.
 * The mask is drawn from the runtime RNG, so a seed fixes which units
 * drop.  It is kept as the factor each element was multiplied by (0 or
 * 1/(1 - p)), which makes backward one multiply.  The uniforms are drawn
 * straight into the buffer that becomes the mask (or the output, when no
 * gradient is needed), so dropout allocates nothing beyond its result. */
#include "norm.h"
#include "dropout.h"

#include "core/autograd.h"
#include "core/error.h"
#include "core/rng.h"

/* saved[0] is the mask: ∂x = g·mask */
static void dropout_backward(ae_node *n)
{
    float *gx = ae_grad_of(n, 0);
    if (!gx) return;
    const float *mask = ae_data(n->saved[0]), *go = ae_gout(n);
    int64_t count = ae_numel(n->saved[0]);
    for (int64_t i = 0; i < count; i++) gx[i] += go[i] * mask[i];
}

ae_tensor *ae_dropout(ae_tensor *x, double p, bool training)
{
    if (!(p >= 0 && p <= 1)) return ae_fail("dropout: probability has to be between 0 and 1, but got %g", p);
    if (!training || p == 0) return ae_retain(x);
    ae_tensor *cx = ae_contiguous(x);
    ae_tensor *y = cx ? ae_empty(x->ndim, x->shape) : NULL;
    bool grad = ae_any_requires_grad(1, &x);
    ae_tensor *mask = y && grad ? ae_empty(x->ndim, x->shape) : NULL;
    if (!y || (grad && !mask)) {
        ae_release(cx);
        ae_release(y);
        return NULL;
    }
    int64_t count = ae_numel(cx);
    /* p = 1 drops everything; 1/(1 - p) would be inf and 0·inf NaN.
     * ATen divides the mask by 1 - p taken in double and rounded to float
     * (a Scalar cast to the tensor's type), so the factor is
     * 1.0f / (float)(1 - p), not (float)(1/(1 - p)): 1.1764705 at p = 0.15 */
    float keep_scale = p < 1 ? 1.0f / (float)(1.0 - p) : 0.0f, pf = (float)p;
    const float *px = ae_data(cx);
    float *u = ae_data(mask ? mask : y);
    ae_rng_fill_uniform(u, count, 0.0f, 1.0f);
    /* an element drops when its uniform falls below p: probability p */
    if (mask) {
        float *py = ae_data(y);
        for (int64_t i = 0; i < count; i++) {
            u[i] = u[i] < pf ? 0.0f : keep_scale;
            py[i] = px[i] * u[i];
        }
        y = ae_record(y, "dropout", dropout_backward, 1, &x, 1, &mask, NULL, 0);
    } else {
        for (int64_t i = 0; i < count; i++) u[i] = px[i] * (u[i] < pf ? 0.0f : keep_scale);
    }
    ae_release(mask);
    ae_release(cx);
    return y;
}
