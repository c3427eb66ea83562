/* conv.h: 2-D convolution layers on N×C×H×W float tensors, and 1-D ones
 * on N×C×L.  Weights are in PyTorch's orientation so that checkpoints
 * carry over: conv2d (out, in, kh, kw), conv_transpose2d (in, out, kh, kw),
 * conv1d (out, in, k), conv_transpose1d (in, out, k).  Each op returns a
 * new tensor (one reference) or NULL with ae_error() set naming the op and
 * the shapes, and records its backward when an input requires grad (its
 * gradients in the inputs' own shapes).  The 2-D ops' sizes come as
 * (h, w) pairs. */
#ifndef AE_OPS_CONV_H
#define AE_OPS_CONV_H

#include "core/tensor.h"

#include <stdbool.h>

/* y = x ⋆ w + b, output (H + 2·pad - k) / stride + 1 per side;
 * b may be NULL; relu: y = max(x ⋆ w + b, 0), recorded as one op
 * (conv2d_relu) with the numbers of the two */
ae_tensor *ae_conv2d(ae_tensor *x, ae_tensor *w, ae_tensor *b, int64_t stride_h, int64_t stride_w, int64_t pad_h,
                     int64_t pad_w, bool relu);

/* the adjoint of conv2d (its input gradient), output
 * (H - 1)·stride - 2·pad + k + output_pad per side, output_pad < stride;
 * b may be NULL; relu as for conv2d (conv_transpose2d_relu) */
ae_tensor *ae_conv_transpose2d(ae_tensor *x, ae_tensor *w, ae_tensor *b, int64_t stride_h, int64_t stride_w,
                               int64_t pad_h, int64_t pad_w, int64_t out_pad_h, int64_t out_pad_w, bool relu);

/* conv2d over N×C×L with an out×in×k weight (the 2-D op at height 1, the
 * same code and data): output (L + 2·pad - k) / stride + 1 long; b may be
 * NULL; relu as for conv2d (conv1d_relu) */
ae_tensor *ae_conv1d(ae_tensor *x, ae_tensor *w, ae_tensor *b, int64_t stride, int64_t pad, bool relu);

/* conv_transpose2d over N×C×L with an in×out×k weight: output
 * (L - 1)·stride - 2·pad + k + output_pad long, output_pad < stride;
 * b may be NULL; relu as for conv2d (conv_transpose1d_relu) */
ae_tensor *ae_conv_transpose1d(ae_tensor *x, ae_tensor *w, ae_tensor *b, int64_t stride, int64_t pad, int64_t out_pad,
                               bool relu);

#endif
