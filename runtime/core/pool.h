/* pool.h: float buffers recycled by exact size.
 * A training loop allocates the same shapes every step; keeping freed
 * buffers in per-size free lists makes the steady state allocation-free and
 * keeps the process's resident memory flat. */
#ifndef AE_POOL_H
#define AE_POOL_H

#include <stddef.h>

/* 64-byte aligned, uninitialised; NULL (with ae_error set) when out of memory */
float *ae_pool_get(size_t n);
void ae_pool_put(float *p, size_t n);
/* bytes handed out by the allocator since the last call (for GC pressure) */
size_t ae_pool_take_fresh_bytes(void);
/* bytes live in tensors and bytes parked in free lists */
size_t ae_pool_live_bytes(void);
size_t ae_pool_cached_bytes(void);
void ae_pool_trim(void);
/* the machine's physical memory in bytes (SIZE_MAX when unknown): no
 * tensor can be larger */
size_t ae_pool_machine_bytes(void);

#endif
