/* OTLP encoding: a LogRecord with the mapped attributes, and a whole
 * ExportLogsServiceRequest (prefix + records) that the generated decoder
 * reads back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixtures.h"

#include "events/decode.h"
#include "events/proc_ctx.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "output/otlp_encode.h"

typedef Opentelemetry__Proto__Logs__V1__LogRecord LogRecord;
typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;

static struct tp_event ev;

static void make_exit(void)
{
	struct tp_exit_event e;

	memset(&e, 0, sizeof(e));
	e.hdr.ts_ns = 1;
	e.hdr.type = TP_EV_PROCESS_EXIT;
	e.hdr.size = sizeof(e);
	e.hdr.pid = 42;
	e.hdr.tid = 43;
	e.hdr.ppid = 7;
	e.hdr.uid = 1000;
	e.hdr.gid = 1001;
	e.hdr.cgroup_id = 9;
	memcpy(e.hdr.comm, "sleep", 5);
	e.exit_code = 0;
	e.signal = 9;
	assert_int_equal(tp_decode(&e, sizeof(e), 1795000000000000000LL, &ev), 0);
}

static const AnyValue *attr(const LogRecord *r, const char *key)
{
	for (size_t i = 0; i < r->n_attributes; i++)
		if (!strcmp(r->attributes[i]->key, key))
			return r->attributes[i]->value;
	return NULL;
}

static Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *
request(const struct tp_buf *body)
{
	struct tp_buf req;
	Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *r;

	tp_buf_init(&req);
	assert_int_equal(tp_otlp_encode_prefix("node-1", "host-a", body->len, &req), 0);
	tp_buf_append(&req, body->data, body->len);
	r = opentelemetry__proto__collector__logs__v1__export_logs_service_request__unpack(
		NULL, req.len, (uint8_t *)req.data);
	tp_buf_free(&req);
	return r;
}

static void test_event_record(void **state)
{
	struct tp_arena a;
	struct tp_buf body;
	Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *r;
	const LogRecord *rec;
	const AnyValue *v;

	make_exit();
	tp_arena_init(&a);
	tp_buf_init(&body);
	assert_int_equal(tp_otlp_encode_event(&ev, NULL, 5, &a, &body), 0);
	assert_int_equal(tp_otlp_encode_event(&ev, NULL, 6, &a, &body), 0);
	r = request(&body);
	assert_non_null(r);
	assert_int_equal(r->n_resource_logs, 1);
	assert_int_equal(r->resource_logs[0]->n_scope_logs, 1);
	assert_string_equal(r->resource_logs[0]->scope_logs[0]->scope->name, "tapio-collector");
	{
		const Opentelemetry__Proto__Resource__V1__Resource *res = r->resource_logs[0]->resource;
		int found = 0;

		for (size_t i = 0; i < res->n_attributes; i++) {
			if (!strcmp(res->attributes[i]->key, "service.instance.id")) {
				assert_string_equal(res->attributes[i]->value->string_value, "node-1");
				found++;
			}
			if (!strcmp(res->attributes[i]->key, "host.name")) {
				assert_string_equal(res->attributes[i]->value->string_value, "host-a");
				found++;
			}
		}
		assert_int_equal(found, 2);
	}
	assert_int_equal(r->resource_logs[0]->scope_logs[0]->n_log_records, 2);
	rec = r->resource_logs[0]->scope_logs[0]->log_records[1];
	assert_int_equal(rec->time_unix_nano, ev.ts_wall_ns);
	assert_int_equal(rec->observed_time_unix_nano, 6);
	assert_string_equal(rec->event_name, "process.exit");
	assert_int_equal(rec->severity_number, 9);
	assert_string_equal(rec->severity_text, "info");
	/* Body: the text line without time of day or newline. */
	assert_non_null(strstr(rec->body->string_value, "process.exit"));
	assert_null(strchr(rec->body->string_value, '\n'));
	assert_int_equal(attr(rec, "process.pid")->int_value, 42);
	assert_int_equal(attr(rec, "thread.id")->int_value, 43);
	assert_int_equal(attr(rec, "process.parent_pid")->int_value, 7);
	assert_int_equal(attr(rec, "process.user.id")->int_value, 1000);
	assert_int_equal(attr(rec, "process.group.id")->int_value, 1001);
	assert_string_equal(attr(rec, "process.command")->string_value, "sleep");
	assert_string_equal(attr(rec, "event.name")->string_value, "process.exit");
	v = attr(rec, "tapio.signal");
	assert_non_null(v);
	assert_int_equal(v->int_value, 9);
	assert_string_equal(attr(rec, "tapio.signal_str")->string_value, "SIGKILL");
	assert_null(attr(rec, "tapio.importance"));
	assert_null(attr(rec, "tapio.rule"));
	opentelemetry__proto__collector__logs__v1__export_logs_service_request__free_unpacked(r, NULL);
	tp_buf_free(&body);
	tp_arena_free(&a);
}

static void test_alert_record(void **state)
{
	static const char *const tags[] = { "t1", "t2" };
	struct tp_alert alert = { .rule = "r1", .severity = "critical", .importance = 1,
				  .tags = tags, .ntags = 2, .output = "something bad" };
	struct tp_kv kv[] = { { .key = "k8s.pod.name", .value = { .kind = TP_V_STR, .str = { "web", 3 } } } };
	struct tp_event_meta meta = { .importance = -1, .alert = &alert, .kv = kv, .nkv = 1 };
	struct tp_arena a;
	struct tp_buf body;
	Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *r;
	const LogRecord *rec;
	const AnyValue *v;

	make_exit();
	tp_arena_init(&a);
	tp_buf_init(&body);
	assert_int_equal(tp_otlp_encode_event(&ev, &meta, 5, &a, &body), 0);
	r = request(&body);
	assert_non_null(r);
	rec = r->resource_logs[0]->scope_logs[0]->log_records[0];
	assert_int_equal(rec->severity_number, 21);
	assert_string_equal(rec->severity_text, "critical");
	assert_string_equal(rec->body->string_value, "something bad");
	assert_string_equal(attr(rec, "tapio.rule")->string_value, "r1");
	assert_true(attr(rec, "tapio.importance")->double_value == 1.0);
	assert_string_equal(attr(rec, "k8s.pod.name")->string_value, "web");
	v = attr(rec, "tapio.tags");
	assert_int_equal(v->array_value->n_values, 2);
	assert_string_equal(v->array_value->values[1]->string_value, "t2");
	opentelemetry__proto__collector__logs__v1__export_logs_service_request__free_unpacked(r, NULL);
	tp_buf_free(&body);
	tp_arena_free(&a);
}

static const LogRecord *encode_one(const struct tp_event_meta *meta, struct tp_arena *a,
				   Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest **r)
{
	struct tp_buf body;

	tp_buf_init(&body);
	assert_int_equal(tp_otlp_encode_event(&ev, meta, 5, a, &body), 0);
	*r = request(&body);
	tp_buf_free(&body);
	assert_non_null(*r);
	return (*r)->resource_logs[0]->scope_logs[0]->log_records[0];
}


/* The record of type t with every field set (fixtures.h), decoded into ev. */
static void make_full_record(const struct tp_event_type *t)
{
	assert_int_equal(tp_decode(tp_fx_full_record(t), t->size, 0, &ev), 0);
}

/* Every registered type becomes a record with an attribute tapio.<field>
 * for each field (an address of no family has none: OTLP has no null). */
static void test_every_type(void **state)
{
	const struct tp_event_type *t;
	char key[96];

	(void)state;
	for (size_t i = 0; (t = tp_event_type_at(i)); i++) {
		Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *r;
		struct tp_arena a;
		const LogRecord *rec;

		make_full_record(t);
		tp_arena_init(&a);
		rec = encode_one(NULL, &a, &r);
		for (uint32_t f = 0; f < t->nfields; f++) {
			if (t->fields[f].kind == TP_FK_IPADDR)
				continue;
			snprintf(key, sizeof(key), "tapio.%s", t->fields[f].name);
			if (!attr(rec, key))
				fail_msg("%s: no attribute %s", t->name, key);
		}
		opentelemetry__proto__collector__logs__v1__export_logs_service_request__free_unpacked(r, NULL);
		tp_arena_free(&a);
	}
}

static const AnyValue *kv_get(const AnyValue *v, const char *key)
{
	assert_int_equal(v->value_case, OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE);
	for (size_t i = 0; i < v->kvlist_value->n_values; i++)
		if (!strcmp(v->kvlist_value->values[i]->key, key))
			return v->kvlist_value->values[i]->value;
	return NULL;
}

/* The enrichment under the semantic conventions' names (tapio.* where they
 * have none); the ancestors on process events only. */
static void test_enrichment_attributes(void **state)
{
	static const char av[] = "sleep\0" "5";
	static const struct tp_proc_ref parent = { 7, "bash", "/usr/bin/bash" };
	static const struct tp_proc_ref anc[] = { { 1, "systemd", NULL } };
	static const struct tp_container_ctx ctr = { "3f0a9c", "cri-o" };
	static const struct tp_k8s_ctx k8s = { "web-0", "shop", "7e8d-11", "app", "Guaranteed" };
	const struct tp_proc_ctx pc = {
		.exe = "/usr/bin/sleep", .argv = av, .argv_len = sizeof(av), .parent = &parent,
		.ancestors = anc, .nancestors = 1, .container = &ctr, .k8s = &k8s,
	};
	struct tp_event_meta meta = { .importance = -1, .proc = &pc };
	Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *r;
	struct tp_arena a;
	const LogRecord *rec;
	const AnyValue *v;

	make_exit();
	tp_arena_init(&a);
	rec = encode_one(&meta, &a, &r);
	assert_string_equal(attr(rec, "process.executable.path")->string_value, "/usr/bin/sleep");
	v = attr(rec, "process.command_args");
	assert_non_null(v);
	assert_int_equal(v->array_value->n_values, 2);
	assert_string_equal(v->array_value->values[0]->string_value, "sleep");
	assert_string_equal(v->array_value->values[1]->string_value, "5");
	assert_null(attr(rec, "tapio.argv_truncated"));
	assert_int_equal(attr(rec, "process.parent_pid")->int_value, 7);
	assert_string_equal(attr(rec, "tapio.parent.comm")->string_value, "bash");
	assert_string_equal(attr(rec, "tapio.parent.exe")->string_value, "/usr/bin/bash");
	v = attr(rec, "tapio.ancestors");
	assert_non_null(v);
	assert_int_equal(v->array_value->n_values, 1);
	assert_int_equal(kv_get(v->array_value->values[0], "pid")->int_value, 1);
	assert_string_equal(kv_get(v->array_value->values[0], "comm")->string_value, "systemd");
	assert_null(kv_get(v->array_value->values[0], "exe"));
	assert_string_equal(attr(rec, "container.id")->string_value, "3f0a9c");
	assert_string_equal(attr(rec, "container.runtime")->string_value, "cri-o");
	assert_string_equal(attr(rec, "k8s.pod.name")->string_value, "web-0");
	assert_string_equal(attr(rec, "k8s.namespace.name")->string_value, "shop");
	assert_string_equal(attr(rec, "k8s.pod.uid")->string_value, "7e8d-11");
	assert_string_equal(attr(rec, "k8s.container.name")->string_value, "app");
	assert_string_equal(attr(rec, "tapio.k8s.qos")->string_value, "Guaranteed");
	/* The body is the text line, with the context in it. */
	assert_non_null(strstr(rec->body->string_value, "exe=/usr/bin/sleep"));
	opentelemetry__proto__collector__logs__v1__export_logs_service_request__free_unpacked(r, NULL);
	tp_arena_free(&a);
}

/* Unknown is absent: no attribute for an unknown name, none of the
 * enrichment without it, and ancestors only on process events. */
static void test_enrichment_unknown(void **state)
{
	static const char av[] = "cat";
	static const struct tp_proc_ref parent = { 7, NULL, NULL };
	static const struct tp_proc_ref anc[] = { { 1, "systemd", NULL } };
	static const struct tp_container_ctx ctr = { "0123abcd", NULL };
	static const struct tp_k8s_ctx k8s = { NULL, NULL, "7e8d-11", NULL, NULL };
	const struct tp_proc_ctx pc = { .argv = av, .argv_len = sizeof(av), .argv_truncated = true,
					.parent = &parent, .ancestors = anc, .nancestors = 1,
					.container = &ctr, .k8s = &k8s };
	const struct tp_proc_ctx none = { 0 };
	static const char *const absent[] = {
		"process.executable.path", "tapio.parent.comm", "tapio.parent.exe", "container.runtime",
		"k8s.pod.name", "k8s.namespace.name", "k8s.container.name", "tapio.k8s.qos", "tapio.ancestors",
	};
	static const char *const all[] = {
		"process.executable.path", "process.command_args", "tapio.argv_truncated",
		"tapio.parent.comm", "tapio.parent.exe", "tapio.ancestors", "container.id",
		"container.runtime", "k8s.pod.name", "k8s.namespace.name", "k8s.pod.uid",
		"k8s.container.name", "tapio.k8s.qos",
	};
	struct tp_event_meta meta = { .importance = -1, .proc = &pc };
	Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *r;
	struct tp_file_open_event o;
	struct tp_arena a;
	const LogRecord *rec;

	memset(&o, 0, sizeof(o));
	o.hdr.type = TP_EV_FILE_OPEN;
	o.hdr.size = sizeof(o);
	o.hdr.pid = 42;
	o.hdr.ppid = 7;
	memcpy(o.path, "/etc/passwd", 11);
	assert_int_equal(tp_decode(&o, sizeof(o), 1795000000000000000LL, &ev), 0);
	tp_arena_init(&a);
	rec = encode_one(&meta, &a, &r);
	for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++)
		if (attr(rec, absent[i]))
			fail_msg("%s present", absent[i]);
	assert_string_equal(attr(rec, "process.command_args")->array_value->values[0]->string_value,
			    "cat");
	assert_true(attr(rec, "tapio.argv_truncated")->bool_value);
	assert_string_equal(attr(rec, "container.id")->string_value, "0123abcd");
	assert_string_equal(attr(rec, "k8s.pod.uid")->string_value, "7e8d-11");
	opentelemetry__proto__collector__logs__v1__export_logs_service_request__free_unpacked(r, NULL);

	meta.proc = &none;
	rec = encode_one(&meta, &a, &r);
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (attr(rec, all[i]))
			fail_msg("%s present without enrichment", all[i]);
	opentelemetry__proto__collector__logs__v1__export_logs_service_request__free_unpacked(r, NULL);
	tp_arena_free(&a);
}

static void test_severity_numbers(void **state)
{
	assert_int_equal(tp_otlp_severity("debug"), 5);
	assert_int_equal(tp_otlp_severity("notice"), 10);
	assert_int_equal(tp_otlp_severity("warning"), 13);
	assert_int_equal(tp_otlp_severity("error"), 17);
	assert_int_equal(tp_otlp_severity(NULL), 9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_event_record),
		cmocka_unit_test(test_every_type),
		cmocka_unit_test(test_alert_record),
		cmocka_unit_test(test_enrichment_attributes),
		cmocka_unit_test(test_enrichment_unknown),
		cmocka_unit_test(test_severity_numbers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
