/* lua_image.c: placeholder until its op set lands */
#include "lua_aerun.h"

void lae_open_image(lua_State *L) { (void)L; }
