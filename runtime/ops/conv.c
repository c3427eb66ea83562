/* conv.c: conv2d and conv_transpose2d, forward and backward, and their
 * 1-D forms conv1d and conv_transpose1d.
 *
 * Both go through one column matrix.  Take conv2d's input as the "image"
 * (batch × channels × h × w) and its output positions as the "grid"
 * (oh × ow).  The column matrix has a row per (channel, ki, kj) and a
 * column per (grid position, sample): im2col gathers the image into it,
 * col2im scatters it back, adding.  Then
 *     conv2d            y = W · im2col(x)         (out × grid·batch)
 *     its x-gradient    gx += col2im(Wᵀ · gy)
 *     conv_transpose2d  y = col2im(Wᵀ · x)        (the same two, swapped:
 *     its x-gradient    gx += W · im2col(gy)       it is conv2d's adjoint)
 * with the whole batch folded into the GEMM's N dimension, so each pass
 * is one large GEMM rather than a small one per sample (a batch too large
 * for a 16 MB column matrix goes through in chunks, see COL_LIMIT).
 *
 * The sample is the innermost index of the column matrix; the layout
 * kernels (im2col, col2im, the transposes, the bias and ReLU passes) are
 * in conv_kernels.c.
 *
 * When the kernel covers the whole image with no padding (the tutorial's
 * 7×7 layers on 7×7 maps) the column matrix is just the batch's
 * transpose, and the layer is a fully connected one: those take a GEMM on
 * the tensors themselves and skip im2col and the transposes.
 *
 * Buffers come from the pool (ae_empty/ae_release), so a training loop
 * allocates nothing in its steady state.
 *
 * The data movement is shared between the runtime's threads like the
 * GEMMs.  Backward stores into fresh gradient buffers instead of
 * zero-filling them.
 *
 * A ReLU after either op can be fused into it (conv2d_relu,
 * conv_transpose2d_relu, which nn.Sequential records for a conv layer
 * followed by nn.ReLU): it is applied in the pass that writes the output,
 * and its backward mask in the pass that reads the output's gradient, so
 * that the ReLU costs no pass over the activations of its own (see
 * masked_gout).
 *
 * A 1-D convolution over N×C×L is the 2-D one over N×C×1×L with an
 * out×in×1×k kernel (stride and padding 1 and 0 along the height): the
 * memory of a contiguous N×C×L tensor is that of the N×C×1×L one, so the
 * 1-D ops run the same code on the same data, nothing copied.  Their
 * nodes record the 1-D tensors themselves; the backwards read every shape
 * through shape4, so the gradients come out in the 1-D shapes. */
#include "conv.h"
#include "conv_kernels.h"
#include "core/autograd.h"
#include "core/error.h"
#include "core/gemm.h"

#include <stdbool.h>

#define TIMES "\xC3\x97"

static ae_tensor *scratch(int64_t n) { return ae_empty(1, &n); }

/* A batch goes through the column matrix in chunks of this many samples:
 * the whole of a training batch, but an evaluation batch of thousands
 * does not make a column matrix of hundreds of MB. */
#define COL_LIMIT ((int64_t)1 << 22) /* floats, 16 MB */

static int64_t chunk_of(const conv_geom *g)
{
    int64_t per = conv_rows(g) * g->oh * g->ow, c = COL_LIMIT / (per > 0 ? per : 1);
    if (c > g->batch) c = g->batch;
    return c > 0 ? c : 1;
}

/* g for a chunk of `batch` samples */
static conv_geom chunk_geom(const conv_geom *g, int64_t batch)
{
    conv_geom c = *g;
    c.batch = batch;
    return c;
}

/* t[i] = a scratch buffer of n[i] floats, or NULL where n[i] is 0; all
 * or none */
static int scratches(int count, ae_tensor **t, const int64_t *n)
{
    int failed = 0;
    for (int i = 0; i < count; i++) {
        t[i] = n[i] > 0 && !failed ? scratch(n[i]) : NULL;
        failed |= n[i] > 0 && !t[i];
    }
    if (!failed) return 0;
    for (int i = 0; i < count; i++) {
        ae_release(t[i]);
        t[i] = NULL;
    }
    return -1;
}

static float *data_or_null(ae_tensor *t) { return t ? ae_data(t) : NULL; }

/* the shape of an operand of a 1-D (3-D tensor) or 2-D (4-D tensor)
 * convolution as the 2-D op sees it: N×C×L as N×C×1×L */
static void shape4(int ndim, const int64_t *shape, int64_t s[4])
{
    if (ndim == 3) {
        s[0] = shape[0], s[1] = shape[1], s[2] = 1, s[3] = shape[2];
    } else {
        for (int i = 0; i < 4; i++) s[i] = shape[i];
    }
}

/* a size given as an (h, w) pair, as the user gave it: "3×2" for a 2-D
 * op, "2" for a 1-D one (whose height sizes are fixed); buf holds
 * AE_SHAPE_STR bytes */
static const char *sizes_str(int nd, const int64_t v[2], char *buf) { return ae_dims_str(nd, v + 2 - nd, buf); }

/* the four ops' names and the shapes their messages describe; nd is the
 * number of spatial dimensions */
typedef struct {
    int nd;
    const char *op, *op_relu, *input, *weight; /* op_relu: the node's name with the ReLU fused */
} conv_kind;

static const conv_kind CONV2D = {2, "conv2d", "conv2d_relu", "N" TIMES "C" TIMES "H" TIMES "W",
                                 "out" TIMES "in" TIMES "kh" TIMES "kw"};
static const conv_kind CONV1D = {1, "conv1d", "conv1d_relu", "N" TIMES "C" TIMES "L", "out" TIMES "in" TIMES "k"};
static const conv_kind CONVT2D = {2, "conv_transpose2d", "conv_transpose2d_relu", "N" TIMES "C" TIMES "H" TIMES "W",
                                  "in" TIMES "out" TIMES "kh" TIMES "kw"};
static const conv_kind CONVT1D = {1, "conv_transpose1d", "conv_transpose1d_relu", "N" TIMES "C" TIMES "L",
                                  "in" TIMES "out" TIMES "k"};

/* checks shared by the four ops; sizes are (h, w) pairs (h is 1 or 0
 * for a 1-D op); the weight's dimension in_dim counts the input channels */
static int check_common(const conv_kind *kd, int in_dim, ae_tensor *x, ae_tensor *w, const int64_t stride[2],
                        const int64_t pad[2])
{
    char s1[AE_SHAPE_STR], s2[AE_SHAPE_STR];
    const char *op = kd->op;
    int rank = kd->nd + 2;
    if (x->ndim != rank)
        return ae_failc("%s: input must be %d-D (%s), got %s", op, rank, kd->input, ae_shape_str(x, s1));
    if (w->ndim != rank)
        return ae_failc("%s: weight must be %d-D (%s), got %s", op, rank, kd->weight, ae_shape_str(w, s1));
    if (x->shape[1] != w->shape[in_dim])
        return ae_failc("%s: input %s has %lld channels, weight %s expects %lld", op, ae_shape_str(x, s1),
                        (long long)x->shape[1], ae_shape_str(w, s2), (long long)w->shape[in_dim]);
    for (int i = 1; i < rank; i++)
        if (x->shape[i] == 0)
            return ae_failc("%s: input %s has an empty channel or spatial dimension", op, ae_shape_str(x, s1));
    for (int i = 0; i < rank; i++)
        if (w->shape[i] == 0) return ae_failc("%s: weight %s is empty", op, ae_shape_str(w, s1));
    if (stride[0] <= 0 || stride[1] <= 0)
        return ae_failc("%s: stride must be positive, got %s", op, sizes_str(kd->nd, stride, s1));
    if (pad[0] < 0 || pad[1] < 0)
        return ae_failc("%s: padding must be non-negative, got %s", op, sizes_str(kd->nd, pad, s1));
    /* beyond this the size arithmetic below could overflow */
    const int64_t big = (int64_t)1 << 31;
    if (stride[0] > big || stride[1] > big || pad[0] > big || pad[1] > big)
        return ae_failc("%s: stride %s or padding %s is too large", op, sizes_str(kd->nd, stride, s1),
                        sizes_str(kd->nd, pad, s2));
    return 0;
}

static int check_bias(const char *op, ae_tensor *b, ae_tensor *w, int64_t out_channels)
{
    char s1[AE_SHAPE_STR], s2[AE_SHAPE_STR];
    if (b && (b->ndim != 1 || b->shape[0] != out_channels))
        return ae_failc("%s: bias %s should have shape %lld (weight %s has %lld output channels)", op,
                        ae_shape_str(b, s1), (long long)out_channels, ae_shape_str(w, s2), (long long)out_channels);
    return 0;
}

/* both ops' state: stride and padding, (h, w) each */
typedef struct {
    int64_t stride[2], pad[2];
} conv_state;

/* contiguous copies of the operands (or the operands themselves, retained) */
typedef struct {
    ae_tensor *x, *w, *b;
} operands;

static int contiguous_operands(ae_tensor *x, ae_tensor *w, ae_tensor *b, operands *o)
{
    o->x = ae_contiguous(x);
    o->w = o->x ? ae_contiguous(w) : NULL;
    o->b = o->w && b ? ae_contiguous(b) : NULL;
    return o->w && (o->b || !b) ? 0 : -1;
}

static void release_operands(operands *o)
{
    ae_release(o->x);
    ae_release(o->w);
    ae_release(o->b);
}

/* ---------------------------------------------------------------- conv2d */

/* the geometry of conv2d from its input's and weight's shapes */
static void conv2d_geom(const int64_t *xs, const int64_t *ws, const int64_t stride[2], const int64_t pad[2],
                        conv_geom *g)
{
    int64_t oh = (xs[2] + 2 * pad[0] - ws[2]) / stride[0] + 1, ow = (xs[3] + 2 * pad[1] - ws[3]) / stride[1] + 1;
    *g = (conv_geom){xs[0], xs[1], xs[2], xs[3], ws[2], ws[3], stride[0], stride[1], pad[0], pad[1], oh, ow};
}

/* y (batch × out × oh × ow) from contiguous operands.  Returns through
 * *savep what backward needs for W's gradient: the column matrix when the
 * batch went through in one chunk, else x (backward rebuilds the columns) */
static int conv2d_compute(const conv_geom *g, int64_t out_c, const operands *o, bool relu, ae_tensor *y,
                          ae_tensor **savep)
{
    int64_t k = conv_rows(g), grid = g->oh * g->ow, nb = g->batch, image = g->channels * g->h * g->w;
    const float *px = ae_data(o->x), *pw = ae_data(o->w), *pb = o->b ? ae_data(o->b) : NULL;
    float *py = ae_data(y);
    *savep = NULL;
    if (conv_is_dense(g)) {
        /* y (batch × out) = x (batch × k) · Wᵀ */
        ae_gemm(false, true, nb, out_c, k, 1.0f, px, k, pw, k, 0.0f, py, out_c);
        ae_bias_relu(py, nb, out_c, 1, pb, relu);
        *savep = ae_retain(o->x);
        return 0;
    }
    conv_geom c = *g;
    int64_t chunk = chunk_of(g);
    conv_geom cg = chunk_geom(g, chunk);
    /* column matrix, im2col's scratch and y of a chunk in sample-innermost order */
    ae_tensor *t[3];
    const int64_t sizes[3] = {k * grid * chunk, ae_im2col_scratch(&cg), chunk > 1 ? out_c * grid * chunk : 0};
    if (scratches(3, t, sizes) != 0) return -1;
    for (int64_t b0 = 0; b0 < nb; b0 += chunk) {
        c.batch = nb - b0 < chunk ? nb - b0 : chunk;
        int64_t n = c.batch * grid;
        float *ys = py + b0 * out_c * grid;
        ae_im2col(&c, px + b0 * image, NULL, ae_data(t[0]), ae_data(t[1]));
        /* (out × grid·batch) is y's transpose; the bias goes in with the
         * transpose back, or for one sample before the GEMM adds to it */
        if (c.batch > 1) {
            float *dst = ae_data(t[2]);
            ae_gemm(false, false, out_c, n, k, 1.0f, pw, k, ae_data(t[0]), n, 0.0f, dst, n);
            ae_transpose_biased(dst, ys, out_c * grid, c.batch, false, (row_bias){pb, grid, relu, NULL});
        } else {
            if (pb) ae_fill_channels(ys, out_c, n, pb);
            ae_gemm(false, false, out_c, n, k, 1.0f, pw, k, ae_data(t[0]), n, pb ? 1.0f : 0.0f, ys, n);
            if (relu) ae_relu_inplace(ys, out_c * n);
        }
    }
    *savep = chunk >= nb ? ae_retain(t[0]) : ae_retain(o->x);
    for (int i = 0; i < 3; i++) ae_release(t[i]);
    return 0;
}

/* A layer followed by a ReLU can be recorded as one op (nn.Sequential
 * does so, as conv2d_relu or conv_transpose2d_relu): the ReLU goes into
 * the pass that writes the output, and its backward, the output's
 * gradient masked where the output (saved[2]) is not positive, into the
 * pass that reads that gradient (the transpose to sample-innermost, or
 * im2col's), so that the ReLU costs no pass of its own either way.  The
 * numbers are those of the two ops.  Where no pass reads the gradient
 * (the layers that are a GEMM on the tensors themselves, one sample per
 * chunk) the mask takes a pass of its own, into a scratch buffer: NULL
 * when that fails (the pool has recorded the message). */
static ae_tensor *masked_gout(ae_node *n)
{
    int64_t count = ae_numel(n->gout);
    ae_tensor *t = scratch(count);
    if (!t) return NULL;
    ae_relu_mask(ae_data(n->saved[2]), ae_gout(n), ae_data(t), count);
    return t;
}

/* What both backwards start from: the output's gradient gy; the fused
 * ReLU's mask still to apply (NULL when there is none, or when mask_now
 * had it applied in a pass of its own, into masked); the gradient buffers
 * (NULL where not needed: an input whose requires_grad was switched on
 * after the forward pass gets none, nothing was kept for it) and whether
 * each is fresh; and the tensors kept for them.  -1 when the masked
 * scratch could not be made: backward has no error channel, so the
 * gradients are left out and the pool has recorded the message. */
typedef struct {
    const float *gy, *mask, *kept, *w;
    ae_tensor *masked;
    float *gx, *gw, *gb;
    bool fx, fw, fb;
} conv_grads;

static int conv_grads_of(ae_node *n, bool mask_now, conv_grads *d)
{
    d->gy = ae_gout(n);
    d->mask = n->saved[2] ? ae_data(n->saved[2]) : NULL;
    d->masked = NULL;
    if (d->mask && mask_now) {
        if (!(d->masked = masked_gout(n))) return -1;
        d->gy = ae_data(d->masked);
        d->mask = NULL;
    }
    d->fx = d->fw = d->fb = false;
    d->gx = n->saved[1] ? ae_grad_slot(n, 0, &d->fx) : NULL;
    d->gw = n->saved[0] ? ae_grad_slot(n, 1, &d->fw) : NULL;
    d->gb = n->ninputs > 2 ? ae_grad_slot(n, 2, &d->fb) : NULL;
    d->kept = d->gw ? ae_data(n->saved[0]) : NULL;
    d->w = d->gx ? ae_data(n->saved[1]) : NULL;
    return 0;
}

/* saved[0]: the column matrix or x (see conv2d_compute), kept when W
 * needs a gradient; saved[1]: W, kept when x needs one; saved[2]: the
 * output, when a ReLU was fused into it (see masked_gout) */
static void conv2d_backward(ae_node *n)
{
    const conv_state *s = ae_node_state(n);
    int64_t xs[4], ws[4];
    shape4(n->inputs[0]->ndim, n->inputs[0]->shape, xs);
    shape4(n->inputs[1]->ndim, n->inputs[1]->shape, ws);
    conv_geom g;
    conv2d_geom(xs, ws, s->stride, s->pad, &g);
    int64_t out_c = n->out_shape[1], k = conv_rows(&g), grid = g.oh * g.ow;
    int64_t nb = g.batch, image = g.channels * g.h * g.w, chunk = chunk_of(&g);
    conv_grads d;
    if (conv_grads_of(n, conv_is_dense(&g) || chunk == 1, &d) != 0) return;
    /* with a mask, the bias's gradient is summed from the masked gradient
     * sample-innermost, below */
    if (d.gb && !d.mask) ae_bias_grad(d.gy, NULL, d.gb, d.fb, nb, out_c, grid);
    if (conv_is_dense(&g)) {
        if (d.gw) ae_gemm(true, false, out_c, k, nb, 1.0f, d.gy, out_c, d.kept, k, d.fw ? 0.0f : 1.0f, d.gw, k);
        if (d.gx) ae_gemm(false, false, nb, k, out_c, 1.0f, d.gy, out_c, d.w, k, d.fx ? 0.0f : 1.0f, d.gx, k);
    }
    if (conv_is_dense(&g) || (!d.gx && !d.gw && !(d.gb && d.mask))) {
        ae_release(d.masked);
        return;
    }
    conv_geom c = g;
    bool rebuild = d.gw && chunk < nb;
    conv_geom cg = chunk_geom(&g, chunk);
    /* gy of a chunk sample-innermost, im2col's scratch and the columns
     * (to rebuild them), the columns' gradient and col2im's scratch */
    ae_tensor *t[5];
    const int64_t sizes[5] = {chunk > 1 ? out_c * grid * chunk : 0, rebuild ? ae_im2col_scratch(&cg) : 0,
                              rebuild ? k * grid * chunk : 0, d.gx ? k * grid * chunk : 0,
                              d.gx ? ae_col2im_scratch(&cg) : 0};
    if (scratches(5, t, sizes) != 0) {
        ae_release(d.masked);
        return;
    }
    for (int64_t b0 = 0; b0 < nb; b0 += chunk) {
        c.batch = nb - b0 < chunk ? nb - b0 : chunk;
        int64_t cols = c.batch * grid, at = b0 * out_c * grid;
        const float *gyt;
        if (d.mask && c.batch > 1) {
            ae_transpose_biased(d.gy + at, ae_data(t[0]), c.batch, out_c * grid, false,
                                (row_bias){NULL, 1, false, d.mask + at});
            gyt = ae_data(t[0]);
        } else if (d.mask) {
            /* the last chunk's one sample: its mask in a pass of its own */
            ae_relu_mask(d.mask + at, d.gy + at, ae_data(t[0]), out_c * grid);
            gyt = ae_data(t[0]);
        } else {
            gyt = ae_samples_inner(d.gy + at, c.batch, out_c * grid, data_or_null(t[0]));
        }
        if (d.mask && d.gb) ae_bias_grad(gyt, NULL, d.gb, d.fb && b0 == 0, 1, out_c, cols);
        if (d.gw) {
            const float *col = d.kept;
            if (rebuild) {
                ae_im2col(&c, d.kept + b0 * image, NULL, ae_data(t[2]), ae_data(t[1]));
                col = ae_data(t[2]);
            }
            /* a fresh buffer takes the first chunk's product, the rest add */
            ae_gemm(false, true, out_c, k, cols, 1.0f, gyt, cols, col, cols, d.fw && b0 == 0 ? 0.0f : 1.0f, d.gw, k);
        }
        if (d.gx) {
            /* each chunk has its own slice of gx: fresh for every chunk */
            float *gcol = ae_data(t[3]), *gxs = d.gx + b0 * image;
            ae_gemm(true, false, k, cols, out_c, 1.0f, d.w, k, gyt, cols, 0.0f, gcol, cols);
            ae_col2im(&c, gcol, gxs, NULL, !d.fx, false, ae_data(t[4]));
        }
    }
    for (int i = 0; i < 5; i++) ae_release(t[i]);
    ae_release(d.masked);
}

/* records y = op(x, w, b) for backward, with the stride and padding and
 * what the backward needs: the columns kept for W's gradient, the
 * contiguous weight for x's, and y itself for the fused ReLU's mask.
 * Returns y, or NULL (y released) when recording failed. */
static ae_tensor *record_conv(ae_tensor *y, const char *op, ae_backward_fn fn, ae_tensor *x, ae_tensor *w, ae_tensor *b,
                              const conv_state *s, ae_tensor *kept, ae_tensor *wc, bool relu)
{
    ae_tensor *in[3] = {x, w, b};
    ae_tensor *saved[3] = {w->requires_grad ? kept : NULL, x->requires_grad ? wc : NULL, relu ? y : NULL};
    return ae_record(y, op, fn, b ? 3 : 2, in, 3, saved, s, sizeof *s);
}

/* conv2d or conv1d (kd) with (h, w) sizes, the 1-D op's height sizes
 * being stride 1 and padding 0 */
static ae_tensor *conv_forward(const conv_kind *kd, ae_tensor *x, ae_tensor *w, ae_tensor *b, const int64_t stride[2],
                               const int64_t pad[2], bool relu)
{
    char s1[AE_SHAPE_STR], s2[AE_SHAPE_STR], s3[AE_SHAPE_STR], s4[AE_SHAPE_STR];
    const char *op = kd->op;
    if (check_common(kd, 1, x, w, stride, pad) != 0) return NULL;
    if (check_bias(op, b, w, w->shape[0]) != 0) return NULL;
    int64_t xs[4], ws[4];
    shape4(x->ndim, x->shape, xs);
    shape4(w->ndim, w->shape, ws);
    const int64_t padded[2] = {xs[2] + 2 * pad[0], xs[3] + 2 * pad[1]};
    if (padded[0] < ws[2] || padded[1] < ws[3])
        return ae_fail("%s: kernel %s is larger than the padded input %s (input %s, padding %s)", op,
                       ae_dims_str(kd->nd, ws + 4 - kd->nd, s1), sizes_str(kd->nd, padded, s2), ae_shape_str(x, s3),
                       sizes_str(kd->nd, pad, s4));
    conv_geom g;
    conv2d_geom(xs, ws, stride, pad, &g);
    int64_t out_c = ws[0];
    int64_t shape4d[4] = {g.batch, out_c, g.oh, g.ow}, shape3d[3] = {g.batch, out_c, g.ow};
    const int64_t *shape = kd->nd == 2 ? shape4d : shape3d;
    if (ae_check_shape(op, kd->nd + 2, shape) < 0) return NULL;
    operands o;
    ae_tensor *y = NULL, *kept = NULL;
    if (contiguous_operands(x, w, b, &o) == 0) y = ae_empty(kd->nd + 2, shape);
    if (y && conv2d_compute(&g, out_c, &o, relu, y, &kept) != 0) {
        ae_release(y);
        y = NULL;
    }
    if (y) {
        const conv_state s = {{stride[0], stride[1]}, {pad[0], pad[1]}};
        y = record_conv(y, relu ? kd->op_relu : op, conv2d_backward, x, w, b, &s, kept, o.w, relu);
    }
    ae_release(kept);
    release_operands(&o);
    return y;
}

ae_tensor *ae_conv2d(ae_tensor *x, ae_tensor *w, ae_tensor *b, int64_t stride_h, int64_t stride_w, int64_t pad_h,
                     int64_t pad_w, bool relu)
{
    const int64_t stride[2] = {stride_h, stride_w}, pad[2] = {pad_h, pad_w};
    return conv_forward(&CONV2D, x, w, b, stride, pad, relu);
}

ae_tensor *ae_conv1d(ae_tensor *x, ae_tensor *w, ae_tensor *b, int64_t stride, int64_t pad, bool relu)
{
    const int64_t strides[2] = {1, stride}, pads[2] = {0, pad};
    return conv_forward(&CONV1D, x, w, b, strides, pads, relu);
}

/* ------------------------------------------------------ conv_transpose2d */

/* the geometry of conv_transpose2d: the image is its output, the grid its
 * input; out_shape is (batch, out channels, oh, ow) */
static void convt_geom(const int64_t *xs, const int64_t *ws, const int64_t *out_shape, const int64_t stride[2],
                       const int64_t pad[2], conv_geom *g)
{
    int64_t h = out_shape[2], w = out_shape[3], oh = xs[2], ow = xs[3];
    *g = (conv_geom){xs[0], ws[1], h, w, ws[2], ws[3], stride[0], stride[1], pad[0], pad[1], oh, ow};
}

/* y from contiguous operands.  Returns through *savep what backward needs
 * for W's gradient: x sample-innermost when the batch went through in one
 * chunk, else x itself (backward transposes each chunk again) */
static int convt_compute(const conv_geom *g, int64_t in_c, const operands *o, bool relu, ae_tensor *y,
                         ae_tensor **savep)
{
    int64_t k = conv_rows(g), grid = g->oh * g->ow, nb = g->batch;
    int64_t image = g->h * g->w, out_size = g->channels * image, in_size = in_c * grid;
    const float *px = ae_data(o->x), *pw = ae_data(o->w), *pb = o->b ? ae_data(o->b) : NULL;
    float *py = ae_data(y);
    *savep = NULL;
    if (conv_is_dense(g)) {
        /* y (batch × out·kh·kw) = x (batch × in) · W (in × out·kh·kw) */
        ae_gemm(false, false, nb, k, in_c, 1.0f, px, in_c, pw, k, 0.0f, py, k);
        ae_bias_relu(py, nb, g->channels, image, pb, relu);
        *savep = ae_retain(o->x);
        return 0;
    }
    conv_geom c = *g;
    int64_t chunk = chunk_of(g);
    conv_geom cg = chunk_geom(g, chunk);
    /* x of a chunk sample-innermost, the column matrix, col2im's scratch */
    ae_tensor *t[3];
    const int64_t sizes[3] = {chunk > 1 ? in_size * chunk : 0, k * grid * chunk, ae_col2im_scratch(&cg)};
    if (scratches(3, t, sizes) != 0) return -1;
    for (int64_t b0 = 0; b0 < nb; b0 += chunk) {
        c.batch = nb - b0 < chunk ? nb - b0 : chunk;
        int64_t n = c.batch * grid;
        float *ys = py + b0 * out_size;
        const float *xt = ae_samples_inner(px + b0 * in_size, c.batch, in_size, data_or_null(t[0]));
        ae_gemm(true, false, k, n, in_c, 1.0f, pw, k, xt, n, 0.0f, ae_data(t[1]), n);
        ae_col2im(&c, ae_data(t[1]), ys, pb, false, relu, ae_data(t[2]));
    }
    *savep = chunk >= nb && nb > 1 ? ae_retain(t[0]) : ae_retain(o->x);
    for (int i = 0; i < 3; i++) ae_release(t[i]);
    return 0;
}

/* saved[0]: x, sample-innermost or not (see convt_compute), kept when W
 * needs a gradient; saved[1]: W, kept when x needs one; saved[2]: the
 * output, when a ReLU was fused into it (see masked_gout) */
static void convt_backward(ae_node *n)
{
    const conv_state *s = ae_node_state(n);
    int64_t xs[4], ws[4], ys[4];
    shape4(n->inputs[0]->ndim, n->inputs[0]->shape, xs);
    shape4(n->inputs[1]->ndim, n->inputs[1]->shape, ws);
    shape4(n->out_ndim, n->out_shape, ys);
    conv_geom g;
    convt_geom(xs, ws, ys, s->stride, s->pad, &g);
    int64_t in_c = xs[1], k = conv_rows(&g), grid = g.oh * g.ow, nb = g.batch;
    int64_t image = g.h * g.w, out_size = g.channels * image, in_size = in_c * grid;
    conv_grads d;
    if (conv_grads_of(n, conv_is_dense(&g), &d) != 0) return;
    if (d.gb) ae_bias_grad(d.gy, d.mask, d.gb, d.fb, nb, g.channels, image);
    if (conv_is_dense(&g)) {
        if (d.gw) ae_gemm(true, false, in_c, k, nb, 1.0f, d.kept, in_c, d.gy, k, d.fw ? 0.0f : 1.0f, d.gw, k);
        if (d.gx) ae_gemm(false, true, nb, in_c, k, 1.0f, d.gy, k, d.w, k, d.fx ? 0.0f : 1.0f, d.gx, in_c);
    }
    ae_release(d.masked);
    if (conv_is_dense(&g) || (!d.gx && !d.gw)) return;
    conv_geom c = g;
    int64_t chunk = chunk_of(&g);
    bool retranspose = d.gw && chunk < nb;
    conv_geom cg = chunk_geom(&g, chunk);
    /* im2col's scratch, gy's columns, x sample-innermost again, and x's
     * gradient sample-innermost */
    ae_tensor *t[4];
    const int64_t sizes[4] = {ae_im2col_scratch(&cg), k * grid * chunk, retranspose && chunk > 1 ? in_size * chunk : 0,
                              d.gx && chunk > 1 ? in_size * chunk : 0};
    if (scratches(4, t, sizes) != 0) return;
    for (int64_t b0 = 0; b0 < nb; b0 += chunk) {
        c.batch = nb - b0 < chunk ? nb - b0 : chunk;
        int64_t cols = c.batch * grid;
        float *gcol = ae_data(t[1]);
        /* the fused ReLU's mask goes in with im2col's transposes */
        ae_im2col(&c, d.gy + b0 * out_size, d.mask ? d.mask + b0 * out_size : NULL, gcol, ae_data(t[0]));
        if (d.gw) {
            const float *xt =
                retranspose ? ae_samples_inner(d.kept + b0 * in_size, c.batch, in_size, data_or_null(t[2])) : d.kept;
            ae_gemm(false, true, in_c, k, cols, 1.0f, xt, cols, gcol, cols, d.fw && b0 == 0 ? 0.0f : 1.0f, d.gw, k);
        }
        if (d.gx && c.batch == 1)
            ae_gemm(false, false, in_c, cols, k, 1.0f, d.w, k, gcol, cols, d.fx ? 0.0f : 1.0f, d.gx + b0 * in_size,
                    cols);
        if (d.gx && c.batch > 1) {
            ae_gemm(false, false, in_c, cols, k, 1.0f, d.w, k, gcol, cols, 0.0f, ae_data(t[3]), cols);
            ae_transpose_data(ae_data(t[3]), d.gx + b0 * in_size, in_size, c.batch, !d.fx);
        }
    }
    for (int i = 0; i < 4; i++) ae_release(t[i]);
}

/* conv_transpose2d or conv_transpose1d (kd) with (h, w) sizes, the 1-D
 * op's height sizes being stride 1 and paddings 0 */
static ae_tensor *convt_forward(const conv_kind *kd, ae_tensor *x, ae_tensor *w, ae_tensor *b, const int64_t stride[2],
                                const int64_t pad[2], const int64_t out_pad[2], bool relu)
{
    char s1[AE_SHAPE_STR], s2[AE_SHAPE_STR], s3[AE_SHAPE_STR], s4[AE_SHAPE_STR];
    const char *op = kd->op;
    if (check_common(kd, 0, x, w, stride, pad) != 0) return NULL;
    if (check_bias(op, b, w, w->shape[1]) != 0) return NULL;
    if (out_pad[0] < 0 || out_pad[1] < 0 || out_pad[0] >= stride[0] || out_pad[1] >= stride[1])
        return ae_fail("%s: output_padding %s must be non-negative and smaller than the stride %s", op,
                       sizes_str(kd->nd, out_pad, s1), sizes_str(kd->nd, stride, s2));
    int64_t xs[4], ws[4];
    shape4(x->ndim, x->shape, xs);
    shape4(w->ndim, w->shape, ws);
    const int64_t out[2] = {(xs[2] - 1) * stride[0] - 2 * pad[0] + ws[2] + out_pad[0],
                            (xs[3] - 1) * stride[1] - 2 * pad[1] + ws[3] + out_pad[1]};
    if (out[0] <= 0 || out[1] <= 0)
        return ae_fail("%s: output would be %s, padding %s is too large for input %s and weight %s", op,
                       sizes_str(kd->nd, out, s1), sizes_str(kd->nd, pad, s2), ae_shape_str(x, s3),
                       ae_shape_str(w, s4));
    int64_t shape4d[4] = {xs[0], ws[1], out[0], out[1]}, shape3d[3] = {xs[0], ws[1], out[1]};
    const int64_t *shape = kd->nd == 2 ? shape4d : shape3d;
    if (ae_check_shape(op, kd->nd + 2, shape) < 0) return NULL;
    conv_geom g;
    convt_geom(xs, ws, shape4d, stride, pad, &g);
    operands o;
    ae_tensor *y = NULL, *kept = NULL;
    if (contiguous_operands(x, w, b, &o) == 0) y = ae_empty(kd->nd + 2, shape);
    if (y && convt_compute(&g, xs[1], &o, relu, y, &kept) != 0) {
        ae_release(y);
        y = NULL;
    }
    if (y) {
        const conv_state s = {{stride[0], stride[1]}, {pad[0], pad[1]}};
        y = record_conv(y, relu ? kd->op_relu : op, convt_backward, x, w, b, &s, kept, o.w, relu);
    }
    ae_release(kept);
    release_operands(&o);
    return y;
}

ae_tensor *ae_conv_transpose2d(ae_tensor *x, ae_tensor *w, ae_tensor *b, int64_t stride_h, int64_t stride_w,
                               int64_t pad_h, int64_t pad_w, int64_t out_pad_h, int64_t out_pad_w, bool relu)
{
    const int64_t stride[2] = {stride_h, stride_w}, pad[2] = {pad_h, pad_w}, out_pad[2] = {out_pad_h, out_pad_w};
    return convt_forward(&CONVT2D, x, w, b, stride, pad, out_pad, relu);
}

ae_tensor *ae_conv_transpose1d(ae_tensor *x, ae_tensor *w, ae_tensor *b, int64_t stride, int64_t pad, int64_t out_pad,
                               bool relu)
{
    const int64_t strides[2] = {1, stride}, pads[2] = {0, pad}, out_pads[2] = {0, out_pad};
    return convt_forward(&CONVT1D, x, w, b, strides, pads, out_pads, relu);
}
