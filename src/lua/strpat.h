/*
 * lua/strpat.h - string.find, string.match, string.gmatch and string.gsub
 * on lua/pattern.h's step-counting matcher, so that pattern matching is paid
 * from the rule call's instruction budget (see tp_lua_budget_charge in
 * lua/sandbox.h) and a catastrophic pattern ends the call as a timeout
 * instead of stalling the reader. Results and error messages are Lua 5.4's
 * for every call that finishes; a plain find (`plain` set, or no special
 * characters in the pattern) stays a memmem and costs no steps.
 */
#ifndef TAPIO_LUA_STRPAT_H
#define TAPIO_LUA_STRPAT_H

#include <lua.h>

struct tp_lua_vm;

/*
 * Set find, match, gmatch and gsub in the table at idx (the string library
 * table, which the string metatable's __index reaches too). Steps are charged
 * to vm's running call; vm NULL: unbounded (a plain lua_State, as in the
 * differential tests). May raise (memory). Stack: [-0, +0]
 */
void tp_lua_set_pattern_functions(lua_State *L, int idx, struct tp_lua_vm *vm);

#endif
