/* rng.c: xoshiro256** (Blackman and Vigna), seeded through splitmix64.
 * Normals come in pairs from the Box-Muller transform; the spare one is part
 * of the state so that a restored state continues the exact sequence.
 * A pair takes one 64-bit draw: its high half gives the radius's uniform
 * u1 in (0, 1] (2^-32 steps, so the tail reaches 6.7σ), its low half the
 * angle's.  The transform runs in float through mathf.h's vectorisable log
 * and sincos: ae_rng_fill_normal draws a block of pairs, then transforms
 * them as one vector loop, and gives exactly the numbers that as many
 * calls of ae_rng_normal would. */
#include "rng.h"
#include "error.h"

#include <math.h>
#include <string.h>

#include "mathf.h"

static uint64_t s[4];
static uint64_t seed0;
static int have_spare;
static float spare;
static int seeded;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void ae_rng_seed(uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) s[i] = splitmix64(&x);
    seed0 = seed;
    have_spare = 0;
    seeded = 1;
}

uint64_t ae_rng_initial_seed(void) { return seed0; }

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t ae_rng_next(void)
{
    if (!seeded) ae_rng_seed(0);
    uint64_t r = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return r;
}

float ae_rng_uniform(void) { return (float)(ae_rng_next() >> 40) * 0x1.0p-24f; }

double ae_rng_uniform_double(void) { return (double)(ae_rng_next() >> 11) * 0x1.0p-53; }

/* the two uniforms of a pair from one draw */
static inline void pair_uniforms(uint64_t r, float *u1, float *u2)
{
    *u1 = ((float)(uint32_t)(r >> 32) + 0.5f) * 0x1.0p-32f; /* (0, 1]: the log is finite */
    *u2 = (float)((uint32_t)r >> 8) * 0x1.0p-24f;           /* 24 bits: exact in float, [0, 1) */
}

/* the Box-Muller pair: radius √(-2 ln u1), angle 2π·u2 */
static inline void box_muller(float u1, float u2, float *z0, float *z1)
{
    float r = sqrtf(-2.0f * ae_logf(u1)), s, c;
    ae_sincos2pif(u2, &s, &c);
    *z0 = r * c;
    *z1 = r * s;
}

float ae_rng_normal(void)
{
    if (have_spare) {
        have_spare = 0;
        return spare;
    }
    float u1, u2, z0;
    pair_uniforms(ae_rng_next(), &u1, &u2);
    box_muller(u1, u2, &z0, &spare);
    have_spare = 1;
    return z0;
}

uint64_t ae_rng_below(uint64_t n)
{
    if (n <= 1) return 0;
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t r;
    do r = ae_rng_next();
    while (r >= limit);
    return r % n;
}

void ae_rng_fill_uniform(float *x, int64_t n, float lo, float hi)
{
    float w = hi - lo;
    for (int64_t i = 0; i < n; i++) x[i] = lo + w * ae_rng_uniform();
}

#define PAIRS 256

void ae_rng_fill_normal(float *x, int64_t n, float mean, float std)
{
    int64_t i = 0;
    if (n > 0 && have_spare) x[i++] = mean + std * ae_rng_normal();
    float u1[PAIRS], u2[PAIRS], z0[PAIRS], z1[PAIRS];
    while (n - i >= 2) {
        int64_t pairs = (n - i) / 2 < PAIRS ? (n - i) / 2 : PAIRS;
        for (int64_t k = 0; k < pairs; k++) pair_uniforms(ae_rng_next(), &u1[k], &u2[k]);
        for (int64_t k = 0; k < pairs; k++) box_muller(u1[k], u2[k], &z0[k], &z1[k]);
        float *o = x + i;
        for (int64_t k = 0; k < pairs; k++) {
            o[2 * k] = mean + std * z0[k];
            o[2 * k + 1] = mean + std * z1[k];
        }
        i += 2 * pairs;
    }
    if (i < n) x[i] = mean + std * ae_rng_normal(); /* leaves the pair's spare */
}

/* layout: magic "AERNG1\0\0", s[0..3] little-endian, spare flag, spare bits */
void ae_rng_get_state(unsigned char out[AE_RNG_STATE_BYTES])
{
    if (!seeded) ae_rng_seed(0);
    memset(out, 0, AE_RNG_STATE_BYTES);
    memcpy(out, "AERNG1", 6);
    for (int i = 0; i < 4; i++)
        for (int b = 0; b < 8; b++) out[8 + 8 * i + b] = (unsigned char)(s[i] >> (8 * b));
    out[40] = (unsigned char)have_spare;
    uint32_t bits;
    memcpy(&bits, &spare, 4);
    for (int b = 0; b < 4; b++) out[41 + b] = (unsigned char)(bits >> (8 * b));
}

int ae_rng_set_state(const unsigned char in[AE_RNG_STATE_BYTES])
{
    if (memcmp(in, "AERNG1", 6) != 0 || in[40] > 1) return ae_failc("rng state: not a state saved by this runtime");
    uint64_t ns[4] = {0, 0, 0, 0};
    for (int i = 0; i < 4; i++)
        for (int b = 0; b < 8; b++) ns[i] |= (uint64_t)in[8 + 8 * i + b] << (8 * b);
    if ((ns[0] | ns[1] | ns[2] | ns[3]) == 0) return ae_failc("rng state: all-zero state is invalid");
    memcpy(s, ns, sizeof s);
    have_spare = in[40];
    uint32_t bits = 0;
    for (int b = 0; b < 4; b++) bits |= (uint32_t)in[41 + b] << (8 * b);
    memcpy(&spare, &bits, 4);
    seeded = 1;
    return 0;
}
