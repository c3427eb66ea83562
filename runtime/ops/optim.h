/* optim.h: optimizer update rules on raw float arrays, PyTorch's exactly
 * (same order of operations, the same fused multiply-adds, constants such as
 * 1 - beta taken in double and rounded to float once), and the pieces of
 * gradient-norm clipping.  State arrays are owned by the caller (the Lua
 * optimizer keeps them as tensors). */
#ifndef AE_OPS_OPTIM_H
#define AE_OPS_OPTIM_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    double lr, momentum, dampening, weight_decay;
    bool nesterov;
} ae_sgd_config;

/* buf may be NULL when momentum is 0; first_step says buf is not yet set */
void ae_sgd_step(float *p, const float *g, float *buf, int64_t n, const ae_sgd_config *c, bool first_step);

typedef struct {
    double lr, beta1, beta2, eps, weight_decay;
    bool decoupled; /* AdamW: decay the weights, not the gradient */
} ae_adam_config;

/* step is the 1-based count of steps taken including this one */
void ae_adam_step(float *p, const float *g, float *m, float *v, int64_t n, const ae_adam_config *c, int64_t step);

/* one parameter of a many-parameter Adam step */
typedef struct {
    float *p, *m, *v;
    const float *g;
    int64_t n, step;
} ae_adam_param;

/* the same update for every parameter in one pass, cut into blocks of a
 * few thousand elements that the runtime's threads share (parallel.h);
 * the result is the same as ae_adam_step on each in turn */
void ae_adam_step_many(const ae_adam_param *params, int count, const ae_adam_config *c);

typedef struct {
    double lr, alpha, eps, weight_decay, momentum;
    bool centered;
} ae_rmsprop_config;

/* grad_avg is used only when centered and buf only when momentum > 0
 * (either may be NULL otherwise); all state starts at zero */
void ae_rmsprop_step(float *p, const float *g, float *square_avg, float *grad_avg, float *buf, int64_t n,
                     const ae_rmsprop_config *c);

/* the p-norm of g ((Σ|g|^p)^(1/p); max|g| for p = INFINITY) as torch.norm
 * computes it in float32 (a float, returned as a double): clip_grad_norm
 * combines these per-tensor norms as PyTorch does */
double ae_vector_norm(const float *g, int64_t n, double p);
/* g *= s */
void ae_scale(float *g, int64_t n, float s);

#endif
