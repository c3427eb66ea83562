/* denormals.c: see denormals.h.  FTZ (bit 15) flushes subnormal results
 * to zero, DAZ (bit 6) reads subnormal inputs as zero; both are needed,
 * since a subnormal input alone takes the slow path. */
#include "denormals.h"
#include "error.h"

#include <stdlib.h>
#include <string.h>

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#define HAVE_MXCSR 1
#define FLUSH_BITS 0x8040u
#endif

static int mode = -1; /* -1 not read yet, 1 flush, 0 keep */

int ae_denormals_init(void)
{
    if (mode < 0) {
        const char *v = getenv("AERUN_DENORMALS");
        if (!v || !*v || strcmp(v, "flush") == 0) mode = 1;
        else if (strcmp(v, "keep") == 0) mode = 0;
        else return ae_failc("AERUN_DENORMALS must be 'flush' or 'keep', not '%s'", v);
    }
    ae_denormals_apply();
    return 0;
}

bool ae_denormals_flushed(void) { return mode == 1 && ae_denormals_supported(); }

bool ae_denormals_supported(void)
{
#ifdef HAVE_MXCSR
    return true;
#else
    return false;
#endif
}

void ae_denormals_apply(void)
{
#ifdef HAVE_MXCSR
    if (mode < 0) return;
    unsigned csr = _mm_getcsr();
    _mm_setcsr(mode == 1 ? csr | FLUSH_BITS : csr & ~FLUSH_BITS);
#endif
}

bool ae_denormals_thread_ok(void)
{
#ifdef HAVE_MXCSR
    unsigned bits = _mm_getcsr() & FLUSH_BITS;
    return mode == 1 ? bits == FLUSH_BITS : bits == 0;
#else
    return true;
#endif
}
