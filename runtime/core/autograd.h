/* autograd.h: define-by-run reverse mode, as in PyTorch.
 * An op that has an input requiring grad records a node: its backward
 * function, its inputs and what it saved.  ae_backward walks the nodes in
 * reverse topological order; each backward adds into the gradient buffers
 * handed out by ae_grad_of, which are the .grad of leaves or a per-node
 * buffer for intermediates.  After the walk, every node of the graph drops
 * its inputs, saved tensors and buffers, so memory returns at once rather
 * than when Lua's collector gets round to it. */
#ifndef AE_AUTOGRAD_H
#define AE_AUTOGRAD_H

#include "tensor.h"

#include <stddef.h>

#define AE_NODE_INPUTS 4
#define AE_NODE_SAVED 4

typedef struct ae_node ae_node;
typedef void (*ae_backward_fn)(ae_node *n);

struct ae_node {
    int refs;
    const char *op;
    ae_backward_fn backward;
    int ninputs;
    ae_tensor *inputs[AE_NODE_INPUTS];
    ae_tensor *saved[AE_NODE_SAVED];
    int out_ndim;
    int64_t out_shape[AE_MAX_DIMS];
    ae_tensor *gout; /* gradient of the output, built during backward */
    unsigned visit;
    bool freed;
    bool bf16; /* recorded under bf16 precision: its backward's products are bf16 too (gemm.h) */
    /* the op's parameters (reduction, geometry, slope…) as a struct of the
     * op's own, allocated with the node and read back by ae_node_state */
    max_align_t state[];
};

bool ae_grad_enabled(void);
void ae_set_grad_enabled(bool on);

/* true when an op on these inputs must be recorded */
bool ae_any_requires_grad(int n, ae_tensor *const *inputs);

/* Records out as made by op from inputs when any of them requires grad:
 * a node with the op's backward, its inputs, a copy of its state (the
 * state_size bytes at state, which may be NULL and 0) and an alias of each
 * of saved[0 .. nsaved) for backward to read (saved[i] lands in slot i; a
 * NULL entry leaves its slot empty); at most AE_NODE_INPUTS inputs and
 * AE_NODE_SAVED saved.  Returns out, recorded or not; or NULL with out
 * released and the error set when the node could not be made. */
ae_tensor *ae_record(ae_tensor *out, const char *op, ae_backward_fn fn, int ninputs, ae_tensor *const *inputs,
                     int nsaved, ae_tensor *const *saved, const void *state, size_t state_size);
/* the state ae_record copied, as the op's own struct: const my_state *s =
 * ae_node_state(n) */
static inline const void *ae_node_state(const ae_node *n) { return n->state; }

/* The buffer that gradients for input i accumulate into, zero-filled at
 * first use, contiguous with the input's shape; NULL when input i needs no
 * gradient.  Allocation failure is reported by ae_backward. */
float *ae_grad_of(ae_node *n, int i);
/* The same buffer without the zero-fill: *fresh is true when nothing has
 * been written into it yet, and the caller must then store every element
 * (GEMM with beta = 0, g[i] = ... rather than +=) instead of adding. */
float *ae_grad_slot(ae_node *n, int i, bool *fresh);
/* the gradient flowing into n from its output (contiguous, output's shape) */
static inline const float *ae_gout(ae_node *n) { return ae_data(n->gout); }

/* root must be a scalar unless grad (same shape as root) is given */
int ae_backward(ae_tensor *root, ae_tensor *grad);

void ae_node_release(ae_node *n);

#endif
