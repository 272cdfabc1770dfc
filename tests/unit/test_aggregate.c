/* Alert aggregation: a burst of one rule's matches by one process is one
 * line with its count and first/last time; later repeats in the window
 * one closing line; other processes and other rules their own; nothing is
 * lost at the end of a run or when the table is full; the `aggregate` key
 * of a rule is read strictly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <lauxlib.h>
#include <lualib.h>

#include "events/event.h"
#include "events/proc_ctx.h"
#include "lua/aggregate.h"
#include "obs/metrics.h"
#include "pipeline/pipeline.h"
#include "util/time.h"

#define SEC TP_NSEC_PER_SEC
#define MS TP_NSEC_PER_MSEC
#define T0 (1795000000ULL * SEC)

/* An output that keeps what reached it. */
struct line {
	uint32_t pid;
	bool alert;
	char rule[32];
	char output[256];
	int64_t count, first_ts, last_ts; /* -1: absent */
	char exe[64];
	uint64_t ts;
};

struct seen {
	struct tp_output base;
	struct line lines[64];
	size_t n;
};

static int64_t kv_int(const struct tp_event_meta *m, const char *key)
{
	for (size_t i = 0; i < m->nkv; i++)
		if (!strcmp(m->kv[i].key, key))
			return m->kv[i].value.i;
	return -1;
}

static int seen_emit(struct tp_output *o, const struct tp_event *ev, const struct tp_event_meta *m)
{
	struct seen *s = (struct seen *)o;
	struct line *l = &s->lines[s->n < 64 ? s->n++ : 63];

	memset(l, 0, sizeof(*l));
	l->pid = ev->rec.hdr.pid;
	l->ts = ev->ts_wall_ns;
	l->alert = m && m->alert;
	if (l->alert) {
		snprintf(l->rule, sizeof(l->rule), "%s", m->alert->rule);
		snprintf(l->output, sizeof(l->output), "%s", m->alert->output);
	}
	l->count = m ? kv_int(m, "count") : -1;
	l->first_ts = m ? kv_int(m, "first_ts") : -1;
	l->last_ts = m ? kv_int(m, "last_ts") : -1;
	if (m && m->proc && m->proc->exe)
		snprintf(l->exe, sizeof(l->exe), "%s", m->proc->exe);
	return 0;
}

static void seen_close(struct tp_output *o) {}

static const struct tp_output_ops seen_ops = { .name = "seen", .emit = seen_emit, .close = seen_close };

struct rig {
	struct tp_pipeline p;
	struct seen out;
	struct tp_stage *agg;
};

static void rig_init(struct rig *r, const struct tp_aggregate_opts *o)
{
	char err[256];

	memset(r, 0, sizeof(*r));
	tp_pipeline_init(&r->p);
	r->out.base.ops = &seen_ops;
	assert_int_equal(tp_aggregate_stage_new(&r->agg, o, err, sizeof(err)), 0);
	assert_int_equal(tp_pipeline_add_stage(&r->p, r->agg), 0);
	assert_int_equal(tp_pipeline_add_output(&r->p, &r->out.base), 0);
}

static void rig_close(struct rig *r)
{
	r->out.base.ops = &seen_ops;
	tp_pipeline_close(&r->p);
}

static struct tp_event make_event(uint32_t pid, uint64_t ts)
{
	struct tp_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = tp_event_type_by_name("process.exec");
	ev.ts_wall_ns = ts;
	ev.len = ev.type->min_size;
	ev.rec.hdr.pid = ev.rec.hdr.tid = pid;
	snprintf(ev.rec.hdr.comm, sizeof(ev.rec.hdr.comm), "p%u", pid);
	return ev;
}

/* Run one event through: an alert of `rule`; NULL: a plain event that the
 * rules stage kept off the outputs (it only moves the stream's clock). */
static void feed(struct rig *r, const char *rule, const struct tp_aggregate_spec *spec,
		 uint32_t pid, uint64_t ts, double importance)
{
	struct tp_event ev = make_event(pid, ts);
	char exe[32], out[64];
	struct tp_proc_ctx pc = { .exe = exe };
	struct tp_alert a = { .rule = rule, .severity = "warning", .importance = 0.8, .output = out,
			      .aggregate = spec };
	struct tp_event_meta meta = { .importance = importance, .proc = &pc };

	/* Borrowed texts die with the call: the stage must copy what it keeps. */
	snprintf(exe, sizeof(exe), "/usr/bin/p%u", pid);
	snprintf(out, sizeof(out), "%s by p%u", rule ? rule : "-", pid);
	if (rule)
		meta.alert = &a;
	if (r->p.stages[0]->ops->event(r->p.stages[0], &r->p, &ev, &meta) == TP_STAGE_PASS && rule)
		tp_pipeline_emit(&r->p, &ev, &meta);
	memset(exe, 'x', sizeof(exe) - 1);
	memset(out, 'x', sizeof(out) - 1);
}

/* Windows run on the events' clock (not live): a tick moves them to the
 * latest event's time. */
static void tick(struct rig *r)
{
	static uint64_t now = 1000 * SEC;

	now += SEC; /* the stage looks at most every 50 ms */
	tp_pipeline_tick(&r->p, now);
}

static const struct tp_aggregate_opts defaults = {
    .window_ns = 60 * SEC, .hold_ns = 2 * SEC, .importance_threshold = 0.7 };

static void test_burst_is_one_line_with_count(void **state)
{
	struct rig r;
	uint64_t folded0 = (uint64_t)tp_metrics_sum("tapio_alerts_aggregated_total");

	rig_init(&r, &defaults);
	for (int i = 0; i < 50; i++)
		feed(&r, "bpf_loaded", NULL, 100, T0 + i * 10 * MS, -1);
	/* Held: nothing out yet, and the events (unscored) stay off. */
	assert_int_equal(r.out.n, 0);
	feed(&r, NULL, NULL, 999, T0 + 2100 * MS, -1); /* the clock moves past the hold */
	tick(&r);
	assert_int_equal(r.out.n, 1);
	assert_true(r.out.lines[0].alert);
	assert_string_equal(r.out.lines[0].rule, "bpf_loaded");
	assert_int_equal(r.out.lines[0].count, 50);
	assert_int_equal(r.out.lines[0].first_ts, (int64_t)T0);
	assert_int_equal(r.out.lines[0].last_ts, (int64_t)(T0 + 490 * MS));
	assert_int_equal(r.out.lines[0].ts, T0); /* the first event */
	assert_string_equal(r.out.lines[0].exe, "/usr/bin/p100"); /* a copy, not the borrowed text */
	assert_non_null(strstr(r.out.lines[0].output,
			       "bpf_loaded by p100 (50 times in 0.5 s by the same process, first "));
	assert_int_equal((uint64_t)tp_metrics_sum("tapio_alerts_aggregated_total") - folded0, 49);
	/* Nothing more in the window: no closing line, ever. */
	feed(&r, NULL, NULL, 999, T0 + 70 * SEC, -1);
	tick(&r);
	rig_close(&r);
	assert_int_equal(r.out.n, 1);
}

static void test_single_match_has_no_count(void **state)
{
	struct rig r;

	rig_init(&r, &defaults);
	feed(&r, "rare", NULL, 7, T0, -1);
	feed(&r, NULL, NULL, 999, T0 + 3 * SEC, -1);
	tick(&r);
	assert_int_equal(r.out.n, 1);
	assert_int_equal(r.out.lines[0].count, -1);
	assert_string_equal(r.out.lines[0].output, "rare by p7");
	rig_close(&r);
	assert_int_equal(r.out.n, 1);
}

static void test_repeats_after_the_hold_close_the_window(void **state)
{
	struct rig r;

	rig_init(&r, &defaults);
	feed(&r, "x", NULL, 5, T0, -1);
	feed(&r, NULL, NULL, 999, T0 + 3 * SEC, -1);
	tick(&r);
	assert_int_equal(r.out.n, 1);
	for (int i = 0; i < 10; i++)
		feed(&r, "x", NULL, 5, T0 + (10 + i) * SEC, -1);
	tick(&r);
	assert_int_equal(r.out.n, 1); /* folded until the window ends */
	feed(&r, NULL, NULL, 999, T0 + 61 * SEC, -1);
	tick(&r);
	assert_int_equal(r.out.n, 2);
	assert_int_equal(r.out.lines[1].count, 10);
	assert_int_equal(r.out.lines[1].first_ts, (int64_t)(T0 + 10 * SEC));
	assert_int_equal(r.out.lines[1].last_ts, (int64_t)(T0 + 19 * SEC));
	assert_non_null(strstr(r.out.lines[1].output, "(again: 10 times in 9.0 s by the same process"));
	/* After the window a match opens a new one. */
	feed(&r, "x", NULL, 5, T0 + 62 * SEC, -1);
	rig_close(&r); /* the end of the run reports it */
	assert_int_equal(r.out.n, 3);
	assert_int_equal(r.out.lines[2].count, -1);
}

static void test_keys_and_rules_apart(void **state)
{
	struct rig r;

	rig_init(&r, &defaults);
	feed(&r, "a", NULL, 1, T0, -1);
	feed(&r, "a", NULL, 2, T0, -1);
	feed(&r, "b", NULL, 1, T0, -1);
	feed(&r, "a", NULL, 1, T0 + 1, -1);
	rig_close(&r);
	assert_int_equal(r.out.n, 3);
}

static void test_hold_zero_and_off(void **state)
{
	struct tp_aggregate_spec now = { .hold_set = true, .hold_ns = 0 }, off = { .off = true };
	struct rig r;

	rig_init(&r, &defaults);
	feed(&r, "now", &now, 1, T0, -1);
	assert_int_equal(r.out.n, 1); /* at once, with its own event */
	feed(&r, "now", &now, 1, T0 + SEC, -1);
	feed(&r, "now", &now, 1, T0 + 2 * SEC, -1);
	assert_int_equal(r.out.n, 1);
	for (int i = 0; i < 3; i++)
		feed(&r, "off", &off, 1, T0 + i, -1);
	assert_int_equal(r.out.n, 4);
	rig_close(&r);
	assert_int_equal(r.out.n, 5);
	assert_int_equal(r.out.lines[4].count, 2);
}

static void test_folded_event_goes_on_when_important(void **state)
{
	struct tp_aggregate_spec now = { .hold_set = true, .hold_ns = 0 };
	struct rig r;

	rig_init(&r, &defaults);
	feed(&r, "r", &now, 1, T0, -1);
	feed(&r, "r", &now, 1, T0 + 1, 0.9); /* scored: a plain event line */
	feed(&r, "r", &now, 1, T0 + 2, 0.1); /* below the threshold: off */
	assert_int_equal(r.out.n, 2);
	assert_false(r.out.lines[1].alert);
	rig_close(&r);
}

static void test_by_field_and_full_table(void **state)
{
	struct tp_aggregate_opts small = defaults;
	struct tp_aggregate_spec by_rule = { .nby = 1, .by = { TP_AGG_RULE } };
	struct rig r;

	small.max_groups = 2;
	rig_init(&r, &small);
	for (uint32_t pid = 1; pid <= 3; pid++)
		feed(&r, "r", NULL, pid, T0 + pid, -1);
	/* The first window ended early to make room: reported, not lost. */
	assert_int_equal(r.out.n, 1);
	for (uint32_t pid = 10; pid < 20; pid++)
		feed(&r, "whole", &by_rule, pid, T0 + pid, -1);
	rig_close(&r);
	assert_int_equal(r.out.n, 4);
	for (size_t i = 0; i < r.out.n; i++)
		if (!strcmp(r.out.lines[i].rule, "whole"))
			assert_int_equal(r.out.lines[i].count, 10);
}

/* ------------------------------------------------------------ parse */

static int parse(const char *lua, struct tp_aggregate_spec *spec, char *err, size_t len)
{
	lua_State *L = luaL_newstate();
	int r;

	assert_int_equal(luaL_dostring(L, lua), LUA_OK);
	r = tp_aggregate_parse(L, -1, spec, err, len);
	assert_int_equal(lua_gettop(L), 1);
	lua_close(L);
	return r;
}

static void test_parse(void **state)
{
	struct tp_aggregate_spec s;
	char err[256] = "", d[64];

	assert_int_equal(parse("return false", &s, err, sizeof(err)), 0);
	assert_true(s.off);
	assert_int_equal(parse("return true", &s, err, sizeof(err)), 0);
	assert_false(s.off);
	assert_int_equal(s.nby, 0);
	assert_int_equal(parse("return { by = 'container', window = '10m', hold = 0 }", &s, err,
			       sizeof(err)),
			 0);
	assert_int_equal(s.by[0], TP_AGG_CONTAINER);
	assert_int_equal(s.window_ns, 600 * SEC);
	assert_true(s.hold_set);
	assert_int_equal(s.hold_ns, 0);
	assert_int_equal(parse("return { by = { 'exe', 'path' }, window = 90 }", &s, err, sizeof(err)), 0);
	assert_int_equal(s.nby, 2);
	assert_int_equal(s.by[1], TP_AGG_FIELD);
	assert_string_equal(s.field[1], "path");
	assert_int_equal(s.window_ns, 90 * SEC);
	tp_aggregate_describe(&s, d, sizeof(d));
	assert_string_equal(d, "exe+path");

	assert_int_equal(parse("return { by = 'process', windw = '1m' }", &s, err, sizeof(err)), -22);
	assert_non_null(strstr(err, "unknown key 'windw'"));
	assert_int_equal(parse("return { window = '0s' }", &s, err, sizeof(err)), -22);
	assert_non_null(strstr(err, "aggregate.window"));
	assert_int_equal(parse("return { window = 'soon' }", &s, err, sizeof(err)), -22);
	assert_int_equal(parse("return { by = 'Bad Name' }", &s, err, sizeof(err)), -22);
	assert_non_null(strstr(err, "not process, container"));
	assert_int_equal(parse("return { by = { 'a', 'b', 'c', 'd', 'e' } }", &s, err, sizeof(err)),
			 -22);
	assert_int_equal(parse("return 'process'", &s, err, sizeof(err)), -22);
	assert_non_null(strstr(err, "expected false or a table"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_burst_is_one_line_with_count),
	    cmocka_unit_test(test_single_match_has_no_count),
	    cmocka_unit_test(test_repeats_after_the_hold_close_the_window),
	    cmocka_unit_test(test_keys_and_rules_apart),
	    cmocka_unit_test(test_hold_zero_and_off),
	    cmocka_unit_test(test_folded_event_goes_on_when_important),
	    cmocka_unit_test(test_by_field_and_full_table),
	    cmocka_unit_test(test_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
