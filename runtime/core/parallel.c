/* parallel.c: see parallel.h.
 *
 * Jobs are posted by the thread that calls ae_parallel_run (the Lua
 * thread), numbered 1, 2, ..., each into one of a few slots in turn, so
 * that a worker the OS descheduled inside an old job never holds up the
 * next one (only a job NSLOTS later, which reuses its slot).  A slot's
 * 64-bit word holds the job's tag (its number's low 31 bits; CLOSED while
 * the poster rewrites the slot) in its high half and how many workers are
 * inside in its low half.  A worker enters job k by a compare-and-swap
 * that checks the tag, so it never enters a slot being rewritten or
 * reused; the poster rewrites a slot only after moving its word from
 * (j, 0 workers) to CLOSED.  Chunks are claimed from the slot's counter;
 * the poster waits only for chunks already claimed. */
#include "parallel.h"
#include "denormals.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 64
#define NSLOTS 4
#define CLOSED 0xffffffffull /* never a job's tag */
/* the tag of job k in its slot's word: 31 bits, so that it never equals
 * CLOSED however long the run */
#define TAG(k) ((k)&0x7fffffffull)
#define SPIN_NS 200000 /* a worker waits this long for the next job before sleeping */
#define YIELD_NS 20000 /* after this, it yields between looks (it may share a core) */

typedef struct {
    atomic_ullong word; /* job tag << 32 | workers inside */
    ae_chunk_fn fn;
    void *ctx;
    int64_t chunks;
    atomic_llong next, done;
} slot;

static int nthreads; /* 0: not read from the environment yet */
static int nworkers; /* started */
static pthread_t workers[MAX_THREADS];
static slot slots[NSLOTS];
static atomic_ullong published;   /* the number of the latest job */
static unsigned long long posted; /* the poster's own count */
static atomic_int sleepers, quit;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static _Thread_local bool in_job;

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return 1e9 * (double)ts.tv_sec + (double)ts.tv_nsec;
}

/* chunks of slot q until none is left; returns how many this thread ran */
static int64_t take_chunks(slot *q)
{
    int64_t c, ran = 0;
    while ((c = atomic_fetch_add(&q->next, 1)) < q->chunks) {
        q->fn(q->ctx, c);
        atomic_fetch_add_explicit(&q->done, 1, memory_order_release);
        ran++;
    }
    return ran;
}

/* waits for a job numbered above seen; returns its number, 0 to quit */
static unsigned long long wait_for_job(unsigned long long seen)
{
    double t0 = now_ns();
    for (unsigned spins = 0;; spins++) {
        if (atomic_load(&quit)) return 0;
        unsigned long long k = atomic_load(&published);
        if (k != seen) return k;
        cpu_relax();
        if ((spins & 63) == 63) {
            double t = now_ns() - t0;
            if (t > SPIN_NS) break;
            if (t > YIELD_NS) sched_yield();
        }
    }
    pthread_mutex_lock(&lock);
    atomic_fetch_add(&sleepers, 1);
    unsigned long long k = seen;
    while (!atomic_load(&quit) && (k = atomic_load(&published)) == seen) pthread_cond_wait(&wake, &lock);
    atomic_fetch_sub(&sleepers, 1);
    pthread_mutex_unlock(&lock);
    return atomic_load(&quit) ? 0 : k;
}

static void *worker_main(void *arg)
{
    (void)arg;
    ae_denormals_apply(); /* explicitly: a thread's flags are its creator's at creation */
    in_job = true;        /* a chunk's own parallel calls run inline */
    unsigned long long seen = atomic_load(&published);
    for (;;) {
        unsigned long long k = wait_for_job(seen);
        if (!k) return NULL;
        slot *q = &slots[k % NSLOTS];
        unsigned long long w = atomic_load(&q->word);
        /* enter only job k; if its slot moved on, the next look finds the newer job */
        while (w >> 32 == TAG(k) && !atomic_compare_exchange_weak(&q->word, &w, w + 1)) {}
        if (w >> 32 == TAG(k)) {
            take_chunks(q);
            atomic_fetch_sub(&q->word, 1);
        }
        seen = k;
    }
}

static int threads_from_env(void)
{
    static const char *const vars[] = {"AERUN_THREADS", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v) {
            long n = strtol(v, NULL, 10);
            if (n >= 1) return n < MAX_THREADS ? (int)n : MAX_THREADS;
        }
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n < MAX_THREADS ? (int)n : MAX_THREADS;
}

int ae_parallel_threads(void)
{
    if (!nthreads) nthreads = threads_from_env();
    return nthreads;
}

void ae_parallel_set_threads(int n) { nthreads = n < 1 ? 1 : n < MAX_THREADS ? n : MAX_THREADS; }

/* starts workers up to the thread count; returns how many run */
static int start_workers(void)
{
    while (nworkers < ae_parallel_threads() - 1) {
        if (pthread_create(&workers[nworkers], NULL, worker_main, NULL) != 0) break;
        nworkers++;
    }
    return nworkers;
}

/* A job where the caller waited long for a chunk a worker had claimed
 * (longer than 200 µs and than its own share took: more than the uneven
 * split of a big product explains), or a run of jobs where the workers
 * took nothing though awake (16 jobs over 2 ms and more), means the cores
 * are busy with other processes (a worker descheduled mid-chunk, or never
 * scheduled at all): sharing then costs more than it gains.  Jobs run on
 * the caller alone for a while, twice as long each time it happens again
 * (up to a second), so that a loaded machine sees one thread's speed
 * rather than worse; a job the workers helped with halves the backoff. */
#define LONG_WAIT_NS 200e3
#define IDLE_JOBS 16
#define IDLE_NS 2e6 /* and for this long: a worker waking from sleep takes a while */
#define MIN_BACKOFF_NS 2e6
#define MAX_BACKOFF_NS 1e9
static double serial_until, backoff = MIN_BACKOFF_NS, idle_since;
static int idle_jobs;

static void back_off(void)
{
    serial_until = now_ns() + backoff;
    backoff = backoff * 2 < MAX_BACKOFF_NS ? backoff * 2 : MAX_BACKOFF_NS;
    idle_jobs = 0;
}

void ae_parallel_run(ae_chunk_fn fn, void *ctx, int64_t nchunks)
{
    if (nchunks <= 0) return;
    if (nchunks == 1 || in_job || ae_parallel_threads() < 2 || (serial_until > 0 && now_ns() < serial_until) ||
        start_workers() == 0) {
        for (int64_t c = 0; c < nchunks; c++) fn(ctx, c);
        return;
    }
    unsigned long long k = ++posted;
    slot *q = &slots[k % NSLOTS];
    /* close the slot once no worker is inside its old job (NSLOTS jobs ago) */
    unsigned long long w = atomic_load(&q->word);
    for (;;) {
        if ((w & 0xffffffffu) == 0 && atomic_compare_exchange_weak(&q->word, &w, CLOSED << 32)) break;
        cpu_relax();
        w = atomic_load(&q->word);
    }
    q->fn = fn;
    q->ctx = ctx;
    q->chunks = nchunks;
    atomic_store(&q->next, 0);
    atomic_store(&q->done, 0);
    atomic_store(&q->word, TAG(k) << 32);
    atomic_store(&published, k);
    /* a sleeping worker needs a while to wake: a job it misses then says
     * nothing about the load */
    bool asleep = atomic_load(&sleepers) > 0;
    if (asleep) {
        pthread_mutex_lock(&lock);
        pthread_cond_broadcast(&wake);
        pthread_mutex_unlock(&lock);
    }
    double start = now_ns();
    in_job = true;
    int64_t mine = take_chunks(q);
    in_job = false;
    /* chunks a worker claimed may still be running */
    double t0 = 0;
    for (unsigned spins = 0; atomic_load_explicit(&q->done, memory_order_acquire) < nchunks; spins++) {
        if (spins == 0) t0 = now_ns();
        cpu_relax();
        if ((spins & 255) == 255) sched_yield();
    }
    double waited = t0 > 0 ? now_ns() - t0 : 0;
    if (waited > LONG_WAIT_NS && waited > t0 - start) {
        back_off();
    } else if (mine == nchunks) {
        if (!asleep && ++idle_jobs == 1) idle_since = start;
        if (idle_jobs >= IDLE_JOBS && start - idle_since > IDLE_NS) back_off();
    } else {
        idle_jobs = 0;
        if (backoff > MIN_BACKOFF_NS) backoff /= 2;
    }
}

typedef struct {
    ae_range_fn fn;
    void *ctx;
    int64_t n, step;
} range_job;

static void range_chunk(void *ctx, int64_t c)
{
    const range_job *j = ctx;
    int64_t lo = c * j->step, hi = lo + j->step < j->n ? lo + j->step : j->n;
    j->fn(j->ctx, lo, hi);
}

void ae_parallel_for(int64_t n, int64_t grain, ae_range_fn fn, void *ctx)
{
    if (n <= 0) return;
    int threads = ae_parallel_threads();
    if (threads < 2 || n < 2 * grain || in_job) {
        fn(ctx, 0, n);
        return;
    }
    int64_t chunks = n / grain, most = 4 * (int64_t)threads;
    if (chunks > most) chunks = most;
    int64_t step = (n + chunks - 1) / chunks;
    if (grain >= 16) step = (step + 15) / 16 * 16;
    range_job j = {fn, ctx, n, step};
    ae_parallel_run(range_chunk, &j, (n + step - 1) / step);
}

/* the workers run this library's code: they must be gone before it is
 * unloaded (lua_close dlcloses aerun.so) */
__attribute__((destructor)) static void stop_workers(void)
{
    if (!nworkers) return;
    atomic_store(&quit, 1);
    pthread_mutex_lock(&lock);
    pthread_cond_broadcast(&wake);
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < nworkers; i++) pthread_join(workers[i], NULL);
    nworkers = 0;
}
