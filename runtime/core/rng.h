/* rng.h: the runtime's one random number generator (xoshiro256**).
 * Everything random (init, shuffling, noise, reparameterization) draws from
 * it, so a seed fixes a run and its saved state makes a resumed run draw
 * the same numbers as an uninterrupted one. */
#ifndef AE_RNG_H
#define AE_RNG_H

#include <stdint.h>

#define AE_RNG_STATE_BYTES 48

void ae_rng_seed(uint64_t seed);
uint64_t ae_rng_initial_seed(void);
uint64_t ae_rng_next(void);
/* uniform in [0, 1) with 24 random bits, like a float32 draw */
float ae_rng_uniform(void);
double ae_rng_uniform_double(void);
float ae_rng_normal(void);
/* uniform integer in [0, n) without modulo bias */
uint64_t ae_rng_below(uint64_t n);
void ae_rng_fill_uniform(float *x, int64_t n, float lo, float hi);
void ae_rng_fill_normal(float *x, int64_t n, float mean, float std);

void ae_rng_get_state(unsigned char out[AE_RNG_STATE_BYTES]);
/* returns -1 (ae_error set) when the bytes are not a state */
int ae_rng_set_state(const unsigned char in[AE_RNG_STATE_BYTES]);

#endif
