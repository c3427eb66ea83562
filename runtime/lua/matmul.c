/* matmul.c: the matmul family (ops/matmul.h) for Lua: ae.matmul(a, b) (also
 * a:matmul(b)) and ae.linear(x, w[, b]), x wᵀ + b with PyTorch's weight
 * orientation. */
#include "binding.h"

#include "ops/matmul.h"

static int l_matmul(lua_State *L)
{
    return lae_push_tensor(L, ae_matmul(lae_check_tensor(L, 1), lae_check_tensor(L, 2)));
}

static int l_linear(lua_State *L)
{
    ae_tensor *x = lae_check_tensor(L, 1), *w = lae_check_tensor(L, 2);
    ae_tensor *b = lae_opt_tensor(L, 3);
    return lae_push_tensor(L, ae_linear(x, w, b));
}

static const luaL_Reg methods[] = {{"matmul", l_matmul}, {NULL, NULL}};

static const luaL_Reg functions[] = {{"matmul", l_matmul}, {"linear", l_linear}, {NULL, NULL}};

void lae_open_matmul(lua_State *L)
{
    luaL_setfuncs(L, functions, 0);
    lae_add_methods(L, methods);
}
