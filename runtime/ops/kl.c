/* kl.c: the VAE's KL term and the sparse autoencoder's KL sparsity
 * penalty.  Each is one fused op: the guards that
 * keep them finite (logvar clamped to [AE_LOGVAR_MIN, AE_LOGVAR_MAX], rho_hat
 * clamped away from 0 and 1) live here once, and a VAE step records two
 * nodes instead of the dozen a composition of elementwise ops would. */
#include "core/autograd.h"
#include "core/error.h"
#include "kl.h"
#include "reparameterize.h"
#include "penalty.h"
#include "noise.h"
#include "core/rng.h"

#include <math.h>

#include "core/mathf.h"

/* both ops' state: the reduction and the number of samples */
typedef struct {
    ae_reduction r;
    int64_t rows;
} kl_state;

/* ---------------------------------------------------------------- kl.normal
 * Per sample i: KL_i = -0.5·Σ_j (1 + lv_ij - mu_ij² - e^lv_ij), lv clamped.
 * saved: mu, logvar. */

static void kl_normal_backward(ae_node *n)
{
    const float *mu = ae_data(n->saved[0]), *lv = ae_data(n->saved[1]);
    float *gm = ae_grad_of(n, 0), *gl = ae_grad_of(n, 1);
    const float *go = ae_gout(n);
    const kl_state *s = ae_node_state(n);
    ae_reduction r = s->r;
    int64_t rows = s->rows;
    int64_t d = rows ? ae_numel(n->saved[0]) / rows : 0;
    float scale = r == AE_REDUCE_MEAN ? 1.0f / (float)rows : 1.0f;
    for (int64_t i = 0; i < rows; i++) {
        float up = (r == AE_REDUCE_NONE ? go[i] : go[0]) * scale;
        const float *m = mu + i * d, *l = lv + i * d;
        if (gm)
            for (int64_t j = 0; j < d; j++) gm[i * d + j] += up * m[j];
        /* ∂KL/∂lv = 0.5·(e^lv - 1) */
        if (gl)
            for (int64_t j = 0; j < d; j++)
                gl[i * d + j] += up * 0.5f * (ae_expf(ae_clamp_logvar(l[j])) - 1.0f) * ae_logvar_passes(l[j]);
    }
}

ae_tensor *ae_kl_normal(ae_tensor *mu, ae_tensor *logvar, ae_reduction r)
{
    const char *op = "kl.normal";
    char s[AE_SHAPE_STR];
    if (ae_check_same_shape(op, "mu", mu, "logvar", logvar) != 0) return NULL;
    if ((unsigned)r > AE_REDUCE_NONE) return ae_fail("%s: unknown reduction", op);
    if (mu->ndim < 1)
        return ae_fail("%s: mu must have a latent dimension (batch × latent), got shape %s", op, ae_shape_str(mu, s));
    int64_t rows = 1;
    for (int k = 0; k < mu->ndim - 1; k++) rows *= mu->shape[k];
    int64_t d = mu->shape[mu->ndim - 1];
    if (r == AE_REDUCE_MEAN && rows == 0) return ae_fail("%s: the mean over an empty batch", op);

    ae_tensor *cm = ae_contiguous(mu), *cl = cm ? ae_contiguous(logvar) : NULL;
    ae_tensor *out = !cl ? NULL : r == AE_REDUCE_NONE ? ae_empty(mu->ndim - 1, mu->shape) : ae_scalar(0);
    if (out) {
        const float *m = ae_data(cm), *l = ae_data(cl);
        float *o = ae_data(out);
        double total = 0;
        for (int64_t i = 0; i < rows; i++) {
            float acc = 0; /* D is the latent size: tens of terms */
            for (int64_t j = 0; j < d; j++) {
                float lv = ae_clamp_logvar(l[i * d + j]), mj = m[i * d + j];
                acc += 1.0f + lv - mj * mj - ae_expf(lv);
            }
            float kl = -0.5f * acc;
            if (r == AE_REDUCE_NONE) o[i] = kl;
            else total += kl;
        }
        if (r != AE_REDUCE_NONE) o[0] = (float)(r == AE_REDUCE_MEAN ? total / (double)rows : total);
        ae_tensor *in[2] = {mu, logvar}, *saved[2] = {cm, cl};
        const kl_state s = {r, rows};
        out = ae_record(out, op, kl_normal_backward, 2, in, 2, saved, &s, sizeof s);
    }
    ae_release(cm);
    ae_release(cl);
    return out;
}

/* ------------------------------------------------------------- kl.sparsity
 * KL_j = rho·log(rho/q_j) + (1-rho)·log((1-rho)/(1-q_j)), q_j = rho_hat_j
 * clamped.  The forward saves ∂KL_j/∂rho_hat_j (one float per unit, zero
 * where the clamp is active) rather than h, so backward needs neither h nor
 * scratch memory: ∂/∂h_ij = up_j·d_j/N. */

/* the bounds as float32, as a PyTorch script clamping a float tensor has
 * them: 1 - 1e-6 in double, then rounded to 0.999998987, which moves a
 * saturated unit's term by 1% (1.0f - 1e-6f happens to round the same) */
#define RHO_HAT_MIN 1e-6f
#define RHO_HAT_MAX ((float)(1.0 - 1e-6))

static void kl_sparsity_backward(ae_node *n)
{
    float *gh = ae_grad_of(n, 0);
    if (!gh) return;
    const float *d = ae_data(n->saved[0]), *go = ae_gout(n);
    const kl_state *s = ae_node_state(n);
    ae_reduction r = s->r;
    int64_t rows = s->rows, units = ae_numel(n->saved[0]);
    float scale = (r == AE_REDUCE_MEAN ? 1.0f / (float)units : 1.0f) / (float)rows;
    for (int64_t i = 0; i < rows; i++) {
        float *g = gh + i * units;
        if (r == AE_REDUCE_NONE)
            for (int64_t j = 0; j < units; j++) g[j] += scale * go[j] * d[j];
        else
            for (int64_t j = 0; j < units; j++) g[j] += scale * go[0] * d[j];
    }
}

ae_tensor *ae_kl_sparsity(ae_tensor *h, double rho, ae_reduction r)
{
    const char *op = "kl.sparsity";
    char s[AE_SHAPE_STR];
    if ((unsigned)r > AE_REDUCE_NONE) return ae_fail("%s: unknown reduction", op);
    if (!(rho > 0 && rho < 1)) return ae_fail("%s: rho must be in (0, 1), got %g", op, rho);
    if (h->ndim < 2 || h->shape[0] < 1)
        return ae_fail("%s: h must be batch × units with a non-empty batch, got shape %s", op, ae_shape_str(h, s));
    int64_t rows = h->shape[0], units = ae_numel(h) / rows;
    if (r == AE_REDUCE_MEAN && units == 0) return ae_fail("%s: the mean over zero units", op);
    ae_tensor *ch = ae_contiguous(h);
    if (!ch) return NULL;
    const float *x = ae_data(ch);
    int64_t count = rows * units;
    for (int64_t i = 0; i < count; i++)
        if (!(x[i] >= 0.0f && x[i] <= 1.0f)) {
            float bad = x[i];
            ae_release(ch);
            return ae_fail("%s: h must hold activations in [0, 1] (sigmoid units), element %lld is %g", op,
                           (long long)i + 1, bad);
        }

    ae_tensor *deriv = ae_empty(h->ndim - 1, h->shape + 1);
    ae_tensor *out = !deriv ? NULL : r == AE_REDUCE_NONE ? ae_empty(h->ndim - 1, h->shape + 1) : ae_scalar(0);
    if (out) {
        /* column sums in float, accumulated row by row so the loop over
         * units vectorises; deriv is the accumulator until it is replaced */
        float *col = ae_data(deriv), *o = ae_data(out);
        for (int64_t j = 0; j < units; j++) col[j] = 0;
        for (int64_t i = 0; i < rows; i++)
            for (int64_t j = 0; j < units; j++) col[j] += x[i * units + j];
        double total = 0;
        for (int64_t j = 0; j < units; j++) {
            float q = (float)((double)col[j] / (double)rows);
            double qc = q < RHO_HAT_MIN ? RHO_HAT_MIN : q > RHO_HAT_MAX ? RHO_HAT_MAX : q;
            double kl = rho * log(rho / qc) + (1 - rho) * log((1 - rho) / (1 - qc));
            if (r == AE_REDUCE_NONE) o[j] = (float)kl;
            else total += kl;
            col[j] = (q >= RHO_HAT_MIN && q <= RHO_HAT_MAX) ? (float)(-rho / qc + (1 - rho) / (1 - qc)) : 0.0f;
        }
        if (r != AE_REDUCE_NONE) o[0] = (float)(r == AE_REDUCE_MEAN ? total / (double)units : total);
        const kl_state s = {r, rows};
        out = ae_record(out, op, kl_sparsity_backward, 1, &h, 1, &deriv, &s, sizeof s);
    }
    ae_release(deriv);
    ae_release(ch);
    return out;
}
