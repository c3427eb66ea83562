/* loss.c: reconstruction losses, each fused into one op so that the
 * numerically delicate parts (log of 0, exp of large logits) are handled
 * once, here, as PyTorch does.
 *
 * Speed: a loss sums its per-element terms a chunk at a time (no scratch
 * tensor), its kernels are branch-free loops over vectorisable float
 * functions (mathf.h), and its backward stores into a fresh gradient
 * buffer rather than zero-filling and adding.  bce on the output of a
 * sigmoid hands its gradient straight to the sigmoid's input: the
 * sigmoid's own backward (and its buffer) is skipped, with PyTorch's
 * formulas kept exactly (the 1e-12 guard included). */
#include "core/anomaly.h"
#include "core/autograd.h"
#include "core/error.h"
#include "shape.h"
#include "binary.h"
#include "unary.h"
#include "compare.h"
#include "reduce.h"
#include "matmul.h"
#include "loss.h"
#include "core/parallel.h"

#include <math.h>
#include <stdlib.h>

#include "core/mathf.h"

#define CHUNK 1024

/* the factor each element's gradient gets from the reduction */
static float reduce_scale(ae_reduction r, int64_t count)
{
    return r == AE_REDUCE_MEAN ? 1.0f / (float)(count ? count : 1) : 1.0f;
}

/* per-element losses of n elements into out */
typedef void (*elem_kernel)(const float *a, const float *t, float *out, int64_t n);

/* A loss over more than BLOCK elements is shared between the runtime's
 * threads.  Its sum is taken per fixed block and the blocks' sums added in
 * order, so the value does not depend on the number of threads. */
#define BLOCK 16384

typedef struct {
    elem_kernel f;
    const float *a, *t;
    float *out; /* reduction none: the per-element losses */
    int64_t n;
    double *partial; /* else: each block's sum */
} forward_job;

/* Σ over [lo, hi) a chunk at a time through a stack buffer, each chunk
 * summed in float lanes folded into double (as ae_sumf) */
static double chunk_sums(elem_kernel f, const float *a, const float *t, int64_t lo, int64_t hi)
{
    float part[CHUNK];
    double total = 0;
    for (int64_t i = lo; i < hi; i += CHUNK) {
        int64_t m = hi - i < CHUNK ? hi - i : CHUNK;
        f(a + i, t + i, part, m);
        total += ae_sumf(part, m);
    }
    return total;
}

static void sum_block(void *ctx, int64_t q)
{
    const forward_job *j = ctx;
    int64_t lo = q * BLOCK, hi = lo + BLOCK < j->n ? lo + BLOCK : j->n;
    j->partial[q] = chunk_sums(j->f, j->a, j->t, lo, hi);
}

static void elements_range(void *ctx, int64_t lo, int64_t hi)
{
    const forward_job *j = ctx;
    j->f(j->a + lo, j->t + lo, j->out + lo, hi - lo);
}

static double kernel_sum(elem_kernel f, const float *a, const float *t, int64_t n)
{
    int64_t blocks = (n + BLOCK - 1) / BLOCK;
    double stack[64], *partial = blocks <= 64 ? stack : malloc((size_t)blocks * sizeof *partial);
    double total = 0;
    if (!partial) { /* no memory for the partial sums: the same blocks, in turn */
        for (int64_t q = 0; q < blocks; q++)
            total += chunk_sums(f, a, t, q * BLOCK, q * BLOCK + BLOCK < n ? q * BLOCK + BLOCK : n);
        return total;
    }
    forward_job j = {f, a, t, NULL, n, partial};
    ae_parallel_run(sum_block, &j, blocks);
    for (int64_t q = 0; q < blocks; q++) total += partial[q];
    if (partial != stack) free(partial);
    return total;
}

/* shared driver: contiguous inputs, the per-element losses (into the
 * output for reduction none, else summed), record, save */
static ae_tensor *elementwise_loss(const char *op, ae_tensor *a, ae_tensor *t, ae_reduction r, elem_kernel f,
                                   ae_backward_fn backward)
{
    if (ae_check_same_shape(op, "input", a, "target", t) != 0) return NULL;
    if ((unsigned)r > AE_REDUCE_NONE) return ae_fail("%s: unknown reduction", op);
    ae_tensor *ca = ae_contiguous(a), *ct = ca ? ae_contiguous(t) : NULL;
    ae_tensor *out = NULL;
    if (ct) out = r == AE_REDUCE_NONE ? ae_empty(a->ndim, a->shape) : ae_scalar(0);
    if (out) {
        int64_t count = ae_numel(ca);
        if (r == AE_REDUCE_NONE) {
            forward_job j = {f, ae_data(ca), ae_data(ct), ae_data(out), count, NULL};
            ae_parallel_for(count, BLOCK, elements_range, &j);
        } else ae_data(out)[0] = (float)(kernel_sum(f, ae_data(ca), ae_data(ct), count) * reduce_scale(r, count));
        ae_tensor *in[2] = {a, t}, *saved[2] = {ca, ct};
        out = ae_record(out, op, backward, 2, in, 2, saved, &r, sizeof r);
    }
    ae_release(ca);
    ae_release(ct);
    return out;
}

/* The incoming gradient of a loss node: one value per element for
 * reduction none, else one scalar; times the reduction's factor. */
typedef struct {
    const float *go; /* per element, or NULL */
    float up;        /* the scalar, already scaled, when go is NULL */
    float scale;
} upstream;

static upstream upstream_of(ae_node *n, int64_t count)
{
    const ae_reduction *reduction = ae_node_state(n);
    ae_reduction r = *reduction;
    upstream u = {NULL, 0, reduce_scale(r, count)};
    if (r == AE_REDUCE_NONE) u.go = ae_gout(n);
    else u.up = ae_gout(n)[0] * u.scale;
    return u;
}

/* g[0..m) gets upstream · d (elements from offset `at` of the upstream):
 * stored when fresh, added otherwise; four plain vector loops */
static void apply_grad(float *restrict g, bool fresh, const float *restrict d, const upstream *u, int64_t at, int64_t m)
{
    if (u->go) {
        const float *restrict go = u->go + at;
        float s = u->scale;
        if (fresh)
            for (int64_t i = 0; i < m; i++) g[i] = go[i] * s * d[i];
        else
            for (int64_t i = 0; i < m; i++) g[i] += go[i] * s * d[i];
    } else {
        float up = u->up;
        if (fresh)
            for (int64_t i = 0; i < m; i++) g[i] = up * d[i];
        else
            for (int64_t i = 0; i < m; i++) g[i] += up * d[i];
    }
}

/* the derivative of one element's loss with respect to input a (or the
 * target t) for m elements, into d */
typedef void (*deriv_kernel)(const float *a, const float *t, float *d, int64_t m);

typedef struct {
    float *g;
    bool fresh;
    deriv_kernel f;
    const float *a, *t;
    const upstream *u;
} backward_job;

/* g += upstream · deriv over [lo, hi), a chunk at a time (d stays in L1) */
static void backward_range(void *ctx, int64_t lo, int64_t hi)
{
    const backward_job *j = ctx;
    float d[CHUNK];
    for (int64_t i = lo; i < hi; i += CHUNK) {
        int64_t m = hi - i < CHUNK ? hi - i : CHUNK;
        j->f(j->a + i, j->t + i, d, m);
        apply_grad(j->g + i, j->fresh, d, j->u, i, m);
    }
}

static void backward_into(float *g, bool fresh, deriv_kernel f, const float *a, const float *t, const upstream *u,
                          int64_t count)
{
    backward_job j = {g, fresh, f, a, t, u};
    ae_parallel_for(count, BLOCK, backward_range, &j);
}

/* the common backward of the three losses: the gradients of input and
 * target, each through its kernel; the input's goes to input slot 0 of
 * `into` (n itself, or the node that made the input when da goes
 * through it too) */
static void loss_backward_into(ae_node *n, ae_node *into, deriv_kernel da, deriv_kernel dt)
{
    const float *a = ae_data(n->saved[0]), *t = ae_data(n->saved[1]);
    int64_t count = ae_numel(n->saved[0]);
    upstream u = upstream_of(n, count);
    bool fresh;
    float *g = ae_grad_slot(into, 0, &fresh);
    if (g) backward_into(g, fresh, da, a, t, &u, count);
    g = ae_grad_slot(n, 1, &fresh);
    if (g) backward_into(g, fresh, dt, a, t, &u, count);
}

static void loss_backward(ae_node *n, deriv_kernel da, deriv_kernel dt) { loss_backward_into(n, n, da, dt); }

/* mse: (a - t)² */
static void mse_forward(const float *a, const float *t, float *out, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        float d = a[i] - t[i];
        out[i] = d * d;
    }
}

static void mse_da(const float *a, const float *t, float *d, int64_t m)
{
    for (int64_t i = 0; i < m; i++) d[i] = 2.0f * (a[i] - t[i]);
}

static void mse_dt(const float *a, const float *t, float *d, int64_t m)
{
    for (int64_t i = 0; i < m; i++) d[i] = -2.0f * (a[i] - t[i]);
}

static void mse_backward(ae_node *n) { loss_backward(n, mse_da, mse_dt); }

ae_tensor *ae_mse_loss(ae_tensor *input, ae_tensor *target, ae_reduction r)
{
    return elementwise_loss("mse", input, target, r, mse_forward, mse_backward);
}

/* bce on probabilities, in float as PyTorch computes it: logs are clamped
 * at -100, so p = 0 or 1 gives a large finite loss instead of inf */
static inline float clamped_logf(float x)
{
    float l = ae_logf(x);
    return l < -100.0f ? -100.0f : l;
}

static void bce_forward(const float *p, const float *t, float *out, int64_t n)
{
    for (int64_t i = 0; i < n; i++) out[i] = (t[i] - 1.0f) * clamped_logf(1.0f - p[i]) - t[i] * clamped_logf(p[i]);
}

/* PyTorch's gradient (p - t) / max((1 - p)·p, 1e-12) */
static void bce_dp(const float *p, const float *t, float *d, int64_t m)
{
    for (int64_t i = 0; i < m; i++) {
        float q = (1.0f - p[i]) * p[i];
        d[i] = (p[i] - t[i]) / (q > 1e-12f ? q : 1e-12f);
    }
}

/* the same carried through the sigmoid that made p: times (1 - p), then
 * times p, in the order of ATen's sigmoid_backward (g·(1 - y))·y */
static void bce_dz(const float *p, const float *t, float *d, int64_t m)
{
    for (int64_t i = 0; i < m; i++) {
        float q = (1.0f - p[i]) * p[i];
        d[i] = (p[i] - t[i]) / (q > 1e-12f ? q : 1e-12f) * (1.0f - p[i]) * p[i];
    }
}

static void bce_dt(const float *p, const float *t, float *d, int64_t m)
{
    (void)t;
    for (int64_t i = 0; i < m; i++) d[i] = clamped_logf(1.0f - p[i]) - clamped_logf(p[i]);
}

static void bce_backward(ae_node *n)
{
    /* p made by a sigmoid: its gradient goes straight to the sigmoid's
     * input (the sigmoid's backward then runs only for other users of p).
     * Under anomaly detection too: a NaN made here is then reported as the
     * bce backward's, which is where the fused arithmetic ran. */
    ae_node *s = n->inputs[0]->grad_fn;
    if (!s || s->freed || s->op != ae_unary_name(AE_SIGMOID)) loss_backward(n, bce_dp, bce_dt);
    else loss_backward_into(n, s, bce_dz, bce_dt);
}

ae_tensor *ae_bce_loss(ae_tensor *p, ae_tensor *target, ae_reduction r)
{
    ae_tensor *cp = ae_contiguous(p);
    if (!cp) return NULL;
    const float *v = ae_data(cp);
    int64_t count = ae_numel(cp);
    /* a counting pass vectorises; the search for the culprit runs only on failure */
    int64_t bad = 0;
    for (int64_t i = 0; i < count; i++) bad += !(v[i] >= 0.0f && v[i] <= 1.0f);
    if (bad) {
        int64_t i = 0;
        while (v[i] >= 0.0f && v[i] <= 1.0f) i++;
        float culprit = v[i];
        ae_release(cp);
        return ae_fail("bce: input must be probabilities in [0, 1], element %lld is %g "
                       "(use bce_logits for unbounded scores)",
                       (long long)i + 1, culprit);
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

static void bce_logits_dz(const float *z, const float *t, float *d, int64_t m)
{
    for (int64_t i = 0; i < m; i++) d[i] = ae_sigmoidf(z[i]) - t[i];
}

static void bce_logits_dt(const float *z, const float *t, float *d, int64_t m)
{
    (void)t;
    for (int64_t i = 0; i < m; i++) d[i] = -z[i];
}

static void bce_logits_backward(ae_node *n) { loss_backward(n, bce_logits_dz, bce_logits_dt); }

ae_tensor *ae_bce_logits_loss(ae_tensor *logits, ae_tensor *target, ae_reduction r)
{
    return elementwise_loss("bce_logits", logits, target, r, bce_logits_forward, bce_logits_backward);
}
