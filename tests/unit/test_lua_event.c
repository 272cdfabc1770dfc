/* The event as Lua sees it: header and type fields through the descriptor
 * tables, "<field>_str" exactly as the JSON output writes it (for every
 * registered type), e:set / e:tag, virtual fields, the binding's lifetime,
 * synthetic test events, and output templates. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixtures.h"
#include <lauxlib.h>

#include "events/decode.h"
#include "events/format.h"
#include "events/proc_ctx.h"
#include "lua/lua_event.h"
#include "lua/sandbox.h"
#include "lua/template.h"

static struct tp_lua_vm *vm;
static lua_State *L;
static struct tp_lua_event *b;
static struct tp_lua_sink sink;
static struct tp_event ev;
static struct tp_event_meta meta;
static char err[2048];

static int setup(void **state)
{
	(void)state;
	tp_fx_event_vm(&vm, &L, &b);
	memset(&meta, 0, sizeof(meta));
	meta.importance = -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tp_lua_vm_close(vm);
	return 0;
}

static void make_exec(void)
{
	struct tp_exec_event e;
	static const char argv[] = "bash\0-c\0echo hi";

	tp_fx_exec_record(&e, "bash", "/bin/bash", argv, sizeof(argv));
	e.hdr.pid = 42;
	e.hdr.tid = 43;
	e.hdr.ppid = 7;
	e.hdr.uid = 1000;
	e.hdr.gid = 100;
	e.hdr.cpu = 1;
	e.hdr.cgroup_id = 99;
	e.ret = -2;
	assert_int_equal(tp_decode(&e, sizeof(e), 1000, &ev), 0);
}

/* A new binding: forget the field values kept for the last one. */
static void bind(void)
{
	tp_lua_event_forget(L, b);
	tp_lua_sink_begin(&sink, &meta);
	b->ev = &ev;
	b->meta = &meta;
	b->sink = &sink;
	b->extra = LUA_NOREF;
}

static void unbind(void)
{
	tp_lua_event_forget(L, b);
	tp_lua_sink_end(&sink, &meta);
	b->ev = NULL;
	b->meta = NULL;
	b->sink = NULL;
}

/* Run `return function(e) <body> end` on the bound event, keeping nres
 * of its results on the stack. */
static enum tp_lua_status call_n(const char *body, int nres)
{
	char code[4096];

	snprintf(code, sizeof(code), "return function(e) %s end", body);
	if (tp_lua_load(vm, code, strlen(code), "@t.lua", err, sizeof(err)) < 0)
		fail_msg("load: %s", err);
	assert_int_equal(tp_lua_pcall(vm, 0, 1, err, sizeof(err)), TP_LUA_OK);
	tp_lua_event_push(L);
	return tp_lua_pcall(vm, 1, nres, err, sizeof(err));
}

static enum tp_lua_status call(const char *body)
{
	return call_n(body, 0);
}

static void ok(const char *body)
{
	if (call(body) != TP_LUA_OK)
		fail_msg("%s: %s", body, err);
}

static void test_header_and_exec_fields(void **state)
{
	(void)state;
	make_exec();
	bind();
	ok("assert(e.type == 'process.exec' and e.category == 'process')\n"
	   "assert(e.pid == 42 and e.tid == 43 and e.ppid == 7 and e.uid == 1000 and e.gid == "
	   "100)\n"
	   "assert(e.cpu == 1 and e.cgroup_id == 99 and e.cgroup_v1_id == nil)\n"
	   "assert(e.comm == 'bash' and e.filename == '/bin/bash' and e.ret == -2)\n"
	   "assert(e.ts == 1000 and e.importance == nil and e.argv_truncated == false)\n"
	   "assert(#e.argv == 3 and e.argv[1] == 'bash' and e.argv[3] == 'echo hi')\n"
	   "assert(e.cmdline == 'bash -c echo hi')\n"
	   "assert(e.path == nil and e.signal == nil and e.nonexistent == nil)\n"
	   "assert(tostring(e):find('process.exec'))");
	meta.importance = 0.25;
	ok("assert(e.importance == 0.25)");
	unbind();
}

static void test_fields_are_read_only_and_metatable_hidden(void **state)
{
	(void)state;
	make_exec();
	bind();
	assert_int_equal(call("e.pid = 1"), TP_LUA_ERROR);
	assert_non_null(strstr(err, "read-only"));
	assert_int_equal(call("getmetatable(e).__index = nil"), TP_LUA_ERROR);
	assert_int_equal(call("setmetatable(e, {})"), TP_LUA_ERROR);
	ok("assert(getmetatable(e) == false)");
	unbind();
}

static void test_stale_event_raises(void **state)
{
	(void)state;
	make_exec();
	bind();
	/* A function keeps the event in an upvalue... */
	if (tp_lua_load(
		vm, "local kept return function(e) kept = e end, function() return kept.pid end",
		strlen(
		    "local kept return function(e) kept = e end, function() return kept.pid end"),
		"@stale.lua", err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(tp_lua_pcall(vm, 0, 2, err, sizeof(err)), TP_LUA_OK);
	lua_pushvalue(L, -2);
	tp_lua_event_push(L);
	assert_int_equal(tp_lua_pcall(vm, 1, 0, err, sizeof(err)), TP_LUA_OK);
	unbind();
	/* ...and reads it after the call: refused, not stale data. */
	lua_pushvalue(L, -1);
	assert_int_equal(tp_lua_pcall(vm, 0, 1, err, sizeof(err)), TP_LUA_ERROR);
	assert_non_null(strstr(err, "outside the call"));
	lua_pop(L, 2);
}

/* Push what `return function(e) <body> end` returns for the bound event.
 * Stack: [-0, +1] */
static void value_of(const char *body)
{
	if (call_n(body, 1) != TP_LUA_OK)
		fail_msg("%s: %s", body, err);
}

/* An exec with these argv and env bytes. */
static void exec_with(const char *argv, size_t argv_len, const char *env, size_t env_len)
{
	struct tp_exec_event e;

	tp_fx_exec_record(&e, "bash", "/bin/bash", argv, argv_len);
	memcpy(e.env, env, env_len);
	e.env_len = (uint32_t)env_len;
	assert_int_equal(tp_decode(&e, sizeof(e), 1000, &ev), 0);
}

/* The argv and env views are kept across events by their bytes (the same
 * command lines come back): an exec with the same bytes reads the same
 * read-only table, one with other bytes its own, and an argv never reads
 * as an env of the same bytes. */
static void test_lists_kept_across_events(void **state)
{
	static const char same[] = "A=1";

	(void)state;
	for (int round = 0; round < 3; round++) {
		exec_with("bash\0-c\0true", 13, same, sizeof(same));
		bind();
		value_of("return e.argv");
		unbind();
		exec_with("bash\0-c\0true", 13, same, sizeof(same));
		bind();
		value_of("return e.argv");
		assert_true(lua_rawequal(L, -1, -2)); /* the same view */
		ok("assert(#e.argv == 3 and e.argv[3] == 'true' and e.env.A == '1')\n"
		   "assert(not pcall(function() e.argv[1] = 'x' end) and e.argv[1] == 'bash')");
		unbind();
		lua_pop(L, 2);
		/* Other bytes (one more at the end): another view. */
		exec_with("bash\0-c\0truer", 14, "B=2", 4);
		bind();
		ok("assert(#e.argv == 3 and e.argv[3] == 'truer' and e.env.B == '2' and "
		   "e.env.A == nil)");
		unbind();
		/* An argv of the env's bytes, read first as an argv, then as an
		 * env, and the other way round. */
		exec_with(same, sizeof(same), same, sizeof(same));
		bind();
		ok(round % 2 ? "assert(e.env.A == '1' and e.argv[1] == 'A=1' and e.argv.A == nil)"
			     : "assert(e.argv[1] == 'A=1' and e.argv.A == nil and e.env.A == '1')");
		unbind();
	}
	/* Many command lines, each read back right: more than are kept. */
	for (int i = 0; i < 200; i++) {
		char av[64], want[256];
		int n = snprintf(av, sizeof(av), "prog%d%c--n%c%d", i % 37, 0, 0, i % 11);

		exec_with(av, (size_t)n + 1, same, sizeof(same));
		bind();
		snprintf(want, sizeof(want),
			 "assert(#e.argv == 3 and e.argv[1] == 'prog%d' and e.argv[3] == '%d')",
			 i % 37, i % 11);
		ok(want);
		unbind();
	}
}

/* A field read twice in one binding is pushed once (the cache behind
 * __index); what can change within a binding, or be changed by a rule, is
 * not kept; a new binding, or none, reads afresh. */
static void test_field_values_kept_per_binding(void **state)
{
	static const char *const kept_then_read =
	    "local kept return function(e) kept = e return e.comm end, "
	    "function() return kept.comm end";

	(void)state;
	make_exec();
	meta.importance = 0.5;
	bind();
	ok("assert(e.comm == 'bash' and e.comm == 'bash' and e.pid == 42 and e.pid == 42)\n"
	   "assert(e.filename == '/bin/bash' and e.type == 'process.exec' and e.set == e.set)\n"
	   "local a = e.argv assert(a == e.argv and a[1] == 'bash' and #a == 3)\n"
	   "local t = {} for i, v in ipairs(a) do t[i] = v end assert(table.concat(t, ' ') == "
	   "'bash -c echo hi' and table.concat(a, ' ') == 'bash -c echo hi')\n"
	   "local n = 0 for _ in pairs(a) do n = n + 1 end assert(n == 3)\n"
	   "assert(not pcall(function() a[1] = 'changed' end) and a[1] == 'bash')\n"
	   "assert(not pcall(rawset, a, 1, 'changed') and e.argv[1] == 'bash')\n"
	   "local env = e.env assert(env ~= nil and not pcall(function() env.X = '1' end))\n"
	   "assert(e.cmdline == 'bash -c echo hi' and e.nosuchkey == nil)");
	/* The next rule of the event reads the same, unchanged. */
	ok("assert(e.argv[1] == 'bash' and e.argv[3] == 'echo hi')");
	ok("assert(e.importance == 0.5)");
	meta.importance = 0.9; /* the score functions ran */
	ok("assert(e.importance == 0.9)");
	unbind();
	/* Another event in the same userdata: its own values. */
	memcpy(ev.rec.hdr.comm, "dash", 5);
	ev.rec.hdr.pid = 77;
	bind();
	ok("assert(e.comm == 'dash' and e.pid == 77 and e.type == 'process.exec')");
	/* Read in the call, kept, read after the unbind: refused, not the
	 * value read in the call. */
	if (tp_lua_load(vm, kept_then_read, strlen(kept_then_read), "@kept.lua", err,
			sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(tp_lua_pcall(vm, 0, 2, err, sizeof(err)), TP_LUA_OK);
	lua_pushvalue(L, -2);
	tp_lua_event_push(L);
	assert_int_equal(tp_lua_pcall(vm, 1, 1, err, sizeof(err)), TP_LUA_OK);
	assert_string_equal(lua_tostring(L, -1), "dash");
	lua_pop(L, 1);
	unbind();
	lua_pushvalue(L, -1);
	assert_int_equal(tp_lua_pcall(vm, 0, 1, err, sizeof(err)), TP_LUA_ERROR);
	assert_non_null(strstr(err, "outside the call"));
	lua_pop(L, 2);
	meta.importance = -1;
}

static void test_set_and_tag(void **state)
{
	(void)state;
	make_exec();
	bind();
	ok("e:set('team', 'payments') e:set('score_x', 3) e:set('ratio', 0.5) e:set('flag', true)\n"
	   "e:set('team', 'billing') e:set('gone', 1) e:set('gone', nil)\n"
	   "e:tag('shell') e:tag('shell') e:tag('interactive')\n"
	   "assert(e.team == 'billing' and e.score_x == 3 and e.gone == nil)");
	assert_int_equal(call("e:set('pid', 1)"), TP_LUA_ERROR);
	assert_non_null(strstr(err, "is an event field"));
	assert_int_equal(call("e:set('rule', 'x')"), TP_LUA_ERROR);
	assert_int_equal(call("e:set('bad key', 1)"), TP_LUA_ERROR);
	assert_non_null(strstr(err, "bad key"));
	/* The key's characters: a letter or _ first, then digits and dots too. */
	ok("e:set('a.b_9', 1) e:set('_x', 2) e:set(string.rep('k', 64), 3)");
	assert_int_equal(call("e:set('9a', 1)"), TP_LUA_ERROR);
	assert_int_equal(call("e:set('.a', 1)"), TP_LUA_ERROR);
	assert_int_equal(call("e:set('a-b', 1)"), TP_LUA_ERROR);
	assert_int_equal(call("e:set('a\\0b', 1)"), TP_LUA_ERROR);
	assert_non_null(strstr(err, "bad key"));
	assert_int_equal(call("e:set(string.rep('k', 65), 1)"), TP_LUA_ERROR);
	assert_int_equal(call("e:set('', 1)"), TP_LUA_ERROR);
	/* set called on something else than the event. */
	assert_int_equal(call("e.set({}, 'a', 1)"), TP_LUA_ERROR);
	assert_int_equal(call("e.set(nil, 'a', 1)"), TP_LUA_ERROR);
	assert_int_equal(call("e.tag({}, 'x')"), TP_LUA_ERROR);
	assert_int_equal(call("e:set('t', {})"), TP_LUA_ERROR);
	assert_int_equal(call("e:tag('')"), TP_LUA_ERROR);
	assert_int_equal(call("for i = 1, 100 do e:set('k' .. i, i) end"), TP_LUA_ERROR);
	assert_non_null(strstr(err, "more than"));
	unbind();
	/* What was set before the error stays: the kv and tags reach meta. */
	assert_true(meta.nkv >= 4);
	assert_string_equal(meta.kv[0].key, "team");
	assert_int_equal(meta.kv[0].value.kind, TP_V_STR);
	assert_string_equal(meta.kv[0].value.str.s, "billing");
	assert_int_equal(meta.kv[1].value.kind, TP_V_INT);
	assert_int_equal(meta.kv[2].value.kind, TP_V_NUM);
	assert_int_equal(meta.kv[3].value.kind, TP_V_BOOL);
	assert_int_equal(meta.ntags, 2);
	assert_string_equal(meta.tags[1], "interactive");
}

static void test_sink_keeps_earlier_stages(void **state)
{
	static const struct tp_kv before[] = {
	    {.key = "node", .value = {.kind = TP_V_STR, .str = {"n1", 2}}},
	};
	static const char *const tags[] = {"enriched"};

	(void)state;
	make_exec();
	meta.kv = before;
	meta.nkv = 1;
	meta.tags = tags;
	meta.ntags = 1;
	bind();
	ok("assert(e.node == 'n1') e:set('x', 1) e:tag('y')");
	unbind();
	assert_int_equal(meta.nkv, 2);
	assert_string_equal(meta.kv[0].key, "node");
	assert_int_equal(meta.ntags, 2);
	assert_string_equal(meta.tags[0], "enriched");
}

static int container_field(lua_State *L_, const struct tp_event *e, const struct tp_event_meta *m)
{
	(void)m;
	if (e->rec.hdr.cgroup_id != 99)
		return 0;
	lua_createtable(L_, 0, 1);
	lua_pushliteral(L_, "c0ffee");
	lua_setfield(L_, -2, "id");
	return 1;
}

static void test_virtual_fields(void **state)
{
	(void)state;
	/* Registered before the VM of this test was created? No: setup ran first.
	 * Registration is for VMs created afterwards, so make a new one. */
	assert_int_equal(tp_lua_register_field("container", container_field), 0);
	assert_int_equal(tp_lua_register_field("container", container_field), -EEXIST);
	assert_int_equal(tp_lua_register_field("pid", container_field), -EEXIST);
	assert_int_equal(tp_lua_register_field("filename", container_field), -EEXIST);
	assert_int_equal(tp_lua_register_field("Bad-Name", container_field), -EINVAL);
	assert_true(tp_lua_event_has_field(NULL, "container"));
	teardown(NULL);
	setup(NULL);
	make_exec();
	bind();
	ok("assert(e.container.id == 'c0ffee')");
	ev.rec.hdr.cgroup_id = 1;
	ok("assert(e.container == nil)");
	assert_int_equal(call("e:set('container', 'x')"), TP_LUA_ERROR);
	unbind();
}

/* For every registered type, fields with symbols read in Lua as the JSON
 * output writes them; numbers likewise. */
static void test_str_fields_match_json_for_every_type(void **state)
{
	const struct tp_event_type *t;
	union {
		struct tp_hdr hdr;
		uint8_t bytes[TP_RECORD_MAX];
	} rec;
	struct tp_buf json;
	size_t checked = 0;

	(void)state;
	tp_buf_init(&json);
	for (size_t i = 0; (t = tp_event_type_at(i)); i++) {
		memset(&rec, 0, sizeof(rec));
		rec.hdr.type = t->id;
		rec.hdr.size = t->min_size;
		for (uint32_t k = 0; k < t->nfields; k++) {
			const struct tp_field *f = &t->fields[k];
			uint64_t v = 0;

			if (!f->syms || f->kind == TP_FK_BOOL)
				continue;
			for (const struct tp_sym *s = f->syms; s->name; s++)
				if (s->value) {
					v |= s->value;
					if (!f->flags)
						break;
				}
			memcpy(rec.bytes + f->offset, &v, f->size < 8 ? f->size : 8);
		}
		assert_int_equal(tp_decode(&rec, t->min_size, 0, &ev), 0);
		tp_buf_reset(&json);
		tp_format_json(&json, &ev, NULL);
		bind();
		for (uint32_t k = 0; k < t->nfields; k++) {
			const struct tp_field *f = &t->fields[k];
			char key[128], body[2048];
			const char *p;

			if (!tp_field_present(&ev, f)) {
				/* Past a short record's end (a type that grew): absent in both. */
				snprintf(key, sizeof(key), "\"%s\":", f->name);
				assert_null(strstr(tp_buf_cstr(&json), key));
				/* env is an empty table then, so that e.env.NAME is nil. */
				if (f->kind == TP_FK_ENV)
					snprintf(body, sizeof(body), "assert(next(e.%s) == nil)", f->name);
				else
					snprintf(body, sizeof(body), "assert(e.%s == nil, tostring(e.%s))",
						 f->name, f->name);
				ok(body);
				checked++;
				continue;
			}
			if (f->syms && f->kind != TP_FK_BOOL) {
				snprintf(key, sizeof(key), "\"%s_str\":\"", f->name);
				p = strstr(tp_buf_cstr(&json), key);
				if (p) {
					p += strlen(key);
					snprintf(body, sizeof(body),
						 "assert(e.%s_str == '%.*s', e.%s_str)", f->name,
						 (int)strcspn(p, "\""), p, f->name);
				} else {
					snprintf(body, sizeof(body), "assert(e.%s_str == nil)",
						 f->name);
				}
				ok(body);
				checked++;
			}
			if (f->kind <= TP_FK_S64 || f->kind == TP_FK_HEX ||
			    f->kind == TP_FK_OCTAL) {
				snprintf(key, sizeof(key), "\"%s\":", f->name);
				p = strstr(tp_buf_cstr(&json), key);
				assert_non_null(p);
				p += strlen(key);
				snprintf(body, sizeof(body), "assert(e.%s == %.*s, tostring(e.%s))",
					 f->name, (int)strcspn(p, ",}"), p, f->name);
				ok(body);
				checked++;
			}
		}
		unbind();
	}
	assert_true(checked > 5);
	tp_buf_free(&json);
}

static int from_table_p(lua_State *L_)
{
	int *ref = lua_touserdata(L_, 1);

	luaL_loadstring(L_, lua_tostring(L_, lua_upvalueindex(1)));
	lua_call(L_, 0, 1);
	*ref = tp_lua_event_from_table(L_, -1, &ev);
	lua_pop(L_, 1);
	return 0;
}

static enum tp_lua_status from_table(const char *expr, int *ref)
{
	char code[1024];

	snprintf(code, sizeof(code), "return %s", expr);
	lua_pushstring(L, code);
	lua_pushcclosure(L, from_table_p, 1);
	lua_pushlightuserdata(L, ref);
	return tp_lua_pcall(vm, 1, 0, err, sizeof(err));
}

static void test_synthetic_events(void **state)
{
	int ref = LUA_NOREF;

	(void)state;
	assert_int_equal(from_table("{ type = 'process.exec', comm = 'bash', pid = 5, "
				    "argv = { 'bash', '-i' }, filename = '/bin/bash', "
				    "container = { id = 'abc' }, exe = '/usr/bin/bash' }",
				    &ref),
			 TP_LUA_OK);
	b->ev = &ev;
	b->meta = &meta;
	b->sink = NULL;
	b->extra = ref;
	tp_lua_event_forget(L, b);
	ok("assert(e.comm == 'bash' and e.pid == 5 and e.tid == 5 and e.ppid == 1)\n"
	   "assert(e.argv[2] == '-i' and e.filename == '/bin/bash' and e.ret == 0)\n"
	   "assert(e.container.id == 'abc' and e.exe == '/usr/bin/bash')");
	assert_int_equal(call("e:set('a', 1)"), TP_LUA_ERROR); /* no sink bound */
	luaL_unref(L, LUA_REGISTRYINDEX, ref);
	b->ev = NULL;
	tp_lua_event_forget(L, b);

	assert_int_equal(
	    from_table("{ type = 'process.exit', signal = 'SIGKILL', core_dumped = true }", &ref),
	    TP_LUA_OK);
	b->ev = &ev;
	b->extra = ref;
	tp_lua_event_forget(L, b);
	ok("assert(e.signal == 9 and e.signal_str == 'SIGKILL' and e.core_dumped == true)");
	luaL_unref(L, LUA_REGISTRYINDEX, ref);
	b->ev = NULL;
	tp_lua_event_forget(L, b);

	/* A conditional field a test gives is present (setcap's capabilities);
	 * one it leaves out stays nil. */
	assert_int_equal(from_table("{ type = 'file.xattr', name = 'security.capability', op = 1, "
				    "cap_permitted = 128 }",
				    &ref),
			 TP_LUA_OK);
	b->ev = &ev;
	b->extra = ref;
	tp_lua_event_forget(L, b);
	ok("assert(e.cap_permitted == 128 and e.cap_permitted_str == 'CAP_SETUID')");
	luaL_unref(L, LUA_REGISTRYINDEX, ref);
	assert_int_equal(from_table("{ type = 'file.xattr', name = 'user.x', op = 1 }", &ref),
			 TP_LUA_OK);
	b->extra = ref;
	tp_lua_event_forget(L, b);
	ok("assert(e.cap_permitted == nil and e.name == 'user.x')");
	luaL_unref(L, LUA_REGISTRYINDEX, ref);
	b->ev = NULL;
	tp_lua_event_forget(L, b);

	assert_int_equal(from_table("{ comm = 'x' }", &ref), TP_LUA_ERROR);
	assert_non_null(strstr(err, "'type'"));
	assert_int_equal(from_table("{ type = 'process.nope' }", &ref), TP_LUA_ERROR);
	assert_non_null(strstr(err, "unknown event type"));
	assert_int_equal(from_table("{ type = 'process.exec', pid = 'x' }", &ref), TP_LUA_ERROR);
	assert_non_null(strstr(err, "'pid' must be an integer"));
	assert_int_equal(from_table("{ type = 'process.exit', filename = '/x' }", &ref),
			 TP_LUA_ERROR);
	assert_non_null(strstr(err, "not a field of process.exit"));
	assert_int_equal(from_table("{ type = 'process.exit', signal_str = 'SIGKILL' }", &ref),
			 TP_LUA_ERROR);
	assert_int_equal(from_table("{ type = 'process.exit', signal = 'SIGNOPE' }", &ref),
			 TP_LUA_ERROR);
	assert_int_equal(from_table("{ type = 'process.exec', argv = { 1 } }", &ref), TP_LUA_ERROR);
	/* A very long argv is cut like the kernel side cuts it. */
	assert_int_equal(
	    from_table("{ type = 'process.exec', argv = { ('a'):rep(5000), 'b' } }", &ref),
	    TP_LUA_OK);
	luaL_unref(L, LUA_REGISTRYINDEX, ref);
}

static int render_p(lua_State *L_)
{
	struct tp_template *t = lua_touserdata(L_, 1);
	struct tp_buf *out = lua_touserdata(L_, lua_upvalueindex(1));

	tp_lua_event_push(L_);
	tp_template_render(L_, t, -1, out);
	lua_pop(L_, 1);
	return 0;
}

static const char *render(const char *text, struct tp_buf *out)
{
	struct tp_template *t;

	if (tp_template_compile(text, &t, err, sizeof(err)) < 0)
		fail_msg("compile %s: %s", text, err);
	tp_buf_reset(out);
	lua_pushlightuserdata(L, out);
	lua_pushcclosure(L, render_p, 1);
	lua_pushlightuserdata(L, t);
	assert_int_equal(tp_lua_pcall(vm, 1, 0, err, sizeof(err)), TP_LUA_OK);
	tp_template_free(t);
	return tp_buf_cstr(out);
}

static void test_templates(void **state)
{
	struct tp_buf out;
	struct tp_template *t;

	(void)state;
	tp_buf_init(&out);
	make_exec();
	bind();
	assert_string_equal(render("${comm} ran ${filename} as ${uid}: ${argv}", &out),
			    "bash ran /bin/bash as 1000: bash -c echo hi");
	assert_string_equal(render("cost $$5 ${nope} ${comm.x.y} $", &out), "cost $5 <NA> <NA> $");
	assert_string_equal(render("${argv_truncated}${importance}", &out), "false<NA>");
	assert_string_equal(render("", &out), "");
	/* Alternatives: the first that is not nil, else the quoted text. */
	assert_string_equal(render("${nope|comm} ${path|filename}", &out), "bash /bin/bash");
	assert_string_equal(render("in ${container.id|'host'} ${nope|x.y|'-'}", &out),
			    "in c0ffee -");
	assert_string_equal(render("in ${container.nope|'host'}", &out), "in host");
	assert_string_equal(render("${nope|nix}|${comm|'z'}|${a|''}", &out), "<NA>|bash|");
	unbind();
	assert_int_equal(tp_template_compile("${'x'}", &t, err, sizeof(err)), -EINVAL);
	assert_int_equal(tp_template_compile("${a|'x'|b}", &t, err, sizeof(err)), -EINVAL);
	assert_int_equal(tp_template_compile("${a|'x}", &t, err, sizeof(err)), -EINVAL);
	assert_int_equal(tp_template_compile("${a|}", &t, err, sizeof(err)), -EINVAL);
	assert_int_equal(tp_template_compile("${a||b}", &t, err, sizeof(err)), -EINVAL);
	assert_int_equal(tp_template_compile("${a|b|c|d|e}", &t, err, sizeof(err)), -EINVAL);
	assert_int_equal(tp_template_compile("${a|b.c|'d'} ${e}", &t, err, sizeof(err)), 0);
	assert_string_equal(tp_template_field(t, 0), "a");
	assert_string_equal(tp_template_field(t, 1), "b");
	assert_string_equal(tp_template_field(t, 2), "e");
	assert_null(tp_template_field(t, 3));
	tp_template_free(t);
	assert_int_equal(tp_template_compile("${", &t, err, sizeof(err)), -EINVAL);
	assert_int_equal(tp_template_compile("${}", &t, err, sizeof(err)), -EINVAL);
	assert_int_equal(tp_template_compile("${a b}", &t, err, sizeof(err)), -EINVAL);
	assert_int_equal(tp_template_compile("${a..b}", &t, err, sizeof(err)), -EINVAL);
	assert_int_equal(tp_template_compile("x ${comm", &t, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "column 3"));
	assert_int_equal(tp_template_compile("${a} ${b.c}", &t, err, sizeof(err)), 0);
	assert_string_equal(tp_template_field(t, 0), "a");
	assert_string_equal(tp_template_field(t, 1), "b");
	assert_null(tp_template_field(t, 2));
	tp_template_free(t);
	tp_buf_free(&out);
}

/* A template is bounded before any work: a megabyte of ${comm} made every
 * reload run for minutes (each field checked against every type). */
static void test_template_limits(void **state)
{
	struct tp_template *t = NULL;
	char err[256], *big;
	size_t n = 1 << 20;

	(void)state;
	big = malloc(n + 1);
	assert_non_null(big);
	for (size_t i = 0; i + 7 <= n; i += 7)
		memcpy(big + i, "${comm}", 7);
	big[n / 7 * 7] = '\0';
	assert_int_equal(tp_template_compile(big, &t, err, sizeof(err)), -E2BIG);
	assert_null(t);
	assert_non_null(strstr(err, "more than the 4096"));
	big[TP_TEMPLATE_MAX_FIELDS * 7] = '\0'; /* exactly the limit: fine */
	assert_int_equal(tp_template_compile(big, &t, err, sizeof(err)), 0);
	tp_template_free(t);
	t = NULL;
	memcpy(big + TP_TEMPLATE_MAX_FIELDS * 7, "${comm}", 8); /* one more */
	assert_int_equal(tp_template_compile(big, &t, err, sizeof(err)), -E2BIG);
	assert_non_null(strstr(err, "more than 64 field references"));
	memset(big, 'x', TP_TEMPLATE_MAX_BYTES);
	big[TP_TEMPLATE_MAX_BYTES] = '\0';
	assert_int_equal(tp_template_compile(big, &t, err, sizeof(err)), 0);
	tp_template_free(t);
	free(big);
}

/* argv (and cmdline) of a type without its own: the process's from the
 * enrichment, as JSON shows it; a type's own argv comes first; a rule's
 * test event may give one. */
static void test_argv_from_the_process_table(void **state)
{
	static const char av[] = "curl\0-s\0http://x";
	struct tp_proc_ctx pc = { .exe = "/usr/bin/curl", .argv = av, .argv_len = sizeof(av) };
	struct tp_file_open_event o;
	struct tp_buf out;
	int ref = LUA_NOREF;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.hdr.type = TP_EV_FILE_OPEN;
	o.hdr.size = sizeof(o);
	o.hdr.pid = 42;
	memcpy(o.hdr.comm, "curl", 4);
	memcpy(o.path, "/etc/hosts", 10);
	assert_int_equal(tp_decode(&o, sizeof(o), 1000, &ev), 0);
	meta.proc = &pc;
	bind();
	ok("assert(#e.argv == 3 and e.argv[1] == 'curl' and e.argv[3] == 'http://x')\n"
	   "assert(e.cmdline == 'curl -s http://x' and e.path == '/etc/hosts')");
	tp_buf_init(&out);
	assert_string_equal(render("${comm} ${argv}", &out), "curl curl -s http://x");
	tp_buf_free(&out);
	/* Unknown arguments, or no enrichment: nil (the bound event changed:
	 * its kept values go). */
	pc.argv = NULL;
	tp_lua_event_forget(L, b);
	ok("assert(e.argv == nil and e.cmdline == nil)");
	meta.proc = NULL;
	tp_lua_event_forget(L, b);
	ok("assert(e.argv == nil and e.cmdline == nil)");
	unbind();
	assert_true(tp_lua_event_has_field(ev.type, "argv"));

	/* An exec's own argv, not the table's. */
	make_exec();
	pc.argv = av;
	meta.proc = &pc;
	bind();
	ok("assert(e.argv[1] == 'bash' and #e.argv == 3 and e.cmdline == 'bash -c echo hi')");
	unbind();
	meta.proc = NULL;

	/* A rule's test event of such a type. */
	assert_int_equal(from_table("{ type = 'file.open', path = '/etc/shadow', "
				    "argv = { 'cat', '/etc/shadow' } }",
				    &ref),
			 TP_LUA_OK);
	b->ev = &ev;
	b->meta = &meta;
	b->sink = NULL;
	b->extra = ref;
	tp_lua_event_forget(L, b);
	ok("assert(e.argv[2] == '/etc/shadow' and e.cmdline == 'cat /etc/shadow')");
	luaL_unref(L, LUA_REGISTRYINDEX, ref);
	b->ev = NULL;
	tp_lua_event_forget(L, b);
	assert_int_equal(from_table("{ type = 'file.open', argv = 'cat' }", &ref), TP_LUA_ERROR);
	assert_non_null(strstr(err, "'argv' must be a list of strings"));
	assert_int_equal(from_table("{ type = 'file.open', argv = { 'cat', 2 } }", &ref),
			 TP_LUA_ERROR);
	assert_non_null(strstr(err, "'argv' must be a list of strings"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_header_and_exec_fields, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fields_are_read_only_and_metatable_hidden, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_stale_event_raises, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_set_and_tag, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sink_keeps_earlier_stages, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_virtual_fields, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_str_fields_match_json_for_every_type, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_synthetic_events, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_templates, setup, teardown),
	    cmocka_unit_test(test_template_limits),
	    cmocka_unit_test_setup_teardown(test_argv_from_the_process_table, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lists_kept_across_events, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_field_values_kept_per_binding, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
