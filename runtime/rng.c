/* rng.c: xoshiro256** (Blackman and Vigna), seeded through splitmix64.
 * Normals come in pairs from the Box-Muller transform; the spare one is part
 * of the state so that a restored state continues the exact sequence. */
#include "rng.h"
#include "error.h"

#include <math.h>
#include <string.h>

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

float ae_rng_normal(void)
{
    if (have_spare) {
        have_spare = 0;
        return spare;
    }
    /* 1 - u is in (0, 1], so the log is finite */
    double u1 = 1.0 - ae_rng_uniform_double();
    double u2 = ae_rng_uniform_double();
    double r = sqrt(-2.0 * log(u1));
    double a = 6.283185307179586476925 * u2;
    spare = (float)(r * sin(a));
    have_spare = 1;
    return (float)(r * cos(a));
}

uint64_t ae_rng_below(uint64_t n)
{
    if (n <= 1) return 0;
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t r;
    do r = ae_rng_next(); while (r >= limit);
    return r % n;
}

void ae_rng_fill_uniform(float *x, int64_t n, float lo, float hi)
{
    float w = hi - lo;
    for (int64_t i = 0; i < n; i++) x[i] = lo + w * ae_rng_uniform();
}

void ae_rng_fill_normal(float *x, int64_t n, float mean, float std)
{
    for (int64_t i = 0; i < n; i++) x[i] = mean + std * ae_rng_normal();
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
    if (memcmp(in, "AERNG1", 6) != 0 || in[40] > 1)
        return ae_failc("rng state: not a state saved by this runtime");
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
