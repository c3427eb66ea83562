/* lua_signal.c: placeholder until its functions land */
#include "lua_aerun.h"

void lae_open_signal(lua_State *L) { (void)L; }
