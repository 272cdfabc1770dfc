/*
 * lua/readonly.h - read-only tables of the sandbox: views of tables that
 * raise on writes, and the freezing of a chunk's globals after its load.
 * lua/sandbox.h includes it; the functions below the first two are for the
 * sandbox's VM setup only.
 */
#ifndef TAPIO_LUA_READONLY_H
#define TAPIO_LUA_READONLY_H

#include <stdbool.h>

#include <lua.h>

/* The two below may raise (memory): call them inside tp_lua_cpcall. */

/* Make the environment table at idx read-only (writes, rawset fail); reads
 * of undeclared names keep failing. Stack: [-0, +0] */
void tp_lua_env_freeze(lua_State *L, int idx);
/* A read-only view of the table at idx, nested tables included (writes,
 * rawset and setmetatable fail; pairs, ipairs and # work). Stack: [-0, +1] */
void tp_lua_push_readonly(lua_State *L, int idx);

/* Replace the table at the top, a fresh table of plain values that nothing
 * else holds, with a read-only view of it (no copy). Stack: [-1, +1] */
void tp_lua_wrap_readonly(lua_State *L);

/* Is the table at idx read-only (its metatable's __newindex one of ours)? */
bool tp_lua_is_frozen(lua_State *L, int idx);
/* __newindex of a read-only table. Stack: [-0, +0] (raises) */
int tp_lua_ro_newindex(lua_State *L);
/* __index of lib: an undeclared global raises. Stack: [-0, +0] (raises) */
int tp_lua_strict_index(lua_State *L);

#endif
