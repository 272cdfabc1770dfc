/*
 * lua/lists.h - lists and macros that every rule file of a load shares.
 *
 *   list("SHELLS", { "sh", "bash", "dash" })   -- global SHELLS in every file
 *   append("SHELLS", { "fish" })               -- more entries, in place
 *   macro("is_container", function(e) return e.container.id ~= nil end)
 *
 * A list is one table: SHELLS["bash"] == true (a set), SHELLS[1] == "sh",
 * #SHELLS and ipairs work, and tapio.startswith_any(path, PREFIXES) takes
 * it. Entries are strings. Defining a list again replaces its entries in
 * place, so every rule sees the last definition, even one that kept the
 * table in a local; a macro defined again replaces the global (a file that
 * copied the old function into a local keeps it). The shipped definitions
 * are in rules/lib/, loaded before any rule file; users override or extend
 * them from a file of their own (e.g. /etc/tapio/rules.d/).
 *
 * Lists and macros are globals of every chunk: their names must not be a
 * library's (tapio, string, print...). After the load a list refuses new
 * keys.
 */
#ifndef TAPIO_LUA_LISTS_H
#define TAPIO_LUA_LISTS_H

#include <stddef.h>

#include <lua.h>

struct tp_lua_lists;

struct tp_lua_lists *tp_lua_lists_new(void);
void tp_lua_lists_free(struct tp_lua_lists *ls);

/* The three below take the name and the entries (a list of strings) or the
 * function at idx, return 0 or -EINVAL with err ("list SHELLS: entry 3 is
 * not a string"), and raise on memory (call them from a Lua C function).
 * Stack: [-0, +0] */
int tp_lua_list_define(struct tp_lua_lists *ls, lua_State *L, const char *name, int idx,
		       const char *file, int line, char *err, size_t errlen);
int tp_lua_list_append(struct tp_lua_lists *ls, lua_State *L, const char *name, int idx,
		       const char *file, int line, char *err, size_t errlen);
int tp_lua_macro_define(struct tp_lua_lists *ls, lua_State *L, const char *name, int idx,
			const char *file, int line, char *err, size_t errlen);

/* After the load: lists refuse new keys. Raises on memory. Stack: [-0, +0] */
void tp_lua_lists_freeze(struct tp_lua_lists *ls, lua_State *L);

#endif
