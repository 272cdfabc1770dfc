/*
 * lua/state_lua.h - the state API as rules see it (lua/state.h keeps it).
 *
 * A rule declares what it remembers in its state table, with constructors
 * of the tapio library, and gets the table as the second argument of when:
 *
 *   state = {
 *     runs  = tapio.counter  { window = "30s" },
 *     files = tapio.distinct { window = "5m", max_values = 256 },
 *     drop  = tapio.sequence { "written", "chmod", "exec", within = "2m" },
 *     seen  = tapio.map      { ttl = "10m" },
 *   },
 *   when = function(e, s) return s.runs:add(e) >= 5 end,
 *
 *   counter:add(key [, n]) -> events in the window, this one included
 *   counter:count(key)     -> the same without adding
 *   distinct:add(key, v)   -> distinct values in the window, and whether v is new
 *   distinct:count(key)
 *   sequence:step(key, s)  -> true when step s (a name or 1..n) completes the
 *                             sequence: steps 1..n in order, within the time
 *   sequence:progress(key) -> steps done
 *   map:set(key, v)        -> v: string, number or boolean; nil deletes
 *   map:get(key)           -> the value, or nil when absent or expired
 *   any:reset(key)         -> forget the key (map:del too)
 *
 * Every declaration takes max_keys (the least recently used key goes past
 * it). Times are durations ("500ms", "30s", "5m", "2h") or seconds.
 *
 * Keys: a string, a number, a boolean, the event itself (its process:
 * dropped when the process exits) or tapio.process(pid). A nil key (a field
 * the event does not have) is never counted: the call returns 0 (false,
 * nil) and keeps nothing. Time is the event's.
 */
#ifndef TAPIO_LUA_STATE_LUA_H
#define TAPIO_LUA_STATE_LUA_H

#include <lua.h>

#include "lua/lua_event.h"
#include "lua/state.h"

/* Add tapio.counter, tapio.distinct, tapio.sequence, tapio.map and
 * tapio.process to the table on top (the tapio library's C half). Raises on
 * memory. Stack: [-0, +0] */
void tp_lua_state_open(lua_State *L);

struct tp_lua_state_handle;

/*
 * Bind the declarations of the state table at idx to group g: one object
 * per entry (name = its key); binding is the VM's event (the time and the
 * process of a call). A declaration belongs to one rule: used twice,
 * or not made by a tapio constructor, it is an error (err says which entry).
 * Returns the number of entries bound (handles[] gets them, at most max),
 * or -1. Raises on memory. Stack: [-0, +0]
 */
int tp_lua_state_bind(lua_State *L, int idx, struct tp_state_group *g,
		      struct tp_lua_event *binding, struct tp_lua_state_handle **handles, int max,
		      char *err, size_t errlen);

/* Point a handle at the object of its name in g (a reload that keeps the
 * state of a rule hands it the old group). */
void tp_lua_state_rebind(struct tp_lua_state_handle *h, struct tp_state_group *g);
/* Detach a handle from its object (the rule is gone): using it raises. */
void tp_lua_state_unbind(struct tp_lua_state_handle *h);

/* The tapio.map declared as name among handles[0..n), or NULL (none, or
 * not a map). */
struct tp_lua_state_handle *tp_lua_state_find_map(struct tp_lua_state_handle *const *handles,
						  int n, const char *name);
/* What `s.<map>:set(e, true)` and `s.<map>:get(e) ~= nil` do for the
 * process pid at time now (the event's), from C: a rule's remember and
 * recall (rules/README.md) keep their Lua call for the events that need
 * one. */
void tp_lua_state_mark_process(struct tp_lua_state_handle *h, uint32_t pid, uint64_t now);
bool tp_lua_state_has_process(struct tp_lua_state_handle *h, uint32_t pid, uint64_t now);
/* Does the tapio.map h hold string key s (len bytes) within its ttl? What
 * s.m:get(s) ~= nil asks in Lua. */
bool tp_lua_state_has_str(struct tp_lua_state_handle *h, const char *s, size_t len, uint64_t now);
/* tp_state_map_seen for the string key of len bytes: a rule's
 * skip_repeats. */
bool tp_lua_state_seen(struct tp_lua_state_handle *h, const void *key, size_t len, uint64_t now);

#endif
