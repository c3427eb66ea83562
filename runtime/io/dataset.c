/* dataset.c: see dataset.h.  An IDX data set takes over the buffers that
 * idx.c read, so opening MNIST copies nothing. */
#include "dataset.h"
#include "core/error.h"
#include "core/rng.h"
#include "idx.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- stores and data sets --------------------------------------------- */

static void store_release(ae_store *s)
{
    if (!s || --s->refs > 0) return;
    free(s->u8);
    free(s->f32);
    if (s->reader.free) s->reader.free(s->reader.ctx);
    free(s);
}

void ae_dataset_free(ae_dataset *ds)
{
    if (!ds) return;
    store_release(ds->store);
    free(ds->rows);
    free(ds->labels);
    free(ds->mean);
    free(ds->std);
    free(ds);
}

/* a data set of n samples of the given shape over a new store of type */
static ae_dataset *new_dataset(int type, int sample_ndim, const int64_t *sample_shape, int64_t n)
{
    ae_dataset *ds = calloc(1, sizeof *ds);
    ae_store *s = calloc(1, sizeof *s);
    if (!ds || !s) {
        free(ds);
        free(s);
        return ae_fail("out of memory");
    }
    s->refs = 1;
    s->type = type;
    s->n = ds->n = n;
    ds->d = 1;
    ds->sample_ndim = sample_ndim;
    for (int i = 0; i < sample_ndim; i++) {
        ds->sample_shape[i] = sample_shape[i];
        ds->d *= sample_shape[i];
    }
    s->d = ds->d;
    ds->store = s;
    return ds;
}

int ae_dataset_check_labels(const char *what, const int64_t *labels, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (labels[i] > AE_DS_LABEL_MAX || labels[i] < -AE_DS_LABEL_MAX)
            return ae_failc("%s: label %lld (sample %lld) is outside -%d..%d, where float32 batches hold "
                            "every integer exactly",
                            what, (long long)labels[i], (long long)i + 1, AE_DS_LABEL_MAX, AE_DS_LABEL_MAX);
    return 0;
}

int ae_dataset_check_finite(const char *what, const char *noun, const float *x, int64_t count, int64_t d, int64_t first)
{
    for (int64_t i = 0; i < count * d; i++)
        if (!isfinite(x[i]))
            return ae_failc("%s: %s %lld, feature %lld is %s", what, noun, (long long)(first + i / d + 1),
                            (long long)(i % d + 1),
                            isnan(x[i]) ? "NaN"
                            : x[i] > 0  ? "inf"
                                        : "-inf");
    return 0;
}

ae_dataset *ae_dataset_from_f32(const char *what, const char *noun, int sample_ndim, const int64_t *sample_shape,
                                int64_t n, float *x, int64_t *labels)
{
    ae_dataset *ds = NULL;
    if (n < 1) {
        ae_fail("%s: the data set has no samples", what);
        goto fail;
    }
    if (labels && ae_dataset_check_labels(what, labels, n) < 0) goto fail;
    if (!(ds = new_dataset(AE_DS_F32, sample_ndim, sample_shape, n))) goto fail;
    if (ae_dataset_check_finite(what, noun, x, n, ds->d, 0) < 0) {
        ae_dataset_free(ds);
        goto fail;
    }
    ds->store->f32 = x;
    ds->labels = labels;
    return ds;
fail:
    free(x);
    free(labels);
    return NULL;
}

ae_dataset *ae_dataset_from_reader(ae_row_reader reader, int sample_ndim, const int64_t *sample_shape, int64_t n,
                                   int64_t *labels)
{
    ae_dataset *ds = new_dataset(AE_DS_STREAM, sample_ndim, sample_shape, n);
    if (!ds) {
        reader.free(reader.ctx);
        free(labels);
        return NULL;
    }
    if (reader.block_rows < 1) reader.block_rows = 1;
    if (reader.window_rows < reader.block_rows) reader.window_rows = reader.block_rows;
    ds->store->reader = reader;
    ds->labels = labels;
    return ds;
}

/* --- IDX -------------------------------------------------------------- */

static int check_images(const ae_idx *im, const char *path)
{
    if (im->type != AE_IDX_UBYTE)
        return ae_failc("dataset images '%s' hold %s values; a data set needs ubyte images "
                        "(read other types with data.idx)",
                        path, ae_idx_type_name(im->type));
    return 0;
}

static int check_labels(const ae_idx *lb, const char *path, const ae_idx *im, const char *im_path)
{
    char b[AE_SHAPE_STR];
    if (lb->type != AE_IDX_UBYTE)
        return ae_failc("dataset labels '%s' hold %s values; labels must be ubyte", path, ae_idx_type_name(lb->type));
    if (lb->ndim != 1)
        return ae_failc("dataset labels '%s' have shape %s; labels must be one-dimensional", path,
                        ae_dims_str(lb->ndim, lb->dims, b));
    if (lb->dims[0] != im->dims[0])
        return ae_failc("dataset: %lld labels in '%s' but %lld images in '%s'", (long long)lb->dims[0], path,
                        (long long)im->dims[0], im_path);
    return 0;
}

ae_dataset *ae_dataset_open(const char *images_path, const char *labels_path)
{
    ae_idx *im = ae_idx_read(images_path), *lb = NULL;
    ae_dataset *ds = NULL;
    if (!im || check_images(im, images_path) < 0) goto fail;
    if (labels_path) {
        lb = ae_idx_read(labels_path);
        if (!lb || check_labels(lb, labels_path, im, images_path) < 0) goto fail;
    }
    if (!(ds = new_dataset(AE_DS_U8, im->ndim - 1, im->dims + 1, im->dims[0]))) goto fail;
    if (lb && !(ds->labels = malloc((size_t)ds->n * sizeof *ds->labels))) {
        ae_dataset_free(ds);
        ds = ae_fail("out of memory");
        goto fail;
    }
    if (lb)
        for (int64_t i = 0; i < ds->n; i++) ds->labels[i] = ((const uint8_t *)lb->data)[i];
    ds->store->u8 = im->data;
    im->data = NULL;
fail:
    ae_idx_free(im);
    ae_idx_free(lb);
    return ds;
}

/* --- views ------------------------------------------------------------ */

static int64_t store_row(const ae_dataset *ds, int64_t i) { return ds->rows ? ds->rows[i] : i; }

static float *copy_floats(const float *v, int64_t n)
{
    if (!v) return NULL;
    float *c = malloc((size_t)n * sizeof *c);
    if (c) memcpy(c, v, (size_t)n * sizeof *c);
    return c;
}

/* a view of the samples pos[0..k) of ds (ascending; pos NULL: 0..k-1) */
static ae_dataset *make_view(const ae_dataset *ds, const int64_t *pos, int64_t k)
{
    ae_dataset *v = calloc(1, sizeof *v);
    if (!v) return ae_fail("out of memory");
    *v = *ds;
    v->n = k;
    v->rows = malloc((size_t)k * sizeof *v->rows);
    v->labels = ds->labels ? malloc((size_t)k * sizeof *v->labels) : NULL;
    v->mean = copy_floats(ds->mean, ds->d);
    v->std = copy_floats(ds->std, ds->d);
    ds->store->refs++;
    if (!v->rows || (ds->labels && !v->labels) || (ds->mean && (!v->mean || !v->std))) {
        ae_dataset_free(v);
        return ae_fail("out of memory making a view of %lld samples", (long long)k);
    }
    for (int64_t i = 0; i < k; i++) {
        int64_t p = pos ? pos[i] : i;
        v->rows[i] = store_row(ds, p);
        if (v->labels) v->labels[i] = ds->labels[p];
    }
    return v;
}

/* a compact in-memory copy of the samples pos[0..k) of ds */
static ae_dataset *make_copy(const ae_dataset *ds, const int64_t *pos, int64_t k)
{
    const ae_store *s = ds->store;
    ae_dataset *out = new_dataset(s->type, ds->sample_ndim, ds->sample_shape, k);
    if (!out) return NULL;
    size_t esize = s->type == AE_DS_U8 ? 1 : sizeof(float);
    void *x = malloc((size_t)(k * ds->d) * esize);
    out->labels = ds->labels ? malloc((size_t)k * sizeof *out->labels) : NULL;
    out->mean = copy_floats(ds->mean, ds->d);
    out->std = copy_floats(ds->std, ds->d);
    if (s->type == AE_DS_U8) out->store->u8 = x;
    else out->store->f32 = x;
    if (!x || (ds->labels && !out->labels) || (ds->mean && (!out->mean || !out->std))) {
        ae_dataset_free(out);
        return ae_fail("out of memory copying %lld samples", (long long)k);
    }
    const char *src = s->type == AE_DS_U8 ? (const char *)s->u8 : (const char *)s->f32;
    size_t row = (size_t)ds->d * esize;
    for (int64_t i = 0; i < k; i++) {
        memcpy((char *)x + (size_t)i * row, src + (size_t)store_row(ds, pos[i]) * row, row);
        if (out->labels) out->labels[i] = ds->labels[pos[i]];
    }
    return out;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static bool kept(const int64_t *keep, int64_t nkeep, int64_t label)
{
    return bsearch(&label, keep, (size_t)nkeep, sizeof *keep, cmp_i64) != NULL;
}

/* "{3, 7}", at most as much as fits */
static const char *labels_str(const int64_t *v, int64_t n, char *buf, size_t size)
{
    size_t used = (size_t)snprintf(buf, size, "{");
    for (int64_t i = 0; i < n; i++) {
        if (used + 32 >= size) {
            used += (size_t)snprintf(buf + used, size - used, ", ...");
            break;
        }
        used += (size_t)snprintf(buf + used, size - used, "%s%lld", i ? ", " : "", (long long)v[i]);
    }
    snprintf(buf + used, size - used, "}");
    return buf;
}

ae_dataset *ae_dataset_select(const ae_dataset *ds, const int64_t *keep, int64_t nkeep, int64_t limit)
{
    if (keep && !ds->labels) return ae_fail("dataset: filtering by class needs labels, this data set has none");
    int64_t *pos = malloc((size_t)ds->n * sizeof *pos);
    if (!pos) return ae_fail("out of memory");
    int64_t k = 0;
    for (int64_t i = 0; i < ds->n && (limit < 0 || k < limit); i++)
        if (!keep || kept(keep, nkeep, ds->labels[i])) pos[k++] = i;
    ae_dataset *out = NULL;
    if (k == 0) {
        char want[1200], have[1200];
        int64_t *present = NULL, *counts = NULL, np = 0;
        if (!keep) out = ae_fail("dataset: limit %lld leaves no samples", (long long)limit);
        else if (ae_dataset_counts(ds, &present, &counts, &np) == 0)
            ae_fail("dataset: no sample has a label in %s (labels present: %s)",
                    labels_str(keep, nkeep, want, sizeof want), labels_str(present, np, have, sizeof have));
        free(present);
        free(counts);
    } else if (ds->store->type == AE_DS_STREAM) {
        out = make_view(ds, pos, k);
    } else {
        out = make_copy(ds, pos, k);
    }
    free(pos);
    return out;
}

int ae_dataset_counts(const ae_dataset *ds, int64_t **labels, int64_t **counts, int64_t *k)
{
    *labels = *counts = NULL;
    *k = 0;
    if (!ds->labels) return ae_failc("dataset: this data set has no labels");
    int64_t *v = malloc((size_t)ds->n * sizeof *v), *c = malloc((size_t)ds->n * sizeof *c);
    if (!v || !c) {
        free(v);
        free(c);
        return ae_failc("out of memory");
    }
    memcpy(v, ds->labels, (size_t)ds->n * sizeof *v);
    qsort(v, (size_t)ds->n, sizeof *v, cmp_i64);
    int64_t m = 0;
    for (int64_t i = 0; i < ds->n; i++) {
        if (m > 0 && v[m - 1] == v[i]) {
            c[m - 1]++;
            continue;
        }
        v[m] = v[i];
        c[m++] = 1;
    }
    *labels = v;
    *counts = c;
    *k = m;
    return 0;
}

/* --- permutations ----------------------------------------------------- */

/* a generator of its own for seeded splits (splitmix64), so that they
 * leave the runtime RNG where it was */
typedef struct {
    bool own;
    uint64_t state;
} draw;

static uint64_t draw_below(draw *g, uint64_t n)
{
    if (!g || !g->own) return ae_rng_below(n);
    /* rejection keeps the draw free of modulo bias, as ae_rng_below */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    for (;;) {
        uint64_t z = (g->state += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        z ^= z >> 31;
        if (z < limit) return z % n;
    }
}

static void shuffle(int64_t *v, int64_t n, draw *g)
{
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)draw_below(g, (uint64_t)i + 1);
        int64_t t = v[i];
        v[i] = v[j];
        v[j] = t;
    }
}

void ae_permutation(int64_t *perm, int64_t n, bool shuffled)
{
    for (int64_t i = 0; i < n; i++) perm[i] = i;
    if (shuffled) shuffle(perm, n, NULL);
}

int ae_dataset_split(const ae_dataset *ds, const int64_t *counts, int parts, bool has_seed, uint64_t seed,
                     ae_dataset **out)
{
    int64_t total = 0;
    for (int p = 0; p < parts; p++) {
        out[p] = NULL;
        if (counts[p] < 1) return ae_failc("split: part %d would have %lld samples", p + 1, (long long)counts[p]);
        total += counts[p];
    }
    if (total != ds->n)
        return ae_failc("split: the parts hold %lld samples, the data set %lld", (long long)total, (long long)ds->n);
    int64_t *perm = malloc((size_t)ds->n * sizeof *perm);
    if (!perm) return ae_failc("out of memory");
    draw g = {has_seed, seed};
    for (int64_t i = 0; i < ds->n; i++) perm[i] = i;
    shuffle(perm, ds->n, &g);
    int64_t off = 0;
    for (int p = 0; p < parts; p++) {
        qsort(perm + off, (size_t)counts[p], sizeof *perm, cmp_i64);
        if (!(out[p] = make_view(ds, perm + off, counts[p]))) {
            for (int q = 0; q < p; q++) ae_dataset_free(out[q]);
            free(perm);
            return -1;
        }
        off += counts[p];
    }
    free(perm);
    return 0;
}

ae_dataset *ae_dataset_standardize(const ae_dataset *ds, const float *mean, const float *std)
{
    for (int64_t j = 0; j < ds->d; j++)
        if (!(std[j] > 0) || !isfinite(std[j]) || !isfinite(mean[j]))
            return ae_fail("standardize: feature %lld has mean %g and std %g; std must be positive and both finite",
                           (long long)j + 1, (double)mean[j], (double)std[j]);
    ae_dataset *v = make_view(ds, NULL, ds->n);
    if (!v) return NULL;
    free(v->mean);
    free(v->std);
    v->mean = copy_floats(mean, ds->d);
    v->std = copy_floats(std, ds->d);
    if (!v->mean || !v->std) {
        ae_dataset_free(v);
        return ae_fail("out of memory");
    }
    return v;
}

/* --- batches ---------------------------------------------------------- */

/* one sample into dst as a batch gives it: uint8 scaled by 1/255, then
 * standardized when the data set is */
static void finish_row(const ae_dataset *ds, float *restrict dst)
{
    if (!ds->mean) return;
    for (int64_t j = 0; j < ds->d; j++) dst[j] = (dst[j] - ds->mean[j]) / ds->std[j];
}

static void memory_row(const ae_dataset *ds, int64_t row, float *restrict dst)
{
    const ae_store *s = ds->store;
    if (s->type == AE_DS_U8) {
        const uint8_t *src = s->u8 + row * s->d;
        for (int64_t j = 0; j < s->d; j++) dst[j] = (float)src[j] / 255.0f;
    } else {
        memcpy(dst, s->f32 + row * s->d, (size_t)s->d * sizeof *dst);
    }
    finish_row(ds, dst);
}

static ae_tensor *labels_tensor(const ae_dataset *ds, const int64_t *idx, int64_t start, int64_t count)
{
    ae_tensor *t = ae_empty(1, &count);
    if (!t) return NULL;
    float *y = ae_data(t);
    for (int64_t b = 0; b < count; b++) y[b] = (float)ds->labels[idx ? idx[start + b] : start + b];
    return t;
}

typedef struct {
    int64_t row, at;
} row_at;

static int cmp_row_at(const void *a, const void *b)
{
    int64_t x = ((const row_at *)a)->row, y = ((const row_at *)b)->row;
    return (x > y) - (x < y);
}

/* the samples of a streamed data set into x (count × d): the store rows
 * sorted, read in runs of consecutive rows at most a block long */
static int stream_rows(const ae_dataset *ds, const int64_t *idx, int64_t start, int64_t count, float *x)
{
    const ae_row_reader *r = &ds->store->reader;
    int64_t d = ds->d;
    row_at *ra = malloc((size_t)count * sizeof *ra);
    float *tmp = malloc((size_t)(r->block_rows * d) * sizeof *tmp);
    int rc = 0;
    if (!ra || !tmp) {
        rc = ae_failc("out of memory");
        goto done;
    }
    for (int64_t b = 0; b < count; b++) {
        ra[b].row = store_row(ds, idx ? idx[start + b] : start + b);
        ra[b].at = b;
    }
    qsort(ra, (size_t)count, sizeof *ra, cmp_row_at);
    for (int64_t i = 0; i < count;) {
        int64_t j = i + 1;
        while (j < count && ra[j].row - ra[i].row < r->block_rows && ra[j].row <= ra[j - 1].row + 1) j++;
        int64_t first = ra[i].row, rows = ra[j - 1].row - first + 1;
        if ((rc = r->read(r->ctx, first, rows, tmp)) < 0) goto done;
        for (int64_t k = i; k < j; k++) {
            float *dst = x + ra[k].at * d;
            memcpy(dst, tmp + (ra[k].row - first) * d, (size_t)d * sizeof *dst);
            finish_row(ds, dst);
        }
        i = j;
    }
done:
    free(ra);
    free(tmp);
    return rc;
}

int ae_dataset_gather(const ae_dataset *ds, const int64_t *idx, int64_t start, int64_t count, ae_tensor **x,
                      ae_tensor **y)
{
    int64_t shape[2] = {count, ds->d};
    *x = ae_empty(2, shape);
    if (y) *y = NULL;
    if (!*x) return -1;
    float *out = ae_data(*x);
    if (ds->store->type == AE_DS_STREAM) {
        if (stream_rows(ds, idx, start, count, out) < 0) goto fail;
    } else {
        for (int64_t b = 0; b < count; b++)
            memory_row(ds, store_row(ds, idx ? idx[start + b] : start + b), out + b * ds->d);
    }
    if (y && ds->labels && !(*y = labels_tensor(ds, idx, start, count))) goto fail;
    return 0;
fail:
    ae_release(*x);
    *x = NULL;
    return -1;
}

/* --- epochs ----------------------------------------------------------- */

/* An epoch over a streamed store reads it block by block: the blocks the
 * data set touches are put in a random order, cut into windows of about
 * window_rows rows, and the samples are shuffled within each window.  A
 * block is read when a batch first needs it and dropped when the batches
 * have moved past its window, so each block is read once per epoch and at
 * most the windows one batch spans are in memory. */
struct ae_epoch {
    int64_t n, pos, batch;
    bool drop_last;
    int64_t *perm; /* n, or NULL: in order */
    /* streamed stores */
    int64_t block_rows, nb;
    int64_t *block_id; /* nb ascending blocks of the store */
    int64_t *win;      /* nb: the window each block is read in */
    float **buf;       /* nb: the block's rows while in memory */
    int64_t *loaded, nloaded;
};

void ae_epoch_free(ae_epoch *e)
{
    if (!e) return;
    if (e->buf)
        for (int64_t k = 0; k < e->nloaded; k++) free(e->buf[e->loaded[k]]);
    free(e->perm);
    free(e->block_id);
    free(e->win);
    free(e->buf);
    free(e->loaded);
    free(e);
}

/* the blocks of a streamed data set, and the order and windows they are
 * read in; with shuffle the samples are shuffled within each window */
static int plan_stream(ae_epoch *e, const ae_dataset *ds, bool shuffled)
{
    const ae_row_reader *r = &ds->store->reader;
    int64_t B = e->block_rows = r->block_rows;
    int64_t rows_w = r->window_rows > e->batch ? r->window_rows : e->batch;
    int64_t W = (rows_w + B - 1) / B;
    int64_t *bstart = malloc((size_t)(ds->n + 1) * sizeof *bstart);
    e->block_id = malloc((size_t)ds->n * sizeof *e->block_id);
    if (!bstart || !e->block_id) goto oom;
    int64_t nb = 0;
    for (int64_t i = 0; i < ds->n; i++) {
        int64_t b = store_row(ds, i) / B;
        if (nb == 0 || e->block_id[nb - 1] != b) {
            bstart[nb] = i;
            e->block_id[nb++] = b;
        }
    }
    bstart[nb] = ds->n;
    e->nb = nb;
    int64_t *fit = realloc(e->block_id, (size_t)nb * sizeof *fit);
    if (fit) e->block_id = fit;
    e->win = malloc((size_t)nb * sizeof *e->win);
    e->buf = calloc((size_t)nb, sizeof *e->buf);
    e->loaded = malloc((size_t)nb * sizeof *e->loaded);
    int64_t *order = malloc((size_t)nb * sizeof *order);
    if (!e->win || !e->buf || !e->loaded || !order) {
        free(order);
        goto oom;
    }
    for (int64_t k = 0; k < nb; k++) order[k] = k;
    if (shuffled) shuffle(order, nb, NULL);
    for (int64_t i = 0; i < nb; i++) e->win[order[i]] = i / W;
    if (shuffled) {
        if (!(e->perm = malloc((size_t)ds->n * sizeof *e->perm))) {
            free(order);
            goto oom;
        }
        int64_t at = 0;
        for (int64_t w0 = 0; w0 < nb; w0 += W) {
            int64_t from = at;
            for (int64_t i = w0; i < nb && i < w0 + W; i++)
                for (int64_t p = bstart[order[i]]; p < bstart[order[i] + 1]; p++) e->perm[at++] = p;
            shuffle(e->perm + from, at - from, NULL);
        }
    }
    free(order);
    free(bstart);
    return 0;
oom:
    free(bstart);
    return ae_failc("out of memory planning an epoch of %lld samples", (long long)ds->n);
}

ae_epoch *ae_epoch_new(const ae_dataset *ds, int64_t batch, bool shuffled, bool drop_last)
{
    ae_epoch *e = calloc(1, sizeof *e);
    if (!e) return ae_fail("out of memory");
    e->n = ds->n;
    e->batch = batch;
    e->drop_last = drop_last;
    if (ds->store->type == AE_DS_STREAM) {
        if (plan_stream(e, ds, shuffled) < 0) {
            ae_epoch_free(e);
            return NULL;
        }
    } else if (shuffled) {
        if (!(e->perm = malloc((size_t)ds->n * sizeof *e->perm))) {
            ae_epoch_free(e);
            return ae_fail("out of memory");
        }
        ae_permutation(e->perm, ds->n, true);
    }
    return e;
}

/* the index of store block b among the epoch's blocks */
static int64_t block_index(const ae_epoch *e, int64_t b)
{
    const int64_t *p = bsearch(&b, e->block_id, (size_t)e->nb, sizeof b, cmp_i64);
    return p - e->block_id;
}

static float *load_block(ae_epoch *e, const ae_dataset *ds, int64_t k)
{
    if (e->buf[k]) return e->buf[k];
    const ae_row_reader *r = &ds->store->reader;
    int64_t first = e->block_id[k] * e->block_rows;
    int64_t rows = ds->store->n - first < e->block_rows ? ds->store->n - first : e->block_rows;
    float *buf = malloc((size_t)(rows * ds->d) * sizeof *buf);
    if (!buf) return ae_fail("out of memory reading %lld rows", (long long)rows);
    if (r->read(r->ctx, first, rows, buf) < 0) {
        free(buf);
        return NULL;
    }
    e->loaded[e->nloaded++] = k;
    return e->buf[k] = buf;
}

/* the streamed samples start .. start+count of the epoch's order into x */
static int epoch_stream_rows(ae_epoch *e, const ae_dataset *ds, int64_t start, int64_t count, float *x)
{
    int64_t first = e->perm ? e->perm[start] : start;
    int64_t w0 = e->win[block_index(e, store_row(ds, first) / e->block_rows)];
    /* blocks of windows the epoch has left are not needed again */
    for (int64_t i = 0; i < e->nloaded;) {
        int64_t k = e->loaded[i];
        if (e->win[k] < w0) {
            free(e->buf[k]);
            e->buf[k] = NULL;
            e->loaded[i] = e->loaded[--e->nloaded];
        } else {
            i++;
        }
    }
    for (int64_t b = 0; b < count; b++) {
        int64_t row = store_row(ds, e->perm ? e->perm[start + b] : start + b);
        int64_t blk = row / e->block_rows;
        const float *buf = load_block(e, ds, block_index(e, blk));
        if (!buf) return -1;
        float *dst = x + b * ds->d;
        memcpy(dst, buf + (row - blk * e->block_rows) * ds->d, (size_t)ds->d * sizeof *dst);
        finish_row(ds, dst);
    }
    return 0;
}

int ae_epoch_next(ae_epoch *e, const ae_dataset *ds, ae_tensor **x, ae_tensor **y)
{
    *x = *y = NULL;
    int64_t left = e->n - e->pos;
    if (left <= 0 || (e->drop_last && left < e->batch)) return 0;
    int64_t count = left < e->batch ? left : e->batch;
    int64_t start = e->pos;
    e->pos += count;
    if (ds->store->type != AE_DS_STREAM) return ae_dataset_gather(ds, e->perm, start, count, x, y) < 0 ? -1 : 1;
    int64_t shape[2] = {count, ds->d};
    if (!(*x = ae_empty(2, shape))) return -1;
    if (epoch_stream_rows(e, ds, start, count, ae_data(*x)) < 0 ||
        (ds->labels && !(*y = labels_tensor(ds, e->perm, start, count)))) {
        ae_release(*x);
        *x = NULL;
        return -1;
    }
    return 1;
}

/* --- statistics ------------------------------------------------------- */

int ae_dataset_moments(const ae_dataset *ds, double *mean, double *std)
{
    int64_t d = ds->d;
    double *m2 = calloc((size_t)d, sizeof *m2), *bm = malloc((size_t)d * sizeof *bm);
    float *lo = malloc((size_t)d * sizeof *lo), *hi = malloc((size_t)d * sizeof *hi);
    ae_epoch *e = ae_epoch_new(ds, 4096, false, false);
    int rc = -1;
    if (!m2 || !bm || !lo || !hi) ae_failc("out of memory");
    if (!m2 || !bm || !lo || !hi || !e) goto done;
    for (int64_t j = 0; j < d; j++) mean[j] = 0;
    /* each batch's mean and squared deviations in two passes, merged into
     * the running ones (Chan et al.): no cancellation for large means */
    int64_t seen = 0;
    ae_tensor *x, *y;
    int got;
    while ((got = ae_epoch_next(e, ds, &x, &y)) == 1) {
        const float *v = ae_data(x);
        int64_t b = x->shape[0];
        if (seen == 0)
            for (int64_t j = 0; j < d; j++) lo[j] = hi[j] = v[j];
        for (int64_t j = 0; j < d; j++) bm[j] = 0;
        for (int64_t i = 0; i < b; i++)
            for (int64_t j = 0; j < d; j++) {
                float f = v[i * d + j];
                bm[j] += f;
                if (f < lo[j]) lo[j] = f;
                if (f > hi[j]) hi[j] = f;
            }
        for (int64_t j = 0; j < d; j++) bm[j] /= (double)b;
        for (int64_t j = 0; j < d; j++) {
            double bq = 0;
            for (int64_t i = 0; i < b; i++) {
                double dv = v[i * d + j] - bm[j];
                bq += dv * dv;
            }
            double delta = bm[j] - mean[j], tot = (double)(seen + b);
            mean[j] += delta * (double)b / tot;
            m2[j] += bq + delta * delta * (double)seen * (double)b / tot;
        }
        seen += b;
        ae_release(x);
        ae_release(y);
    }
    if (got < 0) goto done;
    for (int64_t j = 0; j < d; j++) std[j] = lo[j] == hi[j] ? 1.0 : sqrt(m2[j] / (double)seen);
    rc = 0;
done:
    ae_epoch_free(e);
    free(m2);
    free(bm);
    free(lo);
    free(hi);
    return rc;
}
