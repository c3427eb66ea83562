/* lua_norm.c: placeholder until its op set lands */
#include "lua_aerun.h"

void lae_open_norm(lua_State *L) { (void)L; }
