/* rnn.c: see rnn.h.
 *
 * A graph node takes at most four inputs, so the op is two nodes: the four
 * parameters are first copied into one flat tensor P (w_ih | w_hh | b_ih |
 * b_hh, a few kilobytes, whose backward hands each its slice), then the
 * recurrence takes x, h0, c0 and P and makes one flat tensor Y (output |
 * h_n | c_n), of which the results are views (narrow + reshape, so their
 * gradients flow back into Y's).
 *
 * Workspace kept for backward (ws), per step s (not per time: in reverse,
 * and with lengths, element b is at time t = len_b - 1 - s at step s):
 *   Hs[s]  the states before step s, (T+1)×B×H (Hs[T] is h_n)
 *   Cs[s]  the LSTM's cells, likewise
 *   A[s]   the gate activations, B×4H: i, f, g, o (LSTM) or r, z, n and
 *          W_hn h + b_hn (GRU, which needs it for r's gradient) */
#include "core/autograd.h"
#include "core/error.h"
#include "core/gemm.h"
#include "core/mathf.h"
#include "shape.h"
#include "rnn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    ae_rnn_cell cell;
    int64_t T, B, I, H;
    bool reverse, batch_first, bias;
    int64_t len[]; /* B lengths (all T when none were given) */
} rnn_state;

static int gates_of(ae_rnn_cell cell) { return cell == AE_RNN_LSTM ? 4 : 3; }

/* the gates use mathf.h's sigmoid and tanh, which vectorise: glibc's
 * tanhf and expf are scalar calls, which made the gates cost more than the
 * products */

/* ---- the parameters as one flat tensor ---------------------------------- */

static void params_backward(ae_node *n)
{
    const float *go = ae_gout(n);
    int64_t off = 0;
    for (int i = 0; i < n->ninputs; i++) {
        ae_tensor *in = n->inputs[i];
        if (!in) continue;
        int64_t count = ae_numel(in);
        bool fresh;
        float *g = ae_grad_slot(n, i, &fresh);
        if (g) {
            if (fresh) memcpy(g, go + off, (size_t)count * sizeof(float));
            else
                for (int64_t k = 0; k < count; k++) g[k] += go[off + k];
        }
        off += count;
    }
}

static ae_tensor *pack_params(ae_tensor *const *p, int count)
{
    int64_t total = 0;
    for (int i = 0; i < count; i++) total += p[i] ? ae_numel(p[i]) : 0;
    ae_tensor *out = ae_empty(1, &total);
    if (!out) return NULL;
    int64_t off = 0;
    for (int i = 0; i < count; i++) {
        if (!p[i]) continue;
        ae_tensor *c = ae_contiguous(p[i]);
        if (!c) {
            ae_release(out);
            return NULL;
        }
        memcpy(ae_data(out) + off, ae_data(c), (size_t)ae_numel(c) * sizeof(float));
        off += ae_numel(c);
        ae_release(c);
    }
    return ae_record(out, "rnn_params", params_backward, count, p, 0, NULL, NULL, 0);
}

/* ---- the recurrence ----------------------------------------------------- */

/* the row of x (and of the output) holding time t of element b */
static inline int64_t row_of(const rnn_state *s, int64_t t, int64_t b)
{
    return s->batch_first ? b * s->T + t : t * s->B + b;
}

/* the combined biases: bx (G·H) is added to every gate's pre-activation
 * (b_ih + b_hh, but only b_in for the GRU's n), bn (H) is b_hn */
static void combine_biases(const rnn_state *s, const float *b_ih, const float *b_hh, float *bx, float *bn)
{
    int64_t H = s->H, GH = gates_of(s->cell) * H;
    for (int64_t k = 0; k < GH; k++) bx[k] = s->bias ? b_ih[k] + b_hh[k] : 0.0f;
    if (s->cell == AE_RNN_GRU) {
        for (int64_t j = 0; j < H; j++) {
            bx[2 * H + j] = s->bias ? b_ih[2 * H + j] : 0.0f;
            bn[j] = s->bias ? b_hh[2 * H + j] : 0.0f;
        }
    }
}

/* one step for element b: gx its input projection, gh h·W_hhᵀ (without
 * bias); writes the new state (hn, cn), the output row and the activations
 * (into a scratch row when nothing is recorded) */
static void lstm_cell(int64_t H, const float *restrict gx, const float *restrict gh, const float *restrict bx,
                      const float *restrict cp, float *restrict hn, float *restrict cn, float *restrict y,
                      float *restrict acts)
{
    for (int64_t j = 0; j < H; j++) {
        float i = ae_sigmoidf(gx[j] + gh[j] + bx[j]);
        float f = ae_sigmoidf(gx[H + j] + gh[H + j] + bx[H + j]);
        float g = ae_tanhf(gx[2 * H + j] + gh[2 * H + j] + bx[2 * H + j]);
        float o = ae_sigmoidf(gx[3 * H + j] + gh[3 * H + j] + bx[3 * H + j]);
        float c = f * cp[j] + i * g;
        float h = o * ae_tanhf(c);
        cn[j] = c;
        hn[j] = h;
        y[j] = h;
        acts[j] = i;
        acts[H + j] = f;
        acts[2 * H + j] = g;
        acts[3 * H + j] = o;
    }
}

static void gru_cell(int64_t H, const float *restrict gx, const float *restrict gh, const float *restrict bx,
                     const float *restrict bn, const float *restrict hp, float *restrict hn, float *restrict y,
                     float *restrict acts)
{
    for (int64_t j = 0; j < H; j++) {
        float r = ae_sigmoidf(gx[j] + gh[j] + bx[j]);
        float z = ae_sigmoidf(gx[H + j] + gh[H + j] + bx[H + j]);
        float hh = gh[2 * H + j] + bn[j];
        float n = ae_tanhf(gx[2 * H + j] + bx[2 * H + j] + r * hh);
        /* ATen's form of (1 - z)·n + z·h */
        float h = n + z * (hp[j] - n);
        hn[j] = h;
        y[j] = h;
        acts[j] = r;
        acts[H + j] = z;
        acts[2 * H + j] = n;
        acts[3 * H + j] = hh;
    }
}

/* one step back for element b: a its activations, cp and cn the cells
 * before and after, dh the gradient reaching h' from later steps and gy
 * from the output; dc holds the gradient of c' and becomes c's; writes
 * the pre-activation gradients (gh for W_hh, gx for W_ih and x) and the
 * direct part of h's gradient (dhp; the GEMM adds dGh·W_hh) */
static void lstm_cell_backward(int64_t H, const float *restrict a, const float *restrict cp, const float *restrict cn,
                               const float *restrict dh, const float *restrict gy, float *restrict dc,
                               float *restrict gh, float *restrict gx, float *restrict dhp)
{
    for (int64_t j = 0; j < H; j++) {
        float i = a[j], f = a[H + j], g = a[2 * H + j], o = a[3 * H + j];
        float tc = ae_tanhf(cn[j]), dhv = dh[j] + gy[j];
        float dcv = dc[j] + dhv * o * (1.0f - tc * tc);
        float di = dcv * g * i * (1.0f - i), df = dcv * cp[j] * f * (1.0f - f);
        float dg = dcv * i * (1.0f - g * g), dout = dhv * tc * o * (1.0f - o);
        gh[j] = di;
        gh[H + j] = df;
        gh[2 * H + j] = dg;
        gh[3 * H + j] = dout;
        dc[j] = dcv * f;
    }
    /* the same numbers for x's row: copied after the loop, since eight
     * output streams at unknown offsets defeat gcc's vectoriser */
    memcpy(gx, gh, (size_t)(4 * H) * sizeof(float));
    memset(dhp, 0, (size_t)H * sizeof(float));
}

static void gru_cell_backward(int64_t H, const float *restrict a, const float *restrict hp, const float *restrict dh,
                              const float *restrict gy, float *restrict gh, float *restrict gx, float *restrict dhp)
{
    for (int64_t j = 0; j < H; j++) {
        float r = a[j], z = a[H + j], nv = a[2 * H + j], hh = a[3 * H + j];
        float dhv = dh[j] + gy[j];
        float dan = dhv * (1.0f - z) * (1.0f - nv * nv);
        float dr = dan * hh * r * (1.0f - r), dz = dhv * (hp[j] - nv) * z * (1.0f - z);
        gh[j] = gx[j] = dr;
        gh[H + j] = gx[H + j] = dz;
        gx[2 * H + j] = dan;
        gh[2 * H + j] = dan * r;
        dhp[j] = dhv * z;
    }
}

static void rnn_backward(ae_node *n)
{
    const rnn_state *s = ae_node_state(n);
    const int64_t T = s->T, B = s->B, I = s->I, H = s->H, G = gates_of(s->cell), GH = G * H, BH = B * H;
    const bool lstm = s->cell == AE_RNN_LSTM;
    const float *x = ae_data(n->saved[0]), *P = ae_data(n->saved[1]), *ws = ae_data(n->saved[2]);
    const float *w_ih = P, *w_hh = P + GH * I;
    const float *Hs = ws, *Cs = ws + (T + 1) * BH, *A = ws + (T + 1) * BH * (lstm ? 2 : 1);
    const float *go = ae_gout(n), *go_h = go + T * BH, *go_c = lstm ? go + (T + 1) * BH : NULL;

    /* dGh: the pre-activation gradients by step, for W_hh, b_hh and the
     * recurrence; dGx: by row of x, for x, W_ih and b_ih (the same
     * numbers but for the GRU's n, placed by time) */
    int64_t rows = T * B, dshape[1] = {rows * GH}, sshape[1] = {3 * BH};
    ae_tensor *tdh = ae_empty(1, dshape), *tdx = ae_zeros(1, dshape), *tst = ae_empty(1, sshape);
    if (!tdh || !tdx || !tst) {
        ae_release(tdh);
        ae_release(tdx);
        ae_release(tst);
        return;
    }
    float *dGh = ae_data(tdh), *dGx = ae_data(tdx);
    float *dh = ae_data(tst), *dh2 = dh + BH, *dc = dh + 2 * BH;
    memcpy(dh, go_h, (size_t)BH * sizeof(float));
    if (lstm) memcpy(dc, go_c, (size_t)BH * sizeof(float));
    else memset(dc, 0, (size_t)BH * sizeof(float));

    for (int64_t st = T - 1; st >= 0; st--) {
        for (int64_t b = 0; b < B; b++) {
            int64_t len = s->len[b];
            float *gh = dGh + (st * B + b) * GH, *nh = dh2 + b * H, *ch = dh + b * H, *cc = dc + b * H;
            if (st >= len) {
                /* past the end: the state passed through unchanged */
                memcpy(nh, ch, (size_t)H * sizeof(float));
                memset(gh, 0, (size_t)GH * sizeof(float));
                continue;
            }
            int64_t t = s->reverse ? len - 1 - st : st, row = row_of(s, t, b);
            const float *a = A + (st * B + b) * 4 * H, *gy = go + row * H;
            float *gx = dGx + row * GH;
            if (lstm)
                lstm_cell_backward(H, a, Cs + st * BH + b * H, Cs + (st + 1) * BH + b * H, ch, gy, cc, gh, gx, nh);
            else gru_cell_backward(H, a, Hs + st * BH + b * H, ch, gy, gh, gx, nh);
        }
        /* dh_prev += dGh_s · W_hh */
        ae_gemm(false, false, B, H, GH, 1.0f, dGh + st * B * GH, GH, w_hh, H, 1.0f, dh2, H);
        float *tmp = dh;
        dh = dh2;
        dh2 = tmp;
    }

    bool fresh;
    float *g;
    if ((g = ae_grad_slot(n, 0, &fresh)))
        ae_gemm(false, false, rows, I, GH, 1.0f, dGx, GH, w_ih, I, fresh ? 0.0f : 1.0f, g, I);
    if ((g = ae_grad_slot(n, 1, &fresh)))
        for (int64_t k = 0; k < BH; k++) g[k] = fresh ? dh[k] : g[k] + dh[k];
    if (lstm && (g = ae_grad_slot(n, 2, &fresh)))
        for (int64_t k = 0; k < BH; k++) g[k] = fresh ? dc[k] : g[k] + dc[k];
    if ((g = ae_grad_slot(n, 3, &fresh))) {
        float beta = fresh ? 0.0f : 1.0f;
        ae_gemm(true, false, GH, I, rows, 1.0f, dGx, GH, x, I, beta, g, I);
        ae_gemm(true, false, GH, H, rows, 1.0f, dGh, GH, Hs, H, beta, g + GH * I, H);
        if (s->bias) {
            float *gbi = g + GH * (I + H), *gbh = gbi + GH;
            if (fresh) {
                memset(gbi, 0, (size_t)(2 * GH) * sizeof(float));
            }
            /* column sums, row by row so that the inner loop is a vector add */
            for (int64_t r = 0; r < rows; r++) {
                const float *ux = dGx + r * GH, *uh = dGh + r * GH;
                for (int64_t k = 0; k < GH; k++) {
                    gbi[k] += ux[k];
                    gbh[k] += uh[k];
                }
            }
        }
    }
    ae_release(tdh);
    ae_release(tdx);
    ae_release(tst);
}

static int check_args(const char *op, ae_rnn_cell cell, ae_tensor *x, ae_tensor *h0, ae_tensor *c0, ae_tensor *w_ih,
                      ae_tensor *w_hh, ae_tensor *b_ih, ae_tensor *b_hh, const int64_t *lengths, bool batch_first)
{
    char s1[AE_SHAPE_STR], s2[AE_SHAPE_STR];
    int G = gates_of(cell);
    if (w_ih->ndim != 2 || w_hh->ndim != 2 || w_ih->shape[0] % G != 0 || w_ih->shape[0] == 0)
        return ae_failc("%s: weight_ih must be %d·hidden × input and weight_hh %d·hidden × hidden, got %s and %s", op,
                        G, G, ae_shape_str(w_ih, s1), ae_shape_str(w_hh, s2));
    int64_t H = w_ih->shape[0] / G, I = w_ih->shape[1];
    if (w_hh->shape[0] != G * H || w_hh->shape[1] != H)
        return ae_failc("%s: weight_hh should be %lld×%lld for weight_ih %s, got %s", op, (long long)(G * H),
                        (long long)H, ae_shape_str(w_ih, s1), ae_shape_str(w_hh, s2));
    if ((b_ih == NULL) != (b_hh == NULL)) return ae_failc("%s: give both biases or neither", op);
    if (b_ih && (b_ih->ndim != 1 || b_ih->shape[0] != G * H || b_hh->ndim != 1 || b_hh->shape[0] != G * H))
        return ae_failc("%s: the biases should have shape %lld, got %s and %s", op, (long long)(G * H),
                        ae_shape_str(b_ih, s1), ae_shape_str(b_hh, s2));
    if (x->ndim != 3 || x->shape[2] != I)
        return ae_failc("%s: input must be %s × %lld (input_size), got %s", op,
                        batch_first ? "batch × time" : "time × batch", (long long)I, ae_shape_str(x, s1));
    int64_t T = x->shape[batch_first ? 1 : 0], B = x->shape[batch_first ? 0 : 1];
    if (T < 1 || B < 1) return ae_failc("%s: input %s has no steps or no sequences", op, ae_shape_str(x, s1));
    ae_tensor *states[2] = {h0, c0};
    for (int k = 0; k < 2; k++) {
        ae_tensor *st = states[k];
        if (st && (st->ndim != 2 || st->shape[0] != B || st->shape[1] != H))
            return ae_failc("%s: %s must be %lld×%lld (batch × hidden), got %s", op, k ? "c0" : "h0", (long long)B,
                            (long long)H, ae_shape_str(st, s1));
    }
    if (c0 && cell != AE_RNN_LSTM) return ae_failc("%s: only the LSTM has a cell state", op);
    if (lengths)
        for (int64_t b = 0; b < B; b++)
            if (lengths[b] < 1 || lengths[b] > T)
                return ae_failc("%s: lengths[%lld] = %lld is outside 1..%lld (the input's time steps)", op,
                                (long long)b + 1, (long long)lengths[b], (long long)T);
    return 0;
}

/* out, h_n and c_n as views of Y */
static int split_result(ae_tensor *Y, const rnn_state *s, ae_rnn_result *out)
{
    int64_t T = s->T, B = s->B, H = s->H, BH = B * H;
    int64_t oshape[3] = {s->batch_first ? B : T, s->batch_first ? T : B, H}, hshape[2] = {B, H};
    ae_tensor *v;
    v = ae_narrow(Y, 0, 0, T * BH);
    out->output = v ? ae_reshape(v, 3, oshape) : NULL;
    ae_release(v);
    v = ae_narrow(Y, 0, T * BH, BH);
    out->h_n = v ? ae_reshape(v, 2, hshape) : NULL;
    ae_release(v);
    if (s->cell == AE_RNN_LSTM) {
        v = ae_narrow(Y, 0, (T + 1) * BH, BH);
        out->c_n = v ? ae_reshape(v, 2, hshape) : NULL;
        ae_release(v);
    }
    if (!out->output || !out->h_n || (s->cell == AE_RNN_LSTM && !out->c_n)) {
        ae_release(out->output);
        ae_release(out->h_n);
        ae_release(out->c_n);
        *out = (ae_rnn_result){0};
        return -1;
    }
    return 0;
}

int ae_rnn(ae_rnn_cell cell, ae_tensor *x, ae_tensor *h0, ae_tensor *c0, ae_tensor *w_ih, ae_tensor *w_hh,
           ae_tensor *b_ih, ae_tensor *b_hh, const int64_t *lengths, bool reverse, bool batch_first, ae_rnn_result *out)
{
    const char *op = cell == AE_RNN_LSTM ? "lstm" : "gru";
    *out = (ae_rnn_result){0};
    if (check_args(op, cell, x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths, batch_first) != 0) return -1;
    const int64_t G = gates_of(cell), H = w_ih->shape[0] / G, I = w_ih->shape[1], GH = G * H;
    const int64_t T = x->shape[batch_first ? 1 : 0], B = x->shape[batch_first ? 0 : 1], BH = B * H;
    const bool lstm = cell == AE_RNN_LSTM;

    size_t ssize = sizeof(rnn_state) + (size_t)B * sizeof(int64_t);
    rnn_state *s = malloc(ssize);
    if (!s) return ae_failc("%s: out of memory", op);
    *s = (rnn_state){cell, T, B, I, H, reverse, batch_first, b_ih != NULL};
    int64_t maxlen = 0;
    for (int64_t b = 0; b < B; b++) {
        s->len[b] = lengths ? lengths[b] : T;
        if (s->len[b] > maxlen) maxlen = s->len[b];
    }

    ae_tensor *pin[4] = {w_ih, w_hh, b_ih, b_hh};
    ae_tensor *P = pack_params(pin, b_ih ? 4 : 2);
    ae_tensor *xc = P ? ae_contiguous(x) : NULL;
    ae_tensor *ins[4] = {x, h0, c0, P};
    bool record = xc && ae_any_requires_grad(4, ins);
    /* recording keeps every step's states and activations; otherwise two
     * states are enough */
    int64_t nstates = record ? T + 1 : 2;
    int64_t wsize = nstates * BH * (lstm ? 2 : 1) + (record ? T * B * 4 * H : 0);
    int64_t ysize = (T + (lstm ? 2 : 1)) * BH, gxsize = T * B * GH, tsize = BH * GH + 2 * GH + 4 * H;
    ae_tensor *ws = xc ? ae_empty(1, &wsize) : NULL;
    ae_tensor *Y = ws ? ae_empty(1, &ysize) : NULL;
    ae_tensor *tgx = Y ? ae_empty(1, &gxsize) : NULL, *ttmp = tgx ? ae_empty(1, &tsize) : NULL;
    int rc = -1;
    if (!ttmp) goto done;

    const float *P_ = ae_data(P), *w_ih_ = P_, *w_hh_ = P_ + GH * I;
    float *Hs = ae_data(ws), *Cs = Hs + nstates * BH, *A = record ? Hs + nstates * BH * (lstm ? 2 : 1) : NULL;
    float *y = ae_data(Y), *Gx = ae_data(tgx), *Gh = ae_data(ttmp), *bx = Gh + BH * GH, *bn = bx + GH,
          *scratch = bn + H;
    combine_biases(s, b_ih ? P_ + GH * (I + H) : NULL, b_ih ? P_ + GH * (I + H) + GH : NULL, bx, bn);

    /* the input projections of every step: one GEMM over x's rows */
    ae_gemm(false, true, T * B, GH, I, 1.0f, ae_data(xc), I, w_ih_, I, 0.0f, Gx, GH);
    if (h0) {
        ae_tensor *c = ae_contiguous(h0);
        if (!c) goto done;
        memcpy(Hs, ae_data(c), (size_t)BH * sizeof(float));
        ae_release(c);
    } else {
        memset(Hs, 0, (size_t)BH * sizeof(float));
    }
    if (lstm) {
        ae_tensor *c = c0 ? ae_contiguous(c0) : NULL;
        if (c0 && !c) goto done;
        if (c) memcpy(Cs, ae_data(c), (size_t)BH * sizeof(float));
        else memset(Cs, 0, (size_t)BH * sizeof(float));
        ae_release(c);
    }
    /* the output is 0 past each sequence's end */
    if (lengths)
        for (int64_t b = 0; b < B; b++)
            for (int64_t t = s->len[b]; t < T; t++) memset(y + row_of(s, t, b) * H, 0, (size_t)H * sizeof(float));

    for (int64_t st = 0; st < T; st++) {
        int64_t cur = record ? st : st % 2, nxt = record ? st + 1 : (st + 1) % 2;
        float *hp = Hs + cur * BH, *hn = Hs + nxt * BH, *cp = Cs + cur * BH, *cn = Cs + nxt * BH;
        if (st < maxlen) ae_gemm(false, true, B, GH, H, 1.0f, hp, H, w_hh_, H, 0.0f, Gh, GH);
        for (int64_t b = 0; b < B; b++) {
            int64_t len = s->len[b];
            if (st >= len) {
                memcpy(hn + b * H, hp + b * H, (size_t)H * sizeof(float));
                if (lstm) memcpy(cn + b * H, cp + b * H, (size_t)H * sizeof(float));
                if (A) memset(A + (st * B + b) * 4 * H, 0, (size_t)(4 * H) * sizeof(float));
                continue;
            }
            int64_t t = reverse ? len - 1 - st : st, row = row_of(s, t, b);
            float *acts = A ? A + (st * B + b) * 4 * H : scratch;
            if (lstm)
                lstm_cell(H, Gx + row * GH, Gh + b * GH, bx, cp + b * H, hn + b * H, cn + b * H, y + row * H, acts);
            else gru_cell(H, Gx + row * GH, Gh + b * GH, bx, bn, hp + b * H, hn + b * H, y + row * H, acts);
        }
    }
    int64_t last = record ? T : T % 2;
    memcpy(y + T * BH, Hs + last * BH, (size_t)BH * sizeof(float));
    if (lstm) memcpy(y + (T + 1) * BH, Cs + last * BH, (size_t)BH * sizeof(float));

    if (record) {
        ae_tensor *saved[3] = {xc, P, ws};
        Y = ae_record(Y, op, rnn_backward, 4, ins, 3, saved, s, ssize);
        if (!Y) goto done;
    }
    rc = split_result(Y, s, out);
done:
    ae_release(P);
    ae_release(xc);
    ae_release(ws);
    ae_release(Y);
    ae_release(tgx);
    ae_release(ttmp);
    free(s);
    return rc;
}
