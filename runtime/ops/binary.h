/* binary.h: add, sub, mul and div with numpy-style broadcasting. */
#ifndef AE_OPS_BINARY_H
#define AE_OPS_BINARY_H

#include "core/tensor.h"

typedef enum { AE_ADD, AE_SUB, AE_MUL, AE_DIV } ae_binop;

ae_tensor *ae_binary(ae_binop op, ae_tensor *a, ae_tensor *b);
ae_tensor *ae_add(ae_tensor *a, ae_tensor *b);
ae_tensor *ae_sub(ae_tensor *a, ae_tensor *b);
ae_tensor *ae_mul(ae_tensor *a, ae_tensor *b);
ae_tensor *ae_div(ae_tensor *a, ae_tensor *b);

#endif
