#include "lua/lists.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "lua/sandbox.h"

#define NAME_MAX_LEN 64
#define ENTRIES_MAX  100000

struct def {
	char name[NAME_MAX_LEN];
	bool is_list;
	int ref; /* the list's table (registry) */
	char *file;
	int line;
};

struct tp_lua_lists {
	struct def *defs;
	size_t n, cap;
};

struct tp_lua_lists *tp_lua_lists_new(void)
{
	return calloc(1, sizeof(struct tp_lua_lists));
}

void tp_lua_lists_free(struct tp_lua_lists *ls)
{
	if (!ls)
		return;
	for (size_t i = 0; i < ls->n; i++)
		free(ls->defs[i].file);
	free(ls->defs);
	free(ls);
}

static struct def *find(struct tp_lua_lists *ls, const char *name)
{
	for (size_t i = 0; i < ls->n; i++)
		if (!strcmp(ls->defs[i].name, name))
			return &ls->defs[i];
	return NULL;
}

static bool valid_name(const char *s)
{
	if (!*s || strlen(s) >= NAME_MAX_LEN || !(isalpha((unsigned char)*s) || *s == '_'))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

/* A new definition, or the existing one of that name and kind. */
static struct def *define(struct tp_lua_lists *ls, lua_State *L, const char *what,
			  const char *name, bool is_list, const char *file, int line, char *err,
			  size_t errlen)
{
	struct def *d = find(ls, name);

	if (!valid_name(name)) {
		snprintf(err, errlen, "%s: '%s' is not a name (letters, digits, _)", what, name);
		return NULL;
	}
	if (d && d->is_list != is_list) {
		snprintf(err, errlen, "%s %s: already a %s (%s:%d)", what, name,
			 d->is_list ? "list" : "macro", d->file, d->line);
		return NULL;
	}
	if (!d) {
		tp_lua_get_shared(L, name);
		if (!lua_isnil(L, -1)) {
			lua_pop(L, 1);
			snprintf(err, errlen, "%s %s: the name of a library (pick another)", what,
				 name);
			return NULL;
		}
		lua_pop(L, 1);
		if (ls->n == ls->cap) {
			size_t cap = ls->cap ? 2 * ls->cap : 32;
			struct def *nd = realloc(ls->defs, cap * sizeof(*nd));

			if (!nd)
				luaL_error(L, "out of memory");
			ls->defs = nd;
			ls->cap = cap;
		}
		d = &ls->defs[ls->n++];
		memset(d, 0, sizeof(*d));
		snprintf(d->name, sizeof(d->name), "%s", name);
		d->is_list = is_list;
		d->ref = LUA_NOREF;
	}
	free(d->file);
	d->file = strdup(file ? file : "?");
	d->line = line;
	return d;
}

/* Check the entries at idx: a list of strings. */
static int check_entries(lua_State *L, int idx, const char *what, const char *name, char *err,
			 size_t errlen)
{
	lua_Integer n;

	if (lua_type(L, idx) != LUA_TTABLE) {
		snprintf(err, errlen, "%s %s: want a list of strings, e.g. { \"a\", \"b\" }", what,
			 name);
		return -EINVAL;
	}
	n = (lua_Integer)lua_rawlen(L, idx);
	if (n > ENTRIES_MAX) {
		snprintf(err, errlen, "%s %s: more than %d entries", what, name, ENTRIES_MAX);
		return -EINVAL;
	}
	for (lua_Integer i = 1; i <= n; i++) {
		int t = lua_rawgeti(L, idx, i);

		lua_pop(L, 1);
		if (t != LUA_TSTRING) {
			snprintf(err, errlen, "%s %s: entry %d is not a string", what, name, (int)i);
			return -EINVAL;
		}
	}
	/* Keys other than 1..n would be lost: say so. */
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		bool ok = lua_isinteger(L, -2) && lua_tointeger(L, -2) >= 1 &&
			  lua_tointeger(L, -2) <= n;

		lua_pop(L, 1);
		if (!ok) {
			lua_pop(L, 1);
			snprintf(err, errlen, "%s %s: want a list of strings, not a table with keys",
				 what, name);
			return -EINVAL;
		}
	}
	return 0;
}

/* Add the entries at idx to the list table at t: array and set parts. */
static void add_entries(lua_State *L, int t, int idx)
{
	lua_Integer n = (lua_Integer)lua_rawlen(L, idx), len = (lua_Integer)lua_rawlen(L, t);

	for (lua_Integer i = 1; i <= n; i++) {
		lua_rawgeti(L, idx, i);
		lua_pushvalue(L, -1);
		if (lua_rawget(L, t) != LUA_TNIL) { /* already in */
			lua_pop(L, 2);
			continue;
		}
		lua_pop(L, 1);
		lua_pushvalue(L, -1);
		lua_rawseti(L, t, ++len);
		lua_pushboolean(L, 1);
		lua_rawset(L, t);
	}
}

int tp_lua_list_define(struct tp_lua_lists *ls, lua_State *L, const char *name, int idx,
		       const char *file, int line, char *err, size_t errlen)
{
	struct def *d;
	int t;

	idx = lua_absindex(L, idx);
	if (check_entries(L, idx, "list", name, err, errlen) < 0)
		return -EINVAL;
	d = define(ls, L, "list", name, true, file, line, err, errlen);
	if (!d)
		return -EINVAL;
	if (d->ref == LUA_NOREF) {
		lua_newtable(L);
		lua_pushvalue(L, -1);
		d->ref = luaL_ref(L, LUA_REGISTRYINDEX);
		lua_pushvalue(L, -1);
		tp_lua_set_shared(L, d->name);
	} else {
		/* Defined again: the same table, emptied, so that every rule that
		 * holds it sees the new entries. */
		lua_rawgeti(L, LUA_REGISTRYINDEX, d->ref);
		lua_pushnil(L);
		while (lua_next(L, -2)) {
			lua_pop(L, 1);
			lua_pushvalue(L, -1);
			lua_pushnil(L);
			lua_rawset(L, -4);
		}
	}
	t = lua_gettop(L);
	add_entries(L, t, idx);
	lua_pop(L, 1);
	return 0;
}

int tp_lua_list_append(struct tp_lua_lists *ls, lua_State *L, const char *name, int idx,
		       const char *file, int line, char *err, size_t errlen)
{
	struct def *d = find(ls, name);

	(void)file;
	(void)line;
	idx = lua_absindex(L, idx);
	if (!d || !d->is_list) {
		snprintf(err, errlen, "append %s: no list of that name%s", name,
			 d ? " (it is a macro)" : " (define it with list() first)");
		return -EINVAL;
	}
	if (check_entries(L, idx, "append", name, err, errlen) < 0)
		return -EINVAL;
	lua_rawgeti(L, LUA_REGISTRYINDEX, d->ref);
	add_entries(L, lua_gettop(L), idx);
	lua_pop(L, 1);
	return 0;
}

int tp_lua_macro_define(struct tp_lua_lists *ls, lua_State *L, const char *name, int idx,
			const char *file, int line, char *err, size_t errlen)
{
	struct def *d;

	idx = lua_absindex(L, idx);
	if (lua_type(L, idx) != LUA_TFUNCTION) {
		snprintf(err, errlen, "macro %s: want a function, e.g. macro(\"%s\", function(e) "
				      "... end)",
			 name, name);
		return -EINVAL;
	}
	d = define(ls, L, "macro", name, false, file, line, err, errlen);
	if (!d)
		return -EINVAL;
	lua_pushvalue(L, idx);
	tp_lua_set_shared(L, d->name);
	return 0;
}

void tp_lua_lists_freeze(struct tp_lua_lists *ls, lua_State *L)
{
	for (size_t i = 0; i < ls->n; i++) {
		if (!ls->defs[i].is_list)
			continue;
		lua_rawgeti(L, LUA_REGISTRYINDEX, ls->defs[i].ref);
		tp_lua_freeze_table(L, -1);
		lua_pop(L, 1);
	}
}
