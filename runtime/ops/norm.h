/* norm.h: batch normalisation, whose behaviour depends on training versus
 * evaluation: a new tensor (one reference) or NULL with ae_error() set. */
#ifndef AE_OPS_NORM_H
#define AE_OPS_NORM_H

#include <stdbool.h>

#include "core/tensor.h"

/* x is N×C, N×C×L or N×C×H×W; statistics are per channel
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

#endif
