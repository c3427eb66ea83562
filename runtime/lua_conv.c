/* lua_conv.c: placeholder until its op set lands */
#include "lua_aerun.h"

void lae_open_conv(lua_State *L) { (void)L; }
