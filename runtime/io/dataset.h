/* dataset.h: a data set (samples + optional integer labels) and its
 * mini-batches, whatever the samples come from.
 *
 * The samples live in a store shared by the data sets that view it:
 *   - uint8 in memory (IDX images: MNIST's 60,000 images are 47 MB so,
 *     188 MB as floats), scaled by 1/255 only when a batch is gathered;
 *   - float32 in memory (tensors, HDF5 files that fit);
 *   - rows read from a file batch by batch (ae_row_reader, e.g. an HDF5
 *     dataset larger than memory, h5_source.c).
 * A data set is the whole store or a view of some of its rows (split,
 * select on a streamed store), optionally standardized per feature.
 *
 * Shuffling draws from the runtime RNG (rng.h) when an epoch starts, so a
 * seed, or a restored RNG state, reproduces the order of an epoch.
 * Everything an epoch does per sample happens here, in C. */
#ifndef AE_DATASET_H
#define AE_DATASET_H

#include <stdbool.h>
#include <stdint.h>

#include "core/tensor.h"

enum { AE_DS_U8, AE_DS_F32, AE_DS_STREAM };

/* a source of rows in a file.  Reading block k (rows k*block_rows ..) in
 * one call is what the source is fastest at (its chunks are decompressed
 * once); an epoch keeps about window_rows rows in memory. */
typedef struct ae_row_reader {
    void *ctx;
    int64_t block_rows, window_rows;
    /* rows [row, row+count) as float32, count × d, into dst: 0, or -1
     * with ae_error set (naming the file and the rows) */
    int (*read)(void *ctx, int64_t row, int64_t count, float *dst);
    void (*free)(void *ctx);
} ae_row_reader;

typedef struct ae_store {
    int refs;
    int type; /* AE_DS_* */
    int64_t n, d;
    uint8_t *u8;          /* AE_DS_U8: n × d */
    float *f32;           /* AE_DS_F32: n × d */
    ae_row_reader reader; /* AE_DS_STREAM */
} ae_store;

typedef struct ae_dataset {
    int64_t n;       /* samples */
    int64_t d;       /* values per sample */
    int sample_ndim; /* the samples' dims */
    int64_t sample_shape[AE_MAX_DIMS];
    ae_store *store;
    int64_t *rows;   /* n ascending rows of the store, or NULL: rows 0..n-1 */
    int64_t *labels; /* n, or NULL when there are none */
    float *mean;     /* d each when standardized, else NULL */
    float *std;
} ae_dataset;

/* labels must be exact in a float32 batch */
#define AE_DS_LABEL_MAX 16777216

/* reads an images IDX file (ubyte, N × ...) and optionally a labels IDX file
 * (ubyte, N); labels_path may be NULL.  NULL with ae_error() on failure */
ae_dataset *ae_dataset_open(const char *images_path, const char *labels_path);

/* a data set over n float32 samples of the given shape, taking x (malloc'd,
 * n × d) and labels (malloc'd n, or NULL) even on failure.  A value that is
 * not finite is an error "what: <noun> i, feature j is NaN" (1-based). */
ae_dataset *ae_dataset_from_f32(const char *what, const char *noun, int sample_ndim, const int64_t *sample_shape,
                                int64_t n, float *x, int64_t *labels);
/* a data set over the rows of a reader (taken, freed on failure too) */
ae_dataset *ae_dataset_from_reader(ae_row_reader reader, int sample_ndim, const int64_t *sample_shape, int64_t n,
                                   int64_t *labels);
/* 0, or -1 naming what, the 1-based index and the value, when a label is
 * outside ±AE_DS_LABEL_MAX */
int ae_dataset_check_labels(const char *what, const int64_t *labels, int64_t n);
/* 0, or -1 naming what, the 1-based sample or row (noun; first + 1 ...)
 * and feature of the first value that is not finite in x (count × d) */
int ae_dataset_check_finite(const char *what, const char *noun, const float *x, int64_t count, int64_t d,
                            int64_t first);
void ae_dataset_free(ae_dataset *ds);

/* the samples whose label is in keep (nkeep sorted labels; keep NULL: every
 * sample), cut to the first limit of them (limit < 0: no limit).  In
 * memory a compact copy, on a streamed store a view.  Filtering needs
 * labels; an empty result is an error. */
ae_dataset *ae_dataset_select(const ae_dataset *ds, const int64_t *keep, int64_t nkeep, int64_t limit);

/* a random partition of ds into parts of counts[0..parts) samples (summing
 * to ds->n), each a view with its rows in the order of ds.  has_seed: the
 * draw comes from its own generator seeded with seed, the runtime RNG is
 * untouched; otherwise from the runtime RNG.  out[parts]. */
int ae_dataset_split(const ae_dataset *ds, const int64_t *counts, int parts, bool has_seed, uint64_t seed,
                     ae_dataset **out);

/* a view of ds whose batches are (x - mean) / std per feature (d each) */
ae_dataset *ae_dataset_standardize(const ae_dataset *ds, const float *mean, const float *std);
/* per-feature mean and population std of ds's samples as batches give
 * them (float64 accumulation); a constant feature gets std 1 */
int ae_dataset_moments(const ae_dataset *ds, double *mean, double *std);

/* sorted distinct labels and their counts (malloc'd, *k of them) */
int ae_dataset_counts(const ae_dataset *ds, int64_t **labels, int64_t **counts, int64_t *k);

/* perm[0..n) = 0..n-1, then a Fisher-Yates shuffle from the runtime RNG
 * when shuffle is set */
void ae_permutation(int64_t *perm, int64_t n, bool shuffle);

/* the samples idx[0..count) (idx NULL: start .. start+count) as a
 * count × d float tensor and their labels (y NULL, or no labels: not
 * made).  The caller guarantees the indices are inside the data set.
 * 0, or -1 with ae_error set (a streamed file that cannot be read). */
int ae_dataset_gather(const ae_dataset *ds, const int64_t *idx, int64_t start, int64_t count, ae_tensor **x,
                      ae_tensor **y);

/* one pass over a data set in batches, its order drawn when it is made */
typedef struct ae_epoch ae_epoch;
ae_epoch *ae_epoch_new(const ae_dataset *ds, int64_t batch, bool shuffle, bool drop_last);
/* the next batch: 1 (x, y set; y NULL without labels), 0 at the end, -1
 * with ae_error set.  ds must be the data set the epoch was made for. */
int ae_epoch_next(ae_epoch *e, const ae_dataset *ds, ae_tensor **x, ae_tensor **y);
void ae_epoch_free(ae_epoch *e);

#endif
