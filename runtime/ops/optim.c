/* optim.c: see optim.h */
#include "optim.h"
#include "core/mathf.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>

#include "core/parallel.h"

void ae_sgd_step(float *p, const float *g, float *buf, int64_t n, const ae_sgd_config *c, bool first_step)
{
    float lr = (float)c->lr, mom = (float)c->momentum, damp = (float)c->dampening, wd = (float)c->weight_decay;
    for (int64_t i = 0; i < n; i++) {
        float d = g[i];
        if (wd != 0) d += wd * p[i];
        if (mom != 0) {
            buf[i] = first_step ? d : mom * buf[i] + (1 - damp) * d;
            d = c->nesterov ? d + mom * buf[i] : buf[i];
        }
        p[i] -= lr * d;
    }
}

void ae_adam_step(float *p, const float *g, float *m, float *v, int64_t n, const ae_adam_config *c, int64_t step)
{
    float b1 = (float)c->beta1, b2 = (float)c->beta2, eps = (float)c->eps;
    float wd = (float)c->weight_decay;
    double bc1 = 1.0 - pow(c->beta1, (double)step);
    double bc2 = 1.0 - pow(c->beta2, (double)step);
    float step_size = (float)(c->lr / bc1);
    float bc2_sqrt = (float)sqrt(bc2);
    float decay = (float)(1.0 - c->lr * c->weight_decay);
    for (int64_t i = 0; i < n; i++) {
        float gi = g[i];
        if (c->decoupled) p[i] *= decay;
        else if (wd != 0) gi += wd * p[i];
        m[i] = m[i] * b1 + (1 - b1) * gi; /* lerp as in torch: m + (g - m)(1 - b1) */
        v[i] = v[i] * b2 + (1 - b2) * gi * gi;
        float denom = sqrtf(v[i]) / bc2_sqrt + eps;
        p[i] -= step_size * (m[i] / denom);
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

/* PyTorch's _single_tensor_rmsprop: the decay, the centering and eps are
 * applied in this order, eps outside the square root.  One loop body,
 * inlined four times with centered and use_buf constant, so that each
 * variant is a branch-free loop the compiler vectorises (with the tests
 * inside, gcc vectorises none of them). */
static inline __attribute__((always_inline)) void rmsprop_loop(float *restrict p, const float *restrict g,
                                                               float *restrict square_avg, float *restrict grad_avg,
                                                               float *restrict buf, int64_t n,
                                                               const ae_rmsprop_config *c, bool centered, bool use_buf)
{
    float lr = (float)c->lr, alpha = (float)c->alpha, eps = (float)c->eps;
    float wd = (float)c->weight_decay, mom = (float)c->momentum;
    float one_minus_alpha = (float)(1.0 - c->alpha);
    for (int64_t i = 0; i < n; i++) {
        float gi = wd != 0 ? g[i] + wd * p[i] : g[i];
        float sq = square_avg[i] * alpha + one_minus_alpha * gi * gi;
        square_avg[i] = sq;
        float avg;
        if (centered) {
            float ga = grad_avg[i] * alpha + one_minus_alpha * gi;
            grad_avg[i] = ga;
            avg = sqrtf(sq - ga * ga) + eps;
        } else {
            avg = sqrtf(sq) + eps;
        }
        if (use_buf) {
            float b = buf[i] * mom + gi / avg;
            buf[i] = b;
            p[i] -= lr * b;
        } else {
            p[i] -= lr * (gi / avg);
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

double ae_vector_norm(const float *g, int64_t n, double p)
{
    if (p == 2) return sqrt(ae_sum_sqf(g, n));
    if (p == 1) return ae_sum_absf(g, n);
    if (isinf(p)) {
        float m = 0;
        for (int64_t i = 0; i < n; i++) {
            float a = fabsf(g[i]);
            m = (a > m || a != a) ? a : m; /* NaN propagates, as torch's max */
        }
        return m;
    }
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += pow(fabs((double)g[i]), p);
    return pow(s, 1.0 / p);
}

void ae_scale(float *g, int64_t n, float s)
{
    for (int64_t i = 0; i < n; i++) g[i] *= s;
}
