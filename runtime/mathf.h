/* mathf.h: float functions that the compiler can vectorise.
 * glibc's expf is a scalar call, which made sigmoid cost as much as the
 * layer's GEMM; this one is a Cephes-style range reduction plus a
 * degree-6 polynomial (within 2 ulp of expf over its range), written
 * without branches so that a loop over it becomes SIMD code (the build
 * passes -fno-trapping-math, without which gcc keeps the selects as jumps). */
#ifndef AE_MATHF_H
#define AE_MATHF_H

#include <math.h>
#include <stdint.h>
#include <string.h>

static inline float ae_expf(float x)
{
    float xc = x > 88.0f ? 88.0f : x;
    xc = xc < -87.0f ? -87.0f : xc;
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
    return y;
}

static inline float ae_sigmoidf(float x) { return 1.0f / (1.0f + ae_expf(-x)); }

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

#endif
