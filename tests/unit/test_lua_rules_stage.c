/* The rules as a pipeline stage: alerts reach the outputs once, with
 * meta.alert; the importance threshold and --all-events; drops counted by
 * reason; a reload built beside the running set and swapped between two
 * events, so every event meets exactly one set; a failed reload keeps the
 * old set; --validate's report. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixtures.h"

#include "config/config.h"
#include "enrich/lua_fields.h"
#include "events/decode.h"
#include "lua/aggregate.h"
#include "lua/rules_stage.h"
#include "obs/metrics.h"
#include "pipeline/pipeline.h"
#include "util/time.h"

static char dir[64];
static struct tp_config cfg;
static struct tp_pipeline pipe_;
static struct tp_stage *stage;
static struct tp_event ev;

/* A capturing output: what reached the outputs, per event pid. */
#define MAXSEEN 200000
static struct seen {
	uint32_t pid;
	char rule[32]; /* "" for a plain event */
	double importance;
} seen[MAXSEEN];
static size_t nseen;

static int cap_emit(struct tp_output *o, const struct tp_event *e, const struct tp_event_meta *m)
{
	(void)o;
	assert_true(nseen < MAXSEEN);
	seen[nseen].pid = e->rec.hdr.pid;
	snprintf(seen[nseen].rule, sizeof(seen[nseen].rule), "%s",
		 m && m->alert ? m->alert->rule : "");
	seen[nseen].importance = m ? m->importance : -1;
	nseen++;
	return 0;
}

static void cap_close(struct tp_output *o)
{
	(void)o;
}

static const struct tp_output_ops cap_ops = {
    .name = "capture", .emit = cap_emit, .close = cap_close};
static struct tp_output cap = {&cap_ops};

static void write_rules(const char *name, const char *text)
{
	char path[256], tmp[270];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	f = fopen(tmp, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(tmp, 0644);
	assert_int_equal(rename(tmp, path), 0);
}

static unsigned after_seen; /* alerts a stage after the rules saw */

static int setup(void **state)
{
	(void)state;
	tp_fx_tmpdir(dir, sizeof(dir), "rules-stage");
	tp_config_defaults(&cfg);
	cfg.rules_user_dir = "off"; /* not this machine's /etc/tapio/rules.d */
	cfg.rule_paths[0] = dir;
	cfg.nrule_paths = 1;
	nseen = 0;
	after_seen = 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (stage)
		tp_pipeline_close(&pipe_);
	stage = NULL;
	tp_fx_rmtree(dir);
	return 0;
}

static void build(void)
{
	char err[1024];

	tp_pipeline_init(&pipe_);
	if (tp_rules_stage_new(&stage, &cfg, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(tp_pipeline_add_stage(&pipe_, stage), 0);
	assert_int_equal(tp_pipeline_add_output(&pipe_, &cap), 0);
}

static void exec_event(const char *comm, uint32_t pid)
{
	struct tp_exec_event e;

	memset(&e, 0, sizeof(e));
	e.hdr.type = TP_EV_PROCESS_EXEC;
	e.hdr.size = sizeof(e);
	e.hdr.pid = e.hdr.tid = pid;
	snprintf(e.hdr.comm, sizeof(e.hdr.comm), "%s", comm);
	memcpy(e.filename, "/bin/x", 6);
	assert_int_equal(tp_decode(&e, sizeof(e), 0, &ev), 0);
}

static uint64_t metric(const char *name, const char *labels)
{
	struct tp_metric *m = tp_metric_find(name, labels);

	return m ? tp_metric_get(m) : 0;
}

/* A stage after the rules: counts the alerts it sees. */
static int after_event(struct tp_stage *st, struct tp_pipeline *p, struct tp_event *e,
		       struct tp_event_meta *m)
{
	(void)st;
	(void)p;
	(void)e;
	after_seen += m->alert != NULL;
	return TP_STAGE_PASS;
}

static void after_close(struct tp_stage *st)
{
	(void)st;
}

static const struct tp_stage_ops after_ops = {
    .name = "after", .event = after_event, .close = after_close};
static struct tp_stage after = {&after_ops};

static const char rules_v1[] = "score(function(e) if e.comm == 'important' then return 0.9 end\n"
			       "  if e.comm == 'meh' then return 0.2 end end)\n"
			       "filter(function(e) return e.comm ~= 'noise' end)\n"
			       "rule { name = 'bad', events = { 'process.exec' }, when = "
			       "function(e) return e.comm == 'bad' end,\n"
			       "  output = 'bad ${pid}' }\n"
			       "rule { name = 'also_bad', events = { 'process.exec' }, when = "
			       "function(e) return e.comm == 'bad' end,\n"
			       "  output = 'also bad ${pid}' }\n";

static void test_alerts_threshold_and_drops(void **state)
{
	uint64_t below = metric("tapio_events_dropped_total", "reason=\"below_threshold\"");
	uint64_t filtered = metric("tapio_events_dropped_total", "reason=\"filtered\"");
	uint64_t passed;

	(void)state;
	write_rules("r.lua", rules_v1);
	cfg.importance_threshold = 0.5;
	build();
	assert_int_equal(tp_pipeline_add_stage(&pipe_, &after), 0);
	exec_event("bad", 1);
	tp_pipeline_event(&pipe_, &ev);
	/* Two alerts, and the event is not repeated as a plain line: the first
	 * alert travels with the event, the second follows it, in rule order,
	 * through the stages after the rules too. */
	assert_int_equal(nseen, 2);
	assert_string_equal(seen[0].rule, "bad");
	assert_string_equal(seen[1].rule, "also_bad");
	assert_int_equal(after_seen, 2);
	passed = pipe_.events_out; /* the passing alert and the one that followed */
	assert_int_equal(passed, 2);
	exec_event("important", 2);
	tp_pipeline_event(&pipe_, &ev);
	assert_int_equal(nseen, 3);
	assert_string_equal(seen[2].rule, "");
	assert_true(seen[2].importance == 0.9);
	exec_event("meh", 3);
	tp_pipeline_event(&pipe_, &ev);
	exec_event("unscored", 4);
	tp_pipeline_event(&pipe_, &ev);
	exec_event("noise", 5);
	tp_pipeline_event(&pipe_, &ev);
	assert_int_equal(nseen, 3);
	assert_int_equal(metric("tapio_events_dropped_total", "reason=\"below_threshold\"") - below,
			 2);
	assert_int_equal(metric("tapio_events_dropped_total", "reason=\"filtered\"") - filtered, 1);
}

/* The dual path by default: alerts and events scored 0.7 or more. */
static void test_default_threshold_keeps_the_important(void **state)
{
	static const char *const comms[] = {"unscored", "meh", "important"};

	(void)state;
	write_rules("r.lua", rules_v1);
	build();
	for (int i = 0; i < 3; i++) {
		exec_event(comms[i], (uint32_t)i + 1);
		tp_pipeline_event(&pipe_, &ev);
	}
	assert_int_equal(nseen, 1);
	assert_int_equal(seen[0].pid, 3);
}

static void test_threshold_zero_passes_unscored_events(void **state)
{
	(void)state;
	write_rules("r.lua", rules_v1);
	cfg.importance_threshold = 0;
	build(); /* everything not filtered goes on (to sampling, if any) */
	exec_event("unscored", 1);
	tp_pipeline_event(&pipe_, &ev);
	exec_event("noise", 2);
	tp_pipeline_event(&pipe_, &ev);
	assert_int_equal(nseen, 1);
	assert_int_equal(seen[0].pid, 1);
	assert_true(seen[0].importance < 0); /* not scored: no importance in the output */
}

static void test_all_events(void **state)
{
	(void)state;
	write_rules("r.lua", rules_v1);
	cfg.all_events = true;
	build();
	for (uint32_t pid = 1; pid <= 4; pid++) {
		exec_event(pid == 1 ? "noise" : pid == 2 ? "meh" : pid == 3 ? "x" : "bad", pid);
		tp_pipeline_event(&pipe_, &ev);
	}
	/* noise, meh, x as plain events; bad as its two alerts, in rule order. */
	assert_int_equal(nseen, 5);
	assert_int_equal(seen[0].pid, 1);
	assert_true(seen[1].importance == 0.2);
	assert_string_equal(seen[3].rule, "bad");
	assert_string_equal(seen[4].rule, "also_bad");
}

static const char rule_v[] =
    "rule { name = '%s', events = { 'process.exec' }, when = function(e) return true end,\n"
    "  output = '%s' }\n";

static void test_reload_swaps_between_two_events(void **state)
{
	char text[512];
	uint64_t ok0 = metric("tapio_rules_reloads_total", "result=\"ok\"");
	uint32_t pid = 0;
	int reloads = 0;

	(void)state;
	snprintf(text, sizeof(text), rule_v, "v0", "v0");
	write_rules("r.lua", text);
	cfg.all_events = true;
	build();
	/* Events keep flowing while each reload builds; ticks happen between
	 * batches, as the agent's loop does them. */
	for (int round = 1; round <= 5; round++) {
		uint64_t deadline = tp_mono_ns() + 20 * TP_NSEC_PER_SEC;

		snprintf(text, sizeof(text), rule_v, round % 2 ? "odd" : "even", "x");
		write_rules("r.lua", text);
		tp_rules_stage_reload(stage);
		assert_true(tp_rules_stage_reloading(stage));
		do {
			struct timespec ts = {0, 1000000};

			for (int i = 0; i < 10; i++) {
				exec_event("p", ++pid);
				tp_pipeline_event(&pipe_, &ev);
			}
			tp_pipeline_tick(&pipe_, tp_mono_ns());
			assert_true(tp_mono_ns() < deadline);
			nanosleep(&ts, NULL); /* a drain interval, roughly */
		} while (tp_rules_stage_reloading(stage));
		reloads++;
	}
	for (int i = 0; i < 50; i++) {
		exec_event("p", ++pid);
		tp_pipeline_event(&pipe_, &ev);
	}
	assert_int_equal(metric("tapio_rules_reloads_total", "result=\"ok\"") - ok0, 5);
	/* Every event exactly once, each by one set, sets in order. */
	assert_int_equal(nseen, pid);
	{
		const char *order[] = {"v0", "odd", "even", "odd", "even", "odd"};
		int cur = 0;

		for (size_t i = 0; i < nseen; i++) {
			assert_int_equal(seen[i].pid, i + 1);
			if (strcmp(seen[i].rule, order[cur])) {
				cur++;
				assert_true(cur < 6);
				assert_string_equal(seen[i].rule, order[cur]);
			}
		}
		assert_int_equal(cur, 5);
	}
}

static void test_failed_reload_keeps_the_old_rules(void **state)
{
	char text[512];
	uint64_t failed0 = metric("tapio_rules_reloads_total", "result=\"failed\"");

	(void)state;
	snprintf(text, sizeof(text), rule_v, "old", "x");
	write_rules("r.lua", text);
	build();
	write_rules("r.lua", "rule { name = 'broken', events = { 'process.exec' }, when = 3 }\n");
	tp_rules_stage_reload(stage);
	tp_rules_stage_reload(stage); /* queued behind the first */
	while (tp_rules_stage_reloading(stage)) {
		struct timespec ts = {0, 5000000};

		nanosleep(&ts, NULL);
		tp_pipeline_tick(&pipe_, tp_mono_ns());
	}
	assert_int_equal(metric("tapio_rules_reloads_total", "result=\"failed\"") - failed0, 2);
	exec_event("p", 1);
	tp_pipeline_event(&pipe_, &ev);
	assert_int_equal(nseen, 1);
	assert_string_equal(seen[0].rule, "old");
}

static void test_validate_report(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	write_rules("r.lua", rules_v1);
	f = open_memstream(&buf, &len);
	assert_int_equal(tp_rules_validate(&cfg, f), 0);
	fclose(f);
	/* from r.lua and the shipped lists and macros (rules/lib) */
	assert_non_null(strstr(buf, "rules OK: 2 rules, 1 filter 0 enrich 1 score from "));
	free(buf);

	write_rules(
	    "r.lua",
	    "rule { name = 'x', events = { 'process.exec' },\n"
	    "  when = function(e) return e.comm == 'a' end, output = 'x',\n"
	    "  tests = { { event = { type = 'process.exec', comm = 'b' }, expect = true } } }\n"
	    "rule { name = 'y' }\n");
	f = open_memstream(&buf, &len);
	assert_int_equal(tp_rules_validate(&cfg, f), -EINVAL);
	fclose(f);
	assert_non_null(strstr(buf, "/r.lua:1: rule 'x' test 1: expected a match, got none\n"));
	assert_non_null(strstr(buf, "/r.lua:4: rule 'y': "));
	assert_non_null(strstr(buf, "rules: 2 problems\n"));
	free(buf);
}

static void test_default_rules_load_and_pass_their_tests(void **state)
{
	char security[600], shipped[600];
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	/* The shipped rules name the enrichment's fields (exe, parent,
	 * container...) in their outputs; the agent registers them at start. */
	assert_int_equal(tp_enrich_lua_register(), 0);
	cfg.nrule_paths = 0; /* the shipped default set */
	f = open_memstream(&buf, &len);
	assert_int_equal(tp_rules_validate(&cfg, f), 0);
	fclose(f);
	assert_non_null(strstr(buf, "rules OK:"));
	free(buf);

	/* The security seeds, together with the default set. */
	snprintf(security, sizeof(security), "%s/security", cfg.rules_dir);
	cfg.rule_paths[0] = security;
	snprintf(shipped, sizeof(shipped), "%s/default", cfg.rules_dir);
	cfg.rule_paths[1] = shipped;
	cfg.nrule_paths = 2;
	f = open_memstream(&buf, &len);
	assert_int_equal(tp_rules_validate(&cfg, f), 0);
	fclose(f);
	assert_non_null(strstr(buf, "rules OK:"));
	free(buf);
}

/* 'quiet' (info) and 'loud' (warning) both match comm "bad"; 'quiet' also
 * "meh"; a score function fails loudly on "boom" if it ever runs. */
static const char rules_sev[] =
    "score(function(e) if e.comm == 'boom' then error('Lua ran') end end)\n"
    "rule { name = 'quiet', severity = 'info', events = { 'process.exec' },\n"
    "  when = function(e) return e.comm == 'bad' or e.comm == 'meh' end, output = 'q' }\n"
    "rule { name = 'loud', severity = 'warning', events = { 'process.exec' },\n"
    "  when = function(e) return e.comm == 'bad' end, output = 'l' }\n";

static uint64_t faults(void)
{
	return metric("tapio_rules_faults_total", "kind=\"error\"");
}

static void run_execs(const char *const *comms, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		exec_event(comms[i], (uint32_t)i + 1);
		tp_pipeline_event(&pipe_, &ev);
	}
}

static void test_min_severity_keeps_alerts_at_or_above(void **state)
{
	static const char *const comms[] = {"bad", "meh", "plain"};
	uint64_t dropped = metric("tapio_events_dropped_total", "reason=\"below_min_severity\"");

	(void)state;
	write_rules("r.lua", rules_sev);
	cfg.min_severity = TP_SEV_WARNING;
	cfg.all_events = true; /* filter.min_severity holds with -a too */
	build();
	run_execs(comms, 3);
	/* Only 'loud': 'quiet' is below the minimum and does not even run. */
	assert_int_equal(nseen, 1);
	assert_int_equal(seen[0].pid, 1);
	assert_string_equal(seen[0].rule, "loud");
	assert_int_equal(
	    metric("tapio_events_dropped_total", "reason=\"below_min_severity\"") - dropped, 2);
}

static void test_min_severity_info_keeps_plain_events(void **state)
{
	static const char *const comms[] = {"bad", "meh", "plain"};

	(void)state;
	write_rules("r.lua", rules_sev);
	cfg.min_severity = TP_SEV_INFO;
	cfg.importance_threshold = 0;
	build();
	run_execs(comms, 3);
	/* bad: 'quiet' travels with the event, 'loud' follows it; meh:
	 * 'quiet'; plain: itself (plain events are info). */
	assert_int_equal(nseen, 4);
	assert_string_equal(seen[0].rule, "quiet");
	assert_string_equal(seen[1].rule, "loud");
	assert_string_equal(seen[2].rule, "quiet");
	assert_int_equal(seen[2].pid, 2);
	assert_string_equal(seen[3].rule, "");
	assert_int_equal(seen[3].pid, 3);
}

static void test_min_severity_above_every_rule_runs_no_lua(void **state)
{
	static const char *const comms[] = {"boom", "bad"};
	uint64_t f0,
	    dropped = metric("tapio_events_dropped_total", "reason=\"below_min_severity\"");

	(void)state;
	write_rules("r.lua", rules_sev);
	cfg.min_severity = TP_SEV_CRITICAL;
	build();
	f0 = faults();
	run_execs(comms, 2);
	assert_int_equal(nseen, 0);
	assert_int_equal(faults(), f0); /* the failing score function never ran */
	assert_int_equal(
	    metric("tapio_events_dropped_total", "reason=\"below_min_severity\"") - dropped, 2);
	/* The same set without a minimum runs it: the check above can fail. */
	tp_pipeline_close(&pipe_);
	cfg.min_severity = TP_SEV_DEBUG;
	build();
	run_execs(comms, 1);
	assert_int_equal(faults(), f0 + 1);
}

/* A rule's aggregate key reaches the aggregation stage through its
 * alerts: 'every' (aggregate = false) is a line per match; 'once' (hold 0)
 * goes out at its first match and folds the rest, also as the second
 * alert of an event (one that follows it), into the window's closing line. */
static const char rules_agg[] =
    "rule { name = 'every', events = { 'process.exec' }, when = function(e) return e.comm == "
    "'bad' end,\n"
    "  output = 'every ${pid}', aggregate = false }\n"
    "rule { name = 'once', events = { 'process.exec' }, when = function(e) return e.comm == "
    "'bad' end,\n"
    "  output = 'once ${pid}', aggregate = { by = { 'process', 'filename' }, window = '10m', "
    "hold = 0 } }\n";

static void test_rule_aggregate_key(void **state)
{
	struct tp_aggregate_opts ao = {.window_ns = 60 * TP_NSEC_PER_SEC,
				       .hold_ns = 2 * TP_NSEC_PER_SEC,
				       .importance_threshold = 0.7};
	struct tp_stage *agg;
	char err[256];
	size_t every = 0, once = 0;

	(void)state;
	write_rules("r.lua", rules_agg);
	build();
	assert_int_equal(tp_aggregate_stage_new(&agg, &ao, err, sizeof(err)), 0);
	assert_int_equal(tp_pipeline_add_stage(&pipe_, agg), 0);
	for (int i = 0; i < 5; i++) {
		exec_event("bad", 7);
		tp_pipeline_event(&pipe_, &ev);
	}
	for (size_t i = 0; i < nseen; i++) {
		every += !strcmp(seen[i].rule, "every");
		once += !strcmp(seen[i].rule, "once");
	}
	assert_int_equal(every, 5);
	assert_int_equal(once, 1);
	assert_int_equal(nseen, 6); /* no plain event for the folded ones */
	tp_aggregate_stage_finish(agg); /* the end of the run: "again: ... 4 times" */
	assert_int_equal(nseen, 7);
	assert_string_equal(seen[6].rule, "once");
}

/* A bad aggregate key is a load problem naming the key. */
static void test_rule_aggregate_key_errors(void **state)
{
	static const char *const bad[][2] = {
	    {"aggregate = { by = 'nosuchfield' }", "aggregate.by: no field 'nosuchfield'"},
	    {"aggregate = { window = 'soon' }", "aggregate.window"},
	    {"aggregate = { every = 1 }", "aggregate: unknown key 'every'"},
	    {"aggregate = 3", "aggregate: expected false or a table"},
	};
	char text[512], err[1024];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text),
			 "rule { name = 'r', events = { 'process.exec' }, when = function(e) "
			 "return true end, output = 'x', %s }\n",
			 bad[i][0]);
		write_rules("r.lua", text);
		assert_true(tp_rules_stage_new(&stage, &cfg, err, sizeof(err)) < 0);
		stage = NULL;
		if (!strstr(err, bad[i][1]))
			fail_msg("%s: %s", bad[i][0], err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_alerts_threshold_and_drops, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rule_aggregate_key, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rule_aggregate_key_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_default_threshold_keeps_the_important, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_threshold_zero_passes_unscored_events, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_all_events, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_min_severity_keeps_alerts_at_or_above, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_min_severity_info_keeps_plain_events, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_min_severity_above_every_rule_runs_no_lua, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_reload_swaps_between_two_events, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_failed_reload_keeps_the_old_rules, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_validate_report, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_default_rules_load_and_pass_their_tests, setup,
					    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
