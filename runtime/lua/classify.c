/* classify.c: the classify family (ops/classify.h) for Lua.
 *   ae.log_softmax(x)                       x:log_softmax(), over the last dimension
 *   ae.loss.cross_entropy(logits, labels[, reduction = "mean"])   cross-entropy of
 *                                           logits N×K against class ids 0..K-1 (a
 *                                           float tensor N); in the loss table
 *   ae.eigh(a) -> values, vectors           ascending eigenvalues, eigenvectors as columns
 * (argmax is in the reduce family, runtime/lua/reduce.c) */
#include "binding.h"

#include "ops/classify.h"

static int l_log_softmax(lua_State *L) { return lae_push_tensor(L, ae_log_softmax(lae_check_tensor(L, 1))); }

static int l_cross_entropy(lua_State *L)
{
    ae_tensor *z = lae_check_tensor(L, 1), *y = lae_check_tensor(L, 2);
    return lae_push_tensor(L, ae_cross_entropy(z, y, lae_check_reduction(L, 3, "mean", "ae.loss.cross_entropy")));
}

static int l_eigh(lua_State *L)
{
    ae_tensor *values, *vectors;
    if (ae_eigh(lae_check_tensor(L, 1), &values, &vectors) != 0) return lae_raise(L);
    lae_push_tensor(L, values);
    lae_push_tensor(L, vectors);
    return 2;
}

static const luaL_Reg methods[] = {{"log_softmax", l_log_softmax}, {NULL, NULL}};

static const luaL_Reg functions[] = {{"eigh", l_eigh}, {NULL, NULL}};

static const luaL_Reg losses[] = {{"cross_entropy", l_cross_entropy}, {NULL, NULL}};

void lae_open_classify(lua_State *L)
{
    luaL_setfuncs(L, methods, 0);
    luaL_setfuncs(L, functions, 0);
    lae_add_methods(L, methods);
    lae_add_subtable(L, "loss", losses);
}
