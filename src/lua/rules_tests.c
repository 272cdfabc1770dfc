/*
 * The inline tests of a rule set's rules ({ event = {...}, expect, output }),
 * run at every load: the set's enrich functions, then the rule's when, on a
 * synthetic event built from the table (lua/lua_event.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua/load_limits.h"
#include "lua/rules_internal.h"

struct test_args {
	struct tp_ruleset *rs;
	struct rule_fn *rule;
	lua_Integer i;
	int extra;
	bool expect;
	char *want_output;
};

static const char *const test_keys[] = {"event", "expect", "output", NULL};

/* Protected: read test i of the rule and build its event. Stack: [-1, +0] */
static int test_prepare_p(lua_State *L)
{
	struct test_args *a = lua_touserdata(L, 1);

	lua_rawgeti(L, LUA_REGISTRYINDEX, a->rule->tests_ref);
	if (lua_rawgeti(L, -1, a->i) != LUA_TTABLE)
		return luaL_error(L, "not a table { event = {...}, expect = true|false }");
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		if (lua_type(L, -2) != LUA_TSTRING || !known_key(test_keys, lua_tostring(L, -2)))
			return luaL_error(L, "unknown key '%s' (known: event, expect, output)",
					  lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2)
									 : "?");
		lua_pop(L, 1);
	}
	if (lua_getfield(L, -1, "expect") != LUA_TBOOLEAN)
		return luaL_error(L, "expect: true (the rule matches) or false");
	a->expect = lua_toboolean(L, -1);
	lua_pop(L, 1);
	if (lua_getfield(L, -1, "output") != LUA_TNIL) {
		if (lua_type(L, -1) != LUA_TSTRING)
			return luaL_error(L, "output: the expected message, a string");
		a->want_output = strdup(lua_tostring(L, -1));
	}
	lua_pop(L, 1);
	if (lua_getfield(L, -1, "event") != LUA_TTABLE)
		return luaL_error(L, "event: a table with at least a type");
	a->extra = tp_lua_event_from_table(L, -1, &a->rs->test_ev);
	lua_pop(L, 3);
	return 0;
}

static void run_test(struct tp_ruleset *rs, struct rule_fn *r, lua_Integer i)
{
	struct test_args a = {.rs = rs, .rule = r, .i = i, .extra = LUA_NOREF};
	struct tp_event_meta meta = {.importance = -1.0};
	struct slot_index *ix;
	char err[1024];
	enum tp_lua_status st;
	bool matched;

	st = tp_lua_cpcall(rs->vm, test_prepare_p, &a, err, sizeof(err));
	if (st != TP_LUA_OK) {
		tp_rules_problem(rs, r->file, r->line, "rule '%s' test %d: %.*s", r->name, (int)i,
				 first_line_len(err), err);
		goto out;
	}
	if (!has_type(r->types, type_slot(rs->test_ev.type))) {
		tp_rules_problem(rs, r->file, r->line,
				 "rule '%s' test %d: %s is not among the rule's events", r->name,
				 (int)i, rs->test_ev.type->name);
		goto out;
	}
	rs->tests++;
	tp_rules_bind(rs, &rs->test_ev, &meta, a.extra);
	ix = rs->index[type_slot(rs->test_ev.type)];
	for (uint32_t k = 0; ix && k < ix->n[FN_ENRICH]; k++) {
		struct rule_fn *f = &rs->fns[ix->fns[FN_ENRICH][k]];

		st = tp_rules_call(rs, f, err, sizeof(err));
		if (st != TP_LUA_OK) {
			tp_rules_problem(rs, r->file, r->line,
					 "rule '%s' test %d: enrich (%s:%d) failed: %.*s", r->name,
					 (int)i, f->file, f->line, first_line_len(err), err);
			goto unbind;
		}
		lua_pop(rs->L, 1);
	}
	st = tp_rules_call(rs, r, err, sizeof(err));
	if (st != TP_LUA_OK) {
		tp_rules_problem(rs, r->file, r->line, "rule '%s' test %d: when failed: %.*s",
				 r->name, (int)i, first_line_len(err), err);
		goto unbind;
	}
	matched = truthy_bool(rs->L);
	if (matched != a.expect) {
		tp_rules_problem(rs, r->file, r->line, "rule '%s' test %d: expected %s, got %s",
				 r->name, (int)i, a.expect ? "a match" : "no match",
				 matched ? "a match" : "none");
		goto unbind;
	}
	if (a.want_output && matched) {
		st = tp_rules_render(rs, r, err, sizeof(err));
		if (st != TP_LUA_OK || strcmp(tp_buf_cstr(&rs->out), a.want_output))
			tp_rules_problem(rs, r->file, r->line,
					 "rule '%s' test %d: output \"%s\", expected \"%s\"",
					 r->name, (int)i, tp_buf_cstr(&rs->out), a.want_output);
	} else if (a.want_output) {
		tp_rules_problem(rs, r->file, r->line,
				 "rule '%s' test %d: output given but no match expected", r->name,
				 (int)i);
	}
unbind:
	tp_rules_unbind(rs, &meta);
out:
	if (a.extra != LUA_NOREF)
		luaL_unref(rs->L, LUA_REGISTRYINDEX, a.extra);
	free(a.want_output);
}

void tp_rules_run_tests(struct tp_ruleset *rs)
{
	size_t total = 0;
	char err[192];

	for (size_t k = 0; k < rs->nfns; k++) {
		struct rule_fn *r = &rs->fns[k];
		lua_Integer n;

		if (r->kind != FN_RULE || !r->enabled || r->tests_ref == LUA_NOREF)
			continue;
		lua_rawgeti(rs->L, LUA_REGISTRYINDEX, r->tests_ref);
		n = (lua_Integer)lua_rawlen(rs->L, -1);
		lua_pop(rs->L, 1);
		total += (size_t)n;
		if (tp_load_check(TP_LOAD_TESTS_TOTAL, total, err, sizeof(err)) < 0) {
			tp_rules_problem(rs, r->file, r->line, "rule '%s': %s", r->name, err);
			return;
		}
		for (lua_Integer i = 1; i <= n; i++) {
			if (tp_rules_cancelled(rs))
				return;
			run_test(rs, r, i);
		}
	}
}
