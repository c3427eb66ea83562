/* compare.h: 1.0 where `a op v` holds, 0.0 elsewhere; no gradient. */
#ifndef AE_OPS_COMPARE_H
#define AE_OPS_COMPARE_H

#include "core/tensor.h"

typedef enum { AE_LT, AE_LE, AE_GT, AE_GE, AE_EQ, AE_NE } ae_cmp;

ae_tensor *ae_compare(ae_tensor *a, ae_cmp op, float v);

#endif
