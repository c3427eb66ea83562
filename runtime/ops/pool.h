/* pool.h: max pooling and nearest-neighbour upsampling on N×C×H×W
 * tensors, forward and backward side by side in pool.c. */
#ifndef AE_OPS_POOL_H
#define AE_OPS_POOL_H

#include "core/tensor.h"

/* max over k_h×k_w windows, padding counts as -inf, output
 * (H + 2·pad - k) / stride + 1 (floor); the gradient goes to each window's
 * first maximum, as in PyTorch */
ae_tensor *ae_max_pool2d(ae_tensor *x, int64_t k_h, int64_t k_w, int64_t stride_h, int64_t stride_w, int64_t pad_h,
                         int64_t pad_w);

/* each pixel repeated into a scale_h×scale_w block */
ae_tensor *ae_upsample_nearest2d(ae_tensor *x, int64_t scale_h, int64_t scale_w);

#endif
