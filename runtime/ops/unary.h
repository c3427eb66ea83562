/* unary.h: elementwise functions of one tensor, activations among them. */
#ifndef AE_OPS_UNARY_H
#define AE_OPS_UNARY_H

#include "core/tensor.h"

typedef enum {
    AE_NEG,
    AE_EXP,
    AE_LOG,
    AE_ABS,
    AE_SQRT,
    AE_POW,
    AE_CLAMP,
    AE_RELU,
    AE_SIGMOID,
    AE_TANH,
    AE_LEAKY_RELU,
    AE_ELU,
    AE_SOFTPLUS,
    AE_ADD_SCALAR,
    AE_MUL_SCALAR,
    AE_RSUB_SCALAR,
    AE_RDIV_SCALAR,
    AE_UNARY_COUNT
} ae_unop;

/* p and q are the op's parameters: exponent, (lo, hi), slope, alpha, the scalar */
ae_tensor *ae_unary(ae_unop op, ae_tensor *a, double p, double q);
const char *ae_unary_name(ae_unop op);

#endif
