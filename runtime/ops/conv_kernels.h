/* conv_kernels.h: the data movement under conv2d and conv_transpose2d
 * (conv.c): im2col and col2im with their transposes to and from
 * sample-innermost order, the 8×8 transpose with its fused bias, ReLU and
 * mask, and the bias and ReLU passes.  Plain float kernels, shared
 * between the runtime's threads; no tensors, no autograd. */
#ifndef AE_OPS_CONV_KERNELS_H
#define AE_OPS_CONV_KERNELS_H

#include <stdbool.h>
#include <stdint.h>

/* a convolution seen from its column matrix (see conv.c) */
typedef struct {
    int64_t batch, channels, h, w;  /* the image */
    int64_t kh, kw, sh, sw, ph, pw; /* kernel, stride, padding */
    int64_t oh, ow;                 /* the grid of kernel positions */
} conv_geom;

/* the column matrix's rows: one per (channel, ki, kj) */
static inline int64_t conv_rows(const conv_geom *g) { return g->channels * g->kh * g->kw; }

/* the kernel covers the whole image with no padding: a fully connected layer */
static inline bool conv_is_dense(const conv_geom *g)
{
    return g->oh == 1 && g->ow == 1 && g->ph == 0 && g->pw == 0 && g->kh == g->h && g->kw == g->w;
}

/* What a transpose does to the values it moves.  Adds a per-row bias:
 * source row i gets bias[i / per] (the rows of a GEMM result are
 * (channel, position) pairs); a NULL bias adds nothing.  relu: the sum
 * then goes through max(·, 0), the ReLU that follows a layer fused into
 * its output.  mask (laid out as the source, or NULL): the value passes
 * where the mask is positive, else 0, that ReLU's backward fused into the
 * transpose of the output's gradient (the mask is the layer's output). */
typedef struct {
    const float *bias;
    int64_t per;
    bool relu;
    const float *mask;
} row_bias;

/* dst (cols × rows) = src (rows × cols)ᵀ (+ the row bias), or dst += it;
 * a column strip of src at a time, so each of dst's rows is written in one
 * sweep, and the strips shared between threads (at least 16384 elements
 * each) */
void ae_transpose_biased(const float *src, float *dst, int64_t rows, int64_t cols, bool add, row_bias bias);

/* the same without bias, ReLU or mask */
void ae_transpose_data(const float *src, float *dst, int64_t rows, int64_t cols, bool add);

/* the samples' data (batch × n) in sample-innermost order (n × batch):
 * the data itself for one sample, else transposed into buf */
const float *ae_samples_inner(const float *x, int64_t batch, int64_t n, float *buf);

/* floats of scratch im2col needs */
int64_t ae_im2col_scratch(const conv_geom *g);

/* floats of scratch col2im needs */
int64_t ae_col2im_scratch(const conv_geom *g);

/* col (rows × grid·batch) ← the patches of img (batch × c·h·w, N×C×H×W),
 * zeros where a patch overhangs the image, and where mask (laid out as
 * img, or NULL) is not positive; scratch has ae_im2col_scratch(g) floats */
void ae_im2col(const conv_geom *g, const float *img, const float *mask, float *col, float *scratch);

/* img (batch × c·h·w, N×C×H×W) = the columns scattered back to where
 * im2col took them from, plus bias[c] in channel c (bias may be NULL),
 * through max(·, 0) when relu; or img += that when add; scratch has
 * ae_col2im_scratch(g) floats */
void ae_col2im(const conv_geom *g, const float *col, float *img, const float *bias, bool add, bool relu,
               float *scratch);

/* y in channel-major order (c × per) set to bias[k] in channel k, or 0:
 * a GEMM or col2im then adds into it, so the bias costs no pass of its own */
void ae_fill_channels(float *y, int64_t c, int64_t per, const float *bias);

/* y (batch × c × p) += bias[k] in channel k (bias may be NULL), then
 * max(·, 0) when relu: the layers that are a GEMM on the tensors (7×7 on
 * 7×7), in one pass shared between the threads */
void ae_bias_relu(float *y, int64_t batch, int64_t c, int64_t p, const float *bias, bool relu);

/* gb[k] (+)= Σ over samples and positions of gy (batch × c × p), only
 * where mask (laid out as gy, or NULL) is positive: stored when gb is
 * fresh; a channel per thread at a time */
void ae_bias_grad(const float *gy, const float *mask, float *gb, bool fresh, int64_t batch, int64_t c, int64_t p);

/* y = max(y, 0) over n floats: the fused ReLU where no transpose passes
 * over the output (single samples) */
void ae_relu_inplace(float *y, int64_t n);

/* g = gy where y > 0, else 0, over n floats: the fused ReLU's backward */
void ae_relu_mask(const float *y, const float *gy, float *g, int64_t n);

#endif
