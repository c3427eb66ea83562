/* binary.c: the binary family (ops/binary.h) for Lua: add, sub, mul and div
 * with broadcasting, as functions (ae.add(a, b)), methods (a:add(b)) and the
 * operators + - * /; either side of an operator may be a number (the
 * scalar forms are unary ops, ops/unary.h). */
#include "binding.h"

#include "ops/binary.h"
#include "ops/unary.h"

/* a + b where either side may be a number */
static int arith(lua_State *L, ae_binop op)
{
    ae_tensor *a = lae_test_tensor(L, 1), *b = lae_test_tensor(L, 2);
    static const char *names[] = {"add", "sub", "mul", "div"};
    if (a && b) return lae_push_tensor(L, ae_binary(op, a, b));
    int tensor_first = a != NULL;
    ae_tensor *t = tensor_first ? a : b;
    int numarg = tensor_first ? 2 : 1;
    if (!t)
        return luaL_error(L, "%s: expects a tensor operand, got %s and %s", names[op], luaL_typename(L, 1),
                          luaL_typename(L, 2));
    if (lua_type(L, numarg) != LUA_TNUMBER)
        return luaL_error(L, "%s: cannot combine a tensor with %s", names[op], luaL_typename(L, numarg));
    double s = lua_tonumber(L, numarg);
    switch (op) {
    case AE_ADD: return lae_push_tensor(L, ae_unary(AE_ADD_SCALAR, t, s, 0));
    case AE_MUL: return lae_push_tensor(L, ae_unary(AE_MUL_SCALAR, t, s, 0));
    case AE_SUB:
        return lae_push_tensor(L, tensor_first ? ae_unary(AE_ADD_SCALAR, t, -s, 0) : ae_unary(AE_RSUB_SCALAR, t, s, 0));
    case AE_DIV:
        return lae_push_tensor(L, tensor_first ? ae_unary(AE_MUL_SCALAR, t, 1.0 / s, 0)
                                               : ae_unary(AE_RDIV_SCALAR, t, s, 0));
    }
    return 0;
}

static int l_add(lua_State *L) { return arith(L, AE_ADD); }
static int l_sub(lua_State *L) { return arith(L, AE_SUB); }
static int l_mul(lua_State *L) { return arith(L, AE_MUL); }
static int l_div(lua_State *L) { return arith(L, AE_DIV); }

static const luaL_Reg methods[] = {{"add", l_add}, {"sub", l_sub}, {"mul", l_mul}, {"div", l_div}, {NULL, NULL}};

static const luaL_Reg metamethods[] = {
    {"__add", l_add}, {"__sub", l_sub}, {"__mul", l_mul}, {"__div", l_div}, {NULL, NULL}};

void lae_open_binary(lua_State *L)
{
    luaL_setfuncs(L, methods, 0);
    lae_add_methods(L, methods);
    lae_add_metamethods(L, metamethods);
}
