#include "lua/strpat.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include <lauxlib.h>

#include "lua/pattern.h"

/*
 * One pattern function call: the matcher, and the share of the budget it
 * was given. Steps are charged to the VM when the call settles: before it
 * returns, raises, or runs Lua code (a gsub replacement function), so that
 * code and matching draw from one budget.
 */
struct pat_call {
	struct tp_pat m;
	const struct tp_pat_budget *budget; /* NULL: unbounded */
	uint64_t granted;
};

static uint64_t allowance(const struct tp_pat_budget *b)
{
	return b ? b->left(b->ctx) : UINT64_MAX;
}

static void call_begin(struct pat_call *c, const struct tp_pat_budget *b, const char *s,
		       size_t ls, const char *p, size_t lp)
{
	c->budget = b;
	c->granted = allowance(b);
	tp_pat_init(&c->m, s, ls, p, lp, c->granted);
}

/* Charge the steps taken, then raise if the matcher failed: a spent budget
 * as the count hook does (the script cannot catch it), a malformed pattern
 * as Lua's message. Stack: [-0, +0] (may raise) */
static void call_settle(lua_State *L, struct pat_call *c)
{
	uint64_t used = c->granted - c->m.steps_left;
	char msg[96];

	if (c->budget && (used || c->m.err == TP_PAT_E_BUDGET))
		c->budget->charge(L, c->budget->ctx, used);
	c->granted = allowance(c->budget);
	c->m.steps_left = c->granted;
	if (c->m.err) {
		if (c->m.err == TP_PAT_E_BUDGET) /* only without a VM: cannot happen */
			luaL_error(L, "instruction budget exceeded");
		luaL_error(L, "%s", tp_pat_strerror(&c->m, msg, sizeof(msg)));
	}
}

/* Lua 5.4's reading of a start position: negative counts from the end,
 * 0 and anything before the start mean 1. */
static size_t start_index(lua_Integer pos, size_t len)
{
	if (pos > 0)
		return (size_t)pos;
	if (pos == 0 || pos < -(lua_Integer)len)
		return 1;
	return len + (size_t)pos + 1;
}

/* Capture i of the last match; without captures, capture 0 is the whole
 * match [s, e). Stack: [-0, +1] (may raise) */
static void push_capture(lua_State *L, const struct pat_call *c, int i, const char *s,
			 const char *e)
{
	const struct tp_pat_capture *cap;

	if (i >= c->m.ncap) {
		if (i != 0)
			luaL_error(L, "invalid capture index %%%d", i + 1);
		lua_pushlstring(L, s, (size_t)(e - s));
		return;
	}
	cap = &c->m.cap[i];
	if (cap->len == TP_PAT_CAP_OPEN)
		luaL_error(L, "unfinished capture");
	if (cap->len == TP_PAT_CAP_POSITION)
		lua_pushinteger(L, (lua_Integer)(cap->start - c->m.subj) + 1);
	else
		lua_pushlstring(L, cap->start, (size_t)cap->len);
}

/* All captures, or the whole match when there are none and s is given.
 * Stack: [-0, +n] (may raise) */
static int push_captures(lua_State *L, const struct pat_call *c, const char *s, const char *e)
{
	int n = (c->m.ncap == 0 && s) ? 1 : c->m.ncap;

	luaL_checkstack(L, n, "too many captures");
	for (int i = 0; i < n; i++)
		push_capture(L, c, i, s, e);
	return n;
}

static const struct tp_pat_budget *upvalue_budget(lua_State *L, int idx)
{
	return lua_touserdata(L, lua_upvalueindex(idx));
}

/* find(s, p [, init [, plain]]) and match(s, p [, init]).
 * Stack: [-(2..4), +(1..n)] */
static int find_or_match(lua_State *L, int find)
{
	size_t ls, lp;
	const char *s = luaL_checklstring(L, 1, &ls);
	const char *p = luaL_checklstring(L, 2, &lp);
	size_t init = start_index(luaL_optinteger(L, 3, 1), ls) - 1;
	struct pat_call c;
	const char *from, *e;
	int anchored;

	if (init > ls) {
		luaL_pushfail(L);
		return 1;
	}
	if (find && (lua_toboolean(L, 4) || tp_pat_is_plain(p, lp))) {
		const char *hit = memmem(s + init, ls - init, p, lp);
		const struct tp_pat_budget *b = upvalue_budget(L, 1);

		/* Linear, but a loop of them over a long subject adds up: a unit
		 * per 64 bytes searched. */
		if (b)
			b->charge(L, b->ctx,
				  1 + (size_t)((hit ? hit + lp : s + ls) - (s + init)) / 64);
		if (!hit) {
			luaL_pushfail(L);
			return 1;
		}
		lua_pushinteger(L, (lua_Integer)(hit - s) + 1);
		lua_pushinteger(L, (lua_Integer)(hit - s) + (lua_Integer)lp);
		return 2;
	}
	anchored = lp > 0 && *p == '^';
	if (anchored) {
		p++;
		lp--;
	}
	call_begin(&c, upvalue_budget(L, 1), s, ls, p, lp);
	from = s + init;
	e = tp_pat_search(&c.m, &from, p, anchored);
	call_settle(L, &c);
	if (!e) {
		luaL_pushfail(L);
		return 1;
	}
	if (!find)
		return push_captures(L, &c, from, e);
	lua_pushinteger(L, (lua_Integer)(from - s) + 1);
	lua_pushinteger(L, (lua_Integer)(e - s));
	return push_captures(L, &c, NULL, NULL) + 2;
}

/* Stack: [-(2..4), +(1..n)] */
static int pat_find(lua_State *L)
{
	return find_or_match(L, 1);
}

/* Stack: [-(2..3), +(1..n)] */
static int pat_match(lua_State *L)
{
	return find_or_match(L, 0);
}

/* Where a gmatch iteration goes on: offsets, the strings are upvalues. */
struct gmatch_pos {
	size_t next;
	size_t last_end; /* end of the last match, or SIZE_MAX */
};

/* The gmatch iterator. Upvalues: subject, pattern, position, budget.
 * Stack: [-0, +n] */
static int gmatch_next(lua_State *L)
{
	size_t ls, lp;
	const char *s = lua_tolstring(L, lua_upvalueindex(1), &ls);
	const char *p = lua_tolstring(L, lua_upvalueindex(2), &lp);
	struct gmatch_pos *pos = lua_touserdata(L, lua_upvalueindex(3));
	struct pat_call c;
	const char *e = NULL;
	size_t from;

	call_begin(&c, upvalue_budget(L, 4), s, ls, p, lp);
	for (from = pos->next; from <= ls; from++) {
		e = tp_pat_match(&c.m, s + from, p);
		if (c.m.err)
			break;
		if (e && (size_t)(e - s) != pos->last_end)
			break;
		e = NULL;
	}
	call_settle(L, &c);
	if (!e) {
		pos->next = ls + 1;
		return 0;
	}
	pos->next = pos->last_end = (size_t)(e - s);
	return push_captures(L, &c, s + from, e);
}

/* gmatch(s, p [, init]): '^' is an ordinary character here, as in Lua.
 * Upvalue 1: budget. Stack: [-(2..3), +1] */
static int pat_gmatch(lua_State *L)
{
	size_t ls;
	struct gmatch_pos *pos;
	size_t init;

	luaL_checklstring(L, 1, &ls);
	luaL_checkstring(L, 2);
	init = start_index(luaL_optinteger(L, 3, 1), ls) - 1;
	lua_settop(L, 2);
	pos = lua_newuserdatauv(L, sizeof(*pos), 0);
	pos->next = init > ls ? ls + 1 : init;
	pos->last_end = SIZE_MAX;
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_pushcclosure(L, gmatch_next, 4);
	return 1;
}

/* Append the replacement string (at 3) for the match [s, e): %0-%9 and %%.
 * Stack: [-0, +0] (the buffer's own use aside; may raise) */
static void add_template(lua_State *L, luaL_Buffer *b, const struct pat_call *c, const char *s,
			 const char *e)
{
	size_t len;
	const char *t = lua_tolstring(L, 3, &len);
	const char *end = t + len;
	const char *pct;

	while ((pct = memchr(t, '%', (size_t)(end - t))) != NULL) {
		char d;

		luaL_addlstring(b, t, (size_t)(pct - t));
		d = pct + 1 < end ? pct[1] : '\0';
		if (d == '%') {
			luaL_addchar(b, '%');
		} else if (d == '0') {
			luaL_addlstring(b, s, (size_t)(e - s));
		} else if (isdigit((unsigned char)d)) {
			push_capture(L, c, d - '1', s, e);
			luaL_addvalue(b); /* a position capture is a number: converted */
		} else {
			luaL_error(L, "invalid use of '%c' in replacement string", '%');
		}
		t = pct + 2;
	}
	luaL_addlstring(b, t, (size_t)(end - t));
}

/* Append what replaces the match [s, e); returns whether it changed the
 * text. Stack: [-0, +0] (the buffer's own use aside; may raise) */
static int add_replacement(lua_State *L, luaL_Buffer *b, struct pat_call *c, const char *s,
			   const char *e, int kind)
{
	if (kind == LUA_TFUNCTION) {
		int n;

		call_settle(L, c); /* the function's instructions come after the steps */
		lua_pushvalue(L, 3);
		n = push_captures(L, c, s, e);
		lua_call(L, n, 1);
	} else if (kind == LUA_TTABLE) {
		call_settle(L, c); /* __index may run Lua code */
		push_capture(L, c, 0, s, e);
		lua_gettable(L, 3);
	} else {
		add_template(L, b, c, s, e);
		return 1;
	}
	if (kind == LUA_TFUNCTION || kind == LUA_TTABLE)
		c->granted = c->m.steps_left = allowance(c->budget);
	if (!lua_toboolean(L, -1)) {
		lua_pop(L, 1);
		luaL_addlstring(b, s, (size_t)(e - s));
		return 0;
	}
	if (!lua_isstring(L, -1))
		return luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
	luaL_addvalue(b);
	return 1;
}

/* gsub(s, p, repl [, n]). Upvalue 1: budget. Stack: [-(3..4), +2] */
static int pat_gsub(lua_State *L)
{
	size_t ls, lp;
	const char *s = luaL_checklstring(L, 1, &ls);
	const char *p = luaL_checklstring(L, 2, &lp);
	const char *src = s, *last = NULL;
	int kind = lua_type(L, 3);
	lua_Integer max = luaL_optinteger(L, 4, (lua_Integer)ls + 1);
	lua_Integer n = 0;
	int changed = 0, anchored;
	struct pat_call c;
	luaL_Buffer b;

	luaL_argexpected(L,
			 kind == LUA_TNUMBER || kind == LUA_TSTRING || kind == LUA_TFUNCTION ||
			     kind == LUA_TTABLE,
			 3, "string/function/table");
	luaL_buffinit(L, &b);
	anchored = lp > 0 && *p == '^';
	if (anchored) {
		p++;
		lp--;
	}
	call_begin(&c, upvalue_budget(L, 1), s, ls, p, lp);
	while (n < max) {
		const char *e = tp_pat_match(&c.m, src, p);

		if (c.m.err)
			call_settle(L, &c); /* raises */
		if (e && e != last) {
			n++;
			changed |= add_replacement(L, &b, &c, src, e, kind);
			src = last = e;
		} else if (src < s + ls) {
			luaL_addchar(&b, *src++);
		} else {
			break;
		}
		if (anchored)
			break;
	}
	call_settle(L, &c);
	if (!changed) {
		lua_pushvalue(L, 1);
	} else {
		luaL_addlstring(&b, src, (size_t)(s + ls - src));
		luaL_pushresult(&b);
	}
	lua_pushinteger(L, n);
	return 2;
}

void tp_lua_set_pattern_functions(lua_State *L, int idx, const struct tp_pat_budget *budget)
{
	static const luaL_Reg fns[] = {
	    {"find", pat_find},
	    {"match", pat_match},
	    {"gmatch", pat_gmatch},
	    {"gsub", pat_gsub},
	};

	idx = lua_absindex(L, idx);
	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		lua_pushlightuserdata(L, (void *)budget);
		lua_pushcclosure(L, fns[i].func, 1);
		lua_setfield(L, idx, fns[i].name);
	}
}
