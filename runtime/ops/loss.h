/* loss.h: reconstruction losses, each one fused op with its backward. */
#ifndef AE_OPS_LOSS_H
#define AE_OPS_LOSS_H

#include "core/tensor.h"
#include "reduction.h"

ae_tensor *ae_mse_loss(ae_tensor *input, ae_tensor *target, ae_reduction r);
ae_tensor *ae_bce_loss(ae_tensor *p, ae_tensor *target, ae_reduction r);
ae_tensor *ae_bce_logits_loss(ae_tensor *logits, ae_tensor *target, ae_reduction r);

#endif
