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

/* One uniform draw u per element: u < pepper becomes 0, pepper <= u < p
 * becomes 1 (salt), the rest keeps x.  u is uniform in [0, 1) with 24 bits: u < p
 * has probability p exactly for p on that grid, so p = 0 keeps everything
 * and p = 1 corrupts all. */
static ae_tensor *salt_and_pepper(const char *op, ae_tensor *x, double p, double pepper)
{
    if (check_probability(op, p) != 0) return NULL;
    ae_tensor *cx, *out = prepare(x, &cx);
    if (!out) return NULL;
    float *o = ae_data(out);
    const float *v = ae_data(cx);
    int64_t n = ae_numel(out);
    float low = (float)pepper, pf = (float)p;
    ae_rng_fill_uniform(o, n, 0.0f, 1.0f);
    if (low >= pf) /* no salt (masking): one select is a twentieth faster */
        for (int64_t i = 0; i < n; i++) o[i] = o[i] < low ? 0.0f : v[i];
    else
        for (int64_t i = 0; i < n; i++) {
            float u = o[i];
            o[i] = u < low ? 0.0f : u < pf ? 1.0f : v[i];
        }
    ae_release(cx);
    return out;
}

/* masking noise: all of the corrupted elements are pepper (0) */
ae_tensor *ae_noise_masking(ae_tensor *x, double p) { return salt_and_pepper("noise.masking", x, p, p); }

/* a corrupted element is salt or pepper with equal chance */
ae_tensor *ae_noise_salt_pepper(ae_tensor *x, double p) { return salt_and_pepper("noise.salt_pepper", x, p, p * 0.5); }
