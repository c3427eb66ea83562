/* autograd.c: see autograd.h */
#include "autograd.h"
#include "anomaly.h"
#include "error.h"
#include "gemm.h"
#include "profile.h"

#include <stdlib.h>
#include <string.h>

static bool grad_on = true;
static bool alloc_failed;
static unsigned visit_epoch;

bool ae_grad_enabled(void) { return grad_on; }
void ae_set_grad_enabled(bool on) { grad_on = on; }

bool ae_any_requires_grad(int n, ae_tensor *const *inputs)
{
    if (!grad_on) return false;
    for (int i = 0; i < n; i++)
        if (inputs[i] && inputs[i]->requires_grad) return true;
    return false;
}

/* keeps t's values for backward without keeping t (which would form a
 * cycle when t is the node's own output): a fresh header on the same
 * storage, with no grad_fn */
static int save(ae_node *n, int slot, ae_tensor *t)
{
    if (!t) return 0;
    n->saved[slot] = ae_alias(t);
    return n->saved[slot] ? 0 : -1;
}

ae_tensor *ae_record(ae_tensor *out, const char *op, ae_backward_fn fn, int ninputs, ae_tensor *const *inputs,
                     int nsaved, ae_tensor *const *saved, const void *state, size_t state_size)
{
    if (!ae_any_requires_grad(ninputs, inputs)) return out;
    /* the state lives in the node's tail: one allocation per node */
    ae_node *n = calloc(1, sizeof *n + state_size);
    if (!n) {
        ae_release(out);
        return ae_fail("%s: out of memory recording the graph", op);
    }
    n->refs = 1;
    n->op = op;
    n->backward = fn;
    n->bf16 = ae_gemm_bf16();
    n->ninputs = ninputs;
    for (int i = 0; i < ninputs; i++) n->inputs[i] = ae_retain(inputs[i]);
    if (state_size) memcpy(n->state, state, state_size);
    int rc = 0;
    for (int i = 0; i < nsaved; i++) rc |= save(n, i, saved[i]);
    if (rc != 0) {
        ae_node_release(n);
        ae_release(out);
        return NULL;
    }
    n->out_ndim = out->ndim;
    memcpy(n->out_shape, out->shape, sizeof n->out_shape);
    ae_node_release(out->grad_fn);
    out->grad_fn = n;
    out->requires_grad = true;
    return out;
}

static void free_graph_refs(ae_node *n)
{
    for (int i = 0; i < AE_NODE_INPUTS; i++) {
        ae_release(n->inputs[i]);
        n->inputs[i] = NULL;
    }
    for (int i = 0; i < AE_NODE_SAVED; i++) {
        ae_release(n->saved[i]);
        n->saved[i] = NULL;
    }
    ae_release(n->gout);
    n->gout = NULL;
    n->freed = true;
}

void ae_node_release(ae_node *n)
{
    if (!n || --n->refs > 0) return;
    free_graph_refs(n);
    free(n);
}

static ae_tensor *empty_shaped(int ndim, const int64_t *shape)
{
    ae_tensor *g = ae_empty(ndim, shape);
    if (!g) alloc_failed = true;
    return g;
}

float *ae_grad_slot(ae_node *n, int i, bool *fresh)
{
    ae_tensor *in = n->inputs[i], **slot;
    int ndim;
    const int64_t *shape;
    *fresh = false;
    if (!in || !in->requires_grad) return NULL;
    if (in->grad_fn) {
        ae_node *m = in->grad_fn;
        if (m->freed) return NULL;
        slot = &m->gout;
        ndim = m->out_ndim;
        shape = m->out_shape;
    } else {
        slot = &in->grad;
        ndim = in->ndim;
        shape = in->shape;
    }
    if (!*slot) {
        /* uninitialised: the first writer stores instead of adding, which
         * saves a zero-fill and a read of every element */
        *slot = empty_shaped(ndim, shape);
        *fresh = *slot != NULL;
    }
    return *slot ? ae_data(*slot) : NULL;
}

float *ae_grad_of(ae_node *n, int i)
{
    bool fresh;
    float *g = ae_grad_slot(n, i, &fresh);
    if (fresh) {
        ae_tensor *in = n->inputs[i];
        ae_tensor *t = in->grad_fn ? in->grad_fn->gout : in->grad;
        memset(g, 0, (size_t)ae_numel(t) * sizeof(float));
    }
    return g;
}

/* reverse topological order by an iterative depth-first search */
typedef struct {
    ae_node **v;
    size_t n, cap;
} nodelist;

static int push(nodelist *l, ae_node *x)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        ae_node **v = realloc(l->v, cap * sizeof *v);
        if (!v) return ae_failc("backward: out of memory");
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = x;
    return 0;
}

static int topo_order(ae_node *root, nodelist *order)
{
    nodelist stack = {0};
    unsigned mark = ++visit_epoch;
    int rc = push(&stack, root);
    /* recursive DFS made iterative: a node is marked when expanded and is
     * re-pushed under a sentinel (NULL) so it lands in order after all of
     * its inputs; duplicates on the stack are skipped once marked */
    while (rc == 0 && stack.n) {
        ae_node *x = stack.v[--stack.n];
        if (!x) {
            rc = push(order, stack.v[--stack.n]);
            continue;
        }
        if (x->visit == mark) continue;
        x->visit = mark;
        rc = push(&stack, x);
        if (rc == 0) rc = push(&stack, NULL);
        for (int i = 0; rc == 0 && i < x->ninputs; i++) {
            ae_tensor *in = x->inputs[i];
            ae_node *m = in ? in->grad_fn : NULL;
            if (m && !m->freed && m->visit != mark) rc = push(&stack, m);
        }
    }
    free(stack.v);
    return rc;
}

/* with anomaly detection on, after x's backward: the gradients it has just
 * added into, for each input.  A sum stays non-finite once a term is, so
 * the first backward to produce a NaN or an infinity is the one named. */
static void check_gradients(ae_node *x)
{
    for (int i = 0; i < x->ninputs; i++) {
        ae_tensor *in = x->inputs[i];
        if (!in || !in->requires_grad) continue;
        ae_tensor *g = in->grad_fn ? in->grad_fn->gout : in->grad;
        if (g) ae_anomaly_check(g, "gradient", x->op);
    }
}

int ae_backward(ae_tensor *root, ae_tensor *grad)
{
    char a[AE_SHAPE_STR], b[AE_SHAPE_STR];
    if (!root->requires_grad) return ae_failc("backward: the tensor does not require grad and has no grad_fn");
    if (grad && !ae_same_shape(grad, root))
        return ae_failc("backward: gradient shape %s does not match tensor shape %s", ae_shape_str(grad, a),
                        ae_shape_str(root, b));
    if (!grad && ae_numel(root) != 1)
        return ae_failc("backward: grad can be implicitly created only for a scalar, got shape %s",
                        ae_shape_str(root, a));
    ae_node *top = root->grad_fn;
    if (!top) {
        /* a leaf: its own gradient is the seed */
        float *g = root->grad ? ae_data(root->grad) : NULL;
        if (!g) {
            root->grad = ae_zeros(root->ndim, root->shape);
            if (!root->grad) return -1;
            g = ae_data(root->grad);
        }
        int64_t n = ae_numel(root);
        for (int64_t i = 0; i < n; i++) g[i] += grad ? ae_data(grad)[i] : 1.0f;
        return 0;
    }
    if (top->freed)
        return ae_failc("backward: trying to backward through the graph a second time "
                        "(its buffers were freed after the first backward)");
    nodelist order = {0};
    if (topo_order(top, &order) != 0) {
        free(order.v);
        return -1;
    }
    alloc_failed = false;
    top->gout = grad ? ae_clone_data(grad) : ae_full(top->out_ndim, top->out_shape, 1.0f);
    int rc = top->gout ? 0 : -1;
    for (size_t k = order.n; rc == 0 && k-- > 0;) {
        ae_node *x = order.v[k];
        if (x->gout) {
            int token = ae_prof_on ? ae_prof_enter_backward(ae_prof_kind_of_op(x->op), x->op) : 0;
            /* as PyTorch's autocast: the backward of a product made in
             * bf16 is made in bf16, wherever backward is called */
            bool was = ae_gemm_bf16();
            ae_gemm_set_bf16(x->bf16);
            x->backward(x);
            ae_gemm_set_bf16(was);
            if (ae_prof_on) ae_prof_leave(token);
        }
        if (x->gout && ae_anomaly_on) check_gradients(x);
        ae_release(x->gout);
        x->gout = NULL;
        if (alloc_failed) rc = ae_failc("backward: out of memory in %s", x->op);
    }
    for (size_t k = 0; k < order.n; k++) free_graph_refs(order.v[k]);
    free(order.v);
    return rc;
}
