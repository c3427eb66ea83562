/* compare.c: the compare family (ops/compare.h) for Lua: x:lt(v), le, gt,
 * ge, eq and ne against a number, 0/1 masks outside the graph; each both a
 * function (ae.lt(x, v)) and a method. */
#include "binding.h"

#include "ops/compare.h"

static int compare(lua_State *L, ae_cmp op)
{
    return lae_push_tensor(L, ae_compare(lae_check_tensor(L, 1), op, (float)lae_check_number(L, 2)));
}

static int l_lt(lua_State *L) { return compare(L, AE_LT); }
static int l_le(lua_State *L) { return compare(L, AE_LE); }
static int l_gt(lua_State *L) { return compare(L, AE_GT); }
static int l_ge(lua_State *L) { return compare(L, AE_GE); }
static int l_eq(lua_State *L) { return compare(L, AE_EQ); }
static int l_ne(lua_State *L) { return compare(L, AE_NE); }

static const luaL_Reg methods[] = {{"lt", l_lt}, {"le", l_le}, {"gt", l_gt}, {"ge", l_ge},
                                   {"eq", l_eq}, {"ne", l_ne}, {NULL, NULL}};

void lae_open_compare(lua_State *L)
{
    luaL_setfuncs(L, methods, 0);
    lae_add_methods(L, methods);
}
