/* optim.c: see optim.h */
#include "optim.h"

#include <math.h>

void ae_sgd_step(float *p, const float *g, float *buf, int64_t n, const ae_sgd_config *c,
                 bool first_step)
{
    float lr = (float)c->lr, mom = (float)c->momentum, damp = (float)c->dampening,
          wd = (float)c->weight_decay;
    for (int64_t i = 0; i < n; i++) {
        float d = g[i];
        if (wd != 0) d += wd * p[i];
        if (mom != 0) {
            buf[i] = first_step ? d : mom * buf[i] + (1 - damp) * d;
            d = c->nesterov ? d + mom * buf[i] : buf[i];
        }
        p[i] -= lr * d;
    }
}

void ae_adam_step(float *p, const float *g, float *m, float *v, int64_t n, const ae_adam_config *c,
                  int64_t step)
{
    float b1 = (float)c->beta1, b2 = (float)c->beta2, eps = (float)c->eps;
    float wd = (float)c->weight_decay;
    double bc1 = 1.0 - pow(c->beta1, (double)step);
    double bc2 = 1.0 - pow(c->beta2, (double)step);
    float step_size = (float)(c->lr / bc1);
    float bc2_sqrt = (float)sqrt(bc2);
    float decay = (float)(1.0 - c->lr * c->weight_decay);
    for (int64_t i = 0; i < n; i++) {
        float gi = g[i];
        if (c->decoupled) p[i] *= decay;
        else if (wd != 0) gi += wd * p[i];
        m[i] = m[i] * b1 + (1 - b1) * gi;       /* lerp as in torch: m + (g - m)(1 - b1) */
        v[i] = v[i] * b2 + (1 - b2) * gi * gi;
        float denom = sqrtf(v[i]) / bc2_sqrt + eps;
        p[i] -= step_size * (m[i] / denom);
    }
}
