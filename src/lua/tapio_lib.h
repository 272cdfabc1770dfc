/*
 * lua/tapio_lib.h - the C half of the tapio library: the string helpers
 * that rules call on every event (prefix, suffix, substring, basename),
 * without allocating, and the constructors of the state API (lua/state_lua.h).
 * lua/tapio.lua receives them as its chunk argument and exposes them as
 * tapio.startswith and friends.
 */
#ifndef TAPIO_LUA_TAPIO_LIB_H
#define TAPIO_LUA_TAPIO_LIB_H

#include <lua.h>

/* Push a table of the C helpers. Raises on memory: call it protected.
 * Stack: [-0, +1] */
int tp_lua_open_tapio_c(lua_State *L);

#endif
