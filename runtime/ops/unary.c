/* unary.c: elementwise functions of one tensor, each a forward kernel
 * and a backward kernel side by side.  Backward kernels store gout·f'(x)
 * into g (a fresh gradient buffer, or a chunk that is then added into a
 * used one) and may use the input x or the output y, whichever is cheaper. */
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

#include "core/mathf.h"

typedef void (*fwd_kernel)(const float *x, float *y, int64_t n, float p, float q);
typedef void (*bwd_kernel)(const float *x, const float *y, const float *go, float *g, int64_t n, float p, float q);

static void neg_forward(const float *x, float *y, int64_t n, float p, float q)
{
    (void)p, (void)q;
    for (int64_t i = 0; i < n; i++) y[i] = -x[i];
}
static void neg_backward(const float *x, const float *y, const float *go, float *g, int64_t n, float p, float q)
{
    (void)x, (void)y, (void)p, (void)q;
    for (int64_t i = 0; i < n; i++) g[i] = -go[i];
}

static void exp_forward(const float *x, float *y, int64_t n, float p, float q)
{
    (void)p, (void)q;
    for (int64_t i = 0; i < n; i++) y[i] = ae_expf(x[i]);
}
static void exp_backward(const float *x, const float *y, const float *go, float *g, int64_t n, float p, float q)
{
    (void)x, (void)p, (void)q;
    for (int64_t i = 0; i < n; i++) g[i] = go[i] * y[i];
}

static void log_forward(const float *x, float *y, int64_t n, float p, float q)
{
    (void)p, (void)q;
    for (int64_t i = 0; i < n; i++) y[i] = logf(x[i]);
}
static void log_backward(const float *x, const float *y, const float *go, float *g, int64_t n, float p, float q)
{
    (void)y, (void)p, (void)q;
    for (int64_t i = 0; i < n; i++) g[i] = go[i] / x[i];
}

static void abs_forward(const float *x, float *y, int64_t n, float p, float q)
{
    (void)p, (void)q;
    for (int64_t i = 0; i < n; i++) y[i] = fabsf(x[i]);
}
static void abs_backward(const float *x, const float *y, const float *go, float *g, int64_t n, float p, float q)
{
    (void)y, (void)p, (void)q;
    /* sign(0) = 0, as in PyTorch */
    for (int64_t i = 0; i < n; i++) g[i] = go[i] * (float)((x[i] > 0) - (x[i] < 0));
}

static void sqrt_forward(const float *x, float *y, int64_t n, float p, float q)
{
    (void)p, (void)q;
    for (int64_t i = 0; i < n; i++) y[i] = sqrtf(x[i]);
}
static void sqrt_backward(const float *x, const float *y, const float *go, float *g, int64_t n, float p, float q)
{
    (void)x, (void)p, (void)q;
    for (int64_t i = 0; i < n; i++) g[i] = go[i] * 0.5f / y[i];
}

/* x^e as ATen's pow(Tensor, Scalar) computes it: exponents 2, 3 and -2 by
 * products, 0.5, -0.5 and -1 by sqrt, 1/sqrt and 1/x, others by pow */
static inline float aten_powf(float x, float e)
{
    if (e == 2.0f) return x * x;
    if (e == 3.0f) return x * x * x;
    if (e == -2.0f) return 1.0f / (x * x);
    if (e == 0.5f) return sqrtf(x);
    if (e == -0.5f) return 1.0f / sqrtf(x);
    if (e == -1.0f) return 1.0f / x;
    if (e == 1.0f) return x;
    return powf(x, e);
}

static void pow_forward(const float *x, float *y, int64_t n, float p, float q)
{
    (void)q;
    if (p == 2.0f)
        for (int64_t i = 0; i < n; i++) y[i] = x[i] * x[i];
    else
        for (int64_t i = 0; i < n; i++) y[i] = aten_powf(x[i], p);
}
static void pow_backward(const float *x, const float *y, const float *go, float *g, int64_t n, float p, float q)
{
    (void)y, (void)q;
    if (p == 0.0f)
        for (int64_t i = 0; i < n; i++) g[i] = 0.0f;
    else if (p == 2.0f)
        for (int64_t i = 0; i < n; i++) g[i] = go[i] * 2.0f * x[i];
    else /* pow_backward: grad * (exponent * x.pow(exponent - 1)) */
        for (int64_t i = 0; i < n; i++) g[i] = go[i] * (aten_powf(x[i], p - 1.0f) * p);
}

/* clamp to [p, q]; the gradient passes where lo <= x <= hi, as in PyTorch */
static void clamp_forward(const float *x, float *y, int64_t n, float p, float q)
{
    for (int64_t i = 0; i < n; i++) y[i] = x[i] < p ? p : x[i] > q ? q : x[i];
}
static void clamp_backward(const float *x, const float *y, const float *go, float *g, int64_t n, float p, float q)
{
    (void)y;
    for (int64_t i = 0; i < n; i++) g[i] = x[i] >= p && x[i] <= q ? go[i] : 0.0f;
}

static void relu_forward(const float *x, float *y, int64_t n, float p, float q)
{
    (void)p, (void)q;
    for (int64_t i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : 0.0f;
}
static void relu_backward(const float *x, const float *y, const float *go, float *g, int64_t n, float p, float q)
{
    (void)x, (void)p, (void)q;
    for (int64_t i = 0; i < n; i++) g[i] = y[i] > 0 ? go[i] : 0.0f;
}

static void sigmoid_forward(const float *x, float *y, int64_t n, float p, float q)
{
    (void)p, (void)q;
    for (int64_t i = 0; i < n; i++) y[i] = ae_sigmoidf(x[i]);
}
static void sigmoid_backward(const float *x, const float *y, const float *go, float *g, int64_t n, float p, float q)
{
    (void)x, (void)p, (void)q;
    /* ATen's sigmoid_backward: (g·(1 - y))·y, in that order */
    for (int64_t i = 0; i < n; i++) g[i] = go[i] * (1.0f - y[i]) * y[i];
}

static void tanh_forward(const float *x, float *y, int64_t n, float p, float q)
{
    (void)p, (void)q;
    for (int64_t i = 0; i < n; i++) y[i] = tanhf(x[i]);
}
static void tanh_backward(const float *x, const float *y, const float *go, float *g, int64_t n, float p, float q)
{
    (void)x, (void)p, (void)q;
    /* ATen's tanh_backward g·(1 - y·y), whose 1 - y·y gcc fuses (checked
     * against torch): written as the fmaf, so it does not depend on the
     * compiler's contraction */
    for (int64_t i = 0; i < n; i++) g[i] = go[i] * fmaf(-y[i], y[i], 1.0f);
}

static void leaky_relu_forward(const float *x, float *y, int64_t n, float p, float q)
{
    (void)q;
    for (int64_t i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : p * x[i];
}
static void leaky_relu_backward(const float *x, const float *y, const float *go, float *g, int64_t n, float p, float q)
{
    (void)y, (void)q;
    for (int64_t i = 0; i < n; i++) g[i] = x[i] > 0 ? go[i] : p * go[i];
}

/* elu with alpha p */
static void elu_forward(const float *x, float *y, int64_t n, float p, float q)
{
    (void)q;
    /* ATen's elu: (exp(x) - 1)·alpha, not expm1 */
    for (int64_t i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : (ae_expf(x[i]) - 1.0f) * p;
}
static void elu_backward(const float *x, const float *y, const float *go, float *g, int64_t n, float p, float q)
{
    (void)q, (void)y;
    /* ATen's elu_backward on the input: g·alpha·exp(x) */
    for (int64_t i = 0; i < n; i++) g[i] = x[i] > 0 ? go[i] : go[i] * p * ae_expf(x[i]);
}

/* softplus with beta p and threshold q: linear above the threshold as in
 * PyTorch, where exp would overflow */
static void softplus_forward(const float *x, float *y, int64_t n, float p, float q)
{
    for (int64_t i = 0; i < n; i++) {
        float bx = p * x[i];
        y[i] = bx > q ? x[i] : log1pf(ae_expf(bx)) / p;
    }
}
static void softplus_backward(const float *x, const float *y, const float *go, float *g, int64_t n, float p, float q)
{
    (void)y;
    for (int64_t i = 0; i < n; i++) {
        float bx = p * x[i];
        /* ATen's softplus_backward: g·z/(z + 1), z = exp(βx) */
        float z = ae_expf(bx);
        g[i] = bx > q ? go[i] : go[i] * z / (z + 1.0f);
    }
}

static void add_scalar_forward(const float *x, float *y, int64_t n, float p, float q)
{
    (void)q;
    for (int64_t i = 0; i < n; i++) y[i] = x[i] + p;
}
static void add_scalar_backward(const float *x, const float *y, const float *go, float *g, int64_t n, float p, float q)
{
    (void)x, (void)y, (void)p, (void)q;
    for (int64_t i = 0; i < n; i++) g[i] = go[i];
}

static void mul_scalar_forward(const float *x, float *y, int64_t n, float p, float q)
{
    (void)q;
    for (int64_t i = 0; i < n; i++) y[i] = x[i] * p;
}
static void mul_scalar_backward(const float *x, const float *y, const float *go, float *g, int64_t n, float p, float q)
{
    (void)x, (void)y, (void)q;
    for (int64_t i = 0; i < n; i++) g[i] = go[i] * p;
}

/* p - x */
static void rsub_scalar_forward(const float *x, float *y, int64_t n, float p, float q)
{
    (void)q;
    for (int64_t i = 0; i < n; i++) y[i] = p - x[i];
}
static void rsub_scalar_backward(const float *x, const float *y, const float *go, float *g, int64_t n, float p, float q)
{
    (void)x, (void)y, (void)p, (void)q;
    for (int64_t i = 0; i < n; i++) g[i] = -go[i];
}

/* p / x */
static void rdiv_scalar_forward(const float *x, float *y, int64_t n, float p, float q)
{
    (void)q;
    for (int64_t i = 0; i < n; i++) y[i] = p / x[i];
}
static void rdiv_scalar_backward(const float *x, const float *y, const float *go, float *g, int64_t n, float p, float q)
{
    (void)q;
    for (int64_t i = 0; i < n; i++) g[i] = -(go[i] * y[i] / x[i]);
    (void)p;
}

static const struct {
    const char *name;
    fwd_kernel forward;
    bwd_kernel backward;
} kernels[AE_UNARY_COUNT] = {
    [AE_NEG] = {"neg", neg_forward, neg_backward},
    [AE_EXP] = {"exp", exp_forward, exp_backward},
    [AE_LOG] = {"log", log_forward, log_backward},
    [AE_ABS] = {"abs", abs_forward, abs_backward},
    [AE_SQRT] = {"sqrt", sqrt_forward, sqrt_backward},
    [AE_POW] = {"pow", pow_forward, pow_backward},
    [AE_CLAMP] = {"clamp", clamp_forward, clamp_backward},
    [AE_RELU] = {"relu", relu_forward, relu_backward},
    [AE_SIGMOID] = {"sigmoid", sigmoid_forward, sigmoid_backward},
    [AE_TANH] = {"tanh", tanh_forward, tanh_backward},
    [AE_LEAKY_RELU] = {"leaky_relu", leaky_relu_forward, leaky_relu_backward},
    [AE_ELU] = {"elu", elu_forward, elu_backward},
    [AE_SOFTPLUS] = {"softplus", softplus_forward, softplus_backward},
    [AE_ADD_SCALAR] = {"add", add_scalar_forward, add_scalar_backward},
    [AE_MUL_SCALAR] = {"mul", mul_scalar_forward, mul_scalar_backward},
    [AE_RSUB_SCALAR] = {"sub", rsub_scalar_forward, rsub_scalar_backward},
    [AE_RDIV_SCALAR] = {"div", rdiv_scalar_forward, rdiv_scalar_backward},
};

const char *ae_unary_name(ae_unop op) { return kernels[op].name; }

/* a tensor this long is shared between the runtime's threads (in ranges
 * of at least GRAIN elements): below it a second thread costs more than
 * it saves; CHUNK is the scratch block of the adding backward */
#define GRAIN 16384
#define CHUNK 1024

typedef struct {
    ae_unop op;
    const float *x, *y, *go;
    float *out;
    float p, q;
    bool add; /* backward into a used gradient buffer */
} unary_job;

static void forward_range(void *ctx, int64_t lo, int64_t hi)
{
    const unary_job *j = ctx;
    kernels[j->op].forward(j->x + lo, j->out + lo, hi - lo, j->p, j->q);
}

static void backward_range(void *ctx, int64_t lo, int64_t hi)
{
    const unary_job *j = ctx;
    bwd_kernel f = kernels[j->op].backward;
    if (!j->add) {
        f(j->x + lo, j->y + lo, j->go + lo, j->out + lo, hi - lo, j->p, j->q);
        return;
    }
    /* another op already put a gradient there: add ours a chunk at a time */
    float part[CHUNK];
    for (int64_t i = lo; i < hi; i += CHUNK) {
        int64_t m = hi - i < CHUNK ? hi - i : CHUNK;
        f(j->x + i, j->y + i, j->go + i, part, m, j->p, j->q);
        for (int64_t k = 0; k < m; k++) j->out[i + k] += part[k];
    }
}

/* the op and its parameters, as the kernels take them */
typedef struct {
    ae_unop op;
    float p, q;
} unary_state;

static void unary_backward(ae_node *n)
{
    bool fresh;
    float *g = ae_grad_slot(n, 0, &fresh);
    if (!g) return;
    const unary_state *s = ae_node_state(n);
    unary_job j = {s->op, ae_data(n->saved[0]), ae_data(n->saved[1]), ae_gout(n), g, s->p, s->q, !fresh};
    ae_parallel_for(ae_numel(n->gout), GRAIN, backward_range, &j);
}

ae_tensor *ae_unary(ae_unop op, ae_tensor *a, double p, double q)
{
    if ((unsigned)op >= AE_UNARY_COUNT) return ae_fail("unary: unknown op %d", (int)op);
    ae_tensor *x = ae_contiguous(a);
    ae_tensor *y = x ? ae_empty(a->ndim, a->shape) : NULL;
    if (y) {
        const unary_state s = {op, (float)p, (float)q};
        unary_job j = {op, ae_data(x), NULL, NULL, ae_data(y), s.p, s.q, false};
        ae_parallel_for(ae_numel(y), GRAIN, forward_range, &j);
        ae_tensor *saved[2] = {x, y};
        y = ae_record(y, kernels[op].name, unary_backward, 1, &a, 2, saved, &s, sizeof s);
    }
    ae_release(x);
    return y;
}
