/* kl.h: the VAE's KL term KL(N(mu, e^logvar) || N(0, I)) and the sparse
 * autoencoder's KL sparsity penalty, each one fused op with its backward. */
#ifndef AE_OPS_KL_H
#define AE_OPS_KL_H

#include "core/tensor.h"
#include "reduction.h"

/* The range logvar is clamped to inside kl_normal and reparameterize (reparameterize.h):
 * exp(20) ≈ 4.9e8 and exp(-30) ≈ 9.4e-14 are both comfortably finite in
 * float32 (the sum over a batch of e^20 terms too), so a diverging encoder
 * gives a large finite loss instead of inf/NaN.  As with clamp, the gradient
 * with respect to logvar is zero outside the range (the ends included in
 * the range, as PyTorch's clamp does). */
#define AE_LOGVAR_MIN (-30.0f)
#define AE_LOGVAR_MAX 20.0f

static inline float ae_clamp_logvar(float lv)
{
    return lv < AE_LOGVAR_MIN ? AE_LOGVAR_MIN : lv > AE_LOGVAR_MAX ? AE_LOGVAR_MAX : lv;
}

/* 1 where the clamp lets the gradient through, 0 outside (NaN gives 0) */
static inline float ae_logvar_passes(float lv) { return (lv >= AE_LOGVAR_MIN && lv <= AE_LOGVAR_MAX) ? 1.0f : 0.0f; }

/* KL(N(mu, e^logvar) || N(0, I)) = -0.5·Σ_j (1 + logvar - mu² - e^logvar),
 * summed over the last dimension (the latent units).  mu and logvar have
 * the same shape (…, D).  Reduction NONE gives one value per sample (the
 * leading dimensions), SUM the total over the batch (PyTorch's VAE example),
 * MEAN the batch mean of the per-sample sums. */
ae_tensor *ae_kl_normal(ae_tensor *mu, ae_tensor *logvar, ae_reduction r);

/* Σ_j KL(rho || rho_hat_j) with rho_hat_j the mean over the batch (the
 * first dimension) of h[:, j]; h holds activations in [0, 1] and has at
 * least two dimensions, units are all dimensions after the first.  rho_hat
 * is clamped to [1e-6, 1 - 1e-6] inside the logs (zero gradient outside).
 * Reduction SUM adds the units' terms, MEAN averages them, NONE returns one
 * per unit (shape of h without its first dimension). */
ae_tensor *ae_kl_sparsity(ae_tensor *h, double rho, ae_reduction r);

#endif
