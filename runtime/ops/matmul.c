/* matmul.c: matmul and the fused linear layer.
 * A transposed view is handed to BLAS as a transpose flag instead of being
 * copied, so x:t() and W:t() cost nothing. */
#include "core/autograd.h"
#include "core/error.h"
#include "core/gemm.h"
#include "shape.h"
#include "binary.h"
#include "unary.h"
#include "compare.h"
#include "reduce.h"
#include "matmul.h"
#include "loss.h"

/* how a 2-D tensor is laid out for BLAS: a row-major matrix, possibly
 * transposed, with its leading dimension */
typedef struct {
    const float *p;
    bool trans;
    int64_t ld;
    ae_tensor *owned;
} matview;

static int as_matrix(ae_tensor *t, matview *v)
{
    v->owned = NULL;
    int64_t r = t->shape[0], c = t->shape[1];
    if ((t->stride[1] == 1 || c == 1) && t->stride[0] >= (c > 1 ? c : 1)) {
        v->trans = false;
        v->ld = t->stride[0] > 0 ? t->stride[0] : 1;
        if (r == 1) v->ld = c > 1 ? c : 1;
    } else if ((t->stride[0] == 1 || r == 1) && t->stride[1] >= (r > 1 ? r : 1)) {
        v->trans = true;
        v->ld = t->stride[1];
        if (c == 1) v->ld = r > 1 ? r : 1;
    } else {
        v->owned = ae_clone_data(t);
        if (!v->owned) return -1;
        t = v->owned;
        v->trans = false;
        v->ld = c > 1 ? c : 1;
    }
    v->p = ae_data(t);
    return 0;
}

/* out (m×n) = a (m×k) · b (k×n) */
static void matmul_backward(ae_node *n)
{
    ae_tensor *a = n->saved[0], *b = n->saved[1];
    int64_t m = a->shape[0], k = a->shape[1], nn = b->shape[1];
    bool fa, fb;
    float *ga = ae_grad_slot(n, 0, &fa), *gb = ae_grad_slot(n, 1, &fb);
    const float *go = ae_gout(n);
    matview va, vb;
    if (as_matrix(a, &va) != 0 || as_matrix(b, &vb) != 0) return;
    /* ga += go · bᵀ ; gb += aᵀ · go (beta = 0 stores into a fresh buffer) */
    if (ga) ae_gemm(false, !vb.trans, m, k, nn, 1.0f, go, nn, vb.p, vb.ld, fa ? 0.0f : 1.0f, ga, k);
    if (gb) ae_gemm(!va.trans, false, k, nn, m, 1.0f, va.p, va.ld, go, nn, fb ? 0.0f : 1.0f, gb, nn);
    ae_release(va.owned);
    ae_release(vb.owned);
}

ae_tensor *ae_matmul(ae_tensor *a, ae_tensor *b)
{
    char s1[AE_SHAPE_STR], s2[AE_SHAPE_STR];
    if (a->ndim != 2 || b->ndim != 2)
        return ae_fail("matmul: expects two 2-D tensors, got %s and %s", ae_shape_str(a, s1), ae_shape_str(b, s2));
    if (a->shape[1] != b->shape[0])
        return ae_fail("matmul: shapes %s and %s do not fit (inner sizes %lld and %lld differ)", ae_shape_str(a, s1),
                       ae_shape_str(b, s2), (long long)a->shape[1], (long long)b->shape[0]);
    int64_t m = a->shape[0], k = a->shape[1], nn = b->shape[1];
    int64_t shape[2] = {m, nn};
    ae_tensor *out = ae_empty(2, shape);
    if (!out) return NULL;
    matview va, vb;
    if (as_matrix(a, &va) != 0 || as_matrix(b, &vb) != 0) {
        ae_release(out);
        return NULL;
    }
    ae_gemm(va.trans, vb.trans, m, nn, k, 1.0f, va.p, va.ld, vb.p, vb.ld, 0.0f, ae_data(out), nn);
    ae_release(va.owned);
    ae_release(vb.owned);
    ae_tensor *in[2] = {a, b};
    return ae_record(out, "matmul", matmul_backward, 2, in, 2, in, NULL, 0);
}

/* linear: y (rows×out) = x (rows×in) · Wᵀ + b, x's leading dims flattened */
static void linear_backward(ae_node *n)
{
    ae_tensor *x = n->saved[0], *w = n->saved[1];
    int64_t out_f = w->shape[0], in_f = w->shape[1], rows = ae_numel(x) / (in_f ? in_f : 1);
    const float *go = ae_gout(n);
    bool fx, fw, fb = false;
    float *gx = ae_grad_slot(n, 0, &fx), *gw = ae_grad_slot(n, 1, &fw);
    float *gb = n->ninputs > 2 ? ae_grad_slot(n, 2, &fb) : NULL;
    if (gx) ae_gemm(false, false, rows, in_f, out_f, 1.0f, go, out_f, ae_data(w), in_f, fx ? 0.0f : 1.0f, gx, in_f);
    if (gw) ae_gemm(true, false, out_f, in_f, rows, 1.0f, go, out_f, ae_data(x), in_f, fw ? 0.0f : 1.0f, gw, in_f);
    if (gb) {
        /* column sums, row by row so that the inner loop is a vector add */
        int64_t r = 0;
        if (fb) {
            for (int64_t j = 0; j < out_f; j++) gb[j] = rows ? go[j] : 0.0f;
            r = 1;
        }
        for (; r < rows; r++)
            for (int64_t j = 0; j < out_f; j++) gb[j] += go[r * out_f + j];
    }
}

ae_tensor *ae_linear(ae_tensor *x, ae_tensor *w, ae_tensor *b)
{
    char s1[AE_SHAPE_STR], s2[AE_SHAPE_STR];
    if (w->ndim != 2) return ae_fail("linear: weight must be 2-D (out×in), got %s", ae_shape_str(w, s1));
    int64_t out_f = w->shape[0], in_f = w->shape[1];
    if (x->ndim < 1 || x->shape[x->ndim - 1] != in_f)
        return ae_fail("linear: input %s does not end in %lld features (weight %s)", ae_shape_str(x, s1),
                       (long long)in_f, ae_shape_str(w, s2));
    if (b && (b->ndim != 1 || b->shape[0] != out_f))
        return ae_fail("linear: bias %s should have shape %lld for weight %s", ae_shape_str(b, s1), (long long)out_f,
                       ae_shape_str(w, s2));
    int64_t shape[AE_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++) shape[d] = x->shape[d];
    shape[x->ndim - 1] = out_f;
    ae_tensor *cx = ae_contiguous(x), *cw = cx ? ae_contiguous(w) : NULL;
    ae_tensor *cb = cw && b ? ae_contiguous(b) : NULL;
    ae_tensor *y = cw && (cb || !b) ? ae_empty(x->ndim, shape) : NULL;
    if (y) {
        int64_t rows = ae_numel(x) / (in_f ? in_f : 1);
        float *py = ae_data(y);
        float beta = 0.0f;
        if (b) {
            const float *pb = ae_data(cb);
            for (int64_t r = 0; r < rows; r++)
                for (int64_t j = 0; j < out_f; j++) py[r * out_f + j] = pb[j];
            beta = 1.0f;
        }
        ae_gemm(false, true, rows, out_f, in_f, 1.0f, ae_data(cx), in_f, ae_data(cw), in_f, beta, py, out_f);
        ae_tensor *in[3] = {x, w, b}, *saved[2] = {cx, cw};
        y = ae_record(y, "linear", linear_backward, b ? 3 : 2, in, 2, saved, NULL, 0);
    }
    ae_release(cx);
    ae_release(cw);
    ae_release(cb);
    return y;
}
