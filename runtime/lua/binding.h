/* binding.h: conventions shared by the Lua binding files (lua_*.c), the
 * only C files that include lua.h.
 *
 * A tensor is a full userdata holding one reference to an ae_tensor.  C
 * functions of the core report failure through ae_error(); the binding
 * raises it as a Lua error, which Lua prefixes with the script's file:line.
 * Dimensions are 1-based in Lua, as in Torch7 (negative counts from the end). */
#ifndef AE_LUA_AERUN_H
#define AE_LUA_AERUN_H

#include <lauxlib.h>
#include <lua.h>

#include "core/tensor.h"

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

/* each binding file adds its functions to the table on top of the stack */
void lae_open_tensor(lua_State *L);
void lae_open_ops(lua_State *L);
void lae_open_data(lua_State *L);
void lae_open_optim(lua_State *L);
void lae_open_sys(lua_State *L);
void lae_open_conv(lua_State *L);
void lae_open_norm(lua_State *L);
void lae_open_image(lua_State *L);
void lae_open_vae(lua_State *L);
void lae_open_h5(lua_State *L);
void lae_open_blas(lua_State *L);
void lae_open_classify(lua_State *L);
void lae_open_signal(lua_State *L);
void lae_open_profile(lua_State *L); /* last: it may wrap the others */

int luaopen_aerun(lua_State *L);
/* registers the library (as luaopen_aerun does) and requires one of its
 * modules: the body of every luaopen_aerun_<name> in embedded_lua.c */
int lae_require_embedded(lua_State *L, const char *module);

#endif
