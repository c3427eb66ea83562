/* classify.c: the classify family (ops/classify.h) for Lua.
 *   ae.log_softmax(x)                       x:log_softmax(), over the last dimension
 *   ae.loss.cross_entropy(logits, labels[, reduction = "mean"])   cross-entropy of
 *                                           logits N×K against class ids 0..K-1 (a
 *                                           float tensor N); in the loss table
 *   ae.argmax(x[, dim = -1])                x:argmax(dim): positions 1..K (Lua's and
 *                                           Torch7's convention; minus 1 gives a class id)
 *   ae.eigh(a) -> values, vectors           ascending eigenvalues, eigenvectors as columns */
#include "binding.h"

#include "ops/classify.h"
#include "ops/unary.h"

static int l_log_softmax(lua_State *L) { return lae_push_tensor(L, ae_log_softmax(lae_check_tensor(L, 1))); }

static int l_cross_entropy(lua_State *L)
{
    ae_tensor *z = lae_check_tensor(L, 1), *y = lae_check_tensor(L, 2);
    return lae_push_tensor(L, ae_cross_entropy(z, y, lae_check_reduction(L, 3, "mean")));
}

static int l_argmax(lua_State *L)
{
    ae_tensor *x = lae_check_tensor(L, 1);
    if (x->ndim == 0) return luaL_error(L, "argmax: expects a tensor with at least one dimension");
    int dim = lua_isnoneornil(L, 2) ? x->ndim - 1 : lae_check_dim(L, 2, x->ndim);
    ae_tensor *pos = ae_argmax(x, dim);
    if (!pos) return lae_raise(L);
    ae_tensor *one_based = ae_unary(AE_ADD_SCALAR, pos, 1.0, 0);
    ae_release(pos);
    return lae_push_tensor(L, one_based);
}

static int l_eigh(lua_State *L)
{
    ae_tensor *values, *vectors;
    if (ae_eigh(lae_check_tensor(L, 1), &values, &vectors) != 0) return lae_raise(L);
    lae_push_tensor(L, values);
    lae_push_tensor(L, vectors);
    return 2;
}

static const luaL_Reg methods[] = {{"log_softmax", l_log_softmax}, {"argmax", l_argmax}, {NULL, NULL}};

static const luaL_Reg functions[] = {{"eigh", l_eigh}, {NULL, NULL}};

static const luaL_Reg losses[] = {{"cross_entropy", l_cross_entropy}, {NULL, NULL}};

void lae_open_classify(lua_State *L)
{
    luaL_setfuncs(L, methods, 0);
    luaL_setfuncs(L, functions, 0);
    lae_add_methods(L, methods);
    lae_add_subtable(L, "loss", losses);
}
