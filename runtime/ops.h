/* ops.h: differentiable operations on tensors.
 * Each returns a new tensor (one reference) or NULL with ae_error() set, and
 * records its backward when an input requires grad.  Dimensions are 0-based;
 * a negative dimension counts from the end. */
#ifndef AE_OPS_H
#define AE_OPS_H

#include "tensor.h"

/* ops_shape.c: views that keep the graph */
ae_tensor *ae_reshape(ae_tensor *a, int ndim, const int64_t *shape);
ae_tensor *ae_transpose(ae_tensor *a, int d0, int d1);
ae_tensor *ae_narrow(ae_tensor *a, int dim, int64_t start, int64_t len);
ae_tensor *ae_detach(ae_tensor *a);
/* joins tensors that agree in every dimension but dim */
ae_tensor *ae_cat(int count, ae_tensor *const *ts, int dim);
/* resolves a possibly negative dimension against ndim; -1 when out of range */
int ae_dim_index(int dim, int ndim);

/* ops_binary.c: numpy-style broadcasting */
typedef enum { AE_ADD, AE_SUB, AE_MUL, AE_DIV } ae_binop;
ae_tensor *ae_binary(ae_binop op, ae_tensor *a, ae_tensor *b);
ae_tensor *ae_add(ae_tensor *a, ae_tensor *b);
ae_tensor *ae_sub(ae_tensor *a, ae_tensor *b);
ae_tensor *ae_mul(ae_tensor *a, ae_tensor *b);
ae_tensor *ae_div(ae_tensor *a, ae_tensor *b);

/* ops_unary.c: elementwise functions of one tensor */
typedef enum {
    AE_NEG, AE_EXP, AE_LOG, AE_ABS, AE_SQRT, AE_POW, AE_CLAMP,
    AE_RELU, AE_SIGMOID, AE_TANH, AE_LEAKY_RELU, AE_ELU, AE_SOFTPLUS,
    AE_ADD_SCALAR, AE_MUL_SCALAR, AE_RSUB_SCALAR, AE_RDIV_SCALAR,
    AE_UNARY_COUNT
} ae_unop;
/* p and q are the op's parameters: exponent, (lo, hi), slope, alpha, the scalar */
ae_tensor *ae_unary(ae_unop op, ae_tensor *a, double p, double q);
const char *ae_unary_name(ae_unop op);

/* ops_compare.c: 1.0 where `a op v` holds, 0.0 elsewhere; no gradient */
typedef enum { AE_LT, AE_LE, AE_GT, AE_GE, AE_EQ, AE_NE } ae_cmp;
ae_tensor *ae_compare(ae_tensor *a, ae_cmp op, float v);

/* ops_reduce.c */
ae_tensor *ae_sum(ae_tensor *a);
ae_tensor *ae_mean(ae_tensor *a);
ae_tensor *ae_sum_dim(ae_tensor *a, int dim, int keepdim);
ae_tensor *ae_mean_dim(ae_tensor *a, int dim, int keepdim);

/* ops_matmul.c: through cblas_sgemm; transposed views become BLAS flags */
ae_tensor *ae_matmul(ae_tensor *a, ae_tensor *b);
/* y = x Wᵀ + b with W as (out, in), PyTorch's orientation; b may be NULL */
ae_tensor *ae_linear(ae_tensor *x, ae_tensor *w, ae_tensor *b);

/* ops_loss.c: reduction "mean", "sum" or "none" */
typedef enum { AE_REDUCE_MEAN, AE_REDUCE_SUM, AE_REDUCE_NONE } ae_reduction;
ae_tensor *ae_mse_loss(ae_tensor *input, ae_tensor *target, ae_reduction r);
ae_tensor *ae_bce_loss(ae_tensor *p, ae_tensor *target, ae_reduction r);
ae_tensor *ae_bce_logits_loss(ae_tensor *logits, ae_tensor *target, ae_reduction r);

#endif
