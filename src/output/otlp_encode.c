#include "output/otlp_encode.h"

#include <errno.h>
#include <string.h>

#include "delivery/pbwire.h"
#include "events/format.h"
#include "events/proc_ctx.h"
#include "opentelemetry/proto/logs/v1/logs.pb-c.h"
#include "version.h"

typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;
typedef Opentelemetry__Proto__Common__V1__ArrayValue ArrayValue;
typedef Opentelemetry__Proto__Logs__V1__LogRecord LogRecord;

#define V(x) OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_##x

int tp_otlp_severity(const char *name)
{
	static const struct {
		const char *name;
		int number;
	} map[] = {
		{ "debug", 5 }, { "info", 9 }, { "notice", 10 },
		{ "warning", 13 }, { "error", 17 }, { "critical", 21 },
	};

	for (size_t i = 0; name && i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(name, map[i].name))
			return map[i].number;
	return 9;
}

/* Attributes proc_attrs adds at most. */
#define PROC_ATTRS_MAX 13

struct attrs {
	struct tp_arena *a;
	KeyValue *kv;
	AnyValue *val;
	KeyValue **ptrs;
	size_t n, cap;
	bool oom;
};

/* Valid UTF-8, never NULL; may be s itself (which must live until the
 * record is packed). */
static char *str(struct attrs *at, const char *s, size_t n)
{
	const char *r = tp_arena_utf8(at->a, s, n);

	if (!r) {
		at->oom = true;
		return (char *)"";
	}
	return (char *)r;
}

/* The same, copied: for text in a local buffer. */
static char *str_copy(struct attrs *at, const char *s, size_t n)
{
	const char *r = tp_arena_utf8_copy(at->a, s, n);

	if (!r) {
		at->oom = true;
		return (char *)"";
	}
	return (char *)r;
}

/* A new attribute; its key is copied (made valid UTF-8) when copy is set. */
static AnyValue *attr(struct attrs *at, const char *key, bool copy)
{
	KeyValue *kv;
	AnyValue *v;

	if (at->n == at->cap) {
		at->oom = true;
		return NULL;
	}
	kv = &at->kv[at->n];
	v = &at->val[at->n];
	opentelemetry__proto__common__v1__key_value__init(kv);
	opentelemetry__proto__common__v1__any_value__init(v);
	kv->key = copy ? str(at, key, strlen(key)) : (char *)key;
	kv->value = v;
	at->ptrs[at->n++] = kv;
	return v;
}

static void attr_int(struct attrs *at, const char *key, int64_t i)
{
	AnyValue *v = attr(at, key, false);

	if (v) {
		v->value_case = V(INT_VALUE);
		v->int_value = i;
	}
}

static void attr_str(struct attrs *at, const char *key, bool copy_key, const char *s, size_t n)
{
	AnyValue *v = attr(at, key, copy_key);

	if (v) {
		v->value_case = V(STRING_VALUE);
		v->string_value = str(at, s, n);
	}
}

/* "tapio.<name>[suffix]" in the arena. */
static const char *field_key(struct attrs *at, const char *name, const char *suffix)
{
	size_t n = strlen(name), s = strlen(suffix);
	char *k = tp_arena_alloc(at->a, 6 + n + s + 1);

	if (!k) {
		at->oom = true;
		return "";
	}
	memcpy(k, "tapio.", 6);
	memcpy(k + 6, name, n);
	memcpy(k + 6 + n, suffix, s + 1);
	return k;
}

/* NUL-separated arguments as an array of strings. */
static void argv_value(struct attrs *at, AnyValue *v, const char *av, uint32_t len)
{
	ArrayValue *arr = tp_arena_alloc(at->a, sizeof(*arr));
	uint32_t count = 0;
	const char *p;
	AnyValue *items;
	size_t n;

	for (p = tp_argv_next(av, len, NULL, &n); p; p = tp_argv_next(av, len, p, &n))
		count++;
	items = tp_arena_alloc(at->a, (count ? count : 1) * sizeof(*items));
	if (!arr || !items) {
		at->oom = true;
		return;
	}
	opentelemetry__proto__common__v1__array_value__init(arr);
	arr->values = tp_arena_alloc(at->a, (count ? count : 1) * sizeof(AnyValue *));
	if (!arr->values) {
		at->oom = true;
		return;
	}
	for (p = tp_argv_next(av, len, NULL, &n); p; p = tp_argv_next(av, len, p, &n)) {
		AnyValue *it = &items[arr->n_values];

		opentelemetry__proto__common__v1__any_value__init(it);
		it->value_case = V(STRING_VALUE);
		it->string_value = str(at, p, n);
		arr->values[arr->n_values++] = it;
	}
	v->value_case = V(ARRAY_VALUE);
	v->array_value = arr;
}

/* NAME=value strings (first occurrence of each name) as a kvlist. */
static void env_value(struct attrs *at, AnyValue *v, const char *av, uint32_t len)
{
	Opentelemetry__Proto__Common__V1__KeyValueList *kvl = tp_arena_alloc(at->a, sizeof(*kvl));
	struct tp_env_entry en;
	uint32_t count = 0;
	KeyValue *kv, **ptrs;
	AnyValue *vals;

	for (bool ok = tp_env_next(av, len, NULL, &en); ok; ok = tp_env_next(av, len, &en, &en))
		count++;
	kv = tp_arena_alloc(at->a, (count ? count : 1) * sizeof(*kv));
	ptrs = tp_arena_alloc(at->a, (count ? count : 1) * sizeof(*ptrs));
	vals = tp_arena_alloc(at->a, (count ? count : 1) * sizeof(*vals));
	if (!kvl || !kv || !ptrs || !vals) {
		at->oom = true;
		return;
	}
	opentelemetry__proto__common__v1__key_value_list__init(kvl);
	kvl->values = ptrs;
	for (bool ok = tp_env_next(av, len, NULL, &en); ok; ok = tp_env_next(av, len, &en, &en)) {
		size_t i = kvl->n_values;

		opentelemetry__proto__common__v1__key_value__init(&kv[i]);
		opentelemetry__proto__common__v1__any_value__init(&vals[i]);
		kv[i].key = str(at, en.name, en.name_len);
		kv[i].value = &vals[i];
		vals[i].value_case = V(STRING_VALUE);
		vals[i].string_value = str(at, en.value, en.value_len);
		ptrs[kvl->n_values++] = &kv[i];
	}
	v->value_case = V(KVLIST_VALUE);
	v->kvlist_value = kvl;
}

static void fields(struct attrs *at, const struct tp_event *ev)
{
	const struct tp_event_type *t = ev->type;
	char tmp[256];

	for (uint32_t i = 0; i < t->nfields; i++) {
		const struct tp_field *f = &t->fields[i];
		const char *key;
		AnyValue *v;
		uint64_t u = 0;
		int64_t s;

		if (!tp_field_present(ev, f))
			continue;
		if (f->kind == TP_FK_IPADDR && !tp_field_ipaddr(ev, f, tmp, sizeof(tmp)))
			continue; /* no address: no attribute (OTLP has no null) */
		key = field_key(at, f->name, "");
		v = attr(at, key, false);
		if (!v)
			return;
		switch (f->kind) {
		case TP_FK_STR: {
			const char *sv = tp_field_str(ev, f);

			v->value_case = V(STRING_VALUE);
			v->string_value = str(at, sv, strlen(sv));
			continue;
		}
		case TP_FK_ARGV: {
			uint32_t len;
			const char *av = tp_field_argv(ev, f, &len);

			argv_value(at, v, av, len);
			continue;
		}
		case TP_FK_ENV: {
			uint32_t len;
			const char *av = tp_field_argv(ev, f, &len);

			env_value(at, v, av, len);
			continue;
		}
		case TP_FK_IPADDR:
			v->value_case = V(STRING_VALUE);
			v->string_value = str_copy(at, tmp, strlen(tmp));
			continue;
		case TP_FK_BOOL:
			tp_field_u64(ev, f, &u);
			v->value_case = V(BOOL_VALUE);
			v->bool_value = u != 0;
			continue;
		case TP_FK_S32:
		case TP_FK_S64:
			tp_field_i64(ev, f, &s);
			u = (uint64_t)s;
			v->value_case = V(INT_VALUE);
			v->int_value = s;
			break;
		default:
			tp_field_u64(ev, f, &u);
			/* OTLP integers are signed 64-bit: a u64 past INT64_MAX
			 * (rare: masks, ids) keeps its bits. */
			v->value_case = V(INT_VALUE);
			v->int_value = (int64_t)u;
			break;
		}
		if (f->syms && tp_field_sym(f, u, tmp, sizeof(tmp))) {
			AnyValue *sv = attr(at, field_key(at, f->name, "_str"), false);

			if (sv) {
				sv->value_case = V(STRING_VALUE);
				sv->string_value = str_copy(at, tmp, strlen(tmp));
			}
		}
	}
}

static void meta_attrs(struct attrs *at, const struct tp_event_meta *meta)
{
	const struct tp_alert *al = meta->alert;
	double imp = al ? al->importance : meta->importance;
	size_t ntags = meta->ntags + (al ? al->ntags : 0);

	for (size_t i = 0; i < meta->nkv; i++) {
		const struct tp_kv *kv = &meta->kv[i];
		AnyValue *v = attr(at, kv->key, true);

		if (!v)
			return;
		switch (kv->value.kind) {
		case TP_V_STR:
			v->value_case = V(STRING_VALUE);
			v->string_value = str(at, kv->value.str.s, kv->value.str.len);
			break;
		case TP_V_INT:
			v->value_case = V(INT_VALUE);
			v->int_value = kv->value.i;
			break;
		case TP_V_NUM:
			v->value_case = V(DOUBLE_VALUE);
			v->double_value = kv->value.d;
			break;
		case TP_V_BOOL:
			v->value_case = V(BOOL_VALUE);
			v->bool_value = kv->value.b;
			break;
		}
	}
	if (imp >= 0) {
		AnyValue *v = attr(at, "tapio.importance", false);

		if (v) {
			v->value_case = V(DOUBLE_VALUE);
			v->double_value = imp;
		}
	}
	if (meta->sample_rate > 1)
		attr_int(at, "tapio.sample_rate", meta->sample_rate);
	if (al)
		attr_str(at, "tapio.rule", false, al->rule, strlen(al->rule));
	if (ntags) {
		AnyValue *v = attr(at, "tapio.tags", false);
		ArrayValue *arr = tp_arena_alloc(at->a, sizeof(*arr));
		AnyValue *items = tp_arena_alloc(at->a, ntags * sizeof(*items));
		AnyValue **ptrs = tp_arena_alloc(at->a, ntags * sizeof(*ptrs));

		if (!v || !arr || !items || !ptrs) {
			at->oom = true;
			return;
		}
		opentelemetry__proto__common__v1__array_value__init(arr);
		arr->values = ptrs;
		for (size_t i = 0; i < ntags; i++) {
			const char *tag = al && i < al->ntags ? al->tags[i] :
							       meta->tags[i - (al ? al->ntags : 0)];

			opentelemetry__proto__common__v1__any_value__init(&items[i]);
			items[i].value_case = V(STRING_VALUE);
			items[i].string_value = str(at, tag, strlen(tag));
			ptrs[arr->n_values++] = &items[i];
		}
		v->value_case = V(ARRAY_VALUE);
		v->array_value = arr;
	}
}

/* A string attribute of the enrichment: none when unknown. */
static void attr_opt(struct attrs *at, const char *key, const char *s)
{
	if (s)
		attr_str(at, key, false, s, strlen(s));
}

/* One ancestor as a kvlist {pid, comm, exe}, unknown names left out. */
static void proc_ref_value(struct attrs *at, AnyValue *v, const struct tp_proc_ref *r)
{
	Opentelemetry__Proto__Common__V1__KeyValueList *kvl = tp_arena_alloc(at->a, sizeof(*kvl));
	KeyValue *kv = tp_arena_alloc(at->a, 3 * sizeof(*kv));
	KeyValue **ptrs = tp_arena_alloc(at->a, 3 * sizeof(*ptrs));
	AnyValue *vals = tp_arena_alloc(at->a, 3 * sizeof(*vals));
	const char *names[3] = { "pid", "comm", "exe" }, *strs[3] = { NULL, r->comm, r->exe };

	if (!kvl || !kv || !ptrs || !vals) {
		at->oom = true;
		return;
	}
	opentelemetry__proto__common__v1__key_value_list__init(kvl);
	kvl->values = ptrs;
	for (int i = 0; i < 3; i++) {
		if (i && !strs[i])
			continue;
		opentelemetry__proto__common__v1__key_value__init(&kv[i]);
		opentelemetry__proto__common__v1__any_value__init(&vals[i]);
		kv[i].key = (char *)names[i];
		kv[i].value = &vals[i];
		if (i) {
			vals[i].value_case = V(STRING_VALUE);
			vals[i].string_value = str(at, strs[i], strlen(strs[i]));
		} else {
			vals[i].value_case = V(INT_VALUE);
			vals[i].int_value = r->pid;
		}
		ptrs[kvl->n_values++] = &kv[i];
	}
	v->value_case = V(KVLIST_VALUE);
	v->kvlist_value = kvl;
}

/* The enrichment (proc_ctx.h) under the semantic conventions' names where
 * they have one, tapio.* where not. process.parent_pid is the header's.
 * The arguments go on every event (process.command_args is the process's
 * command line; an exec's own argv is tapio.argv), the ancestors on
 * process events only, as in JSON. */
static void proc_attrs(struct attrs *at, const struct tp_event *ev, const struct tp_proc_ctx *pc)
{
	attr_opt(at, "process.executable.path", pc->exe);
	if (pc->argv) {
		AnyValue *v = attr(at, "process.command_args", false);

		if (v)
			argv_value(at, v, pc->argv, pc->argv_len);
		if (pc->argv_truncated) {
			AnyValue *t = attr(at, "tapio.argv_truncated", false);

			if (t) {
				t->value_case = V(BOOL_VALUE);
				t->bool_value = true;
			}
		}
	}
	if (pc->parent) {
		attr_opt(at, "tapio.parent.comm", pc->parent->comm);
		attr_opt(at, "tapio.parent.exe", pc->parent->exe);
	}
	if (pc->nancestors && TP_TYPE_CATEGORY(ev->type->id) == TP_CAT_PROCESS) {
		AnyValue *v = attr(at, "tapio.ancestors", false);
		ArrayValue *arr = tp_arena_alloc(at->a, sizeof(*arr));
		AnyValue *items = tp_arena_alloc(at->a, pc->nancestors * sizeof(*items));
		AnyValue **ptrs = tp_arena_alloc(at->a, pc->nancestors * sizeof(*ptrs));

		if (!v || !arr || !items || !ptrs) {
			at->oom = true;
			return;
		}
		opentelemetry__proto__common__v1__array_value__init(arr);
		arr->values = ptrs;
		for (size_t i = 0; i < pc->nancestors; i++) {
			opentelemetry__proto__common__v1__any_value__init(&items[i]);
			proc_ref_value(at, &items[i], &pc->ancestors[i]);
			ptrs[arr->n_values++] = &items[i];
		}
		v->value_case = V(ARRAY_VALUE);
		v->array_value = arr;
	}
	if (pc->container) {
		attr_opt(at, "container.id", pc->container->id);
		attr_opt(at, "container.runtime", pc->container->runtime);
	}
	if (pc->k8s) {
		attr_opt(at, "k8s.pod.name", pc->k8s->pod);
		attr_opt(at, "k8s.namespace.name", pc->k8s->namespace);
		attr_opt(at, "k8s.pod.uid", pc->k8s->pod_uid);
		attr_opt(at, "k8s.container.name", pc->k8s->container);
		attr_opt(at, "tapio.k8s.qos", pc->k8s->qos);
	}
}

int tp_otlp_encode_event(const struct tp_event *ev, const struct tp_event_meta *meta,
			 uint64_t observed_ns, struct tp_arena *arena, struct tp_buf *out)
{
	const struct tp_hdr *h = &ev->rec.hdr;
	LogRecord rec = OPENTELEMETRY__PROTO__LOGS__V1__LOG_RECORD__INIT;
	AnyValue body = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
	struct attrs at = { .a = arena };
	struct tp_buf line;
	size_t size;
	int r = 0;

	tp_arena_reset(arena);
	at.cap = 16 + 2 * (size_t)ev->type->nfields + (meta ? meta->nkv : 0) +
		 (meta && meta->proc ? PROC_ATTRS_MAX : 0);
	at.kv = tp_arena_alloc(arena, at.cap * sizeof(*at.kv));
	at.val = tp_arena_alloc(arena, at.cap * sizeof(*at.val));
	at.ptrs = tp_arena_alloc(arena, at.cap * sizeof(*at.ptrs));
	if (!at.kv || !at.val || !at.ptrs)
		return -ENOMEM;

	rec.time_unix_nano = ev->ts_wall_ns;
	rec.observed_time_unix_nano = observed_ns;
	rec.event_name = (char *)ev->type->name;
	if (meta && meta->alert) {
		rec.severity_number = tp_otlp_severity(meta->alert->severity);
		rec.severity_text = str(&at, meta->alert->severity, strlen(meta->alert->severity));
	} else {
		rec.severity_number = tp_otlp_severity(NULL);
		rec.severity_text = (char *)"info";
	}

	attr_str(&at, "event.name", false, ev->type->name, strlen(ev->type->name));
	attr_int(&at, "process.pid", h->pid);
	attr_int(&at, "thread.id", h->tid);
	attr_int(&at, "process.parent_pid", h->ppid);
	attr_int(&at, "process.user.id", h->uid);
	attr_int(&at, "process.group.id", h->gid);
	attr_str(&at, "process.command", false, h->comm, strnlen(h->comm, sizeof(h->comm)));
	attr_int(&at, "tapio.cpu", h->cpu);
	attr_int(&at, "tapio.cgroup_id", (int64_t)h->cgroup_id);
	if (h->cgroup_v1_id)
		attr_int(&at, "tapio.cgroup_v1_id", (int64_t)h->cgroup_v1_id);
	fields(&at, ev);
	if (meta && meta->proc)
		proc_attrs(&at, ev, meta->proc);
	if (meta)
		meta_attrs(&at, meta);
	rec.attributes = at.ptrs;
	rec.n_attributes = at.n;

	/* Body: the alert's message, else the event as a text line without
	 * its time of day (the record has the time) and newline. */
	tp_buf_init(&line);
	if (meta && meta->alert) {
		body.string_value = str(&at, meta->alert->output, strlen(meta->alert->output));
	} else {
		const char *s;
		size_t n;

		tp_format_text(&line, ev, meta, false);
		tp_buf_cstr(&line);
		s = memchr(line.data, ' ', line.len);
		s = s ? s + 1 : line.data;
		n = line.len - (size_t)(s - line.data);
		if (n && s[n - 1] == '\n')
			n--;
		/* May point into line, which lives until the record is packed. */
		body.string_value = tp_buf_failed(&line) ? (char *)"" : str(&at, s, n);
	}
	body.value_case = V(STRING_VALUE);
	rec.body = &body;

	if (at.oom || tp_buf_failed(&line)) {
		r = -ENOMEM;
		goto out;
	}
	size = opentelemetry__proto__logs__v1__log_record__get_packed_size(&rec);
	tp_pb_put_len_prefix(out, TP_OTLP_SCOPE_LOG_RECORDS, size);
	if (!tp_buf_reserve(out, size)) {
		r = -ENOMEM;
		goto out;
	}
	out->len += opentelemetry__proto__logs__v1__log_record__pack(&rec, (uint8_t *)out->data +
									       out->len);
out:
	tp_buf_free(&line);
	return r;
}

int tp_otlp_encode_prefix(const char *collector_id, const char *hostname, size_t body_len,
			  struct tp_buf *out)
{
	Opentelemetry__Proto__Resource__V1__Resource res =
		OPENTELEMETRY__PROTO__RESOURCE__V1__RESOURCE__INIT;
	Opentelemetry__Proto__Common__V1__InstrumentationScope scope =
		OPENTELEMETRY__PROTO__COMMON__V1__INSTRUMENTATION_SCOPE__INIT;
	struct {
		const char *key, *value;
	} ra[] = {
		{ "service.name", "tapio-collector" },
		{ "service.version", TAPIO_VERSION },
		{ "service.instance.id", collector_id ? collector_id : "" },
		{ "host.name", hostname ? hostname : "" },
	};
	enum { NRA = sizeof(ra) / sizeof(ra[0]) };
	KeyValue kv[NRA], *kvp[NRA];
	AnyValue val[NRA];
	struct tp_buf rb, sb;
	size_t scope_logs_len, resource_logs_len;
	int r = 0;

	for (size_t i = 0; i < NRA; i++) {
		opentelemetry__proto__common__v1__key_value__init(&kv[i]);
		opentelemetry__proto__common__v1__any_value__init(&val[i]);
		kv[i].key = (char *)ra[i].key;
		val[i].value_case = V(STRING_VALUE);
		val[i].string_value = (char *)ra[i].value;
		kv[i].value = &val[i];
		kvp[i] = &kv[i];
	}
	res.attributes = kvp;
	res.n_attributes = NRA;
	scope.name = (char *)"tapio-collector";
	scope.version = (char *)TAPIO_VERSION;

	tp_buf_init(&rb);
	tp_buf_init(&sb);
	if (!tp_buf_reserve(&rb, opentelemetry__proto__resource__v1__resource__get_packed_size(&res)) ||
	    !tp_buf_reserve(&sb, opentelemetry__proto__common__v1__instrumentation_scope__get_packed_size(
					 &scope))) {
		r = -ENOMEM;
		goto out;
	}
	rb.len = opentelemetry__proto__resource__v1__resource__pack(&res, (uint8_t *)rb.data);
	sb.len = opentelemetry__proto__common__v1__instrumentation_scope__pack(&scope,
									       (uint8_t *)sb.data);

	/* ResourceLogs { resource = 1; scope_logs = 2 { scope = 1; log_records = 2... } } */
	scope_logs_len = 1 + tp_pb_varint_size(sb.len) + sb.len + body_len;
	resource_logs_len = 1 + tp_pb_varint_size(rb.len) + rb.len + 1 +
			    tp_pb_varint_size(scope_logs_len) + scope_logs_len;
	tp_pb_put_len_prefix(out, 1, resource_logs_len);
	tp_pb_put_bytes(out, 1, rb.data, rb.len);
	tp_pb_put_len_prefix(out, 2, scope_logs_len);
	tp_pb_put_bytes(out, 1, sb.data, sb.len);
	if (tp_buf_failed(out))
		r = -ENOMEM;
out:
	tp_buf_free(&rb);
	tp_buf_free(&sb);
	return r;
}
