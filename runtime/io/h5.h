/* h5.h: HDF5 files as checkpoints need them, over the HDF5 C library.
 *
 * An ae_h5 is an open file.  Objects are named by absolute or relative
 * paths ("params/encoder/0/weight" and "/params/encoder/0/weight" are the
 * same object); writes create the missing parent groups.  What is written:
 * float32 datasets from tensors (H5T_IEEE_F32LE, the tensor's shape),
 * float64 1-D series, uint8 byte blobs, and attributes that are UTF-8
 * strings, int64 or float64 scalars.  What is read: any integer or float
 * dataset of any rank (converted), and string, integer and float attributes.
 *
 * HDF5's own error printing is silenced; every failure becomes one ae_error
 * message naming the file and the object, "x.h5: /params/w: not found".
 * Every HDF5 identifier is closed on every path, so a failing call leaks
 * nothing (ae_h5_open_objects lets tests check part of that).
 *
 * A writable file is built in memory and written on ae_h5_close: the image
 * goes to "<path>.tmp.<pid>" beside the target, is fsynced and renamed over
 * the target, and the directory is fsynced.  A process killed at any moment
 * leaves either the old file or the new one; a failed write (a full disk)
 * leaves the old one and removes the temporary; ae_h5_abort discards the
 * changes.  Mode "a" reads the whole file into memory. */
#ifndef AE_H5_H
#define AE_H5_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/tensor.h"

typedef struct ae_h5 ae_h5;

/* mode "r" (read), "w" (create or truncate), "a" (read/write, create if
 * missing).  Missing files, directories, empty, truncated and non-HDF5
 * files give an error, never a crash; so does a directory where the file
 * cannot be written (checked at open, with the temporary's creation). */
ae_h5 *ae_h5_open(const char *path, const char *mode);
/* closes; a writable file replaces its target.  f is freed even on
 * failure, which keeps the old target and removes the temporary. */
int ae_h5_close(ae_h5 *f);
/* closes without writing anything: the target stays as it was */
void ae_h5_abort(ae_h5 *f);
/* the path the caller gave */
const char *ae_h5_path(const ae_h5 *f);
bool ae_h5_writable(const ae_h5 *f);

/* objects */
enum { AE_H5_MISSING = 0, AE_H5_GROUP = 1, AE_H5_DATASET = 2, AE_H5_OTHER = 3 };
/* one of the values above, or -1 on error (e.g. a parent is a dataset) */
int ae_h5_kind(ae_h5 *f, const char *name);
/* creates the group and its parents; an existing group is fine */
int ae_h5_create_group(ae_h5 *f, const char *name);
/* the member names of a group in byte order; free with ae_h5_free_names */
int ae_h5_list(ae_h5 *f, const char *group, char ***names, size_t *count);
void ae_h5_free_names(char **names, size_t count);
/* a dataset's shape without reading it: returns the rank or -1 */
int ae_h5_shape(ae_h5 *f, const char *name, int64_t shape[AE_MAX_DIMS]);

/* datasets.  A write replaces an existing dataset of the same name. */
int ae_h5_write_tensor(ae_h5 *f, const char *name, ae_tensor *t);
ae_tensor *ae_h5_read_tensor(ae_h5 *f, const char *name);
int ae_h5_write_f64(ae_h5 *f, const char *name, const double *v, int64_t n);
/* any numeric dataset, flattened; malloc'd (free it), *n set */
double *ae_h5_read_f64(ae_h5 *f, const char *name, int64_t *n);
int ae_h5_write_bytes(ae_h5 *f, const char *name, const void *data, size_t n);
/* a 1-byte integer or opaque dataset, flattened; malloc'd (free it) */
unsigned char *ae_h5_read_bytes(ae_h5 *f, const char *name, size_t *n);

/* attributes, on any group or dataset.  Setting an attribute of a missing
 * object creates it as a group; an existing attribute is replaced. */
int ae_h5_set_attr_str(ae_h5 *f, const char *obj, const char *key, const char *value);
int ae_h5_set_attr_int(ae_h5 *f, const char *obj, const char *key, int64_t v);
int ae_h5_set_attr_f64(ae_h5 *f, const char *obj, const char *key, double v);
/* attribute names in byte order; free with ae_h5_free_names */
int ae_h5_attr_names(ae_h5 *f, const char *obj, char ***names, size_t *count);

typedef enum { AE_H5_STR, AE_H5_INT, AE_H5_F64 } ae_h5_kind_t;
typedef struct ae_h5_value {
    ae_h5_kind_t kind;
    bool scalar;  /* a scalar dataspace, as opposed to an array */
    size_t count; /* elements */
    char **str;   /* AE_H5_STR: count NUL-terminated strings */
    int64_t *i;   /* AE_H5_INT */
    double *f;    /* AE_H5_F64 */
} ae_h5_value;
/* 0, -1 on error, or AE_H5_UNSUPPORTED (ae_error set) for a type aerun
 * does not convert (compound, enum, reference, ...) */
#define AE_H5_UNSUPPORTED (-2)
int ae_h5_get_attr(ae_h5 *f, const char *obj, const char *key, ae_h5_value *out);
void ae_h5_value_free(ae_h5_value *v);

/* how many files and objects in files (groups, datasets, attributes) are
 * open in the process: equal before and after any sequence of calls that
 * closed its files, so tests can check that failures leak nothing */
int64_t ae_h5_open_objects(void);

#endif
