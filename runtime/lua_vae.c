/* lua_vae.c: placeholder until its op set lands */
#include "lua_aerun.h"

void lae_open_vae(lua_State *L) { (void)L; }
