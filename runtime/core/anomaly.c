/* anomaly.c: see anomaly.h */
#include "anomaly.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

bool ae_anomaly_on;
static bool recorded;
static ae_anomaly record;

void ae_anomaly_enable(bool on)
{
    ae_anomaly_on = on;
    recorded = false;
}

/* the common case, all finite, is one vectorised pass with no branch per
 * element; only a tensor that fails it is scanned again for the details */
int64_t ae_count_nonfinite(const float *x, int64_t n, int64_t *first)
{
    int any = 0;
    for (int64_t i = 0; i < n; i++) any |= !(fabsf(x[i]) <= FLT_MAX);
    if (!any) return 0;
    int64_t bad = 0;
    for (int64_t i = n - 1; i >= 0; i--)
        if (!(fabsf(x[i]) <= FLT_MAX)) {
            bad++;
            *first = i;
        }
    return bad;
}

ae_anomaly *ae_anomaly_check(const ae_tensor *t, const char *what, const char *op)
{
    if (!ae_anomaly_on || recorded || !t || !t->storage || !ae_is_contiguous(t)) return NULL;
    int64_t first = 0, bad = ae_count_nonfinite(ae_data(t), ae_numel(t), &first);
    if (bad == 0) return NULL;
    memset(&record, 0, sizeof record);
    snprintf(record.what, sizeof record.what, "%s", what);
    snprintf(record.op, sizeof record.op, "%s", op && op[0] ? op : "?");
    record.ndim = t->ndim;
    memcpy(record.shape, t->shape, sizeof record.shape);
    record.bad = bad;
    record.first = first;
    record.value = ae_data(t)[first];
    recorded = true;
    return &record;
}

ae_anomaly *ae_anomaly_get(void) { return recorded ? &record : NULL; }

void ae_anomaly_clear(void) { recorded = false; }

const char *ae_anomaly_describe(const ae_anomaly *a, char *buf, size_t size)
{
    char s[AE_SHAPE_STR];
    const char *v = isnan(a->value) ? "nan" : a->value > 0 ? "inf" : "-inf";
    int64_t n = 1;
    for (int d = 0; d < a->ndim; d++) n *= a->shape[d];
    bool grad = strcmp(a->what, "gradient") == 0;
    snprintf(buf, size, "%s%s%s (%s): %lld of %lld values non-finite, the first %s at element %lld%s%s",
             grad ? "the gradient computed by the backward of " : "the output of ", a->op, grad ? " for an input" : "",
             ae_dims_str(a->ndim, a->shape, s), (long long)a->bad, (long long)n, v, (long long)a->first + 1,
             a->where[0] ? ", at " : "", a->where);
    return buf;
}
