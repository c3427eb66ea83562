/* h5_internal.h: what the two halves of the HDF5 layer share; outside
 * runtime/io/h5.c and runtime/io/h5_file.c only h5_source.c includes it
 * (below).  h5_file.c
 * owns the library's set-up and the file itself (opening, the corrupt-file
 * scan, the atomic commit on close); h5.c the objects in it (groups,
 * datasets, attributes, listing).
 *
 * h5_source.c (ae.data.h5) also includes it, to open a dataset with a chunk
 * cache of its own and to read the file's end of allocation.
 *
 * Conventions of both: identifiers start as H5I_INVALID_HID and every path
 * out of a function goes through its cleanup, which drops whatever was
 * opened.  HDF5 clears its error stack at the start of every API call, so a
 * failure's detail is read (ae_h5_fail_at) before any cleanup call runs. */
#ifndef AE_H5_INTERNAL_H
#define AE_H5_INTERNAL_H

#include <hdf5.h>

#include "h5.h"

struct ae_h5 {
    hid_t file;
    bool writable;
    char *path;   /* as given: the name in messages */
    char *target; /* writable files: the file replaced, path or where its symlink points */
    char *tmp;    /* writable files: the temporary the image goes to */
    int fd;       /* writable files: tmp, created at open */
};

/* opens the library once, silences its error printing and creates the
 * property lists below; 0, or -1 with ae_error set */
int ae_h5_init(void);

/* link creation that makes the missing parent groups (after ae_h5_init) */
extern hid_t ae_h5_lcpl;

/* the most specific message on HDF5's stack; for a failed system call only
 * the operating system's words ("No space left on device") */
void ae_h5_detail(char detail[256]);

/* "file: object: what (HDF5's detail)"; returns -1 */
int ae_h5_fail_at(const ae_h5 *f, const char *obj, const char *what);

#endif
