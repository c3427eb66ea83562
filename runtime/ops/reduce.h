/* reduce.h: sums and means over the whole tensor or one dimension. */
#ifndef AE_OPS_REDUCE_H
#define AE_OPS_REDUCE_H

#include "core/tensor.h"

ae_tensor *ae_sum(ae_tensor *a);
ae_tensor *ae_mean(ae_tensor *a);
ae_tensor *ae_sum_dim(ae_tensor *a, int dim, int keepdim);
ae_tensor *ae_mean_dim(ae_tensor *a, int dim, int keepdim);

#endif
