/* lua_classify.c: placeholder until its functions land */
#include "lua_aerun.h"

void lae_open_classify(lua_State *L) { (void)L; }
