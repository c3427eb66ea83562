/* ops_loss.c: reconstruction losses, each fused into one op so that the
 * numerically delicate parts (log of 0, exp of large logits) are handled
 * once, here, as PyTorch does. */
#include "autograd.h"
#include "error.h"
#include "ops.h"

#include <math.h>

#include "mathf.h"


static int check_pair(const char *op, ae_tensor *a, ae_tensor *t)
{
    char s1[AE_SHAPE_STR], s2[AE_SHAPE_STR];
    if (!ae_same_shape(a, t))
        return ae_failc("%s: input %s and target %s must have the same shape", op, ae_shape_str(a, s1),
                        ae_shape_str(t, s2));
    return 0;
}

/* output tensor for a reduction: a scalar, or the input's shape */
static ae_tensor *loss_out(ae_tensor *a, ae_reduction r)
{
    return r == AE_REDUCE_NONE ? ae_empty(a->ndim, a->shape) : ae_scalar(0);
}

/* the factor each element's gradient gets from the reduction, and where
 * its upstream gradient comes from */
static float reduce_scale(ae_reduction r, int64_t count)
{
    return r == AE_REDUCE_MEAN ? 1.0f / (float)(count ? count : 1) : 1.0f;
}

static inline float upstream(ae_node *n, int64_t i)
{
    const float *go = ae_gout(n);
    return n->arg[0] == AE_REDUCE_NONE ? go[i] : go[0];
}

/* shared driver: contiguous inputs, per-element losses by the op's kernel
 * (into the output, or a scratch buffer that is then summed), record, save */
typedef void (*elem_kernel)(const float *a, const float *t, float *out, int64_t n);

static ae_tensor *elementwise_loss(const char *op, ae_tensor *a, ae_tensor *t, ae_reduction r,
                                   elem_kernel f, ae_backward_fn backward)
{
    if (check_pair(op, a, t) != 0) return NULL;
    if ((unsigned)r > AE_REDUCE_NONE) return ae_fail("%s: unknown reduction", op);
    ae_tensor *ca = ae_contiguous(a), *ct = ca ? ae_contiguous(t) : NULL;
    ae_tensor *out = ct ? loss_out(a, r) : NULL;
    ae_tensor *scratch = out && r != AE_REDUCE_NONE ? ae_empty(a->ndim, a->shape) : NULL;
    if (out && (scratch || r == AE_REDUCE_NONE)) {
        int64_t count = ae_numel(ca);
        float *per = ae_data(r == AE_REDUCE_NONE ? out : scratch);
        f(ae_data(ca), ae_data(ct), per, count);
        if (r != AE_REDUCE_NONE) ae_data(out)[0] = (float)(ae_sumf(per, count) * reduce_scale(r, count));
        ae_tensor *in[2] = {a, t};
        ae_node *n = ae_record(out, op, backward, 2, in);
        if (n) {
            n->arg[0] = r;
            if (ae_node_save(n, 0, ca) != 0 || ae_node_save(n, 1, ct) != 0) {
                ae_release(out);
                out = NULL;
            }
        }
    } else {
        ae_release(out);
        out = NULL;
    }
    ae_release(scratch);
    ae_release(ca);
    ae_release(ct);
    return out;
}

/* mse: (a - t)² */
static void mse_forward(const float *a, const float *t, float *out, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        float d = a[i] - t[i];
        out[i] = d * d;
    }
}

static void mse_backward(ae_node *n)
{
    const float *a = ae_data(n->saved[0]), *t = ae_data(n->saved[1]);
    float *ga = ae_grad_of(n, 0), *gt = ae_grad_of(n, 1);
    int64_t count = ae_numel(n->saved[0]);
    float scale = 2.0f * reduce_scale((ae_reduction)n->arg[0], count);
    for (int64_t i = 0; i < count; i++) {
        float g = upstream(n, i) * scale * (a[i] - t[i]);
        if (ga) ga[i] += g;
        if (gt) gt[i] -= g;
    }
}

ae_tensor *ae_mse_loss(ae_tensor *input, ae_tensor *target, ae_reduction r)
{
    return elementwise_loss("mse", input, target, r, mse_forward, mse_backward);
}

/* bce on probabilities: logs are clamped at -100 as in PyTorch, so p = 0
 * or 1 gives a large finite loss instead of inf */
static inline double clamped_log(double x)
{
    double l = log(x);
    return l < -100.0 ? -100.0 : l;
}

static void bce_forward(const float *p, const float *t, float *out, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        out[i] = (float)-((double)t[i] * clamped_log(p[i]) +
                          (1.0 - (double)t[i]) * clamped_log(1.0 - (double)p[i]));
}

static void bce_backward(ae_node *n)
{
    const float *p = ae_data(n->saved[0]), *t = ae_data(n->saved[1]);
    float *gp = ae_grad_of(n, 0), *gt = ae_grad_of(n, 1);
    int64_t count = ae_numel(n->saved[0]);
    float scale = reduce_scale((ae_reduction)n->arg[0], count);
    for (int64_t i = 0; i < count; i++) {
        float up = upstream(n, i) * scale;
        if (gp) {
            /* PyTorch's guard: the denominator never drops below 1e-12 */
            float d = (1.0f - p[i]) * p[i];
            gp[i] += up * (p[i] - t[i]) / (d > 1e-12f ? d : 1e-12f);
        }
        if (gt) gt[i] += up * (float)(clamped_log(1.0 - (double)p[i]) - clamped_log(p[i]));
    }
}

ae_tensor *ae_bce_loss(ae_tensor *p, ae_tensor *target, ae_reduction r)
{
    ae_tensor *cp = ae_contiguous(p);
    if (!cp) return NULL;
    const float *v = ae_data(cp);
    int64_t count = ae_numel(cp);
    for (int64_t i = 0; i < count; i++)
        if (!(v[i] >= 0.0f && v[i] <= 1.0f)) {
            float bad = v[i];
            ae_release(cp);
            return ae_fail("bce: input must be probabilities in [0, 1], element %lld is %g "
                           "(use bce_logits for unbounded scores)", (long long)i + 1, bad);
        }
    ae_release(cp);
    return elementwise_loss("bce", p, target, r, bce_forward, bce_backward);
}

/* bce on logits: max(z, 0) - z·t + log(1 + e^-|z|) never overflows */
static void bce_logits_forward(const float *z, const float *t, float *out, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        double zd = z[i];
        out[i] = (float)((zd > 0 ? zd : 0) - zd * t[i] + log1p(exp(-fabs(zd))));
    }
}

static void bce_logits_backward(ae_node *n)
{
    const float *z = ae_data(n->saved[0]), *t = ae_data(n->saved[1]);
    float *gz = ae_grad_of(n, 0), *gt = ae_grad_of(n, 1);
    int64_t count = ae_numel(n->saved[0]);
    float scale = reduce_scale((ae_reduction)n->arg[0], count);
    for (int64_t i = 0; i < count; i++) {
        float up = upstream(n, i) * scale;
        if (gz) gz[i] += up * (ae_sigmoidf(z[i]) - t[i]);
        if (gt) gt[i] -= up * z[i];
    }
}

ae_tensor *ae_bce_logits_loss(ae_tensor *logits, ae_tensor *target, ae_reduction r)
{
    return elementwise_loss("bce_logits", logits, target, r, bce_logits_forward, bce_logits_backward);
}
