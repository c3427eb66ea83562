/* gemm.h: the one matrix product every layer goes through, row-major
 * C = alpha·op(A)·op(B) + beta·C, so that the BLAS behind it can change
 * without touching the ops.  Two backends: OpenBLAS (always there; the
 * baseline every test runs on) and oneDNN's dnnl_sgemm (loaded at run time
 * when libdnnl is installed, and then the default).  The environment
 * variable AERUN_GEMM=openblas|dnnl picks one at the first product;
 * ae_gemm_use switches at run time.  Big products are shared by the
 * runtime's threads (parallel.h).  It also counts the floating point
 * operations it performs, for the benchmark's GFLOP/s. */
#ifndef AE_GEMM_H
#define AE_GEMM_H

#include <stdbool.h>
#include <stdint.h>

void ae_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
             const float *b, int64_t ldb, float beta, float *c, int64_t ldc);

/* 2·m·n·k summed over every call since the start */
double ae_gemm_flops(void);
/* what does the work, with its kernel and threads:
 * "OpenBLAS 0.3.21 Cooperlake (1 thread)", "oneDNN 2.6.3 avx512_core (2 threads)" */
const char *ae_gemm_backend(void);
/* "openblas" or "dnnl" */
const char *ae_gemm_name(void);
/* switches the backend ("openblas" or "dnnl"); -1 with ae_error set when
 * the name is unknown or the backend was not compiled in */
int ae_gemm_use(const char *name);
/* the backends compiled in, comma-separated */
const char *ae_gemm_available(void);
int ae_gemm_threads(void);
/* oneDNN's ISA ("avx512_core_bf16", "avx512_core_amx", ...; "none"
 * without oneDNN) */
const char *ae_gemm_isa(void);

/* Precision of the products: "fp32" (the default) or "bf16", PyTorch's
 * CPU autocast: A and B rounded to bf16 (nearest, ties to even), products
 * accumulated and C written in fp32, in oneDNN on AVX512-BF16 or AMX.
 * Products with few outputs over a long K stay in fp32 (see gemm.c).
 * "bf16" on a CPU without bf16 units (or without oneDNN) keeps fp32 and
 * says so once on stderr.  -1 with ae_error set for another name. */
int ae_gemm_set_precision(const char *name);
const char *ae_gemm_precision(void);
bool ae_gemm_bf16_available(void);
/* whether products run in bf16 now; the switch autograd flips around a
 * backward (ignored, as "bf16" above, where the CPU has no bf16 units) */
bool ae_gemm_bf16(void);
void ae_gemm_set_bf16(bool on);
/* n floats rounded to bf16 as above */
void ae_to_bf16(const float *src, uint16_t *dst, int64_t n);
/* threads for both backends (OpenBLAS's pool and oneDNN's OpenMP team) */
void ae_gemm_set_threads(int n);

#endif
