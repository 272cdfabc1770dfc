/* Exceptions (lua/exceptions.h): parsing, checking fields against a rule's
 * events, and matching events with their enrichment, without a rule set. */
#include <errno.h>
#include <fnmatch.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <lauxlib.h>
#include <lualib.h>

#include "events/decode.h"
#include "enrich/lua_fields.h"
#include "lua/exceptions.h"
#include "events/proc_ctx.h"

static lua_State *L;
static char err[512];

static int setup(void **state)
{
	(void)state;
	assert_int_equal(tp_enrich_lua_register(), 0);
	L = luaL_newstate();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	lua_close(L);
	return 0;
}

/* Parse `return { ... }` and bind it to the given types. */
static struct tp_exception *make(const char *table, const char *const *types, int *bind_r)
{
	const struct tp_event_type *t[8];
	struct tp_exception *x;
	size_t n = 0;

	assert_int_equal(luaL_dostring(L, table), 0);
	x = tp_exception_parse(L, -1, "site.lua", 7, err, sizeof(err));
	lua_pop(L, 1);
	if (!x)
		return NULL;
	for (; types[n]; n++)
		t[n] = tp_event_type_by_name(types[n]);
	*bind_r = tp_exception_bind(x, t, n, err, sizeof(err));
	return x;
}

static const char *const exec_open[] = {"process.exec", "file.open", NULL};

static struct tp_event ev;

/* An exec record with its arguments and environment (NUL-separated). */
static void exec_record(const char *comm, const char *filename, uint32_t uid, const char *argv,
			size_t argv_len, const char *env, size_t env_len)
{
	struct tp_exec_event e;

	memset(&e, 0, sizeof(e));
	e.hdr.type = TP_EV_PROCESS_EXEC;
	e.hdr.size = sizeof(e);
	e.hdr.pid = e.hdr.tid = 4242;
	e.hdr.ppid = 1;
	e.hdr.uid = uid;
	snprintf(e.hdr.comm, sizeof(e.hdr.comm), "%s", comm);
	snprintf(e.filename, sizeof(e.filename), "%s", filename);
	memcpy(e.argv, argv, argv_len);
	e.argv_len = (uint32_t)argv_len;
	memcpy(e.env, env, env_len);
	e.env_len = (uint32_t)env_len;
	assert_int_equal(tp_decode(&e, sizeof(e), 0, &ev), 0);
}

static void exec_event(const char *comm, const char *filename, uint32_t uid, const char *argv,
		       size_t argv_len)
{
	exec_record(comm, filename, uid, argv, argv_len, "", 0);
}

/* An exec of /usr/bin/id with the given environment. */
static void exec_env_event(const char *env, size_t env_len)
{
	exec_record("id", "/usr/bin/id", 0, "id", 3, env, env_len);
}

/* A file.open with a result (ret). */
static void open_record(const char *comm, const char *path, uint32_t flags, int32_t ret)
{
	struct tp_file_open_event e;

	memset(&e, 0, sizeof(e));
	e.hdr.type = TP_EV_FILE_OPEN;
	e.hdr.size = sizeof(e);
	e.hdr.pid = e.hdr.tid = 77;
	snprintf(e.hdr.comm, sizeof(e.hdr.comm), "%s", comm);
	snprintf(e.path, sizeof(e.path), "%s", path);
	e.flags = flags;
	e.ret = ret;
	assert_int_equal(tp_decode(&e, sizeof(e), 0, &ev), 0);
}

static void open_event(const char *comm, const char *path, uint32_t flags)
{
	open_record(comm, path, flags, 0);
}

static void test_fields_and_globs(void **state)
{
	int r;
	struct tp_exception *x =
	    make("return { rule = 'r', comm = { 'puppet', 'chef-client' }, "
		 "path = '/etc/sudoers.d/ci-*', reason = 'config management' }",
		 exec_open, &r);
	char desc[256];

	(void)state;
	assert_non_null(x);
	assert_int_equal(r, 0);
	assert_string_equal(tp_exception_reason(x), "config management");
	assert_string_equal(tp_exception_file(x), "site.lua");
	assert_int_equal(tp_exception_line(x), 7);
	tp_exception_describe(x, desc, sizeof(desc));
	assert_non_null(strstr(desc, "comm=puppet|chef-client"));
	assert_non_null(strstr(desc, "path=/etc/sudoers.d/ci-*"));

	open_event("puppet", "/etc/sudoers.d/ci-runner", 1);
	assert_true(tp_exception_match(x, &ev, NULL));
	open_event("chef-client", "/etc/sudoers.d/ci-x/deeper", 1); /* * crosses '/' */
	assert_true(tp_exception_match(x, &ev, NULL));
	open_event("vi", "/etc/sudoers.d/ci-runner", 1); /* another process */
	assert_false(tp_exception_match(x, &ev, NULL));
	open_event("puppet", "/etc/sudoers", 1); /* another file */
	assert_false(tp_exception_match(x, &ev, NULL));
	/* An event without the field (exec has no path) never matches. */
	exec_event("puppet", "/usr/bin/puppet", 0, "puppet", 7);
	assert_false(tp_exception_match(x, &ev, NULL));
	tp_exception_free(x);
}

static void test_numbers_symbols_cmdline(void **state)
{
	static const char *const exit_types[] = {"process.exit", NULL};
	/* In turn: the command line joined last is kept, so another of the
	 * same length is joined afresh, and the same one again matches again. */
	static const struct {
		uint32_t uid;
		const char *argv;
		size_t len;
		bool want;
	} cmd[] = {
	    {1000, "ansible\0--check\0x", 18, true},  {0, "ansible\0--check\0x", 18, false},
	    {1000, "ansible\0-v", 11, false},	      {1000, "ansible\0--check\0x", 18, true},
	    {1000, "ansible\0--chexk\0x", 18, false}, {1000, "ansible\0--check\0x", 18, true},
	};
	char desc[256];
	int r;
	struct tp_exception *x;

	(void)state;
	x = make("return { uid = 1000, cmdline = '*--check*' }", exec_open, &r);
	assert_int_equal(r, 0);
	for (size_t i = 0; i < sizeof(cmd) / sizeof(cmd[0]); i++) {
		exec_event("ansible", "/usr/bin/python3", cmd[i].uid, cmd[i].argv, cmd[i].len);
		if (tp_exception_match(x, &ev, NULL) != cmd[i].want)
			fail_msg("cmdline case %zu: want %d", i, cmd[i].want);
	}
	tp_exception_free(x);

	/* env.NAME (or env = { NAME = ... }): a variable's value; true: set. */
	x = make("return { env = { HISTFILE = { '/dev/null', '' } } }", exec_open, &r);
	assert_int_equal(r, 0);
	exec_env_event("HOME=/root\0HISTFILE=/dev/null", 29);
	assert_true(tp_exception_match(x, &ev, NULL));
	exec_env_event("HISTFILE=", 9); /* the last one, without its '\0' */
	assert_true(tp_exception_match(x, &ev, NULL));
	exec_env_event("HISTFILE=/root/.h\0HISTFILE=/dev/null", 37); /* the first counts */
	assert_false(tp_exception_match(x, &ev, NULL));
	exec_env_event("HISTFILES=/dev/null", 19);
	assert_false(tp_exception_match(x, &ev, NULL));
	tp_exception_free(x);
	x = make("return { ['env.LD_PRELOAD|env.LD_AUDIT'] = true }", exec_open, &r);
	assert_int_equal(r, 0);
	exec_env_event("LD_AUDIT=/tmp/a.so", 18);
	assert_true(tp_exception_match(x, &ev, NULL));
	exec_env_event("PATH=/bin", 9);
	assert_false(tp_exception_match(x, &ev, NULL));
	tp_exception_free(x);
	x = make("return { ['env.LD_PRELOAD'] = false }", exec_open, &r);
	assert_int_equal(r, 0);
	assert_true(tp_exception_match(x, &ev, NULL));
	tp_exception_free(x);

	/* argv[i]: one argument by its place, in Lua's numbering (argv[1] is
	 * the program as run); false: the exec has fewer arguments. */
	x = make("return { ['argv[2]'] = '-*' }", exec_open, &r);
	assert_int_equal(r, 0);
	exec_event("python3", "/usr/bin/python3", 0, "python3\0-c\0print(1)", 20);
	assert_true(tp_exception_match(x, &ev, NULL));
	exec_event("python3", "/usr/bin/python3", 0, "python3\0x.py\0-v", 16); /* -v is [3] */
	assert_false(tp_exception_match(x, &ev, NULL));
	exec_event("python3", "/usr/bin/python3", 0, "python3\0-", 9); /* the last, no '\0' */
	assert_true(tp_exception_match(x, &ev, NULL));
	exec_event("-sh", "/bin/sh", 0, "-sh", 3); /* [1] starts with '-'; no [2] */
	assert_false(tp_exception_match(x, &ev, NULL));
	open_event("python3", "/tmp/-x", 1); /* no argv: the condition is not met */
	assert_false(tp_exception_match(x, &ev, NULL));
	tp_exception_free(x);
	x = make("return { ['argv[2]'] = false }", exec_open, &r);
	assert_int_equal(r, 0);
	exec_event("python3", "/usr/bin/python3", 0, "python3", 7);
	assert_true(tp_exception_match(x, &ev, NULL));
	exec_event("python3", "/usr/bin/python3", 0, "python3\0x.py", 12);
	assert_false(tp_exception_match(x, &ev, NULL));
	tp_exception_free(x);
	x = make("return { ['argv[1]'] = 'sh' }", exec_open, &r);
	assert_int_equal(r, 0);
	exec_event("sh", "/bin/sh", 0, "sh\0-c\0id", 8);
	assert_true(tp_exception_match(x, &ev, NULL));
	tp_exception_free(x);
	x = make("return { ['argv[0]'] = 'sh' }", exec_open, &r);
	assert_int_equal(r, -EINVAL);
	assert_non_null(strstr(err, "argv[N] takes an index from 1 to 64"));
	tp_exception_free(x);

	/* one_of: any of the nested tables, each all its conditions. */
	x = make("return { uid = 0, one_of = { { comm = 'ansible', argv = '--check' }, "
		 "{ filename = '/dev/fd/*' } } }", exec_open, &r);
	assert_int_equal(r, 0);
	tp_exception_describe(x, desc, sizeof(desc));
	assert_string_equal(desc, "one_of=(argv=--check comm=ansible)|(filename=/dev/fd/*) uid=0");
	exec_event("ansible", "/usr/bin/python3", 0, "ansible\0--check", 15);
	assert_true(tp_exception_match(x, &ev, NULL));
	exec_event("ansible", "/usr/bin/python3", 0, "ansible\0-v", 10);
	assert_false(tp_exception_match(x, &ev, NULL)); /* the first table: not all */
	exec_event("3", "/dev/fd/3", 0, "x", 1);
	assert_true(tp_exception_match(x, &ev, NULL));
	exec_event("3", "/dev/fd/3", 1000, "x", 1);
	assert_false(tp_exception_match(x, &ev, NULL)); /* uid = 0 holds for both */
	open_event("ansible", "/dev/fd/3", 0); /* file.open has neither field */
	assert_false(tp_exception_match(x, &ev, NULL));
	assert_false(tp_exception_needs_set(x));
	tp_exception_free(x);
	x = make("return { one_of = { { ['set.a'] = true }, { set = { b = 'x' } } } }", exec_open, &r);
	assert_int_equal(r, 0);
	assert_true(tp_exception_needs_set(x)); /* each table needs a key */
	tp_exception_free(x);
	x = make("return { one_of = { { ['set.a'] = true }, { comm = 'x' } } }", exec_open, &r);
	assert_false(tp_exception_needs_set(x));
	tp_exception_free(x);
	x = make("return { one_of = { { comm = 'x' }, { nope = 1 } } }", exec_open, &r);
	assert_int_equal(r, -EINVAL);
	assert_non_null(strstr(err, "one_of[2]: no field 'nope'"));
	tp_exception_free(x);
	assert_null(make("return { one_of = { 'x' } }", exec_open, &r));
	assert_non_null(strstr(err, "one_of[1]: a table of conditions"));
	assert_null(make("return { one_of = {} }", exec_open, &r));
	assert_non_null(strstr(err, "one_of: a list of 1 to 16 tables"));

	/* Tables of one condition on one field are that field with all their
	 * values (one search): the same matches, and so described. A table of
	 * another field, or of more, stays a table of its own. */
	x = make("return { one_of = { { comm = { 'nc', 'ncat' } }, { uid = 0, comm = 'sh' }, "
		 "{ comm = 'python*' }, { filename = '/dev/fd/*' }, { comm = 'socat' } } }",
		 exec_open, &r);
	assert_int_equal(r, 0);
	tp_exception_describe(x, desc, sizeof(desc));
	assert_string_equal(desc, "one_of=(comm=nc|ncat|python*|socat)|(comm=sh uid=0)|"
				  "(filename=/dev/fd/*)");
	exec_event("ncat", "/usr/bin/ncat", 1000, "ncat", 4);
	assert_true(tp_exception_match(x, &ev, NULL));
	exec_event("python3", "/usr/bin/python3", 1000, "python3", 7);
	assert_true(tp_exception_match(x, &ev, NULL));
	exec_event("socat", "/usr/bin/socat", 1000, "socat", 5);
	assert_true(tp_exception_match(x, &ev, NULL));
	exec_event("sh", "/bin/sh", 1000, "sh", 2);
	assert_false(tp_exception_match(x, &ev, NULL)); /* its table wants uid 0 too */
	exec_event("sh", "/bin/sh", 0, "sh", 2);
	assert_true(tp_exception_match(x, &ev, NULL));
	exec_event("3", "/dev/fd/3", 1000, "x", 1);
	assert_true(tp_exception_match(x, &ev, NULL));
	exec_event("perl", "/usr/bin/perl", 1000, "perl", 4);
	assert_false(tp_exception_match(x, &ev, NULL));
	tp_exception_free(x);
	/* true/false and bit masks are not values to merge */
	x = make("return { one_of = { { tty = true }, { tty = false } } }", exec_open, &r);
	assert_int_equal(r, 0);
	tp_exception_describe(x, desc, sizeof(desc));
	assert_string_equal(desc, "one_of=(tty=(set))|(tty=(unset))");
	tp_exception_free(x);

	/* A set ({ name = true, ... }, as tapio.set makes) is a list of its keys. */
	x = make("return { comm = { ansible = true, ['salt-call'] = true }, "
		 "argv = { ['*.yml'] = true } }", exec_open, &r);
	assert_int_equal(r, 0);
	exec_event("ansible", "/usr/bin/python3", 0, "ansible\0site.yml", 17);
	assert_true(tp_exception_match(x, &ev, NULL));
	exec_event("salt-call", "/usr/bin/python3", 0, "salt\0a.yml", 11);
	assert_true(tp_exception_match(x, &ev, NULL));
	exec_event("puppet", "/usr/bin/python3", 0, "ansible\0site.yml", 17);
	assert_false(tp_exception_match(x, &ev, NULL));
	tp_exception_free(x);

	/* argv: any one argument, argv[0] too; the last may lack its '\0'. */
	x = make("return { argv = { '--check', 'x*', '*.yml' } }", exec_open, &r);
	assert_int_equal(r, 0);
	exec_event("ansible", "/usr/bin/python3", 0, "ansible\0--check", 15);
	assert_true(tp_exception_match(x, &ev, NULL));
	exec_event("ansible", "/usr/bin/python3", 0, "ansible\0-v\0site.yml", 20);
	assert_true(tp_exception_match(x, &ev, NULL));
	exec_event("ansible", "/usr/bin/python3", 0, "xargs\0-0", 9);
	assert_true(tp_exception_match(x, &ev, NULL));
	exec_event("ansible", "/usr/bin/python3", 0, "ansible\0--check=no\0a.yml.bak", 29);
	assert_false(tp_exception_match(x, &ev, NULL)); /* whole arguments only */
	exec_event("ansible", "/usr/bin/python3", 0, "", 0);
	assert_false(tp_exception_match(x, &ev, NULL));
	tp_exception_free(x);
	x = make("return { argv = '*[[:cntrl:]]*' }", exec_open, &r); /* fnmatch: a '\0' each */
	assert_int_equal(r, 0);
	exec_event("x", "/tmp/x", 0, "x\0a\tb", 5);
	assert_true(tp_exception_match(x, &ev, NULL));
	exec_event("x", "/tmp/x", 0, "x\0ab\0", 6);
	assert_false(tp_exception_match(x, &ev, NULL));
	tp_exception_free(x);

	/* A symbolic value for a field with names, or its _str. */
	x = make("return { signal = 'SIGKILL' }", exit_types, &r);
	assert_int_equal(r, 0);
	{
		struct tp_exit_event e;

		memset(&e, 0, sizeof(e));
		e.hdr.type = TP_EV_PROCESS_EXIT;
		e.hdr.size = sizeof(e);
		e.signal = 9;
		assert_int_equal(tp_decode(&e, sizeof(e), 0, &ev), 0);
		assert_true(tp_exception_match(x, &ev, NULL));
		tp_exception_free(x);
		x = make("return { signal_str = 'SIG*' }", exit_types, &r);
		assert_int_equal(r, 0);
		assert_true(tp_exception_match(x, &ev, NULL));
		tp_exception_free(x);
		x = make("return { signal = { 11, 9 } }", exit_types, &r);
		assert_int_equal(r, 0);
		assert_true(tp_exception_match(x, &ev, NULL));
		e.signal = 15;
		assert_int_equal(tp_decode(&e, sizeof(e), 0, &ev), 0);
		assert_false(tp_exception_match(x, &ev, NULL));
		tp_exception_free(x);
		/* A value without a name is its number, as text. */
		x = make("return { signal_str = { '0', '77', '1234567890' } }", exit_types, &r);
		assert_int_equal(r, 0);
		for (int k = 0; k < 4; k++) {
			static const int32_t sig[] = {0, 77, 1234567890, 7};

			e.signal = sig[k];
			assert_int_equal(tp_decode(&e, sizeof(e), 0, &ev), 0);
			assert_int_equal(tp_exception_match(x, &ev, NULL), k < 3);
		}
	}
	tp_exception_free(x);
}

static void test_enrichment_fields(void **state)
{
	struct tp_proc_ref parent = {.pid = 10, .comm = "sshd", .exe = "/usr/sbin/sshd"};
	struct tp_proc_ref ancestors[] = {
	    {.pid = 5, .comm = "ansible-playboo", .exe = "/usr/bin/python3.11"},
	    {.pid = 1, .comm = "systemd", .exe = "/usr/lib/systemd/systemd"},
	};
	struct tp_container_ctx ct = {.id = "3f0a9c", .runtime = "containerd"};
	struct tp_k8s_ctx k8s = {.pod = "web-0", .namespace = "ci"};
	struct tp_proc_ctx pc = {.exe = "/usr/bin/bash",
				 .parent = &parent,
				 .ancestors = ancestors,
				 .nancestors = 2,
				 .container = &ct,
				 .k8s = &k8s};
	struct tp_event_meta meta = {.proc = &pc}, bare = {0};
	int r;
	struct tp_exception *x;

	(void)state;
	exec_event("bash", "/usr/bin/bash", 0, "bash", 5);
	x = make("return { exe = '/usr/bin/*', parent = { comm = 'sshd' }, "
		 "container = { id = '3f0a*' }, k8s = { namespace = 'ci' } }",
		 exec_open, &r);
	assert_int_equal(r, 0);
	assert_true(tp_exception_match(x, &ev, &meta));
	assert_false(tp_exception_match(x, &ev, &bare)); /* not enriched: no match */
	k8s.namespace = "prod";
	assert_false(tp_exception_match(x, &ev, &meta));
	k8s.namespace = "ci";
	tp_exception_free(x);

	/* Any ancestor, by comm or (with a '/') by exe; parent as a string. */
	x = make("return { ancestor = 'ansible*' }", exec_open, &r);
	assert_true(tp_exception_match(x, &ev, &meta));
	tp_exception_free(x);
	x = make("return { ancestor = '/usr/lib/systemd/*' }", exec_open, &r);
	assert_true(tp_exception_match(x, &ev, &meta));
	tp_exception_free(x);
	x = make("return { parent = 'ansible*' }", exec_open, &r); /* the grandparent */
	assert_false(tp_exception_match(x, &ev, &meta));
	tp_exception_free(x);
	x = make("return { parent = { 'cron', '/usr/sbin/sshd' }, container = 'nope' }", exec_open,
		 &r);
	assert_false(tp_exception_match(x, &ev, &meta));
	ct.id = "nope";
	assert_true(tp_exception_match(x, &ev, &meta));
	tp_exception_free(x);

	/* Long lists (indexed): all names, all paths, or both kinds. */
	{
		static const char *const lists[] = {
		    "'dpkg', 'apt', 'rpm', 'dnf', 'yum', 'zypper', 'apk', 'pacman', 'snap', 'pip'",
		    "'/usr/bin/dpkg', '/usr/bin/apt', '/bin/rpm', '/usr/bin/dnf', '/usr/bin/yum', "
		    "'/usr/bin/zypper', '/sbin/apk', '/usr/bin/pacman', '/usr/bin/snap'",
		    "'dpkg', 'apt', 'rpm', 'dnf', 'yum', 'zypper', 'apk', 'pacman', '/usr/bin/snap'",
		};
		char table[512];

		for (size_t i = 0; i < 3; i++) {
			snprintf(table, sizeof(table), "return { ancestor = { %s, %s } }", lists[i],
				 i == 1 ? "'/usr/lib/systemd/*'" : "'ansible*'");
			x = make(table, exec_open, &r);
			assert_int_equal(r, 0);
			assert_true(tp_exception_match(x, &ev, &meta)); /* the last value */
			ancestors[0].comm = "bash";
			ancestors[1].exe = "/usr/bin/init";
			assert_false(tp_exception_match(x, &ev, &meta));
			ancestors[0].comm = "dnf"; /* a name, in lists 0 and 2 */
			assert_int_equal(tp_exception_match(x, &ev, &meta), i != 1);
			ancestors[0].comm = "bash";
			parent.exe = "/usr/bin/snap"; /* a path, in lists 1 and 2 */
			assert_int_equal(tp_exception_match(x, &ev, &meta), i != 0);
			parent.exe = "/usr/sbin/sshd";
			ancestors[0].comm = "ansible-playboo";
			ancestors[1].exe = "/usr/lib/systemd/systemd";
			tp_exception_free(x);
		}
	}

	/* user: a name this node knows (root), and one it does not. */
	x = make("return { user = { 'root', 'no-such-user-here' } }", exec_open, &r);
	assert_int_equal(r, 0);
	assert_true(tp_exception_match(x, &ev, &meta));
	exec_event("bash", "/usr/bin/bash", 1000, "bash", 5);
	assert_false(tp_exception_match(x, &ev, &meta));
	tp_exception_free(x);
}

static void test_bad_exceptions(void **state)
{
	static const char *const exec_only[] = {"process.exec", NULL};
	int r = 0;
	struct tp_exception *x;

	(void)state;
	/* A field none of the rule's events has: named, with what they have. */
	x = make("return { rule = 'r', pth = '/tmp/x' }", exec_only, &r);
	assert_int_equal(r, -EINVAL);
	assert_non_null(strstr(err, "no field 'pth'"));
	assert_non_null(strstr(err, "filename"));
	tp_exception_free(x);
	/* path is a field of file.open, not of process.exec. */
	x = make("return { path = '/tmp/x' }", exec_only, &r);
	assert_int_equal(r, -EINVAL);
	tp_exception_free(x);
	x = make("return { container = { image = 'nginx*' } }", exec_only, &r);
	assert_int_equal(r, -EINVAL);
	assert_non_null(strstr(err, "container images"));
	tp_exception_free(x);
	x = make("return { uid = 'root' }", exec_only, &r);
	assert_int_equal(r, -EINVAL);
	assert_non_null(strstr(err, "not a number"));
	tp_exception_free(x);

	assert_int_equal(luaL_dostring(L, "return { rule = 'r' }"), 0);
	assert_null(tp_exception_parse(L, -1, "f", 1, err, sizeof(err)));
	assert_non_null(strstr(err, "no field to match"));
	lua_pop(L, 1);
	assert_int_equal(luaL_dostring(L, "return { comm = { a = 1 } }"), 0);
	assert_null(tp_exception_parse(L, -1, "f", 1, err, sizeof(err)));
	assert_non_null(strstr(err, "a value or a list"));
	lua_pop(L, 1);
	assert_int_equal(luaL_dostring(L, "return { comm = { function() end } }"), 0);
	assert_null(tp_exception_parse(L, -1, "f", 1, err, sizeof(err)));
	assert_non_null(strstr(err, "values are strings, numbers"));
	lua_pop(L, 1);
	/* true/false only for a field that may be missing. */
	x = make("return { comm = true }", exec_only, &r);
	assert_int_equal(r, -EINVAL);
	assert_non_null(strstr(err, "every event has one"));
	tp_exception_free(x);
	assert_int_equal(luaL_dostring(L, "return { flags = { any = 1, all = 2 } }"), 0);
	assert_null(tp_exception_parse(L, -1, "f", 1, err, sizeof(err)));
	assert_non_null(strstr(err, "{ any = ... } or { all = ... }"));
	lua_pop(L, 1);
	assert_int_equal(lua_gettop(L), 0);
}

/* A random string of [/ab.] of 0..max bytes. */
static void rand_str(char *out, int max)
{
	static const char alpha[] = "/ab.";
	int n = rand() % (max + 1);

	for (int i = 0; i < n; i++)
		out[i] = alpha[rand() % 4];
	out[n] = 0;
}

/* A condition with many values (indexed: sorted exact values, pruned
 * prefixes and suffixes, the rest in turn) matches what any one of its
 * values alone (tried as such) matches: exact, prefix, suffix, substring,
 * glob, "*", duplicates, values that cover others. */
/* "*[...]*" is checked as a set of bytes: it must say what fnmatch says,
 * and patterns that only look like it stay globs. */
static void test_byte_sets_as_fnmatch(void **state)
{
	static const char *const open_only[] = {"file.open", NULL};
	static const char *const pats[] = {
	    "*[[:cntrl:]]*", "*[!a-z/]*", "*[]x]*", "*[^[:alnum:]/._-]*", "*[a-c]x*",
	    "*[[:space:]]", "*[ab]*[cd]*", "*[.]*", "*[!]]*", "*[[:upper:][:digit:]]*",
	};
	static const char *const paths[] = {
	    "/tmp/x", "/tmp/a\tb", "/tmp/ABC", "/tmp/x]y", "/etc/passwd", "/tmp/ax",
	    "/tmp/bx1", "/tmp/ ", "]]]", "/tmp/cd", "/var/a.b", "/tmp/x\001", "Z", "/q/7",
	};
	char table[256];
	int r;

	(void)state;
	for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++) {
		struct tp_exception *x;

		snprintf(table, sizeof(table), "return { path = '%s' }", pats[i]);
		x = make(table, open_only, &r);
		assert_non_null(x);
		assert_int_equal(r, 0);
		for (size_t k = 0; k < sizeof(paths) / sizeof(paths[0]); k++) {
			char path[32];

			/* the Lua escapes above, as bytes */
			assert_int_equal(luaL_dostring(L, (snprintf(table, sizeof(table),
								    "return '%s'", paths[k]),
							   table)),
					 0);
			snprintf(path, sizeof(path), "%s", lua_tostring(L, -1));
			lua_pop(L, 1);
			open_event("x", path, 0);
			if (tp_exception_match(x, &ev, NULL) != (fnmatch(pats[i], path, 0) == 0))
				fail_msg("'%s' against '%s': want %d", path, pats[i],
					 fnmatch(pats[i], path, 0) == 0);
		}
		tp_exception_free(x);
	}
}

/* The inline check (tp_fast_mask): a bit mask first, else a number to
 * equal, its bits as the record holds them (a negative result in a 4-byte
 * field); the full check without it (tp_exception_match_but) leaves that
 * condition to it. */
static void test_fast_check_bits_and_numbers(void **state)
{
	static const char *const open_only[] = {"file.open", NULL};
	const struct tp_event_type *t = tp_event_type_by_name("file.open");
	struct tp_fast_mask m;
	struct tp_exception *x;
	int r;

	(void)state;
	x = make("return { path = '/etc/*', ret = -13 }", open_only, &r);
	assert_int_equal(r, 0);
	assert_true(tp_exception_fast_mask(x, t, &m));
	assert_true(m.eq);
	assert_int_equal(m.size, 4);
	assert_true(m.mask == 0xfffffff3u);
	open_record("x", "/etc/shadow", 0, -13);
	assert_true(tp_fast_mask_pass(&m, &ev));
	assert_true(tp_exception_match(x, &ev, NULL));
	assert_true(tp_exception_match_but(x, &ev, NULL, m.cond));
	open_record("x", "/etc/shadow", 0, 3);
	assert_false(tp_fast_mask_pass(&m, &ev));
	assert_false(tp_exception_match(x, &ev, NULL));
	assert_true(tp_exception_match_but(x, &ev, NULL, m.cond)); /* left to the check */
	open_record("x", "/tmp/x", 0, -13);
	assert_true(tp_fast_mask_pass(&m, &ev));
	assert_false(tp_exception_match_but(x, &ev, NULL, m.cond)); /* the path still holds */
	assert_false(tp_exception_match_but(x, &ev, NULL, -1));
	tp_exception_free(x);

	x = make("return { ret = 0, flags = { any = 'O_WRONLY|O_RDWR' } }", open_only, &r);
	assert_int_equal(r, 0);
	assert_true(tp_exception_fast_mask(x, t, &m));
	assert_false(m.eq); /* the mask: most opens are reads */
	open_record("x", "/etc/x", 01, 0);
	assert_true(tp_fast_mask_pass(&m, &ev));
	open_record("x", "/etc/x", 0, 0);
	assert_false(tp_fast_mask_pass(&m, &ev));
	tp_exception_free(x);

	/* A flag is a bit of a word that holds others: flag = 1 is that bit
	 * (with the word's presence bit), never the word equal to 1. */
	{
		static const char *const exec_only[] = {"process.exec", NULL};
		const struct tp_event_type *xt = tp_event_type_by_name("process.exec");
		struct tp_fast_mask ms[4];
		struct tp_exec_event e;

		memset(&e, 0, sizeof(e));
		e.hdr.type = TP_EV_PROCESS_EXEC;
		e.hdr.size = sizeof(e);
		e.hdr.pid = e.hdr.tid = 5;
		snprintf(e.filename, sizeof(e.filename), "/bin/sh");
		e.exe_flags =
		    TP_EXE_KNOWN | TP_EXE_STDIN_SOCKET | TP_EXE_STDOUT_SOCKET | TP_EXE_WRITABLE;
		assert_int_equal(tp_decode(&e, sizeof(e), 0, &ev), 0);
		for (int k = 0; k < 2; k++) {
			x = make(k ? "return { ret = 0, exe_writable = 1 }"
				   : "return { ret = 0, stdin_socket = 1 }",
				 exec_only, &r);
			assert_int_equal(r, 0);
			assert_true(tp_exception_match(x, &ev, NULL));
			/* the prefilter's checks: each passes */
			size_t nm = tp_exception_fast_masks(x, xt, ms, 4);

			assert_int_equal(nm, 2);
			for (size_t j = 0; j < nm; j++)
				assert_true(tp_fast_mask_pass(&ms[j], &ev));
			/* the rule's own check (the full one skips it) is not the flag */
			assert_true(tp_exception_fast_mask(x, xt, &m));
			assert_true(m.eq && m.mask == 0);
			tp_exception_free(x);
		}
		x = make("return { stdin_socket = 1 }", exec_only, &r); /* the flag alone */
		assert_true(!tp_exception_fast_mask(x, xt, &m) || tp_fast_mask_pass(&m, &ev));
		tp_exception_free(x);
		e.exe_flags = TP_EXE_STDIN_SOCKET | TP_EXE_WRITABLE; /* exe not known */
		assert_int_equal(tp_decode(&e, sizeof(e), 0, &ev), 0);
		x = make("return { exe_writable = 1 }", exec_only, &r);
		assert_int_equal(tp_exception_fast_masks(x, xt, ms, 4), 1);
		assert_false(tp_fast_mask_pass(&ms[0], &ev));
		assert_false(tp_exception_match(x, &ev, NULL));
		tp_exception_free(x);
	}

	x = make("return { ret = { 0, 1 } }", open_only, &r); /* two numbers: no inline check */
	assert_int_equal(r, 0);
	assert_false(tp_exception_fast_mask(x, t, &m));
	tp_exception_free(x);
}

/* Every number and string field of every event type, matched as the
 * record's accessors read it (tp_field_i64, tp_field_str): a number equal
 * to the field's value matches and its neighbour does not, whatever the
 * field's size and sign; a string field and its base name match their
 * own text. The matcher reads most fields inline (match_field). */
static void test_every_field_as_the_accessors_read_it(void **state)
{
	const struct tp_event_type *t;
	unsigned checked = 0;

	(void)state;
	for (size_t k = 0; (t = tp_event_type_at(k)); k++) {
		const char *types[] = {t->name, NULL};
		uint8_t rec[TP_RECORD_MAX];
		struct tp_hdr *h = (struct tp_hdr *)rec;

		if (t->size > sizeof(rec))
			continue;
		/* Bytes with the sign bit set in every field, a terminated
		 * string in every string field. */
		for (uint32_t i = 0; i < t->size; i++)
			rec[i] = (uint8_t)(0x81 + i * 7);
		memset(h, 0, sizeof(*h));
		h->type = t->id;
		h->size = t->size;
		h->pid = h->tid = 9;
		for (uint32_t f = 0; f < t->nfields; f++) {
			const struct tp_field *fd = &t->fields[f];

			if (fd->kind == TP_FK_STR && fd->size > 8)
				snprintf((char *)rec + fd->offset, fd->size, "/a/b%u/n%zu", f, k);
			else if (fd->kind == TP_FK_ARGV || fd->kind == TP_FK_ENV)
				memset(rec + fd->aux, 0, 4), memset(rec + fd->offset, 0, fd->size);
			if (fd->present_mask) /* present: every bit of its mask */
				memset(rec + fd->present_offset, 0xff, 4);
		}
		if (tp_decode(rec, t->size, 0, &ev) != 0)
			continue; /* a type whose validation wants more: not this test's */
		for (uint32_t f = 0; f < t->nfields; f++) {
			const struct tp_field *fd = &t->fields[f];
			char src[512];
			struct tp_exception *x;
			int64_t v;
			int r;

			if (!tp_field_present(&ev, fd))
				continue;
			if (fd->kind == TP_FK_STR) {
				const char *str = tp_field_str(&ev, fd), *b = strrchr(str, '/');

				if (!*str || strchr(str, '\'') || strchr(str, '\\'))
					continue;
				snprintf(src, sizeof(src), "return { %s = '%s', %s_base = '%s' }",
					 fd->name, str, fd->name, b ? b + 1 : str);
				x = make(src, types, &r);
				assert_non_null(x);
				assert_int_equal(r, 0);
				if (!tp_exception_match(x, &ev, NULL))
					fail_msg("%s.%s: '%s' does not match itself", t->name,
						 fd->name, str);
				tp_exception_free(x);
				checked++;
				continue;
			}
			if (fd->kind == TP_FK_BOOL || fd->kind == TP_FK_STR ||
			    fd->kind == TP_FK_ARGV || fd->kind == TP_FK_ENV ||
			    fd->kind == TP_FK_IPADDR || !tp_field_i64(&ev, fd, &v))
				continue;
			for (int d = 0; d < 2; d++) {
				snprintf(src, sizeof(src), "return { %s = %lld }", fd->name,
					 (long long)v + d);
				x = make(src, types, &r);
				assert_non_null(x);
				assert_int_equal(r, 0);
				if (tp_exception_match(x, &ev, NULL) != (d == 0))
					fail_msg("%s.%s (kind %d, %u bytes) = %lld: match %d",
						 t->name, fd->name, fd->kind, fd->size,
						 (long long)v + d, d);
				tp_exception_free(x);
			}
			checked++;
		}
	}
	assert_true(checked > 100);
}

/* The cache of an index's answers (match_cached) keys on the whole
 * string: strings of one length that share their first and last 8 bytes
 * (one slot) each get their own answer, asked in turn; strings too long to
 * keep are searched each time. */
static void test_index_cache_keys_whole_strings(void **state)
{
	static const char *const open_only[] = {"file.open", NULL};
	char longer[200];
	struct tp_exception *x;
	int r;

	(void)state;
	x = make("return { path = { '/usr/lib/AAAA/*', '/etc/a', '/etc/b', '/etc/c', '/etc/d', "
		 "'/etc/e', '/etc/f', '/etc/g', '*/deep/*/x' } }", open_only, &r);
	assert_int_equal(r, 0);
	for (int k = 0; k < 4; k++) {
		open_event("x", "/usr/lib/AAAA/libc.so.6", 0);
		assert_true(tp_exception_match(x, &ev, NULL));
		open_event("x", "/usr/lib/BBBB/libc.so.6", 0);
		assert_false(tp_exception_match(x, &ev, NULL));
		open_event("x", "/etc/a", 0);
		assert_true(tp_exception_match(x, &ev, NULL));
		open_event("x", "/etc/h", 0);
		assert_false(tp_exception_match(x, &ev, NULL));
		if (k == 2) /* the cache dropped (after a set's inline tests): made again */
			tp_exception_drop_caches(x);
	}
	memset(longer, 'a', sizeof(longer));
	memcpy(longer, "/q/deep/", 8);
	memcpy(longer + 150, "/x", 3); /* 152 bytes: never kept */
	for (int k = 0; k < 2; k++) {
		open_event("x", longer, 0);
		assert_true(tp_exception_match(x, &ev, NULL));
		longer[151] = 'y';
		open_event("x", longer, 0);
		assert_false(tp_exception_match(x, &ev, NULL));
		longer[151] = 'x';
	}
	tp_exception_free(x);
}

/* A list of 8 numbers or more is searched sorted: every member matches,
 * and nothing between or around them (the uid, and a field: ret). */
static void test_many_numbers_match_as_each_alone(void **state)
{
	static const int64_t uids[] = {65534, 0,     1000, 33, 1001,	  2,
				       999,   70000, 1000, 5,  4294967294};
	static const char *const open_only[] = {"file.open", NULL};
	struct tp_exception *x;
	int r;

	(void)state;
	x = make(
	    "return { uid = { 65534, 0, 1000, 33, 1001, 2, 999, 70000, 1000, 5, 4294967294 } }",
	    exec_open, &r);
	assert_int_equal(r, 0);
	for (int64_t u = 0; u <= 70001; u++) {
		bool want = false;

		if (u > 1002 && u < 65533)
			u = 65533;
		for (size_t i = 0; i < sizeof(uids) / sizeof(uids[0]); i++)
			want |= uids[i] == u;
		exec_event("x", "/usr/bin/x", (uint32_t)u, "x", 2);
		if (tp_exception_match(x, &ev, NULL) != want)
			fail_msg("uid %lld: want %d", (long long)u, want);
	}
	exec_event("x", "/usr/bin/x", 4294967294u, "x", 2);
	assert_true(tp_exception_match(x, &ev, NULL));
	tp_exception_free(x);
	/* a signed field, negatives among them */
	x = make("return { ret = { -13, -1, 0, 3, 4, 5, 6, 7, -115, 100 } }", open_only, &r);
	assert_int_equal(r, 0);
	for (int ret = -120; ret <= 120; ret++) {
		bool want = ret == -13 || ret == -1 ||
			    (ret >= 0 && ret <= 7 && ret != 1 && ret != 2) || ret == -115 ||
			    ret == 100;

		open_record("x", "/etc/hosts", 0, ret);
		if (tp_exception_match(x, &ev, NULL) != want)
			fail_msg("ret %d: want %d", ret, want);
	}
	tp_exception_free(x);
}

static void test_many_values_match_as_each_alone(void **state)
{
	static const char *const open_only[] = {"file.open", NULL};

	(void)state;
	srand(11);
	for (int round = 0; round < 300; round++) {
		int nv = 3 + rand() % 45, r; /* an index (and its cache) from 3 */
		char vals[48][24], table[2048], one[64];
		struct tp_exception *all, *each[48];
		size_t off = (size_t)snprintf(table, sizeof(table), "return { path = { ");

		for (int i = 0; i < nv; i++) {
			char lit[8], lit2[8];

			rand_str(lit, 5);
			rand_str(lit2, 2);
			/* a part every value shares, first or last: their buckets */
			if (round % 3 == 1)
				snprintf(lit, sizeof(lit), "/e%.5s", (snprintf(one, sizeof(one), "%s", lit), one));
			else if (round % 3 == 2)
				snprintf(lit, sizeof(lit), "%.4s.s", (snprintf(one, sizeof(one), "%s", lit), one));
			switch (rand() % (round % 7 == 0 ? 6 : 5)) {
			case 0: snprintf(vals[i], sizeof(vals[i]), "%s", lit); break;
			case 1: snprintf(vals[i], sizeof(vals[i]), "%s*", lit); break;
			case 2: snprintf(vals[i], sizeof(vals[i]), "*%s", lit); break;
			case 3: snprintf(vals[i], sizeof(vals[i]), "*%s*", lit); break;
			case 4: snprintf(vals[i], sizeof(vals[i]), "%s?%s*", lit2, lit); break;
			default: snprintf(vals[i], sizeof(vals[i]), "*"); break;
			}
			off += (size_t)snprintf(table + off, sizeof(table) - off, "'%s', ", vals[i]);
			snprintf(one, sizeof(one), "return { path = '%.23s' }", vals[i]);
			each[i] = make(one, open_only, &r);
			assert_non_null(each[i]);
			assert_int_equal(r, 0);
		}
		snprintf(table + off, sizeof(table) - off, "} }");
		all = make(table, open_only, &r);
		assert_non_null(all);
		assert_int_equal(r, 0);
		/* each path asked twice, the second time answered by the index's
		 * cache of answers (match_cached): the same answers */
		char paths[60][16];

		for (int k = 0; k < 120; k++) {
			char *path = paths[k % 60];
			bool want = false;

			if (k < 60) {
				rand_str(path, 9);
				if (round % 3 == 1 && k % 2 && strlen(path) >= 2)
					memcpy(path, "/e", 2); /* most with the shared part */
				else if (round % 3 == 2 && k % 2 && strlen(path) >= 2)
					memcpy(path + strlen(path) - 2, ".s", 2);
			}
			open_event("x", path, 0);
			for (int i = 0; i < nv && !want; i++)
				want = tp_exception_match(each[i], &ev, NULL);
			if (tp_exception_match(all, &ev, NULL) != want)
				fail_msg("path '%s' against %s: want %d", path, table, want);
		}
		for (int i = 0; i < nv; i++)
			tp_exception_free(each[i]);
		tp_exception_free(all);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fields_and_globs),
	    cmocka_unit_test(test_numbers_symbols_cmdline),
	    cmocka_unit_test(test_enrichment_fields),
	    cmocka_unit_test(test_bad_exceptions),
	    cmocka_unit_test(test_byte_sets_as_fnmatch),
	    cmocka_unit_test(test_many_values_match_as_each_alone),
	    cmocka_unit_test(test_many_numbers_match_as_each_alone),
	    cmocka_unit_test(test_index_cache_keys_whole_strings),
	    cmocka_unit_test(test_fast_check_bits_and_numbers),
	    cmocka_unit_test(test_every_field_as_the_accessors_read_it),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
