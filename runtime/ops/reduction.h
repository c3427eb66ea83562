/* reduction.h: how an op that computes one value per element or per sample
 * folds them (losses, KL terms, cross-entropy), as PyTorch's reduction=. */
#ifndef AE_OPS_REDUCTION_H
#define AE_OPS_REDUCTION_H

typedef enum { AE_REDUCE_MEAN, AE_REDUCE_SUM, AE_REDUCE_NONE } ae_reduction;

#endif
