/* npy.h: NumPy's .npy format, read into float32 tensors.
 *
 * A .npy file is the magic "\x93NUMPY", a version (1.0, 2.0 or 3.0), the
 * length of a header (2 bytes little-endian in 1.0, 4 in 2.0 and 3.0),
 * the header itself, a Python dict literal such as
 *   {'descr': '<f8', 'fortran_order': False, 'shape': (100, 64), }
 * and then the elements in C (row-major) order.
 *
 * Accepted dtypes: bool (|b1), u1 i1 u2 i2 u4 i4 u8 i8, f2 f4 f8, in
 * either byte order ('<', '>', '|' for one byte, '=' for the host's).
 * Values become float32 as numpy's a.astype(np.float32) makes them (and so
 * torch.from_numpy(a).float()): integers above 2^24 in magnitude are
 * rounded to the nearest float32, ties to even; bools are 0 and 1.  A
 * finite f8 value outside float32's range is an error naming its index
 * (numpy would make it inf); NaN and infinities are kept as they are.
 * A 0-d array gives a 0-d tensor, an array with a 0 in its shape an empty
 * tensor of that shape.  Refused with a message that says what to do:
 * Fortran order, object arrays, structured dtypes, complex, strings,
 * datetimes, more than AE_MAX_DIMS dimensions, a file shorter than its
 * header says and one with bytes after its data.
 *
 * The data go straight into the tensor (f4 in the host's order) or through
 * a 512 KiB buffer (every other dtype), so reading costs the tensor and no
 * copy of the file.  Every message names the file (or the archive and the
 * array: npz.h reads its members through ae_npy_read_source). */
#ifndef AE_NPY_H
#define AE_NPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/tensor.h"

/* the largest header accepted, in bytes: numpy writes a few hundred */
#define AE_NPY_MAX_HEADER ((uint32_t)1 << 20)

/* where the bytes of one array come from: a file or a zip member */
typedef struct ae_npy_source {
    /* up to n bytes into buf; the count read (0 at the end), or -1 with
     * ae_error() set */
    int64_t (*read)(void *ctx, void *buf, size_t n);
    void *ctx;
    /* the bytes the source holds, -1 when unknown: known, a header that
     * claims more is refused before anything is allocated */
    int64_t size;
    /* the start of every message: "NumPy file 'x.npy'",
     * "NumPy archive 'd.npz', array 'x'" */
    const char *what;
} ae_npy_source;

/* the float32 tensor a .npy file holds; NULL with ae_error() set */
ae_tensor *ae_npy_read(const char *path);
/* the same from any source, which must end where the array does */
ae_tensor *ae_npy_read_source(const ae_npy_source *src);

#endif
