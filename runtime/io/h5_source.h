/* h5_source.h: a data set from an HDF5 file (ae.data.h5).
 *
 * x is any integer or float dataset, N × ..., converted to float32 by
 * HDF5 (H5Dread into a native float) and multiplied by scale; y, when
 * named, holds N integer-valued labels of any numeric type and is read
 * whole.  x is loaded into memory when its float32 size is at most
 * AE_H5_STREAM_BYTES (or stream < 0 forces loading, stream > 0 streaming),
 * otherwise it is read from the file batch by batch: see dataset.c's
 * epochs and docs/data.md for the strategy and its cost. */
#ifndef AE_H5_SOURCE_H
#define AE_H5_SOURCE_H

#include <stdint.h>

#include "dataset.h"

/* x's float32 size above which it is streamed by default */
#define AE_H5_STREAM_BYTES ((int64_t)256 << 20)
/* rows per block are chosen near this many bytes of float32, a multiple of
 * the dataset's chunk rows; the default window is this many bytes */
#define AE_H5_BLOCK_BYTES ((int64_t)1 << 20)
#define AE_H5_WINDOW_BYTES ((int64_t)32 << 20)

typedef struct ae_h5_source_opts {
    const char *x, *y; /* dataset names; y may be NULL */
    double scale;      /* 1 when not given */
    int stream;        /* < 0 load, 0 decide by size, > 0 stream */
    int64_t window;    /* rows an epoch keeps in memory; <= 0: default */
} ae_h5_source_opts;

/* NULL with ae_error naming the file on failure; *streamed tells which
 * way x is read */
ae_dataset *ae_h5_dataset(const char *path, const ae_h5_source_opts *o, int *streamed);

#endif
