/* optim.c: see optim.h */
#include "optim.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>

#include "core/parallel.h"

/* PyTorch's constants are Python floats (double): 1 - dampening, 1 - beta
 * and 1 - alpha are taken in double and only then rounded to float, as
 * ATen casts a Scalar to the tensor's type; (1 - (float)b) is not the same
 * number (1 - 0.999f = 0.00099998713).  ATen's CPU kernels for add(x, y,
 * alpha) and addcmul compute with one rounded fused multiply-add
 * (vec::fmadd, and gcc contracts the scalar tail alike), so these loops
 * call fmaf where ATen fuses and keep every other product and quotient in
 * ATen's order. */

/* a·b rounded on its own, where ATen's separate mul_ rounds it before an
 * add: written a * b, the -ffp-contract=fast build would fuse it into that
 * add.  fmaf(a, b, -0) is a·b exactly (x + -0 = x for every x, zeros'
 * signs included) and stays one rounding; the -0 comes from neg_zero(),
 * which the compiler cannot see through, because clang folds a literal one
 * back into a * b (and clang's -ffp-contract=fast ignores pragmas). */
static float neg_zero(void)
{
    static volatile const float z = -0.0f;
    return z;
}
static inline float mul_rounded(float a, float b, float nz) { return fmaf(a, b, nz); }

/* _single_tensor_sgd: d = g + wd·p; buf = buf·μ + (1 - dampening)·d;
 * Nesterov d = d + μ·buf; p = p + (-lr)·d */
void ae_sgd_step(float *p, const float *g, float *buf, int64_t n, const ae_sgd_config *c, bool first_step)
{
    float neg_lr = (float)-c->lr, mom = (float)c->momentum, wd = (float)c->weight_decay;
    float one_minus_damp = (float)(1.0 - c->dampening);
    bool decay = c->weight_decay != 0, use_buf = c->momentum != 0;
    for (int64_t i = 0; i < n; i++) {
        float d = decay ? fmaf(p[i], wd, g[i]) : g[i];
        if (use_buf) {
            float b = first_step ? d : fmaf(one_minus_damp, d, buf[i] * mom);
            buf[i] = b;
            d = c->nesterov ? fmaf(b, mom, d) : b;
        }
        p[i] = fmaf(d, neg_lr, p[i]);
    }
}

/* _single_tensor_adam(w) of PyTorch 1.13 (not 2.x's lerp), one op at a time:
 *   AdamW  p = p·(1 - lr·wd)                  mul_, the factor in double
 *   Adam   g = g + wd·p                       add(alpha=wd): fused
 *          m = m·β1, then m + (1 - β1)·g       mul_, add_(alpha): fused
 *          v = v·β2, then v + ((1 - β2)·g)·g   mul_, addcmul_: the last fused
 *          d = sqrt(v) / sqrt(bc2) + eps      sqrt(bc2) in double, then float
 *          p = p + ((-lr/bc1)·m) / d           addcdiv_: product, then quotient
 * Checked bit for bit against torch, vector body and scalar tail alike. */
void ae_adam_step(float *p, const float *g, float *m, float *v, int64_t n, const ae_adam_config *c, int64_t step)
{
    float b1 = (float)c->beta1, b2 = (float)c->beta2, eps = (float)c->eps, wd = (float)c->weight_decay;
    float one_minus_b1 = (float)(1.0 - c->beta1), one_minus_b2 = (float)(1.0 - c->beta2);
    double bc1 = 1.0 - pow(c->beta1, (double)step);
    double bc2 = 1.0 - pow(c->beta2, (double)step);
    float neg_step_size = (float)-(c->lr / bc1);
    float bc2_sqrt = (float)sqrt(bc2);
    float decay = (float)(1.0 - c->lr * c->weight_decay);
    bool l2 = !c->decoupled && c->weight_decay != 0;
    float nz = neg_zero();
    for (int64_t i = 0; i < n; i++) {
        float pi = c->decoupled ? mul_rounded(p[i], decay, nz) : p[i];
        float gi = l2 ? fmaf(pi, wd, g[i]) : g[i];
        float mi = fmaf(one_minus_b1, gi, m[i] * b1);
        float vi = fmaf(one_minus_b2 * gi, gi, v[i] * b2);
        m[i] = mi;
        v[i] = vi;
        float denom = sqrtf(vi) / bc2_sqrt + eps;
        p[i] = pi + (neg_step_size * mi) / denom;
    }
}

/* Adam is a pass over memory (seven floats moved per parameter), so the
 * blocks are large enough to amortise a claim and small enough (64 KiB of
 * each array) to spread a 10^5-parameter model over two threads */
#define ADAM_BLOCK 16384

typedef struct {
    const ae_adam_param *params;
    int count;
    const ae_adam_config *c;
    const int64_t *first_block; /* per parameter: its first block's number */
} adam_job;

static void adam_block(void *ctx, int64_t q)
{
    const adam_job *j = ctx;
    int lo = 0, hi = j->count; /* the parameter holding block q */
    while (hi - lo > 1) {
        int mid = (lo + hi) / 2;
        if (j->first_block[mid] <= q) lo = mid;
        else hi = mid;
    }
    const ae_adam_param *a = &j->params[lo];
    int64_t start = (q - j->first_block[lo]) * ADAM_BLOCK;
    int64_t len = a->n - start < ADAM_BLOCK ? a->n - start : ADAM_BLOCK;
    ae_adam_step(a->p + start, a->g + start, a->m + start, a->v + start, len, j->c, a->step);
}

void ae_adam_step_many(const ae_adam_param *params, int count, const ae_adam_config *c)
{
    int64_t stack_first[64], *first = count <= 64 ? stack_first : malloc((size_t)count * sizeof *first);
    int64_t blocks = 0;
    if (!first) { /* no memory for the index: one parameter at a time */
        for (int i = 0; i < count; i++)
            ae_adam_step(params[i].p, params[i].g, params[i].m, params[i].v, params[i].n, c, params[i].step);
        return;
    }
    for (int i = 0; i < count; i++) {
        first[i] = blocks;
        blocks += (params[i].n + ADAM_BLOCK - 1) / ADAM_BLOCK;
    }
    /* a parameter with no elements has no block; the search skips it
     * because the next parameter starts at the same block number */
    adam_job j = {params, count, c, first};
    ae_parallel_run(adam_block, &j, blocks);
    if (first != stack_first) free(first);
}

/* PyTorch's _single_tensor_rmsprop, one op at a time:
 *   g = g + wd·p                          add(alpha=wd): fused
 *   sq = sq·α, then sq + ((1 - α)·g)·g    mul_, addcmul_: the last fused
 *   ga = ga·α, then ga + (1 - α)·g        mul_, add_(alpha): fused
 *   avg = sqrt(sq + (-ga)·ga) + eps       addcmul(value=-1): fused
 *   buf = buf·μ + g / avg, p = p + (-lr)·buf    (momentum: addcdiv_, add_)
 *   p = p + ((-lr)·g) / avg               (otherwise: addcdiv_)
 * eps outside the square root.  One loop body, inlined four times with
 * centered and use_buf constant, so that each variant is a branch-free
 * loop the compiler vectorises (with the tests inside, gcc vectorises none
 * of them). */
static inline __attribute__((always_inline)) void rmsprop_loop(float *restrict p, const float *restrict g,
                                                               float *restrict square_avg, float *restrict grad_avg,
                                                               float *restrict buf, int64_t n,
                                                               const ae_rmsprop_config *c, bool centered, bool use_buf)
{
    float neg_lr = (float)-c->lr, alpha = (float)c->alpha, eps = (float)c->eps;
    float wd = (float)c->weight_decay, mom = (float)c->momentum;
    float one_minus_alpha = (float)(1.0 - c->alpha);
    bool decay = c->weight_decay != 0;
    float nz = neg_zero();
    for (int64_t i = 0; i < n; i++) {
        float gi = decay ? fmaf(p[i], wd, g[i]) : g[i];
        float sq = fmaf(one_minus_alpha * gi, gi, square_avg[i] * alpha);
        square_avg[i] = sq;
        float avg;
        if (centered) {
            float ga = fmaf(one_minus_alpha, gi, grad_avg[i] * alpha);
            grad_avg[i] = ga;
            avg = sqrtf(fmaf(-ga, ga, sq)) + eps;
        } else {
            avg = sqrtf(sq) + eps;
        }
        if (use_buf) {
            float b = mul_rounded(buf[i], mom, nz) + gi / avg;
            buf[i] = b;
            p[i] = fmaf(b, neg_lr, p[i]);
        } else {
            p[i] = p[i] + (neg_lr * gi) / avg;
        }
    }
}

void ae_rmsprop_step(float *p, const float *g, float *square_avg, float *grad_avg, float *buf, int64_t n,
                     const ae_rmsprop_config *c)
{
    bool centered = c->centered, use_buf = c->momentum > 0;
    if (centered && use_buf) rmsprop_loop(p, g, square_avg, grad_avg, buf, n, c, true, true);
    else if (centered) rmsprop_loop(p, g, square_avg, grad_avg, NULL, n, c, true, false);
    else if (use_buf) rmsprop_loop(p, g, square_avg, NULL, buf, n, c, false, true);
    else rmsprop_loop(p, g, square_avg, NULL, NULL, n, c, false, false);
}

/* torch.norm of a float32 tensor as ATen 1.13 computes it on the CPU, in
 * float (checked bit for bit against Debian's torch 1.13, AVX2 kernels).
 * p = 2 takes ATen's last-dim fast path: eight lanes of fused x·x + acc
 * over the blocks of eight, the lanes summed in order, the rest added to
 * that sum, sqrtf.  p = 1 and
 * other p take the generic reduction, one accumulator in order (PyTorch
 * on several threads splits tensors over 32768 elements; this is its
 * one-thread order), |x|^p by powf and the root by powf(s, 1/p) with p as
 * a float.  The maximum is exact whichever order. */
double ae_vector_norm(const float *g, int64_t n, double p)
{
    if (p == 2) {
        float acc[8] = {0};
        int64_t i = 0;
        for (; i < n - n % 8; i += 8)
            for (int j = 0; j < 8; j++) acc[j] = fmaf(g[i + j], g[i + j], acc[j]);
        float s = acc[0];
        for (int j = 1; j < 8; j++) s += acc[j];
        /* the remainder as gcc compiled ATen's scalar loop: four squares
         * rounded (a vector product) added in order, then fused */
        if (n - i >= 4) {
            float nz = neg_zero();
            for (int k = 0; k < 4; k++, i++) s += mul_rounded(g[i], g[i], nz);
        }
        for (; i < n; i++) s = fmaf(g[i], g[i], s);
        return sqrtf(s);
    }
    if (isinf(p)) {
        float m = 0;
        for (int64_t i = 0; i < n; i++) {
            float a = fabsf(g[i]);
            m = (a > m || a != a) ? a : m; /* NaN propagates, as torch's max */
        }
        return m;
    }
    float s = 0;
    if (p == 1) {
        for (int64_t i = 0; i < n; i++) s += fabsf(g[i]);
        return s;
    }
    float pf = (float)p;
    for (int64_t i = 0; i < n; i++) s += powf(fabsf(g[i]), pf);
    return powf(s, 1.0f / pf);
}

void ae_scale(float *g, int64_t n, float s)
{
    for (int64_t i = 0; i < n; i++) g[i] *= s;
}
