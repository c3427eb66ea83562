/* gemm.c: see gemm.h.
 *
 * Backends.  OpenBLAS is linked in.  oneDNN is loaded with dlopen at the
 * first product when it is installed (Debian's libdnnl2, the runtime half
 * of libdnnl-dev): nothing to configure at build time, no link dependency,
 * and the same binary runs where it is absent.  AERUN_GEMM=openblas|dnnl
 * is read at the first product, so that a script's ae.gemm_use() or a
 * test's environment decides it; an unknown or absent backend is reported
 * once on stderr and the default kept.  OPENBLAS_CORETYPE (OpenBLAS's own
 * kernel override) is the user's: nothing here sets or clears it.
 *
 * Threads.  A product big enough to pay for it is cut into column (or
 * row) blocks that the runtime's threads (parallel.h) share, each block
 * one single-threaded call of the backend.  The BLAS's own pools stay at
 * one thread, so that OpenBLAS's pool, oneDNN's OpenMP team and ours never
 * fight over the cores.  AERUN_GEMM_THREADING=blas hands the threads to
 * the BLAS instead (for comparison in the benchmark). */
#include "gemm.h"
#include "error.h"
#include "parallel.h"
#include "profile.h"

#include <cblas.h>
#include <dlfcn.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

typedef enum { BACKEND_UNSET, BACKEND_OPENBLAS, BACKEND_DNNL } backend;

/* the default where both are there: on this project's machine (AMD EPYC,
 * AVX-512) oneDNN is the faster on the benchmark's shapes
 * (docs/performance.md) */
#define PREFERRED BACKEND_DNNL

/* below this many flops a product runs on one thread: a second thread's
 * wake-up and the split's smaller blocks cost more than it saves */
#define SPLIT_FLOPS 4e6

static backend current = BACKEND_UNSET;
static bool blas_threading;  /* AERUN_GEMM_THREADING=blas */
static int blas_threads_set; /* the count last given to the BLAS pools */
static double flops;

/* the part of oneDNN's C API used here (dnnl.h), resolved at run time */
typedef struct {
    int major, minor, patch;
    const char *hash;
    unsigned cpu_runtime, gpu_runtime;
} dnnl_version_t;
static struct {
    int tried, ok;
    int (*sgemm)(char transa, char transb, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
                 const float *b, int64_t ldb, float beta, float *c, int64_t ldc);
    const dnnl_version_t *(*version)(void);
    int (*effective_isa)(void);
    void (*omp_set_num_threads)(int); /* oneDNN's threads are an OpenMP team (libgomp) */
} dnnl;

static bool load_dnnl(void)
{
    if (dnnl.tried) return dnnl.ok;
    dnnl.tried = 1;
#ifndef AE_NO_DNNL
    void *h = dlopen("libdnnl.so.2", RTLD_NOW | RTLD_LOCAL);
    if (!h) h = dlopen("libdnnl.so", RTLD_NOW | RTLD_LOCAL);
    if (!h) return false;
    /* dlsym returns void *; the C standard has no function-pointer cast from
     * it, POSIX guarantees one through this copy */
    void *f = dlsym(h, "dnnl_sgemm"), *v = dlsym(h, "dnnl_version"), *i = dlsym(h, "dnnl_get_effective_cpu_isa");
    void *o = dlsym(h, "omp_set_num_threads");
    if (!f || !v || !i) return false;
    memcpy(&dnnl.sgemm, &f, sizeof f);
    memcpy(&dnnl.version, &v, sizeof v);
    memcpy(&dnnl.effective_isa, &i, sizeof i);
    if (o) memcpy(&dnnl.omp_set_num_threads, &o, sizeof o);
    dnnl.ok = 1;
#endif
    return dnnl.ok;
}

const char *ae_gemm_available(void) { return load_dnnl() ? "openblas, dnnl" : "openblas"; }

static int parse(const char *name, backend *b)
{
    if (strcmp(name, "openblas") == 0) {
        *b = BACKEND_OPENBLAS;
        return 0;
    }
    if (strcmp(name, "dnnl") == 0 || strcmp(name, "onednn") == 0) {
        if (!load_dnnl())
            return ae_failc("gemm: oneDNN (libdnnl.so.2) is not installed (apt-get install libdnnl-dev); "
                            "available: %s",
                            ae_gemm_available());
        *b = BACKEND_DNNL;
        return 0;
    }
    return ae_failc("gemm: unknown backend '%s' (available: %s)", name, ae_gemm_available());
}

static void set_blas_threads(int n)
{
    if (n == blas_threads_set) return;
    openblas_set_num_threads(n);
    if (dnnl.ok && dnnl.omp_set_num_threads) dnnl.omp_set_num_threads(n);
    blas_threads_set = n;
}

static backend chosen(void)
{
    if (current != BACKEND_UNSET) return current;
    current = PREFERRED == BACKEND_DNNL && load_dnnl() ? BACKEND_DNNL : BACKEND_OPENBLAS;
    const char *env = getenv("AERUN_GEMM");
    if (env && *env) {
        backend b = BACKEND_UNSET;
        if (parse(env, &b) == 0) current = b;
        else fprintf(stderr, "aerun: AERUN_GEMM: %s; using %s\n", ae_error(), ae_gemm_name());
    }
    const char *threading = getenv("AERUN_GEMM_THREADING");
    blas_threading = threading && strcmp(threading, "blas") == 0;
    set_blas_threads(blas_threading ? ae_parallel_threads() : 1);
    return current;
}

int ae_gemm_use(const char *name)
{
    backend b = BACKEND_UNSET;
    if (parse(name, &b) != 0) return -1;
    chosen();
    current = b;
    return 0;
}

const char *ae_gemm_name(void) { return chosen() == BACKEND_DNNL ? "dnnl" : "openblas"; }

/* one call of the backend on the calling thread */
static void backend_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                         int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc)
{
    if (current == BACKEND_DNNL) {
        /* OpenMP's thread count is per thread: each of ours sets its own once */
        static _Thread_local bool single;
        if (!blas_threading && !single && dnnl.omp_set_num_threads) {
            dnnl.omp_set_num_threads(1);
            single = true;
        }
        /* oneDNN 2.6's sgemm corrupts the heap when a signal handler runs
         * during the call (any handler, even an empty one; found with the
         * SIGINT/SIGTERM handlers of runtime/lua/signal.c, which a run installs):
         * its JIT kernels move the stack pointer into a heap block (valgrind:
         * "client switching stacks"), where the kernel then writes the
         * signal frame.  Signals wait until the product is done; the
         * OpenMP threads it starts inherit the blocked mask. */
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &old);
        int rc = dnnl.sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (rc == 0) return;
        /* oneDNN refuses only what OpenBLAS would refuse too (bad leading
         * dimensions, which the ops never pass); let OpenBLAS say so */
    }
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, (blasint)m,
                (blasint)n, (blasint)k, alpha, a, (blasint)lda, b, (blasint)ldb, beta, c, (blasint)ldc);
}

/* a product cut into blocks of `step` rows of C (by_rows) or columns */
typedef struct {
    bool trans_a, trans_b, by_rows;
    int64_t m, n, k, lda, ldb, ldc, step;
    float alpha, beta;
    const float *a, *b;
    float *c;
} split;

static void split_block(void *ctx, int64_t q)
{
    const split *s = ctx;
    int64_t lo = q * s->step, size = s->by_rows ? s->m : s->n;
    int64_t len = size - lo < s->step ? size - lo : s->step;
    if (s->by_rows) /* rows lo.. of C: rows of A, or columns of Aᵀ */
        backend_gemm(s->trans_a, s->trans_b, len, s->n, s->k, s->alpha, s->trans_a ? s->a + lo : s->a + lo * s->lda,
                     s->lda, s->b, s->ldb, s->beta, s->c + lo * s->ldc, s->ldc);
    else /* columns lo.. of C: columns of B, or rows of Bᵀ */
        backend_gemm(s->trans_a, s->trans_b, s->m, len, s->k, s->alpha, s->a, s->lda,
                     s->trans_b ? s->b + lo * s->ldb : s->b + lo, s->ldb, s->beta, s->c + lo, s->ldc);
}

/* ------------------------------------------------ small outputs, long K
 *
 * C (m × n) = A · Bᵀ with a few rows on each side and a long K: the weight
 * gradients of a convolution with one input or output channel (16 × 9
 * over K = batch × 196 = 25088 in the tutorial's conv AE).  Both
 * libraries run these at a fifth of their usual speed (23-32 GFLOP/s a
 * core: their kernels are built for large m and n), and a product this
 * small is never split between threads.  Here, K is cut into chunks of a
 * fixed size that the threads share, each chunk's m × n dot products are
 * taken four rows of A by three of B at a time from L1, and the chunks'
 * partial sums are added in chunk order: the result does not depend on
 * the thread count. */
#define DOT_MAX_MN 256 /* at most this many outputs */
#define DOT_MIN_K 4096 /* and at least this long a K */
#define DOT_CHUNK 1024 /* floats of K a chunk: 7 rows of it fit in L1 */

typedef struct {
    int64_t m, n, k, lda, ldb;
    const float *a, *b;
    float *part; /* chunk c's m × n sums at part + c·m·n */
} dot_job;

/* out[i·n + j] (i < ra ≤ 4, j < rb ≤ 3) = Σ over [0, len) of a_i · b_j;
 * rows beyond ra or rb repeat the last one, whose sums are dropped, so
 * that the loop always keeps twelve accumulators in registers */
static void dot_block(const float *a, int64_t lda, int ra, const float *b, int64_t ldb, int rb, int64_t len, float *out,
                      int64_t n)
{
    const float *pa[4], *pb[3];
    for (int i = 0; i < 4; i++) pa[i] = a + (i < ra ? i : ra - 1) * lda;
    for (int j = 0; j < 3; j++) pb[j] = b + (j < rb ? j : rb - 1) * ldb;
    float sum[4][3];
    int64_t q = 0;
#if defined(__AVX2__) && defined(__FMA__)
    __m256 acc[4][3];
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 3; j++) acc[i][j] = _mm256_setzero_ps();
    for (; q + 8 <= len; q += 8) {
        __m256 vb0 = _mm256_loadu_ps(pb[0] + q), vb1 = _mm256_loadu_ps(pb[1] + q), vb2 = _mm256_loadu_ps(pb[2] + q);
        for (int i = 0; i < 4; i++) {
            __m256 va = _mm256_loadu_ps(pa[i] + q);
            acc[i][0] = _mm256_fmadd_ps(va, vb0, acc[i][0]);
            acc[i][1] = _mm256_fmadd_ps(va, vb1, acc[i][1]);
            acc[i][2] = _mm256_fmadd_ps(va, vb2, acc[i][2]);
        }
    }
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 3; j++) {
            __m128 h = _mm_add_ps(_mm256_castps256_ps128(acc[i][j]), _mm256_extractf128_ps(acc[i][j], 1));
            h = _mm_add_ps(h, _mm_movehl_ps(h, h));
            h = _mm_add_ss(h, _mm_movehdup_ps(h));
            sum[i][j] = _mm_cvtss_f32(h);
        }
#else
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 3; j++) sum[i][j] = 0.0f;
#endif
    for (; q < len; q++)
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 3; j++) sum[i][j] += pa[i][q] * pb[j][q];
    for (int i = 0; i < ra; i++)
        for (int j = 0; j < rb; j++) out[i * n + j] = sum[i][j];
}

static void dot_chunk(void *ctx, int64_t c)
{
    const dot_job *d = ctx;
    int64_t k0 = c * DOT_CHUNK, len = d->k - k0 < DOT_CHUNK ? d->k - k0 : DOT_CHUNK;
    float *out = d->part + c * d->m * d->n;
    for (int64_t i = 0; i < d->m; i += 4)
        for (int64_t j = 0; j < d->n; j += 3)
            dot_block(d->a + i * d->lda + k0, d->lda, d->m - i < 4 ? (int)(d->m - i) : 4, d->b + j * d->ldb + k0,
                      d->ldb, d->n - j < 3 ? (int)(d->n - j) : 3, len, out + i * d->n + j, d->n);
}

static bool dot_shape(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k)
{
    return !trans_a && trans_b && m * n <= DOT_MAX_MN && k >= DOT_MIN_K;
}

/* C = alpha·A·Bᵀ + beta·C by chunks of K; false when the scratch could
 * not be had (the caller then uses the backend) */
static bool dot_gemm(int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda, const float *b,
                     int64_t ldb, float beta, float *c, int64_t ldc)
{
    int64_t chunks = (k + DOT_CHUNK - 1) / DOT_CHUNK;
    float *part = malloc((size_t)(chunks * m * n) * sizeof(float));
    if (!part) return false;
    dot_job d = {m, n, k, lda, ldb, a, b, part};
    ae_parallel_run(dot_chunk, &d, chunks);
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double s = 0;
            for (int64_t q = 0; q < chunks; q++) s += part[(q * m + i) * n + j];
            float v = alpha * (float)s;
            c[i * ldc + j] = beta == 0 ? v : v + beta * c[i * ldc + j];
        }
    free(part);
    return true;
}

/* the product, on as many threads as it pays for */
static void product(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                    int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc)
{
    int threads = ae_parallel_threads();
    double work = 2.0 * (double)m * (double)n * (double)k;
    if (!blas_threading && dot_shape(trans_a, trans_b, m, n, k) &&
        dot_gemm(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc))
        return;
    if (threads < 2 || blas_threading || work < SPLIT_FLOPS) {
        backend_gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    /* the longer side of C in one block per thread, in multiples of 16
     * (whole vector registers for the kernels) */
    split s = {trans_a, trans_b, m > n, m, n, k, lda, ldb, ldc, 0, alpha, beta, a, b, c};
    int64_t size = s.by_rows ? m : n;
    s.step = ((size + threads - 1) / threads + 15) / 16 * 16;
    ae_parallel_run(split_block, &s, (size + s.step - 1) / s.step);
}

/* A·Bᵀ with the shorter side first and a long K (the weight gradients of
 * the conv AE's middle layers, 32 × 144 over K = 6272) runs 1.5x faster
 * with the sides swapped, as Cᵀ = B·Aᵀ, in oneDNN (575 against 875 µs on
 * one core, 355 against 489 on two) and 10% faster in OpenBLAS; Cᵀ is
 * small enough to transpose back for nothing */
static bool swap_shape(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k)
{
    return !trans_a && trans_b && m < n && k >= 8 * n && m * n <= 65536;
}

void ae_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
             const float *b, int64_t ldb, float beta, float *c, int64_t ldc)
{
    if (m == 0 || n == 0) return;
    if (k == 0) {
        /* BLAS leaves C alone when k = 0; the product is then beta·C */
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j];
        return;
    }
    int token = ae_prof_on ? ae_prof_enter(AE_PROF_GEMM, NULL) : 0;
    chosen();
    flops += 2.0 * (double)m * (double)n * (double)k;
    if (blas_threading) set_blas_threads(ae_parallel_threads());
    float *ct = !blas_threading && swap_shape(trans_a, trans_b, m, n, k) && !dot_shape(trans_a, trans_b, m, n, k)
                    ? malloc((size_t)(m * n) * sizeof(float))
                    : NULL;
    if (ct) {
        product(false, true, n, m, k, alpha, b, ldb, a, lda, 0.0f, ct, m);
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++)
                c[i * ldc + j] = beta == 0 ? ct[j * m + i] : ct[j * m + i] + beta * c[i * ldc + j];
        free(ct);
    } else {
        product(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }
    if (ae_prof_on) ae_prof_leave(token);
}

double ae_gemm_flops(void) { return flops; }

static const char *isa_name(int isa)
{
    switch (isa) { /* dnnl_cpu_isa_t */
    case 0x1: return "sse41";
    case 0x3: return "avx";
    case 0x7: return "avx2";
    case 0x407: return "avx2_vnni";
    case 0x27: return "avx512_core";
    case 0x67: return "avx512_core_vnni";
    case 0xe7: return "avx512_core_bf16";
    case 0x3e7: return "avx512_core_amx";
    default: return "isa?";
    }
}

const char *ae_gemm_backend(void)
{
    static char name[160];
    chosen();
    int t = ae_gemm_threads();
    const char *threads = blas_threading ? "BLAS threads" : "threads";
    if (current == BACKEND_DNNL) {
        const dnnl_version_t *v = dnnl.version();
        snprintf(name, sizeof name, "oneDNN %d.%d.%d %s (%d %s)", v->major, v->minor, v->patch,
                 isa_name(dnnl.effective_isa()), t, t == 1 ? "thread" : threads);
        return name;
    }
    const char *config = openblas_get_config(); /* "OpenBLAS 0.3.21 DYNAMIC_ARCH ..." */
    char version[32] = "";
    if (config && strncmp(config, "OpenBLAS ", 9) == 0) sscanf(config + 9, "%31s", version);
    snprintf(name, sizeof name, "OpenBLAS%s%s %s (%d %s)", *version ? " " : "", version, openblas_get_corename(), t,
             t == 1 ? "thread" : threads);
    return name;
}

int ae_gemm_threads(void) { return ae_parallel_threads(); }

void ae_gemm_set_threads(int n) { ae_parallel_set_threads(n); }
