/* matmul.h: matrix products through the GEMM (core/gemm.h); transposed
 * views become the GEMM's transpose flags rather than copies. */
#ifndef AE_OPS_MATMUL_H
#define AE_OPS_MATMUL_H

#include "core/tensor.h"

ae_tensor *ae_matmul(ae_tensor *a, ae_tensor *b);
/* y = x Wᵀ + b with W as (out, in), PyTorch's orientation; b may be NULL */
ae_tensor *ae_linear(ae_tensor *x, ae_tensor *w, ae_tensor *b);

#endif
