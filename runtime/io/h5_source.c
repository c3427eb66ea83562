/* h5_source.c: see h5_source.h.  The file is opened through h5_file.c
 * (its checks for files that are not HDF5, truncated or damaged, and its
 * messages); x is then opened here with a chunk cache of its own, sized so
 * that reading one block of rows decompresses each of its chunks once. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"
#include "h5_internal.h"
#include "h5_source.h"

/* --- what the file holds, for "not found" messages -------------------- */

typedef struct {
    char buf[1024];
    size_t used;
    int shown, more;
} listing;

static void list_datasets(ae_h5 *f, const char *group, listing *l, int depth)
{
    char **names = NULL;
    size_t count = 0;
    if (depth > 8 || ae_h5_list(f, group, &names, &count) < 0) return;
    for (size_t i = 0; i < count; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", strcmp(group, "/") ? group : "", names[i]);
        int kind = ae_h5_kind(f, path);
        if (kind == AE_H5_GROUP) {
            list_datasets(f, path, l, depth + 1);
        } else if (kind == AE_H5_DATASET) {
            int64_t shape[AE_MAX_DIMS];
            char dims[AE_SHAPE_STR];
            int rank = ae_h5_shape(f, path, shape);
            if (l->shown >= 20 || l->used + strlen(path) + 64 > sizeof l->buf) {
                l->more++;
                continue;
            }
            l->used += (size_t)snprintf(l->buf + l->used, sizeof l->buf - l->used, "%s%s (%s)", l->shown ? ", " : "",
                                        path, rank >= 0 ? ae_dims_str(rank, shape, dims) : "?");
            l->shown++;
        }
    }
    ae_h5_free_names(names, count);
}

static int missing(ae_h5 *f, const char *what, const char *name)
{
    listing l = {.used = 0};
    l.buf[0] = '\0';
    list_datasets(f, "/", &l, 0);
    ae_clear_error();
    if (!l.shown)
        return ae_failc("%s: %s dataset \"%s\" not found; the file holds no datasets", ae_h5_path(f), what, name);
    if (l.more) snprintf(l.buf + l.used, sizeof l.buf - l.used, " and %d more", l.more);
    return ae_failc("%s: %s dataset \"%s\" not found; the datasets in the file are %s", ae_h5_path(f), what, name,
                    l.buf);
}

/* 0 when name is a dataset in f, else -1 with a message */
static int check_dataset(ae_h5 *f, const char *what, const char *name)
{
    int kind = ae_h5_kind(f, name);
    if (kind < 0) return -1;
    if (kind == AE_H5_MISSING) return missing(f, what, name);
    if (kind != AE_H5_DATASET) return ae_failc("%s: %s \"%s\" is a group, not a dataset", ae_h5_path(f), what, name);
    return 0;
}

/* --- labels ----------------------------------------------------------- */

static int64_t *read_labels(ae_h5 *f, const char *y, int64_t n, const char *x)
{
    int64_t shape[AE_MAX_DIMS], count = 0;
    if (check_dataset(f, "y", y) < 0) return NULL;
    int rank = ae_h5_shape(f, y, shape);
    if (rank < 0) return NULL;
    if (rank == 0 || shape[0] != n)
        return ae_fail("%s: y \"%s\" has %lld rows but x \"%s\" has %lld; they must be the same length", ae_h5_path(f),
                       y, rank ? (long long)shape[0] : 0LL, x, (long long)n);
    double *v = ae_h5_read_f64(f, y, &count);
    if (!v) return NULL;
    int64_t *labels = NULL;
    if (count != n) {
        ae_fail("%s: y \"%s\" holds %lld values for %lld rows; labels are one per row", ae_h5_path(f), y,
                (long long)count, (long long)n);
        goto done;
    }
    if (!(labels = malloc((size_t)n * sizeof *labels))) {
        ae_fail("%s: out of memory for %lld labels", ae_h5_path(f), (long long)n);
        goto done;
    }
    for (int64_t i = 0; i < n; i++) {
        if (!(v[i] == floor(v[i])) || fabs(v[i]) > AE_DS_LABEL_MAX) {
            ae_fail("%s: y \"%s\": row %lld holds %g; labels must be integers in -%d..%d", ae_h5_path(f), y,
                    (long long)i + 1, v[i], AE_DS_LABEL_MAX, AE_DS_LABEL_MAX);
            free(labels);
            labels = NULL;
            goto done;
        }
        labels[i] = (int64_t)v[i];
    }
done:
    free(v);
    return labels;
}

/* --- x ---------------------------------------------------------------- */

/* the open x and what reading it needs; the reader's context */
typedef struct {
    ae_h5 *f;
    hid_t dset, space;
    int rank;
    hsize_t dims[AE_MAX_DIMS];
    int64_t d;
    double scale;
    off_t size;      /* of the file when opened: a change is an error */
    char what[1100]; /* "path: x \"name\"" */
} source;

static void source_free(void *ctx)
{
    source *s = ctx;
    if (!s) return;
    if (s->space >= 0) H5Sclose(s->space);
    if (s->dset >= 0) H5Dclose(s->dset);
    if (s->f) ae_h5_close(s->f);
    free(s);
}

/* rows [row, row+count) of x as float32 */
static int source_read(void *ctx, int64_t row, int64_t count, float *dst)
{
    source *s = ctx;
    struct stat st;
    const char *path = ae_h5_path(s->f);
    long long a = (long long)row + 1, b = (long long)(row + count);
    if (stat(path, &st) != 0 || st.st_size != s->size)
        return ae_failc("%s: cannot read rows %lld..%lld: the file changed since it was opened (%lld bytes then, "
                        "%lld now; truncated?)",
                        s->what, a, b, (long long)s->size, stat(path, &st) == 0 ? (long long)st.st_size : -1LL);
    hsize_t start[AE_MAX_DIMS] = {(hsize_t)row}, cnt[AE_MAX_DIMS];
    cnt[0] = (hsize_t)count;
    for (int i = 1; i < s->rank; i++) cnt[i] = s->dims[i];
    hsize_t mdims[2] = {(hsize_t)count, (hsize_t)s->d};
    hid_t mem = H5Screate_simple(2, mdims, NULL);
    int rc = 0;
    if (mem < 0 || H5Sselect_hyperslab(s->space, H5S_SELECT_SET, start, NULL, cnt, NULL) < 0 ||
        H5Dread(s->dset, H5T_NATIVE_FLOAT, mem, s->space, H5P_DEFAULT, dst) < 0) {
        char detail[256];
        ae_h5_detail(detail);
        rc = ae_failc("%s: cannot read rows %lld..%lld (%s)", s->what, a, b, detail[0] ? detail : "unknown reason");
    }
    if (mem >= 0) H5Sclose(mem);
    if (rc < 0) return rc;
    if (s->scale != 1.0)
        for (int64_t i = 0; i < count * s->d; i++) dst[i] = (float)(dst[i] * s->scale);
    return ae_dataset_check_finite(s->what, "row", dst, count, s->d, row);
}

/* rows per chunk along dim 1 (0 when x is not chunked), and the bytes of
 * the chunks that cover that many rows */
static int64_t chunk_rows(const source *s, int64_t *bytes_per_chunk_row)
{
    hid_t dcpl = H5Dget_create_plist(s->dset);
    int64_t rows = 0;
    *bytes_per_chunk_row = 0;
    if (dcpl >= 0 && H5Pget_layout(dcpl) == H5D_CHUNKED) {
        hsize_t c[AE_MAX_DIMS];
        if (H5Pget_chunk(dcpl, s->rank, c) == s->rank && c[0] > 0) {
            hid_t t = H5Dget_type(s->dset);
            int64_t bytes = t >= 0 ? (int64_t)H5Tget_size(t) : 8;
            if (t >= 0) H5Tclose(t);
            for (int i = 1; i < s->rank; i++) bytes *= (int64_t)(((s->dims[i] + c[i] - 1) / c[i]) * c[i]);
            rows = (int64_t)c[0];
            *bytes_per_chunk_row = bytes * rows;
        }
    }
    if (dcpl >= 0) H5Pclose(dcpl);
    return rows;
}

/* x opened with a chunk cache that holds one block's chunks */
static int open_x(source *s, const char *name)
{
    hid_t d = H5Dopen2(s->f->file, name, H5P_DEFAULT);
    if (d < 0) return ae_h5_fail_at(s->f, name, "cannot open");
    s->dset = d;
    s->space = H5Dget_space(d);
    hid_t t = H5Dget_type(d);
    H5T_class_t cls = t >= 0 ? H5Tget_class(t) : H5T_NO_CLASS;
    if (t >= 0) H5Tclose(t);
    if (cls != H5T_INTEGER && cls != H5T_FLOAT)
        return ae_failc("%s: holds %s data; x must be an integer or float dataset", s->what,
                        cls == H5T_STRING ? "string" : "non-numeric");
    if (s->space < 0 || H5Sget_simple_extent_type(s->space) != H5S_SIMPLE)
        return ae_failc("%s: is a scalar or empty dataset; x must be N × ...", s->what);
    s->rank = H5Sget_simple_extent_ndims(s->space);
    if (s->rank < 1 || s->rank > AE_MAX_DIMS)
        return ae_failc("%s: has %d dimensions; x must have 1 to %d", s->what, s->rank, AE_MAX_DIMS);
    H5Sget_simple_extent_dims(s->space, s->dims, NULL);
    s->d = 1;
    for (int i = 1; i < s->rank; i++) s->d *= (int64_t)s->dims[i];
    if (s->dims[0] < 1 || s->d < 1) return ae_failc("%s: holds no samples (shape with a 0)", s->what);
    return 0;
}

/* rows per block: near AE_H5_BLOCK_BYTES, at most an eighth of the window
 * (a window then mixes several blocks), a multiple of the chunk rows; x is
 * reopened with a chunk cache that holds a block's chunks and one more, so
 * that reading a block decompresses each of its chunks once */
static int64_t plan_blocks(source *s, const char *name, int64_t window)
{
    int64_t per_chunk_row, crows = chunk_rows(s, &per_chunk_row);
    int64_t target = AE_H5_BLOCK_BYTES / (4 * s->d);
    if (target > window / 8) target = window / 8;
    if (target < 1) target = 1;
    if (crows <= 0) return target;
    int64_t k = (target + crows - 1) / crows;
    hid_t dapl = H5Pcreate(H5P_DATASET_ACCESS);
    size_t nbytes = (size_t)((k + 1) * per_chunk_row);
    if (dapl >= 0 && H5Pset_chunk_cache(dapl, 12421, nbytes, 1.0) >= 0) {
        hid_t d2 = H5Dopen2(s->f->file, name, dapl);
        if (d2 >= 0) {
            H5Dclose(s->dset);
            s->dset = d2;
        }
    }
    if (dapl >= 0) H5Pclose(dapl);
    return k * crows;
}

ae_dataset *ae_h5_dataset(const char *path, const ae_h5_source_opts *o, int *streamed)
{
    *streamed = 0;
    ae_h5 *f = ae_h5_open(path, "r");
    if (!f) return NULL;
    source *s = calloc(1, sizeof *s);
    int64_t *labels = NULL, block_rows = 1;
    float *x = NULL;
    if (!s) {
        ae_h5_close(f);
        return ae_fail("%s: out of memory", path);
    }
    s->f = f;
    s->dset = s->space = H5I_INVALID_HID;
    s->scale = o->scale;
    snprintf(s->what, sizeof s->what, "%s: x \"%s\"", path, o->x);
    struct stat st;
    if (stat(path, &st) != 0) {
        ae_failc("%s: cannot stat", path);
        goto fail;
    }
    s->size = st.st_size;
    /* HDF5 shares a file that is open already (a data set still holds it)
     * instead of checking it again, and reads past its end as zeros: a
     * file shorter than its own end of allocation is refused here */
    haddr_t eoa = 0;
    if (H5Fget_eoa(f->file, &eoa) >= 0 && (off_t)eoa > st.st_size) {
        ae_failc("%s: truncated: %lld bytes, but its contents end at byte %lld", path, (long long)st.st_size,
                 (long long)eoa);
        goto fail;
    }
    if (check_dataset(f, "x", o->x) < 0 || open_x(s, o->x) < 0) goto fail;
    int64_t n = (int64_t)s->dims[0];
    if (o->y && !(labels = read_labels(f, o->y, n, o->x))) goto fail;
    int64_t sample_shape[AE_MAX_DIMS];
    for (int i = 1; i < s->rank; i++) sample_shape[i - 1] = (int64_t)s->dims[i];
    bool stream = o->stream > 0 || (o->stream == 0 && n * s->d * 4 > AE_H5_STREAM_BYTES);
    if (stream) {
        int64_t window = o->window > 0 ? o->window : AE_H5_WINDOW_BYTES / (4 * s->d);
        block_rows = plan_blocks(s, o->x, window);
        ae_row_reader r = {s, block_rows, window, source_read, source_free};
        *streamed = 1;
        return ae_dataset_from_reader(r, s->rank - 1, sample_shape, n, labels);
    }
    if (!(x = malloc((size_t)(n * s->d) * sizeof *x))) {
        ae_fail("%s: out of memory for %lld × %lld floats (stream = true reads it batch by batch)", s->what,
                (long long)n, (long long)s->d);
        goto fail;
    }
    /* one read of the whole dataset, then the checks every batch would do */
    if (H5Dread(s->dset, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, x) < 0) {
        char detail[256];
        ae_h5_detail(detail);
        ae_fail("%s: cannot read (%s)", s->what, detail[0] ? detail : "unknown reason");
        goto fail;
    }
    if (s->scale != 1.0)
        for (int64_t i = 0; i < n * s->d; i++) x[i] = (float)(x[i] * s->scale);
    char what[1100];
    int ndim = s->rank - 1;
    snprintf(what, sizeof what, "%s", s->what);
    source_free(s);
    return ae_dataset_from_f32(what, "row", ndim, sample_shape, n, x, labels);
fail:
    free(x);
    free(labels);
    source_free(s);
    return NULL;
}
