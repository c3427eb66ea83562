/* pool.c: max_pool2d and nearest-neighbour upsampling on N×C×H×W
 * tensors, forward and backward side by side.
 *
 * max_pool2d keeps, for each output element, where its maximum came from
 * (an int32 offset within the input plane, in a pool buffer), so that
 * backward routes the gradient there without comparing values again. */
#include "conv.h"
#include "pool.h"
#include "core/autograd.h"
#include "core/error.h"

#include <math.h>
#include <string.h>

#define TIMES "\xC3\x97"

static int check_4d(const char *op, ae_tensor *x)
{
    char s[AE_SHAPE_STR];
    if (x->ndim != 4)
        return ae_failc("%s: input must be 4-D (N" TIMES "C" TIMES "H" TIMES "W), got %s", op, ae_shape_str(x, s));
    return 0;
}

/* ------------------------------------------------------------ max_pool2d */

typedef struct {
    int64_t h, w, kh, kw, sh, sw, ph, pw, oh, ow;
} pool_geom;

/* one plane: y and the argmax offsets idx; the comparison is PyTorch's,
 * so the first maximum wins and a NaN propagates */
static void max_pool_plane(const pool_geom *g, const float *x, float *y, int32_t *idx)
{
    for (int64_t oy = 0; oy < g->oh; oy++) {
        int64_t y0 = oy * g->sh - g->ph, y1 = y0 + g->kh;
        if (y0 < 0) y0 = 0;
        if (y1 > g->h) y1 = g->h;
        for (int64_t ox = 0; ox < g->ow; ox++) {
            int64_t x0 = ox * g->sw - g->pw, x1 = x0 + g->kw;
            if (x0 < 0) x0 = 0;
            if (x1 > g->w) x1 = g->w;
            float best = -INFINITY;
            int64_t at = y0 * g->w + x0;
            for (int64_t i = y0; i < y1; i++)
                for (int64_t j = x0; j < x1; j++) {
                    float v = x[i * g->w + j];
                    if (v > best || isnan(v)) {
                        best = v;
                        at = i * g->w + j;
                    }
                }
            y[oy * g->ow + ox] = best;
            idx[oy * g->ow + ox] = (int32_t)at;
        }
    }
}

/* saved[0]: the argmax offsets (int32 stored in a float buffer) */
static void max_pool_backward(ae_node *n)
{
    float *gx = ae_grad_of(n, 0);
    if (!gx) return;
    const int32_t *idx = (const int32_t *)ae_data(n->saved[0]);
    const float *gy = ae_gout(n);
    ae_tensor *x = n->inputs[0];
    int64_t planes = x->shape[0] * x->shape[1], in = x->shape[2] * x->shape[3];
    int64_t out = n->out_shape[2] * n->out_shape[3];
    for (int64_t p = 0; p < planes; p++)
        for (int64_t q = 0; q < out; q++) gx[p * in + idx[p * out + q]] += gy[p * out + q];
}

ae_tensor *ae_max_pool2d(ae_tensor *x, int64_t k_h, int64_t k_w, int64_t stride_h, int64_t stride_w, int64_t pad_h,
                         int64_t pad_w)
{
    char s[AE_SHAPE_STR];
    const char *op = "max_pool2d";
    if (check_4d(op, x) != 0) return NULL;
    if (k_h <= 0 || k_w <= 0 || stride_h <= 0 || stride_w <= 0)
        return ae_fail("%s: kernel %lld" TIMES "%lld and stride %lld" TIMES "%lld must be positive", op, (long long)k_h,
                       (long long)k_w, (long long)stride_h, (long long)stride_w);
    if (pad_h < 0 || pad_w < 0 || 2 * pad_h > k_h || 2 * pad_w > k_w)
        return ae_fail("%s: padding %lld" TIMES "%lld must be non-negative and at most half the "
                       "kernel %lld" TIMES "%lld",
                       op, (long long)pad_h, (long long)pad_w, (long long)k_h, (long long)k_w);
    if (x->shape[2] * x->shape[3] > INT32_MAX)
        return ae_fail("%s: input planes of %s are too large", op, ae_shape_str(x, s));
    pool_geom g = {x->shape[2], x->shape[3], k_h, k_w, stride_h, stride_w, pad_h, pad_w, 0, 0};
    if (g.h + 2 * pad_h < k_h || g.w + 2 * pad_w < k_w)
        return ae_fail("%s: kernel %lld" TIMES "%lld is larger than the padded input %lld" TIMES "%lld (input %s)", op,
                       (long long)k_h, (long long)k_w, (long long)(g.h + 2 * pad_h), (long long)(g.w + 2 * pad_w),
                       ae_shape_str(x, s));
    g.oh = (g.h + 2 * pad_h - k_h) / stride_h + 1;
    g.ow = (g.w + 2 * pad_w - k_w) / stride_w + 1;
    int64_t shape[4] = {x->shape[0], x->shape[1], g.oh, g.ow};
    ae_tensor *cx = ae_contiguous(x);
    ae_tensor *y = cx ? ae_empty(4, shape) : NULL;
    ae_tensor *idx = y ? ae_empty(4, shape) : NULL;
    if (idx) {
        int64_t planes = shape[0] * shape[1], in = g.h * g.w, out = g.oh * g.ow;
        /* the buffer is raw pool memory; from here on it holds int32s */
        int32_t *pi = (int32_t *)(void *)ae_data(idx);
        for (int64_t p = 0; p < planes; p++)
            max_pool_plane(&g, ae_data(cx) + p * in, ae_data(y) + p * out, pi + p * out);
        y = ae_record(y, op, max_pool_backward, 1, &x, 1, &idx, NULL, 0);
    } else {
        ae_release(y);
        y = NULL;
    }
    ae_release(idx);
    ae_release(cx);
    return y;
}

/* ---------------------------------------------------- upsample_nearest2d */

typedef struct {
    int64_t sh, sw; /* the scale factors */
} upsample_state;

static void upsample_backward(ae_node *n)
{
    float *gx = ae_grad_of(n, 0);
    if (!gx) return;
    ae_tensor *x = n->inputs[0];
    int64_t planes = x->shape[0] * x->shape[1], h = x->shape[2], w = x->shape[3];
    const upsample_state *s = ae_node_state(n);
    int64_t sh = s->sh, sw = s->sw, ow = w * sw;
    const float *gy = ae_gout(n);
    for (int64_t p = 0; p < planes; p++)
        for (int64_t i = 0; i < h; i++) {
            float *d = gx + (p * h + i) * w;
            for (int64_t r = 0; r < sh; r++) {
                const float *s = gy + ((p * h + i) * sh + r) * ow;
                for (int64_t j = 0; j < w; j++) {
                    float acc = 0.0f;
                    for (int64_t q = 0; q < sw; q++) acc += s[j * sw + q];
                    d[j] += acc;
                }
            }
        }
}

ae_tensor *ae_upsample_nearest2d(ae_tensor *x, int64_t scale_h, int64_t scale_w)
{
    const char *op = "upsample_nearest";
    if (check_4d(op, x) != 0) return NULL;
    if (scale_h <= 0 || scale_w <= 0 || scale_h > (1 << 20) || scale_w > (1 << 20))
        return ae_fail("%s: scale_factor %lld" TIMES "%lld must be a positive integer", op, (long long)scale_h,
                       (long long)scale_w);
    int64_t h = x->shape[2], w = x->shape[3];
    int64_t shape[4] = {x->shape[0], x->shape[1], h * scale_h, w * scale_w};
    if (ae_check_shape(op, 4, shape) < 0) return NULL;
    ae_tensor *cx = ae_contiguous(x);
    ae_tensor *y = cx ? ae_empty(4, shape) : NULL;
    if (y) {
        int64_t rows = shape[0] * shape[1] * h, ow = shape[3];
        const float *px = ae_data(cx);
        float *py = ae_data(y);
        /* build each output row once, then copy it down the block */
        for (int64_t r = 0; r < rows; r++) {
            float *d = py + r * scale_h * ow;
            for (int64_t j = 0; j < w; j++)
                for (int64_t q = 0; q < scale_w; q++) d[j * scale_w + q] = px[r * w + j];
            for (int64_t k = 1; k < scale_h; k++) memcpy(d + k * ow, d, (size_t)ow * sizeof(float));
        }
        const upsample_state s = {scale_h, scale_w};
        y = ae_record(y, op, upsample_backward, 1, &x, 0, NULL, &s, sizeof s);
    }
    ae_release(cx);
    return y;
}
