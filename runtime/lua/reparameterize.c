/* reparameterize.c: the reparameterize family (ops/reparameterize.h) for
 * Lua: ae.reparameterize(mu, logvar[, eps]), z = mu + eps·exp(logvar/2),
 * eps drawn from N(0, I) by the runtime RNG unless given. */
#include "binding.h"

#include "ops/reparameterize.h"

static int l_reparameterize(lua_State *L)
{
    ae_tensor *mu = lae_check_tensor(L, 1), *lv = lae_check_tensor(L, 2);
    return lae_push_tensor(L, ae_reparameterize(mu, lv, lae_opt_tensor(L, 3)));
}

static const luaL_Reg functions[] = {{"reparameterize", l_reparameterize}, {NULL, NULL}};

void lae_open_reparameterize(lua_State *L) { luaL_setfuncs(L, functions, 0); }
