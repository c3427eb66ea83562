/* norm.c: batch normalisation (BatchNorm1d and BatchNorm2d), forward
 * and backward side by side.
 *
 * The input is seen as N × C × S, S the product of the sizes after the
 * channel (1 for N×C).  Each kernel comes in two shapes because the
 * channel's elements lie differently: with S = 1 (a BatchNorm1d after a
 * Linear) a channel is a strided column, so the loops run across the
 * channels of one row and vectorise over C; with S > 1 a channel is N
 * contiguous rows of S, and the loops run along them.  The batch
 * statistics are summed as ATen 1.13 sums them on one thread (in double,
 * in order, for S > 1; in float by rows for S = 1; see block_stats), so
 * that the running statistics are PyTorch's to the bit; the backward's
 * sums are carried in double: a channel of a 128×16×14×14 batch sums
 * 25,088 terms, where float accumulation would lose the digits the golden
 * tests compare. */
#include "norm.h"

#include <math.h>

#include "core/autograd.h"
#include "core/error.h"
#include "core/mathf.h"

typedef struct {
    int64_t n, c, s;
} bn_dims;

/* a·b rounded on its own (as optim.c's mul_rounded): written a * b, the
 * -ffp-contract=fast build would fuse it into the add that follows */
static float neg_zero(void)
{
    static volatile const float z = -0.0f;
    return z;
}

/* Σ g·(x - μ) along a row, in float lanes folded into double per block,
 * as ae_sumf does */
static double row_dot_dev(const float *g, const float *x, int64_t n, float m)
{
    double total = 0;
    for (int64_t i = 0; i < n;) {
        int64_t end = n - i > 4096 ? i + 4096 : n;
        float acc[16] = {0};
        for (; i + 16 <= end; i += 16)
            for (int j = 0; j < 16; j++) acc[j] += g[i + j] * (x[i + j] - m);
        double block = 0;
        for (; i < end; i++) block += (double)g[i] * (x[i] - m);
        for (int j = 0; j < 16; j++) block += acc[j];
        total += block;
    }
    return total;
}

/* Channels are processed in blocks of BN_BLOCK, so the per-channel
 * numbers live on the stack (no allocation in forward or backward) and,
 * for S = 1, a row's slice of the block is a short contiguous run that the
 * loops vectorise over. */
#define BN_BLOCK 64

/* the batch mean and biased variance of channels c0 .. c0+nb-1, two
 * passes (the one-pass E[x²] - E[x]² cancels badly when the mean is large),
 * summed as ATen 1.13's CPU kernels do on one thread: with S > 1 (the
 * contiguous kernel) one double sum per channel in order, of x and of the
 * float (x - μ)², each total rounded to float; with S = 1 (its
 * channels-last kernel) float sums in row order, the squares fused.  var
 * is float(Σ(x - μ)²) / count in double, from which update_running gets
 * the float sum back exactly. */
static void block_stats(const float *x, bn_dims d, int64_t c0, int nb, float *mean, double *var)
{
    double count = (double)(d.n * d.s), acc[BN_BLOCK] = {0};
    if (d.s == 1) {
        for (int64_t i = 0; i < d.n; i++) {
            const float *r = x + i * d.c + c0;
            for (int j = 0; j < nb; j++) acc[j] = (float)acc[j] + r[j];
        }
    } else {
        for (int j = 0; j < nb; j++)
            for (int64_t i = 0; i < d.n; i++)
                for (int64_t k = 0; k < d.s; k++) acc[j] += x[(i * d.c + c0 + j) * d.s + k];
    }
    for (int j = 0; j < nb; j++) {
        mean[j] = (float)(acc[j] / count);
        acc[j] = 0;
    }
    if (d.s == 1) {
        for (int64_t i = 0; i < d.n; i++) {
            const float *r = x + i * d.c + c0;
            for (int j = 0; j < nb; j++) {
                float dv = r[j] - mean[j];
                acc[j] = fmaf(dv, dv, (float)acc[j]);
            }
        }
    } else {
        float nz = neg_zero();
        for (int j = 0; j < nb; j++)
            for (int64_t i = 0; i < d.n; i++)
                for (int64_t k = 0; k < d.s; k++) {
                    float dv = x[(i * d.c + c0 + j) * d.s + k] - mean[j];
                    acc[j] += fmaf(dv, dv, nz);
                }
    }
    for (int j = 0; j < nb; j++) var[j] = (double)(float)acc[j] / count;
}

/* y = (x - μ)·scale + bias per channel.  PyTorch folds μ into the shift
 * (x·scale + shift), which cancels when |μ| is much larger than σ: at
 * μ = 1000, σ = 0.01 that loses the result's third digit.  Subtracting
 * first costs nothing in a loop bound by memory. */
static void block_affine(const float *x, float *y, bn_dims d, int64_t c0, int nb, const float *mean, const float *scale,
                         const float *bias)
{
    if (d.s == 1) {
        for (int64_t i = 0; i < d.n; i++) {
            const float *r = x + i * d.c + c0;
            float *o = y + i * d.c + c0;
            for (int j = 0; j < nb; j++) o[j] = (r[j] - mean[j]) * scale[j] + bias[j];
        }
        return;
    }
    for (int64_t i = 0; i < d.n; i++)
        for (int j = 0; j < nb; j++) {
            int64_t at = (i * d.c + c0 + j) * d.s;
            const float *r = x + at;
            float *o = y + at;
            float m = mean[j], a = scale[j], b = bias[j];
            for (int64_t k = 0; k < d.s; k++) o[k] = (r[k] - m) * a + b;
        }
}

static bn_dims dims_of(const ae_tensor *x)
{
    bn_dims d = {x->shape[0], x->shape[1], 1};
    for (int i = 2; i < x->ndim; i++) d.s *= x->shape[i];
    return d;
}

/* Σg and Σg·(x - μ) of each channel of the block */
static void block_grad_sums(const float *go, const float *x, bn_dims d, int64_t c0, int nb, const float *mean,
                            double *sg, double *sgd)
{
    for (int j = 0; j < nb; j++) sg[j] = sgd[j] = 0;
    if (d.s == 1) {
        for (int64_t i = 0; i < d.n; i++) {
            const float *g = go + i * d.c + c0, *r = x + i * d.c + c0;
            for (int j = 0; j < nb; j++) {
                sg[j] += g[j];
                sgd[j] += (double)(g[j] * (r[j] - mean[j]));
            }
        }
        return;
    }
    for (int j = 0; j < nb; j++)
        for (int64_t i = 0; i < d.n; i++) {
            int64_t at = (i * d.c + c0 + j) * d.s;
            sg[j] += ae_sumf(go + at, d.s);
            sgd[j] += row_dot_dev(go + at, x + at, d.s, mean[j]);
        }
}

/* gx += a·g - k·(x - μ) + b over the block */
static void block_grad_x(float *gx, const float *go, const float *x, bn_dims d, int64_t c0, int nb, const float *mean,
                         const float *a, const float *k, const float *b)
{
    if (d.s == 1) {
        for (int64_t i = 0; i < d.n; i++) {
            const float *g = go + i * d.c + c0, *r = x + i * d.c + c0;
            float *o = gx + i * d.c + c0;
            for (int j = 0; j < nb; j++) o[j] += a[j] * g[j] - k[j] * (r[j] - mean[j]) + b[j];
        }
        return;
    }
    for (int64_t i = 0; i < d.n; i++)
        for (int j = 0; j < nb; j++) {
            int64_t at = (i * d.c + c0 + j) * d.s;
            const float *g = go + at, *r = x + at;
            float *o = gx + at;
            float aj = a[j], kj = k[j], bj = b[j], m = mean[j];
            for (int64_t e = 0; e < d.s; e++) o[e] += aj * g[e] - kj * (r[e] - m) + bj;
        }
}

/* With x̂ = (x - μ)·σ⁻¹ and y = w·x̂ + b:
 *   ∂b = Σ g,   ∂w = Σ g·x̂,
 *   ∂x = w·σ⁻¹·(g - Σg/M - x̂·Σ(g·x̂)/M)   through the batch statistics,
 *   ∂x = w·σ⁻¹·g                            through fixed running ones.
 * Saved: 0 the contiguous input, 1 the weight (when given), 2 μ, 3 σ⁻¹;
 * the state says whether μ and σ came from the batch. */
static void batch_norm_backward(ae_node *n)
{
    ae_tensor *x = n->saved[0];
    bn_dims d = dims_of(x);
    const float *px = ae_data(x), *go = ae_gout(n);
    const float *w = n->saved[1] ? ae_data(n->saved[1]) : NULL;
    const float *mean = ae_data(n->saved[2]), *invstd = ae_data(n->saved[3]);
    const bool *from_batch = ae_node_state(n);
    bool batch = *from_batch;
    float *gx = ae_grad_of(n, 0), *gw = ae_grad_of(n, 1), *gb = ae_grad_of(n, 2);
    bool need_sums = gw || gb || (gx && batch);
    double count = (double)(d.n * d.s);
    for (int64_t c0 = 0; c0 < d.c; c0 += BN_BLOCK) {
        int nb = d.c - c0 < BN_BLOCK ? (int)(d.c - c0) : BN_BLOCK;
        double sg[BN_BLOCK] = {0}, sgd[BN_BLOCK] = {0};
        if (need_sums) block_grad_sums(go, px, d, c0, nb, mean + c0, sg, sgd);
        for (int j = 0; j < nb; j++) {
            if (gb) gb[c0 + j] += (float)sg[j];
            if (gw) gw[c0 + j] += (float)(sgd[j] * invstd[c0 + j]);
        }
        if (!gx) continue;
        float a[BN_BLOCK], k[BN_BLOCK], b[BN_BLOCK];
        for (int j = 0; j < nb; j++) {
            double is = invstd[c0 + j], aj = (w ? w[c0 + j] : 1.0) * is;
            a[j] = (float)aj;
            k[j] = batch ? (float)(aj * is * is * sgd[j] / count) : 0.0f;
            b[j] = batch ? (float)(-aj * sg[j] / count) : 0.0f;
        }
        block_grad_x(gx, go, px, d, c0, nb, mean + c0, a, k, b);
    }
}

/* a per-channel tensor must be 1-D with C elements; running statistics are
 * also written in place, so they must be contiguous */
static int check_channel(const char *what, ae_tensor *t, const ae_tensor *x, bool written)
{
    char s1[AE_SHAPE_STR], s2[AE_SHAPE_STR];
    if (!t) return 0;
    if (t->ndim != 1 || t->shape[0] != x->shape[1])
        return ae_failc("batch_norm: %s has shape %s but input %s has %lld channels (dimension 2)", what,
                        ae_shape_str(t, s1), ae_shape_str(x, s2), (long long)x->shape[1]);
    if (written && !ae_is_contiguous(t))
        return ae_failc("batch_norm: %s must be contiguous, it is updated in place", what);
    return 0;
}

static int check_args(ae_tensor *x, ae_tensor *weight, ae_tensor *bias, ae_tensor *rm, ae_tensor *rv, bool batch,
                      double eps)
{
    char s[AE_SHAPE_STR];
    if (x->ndim < 2)
        return ae_failc("batch_norm: expected an input of 2 or more dimensions (N×C, N×C×L or "
                        "N×C×H×W), got %s",
                        ae_shape_str(x, s));
    if (!rm != !rv) return ae_failc("batch_norm: running_mean and running_var must be given together");
    if (check_channel("weight", weight, x, false) || check_channel("bias", bias, x, false) ||
        check_channel("running_mean", rm, x, true) || check_channel("running_var", rv, x, true))
        return -1;
    if (!(eps >= 0)) return ae_failc("batch_norm: eps must be a non-negative number, got %g", eps);
    bn_dims d = dims_of(x);
    if (batch && d.n * d.s <= 1)
        return ae_failc("batch_norm: expected more than 1 value per channel when training, "
                        "got input of shape %s",
                        ae_shape_str(x, s));
    return 0;
}

/* the running update of the block as ATen 1.13's
 * batch_norm_cpu_update_stats_template does it (checked bit for bit):
 * momentum as a float m, rm = m·μ + (1 - m)·rm in float with both products
 * rounded; the unbiased variance float(Σ(x - μ)²) / float(count - 1) in
 * float, and rv = m·var_u + (1 - m)·rv with that sum in double (var_u is
 * a double there) and (1 - m)·rv a float product */
static void update_running(float *rm, float *rv, const float *mean, const double *var, int nb, double count,
                           double momentum)
{
    float m = (float)momentum, keep = 1.0f - m, nz = neg_zero();
    for (int j = 0; j < nb; j++) {
        rm[j] = fmaf(m, mean[j], nz) + fmaf(keep, rm[j], nz);
        float var_u = (float)(var[j] * count) / (float)(count - 1);
        rv[j] = (float)((double)m * var_u + (double)fmaf(keep, rv[j], nz));
    }
}

ae_tensor *ae_batch_norm(ae_tensor *x, ae_tensor *weight, ae_tensor *bias, ae_tensor *running_mean,
                         ae_tensor *running_var, bool training, double momentum, double eps)
{
    /* without running statistics there is nothing else to normalise by,
     * so evaluation uses the batch too (PyTorch's track_running_stats=False) */
    bool batch = training || !running_mean;
    if (check_args(x, weight, bias, running_mean, running_var, batch, eps) != 0) return NULL;
    bn_dims d = dims_of(x);
    int64_t cshape[1] = {d.c};
    ae_tensor *cx = ae_contiguous(x), *cw = cx && weight ? ae_contiguous(weight) : NULL;
    ae_tensor *cb = cx && bias ? ae_contiguous(bias) : NULL;
    ae_tensor *mean = ae_empty(1, cshape), *invstd = mean ? ae_empty(1, cshape) : NULL;
    ae_tensor *y = invstd ? ae_empty(x->ndim, x->shape) : NULL;
    if (!cx || (weight && !cw) || (bias && !cb) || !y) {
        ae_release(y);
        y = NULL;
        goto done;
    }
    const float *px = ae_data(cx), *w = cw ? ae_data(cw) : NULL, *b = cb ? ae_data(cb) : NULL;
    float *pm = ae_data(mean), *pi = ae_data(invstd);
    for (int64_t c0 = 0; c0 < d.c; c0 += BN_BLOCK) {
        int nb = d.c - c0 < BN_BLOCK ? (int)(d.c - c0) : BN_BLOCK;
        double var[BN_BLOCK];
        float scale[BN_BLOCK], beta[BN_BLOCK];
        if (batch) {
            block_stats(px, d, c0, nb, pm + c0, var);
            if (running_mean)
                update_running(ae_data(running_mean) + c0, ae_data(running_var) + c0, pm + c0, var, nb,
                               (double)(d.n * d.s), momentum);
        } else {
            const float *rm = ae_data(running_mean) + c0, *rv = ae_data(running_var) + c0;
            for (int j = 0; j < nb; j++) {
                pm[c0 + j] = rm[j];
                var[j] = rv[j];
            }
        }
        for (int j = 0; j < nb; j++) {
            int64_t c = c0 + j;
            /* ATen's invstd: in training 1/sqrt(float variance + eps) in
             * double, in eval 1/sqrt(running_var + (float)eps) in float;
             * the scale invstd·w a float product */
            double is = batch ? 1.0 / sqrt((double)(float)var[j] + eps) : 1.0f / sqrtf((float)var[j] + (float)eps);
            double a = (w ? w[c] : 1.0) * (float)is;
            pi[c] = (float)is;
            scale[j] = (float)a;
            beta[j] = b ? b[c] : 0.0f;
        }
        block_affine(px, ae_data(y), d, c0, nb, pm + c0, scale, beta);
    }
    ae_tensor *in[3] = {x, weight, bias}, *saved[4] = {cx, cw, mean, invstd};
    y = ae_record(y, "batch_norm", batch_norm_backward, 3, in, 4, saved, &batch, sizeof batch);
done:
    ae_release(cx);
    ae_release(cw);
    ae_release(cb);
    ae_release(mean);
    ae_release(invstd);
    return y;
}
