/* ops_norm.h: batch normalisation and dropout, the two layers whose
 * behaviour depends on training versus evaluation.  Both follow ops.h's
 * conventions: a new tensor (one reference) or NULL with ae_error() set,
 * and a backward recorded when an input requires grad. */
#ifndef AE_OPS_NORM_H
#define AE_OPS_NORM_H

#include <stdbool.h>

#include "tensor.h"

/* ops_norm.c: x is N×C, N×C×L or N×C×H×W; statistics are per channel
 * (dimension 1) over every other dimension.  weight and bias (C) may be
 * NULL (an affine map of 1 and 0); running_mean and running_var (C) are
 * either both given or both NULL.
 *
 * Training (or no running statistics): normalise by the batch mean and the
 * biased batch variance, and when running statistics are given update them
 * in place, PyTorch's rule r = (1 - momentum)·r + momentum·batch with the
 * unbiased variance.  Evaluation: normalise by the running statistics,
 * which are read, never written. */
ae_tensor *ae_batch_norm(ae_tensor *x, ae_tensor *weight, ae_tensor *bias, ae_tensor *running_mean,
                         ae_tensor *running_var, bool training, double momentum, double eps);

/* ops_dropout.c: in training, each element is zeroed with probability p
 * (drawn from the runtime RNG) and the others are scaled by 1/(1 - p);
 * p = 1 zeroes everything.  Out of training, or with p = 0, the result is
 * x itself (one more reference), as PyTorch returns its input. */
ae_tensor *ae_dropout(ae_tensor *x, double p, bool training);

#endif
