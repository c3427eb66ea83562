/* noise.c: input corruption for denoising autoencoders (Vincent et al.'s
 * additive Gaussian, masking and salt-and-pepper noise).  Each kernel
 * fills the output with draws from the runtime RNG first and then combines
 * them with x in a second, branch-free loop that the compiler vectorises.
 * Results are plain data: no graph is recorded and they never require
 * grad, whatever x is (declared in ops_ae.h). */
#include "core/error.h"
#include "kl.h"
#include "reparameterize.h"
#include "penalty.h"
#include "noise.h"
#include "core/rng.h"

#include <math.h>

/* a contiguous copy of x's shape, for the kernel to fill, plus x's values */
static ae_tensor *prepare(ae_tensor *x, ae_tensor **cx)
{
    *cx = ae_contiguous(x);
    if (!*cx) return NULL;
    ae_tensor *out = ae_empty(x->ndim, x->shape);
    if (!out) {
        ae_release(*cx);
        *cx = NULL;
    }
    return out;
}

static int check_probability(const char *op, double p)
{
    if (!(p >= 0 && p <= 1)) return ae_failc("%s: p must be a probability in [0, 1], got %g", op, p);
    return 0;
}

ae_tensor *ae_noise_gaussian(ae_tensor *x, double std, bool clip)
{
    if (!(std >= 0) || isinf(std)) return ae_fail("noise.gaussian: std must be a finite number >= 0, got %g", std);
    ae_tensor *cx, *out = prepare(x, &cx);
    if (!out) return NULL;
    float *o = ae_data(out);
    const float *v = ae_data(cx);
    int64_t n = ae_numel(out);
    ae_rng_fill_normal(o, n, 0.0f, (float)std);
    if (clip)
        for (int64_t i = 0; i < n; i++) {
            float y = v[i] + o[i];
            o[i] = y < 0.0f ? 0.0f : y > 1.0f ? 1.0f : y;
        }
    else
        for (int64_t i = 0; i < n; i++) o[i] += v[i];
    ae_release(cx);
    return out;
}

ae_tensor *ae_noise_masking(ae_tensor *x, double p)
{
    if (check_probability("noise.masking", p) != 0) return NULL;
    ae_tensor *cx, *out = prepare(x, &cx);
    if (!out) return NULL;
    float *o = ae_data(out);
    const float *v = ae_data(cx);
    int64_t n = ae_numel(out);
    /* u is uniform in [0, 1) with 24 bits: u < p has probability p exactly
     * for p on that grid, so p = 0 keeps everything and p = 1 masks all */
    float pf = (float)p;
    ae_rng_fill_uniform(o, n, 0.0f, 1.0f);
    for (int64_t i = 0; i < n; i++) o[i] = o[i] < pf ? 0.0f : v[i];
    ae_release(cx);
    return out;
}

ae_tensor *ae_noise_salt_pepper(ae_tensor *x, double p)
{
    if (check_probability("noise.salt_pepper", p) != 0) return NULL;
    ae_tensor *cx, *out = prepare(x, &cx);
    if (!out) return NULL;
    float *o = ae_data(out);
    const float *v = ae_data(cx);
    int64_t n = ae_numel(out);
    /* one draw per element: u < p/2 is pepper (0), p/2 <= u < p salt (1),
     * so a corrupted element is salt or pepper with equal chance */
    float half = (float)(p * 0.5), pf = (float)p;
    ae_rng_fill_uniform(o, n, 0.0f, 1.0f);
    for (int64_t i = 0; i < n; i++) {
        float u = o[i];
        o[i] = u < half ? 0.0f : u < pf ? 1.0f : v[i];
    }
    ae_release(cx);
    return out;
}
