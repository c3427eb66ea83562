/* ops_ae.h: the terms that make an autoencoder variational, sparse,
 * contractive or denoising: KL divergences and the reparameterization
 * (ops_kl.c), the L1 and contractive penalties (ops_penalty.c), and input
 * noise (noise.c).  Like ops.h, each returns a new tensor (one reference)
 * or NULL with ae_error() set; the differentiable ones record one fused
 * node whose forward and backward sit side by side in their file. */
#ifndef AE_OPS_AE_H
#define AE_OPS_AE_H

#include <stdbool.h>

#include "ops.h"
#include "tensor.h"

/* The range logvar is clamped to inside kl_normal and reparameterize:
 * exp(20) ≈ 4.9e8 and exp(-30) ≈ 9.4e-14 are both comfortably finite in
 * float32 (the sum over a batch of e^20 terms too), so a diverging encoder
 * gives a large finite loss instead of inf/NaN.  As with clamp, the gradient
 * with respect to logvar is zero outside the range (the ends included in
 * the range, as PyTorch's clamp does). */
#define AE_LOGVAR_MIN (-30.0f)
#define AE_LOGVAR_MAX 20.0f

/* ops_kl.c */

/* KL(N(mu, e^logvar) || N(0, I)) = -0.5·Σ_j (1 + logvar - mu² - e^logvar),
 * summed over the last dimension (the latent units).  mu and logvar have
 * the same shape (…, D).  Reduction NONE gives one value per sample (the
 * leading dimensions), SUM the total over the batch (PyTorch's VAE example),
 * MEAN the batch mean of the per-sample sums. */
ae_tensor *ae_kl_normal(ae_tensor *mu, ae_tensor *logvar, ae_reduction r);

/* mu + exp(logvar/2)·eps.  eps has mu's shape, or is NULL to draw it from
 * the runtime RNG (ae_rng_normal).  Differentiable in mu, logvar and (when
 * it requires grad) a given eps. */
ae_tensor *ae_reparameterize(ae_tensor *mu, ae_tensor *logvar, ae_tensor *eps);

/* Σ_j KL(rho || rho_hat_j) with rho_hat_j the mean over the batch (the
 * first dimension) of h[:, j]; h holds activations in [0, 1] and has at
 * least two dimensions, units are all dimensions after the first.  rho_hat
 * is clamped to [1e-6, 1 - 1e-6] inside the logs (zero gradient outside).
 * Reduction SUM adds the units' terms, MEAN averages them, NONE returns one
 * per unit (shape of h without its first dimension). */
ae_tensor *ae_kl_sparsity(ae_tensor *h, double rho, ae_reduction r);

/* ops_penalty.c */

/* (1/N)·Σ_i Σ_j |z_ij|: the sum of absolute values per sample, averaged
 * over the batch (the first dimension, N); a 0-D or 1-D z is one sample.
 * The gradient at 0 is 0 (sign(0) = 0, as PyTorch). */
ae_tensor *ae_l1_penalty(ae_tensor *z);

/* ‖∂h/∂x‖²_F for h = sigmoid(x Wᵀ + b), averaged over the batch:
 * (1/N)·Σ_i Σ_j (h_ij(1 - h_ij))²·Σ_k W_jk², with h N×H and W H×D
 * (PyTorch's Linear orientation).  Differentiable in h and W. */
ae_tensor *ae_contractive_penalty(ae_tensor *h, ae_tensor *w);

/* noise.c: corrupted copies of inputs for denoising autoencoders.  They
 * draw from the runtime RNG and return a new contiguous tensor that never
 * records a graph and never requires grad: noise is applied to data, and
 * the corruption is not something to differentiate through. */

/* x + std·N(0, 1), clipped to [0, 1] when clip (images); std >= 0 */
ae_tensor *ae_noise_gaussian(ae_tensor *x, double std, bool clip);
/* each element set to 0 with probability p (0 <= p <= 1) */
ae_tensor *ae_noise_masking(ae_tensor *x, double p);
/* each element, with probability p, set to 0 or to 1 with equal chance */
ae_tensor *ae_noise_salt_pepper(ae_tensor *x, double p);

#endif
