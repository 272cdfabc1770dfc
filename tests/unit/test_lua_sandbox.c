/* Sandbox: escape attempts kept as tests (in the spirit of Redis's "try
 * trick global protection"), limits that a script cannot swallow, and the
 * protected-call wrapper's contract. Every fault must leave the VM usable. */
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
#include <unistd.h>

#include <cmocka.h>
#include <lauxlib.h>

#include "lua/sandbox.h"

static struct tp_lua_vm *vm;
static char err[2048];

static int setup(void **state)
{
	struct tp_lua_limits lim = {
	    .mem_max = 32u << 20, .mem_call_max = 8u << 20, .instr_budget = 200000};

	(void)state;
	assert_int_equal(tp_lua_vm_new(&vm, &lim, err, sizeof(err)), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tp_lua_vm_close(vm);
	vm = NULL;
	return 0;
}

/* Load a chunk (its globals frozen after its main function ran) and call it. */
static int freeze_env_p(lua_State *L)
{
	(void)L;
	tp_lua_env_freeze(L, 1);
	return 0;
}

/* Run code as a chunk; then, if after is given, freeze the chunk's globals
 * and run `after` (a global function name) in a second call. */
static enum tp_lua_status run2(const char *code, const char *after)
{
	lua_State *L = tp_lua_vm_state(vm);
	enum tp_lua_status st;
	int top = lua_gettop(L);

	err[0] = '\0';
	if (tp_lua_load(vm, code, strlen(code), "@sandbox_test.lua", err, sizeof(err)) < 0)
		return (enum tp_lua_status) - 1;
	tp_lua_push_env(L, -1);
	lua_insert(L, -2);
	st = tp_lua_pcall(vm, 0, 0, err, sizeof(err));
	if (st == TP_LUA_OK && after) {
		lua_pushcfunction(L, freeze_env_p);
		lua_pushvalue(L, -2);
		assert_int_equal(tp_lua_pcall(vm, 1, 0, err, sizeof(err)), TP_LUA_OK);
		lua_getfield(L, -1, after);
		st = tp_lua_pcall(vm, 0, 0, err, sizeof(err));
	}
	lua_pop(L, 1);			      /* env */
	assert_int_equal(lua_gettop(L), top); /* the wrapper leaves the stack as it found it */
	return st;
}

static enum tp_lua_status run(const char *code)
{
	return run2(code, NULL);
}

/* After any fault the VM must still run ordinary code. */
static void assert_vm_alive(void)
{
	assert_int_equal(run("local t = {} for i = 1, 100 do t[i] = i end assert(#t == 100)"),
			 TP_LUA_OK);
}

static void expect_error(const char *code, const char *needle)
{
	enum tp_lua_status st = run(code);

	if (st != TP_LUA_ERROR || !strstr(err, needle))
		fail_msg("code %s: status %d, err %s (want error containing '%s')", code, st, err,
			 needle);
	assert_vm_alive();
}

static void test_dangerous_libraries_are_absent(void **state)
{
	static const char *const names[] = {
	    "io",	  "os",	      "debug",		"package",   "require",
	    "dofile",	  "loadfile", "collectgarbage", "coroutine", "warn",
	    "loadstring", "module",   "setfenv",	"getfenv",   NULL,
	};
	char code[128];

	(void)state;
	for (const char *const *n = names; *n; n++) {
		snprintf(code, sizeof(code), "local x = %s", *n);
		expect_error(code, "undeclared global");
	}
	/* Not reachable through _G either, nor through the registry's globals. */
	expect_error("local x = _G.io", "undeclared global 'io'");
	expect_error("local f = load('return os') local x = f()", "undeclared global 'os'");
}

static void test_bytecode_is_refused(void **state)
{
	static const char bin[] = "\x1bLua\x54\x00\x19\x93\r\n\x1a\n";
	char code[256];

	(void)state;
	assert_int_equal(tp_lua_load(vm, bin, sizeof(bin) - 1, "=bin", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "binary"));
	expect_error("local x = string.dump(function() end)", "attempt to call a nil value");
	assert_int_equal(run("assert(('x').dump == nil)"), TP_LUA_OK);
	expect_error("load('return 1', 'x', 'b')", "only text chunks");
	snprintf(code, sizeof(code), "local f, e = load(%s) assert(not f) error(e)",
		 "'\\27Lua\\84\\0\\25\\147\\r\\n\\26\\n'");
	expect_error(code, "binary");
}

static void test_memory_bombs(void **state)
{
	static const char *const bombs[] = {
	    "local s = string.rep('x', 1 << 30)",
	    "local s = 'x' while true do s = s .. s end",
	    "local t = {} local i = 0 while true do i = i + 1 t[i] = {('x'):rep(4096)} end",
	    "local t = {} for i = 1, 1e9 do t[#t + 1] = tostring(i):rep(1000) end",
	    "local s = ('x'):rep(1e8, ',')",
	    "local t = table.concat({}, ('x'):rep(1e8))",
	};
	size_t before = tp_lua_vm_mem(vm);

	(void)state;
	for (size_t i = 0; i < sizeof(bombs) / sizeof(bombs[0]); i++) {
		assert_int_equal(run(bombs[i]), TP_LUA_NOMEM);
		assert_non_null(strstr(err, "memory"));
		assert_vm_alive();
	}
	/* The garbage of the failed calls is collectable: usage comes back down. */
	assert_int_equal(run("local t = {} for i = 1, 6 do t[i] = ('y'):rep(1 << 20) end"),
			 TP_LUA_OK);
	assert_true(tp_lua_vm_mem(vm) < before + (64u << 20));
}

static void test_memory_bombs_inside_pcall(void **state)
{
	(void)state;
	/* The script catches the allocation failure: the call still dies. */
	assert_int_equal(run("local ok = pcall(string.rep, 'x', 1 << 30) "
			     "while true do local x = ('x'):rep(10000) end"),
			 TP_LUA_NOMEM);
	assert_vm_alive();
	assert_int_equal(run("for i = 1, 10 do pcall(function() local t = {} "
			     "while true do t[#t+1] = ('x'):rep(9999) end end) end"),
			 TP_LUA_NOMEM);
	assert_vm_alive();
	/* pcall called straight from C: the abort is reported though the
	 * script returned without running another instruction. */
	{
		static const char bomb[] = "return function() local s = ('x'):rep(1 << 30) end";
		lua_State *L = tp_lua_vm_state(vm);
		int top = lua_gettop(L);

		lua_getglobal(L, "pcall");
		assert_int_equal(lua_type(L, -1), LUA_TFUNCTION);
		assert_int_equal(tp_lua_load(vm, bomb, strlen(bomb), "=bomb", err, sizeof(err)), 0);
		assert_int_equal(tp_lua_pcall(vm, 0, 1, err, sizeof(err)), TP_LUA_OK);
		assert_int_equal(tp_lua_pcall(vm, 1, LUA_MULTRET, err, sizeof(err)), TP_LUA_NOMEM);
		assert_int_equal(lua_gettop(L), top);
		assert_vm_alive();
	}
}

static void test_per_call_memory_share(void **state)
{
	(void)state;
	/* 8 MiB per call: 12 MiB in one call fails though the VM cap is 32 MiB... */
	assert_int_equal(run("local t = {} for i = 1, 12 do t[i] = ('z'):rep(1 << 20) end"),
			 TP_LUA_NOMEM);
	/* ...while 4 MiB per call is fine, repeatedly. */
	for (int i = 0; i < 5; i++)
		assert_int_equal(run("local t = {} for i = 1, 4 do t[i] = ('z'):rep(1 << 20) end"),
				 TP_LUA_OK);
}

static void test_infinite_loops(void **state)
{
	static const char *const loops[] = {
	    "while true do end",
	    "local i = 0 repeat i = i + 1 until false",
	    "local function f() return f() end f()", /* a tail call: no stack growth */
	    "while true do pcall(function() while true do end end) end",
	    "for i = 1, 10 do pcall(function() while true do end end) end while true do end",
	    "while true do xpcall(function() while true do end end, function() "
	    "while true do end end) end",
	    "xpcall(error, function() while true do end end)",
	    "xpcall(function() while true do end end, function(m) return m end) while true do end",
	    "local ok, e = pcall(function() while true do end end) assert(not ok) "
	    "while true do end",
	    "for i = 1, 1e6 do pcall(error, 'x') end",
	    "local t = setmetatable({}, {__index = function(t, k) return t[k + 1] end}) "
	    "local x = t[1]",
	    "string.gsub(('x'):rep(100), 'x', function() while true do end end)",
	    "table.sort({3, 2, 1, 5, 4}, function(a, b) while true do end end)",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(loops) / sizeof(loops[0]); i++) {
		enum tp_lua_status st = run(loops[i]);

		/* The __index chain overflows the C stack before the budget. */
		if (st == TP_LUA_ERROR && strstr(err, "stack overflow"))
			continue;
		if (st != TP_LUA_TIMEOUT)
			fail_msg("loop %zu (%s): status %d: %s", i, loops[i], st, err);
		assert_non_null(strstr(err, "instruction budget"));
		assert_vm_alive();
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Another thread gives up what the VM runs (a reload past its time limit):
 * a loop with a huge budget, inside pcall or a pattern's callback, ends at
 * once as a timeout that names the cancel; with the flag cleared the VM
 * runs again. (A single pattern match is bounded by the budget itself.) */
static atomic_bool cancel_flag;

static void *cancel_later(void *arg)
{
	struct timespec ts = {0, 50 * 1000 * 1000};

	(void)arg;
	nanosleep(&ts, NULL);
	atomic_store(&cancel_flag, true);
	return NULL;
}

static void test_cancel_from_another_thread(void **state)
{
	static const char *const forever[] = {
	    "while true do end",
	    "while true do pcall(function() while true do end end) end",
	    "while true do string.gsub(('x'):rep(100), 'x', function() end) end",
	};
	struct tp_lua_limits lim = {.mem_max = 32u << 20, .instr_budget = UINT64_MAX / 2};

	(void)state;
	tp_lua_vm_set_limits(vm, &lim);
	tp_lua_vm_set_cancel(vm, &cancel_flag);
	for (size_t i = 0; i < sizeof(forever) / sizeof(forever[0]); i++) {
		pthread_t t;
		double t0 = now_s();

		atomic_store(&cancel_flag, false);
		assert_int_equal(pthread_create(&t, NULL, cancel_later, NULL), 0);
		if (run(forever[i]) != TP_LUA_TIMEOUT || !strstr(err, "cancelled"))
			fail_msg("%s: not cancelled: %s", forever[i], err);
		pthread_join(t, NULL);
		assert_true(now_s() - t0 < 2.0);
	}
	atomic_store(&cancel_flag, false);
	assert_vm_alive();
	tp_lua_vm_set_cancel(vm, NULL);
}

/* The lazy budget: with the tick timer on this thread, a short call runs
 * without the count hook (never armed), an infinite loop is armed by the
 * tick and stopped as a timeout; a VM not made lazy counts every
 * instruction, so a call over its budget stops even when it is short. */
static void test_lazy_budget(void **state)
{
	static const char *const loops[] = {
	    "while true do end",
	    "while true do pcall(function() while true do end end) end",
	    "xpcall(function() while true do end end, function(m) return m end) while true do end",
	};
	static const char *const over = "local x = 0 for i = 1, 100000 do x = x + i end";

	(void)state;
	/* Not lazy: 100k iterations (~400k instructions) is over 200k. */
	assert_int_equal(run(over), TP_LUA_TIMEOUT);
	assert_false(tp_lua_vm_lazy_hooked(vm));
	assert_int_equal(tp_lua_lazy_thread_start(err, sizeof(err)), 0);
	/* Lazy but on a VM not made lazy: the same. */
	assert_int_equal(run(over), TP_LUA_TIMEOUT);
	tp_lua_vm_set_lazy(vm, true);
	for (int i = 0; i < 200; i++) {
		assert_int_equal(run("local x = 0 for i = 1, 1000 do x = x + i end"), TP_LUA_OK);
		assert_false(tp_lua_vm_lazy_hooked(vm));
	}
	for (size_t i = 0; i < sizeof(loops) / sizeof(loops[0]); i++) {
		double t0 = now_s();

		if (run(loops[i]) != TP_LUA_TIMEOUT || !strstr(err, "instruction budget"))
			fail_msg("lazy: %s: not stopped: %s", loops[i], err);
		assert_true(tp_lua_vm_lazy_hooked(vm));
		assert_true(now_s() - t0 < 2.0);
		assert_vm_alive();
	}
	/* Back to eager: counted from the first instruction again. */
	tp_lua_vm_set_lazy(vm, false);
	tp_lua_lazy_thread_stop();
	assert_int_equal(run(over), TP_LUA_TIMEOUT);
}

static void test_budget_is_per_call(void **state)
{
	(void)state;
	/* 100k instructions fit in 200k; many such calls in a row all pass. */
	for (int i = 0; i < 20; i++)
		assert_int_equal(run("local x = 0 for i = 1, 30000 do x = x + i end"), TP_LUA_OK);
}


/* Lua's own pattern functions run in C, unseen by the count hook: these
 * backtrack for hours (O(n^4) on 100k characters). Ours pay each step from
 * the call's budget: each is stopped, as a timeout, within the budget. */
static void test_catastrophic_patterns(void **state)
{
	static const char *const bombs[] = {
	    "s:find('.-.-.-.-b')",
	    "string.find(s, '.-.-.-.-b')",
	    "s:match('(.-)(.-)(.-)(.-)b')",
	    "string.match(s, '.*.*.*.*b', 2)",
	    "s:gsub('.-.-.-.-b', 'x')",
	    "string.gsub(s, '(a*)*b', '%1')",
	    "for x in s:gmatch('.-.-.-.-b') do end",
	    "for x in string.gmatch(s, 'a*a*a*a*b') do end",
	    "s:find('(.*)%1b')", /* back-references compare O(n^2) bytes */
	    "s:find('%f[a]a-a-a-a-b')",
	    "s:find('^(.-)%s*(.-)(.-)$b')",
	    "pcall(string.find, s, '.-.-.-.-b')",
	    "local ok = pcall(function() return s:find('.-.-.-.-b') end) assert(not ok)",
	    "while true do pcall(s.find, s, '.-.-.-.-b') end",
	    "pcall(function() return s:gsub('.-.-.-.-b', 'x') end)",
	    "pcall(function() for x in s:gmatch('.-.-.-.-b') do end end) while true do end",
	    "xpcall(string.match, function(m) return m end, s, '.-.-.-.-b')",
	    "s:gsub('a', function() return s:find('.-.-.-.-b') end)",
	    "local t = setmetatable({}, {__index = function() return s:match('.-.-.-.-b') end}) "
	    "s:gsub('a', t)",
	    /* many cheap calls add up as well, plain finds too */
	    "for i = 1, 1e9 do pcall(string.find, s, 'a.-b', -200) end",
	    "for i = 1, 1e9 do s:find('b', 1, true) end",
	};
	char code[512];

	(void)state;
	for (size_t i = 0; i < sizeof(bombs) / sizeof(bombs[0]); i++) {
		double t0 = now_s(), took;
		enum tp_lua_status st;

		snprintf(code, sizeof(code), "local s = ('a'):rep(1e5) %s", bombs[i]);
		st = run(code);
		took = now_s() - t0;
		if (st != TP_LUA_TIMEOUT)
			fail_msg("%s: status %d: %s", bombs[i], st, err);
		assert_non_null(strstr(err, "instruction budget"));
		/* 200k units: milliseconds; seconds would mean the budget missed. */
		if (took > 2.0)
			fail_msg("%s: stopped only after %.1f s", bombs[i], took);
		assert_vm_alive();
	}
}

/* Instructions and matching steps draw from one budget. */
static void test_patterns_share_the_budget(void **state)
{
	static const char *const ordinary[] = {
	    "assert(('/etc/passwd'):find('^/etc/'))",
	    "assert(('/home/u/.ssh/id_rsa'):find('%.ssh/'))",
	    "local k, v = ('PATH=/bin'):match('^(%w+)=(.*)$') assert(k == 'PATH' and v == '/bin')",
	    "assert(select(2, ('a b c'):gsub('%s', '')) == 2)",
	    "local n = 0 for w in ('one two three'):gmatch('%a+') do n = n + 1 end assert(n == 3)",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ordinary) / sizeof(ordinary[0]); i++)
		if (run(ordinary[i]) != TP_LUA_OK)
			fail_msg("%s: %s", ordinary[i], err);
	/* The find takes ~134k steps, the loop ~90k instructions (2 a turn): each fits in
	 * the 200k budget, both together do not. */
	assert_int_equal(run("local s = ('a'):rep(90) assert(not s:find('.-.-b'))"), TP_LUA_OK);
	assert_int_equal(run("local x = 0 for i = 1, 45000 do x = x + i end"), TP_LUA_OK);
	assert_int_equal(run("local s = ('a'):rep(90) assert(not s:find('.-.-b')) "
			     "local x = 0 for i = 1, 45000 do x = x + i end"),
			 TP_LUA_TIMEOUT);
	assert_int_equal(run("local x = 0 for i = 1, 45000 do x = x + i end "
			     "local s = ('a'):rep(90) assert(not s:find('.-.-b'))"),
			 TP_LUA_TIMEOUT);
	/* Malformed patterns are errors, as in Lua. */
	expect_error("('abc'):find('a[')", "malformed pattern (missing ']')");
	expect_error("('abc'):gsub('%', 'x')", "malformed pattern (ends with '%')");
	expect_error("for x in ('abc'):gmatch('%b') do end", "missing arguments to '%b'");
	expect_error("('abc'):match('(a')", "unfinished capture");
}

static void test_deep_recursion(void **state)
{
	enum tp_lua_status st;

	(void)state;
	st = run("local function f(n) return 1 + f(n + 1) end f(1)");
	assert_true(st == TP_LUA_ERROR || st == TP_LUA_NOMEM || st == TP_LUA_TIMEOUT);
	assert_vm_alive();
	/* Each level catches the overflow below it: contained, whatever the status. */
	run("local function f() local ok = pcall(f) return ok end f()");
	assert_vm_alive();
	/* Recursion through a C function (string.gsub) hits the C stack limit. */
	st = run("local function f(s) return (s:gsub('.', f)) end f('ab')");
	assert_true(st != TP_LUA_OK);
	assert_vm_alive();
}

static void test_frozen_globals(void **state)
{
	(void)state;
	/* Globals defined while the chunk loads are fine, and readable later. */
	assert_int_equal(run2("LIMIT = 3 function later() assert(LIMIT == 3) end", "later"),
			 TP_LUA_OK);
	/* After the freeze: new globals, changed globals, through _G or rawset. */
	assert_int_equal(run2("function later() NEWGLOBAL = 1 end", "later"), TP_LUA_ERROR);
	assert_non_null(strstr(err, "frozen"));
	assert_int_equal(run2("X = 1 function later() X = 2 end", "later"), TP_LUA_ERROR);
	assert_int_equal(run2("X = 1 function later() _G.X = 2 end", "later"), TP_LUA_ERROR);
	assert_int_equal(run2("function later() rawset(_G, 'Y', 1) end", "later"), TP_LUA_ERROR);
	assert_non_null(strstr(err, "read-only"));
	assert_int_equal(run2("function later() setmetatable(_G, nil) end", "later"), TP_LUA_ERROR);
	/* Tables defined at load stay mutable: rules keep state in them. */
	assert_int_equal(run2("SEEN = {} function later() SEEN[1] = true end", "later"), TP_LUA_OK);
	/* Reading an undeclared global is an error, with its name. */
	expect_error("local x = UNDECLARED_THING", "undeclared global 'UNDECLARED_THING'");
}

static void test_shared_tables_are_read_only(void **state)
{
	static const char *const tricks[] = {
	    "string.format = nil",
	    "string.rep = function() end",
	    "rawset(string, 'rep', print)",
	    "table.insert = nil",
	    "math.pi = 3",
	    "utf8.char = nil",
	    "tapio.set = nil",
	    "rawset(tapio, 'x', 1)",
	    "setmetatable(string, {})",
	    "getmetatable('').__index = {}",
	    "getmetatable('').__index.upper = nil",
	    "setmetatable('', {})",
	    "tapio.severities[1] = 'x'",
	    "_G.string = nil; assert(string.format)",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(tricks) / sizeof(tricks[0]); i++) {
		enum tp_lua_status st = run(tricks[i]);

		/* The last one may "succeed" only by shadowing in its own chunk. */
		if (i == sizeof(tricks) / sizeof(tricks[0]) - 1 && st == TP_LUA_OK)
			continue;
		if (st != TP_LUA_ERROR)
			fail_msg("trick %s was not refused", tricks[i]);
	}
	/* Nothing changed for the next chunk. */
	assert_int_equal(
	    run("assert(string.format('%d', 3) == '3') assert(math.pi > 3.14) "
		"assert(table.insert and utf8.char and tapio.set) "
		"assert(('ab'):upper() == 'AB') assert(tapio.severities[1] == 'debug') "
		"assert(getmetatable('') == false)"),
	    TP_LUA_OK);
	/* Read-only views still iterate and measure. */
	assert_int_equal(
	    run("local n = 0 for k, v in pairs(math) do n = n + 1 end assert(n > 20) "
		"assert(#tapio.severities == 6) local c = 0 "
		"for _, v in ipairs(tapio.severities) do c = c + 1 end assert(c == 6)"),
	    TP_LUA_OK);
}

static void test_gc_metamethods_refused(void **state)
{
	(void)state;
	expect_error("setmetatable({}, {__gc = function() while true do end end})",
		     "__gc metamethods are not allowed");
	/* Added after setmetatable, __gc never marks the object for finalization. */
	assert_int_equal(run("local mt = {} local t = setmetatable({}, mt) "
			     "mt.__gc = function() while true do end end t = nil"),
			 TP_LUA_OK);
	assert_vm_alive();
}

static void test_chunks_are_isolated(void **state)
{
	(void)state;
	assert_int_equal(run("SHARED_NAME = 1"), TP_LUA_OK);
	expect_error("local x = SHARED_NAME", "undeclared global 'SHARED_NAME'");
}

static void test_errors_carry_file_line_and_traceback(void **state)
{
	(void)state;
	assert_int_equal(run("local x = 1\nlocal y = nil\nlocal z = y.field\n"), TP_LUA_ERROR);
	assert_non_null(strstr(err, "sandbox_test.lua:3:"));
	assert_non_null(strstr(err, "stack traceback"));
	/* A syntax error is reported by the load, with its line. */
	assert_int_equal((int)run("local x = 1\nlocal = 2\n"), -1);
	assert_non_null(strstr(err, "sandbox_test.lua:2:"));
	/* Non-string error objects are described. */
	assert_int_equal(run("error({})"), TP_LUA_ERROR);
	assert_non_null(strstr(err, "table value"));
}

static void test_load_file(void **state)
{
	char path[] = "/tmp/tapio-sandbox-XXXXXX";
	int fd = mkstemp(path);
	const char text[] = "-- a comment\nreturn 40 + 2\n";
	lua_State *L = tp_lua_vm_state(vm);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	close(fd);
	assert_int_equal(tp_lua_load_file(vm, path, err, sizeof(err)), 0);
	assert_int_equal(tp_lua_pcall(vm, 0, 1, err, sizeof(err)), TP_LUA_OK);
	assert_int_equal(lua_tointeger(L, -1), 42);
	lua_pop(L, 1);
	unlink(path);
	assert_int_equal(tp_lua_load_file(vm, path, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, path));
	assert_int_equal(tp_lua_load_file(vm, "/tmp", err, sizeof(err)), -EINVAL);
}

static void test_print_goes_to_the_log_and_tapio_helpers(void **state)
{
	(void)state;
	assert_int_equal(run("print('hello from lua', 1, nil, true)"), TP_LUA_OK);
	assert_int_equal(
	    run("assert(tapio.basename('/usr/bin/curl') == 'curl') "
		"assert(tapio.basename('curl') == 'curl') "
		"assert(tapio.dirname('/usr/bin/curl') == '/usr/bin') "
		"assert(tapio.dirname('/curl') == '/') assert(tapio.dirname('curl') == '.') "
		"local u = tapio.union(tapio.set{'a', 'b'}, tapio.set{'c'}, {}) "
		"assert(u.a and u.b and u.c and not u.d) "
		"local ok, err = pcall(tapio.union, tapio.set{'a'}, {'b'}) "
		"assert(not ok and err:find('argument 2 is not a set', 1, true)) "
		"assert(not pcall(tapio.union, 'x')) assert(not pcall(tapio.union, {}, nil)) "
		"assert(tapio.startswith('/tmp/x', '/tmp/')) "
		"assert(not tapio.startswith(nil, '/tmp/')) "
		"assert(tapio.endswith('a.sh', '.sh')) assert(tapio.contains('a.b', '.')) "
		"assert(not tapio.contains('ab', '.')) "
		"assert(tapio.startswith_any('/dev/shm/x', {'/tmp/', '/dev/shm/'})) "
		"assert(not tapio.startswith_any('/dev/shm/x', {'/dev/shm/y', '/dev/shm/x/'})) "
		"assert(tapio.startswith_any('/x', {''}) and not tapio.startswith_any(nil, {''})) "
		"local l = {} for i = 1, 40 do l[i] = '/p' .. i .. '/' end "
		"assert(tapio.startswith_any('/p40/a', l) and tapio.startswith_any('/p17/', l)) "
		"assert(not tapio.startswith_any('/p41/a', l)) "
		"l[33] = 5 assert(not pcall(tapio.startswith_any, '/p40/a', l)) "
		"assert(tapio.set{'a', 'b'}.b)"),
	    TP_LUA_OK);
}

static int push_table_p(lua_State *L)
{
	lua_newtable(L);
	lua_pushinteger(L, 7);
	lua_setfield(L, -2, "seven");
	lua_pushvalue(L, -1);
	lua_setfield(L, -2, "self"); /* a cycle */
	tp_lua_push_readonly(L, -1);
	lua_setfield(L, LUA_REGISTRYINDEX, "sandbox_test_ro");
	lua_pop(L, 1);
	return 0;
}

static void test_set_global_and_readonly_cycles(void **state)
{
	lua_State *L = tp_lua_vm_state(vm);

	(void)state;
	assert_int_equal(tp_lua_cpcall(vm, push_table_p, NULL, err, sizeof(err)), TP_LUA_OK);
	lua_getfield(L, LUA_REGISTRYINDEX, "sandbox_test_ro");
	assert_int_equal(tp_lua_set_global(vm, "HOSTDATA", err, sizeof(err)), 0);
	assert_int_equal(run("assert(HOSTDATA.seven == 7 and HOSTDATA.self.self.seven == 7)"),
			 TP_LUA_OK);
	expect_error("HOSTDATA.self.seven = 8", "read-only");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_dangerous_libraries_are_absent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bytecode_is_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_memory_bombs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_memory_bombs_inside_pcall, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_per_call_memory_share, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_infinite_loops, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_budget_is_per_call, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lazy_budget, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cancel_from_another_thread, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_catastrophic_patterns, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_patterns_share_the_budget, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_deep_recursion, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_frozen_globals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_shared_tables_are_read_only, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_gc_metamethods_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_chunks_are_isolated, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_errors_carry_file_line_and_traceback, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_load_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_print_goes_to_the_log_and_tapio_helpers, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_set_global_and_readonly_cycles, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
