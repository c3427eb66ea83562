/* lua_optim.c: the optimizer update kernels for the Lua optimizers in
 * lua/aerun/optim.lua, which own the state tensors and hyperparameters. */
#include "lua_aerun.h"

#include "error.h"
#include "optim.h"

/* a contiguous tensor of exactly p's shape, for gradients and state slots */
static float *check_like(lua_State *L, int arg, ae_tensor *p, const char *what)
{
    ae_tensor *t = lae_check_tensor(L, arg);
    if (!ae_same_shape(t, p) || !ae_is_contiguous(t)) {
        char a[AE_SHAPE_STR], b[AE_SHAPE_STR];
        luaL_error(L, "optimizer: %s has shape %s, parameter has %s", what, ae_shape_str(t, a),
                   ae_shape_str(p, b));
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
    ae_sgd_config c = {luaL_checknumber(L, 4), luaL_checknumber(L, 5), luaL_checknumber(L, 6),
                       luaL_checknumber(L, 7), lua_toboolean(L, 8)};
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
    ae_adam_config c = {luaL_checknumber(L, 6), luaL_checknumber(L, 7), luaL_checknumber(L, 8),
                        luaL_checknumber(L, 9), luaL_checknumber(L, 10), lua_toboolean(L, 11)};
    ae_adam_step(ae_data(p), g, m, v, ae_numel(p), &c, step);
    return 0;
}

static const luaL_Reg functions[] = {{"sgd_step", l_sgd_step}, {"adam_step", l_adam_step}, {NULL, NULL}};

void lae_open_optim(lua_State *L) { luaL_setfuncs(L, functions, 0); }
