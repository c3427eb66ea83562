/* penalty.h: the sparse autoencoder's L1 penalty and the contractive
 * autoencoder's Jacobian penalty, each one fused op with its backward. */
#ifndef AE_OPS_PENALTY_H
#define AE_OPS_PENALTY_H

#include "core/tensor.h"

/* (1/N)·Σ_i Σ_j |z_ij|: the sum of absolute values per sample, averaged
 * over the batch (the first dimension, N); a 0-D or 1-D z is one sample.
 * The gradient at 0 is 0 (sign(0) = 0, as PyTorch). */
ae_tensor *ae_l1_penalty(ae_tensor *z);

/* ‖∂h/∂x‖²_F for h = sigmoid(x Wᵀ + b), averaged over the batch:
 * (1/N)·Σ_i Σ_j (h_ij(1 - h_ij))²·Σ_k W_jk², with h N×H and W H×D
 * (PyTorch's Linear orientation).  Differentiable in h and W. */
ae_tensor *ae_contractive_penalty(ae_tensor *h, ae_tensor *w);

#endif
