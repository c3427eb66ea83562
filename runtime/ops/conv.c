/* conv.c: conv2d and conv_transpose2d, forward and backward.
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
 * The sample is the innermost index of the column matrix, so that every
 * patch element moves as a run of batch contiguous floats, instead of the
 * 7-float rows a 7×7 map gives in N×C×H×W order, where the loop overhead
 * dominated.  im2col and col2im take and give N×C×H×W images and do the
 * transpose to and from sample-innermost themselves, a band of one
 * channel's rows at a time in a scratch region that stays in the core's
 * cache (a blocked 8×8 kernel); a GEMM result (out × grid·batch) is the
 * output's transpose, transposed back with the bias added on the way.
 *
 * When the kernel covers the whole image with no padding (the tutorial's
 * 7×7 layers on 7×7 maps) the column matrix is just the batch's
 * transpose, and the layer is a fully connected one: those take a GEMM on
 * the tensors themselves and skip im2col and the transposes.
 *
 * Buffers come from the pool (ae_empty/ae_release), so a training loop
 * allocates nothing in its steady state.
 *
 * The data movement (transposes, im2col, col2im, bias) is shared between
 * the runtime's threads (parallel.h) like the GEMMs: transposes by column
 * strips, im2col and col2im by (channel, band of rows), each band's
 * transpose done by the thread that uses it, so that it never crosses to
 * the other core's cache.  Backward stores into fresh gradient buffers
 * instead of zero-filling them.
 *
 * A ReLU after either op can be fused into it (conv2d_relu,
 * conv_transpose2d_relu, which nn.Sequential records for a conv layer
 * followed by nn.ReLU): it is applied in the pass that writes the output,
 * and its backward mask in the pass that reads the output's gradient, so
 * that the ReLU costs no pass over the activations of its own (see
 * masked_gout). */
#include "conv.h"
#include "pool.h"
#include "core/autograd.h"
#include "core/error.h"
#include "core/gemm.h"
#include "core/mathf.h"
#include "core/parallel.h"

#include <stdbool.h>
#include <string.h>

#if defined(__AVX__)
#include <immintrin.h>
#endif

#define TIMES "\xC3\x97"

typedef struct {
    int64_t batch, channels, h, w;  /* the image */
    int64_t kh, kw, sh, sw, ph, pw; /* kernel, stride, padding */
    int64_t oh, ow;                 /* the grid of kernel positions */
} geom;

static int64_t rows_of(const geom *g) { return g->channels * g->kh * g->kw; }

static bool is_dense(const geom *g)
{
    return g->oh == 1 && g->ow == 1 && g->ph == 0 && g->pw == 0 && g->kh == g->h && g->kw == g->w;
}

static ae_tensor *scratch(int64_t n) { return ae_empty(1, &n); }

/* ------------------------------------------------------------ transposes */

/* d[j][i] = s[i][j] + rb[i] (or +=) over an 8×8 tile, rb being the
 * eight source rows' biases or NULL, then max(·, 0) when relu, and 0
 * where m[i][j] (laid out as s, or NULL) is not positive: with AVX, the
 * usual unpack/shuffle/permute network on eight rows held in registers,
 * the bias, ReLU or mask applied to each row as it is loaded, so that they
 * cost no pass of their own */
static inline void tile8(const float *s, int64_t ls, float *d, int64_t ld, bool add, const float *rb, bool relu,
                         const float *m)
{
#if defined(__AVX__)
    __m256 r[8], t[8], u[8];
    for (int i = 0; i < 8; i++) {
        r[i] = _mm256_loadu_ps(s + i * ls);
        if (rb) r[i] = _mm256_add_ps(r[i], _mm256_set1_ps(rb[i]));
        if (relu) r[i] = _mm256_max_ps(r[i], _mm256_setzero_ps());
        if (m) r[i] = _mm256_and_ps(r[i], _mm256_cmp_ps(_mm256_loadu_ps(m + i * ls), _mm256_setzero_ps(), _CMP_GT_OQ));
    }
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
        u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
        u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    for (int j = 0; j < 4; j++) {
        __m256 lo = _mm256_permute2f128_ps(u[j], u[j + 4], 0x20);
        __m256 hi = _mm256_permute2f128_ps(u[j], u[j + 4], 0x31);
        if (add) {
            lo = _mm256_add_ps(lo, _mm256_loadu_ps(d + j * ld));
            hi = _mm256_add_ps(hi, _mm256_loadu_ps(d + (j + 4) * ld));
        }
        _mm256_storeu_ps(d + j * ld, lo);
        _mm256_storeu_ps(d + (j + 4) * ld, hi);
    }
#else
    for (int j = 0; j < 8; j++)
        for (int i = 0; i < 8; i++) {
            float v = s[i * ls + j] + (rb ? rb[i] : 0.0f);
            if (relu && !(v > 0)) v = 0.0f;
            if (m && !(m[i * ls + j] > 0)) v = 0.0f;
            if (add) d[j * ld + i] += v;
            else d[j * ld + i] = v;
        }
#endif
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

static float bias_of(const row_bias *b, int64_t i) { return b->bias ? b->bias[i / b->per] : 0.0f; }

/* the value at source (i, j), with leading dimension lds */
static float epilogue(const row_bias *b, const float *src, int64_t lds, int64_t i, int64_t j)
{
    float v = src[i * lds + j] + bias_of(b, i);
    if (b->relu && !(v > 0)) v = 0.0f;
    if (b->mask && !(b->mask[i * lds + j] > 0)) v = 0.0f;
    return v;
}

/* dst[j·ldd + i] = src[i·lds + j] + bias (or +=) for i < rows, j < cols,
 * on the calling thread, 8 columns of src at a time.  When storing, a
 * ragged edge is covered by one more tile overlapping the last whole one
 * (it stores some elements twice, the same values): the blocks im2col and
 * col2im transpose are 196 or 140 wide, and their edges one element at a
 * time cost as much as the tiles. */
static void transpose_block(const float *src, int64_t lds, float *dst, int64_t ldd, int64_t rows, int64_t cols,
                            bool add, const row_bias *b)
{
    bool overlap = !add && rows >= 8 && cols >= 8;
    int64_t rt = overlap ? rows : rows & ~(int64_t)7, ct = overlap ? cols : cols & ~(int64_t)7;
    for (int64_t j0 = 0; j0 < ct; j0 += 8) {
        int64_t j = j0 + 8 > cols ? cols - 8 : j0;
        /* the next row's bias index and place in it, carried from tile
         * to tile: a division per tile cost a third of the pass */
        int64_t k = 0, r = 0;
        for (int64_t i0 = 0; i0 < rt; i0 += 8) {
            int64_t i = i0 + 8 > rows ? rows - 8 : i0;
            float rb[8];
            if (b->bias) {
                if (i != i0) {
                    k = i / b->per;
                    r = i - k * b->per;
                }
                for (int q = 0; q < 8; q++) {
                    rb[q] = b->bias[k];
                    if (++r == b->per) {
                        r = 0;
                        k++;
                    }
                }
            }
            tile8(src + i * lds + j, lds, dst + j * ldd + i, ldd, add, b->bias ? rb : NULL, b->relu,
                  b->mask ? b->mask + i * lds + j : NULL);
        }
    }
    if (overlap) return;
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = i < rt ? ct : 0; j < cols; j++) {
            float v = epilogue(b, src, lds, i, j);
            dst[j * ldd + i] = add ? dst[j * ldd + i] + v : v;
        }
}

typedef struct {
    const float *src;
    float *dst;
    int64_t rows, cols;
    bool add;
    row_bias bias;
} transpose_job;

/* the column strips [lo, hi) of 8 columns each (the last may be narrower) */
static void transpose_strips(void *ctx, int64_t lo, int64_t hi)
{
    const transpose_job *t = ctx;
    int64_t j0 = 8 * lo, j1 = 8 * hi < t->cols ? 8 * hi : t->cols;
    row_bias b = t->bias;
    if (b.mask) b.mask += j0;
    transpose_block(t->src + j0, t->cols, t->dst + j0 * t->rows, t->rows, t->rows, j1 - j0, t->add, &b);
}

/* dst (cols × rows) = src (rows × cols)ᵀ (+ the row bias), or dst += it;
 * a column strip of src at a time, so each of dst's rows is written in one
 * sweep, and the strips shared between threads (at least 16384 elements
 * each) */
static void transpose_biased(const float *src, float *dst, int64_t rows, int64_t cols, bool add, row_bias bias)
{
    transpose_job t = {src, dst, rows, cols, add, bias};
    int64_t grain = 16384 / (8 * (rows > 0 ? rows : 1));
    ae_parallel_for((cols + 7) / 8, grain > 1 ? grain : 1, transpose_strips, &t);
}

static void transpose(const float *src, float *dst, int64_t rows, int64_t cols, bool add)
{
    transpose_biased(src, dst, rows, cols, add, (row_bias){NULL, 1, false, NULL});
}

/* the samples' data (batch × n) in sample-innermost order (n × batch):
 * the data itself for one sample, else transposed into buf */
static const float *inner(const float *x, int64_t batch, int64_t n, float *buf)
{
    if (batch == 1) return x;
    transpose(x, buf, batch, n, false);
    return buf;
}

/* A batch goes through the column matrix in chunks of this many samples:
 * the whole of a training batch, but an evaluation batch of thousands
 * does not make a column matrix of hundreds of MB. */
#define COL_LIMIT ((int64_t)1 << 22) /* floats, 16 MB */

static int64_t chunk_of(const geom *g)
{
    int64_t per = rows_of(g) * g->oh * g->ow, c = COL_LIMIT / (per > 0 ? per : 1);
    if (c > g->batch) c = g->batch;
    return c > 0 ? c : 1;
}

/* g for a chunk of `batch` samples */
static geom chunk_geom(const geom *g, int64_t batch)
{
    geom c = *g;
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

/* ---------------------------------------------------------- im2col/col2im */

/* the grid positions o in [0, n_grid) whose image index o·stride + offset
 * falls inside [0, n_image): [*lo, *hi) */
static void inside(int64_t n_grid, int64_t stride, int64_t offset, int64_t n_image, int64_t *lo, int64_t *hi)
{
    int64_t a = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
    int64_t b = n_image - offset <= 0 ? 0 : (n_image - offset + stride - 1) / stride;
    if (b > n_grid) b = n_grid;
    if (a > b) a = b;
    *lo = a;
    *hi = b;
}

/* im2col and col2im read and write the images in their own N×C×H×W
 * order, and do the transpose to sample-innermost on the way, a band of
 * one channel's rows at a time through a scratch region of the band's
 * size that stays in cache: a separate transpose pass over the whole
 * batch, written out and read back from memory, cost as much as the
 * im2col or col2im itself.  A unit of work is (channel, band); the bands
 * are cut so that there are at least 8 units to share between threads
 * (the tutorial's first and last layers have one channel). */
#define MIN_UNITS 8

/* bands of `rows` rows (of the grid or of the image) per channel: their
 * number through *bands, their height returned */
static int64_t band_of(const geom *g, int64_t rows, int64_t *bands)
{
    int64_t want = (MIN_UNITS + g->channels - 1) / g->channels;
    if (want > rows) want = rows;
    if (want < 1) want = 1;
    int64_t band = (rows + want - 1) / want;
    *bands = (rows + band - 1) / band;
    return band;
}

/* the image rows a band of grid rows reads: at most this many */
static int64_t im2col_band_rows(const geom *g, int64_t band)
{
    int64_t r = (band - 1) * g->sh + g->kh;
    return r < g->h ? r : g->h;
}

/* floats of scratch im2col needs */
static int64_t im2col_scratch(const geom *g)
{
    int64_t bands, band = band_of(g, g->oh, &bands);
    return g->channels * bands * im2col_band_rows(g, band) * g->w * g->batch;
}

/* floats of scratch col2im needs */
static int64_t col2im_scratch(const geom *g)
{
    int64_t bands, band = band_of(g, g->h, &bands);
    return g->channels * bands * band * g->w * g->batch;
}

typedef struct {
    const geom *g;
    const float *img, *mask;
    float *col, *scratch;
    int64_t bands, band;
} im2col_job;

/* units [lo, hi): unit (c, band of grid rows) transposes the image rows
 * that band reads into its own scratch region, then writes its part of
 * every column-matrix row of channel c: row (c, i, j) holds patch element
 * (i, j) at every grid position and sample */
static void im2col_units(void *ctx, int64_t lo, int64_t hi)
{
    const im2col_job *job = ctx;
    const geom *g = job->g;
    int64_t nb = g->batch, run = g->ow * nb, ld = g->channels * g->h * g->w;
    int64_t span = im2col_band_rows(g, job->band) * g->w * nb;
    size_t fb = sizeof(float);
    for (int64_t u = lo; u < hi; u++) {
        int64_t c = u / job->bands, y0 = u % job->bands * job->band;
        int64_t y1 = y0 + job->band < g->oh ? y0 + job->band : g->oh;
        int64_t iy0 = y0 * g->sh - g->ph, iy1 = (y1 - 1) * g->sh - g->ph + g->kh;
        if (iy0 < 0) iy0 = 0;
        if (iy1 > g->h) iy1 = g->h;
        float *sc = job->scratch + u * span;
        int64_t at = (c * g->h + iy0) * g->w;
        const row_bias mask = {NULL, 1, false, job->mask ? job->mask + at : NULL};
        if (iy1 > iy0) transpose_block(job->img + at, ld, sc, nb, nb, (iy1 - iy0) * g->w, false, &mask);
        for (int64_t i = 0; i < g->kh; i++)
            for (int64_t j = 0; j < g->kw; j++) {
                float *row = job->col + ((c * g->kh + i) * g->kw + j) * g->oh * run;
                int64_t xlo, xhi;
                inside(g->ow, g->sw, j - g->pw, g->w, &xlo, &xhi);
                int64_t x0 = xlo * g->sw + j - g->pw; /* image column of x = xlo */
                for (int64_t y = y0; y < y1; y++) {
                    int64_t iy = y * g->sh - g->ph + i;
                    float *d = row + y * run;
                    if (iy < 0 || iy >= g->h || xhi <= xlo) {
                        memset(d, 0, (size_t)run * fb);
                        continue;
                    }
                    const float *sr = sc + (iy - iy0) * g->w * nb;
                    memset(d, 0, (size_t)(xlo * nb) * fb);
                    if (g->sw == 1) memcpy(d + xlo * nb, sr + x0 * nb, (size_t)((xhi - xlo) * nb) * fb);
                    else
                        for (int64_t x = xlo; x < xhi; x++)
                            memcpy(d + x * nb, sr + (x0 + (x - xlo) * g->sw) * nb, (size_t)nb * fb);
                    memset(d + xhi * nb, 0, (size_t)((g->ow - xhi) * nb) * fb);
                }
            }
    }
}

/* col (rows × grid·batch) ← the patches of img (batch × c·h·w, N×C×H×W),
 * zeros where a patch overhangs the image, and where mask (laid out as
 * img, or NULL) is not positive; scratch has im2col_scratch(g) floats */
static void im2col(const geom *g, const float *img, const float *mask, float *col, float *scratch)
{
    im2col_job job = {g, img, mask, col, scratch, 0, 0};
    job.band = band_of(g, g->oh, &job.bands);
    ae_parallel_for(g->channels * job.bands, 1, im2col_units, &job);
}

typedef struct {
    const geom *g;
    const float *col, *bias;
    float *img, *scratch;
    int64_t bands, band;
    bool add, relu;
} col2im_job;

/* units [lo, hi): unit (c, band of image rows) sums into its scratch
 * region, sample-innermost, every column-matrix entry that lands in its
 * rows, then transposes the sums into the N×C×H×W image.  Each image
 * element has one owner, so nothing is shared between threads. */
static void col2im_units(void *ctx, int64_t lo, int64_t hi)
{
    const col2im_job *job = ctx;
    const geom *g = job->g;
    int64_t nb = g->batch, run = g->ow * nb, ld = g->channels * g->h * g->w, wn = g->w * nb;
    for (int64_t u = lo; u < hi; u++) {
        int64_t c = u / job->bands, iy0 = u % job->bands * job->band;
        int64_t iy1 = iy0 + job->band < g->h ? iy0 + job->band : g->h;
        float *sc = job->scratch + u * job->band * wn;
        memset(sc, 0, (size_t)((iy1 - iy0) * wn) * sizeof(float));
        for (int64_t i = 0; i < g->kh; i++)
            for (int64_t iy = iy0; iy < iy1; iy++) {
                int64_t t = iy + g->ph - i; /* y·sh for the grid row y that puts i on iy */
                if (t < 0 || t % g->sh != 0 || t / g->sh >= g->oh) continue;
                int64_t y = t / g->sh;
                float *d = sc + (iy - iy0) * wn;
                for (int64_t j = 0; j < g->kw; j++) {
                    const float *s = job->col + ((c * g->kh + i) * g->kw + j) * g->oh * run + y * run;
                    int64_t xlo, xhi;
                    inside(g->ow, g->sw, j - g->pw, g->w, &xlo, &xhi);
                    int64_t x0 = xlo * g->sw + j - g->pw;
                    if (g->sw == 1) {
                        float *dd = d + x0 * nb;
                        const float *ss = s + xlo * nb;
                        for (int64_t q = 0; q < (xhi - xlo) * nb; q++) dd[q] += ss[q];
                        continue;
                    }
                    for (int64_t x = xlo; x < xhi; x++) {
                        float *dd = d + (x0 + (x - xlo) * g->sw) * nb;
                        const float *ss = s + x * nb;
                        for (int64_t b = 0; b < nb; b++) dd[b] += ss[b];
                    }
                }
            }
        /* every row of the band is channel c's: one bias for all */
        const row_bias rb = {job->bias ? job->bias + c : NULL, INT64_MAX, job->relu, NULL};
        transpose_block(sc, nb, job->img + (c * g->h + iy0) * g->w, ld, (iy1 - iy0) * g->w, nb, job->add, &rb);
    }
}

/* img (batch × c·h·w, N×C×H×W) = the columns scattered back to where
 * im2col took them from, plus bias[c] in channel c (bias may be NULL),
 * through max(·, 0) when relu; or img += that when add; scratch has
 * col2im_scratch(g) floats */
static void col2im(const geom *g, const float *col, float *img, const float *bias, bool add, bool relu, float *scratch)
{
    col2im_job job = {g, col, bias, img, scratch, 0, 0, add, relu};
    job.band = band_of(g, g->h, &job.bands);
    ae_parallel_for(g->channels * job.bands, 1, col2im_units, &job);
}

/* ------------------------------------------------------------------ bias */

/* y in channel-major order (c × per) set to bias[k] in channel k, or 0:
 * a GEMM or col2im then adds into it, so the bias costs no pass of its own */
typedef struct {
    float *y;
    int64_t per;
    const float *bias;
} fill_job;

static void fill_range(void *ctx, int64_t lo, int64_t hi)
{
    const fill_job *f = ctx;
    for (int64_t q = lo; q < hi;) {
        int64_t k = q / f->per, end = (k + 1) * f->per < hi ? (k + 1) * f->per : hi;
        float v = f->bias ? f->bias[k] : 0.0f;
        for (; q < end; q++) f->y[q] = v;
    }
}

static void fill_channels(float *y, int64_t c, int64_t per, const float *bias)
{
    fill_job f = {y, per, bias};
    ae_parallel_for(c * per, 16384, fill_range, &f);
}

/* y (batch × c × p) += bias[k] in channel k (bias may be NULL), then
 * max(·, 0) when relu: the layers that are a GEMM on the tensors (7×7 on
 * 7×7), in one pass shared between the threads, samples [lo, hi) */
typedef struct {
    float *y;
    int64_t c, p;
    const float *bias;
    bool relu;
} bias_relu_job;

static void bias_relu_samples(void *ctx, int64_t lo, int64_t hi)
{
    const bias_relu_job *j = ctx;
    if (j->p == 1) {
        /* conv2d's: a bias per element of the sample, one loop over them */
        for (int64_t b = lo; b < hi; b++) {
            float *restrict d = j->y + b * j->c;
            const float *restrict v = j->bias;
            for (int64_t k = 0; k < j->c; k++) {
                float t = d[k] + (v ? v[k] : 0.0f);
                d[k] = j->relu && !(t > 0) ? 0.0f : t;
            }
        }
        return;
    }
    for (int64_t b = lo; b < hi; b++)
        for (int64_t k = 0; k < j->c; k++) {
            float *restrict d = j->y + (b * j->c + k) * j->p, v = j->bias ? j->bias[k] : 0.0f;
            if (j->relu)
                for (int64_t q = 0; q < j->p; q++) d[q] = d[q] + v > 0 ? d[q] + v : 0.0f;
            else
                for (int64_t q = 0; q < j->p; q++) d[q] += v;
        }
}

static void bias_relu(float *y, int64_t batch, int64_t c, int64_t p, const float *bias, bool relu)
{
    if (!bias && !relu) return;
    bias_relu_job j = {y, c, p, bias, relu};
    int64_t grain = 16384 / (c * p > 0 ? c * p : 1);
    /* a pass too small to share costs less than waking a thread */
    if (grain >= batch) bias_relu_samples(&j, 0, batch);
    else ae_parallel_for(batch, grain > 1 ? grain : 1, bias_relu_samples, &j);
}

/* y = max(y, 0) over n floats: the fused ReLU where no transpose passes
 * over the output (single samples) */
static void relu_range(void *ctx, int64_t lo, int64_t hi)
{
    float *y = ctx;
    for (int64_t i = lo; i < hi; i++) {
        float v = y[i];
        y[i] = v > 0 ? v : 0.0f;
    }
}

/* g = gy where y > 0, else 0: the fused ReLU's backward */
typedef struct {
    const float *y, *gy;
    float *g;
} mask_job;

static void mask_range(void *ctx, int64_t lo, int64_t hi)
{
    const mask_job *m = ctx;
    const float *restrict y = m->y, *restrict gy = m->gy;
    float *restrict g = m->g;
    /* both read unconditionally, so that this is a select, not a branch
     * taken at random on the signs */
    for (int64_t i = lo; i < hi; i++) {
        float v = gy[i];
        g[i] = y[i] > 0 ? v : 0.0f;
    }
}

/* Σ x[i] where m[i] > 0, as ae_sumf sums: 16 float lanes over blocks of
 * 4096, the blocks added in double.  The lanes are AVX registers where
 * there is AVX: GCC 12's loop vectorizer gets the plain loop's select
 * into an accumulator wrong at -O3 -march=x86-64-v3 (wrong sums, not
 * rounding; found by the golden tests). */
static double masked_sumf(const float *x, const float *m, int64_t n)
{
    double total = 0;
    int64_t i = 0;
    while (i < n) {
        int64_t end = n - i > 4096 ? i + 4096 : n;
        float acc[16] = {0};
#if defined(__AVX__)
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), zero = _mm256_setzero_ps();
        for (; i + 16 <= end; i += 16) {
            __m256 k0 = _mm256_cmp_ps(_mm256_loadu_ps(m + i), zero, _CMP_GT_OQ);
            __m256 k1 = _mm256_cmp_ps(_mm256_loadu_ps(m + i + 8), zero, _CMP_GT_OQ);
            a0 = _mm256_add_ps(a0, _mm256_and_ps(_mm256_loadu_ps(x + i), k0));
            a1 = _mm256_add_ps(a1, _mm256_and_ps(_mm256_loadu_ps(x + i + 8), k1));
        }
        _mm256_storeu_ps(acc, a0);
        _mm256_storeu_ps(acc + 8, a1);
#else
        for (; i + 16 <= end; i += 16)
            for (int j = 0; j < 16; j++) acc[j] += m[i + j] > 0 ? x[i + j] : 0.0f;
#endif
        float rest = 0;
        for (; i < end; i++) rest += m[i] > 0 ? x[i] : 0.0f;
        double block = rest;
        for (int j = 0; j < 16; j++) block += acc[j];
        total += block;
    }
    return total;
}

/* mask: laid out as gy, or NULL (see bias_grad) */
typedef struct {
    const float *gy, *mask;
    float *gb;
    int64_t batch, c, p;
    bool fresh;
} bias_job;

static void bias_channels(void *ctx, int64_t lo, int64_t hi)
{
    const bias_job *j = ctx;
    for (int64_t k = lo; k < hi; k++) {
        double s = 0;
        for (int64_t b = 0; b < j->batch; b++) {
            int64_t at = (b * j->c + k) * j->p;
            s += j->mask ? masked_sumf(j->gy + at, j->mask + at, j->p) : ae_sumf(j->gy + at, j->p);
        }
        j->gb[k] = j->fresh ? (float)s : j->gb[k] + (float)s;
    }
}

/* gb[k] (+)= Σ over samples and positions of gy (batch × c × p), only
 * where mask (laid out as gy, or NULL) is positive: stored when gb is
 * fresh; a channel per thread at a time */
static void bias_grad(const float *gy, const float *mask, float *gb, bool fresh, int64_t batch, int64_t c, int64_t p)
{
    bias_job j = {gy, mask, gb, batch, c, p, fresh};
    int64_t grain = 16384 / (batch * p > 0 ? batch * p : 1);
    ae_parallel_for(c, grain > 1 ? grain : 1, bias_channels, &j);
}

/* checks shared by both ops; sizes are (h, w) pairs; the weight's
 * dimension in_dim counts the input channels */
static int check_common(const char *op, const char *worient, int in_dim, ae_tensor *x, ae_tensor *w,
                        const int64_t stride[2], const int64_t pad[2])
{
    char s1[AE_SHAPE_STR], s2[AE_SHAPE_STR];
    if (x->ndim != 4)
        return ae_failc("%s: input must be 4-D (N" TIMES "C" TIMES "H" TIMES "W), got %s", op, ae_shape_str(x, s1));
    if (w->ndim != 4) return ae_failc("%s: weight must be 4-D (%s), got %s", op, worient, ae_shape_str(w, s1));
    if (x->shape[1] != w->shape[in_dim])
        return ae_failc("%s: input %s has %lld channels, weight %s expects %lld", op, ae_shape_str(x, s1),
                        (long long)x->shape[1], ae_shape_str(w, s2), (long long)w->shape[in_dim]);
    if (x->shape[1] == 0 || x->shape[2] == 0 || x->shape[3] == 0)
        return ae_failc("%s: input %s has an empty channel or spatial dimension", op, ae_shape_str(x, s1));
    if (w->shape[0] == 0 || w->shape[1] == 0 || w->shape[2] == 0 || w->shape[3] == 0)
        return ae_failc("%s: weight %s is empty", op, ae_shape_str(w, s1));
    if (stride[0] <= 0 || stride[1] <= 0)
        return ae_failc("%s: stride must be positive, got %lld" TIMES "%lld", op, (long long)stride[0],
                        (long long)stride[1]);
    if (pad[0] < 0 || pad[1] < 0)
        return ae_failc("%s: padding must be non-negative, got %lld" TIMES "%lld", op, (long long)pad[0],
                        (long long)pad[1]);
    /* beyond this the size arithmetic below could overflow */
    const int64_t big = (int64_t)1 << 31;
    if (stride[0] > big || stride[1] > big || pad[0] > big || pad[1] > big)
        return ae_failc("%s: stride %lld" TIMES "%lld or padding %lld" TIMES "%lld is too large", op,
                        (long long)stride[0], (long long)stride[1], (long long)pad[0], (long long)pad[1]);
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
static void conv2d_geom(const int64_t *xs, const int64_t *ws, const int64_t stride[2], const int64_t pad[2], geom *g)
{
    g->batch = xs[0];
    g->channels = xs[1];
    g->h = xs[2];
    g->w = xs[3];
    g->kh = ws[2];
    g->kw = ws[3];
    g->sh = stride[0];
    g->sw = stride[1];
    g->ph = pad[0];
    g->pw = pad[1];
    g->oh = (g->h + 2 * g->ph - g->kh) / g->sh + 1;
    g->ow = (g->w + 2 * g->pw - g->kw) / g->sw + 1;
}

/* y (batch × out × oh × ow) from contiguous operands.  Returns through
 * *savep what backward needs for W's gradient: the column matrix when the
 * batch went through in one chunk, else x (backward rebuilds the columns) */
static int conv2d_compute(const geom *g, int64_t out_c, const operands *o, bool relu, ae_tensor *y, ae_tensor **savep)
{
    int64_t k = rows_of(g), grid = g->oh * g->ow, nb = g->batch, image = g->channels * g->h * g->w;
    const float *px = ae_data(o->x), *pw = ae_data(o->w), *pb = o->b ? ae_data(o->b) : NULL;
    float *py = ae_data(y);
    *savep = NULL;
    if (is_dense(g)) {
        /* y (batch × out) = x (batch × k) · Wᵀ */
        ae_gemm(false, true, nb, out_c, k, 1.0f, px, k, pw, k, 0.0f, py, out_c);
        bias_relu(py, nb, out_c, 1, pb, relu);
        *savep = ae_retain(o->x);
        return 0;
    }
    geom c = *g;
    int64_t chunk = chunk_of(g);
    geom cg = chunk_geom(g, chunk);
    /* column matrix, im2col's scratch and y of a chunk in sample-innermost order */
    ae_tensor *t[3];
    const int64_t sizes[3] = {k * grid * chunk, im2col_scratch(&cg), chunk > 1 ? out_c * grid * chunk : 0};
    if (scratches(3, t, sizes) != 0) return -1;
    for (int64_t b0 = 0; b0 < nb; b0 += chunk) {
        c.batch = nb - b0 < chunk ? nb - b0 : chunk;
        int64_t n = c.batch * grid;
        float *ys = py + b0 * out_c * grid;
        im2col(&c, px + b0 * image, NULL, ae_data(t[0]), ae_data(t[1]));
        /* (out × grid·batch) is y's transpose; the bias goes in with the
         * transpose back, or for one sample before the GEMM adds to it */
        if (c.batch > 1) {
            float *dst = ae_data(t[2]);
            ae_gemm(false, false, out_c, n, k, 1.0f, pw, k, ae_data(t[0]), n, 0.0f, dst, n);
            transpose_biased(dst, ys, out_c * grid, c.batch, false, (row_bias){pb, grid, relu, NULL});
        } else {
            if (pb) fill_channels(ys, out_c, n, pb);
            ae_gemm(false, false, out_c, n, k, 1.0f, pw, k, ae_data(t[0]), n, pb ? 1.0f : 0.0f, ys, n);
            if (relu) relu_range(ys, 0, out_c * n);
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
    mask_job m = {ae_data(n->saved[2]), ae_gout(n), ae_data(t)};
    ae_parallel_for(count, 16384, mask_range, &m);
    return t;
}

/* saved[0]: the column matrix or x (see conv2d_compute), kept when W
 * needs a gradient; saved[1]: W, kept when x needs one; saved[2]: the
 * output, when a ReLU was fused into it (see masked_gout) */
static void conv2d_backward(ae_node *n)
{
    const conv_state *s = ae_node_state(n);
    geom g;
    conv2d_geom(n->inputs[0]->shape, n->inputs[1]->shape, s->stride, s->pad, &g);
    int64_t out_c = n->out_shape[1], k = rows_of(&g), grid = g.oh * g.ow;
    int64_t nb = g.batch, image = g.channels * g.h * g.w, chunk = chunk_of(&g);
    const float *gy = ae_gout(n), *mask = n->saved[2] ? ae_data(n->saved[2]) : NULL;
    ae_tensor *masked = NULL;
    if (mask && (is_dense(&g) || chunk == 1)) {
        /* backward has no error channel: a failed scratch allocation
         * leaves the gradients out, and the pool has recorded the message */
        if (!(masked = masked_gout(n))) return;
        gy = ae_data(masked);
        mask = NULL;
    }
    /* an input whose requires_grad was switched on after the forward
     * pass gets no gradient: nothing was kept for it */
    bool fx = false, fw = false, fb = false;
    float *gx = n->saved[1] ? ae_grad_slot(n, 0, &fx) : NULL, *gw = n->saved[0] ? ae_grad_slot(n, 1, &fw) : NULL;
    float *gb = n->ninputs > 2 ? ae_grad_slot(n, 2, &fb) : NULL;
    /* with a mask, the bias's gradient is summed from the masked gradient
     * sample-innermost, below */
    if (gb && !mask) bias_grad(gy, NULL, gb, fb, nb, out_c, grid);
    const float *kept = gw ? ae_data(n->saved[0]) : NULL, *w = gx ? ae_data(n->saved[1]) : NULL;
    if (is_dense(&g)) {
        if (gw) ae_gemm(true, false, out_c, k, nb, 1.0f, gy, out_c, kept, k, fw ? 0.0f : 1.0f, gw, k);
        if (gx) ae_gemm(false, false, nb, k, out_c, 1.0f, gy, out_c, w, k, fx ? 0.0f : 1.0f, gx, k);
    }
    if (is_dense(&g) || (!gx && !gw && !(gb && mask))) {
        ae_release(masked);
        return;
    }
    geom c = g;
    bool rebuild = gw && chunk < nb;
    geom cg = chunk_geom(&g, chunk);
    /* gy of a chunk sample-innermost, im2col's scratch and the columns
     * (to rebuild them), the columns' gradient and col2im's scratch */
    ae_tensor *t[5];
    const int64_t sizes[5] = {chunk > 1 ? out_c * grid * chunk : 0, rebuild ? im2col_scratch(&cg) : 0,
                              rebuild ? k * grid * chunk : 0, gx ? k * grid * chunk : 0, gx ? col2im_scratch(&cg) : 0};
    if (scratches(5, t, sizes) != 0) {
        ae_release(masked);
        return;
    }
    for (int64_t b0 = 0; b0 < nb; b0 += chunk) {
        c.batch = nb - b0 < chunk ? nb - b0 : chunk;
        int64_t cols = c.batch * grid, at = b0 * out_c * grid;
        const float *gyt;
        if (mask && c.batch > 1) {
            transpose_biased(gy + at, ae_data(t[0]), c.batch, out_c * grid, false,
                             (row_bias){NULL, 1, false, mask + at});
            gyt = ae_data(t[0]);
        } else if (mask) {
            /* the last chunk's one sample: its mask in a pass of its own */
            mask_job m = {mask + at, gy + at, ae_data(t[0])};
            mask_range(&m, 0, out_c * grid);
            gyt = ae_data(t[0]);
        } else {
            gyt = inner(gy + at, c.batch, out_c * grid, data_or_null(t[0]));
        }
        if (mask && gb) bias_grad(gyt, NULL, gb, fb && b0 == 0, 1, out_c, cols);
        if (gw) {
            const float *col = kept;
            if (rebuild) {
                im2col(&c, kept + b0 * image, NULL, ae_data(t[2]), ae_data(t[1]));
                col = ae_data(t[2]);
            }
            /* a fresh buffer takes the first chunk's product, the rest add */
            ae_gemm(false, true, out_c, k, cols, 1.0f, gyt, cols, col, cols, fw && b0 == 0 ? 0.0f : 1.0f, gw, k);
        }
        if (gx) {
            /* each chunk has its own slice of gx: fresh for every chunk */
            float *gcol = ae_data(t[3]), *gxs = gx + b0 * image;
            ae_gemm(true, false, k, cols, out_c, 1.0f, w, k, gyt, cols, 0.0f, gcol, cols);
            col2im(&c, gcol, gxs, NULL, !fx, false, ae_data(t[4]));
        }
    }
    for (int i = 0; i < 5; i++) ae_release(t[i]);
    ae_release(masked);
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

ae_tensor *ae_conv2d(ae_tensor *x, ae_tensor *w, ae_tensor *b, int64_t stride_h, int64_t stride_w, int64_t pad_h,
                     int64_t pad_w, bool relu)
{
    char s1[AE_SHAPE_STR];
    const int64_t stride[2] = {stride_h, stride_w}, pad[2] = {pad_h, pad_w};
    if (check_common("conv2d", "out" TIMES "in" TIMES "kh" TIMES "kw", 1, x, w, stride, pad) != 0) return NULL;
    if (check_bias("conv2d", b, w, w->shape[0]) != 0) return NULL;
    if (x->shape[2] + 2 * pad_h < w->shape[2] || x->shape[3] + 2 * pad_w < w->shape[3])
        return ae_fail("conv2d: kernel %lld" TIMES "%lld is larger than the padded input %lld" TIMES
                       "%lld (input %s, padding %lld" TIMES "%lld)",
                       (long long)w->shape[2], (long long)w->shape[3], (long long)(x->shape[2] + 2 * pad_h),
                       (long long)(x->shape[3] + 2 * pad_w), ae_shape_str(x, s1), (long long)pad_h, (long long)pad_w);
    geom g;
    conv2d_geom(x->shape, w->shape, stride, pad, &g);
    int64_t out_c = w->shape[0];
    int64_t shape[4] = {g.batch, out_c, g.oh, g.ow};
    if (ae_check_shape("conv2d", 4, shape) < 0) return NULL;
    operands o;
    ae_tensor *y = NULL, *kept = NULL;
    if (contiguous_operands(x, w, b, &o) == 0) y = ae_empty(4, shape);
    if (y && conv2d_compute(&g, out_c, &o, relu, y, &kept) != 0) {
        ae_release(y);
        y = NULL;
    }
    if (y) {
        const conv_state s = {{stride_h, stride_w}, {pad_h, pad_w}};
        y = record_conv(y, relu ? "conv2d_relu" : "conv2d", conv2d_backward, x, w, b, &s, kept, o.w, relu);
    }
    ae_release(kept);
    release_operands(&o);
    return y;
}

/* ------------------------------------------------------ conv_transpose2d */

/* the geometry of conv_transpose2d: the image is its output, the grid its
 * input; out_shape is (batch, out channels, oh, ow) */
static void convt_geom(const int64_t *xs, const int64_t *ws, const int64_t *out_shape, const int64_t stride[2],
                       const int64_t pad[2], geom *g)
{
    g->batch = xs[0];
    g->channels = ws[1];
    g->h = out_shape[2];
    g->w = out_shape[3];
    g->kh = ws[2];
    g->kw = ws[3];
    g->sh = stride[0];
    g->sw = stride[1];
    g->ph = pad[0];
    g->pw = pad[1];
    g->oh = xs[2];
    g->ow = xs[3];
}

/* y from contiguous operands.  Returns through *savep what backward needs
 * for W's gradient: x sample-innermost when the batch went through in one
 * chunk, else x itself (backward transposes each chunk again) */
static int convt_compute(const geom *g, int64_t in_c, const operands *o, bool relu, ae_tensor *y, ae_tensor **savep)
{
    int64_t k = rows_of(g), grid = g->oh * g->ow, nb = g->batch;
    int64_t image = g->h * g->w, out_size = g->channels * image, in_size = in_c * grid;
    const float *px = ae_data(o->x), *pw = ae_data(o->w), *pb = o->b ? ae_data(o->b) : NULL;
    float *py = ae_data(y);
    *savep = NULL;
    if (is_dense(g)) {
        /* y (batch × out·kh·kw) = x (batch × in) · W (in × out·kh·kw) */
        ae_gemm(false, false, nb, k, in_c, 1.0f, px, in_c, pw, k, 0.0f, py, k);
        bias_relu(py, nb, g->channels, image, pb, relu);
        *savep = ae_retain(o->x);
        return 0;
    }
    geom c = *g;
    int64_t chunk = chunk_of(g);
    geom cg = chunk_geom(g, chunk);
    /* x of a chunk sample-innermost, the column matrix, col2im's scratch */
    ae_tensor *t[3];
    const int64_t sizes[3] = {chunk > 1 ? in_size * chunk : 0, k * grid * chunk, col2im_scratch(&cg)};
    if (scratches(3, t, sizes) != 0) return -1;
    for (int64_t b0 = 0; b0 < nb; b0 += chunk) {
        c.batch = nb - b0 < chunk ? nb - b0 : chunk;
        int64_t n = c.batch * grid;
        float *ys = py + b0 * out_size;
        const float *xt = inner(px + b0 * in_size, c.batch, in_size, data_or_null(t[0]));
        ae_gemm(true, false, k, n, in_c, 1.0f, pw, k, xt, n, 0.0f, ae_data(t[1]), n);
        col2im(&c, ae_data(t[1]), ys, pb, false, relu, ae_data(t[2]));
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
    geom g;
    convt_geom(n->inputs[0]->shape, n->inputs[1]->shape, n->out_shape, s->stride, s->pad, &g);
    int64_t in_c = n->inputs[0]->shape[1], k = rows_of(&g), grid = g.oh * g.ow, nb = g.batch;
    int64_t image = g.h * g.w, out_size = g.channels * image, in_size = in_c * grid;
    const float *gy = ae_gout(n), *mask = n->saved[2] ? ae_data(n->saved[2]) : NULL;
    ae_tensor *masked = NULL;
    if (mask && is_dense(&g)) {
        /* backward has no error channel: a failed scratch allocation
         * leaves the gradients out, and the pool has recorded the message */
        if (!(masked = masked_gout(n))) return;
        gy = ae_data(masked);
        mask = NULL;
    }
    bool fx = false, fw = false, fb = false;
    float *gx = n->saved[1] ? ae_grad_slot(n, 0, &fx) : NULL, *gw = n->saved[0] ? ae_grad_slot(n, 1, &fw) : NULL;
    float *gb = n->ninputs > 2 ? ae_grad_slot(n, 2, &fb) : NULL;
    if (gb) bias_grad(gy, mask, gb, fb, nb, g.channels, image);
    const float *kept = gw ? ae_data(n->saved[0]) : NULL, *w = gx ? ae_data(n->saved[1]) : NULL;
    if (is_dense(&g)) {
        if (gw) ae_gemm(true, false, in_c, k, nb, 1.0f, kept, in_c, gy, k, fw ? 0.0f : 1.0f, gw, k);
        if (gx) ae_gemm(false, true, nb, in_c, k, 1.0f, gy, k, w, k, fx ? 0.0f : 1.0f, gx, in_c);
    }
    ae_release(masked);
    if (is_dense(&g) || (!gx && !gw)) return;
    geom c = g;
    int64_t chunk = chunk_of(&g);
    bool retranspose = gw && chunk < nb;
    geom cg = chunk_geom(&g, chunk);
    /* im2col's scratch, gy's columns, x sample-innermost again, and x's
     * gradient sample-innermost */
    ae_tensor *t[4];
    const int64_t sizes[4] = {im2col_scratch(&cg), k * grid * chunk, retranspose && chunk > 1 ? in_size * chunk : 0,
                              gx && chunk > 1 ? in_size * chunk : 0};
    if (scratches(4, t, sizes) != 0) return;
    for (int64_t b0 = 0; b0 < nb; b0 += chunk) {
        c.batch = nb - b0 < chunk ? nb - b0 : chunk;
        int64_t cols = c.batch * grid;
        float *gcol = ae_data(t[1]);
        /* the fused ReLU's mask goes in with im2col's transposes */
        im2col(&c, gy + b0 * out_size, mask ? mask + b0 * out_size : NULL, gcol, ae_data(t[0]));
        if (gw) {
            const float *xt = retranspose ? inner(kept + b0 * in_size, c.batch, in_size, data_or_null(t[2])) : kept;
            ae_gemm(false, true, in_c, k, cols, 1.0f, xt, cols, gcol, cols, fw && b0 == 0 ? 0.0f : 1.0f, gw, k);
        }
        if (gx && c.batch == 1)
            ae_gemm(false, false, in_c, cols, k, 1.0f, w, k, gcol, cols, fx ? 0.0f : 1.0f, gx + b0 * in_size, cols);
        if (gx && c.batch > 1) {
            ae_gemm(false, false, in_c, cols, k, 1.0f, w, k, gcol, cols, 0.0f, ae_data(t[3]), cols);
            transpose(ae_data(t[3]), gx + b0 * in_size, in_size, c.batch, !fx);
        }
    }
    for (int i = 0; i < 4; i++) ae_release(t[i]);
}

ae_tensor *ae_conv_transpose2d(ae_tensor *x, ae_tensor *w, ae_tensor *b, int64_t stride_h, int64_t stride_w,
                               int64_t pad_h, int64_t pad_w, int64_t out_pad_h, int64_t out_pad_w, bool relu)
{
    char s1[AE_SHAPE_STR], s2[AE_SHAPE_STR];
    const char *op = "conv_transpose2d";
    const int64_t stride[2] = {stride_h, stride_w}, pad[2] = {pad_h, pad_w};
    if (check_common(op, "in" TIMES "out" TIMES "kh" TIMES "kw", 0, x, w, stride, pad) != 0) return NULL;
    if (check_bias(op, b, w, w->shape[1]) != 0) return NULL;
    if (out_pad_h < 0 || out_pad_w < 0 || out_pad_h >= stride_h || out_pad_w >= stride_w)
        return ae_fail("%s: output_padding %lld" TIMES "%lld must be non-negative and smaller than "
                       "the stride %lld" TIMES "%lld",
                       op, (long long)out_pad_h, (long long)out_pad_w, (long long)stride_h, (long long)stride_w);
    int64_t oh = (x->shape[2] - 1) * stride_h - 2 * pad_h + w->shape[2] + out_pad_h;
    int64_t ow = (x->shape[3] - 1) * stride_w - 2 * pad_w + w->shape[3] + out_pad_w;
    if (oh <= 0 || ow <= 0)
        return ae_fail("%s: output would be %lld" TIMES "%lld, padding %lld" TIMES "%lld is too large "
                       "for input %s and weight %s",
                       op, (long long)oh, (long long)ow, (long long)pad_h, (long long)pad_w, ae_shape_str(x, s1),
                       ae_shape_str(w, s2));
    int64_t shape[4] = {x->shape[0], w->shape[1], oh, ow};
    if (ae_check_shape(op, 4, shape) < 0) return NULL;
    geom g;
    convt_geom(x->shape, w->shape, shape, stride, pad, &g);
    operands o;
    ae_tensor *y = NULL, *kept = NULL;
    if (contiguous_operands(x, w, b, &o) == 0) y = ae_empty(4, shape);
    if (y && convt_compute(&g, x->shape[1], &o, relu, y, &kept) != 0) {
        ae_release(y);
        y = NULL;
    }
    if (y) {
        const conv_state s = {{stride_h, stride_w}, {pad_h, pad_w}};
        y = record_conv(y, relu ? "conv_transpose2d_relu" : op, convt_backward, x, w, b, &s, kept, o.w, relu);
    }
    ae_release(kept);
    release_operands(&o);
    return y;
}
