/* noise.h: corrupted copies of inputs for denoising autoencoders.  They
 * draw from the runtime RNG and return a new contiguous tensor that never
 * records a graph and never requires grad: noise is applied to data, and
 * the corruption is not something to differentiate through. */
#ifndef AE_OPS_NOISE_H
#define AE_OPS_NOISE_H

#include <stdbool.h>

#include "core/tensor.h"

/* x + std·N(0, 1), clipped to [0, 1] when clip (images); std >= 0 */
ae_tensor *ae_noise_gaussian(ae_tensor *x, double std, bool clip);
/* each element set to 0 with probability p (0 <= p <= 1) */
ae_tensor *ae_noise_masking(ae_tensor *x, double p);
/* each element, with probability p, set to 0 or to 1 with equal chance */
ae_tensor *ae_noise_salt_pepper(ae_tensor *x, double p);

#endif
