/* pool.c: see pool.h.  Size classes are exact element counts kept in a
 * small open-addressed table; a model has a few dozen distinct sizes. */
#include "pool.h"
#include "error.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NCLASS 1024 /* power of two */
#define MAX_CACHED ((size_t)2 << 30)
#define LARGEST ((size_t)1 << 40) /* elements; beyond this is surely a bug */

typedef struct block {
    struct block *next;
} block;
typedef struct {
    size_t n;
    block *free;
} sizeclass;

static sizeclass classes[NCLASS];
static size_t live, cached, fresh;

static sizeclass *class_of(size_t n, int create)
{
    size_t h = (n * 0x9E3779B97F4A7C15ull) >> 22;
    for (size_t i = 0; i < NCLASS; i++) {
        sizeclass *c = &classes[(h + i) & (NCLASS - 1)];
        if (c->n == n) return c;
        if (c->n == 0) {
            if (!create) return NULL;
            c->n = n;
            return c;
        }
    }
    return NULL;
}

/* Linux grants an allocation larger than free memory (overcommit) and
 * kills the process when the pages are touched, which ae_zeros does at
 * once.  So a request is checked against the machine first: more than its
 * RAM is refused outright, and a large one (1 GiB and up, where reading
 * /proc/meminfo costs nothing beside the allocation) must fit in what is
 * available now, counting the buffers this pool could give back. */
#define LARGE_REQUEST ((size_t)1 << 30)

size_t ae_pool_machine_bytes(void)
{
    static size_t total;
    if (!total) {
        long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
        total = pages > 0 && size > 0 ? (size_t)pages * (size_t)size : SIZE_MAX;
    }
    return total;
}

/* MemAvailable plus free swap, from /proc/meminfo; SIZE_MAX when unknown */
static size_t available_bytes(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f) return SIZE_MAX;
    char line[128];
    unsigned long long kib, avail = 0, swap = 0;
    int found = 0;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "MemAvailable: %llu kB", &kib) == 1) avail = kib, found = 1;
        else if (sscanf(line, "SwapFree: %llu kB", &kib) == 1) swap = kib;
    }
    fclose(f);
    return found ? (size_t)((avail + swap) * 1024) : SIZE_MAX;
}

static double gib(size_t bytes) { return (double)bytes / (double)((size_t)1 << 30); }

static int check_fits(size_t bytes)
{
    size_t total = ae_pool_machine_bytes();
    if (bytes > total)
        return ae_failc("out of memory: a tensor of %.1f GiB is more than this machine's %.1f GiB", gib(bytes),
                        gib(total));
    if (live > total - bytes)
        return ae_failc("out of memory: a tensor of %.1f GiB does not fit beside the %.1f GiB of "
                        "tensors already live (this machine has %.1f GiB)",
                        gib(bytes), gib(live), gib(total));
    if (bytes >= LARGE_REQUEST) {
        size_t avail = available_bytes();
        if (avail != SIZE_MAX && bytes > avail + cached)
            return ae_failc("out of memory: a tensor of %.1f GiB does not fit in the %.1f GiB "
                            "available now",
                            gib(bytes), gib(avail + cached));
    }
    return 0;
}

float *ae_pool_get(size_t n)
{
    if (n == 0) n = 1;
    if (n > LARGEST) return ae_fail("cannot allocate %zu floats: too large", n);
    sizeclass *c = class_of(n, 0);
    size_t bytes = n * sizeof(float);
    if (c && c->free) {
        block *b = c->free;
        c->free = b->next;
        cached -= bytes;
        live += bytes;
        return (float *)b;
    }
    if (check_fits(bytes) != 0) return NULL;
    size_t rounded = (bytes + 63) & ~(size_t)63;
    float *p = aligned_alloc(64, rounded);
    if (!p) {
        ae_pool_trim();
        p = aligned_alloc(64, rounded);
    }
    if (!p) return ae_fail("out of memory allocating %zu MiB", bytes >> 20);
    live += bytes;
    fresh += bytes;
    return p;
}

void ae_pool_put(float *p, size_t n)
{
    if (!p) return;
    if (n == 0) n = 1;
    size_t bytes = n * sizeof(float);
    live -= bytes;
    sizeclass *c = cached + bytes <= MAX_CACHED ? class_of(n, 1) : NULL;
    if (!c) {
        free(p);
        return;
    }
    block *b = (block *)p;
    b->next = c->free;
    c->free = b;
    cached += bytes;
}

size_t ae_pool_take_fresh_bytes(void)
{
    size_t f = fresh;
    fresh = 0;
    return f;
}

size_t ae_pool_live_bytes(void) { return live; }
size_t ae_pool_cached_bytes(void) { return cached; }

void ae_pool_trim(void)
{
    for (size_t i = 0; i < NCLASS; i++) {
        block *b = classes[i].free;
        while (b) {
            block *next = b->next;
            free(b);
            b = next;
        }
        classes[i].free = NULL;
    }
    cached = 0;
}
