/* unary.c: the unary family (ops/unary.h) for Lua: elementwise functions,
 * each both a function (ae.exp(x)) and a method (x:exp()), and the
 * operators -x and x ^ p. */
#include "binding.h"

#include <math.h>

#include "ops/unary.h"

static int l_unm(lua_State *L) { return lae_push_tensor(L, ae_unary(AE_NEG, lae_check_tensor(L, 1), 0, 0)); }

static int unary(lua_State *L, ae_unop op, double p, double q)
{
    return lae_push_tensor(L, ae_unary(op, lae_check_tensor(L, 1), p, q));
}

static int l_exp(lua_State *L) { return unary(L, AE_EXP, 0, 0); }
static int l_log(lua_State *L) { return unary(L, AE_LOG, 0, 0); }
static int l_abs(lua_State *L) { return unary(L, AE_ABS, 0, 0); }
static int l_sqrt(lua_State *L) { return unary(L, AE_SQRT, 0, 0); }
static int l_neg(lua_State *L) { return unary(L, AE_NEG, 0, 0); }
static int l_relu(lua_State *L) { return unary(L, AE_RELU, 0, 0); }
static int l_sigmoid(lua_State *L) { return unary(L, AE_SIGMOID, 0, 0); }
static int l_tanh(lua_State *L) { return unary(L, AE_TANH, 0, 0); }
static int l_leaky_relu(lua_State *L) { return unary(L, AE_LEAKY_RELU, lae_opt_number(L, 2, 0.01), 0); }
static int l_elu(lua_State *L) { return unary(L, AE_ELU, lae_opt_number(L, 2, 1.0), 0); }

static int l_softplus(lua_State *L)
{
    double beta = lae_opt_number(L, 2, 1.0), threshold = lae_opt_number(L, 3, 20.0);
    if (!(beta > 0)) luaL_argerror(L, 2, "beta must be positive");
    return unary(L, AE_SOFTPLUS, beta, threshold);
}

static int l_pow(lua_State *L)
{
    if (!lae_test_tensor(L, 1))
        return luaL_error(L, "pow: a number raised to a tensor is not supported; use exp(x * log(base))");
    return unary(L, AE_POW, lae_check_number(L, 2), 0);
}

static int l_clamp(lua_State *L)
{
    double lo = lae_opt_number(L, 2, -INFINITY), hi = lae_opt_number(L, 3, INFINITY);
    if (isnan(lo) || isnan(hi) || lo > hi)
        return luaL_error(L, "clamp: bounds must satisfy min <= max, got %f and %f", lo, hi);
    return unary(L, AE_CLAMP, lo, hi);
}

static const luaL_Reg methods[] = {{"neg", l_neg},
                                   {"exp", l_exp},
                                   {"log", l_log},
                                   {"abs", l_abs},
                                   {"sqrt", l_sqrt},
                                   {"pow", l_pow},
                                   {"clamp", l_clamp},
                                   {"relu", l_relu},
                                   {"sigmoid", l_sigmoid},
                                   {"tanh", l_tanh},
                                   {"leaky_relu", l_leaky_relu},
                                   {"elu", l_elu},
                                   {"softplus", l_softplus},
                                   {NULL, NULL}};

static const luaL_Reg metamethods[] = {{"__unm", l_unm}, {"__pow", l_pow}, {NULL, NULL}};

void lae_open_unary(lua_State *L)
{
    luaL_setfuncs(L, methods, 0);
    lae_add_methods(L, methods);
    lae_add_metamethods(L, metamethods);
}
