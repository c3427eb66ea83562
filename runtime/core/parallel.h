/* parallel.h: the runtime's own threads for its big loops (GEMM halves,
 * the optimizer's pass over the parameters).
 * A job is a count of independent chunks; the calling thread and the
 * workers take chunks from a shared counter until none is left, so the
 * caller never waits for a worker that the OS has not scheduled (it simply
 * does the chunks itself: on a loaded machine the job runs at one thread's
 * speed instead of stalling).  Workers spin briefly between jobs, which on
 * a training loop (a job every few tens of microseconds) keeps them awake,
 * then sleep.  One BLAS thread per participant: the BLAS's own thread
 * pools are kept at one thread (gemm.c). */
#ifndef AE_PARALLEL_H
#define AE_PARALLEL_H

#include <stdint.h>

typedef void (*ae_chunk_fn)(void *ctx, int64_t chunk);

/* runs fn(ctx, c) for every c in [0, nchunks), spread over the threads;
 * returns when all are done.  Called from inside a chunk, it runs the
 * chunks itself, in order. */
void ae_parallel_run(ae_chunk_fn fn, void *ctx, int64_t nchunks);

/* fn(ctx, lo, hi) over [0, n) cut into ranges of at least `grain`
 * elements (for a grain of 16 or more, whole multiples of 16, so that
 * vector loops keep their alignment and threads share no cache line), a
 * few per thread so that a late worker delays little */
typedef void (*ae_range_fn)(void *ctx, int64_t lo, int64_t hi);
void ae_parallel_for(int64_t n, int64_t grain, ae_range_fn fn, void *ctx);

/* threads taking part (the caller included); 1 means no workers */
int ae_parallel_threads(void);
/* n >= 1; workers start on the first job that needs them */
void ae_parallel_set_threads(int n);

#endif
