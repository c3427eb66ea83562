/* denormals.h: whether the threads that compute flush subnormal floats to
 * zero (the x86 MXCSR bits FTZ and DAZ).  Weights, gradients and Adam's
 * moments drift into subnormals over a long run, and every operation on one
 * costs a microcode assist (a 10-epoch MLP run falls to 60% of its first
 * epoch's speed); PyTorch's torch.set_flush_denormal(True) is the same
 * switch.  Flushing is the default; AERUN_DENORMALS=keep keeps IEEE
 * subnormals.  The mode is chosen once, at start-up, for the process. */
#ifndef AE_DENORMALS_H
#define AE_DENORMALS_H

#include <stdbool.h>

/* reads AERUN_DENORMALS (flush, the default, or keep) the first time and
 * applies the mode to the calling thread; -1 with ae_error set when the
 * variable holds anything else */
int ae_denormals_init(void);
/* true when subnormals are flushed (after ae_denormals_init) */
bool ae_denormals_flushed(void);
/* applies the process's mode to the calling thread (each worker thread
 * calls it when it starts) */
void ae_denormals_apply(void);
/* whether the calling thread's flags match the process's mode: false where
 * a thread computes with the other mode */
bool ae_denormals_thread_ok(void);
/* false where the CPU has no such flags (not x86): the mode is then IEEE's */
bool ae_denormals_supported(void);

#endif
