/* classify.c: log-softmax and cross-entropy (forward and backward side
 * by side) and the symmetric eigensolver behind PCA.  The
 * classification heads the applications train are small (N×10), so the
 * row loops here matter less than being exact: the max is subtracted
 * before exp, and the log-sum-exp is accumulated in double. */
#include "classify.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/autograd.h"
#include "core/error.h"
#include "core/mathf.h"

/* rows × cols view of a tensor whose last dimension is cols */
static void rows_cols(const ae_tensor *x, int64_t *rows, int64_t *cols)
{
    *cols = x->ndim > 0 ? x->shape[x->ndim - 1] : 1;
    *rows = *cols > 0 ? ae_numel(x) / *cols : 0;
}

/* log Σ exp(x) of one row as m + returned value, m its max: x - m is exact
 * in float, so results built on (x - m) - log Σ keep their digits when x is
 * large (x = 1000 is spaced 6e-5 apart, its log-sum-exp no better) */
static double row_logsumexp(const float *x, int64_t k, float *max)
{
    float m = x[0];
    for (int64_t j = 1; j < k; j++) m = x[j] > m ? x[j] : m;
    *max = m;
    if (isinf(m)) return 0; /* an inf max: x - m is NaN or -inf, as in PyTorch */
    double s = 0;
    for (int64_t j = 0; j < k; j++) s += ae_expf(x[j] - m);
    return log(s);
}

/* ------------------------------------------------------------ log_softmax
 * y = x - logsumexp(x); dx = g - softmax·Σg, softmax = exp(y).
 * saved[0]: y. */

static void log_softmax_backward(ae_node *n)
{
    float *gx = ae_grad_of(n, 0);
    if (!gx) return;
    const float *y = ae_data(n->saved[0]), *g = ae_gout(n);
    int64_t rows, k;
    rows_cols(n->saved[0], &rows, &k);
    for (int64_t i = 0; i < rows; i++) {
        const float *yi = y + i * k, *gi = g + i * k;
        float *out = gx + i * k;
        float total = (float)ae_sumf(gi, k);
        for (int64_t j = 0; j < k; j++) out[j] += gi[j] - ae_expf(yi[j]) * total;
    }
}

ae_tensor *ae_log_softmax(ae_tensor *x)
{
    if (x->ndim == 0 || x->shape[x->ndim - 1] == 0)
        return ae_fail("log_softmax: input must have a non-empty last dimension");
    ae_tensor *cx = ae_contiguous(x);
    ae_tensor *out = cx ? ae_empty(x->ndim, x->shape) : NULL;
    if (!out) {
        ae_release(cx);
        return NULL;
    }
    int64_t rows, k;
    rows_cols(cx, &rows, &k);
    const float *in = ae_data(cx);
    float *y = ae_data(out);
    for (int64_t i = 0; i < rows; i++) {
        float m;
        float logs = (float)row_logsumexp(in + i * k, k, &m);
        for (int64_t j = 0; j < k; j++) y[i * k + j] = (in[i * k + j] - m) - logs;
    }
    ae_release(cx);
    return ae_record(out, "log_softmax", log_softmax_backward, 1, &x, 1, &out, NULL, 0);
}

/* ---------------------------------------------------------- cross_entropy
 * loss_i = logsumexp(z_i) - z_i[y_i]; dz_ij = up_i·scale·(softmax_ij - [j = y_i]).
 * saved[0]: the logits, saved[1]: the labels; state: the reduction. */

static void cross_entropy_backward(ae_node *n)
{
    float *gz = ae_grad_of(n, 0);
    if (!gz) return;
    const float *z = ae_data(n->saved[0]), *y = ae_data(n->saved[1]), *g = ae_gout(n);
    int64_t rows = n->saved[0]->shape[0], k = n->saved[0]->shape[1];
    const ae_reduction *reduction = ae_node_state(n);
    ae_reduction r = *reduction;
    float scale = r == AE_REDUCE_MEAN ? 1.0f / (float)rows : 1.0f;
    for (int64_t i = 0; i < rows; i++) {
        const float *zi = z + i * k;
        float *out = gz + i * k;
        float up = (r == AE_REDUCE_NONE ? g[i] : g[0]) * scale;
        float m;
        float logs = (float)row_logsumexp(zi, k, &m);
        for (int64_t j = 0; j < k; j++) out[j] += up * ae_expf((zi[j] - m) - logs);
        out[(int64_t)y[i]] -= up;
    }
}

/* labels must be N class ids in 0..k-1 */
static int check_labels(ae_tensor *logits, ae_tensor *labels, const float *y)
{
    char s1[AE_SHAPE_STR], s2[AE_SHAPE_STR];
    int64_t n = logits->shape[0], k = logits->shape[1];
    if (labels->ndim != 1 || labels->shape[0] != n)
        return ae_failc("cross_entropy: labels %s must be one class id per row of logits %s", ae_shape_str(labels, s1),
                        ae_shape_str(logits, s2));
    for (int64_t i = 0; i < n; i++)
        if (!(y[i] >= 0 && y[i] < (float)k && y[i] == floorf(y[i])))
            return ae_failc("cross_entropy: label %g of row %lld is not a class id 0..%lld (logits %s)", (double)y[i],
                            (long long)i + 1, (long long)k - 1, ae_shape_str(logits, s1));
    return 0;
}

ae_tensor *ae_cross_entropy(ae_tensor *logits, ae_tensor *labels, ae_reduction r)
{
    char s1[AE_SHAPE_STR];
    if ((unsigned)r > AE_REDUCE_NONE) return ae_fail("cross_entropy: unknown reduction");
    if (logits->ndim != 2 || logits->shape[0] == 0 || logits->shape[1] == 0)
        return ae_fail("cross_entropy: logits must be N×K with N, K ≥ 1, got %s", ae_shape_str(logits, s1));
    ae_tensor *cz = ae_contiguous(logits), *cy = cz ? ae_contiguous(labels) : NULL;
    if (!cy || check_labels(logits, labels, ae_data(cy)) != 0) {
        ae_release(cz);
        ae_release(cy);
        return NULL;
    }
    int64_t n = cz->shape[0], k = cz->shape[1];
    ae_tensor *out = r == AE_REDUCE_NONE ? ae_empty(1, &n) : ae_scalar(0);
    if (out) {
        const float *z = ae_data(cz), *y = ae_data(cy);
        float *o = ae_data(out);
        double total = 0;
        for (int64_t i = 0; i < n; i++) {
            float m;
            double logs = row_logsumexp(z + i * k, k, &m);
            double l = logs - (double)(z[i * k + (int64_t)y[i]] - m);
            if (r == AE_REDUCE_NONE) o[i] = (float)l;
            total += l;
        }
        if (r != AE_REDUCE_NONE) o[0] = (float)(r == AE_REDUCE_MEAN ? total / (double)n : total);
        ae_tensor *saved[2] = {cz, cy};
        out = ae_record(out, "cross_entropy", cross_entropy_backward, 1, &logits, 2, saved, &r, sizeof r);
    }
    ae_release(cz);
    ae_release(cy);
    return out;
}

/* ------------------------------------------------------------------- eigh */

/* LAPACK through OpenBLAS (Fortran calling convention: everything by
 * pointer, then the lengths of the character arguments) */
extern void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w,
                    double *work, const int *lwork, int *iwork, const int *liwork, int *info, size_t jobz_len,
                    size_t uplo_len);

int ae_eigh(ae_tensor *a, ae_tensor **values, ae_tensor **vectors)
{
    char s1[AE_SHAPE_STR];
    *values = *vectors = NULL;
    if (a->ndim != 2 || a->shape[0] != a->shape[1] || a->shape[0] == 0)
        return ae_failc("eigh: expects a square n×n matrix, got %s", ae_shape_str(a, s1));
    if (a->shape[0] > 32768) return ae_failc("eigh: %s is too large", ae_shape_str(a, s1));
    if (ae_grad_enabled() && a->requires_grad)
        return ae_failc("eigh: has no gradient; call it on x:detach() or inside ae.no_grad");
    int n = (int)a->shape[0];
    ae_tensor *ca = ae_contiguous(a);
    if (!ca) return -1;
    const float *src = ae_data(ca);
    size_t nn = (size_t)n * (size_t)n;
    for (size_t i = 0; i < nn; i++)
        if (!isfinite(src[i])) {
            ae_release(ca);
            return ae_failc("eigh: element %zu of the %s matrix is %g", i + 1, ae_shape_str(a, s1), (double)src[i]);
        }
    /* column-major for LAPACK: element (i, j) at m[j·n + i] */
    double *m = malloc(nn * sizeof *m), *w = malloc((size_t)n * sizeof *w);
    double query;
    int iquery, lwork = -1, liwork = -1, info = 0;
    double *work = NULL;
    int *iwork = NULL;
    if (!m || !w) goto oom;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) m[(size_t)j * n + i] = src[(size_t)i * n + j];
    dsyevd_("V", "L", &n, m, &n, w, &query, &lwork, &iquery, &liwork, &info, 1, 1);
    if (info != 0) goto failed;
    lwork = (int)query;
    liwork = iquery;
    work = malloc((size_t)lwork * sizeof *work);
    iwork = malloc((size_t)liwork * sizeof *iwork);
    if (!work || !iwork) goto oom;
    dsyevd_("V", "L", &n, m, &n, w, work, &lwork, iwork, &liwork, &info, 1, 1);
    if (info != 0) goto failed;
    int64_t vshape[1] = {n};
    *values = ae_empty(1, vshape);
    *vectors = *values ? ae_empty(2, a->shape) : NULL;
    if (!*vectors) {
        ae_release(*values);
        *values = NULL;
        goto done;
    }
    float *vals = ae_data(*values), *vecs = ae_data(*vectors);
    for (int i = 0; i < n; i++) vals[i] = (float)w[i];
    /* LAPACK's column j is eigenvector j: it becomes column j of the row-major result */
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) vecs[(size_t)i * n + j] = (float)m[(size_t)j * n + i];
    goto done;
oom:
    ae_fail("eigh: out of memory for a %s matrix", ae_shape_str(a, s1));
    goto done;
failed:
    ae_fail("eigh: LAPACK dsyevd failed (info %d) on a %s matrix", info, ae_shape_str(a, s1));
done:
    free(m);
    free(w);
    free(work);
    free(iwork);
    ae_release(ca);
    return *vectors ? 0 : -1;
}
