/* mathf.h: float functions that the compiler can vectorise.
 * glibc's expf is a scalar call, which made sigmoid cost as much as the
 * layer's GEMM; this one is a Cephes-style range reduction plus a
 * degree-6 polynomial (within 2 ulp of expf over its range), written
 * without branches so that a loop over it becomes SIMD code (the build
 * passes -fno-trapping-math, without which gcc keeps the selects as jumps). */
#ifndef AE_MATHF_H
#define AE_MATHF_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static inline float ae_expf(float x)
{
    /* written so that NaN lands on 88 (comparisons with NaN are false):
     * converting NaN to int32 below would be undefined; the NaN comes
     * back through the last select */
    float xc = x < 88.0f ? x : 88.0f;
    xc = xc > -87.0f ? xc : -87.0f;
    /* round to nearest by the 1.5·2^23 trick: floorf does not vectorise */
    float n = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = xc - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t bits = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    float y = p * scale;
    /* expf overflows to inf above 88.72; below -87.3 the result would be
     * denormal, flushed to 0 here */
    y = x > 88.72283f ? INFINITY : y;
    y = x < -87.33654f ? 0.0f : y;
    y = x != x ? x : y;
    return y;
}

static inline float ae_sigmoidf(float x) { return 1.0f / (1.0f + ae_expf(-x)); }

/* tanh, Cephes' tanhf: a polynomial below 0.625 and 1 - 2/(e^2|x| + 1)
 * above, both computed and one selected, so that a loop over it
 * vectorises (glibc's tanhf is a scalar call) */
static inline float ae_tanhf(float x)
{
    float a = fabsf(x), z = x * x;
    float p = ((((-5.70498872745e-3f * z + 2.06390887954e-2f) * z - 5.37397155531e-2f) * z + 1.33314422036e-1f) * z -
               3.33332819422e-1f) *
                  z * x +
              x;
    float q = 1.0f - 2.0f / (ae_expf(2.0f * a) + 1.0f);
    q = x < 0.0f ? -q : q;
    return a > 0.625f ? q : p;
}

/* natural log, Cephes-style: x = m·2^e with m in [√½, √2), a degree-9
 * polynomial in m - 1 (within 2 ulp of logf), branch-free so that a loop
 * over it vectorises.  Subnormals are scaled up first; log(0) = -inf,
 * log(x < 0) = NaN, log(inf) = inf, as logf. */
static inline float ae_logf(float x)
{
    float xs = x < 1.17549435e-38f ? x * 8388608.0f : x; /* 2^23 */
    float ebias = x < 1.17549435e-38f ? -23.0f : 0.0f;
    int32_t bits;
    memcpy(&bits, &xs, sizeof bits);
    /* exponent such that the mantissa lands in [√½, √2) */
    /* unsigned arithmetic: for x < 0 (a NaN result, selected below) the
     * signed subtraction would overflow, which is undefined */
    int32_t shifted = (int32_t)((uint32_t)bits - 0x3f3504f3u); /* bits of √½ */
    int32_t e = shifted >> 23;
    uint32_t mbits = (uint32_t)bits - (uint32_t)e * 8388608u; /* e·2^23 without shifting a negative */
    float m;
    memcpy(&m, &mbits, sizeof m);
    float f = m - 1.0f;
    float ef = (float)e + ebias;
    float z = f * f;
    float p = 7.0376836292e-2f;
    p = p * f - 1.1514610310e-1f;
    p = p * f + 1.1676998740e-1f;
    p = p * f - 1.2420140846e-1f;
    p = p * f + 1.4249322787e-1f;
    p = p * f - 1.6668057665e-1f;
    p = p * f + 2.0000714765e-1f;
    p = p * f - 2.4999993993e-1f;
    p = p * f + 3.3333331174e-1f;
    float y = p * f * z;
    y += -2.12194440e-4f * ef;
    y += -0.5f * z;
    y = f + y + 0.693359375f * ef;
    y = x == 0.0f ? -INFINITY : y;
    y = x < 0.0f || x != x ? NAN : y;
    y = x == INFINITY ? INFINITY : y;
    return y;
}

/* sin and cos of 2π·u for u in [0, 1), branch-free (for Box-Muller):
 * u is split into a quarter turn q and a remainder f in [-1/8, 1/8] (both
 * exact in float), Cephes' minimax polynomials give sin and cos of 2πf,
 * and the quarter turn permutes and negates them.  Within 2e-7. */
static inline void ae_sincos2pif(float u, float *s, float *c)
{
    float q = (u * 4.0f + 12582912.0f) - 12582912.0f; /* round(4u): 0..4 */
    float x = (u - q * 0.25f) * 6.28318530717958648f;
    float z = x * x;
    float sn = x + x * z * (-1.6666654611e-1f + z * (8.3321608736e-3f + z * -1.9515295891e-4f));
    float cs =
        1.0f - 0.5f * z + z * z * (4.166664568298827e-2f + z * (-1.388731625493765e-3f + z * 2.443315711809948e-5f));
    int32_t k = (int32_t)q & 3;
    float s1 = k == 1 ? cs : k == 2 ? -sn : k == 3 ? -cs : sn;
    float c1 = k == 1 ? -sn : k == 2 ? -cs : k == 3 ? sn : cs;
    *s = s1;
    *c = c1;
}

/* Σx in float lanes of 16, folded into double per block: vectorises
 * without -ffast-math and loses no digits worth having over 10^6 terms */
static inline double ae_sumf(const float *x, int64_t n)
{
    double total = 0;
    int64_t i = 0;
    while (i < n) {
        int64_t end = n - i > 4096 ? i + 4096 : n;
        float acc[16] = {0};
        for (; i + 16 <= end; i += 16)
            for (int j = 0; j < 16; j++) acc[j] += x[i + j];
        float rest = 0;
        for (; i < end; i++) rest += x[i];
        double block = rest;
        for (int j = 0; j < 16; j++) block += acc[j];
        total += block;
    }
    return total;
}

/* Σ|x| (square false) or Σx² (square true), blocked as ae_sumf but with
 * each block's tail in double; square is a constant at every call below,
 * so each is the plain loop of its kind */
static inline double ae_sum_mapf(const float *x, int64_t n, bool square)
{
    double total = 0;
    int64_t i = 0;
    while (i < n) {
        int64_t end = n - i > 4096 ? i + 4096 : n;
        float acc[16] = {0};
        for (; i + 16 <= end; i += 16)
            for (int j = 0; j < 16; j++) acc[j] += square ? x[i + j] * x[i + j] : fabsf(x[i + j]);
        double block = 0;
        for (; i < end; i++) block += square ? (double)x[i] * x[i] : fabsf(x[i]);
        for (int j = 0; j < 16; j++) block += acc[j];
        total += block;
    }
    return total;
}

/* Σ|x| and Σx² (penalties and gradient norms) */
static inline double ae_sum_absf(const float *x, int64_t n) { return ae_sum_mapf(x, n, false); }
static inline double ae_sum_sqf(const float *x, int64_t n) { return ae_sum_mapf(x, n, true); }

#endif
