/* embedded_lua.h: the Lua library compiled in (build/embedded_lua.c is
 * generated from the files in lua/aerun by tools/embed.lua) */
#ifndef AE_EMBEDDED_LUA_H
#define AE_EMBEDDED_LUA_H

#include <stddef.h>

typedef struct {
    const char *module; /* "aerun", "aerun.nn", ... */
    const char *chunkname;
    const char *source;
    size_t size;
} lae_embedded;

extern const lae_embedded lae_embedded_files[];

#endif
