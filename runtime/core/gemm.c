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
#include "denormals.h"
#include "error.h"
#include "parallel.h"
#include "profile.h"

#include <cblas.h>
#include <dlfcn.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* on x86 always: the AVX512-BF16 conversion is compiled for its own
 * target whatever the build's -march */
#if defined(__x86_64__)
#include <immintrin.h>
#endif

/* OpenBLAS's own (exported, not in cblas.h): stops its pool, which the
 * next threaded call starts again */
int blas_thread_shutdown_(void);

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
static bool want_bf16; /* products in bf16 (ae_gemm_set_precision), where oneDNN has the units */

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
    int (*gemm_bf16)(char transa, char transb, int64_t m, int64_t n, int64_t k, float alpha, const uint16_t *a,
                     int64_t lda, const uint16_t *b, int64_t ldb, float beta, float *c, int64_t ldc);
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
    /* exported by every oneDNN 2.x, though not in dnnl.h: row-major like
     * dnnl_sgemm, bf16 inputs, fp32 accumulation and output */
    void *g = dlsym(h, "dnnl_gemm_bf16bf16f32");
    if (!f || !v || !i) return false;
    memcpy(&dnnl.sgemm, &f, sizeof f);
    memcpy(&dnnl.version, &v, sizeof v);
    memcpy(&dnnl.effective_isa, &i, sizeof i);
    if (o) memcpy(&dnnl.omp_set_num_threads, &o, sizeof o);
    if (g) memcpy(&dnnl.gemm_bf16, &g, sizeof g);
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
    /* OpenBLAS starts its pool when it is loaded, before the denormal mode
     * is set (denormals.h); restarted from here, its threads take this
     * thread's flags */
    if (blas_threading) blas_thread_shutdown_();
    return current;
}

int ae_gemm_use(const char *name)
{
    backend b = BACKEND_UNSET;
    if (parse(name, &b) != 0) return -1;
    chosen();
    current = b;
    if (b != BACKEND_DNNL) want_bf16 = false; /* bf16 is oneDNN's */
    return 0;
}

const char *ae_gemm_name(void) { return chosen() == BACKEND_DNNL ? "dnnl" : "openblas"; }

/* OpenMP's thread count is per thread: each of ours sets its own once */
static void dnnl_single_thread(void)
{
    static _Thread_local bool single;
    if (!blas_threading && !single && dnnl.omp_set_num_threads) {
        dnnl.omp_set_num_threads(1);
        single = true;
    }
}

/* oneDNN 2.6's kernels corrupt the heap when a signal handler runs during
 * a call (any handler, even an empty one; found with the SIGINT/SIGTERM
 * handlers of runtime/lua/signal.c, which a run installs): its JIT kernels
 * move the stack pointer into a heap block (valgrind: "client switching
 * stacks"), where the kernel then writes the signal frame.  Signals wait
 * until the product is done; the OpenMP threads it starts inherit the
 * blocked mask. */
static void block_signals(sigset_t *old)
{
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, old);
}

/* one call of the backend on the calling thread; a16 and b16 are the
 * bf16 copies of a and b (same layout, same leading dimensions) in bf16
 * mode, else NULL */
static void backend_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                         const uint16_t *a16, int64_t lda, const float *b, const uint16_t *b16, int64_t ldb, float beta,
                         float *c, int64_t ldc)
{
    if (a16 || current == BACKEND_DNNL) {
        dnnl_single_thread();
        sigset_t old;
        block_signals(&old);
        char ta = trans_a ? 'T' : 'N', tb = trans_b ? 'T' : 'N';
        int rc = a16 ? dnnl.gemm_bf16(ta, tb, m, n, k, alpha, a16, lda, b16, ldb, beta, c, ldc)
                     : dnnl.sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
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
    const uint16_t *a16, *b16; /* bf16 copies, or NULL */
    float *c;
} split;

static void split_block(void *ctx, int64_t q)
{
    const split *s = ctx;
    int64_t lo = q * s->step, size = s->by_rows ? s->m : s->n;
    int64_t len = size - lo < s->step ? size - lo : s->step;
    if (s->by_rows) { /* rows lo.. of C: rows of A, or columns of Aᵀ */
        int64_t off = s->trans_a ? lo : lo * s->lda;
        backend_gemm(s->trans_a, s->trans_b, len, s->n, s->k, s->alpha, s->a + off, s->a16 ? s->a16 + off : NULL,
                     s->lda, s->b, s->b16, s->ldb, s->beta, s->c + lo * s->ldc, s->ldc);
    } else { /* columns lo.. of C: columns of B, or rows of Bᵀ */
        int64_t off = s->trans_b ? lo * s->ldb : lo;
        backend_gemm(s->trans_a, s->trans_b, s->m, len, s->k, s->alpha, s->a, s->a16, s->lda, s->b + off,
                     s->b16 ? s->b16 + off : NULL, s->ldb, s->beta, s->c + lo, s->ldc);
    }
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
                    const uint16_t *a16, int64_t lda, const float *b, const uint16_t *b16, int64_t ldb, float beta,
                    float *c, int64_t ldc)
{
    int threads = ae_parallel_threads();
    double work = 2.0 * (double)m * (double)n * (double)k;
    if (threads < 2 || blas_threading || work < SPLIT_FLOPS) {
        backend_gemm(trans_a, trans_b, m, n, k, alpha, a, a16, lda, b, b16, ldb, beta, c, ldc);
        return;
    }
    /* the longer side of C in one block per thread, in multiples of 16
     * (whole vector registers for the kernels) */
    split s = {trans_a, trans_b, m > n, m, n, k, lda, ldb, ldc, 0, alpha, beta, a, b, a16, b16, c};
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

/* ------------------------------------------------ bf16 */

/* round to nearest, ties to even; a NaN stays a (quiet) NaN */
static inline uint16_t bf16_of(uint32_t u)
{
    return (uint16_t)((u & 0x7fffffffu) > 0x7f800000u ? (u >> 16) | 0x40u : (u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

static void to_bf16_serial(const float *src, uint16_t *dst, int64_t n)
{
    int64_t i = 0;
#if defined(__AVX2__)
    const __m256i one = _mm256_set1_epi32(1), half = _mm256_set1_epi32(0x7fff), abs = _mm256_set1_epi32(0x7fffffff),
                  inf = _mm256_set1_epi32(0x7f800000), quiet = _mm256_set1_epi32(0x40);
    for (; i + 8 <= n; i += 8) {
        __m256i u = _mm256_loadu_si256((const __m256i *)(src + i));
        __m256i hi = _mm256_srli_epi32(u, 16);
        __m256i r = _mm256_srli_epi32(_mm256_add_epi32(u, _mm256_add_epi32(half, _mm256_and_si256(hi, one))), 16);
        __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(u, abs), inf);
        r = _mm256_blendv_epi8(r, _mm256_or_si256(hi, quiet), nan);
        /* 8 values below 2^16 to 16 bits: the pack works within 128-bit
         * lanes, the permute brings the two lanes' halves together */
        __m256i p = _mm256_permute4x64_epi64(_mm256_packus_epi32(r, r), 0x08);
        _mm_storeu_si128((__m128i *)(dst + i), _mm256_castsi256_si128(p));
    }
#endif
    for (; i < n; i++) {
        uint32_t u;
        memcpy(&u, &src[i], sizeof u);
        dst[i] = bf16_of(u);
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
/* AVX512-BF16's own conversion, 16 values an instruction: the same
 * rounding, but a subnormal input becomes zero whatever MXCSR says, so it
 * serves only where denormals are flushed anyway (the products' operands,
 * denormals.h) */
__attribute__((target("avx512f,avx512bf16,avx512vl"))) static void to_bf16_units(const float *src, uint16_t *dst,
                                                                                 int64_t n)
{
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256bh h = _mm512_cvtneps_pbh(_mm512_loadu_ps(src + i));
        _mm256_storeu_si256((__m256i *)(dst + i), (__m256i)h);
    }
    to_bf16_serial(src + i, dst + i, n - i);
}
#define HAVE_BF16_UNITS_CONVERT 1
#endif

typedef struct {
    const float *src;
    uint16_t *dst;
    bool units;
} bf16_job;

static void to_bf16_range(void *ctx, int64_t lo, int64_t hi)
{
    const bf16_job *j = ctx;
#ifdef HAVE_BF16_UNITS_CONVERT
    if (j->units) {
        to_bf16_units(j->src + lo, j->dst + lo, hi - lo);
        return;
    }
#endif
    to_bf16_serial(j->src + lo, j->dst + lo, hi - lo);
}

static void convert(const float *src, uint16_t *dst, int64_t n, bool units)
{
    bf16_job j = {src, dst, units};
    ae_parallel_for(n, 1 << 16, to_bf16_range, &j);
}

void ae_to_bf16(const float *src, uint16_t *dst, int64_t n) { convert(src, dst, n, false); }

/* the CPU converts by itself, and subnormals are flushed */
static bool units_convert(void)
{
#ifdef HAVE_BF16_UNITS_CONVERT
    static int has = -1;
    if (has < 0) has = __builtin_cpu_supports("avx512bf16");
    return has && ae_denormals_flushed();
#else
    return false;
#endif
}

/* The bf16 copies of A and B go to two buffers kept between products:
 * fresh ones cost page faults on every product (a 4096 × 4096 weight's
 * copy is 32 MiB).  A product made while they are in use (from another
 * thread) takes its own. */
typedef struct {
    uint16_t *p;
    size_t cap;
} scratch16;
static scratch16 kept[2];
static atomic_flag kept_busy = ATOMIC_FLAG_INIT;

/* rows × cols of src at leading dimension ld, rounded to bf16 into a
 * buffer of the same layout (the gaps between rows are never read): the
 * kept buffer s, grown as needed, or a new one when s is NULL; NULL when
 * out of memory */
static uint16_t *bf16_copy(const float *src, int64_t rows, int64_t cols, int64_t ld, scratch16 *s)
{
    size_t need = (size_t)((rows - 1) * ld + cols);
    uint16_t *dst;
    if (s && s->cap >= need) {
        dst = s->p;
    } else {
        dst = malloc(need * sizeof(uint16_t));
        if (!dst) return NULL;
        if (s) {
            free(s->p);
            s->p = dst;
            s->cap = need;
        }
    }
    bool units = units_convert();
    if (ld == cols) convert(src, dst, rows * cols, units);
    else
        for (int64_t i = 0; i < rows; i++) convert(src + i * ld, dst + i * ld, cols, units);
    return dst;
}

static int dnnl_isa(void) { return load_dnnl() ? dnnl.effective_isa() : 0; }

/* oneDNN with bf16 units: AVX512-BF16 (0xe7) or AMX (0x3e7), which
 * includes it */
static bool bf16_units(void)
{
    static int units = -1; /* the ISA is fixed once oneDNN has looked */
    if (units < 0) units = load_dnnl() && dnnl.gemm_bf16 && (dnnl_isa() & 0xe7) == 0xe7;
    return units;
}

/* bf16 runs in oneDNN: where the user chose OpenBLAS (AERUN_GEMM), it is
 * not there */
static bool bf16_ok(void) { return bf16_units() && chosen() == BACKEND_DNNL; }

int ae_gemm_set_precision(const char *name)
{
    if (strcmp(name, "fp32") == 0) {
        want_bf16 = false;
        return 0;
    }
    if (strcmp(name, "bf16") != 0) return ae_failc("precision must be 'fp32' or 'bf16', not '%s'", name);
    if (bf16_ok()) {
        want_bf16 = true;
        return 0;
    }
    static bool told;
    if (!told) {
        if (!load_dnnl() || !dnnl.gemm_bf16)
            fprintf(stderr, "aerun: bf16 needs oneDNN (apt-get install libdnnl2), which is not installed: running in "
                            "fp32\n");
        else if (!bf16_units())
            fprintf(stderr, "aerun: this CPU has no bf16 matrix units (oneDNN's ISA is %s): running in fp32\n",
                    ae_gemm_isa());
        else
            fprintf(stderr, "aerun: bf16 runs in oneDNN, and the GEMM backend is %s (AERUN_GEMM): running in fp32\n",
                    ae_gemm_name());
        told = true;
    }
    want_bf16 = false;
    return 0;
}

const char *ae_gemm_precision(void) { return want_bf16 ? "bf16" : "fp32"; }

bool ae_gemm_bf16(void) { return want_bf16; }

void ae_gemm_set_bf16(bool on) { want_bf16 = on && bf16_ok(); }

bool ae_gemm_bf16_available(void) { return bf16_ok(); }

/* ------------------------------------------------ the entry point */

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
    /* few outputs over a long K: too small for the matrix units, in fp32
     * whatever the precision */
    if (!blas_threading && dot_shape(trans_a, trans_b, m, n, k) &&
        dot_gemm(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)) {
        if (ae_prof_on) ae_prof_leave(token);
        return;
    }
    uint16_t *a16 = NULL, *b16 = NULL;
    bool own = false; /* the kept buffers are this product's */
    if (want_bf16) {
        own = !atomic_flag_test_and_set(&kept_busy);
        a16 = trans_a ? bf16_copy(a, k, m, lda, own ? &kept[0] : NULL) : bf16_copy(a, m, k, lda, own ? &kept[0] : NULL);
        b16 = trans_b ? bf16_copy(b, n, k, ldb, own ? &kept[1] : NULL) : bf16_copy(b, k, n, ldb, own ? &kept[1] : NULL);
        if (!a16 || !b16) { /* out of memory for the copies: this product in fp32 */
            if (!own) {
                free(a16);
                free(b16);
            }
            a16 = b16 = NULL;
        }
    }
    float *ct =
        !blas_threading && swap_shape(trans_a, trans_b, m, n, k) ? malloc((size_t)(m * n) * sizeof(float)) : NULL;
    if (ct) {
        product(false, true, n, m, k, alpha, b, b16, ldb, a, a16, lda, 0.0f, ct, m);
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++)
                c[i * ldc + j] = beta == 0 ? ct[j * m + i] : ct[j * m + i] + beta * c[i * ldc + j];
        free(ct);
    } else {
        product(trans_a, trans_b, m, n, k, alpha, a, a16, lda, b, b16, ldb, beta, c, ldc);
    }
    if (own) atomic_flag_clear(&kept_busy);
    else {
        free(a16);
        free(b16);
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

const char *ae_gemm_isa(void) { return load_dnnl() ? isa_name(dnnl_isa()) : "none"; }

const char *ae_gemm_backend(void)
{
    static char name[160];
    chosen();
    int t = ae_gemm_threads();
    const char *threads = blas_threading ? "BLAS threads" : "threads";
    if (current == BACKEND_DNNL) {
        const dnnl_version_t *v = dnnl.version();
        snprintf(name, sizeof name, "oneDNN %d.%d.%d %s%s (%d %s)", v->major, v->minor, v->patch, ae_gemm_isa(),
                 want_bf16 ? ", bf16" : "", t, t == 1 ? "thread" : threads);
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
