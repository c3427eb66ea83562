/* shape.h: views that keep the graph.  Like every op, each returns a new
 * tensor (one reference) or NULL with ae_error() set, and records its
 * backward when an input requires grad.  Dimensions are 0-based; a
 * negative dimension counts from the end. */
#ifndef AE_OPS_SHAPE_H
#define AE_OPS_SHAPE_H

#include "core/tensor.h"

ae_tensor *ae_reshape(ae_tensor *a, int ndim, const int64_t *shape);
ae_tensor *ae_transpose(ae_tensor *a, int d0, int d1);
ae_tensor *ae_narrow(ae_tensor *a, int dim, int64_t start, int64_t len);
ae_tensor *ae_detach(ae_tensor *a);
/* joins tensors that agree in every dimension but dim */
ae_tensor *ae_cat(int count, ae_tensor *const *ts, int dim);
/* resolves a possibly negative dimension against ndim; -1 when out of range */
int ae_dim_index(int dim, int ndim);

#endif
