/* The rules API with synthetic events (no kernel): matching, alert fields,
 * output rendering, severity and importance, tags, filter, enrich, score,
 * indexing by type, faults and quarantine, load problems with file:line,
 * the permission check, inline tests, and reload diffs. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixtures.h"

#include "events/decode.h"
#include "lua/rules.h"
#include "obs/metrics.h"

static char dir[64];
static char diags[8192];
static char err[2048];

struct alert_copy {
	char rule[64], severity[16], output[512], tags[256], kv[256];
	double importance;
};
static struct alert_copy alerts[16];
static unsigned nalerts_seen;

static void collect(void *ctx, const char *msg)
{
	(void)ctx;
	strncat(diags, msg, sizeof(diags) - strlen(diags) - 2);
	strcat(diags, "\n");
}

static void on_alert(void *ctx, const struct tp_event *ev, const struct tp_event_meta *m)
{
	struct alert_copy *a = &alerts[nalerts_seen++ % 16];

	(void)ctx;
	(void)ev;
	snprintf(a->rule, sizeof(a->rule), "%s", m->alert->rule);
	snprintf(a->severity, sizeof(a->severity), "%s", m->alert->severity);
	snprintf(a->output, sizeof(a->output), "%s", m->alert->output);
	a->importance = m->alert->importance;
	a->tags[0] = a->kv[0] = '\0';
	for (size_t i = 0; i < m->alert->ntags; i++)
		snprintf(a->tags + strlen(a->tags), sizeof(a->tags) - strlen(a->tags), "%s,",
			 m->alert->tags[i]);
	for (size_t i = 0; i < m->ntags; i++)
		snprintf(a->tags + strlen(a->tags), sizeof(a->tags) - strlen(a->tags), "#%s,",
			 m->tags[i]);
	for (size_t i = 0; i < m->nkv; i++)
		snprintf(a->kv + strlen(a->kv), sizeof(a->kv) - strlen(a->kv), "%s,", m->kv[i].key);
}

static int setup(void **state)
{
	(void)state;
	tp_fx_tmpdir(dir, sizeof(dir), "rules");
	diags[0] = '\0';
	nalerts_seen = 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tp_fx_rmtree(dir);
	return 0;
}

static void write_file(const char *name, const char *text)
{
	tp_fx_write_text(dir, name, text, NULL, 0);
}

static struct tp_rules_opts opts(const char *const *paths, size_t n)
{
	struct tp_rules_opts o = {
	    .paths = paths,
	    .npaths = n,
	    .limits = {.mem_max = 32u << 20, .mem_call_max = 4u << 20, .instr_budget = 100000},
	    .fault_limit = 3,
	    .diag = collect,
	};
	return o;
}

static int load(struct tp_ruleset **rs)
{
	const char *paths[] = {dir};
	struct tp_rules_opts o = opts(paths, 1);

	diags[0] = '\0';
	return tp_ruleset_load(rs, &o, err, sizeof(err));
}

static struct tp_ruleset *load_ok(void)
{
	struct tp_ruleset *rs;

	if (load(&rs) < 0)
		fail_msg("load failed: %s\n%s", err, diags);
	return rs;
}

static struct tp_event ev;

static void exec_event(const char *comm, const char *filename, uint32_t pid)
{
	struct tp_exec_event e;

	memset(&e, 0, sizeof(e));
	e.hdr.type = TP_EV_PROCESS_EXEC;
	e.hdr.size = sizeof(e);
	e.hdr.pid = e.hdr.tid = pid;
	e.hdr.uid = 0;
	snprintf(e.hdr.comm, sizeof(e.hdr.comm), "%s", comm);
	snprintf(e.filename, sizeof(e.filename), "%s", filename);
	memcpy(e.argv, comm, strlen(comm) + 1);
	e.argv_len = (uint32_t)strlen(comm) + 1;
	assert_int_equal(tp_decode(&e, sizeof(e), 0, &ev), 0);
}

static void exit_event(uint32_t pid, uint32_t sig)
{
	struct tp_exit_event e;

	memset(&e, 0, sizeof(e));
	e.hdr.type = TP_EV_PROCESS_EXIT;
	e.hdr.size = sizeof(e);
	e.hdr.pid = e.hdr.tid = pid;
	memcpy(e.hdr.comm, "app", 3);
	e.signal = sig;
	assert_int_equal(tp_decode(&e, sizeof(e), 0, &ev), 0);
}

static int run(struct tp_ruleset *rs, struct tp_event_meta *meta, unsigned *n)
{
	memset(meta, 0, sizeof(*meta));
	meta->importance = -1;
	return tp_ruleset_event(rs, &ev, meta, on_alert, NULL, n);
}

static const char shell_rule[] =
    "local SHELLS = tapio.set { 'bash', 'sh' }\n"
    "rule {\n"
    "  name = 'shell',\n"
    "  desc = 'a shell',\n"
    "  events = { 'process.exec' },\n"
    "  severity = 'error',\n"
    "  tags = { 'mitre:T1059', 'shell' },\n"
    "  when = function(e) return SHELLS[e.comm] end,\n"
    "  output = 'shell ${comm} pid ${pid} (${filename})',\n"
    "  tests = {\n"
    "    { event = { type = 'process.exec', comm = 'bash', filename = '/bin/bash' }, expect = "
    "true,\n"
    "      output = 'shell bash pid 1000 (/bin/bash)' },\n"
    "    { event = { type = 'process.exec', comm = 'ls' }, expect = false },\n"
    "  },\n"
    "}\n";

static void test_rule_matches_with_alert_fields(void **state)
{
	struct tp_ruleset *rs;
	struct tp_event_meta meta;
	struct tp_ruleset_info in;
	unsigned n;

	(void)state;
	write_file("shell.lua", shell_rule);
	rs = load_ok();
	tp_ruleset_info(rs, &in);
	assert_int_equal(in.rules, 1);
	assert_int_equal(in.tests, 2);
	assert_int_equal(in.files, 1);

	exec_event("bash", "/usr/bin/bash", 77);
	assert_int_equal(run(rs, &meta, &n), TP_RULES_KEEP);
	assert_int_equal(n, 1);
	assert_string_equal(alerts[0].rule, "shell");
	assert_string_equal(alerts[0].severity, "error");
	assert_true(alerts[0].importance == 0.85); /* error's default */
	assert_string_equal(alerts[0].output, "shell bash pid 77 (/usr/bin/bash)");
	assert_string_equal(alerts[0].tags, "mitre:T1059,shell,");

	exec_event("ls", "/bin/ls", 78);
	assert_int_equal(run(rs, &meta, &n), TP_RULES_KEEP);
	assert_int_equal(n, 0);
	assert_true(meta.importance < 0); /* nothing scored it */
	tp_ruleset_free(rs);
}

static void test_filter_enrich_score(void **state)
{
	struct tp_ruleset *rs;
	struct tp_event_meta meta;
	unsigned n;

	(void)state;
	write_file(
	    "a.lua",
	    "filter(function(e) return e.comm ~= 'noisy' end)\n"
	    "filter({ 'process.exit' }, function(e) if e.signal == 15 then return false end end)\n"
	    "enrich({ 'process' }, function(e) e:set('team', 'core') e:tag('seen') end)\n"
	    "score(function(e) if e.comm == 'curl' then return 0.6 end end)\n"
	    "score({ 'process.exec' }, function(e) if e.comm == 'curl' then return 0.4 end end)\n"
	    "rule { name = 'r', events = { 'process.*' }, importance = 0.3, severity = 'info',\n"
	    "  when = function(e) return e.team == 'core' and e.importance == 0.6 end,\n"
	    "  output = '${comm} ${importance}' }\n");
	rs = load_ok();

	exec_event("noisy", "/bin/noisy", 1);
	assert_int_equal(run(rs, &meta, &n), TP_RULES_FILTERED);
	assert_int_equal(n, 0);
	assert_int_equal(meta.nkv, 0); /* enrich never ran */

	exit_event(2, 15);
	assert_int_equal(run(rs, &meta, &n), TP_RULES_FILTERED);
	exit_event(2, 9);
	assert_int_equal(run(rs, &meta, &n), TP_RULES_KEEP);

	exec_event("curl", "/usr/bin/curl", 3);
	assert_int_equal(run(rs, &meta, &n), TP_RULES_KEEP);
	assert_true(meta.importance == 0.6); /* the highest score */
	assert_int_equal(meta.nkv, 1);
	assert_string_equal(meta.kv[0].key, "team");
	assert_int_equal(meta.ntags, 1);
	assert_int_equal(n, 1);
	assert_string_equal(alerts[0].output, "curl 0.6");
	assert_string_equal(alerts[0].severity, "info");
	assert_true(alerts[0].importance == 0.3);
	assert_string_equal(alerts[0].tags, "#seen,");
	assert_string_equal(alerts[0].kv, "team,");
	tp_ruleset_free(rs);
}

static uint64_t faults(const char *kind)
{
	char labels[64];
	struct tp_metric *m;

	snprintf(labels, sizeof(labels), "kind=\"%s\"", kind);
	m = tp_metric_find("tapio_rules_faults_total", labels);
	return m ? tp_metric_get(m) : 0;
}

static void test_rules_are_indexed_by_type(void **state)
{
	struct tp_ruleset *rs;
	struct tp_event_meta meta;
	uint64_t before;
	unsigned n;

	(void)state;
	write_file("a.lua", "rule { name = 'exit_only', events = { 'process.exit' },\n"
			    "  when = function(e) error('ran') end, output = 'x' }\n");
	rs = load_ok();
	before = faults("error");
	exec_event("bash", "/bin/bash", 1);
	for (int i = 0; i < 10; i++)
		run(rs, &meta, &n);
	assert_int_equal(faults("error"), before); /* never called for exec */
	exit_event(1, 0);
	run(rs, &meta, &n);
	assert_int_equal(faults("error"), before + 1);
	tp_ruleset_free(rs);
}

static void test_faults_are_contained_and_quarantined(void **state)
{
	struct tp_ruleset *rs;
	struct tp_event_meta meta;
	struct tp_ruleset_info in;
	uint64_t e0 = faults("error"), t0 = faults("timeout"), m0 = faults("memory");
	unsigned n;

	(void)state;
	write_file(
	    "a.lua",
	    "rule { name = 'errs', events = { 'process.exec' },\n"
	    "  when = function(e) return e.comm.no.such end, output = 'x' }\n"
	    "rule { name = 'loops', events = { 'process.exec' },\n"
	    "  when = function(e) while true do pcall(function() while true do end end) end end,\n"
	    "  output = 'x' }\n"
	    "rule { name = 'eats', events = { 'process.exec' },\n"
	    "  when = function(e) local t = {} while true do t[#t + 1] = ('x'):rep(1 << 16) end "
	    "end,\n"
	    "  output = 'x' }\n"
	    "rule { name = 'writes_global', events = { 'process.exec' },\n"
	    "  when = function(e) COUNT = 1 end, output = 'x' }\n"
	    "rule { name = 'registers_late', events = { 'process.exec' },\n"
	    "  when = function(e) rule { name = 'late' } end, output = 'x' }\n"
	    "score(function(e) return 2 end)\n"
	    "rule { name = 'good', events = { 'process.exec' },\n"
	    "  when = function(e) return true end, output = '${comm}' }\n");
	rs = load_ok();
	exec_event("bash", "/bin/bash", 1);
	for (int i = 0; i < 5; i++) {
		run(rs, &meta, &n);
		/* The good rule fires every time, whatever the others do. */
		assert_int_equal(n, 1);
		assert_string_equal(alerts[(nalerts_seen - 1) % 16].rule, "good");
	}
	/* 3 faults each, then quarantined: errs, writes_global, registers_late,
	 * the score function (error); loops (timeout); eats (memory). */
	assert_int_equal(faults("error") - e0, 12);
	assert_int_equal(faults("timeout") - t0, 3);
	assert_int_equal(faults("memory") - m0, 3);
	tp_ruleset_info(rs, &in);
	assert_int_equal(in.quarantined, 6);
	tp_ruleset_free(rs);
}

/* The lazy budget (a thread CPU-time tick arms the count hook): a looping
 * rule on events is still a timeout fault, quarantined after 3, within a
 * few ms of CPU each; the rules after it still run. */
static void test_lazy_budget_stops_and_quarantines(void **state)
{
	struct tp_ruleset *rs;
	struct tp_event_meta meta;
	struct tp_ruleset_info in;
	uint64_t t0 = faults("timeout");
	struct timespec a, b;
	unsigned n;

	(void)state;
	assert_int_equal(tp_lua_lazy_thread_start(err, sizeof(err)), 0);
	write_file("a.lua",
		   "rule { name = 'loops', events = { 'process.exec' },\n"
		   "  when = function(e) local x = 0 while true do x = x + 1 end end,\n"
		   "  output = 'x' }\n"
		   "rule { name = 'good', events = { 'process.exec' },\n"
		   "  when = function(e) local x = 0 for i = 1, 100 do x = x + i end\n"
		   "    return x == 5050 end, output = '${comm}' }\n");
	rs = load_ok();
	tp_ruleset_lazy_budget(rs, true);
	exec_event("bash", "/bin/bash", 1);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
	for (int i = 0; i < 5; i++) {
		run(rs, &meta, &n);
		assert_int_equal(n, 1);
		assert_string_equal(alerts[(nalerts_seen - 1) % 16].rule, "good");
	}
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
	assert_int_equal(faults("timeout") - t0, 3);
	tp_ruleset_info(rs, &in);
	assert_int_equal(in.quarantined, 1);
	/* 3 stops: each two ticks (8 ms at HZ=250) of CPU plus the budget (100k instructions); 3 s
	 * of CPU would mean the tick never armed the hook. */
	assert_true((double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9 < 3.0);
	tp_ruleset_lazy_budget(rs, false);
	tp_ruleset_free(rs);
	tp_lua_lazy_thread_stop();
}

/* A backtracking pattern on a long string is a timeout fault of its rule,
 * however the rule wraps it; the rules after it still run. */
static void test_catastrophic_pattern_is_a_fault(void **state)
{
	struct tp_ruleset *rs;
	struct tp_event_meta meta;
	uint64_t t0 = faults("timeout");
	unsigned n;

	(void)state;
	write_file("a.lua",
		   "local long = ('a'):rep(1e5)\n"
		   "rule { name = 'backtracks', events = { 'process.exec' },\n"
		   "  when = function(e) return (#e.comm .. long):find('.-.-.-.-b') end,\n"
		   "  output = 'x' }\n"
		   "rule { name = 'backtracks_in_pcall', events = { 'process.exec' },\n"
		   "  when = function(e) return pcall(string.gsub, #e.comm .. long, '.-.-.-.-b', '') "
		   "end,\n"
		   "  output = 'x' }\n"
		   "rule { name = 'good', events = { 'process.exec' },\n"
		   "  when = function(e) return e.comm:find('^ba') ~= nil end, output = '${comm}' }\n");
	rs = load_ok();
	exec_event("bash", "/bin/bash", 1);
	for (int i = 0; i < 2; i++) {
		run(rs, &meta, &n);
		assert_int_equal(n, 1);
		assert_string_equal(alerts[(nalerts_seen - 1) % 16].rule, "good");
	}
	assert_int_equal(faults("timeout") - t0, 4);
	tp_ruleset_free(rs);
}

static void test_load_problems_have_file_and_line(void **state)
{
	struct tp_ruleset *rs;

	(void)state;
	write_file("a_syntax.lua", "local x = 1\nlocal = 2\n");
	write_file(
	    "b_rules.lua",
	    "rule { name = 'one', events = { 'process.exec' }, when = function() end, output = 'x' "
	    "}\n"
	    "rule { name = 'one', events = { 'process.exec' }, when = function() end, output = 'x' "
	    "}\n"
	    "rule { name = 'two', events = { 'process.exce' }, when = function() end, output = 'x' "
	    "}\n"
	    "rule { name = 'three', event = { 'process.exec' }, when = function() end, output = "
	    "'x' }\n"
	    "rule { name = 'four', events = { 'process.exec' }, when = function() end,\n"
	    "  output = '${filname}' }\n"
	    "rule { name = 'five', events = { 'process.exec' }, output = 'x' }\n"
	    "rule { name = 'six', events = { 'process.exec' }, severity = 'bad', when = function() "
	    "end, output = 'x' }\n"
	    "rule { name = 'seven', events = { 'process.exec' }, when = function(e) return e.comm "
	    "== 'a' end,\n"
	    "  output = 'x', tests = { { event = { type = 'process.exec', comm = 'b' }, expect = "
	    "true },\n"
	    "                          { event = { type = 'process.exit' }, expect = false } } }\n"
	    "filter({ 'nope.x' }, function() end)\n"
	    "rule { name = 'never_reached' }\n");
	write_file("c_runtime.lua", "local t = nil\nlocal y = t.x\n");
	write_file("ignored.txt", "this is not lua");
	write_file(".hidden.lua", "this is not lua either");
	assert_int_equal(load(&rs), -EINVAL);
	assert_null(rs);
	assert_non_null(strstr(err, "a_syntax.lua:2:"));
	assert_non_null(strstr(err, "more problem"));
	assert_non_null(strstr(diags, "a_syntax.lua:2:"));
	assert_non_null(
	    strstr(diags, "b_rules.lua:2: rule 'one': rule 'one' is already defined at"));
	assert_non_null(
	    strstr(diags, "b_rules.lua:3: rule 'two': events: unknown event type 'process.exce'"));
	assert_non_null(strstr(diags, "b_rules.lua:4: rule 'three': unknown key 'event'"));
	assert_non_null(strstr(diags, "b_rules.lua:5: rule 'four': output: no field 'filname'"));
	assert_non_null(strstr(diags, "b_rules.lua:7: rule 'five': when:"));
	assert_non_null(strstr(diags, "b_rules.lua:8: rule 'six': severity:"));
	assert_non_null(
	    strstr(diags, "b_rules.lua:9: rule 'seven' test 1: expected a match, got none"));
	assert_non_null(
	    strstr(diags, "b_rules.lua:9: rule 'seven' test 2: process.exit is not among"));
	assert_non_null(strstr(diags, "b_rules.lua:12: events: unknown event type 'nope.x'"));
	assert_non_null(strstr(diags, "c_runtime.lua:2: attempt to index a nil value"));
	assert_null(strstr(diags, "ignored.txt"));
	assert_null(strstr(diags, "hidden"));
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Load one file alone; it must fail quickly with want in the problems. */
static void hostile(const char *text, const char *want)
{
	struct tp_ruleset *rs;
	char cmd[128];
	double t0;

	snprintf(cmd, sizeof(cmd), "rm -f %s/*.lua", dir);
	assert_int_equal(system(cmd), 0);
	write_file("h.lua", text);
	t0 = now_s();
	assert_int_equal(load(&rs), -EINVAL);
	if (!strstr(diags, want))
		fail_msg("want '%s' in:\n%s", want, diags);
	/* Unbounded work would take minutes to hours; this catches it and
	 * stays clear of a slow, loaded machine under ASan. */
	if (now_s() - t0 > 30.0)
		fail_msg("load took %.1f s: %s", now_s() - t0, want);
}

/* Every piece of work a rule file causes at load is bounded, with an error
 * naming the file and line: a megabyte of template, of desc, of tags, of
 * events, of tests, of rules, or of top-level loop. */
static void test_load_work_is_bounded(void **state)
{
	static const char big[] =
	    "local t = {} for i = 1, %d do t[i] = %s end\n"
	    "rule { name = 'big', events = %s, when = function() end, output = %s%s%s }\n";
	char *text = malloc(1 << 16);

	(void)state;
	assert_non_null(text);
	snprintf(text, 1 << 16, big, 1, "'x'", "{'process.exec'}",
		 "string.rep('${comm}', 150000)", "", "");
	hostile(text, "h.lua:2: rule 'big': output: 1050000 bytes, more than the 4096");
	snprintf(text, 1 << 16, big, 1, "'x'", "{'process.exec'}", "'x'",
		 ", desc = string.rep('d', 1 << 20)", "");
	hostile(text, "h.lua:2: rule 'big': desc: 1048576 bytes, more than the 4096");
	snprintf(text, 1 << 16, big, 100000, "'process.exec'", "t", "'x'", "", "");
	hostile(text, "h.lua:2: rule 'big': events: 100000 entries, more than the 256");
	snprintf(text, 1 << 16, big, 100000, "'t'", "{'process.exec'}", "'x'", ", tags = t", "");
	hostile(text, "h.lua:2: rule 'big': tags: 100000 entries, more than the 64");
	snprintf(text, 1 << 16, big, 1, "string.rep('t', 1 << 20)", "{'process.exec'}", "'x'",
		 ", tags = t", "");
	hostile(text, "h.lua:2: rule 'big': tags: 1048576 bytes in one tag, more than the 128");
	snprintf(text, 1 << 16, big, 100000,
		 "{ event = { type = 'process.exec' }, expect = false }", "{'process.exec'}", "'x'",
		 ", tests = t", "");
	hostile(text, "h.lua:2: rule 'big': tests: 100000 tests, more than the 100");
	hostile("for i = 1, 1e9 do rule { name = 'r' .. i, events = { 'process.exec' },\n"
		"  when = function() end, output = 'x' } end\n",
		"h.lua:1: rules: 10001 rules, filters, enrich and score functions, more than the "
		"10000");
	hostile("for i = 1, 1e9 do filter(function() end) end\n", "more than the 10000");
	hostile("local x = 0\nwhile true do x = x + 1 end\n", "instruction budget exceeded");
	hostile("local t = {}\nfor i = 1, 1e9 do t[i] = ('x'):rep(64) .. i end\n",
		"memory limit exceeded");
	free(text);
}

/* A load given up by another thread (a reload past its time limit) stops
 * at its next check and fails with "cancelled", whatever it was doing. */
static atomic_bool cancel;

static void *cancel_soon(void *arg)
{
	struct timespec ts = {0, 100 * 1000 * 1000};

	(void)arg;
	nanosleep(&ts, NULL);
	atomic_store(&cancel, true);
	return NULL;
}

static void test_load_can_be_cancelled(void **state)
{
	const char *paths[] = {dir};
	struct tp_rules_opts o = opts(paths, 1);
	struct tp_ruleset *rs;
	pthread_t t;
	double t0;

	(void)state;
	/* Each file alone runs its full load budget; together many seconds. */
	for (int i = 0; i < 20; i++) {
		char name[32];

		snprintf(name, sizeof(name), "slow%02d.lua", i);
		write_file(name, "local x = 0 while true do x = x + 1 end\n");
	}
	atomic_store(&cancel, false);
	o.cancel = &cancel;
	assert_int_equal(pthread_create(&t, NULL, cancel_soon, NULL), 0);
	t0 = now_s();
	assert_int_equal(tp_ruleset_load(&rs, &o, err, sizeof(err)), -EINVAL);
	pthread_join(t, NULL);
	assert_non_null(strstr(diags, "cancelled"));
	assert_true(now_s() - t0 < 10.0); /* 20 files x the load budget without it */
}

static void test_untrusted_files_are_refused(void **state)
{
	struct tp_ruleset *rs;
	char path[256];
	const char *paths[] = {path};
	struct tp_rules_opts o = opts(paths, 1);

	(void)state;
	write_file("shell.lua", shell_rule);
	snprintf(path, sizeof(path), "%s/shell.lua", dir);
	chmod(path, 0666);
	assert_int_equal(load(&rs), -EINVAL);
	assert_non_null(strstr(err, "shell.lua: refusing to load: writable by every user"));
	chmod(path, 0664);
	assert_int_equal(load(&rs), -EINVAL);
	assert_non_null(strstr(err, "writable by its group"));
	chmod(path, 0644);
	chmod(dir, 0777);
	assert_int_equal(load(&rs), -EINVAL);
	assert_non_null(strstr(err, "refusing to load"));
	/* A file named directly, in a folder others can write: refused too. */
	assert_int_equal(tp_ruleset_load(&rs, &o, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "refusing to load"));
	/* Sticky like /tmp: others cannot swap our file, so a file is fine. */
	chmod(dir, 01777);
	assert_int_equal(tp_ruleset_load(&rs, &o, err, sizeof(err)), 0);
	tp_ruleset_free(rs);
	chmod(dir, 0700);
	if (geteuid() == 0) {
		/* Owned by someone else. */
		assert_int_equal(chown(path, 12345, 12345), 0);
		assert_int_equal(load(&rs), -EINVAL);
		assert_non_null(strstr(err, "owned by uid 12345"));
		o.allow_untrusted = true;
		assert_int_equal(tp_ruleset_load(&rs, &o, err, sizeof(err)), 0);
		tp_ruleset_free(rs);
	}
}

static void test_diff_and_hash(void **state)
{
	struct tp_ruleset *a, *b, *c;
	struct tp_ruleset_info ia, ib, ic;
	size_t added, removed, changed;

	(void)state;
	write_file("r.lua", "rule { name = 'keep', events = { 'process.exec' }, when = function(e) "
			    "return e.pid == 1 end, output = 'x' }\n"
			    "rule { name = 'change', events = { 'process.exec' }, when = "
			    "function(e) return e.pid == 2 end, output = 'x' }\n"
			    "rule { name = 'drop', events = { 'process.exec' }, when = function(e) "
			    "return false end, output = 'x' }\n");
	a = load_ok();
	b = load_ok();
	tp_ruleset_info(a, &ia);
	tp_ruleset_info(b, &ib);
	assert_true(ia.hash == ib.hash);
	tp_ruleset_diff(a, b, &added, &removed, &changed);
	assert_int_equal(added + removed + changed, 0);
	write_file("r.lua", "\n\n-- moved down: not a change\n"
			    "rule { name = 'keep', events = { 'process.exec' }, when = function(e) "
			    "return e.pid == 1 end, output = 'x' }\n"
			    "rule { name = 'change', events = { 'process.exec' }, when = "
			    "function(e) return e.pid == 3 end, output = 'x' }\n"
			    "rule { name = 'new', events = { 'process.exec' }, when = function(e) "
			    "return false end, output = 'x' }\n");
	c = load_ok();
	tp_ruleset_info(c, &ic);
	assert_true(ic.hash != ia.hash);
	tp_ruleset_diff(a, c, &added, &removed, &changed);
	assert_int_equal(added, 1);
	assert_int_equal(removed, 1);
	assert_int_equal(changed, 1);
	tp_ruleset_free(a);
	tp_ruleset_free(b);
	tp_ruleset_free(c);
}

static void test_event_specs(void **state)
{
	struct tp_ruleset *rs;
	struct tp_event_meta meta;
	unsigned n;

	(void)state;
	write_file("r.lua", "rule { name = 'cat', events = { 'process' }, when = function() return "
			    "true end, output = 'x' }\n"
			    "rule { name = 'star', events = '*', when = function() return true "
			    "end, output = 'x' }\n"
			    "rule { name = 'glob', events = { 'process.*' }, when = function() "
			    "return true end, output = 'x' }\n"
			    "rule { name = 'off', enabled = false, events = { 'process.exec' }, "
			    "when = function() return true end, output = 'x' }\n");
	rs = load_ok();
	exec_event("a", "/a", 1);
	run(rs, &meta, &n);
	assert_int_equal(n, 3);
	exit_event(1, 0);
	run(rs, &meta, &n);
	assert_int_equal(n, 3);
	tp_ruleset_free(rs);
}

static void test_files_do_not_see_each_other(void **state)
{
	struct tp_ruleset *rs;

	(void)state;
	write_file("a.lua", "SHARED = 1\n");
	write_file("b.lua", "local x = SHARED\n");
	assert_int_equal(load(&rs), -EINVAL);
	assert_non_null(strstr(diags, "b.lua:1: undeclared global 'SHARED'"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_rule_matches_with_alert_fields, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_filter_enrich_score, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rules_are_indexed_by_type, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lazy_budget_stops_and_quarantines, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_catastrophic_pattern_is_a_fault, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_faults_are_contained_and_quarantined, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_load_problems_have_file_and_line, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_load_work_is_bounded, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_load_can_be_cancelled, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_untrusted_files_are_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_diff_and_hash, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_event_specs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_files_do_not_see_each_other, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
