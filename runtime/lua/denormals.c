/* denormals.c: the denormal mode (core/denormals.h) as Lua sees it:
 * ae.denormals() names it, ae.denormals_threads() checks it on every
 * thread that takes part in a parallel job. */
#include "binding.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "core/denormals.h"
#include "core/parallel.h"

static int l_denormals(lua_State *L)
{
    lua_pushstring(L, ae_denormals_flushed() ? "flush" : "keep");
    return 1;
}

#define PROBE_CHUNKS 64
#define PROBE_THREADS 64

typedef struct {
    pthread_t seen[PROBE_THREADS];
    bool ok[PROBE_THREADS];
    int n;
    pthread_mutex_t lock;
} probe;

/* each chunk takes about 100 µs, so that every worker wakes up and joins */
static void probe_chunk(void *ctx, int64_t c)
{
    (void)c;
    probe *p = ctx;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do clock_gettime(CLOCK_MONOTONIC, &t);
    while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < 100000L);
    pthread_t self = pthread_self();
    bool ok = ae_denormals_thread_ok();
    pthread_mutex_lock(&p->lock);
    int i = 0;
    while (i < p->n && !pthread_equal(p->seen[i], self)) i++;
    if (i == p->n && p->n < PROBE_THREADS) {
        p->seen[p->n] = self;
        p->ok[p->n++] = ok;
    }
    pthread_mutex_unlock(&p->lock);
}

/* denormals_threads() -> threads that took part, how many of them had
 * flags other than the process's mode.  The job runs until every thread
 * has taken part (a worker started by a job joins from the next one), at
 * most 20 times. */
static int l_denormals_threads(lua_State *L)
{
    probe p = {.n = 0};
    pthread_mutex_init(&p.lock, NULL);
    for (int i = 0; i < 20 && p.n < ae_parallel_threads(); i++) ae_parallel_run(probe_chunk, &p, PROBE_CHUNKS);
    pthread_mutex_destroy(&p.lock);
    int wrong = 0;
    for (int i = 0; i < p.n; i++) wrong += !p.ok[i];
    lua_pushinteger(L, p.n);
    lua_pushinteger(L, wrong);
    return 2;
}

static const luaL_Reg functions[] = {
    {"denormals", l_denormals}, {"denormals_threads", l_denormals_threads}, {NULL, NULL}};

void lae_open_denormals(lua_State *L)
{
    if (ae_denormals_init() != 0) lae_raise(L);
    luaL_setfuncs(L, functions, 0);
}
