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
/* squeeze: drops dimension dim when its size is 1 (a no-op view otherwise,
 * as torch.squeeze(x, dim)); dim = AE_SQUEEZE_ALL drops every size-1 dim */
#define AE_SQUEEZE_ALL (-1000)
ae_tensor *ae_squeeze(ae_tensor *a, int dim);
/* unsqueeze: a size-1 dimension inserted at dim, 0 <= dim <= ndim */
ae_tensor *ae_unsqueeze(ae_tensor *a, int dim);
/* permute: output dimension i is input dimension perm[i] (a view) */
ae_tensor *ae_permute(ae_tensor *a, int n, const int *perm);
/* flip: a copy with the order of the elements reversed along each of dims */
ae_tensor *ae_flip(ae_tensor *a, int n, const int *dims);
/* stack: tensors of one shape joined along a new dimension dim (0..ndim) */
ae_tensor *ae_stack(int count, ae_tensor *const *ts, int dim);
/* index_select: a copy of the slices idx[0..n) (0-based) of dimension dim;
 * the gradient is scatter-added, repeated indices accumulate */
ae_tensor *ae_index_select(ae_tensor *a, int dim, int64_t n, const int64_t *idx);
/* gather: torch.gather.  The output has the shape of index, a tensor of
 * whole numbers: positions along dim counted from first (1 for Lua's
 * 1-based positions, 0 for C's), and out[i_1..i_n] = a[i_1..index[i_1..i_n]
 * ..i_n] (the position in dim replaced).  index and a have the same number
 * of dimensions, and index is no larger than a in any dimension but dim.
 * The gradient is scatter-added: repeated positions accumulate. */
ae_tensor *ae_gather(ae_tensor *a, int dim, ae_tensor *index, int first);
/* masked_fill: a copy of a with value wherever mask is 1.  mask holds only
 * 0 and 1 (as ae_compare gives); a and mask broadcast together, as in
 * torch.masked_fill.  No gradient flows through the filled elements. */
ae_tensor *ae_masked_fill(ae_tensor *a, ae_tensor *mask, float value);
/* masked_select: the elements of a (broadcast with mask) where mask is 1,
 * as a 1-D tensor in row-major order; the gradient is scattered back */
ae_tensor *ae_masked_select(ae_tensor *a, ae_tensor *mask);
/* select: the slice i (0-based, negative from the end) of dim, dim removed */
ae_tensor *ae_select(ae_tensor *a, int dim, int64_t i);
/* resolves a possibly negative dimension against ndim; -1 when out of range */
int ae_dim_index(int dim, int ndim);

#endif
