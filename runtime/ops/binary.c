/* binary.c: add, sub, mul, div with numpy-style broadcasting.
 * Shapes are aligned on their last dimension; a size-1 (or missing)
 * dimension is repeated.  The backward of a broadcast input sums the
 * gradient over the repeated positions, which the same strided walk does
 * for free: a zero stride makes every output position add into one slot. */
#include "core/autograd.h"
#include "core/error.h"
#include "shape.h"
#include "binary.h"
#include "unary.h"
#include "compare.h"
#include "reduce.h"
#include "matmul.h"
#include "loss.h"

#include <string.h>

static const char *op_name[] = {"add", "sub", "mul", "div"};

typedef struct {
    int ndim;
    int64_t shape[AE_MAX_DIMS];
    int64_t sa[AE_MAX_DIMS], sb[AE_MAX_DIMS]; /* into contiguous a, b */
} plan;

/* contiguous strides of t, aligned right in an ndim-wide frame, 0 where broadcast */
static void frame_strides(const ae_tensor *t, int ndim, const int64_t *shape, int64_t *s)
{
    int64_t st = 1;
    int off = ndim - t->ndim;
    for (int d = ndim - 1; d >= 0; d--) {
        int td = d - off;
        if (td < 0) {
            s[d] = 0;
            continue;
        }
        s[d] = (t->shape[td] == 1 && shape[d] != 1) ? 0 : st;
        st *= t->shape[td];
    }
}

static int make_plan(ae_binop op, const ae_tensor *a, const ae_tensor *b, plan *p)
{
    int nd = a->ndim > b->ndim ? a->ndim : b->ndim;
    p->ndim = nd;
    for (int d = 0; d < nd; d++) {
        int da = d - (nd - a->ndim), db = d - (nd - b->ndim);
        int64_t x = da >= 0 ? a->shape[da] : 1, y = db >= 0 ? b->shape[db] : 1;
        if (x != y && x != 1 && y != 1) {
            char s1[AE_SHAPE_STR], s2[AE_SHAPE_STR];
            return ae_failc("%s: shapes %s and %s cannot be broadcast together (dimension %d: %lld vs %lld)",
                            op_name[op], ae_shape_str(a, s1), ae_shape_str(b, s2), d + 1, (long long)x, (long long)y);
        }
        p->shape[d] = x == 1 ? y : x;
    }
    frame_strides(a, nd, p->shape, p->sa);
    frame_strides(b, nd, p->shape, p->sb);
    return 0;
}

/* walks every row (last dimension) of the output: calls fn with the element
 * offsets of a, b and out at the row's start */
typedef void (*row_fn)(void *ctx, int64_t oa, int64_t ob, int64_t oo, int64_t n, int64_t sa, int64_t sb);

static void walk(const plan *p, row_fn fn, void *ctx)
{
    int nd = p->ndim;
    if (nd == 0) {
        fn(ctx, 0, 0, 0, 1, 0, 0);
        return;
    }
    int64_t total = 1;
    for (int d = 0; d < nd; d++) total *= p->shape[d];
    if (total == 0) return;
    int64_t n = p->shape[nd - 1], idx[AE_MAX_DIMS] = {0}, oa = 0, ob = 0;
    for (int64_t oo = 0; oo < total; oo += n) {
        fn(ctx, oa, ob, oo, n, p->sa[nd - 1], p->sb[nd - 1]);
        for (int d = nd - 2; d >= 0; d--) {
            idx[d]++;
            oa += p->sa[d];
            ob += p->sb[d];
            if (idx[d] < p->shape[d]) break;
            oa -= idx[d] * p->sa[d];
            ob -= idx[d] * p->sb[d];
            idx[d] = 0;
        }
    }
}

/* forward */
typedef struct {
    ae_binop op;
    const float *a, *b;
    float *out;
} fwd_ctx;

static void forward_row(void *vc, int64_t oa, int64_t ob, int64_t oo, int64_t n, int64_t sa, int64_t sb)
{
    fwd_ctx *c = vc;
    const float *a = c->a + oa, *b = c->b + ob;
    float *o = c->out + oo;
    if (sa == 1 && sb == 1) {
        switch (c->op) {
        case AE_ADD:
            for (int64_t i = 0; i < n; i++) o[i] = a[i] + b[i];
            break;
        case AE_SUB:
            for (int64_t i = 0; i < n; i++) o[i] = a[i] - b[i];
            break;
        case AE_MUL:
            for (int64_t i = 0; i < n; i++) o[i] = a[i] * b[i];
            break;
        case AE_DIV:
            for (int64_t i = 0; i < n; i++) o[i] = a[i] / b[i];
            break;
        }
        return;
    }
    switch (c->op) {
    case AE_ADD:
        for (int64_t i = 0; i < n; i++) o[i] = a[i * sa] + b[i * sb];
        break;
    case AE_SUB:
        for (int64_t i = 0; i < n; i++) o[i] = a[i * sa] - b[i * sb];
        break;
    case AE_MUL:
        for (int64_t i = 0; i < n; i++) o[i] = a[i * sa] * b[i * sb];
        break;
    case AE_DIV:
        for (int64_t i = 0; i < n; i++) o[i] = a[i * sa] / b[i * sb];
        break;
    }
}

/* backward: ga += gout * ∂out/∂a, gb += gout * ∂out/∂b */
typedef struct {
    ae_binop op;
    const float *a, *b, *go;
    float *ga, *gb;
} bwd_ctx;

static void backward_row(void *vc, int64_t oa, int64_t ob, int64_t oo, int64_t n, int64_t sa, int64_t sb)
{
    bwd_ctx *c = vc;
    const float *a = c->a + oa, *b = c->b + ob, *go = c->go + oo;
    float *ga = c->ga ? c->ga + oa : NULL, *gb = c->gb ? c->gb + ob : NULL;
    switch (c->op) {
    case AE_ADD:
        if (ga)
            for (int64_t i = 0; i < n; i++) ga[i * sa] += go[i];
        if (gb)
            for (int64_t i = 0; i < n; i++) gb[i * sb] += go[i];
        break;
    case AE_SUB:
        if (ga)
            for (int64_t i = 0; i < n; i++) ga[i * sa] += go[i];
        if (gb)
            for (int64_t i = 0; i < n; i++) gb[i * sb] -= go[i];
        break;
    case AE_MUL:
        if (ga)
            for (int64_t i = 0; i < n; i++) ga[i * sa] += go[i] * b[i * sb];
        if (gb)
            for (int64_t i = 0; i < n; i++) gb[i * sb] += go[i] * a[i * sa];
        break;
    case AE_DIV:
        if (ga)
            for (int64_t i = 0; i < n; i++) ga[i * sa] += go[i] / b[i * sb];
        if (gb)
            for (int64_t i = 0; i < n; i++) {
                float bi = b[i * sb];
                gb[i * sb] -= go[i] * a[i * sa] / (bi * bi);
            }
        break;
    }
}

static void binary_backward(ae_node *n)
{
    plan p;
    bwd_ctx c;
    const ae_binop *op = ae_node_state(n);
    c.op = *op;
    c.a = ae_data(n->saved[0]);
    c.b = ae_data(n->saved[1]);
    c.go = ae_gout(n);
    c.ga = ae_grad_of(n, 0);
    c.gb = ae_grad_of(n, 1);
    /* for x op x both gradients add into one buffer, which is still right:
     * the walk reads only saved values and the output gradient */
    if (make_plan(c.op, n->saved[0], n->saved[1], &p) == 0) walk(&p, backward_row, &c);
}

ae_tensor *ae_binary(ae_binop op, ae_tensor *a, ae_tensor *b)
{
    plan p;
    if (make_plan(op, a, b, &p) != 0) return NULL;
    ae_tensor *ca = ae_contiguous(a), *cb = ca ? ae_contiguous(b) : NULL;
    ae_tensor *out = cb ? ae_empty(p.ndim, p.shape) : NULL;
    if (out) {
        fwd_ctx c = {op, ae_data(ca), ae_data(cb), ae_data(out)};
        walk(&p, forward_row, &c);
        /* add and sub need no values in backward, but one code path is
         * simpler and saving is only a reference */
        ae_tensor *in[2] = {a, b}, *saved[2] = {ca, cb};
        out = ae_record(out, op_name[op], binary_backward, 2, in, 2, saved, &op, sizeof op);
    }
    ae_release(ca);
    ae_release(cb);
    return out;
}

ae_tensor *ae_add(ae_tensor *a, ae_tensor *b) { return ae_binary(AE_ADD, a, b); }
ae_tensor *ae_sub(ae_tensor *a, ae_tensor *b) { return ae_binary(AE_SUB, a, b); }
ae_tensor *ae_mul(ae_tensor *a, ae_tensor *b) { return ae_binary(AE_MUL, a, b); }
ae_tensor *ae_div(ae_tensor *a, ae_tensor *b) { return ae_binary(AE_DIV, a, b); }
