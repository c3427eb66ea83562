/* penalty.c: regularisers on a code or a layer, each one fused op:
 * the L1 sparsity penalty and the contractive autoencoder's penalty, the
 * squared Frobenius norm of the encoder's Jacobian in closed form (for a
 * sigmoid layer it needs no second-order autograd). */
#include "core/autograd.h"
#include "core/error.h"
#include "kl.h"
#include "reparameterize.h"
#include "penalty.h"
#include "noise.h"
#include "core/mathf.h"

#include <math.h>

/* --------------------------------------------------------------------- l1
 * (1/N)·Σ|z|; saved: z; state: 1/N, as backward multiplies by it. */

static void l1_backward(ae_node *n)
{
    float *g = ae_grad_of(n, 0);
    if (!g) return;
    const float *z = ae_data(n->saved[0]);
    const float *inv = ae_node_state(n);
    float up = ae_gout(n)[0] * *inv;
    int64_t count = ae_numel(n->saved[0]);
    for (int64_t i = 0; i < count; i++) g[i] += up * (float)((z[i] > 0) - (z[i] < 0));
}

ae_tensor *ae_l1_penalty(ae_tensor *z)
{
    int64_t rows = z->ndim >= 2 ? z->shape[0] : 1;
    if (rows == 0) return ae_fail("penalty.l1: the mean over an empty batch");
    ae_tensor *cz = ae_contiguous(z);
    ae_tensor *out = cz ? ae_scalar(0) : NULL;
    if (out) {
        double inv = 1.0 / (double)rows;
        ae_data(out)[0] = (float)(ae_sum_absf(ae_data(cz), ae_numel(cz)) * inv);
        const float invf = (float)inv;
        out = ae_record(out, "penalty.l1", l1_backward, 1, &z, 1, &cz, &invf, sizeof invf);
    }
    ae_release(cz);
    return out;
}

/* ------------------------------------------------------------ contractive
 * With a = h(1 - h), s_j = Σ_k W_jk² and c_j = Σ_i a_ij²:
 *   P = (1/N)·Σ_ij a_ij²·s_j = (1/N)·Σ_j c_j·s_j
 *   ∂P/∂h_ij = (2/N)·a_ij·(1 - 2h_ij)·s_j
 *   ∂P/∂W_jk = (2/N)·c_j·W_jk
 * The forward computes s and c anyway; saving them (H floats each) leaves
 * backward nothing to recompute or allocate.  saved: h, W, s, c. */

static void contractive_backward(ae_node *n)
{
    const float *h = ae_data(n->saved[0]), *w = ae_data(n->saved[1]);
    const float *s = ae_data(n->saved[2]), *c = ae_data(n->saved[3]);
    float *gh = ae_grad_of(n, 0), *gw = ae_grad_of(n, 1);
    int64_t rows = n->saved[0]->shape[0], hidden = n->saved[0]->shape[1], in = n->saved[1]->shape[1];
    float up2 = 2.0f * ae_gout(n)[0] / (float)rows;
    if (gh)
        for (int64_t i = 0; i < rows; i++) {
            const float *hi = h + i * hidden;
            float *gi = gh + i * hidden;
            for (int64_t j = 0; j < hidden; j++) {
                float a = hi[j] * (1.0f - hi[j]);
                gi[j] += up2 * a * (1.0f - 2.0f * hi[j]) * s[j];
            }
        }
    if (gw)
        for (int64_t j = 0; j < hidden; j++) {
            float f = up2 * c[j];
            const float *wj = w + j * in;
            float *gj = gw + j * in;
            for (int64_t k = 0; k < in; k++) gj[k] += f * wj[k];
        }
}

ae_tensor *ae_contractive_penalty(ae_tensor *h, ae_tensor *w)
{
    const char *op = "penalty.contractive";
    char s1[AE_SHAPE_STR], s2[AE_SHAPE_STR];
    if (h->ndim != 2 || w->ndim != 2 || h->shape[1] != w->shape[0])
        return ae_fail("%s: h must be batch × hidden and W hidden × in (nn.Linear's weight), got h %s "
                       "and W %s",
                       op, ae_shape_str(h, s1), ae_shape_str(w, s2));
    int64_t rows = h->shape[0], hidden = h->shape[1], in = w->shape[1];
    if (rows == 0) return ae_fail("%s: the mean over an empty batch", op);
    ae_tensor *ch = ae_contiguous(h), *cw = ch ? ae_contiguous(w) : NULL;
    ae_tensor *st = cw ? ae_empty(1, &hidden) : NULL, *ct = st ? ae_zeros(1, &hidden) : NULL;
    ae_tensor *out = ct ? ae_scalar(0) : NULL;
    if (out) {
        const float *x = ae_data(ch), *wd = ae_data(cw);
        float *s = ae_data(st), *c = ae_data(ct);
        for (int64_t j = 0; j < hidden; j++) s[j] = (float)ae_sum_sqf(wd + j * in, in);
        for (int64_t i = 0; i < rows; i++)
            for (int64_t j = 0; j < hidden; j++) {
                float a = x[i * hidden + j] * (1.0f - x[i * hidden + j]);
                c[j] += a * a;
            }
        double total = 0;
        for (int64_t j = 0; j < hidden; j++) total += (double)c[j] * s[j];
        ae_data(out)[0] = (float)(total / (double)rows);
        ae_tensor *inputs[2] = {h, w}, *saved[4] = {ch, cw, st, ct};
        out = ae_record(out, op, contractive_backward, 2, inputs, 4, saved, NULL, 0);
    }
    ae_release(ch);
    ae_release(cw);
    ae_release(st);
    ae_release(ct);
    return out;
}
