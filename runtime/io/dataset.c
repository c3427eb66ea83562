/* dataset.c: see dataset.h.  The data set takes over the buffers that
 * idx.c read, so opening MNIST copies nothing. */
#include "dataset.h"
#include "core/error.h"
#include "idx.h"
#include "core/rng.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ae_dataset_free(ae_dataset *ds)
{
    if (!ds) return;
    free(ds->images);
    free(ds->labels);
    free(ds);
}

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
    ds = calloc(1, sizeof *ds);
    if (!ds) {
        ae_fail("out of memory");
        goto fail;
    }
    ds->n = im->dims[0];
    ds->d = im->count / im->dims[0];
    ds->sample_ndim = im->ndim - 1;
    for (int i = 1; i < im->ndim; i++) ds->sample_shape[i - 1] = im->dims[i];
    ds->images = im->data;
    im->data = NULL;
    if (lb) {
        ds->labels = lb->data;
        lb->data = NULL;
    }
fail:
    ae_idx_free(im);
    ae_idx_free(lb);
    return ds;
}

/* "{3, 7}" */
static const char *classes_str(const bool keep[256], char *buf, size_t size)
{
    size_t used = (size_t)snprintf(buf, size, "{");
    const char *sep = "";
    for (int c = 0; c < 256 && used < size - 8; c++)
        if (keep[c]) {
            used += (size_t)snprintf(buf + used, size - used, "%s%d", sep, c);
            sep = ", ";
        }
    snprintf(buf + used, size - used, "}");
    return buf;
}

static int64_t count_kept(const ae_dataset *ds, const bool keep[256], int64_t limit)
{
    int64_t k = 0;
    for (int64_t i = 0; i < ds->n && (limit < 0 || k < limit); i++)
        if (!keep || keep[ds->labels[i]]) k++;
    return k;
}

ae_dataset *ae_dataset_select(const ae_dataset *ds, const bool keep[256], int64_t limit)
{
    if (keep && !ds->labels) return ae_fail("dataset: filtering by class needs labels, this data set has none");
    int64_t k = count_kept(ds, keep, limit);
    if (k == 0) {
        char want[1200], have[1200];
        if (!keep) return ae_fail("dataset: limit %lld leaves no samples", (long long)limit);
        bool present[256] = {false};
        for (int64_t i = 0; i < ds->n; i++) present[ds->labels[i]] = true;
        return ae_fail("dataset: no sample has a label in %s (labels present: %s)",
                       classes_str(keep, want, sizeof want), classes_str(present, have, sizeof have));
    }
    ae_dataset *out = calloc(1, sizeof *out);
    if (!out) return ae_fail("out of memory");
    *out = *ds;
    out->n = k;
    out->images = malloc((size_t)(k * ds->d));
    out->labels = ds->labels ? malloc((size_t)k) : NULL;
    if (!out->images || (ds->labels && !out->labels)) {
        ae_dataset_free(out);
        return ae_fail("out of memory copying %lld samples", (long long)k);
    }
    for (int64_t i = 0, j = 0; j < k; i++) {
        if (keep && !keep[ds->labels[i]]) continue;
        memcpy(out->images + j * ds->d, ds->images + i * ds->d, (size_t)ds->d);
        if (out->labels) out->labels[j] = ds->labels[i];
        j++;
    }
    return out;
}

void ae_permutation(int64_t *perm, int64_t n, bool shuffle)
{
    for (int64_t i = 0; i < n; i++) perm[i] = i;
    if (!shuffle) return;
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)ae_rng_below((uint64_t)i + 1);
        int64_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}

static void row_to_float(const uint8_t *restrict src, float *restrict dst, int64_t d)
{
    for (int64_t i = 0; i < d; i++) dst[i] = (float)src[i] / 255.0f;
}

ae_tensor *ae_dataset_images(const ae_dataset *ds, const int64_t *perm, int64_t start, int64_t count)
{
    int64_t shape[2] = {count, ds->d};
    ae_tensor *t = ae_empty(2, shape);
    if (!t) return NULL;
    float *x = ae_data(t);
    for (int64_t b = 0; b < count; b++) {
        int64_t i = perm ? perm[start + b] : start + b;
        row_to_float(ds->images + i * ds->d, x + b * ds->d, ds->d);
    }
    return t;
}

ae_tensor *ae_dataset_labels(const ae_dataset *ds, const int64_t *perm, int64_t start, int64_t count)
{
    if (!ds->labels) return ae_fail("dataset: this data set has no labels");
    ae_tensor *t = ae_empty(1, &count);
    if (!t) return NULL;
    float *y = ae_data(t);
    for (int64_t b = 0; b < count; b++) y[b] = ds->labels[perm ? perm[start + b] : start + b];
    return t;
}
