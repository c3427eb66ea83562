/* gemm.h: the one matrix product every layer goes through, row-major
 * C = alpha·op(A)·op(B) + beta·C, so that the BLAS behind it can change
 * (OpenBLAS now) without touching the ops. */
#ifndef AE_GEMM_H
#define AE_GEMM_H

#include <stdbool.h>
#include <stdint.h>

void ae_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
             const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c,
             int64_t ldc);

#endif
