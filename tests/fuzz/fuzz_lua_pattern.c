/* libFuzzer target: arbitrary pattern/subject pairs through the matcher
 * (exact-size heap copies, so ASan sees any read past either end), with a
 * step allowance; a pair that finishes within it is then compared with the
 * stock Lua 5.4 string library (find, match, gsub): results, their
 * types and error messages must be equal. The stock matcher takes the same
 * steps as ours, so only pairs that finish quickly reach it. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "lua/pattern.h"
#include "lua/strpat.h"

#define STEPS 20000

static lua_State *L;

/* Both results on the stack, from base+1: equal count, types and values. */
static int same_results(int base_a, int na, int base_b, int nb)
{
	if (na != nb)
		return 0;
	for (int i = 1; i <= na; i++) {
		int a = base_a + i, b = base_b + i;

		if (lua_type(L, a) != lua_type(L, b))
			return 0;
		if (!lua_rawequal(L, a, b))
			return 0;
	}
	return 1;
}

/* Run lib.op(s, p, extra) protected; leaves status and results. */
static int call(const char *lib, const char *op, const char *s, size_t sl, const char *p, size_t pl,
		int extra)
{
	int top = lua_gettop(L);

	lua_getglobal(L, lib);
	lua_getfield(L, -1, op);
	lua_remove(L, -2);
	lua_pushlstring(L, s, sl);
	lua_pushlstring(L, p, pl);
	if (!strcmp(op, "gsub"))
		lua_pushliteral(L, "<%0%1>");
	else
		lua_pushinteger(L, extra);
	lua_pushboolean(L, lua_pcall(L, 3, LUA_MULTRET, 0) == LUA_OK);
	lua_insert(L, top + 1);
	return lua_gettop(L) - top;
}

static void compare(const char *op, const char *s, size_t sl, const char *p, size_t pl, int extra)
{
	int base = lua_gettop(L);
	int na = call("ours", op, s, sl, p, pl, extra);
	int nb = call("string", op, s, sl, p, pl, extra);

	if (!same_results(base, na, base + na, nb))
		__builtin_trap();
	lua_settop(L, base);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const ops[] = {"find", "match", "gsub"};
	struct tp_pat m;
	char *p, *s;
	size_t pl, sl, from;
	int anchored, finished = 1;

	if (size < 2)
		return 0;
	if (!L) {
		L = luaL_newstate();
		luaL_openlibs(L);
		lua_newtable(L);
		tp_lua_set_pattern_functions(L, -1, NULL);
		lua_setglobal(L, "ours");
	}
	pl = data[0] % size;
	if (pl > size - 1)
		pl = size - 1;
	sl = size - 1 - pl;
	p = malloc(pl ? pl : 1);
	s = malloc(sl ? sl : 1);
	memcpy(p, data + 1, pl);
	memcpy(s, data + 1 + pl, sl);

	anchored = pl > 0 && p[0] == '^';
	tp_pat_init(&m, s, sl, p + anchored, pl - (size_t)anchored, STEPS);
	for (from = 0; from <= sl; from++) {
		const char *e = tp_pat_match(&m, s + from, p + anchored);

		if (e && (e < s + from || e > s + sl))
			__builtin_trap();
		for (int i = 0; e && i < m.ncap; i++)
			if (m.cap[i].len >= 0 &&
			    (m.cap[i].start < s || m.cap[i].start + m.cap[i].len > s + sl))
				__builtin_trap();
		if (m.err == TP_PAT_E_BUDGET)
			finished = 0;
		if (m.err || anchored)
			break;
	}
	/* Every position was tried, as gsub may: no call below takes more
	 * steps than that, in either library. */
	if (finished)
		for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
			compare(ops[i], s, sl, p, pl, (int)(data[0] % 7) - 3);
	free(p);
	free(s);
	return 0;
}
