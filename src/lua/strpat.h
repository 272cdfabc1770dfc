/*
 * lua/strpat.h - string.find, string.match, string.gmatch and string.gsub
 * on lua/pattern.h's step-counting matcher, so that pattern matching is paid
 * from the rule call's instruction budget (a struct tp_pat_budget: the
 * sandbox gives its own, lua/sandbox.h) and a catastrophic pattern ends the call as a timeout
 * instead of stalling the reader. Results and error messages are Lua 5.4's
 * for every call that finishes; a plain find (`plain` set, or no special
 * characters in the pattern) stays a memmem and costs no steps.
 */
#ifndef TAPIO_LUA_STRPAT_H
#define TAPIO_LUA_STRPAT_H

#include <stdint.h>

#include <lua.h>

/* Where matching steps are paid from: the running call's budget. */
struct tp_pat_budget {
	/* Steps the running call may still take (UINT64_MAX: no limit). */
	uint64_t (*left)(void *ctx);
	/* Pay units; raises (does not return) once the budget is spent. */
	void (*charge)(lua_State *L, void *ctx, uint64_t units);
	void *ctx;
};

/*
 * Set find, match, gmatch and gsub in the table at idx (the string library
 * table, which the string metatable's __index reaches too). Steps are paid
 * through budget, which must outlive the state; NULL: unbounded (a plain
 * lua_State, as in the differential tests). May raise (memory).
 * Stack: [-0, +0]
 */
void tp_lua_set_pattern_functions(lua_State *L, int idx, const struct tp_pat_budget *budget);

#endif
