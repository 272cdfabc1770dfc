/*
 * lua/sandbox.h - the one way the agent runs Lua: a sandboxed VM factory and
 * the protected-call wrapper every call into Lua goes through.
 *
 * A VM holds only base (no dofile, loadfile, collectgarbage; load takes text
 * only), string (no dump), table, math, utf8 and the tapio library (lua/).
 * Library tables, the string metatable and the global table are read-only;
 * metatables with __gc are refused, so no Lua code ever runs outside a call.
 * Every chunk gets its own environment: it may define globals while its main
 * function runs; tp_lua_env_freeze then makes them read-only, and reading an
 * undeclared global is an error (typos fail loudly instead of reading nil).
 *
 * Limits: an accounting allocator refuses past mem_max (and past mem_call_max
 * added by one call); an instruction-count hook, armed only during a call,
 * stops a call after instr_budget units: VM instructions plus the pattern
 * matcher's steps (string.find/match/gmatch/gsub are our own, step-counting
 * versions: Lua's run in C, unbounded by the hook). A fault cannot be caught
 * by the script itself: once a limit trips, every further instruction raises
 * again until the error reaches tp_lua_pcall, whose status names the limit.
 *
 * A VM is used by one thread at a time (it may be built on one thread and
 * used on another). The config loader and the rule engine share this unit.
 * A new VM's stack holds the message handler in slot 1, which spares outer
 * calls an insert and a remove; callers may rearrange the stack as they
 * like (the wrapper then inserts a handler per call).
 */
#ifndef TAPIO_LUA_SANDBOX_H
#define TAPIO_LUA_SANDBOX_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include "lua/readonly.h"

enum tp_lua_status {
	TP_LUA_OK = 0,
	TP_LUA_ERROR,	/* a runtime error (err has "file:line: message" and a traceback) */
	TP_LUA_TIMEOUT, /* the instruction budget ran out */
	TP_LUA_NOMEM,	/* the memory cap (VM or per call) was reached */
};

struct tp_lua_limits {
	uint64_t mem_max;      /* bytes the whole VM may hold; 0: unlimited */
	uint64_t mem_call_max; /* bytes one call may add to the VM; 0: only mem_max */
	uint64_t instr_budget; /* VM instructions per call; 0: unlimited */
};

struct tp_lua_vm;

/* A new sandboxed VM. Returns 0 or -errno (err says why). */
int tp_lua_vm_new(struct tp_lua_vm **out, const struct tp_lua_limits *lim, char *err,
		  size_t errlen);
void tp_lua_vm_close(struct tp_lua_vm *vm);
lua_State *tp_lua_vm_state(struct tp_lua_vm *vm);
/* Bytes the VM holds now. */
size_t tp_lua_vm_mem(const struct tp_lua_vm *vm);
/* The VM a lua_State belongs to (any thread of it). */
struct tp_lua_vm *tp_lua_vm_of(lua_State *L);

/*
 * A flag another thread may set to stop whatever the VM runs, e.g. a
 * reload given up at its time limit. It is looked at where the budget is
 * (every slice of instructions, every charge): the call ends TP_LUA_TIMEOUT
 * with "cancelled" in its message. Only calls with an instruction budget
 * see it. NULL: none.
 */
void tp_lua_vm_set_cancel(struct tp_lua_vm *vm, const atomic_bool *flag);

/*
 * The lazy budget (see sandbox.c): a lazy VM's top-level calls on a thread
 * that started the tick timer run without the count hook until a call has
 * run for a tick of the thread's CPU time; then the hook is armed with the
 * call's full budget. Everything else counts every instruction.
 * tp_lua_lazy_thread_start: the calling thread's timer (SIGRTMIN+5 every
 * 1 ms of its CPU, or the kernel's tick if longer; SA_RESTART); 0, or -1 with err. Other threads never get
 * the signal (it goes to the thread); tp_lua_lazy_block_signal blocks it in
 * the calling thread anyway.
 */
int tp_lua_lazy_thread_start(char *err, size_t errlen);
void tp_lua_lazy_thread_stop(void);
void tp_lua_lazy_block_signal(void);
void tp_lua_vm_set_lazy(struct tp_lua_vm *vm, bool on);
/* The tick armed the count hook during the last (or running) top-level call. */
bool tp_lua_vm_lazy_hooked(const struct tp_lua_vm *vm);

/* Change the limits (e.g. a bigger budget while loading files). */
void tp_lua_vm_set_limits(struct tp_lua_vm *vm, const struct tp_lua_limits *lim);

/*
 * Make the value on top visible to every chunk as global `name` (tables are
 * wrapped read-only). name must outlive the call. Returns 0 or -ENOMEM.
 * Stack: [-1, +0]
 */
int tp_lua_set_global(struct tp_lua_vm *vm, const char *name, char *err, size_t errlen);

/*
 * The same from inside a protected call, with the value kept as it is
 * (tables are not turned into read-only copies): the lists and macros that
 * rule files share, which later files extend in place. Raises on memory.
 * Stack: [-1, +0]
 */
void tp_lua_set_shared(lua_State *L, const char *name);
/* Push the global `name` every chunk sees (a library, a shared list or
 * macro), or nil. Stack: [-0, +1] */
void tp_lua_get_shared(lua_State *L, const char *name);
/* Refuse new keys (and rawset) on the table at idx. Raises on memory.
 * Stack: [-0, +0] */
void tp_lua_freeze_table(lua_State *L, int idx);

/*
 * Compile a text chunk (binary chunks are refused) with a fresh environment.
 * chunkname as for lua_load ("@path" gives "path:line:" in messages).
 * Returns 0 or -EINVAL / -ENOMEM with "file:line: message" in err.
 * Stack: [-0, +1] the function on success, [-0, +0] on failure
 */
int tp_lua_load(struct tp_lua_vm *vm, const char *text, size_t len, const char *chunkname,
		char *err, size_t errlen);
/* Same for a file, read under the trusted-file policy (util/trusted.h);
 * errors name the file. Stack: as tp_lua_load */
int tp_lua_load_file(struct tp_lua_vm *vm, const char *path, char *err, size_t errlen);

/*
 * Call the function below nargs arguments in protected mode, with the
 * instruction budget and the per-call memory share armed. On TP_LUA_OK the
 * results are pushed; otherwise nothing is, and err holds the message and a
 * traceback (its first line is "file:line: message").
 * Stack: [-(nargs + 1), +nresults on TP_LUA_OK, +0 otherwise]
 */
enum tp_lua_status tp_lua_pcall(struct tp_lua_vm *vm, int nargs, int nresults, char *err,
				size_t errlen);

/* Run fn(L) protected, with ud as its one (light userdata) argument: the way
 * to use raising Lua API calls from C. Stack: [-0, +0] */
enum tp_lua_status tp_lua_cpcall(struct tp_lua_vm *vm, lua_CFunction fn, void *ud, char *err,
				 size_t errlen);

const char *tp_lua_status_name(enum tp_lua_status s);

/*
 * The instruction budget also pays for work the count hook cannot see (the
 * pattern matcher's steps, lua/strpat.h): one step, one unit. Units left to
 * the running call (UINT64_MAX outside a call or without a budget; the
 * instructions of the hook's current slice are not yet counted).
 */
uint64_t tp_lua_budget_left(const struct tp_lua_vm *vm);
/* Charge units to the running call. When the budget is spent this raises
 * "instruction budget exceeded" and arms the abort, exactly as the count
 * hook does: the script's own pcall cannot swallow it, and tp_lua_pcall
 * returns TP_LUA_TIMEOUT. Stack: [-0, +0] (may raise) */
void tp_lua_budget_charge(lua_State *L, struct tp_lua_vm *vm, uint64_t units);

/* The environment of a chunk from tp_lua_load (nil if it uses no globals).
 * Stack: [-0, +1] */
void tp_lua_push_env(lua_State *L, int fidx);

/* tp_lua_env_freeze and tp_lua_push_readonly: lua/readonly.h. */

#endif
