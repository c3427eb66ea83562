/* pool.c: see pool.h.  Size classes are exact element counts kept in a
 * small open-addressed table; a model has a few dozen distinct sizes. */
#include "pool.h"
#include "error.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NCLASS 1024             /* power of two */
#define MAX_CACHED ((size_t)2 << 30)
#define LARGEST ((size_t)1 << 40)   /* elements; beyond this is surely a bug */

typedef struct block { struct block *next; } block;
typedef struct { size_t n; block *free; } sizeclass;

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
