/*
 * The inline tests of a rule set's rules, run at every load: the set's
 * enrich functions, then the rule's when, on synthetic events built from
 * tables (lua/lua_event.h).
 *
 *   { event = {...}, expect = true|false, output = "..." }
 *   { events = { {...}, {..., at = "10s"}, {..., times = 5} }, expect = 3 }
 *
 * A test with a list of events feeds them in order to a fresh state of the
 * rule: `at` is the time since the first event (a duration or seconds; by
 * default 1 ms after the one before), `times` repeats an event (1 ms apart).
 * expect is the number of the event (after repeats) that raises the alert,
 * a list of them, true for the last event only, or false for none; every
 * other event must raise nothing. output is checked on the last alert.
 *
 * Exceptions apply in a rule's tests when they come from the rule's own
 * file (shipped tests of shipped exceptions); a user's exceptions do not
 * break the shipped tests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua/load_limits.h"
#include "events/proc_ctx.h"
#include "lua/rules_internal.h"
#include "util/time.h"

#define TEST_EVENTS_MAX 10000
/* Test events happen at a wall-clock time like real ones. */
#define TEST_EPOCH_NS (1700000000ull * TP_NSEC_PER_SEC)

struct test_args {
	struct tp_ruleset *rs;
	struct rule_fn *rule;
	lua_Integer i;
	int extra;
	bool expect;
	char *want_output;
	/* A list of events: the expanded events (registry ref of a list of
	 * { event copy, time }), and which ones must alert. */
	int events_ref;
	lua_Integer nevents;
	bool *want; /* [1..nevents] */
	lua_Integer j; /* the event being built */
	uint64_t ts;
};

static const char *const test_keys[] = {"event", "events", "expect", "output", NULL};

/* The time since the first event at idx: seconds or a duration. */
static uint64_t test_offset(lua_State *L, int idx, lua_Integer n)
{
	uint64_t ns;

	if (lua_type(L, idx) == LUA_TNUMBER) {
		double s = lua_tonumber(L, idx);

		if (!(s >= 0 && s < 1e9))
			luaL_error(L, "events[%d]: at: seconds from the first event, 0 or more", (int)n);
		return (uint64_t)(s * 1e9);
	}
	if (lua_type(L, idx) != LUA_TSTRING || tp_parse_duration(lua_tostring(L, idx), &ns) < 0)
		luaL_error(L, "events[%d]: at: a duration since the first event (\"10s\") or seconds",
			   (int)n);
	return ns;
}

/* Expand the events list at idx into a list of { copy, time } (the copy
 * without at and times) in the registry. Stack: [-0, +0] */
static void expand_events(lua_State *L, int idx, struct test_args *a)
{
	lua_Integer n = (lua_Integer)lua_rawlen(L, idx), out = 0;
	uint64_t t = TEST_EPOCH_NS;

	if (!n)
		luaL_error(L, "events: a list of event tables");
	lua_newtable(L);
	for (lua_Integer i = 1; i <= n; i++) {
		lua_Integer times = 1;

		if (lua_rawgeti(L, idx, i) != LUA_TTABLE)
			luaL_error(L, "events[%d]: an event table", (int)i);
		if (lua_getfield(L, -1, "at") != LUA_TNIL)
			t = TEST_EPOCH_NS + test_offset(L, -1, i);
		else if (out)
			t += TP_NSEC_PER_MSEC;
		lua_pop(L, 1);
		if (lua_getfield(L, -1, "times") != LUA_TNIL) {
			int ok;

			times = lua_tointegerx(L, -1, &ok);
			if (!ok || times < 1 || times > TEST_EVENTS_MAX)
				luaL_error(L, "events[%d]: times: 1 to %d", (int)i, TEST_EVENTS_MAX);
		}
		lua_pop(L, 1);
		/* A copy without the test's own keys. */
		lua_newtable(L);
		lua_pushnil(L);
		while (lua_next(L, -3)) {
			const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";

			if (strcmp(k, "at") && strcmp(k, "times")) {
				lua_pushvalue(L, -2);
				lua_insert(L, -2);
				lua_rawset(L, -4);
			} else {
				lua_pop(L, 1);
			}
		}
		for (lua_Integer r = 0; r < times; r++) {
			if (++out > TEST_EVENTS_MAX)
				luaL_error(L, "events: more than %d", TEST_EVENTS_MAX);
			if (r)
				t += TP_NSEC_PER_MSEC;
			lua_createtable(L, 2, 0);
			lua_pushvalue(L, -2);
			lua_rawseti(L, -2, 1);
			lua_pushinteger(L, (lua_Integer)t);
			lua_rawseti(L, -2, 2);
			lua_rawseti(L, -4, out);
		}
		lua_pop(L, 2); /* copy, entry */
	}
	a->nevents = out;
	a->events_ref = luaL_ref(L, LUA_REGISTRYINDEX);
}

/* expect of a list test: which events alert. Stack: [-0, +0] */
static void read_expect_list(lua_State *L, int idx, struct test_args *a)
{
	a->want = calloc((size_t)a->nevents + 1, sizeof(*a->want));
	if (!a->want)
		luaL_error(L, "out of memory");
	if (lua_type(L, idx) == LUA_TBOOLEAN) {
		if (lua_toboolean(L, idx))
			a->want[a->nevents] = true;
		return;
	}
	if (lua_isinteger(L, idx)) {
		lua_Integer k = lua_tointeger(L, idx);

		if (k < 1 || k > a->nevents)
			luaL_error(L, "expect: event %d of %d", (int)k, (int)a->nevents);
		a->want[k] = true;
		return;
	}
	if (lua_type(L, idx) == LUA_TTABLE) {
		lua_Integer n = (lua_Integer)lua_rawlen(L, idx);

		for (lua_Integer i = 1; i <= n; i++) {
			lua_Integer k;
			int ok;

			lua_rawgeti(L, idx, i);
			k = lua_tointegerx(L, -1, &ok);
			lua_pop(L, 1);
			if (!ok || k < 1 || k > a->nevents)
				luaL_error(L, "expect: a list of event numbers from 1 to %d",
					   (int)a->nevents);
			a->want[k] = true;
		}
		return;
	}
	luaL_error(L, "expect: the number of the event that alerts, a list of them, true (the "
		      "last) or false (none)");
}

/* Protected: read test i of the rule and build its event (or expand its
 * events). Stack: [-1, +0] */
static int test_prepare_p(lua_State *L)
{
	struct test_args *a = lua_touserdata(L, 1);

	lua_rawgeti(L, LUA_REGISTRYINDEX, a->rule->tests_ref);
	if (lua_rawgeti(L, -1, a->i) != LUA_TTABLE)
		return luaL_error(L, "not a table { event = {...}, expect = true|false }");
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		if (lua_type(L, -2) != LUA_TSTRING || !known_key(test_keys, lua_tostring(L, -2)))
			return luaL_error(L,
					  "unknown key '%s' (known: event, events, expect, output)",
					  lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2)
									 : "?");
		lua_pop(L, 1);
	}
	if (lua_getfield(L, -1, "output") != LUA_TNIL) {
		if (lua_type(L, -1) != LUA_TSTRING)
			return luaL_error(L, "output: the expected message, a string");
		a->want_output = strdup(lua_tostring(L, -1));
	}
	lua_pop(L, 1);
	if (lua_getfield(L, -1, "events") != LUA_TNIL) {
		if (lua_type(L, -1) != LUA_TTABLE)
			return luaL_error(L, "events: a list of event tables");
		expand_events(L, lua_gettop(L), a);
		lua_getfield(L, -2, "expect");
		read_expect_list(L, -1, a);
		lua_pop(L, 4);
		return 0;
	}
	lua_pop(L, 1);
	if (lua_getfield(L, -1, "expect") != LUA_TBOOLEAN)
		return luaL_error(L, "expect: true (the rule matches) or false");
	a->expect = lua_toboolean(L, -1);
	lua_pop(L, 1);
	if (lua_getfield(L, -1, "event") != LUA_TTABLE)
		return luaL_error(L, "event (a table with at least a type) or events (a list)");
	a->extra = tp_lua_event_from_table(L, -1, &a->rs->test_ev);
	lua_pop(L, 3);
	return 0;
}

/* Protected: build event a->j of the expanded list. Stack: [-1, +0] */
static int test_event_p(lua_State *L)
{
	struct test_args *a = lua_touserdata(L, 1);

	lua_rawgeti(L, LUA_REGISTRYINDEX, a->events_ref);
	lua_rawgeti(L, -1, a->j);
	lua_rawgeti(L, -1, 2);
	a->ts = (uint64_t)lua_tointeger(L, -1);
	lua_pop(L, 1);
	lua_rawgeti(L, -1, 1);
	a->extra = tp_lua_event_from_table(L, -1, &a->rs->test_ev);
	lua_pop(L, 3);
	return 0;
}

/* Excepted by an exception of the rule's own file. */
static bool own_exception(const struct rule_fn *r, const struct tp_event *ev,
			  const struct tp_event_meta *meta)
{
	for (size_t i = 0; i < r->nexceptions; i++)
		if (!strcmp(tp_exception_file(r->exceptions[i]), r->file) &&
		    tp_exception_match(r->exceptions[i], ev, meta))
			return true;
	return false;
}

/* What enrichment would know of a test event's process, from its extras
 * (exe, argv, parent, ancestors, container, k8s), so that match = {} and
 * exceptions see in a test what they see live. Strings are borrowed from
 * the extras table, which outlives the test's one run. */
#define TEST_ANCESTORS_MAX 8

struct test_proc {
	struct tp_proc_ctx pc;
	struct tp_proc_ref parent;
	struct tp_proc_ref ancestors[TEST_ANCESTORS_MAX];
	struct tp_container_ctx container;
	struct tp_k8s_ctx k8s;
	char argv[4096];
};

static const char *table_str(lua_State *L, int t, const char *key)
{
	const char *s = NULL;

	if (lua_getfield(L, t, key) == LUA_TSTRING)
		s = lua_tostring(L, -1); /* still referenced by the table */
	lua_pop(L, 1);
	return s;
}

static void table_ref(lua_State *L, int t, struct tp_proc_ref *ref, uint32_t pid)
{
	ref->comm = table_str(L, t, "comm");
	ref->exe = table_str(L, t, "exe");
	ref->pid = pid;
	if (lua_getfield(L, t, "pid") == LUA_TNUMBER)
		ref->pid = (uint32_t)lua_tointeger(L, -1);
	lua_pop(L, 1);
}

/* Returns &tp->pc, or NULL when the extras say nothing of the process. */
static const struct tp_proc_ctx *test_proc(lua_State *L, int extra, const struct tp_event *ev,
					    struct test_proc *tp)
{
	int t;
	bool any = false;

	if (extra == LUA_NOREF || extra == LUA_REFNIL)
		return NULL;
	memset(tp, 0, sizeof(*tp));
	lua_rawgeti(L, LUA_REGISTRYINDEX, extra);
	t = lua_gettop(L);
	if ((tp->pc.exe = table_str(L, t, "exe")))
		any = true;
	if (lua_getfield(L, t, "argv") == LUA_TTABLE) {
		size_t n = 0, len;
		lua_Integer k, cnt = (lua_Integer)lua_rawlen(L, -1);

		for (k = 1; k <= cnt; k++) {
			const char *a;

			lua_rawgeti(L, -1, k);
			a = lua_tolstring(L, -1, &len);
			if (a && n + len + 1 <= sizeof(tp->argv)) {
				memcpy(tp->argv + n, a, len + 1);
				n += len + 1;
			} else if (a) {
				tp->pc.argv_truncated = true;
			}
			lua_pop(L, 1);
		}
		tp->pc.argv = tp->argv;
		tp->pc.argv_len = (uint32_t)n;
		any = true;
	}
	lua_pop(L, 1);
	if (lua_getfield(L, t, "parent") == LUA_TTABLE) {
		table_ref(L, lua_gettop(L), &tp->parent, ev->rec.hdr.ppid);
		tp->pc.parent = &tp->parent;
		any = true;
	}
	lua_pop(L, 1);
	if (lua_getfield(L, t, "ancestors") == LUA_TTABLE) {
		lua_Integer cnt = (lua_Integer)lua_rawlen(L, -1);

		for (lua_Integer k = 1; k <= cnt && tp->pc.nancestors < TEST_ANCESTORS_MAX; k++) {
			if (lua_rawgeti(L, -1, k) == LUA_TTABLE)
				table_ref(L, lua_gettop(L), &tp->ancestors[tp->pc.nancestors++], 0);
			lua_pop(L, 1);
		}
		tp->pc.ancestors = tp->ancestors;
		any = true;
	}
	lua_pop(L, 1);
	if (lua_getfield(L, t, "container") == LUA_TTABLE) {
		tp->container.id = table_str(L, lua_gettop(L), "id");
		tp->container.runtime = table_str(L, lua_gettop(L), "runtime");
		tp->pc.container = &tp->container;
		any = true;
	}
	lua_pop(L, 1);
	if (lua_getfield(L, t, "k8s") == LUA_TTABLE) {
		int k = lua_gettop(L);

		tp->k8s.pod = table_str(L, k, "pod");
		tp->k8s.namespace = table_str(L, k, "namespace");
		tp->k8s.pod_uid = table_str(L, k, "pod_uid");
		tp->k8s.container = table_str(L, k, "container");
		tp->k8s.qos = table_str(L, k, "qos");
		tp->pc.k8s = &tp->k8s;
		any = true;
	}
	lua_pop(L, 2);
	return any ? &tp->pc : NULL;
}

/* Run the set's enrich functions, then r's when, on the built test event;
 * on a match with want_output, check the rendered output. Returns 0 with
 * *matched, or -1 (a problem was reported). */
static int run_one(struct tp_ruleset *rs, struct rule_fn *r, lua_Integer i, int extra,
		   struct tp_event_meta *meta, bool *matched, const char *want_output)
{
	struct slot_index *ix;
	struct test_proc tp;
	char err[1024];
	enum tp_lua_status st;
	int ret = 0;

	bool own_proc = !meta->proc;

	if (own_proc)
		meta->proc = test_proc(rs->L, extra, &rs->test_ev, &tp);
	tp_rules_bind(rs, &rs->test_ev, meta, extra);
	ix = rs->index[type_slot(rs->test_ev.type)];
	for (uint32_t k = 0; ix && k < ix->n[FN_ENRICH]; k++) {
		struct rule_fn *f = &rs->fns[ix->fns[FN_ENRICH][k]];

		/* As the engine runs it: an event its match turns away skips it. */
		if ((f->match || f->ntmatch) &&
		    !tp_rules_matched(f, &rs->test_ev, tp_rules_meta_now(rs, meta), -1))
			continue;
		/* The engine must give it every event its match passes. */
		if (f->nrslots &&
		    !tp_rules_index_admits(rs, f, &rs->test_ev, tp_rules_meta_now(rs, meta))) {
			tp_rules_problem(
			    rs, r->file, r->line,
			    "rule '%s' test %d: the engine's index keeps the event from "
			    "enrich (%s:%d) although its match passes (a bug in tapio: "
			    "please report it)",
			    r->name, (int)i, f->file, f->line);
			ret = -1;
			goto out;
		}
		if (f->nsets) {
			tp_rules_apply_sets(rs, f, &rs->test_ev);
			continue;
		}
		st = tp_rules_call(rs, f, err, sizeof(err));
		if (st != TP_LUA_OK) {
			tp_rules_problem(rs, r->file, r->line,
					 "rule '%s' test %d: enrich (%s:%d) failed: %.*s", r->name,
					 (int)i, f->file, f->line, first_line_len(err), err);
			ret = -1;
			goto out;
		}
		lua_pop(rs->L, 1);
	}
	if (!tp_rules_matched(r, &rs->test_ev, tp_rules_meta_now(rs, meta), -1) ||
	    own_exception(r, &rs->test_ev, tp_rules_meta_now(rs, meta)) ||
	    ((r->nremember || r->nrecall) &&
	     !tp_rules_gates_pass(r, &rs->test_ev, tp_rules_meta_now(rs, meta))) ||
	    (r->repeats && tp_rules_repeat(r, &rs->test_ev))) {
		*matched = false;
		goto out;
	}
	/* The engine must give the rule every event its match passes. */
	if (r->nrslots && has_type(r->types, type_slot(rs->test_ev.type)) &&
	    !tp_rules_index_admits(rs, r, &rs->test_ev, tp_rules_meta_now(rs, meta))) {
		tp_rules_problem(rs, r->file, r->line,
				 "rule '%s' test %d: the engine's index keeps the event from the "
				 "rule although its match passes (a bug in tapio: please report it)",
				 r->name, (int)i);
		ret = -1;
		goto out;
	}
	st = tp_rules_call(rs, r, err, sizeof(err));
	if (st != TP_LUA_OK) {
		tp_rules_problem(rs, r->file, r->line, "rule '%s' test %d: when failed: %.*s",
				 r->name, (int)i, first_line_len(err), err);
		ret = -1;
		goto out;
	}
	*matched = truthy_bool(rs->L);
	if (*matched && want_output) {
		st = tp_rules_render(rs, r, err, sizeof(err));
		if (st != TP_LUA_OK || strcmp(tp_buf_cstr(&rs->out), want_output))
			tp_rules_problem(rs, r->file, r->line,
					 "rule '%s' test %d: output \"%s\", expected \"%s\"", r->name,
					 (int)i, tp_buf_cstr(&rs->out), want_output);
	}
out:
	tp_rules_unbind(rs, meta);
	if (own_proc)
		meta->proc = NULL; /* tp lives in this frame */
	if (rs->test_ev.type->id == TP_EV_PROCESS_EXIT)
		tp_state_process_exit(rs->state, rs->test_ev.rec.hdr.pid);
	return ret;
}

static void run_list_test(struct tp_ruleset *rs, struct rule_fn *r, lua_Integer i,
			  struct test_args *a)
{
	lua_Integer last_want = 0;
	char err[1024];

	for (lua_Integer k = 1; k <= a->nevents; k++)
		if (a->want[k])
			last_want = k;
	for (a->j = 1; a->j <= a->nevents; a->j++) {
		struct tp_event_meta meta = {.importance = -1.0};
		bool matched = false;
		enum tp_lua_status st;

		a->extra = LUA_NOREF;
		st = tp_lua_cpcall(rs->vm, test_event_p, a, err, sizeof(err));
		if (st != TP_LUA_OK) {
			tp_rules_problem(rs, r->file, r->line, "rule '%s' test %d: events[%d]: %.*s",
					 r->name, (int)i, (int)a->j, first_line_len(err), err);
			return;
		}
		if (!has_type(r->types, type_slot(rs->test_ev.type))) {
			tp_rules_problem(rs, r->file, r->line,
					 "rule '%s' test %d: event %d: %s is not among the rule's "
					 "events",
					 r->name, (int)i, (int)a->j, rs->test_ev.type->name);
			goto next;
		}
		rs->test_ev.ts_wall_ns = a->ts;
		if (run_one(rs, r, i, a->extra, &meta, &matched,
			    a->want[a->j] && a->j == last_want ? a->want_output : NULL) < 0)
			goto next;
		if (matched != a->want[a->j]) {
			tp_rules_problem(rs, r->file, r->line,
					 "rule '%s' test %d: event %d of %d (%s): expected %s, got %s",
					 r->name, (int)i, (int)a->j, (int)a->nevents,
					 rs->test_ev.type->name, a->want[a->j] ? "an alert" : "none",
					 matched ? "an alert" : "none");
			goto next;
		}
		if (a->extra != LUA_NOREF)
			luaL_unref(rs->L, LUA_REGISTRYINDEX, a->extra);
		continue;
next:
		if (a->extra != LUA_NOREF)
			luaL_unref(rs->L, LUA_REGISTRYINDEX, a->extra);
		return; /* one problem per test */
	}
	if (a->want_output && !last_want)
		tp_rules_problem(rs, r->file, r->line,
				 "rule '%s' test %d: output given but no alert expected", r->name,
				 (int)i);
}

static void run_test(struct tp_ruleset *rs, struct rule_fn *r, lua_Integer i)
{
	struct test_args a = {
	    .rs = rs, .rule = r, .i = i, .extra = LUA_NOREF, .events_ref = LUA_NOREF};
	struct tp_event_meta meta = {.importance = -1.0};
	char err[1024];
	enum tp_lua_status st;
	bool matched = false;

	st = tp_lua_cpcall(rs->vm, test_prepare_p, &a, err, sizeof(err));
	if (st != TP_LUA_OK) {
		rs->tests++; /* a test that cannot run failed */
		tp_rules_problem(rs, r->file, r->line, "rule '%s' test %d: %.*s", r->name, (int)i,
				 first_line_len(err), err);
		goto out;
	}
	/* Each test starts from an empty state. */
	if (r->state)
		tp_state_group_clear(r->state);
	rs->tests++;
	if (a.events_ref != LUA_NOREF) {
		run_list_test(rs, r, i, &a);
		goto out;
	}
	if (!has_type(r->types, type_slot(rs->test_ev.type))) {
		tp_rules_problem(rs, r->file, r->line,
				 "rule '%s' test %d: %s is not among the rule's events", r->name,
				 (int)i, rs->test_ev.type->name);
		goto out;
	}
	if (run_one(rs, r, i, a.extra, &meta, &matched, a.expect ? a.want_output : NULL) < 0)
		goto out;
	if (matched != a.expect) {
		tp_rules_problem(rs, r->file, r->line, "rule '%s' test %d: expected %s, got %s",
				 r->name, (int)i, a.expect ? "a match" : "no match",
				 matched ? "a match" : "none");
		goto out;
	}
	if (a.want_output && !a.expect)
		tp_rules_problem(rs, r->file, r->line,
				 "rule '%s' test %d: output given but no match expected", r->name,
				 (int)i);
out:
	if (a.extra != LUA_NOREF)
		luaL_unref(rs->L, LUA_REGISTRYINDEX, a.extra);
	if (a.events_ref != LUA_NOREF)
		luaL_unref(rs->L, LUA_REGISTRYINDEX, a.events_ref);
	free(a.want);
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
			unsigned before = rs->problems;

			if (tp_rules_cancelled(rs))
				return;
			run_test(rs, r, i);
			rs->tests_failed += rs->problems != before;
		}
	}
}
