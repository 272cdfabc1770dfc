/* The detection engine through real rule sets (no kernel): shared lists and
 * macros, exceptions and overrides from a user's folder, stateful rules
 * (windows, sequences, distinct values, maps) and their inline tests with
 * several timestamped events, what a reload keeps, exited processes,
 * memory bounds, and the per-rule metrics. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "events/decode.h"
#include "enrich/lua_fields.h"
#include "events/proc_ctx.h"
#include "lua/rules.h"
#include "lua/rules_internal.h"
#include "obs/metrics.h"

#define SEC 1000000000ull
#define T0  (1700000000ull * SEC)

static char dir[64], lib[96], rules[96], user[96];
static char diags[16384];
static char err[2048];
static char alerted[64][64];
static unsigned nalerts;

static void collect(void *ctx, const char *msg)
{
	(void)ctx;
	strncat(diags, msg, sizeof(diags) - strlen(diags) - 2);
	strcat(diags, "\n");
}

static void on_alert(void *ctx, const struct tp_event *ev, const struct tp_event_meta *m)
{
	(void)ctx;
	(void)ev;
	snprintf(alerted[nalerts++ % 64], sizeof(alerted[0]), "%s|%s", m->alert->rule,
		 m->alert->severity);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/tapio-engine-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(lib, sizeof(lib), "%s/lib", dir);
	snprintf(rules, sizeof(rules), "%s/rules", dir);
	snprintf(user, sizeof(user), "%s/rules.d", dir);
	mkdir(lib, 0755);
	mkdir(rules, 0755);
	mkdir(user, 0755);
	diags[0] = '\0';
	nalerts = 0;
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void write_to(const char *d, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", d, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, 0644);
}

static struct tp_state_limits limits = {.max_bytes = 8u << 20, .group_max_bytes = 1u << 20};

static int load(struct tp_ruleset **rs)
{
	const char *paths[] = {rules};
	struct tp_rules_opts o = {
	    .paths = paths,
	    .npaths = 1,
	    .lib_path = lib,
	    .user_dir = user,
	    .state = limits,
	    .limits = {.mem_max = 32u << 20, .mem_call_max = 4u << 20, .instr_budget = 100000},
	    .fault_limit = 3,
	    .diag = collect,
	};

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

static void load_fails(const char *want)
{
	struct tp_ruleset *rs;

	assert_int_equal(load(&rs), -EINVAL);
	if (!strstr(diags, want))
		fail_msg("want '%s' in:\n%s", want, diags);
}

static struct tp_event ev;

/* A record's header: its type and size, one thread's process, a time. */
static void set_hdr(struct tp_hdr *h, uint32_t type, uint32_t size, uint32_t pid, uint64_t ts)
{
	h->type = type;
	h->size = size;
	h->pid = h->tid = pid;
	h->ts_ns = ts;
}

static void exec_at(const char *comm, const char *filename, uint32_t pid, uint64_t ts)
{
	struct tp_exec_event e;

	memset(&e, 0, sizeof(e));
	set_hdr(&e.hdr, TP_EV_PROCESS_EXEC, sizeof(e), pid, ts);
	snprintf(e.hdr.comm, sizeof(e.hdr.comm), "%s", comm);
	snprintf(e.filename, sizeof(e.filename), "%s", filename);
	memcpy(e.argv, comm, strlen(comm) + 1);
	e.argv_len = (uint32_t)strlen(comm) + 1;
	assert_int_equal(tp_decode(&e, sizeof(e), 0, &ev), 0);
}

static void open_at(const char *comm, const char *path, uint32_t pid, uint64_t ts)
{
	struct tp_file_open_event e;

	memset(&e, 0, sizeof(e));
	set_hdr(&e.hdr, TP_EV_FILE_OPEN, sizeof(e), pid, ts);
	snprintf(e.hdr.comm, sizeof(e.hdr.comm), "%s", comm);
	snprintf(e.path, sizeof(e.path), "%s", path);
	assert_int_equal(tp_decode(&e, sizeof(e), 0, &ev), 0);
}

/* A file.open with flags; target: proc_target_pid (0: none). */
static void open_flags(const char *path, uint32_t flags, uint32_t target)
{
	struct tp_file_open_event e;

	memset(&e, 0, sizeof(e));
	set_hdr(&e.hdr, TP_EV_FILE_OPEN, sizeof(e), 20, T0);
	snprintf(e.hdr.comm, sizeof(e.hdr.comm), "ed");
	snprintf(e.path, sizeof(e.path), "%s", path);
	e.flags = flags;
	e.proc_target_pid = target;
	assert_int_equal(tp_decode(&e, sizeof(e), 0, &ev), 0);
}

static void rename_to(const char *oldpath, const char *newpath)
{
	struct tp_file_rename_event e;

	memset(&e, 0, sizeof(e));
	set_hdr(&e.hdr, TP_EV_FILE_RENAME, sizeof(e), 21, T0);
	snprintf(e.oldpath, sizeof(e.oldpath), "%s", oldpath);
	snprintf(e.newpath, sizeof(e.newpath), "%s", newpath);
	assert_int_equal(tp_decode(&e, sizeof(e), 0, &ev), 0);
}

static void unlink_at(const char *path)
{
	struct tp_file_path_event e;

	memset(&e, 0, sizeof(e));
	set_hdr(&e.hdr, TP_EV_FILE_UNLINK, sizeof(e), 22, T0);
	snprintf(e.path, sizeof(e.path), "%s", path);
	assert_int_equal(tp_decode(&e, sizeof(e), 0, &ev), 0);
}

static void exit_at(uint32_t pid, uint64_t ts)
{
	struct tp_exit_event e;

	memset(&e, 0, sizeof(e));
	set_hdr(&e.hdr, TP_EV_PROCESS_EXIT, sizeof(e), pid, ts);
	assert_int_equal(tp_decode(&e, sizeof(e), 0, &ev), 0);
}

/* Run the set on ev; the importance its score functions gave it (-1:
 * none). */
static double scored(struct tp_ruleset *rs)
{
	struct tp_event_meta meta = {.importance = -1};
	unsigned n;

	tp_ruleset_event(rs, &ev, &meta, on_alert, NULL, &n);
	return meta.importance;
}

/* Run the set on ev; the number of alerts. */
static unsigned run(struct tp_ruleset *rs)
{
	struct tp_event_meta meta = {.importance = -1};
	unsigned n;

	tp_ruleset_event(rs, &ev, &meta, on_alert, NULL, &n);
	return n;
}

/* Run the set on ev; the names of the rules that alert, in order, each
 * followed by a comma, in got (256 bytes). */
static const char *alerting(struct tp_ruleset *rs, char *got)
{
	nalerts = 0;
	got[0] = '\0';
	run(rs);
	for (unsigned a = 0; a < nalerts; a++) {
		strncat(got, alerted[a], strcspn(alerted[a], "|"));
		strcat(got, ",");
	}
	return got;
}

/* Run the set on ev from a process whose program is exe; the number of
 * alerts. */
static unsigned run_as(struct tp_ruleset *rs, const char *exe)
{
	struct tp_proc_ctx pc = {.exe = exe};
	struct tp_event_meta meta = {.importance = -1, .proc = &pc};
	unsigned n;

	tp_ruleset_event(rs, &ev, &meta, on_alert, NULL, &n);
	return n;
}

/* ------------------------------------------------------------ lists and macros */

static void test_lists_and_macros_are_shared(void **state)
{
	struct tp_ruleset *rs;

	(void)state;
	write_to(lib, "lists.lua",
		 "list('SHELLS', { 'sh', 'bash' })\n"
		 "list('TMP_DIRS', { '/tmp/', '/dev/shm/' })\n"
		 "macro('is_shell', function(e) return SHELLS[e.comm] == true end)\n");
	/* A rule that keeps the list in a local, and one that calls the macro. */
	write_to(rules, "a.lua",
		 "local S = SHELLS\n"
		 "rule { name = 'shell', events = { 'process.exec' }, output = '${comm}',\n"
		 "  when = function(e) return S[e.comm] and #S == 3 end,\n"
		 "  tests = { { event = { type = 'process.exec', comm = 'fish' }, expect = true } } }\n"
		 "rule { name = 'macro', events = { 'process.exec' }, output = '${comm}',\n"
		 "  when = function(e) return is_shell(e) and "
		 "tapio.startswith_any(e.filename, TMP_DIRS) end }\n");
	/* The user adds to the list: every rule sees it, the local too. */
	write_to(user, "site.lua", "append('SHELLS', { 'fish', 'bash' })\n");
	rs = load_ok();
	exec_at("fish", "/tmp/x", 10, T0);
	assert_int_equal(run(rs), 2);
	exec_at("zsh", "/tmp/x", 10, T0);
	assert_int_equal(run(rs), 0);
	exec_at("bash", "/usr/bin/bash", 10, T0);
	assert_int_equal(run(rs), 1);
	tp_ruleset_free(rs);

	/* Redefined by the user: the same table, the new entries. */
	write_to(user, "site.lua", "list('SHELLS', { 'ksh', 'fish', 'b' })\n");
	rs = load_ok();
	exec_at("ksh", "/tmp/x", 10, T0);
	assert_int_equal(run(rs), 2); /* the local and the macro see it */
	exec_at("bash", "/tmp/x", 10, T0);
	assert_int_equal(run(rs), 0);
	tp_ruleset_free(rs);

	/* Lists refuse new keys after the load. */
	write_to(user, "site.lua", "");
	write_to(rules, "b.lua",
		 "rule { name = 'writes', events = { 'process.exec' }, output = '${comm}',\n"
		 "  when = function(e) SHELLS.zsh = true return false end,\n"
		 "  tests = { { event = { type = 'process.exec' }, expect = false } } }\n");
	load_fails("read-only");
	unlink("b.lua");
}

static void test_list_problems(void **state)
{
	(void)state;
	write_to(rules, "a.lua",
		 "list('GOOD', { 'a' })\n"
		 "list('BAD', { 'a', 3 })\n"
		 "append('NOPE', { 'x' })\n"
		 "list('string', { 'x' })\n"
		 "macro('GOOD', function() end)\n"
		 "list('x y', {})\n");
	load_fails("a.lua:2: list BAD: entry 2 is not a string");
	assert_non_null(strstr(diags, "a.lua:3: append NOPE: no list of that name"));
	assert_non_null(strstr(diags, "a.lua:4: list string: the name of a library"));
	assert_non_null(strstr(diags, "a.lua:5: macro GOOD: already a list"));
	assert_non_null(strstr(diags, "a.lua:6: list: 'x y' is not a name"));
}

/* ------------------------------------------------------------ exceptions and overrides */

static const char shell_rules[] =
    "rule { name = 'shell_spawned', events = { 'process.exec' }, severity = 'warning',\n"
    "  output = '${comm}', when = function(e) return e.comm == 'sh' or e.comm == 'bash' end,\n"
    "  tests = { { event = { type = 'process.exec', comm = 'sh', uid = 1000 },\n"
    "              expect = true } } }\n"
    "rule { name = 'tmp_open', events = { 'file.open' }, output = '${path}',\n"
    "  when = function(e) return tapio.startswith(e.path, '/tmp/') end }\n";

static void test_exception_silences_one_process(void **state)
{
	struct tp_ruleset *rs;
	struct tp_ruleset_info in;
	char line[512];

	(void)state;
	write_to(rules, "shipped.lua", shell_rules);
	/* uid 1000 matches the shipped test's event: user exceptions do not
	 * break shipped tests. */
	write_to(user, "site.lua",
		 "list('BUILDERS', { 'builder', 'make' })\n"
		 "exception { rule = 'shell_spawned', uid = 1000, reason = 'ci user' }\n"
		 "exception { rule = 'tmp_open', comm = BUILDERS, path = '/tmp/build-*' }\n"
		 "override { rule = 'shell_spawned', severity = 'critical' }\n");
	rs = load_ok();
	tp_ruleset_info(rs, &in);
	assert_int_equal(in.exceptions, 2);
	assert_int_equal(in.overridden, 1);
	assert_true(tp_ruleset_rule_exception(rs, 0, 0, line, sizeof(line)));
	assert_non_null(strstr(line, "site.lua:2: uid=1000 (ci user)"));

	exec_at("bash", "/bin/bash", 10, T0);
	ev.rec.hdr.uid = 1000;
	assert_int_equal(run(rs), 0); /* excepted */
	ev.rec.hdr.uid = 0;
	assert_int_equal(run(rs), 1); /* another user: alerts, at the new severity */
	assert_string_equal(alerted[0], "shell_spawned|critical");

	open_at("builder", "/tmp/build-42/x.o", 11, T0);
	assert_int_equal(run(rs), 0);
	open_at("cc", "/tmp/build-42/x.o", 12, T0); /* another process */
	assert_int_equal(run(rs), 1);
	open_at("builder", "/tmp/other", 11, T0); /* another path */
	assert_int_equal(run(rs), 1);

	/* The excepted events are counted per rule once the set is in use. */
	tp_ruleset_adopt(rs, NULL, NULL);
	tp_ruleset_tick(rs, 5 * SEC);
	{
		struct tp_metric *m = tp_metric_find("tapio_rule_excepted_total", "rule=\"tmp_open\"");

		assert_non_null(m);
		assert_int_equal(tp_metric_get(m), 1);
	}
	tp_ruleset_free(rs);
}

static void test_disabled_by_override(void **state)
{
	struct tp_ruleset *rs;
	struct tp_ruleset_info in;

	(void)state;
	write_to(rules, "shipped.lua", shell_rules);
	write_to(user, "site.lua", "override { rule = 'shell_spawned', enabled = false }\n");
	rs = load_ok();
	tp_ruleset_info(rs, &in);
	assert_int_equal(in.rules, 1);
	exec_at("sh", "/bin/sh", 10, T0);
	assert_int_equal(run(rs), 0);
	tp_ruleset_free(rs);
}

/* ------------------------------------------------------------ match = {...} */

static void test_match_is_checked_in_c(void **state)
{
	struct tp_ruleset *rs;

	(void)state;
	write_to(lib, "lists.lua",
		 "list('CRON', { '/etc/cron*', '/var/spool/cron/*' })\n"
		 "list('SHELLS', { 'sh', 'bash' })\n");
	write_to(rules, "m.lua",
		 /* A when that would match anything: the match decides, in the
		  * inline tests too. */
		 "rule { name = 'cron_written', events = { 'file.open' }, output = '${path}',\n"
		 "  match = { path = CRON, flags = { any = 'O_WRONLY|O_RDWR|O_CREAT|O_TRUNC' } },\n"
		 "  when = function(e) return true end,\n"
		 "  tests = { { event = { type = 'file.open', path = '/etc/crontab', flags = 1 },\n"
		 "              expect = true },\n"
		 "            { event = { type = 'file.open', path = '/etc/crontab' }, expect = false },\n"
		 "            { event = { type = 'file.open', path = '/etc/passwd', flags = 1 },\n"
		 "              expect = false } } }\n"
		 "rule { name = 'written_path', events = { 'file.open', 'file.rename' },\n"
		 "  output = '${comm}', match = { ['path|newpath'] = { '*.so', '/etc/ld.so.preload' },\n"
		 "    ['file.open'] = { flags = { all = 'O_WRONLY|O_CREAT' } } },\n"
		 "  when = function(e) return true end }\n"
		 "rule { name = 'shell', events = { 'process.exec' }, output = '${comm}',\n"
		 "  match = { filename_base = SHELLS, uid = 0 }, when = function(e) return true end }\n"
		 "rule { name = 'proc_mem', events = { 'file.open' }, output = '${comm}',\n"
		 "  match = { proc_target_pid = true }, when = function(e) return true end }\n");
	/* Appended after the rules loaded: the match sees it. */
	write_to(user, "site.lua", "append('CRON', { '/etc/anacrontab' })\n");
	rs = load_ok();

	open_flags("/etc/cron.d/job", O_WRONLY | O_CREAT, 0);
	assert_int_equal(run(rs), 1);
	open_flags("/etc/anacrontab", O_RDWR, 0);
	assert_int_equal(run(rs), 1);
	open_flags("/etc/cron.d/job", O_RDONLY, 0); /* read: no flag of the mask */
	assert_int_equal(run(rs), 0);
	open_flags("/etc/hosts", O_WRONLY, 0);
	assert_int_equal(run(rs), 0);
	open_flags("/usr/lib/libx.so", O_WRONLY | O_CREAT, 0); /* path: a suffix */
	assert_int_equal(run(rs), 1);
	open_flags("/usr/lib/libx.so", O_WRONLY, 0); /* file.open's own: not all flags */
	assert_int_equal(run(rs), 0);
	open_flags("/proc/1/mem", O_RDONLY, 1); /* proc_target_pid set */
	nalerts = 0;
	assert_int_equal(run(rs), 1);
	assert_string_equal(alerted[0], "proc_mem|warning");
	rename_to("/tmp/x", "/etc/ld.so.preload"); /* newpath */
	assert_int_equal(run(rs), 1);
	rename_to("/etc/ld.so.preload", "/tmp/x");
	assert_int_equal(run(rs), 0);
	exec_at("x", "/usr/bin/bash", 30, T0); /* the basename of filename */
	assert_int_equal(run(rs), 1);
	exec_at("x", "/usr/bin/bashful", 30, T0);
	assert_int_equal(run(rs), 0);
	exec_at("x", "/bin/sh", 30, T0);
	ev.rec.hdr.uid = 1000;
	assert_int_equal(run(rs), 0);
	tp_ruleset_free(rs);
}

/* The index: an exec visits the rules that name its filename_base (equal,
 * a prefix, or in every alternative of a one_of), and those that do not
 * compare it; each rule still counts every event of its types; a
 * quarantined rule stops counting. */
static void test_index_by_key(void **state)
{
	static const struct {
		const char *filename;
		uint32_t uid;
		const char *want; /* the rules that alert, in load order */
	} cases[] = {
	    {"/usr/bin/bash", 1000, "sh,"},
	    {"/usr/bin/python3.11", 1000, "py,"},
	    {"/usr/bin/pythonista", 0, "py,any_root,"},
	    {"/bin/ncat", 1000, "nc_either,"},
	    {"/bin/nc", 0, "nc_either,nc_root,any_root,"},
	    {"/bin/date", 0, "any_root,"},
	    {"/bin/date", 1000, ""},
	    {"/bin/per", 1000, ""}, /* shorter than the prefix */
	    {"/bin/zz", 1000, "by_comm,"},
	    {"/bin/", 1000, ""}, /* an empty base name */
	};
	struct tp_ruleset *rs;
	struct tp_metric *m;
	char got[256];

	(void)state;
	write_to(lib, "lists.lua",
		 "list('SHELLS', { 'sh', 'bash' })\n"
		 "list('INTERP', { 'python*', 'perl*' })\n");
	write_to(rules, "k.lua",
		 "local function yes() return true end\n"
		 "rule { name = 'sh', events = { 'process.exec' }, output = 'x',\n"
		 "  match = { filename_base = SHELLS }, when = yes }\n"
		 "rule { name = 'py', events = { 'process.exec' }, output = 'x',\n"
		 "  match = { filename_base = INTERP }, when = yes }\n"
		 "rule { name = 'nc_either', events = { 'process.exec' }, output = 'x',\n"
		 "  match = { one_of = { { filename_base = 'nc' }, { filename_base = 'ncat*' } } },\n"
		 "  when = yes }\n"
		 "rule { name = 'nc_root', events = { 'process.exec' }, output = 'x',\n"
		 "  match = { filename_base = 'nc', uid = 0 }, when = yes }\n"
		 "rule { name = 'any_root', events = { 'process.exec' }, output = 'x',\n"
		 "  match = { uid = 0 }, when = yes }\n"
		 "rule { name = 'by_comm', events = { 'process.exec' }, output = 'x',\n"
		 "  when = function(e) return e.filename == '/bin/zz' end }\n"
		 "rule { name = 'broken', events = { 'process.exec' }, output = 'x',\n"
		 "  match = { filename_base = 'broken' }, when = function(e) error('boom') end }\n");
	rs = load_ok();
	tp_ruleset_adopt(rs, NULL, NULL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		exec_at("x", cases[i].filename, 40, T0);
		ev.rec.hdr.uid = cases[i].uid;
		if (strcmp(alerting(rs, got), cases[i].want))
			fail_msg("%s uid %u: alerts '%s', want '%s'", cases[i].filename,
				 cases[i].uid, got, cases[i].want);
	}
	/* Three faults quarantine 'broken' (fault_limit 3); two more events. */
	for (int i = 0; i < 5; i++) {
		exec_at("x", "/bin/broken", 40, T0);
		run(rs);
	}
	tp_ruleset_tick(rs, 10 * SEC);
	m = tp_metric_find("tapio_rule_calls_total", "rule=\"sh\"");
	assert_non_null(m);
	assert_int_equal(tp_metric_get(m), 15); /* every exec, turned away or not */
	m = tp_metric_find("tapio_rule_calls_total", "rule=\"broken\"");
	assert_non_null(m);
	assert_int_equal(tp_metric_get(m), 13); /* not the two after its quarantine */
	tp_ruleset_free(rs);
}

/* The index by several keys: an open's path, its base name and its comm,
 * each looked up while a rule that compares it is left. Each key keeps
 * its recent look-ups: the same event again, and strings of one hash (the
 * same length, first and last 8 bytes) or one cache slot, give what a
 * fresh look-up gives; a path too long to keep is looked up each time. */
static void test_index_by_three_keys(void **state)
{
	static char longp[200];
	char got[256];
	static const struct {
		const char *comm, *path;
		const char *want; /* the rules that alert, in load order */
	} cases[] = {
	    {"cat", "/etc/hosts", "etc,hosts,"},
	    {"bash", "/etc/hosts", "etc,hosts,sh,"},
	    {"cat", "/dev/sda", "dev,"},
	    {"bash", "/dev/sda", "dev,sh,sh_dev,"},
	    {"sh", "/dev/null", "sh,"},
	    {"cat", "/home/a/.ssh/id_rsa", "named,"},
	    {"cat", "/etc/cron.x/zzz/a.job", "etc,"}, /* one hash with the one below */
	    {"cat", "/etc/cron.d/zzz/a.job", "etc,cron,"},
	    {"cat", "/tmp/u", "unkeyed,"},
	    {"dash", "/tmp/v", ""},
	    {"cat", longp, "etc,"},
	};
	struct tp_ruleset *rs;

	(void)state;
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	memcpy(longp, "/etc/", 5);
	write_to(
	    rules, "k.lua",
	    "local function yes() return true end\n"
	    "local function r(name, match)\n"
	    "  rule { name = name, events = { 'file.open' }, output = 'x', match = match,\n"
	    "         when = yes }\n"
	    "end\n"
	    "r('etc', { path = '/etc/*' })\n"
	    "r('hosts', { path = '/etc/hosts' })\n"
	    "r('dev', { path = { '/dev/sd*', '/dev/mem' } })\n"
	    "r('cron', { path = '/etc/cron.d/*' })\n"
	    "r('named', { path_base = { 'x.conf', 'id_rsa' } })\n"
	    "r('sh', { comm = { 'bash', 'sh' } })\n"
	    "r('sh_dev', { comm = 'bash', path = '/dev/*' })\n"
	    "rule { name = 'unkeyed', events = { 'file.open' }, output = 'x',\n"
	    "  when = function(e) return e.path == '/tmp/u' end }\n"
	    "rule { name = 'tested', events = { 'file.open' }, output = 'x',\n"
	    "  match = { path = { '/etc/passwd', '/etc/group', '/etc/gshadow' } }, when = yes,\n"
	    "  tests = { { event = { type = 'file.open', comm = 'bash', path = '/etc/passwd' },\n"
	    "              expect = true } } }\n");
	rs = load_ok();
	tp_ruleset_adopt(rs, NULL, NULL);
	/* What the inline test looked up is not kept (the node's strings
	 * fill the caches); they are made again at the first event. */
	{
		const struct slot_prefilter *pf =
		    &rs->index[type_slot(tp_event_type_by_name("file.open"))]->pf;

		assert_int_equal(pf->nkeys, 3);
		for (uint32_t k = 0; k < pf->nkeys; k++)
			assert_null(pf->keys[k].cache);
		open_at("cat", "/etc/hosts", 30, T0);
		assert_string_equal(alerting(rs, got), "etc,hosts,");
		assert_non_null(pf->keys[0].cache);
	}
	for (int round = 0; round < 3; round++) {
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			open_at(cases[i].comm, cases[i].path, 30, T0);
			if (strcmp(alerting(rs, got), cases[i].want))
				fail_msg("round %d: %s opened %.40s: alerts '%s', want '%s'", round,
					 cases[i].comm, cases[i].path, got, cases[i].want);
		}
	}
	/* The keys narrow before any rule is visited: the rules an event can
	 * reach are those that do not compare its path, base name or comm,
	 * and those that name its. */
	for (int round = 0; round < 2; round++) {
		static const char *const names[] = {"etc",   "hosts", "dev",	"cron",
						    "named", "sh",    "sh_dev", "unkeyed"};

		open_at(round ? "bash" : "cat", "/dev/null", 30, T0);
		got[0] = '\0';
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (tp_rules_index_admits(rs, tp_rules_find(rs, names[i]), &ev, false)) {
				strcat(got, names[i]);
				strcat(got, ",");
			}
		assert_string_equal(got, round ? "sh,sh_dev,unkeyed," : "unkeyed,");
	}
	/* A comm is what comes before its NUL, whatever follows it in the
	 * record's 16 bytes (the index reads them as two words). */
	for (int round = 0; round < 3; round++) {
		static const char *const comms[] = {"sh", "bash", "bashful"};
		static const char *const want[] = {"sh,", "sh,sh_dev,", ""};
		size_t n = strlen(comms[round]);

		open_at(comms[round], "/dev/null", 30, T0);
		memset(ev.rec.hdr.comm + n + 1, 'j', sizeof(ev.rec.hdr.comm) - n - 2);
		assert_string_equal(alerting(rs, got), want[round]);
	}
	/* Many paths through the 256 slots of the cache, each checked. */
	for (int i = 0; i < 2000; i++) {
		char path[64];
		bool hosts = i % 7 == 0;

		snprintf(path, sizeof(path), hosts ? "/etc/hosts" : "/var/x%d", i);
		open_at("cat", path, 30, T0);
		nalerts = 0;
		run(rs);
		assert_int_equal(nalerts, hosts ? 2 : 0);
	}
	tp_ruleset_free(rs);
}

/* Conditions the key's table cannot hold (suffixes, substrings, globs,
 * and lists that mix them with exact values) are evaluated on the key's
 * string, once per string that is still in the running; enrich functions
 * are in the index too, so an open of a plain library visits none. */
static void test_index_evaluates_other_values_and_enrich(void **state)
{
	char got[256];
	static const struct {
		const char *path;
		const char *want; /* the rules that alert, in load order */
	} cases[] = {
	    {"/etc/krb5.keytab", "suffix,"},
	    {"/proc/42/mem", "suffix,"},
	    {"/home/a/.ssh/id_rsa", "substr,"},
	    {"/etc/cron.d/job", "glob,"},
	    {"/etc/cron.daily/job", ""},
	    {"/etc/shadow", "mixed,"},
	    {"/srv/tls/key.pem", "mixed,chained,"},
	    {"/root/notes", "alts,"},
	    {"/home/a/vault.kdbx", "alts,"},
	    {"/home/a/.aws/credentials", "cred,"},
	    {"/etc/gshadow", "cred,"},
	    {"/usr/lib/libc.so.6", ""},
	    {"/home/a/.ssh", ""},
	};
	static const char *const names[] = {"suffix", "substr", "glob",	  "mixed",
					    "alts",   "cred",	"chained"};
	struct tp_ruleset *rs;
	const struct slot_prefilter *pf;
	size_t enrich = SIZE_MAX, found = 0;
	uint64_t opens = 0;

	(void)state;
	write_to(rules, "v.lua",
		 "local function yes() return true end\n"
		 "local function r(name, match)\n"
		 "  rule { name = name, events = { 'file.open' }, output = 'x', match = match,\n"
		 "         when = yes }\n"
		 "end\n"
		 "r('suffix', { path = { '*.keytab', '*/mem' } })\n"
		 "r('substr', { path = '*/.ssh/*' })\n"
		 "r('glob', { path = '/etc/cron.?/*' })\n"
		 "r('mixed', { path = { '/etc/shadow', '*.pem' } })\n"
		 "r('alts', { one_of = { { path = '/root/*' }, { path = '*.kdbx' } } })\n"
		 "enrich({ 'file.open' }, { match = { path = { '*/.aws/*', '/etc/gshadow' } } },\n"
		 "       function(e) e:set('cred', e.path) end)\n"
		 "enrich({ 'file.open' }, { match = { path = '*.pem' } },\n"
		 "       function(e) e:set('pem', true) end)\n"
		 "enrich({ 'file.open' }, { match = { set = { pem = true } } },\n"
		 "       function(e) e:set('chained', true) end)\n"
		 "r('cred', { set = { cred = true } })\n"
		 "r('chained', { set = { chained = true } })\n"
		 "r('wglob', { flags = { any = 'O_WRONLY' }, path = '*.log' })\n"
		 "r('wbase', { flags = { any = 'O_WRONLY' }, path_base = { 'a.?og', 'x' } })\n");
	rs = load_ok();
	tp_ruleset_adopt(rs, NULL, NULL);
	pf = &rs->index[type_slot(tp_event_type_by_name("file.open"))]->pf;
	assert_int_equal(pf->nrules, 9);
	/* The path key holds the evaluated conditions, and answers for its
	 * base name's key too. */
	for (uint32_t k = 0; k < pf->nkeys; k++) {
		const struct pf_key *pk = &pf->keys[k];

		if (!pk->key.field || pk->key.base)
			continue;
		found += pk->nevals;
		assert_true(pk->base < PF_KEYS);
		assert_true(pf->keys[pk->base].key.base);
		assert_int_equal(pf->keys[pk->base].nevals, 1);
	}
	assert_true(found >= 6);
	for (int round = 0; round < 3; round++) {
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			open_at("cat", cases[i].path, 30, T0);
			opens++;
			if (strcmp(alerting(rs, got), cases[i].want))
				fail_msg("round %d: %s: alerts '%s', want '%s'", round,
					 cases[i].path, got, cases[i].want);
			/* The index lets a rule's events through exactly when its
			 * match passes (each has one string condition). */
			for (size_t j = 0; j < 5; j++) {
				struct rule_fn *f = tp_rules_find(rs, names[j]);
				bool m = tp_rules_matched(f, &ev, NULL, -1);

				if (tp_rules_index_admits(rs, f, &ev, NULL) != m)
					fail_msg("%s: the index %s rule %s", cases[i].path,
						 m ? "keeps the event from"
						   : "lets the event reach",
						 names[j]);
			}
		}
	}
	/* A plain read visits no enrich function, and every open counts as
	 * one each met. */
	for (size_t k = 0; k < rs->nfns; k++) {
		if (rs->fns[k].kind != FN_ENRICH)
			continue;
		assert_int_equal(tp_rules_fn_calls(rs, k), opens);
		if (enrich == SIZE_MAX)
			enrich = k; /* the first: the credential paths */
	}
	open_at("cat", "/usr/lib/libc.so.6", 30, T0);
	run(rs);
	assert_int_equal(tp_rules_fn_calls(rs, enrich), opens + 1);
	/* A string's answer for a rule the event had already been turned
	 * away from (a read, for a write rule) is found when it is asked. */
	for (int round = 0; round < 2; round++) {
		open_flags("/var/log/a.log", 0, 0);
		assert_string_equal(alerting(rs, got), "");
		open_flags("/var/log/a.log", 1, 0);
		assert_string_equal(alerting(rs, got), "wglob,wbase,");
		open_flags("/var/log/a.log.1", 1, 0);
		assert_string_equal(alerting(rs, got), "");
		open_flags("/var/log/x", 1, 0);
		assert_string_equal(alerting(rs, got), "wbase,");
	}
	assert_false(tp_rules_index_admits(rs, &rs->fns[enrich], &ev, NULL));
	/* Strings that share the cache's sets, and strings that come back
	 * after many others: each answer as the match gives it. */
	for (int i = 0; i < 3000; i++) {
		char path[64];
		int kind = i % 5;

		snprintf(path, sizeof(path),
			 kind == 0   ? "/var/x%d.keytab"
			 : kind == 1 ? "/home/u%d/.ssh/k"
			 : kind == 2 ? "/var/x%d"
			 : kind == 3 ? "/srv/%d.pem"
				     : "/var/y%d",
			 i % 40);
		open_at("cat", path, 30, T0);
		nalerts = 0;
		run(rs);
		assert_int_equal(nalerts, kind == 0 || kind == 1 ? 1 : kind == 3 ? 2 : 0);
	}
	tp_ruleset_free(rs);
}

/* A rule whose match needs a key of e:set is not reached by an event with
 * other keys set (an exec some enrich function marked for other rules):
 * the index leaves it out exactly when its match fails for want of the
 * key, and counts as its calls the events that had the key. */
static void test_rules_need_their_keys(void **state)
{
	char got[256];
	static const struct {
		const char *path;
		const char *want; /* the rules that alert, in load order */
		const char *keys; /* the keys the enrich functions set */
	} cases[] = {
	    {"/a/x", "ra,rnot,", "ka"}, {"/b/x", "rb,", "kb"}, {"/ab/x", "ra,rb,rab,", "ka,kb"},
	    {"/c/x", "rnot,rc,", "kc"}, {"/d/x", "rnot,", ""},
	};
	static const char *const names[] = {"ra", "rb", "rab", "rnot", "rc"}; /* 2, 3: below */
	struct tp_ruleset *rs;
	const struct slot_prefilter *pf;
	uint64_t with_a = 0, with_b = 0, opens = 0;

	(void)state;
	write_to(rules, "k.lua",
		 "local function yes() return true end\n"
		 "local function r(name, match)\n"
		 "  rule { name = name, events = { 'file.open' }, output = 'x', match = match,\n"
		 "         when = yes }\n"
		 "end\n"
		 "enrich({ 'file.open' }, { match = { path = { '/a/*', '/ab/*' } } },\n"
		 "       function(e) e:set('ka', true) end)\n"
		 "enrich({ 'file.open' }, { match = { path = { '/b/*', '/ab/*' } } },\n"
		 "       function(e) e:set('kb', e.path) end)\n"
		 "enrich({ 'file.open' }, { match = { path = '/c/*' } },\n"
		 "       function(e) e:set('kc', 1) end)\n"
		 "r('ra', { set = { ka = true } })\n"
		 "r('rb', { set = { kb = '/*b/x' } })\n"
		 "r('rab', { set = { ka = true, kb = true } })\n"
		 "r('rnot', { set = { kb = false } })\n"
		 "r('rc', { set = { kc = 1 } })\n");
	rs = load_ok();
	tp_ruleset_adopt(rs, NULL, NULL);
	pf = &rs->index[type_slot(tp_event_type_by_name("file.open"))]->pf;
	assert_int_equal(pf->nset_keys, 3); /* ka, kb, kc; rnot needs none */
	for (int round = 0; round < 2; round++) {
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			struct tp_kv kv[3];
			struct tp_event_meta meta = {.importance = -1, .kv = kv};
			const char *k = cases[i].keys;

			open_at("cat", cases[i].path, 30, T0);
			opens++;
			with_a += strstr(k, "ka") != NULL;
			with_b += strstr(k, "kb") != NULL;
			if (strcmp(alerting(rs, got), cases[i].want))
				fail_msg("%s: alerts '%s', want '%s'", cases[i].path, got,
					 cases[i].want);
			/* What the enrich functions set, as the rules see it. */
			for (const char *n = k; *n; n += strcspn(n, ","), n += *n == ',')
				kv[meta.nkv++] = (struct tp_kv){
				    .key = n[1] == 'a'	 ? "ka"
					   : n[1] == 'b' ? "kb"
							 : "kc",
				    .value = n[1] == 'b'
						 ? (struct tp_value){.kind = TP_V_STR,
								     .str = {cases[i].path,
									     strlen(cases[i].path)}}
					     : n[1] == 'a'
						 ? (struct tp_value){.kind = TP_V_BOOL, .b = true}
						 : (struct tp_value){.kind = TP_V_INT, .i = 1}};
			/* Exactly for a rule that needs one key; rab (two) and
			 * rnot (one not set) are left to their match. */
			for (size_t j = 0; j < sizeof(names) / sizeof(names[0]); j++) {
				struct rule_fn *f = tp_rules_find(rs, names[j]);
				bool m = tp_rules_matched(f, &ev, &meta, -1);
				bool in = tp_rules_index_admits(rs, f, &ev, &meta);

				if (in != m && (m || (j != 2 && j != 3)))
					fail_msg("%s: the index %s rule %s", cases[i].path,
						 m ? "keeps the event from"
						   : "lets the event reach",
						 names[j]);
			}
		}
	}
	/* Calls: the events that had the rule's key (rab: either of its two,
	 * which as many events had). */
	assert_int_equal(tp_rules_fn_calls(rs, (size_t)(tp_rules_find(rs, "ra") - rs->fns)),
			 with_a);
	assert_int_equal(tp_rules_fn_calls(rs, (size_t)(tp_rules_find(rs, "rb") - rs->fns)),
			 with_b);
	assert_int_equal(tp_rules_fn_calls(rs, (size_t)(tp_rules_find(rs, "rab") - rs->fns)),
			 with_a);
	assert_int_equal(tp_rules_fn_calls(rs, (size_t)(tp_rules_find(rs, "rnot") - rs->fns)),
			 opens);
	tp_ruleset_free(rs);
}

/* A function whose match needs the process in a container (or a pod) is
 * not reached by the events of a process outside one: enrich functions
 * and rules alike. */
static void test_index_needs_the_context(void **state)
{
	static const char *const names[] = {"inct", "pod", "host", "ck"};
	static const struct tp_container_ctx box = {.id = "c0ffee", .runtime = "containerd"};
	static const struct tp_k8s_ctx prod = {.pod = "web-1", .namespace = "prod"};
	static const struct {
		const struct tp_container_ctx *container;
		const struct tp_k8s_ctx *k8s;
		unsigned want; /* the alerts */
	} cases[] = {{NULL, NULL, 1}, {&box, NULL, 2}, {&box, &prod, 3}};
	struct tp_ruleset *rs;

	(void)state;
	write_to(rules, "c.lua",
		 "local function yes() return true end\n"
		 "local function r(name, match)\n"
		 "  rule { name = name, events = { 'file.open' }, output = 'x', match = match,\n"
		 "         when = yes }\n"
		 "end\n"
		 "r('inct', { container = true })\n"
		 "r('pod', { ['k8s.namespace'] = 'prod' })\n"
		 "r('host', { container = false })\n"
		 "enrich({ 'file.open' }, { match = { ['container.runtime'] = 'containerd' } },\n"
		 "       function(e) e:set('c', true) end)\n"
		 "r('ck', { set = { c = true } })\n");
	rs = load_ok();
	tp_ruleset_adopt(rs, NULL, NULL);
	for (int round = 0; round < 2; round++) {
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			struct tp_proc_ctx pc = {.container = cases[i].container,
						 .k8s = cases[i].k8s};
			struct tp_kv kv = {.key = "c", .value = {.kind = TP_V_BOOL, .b = true}};
			struct tp_event_meta meta = {.importance = -1, .proc = &pc};
			struct rule_fn *enrich = NULL;
			unsigned n;

			open_at("cat", "/srv/x", 30, T0);
			tp_ruleset_event(rs, &ev, &meta, on_alert, NULL, &n);
			assert_int_equal(n, cases[i].want);
			for (size_t k = 0; k < rs->nfns; k++)
				if (rs->fns[k].kind == FN_ENRICH)
					enrich = &rs->fns[k];
			assert_int_equal(tp_rules_index_admits(rs, enrich, &ev, &meta),
					 cases[i].container != NULL);
			meta.kv = &kv;
			meta.nkv = cases[i].container != NULL;
			/* Exactly, but for host: outside a container is left to
			 * its match. */
			for (size_t j = 0; j < sizeof(names) / sizeof(names[0]); j++) {
				struct rule_fn *f = tp_rules_find(rs, names[j]);
				bool m = tp_rules_matched(f, &ev, &meta, -1);

				if (tp_rules_index_admits(rs, f, &ev, &meta) != m && (m || j != 2))
					fail_msg("case %zu: the index is wrong about rule %s", i,
						 names[j]);
			}
		}
	}
	tp_ruleset_free(rs);
}

/* set.<key>: what an enrich function set on the event, checked in C. */
static void test_match_on_set_keys(void **state)
{
	struct tp_ruleset *rs;

	(void)state;
	write_to(rules, "m.lua",
		 "enrich({ 'file.open' }, function(e)\n"
		 "  if e.path:sub(1, 5) == '/etc/' then e:set('etc_path', e.path) end\n"
		 "  if e.flags ~= 0 then e:set('wflags', e.flags) end\n"
		 "end)\n"
		 "rule { name = 'etc', events = { 'file.open' }, output = '${path}',\n"
		 "  match = { set = { etc_path = true } }, when = function(e) return true end,\n"
		 "  tests = { { event = { type = 'file.open', path = '/etc/x' }, expect = true },\n"
		 "            { event = { type = 'file.open', path = '/tmp/x' }, expect = false } } }\n"
		 "rule { name = 'not_etc', events = { 'file.open' }, output = '${path}',\n"
		 "  match = { set = { etc_path = false } }, when = function(e) return true end }\n"
		 "rule { name = 'cron', events = { 'file.open' }, output = '${path}',\n"
		 "  match = { set = { etc_path = '/etc/cron*', wflags = 1 } },\n"
		 "  when = function(e) return true end }\n");
	rs = load_ok();

	open_flags("/etc/hosts", O_RDONLY, 0);
	nalerts = 0;
	assert_int_equal(run(rs), 1);
	assert_string_equal(alerted[0], "etc|warning");
	open_flags("/tmp/hosts", O_RDONLY, 0);
	nalerts = 0;
	assert_int_equal(run(rs), 1);
	assert_string_equal(alerted[0], "not_etc|warning");
	open_flags("/etc/crontab", O_WRONLY, 0); /* a text prefix and a number */
	assert_int_equal(run(rs), 2);
	open_flags("/etc/crontab", O_RDWR, 0);
	assert_int_equal(run(rs), 1);
	tp_ruleset_free(rs);

	write_to(rules, "m.lua",
		 "rule { name = 'a', events = { 'file.open' }, output = '${path}',\n"
		 "  match = { set = { [''] = true } }, when = function(e) return true end }\n");
	load_fails("m.lua:1: rule 'a': match: set: the keys e:set sets");
}

/* filter/enrich/score(events, { match = {...} }, fn): an event the match
 * turns away never calls fn, in the inline tests as in the pipeline. */
static void test_enrich_and_filter_take_a_match(void **state)
{
	struct tp_ruleset *rs;

	(void)state;
	write_to(rules, "m.lua",
		 /* Functions that would act on every event: the match decides. */
		 "enrich({ 'file.open', 'file.rename' },\n"
		 "  { match = { ['file.open'] = { flags = { any = 'O_WRONLY|O_RDWR' } } } },\n"
		 "  function(e) e:set('changed', e.type) end)\n"
		 "filter({ 'file.open' }, { match = { path = { '/tmp/*', '*.swp' } } },\n"
		 "  function(e) return false end)\n"
		 "rule { name = 'changed', events = { 'file.open', 'file.rename' }, output = '${comm}',\n"
		 "  match = { set = { changed = true } }, when = function(e) return true end,\n"
		 "  tests = { { event = { type = 'file.open', path = '/etc/x', flags = 1 },\n"
		 "              expect = true },\n"
		 "            { event = { type = 'file.open', path = '/etc/x' }, expect = false },\n"
		 "            { event = { type = 'file.rename', newpath = '/etc/x' },\n"
		 "              expect = true } } }\n"
		 "rule { name = 'opened', events = { 'file.open' }, output = '${path}',\n"
		 "  when = function(e) return true end }\n");
	rs = load_ok();

	open_flags("/etc/hosts", O_RDONLY, 0); /* kept, not enriched */
	nalerts = 0;
	assert_int_equal(run(rs), 1);
	assert_string_equal(alerted[0], "opened|warning");
	open_flags("/etc/hosts", O_WRONLY, 0); /* kept and enriched */
	assert_int_equal(run(rs), 2);
	open_flags("/tmp/hosts", O_WRONLY, 0); /* filtered: no rule sees it */
	assert_int_equal(run(rs), 0);
	open_flags("/etc/.hosts.swp", O_RDWR, 0);
	assert_int_equal(run(rs), 0);
	rename_to("/tmp/x", "/etc/x"); /* no condition for file.rename */
	nalerts = 0;
	assert_int_equal(run(rs), 1);
	assert_string_equal(alerted[0], "changed|warning");
	tp_ruleset_free(rs);

	write_to(rules, "m.lua",
		 "enrich({ 'file.open' }, { match = { flags = { any = 'O_NOPE' } } },\n"
		 "  function(e) end)\n"
		 "score({ 'file.open' }, { match = { pth = '/etc/*' } }, function(e) return 1 end)\n");
	load_fails("m.lua:1: enrich: match: flags: file.open has no flag 'O_NOPE'");
	assert_non_null(strstr(diags, "m.lua:3: score: match: no field 'pth'"));
	write_to(rules, "m.lua", "filter({ 'file.open' }, { match = 'x' }, function(e) end)\n");
	load_fails("m.lua:1: filter: match: a table of field conditions");
	write_to(rules, "m.lua", "enrich({ 'file.open' }, { when = {} }, function(e) end)\n");
	load_fails("m.lua:1: enrich: unknown option 'when' (known: match)");
}

static void test_bad_match_names_file_and_line(void **state)
{
	(void)state;
	write_to(rules, "m.lua",
		 "rule { name = 'a', events = { 'file.open' }, output = '${path}',\n"
		 "  match = { pth = '/etc/*' }, when = function(e) return true end }\n"
		 "rule { name = 'b', events = { 'file.open' }, output = '${path}',\n"
		 "  match = { flags = { any = 'O_NOPE' } }, when = function(e) return true end }\n"
		 "rule { name = 'c', events = { 'file.open' }, output = '${path}',\n"
		 "  match = 'x', when = function(e) return true end }\n"
		 "rule { name = 'd', events = { 'file.open' }, output = '${path}',\n"
		 "  match = { comm = true }, when = function(e) return true end }\n"
		 "rule { name = 'e', events = { 'file.open' }, output = '${path}',\n"
		 "  match = { path = { 'a', true } }, when = function(e) return true end }\n"
		 "rule { name = 'f', events = { 'file.open' }, output = '${path}',\n"
		 "  match = { ['file.rename'] = { newpath = 'x' } }, when = function(e) return true end }\n");
	load_fails("m.lua:1: rule 'a': match: no field 'pth'");
	assert_non_null(strstr(diags, "m.lua:3: rule 'b': match: flags: file.open has no flag "
				      "'O_NOPE'"));
	assert_non_null(strstr(diags, "m.lua:5: rule 'c': match: a table"));
	assert_non_null(strstr(diags, "m.lua:7: rule 'd': match: comm: every event has one"));
	assert_non_null(strstr(diags, "m.lua:9: rule 'e': match: path: true or false alone"));
	assert_non_null(strstr(diags, "m.lua:11: rule 'f': match: file.rename: not one of the "
				      "rule's events"));
}

static void test_bad_exceptions_name_file_and_line(void **state)
{
	(void)state;
	write_to(rules, "shipped.lua", shell_rules);
	write_to(user, "site.lua",
		 "-- site exceptions\n"
		 "exception { rule = 'shell_spawnd', comm = 'x' }\n"
		 "exception { rule = 'tmp_open', pth = '/tmp/x' }\n"
		 "exception { rule = 'shell_spawned', path = '/tmp/x' }\n"
		 "override { rule = 'tmp_open', severity = 'loud' }\n"
		 "override { rule = 'tmp_open', colour = 'red' }\n"
		 "exception { comm = 'x' }\n");
	load_fails("site.lua:2: exception for unknown rule 'shell_spawnd' (did you mean "
		   "'shell_spawned'?)");
	assert_non_null(strstr(diags, "site.lua:3: exception for rule 'tmp_open': no field 'pth'"));
	/* path is a field of file.open, not of the rule's process.exec */
	assert_non_null(
	    strstr(diags, "site.lua:4: exception for rule 'shell_spawned': no field 'path'"));
	assert_non_null(strstr(diags, "site.lua:5: override of rule 'tmp_open': severity"));
	assert_non_null(strstr(diags, "site.lua:6: override of rule 'tmp_open': unknown key 'colour'"));
	assert_non_null(strstr(diags, "site.lua:7: exception: rule = "));
}

/* ------------------------------------------------------------ state */

static const char burst_rule[] =
    "rule { name = 'burst', events = { 'process.exec' }, output = '${comm}',\n"
    "  state = { runs = tapio.counter { window = '10s' } },\n"
    "  when = function(e, s) return s.runs:add(e) == 5 end,\n"
    "  tests = {\n"
    "    { events = { { type = 'process.exec', times = 5 } }, expect = 5 },\n"
    "    { events = { { type = 'process.exec', times = 4 },\n"
    "                 { type = 'process.exec', at = '11s' } }, expect = false },\n"
    "    { events = { { type = 'process.exec', times = 4 },\n"
    "                 { type = 'process.exec', pid = 7 } }, expect = false },\n"
    "  } }\n";

static void test_counter_rule_and_reload(void **state)
{
	struct tp_ruleset *rs, *next;
	struct tp_ruleset_adoption ad;

	(void)state;
	write_to(rules, "burst.lua", burst_rule);
	rs = load_ok();
	tp_ruleset_adopt(rs, NULL, &ad);
	for (int i = 0; i < 3; i++) {
		exec_at("id", "/usr/bin/id", 42, T0 + i * SEC);
		assert_int_equal(run(rs), 0);
	}
	exec_at("id", "/usr/bin/id", 43, T0 + 3 * SEC); /* another process */
	assert_int_equal(run(rs), 0);

	/* A reload with the same declaration keeps the count... */
	next = load_ok();
	tp_ruleset_adopt(next, rs, &ad);
	tp_ruleset_free(rs);
	rs = next;
	assert_int_equal(ad.kept, 1);
	assert_int_equal(ad.reset, 0);
	exec_at("id", "/usr/bin/id", 42, T0 + 4 * SEC);
	assert_int_equal(run(rs), 0);
	exec_at("id", "/usr/bin/id", 42, T0 + 5 * SEC);
	assert_int_equal(run(rs), 1); /* the 5th in 10 s */

	/* ... a changed declaration starts fresh, and says so. */
	exec_at("id", "/usr/bin/id", 44, T0 + 6 * SEC);
	run(rs);
	write_to(rules, "burst.lua",
		 "rule { name = 'burst', events = { 'process.exec' }, output = '${comm}',\n"
		 "  state = { runs = tapio.counter { window = '20s' } },\n"
		 "  when = function(e, s) return s.runs:add(e) == 2 end }\n");
	next = load_ok();
	tp_ruleset_adopt(next, rs, &ad);
	tp_ruleset_free(rs);
	rs = next;
	assert_int_equal(ad.kept, 0);
	assert_int_equal(ad.reset, 1);
	assert_string_equal(ad.reset_names, "burst");
	exec_at("id", "/usr/bin/id", 44, T0 + 7 * SEC);
	assert_int_equal(run(rs), 0); /* 1, not 2 */
	assert_int_equal(run(rs), 1);

	/* A rule that is gone drops its state. */
	write_to(rules, "burst.lua", "");
	next = load_ok();
	tp_ruleset_adopt(next, rs, &ad);
	tp_ruleset_free(rs);
	assert_int_equal(ad.dropped, 1);
	{
		struct tp_state_stats ss;

		tp_state_store_stats(tp_ruleset_state(next), &ss);
		assert_int_equal(ss.keys, 0);
		assert_int_equal(ss.bytes, 0);
	}
	tp_ruleset_free(next);
}

static const char drop_rule[] =
    "local W = 1 | 64 -- O_WRONLY | O_CREAT\n"
    "rule { name = 'dropped_and_run', events = { 'file.open', 'file.chmod', 'process.exec' },\n"
    "  output = '${comm} ran ${filename}',\n"
    "  state = { drop = tapio.sequence { 'written', 'chmod', 'exec', within = '1m' } },\n"
    "  when = function(e, s)\n"
    "    if e.type == 'file.open' and (e.flags & W) ~= 0 then\n"
    "      return s.drop:step(e.path, 'written')\n"
    "    elseif e.type == 'file.chmod' and (e.mode & 73) ~= 0 then\n"
    "      return s.drop:step(e.path, 'chmod')\n"
    "    elseif e.type == 'process.exec' then\n"
    "      return s.drop:step(e.filename, 'exec')\n"
    "    end\n"
    "    return false\n"
    "  end,\n"
    "  tests = {\n"
    "    { events = {\n"
    "        { type = 'file.open', path = '/tmp/x', flags = 65 },\n"
    "        { type = 'file.chmod', path = '/tmp/x', mode = 493, at = '10s' },\n"
    "        { type = 'process.exec', filename = '/tmp/x', comm = 'x', at = '20s' } },\n"
    "      expect = 3, output = 'x ran /tmp/x' },\n"
    "    { events = {\n"
    "        { type = 'file.open', path = '/tmp/x', flags = 65 },\n"
    "        { type = 'file.chmod', path = '/tmp/x', mode = 493, at = '10s' },\n"
    "        { type = 'process.exec', filename = '/tmp/x', at = '61s' } },\n"
    "      expect = false },\n"
    "    { events = {\n"
    "        { type = 'file.chmod', path = '/tmp/x', mode = 493 },\n"
    "        { type = 'file.open', path = '/tmp/x', flags = 65 },\n"
    "        { type = 'process.exec', filename = '/tmp/x' } },\n"
    "      expect = false },\n"
    "  } }\n";

static void test_sequence_rule_with_inline_tests(void **state)
{
	struct tp_ruleset *rs;
	struct tp_ruleset_info in;

	(void)state;
	write_to(rules, "drop.lua", drop_rule);
	rs = load_ok();
	tp_ruleset_info(rs, &in);
	assert_int_equal(in.tests, 3);
	assert_int_equal(in.stateful, 1);
	tp_ruleset_free(rs);

	/* A test that expects the alert on the wrong event says which. */
	write_to(rules, "drop.lua",
		 "rule { name = 'two', events = { 'process.exec' }, output = '${comm}',\n"
		 "  state = { q = tapio.sequence { 'a', 'b', within = 5 } },\n"
		 "  when = function(e, s) return s.q:step(e.comm, e.pid) end,\n"
		 "  tests = { { events = { { type = 'process.exec', comm = 'k', pid = 1 },\n"
		 "                         { type = 'process.exec', comm = 'k', pid = 2 } },\n"
		 "              expect = 1 } } }\n");
	load_fails("rule 'two' test 1: event 1 of 2 (process.exec): expected an alert, got none");
}

/* A test event's exe, argv, parent, ancestors, container and k8s reach
 * match = {} and the rule file's exceptions as enrichment's would live. */
static void test_match_and_exceptions_see_test_process(void **state)
{
	struct tp_ruleset *rs;
	struct tp_ruleset_info in;

	(void)state;
	write_to(rules, "ctr.lua",
		 "rule { name = 'nc_in_container', events = { 'process.exec' }, output = '${comm}',\n"
		 "  match = { container = true, exe = '/usr/bin/nc*', cmdline = '* -e *' },\n"
		 "  when = function(e) return true end,\n"
		 "  tests = {\n"
		 "    { event = { type = 'process.exec', exe = '/usr/bin/nc', argv = { 'nc', '-e', 'sh' },\n"
		 "                container = { id = 'abc' } }, expect = true },\n"
		 "    { event = { type = 'process.exec', exe = '/usr/bin/nc', argv = { 'nc', '-e', 'sh' } },\n"
		 "      expect = false },\n"
		 "    { event = { type = 'process.exec', exe = '/usr/bin/nc', argv = { 'nc', 'x' },\n"
		 "                container = { id = 'abc' } }, expect = false },\n"
		 "    { event = { type = 'process.exec', exe = '/usr/bin/nc', argv = { 'nc', '-e', 'sh' },\n"
		 "                container = { id = 'abc' }, parent = { exe = '/usr/bin/ok' } },\n"
		 "      expect = false },\n"
		 "    { event = { type = 'process.exec', exe = '/usr/bin/nc', argv = { 'nc', '-e', 'sh' },\n"
		 "                container = { id = 'abc' }, ancestors = { { comm = 'a' }, { comm = 'ci' } } },\n"
		 "      expect = false },\n"
		 "  } }\n"
		 "exception { rule = 'nc_in_container', parent = { exe = '/usr/bin/ok' }, reason = 'x' }\n"
		 "exception { rule = 'nc_in_container', ancestor = 'ci', reason = 'y' }\n");
	rs = load_ok();
	tp_ruleset_info(rs, &in);
	assert_int_equal(in.tests, 5);
	tp_ruleset_free(rs);
}

static void test_state_api_errors(void **state)
{
	(void)state;
	write_to(rules, "a.lua",
		 "rule { name = 'a', events = { 'process.exec' }, output = '${comm}',\n"
		 "  state = { q = tapio.sequence { 'x', 'y', within = '1m' } },\n"
		 "  when = function(e, s) return s.q:step(e.comm, 'z') end,\n"
		 "  tests = { { event = { type = 'process.exec' }, expect = false } } }\n"
		 "local shared = tapio.map { ttl = 60 }\n"
		 "rule { name = 'c', events = { 'process.exec' }, output = '${comm}',\n"
		 "  state = { m = shared }, when = function() end }\n"
		 "rule { name = 'd', events = { 'process.exec' }, output = '${comm}',\n"
		 "  state = { m = shared }, when = function() end }\n"
		 "rule { name = 'e', events = { 'process.exec' }, output = '${comm}',\n"
		 "  state = { c = tapio.counter { window = '1m' } },\n"
		 "  when = function(e, s) return s.c:add({}) end,\n"
		 "  tests = { { event = { type = 'process.exec' }, expect = false } } }\n");
	/* A declaration that cannot be made stops its file where it is. */
	write_to(rules, "b.lua",
		 "rule { name = 'b', events = { 'process.exec' }, output = '${comm}',\n"
		 "  state = { c = tapio.counter { windw = '1m' } }, when = function() end }\n");
	load_fails("no step 'z' (steps: x, y)");
	assert_non_null(strstr(diags, "b.lua:2: tapio.counter: unknown option 'windw' (known: "
				      "window, max_keys)"));
	assert_non_null(strstr(diags, "a.lua:8: rule 'd': state.m: this declaration already "
				      "belongs to another rule"));
	assert_non_null(strstr(diags, "counter:add: key: a string, a number, a boolean, the event"));
}

static void test_distinct_map_and_exits(void **state)
{
	struct tp_ruleset *rs;
	struct tp_state_stats ss;

	(void)state;
	write_to(rules, "cred.lua",
		 "rule { name = 'many_secrets', events = { 'file.open' }, output = '${comm}',\n"
		 "  state = { files = tapio.distinct { window = '1m' },\n"
		 "            first = tapio.map { ttl = '1h' } },\n"
		 "  when = function(e, s)\n"
		 "    if not s.first:get(e) then s.first:set(e, e.path) end\n"
		 "    local n, new = s.files:add(e, e.path)\n"
		 "    return new and n == 3 and s.first:get(e) == '/etc/shadow'\n"
		 "  end }\n");
	rs = load_ok();
	open_at("x", "/etc/shadow", 50, T0);
	assert_int_equal(run(rs), 0);
	open_at("x", "/etc/shadow", 50, T0 + SEC); /* the same file again */
	assert_int_equal(run(rs), 0);
	open_at("x", "/root/.ssh/id_rsa", 50, T0 + 2 * SEC);
	assert_int_equal(run(rs), 0);
	open_at("y", "/etc/gshadow", 51, T0 + 2 * SEC); /* another process */
	assert_int_equal(run(rs), 0);
	open_at("x", "/etc/gshadow", 50, T0 + 3 * SEC);
	assert_int_equal(run(rs), 1);

	/* Keys of a process go when it exits. */
	tp_state_store_stats(tp_ruleset_state(rs), &ss);
	assert_int_equal(ss.keys, 4); /* 2 processes x (files, first) */
	exit_at(50, T0 + 4 * SEC);
	run(rs);
	tp_state_store_stats(tp_ruleset_state(rs), &ss);
	assert_int_equal(ss.keys, 2);
	assert_int_equal(ss.exited, 2);
	tp_ruleset_free(rs);
}

/* enrich(events, { match, set }): no Lua function; an event its match
 * passes gets each key set to its field's text (or _base) in C, before the
 * rules; a rule's match and when see it. Bad declarations name what to
 * change. */
static void test_enrich_set(void **state)
{
	struct tp_ruleset *rs;

	(void)state;
	write_to(rules, "set.lua",
		 "enrich({ 'process.exec' }, { match = { filename_base = { 'sh', 'bash' } },\n"
		 "  set = { shell_exec = 'filename_base', shell_path = 'filename' } })\n"
		 "rule { name = 'shells', events = { 'process.exec' }, output = '${filename}',\n"
		 "  match = { set = { shell_exec = true } },\n"
		 "  when = function(e)\n"
		 "    return e.shell_path == e.filename and e.shell_exec == e.comm end,\n"
		 "  tests = { { event = { type = 'process.exec', filename = '/bin/bash', comm = "
		 "'bash' },\n"
		 "              expect = true },\n"
		 "            { event = { type = 'process.exec', filename = '/bin/ls' },\n"
		 "              expect = false } } }\n");
	rs = load_ok();
	exec_at("bash", "/usr/bin/bash", 60, T0);
	assert_int_equal(run(rs), 1);
	exec_at("ls", "/usr/bin/ls", 60, T0);
	assert_int_equal(run(rs), 0);
	tp_ruleset_free(rs);

	write_to(rules, "set.lua",
		 "enrich({ 'process.exec' }, { match = { uid = 0 }, set = { k = 'nope' } })\n");
	load_fails("enrich: set: k: nope is not a text field of process.exec");
	write_to(rules, "set.lua",
		 "enrich({ 'process.exec' }, { match = { uid = 0 }, set = { k = 'uid' } })\n");
	load_fails("enrich: set: k: uid is not a text field of process.exec");
	write_to(
	    rules, "set.lua",
	    "enrich({ 'process.exec' }, { match = { uid = 0 }, set = { comm = 'filename' } })\n");
	load_fails("enrich: set: 'comm' is an event field");
	write_to(rules, "set.lua", "enrich({ 'process.exec' }, { set = { k = 'filename' } })\n");
	load_fails("enrich: match: a table of field conditions");
	write_to(rules, "set.lua",
		 "score({ 'process.exec' }, { match = { uid = 0 }, set = { k = 'filename' } })\n");
	load_fails("score: want");
	write_to(rules, "set.lua", "\n");
}

/* A rule of events with state and skip_repeats = repeats fails to load with msg. */
static void repeats_fail(const char *events, const char *state, const char *repeats,
			 const char *msg)
{
	char src[512];

	snprintf(src, sizeof(src),
		 "rule { name = 'g', events = { '%s' }, output = 'x',\n"
		 "  state = { %s },\n"
		 "  skip_repeats = %s,\n"
		 "  when = function() return true end }\n",
		 events, state, repeats);
	write_to(rules, "rep.lua", src);
	load_fails(msg);
}

/* skip_repeats: an event whose fields' values reached the rule within the
 * map's ttl (sliding: each repeat holds them again) is not passed to when;
 * other values, and the same ones past the ttl, are. The inline tests see
 * the same. A bad declaration names what to change. */
static void test_skip_repeats(void **state)
{
	struct tp_ruleset *rs;

	(void)state;
	/* when alerts on every open it is called for: the alerts count the calls. */
	write_to(rules, "rep.lua",
		 "rule { name = 'opens', events = { 'file.open' }, output = '${path}',\n"
		 "  state = { seen = tapio.map { ttl = '30s' } },\n"
		 "  skip_repeats = { map = 'seen', fields = { 'pid', 'path' } },\n"
		 "  when = function(e) return true end,\n"
		 "  tests = { { events = { { type = 'file.open', pid = 9, path = '/x' },\n"
		 "                         { type = 'file.open', pid = 9, path = '/x' },\n"
		 "                         { type = 'file.open', pid = 8, path = '/x' },\n"
		 "                         { type = 'file.open', pid = 9, path = '/y' } },\n"
		 "              expect = { 1, 3, 4 } } } }\n");
	rs = load_ok();
	open_at("x", "/a", 60, T0);
	assert_int_equal(run(rs), 1);
	open_at("x", "/a", 60, T0 + SEC); /* a repeat */
	assert_int_equal(run(rs), 0);
	open_at("x", "/a", 61, T0 + SEC); /* another process */
	assert_int_equal(run(rs), 1);
	open_at("x", "/ab", 60, T0 + SEC); /* another path, whose start is the same */
	assert_int_equal(run(rs), 1);
	open_at("x", "/a", 60, T0 + 40 * SEC); /* 39 s after the last: past the ttl */
	assert_int_equal(run(rs), 1);
	for (int i = 0; i < 5; i++) { /* every 20 s: each repeat holds it again */
		open_at("x", "/c", 60, T0 + (100 + 20 * (uint64_t)i) * SEC);
		assert_int_equal(run(rs), i == 0);
	}
	tp_ruleset_free(rs);

	repeats_fail("file.open", "seen = tapio.map { ttl = '1m' }",
		     "{ map = 'seen', fields = { 'pid', 'daddr' } }",
		     "skip_repeats: fields: daddr: not a field of file.open");
	repeats_fail("process.exec", "seen = tapio.map { ttl = '1m' }",
		     "{ map = 'seen', fields = { 'argv' } }",
		     "skip_repeats: fields: argv: too long to key on");
	repeats_fail("file.open", "n = tapio.counter { window = '1m' }",
		     "{ map = 'n', fields = { 'pid' } }",
		     "skip_repeats: map: n: no tapio.map of that name in the rule's state");
	repeats_fail("file.open", "seen = tapio.map { ttl = '1m' }",
		     "{ map = 'seen', fields = {} }",
		     "skip_repeats: fields: a list of 1 to 4 field names");
	repeats_fail("file.open", "seen = tapio.map { ttl = '1m' }",
		     "{ map = 'seen', field = { 'pid' } }",
		     "skip_repeats: unknown key 'field' (known: map, fields)");
	write_to(rules, "rep.lua", "\n");
}

/* The shipped score of exits (rules/default/score.lua): 0.5 for a signal
 * other than the usual stop requests, none for an ordinary exit; its
 * match says so in C. */
static void test_shipped_exit_score(void **state)
{
	static const struct {
		uint32_t sig;
		double want;
	} cases[] = {{0, -1},	{2, -1},  {9, -1},  {13, -1},  {15, -1},
		     {11, 0.5}, {6, 0.5}, {1, 0.5}, {64, 0.5}, {127, 0.5}};
	char path[512], *text;
	struct tp_ruleset *rs;
	struct tp_exit_event e;
	FILE *f;
	long n;

	(void)state;
	snprintf(path, sizeof(path), "%s/rules/default/score.lua", TP_SOURCE_DIR);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)n + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	write_to(rules, "score.lua", text);
	free(text);
	rs = load_ok();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&e, 0, sizeof(e));
		e.hdr.type = TP_EV_PROCESS_EXIT;
		e.hdr.size = sizeof(e);
		e.hdr.pid = e.hdr.tid = 70;
		e.signal = cases[i].sig;
		assert_int_equal(tp_decode(&e, sizeof(e), 0, &ev), 0);
		if (scored(rs) != cases[i].want)
			fail_msg("signal %u: want importance %g", cases[i].sig, cases[i].want);
	}
	tp_ruleset_free(rs);
	write_to(rules, "score.lua", "\n");
}

/* A file.open rule with state decl and gates (remember/recall) fails to
 * load with want among the problems. */
static void gates_fail(const char *decl, const char *gates, const char *want)
{
	char text[1024];

	snprintf(text, sizeof(text),
		 "rule { name = 'g', events = { 'file.open' }, output = 'x',\n"
		 "  state = { %s },\n  %s,\n  when = function() return true end }\n",
		 decl, gates);
	write_to(rules, "gate.lua", text);
	load_fails(want);
}

/* remember marks an event's process in a map without calling when; recall
 * calls when only for a process in the map (its TTL and the process's exit
 * apply as for s.map:set(e, true)); the inline tests go the same way; a
 * bad remember or recall names what to change. */
static void test_remember_and_recall(void **state)
{
	struct tp_ruleset *rs;

	(void)state;
	/* when alerts on every exec it is called for: that no exec alerts
	 * shows it is not called for them. */
	write_to(rules, "gate.lua",
		 "rule { name = 'exec_then_open', events = { 'process.exec', 'file.open', "
		 "'process.exit' },\n"
		 "  output = '${comm}', state = { seen = tapio.map { ttl = '1m' } },\n"
		 "  remember = { ['process.exec'] = 'seen' }, recall = { ['file.open'] = 'seen' },\n"
		 "  when = function(e, s)\n"
		 "    return e.type == 'process.exec' or (e.type == 'file.open' and s.seen:get(e))\n"
		 "  end,\n"
		 "  tests = { { events = { { type = 'process.exec', pid = 9 },\n"
		 "                         { type = 'file.open', pid = 9, path = '/x' } }, expect = 2 },\n"
		 "            { events = { { type = 'process.exec', pid = 9 },\n"
		 "                         { type = 'file.open', pid = 8, path = '/x' } }, "
		 "expect = false } } }\n");
	rs = load_ok();
	open_at("x", "/etc/passwd", 60, T0); /* not seen: when is not called */
	assert_int_equal(run(rs), 0);
	exec_at("x", "/bin/x", 60, T0 + SEC); /* marked, no call */
	assert_int_equal(run(rs), 0);
	open_at("x", "/etc/passwd", 61, T0 + 2 * SEC); /* another process */
	assert_int_equal(run(rs), 0);
	open_at("x", "/etc/passwd", 60, T0 + 2 * SEC);
	assert_int_equal(run(rs), 1);
	open_at("x", "/etc/passwd", 60, T0 + 2 * 60 * SEC); /* past the TTL */
	assert_int_equal(run(rs), 0);
	exec_at("x", "/bin/x", 60, T0 + 3 * 60 * SEC);
	assert_int_equal(run(rs), 0);
	exit_at(60, T0 + 3 * 60 * SEC); /* its keys go with it */
	run(rs);
	open_at("x", "/etc/passwd", 60, T0 + 3 * 60 * SEC + SEC);
	assert_int_equal(run(rs), 0);
	tp_ruleset_free(rs);

	/* With an exception: a recall turns its events away before the
	 * exception is asked (an excepted count only for events the rule
	 * would have seen); an excepted event is never remembered. */
	write_to(
	    rules, "gate.lua",
	    "rule { name = 'exec_then_open', events = { 'process.exec', 'file.open' },\n"
	    "  output = '${comm}', state = { seen = tapio.map { ttl = '1m' } },\n"
	    "  remember = { ['process.exec'] = 'seen' }, recall = { ['file.open'] = 'seen' },\n"
	    "  when = function(e, s) return true end }\n"
	    "exception { rule = 'exec_then_open', comm = 'quiet' }\n");
	rs = load_ok();
	{
		struct rule_fn *f = tp_rules_find(rs, "exec_then_open");

		open_at("quiet", "/etc/passwd", 70, T0); /* not recalled: not asked */
		assert_int_equal(run(rs), 0);
		assert_int_equal(f->excepted, 0);
		exec_at("quiet", "/bin/x", 71, T0); /* excepted: not remembered */
		assert_int_equal(run(rs), 0);
		assert_int_equal(f->excepted, 1);
		open_at("loud", "/etc/passwd", 71, T0 + SEC);
		assert_int_equal(run(rs), 0);
		exec_at("loud", "/bin/x", 72, T0); /* remembered */
		assert_int_equal(run(rs), 0);
		open_at("quiet", "/etc/passwd", 72, T0 + SEC); /* recalled, then excepted */
		assert_int_equal(run(rs), 0);
		assert_int_equal(f->excepted, 2);
		open_at("loud", "/etc/passwd", 72, T0 + SEC);
		assert_int_equal(run(rs), 1);
	}
	tp_ruleset_free(rs);

	gates_fail("seen = tapio.map { ttl = '1m' }", "remember = { ['process.exec'] = 'seen' }",
		   "remember: process.exec: not one of the rule's events");
	gates_fail("n = tapio.counter { window = '1m' }", "recall = { ['file.open'] = 'n' }",
		   "recall: n: no tapio.map of that name in the rule's state");
	gates_fail("seen = tapio.map { ttl = '1m' }",
		   "remember = { ['file.open'] = 'seen' }, recall = { ['file.open'] = 'seen' }",
		   "recall: file.open: in remember already");
	gates_fail("seen = tapio.map { ttl = '1m' }", "remember = { 'seen' }",
		   "remember: entries are");

	/* recall by text: when is called for an open only when one of the
	 * maps holds its path, or its last component. */
	write_to(rules, "gate.lua",
		 "rule { name = 'ran_then_opened', events = { 'process.exec', 'file.open' },\n"
		 "  output = '${path}', state = { by_path = tapio.map { ttl = '1m' },\n"
		 "                               by_name = tapio.map { ttl = '1m' } },\n"
		 "  recall = { ['file.open'] = { by_path = 'path', by_name = 'path_base' } },\n"
		 "  when = function(e, s)\n"
		 "    if e.type == 'process.exec' then\n"
		 "      if e.filename:sub(1, 1) == '/' then s.by_path:set(e.filename, true)\n"
		 "      else s.by_name:set(tapio.basename(e.filename), true) end\n"
		 "      return false\n"
		 "    end\n"
		 "    return true\n"
		 "  end,\n"
		 "  tests = { { events = { { type = 'process.exec', pid = 9, filename = '/t/x' },\n"
		 "                         { type = 'file.open', pid = 8, path = '/t/x' } }, "
		 "expect = 2 },\n"
		 "            { events = { { type = 'process.exec', pid = 9, filename = '/t/x' },\n"
		 "                         { type = 'file.open', pid = 8, path = '/t/y' } }, "
		 "expect = false } } }\n");
	rs = load_ok();
	open_at("x", "/tmp/d/run", 60, T0); /* nothing ran: when is not called */
	assert_int_equal(run(rs), 0);
	exec_at("x", "/tmp/d/run", 61, T0 + SEC);
	assert_int_equal(run(rs), 0);
	open_at("x", "/tmp/d/run", 60, T0 + 2 * SEC); /* its path, another process */
	assert_int_equal(run(rs), 1);
	open_at("x", "/tmp/d/runner", 60, T0 + 2 * SEC);
	assert_int_equal(run(rs), 0);
	exec_at("x", "./stage", 61, T0 + 3 * SEC); /* by its name */
	assert_int_equal(run(rs), 0);
	open_at("x", "/home/a/stage", 60, T0 + 4 * SEC);
	assert_int_equal(run(rs), 1);
	open_at("x", "/home/a/stage/", 60, T0 + 4 * SEC); /* as tapio.basename */
	assert_int_equal(run(rs), 1);
	open_at("x", "/home/a/stage.o", 60, T0 + 4 * SEC);
	assert_int_equal(run(rs), 0);
	open_at("x", "/tmp/d/run", 60, T0 + 3 * 60 * SEC); /* past the TTL */
	assert_int_equal(run(rs), 0);
	tp_ruleset_free(rs);

	/* recall by the process's program: when is called for an unlink only
	 * when it deletes the program's own file (exe), or one of its name
	 * (exe_base); a map of that name in the state is the map. */
	write_to(rules, "gate.lua",
		 "rule { name = 'own', events = { 'file.unlink' }, output = '${path}',\n"
		 "  state = { seen = tapio.map { ttl = '1m' } },\n"
		 "  recall = { ['file.unlink'] = { exe = 'path' } },\n"
		 "  when = function(e) return true end,\n"
		 "  tests = { { event = { type = 'file.unlink', exe = '/t/x', path = '/t/x' }, "
		 "expect = true },\n"
		 "            { event = { type = 'file.unlink', exe = '/t/x', path = '/u/x' }, "
		 "expect = false } } }\n"
		 "rule { name = 'own_name', events = { 'file.unlink' }, output = '${path}',\n"
		 "  state = { seen = tapio.map { ttl = '1m' } },\n"
		 "  recall = { ['file.unlink'] = { exe_base = 'path_base' } },\n"
		 "  when = function(e) return true end }\n"
		 "rule { name = 'map_named_exe', events = { 'file.unlink' }, output = '${path}',\n"
		 "  state = { exe = tapio.map { ttl = '1m' } },\n"
		 "  recall = { ['file.unlink'] = { exe = 'path' } },\n"
		 "  when = function(e) return true end }\n");
	rs = load_ok();
	unlink_at("/tmp/implant");
	assert_int_equal(run_as(rs, "/tmp/implant"), 2); /* own, own_name */
	unlink_at("/var/tmp/implant");
	nalerts = 0;
	assert_int_equal(run_as(rs, "/tmp/implant"), 1);
	assert_string_equal(alerted[0], "own_name|warning");
	unlink_at("/tmp/implant");
	assert_int_equal(run_as(rs, "/tmp/other"), 0);
	assert_int_equal(run_as(rs, ""), 0);
	assert_int_equal(run(rs), 0); /* no process context */
	tp_ruleset_free(rs);
	gates_fail("by_path = tapio.map { ttl = '1m' }",
		   "recall = { ['file.open'] = { by_path = 'flags' } }",
		   "recall: file.open: flags: not a text field of the event");
	gates_fail("by_path = tapio.map { ttl = '1m' }",
		   "recall = { ['file.open'] = { nope = 'path' } }",
		   "recall: nope: no tapio.map of that name in the rule's state");
	gates_fail("by_path = tapio.map { ttl = '1m' }", "recall = { ['file.open'] = {} }",
		   "recall: file.open: name a map and the field it is keyed by");
	gates_fail("by_path = tapio.map { ttl = '1m' }",
		   "remember = { ['file.open'] = { by_path = 'path' } }",
		   "remember: entries are [\"event.type\"] = \"map name\"");
}

static void test_state_memory_cap_and_metrics(void **state)
{
	struct tp_ruleset *rs;
	struct tp_metric *m;
	struct tp_state_limits saved = limits;

	(void)state;
	limits.group_max_bytes = 32 << 10;
	write_to(rules, "wide.lua",
		 "rule { name = 'wide', events = { 'file.open' }, output = '${path}',\n"
		 "  state = { seen = tapio.counter { window = '1h' } },\n"
		 "  when = function(e, s) return s.seen:add(e.path) == 2 end }\n");
	rs = load_ok();
	tp_ruleset_adopt(rs, NULL, NULL);
	for (int i = 0; i < 2000; i++) {
		char path[64];

		snprintf(path, sizeof(path), "/data/file%d", i);
		open_at("w", path, 60, T0 + (uint64_t)i);
		assert_int_equal(run(rs), 0);
	}
	open_at("w", "/data/file1999", 60, T0 + 3000);
	assert_int_equal(run(rs), 1); /* recent keys are kept */
	tp_ruleset_tick(rs, 10 * SEC);
	m = tp_metric_find("tapio_rule_state_bytes", "rule=\"wide\"");
	assert_non_null(m);
	assert_true(tp_metric_get(m) <= 32 << 10);
	assert_true(tp_metric_get(m) > 16 << 10);
	m = tp_metric_find("tapio_rule_state_evictions_total", "rule=\"wide\"");
	assert_non_null(m);
	assert_true(tp_metric_get(m) > 1500);
	m = tp_metric_find("tapio_rule_matches_total", "rule=\"wide\"");
	assert_non_null(m);
	assert_int_equal(tp_metric_get(m), 1);
	m = tp_metric_find("tapio_rule_calls_total", "rule=\"wide\"");
	assert_int_equal(tp_metric_get(m), 2001);
	tp_ruleset_free(rs);
	/* Freed: its series are gone. */
	assert_null(tp_metric_find("tapio_rule_calls_total", "rule=\"wide\""));
	limits = saved;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_lists_and_macros_are_shared, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_list_problems, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_exception_silences_one_process, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_disabled_by_override, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_match_is_checked_in_c, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_match_on_set_keys, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_enrich_and_filter_take_a_match, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_match_names_file_and_line, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_exceptions_name_file_and_line, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_counter_rule_and_reload, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sequence_rule_with_inline_tests, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_match_and_exceptions_see_test_process, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_state_api_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_distinct_map_and_exits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_remember_and_recall, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_shipped_exit_score, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_skip_repeats, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_enrich_set, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_index_by_key, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_index_by_three_keys, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rules_need_their_keys, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_index_needs_the_context, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_index_evaluates_other_values_and_enrich, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_state_memory_cap_and_metrics, setup, teardown),
	};

	assert_int_equal(tp_enrich_lua_register(), 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
