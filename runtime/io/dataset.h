/* dataset.h: an in-memory image data set (images + optional labels) and its
 * mini-batches.
 *
 * Images stay uint8 as in the file (MNIST's 60,000 images are 47 MB so,
 * 188 MB as floats) and are converted to floats in [0, 1] only when a batch
 * is gathered.  Shuffling draws from the runtime RNG (rng.h), so a seed, or
 * a restored RNG state, reproduces the order of an epoch.  Everything an
 * epoch does per sample happens here, in C. */
#ifndef AE_DATASET_H
#define AE_DATASET_H

#include <stdbool.h>
#include <stdint.h>

#include "core/tensor.h"

typedef struct ae_dataset {
    int64_t n;       /* samples */
    int64_t d;       /* values per sample */
    int sample_ndim; /* the images' dims after the first */
    int64_t sample_shape[AE_MAX_DIMS];
    uint8_t *images; /* n × d, row-major */
    uint8_t *labels; /* n, or NULL when there are none */
} ae_dataset;

/* reads an images IDX file (ubyte, N × ...) and optionally a labels IDX file
 * (ubyte, N); labels_path may be NULL.  NULL with ae_error() on failure */
ae_dataset *ae_dataset_open(const char *images_path, const char *labels_path);
void ae_dataset_free(ae_dataset *ds);

/* a new data set holding copies of the samples whose label has keep[label]
 * set (keep NULL: every sample), cut to the first limit of them (limit < 0:
 * no limit).  Filtering needs labels; an empty result is an error. */
ae_dataset *ae_dataset_select(const ae_dataset *ds, const bool keep[256], int64_t limit);

/* perm[0..n) = 0..n-1, then a Fisher-Yates shuffle when shuffle is set */
void ae_permutation(int64_t *perm, int64_t n, bool shuffle);

/* samples perm[start .. start+count) (perm NULL: start .. start+count) as a
 * count × d float tensor in [0, 1], and their labels as a count tensor.
 * The caller guarantees the range and the indices are inside the data set. */
ae_tensor *ae_dataset_images(const ae_dataset *ds, const int64_t *perm, int64_t start, int64_t count);
ae_tensor *ae_dataset_labels(const ae_dataset *ds, const int64_t *perm, int64_t start, int64_t count);

#endif
