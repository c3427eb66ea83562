/* optim.c: the optimizer update kernels for the Lua optimizers in
 * lua/aerun/optim.lua, which own the state tensors and hyperparameters,
 * and the two pieces of clip_grad_norm (a tensor's norm, scaling in place). */
#include "binding.h"

#include "core/error.h"
#include "ops/optim.h"

/* a contiguous tensor of exactly p's shape, for gradients and state slots */
static float *check_like(lua_State *L, int arg, ae_tensor *p, const char *what)
{
    ae_tensor *t = lae_check_tensor(L, arg);
    if (!ae_same_shape(t, p) || !ae_is_contiguous(t)) {
        char a[AE_SHAPE_STR], b[AE_SHAPE_STR];
        luaL_error(L, "optimizer: %s has shape %s, parameter has %s", what, ae_shape_str(t, a), ae_shape_str(p, b));
    }
    return ae_data(t);
}

static ae_tensor *check_param(lua_State *L)
{
    ae_tensor *p = lae_check_tensor(L, 1);
    if (!ae_is_contiguous(p)) luaL_error(L, "optimizer: parameters must be contiguous tensors");
    return p;
}

/* sgd_step(p, grad, buf|nil, lr, momentum, dampening, weight_decay, nesterov, first) */
static int l_sgd_step(lua_State *L)
{
    ae_tensor *p = check_param(L);
    float *g = check_like(L, 2, p, "gradient");
    ae_sgd_config c = {lae_check_number(L, 4), lae_check_number(L, 5), lae_check_number(L, 6), lae_check_number(L, 7),
                       lua_toboolean(L, 8)};
    float *buf = c.momentum != 0 ? check_like(L, 3, p, "momentum buffer") : NULL;
    ae_sgd_step(ae_data(p), g, buf, ae_numel(p), &c, lua_toboolean(L, 9));
    return 0;
}

/* adam_step(p, grad, exp_avg, exp_avg_sq, step, lr, beta1, beta2, eps, weight_decay, decoupled) */
static int l_adam_step(lua_State *L)
{
    ae_tensor *p = check_param(L);
    float *g = check_like(L, 2, p, "gradient");
    float *m = check_like(L, 3, p, "exp_avg");
    float *v = check_like(L, 4, p, "exp_avg_sq");
    int64_t step = lae_check_int(L, 5, "step");
    if (step < 1) luaL_argerror(L, 5, "step counts from 1");
    ae_adam_config c = {lae_check_number(L, 6), lae_check_number(L, 7),  lae_check_number(L, 8),
                        lae_check_number(L, 9), lae_check_number(L, 10), lua_toboolean(L, 11)};
    ae_adam_step(ae_data(p), g, m, v, ae_numel(p), &c, step);
    return 0;
}

/* the slot `name` of the state table at st: a tensor shaped like p, made
 * (zeros) when absent */
static float *state_slot(lua_State *L, int st, const char *name, ae_tensor *p, int index)
{
    if (lua_getfield(L, st, name) == LUA_TNIL) {
        lua_pop(L, 1);
        lae_push_tensor(L, ae_zeros(p->ndim, p->shape));
        lua_pushvalue(L, -1);
        lua_setfield(L, st, name);
    }
    ae_tensor *t = lae_test_tensor(L, -1);
    if (!t || !ae_same_shape(t, p) || !ae_is_contiguous(t)) {
        char a[AE_SHAPE_STR], b[AE_SHAPE_STR];
        luaL_error(L, "optimizer: state[%d].%s has shape %s, parameter %d has %s", index, name,
                   t ? ae_shape_str(t, a) : luaL_typename(L, -1), index, ae_shape_str(p, b));
    }
    lua_pop(L, 1); /* the state table keeps it alive */
    return ae_data(t);
}

/* adam_step_all(params, state, lr, beta1, beta2, eps, weight_decay, decoupled):
 * one Adam step for every parameter of the list that has a gradient, in one
 * pass shared by the runtime's threads.  state[i] is parameter i's table
 * {step =, exp_avg =, exp_avg_sq =} (PyTorch's slots, as state_dict saves
 * them), made here at a parameter's first step. */
static int l_adam_step_all(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checktype(L, 2, LUA_TTABLE);
    ae_adam_config c = {lae_check_number(L, 3), lae_check_number(L, 4), lae_check_number(L, 5),
                        lae_check_number(L, 6), lae_check_number(L, 7), lua_toboolean(L, 8)};
    int count = (int)luaL_len(L, 1);
    ae_adam_param *list = lua_newuserdatauv(L, (size_t)(count > 0 ? count : 1) * sizeof *list, 0);
    int used = 0;
    for (int i = 1; i <= count; i++) {
        lua_rawgeti(L, 1, i);
        ae_tensor *p = lae_test_tensor(L, -1);
        lua_pop(L, 1); /* the parameter list keeps it alive */
        if (!p) return luaL_error(L, "optimizer: parameter %d is not a tensor", i);
        if (!p->grad) continue;
        if (!ae_is_contiguous(p)) return luaL_error(L, "optimizer: parameters must be contiguous tensors");
        if (!ae_same_shape(p->grad, p) || !ae_is_contiguous(p->grad)) {
            char a[AE_SHAPE_STR], b[AE_SHAPE_STR];
            return luaL_error(L, "optimizer: the gradient of parameter %d has shape %s, the parameter %s", i,
                              ae_shape_str(p->grad, a), ae_shape_str(p, b));
        }
        if (lua_rawgeti(L, 2, i) != LUA_TTABLE) {
            lua_pop(L, 1);
            lua_createtable(L, 0, 3);
            lua_pushinteger(L, 0);
            lua_setfield(L, -2, "step");
            lua_pushvalue(L, -1);
            lua_rawseti(L, 2, i);
        }
        int st = lua_gettop(L);
        lua_getfield(L, st, "step");
        int isnum;
        lua_Integer step = lua_tointegerx(L, -1, &isnum);
        if (!isnum || step < 0) return luaL_error(L, "optimizer: state[%d].step must be a non-negative integer", i);
        lua_pop(L, 1);
        lua_pushinteger(L, step + 1);
        lua_setfield(L, st, "step");
        list[used].m = state_slot(L, st, "exp_avg", p, i);
        list[used].v = state_slot(L, st, "exp_avg_sq", p, i);
        list[used].p = ae_data(p);
        list[used].g = ae_data(p->grad);
        list[used].n = ae_numel(p);
        list[used].step = step + 1;
        used++;
        lua_settop(L, st - 1);
    }
    ae_adam_step_many(list, used, &c);
    return 0;
}

/* rmsprop_step(p, grad, square_avg, grad_avg|nil, momentum_buffer|nil, lr, alpha, eps,
 *              weight_decay, momentum, centered) */
static int l_rmsprop_step(lua_State *L)
{
    ae_tensor *p = check_param(L);
    float *g = check_like(L, 2, p, "gradient");
    float *sq = check_like(L, 3, p, "square_avg");
    ae_rmsprop_config c = {lae_check_number(L, 6), lae_check_number(L, 7),  lae_check_number(L, 8),
                           lae_check_number(L, 9), lae_check_number(L, 10), lua_toboolean(L, 11)};
    float *ga = c.centered ? check_like(L, 4, p, "grad_avg") : NULL;
    float *buf = c.momentum > 0 ? check_like(L, 5, p, "momentum_buffer") : NULL;
    ae_rmsprop_step(ae_data(p), g, sq, ga, buf, ae_numel(p), &c);
    return 0;
}

/* grad_norm(t, p): the p-norm of t's values (p = math.huge for the max) */
static int l_grad_norm(lua_State *L)
{
    ae_tensor *t = lae_check_tensor(L, 1);
    double p = lae_check_number(L, 2);
    if (!(p > 0)) return luaL_argerror(L, 2, "the norm type must be positive");
    ae_tensor *c = ae_contiguous(t);
    if (!c) return lae_raise(L);
    lua_pushnumber(L, ae_vector_norm(ae_data(c), ae_numel(c), p));
    ae_release(c);
    return 1;
}

/* grad_scale_(t, s): t *= s in place (a gradient, outside the graph) */
static int l_grad_scale_(lua_State *L)
{
    ae_tensor *t = lae_check_tensor(L, 1);
    if (!ae_is_contiguous(t)) return luaL_argerror(L, 1, "the tensor must be contiguous");
    ae_scale(ae_data(t), ae_numel(t), (float)lae_check_number(L, 2));
    return 0;
}

static const luaL_Reg functions[] = {{"sgd_step", l_sgd_step},
                                     {"adam_step", l_adam_step},
                                     {"adam_step_all", l_adam_step_all},
                                     {"rmsprop_step", l_rmsprop_step},
                                     {"grad_norm", l_grad_norm},
                                     {"grad_scale_", l_grad_scale_},
                                     {NULL, NULL}};

void lae_open_optim(lua_State *L) { luaL_setfuncs(L, functions, 0); }
