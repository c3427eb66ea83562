/* anomaly.h: the binding side of anomaly detection (anomaly.h), for
 * binding.c, which checks what lae_push_tensor hands to scripts, and
 * autograd.c (backward) */
#ifndef AE_LUA_ANOMALY_H
#define AE_LUA_ANOMALY_H

#include <lua.h>

#include "core/anomaly.h"

/* checks a tensor about to be pushed as the result of the running C
 * function; cheap enough to call only when ae_anomaly_on */
void lae_anomaly_check_result(lua_State *L, const ae_tensor *t);
/* gives a record made inside the core (by backward) the script's location */
void lae_anomaly_locate(lua_State *L, const char *context);

#endif
