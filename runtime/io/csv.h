/* csv.h: numeric CSV files, read into float32 tensors.
 *
 * The file is parsed as it is read (1 MiB at a time), in C: quoted fields
 * ("a, b", "" for a quote, line breaks inside), CRLF, LF or CR line ends,
 * a last line with or without its line end, a UTF-8 byte-order mark,
 * blank lines (skipped) and spaces around a cell (ignored).  Numbers are
 * decimal ("1", "-2.5", ".5e-3", "+7"), read as a double and rounded to
 * float32, the values pandas' read_csv(...).astype(np.float32) gives.
 *
 * Header: opts->header 1 says the first row is one, 0 that it is data, -1
 * decides: the first row is a header when none of its cells is a number
 * (nor nan/inf) and one at least is not empty.
 *
 * Every row must have the first row's number of cells, and every cell of
 * a data row must be a finite number that float32 can hold: an empty
 * cell, "nan", "NA", "null", "inf" or a word is an error naming the file,
 * the line and the column (number, and name when there is a header).
 * Missing values are never filled in silently: fill or drop them first.
 *
 * The values go into blocks as they are parsed (16 KiB first, doubling
 * up to 4 MiB) and are moved into the tensors at the end, each block freed
 * as soon as it is copied: the resident memory is the tensors plus one
 * block, the 1 MiB read buffer and the line being read, whatever the
 * file's size. */
#ifndef AE_CSV_H
#define AE_CSV_H

#include <stdbool.h>
#include <stdint.h>

#include "core/tensor.h"

typedef struct ae_csv_options {
    int header;             /* 1 yes, 0 no, -1 detect */
    const char *label_name; /* the label column by its header name, or NULL */
    int64_t label_index;    /* or by 1-based number, negative from the end; 0 none */
    char delimiter;         /* ',' ... */
} ae_csv_options;

typedef struct ae_csv {
    ae_tensor *x;         /* rows × cols: every column but the label's */
    ae_tensor *y;         /* rows, the label column; NULL without a label */
    int64_t rows, cols;   /* x's shape */
    bool has_header;      /* the first row was a header */
    char **names;         /* cols names of x's columns, when has_header */
    char *label;          /* the label column's name, when has_header and a label */
    int64_t label_column; /* 1-based position of the label column in the file, 0 none */
} ae_csv;

/* reads a whole file; NULL with ae_error() set */
ae_csv *ae_csv_read(const char *path, const ae_csv_options *opts);
/* frees c and releases the tensors it still holds (set x or y to NULL to
 * keep one) */
void ae_csv_free(ae_csv *c);

#endif
