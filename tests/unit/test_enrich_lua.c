/* The enrichment as Lua sees it: e.exe, e.started, e.parent, e.ancestors, e.container
 * and e.k8s read from tp_event_meta.proc; unknown leaves are nil and the
 * nested fields stay indexable, so a rule never has to guard each level. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "fixtures.h"
#include <lauxlib.h>

#include "enrich/lua_fields.h"
#include "events/decode.h"
#include "events/proc_ctx.h"
#include "lua/lua_event.h"
#include "lua/sandbox.h"
#include "lua/template.h"
#include "util/buf.h"

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

static int render_p(lua_State *L_)
{
	const struct tp_template *t = lua_touserdata(L_, 1);
	struct tp_buf *out = lua_touserdata(L_, 2);

	tp_lua_event_push(L_);
	tp_template_render(L_, t, -1, out);
	lua_pop(L_, 1);
	return 0;
}

/* text rendered for the bound event, reading fields in C where it can
 * (lua_only false) or every one through Lua; returns b->ncached after it
 * (the fields Lua read), the cache emptied before. */
static unsigned render(const char *text, bool lua_only, struct tp_buf *out)
{
	struct tp_template *t;
	unsigned n;

	if (tp_template_compile(text, &t, err, sizeof(err)) < 0)
		fail_msg("compile %s: %s", text, err);
	tp_lua_event_forget(L, b);
	tp_template_lua_only(lua_only);
	tp_buf_reset(out);
	lua_pushcfunction(L, render_p);
	lua_pushlightuserdata(L, t);
	lua_pushlightuserdata(L, out);
	if (tp_lua_pcall(vm, 2, 0, err, sizeof(err)) != TP_LUA_OK)
		fail_msg("render %s: %s", text, err);
	tp_template_lua_only(false);
	tp_template_free(t);
	n = b->ncached;
	tp_lua_event_forget(L, b);
	return n;
}

/* A record of type t with every field set: numbers (a negative one where
 * signed), a symbolic value where the field has names, strings, argv, env
 * and an IPv4 address. */
static int fill(const struct tp_event_type *t, uint8_t *rec)
{
	static const char av[] = "sh\0-c\0echo  hi\0";
	static const char env[] = "A=1\0PATH=/bin\0";

	memset(rec, 0, TP_RECORD_MAX);
	((struct tp_hdr *)rec)->type = t->id;
	((struct tp_hdr *)rec)->size = t->size;
	for (uint32_t k = 0; k < t->nfields; k++) {
		const struct tp_field *f = &t->fields[k];
		uint64_t v = 4000000000ull + k * 77;
		uint32_t n;

		switch (f->kind) {
		case TP_FK_STR:
			snprintf((char *)rec + f->offset, f->size, "/v/%s %u", f->name, k);
			continue;
		case TP_FK_ARGV:
		case TP_FK_ENV:
			n = f->kind == TP_FK_ARGV ? sizeof(av) - 1 : sizeof(env) - 1;
			if (n > f->size)
				n = f->size;
			memcpy(rec + f->offset, f->kind == TP_FK_ARGV ? av : env, n);
			memcpy(rec + f->aux, &n, 4);
			continue;
		case TP_FK_IPADDR: {
			uint16_t fam = AF_INET;

			memcpy(rec + f->aux, &fam, 2);
			memcpy(rec + f->offset, "\x7f\0\0\x01", 4);
			continue;
		}
		case TP_FK_BOOL:
			v = 1;
			break;
		case TP_FK_S32:
		case TP_FK_S64:
			v = (uint64_t)-13;
			break;
		case TP_FK_OCTAL:
			v = 04755;
			break;
		default:
			break;
		}
		for (const struct tp_sym *sy = f->syms; sy && sy->name; sy++)
			if (sy->value) {
				v = sy->value;
				break;
			}
		memcpy(rec + f->offset, &v, f->size < 8 ? f->size : 8);
	}
	return tp_decode(rec, t->size, 1700000000000000000ull, &ev);
}

/* Output templates read the record and the process context in C; the text
 * is what reading every field through Lua (as rules do) gives, for every
 * field of every type, the header, the context known, partly known or
 * not at all, and alternatives. */
static void test_templates_read_in_c_as_in_lua(void **state)
{
	static const char *const header[] = {
	    "type",	  "category", "ts",   "cpu",  "pid",	   "tid",
	    "ppid",	  "uid",      "gid",  "comm", "cgroup_id", "cgroup_v1_id",
	    "importance", "cmdline",  "argv", "nope", "comm.x",	   NULL,
	};
	static const char *const ctx_refs =
	    "${exe}|${parent.pid}|${parent.comm}|${parent.exe}|${parent.nope}|${parent}|"
	    "${container.id}|${container.runtime}|${container.nope}|${k8s.pod}|"
	    "${k8s.namespace}|${k8s.pod_uid}|${k8s.container}|${k8s.qos}|${k8s.pod.x}|"
	    "${nope|parent.comm|'-'}|${k8s.pod|container.id|'host'}|${parent.nope|'?'}|"
	    "${nope|exe}|${ancestors}|${started}";
	static const char argv[] = "nginx\0-g\0daemon off;";
	struct tp_proc_ref parent = {.pid = 20, .comm = "python3", .exe = "/usr/bin/python3"};
	struct tp_container_ctx ctr = {.id = "3f0a", .runtime = "containerd"};
	struct tp_k8s_ctx k8s = {.pod = "web-0",
				 .namespace = "shop",
				 .pod_uid = "7e8d",
				 .container = "nginx",
				 .qos = "Burstable"};
	struct tp_proc_ctx full = {.exe = "/usr/sbin/nginx",
				   .argv = argv,
				   .argv_len = sizeof(argv),
				   .parent = &parent,
				   .container = &ctr,
				   .k8s = &k8s};
	struct tp_proc_ctx part = {.exe = "/usr/sbin/nginx", .container = &ctr};
	struct tp_proc_ctx none = {0};
	struct tp_proc_ctx *ctxs[] = {&full, &part, &none, NULL};
	static uint8_t rec[TP_RECORD_MAX];
	const struct tp_event_type *t;
	struct tp_buf in_c, in_lua, text;
	size_t types = 0, compared = 0;

	(void)state;
	tp_buf_init(&in_c);
	tp_buf_init(&in_lua);
	tp_buf_init(&text);
	/* On setup's event: the C path ran, no field went through Lua (none
	 * kept in the event's cache), where Lua alone reads them. */
	meta.proc = &full;
	assert_int_equal(render("${comm} ${pid} ${exe} ${parent.comm} ${container.id|'host'} "
				"${k8s.namespace|'-'}: ${argv}",
				false, &in_c),
			 0);
	assert_string_equal(tp_buf_cstr(&in_c),
			    "nginx 30 /usr/sbin/nginx python3 3f0a shop: nginx -g daemon off;");
	assert_true(render("${comm} ${pid} ${exe}", true, &in_lua) > 0);
	assert_string_equal(tp_buf_cstr(&in_lua), "nginx 30 /usr/sbin/nginx");
	for (size_t i = 0; (t = tp_event_type_at(i)); i++) {
		if (fill(t, rec) != 0)
			fail_msg("%s: the filled record does not decode", t->name);
		types++;
		/* Templates of at most 64 references: the type's fields, then
		 * the header's, then the context's. */
		for (uint32_t k = 0; k <= t->nfields + 1; k++) {
			tp_buf_reset(&text);
			if (k < t->nfields) {
				const struct tp_field *f = &t->fields[k];

				tp_buf_printf(&text, "%s=${%s}|", f->name, f->name);
				if (f->syms)
					tp_buf_printf(&text, "${%s_str}|${%s_str|'x'}", f->name,
						      f->name);
			} else if (k == t->nfields) {
				for (const char *const *h = header; *h; h++)
					tp_buf_printf(&text, "%s=${%s}|", *h, *h);
			} else {
				tp_buf_puts(&text, ctx_refs);
			}
			for (size_t c = 0; c < sizeof(ctxs) / sizeof(ctxs[0]); c++) {
				meta.proc = ctxs[c];
				render(tp_buf_cstr(&text), false, &in_c);
				render(tp_buf_cstr(&text), true, &in_lua);
				if (strcmp(tp_buf_cstr(&in_c), tp_buf_cstr(&in_lua)))
					fail_msg("%s, context %zu, %s:\n in C:   %s\n in Lua: %s",
						 t->name, c, tp_buf_cstr(&text), tp_buf_cstr(&in_c),
						 tp_buf_cstr(&in_lua));
				compared++;
			}
		}
	}
	assert_true(types > 20 && compared > 300);
	meta.proc = NULL;
	tp_buf_free(&in_c);
	tp_buf_free(&in_lua);
	tp_buf_free(&text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_known_context, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_context_reads_nil, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_started, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_templates_read_in_c_as_in_lua, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
