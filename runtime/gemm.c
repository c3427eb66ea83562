/* gemm.c: see gemm.h */
#include "gemm.h"

#include <cblas.h>
#include <stdio.h>

static double flops;

void ae_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
             const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c,
             int64_t ldc)
{
    if (m == 0 || n == 0) return;
    if (k == 0) {
        /* BLAS leaves C alone when k = 0; the product is then beta·C */
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j];
        return;
    }
    flops += 2.0 * (double)m * (double)n * (double)k;
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
                (blasint)m, (blasint)n, (blasint)k, alpha, a, (blasint)lda, b, (blasint)ldb, beta, c,
                (blasint)ldc);
}

double ae_gemm_flops(void) { return flops; }

const char *ae_gemm_backend(void)
{
    static char name[160];
    snprintf(name, sizeof name, "OpenBLAS %s (%d threads)", openblas_get_corename(),
             openblas_get_num_threads());
    return name;
}

int ae_gemm_threads(void) { return openblas_get_num_threads(); }

void ae_gemm_set_threads(int n) { openblas_set_num_threads(n); }
