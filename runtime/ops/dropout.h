/* dropout.h: dropout, active in training only. */
#ifndef AE_OPS_DROPOUT_H
#define AE_OPS_DROPOUT_H

#include <stdbool.h>

#include "core/tensor.h"

/* in training, each element is zeroed with probability p
 * (drawn from the runtime RNG) and the others are scaled by 1/(1 - p);
 * p = 1 zeroes everything.  Out of training, or with p = 0, the result is
 * x itself (one more reference), as PyTorch returns its input. */
ae_tensor *ae_dropout(ae_tensor *x, double p, bool training);

#endif
