#include "lua/tapio_lib.h"

#include <stdbool.h>
#include <string.h>

#include <lauxlib.h>

#include "lua/state_lua.h"
#include "util/file.h"

/* nil and non-strings are never a match: rules pass fields that may be
 * absent. Stack: [-0, +0] */
static const char *opt_string(lua_State *L, int idx, size_t *n)
{
	return lua_type(L, idx) == LUA_TSTRING ? lua_tolstring(L, idx, n) : NULL;
}

/* startswith(s, prefix). Stack: [-2, +1] */
static int l_startswith(lua_State *L)
{
	size_t n, pn;
	const char *s = opt_string(L, 1, &n);
	const char *p = luaL_checklstring(L, 2, &pn);

	lua_pushboolean(L, s && n >= pn && !memcmp(s, p, pn));
	return 1;
}

/* endswith(s, suffix). Stack: [-2, +1] */
static int l_endswith(lua_State *L)
{
	size_t n, pn;
	const char *s = opt_string(L, 1, &n);
	const char *p = luaL_checklstring(L, 2, &pn);

	lua_pushboolean(L, s && n >= pn && !memcmp(s + n - pn, p, pn));
	return 1;
}

/* contains(s, needle): plain substring. Stack: [-2, +1] */
static int l_contains(lua_State *L)
{
	size_t n, pn;
	const char *s = opt_string(L, 1, &n);
	const char *p = luaL_checklstring(L, 2, &pn);

	lua_pushboolean(L, s && memmem(s, n, p, pn) != NULL);
	return 1;
}

/* startswith_any(s, list). Stack: [-2, +1] */
static int l_startswith_any(lua_State *L)
{
	size_t n, pn;
	const char *s = opt_string(L, 1, &n);
	lua_Integer len;
	bool hit = false;

	luaL_checktype(L, 2, LUA_TTABLE);
	len = (lua_Integer)lua_rawlen(L, 2);
	/* The hot loop of the shared path checks (a few calls per event, ~5
	 * entries each): entries are popped 16 at a time (a C function has
	 * LUA_MINSTACK free slots), and a prefix whose last byte differs is
	 * turned away before memcmp. */
	for (lua_Integer i = 1; s && !hit && i <= len; i++) {
		const char *p;

		if ((i & 15) == 0)
			lua_settop(L, 2);
		if (lua_rawgeti(L, 2, i) != LUA_TSTRING)
			return luaL_error(L, "startswith_any: entry %d of the list is not a string",
					  (int)i);
		p = lua_tolstring(L, -1, &pn);
		hit = n >= pn && (!pn || s[pn - 1] == p[pn - 1]) && !memcmp(s, p, pn);
	}
	lua_pushboolean(L, hit);
	return 1;
}

/* basename("/usr/bin/curl") == "curl"; trailing slashes ignored; nil stays
 * nil. Stack: [-1, +1] */
static int l_basename(lua_State *L)
{
	size_t n;
	const char *s = opt_string(L, 1, &n);

	if (!s) {
		lua_pushnil(L);
		return 1;
	}
	s = tp_path_base(s, n, &n);
	lua_pushlstring(L, s, n);
	return 1;
}

int tp_lua_open_tapio_c(lua_State *L)
{
	static const luaL_Reg fns[] = {
	    {"startswith", l_startswith}, {"endswith", l_endswith},
	    {"contains", l_contains},	  {"startswith_any", l_startswith_any},
	    {"basename", l_basename},	  {NULL, NULL},
	};

	luaL_newlib(L, fns);
	tp_lua_state_open(L); /* counter, distinct, sequence, map, process */
	return 1;
}
