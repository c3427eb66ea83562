/* conv_kernels.c: see conv_kernels.h.
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
 * The data movement (transposes, im2col, col2im, bias) is shared between
 * the runtime's threads (parallel.h) like the GEMMs: transposes by column
 * strips, im2col and col2im by (channel, band of rows), each band's
 * transpose done by the thread that uses it, so that it never crosses to
 * the other core's cache. */
#include "conv_kernels.h"
#include "core/mathf.h"
#include "core/parallel.h"

#include <string.h>

#if defined(__AVX__)
#include <immintrin.h>
#endif

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

void ae_transpose_biased(const float *src, float *dst, int64_t rows, int64_t cols, bool add, row_bias bias)
{
    transpose_job t = {src, dst, rows, cols, add, bias};
    int64_t grain = 16384 / (8 * (rows > 0 ? rows : 1));
    ae_parallel_for((cols + 7) / 8, grain > 1 ? grain : 1, transpose_strips, &t);
}

void ae_transpose_data(const float *src, float *dst, int64_t rows, int64_t cols, bool add)
{
    ae_transpose_biased(src, dst, rows, cols, add, (row_bias){NULL, 1, false, NULL});
}

const float *ae_samples_inner(const float *x, int64_t batch, int64_t n, float *buf)
{
    if (batch == 1) return x;
    ae_transpose_data(x, buf, batch, n, false);
    return buf;
}

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
static int64_t band_of(const conv_geom *g, int64_t rows, int64_t *bands)
{
    int64_t want = (MIN_UNITS + g->channels - 1) / g->channels;
    if (want > rows) want = rows;
    if (want < 1) want = 1;
    int64_t band = (rows + want - 1) / want;
    *bands = (rows + band - 1) / band;
    return band;
}

/* the image rows a band of grid rows reads: at most this many */
static int64_t im2col_band_rows(const conv_geom *g, int64_t band)
{
    int64_t r = (band - 1) * g->sh + g->kh;
    return r < g->h ? r : g->h;
}

int64_t ae_im2col_scratch(const conv_geom *g)
{
    int64_t bands, band = band_of(g, g->oh, &bands);
    return g->channels * bands * im2col_band_rows(g, band) * g->w * g->batch;
}

int64_t ae_col2im_scratch(const conv_geom *g)
{
    int64_t bands, band = band_of(g, g->h, &bands);
    return g->channels * bands * band * g->w * g->batch;
}

typedef struct {
    const conv_geom *g;
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
    const conv_geom *g = job->g;
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

void ae_im2col(const conv_geom *g, const float *img, const float *mask, float *col, float *scratch)
{
    im2col_job job = {g, img, mask, col, scratch, 0, 0};
    job.band = band_of(g, g->oh, &job.bands);
    ae_parallel_for(g->channels * job.bands, 1, im2col_units, &job);
}

typedef struct {
    const conv_geom *g;
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
    const conv_geom *g = job->g;
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

void ae_col2im(const conv_geom *g, const float *col, float *img, const float *bias, bool add, bool relu, float *scratch)
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

void ae_fill_channels(float *y, int64_t c, int64_t per, const float *bias)
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

void ae_bias_relu(float *y, int64_t batch, int64_t c, int64_t p, const float *bias, bool relu)
{
    if (!bias && !relu) return;
    bias_relu_job j = {y, c, p, bias, relu};
    int64_t grain = 16384 / (c * p > 0 ? c * p : 1);
    /* a pass too small to share costs less than waking a thread */
    if (grain >= batch) bias_relu_samples(&j, 0, batch);
    else ae_parallel_for(batch, grain > 1 ? grain : 1, bias_relu_samples, &j);
}

void ae_relu_inplace(float *y, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        float v = y[i];
        y[i] = v > 0 ? v : 0.0f;
    }
}

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

void ae_relu_mask(const float *y, const float *gy, float *g, int64_t n)
{
    mask_job m = {y, gy, g};
    ae_parallel_for(n, 16384, mask_range, &m);
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

void ae_bias_grad(const float *gy, const float *mask, float *gb, bool fresh, int64_t batch, int64_t c, int64_t p)
{
    bias_job j = {gy, mask, gb, batch, c, p, fresh};
    int64_t grain = 16384 / (batch * p > 0 ? batch * p : 1);
    ae_parallel_for(c, grain > 1 ? grain : 1, bias_channels, &j);
}
