/* gemm.h: the one matrix product every layer goes through, row-major
 * C = alpha·op(A)·op(B) + beta·C, so that the BLAS behind it can change
 * (OpenBLAS now) without touching the ops.  It also counts the floating
 * point operations it performs, for the benchmark's GFLOP/s. */
#ifndef AE_GEMM_H
#define AE_GEMM_H

#include <stdbool.h>
#include <stdint.h>

void ae_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
             const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c,
             int64_t ldc);

/* 2·m·n·k summed over every call since the start */
double ae_gemm_flops(void);
/* "OpenBLAS 0.3.21 Cooperlake (2 threads)": what does the work */
const char *ae_gemm_backend(void);
int ae_gemm_threads(void);
void ae_gemm_set_threads(int n);

#endif
