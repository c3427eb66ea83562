/* reduce.h: sums, means, max/min (with their positions), argmax/argmin,
 * var and std over the whole tensor or one dimension.  Dimensions are
 * 0-based (negative from the end); results are new tensors (one reference)
 * or NULL (-1 for the int functions) with ae_error() set. */
#ifndef AE_OPS_REDUCE_H
#define AE_OPS_REDUCE_H

#include "core/tensor.h"

ae_tensor *ae_sum(ae_tensor *a);
ae_tensor *ae_mean(ae_tensor *a);
ae_tensor *ae_sum_dim(ae_tensor *a, int dim, int keepdim);
ae_tensor *ae_mean_dim(ae_tensor *a, int dim, int keepdim);

/* torch.max(x, dim) / torch.min(x, dim): the values (differentiable: the
 * gradient goes to the selected element) and their positions along dim
 * (0-based, as floats, never recorded); the first on ties, the first NaN
 * when the slice holds one (NaN counts as largest and as smallest) */
int ae_max_dim(ae_tensor *x, int dim, int keepdim, ae_tensor **values, ae_tensor **indices);
int ae_min_dim(ae_tensor *x, int dim, int keepdim, ae_tensor **values, ae_tensor **indices);

/* the positions alone (0-based, as floats; never recorded), as
 * torch.argmax(x, dim, keepdim); the _all forms give the flat position in
 * the whole tensor (a 0-D tensor), as torch.argmax(x) */
ae_tensor *ae_argmax(ae_tensor *x, int dim, int keepdim);
ae_tensor *ae_argmin(ae_tensor *x, int dim, int keepdim);
ae_tensor *ae_argmax_all(ae_tensor *x);
ae_tensor *ae_argmin_all(ae_tensor *x);

/* Σ(x - mean)² / (N - correction) over everything or along dim, and its
 * square root, as torch.var/std (correction 1 is torch's default,
 * unbiased; 0 the population variance); N - correction <= 0 gives NaN or
 * inf as in torch.  Two passes in double.  Differentiable. */
ae_tensor *ae_var(ae_tensor *a, int64_t correction);
ae_tensor *ae_std(ae_tensor *a, int64_t correction);
ae_tensor *ae_var_dim(ae_tensor *a, int dim, int keepdim, int64_t correction);
ae_tensor *ae_std_dim(ae_tensor *a, int dim, int keepdim, int64_t correction);

#endif
