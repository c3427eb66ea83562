/* idx.h: reading IDX files, the format of MNIST and its relatives
 * (Fashion-MNIST, KMNIST, EMNIST).
 *
 * An IDX file is a 4-byte magic (two zero bytes, a type byte, a dimension
 * count), one big-endian uint32 per dimension, then the elements in
 * row-major order, big-endian.  Files may be gzip-compressed; that is told
 * from their content, never from their name.  Every check that can fail
 * records a message naming the file and the problem through ae_fail. */
#ifndef AE_IDX_H
#define AE_IDX_H

#include <stddef.h>
#include <stdint.h>

#include "core/tensor.h"

/* the element types, with their type-byte values */
enum {
    AE_IDX_UBYTE = 0x08,
    AE_IDX_BYTE = 0x09,
    AE_IDX_SHORT = 0x0B,
    AE_IDX_INT = 0x0C,
    AE_IDX_FLOAT = 0x0D,
    AE_IDX_DOUBLE = 0x0E,
};

/* the largest data section accepted, in bytes (16 GiB): a bigger header is
 * taken for a corrupt one rather than tried */
#define AE_IDX_MAX_BYTES ((uint64_t)1 << 34)

typedef struct ae_idx {
    int type; /* one of AE_IDX_* */
    int ndim; /* 1 .. AE_MAX_DIMS */
    int64_t dims[AE_MAX_DIMS];
    int64_t count;    /* product of dims */
    size_t elem_size; /* bytes per element */
    void *data;       /* count elements, in host byte order */
} ae_idx;

/* reads and checks a whole file; NULL with ae_error() set on failure */
ae_idx *ae_idx_read(const char *path);
void ae_idx_free(ae_idx *idx);

/* "ubyte", "float", ... or NULL for a byte that is no IDX type */
const char *ae_idx_type_name(int type);
/* all count elements as floats into out: ubyte scaled to [0, 1] by /255,
 * the other types as they are */
void ae_idx_to_float(const ae_idx *idx, float *out);
/* a float tensor of the file's shape holding ae_idx_to_float's values */
ae_tensor *ae_idx_to_tensor(const ae_idx *idx);

#endif
