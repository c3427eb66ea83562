/* binding.h: conventions shared by the Lua binding files (runtime/lua),
 * the only C files that include lua.h.  The helpers are in binding.c.
 *
 * Each op family X (runtime/ops/X.h) has one binding file runtime/lua/X.c
 * with lae_open_X, called from module.c: it adds the family's functions to
 * the core table (or to its subtable X: core.kl, core.loss, core.penalty,
 * core.noise) and, through lae_add_methods, its tensor methods.
 *
 * A tensor is a full userdata holding one reference to an ae_tensor.  C
 * functions of the core report failure through ae_error(); the binding
 * raises it as a Lua error, which Lua prefixes with the script's file:line.
 * Dimensions are 1-based in Lua, as in Torch7 (negative counts from the end). */
#ifndef AE_LUA_BINDING_H
#define AE_LUA_BINDING_H

#include <lauxlib.h>
#include <lua.h>

#include "core/tensor.h"
#include "ops/reduction.h"

#define LAE_TENSOR "aerun.Tensor"

/* the tensor at idx, or a Lua error naming the argument */
ae_tensor *lae_check_tensor(lua_State *L, int idx);
ae_tensor *lae_test_tensor(lua_State *L, int idx);
/* pushes t (taking over its reference); t == NULL raises ae_error() */
int lae_push_tensor(lua_State *L, ae_tensor *t);
/* raises the core's last error as a Lua error */
int lae_raise(lua_State *L);
/* a Lua dimension (1-based, negative from the end) to a 0-based one */
int lae_check_dim(lua_State *L, int arg, int ndim);
/* a shape given as numbers from arg on, or as one table at arg */
int lae_check_shape(lua_State *L, int arg, int64_t *shape);
/* an integer argument with a readable error for NaN, fractions or huge values */
int64_t lae_check_int(lua_State *L, int arg, const char *what);
/* the tensor at arg, or NULL when the argument is nil or absent */
ae_tensor *lae_opt_tensor(lua_State *L, int arg);
/* a reduction name ("mean", "sum", "none"), def when absent; the error
 * names fname, the public function ("ae.loss.mse"), and lists the names */
ae_reduction lae_check_reduction(lua_State *L, int arg, const char *def, const char *fname);
/* a number argument (a string is refused, and quoted in the message) */
lua_Number lae_check_number(lua_State *L, int arg);
lua_Number lae_opt_number(lua_State *L, int arg, lua_Number def);
lua_Integer lae_opt_integer(lua_State *L, int arg, lua_Integer def);
/* an options table at arg ({shuffle = true}); anything else, a module class
 * included, is an error naming fname */
void lae_check_options(lua_State *L, int arg, const char *fname);
/* the value at arg for a message: 3, true, nil, the string "4", a table... */
const char *lae_describe(lua_State *L, int arg);
/* a size argument of op: nil (def for both), an integer, or an {h, w} pair */
void lae_check_pair(lua_State *L, int arg, const char *op, const char *what, int64_t def, int64_t out[2]);

/* adds functions to the tensor's method table (x:exp()); the tensor's
 * metatable must exist (lae_open_tensor runs first) */
void lae_add_methods(lua_State *L, const luaL_Reg *methods);
/* sets metamethods (__add, ...) of the tensor's metatable */
void lae_add_metamethods(lua_State *L, const luaL_Reg *metamethods);
/* adds functions to the subtable name of the table on top of the stack,
 * making it if needed (core.kl, core.loss...) */
void lae_add_subtable(lua_State *L, const char *name, const luaL_Reg *functions);
/* makes the metatable tname of a class of userdata, once, with the
 * metamethods meta and, unless NULL, the methods as its __index; leaves
 * it on the stack */
void lae_new_class(lua_State *L, const char *tname, const luaL_Reg *meta, const luaL_Reg *methods);

/* each binding file adds its functions to the table on top of the stack */
void lae_open_denormals(lua_State *L); /* first: sets the thread's denormal mode */
void lae_open_tensor(lua_State *L);    /* then: it makes the tensor's metatable */
void lae_open_autograd(lua_State *L);
void lae_open_rng(lua_State *L);
/* the op families, one file each (runtime/ops/X.h -> runtime/lua/X.c) */
void lae_open_shape(lua_State *L);
void lae_open_binary(lua_State *L);
void lae_open_unary(lua_State *L);
void lae_open_compare(lua_State *L);
void lae_open_reduce(lua_State *L);
void lae_open_matmul(lua_State *L);
void lae_open_loss(lua_State *L);
void lae_open_classify(lua_State *L); /* after loss: it adds loss.cross_entropy */
void lae_open_conv(lua_State *L);
void lae_open_rnn(lua_State *L);
void lae_open_pool(lua_State *L);
void lae_open_norm(lua_State *L);
void lae_open_dropout(lua_State *L);
void lae_open_kl(lua_State *L);
void lae_open_reparameterize(lua_State *L);
void lae_open_penalty(lua_State *L);
void lae_open_noise(lua_State *L);
void lae_open_optim(lua_State *L);
/* the rest */
void lae_open_data(lua_State *L);
void lae_open_files(lua_State *L); /* npy, npz, csv */
void lae_open_sys(lua_State *L);
void lae_open_image(lua_State *L);
void lae_open_h5(lua_State *L);
void lae_open_gemm(lua_State *L);
void lae_open_signal(lua_State *L);
void lae_open_anomaly(lua_State *L);
void lae_open_guard(lua_State *L);   /* registry["aerun.boundary"], for lua/aerun/guard.lua */
void lae_open_profile(lua_State *L); /* last: it may wrap the others */

int luaopen_aerun(lua_State *L);
/* registers the library (as luaopen_aerun does) and requires one of its
 * modules: the body of every luaopen_aerun_<name> in embedded_lua.c */
int lae_require_embedded(lua_State *L, const char *module);

#endif
