/*
 * Read-only tables of the sandbox: views that raise on writes (the
 * libraries every chunk reads, what tapio.* hands out), how rawset tells
 * them (tp_lua_is_frozen), and the freezing of a chunk's globals after its
 * load.
 */
#include "lua/readonly.h"

#include <stdbool.h>

#include <lauxlib.h>

static const char *key_name(lua_State *L, int idx)
{
	return lua_type(L, idx) == LUA_TSTRING ? lua_tostring(L, idx)
					       : lua_typename(L, lua_type(L, idx));
}

/* Stack: [-0, +0] (raises) */
int tp_lua_ro_newindex(lua_State *L)
{
	return luaL_error(L, "attempt to modify a read-only table (key '%s')", key_name(L, 2));
}

/* Stack: [-0, +0] (raises) */
static int env_newindex(lua_State *L)
{
	return luaL_error(L,
			  "assignment to global '%s' after load: globals are frozen (use a local, "
			  "or a table defined at load time)",
			  key_name(L, 2));
}

/* Stack: [-0, +0] (raises) */
int tp_lua_strict_index(lua_State *L)
{
	return luaL_error(L, "undeclared global '%s'", key_name(L, 2));
}

/* next() over the table a read-only view shows. Stack: [-2, +2 | +1] */
static int ro_next(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 2);
	if (lua_next(L, 1))
		return 2;
	lua_pushnil(L);
	return 1;
}

/* The table behind the view at idx. Stack: [-0, +1] */
static void push_view(lua_State *L, int idx)
{
	if (!lua_getmetatable(L, idx)) {
		lua_pushnil(L);
		return;
	}
	lua_getfield(L, -1, "__index");
	lua_remove(L, -2);
}

/* Stack: [-1, +3] */
static int ro_pairs(lua_State *L)
{
	lua_pushcfunction(L, ro_next);
	push_view(L, 1);
	lua_pushnil(L);
	return 3;
}

/* Stack: [-1, +1] */
static int ro_len(lua_State *L)
{
	push_view(L, 1);
	lua_pushinteger(L, (lua_Integer)lua_rawlen(L, -1));
	return 1;
}

/* A table is read-only for rawset when its metatable's __newindex is one of
 * ours: every read-only table has one (views, frozen tables, environments),
 * and its metatable is protected (__metatable), so no chunk can set or take
 * it. Nothing to keep per table, which a set of them (weak-keyed, traversed
 * by each garbage collection) cost for every view of every event. */
bool tp_lua_is_frozen(lua_State *L, int idx)
{
	lua_CFunction f;

	if (!lua_getmetatable(L, idx))
		return false;
	lua_pushliteral(L, "__newindex");
	lua_rawget(L, -2);
	f = lua_tocfunction(L, -1);
	lua_pop(L, 2);
	return f == tp_lua_ro_newindex || f == env_newindex;
}

/* Make the empty table at proxy a read-only view of the table at view:
 * reads go to it, writes raise, pairs and # see it; frozen for rawset.
 * Stack: [-0, +0] */
static void make_view(lua_State *L, int proxy, int view)
{
	lua_createtable(L, 0, 5); /* metatable */
	lua_pushvalue(L, view);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, tp_lua_ro_newindex);
	lua_setfield(L, -2, "__newindex");
	lua_pushcfunction(L, ro_pairs);
	lua_setfield(L, -2, "__pairs");
	lua_pushcfunction(L, ro_len);
	lua_setfield(L, -2, "__len");
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	lua_setmetatable(L, proxy);
}

/* memo (at memo) maps a table to its view, so shared and cyclic tables get
 * one view each. Stack: [-0, +1] */
static void push_readonly_memo(lua_State *L, int idx, int memo)
{
	int view, proxy;

	idx = lua_absindex(L, idx);
	lua_pushvalue(L, idx);
	if (lua_rawget(L, memo) != LUA_TNIL)
		return;
	lua_pop(L, 1);
	lua_newtable(L); /* proxy */
	proxy = lua_gettop(L);
	lua_pushvalue(L, idx);
	lua_pushvalue(L, proxy);
	lua_rawset(L, memo);
	lua_newtable(L); /* view: a shallow copy with nested tables read-only too */
	view = lua_gettop(L);
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		if (lua_type(L, -1) == LUA_TTABLE) {
			push_readonly_memo(L, -1, memo);
			lua_remove(L, -2);
		}
		lua_pushvalue(L, -2);
		lua_insert(L, -2);
		lua_rawset(L, view);
	}
	make_view(L, proxy, view);
	lua_pop(L, 1); /* view */
}

void tp_lua_wrap_readonly(lua_State *L)
{
	int t = lua_gettop(L);

	lua_createtable(L, 0, 0); /* proxy */
	make_view(L, lua_gettop(L), t);
	lua_replace(L, t);
}

void tp_lua_push_readonly(lua_State *L, int idx)
{
	idx = lua_absindex(L, idx);
	lua_newtable(L);
	push_readonly_memo(L, idx, lua_gettop(L));
	lua_remove(L, -2);
}

void tp_lua_env_freeze(lua_State *L, int idx)
{
	int store;

	idx = lua_absindex(L, idx);
	if (!lua_getmetatable(L, idx))
		return;
	/* __newindex only sees absent keys: move every global into a store
	 * that the now empty environment reads through. */
	lua_newtable(L);
	store = lua_gettop(L);
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		lua_pushvalue(L, -2);
		lua_insert(L, -2);
		lua_rawset(L, store);
	}
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		lua_pop(L, 1);
		lua_pushvalue(L, -1);
		lua_pushnil(L);
		lua_rawset(L, idx);
	}
	lua_createtable(L, 0, 1);
	lua_getfield(L, -3, "__index"); /* lib */
	lua_setfield(L, -2, "__index");
	lua_setmetatable(L, store);
	lua_setfield(L, -2, "__index"); /* env's metatable: __index = store */
	lua_pushcfunction(L, env_newindex);
	lua_setfield(L, -2, "__newindex");
	lua_pop(L, 1);
}
