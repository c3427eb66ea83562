/* ops.c: math on tensors for Lua: arithmetic metamethods, elementwise
 * functions, reductions, matmul, linear and losses.  Each is both a method
 * (x:exp()) and a function of the core table (core.exp(x)). */
#include "binding.h"

#include <math.h>
#include <string.h>

#include "core/autograd.h"
#include "core/error.h"
#include "ops/shape.h"
#include "ops/binary.h"
#include "ops/unary.h"
#include "ops/compare.h"
#include "ops/reduce.h"
#include "ops/matmul.h"
#include "ops/loss.h"
#include "core/rng.h"

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
static int l_leaky_relu(lua_State *L) { return unary(L, AE_LEAKY_RELU, luaL_optnumber(L, 2, 0.01), 0); }
static int l_elu(lua_State *L) { return unary(L, AE_ELU, luaL_optnumber(L, 2, 1.0), 0); }

static int l_softplus(lua_State *L)
{
    double beta = luaL_optnumber(L, 2, 1.0), threshold = luaL_optnumber(L, 3, 20.0);
    if (!(beta > 0)) luaL_argerror(L, 2, "beta must be positive");
    return unary(L, AE_SOFTPLUS, beta, threshold);
}

static int l_pow(lua_State *L)
{
    if (!lae_test_tensor(L, 1))
        return luaL_error(L, "pow: a number raised to a tensor is not supported; use exp(x * log(base))");
    return unary(L, AE_POW, luaL_checknumber(L, 2), 0);
}

static int l_clamp(lua_State *L)
{
    double lo = luaL_optnumber(L, 2, -INFINITY), hi = luaL_optnumber(L, 3, INFINITY);
    if (isnan(lo) || isnan(hi) || lo > hi)
        return luaL_error(L, "clamp: bounds must satisfy min <= max, got %f and %f", lo, hi);
    return unary(L, AE_CLAMP, lo, hi);
}

/* sum(x) / sum(x, dim[, keepdim]) and the same for mean */
static int reduce(lua_State *L, int mean)
{
    ae_tensor *t = lae_check_tensor(L, 1);
    if (lua_isnoneornil(L, 2)) return lae_push_tensor(L, mean ? ae_mean(t) : ae_sum(t));
    int d = lae_check_dim(L, 2, t->ndim);
    int keep = lua_toboolean(L, 3);
    return lae_push_tensor(L, mean ? ae_mean_dim(t, d, keep) : ae_sum_dim(t, d, keep));
}

static int l_sum(lua_State *L) { return reduce(L, 0); }
static int l_mean(lua_State *L) { return reduce(L, 1); }

static int compare(lua_State *L, ae_cmp op)
{
    return lae_push_tensor(L, ae_compare(lae_check_tensor(L, 1), op, (float)luaL_checknumber(L, 2)));
}

static int l_lt(lua_State *L) { return compare(L, AE_LT); }
static int l_le(lua_State *L) { return compare(L, AE_LE); }
static int l_gt(lua_State *L) { return compare(L, AE_GT); }
static int l_ge(lua_State *L) { return compare(L, AE_GE); }
static int l_eq(lua_State *L) { return compare(L, AE_EQ); }
static int l_ne(lua_State *L) { return compare(L, AE_NE); }

/* plain numbers out, no graph: for metrics and tests */
static int extreme(lua_State *L, int want_max)
{
    ae_tensor *t = lae_check_tensor(L, 1);
    int64_t n = ae_numel(t);
    if (n == 0) return luaL_error(L, "%s: empty tensor", want_max ? "max" : "min");
    ae_tensor *c = ae_contiguous(t);
    if (!c) return lae_raise(L);
    const float *p = ae_data(c);
    float best = p[0];
    int64_t at = 0;
    for (int64_t i = 1; i < n; i++)
        if (want_max ? p[i] > best : p[i] < best) best = p[i], at = i;
    ae_release(c);
    lua_pushnumber(L, best);
    lua_pushinteger(L, at + 1);
    return 2;
}

static int l_max(lua_State *L) { return extreme(L, 1); }
static int l_min(lua_State *L) { return extreme(L, 0); }

/* cat({a, b, ...}[, dim = 1]) */
static int l_cat(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    int n = (int)luaL_len(L, 1);
    if (n < 1) return luaL_argerror(L, 1, "expects a non-empty list of tensors");
    if (n > 4096) return luaL_argerror(L, 1, "at most 4096 tensors");
    ae_tensor *ts[4096];
    for (int i = 0; i < n; i++) {
        lua_geti(L, 1, i + 1);
        ts[i] = lae_test_tensor(L, -1);
        if (!ts[i]) return luaL_error(L, "cat: element %d is %s, not a tensor", i + 1, luaL_typename(L, -1));
        lua_pop(L, 1); /* the list keeps it alive */
    }
    int dim = lua_isnoneornil(L, 2) ? 0 : lae_check_dim(L, 2, ts[0]->ndim);
    return lae_push_tensor(L, ae_cat(n, ts, dim));
}

static int l_matmul(lua_State *L)
{
    return lae_push_tensor(L, ae_matmul(lae_check_tensor(L, 1), lae_check_tensor(L, 2)));
}

static int l_linear(lua_State *L)
{
    ae_tensor *x = lae_check_tensor(L, 1), *w = lae_check_tensor(L, 2);
    ae_tensor *b = lua_isnoneornil(L, 3) ? NULL : lae_check_tensor(L, 3);
    return lae_push_tensor(L, ae_linear(x, w, b));
}

static ae_reduction check_reduction(lua_State *L, int arg)
{
    static const char *const names[] = {"mean", "sum", "none", NULL};
    return (ae_reduction)luaL_checkoption(L, arg, "mean", names);
}

static int l_mse_loss(lua_State *L)
{
    ae_tensor *a = lae_check_tensor(L, 1), *t = lae_check_tensor(L, 2);
    return lae_push_tensor(L, ae_mse_loss(a, t, check_reduction(L, 3)));
}

static int l_bce_loss(lua_State *L)
{
    ae_tensor *a = lae_check_tensor(L, 1), *t = lae_check_tensor(L, 2);
    return lae_push_tensor(L, ae_bce_loss(a, t, check_reduction(L, 3)));
}

static int l_bce_logits_loss(lua_State *L)
{
    ae_tensor *a = lae_check_tensor(L, 1), *t = lae_check_tensor(L, 2);
    return lae_push_tensor(L, ae_bce_logits_loss(a, t, check_reduction(L, 3)));
}

/* grad mode */
static int l_no_grad(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TFUNCTION);
    bool was = ae_grad_enabled();
    ae_set_grad_enabled(false);
    int n = lua_gettop(L) - 1;
    int rc = lua_pcall(L, n, LUA_MULTRET, 0);
    ae_set_grad_enabled(was);
    if (rc != LUA_OK) return lua_error(L);
    return lua_gettop(L);
}

static int l_set_grad_enabled(lua_State *L)
{
    ae_set_grad_enabled(lua_toboolean(L, 1));
    return 0;
}

static int l_is_grad_enabled(lua_State *L)
{
    lua_pushboolean(L, ae_grad_enabled());
    return 1;
}

/* the RNG */
static int l_manual_seed(lua_State *L)
{
    int64_t s = lae_check_int(L, 1, "seed");
    ae_rng_seed((uint64_t)s);
    return 0;
}

static int l_initial_seed(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)ae_rng_initial_seed());
    return 1;
}

static int l_rng_state(lua_State *L)
{
    unsigned char s[AE_RNG_STATE_BYTES];
    ae_rng_get_state(s);
    lua_pushlstring(L, (const char *)s, sizeof s);
    return 1;
}

static int l_set_rng_state(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    if (len != AE_RNG_STATE_BYTES)
        return luaL_error(L, "set_rng_state: a state is %d bytes, got %d", AE_RNG_STATE_BYTES, (int)len);
    if (ae_rng_set_state((const unsigned char *)s) != 0) return lae_raise(L);
    return 0;
}

static const luaL_Reg methods[] = {{"add", l_add},
                                   {"sub", l_sub},
                                   {"mul", l_mul},
                                   {"div", l_div},
                                   {"neg", l_neg},
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
                                   {"sum", l_sum},
                                   {"mean", l_mean},
                                   {"max", l_max},
                                   {"min", l_min},
                                   {"matmul", l_matmul},
                                   {"lt", l_lt},
                                   {"le", l_le},
                                   {"gt", l_gt},
                                   {"ge", l_ge},
                                   {"eq", l_eq},
                                   {"ne", l_ne},
                                   {NULL, NULL}};

static const luaL_Reg functions[] = {{"linear", l_linear},
                                     {"cat", l_cat},
                                     {"mse_loss", l_mse_loss},
                                     {"bce_loss", l_bce_loss},
                                     {"bce_logits_loss", l_bce_logits_loss},
                                     {"no_grad", l_no_grad},
                                     {"set_grad_enabled", l_set_grad_enabled},
                                     {"is_grad_enabled", l_is_grad_enabled},
                                     {"manual_seed", l_manual_seed},
                                     {"initial_seed", l_initial_seed},
                                     {"rng_state", l_rng_state},
                                     {"set_rng_state", l_set_rng_state},
                                     {NULL, NULL}};

void lae_open_ops(lua_State *L)
{
    luaL_setfuncs(L, methods, 0);
    luaL_setfuncs(L, functions, 0);
    luaL_getmetatable(L, LAE_TENSOR);
    lua_getfield(L, -1, "methods");
    luaL_setfuncs(L, methods, 0);
    lua_pop(L, 1);
    static const struct {
        const char *mm;
        lua_CFunction f;
    } mms[] = {{"__add", l_add}, {"__sub", l_sub}, {"__mul", l_mul},
               {"__div", l_div}, {"__unm", l_unm}, {"__pow", l_pow}};
    for (size_t i = 0; i < sizeof mms / sizeof mms[0]; i++) {
        lua_pushcfunction(L, mms[i].f);
        lua_setfield(L, -2, mms[i].mm);
    }
    lua_pop(L, 1);
}
