/*
 * The sandbox: one VM's allocator and memory cap, the count hook and
 * instruction budget, the protected calls, the replaced base functions and
 * the VM's setup. Longer than 600 lines on purpose: this is the escape
 * boundary, and a reviewer should see every way Lua code reaches C in one
 * file (read-only tables are in lua/readonly.c, pattern matching in
 * lua/strpat.c).
 */
#include "lua/sandbox.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>

#include "lua/embedded.h"
#include "lua/readonly.h"
#include "lua/strpat.h"
#include "lua/tapio_lib.h"
#include "obs/log.h"
#include "util/buf.h"
#include "util/trusted.h"

#define TP_LUA_FILE_MAX (4u << 20) /* a rule or config file larger than this is a mistake */

/*
 * The count hook fires every HOOK_SLICE instructions (or at the budget, if
 * sooner) and adds the slice to `spent`, which pattern matching charges
 * too: instructions and matcher steps draw from one budget. Charged steps
 * are seen by the next slice, so a call that matches patterns may run up to
 * HOOK_SLICE instructions past its budget; one that does not stops exactly
 * at it. A hook call per slice costs nothing measurable (Lua traps every
 * instruction anyway while a count hook is set).
 */
#define HOOK_SLICE 1000u

/*
 * Small blocks the VM freed, kept for its next allocations of their size
 * class: Lua allocates and frees a few small objects per event (strings,
 * tables of an event's fields) and its collector frees them in bursts,
 * more than malloc's per-thread cache holds, so most went through malloc's
 * slow paths. Lua tells the size of every block it frees, so a class is
 * known without a header. The blocks are ordinary malloc blocks of their
 * class's size (realloc and free work on them); at most POOL_KEEP per class
 * are kept, all freed with the VM.
 */
#define POOL_STEP    16
#define POOL_CLASSES 16 /* blocks up to 256 bytes */
#define POOL_KEEP    4096

struct pool_block {
	struct pool_block *next;
};

struct tp_lua_vm {
	lua_State *L;
	struct pool_block *pool[POOL_CLASSES];
	uint32_t npool[POOL_CLASSES];
	size_t mem_used;
	size_t mem_limit; /* in force now: mem_max, or less during a call */
	size_t mem_max;
	size_t mem_call_max;
	uint64_t instr_budget;
	uint64_t spent; /* budget units used by the running call (whole slices + steps) */
	int slice;	/* the count the hook is set to now */
	int aborting; /* 0, or TP_LUA_TIMEOUT / TP_LUA_NOMEM while a tripped call unwinds */
	bool in_call;
	bool lazy;		/* top-level calls start without the hook (see lazy_tick) */
	volatile sig_atomic_t lazy_hooked; /* the tick armed the hook in this call */
	bool cancelled;		    /* the abort came from *cancel */
	const atomic_bool *cancel; /* set by another thread: stop what runs */
	struct tp_pat_budget pat_budget; /* the pattern functions pay through this */
};

/* Registry keys: their addresses are unique. */
static const char key_lib = 'l';    /* the table every environment reads through */

static void count_hook(lua_State *L, lua_Debug *ar);

/* A refusal during a call arms the abort: the script cannot catch it and go on. */
static void arm_abort(struct tp_lua_vm *vm, int why)
{
	if (!vm->in_call || vm->aborting)
		return;
	vm->aborting = why;
	lua_sethook(vm->L, count_hook, LUA_MASKCOUNT, 1);
}

/* The size class of a block of n bytes (1..POOL_CLASSES), 0: not pooled. */
static inline unsigned pool_class(size_t n)
{
	return n && n <= POOL_STEP * POOL_CLASSES ? (unsigned)((n + POOL_STEP - 1) / POOL_STEP) : 0;
}

static void pool_put(struct tp_lua_vm *vm, void *ptr, unsigned c)
{
	struct pool_block *b = ptr;

	if (vm->npool[c - 1] >= POOL_KEEP) {
		free(ptr);
		return;
	}
	b->next = vm->pool[c - 1];
	vm->pool[c - 1] = b;
	vm->npool[c - 1]++;
}

static void *pool_get(struct tp_lua_vm *vm, unsigned c)
{
	struct pool_block *b = vm->pool[c - 1];

	if (!b)
		return malloc((size_t)c * POOL_STEP);
	vm->pool[c - 1] = b->next;
	vm->npool[c - 1]--;
	/* the next one is likely cold (freed by a sweep long ago): start its load */
	__builtin_prefetch(b->next);
	return b;
}

static void pool_drain(struct tp_lua_vm *vm)
{
	for (unsigned c = 0; c < POOL_CLASSES; c++) {
		while (vm->pool[c]) {
			struct pool_block *b = vm->pool[c];

			vm->pool[c] = b->next;
			free(b);
		}
		vm->npool[c] = 0;
	}
}

static void *vm_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct tp_lua_vm *vm = ud;
	size_t old = ptr ? osize : 0;
	unsigned oc = ptr ? pool_class(osize) : 0, nc = pool_class(nsize);
	void *p;

	if (nsize == 0) {
		if (oc)
			pool_put(vm, ptr, oc);
		else
			free(ptr);
		vm->mem_used -= old;
		return NULL;
	}
	if (nsize > old && vm->mem_limit && vm->mem_used + (nsize - old) > vm->mem_limit) {
		arm_abort(vm, TP_LUA_NOMEM);
		return NULL;
	}
	if (ptr && oc && oc == nc) {
		p = ptr; /* the block has room: its class's size */
	} else if (nc) {
		p = pool_get(vm, nc);
		if (!p)
			return NULL;
		if (ptr) {
			memcpy(p, ptr, old < nsize ? old : nsize);
			if (oc)
				pool_put(vm, ptr, oc);
			else
				free(ptr);
		}
	} else {
		/* a large block (a pooled one is a malloc block: realloc takes it) */
		p = realloc(ptr, nsize);
		if (!p)
			return NULL;
	}
	vm->mem_used = vm->mem_used - old + nsize;
	return p;
}

/* The error a tripped call raises (again and again until it unwinds).
 * Stack: [-0, +0] (raises) */
static void raise_abort(lua_State *L, struct tp_lua_vm *vm)
{
	if (vm->aborting == TP_LUA_NOMEM)
		luaL_error(L, "memory limit exceeded");
	if (vm->cancelled)
		luaL_error(L, "cancelled (the load was given up)");
	luaL_error(L, "instruction budget exceeded");
}

/* Set the hook to fire after the next slice of the budget. */
static void hook_next_slice(struct tp_lua_vm *vm)
{
	uint64_t left = vm->instr_budget - vm->spent;

	vm->slice = (int)(left < HOOK_SLICE ? left : HOOK_SLICE);
	lua_sethook(vm->L, count_hook, LUA_MASKCOUNT, vm->slice);
}

/* Fires after each slice of the budget; once it has run out, on every
 * instruction until the call has unwound. Stack: [-0, +0] (raises) */
static void count_hook(lua_State *L, lua_Debug *ar)
{
	struct tp_lua_vm *vm = tp_lua_vm_of(L);

	(void)ar;
	if (!vm->aborting) {
		vm->spent += (uint64_t)vm->slice;
		if (vm->cancel && atomic_load_explicit(vm->cancel, memory_order_relaxed))
			vm->cancelled = true;
		else if (vm->spent < vm->instr_budget) {
			hook_next_slice(vm);
			return;
		}
		vm->aborting = TP_LUA_TIMEOUT;
		lua_sethook(L, count_hook, LUA_MASKCOUNT, 1);
	}
	raise_abort(L, vm);
}

/*
 * The lazy budget. A count hook makes Lua trap every instruction, which costs
 * the rule stage about a tenth of its CPU. A lazy VM's top-level calls on a
 * thread that runs the tick timer start without it: a timer on the thread's
 * CPU time sends LAZY_SIGNAL to the thread every LAZY_TICK_NS of its CPU, and
 * when the same call is still running at two ticks in a row (so it has run
 * at least one whole tick) the handler arms the count hook with the call's
 * full budget (lua_sethook may be called from a signal handler). The kernel
 * fires CPU-time timers at its scheduler tick, so a tick is 1 ms or 1/HZ,
 * whichever is longer (4 ms at HZ=250: a `while true do end` stops after
 * 8 ms of CPU there). A looping call stops after at most two ticks of CPU
 * plus its budget, with the same error as an eager one. Matcher steps charge the budget from the start, as
 * before. Any other thread, or a VM not made lazy, counts from the start.
 */
#define LAZY_SIGNAL (SIGRTMIN + 5)
#define LAZY_TICK_NS 1000000L

struct lazy_tick {
	struct tp_lua_vm *volatile vm; /* the lazy call running now, or NULL */
	volatile unsigned long seq;    /* top-level lazy calls begun on this thread */
	unsigned long seen;	       /* seq at the last tick */
	timer_t timer;
	bool on;
};

static __thread struct lazy_tick lazy;

static void lazy_signal(int sig, siginfo_t *si, void *uc)
{
	struct tp_lua_vm *vm = lazy.vm;
	unsigned long seq = lazy.seq;

	(void)sig;
	(void)si;
	(void)uc;
	if (vm && seq == lazy.seen && !vm->lazy_hooked && !vm->aborting) {
		vm->lazy_hooked = 1;
		vm->spent = 0;
		vm->slice = (int)(vm->instr_budget < HOOK_SLICE ? vm->instr_budget : HOOK_SLICE);
		lua_sethook(vm->L, count_hook, LUA_MASKCOUNT, vm->slice);
	}
	lazy.seen = seq;
}

int tp_lua_lazy_thread_start(char *err, size_t errlen)
{
	struct sigaction sa = {.sa_sigaction = lazy_signal, .sa_flags = SA_SIGINFO | SA_RESTART};
	struct sigevent sev = {.sigev_notify = SIGEV_THREAD_ID, .sigev_signo = LAZY_SIGNAL};
	struct itimerspec its = {.it_interval = {0, LAZY_TICK_NS}, .it_value = {0, LAZY_TICK_NS}};
	sigset_t set;

	if (lazy.on)
		return 0;
	sigemptyset(&sa.sa_mask);
	if (sigaction(LAZY_SIGNAL, &sa, NULL) < 0) {
		snprintf(err, errlen, "lazy budget: sigaction(SIGRTMIN+5): %s", strerror(errno));
		return -1;
	}
	sigemptyset(&set);
	sigaddset(&set, LAZY_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	sev._sigev_un._tid = gettid();
	if (timer_create(CLOCK_THREAD_CPUTIME_ID, &sev, &lazy.timer) < 0) {
		snprintf(err, errlen, "lazy budget: timer_create(CLOCK_THREAD_CPUTIME_ID): %s",
			 strerror(errno));
		return -1;
	}
	if (timer_settime(lazy.timer, 0, &its, NULL) < 0) {
		snprintf(err, errlen, "lazy budget: timer_settime: %s", strerror(errno));
		timer_delete(lazy.timer);
		return -1;
	}
	lazy.on = true;
	return 0;
}

void tp_lua_lazy_thread_stop(void)
{
	if (!lazy.on)
		return;
	timer_delete(lazy.timer);
	lazy.on = false;
}

void tp_lua_lazy_block_signal(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, LAZY_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

void tp_lua_vm_set_lazy(struct tp_lua_vm *vm, bool on)
{
	vm->lazy = on;
}

bool tp_lua_vm_lazy_hooked(const struct tp_lua_vm *vm)
{
	return vm->lazy_hooked;
}

/* Only reached by a bug of ours: a raising Lua API call outside a protected
 * call. Stack: [-0, +0] (does not return) */
static int vm_panic(lua_State *L)
{
	const char *msg = lua_tostring(L, -1);

	tp_error("lua: unprotected error: %s", msg ? msg : "(not a string)");
	abort();
	return 0;
}

struct tp_lua_vm *tp_lua_vm_of(lua_State *L)
{
	void *ud = NULL;

	lua_getallocf(L, &ud);
	return ud;
}

lua_State *tp_lua_vm_state(struct tp_lua_vm *vm)
{
	return vm->L;
}

size_t tp_lua_vm_mem(const struct tp_lua_vm *vm)
{
	return vm->mem_used;
}

void tp_lua_vm_set_limits(struct tp_lua_vm *vm, const struct tp_lua_limits *lim)
{
	vm->mem_max = (size_t)lim->mem_max;
	vm->mem_call_max = (size_t)lim->mem_call_max;
	vm->instr_budget = lim->instr_budget;
	if (!vm->in_call)
		vm->mem_limit = vm->mem_max;
}

uint64_t tp_lua_budget_left(const struct tp_lua_vm *vm)
{
	if (!vm->in_call || !vm->instr_budget)
		return UINT64_MAX;
	if (vm->aborting || vm->spent >= vm->instr_budget)
		return 0;
	return vm->instr_budget - vm->spent;
}

static uint64_t pat_budget_left(void *ctx)
{
	return tp_lua_budget_left(ctx);
}

static void pat_budget_charge(lua_State *L, void *ctx, uint64_t units)
{
	tp_lua_budget_charge(L, ctx, units);
}

void tp_lua_budget_charge(lua_State *L, struct tp_lua_vm *vm, uint64_t units)
{
	if (!vm->in_call || !vm->instr_budget)
		return;
	vm->spent += units;
	if (vm->cancel && !vm->aborting && atomic_load_explicit(vm->cancel, memory_order_relaxed))
		vm->cancelled = true;
	else if (vm->spent < vm->instr_budget && !vm->aborting)
		return;
	arm_abort(vm, TP_LUA_TIMEOUT);
	raise_abort(L, vm);
}

void tp_lua_vm_set_cancel(struct tp_lua_vm *vm, const atomic_bool *flag)
{
	vm->cancel = flag;
}

const char *tp_lua_status_name(enum tp_lua_status s)
{
	switch (s) {
	case TP_LUA_OK:
		return "ok";
	case TP_LUA_ERROR:
		return "error";
	case TP_LUA_TIMEOUT:
		return "instruction budget exceeded";
	case TP_LUA_NOMEM:
		return "memory limit exceeded";
	}
	return "?";
}

/* ------------------------------------------------------------ protected calls */

/* Message handler: the message plus a traceback. Stack: [-0, +1] */
static int msgh(lua_State *L)
{
	const char *msg = lua_tostring(L, 1);

	if (!msg)
		msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
	luaL_traceback(L, L, msg, 1);
	return 1;
}

static void copy_err(lua_State *L, int idx, char *err, size_t errlen)
{
	size_t n = 0;
	const char *s = lua_tolstring(L, idx, &n);

	if (!err || !errlen)
		return;
	if (!s) {
		snprintf(err, errlen, "(no error message)");
		return;
	}
	if (n >= errlen)
		n = errlen - 1;
	memcpy(err, s, n);
	err[n] = '\0';
}

enum tp_lua_status tp_lua_pcall(struct tp_lua_vm *vm, int nargs, int nresults, char *err,
				size_t errlen)
{
	lua_State *L = vm->L;
	int base = lua_gettop(L) - nargs; /* the function */
	bool outer = !vm->in_call;
	/* The resident handler in slot 1 (outer calls from C), else one
	 * inserted below the function. */
	bool resident = outer && base > 1 && lua_tocfunction(L, 1) == msgh;
	int hidx = resident ? 1 : base;
	enum tp_lua_status status = TP_LUA_OK;
	int st;

	if (!resident) {
		lua_pushcfunction(L, msgh);
		lua_insert(L, base);
		base++;
	}
	if (outer) {
		vm->in_call = true;
		vm->aborting = 0;
		vm->cancelled = false;
		if (vm->mem_call_max &&
		    (!vm->mem_max || vm->mem_used + vm->mem_call_max < vm->mem_max))
			vm->mem_limit = vm->mem_used + vm->mem_call_max;
		vm->spent = 0;
		vm->lazy_hooked = 0;
		if (vm->instr_budget && vm->lazy && lazy.on) {
			lazy.seq++;
			atomic_signal_fence(memory_order_seq_cst);
			lazy.vm = vm;
			atomic_signal_fence(memory_order_seq_cst);
		} else if (vm->instr_budget) {
			hook_next_slice(vm);
		}
	}
	st = lua_pcall(L, nargs, nresults, hidx);
	if (vm->aborting)
		status = (enum tp_lua_status)vm->aborting;
	else if (st == LUA_ERRMEM)
		status = TP_LUA_NOMEM;
	else if (st != LUA_OK)
		status = TP_LUA_ERROR;
	if (outer) {
		lazy.vm = NULL;
		atomic_signal_fence(memory_order_seq_cst);
		if (vm->instr_budget || vm->aborting)
			lua_sethook(L, NULL, 0, 0);
		vm->in_call = false;
		vm->aborting = 0;
		vm->mem_limit = vm->mem_max;
	}
	if (status != TP_LUA_OK) {
		if (st != LUA_OK) {
			copy_err(L, -1, err, errlen);
			lua_pop(L, 1);
		} else {
			/* The script caught the abort and returned straight to C. */
			snprintf(err, errlen, "%s", tp_lua_status_name(status));
			lua_settop(L, base - 1);
		}
		if (status == TP_LUA_TIMEOUT || status == TP_LUA_NOMEM) {
			/* Say which limit, whatever the script turned the message into. */
			size_t n = strlen(err);

			if (!strstr(err, tp_lua_status_name(status)) && n + 40 < errlen)
				snprintf(err + n, errlen - n, " (%s)", tp_lua_status_name(status));
		}
	}
	if (!resident)
		lua_remove(L, base - 1);
	return status;
}

/* ------------------------------------------------------------ replaced base functions */

/* rawset that refuses read-only tables. Stack: [-3, +1] */
static int safe_rawset(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	luaL_checkany(L, 2);
	luaL_checkany(L, 3);
	if (tp_lua_is_frozen(L, 1))
		return luaL_error(L, "rawset on a read-only table");
	lua_settop(L, 3);
	lua_rawset(L, 1);
	lua_settop(L, 1);
	return 1;
}

/* setmetatable that refuses __gc: finalizers would run outside any call,
 * unbudgeted. The original (upvalue 1) enforces __metatable protection.
 * Stack: [-2, +1] */
static int safe_setmetatable(lua_State *L)
{
	if (lua_type(L, 2) == LUA_TTABLE) {
		if (lua_getfield(L, 2, "__gc") != LUA_TNIL)
			return luaL_error(L, "__gc metamethods are not allowed");
		lua_pop(L, 1);
	}
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, 1);
	return 1;
}

/* load(text [, chunkname [, mode [, env]]]): text chunks only; without env,
 * the chunk sees the read-only globals. Stack: [-(1..4), +1 | +2] */
static int safe_load(lua_State *L)
{
	size_t len;
	const char *s = luaL_checklstring(L, 1, &len);
	const char *name = luaL_optstring(L, 2, "=(load)");
	const char *mode = luaL_optstring(L, 3, "t");
	int has_env = !lua_isnone(L, 4);

	if (!strchr(mode, 't'))
		return luaL_error(L, "load: only text chunks are allowed");
	if (luaL_loadbufferx(L, s, len, name, "t") != LUA_OK) {
		luaL_pushfail(L);
		lua_insert(L, -2);
		return 2;
	}
	if (has_env) {
		lua_pushvalue(L, 4);
		if (!lua_setupvalue(L, -2, 1))
			lua_pop(L, 1);
	}
	return 1;
}

/*
 * xpcall(f, handler, ...) with the handler run after the unwinding, as
 * ordinary budgeted code. Lua runs a message handler with hooks off when the
 * error came from a hook: a looping handler would escape the budget. Without
 * the debug library a handler can only rework the message, which it can as
 * well do afterwards. Stack: [-n, +r]
 */
static int safe_xpcall(lua_State *L)
{
	int n = lua_gettop(L);

	luaL_checktype(L, 2, LUA_TFUNCTION);
	lua_pushvalue(L, 1);
	for (int i = 3; i <= n; i++)
		lua_pushvalue(L, i);
	if (lua_pcall(L, n - 2, LUA_MULTRET, 0) == LUA_OK) {
		lua_pushboolean(L, 1);
		lua_insert(L, n + 1);
		return lua_gettop(L) - n;
	}
	lua_pushvalue(L, 2);
	lua_insert(L, -2);
	lua_call(L, 1, 1);
	lua_pushboolean(L, 0);
	lua_insert(L, -2);
	return 2;
}

/* print goes to the log (stderr): stdout carries events. Stack: [-n, +0] */
static int log_print(lua_State *L)
{
	int n = lua_gettop(L);
	luaL_Buffer b;

	luaL_buffinit(L, &b);
	for (int i = 1; i <= n; i++) {
		if (i > 1)
			luaL_addchar(&b, '\t');
		luaL_tolstring(L, i, NULL);
		luaL_addvalue(&b);
	}
	luaL_pushresult(&b);
	tp_info("lua: %s", lua_tostring(L, -1));
	return 0;
}

/* ------------------------------------------------------------ VM setup */

static const char *const base_keep[] = {
    "assert", "error",	"getmetatable", "ipairs",   "next",	"pairs", "pcall",    "rawequal",
    "rawget", "rawlen", "select",	"tonumber", "tostring", "type",	 "_VERSION", NULL,
};

/* lib[name] = the value on top, tables as read-only views. Stack: [-1, +0] */
static void lib_set(lua_State *L, const char *name)
{
	if (lua_type(L, -1) == LUA_TTABLE && !tp_lua_is_frozen(L, -1)) {
		tp_lua_push_readonly(L, -1);
		lua_remove(L, -2);
	}
	lua_rawgetp(L, LUA_REGISTRYINDEX, &key_lib);
	lua_insert(L, -2);
	lua_setfield(L, -2, name);
	lua_pop(L, 1);
}

/* Open one standard library and return its table. Stack: [-0, +1] */
static void open_lib(lua_State *L, const char *name, lua_CFunction open)
{
	luaL_requiref(L, name, open, 0);
}

/* Runs protected. Stack: [-0, +0] */
static int setup(lua_State *L)
{
	int base, lib;

	/* lib: what every environment reads through; undeclared names raise. */
	lua_newtable(L);
	lib = lua_gettop(L);
	lua_createtable(L, 0, 1);
	lua_pushcfunction(L, tp_lua_strict_index);
	lua_setfield(L, -2, "__index");
	lua_setmetatable(L, lib);
	lua_pushvalue(L, lib);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &key_lib);

	open_lib(L, LUA_GNAME, luaopen_base);
	base = lua_gettop(L);
	for (const char *const *k = base_keep; *k; k++) {
		lua_getfield(L, base, *k);
		lua_setfield(L, lib, *k);
	}
	lua_pushcfunction(L, safe_rawset);
	lua_setfield(L, lib, "rawset");
	lua_getfield(L, base, "setmetatable");
	lua_pushcclosure(L, safe_setmetatable, 1);
	lua_setfield(L, lib, "setmetatable");
	lua_pushcfunction(L, safe_xpcall);
	lua_setfield(L, lib, "xpcall");
	lua_pushcfunction(L, safe_load);
	lua_setfield(L, lib, "load");
	lua_pushcfunction(L, log_print);
	lua_setfield(L, lib, "print");
	lua_pop(L, 1); /* base */

	open_lib(L, LUA_STRLIBNAME, luaopen_string);
	/* Bytecode out is as unwanted as bytecode in; removed from the real
	 * table, which string methods ("x"):f() reach through the metatable. */
	lua_pushnil(L);
	lua_setfield(L, -2, "dump");
	/* Lua's pattern functions run in C, out of the count hook's reach: ours
	 * pay each matching step from the call's budget. */
	tp_lua_set_pattern_functions(L, -1, &tp_lua_vm_of(L)->pat_budget);
	lib_set(L, LUA_STRLIBNAME);
	lua_pushliteral(L, "");
	lua_getmetatable(L, -1);
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	lua_pop(L, 2);

	open_lib(L, LUA_TABLIBNAME, luaopen_table);
	lib_set(L, LUA_TABLIBNAME);
	open_lib(L, LUA_MATHLIBNAME, luaopen_math);
	lib_set(L, LUA_MATHLIBNAME);
	open_lib(L, LUA_UTF8LIBNAME, luaopen_utf8);
	lib_set(L, LUA_UTF8LIBNAME);

	/* The registry's global table (load's default environment) is empty
	 * and read-only, reading through lib. */
	lua_newtable(L);
	lua_createtable(L, 0, 3);
	lua_pushvalue(L, lib);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, tp_lua_ro_newindex);
	lua_setfield(L, -2, "__newindex");
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	lua_setmetatable(L, -2);
	lua_rawseti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);

	/* Drop the loaded-modules table's references to the real libraries. */
	lua_pushnil(L);
	lua_setfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
	lua_settop(L, 0);
	return 0;
}

/* Run the embedded Lua library files; each returns its module table. */
static int load_embedded(struct tp_lua_vm *vm, char *err, size_t errlen)
{
	lua_State *L = vm->L;
	char name[128];

	for (const struct tp_lua_embedded_file *f = tp_lua_embedded_files; f->name; f++) {
		snprintf(name, sizeof(name), "@lua/%s", f->name);
		if (tp_lua_load(vm, f->data, f->len, name, err, errlen) < 0)
			return -EINVAL;
		/* Each file gets the C helpers as its chunk argument. */
		lua_pushcfunction(L, tp_lua_open_tapio_c);
		if (tp_lua_pcall(vm, 0, 1, err, errlen) != TP_LUA_OK) {
			lua_pop(L, 1);
			return -ENOMEM;
		}
		if (tp_lua_pcall(vm, 1, 1, err, errlen) != TP_LUA_OK)
			return -EINVAL;
		if (lua_type(L, -1) != LUA_TTABLE) {
			lua_pop(L, 1);
			snprintf(err, errlen, "lua/%s: does not return a table", f->name);
			return -EINVAL;
		}
		/* "tapio.lua" becomes global "tapio". */
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(f->name, "."), f->name);
		if (tp_lua_set_global(vm, name, err, errlen) < 0)
			return -ENOMEM;
	}
	return 0;
}

int tp_lua_vm_new(struct tp_lua_vm **out, const struct tp_lua_limits *lim, char *err, size_t errlen)
{
	struct tp_lua_vm *vm = calloc(1, sizeof(*vm));
	int r;

	*out = NULL;
	if (!vm) {
		snprintf(err, errlen, "out of memory creating a Lua VM");
		return -ENOMEM;
	}
	vm->pat_budget =
	    (struct tp_pat_budget){.left = pat_budget_left, .charge = pat_budget_charge, .ctx = vm};
	vm->L = lua_newstate(vm_alloc, vm);
	if (!vm->L) {
		pool_drain(vm);
		free(vm);
		snprintf(err, errlen, "out of memory creating a Lua VM");
		return -ENOMEM;
	}
	lua_atpanic(vm->L, vm_panic);
	lua_pushcfunction(vm->L, setup);
	if (tp_lua_pcall(vm, 0, 0, err, errlen) != TP_LUA_OK) {
		tp_lua_vm_close(vm);
		return -ENOMEM;
	}
	r = load_embedded(vm, err, errlen);
	if (r < 0) {
		tp_lua_vm_close(vm);
		return r;
	}
	if (lim)
		tp_lua_vm_set_limits(vm, lim);
	/* Slot 1 of the main thread keeps the message handler, so an outer
	 * call needs no insert and remove around it. */
	lua_settop(vm->L, 0);
	lua_pushcfunction(vm->L, msgh);
	*out = vm;
	return 0;
}

void tp_lua_vm_close(struct tp_lua_vm *vm)
{
	if (!vm)
		return;
	lua_close(vm->L);
	pool_drain(vm);
	free(vm);
}

void tp_lua_set_shared(lua_State *L, const char *name)
{
	lua_rawgetp(L, LUA_REGISTRYINDEX, &key_lib);
	lua_insert(L, -2);
	lua_setfield(L, -2, name);
	lua_pop(L, 1);
}

void tp_lua_get_shared(lua_State *L, const char *name)
{
	lua_rawgetp(L, LUA_REGISTRYINDEX, &key_lib);
	lua_pushstring(L, name);
	lua_rawget(L, -2);
	lua_remove(L, -2);
}

void tp_lua_freeze_table(lua_State *L, int idx)
{
	idx = lua_absindex(L, idx);
	lua_createtable(L, 0, 2);
	lua_pushcfunction(L, tp_lua_ro_newindex);
	lua_setfield(L, -2, "__newindex");
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	lua_setmetatable(L, idx);
}

/* Stack: [-2, +0] (value, name as a light userdata) */
static int set_global_p(lua_State *L)
{
	const char *name = lua_touserdata(L, 2);

	lua_settop(L, 1);
	lib_set(L, name);
	return 0;
}

int tp_lua_set_global(struct tp_lua_vm *vm, const char *name, char *err, size_t errlen)
{
	lua_pushcfunction(vm->L, set_global_p);
	lua_insert(vm->L, -2);
	lua_pushlightuserdata(vm->L, (void *)name);
	return tp_lua_pcall(vm, 2, 0, err, errlen) == TP_LUA_OK ? 0 : -ENOMEM;
}

enum tp_lua_status tp_lua_cpcall(struct tp_lua_vm *vm, lua_CFunction fn, void *ud, char *err,
				 size_t errlen)
{
	lua_pushcfunction(vm->L, fn);
	lua_pushlightuserdata(vm->L, ud);
	return tp_lua_pcall(vm, 1, 0, err, errlen);
}

struct load_args {
	const char *text;
	size_t len;
	const char *name;
};

/* Compile, and give the chunk its own environment. Syntax errors are
 * returned, not raised: they need no traceback.
 * Stack: [-1, +2] (function, nil) or (nil, message) */
static int load_p(lua_State *L)
{
	const struct load_args *a = lua_touserdata(L, 1);

	lua_settop(L, 0);
	if (luaL_loadbufferx(L, a->text, a->len, a->name, "t") != LUA_OK) {
		lua_pushnil(L);
		lua_insert(L, -2);
		return 2;
	}
	lua_newtable(L); /* the environment */
	lua_pushvalue(L, -1);
	lua_setfield(L, -2, "_G");
	lua_createtable(L, 0, 2);
	lua_rawgetp(L, LUA_REGISTRYINDEX, &key_lib);
	lua_setfield(L, -2, "__index");
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	lua_setmetatable(L, -2);
	if (!lua_setupvalue(L, -2, 1))
		lua_pop(L, 1); /* a chunk without globals has no _ENV */
	lua_pushnil(L);
	return 2;
}

int tp_lua_load(struct tp_lua_vm *vm, const char *text, size_t len, const char *chunkname,
		char *err, size_t errlen)
{
	struct load_args a = {text, len, chunkname};
	lua_State *L = vm->L;
	enum tp_lua_status st;

	lua_pushcfunction(L, load_p);
	lua_pushlightuserdata(L, &a);
	st = tp_lua_pcall(vm, 1, 2, err, errlen);
	if (st != TP_LUA_OK)
		return -ENOMEM;
	if (lua_isnil(L, -2)) {
		copy_err(L, -1, err, errlen);
		lua_pop(L, 2);
		return -EINVAL;
	}
	lua_pop(L, 1);
	return 0;
}

int tp_lua_load_file(struct tp_lua_vm *vm, const char *path, char *err, size_t errlen)
{
	struct tp_trusted_opts topts = {.max_bytes = TP_LUA_FILE_MAX};
	char name[PATH_MAX + 2];
	char *text;
	size_t n;
	int r;

	r = tp_trusted_read(path, &topts, &text, &n, err, errlen);
	if (r < 0)
		return r;
	snprintf(name, sizeof(name), "@%s", path);
	r = tp_lua_load(vm, text, n, name, err, errlen);
	free(text);
	return r;
}

void tp_lua_push_env(lua_State *L, int fidx)
{
	if (!lua_getupvalue(L, fidx, 1))
		lua_pushnil(L);
}
