/* tapio.v1 encoding: an event with its meta round-trips through the
 * generated decoder with every field; hostile strings come out as valid
 * UTF-8; the framing is what EventBatch.events expects. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixtures.h"

#include "delivery/pbwire.h"
#include "events/decode.h"
#include "events/proc_ctx.h"
#include "output/tapio_encode.h"
#include "tapio/v1/tapio.pb-c.h"

static struct tp_event ev;

static void make_exec(const char *comm, const char *filename, const char *argv, size_t argv_len)
{
	struct tp_exec_event e;

	tp_fx_exec_record(&e, comm, filename, argv, argv_len);
	e.hdr.ts_ns = 1234;
	e.hdr.pid = 10;
	e.hdr.tid = 11;
	e.hdr.ppid = 1;
	e.hdr.uid = 1000;
	e.hdr.gid = 100;
	e.hdr.cpu = 3;
	e.hdr.cgroup_id = 5;
	e.hdr.cgroup_v1_id = 6;
	e.ret = -2;
	e.loginuid = 1000;
	assert_int_equal(tp_decode(&e, sizeof(e), 1795000000000000000LL, &ev), 0);
}

/* Strip the EventBatch.events framing and decode. */
static Tapio__V1__Event *unframe(const struct tp_buf *b)
{
	size_t off = 0, item;
	uint64_t tag, len;

	assert_int_equal(tp_pb_item((const uint8_t *)b->data, b->len, 0, &item), 0);
	assert_int_equal(item, b->len);
	assert_int_equal(tp_pb_varint_read((const uint8_t *)b->data, b->len, &off, &tag), 0);
	assert_int_equal(tag, (TP_PB_BATCH_EVENTS << 3) | 2);
	assert_int_equal(tp_pb_varint_read((const uint8_t *)b->data, b->len, &off, &len), 0);
	assert_int_equal(off + len, b->len);
	return tapio__v1__event__unpack(NULL, len, (const uint8_t *)b->data + off);
}

static const Tapio__V1__Field *field(const Tapio__V1__Event *e, const char *name)
{
	for (size_t i = 0; i < e->n_fields; i++)
		if (!strcmp(e->fields[i]->name, name))
			return e->fields[i];
	return NULL;
}

static void test_plain_event(void **state)
{
	static const char argv[] = "/bin/ls\0-l\0/tmp";
	struct tp_arena a;
	struct tp_buf b;
	Tapio__V1__Event *e;
	const Tapio__V1__Field *f;

	make_exec("ls", "/bin/ls", argv, sizeof(argv));
	tp_arena_init(&a);
	tp_buf_init(&b);
	assert_int_equal(tp_tapio_encode_event(&ev, NULL, &a, &b), 0);
	e = unframe(&b);
	assert_non_null(e);
	assert_string_equal(e->type, "process.exec");
	assert_int_equal(e->timestamp_ns, ev.ts_wall_ns);
	assert_int_equal(e->boot_time_ns, 1234);
	assert_int_equal(e->cpu, 3);
	assert_int_equal(e->process->pid, 10);
	assert_int_equal(e->process->tid, 11);
	assert_int_equal(e->process->ppid, 1);
	assert_int_equal(e->process->uid, 1000);
	assert_int_equal(e->process->gid, 100);
	assert_string_equal(e->process->comm, "ls");
	assert_int_equal(e->process->cgroup_id, 5);
	assert_int_equal(e->process->cgroup_v1_id, 6);
	assert_true(e->importance == -1);
	assert_int_equal(e->n_tags, 0);
	assert_string_equal(e->rule, "");

	f = field(e, "filename");
	assert_non_null(f);
	assert_int_equal(f->value_case, TAPIO__V1__FIELD__VALUE_STRING_VALUE);
	assert_string_equal(f->string_value, "/bin/ls");
	f = field(e, "argv");
	assert_int_equal(f->value_case, TAPIO__V1__FIELD__VALUE_STRING_LIST);
	assert_int_equal(f->string_list->n_values, 3);
	assert_string_equal(f->string_list->values[2], "/tmp");
	f = field(e, "ret");
	assert_int_equal(f->value_case, TAPIO__V1__FIELD__VALUE_INT_VALUE);
	assert_int_equal(f->int_value, -2);
	f = field(e, "loginuid");
	assert_int_equal(f->value_case, TAPIO__V1__FIELD__VALUE_UINT_VALUE);
	assert_int_equal(f->uint_value, 1000);
	f = field(e, "argv_truncated");
	assert_int_equal(f->value_case, TAPIO__V1__FIELD__VALUE_BOOL_VALUE);
	assert_false(f->bool_value);
	/* Every present field of the type's descriptor is there, in its order
	 * (a failed exec has no env and no exe_* fields). */
	assert_null(field(e, "env"));
	assert_null(field(e, "exe_memfd"));
	for (size_t i = 0, n = 0; i < ev.type->nfields; i++) {
		if (!tp_field_present(&ev, &ev.type->fields[i]))
			continue;
		assert_true(n < e->n_fields);
		assert_string_equal(e->fields[n++]->name, ev.type->fields[i].name);
		if (i == ev.type->nfields - 1)
			assert_int_equal(n, e->n_fields);
	}

	tapio__v1__event__free_unpacked(e, NULL);
	tp_buf_free(&b);
	tp_arena_free(&a);
}


/* The record of type t with every field set (fixtures.h), decoded into ev. */
static void make_full_record(const struct tp_event_type *t)
{
	assert_int_equal(tp_decode(tp_fx_full_record(t), t->size, 0, &ev), 0);
}

/* Every registered type goes on the wire with every field its record has,
 * by name and in descriptor order. */
static void test_every_type(void **state)
{
	const struct tp_event_type *t;

	(void)state;
	for (size_t i = 0; (t = tp_event_type_at(i)); i++) {
		struct tp_arena a;
		struct tp_buf b;
		Tapio__V1__Event *e;
		size_t n = 0;

		make_full_record(t);
		tp_arena_init(&a);
		tp_buf_init(&b);
		assert_int_equal(tp_tapio_encode_event(&ev, NULL, &a, &b), 0);
		e = unframe(&b);
		assert_non_null(e);
		assert_string_equal(e->type, t->name);
		for (uint32_t f = 0; f < t->nfields; f++) {
			if (!tp_field_present(&ev, &t->fields[f]))
				fail_msg("%s.%s absent from a full record", t->name, t->fields[f].name);
			assert_true(n < e->n_fields);
			assert_string_equal(e->fields[n]->name, t->fields[f].name);
			if (t->fields[f].kind == TP_FK_ENV) {
				const Tapio__V1__Field *pf = e->fields[n];

				assert_int_equal(pf->value_case, TAPIO__V1__FIELD__VALUE_STRING_MAP);
				assert_int_equal(pf->string_map->n_entries, 1);
				assert_string_equal(pf->string_map->entries[0]->name, "A");
				assert_string_equal(pf->string_map->entries[0]->value, "b");
			}
			n++;
		}
		assert_int_equal(n, e->n_fields);
		tapio__v1__event__free_unpacked(e, NULL);
		tp_buf_free(&b);
		tp_arena_free(&a);
	}
}

static void test_alert_and_meta(void **state)
{
	static const char *const rule_tags[] = { "mitre:T1059", "container" };
	static const char *const extra_tags[] = { "enriched" };
	struct tp_alert alert = {
		.rule = "shell_in_container", .severity = "warning", .importance = 0.9,
		.tags = rule_tags, .ntags = 2, .output = "shell bash in container abc",
	};
	struct tp_kv kv[] = {
		{ .key = "team", .value = { .kind = TP_V_STR, .str = { "blue", 4 } } },
		{ .key = "score", .value = { .kind = TP_V_NUM, .d = 0.25 } },
		{ .key = "n", .value = { .kind = TP_V_INT, .i = -7 } },
		{ .key = "ok", .value = { .kind = TP_V_BOOL, .b = true } },
	};
	struct tp_event_meta meta = { .importance = 0.1, .alert = &alert, .tags = extra_tags,
				      .ntags = 1, .kv = kv, .nkv = 4, .sample_rate = 10 };
	struct tp_arena a;
	struct tp_buf b;
	Tapio__V1__Event *e;

	make_exec("bash", "/bin/bash", "bash", 5);
	tp_arena_init(&a);
	tp_buf_init(&b);
	assert_int_equal(tp_tapio_encode_event(&ev, &meta, &a, &b), 0);
	e = unframe(&b);
	assert_non_null(e);
	assert_string_equal(e->rule, "shell_in_container");
	assert_int_equal(e->severity, TAPIO__V1__SEVERITY__SEVERITY_WARNING);
	assert_string_equal(e->output, "shell bash in container abc");
	assert_true(fabs(e->importance - 0.9) < 1e-12);
	assert_int_equal(e->sample_rate, 10);
	assert_int_equal(e->n_tags, 3);
	assert_string_equal(e->tags[0], "mitre:T1059");
	assert_string_equal(e->tags[2], "enriched");
	assert_int_equal(e->n_attributes, 4);
	assert_string_equal(e->attributes[0]->string_value, "blue");
	assert_true(e->attributes[1]->double_value == 0.25);
	assert_int_equal(e->attributes[2]->int_value, -7);
	assert_true(e->attributes[3]->bool_value);
	tapio__v1__event__free_unpacked(e, NULL);

	/* Scored but no alert: the event's own importance. */
	meta.alert = NULL;
	tp_buf_reset(&b);
	assert_int_equal(tp_tapio_encode_event(&ev, &meta, &a, &b), 0);
	e = unframe(&b);
	assert_true(fabs(e->importance - 0.1) < 1e-12);
	assert_int_equal(e->severity, 0);
	assert_int_equal(e->n_tags, 1);
	tapio__v1__event__free_unpacked(e, NULL);
	tp_buf_free(&b);
	tp_arena_free(&a);
}

static int valid_utf8(const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n;) {
		size_t l = tp_utf8_seq_len((const unsigned char *)s + i, n - i);

		if (!l)
			return 0;
		i += l;
	}
	return 1;
}

static void test_hostile_strings_become_valid_utf8(void **state)
{
	/* A stray 0xff in comm and argv, a truncated sequence,
	 * a surrogate; valid multibyte text stays as it is. */
	static const char argv[] = "a\xff" "b\0\xe2\x82\0\xed\xa0\x80\0caf\xc3\xa9";
	struct tp_arena a;
	struct tp_buf b;
	Tapio__V1__Event *e;
	const Tapio__V1__Field *f;

	make_exec("abc\xff", "/tmp/\xc3\x28x", argv, sizeof(argv));
	tp_arena_init(&a);
	tp_buf_init(&b);
	assert_int_equal(tp_tapio_encode_event(&ev, NULL, &a, &b), 0);
	e = unframe(&b);
	assert_non_null(e);
	assert_true(valid_utf8(e->process->comm));
	assert_string_equal(e->process->comm, "abc\xc3\xbf"); /* 0xff -> U+00FF */
	f = field(e, "filename");
	assert_string_equal(f->string_value, "/tmp/\xc3\x83(x");           /* 0xc3 -> U+00C3 */
	f = field(e, "argv");
	assert_int_equal(f->string_list->n_values, 4);
	for (size_t i = 0; i < 4; i++)
		assert_true(valid_utf8(f->string_list->values[i]));
	assert_string_equal(f->string_list->values[0], "a\xc3\xbf" "b");
	assert_string_equal(f->string_list->values[3], "caf\xc3\xa9");
	tapio__v1__event__free_unpacked(e, NULL);
	tp_buf_free(&b);
	tp_arena_free(&a);
}

static void test_batch_header_and_request(void **state)
{
	struct tp_buf hdr, req;
	Tapio__V1__TapioStreamEventsRequest *r;
	struct tp_arena a;

	make_exec("ls", "/bin/ls", "ls", 3);
	tp_arena_init(&a);
	tp_buf_init(&hdr);
	tp_buf_init(&req);
	assert_int_equal(tp_tapio_encode_batch_header("node-1", 42, "semantic", "host", &hdr), 0);
	/* Header fields then framed events make an EventBatch. */
	tp_buf_append(&hdr, "", 0);
	{
		struct tp_buf body;

		tp_buf_init(&body);
		for (int i = 0; i < 3; i++)
			assert_int_equal(tp_tapio_encode_event(&ev, NULL, &a, &body), 0);
		tp_pb_put_len_prefix(&req, TP_PB_REQUEST_BATCH, hdr.len + body.len);
		tp_buf_append(&req, hdr.data, hdr.len);
		tp_buf_append(&req, body.data, body.len);
		tp_buf_free(&body);
	}
	r = tapio__v1__tapio_stream_events_request__unpack(NULL, req.len, (uint8_t *)req.data);
	assert_non_null(r);
	assert_string_equal(r->batch->collector_id, "node-1");
	assert_int_equal(r->batch->sequence, 42);
	assert_string_equal(r->batch->correlation_mode, "semantic");
	assert_string_equal(r->batch->hostname, "host");
	assert_int_equal(r->batch->n_events, 3);
	assert_string_equal(r->batch->events[2]->type, "process.exec");
	tapio__v1__tapio_stream_events_request__free_unpacked(r, NULL);
	tp_buf_free(&hdr);
	tp_buf_free(&req);
	tp_arena_free(&a);
}

static void test_symbolic_values(void **state)
{
	struct tp_exit_event x;
	struct tp_arena a;
	struct tp_buf b;
	Tapio__V1__Event *e;
	const Tapio__V1__Field *f;

	memset(&x, 0, sizeof(x));
	x.hdr.type = TP_EV_PROCESS_EXIT;
	x.hdr.size = sizeof(x);
	x.hdr.pid = 5;
	x.signal = 9;
	assert_int_equal(tp_decode(&x, sizeof(x), 0, &ev), 0);
	tp_arena_init(&a);
	tp_buf_init(&b);
	assert_int_equal(tp_tapio_encode_event(&ev, NULL, &a, &b), 0);
	e = unframe(&b);
	f = field(e, "signal");
	assert_int_equal(f->uint_value, 9);
	assert_string_equal(f->symbol, "SIGKILL");
	assert_string_equal(field(e, "exit_code")->symbol, "");
	tapio__v1__event__free_unpacked(e, NULL);
	tp_buf_free(&b);
	tp_arena_free(&a);
}

static void make_open(const char *path)
{
	struct tp_file_open_event o;

	memset(&o, 0, sizeof(o));
	o.hdr.type = TP_EV_FILE_OPEN;
	o.hdr.size = sizeof(o);
	o.hdr.pid = 10;
	o.hdr.ppid = 1;
	memcpy(o.hdr.comm, "cat", 3);
	memcpy(o.path, path, strlen(path));
	o.ret = 3;
	assert_int_equal(tp_decode(&o, sizeof(o), 1795000000000000000LL, &ev), 0);
}

static Tapio__V1__Event *encode_with(const struct tp_proc_ctx *pc, struct tp_arena *a,
				     struct tp_buf *b)
{
	struct tp_event_meta meta = { .importance = -1, .proc = pc };

	tp_buf_reset(b);
	assert_int_equal(tp_tapio_encode_event(&ev, &meta, a, b), 0);
	return unframe(b);
}

/* Everything the enrichment knows, and what JSON shows of it per type:
 * the arguments only where the type has none of its own, the ancestors
 * only on process events. */
static void test_enrichment(void **state)
{
	static const char av[] = "nginx\0-g\0daemon off;";
	static const struct tp_proc_ref parent = { 1, "containerd-shim", "/usr/bin/containerd-shim" };
	static const struct tp_proc_ref anc[] = { { 2, "containerd", NULL }, { 3, NULL, NULL } };
	static const struct tp_container_ctx ctr = { "3f0a9c", "containerd" };
	static const struct tp_k8s_ctx k8s = { "web-0", "shop", "7e8d-11", "nginx", "Burstable" };
	const struct tp_proc_ctx pc = {
		.exe = "/usr/sbin/nginx", .argv = av, .argv_len = sizeof(av), .argv_truncated = true,
		.parent = &parent, .ancestors = anc, .nancestors = 2, .container = &ctr, .k8s = &k8s,
	};
	struct tp_arena a;
	struct tp_buf b;
	Tapio__V1__Event *e;
	const Tapio__V1__Process *p;

	tp_arena_init(&a);
	tp_buf_init(&b);
	make_open("/etc/nginx/nginx.conf");
	e = encode_with(&pc, &a, &b);
	p = e->process;
	assert_string_equal(p->exe, "/usr/sbin/nginx");
	assert_non_null(p->argv);
	assert_int_equal(p->argv->n_values, 3);
	assert_string_equal(p->argv->values[0], "nginx");
	assert_string_equal(p->argv->values[2], "daemon off;");
	assert_true(p->argv_truncated);
	assert_non_null(p->parent);
	assert_int_equal(p->parent->pid, 1);
	assert_string_equal(p->parent->comm, "containerd-shim");
	assert_string_equal(p->parent->exe, "/usr/bin/containerd-shim");
	assert_string_equal(p->parent_comm, "containerd-shim");
	assert_int_equal(p->n_ancestors, 0); /* a file event */
	assert_non_null(e->container);
	assert_string_equal(e->container->id, "3f0a9c");
	assert_string_equal(e->container->runtime, "containerd");
	assert_non_null(e->k8s);
	assert_string_equal(e->k8s->pod, "web-0");
	assert_string_equal(e->k8s->namespace_, "shop");
	assert_string_equal(e->k8s->pod_uid, "7e8d-11");
	assert_string_equal(e->k8s->container, "nginx");
	assert_string_equal(e->k8s->qos, "Burstable");
	tapio__v1__event__free_unpacked(e, NULL);

	/* An exec: its argv is its own field; the ancestors are there. */
	make_exec("nginx", "/usr/sbin/nginx", av, sizeof(av));
	e = encode_with(&pc, &a, &b);
	p = e->process;
	assert_null(p->argv);
	assert_false(p->argv_truncated);
	assert_int_equal(field(e, "argv")->string_list->n_values, 3);
	assert_int_equal(p->n_ancestors, 2);
	assert_int_equal(p->ancestors[0]->pid, 2);
	assert_string_equal(p->ancestors[0]->comm, "containerd");
	assert_string_equal(p->ancestors[0]->exe, "");
	assert_int_equal(p->ancestors[1]->pid, 3);
	assert_string_equal(p->ancestors[1]->comm, "");
	tapio__v1__event__free_unpacked(e, NULL);
	tp_buf_free(&b);
	tp_arena_free(&a);
}

/* Unknown stays unset: no message for an unknown parent, container or
 * pod, empty (unsent) strings for unknown names, and an event without
 * enrichment has none of it. */
static void test_enrichment_unknown(void **state)
{
	static const struct tp_proc_ref parent = { 77, NULL, NULL };
	static const struct tp_container_ctx ctr = { "0123abcd", NULL };
	static const struct tp_k8s_ctx k8s = { NULL, NULL, "7e8d-11", NULL, "BestEffort" };
	struct tp_proc_ctx pc = { .parent = &parent, .container = &ctr, .k8s = &k8s };
	struct tp_arena a;
	struct tp_buf b;
	Tapio__V1__Event *e;
	const Tapio__V1__Process *p;
	size_t full;

	tp_arena_init(&a);
	tp_buf_init(&b);
	make_open("/etc/passwd");
	e = encode_with(&pc, &a, &b);
	p = e->process;
	assert_string_equal(p->exe, "");
	assert_null(p->argv);
	assert_int_equal(p->parent->pid, 77);
	assert_string_equal(p->parent->comm, "");
	assert_string_equal(p->parent->exe, "");
	assert_string_equal(p->parent_comm, "");
	assert_string_equal(e->container->id, "0123abcd");
	assert_string_equal(e->container->runtime, "");
	assert_string_equal(e->k8s->pod, "");
	assert_string_equal(e->k8s->namespace_, "");
	assert_string_equal(e->k8s->container, "");
	assert_string_equal(e->k8s->pod_uid, "7e8d-11");
	assert_string_equal(e->k8s->qos, "BestEffort");
	tapio__v1__event__free_unpacked(e, NULL);

	/* Nothing known: no parent, container or pod message at all; the
	 * bytes are those of an event without enrichment. */
	memset(&pc, 0, sizeof(pc));
	e = encode_with(&pc, &a, &b);
	full = b.len;
	assert_null(e->process->parent);
	assert_null(e->container);
	assert_null(e->k8s);
	assert_int_equal(e->process->n_ancestors, 0);
	tapio__v1__event__free_unpacked(e, NULL);
	tp_buf_reset(&b);
	assert_int_equal(tp_tapio_encode_event(&ev, NULL, &a, &b), 0);
	assert_int_equal(b.len, full);
	e = unframe(&b);
	assert_null(e->process->parent);
	assert_null(e->container);
	assert_null(e->k8s);
	assert_string_equal(e->process->exe, "");
	tapio__v1__event__free_unpacked(e, NULL);
	tp_buf_free(&b);
	tp_arena_free(&a);
}

/* Hostile bytes in what the process table read from /proc or an exec
 * come out as valid UTF-8, as the type's own strings do. */
static void test_enrichment_strings_valid_utf8(void **state)
{
	static const char av[] = "x\xff\0\xc3";
	static const struct tp_proc_ref parent = { 1, "p\xfe", "/bin/\xed\xa0\x80" };
	const struct tp_proc_ctx pc = { .exe = "/tmp/\xc3\x28", .argv = av, .argv_len = sizeof(av),
					.parent = &parent };
	struct tp_arena a;
	struct tp_buf b;
	Tapio__V1__Event *e;

	tp_arena_init(&a);
	tp_buf_init(&b);
	make_open("/x");
	e = encode_with(&pc, &a, &b);
	assert_non_null(e); /* protobuf-c refuses invalid UTF-8 in strings */
	assert_string_equal(e->process->exe, "/tmp/\xc3\x83(");
	assert_string_equal(e->process->argv->values[0], "x\xc3\xbf");
	assert_true(valid_utf8(e->process->argv->values[1]));
	assert_true(valid_utf8(e->process->parent->comm));
	assert_true(valid_utf8(e->process->parent->exe));
	tapio__v1__event__free_unpacked(e, NULL);
	tp_buf_free(&b);
	tp_arena_free(&a);
}

static void test_severity_names(void **state)
{
	assert_int_equal(tp_tapio_severity("debug"), 1);
	assert_int_equal(tp_tapio_severity("critical"), 6);
	assert_int_equal(tp_tapio_severity("bogus"), 0);
	assert_int_equal(tp_tapio_severity(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_event),
		cmocka_unit_test(test_every_type),
		cmocka_unit_test(test_alert_and_meta),
		cmocka_unit_test(test_hostile_strings_become_valid_utf8),
		cmocka_unit_test(test_batch_header_and_request),
		cmocka_unit_test(test_symbolic_values),
		cmocka_unit_test(test_enrichment),
		cmocka_unit_test(test_enrichment_unknown),
		cmocka_unit_test(test_enrichment_strings_valid_utf8),
		cmocka_unit_test(test_severity_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
