/* anomaly.h: finding the first tensor that went non-finite.
 * When detection is on, the Lua binding checks every tensor it hands to a
 * script and autograd checks every gradient it computes; the first one
 * holding a NaN or an infinity is recorded with the op that made it, so a
 * loss that turns NaN can be traced to where the NaN was born.  Off by
 * default: the checks read every value once more. */
#ifndef AE_ANOMALY_H
#define AE_ANOMALY_H

#include <stdbool.h>
#include <stdint.h>

#include "tensor.h"

typedef struct ae_anomaly {
    char what[16]; /* "output" of op, or "gradient" computed by op's backward */
    char op[48];
    int ndim;
    int64_t shape[AE_MAX_DIMS];
    int64_t bad;     /* how many values are non-finite */
    int64_t first;   /* 0-based index of the first one */
    float value;     /* its value: NaN, +inf or -inf */
    char where[256]; /* the script's file:line, filled in by the binding */
} ae_anomaly;

/* detection costs a read of every checked value, so it is a flag the hot
 * paths test inline */
extern bool ae_anomaly_on;
/* switching on clears the record */
void ae_anomaly_enable(bool on);

/* number of non-finite values among n floats */
int64_t ae_count_nonfinite(const float *x, int64_t n, int64_t *first);

/* checks t (contiguous tensors only: a view adds no new values); records
 * it when it is the first non-finite tensor since detection was enabled
 * and returns the record, NULL otherwise */
ae_anomaly *ae_anomaly_check(const ae_tensor *t, const char *what, const char *op);
/* the record, or NULL when every checked value was finite */
ae_anomaly *ae_anomaly_get(void);
void ae_anomaly_clear(void);
/* "the output of log (128×784): 3 of 100352 values non-finite, the first
 * -inf at element 17, at vae.lua:30" */
const char *ae_anomaly_describe(const ae_anomaly *a, char *buf, size_t size);

#endif
