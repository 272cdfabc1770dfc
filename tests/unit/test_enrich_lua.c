/* The enrichment as Lua sees it: e.exe, e.started, e.parent, e.ancestors, e.container
 * and e.k8s read from tp_event_meta.proc; unknown leaves are nil and the
 * nested fields stay indexable, so a rule never has to guard each level. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fixtures.h"
#include <lauxlib.h>

#include "enrich/lua_fields.h"
#include "events/decode.h"
#include "events/proc_ctx.h"
#include "lua/lua_event.h"
#include "lua/sandbox.h"

static struct tp_lua_vm *vm;
static lua_State *L;
static struct tp_lua_event *b;
static struct tp_lua_sink sink;
static struct tp_event ev;
static struct tp_event_meta meta;
static char err[2048];

static int setup(void **state)
{
	struct tp_exit_event e;

	(void)state;
	/* Registration is for the VMs made afterwards. */
	assert_int_equal(tp_enrich_lua_register(), 0);
	assert_int_equal(tp_enrich_lua_register(), 0); /* idempotent */
	tp_fx_event_vm(&vm, &L, &b);

	memset(&e, 0, sizeof(e));
	e.hdr.type = TP_EV_PROCESS_EXIT;
	e.hdr.size = sizeof(e);
	e.hdr.pid = 30;
	e.hdr.ppid = 20;
	memcpy(e.hdr.comm, "nginx", 5);
	assert_int_equal(tp_decode(&e, sizeof(e), 0, &ev), 0);
	memset(&meta, 0, sizeof(meta));
	meta.importance = -1;
	tp_lua_sink_begin(&sink, &meta);
	b->ev = &ev;
	b->meta = &meta;
	b->sink = &sink;
	b->extra = LUA_NOREF;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	b->ev = NULL;
	tp_lua_vm_close(vm);
	return 0;
}

static void ok(const char *body)
{
	char code[4096];

	snprintf(code, sizeof(code), "return function(e) %s end", body);
	if (tp_lua_load(vm, code, strlen(code), "@t.lua", err, sizeof(err)) < 0)
		fail_msg("load: %s", err);
	assert_int_equal(tp_lua_pcall(vm, 0, 1, err, sizeof(err)), TP_LUA_OK);
	tp_lua_event_push(L);
	if (tp_lua_pcall(vm, 1, 0, err, sizeof(err)) != TP_LUA_OK)
		fail_msg("%s: %s", body, err);
}

static void test_known_context(void **state)
{
	static const struct tp_proc_ref anc[] = {
		{ .pid = 10, .comm = "bash", .exe = "/bin/bash" },
		{ .pid = 1, .comm = "init" },
	};
	struct tp_proc_ref parent = { .pid = 20, .comm = "python3", .exe = "/usr/bin/python3" };
	struct tp_container_ctx ctr = { .id = "3f0a", .runtime = "containerd" };
	struct tp_k8s_ctx k8s = { .pod = "web-0", .namespace = "shop", .pod_uid = "7e8d",
				  .container = "nginx", .qos = "Burstable" };
	struct tp_proc_ctx pc = { .exe = "/usr/sbin/nginx", .parent = &parent, .ancestors = anc,
				  .nancestors = 2, .container = &ctr, .k8s = &k8s };

	(void)state;
	meta.proc = &pc;
	ok("assert(e.exe == '/usr/sbin/nginx')\n"
	   "assert(e.parent.pid == 20 and e.parent.comm == 'python3' and "
	   "       e.parent.exe == '/usr/bin/python3')\n"
	   "assert(#e.ancestors == 2 and e.ancestors[1].pid == 10 and "
	   "       e.ancestors[1].exe == '/bin/bash')\n"
	   "assert(e.ancestors[2].comm == 'init' and e.ancestors[2].exe == nil)\n"
	   "assert(e.container.id == '3f0a' and e.container.runtime == 'containerd')\n"
	   "assert(e.k8s.pod == 'web-0' and e.k8s.namespace == 'shop' and e.k8s.pod_uid == '7e8d')\n"
	   "assert(e.k8s.container == 'nginx' and e.k8s.qos == 'Burstable')\n"
	   "assert(e.comm == 'nginx' and e.pid == 30)");
	/* A container without a runtime the node could tell, a pod without names. */
	ctr.runtime = NULL;
	k8s.pod = k8s.namespace = k8s.container = NULL;
	ok("assert(e.container.id == '3f0a' and e.container.runtime == nil)\n"
	   "assert(e.k8s.pod_uid == '7e8d' and e.k8s.pod == nil and e.k8s.namespace == nil)");
	meta.proc = NULL;
}

static void test_unknown_context_reads_nil(void **state)
{
	struct tp_proc_ctx pc = { 0 };

	(void)state;
	meta.proc = &pc; /* enriched, nothing known */
	ok("assert(e.exe == nil and e.parent.comm == nil and e.parent.pid == nil)\n"
	   "assert(#e.ancestors == 0 and e.container.id == nil and e.k8s.pod == nil)\n"
	   "assert(not (e.container.id ~= nil and e.comm == 'bash'))");
	meta.proc = NULL; /* not enriched at all (enrichment off) */
	ok("assert(e.exe == nil and e.container.id == nil and e.k8s.namespace == nil)\n"
	   "assert(e.parent.comm == nil and next(e.ancestors) == nil)");
}

/* e.started: the process's start in the wall clock of e.ts (the event's
 * wall time less how long before it, in the header's clock, the process
 * started); nil when unknown or not before the event. */
static void test_started(void **state)
{
	struct tp_proc_ctx pc = { .start_ns = 2000000000ull };

	(void)state;
	ev.rec.hdr.ts_ns = 5000000000ull;
	ev.ts_wall_ns = 1700000000000000000ull;
	meta.proc = &pc;
	ok("assert(e.started == 1700000000000000000 - 3000000000 and e.started < e.ts)");
	tp_lua_event_forget(L, b);
	pc.start_ns = 0; /* unknown */
	ok("assert(e.started == nil)");
	tp_lua_event_forget(L, b);
	pc.start_ns = 6000000000ull; /* after the event: a clock mix-up, not a time */
	ok("assert(e.started == nil)");
	tp_lua_event_forget(L, b);
	meta.proc = NULL;
	ok("assert(e.started == nil)");
	tp_lua_event_forget(L, b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_known_context, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_context_reads_nil, setup, teardown),
		cmocka_unit_test_setup_teardown(test_started, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
