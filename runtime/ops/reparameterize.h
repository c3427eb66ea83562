/* reparameterize.h: the VAE's sampling step z = mu + exp(logvar/2)·eps,
 * differentiable in mu and logvar.  logvar is clamped as in kl.h. */
#ifndef AE_OPS_REPARAMETERIZE_H
#define AE_OPS_REPARAMETERIZE_H

#include "core/tensor.h"

/* mu + exp(logvar/2)·eps.  eps has mu's shape, or is NULL to draw it from
 * the runtime RNG (ae_rng_normal).  Differentiable in mu, logvar and (when
 * it requires grad) a given eps. */
ae_tensor *ae_reparameterize(ae_tensor *mu, ae_tensor *logvar, ae_tensor *eps);

#endif
