/* reparameterize.c: z = mu + e^(logvar/2)·eps as one fused op, logvar
 * clamped as in kl.c so that a diverging encoder stays finite. */
#include "reparameterize.h"
#include "kl.h"
#include "core/autograd.h"
#include "core/error.h"
#include "core/rng.h"

#include "core/mathf.h"

/* ---------------------------------------------------------- reparameterize
 * z = mu + e^(lv/2)·eps, lv clamped.  saved: logvar, eps. */

static void reparameterize_backward(ae_node *n)
{
    const float *lv = ae_data(n->saved[0]), *e = ae_data(n->saved[1]);
    const float *go = ae_gout(n);
    float *gm = ae_grad_of(n, 0), *gl = ae_grad_of(n, 1);
    float *ge = n->ninputs > 2 ? ae_grad_of(n, 2) : NULL;
    int64_t count = ae_numel(n->saved[0]);
    if (gm)
        for (int64_t i = 0; i < count; i++) gm[i] += go[i];
    /* ∂z/∂lv = 0.5·e^(lv/2)·eps, ∂z/∂eps = e^(lv/2) */
    if (gl)
        for (int64_t i = 0; i < count; i++)
            gl[i] += go[i] * 0.5f * ae_expf(0.5f * ae_clamp_logvar(lv[i])) * e[i] * ae_logvar_passes(lv[i]);
    if (ge)
        for (int64_t i = 0; i < count; i++) ge[i] += go[i] * ae_expf(0.5f * ae_clamp_logvar(lv[i]));
}

ae_tensor *ae_reparameterize(ae_tensor *mu, ae_tensor *logvar, ae_tensor *eps)
{
    const char *op = "reparameterize";
    if (ae_check_same_shape(op, "mu", mu, "logvar", logvar) != 0) return NULL;
    if (eps && ae_check_same_shape(op, "mu", mu, "eps", eps) != 0) return NULL;
    ae_tensor *cm = ae_contiguous(mu), *cl = cm ? ae_contiguous(logvar) : NULL;
    ae_tensor *ce = NULL;
    if (cl) {
        if (eps) {
            ce = ae_contiguous(eps);
        } else {
            ce = ae_empty(mu->ndim, mu->shape);
            if (ce) ae_rng_fill_normal(ae_data(ce), ae_numel(ce), 0.0f, 1.0f);
        }
    }
    ae_tensor *out = ce ? ae_empty(mu->ndim, mu->shape) : NULL;
    if (out) {
        const float *m = ae_data(cm), *l = ae_data(cl), *e = ae_data(ce);
        float *z = ae_data(out);
        int64_t count = ae_numel(out);
        for (int64_t i = 0; i < count; i++) z[i] = m[i] + ae_expf(0.5f * ae_clamp_logvar(l[i])) * e[i];
        ae_tensor *in[3] = {mu, logvar, eps}, *saved[2] = {cl, ce};
        out = ae_record(out, op, reparameterize_backward, eps ? 3 : 2, in, 2, saved, NULL, 0);
    }
    ae_release(cm);
    ae_release(cl);
    ae_release(ce);
    return out;
}
