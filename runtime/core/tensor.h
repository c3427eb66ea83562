/* tensor.h: float32 tensors.
 * A tensor is a view (shape, strides, offset) on a refcounted storage, the
 * split Torch7 made between THStorage and THTensor: reshape, transpose and
 * narrow share the storage and copy nothing.  Dimensions are 0-based here;
 * the Lua binding presents them 1-based. */
#ifndef AE_TENSOR_H
#define AE_TENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AE_MAX_DIMS 8

typedef struct ae_storage {
    float *data;
    size_t size; /* elements */
    int refs;
} ae_storage;

struct ae_node;

typedef struct ae_tensor {
    int refs;
    int ndim;
    int64_t shape[AE_MAX_DIMS];
    int64_t stride[AE_MAX_DIMS];
    int64_t offset;
    ae_storage *storage;
    bool requires_grad;      /* a leaf that collects .grad, or a graph result */
    struct ae_tensor *grad;  /* leaves only, like PyTorch */
    struct ae_node *grad_fn; /* the op that made it, when recorded */
} ae_tensor;

/* creation: every constructor returns a tensor with one reference, or NULL */
ae_tensor *ae_empty(int ndim, const int64_t *shape);
ae_tensor *ae_empty_like(const ae_tensor *t);
ae_tensor *ae_zeros(int ndim, const int64_t *shape);
ae_tensor *ae_full(int ndim, const int64_t *shape, float value);
ae_tensor *ae_scalar(float value);
ae_tensor *ae_arange(double start, double stop, double step);
ae_tensor *ae_rand(int ndim, const int64_t *shape);
ae_tensor *ae_randn(int ndim, const int64_t *shape);

ae_tensor *ae_retain(ae_tensor *t);
void ae_release(ae_tensor *t);

/* queries */
int64_t ae_numel(const ae_tensor *t);
bool ae_is_contiguous(const ae_tensor *t);
bool ae_same_shape(const ae_tensor *a, const ae_tensor *b);
static inline float *ae_data(const ae_tensor *t) { return t->storage->data + t->offset; }
/* "128×784"; buf must hold AE_SHAPE_STR bytes */
#define AE_SHAPE_STR 96
/* 0 when a and b have the same shape, else -1 with an error naming the op,
 * both arguments and their shapes */
int ae_check_same_shape(const char *op, const char *name_a, const ae_tensor *a, const char *name_b, const ae_tensor *b);
const char *ae_shape_str(const ae_tensor *t, char *buf);
const char *ae_dims_str(int ndim, const int64_t *shape, char *buf);
/* checks a requested shape (sizes >= 0, count fits in memory), returns numel or -1 */
int64_t ae_check_shape(const char *op, int ndim, const int64_t *shape);

/* raw views, no autograd (the differentiable versions are in ops.h) */
/* a new header on the same storage, shape and strides, with no autograd */
ae_tensor *ae_alias(ae_tensor *t);
ae_tensor *ae_view_reshape(ae_tensor *t, int ndim, const int64_t *shape);
ae_tensor *ae_view_transpose(ae_tensor *t, int d0, int d1);
ae_tensor *ae_view_narrow(ae_tensor *t, int dim, int64_t start, int64_t len);

/* a contiguous tensor with t's values: t itself (retained) when possible */
ae_tensor *ae_contiguous(ae_tensor *t);
/* a fresh contiguous copy (values only, no autograd) */
ae_tensor *ae_clone_data(ae_tensor *t);
/* dst <- src values, shapes must have equal numel */
int ae_copy_into(ae_tensor *dst, ae_tensor *src);
int ae_fill(ae_tensor *t, float v);

#endif
