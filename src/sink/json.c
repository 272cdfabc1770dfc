#include "sink/json.h"

#include <math.h>
#include <string.h>

static void key(struct tp_buf *b, const char *k)
{
	tp_buf_putc(b, ',');
	tp_buf_json_str(b, k, strlen(k));
	tp_buf_putc(b, ':');
}

static void str(struct tp_buf *b, const char *s)
{
	tp_buf_json_str(b, s, strlen(s));
}

static void dbl(struct tp_buf *b, double d)
{
	if (!isfinite(d))
		tp_buf_puts(b, "null");
	else
		tp_buf_printf(b, "%.6g", d);
}

static void field(struct tp_buf *b, const Tapio__V1__Field *f)
{
	key(b, f->name);
	switch (f->value_case) {
	case TAPIO__V1__FIELD__VALUE_INT_VALUE: tp_buf_i64(b, f->int_value); break;
	case TAPIO__V1__FIELD__VALUE_UINT_VALUE: tp_buf_u64(b, f->uint_value); break;
	case TAPIO__V1__FIELD__VALUE_DOUBLE_VALUE: dbl(b, f->double_value); break;
	case TAPIO__V1__FIELD__VALUE_BOOL_VALUE:
		tp_buf_puts(b, f->bool_value ? "true" : "false");
		break;
	case TAPIO__V1__FIELD__VALUE_STRING_VALUE: str(b, f->string_value); break;
	case TAPIO__V1__FIELD__VALUE_STRING_LIST:
		tp_buf_putc(b, '[');
		for (size_t i = 0; f->string_list && i < f->string_list->n_values; i++) {
			if (i)
				tp_buf_putc(b, ',');
			str(b, f->string_list->values[i]);
		}
		tp_buf_putc(b, ']');
		break;
	case TAPIO__V1__FIELD__VALUE_STRING_MAP:
		tp_buf_putc(b, '{');
		for (size_t i = 0; f->string_map && i < f->string_map->n_entries; i++) {
			if (i)
				tp_buf_putc(b, ',');
			str(b, f->string_map->entries[i]->name);
			tp_buf_putc(b, ':');
			str(b, f->string_map->entries[i]->value);
		}
		tp_buf_putc(b, '}');
		break;
	default: tp_buf_puts(b, "null"); break;
	}
	if (f->symbol && *f->symbol) {
		struct tp_buf k;

		tp_buf_init(&k);
		tp_buf_puts(&k, f->name);
		tp_buf_puts(&k, "_str");
		tp_buf_putc(b, ',');
		tp_buf_json_str(b, tp_buf_failed(&k) ? "" : tp_buf_cstr(&k), k.len);
		tp_buf_putc(b, ':');
		str(b, f->symbol);
		tp_buf_free(&k);
	}
}

/* "key":"value" inside an object, nothing for an empty (unknown) value;
 * *first says whether a comma is due. */
static void member(struct tp_buf *b, bool *first, const char *k, const char *v)
{
	if (!v || !*v)
		return;
	if (!*first)
		tp_buf_putc(b, ',');
	*first = false;
	str(b, k);
	tp_buf_putc(b, ':');
	str(b, v);
}

static void process_ref(struct tp_buf *b, const Tapio__V1__ProcessRef *r)
{
	bool first = false;

	tp_buf_puts(b, "{\"pid\":");
	tp_buf_u64(b, r->pid);
	member(b, &first, "comm", r->comm);
	member(b, &first, "exe", r->exe);
	tp_buf_putc(b, '}');
}

/* The collector's enrichment, as its -o json writes it (format.c): exe,
 * argv, parent, ancestors, container, k8s; what is unknown is absent. */
static void enrichment(struct tp_buf *b, const Tapio__V1__Event *e)
{
	const Tapio__V1__Process *p = e->process;
	bool first;

	if (p && *p->exe) {
		key(b, "exe");
		str(b, p->exe);
	}
	if (p && p->argv) {
		key(b, "argv");
		tp_buf_putc(b, '[');
		for (size_t i = 0; i < p->argv->n_values; i++) {
			if (i)
				tp_buf_putc(b, ',');
			str(b, p->argv->values[i]);
		}
		tp_buf_putc(b, ']');
		if (p->argv_truncated)
			tp_buf_puts(b, ",\"argv_truncated\":true");
	}
	if (p && p->parent) {
		key(b, "parent");
		process_ref(b, p->parent);
	}
	if (p && p->n_ancestors) {
		key(b, "ancestors");
		tp_buf_putc(b, '[');
		for (size_t i = 0; i < p->n_ancestors; i++) {
			if (i)
				tp_buf_putc(b, ',');
			process_ref(b, p->ancestors[i]);
		}
		tp_buf_putc(b, ']');
	}
	if (e->container) {
		key(b, "container");
		tp_buf_putc(b, '{');
		first = true;
		member(b, &first, "id", e->container->id);
		member(b, &first, "runtime", e->container->runtime);
		tp_buf_putc(b, '}');
	}
	if (e->k8s) {
		const Tapio__V1__Kubernetes *k = e->k8s;

		key(b, "k8s");
		tp_buf_putc(b, '{');
		first = true;
		member(b, &first, "pod", k->pod);
		member(b, &first, "namespace", k->namespace_);
		member(b, &first, "pod_uid", k->pod_uid);
		member(b, &first, "container", k->container);
		member(b, &first, "qos", k->qos);
		tp_buf_putc(b, '}');
	}
}

static void event(struct tp_buf *b, const Tapio__V1__EventBatch *batch, const Tapio__V1__Event *e)
{
	static const char *const severities[] = { "", "debug", "info", "notice",
						   "warning", "error", "critical" };
	const Tapio__V1__Process *p = e->process;
	bool alert = e->rule && *e->rule;

	tp_buf_puts(b, "{\"collector_id\":");
	str(b, batch->collector_id);
	tp_buf_puts(b, ",\"batch_seq\":");
	tp_buf_u64(b, batch->sequence);
	key(b, "type");
	str(b, e->type);
	key(b, "ts");
	tp_buf_u64(b, e->timestamp_ns);
	key(b, "cpu");
	tp_buf_u64(b, e->cpu);
	if (p) {
		key(b, "pid");
		tp_buf_u64(b, p->pid);
		key(b, "tid");
		tp_buf_u64(b, p->tid);
		key(b, "ppid");
		tp_buf_u64(b, p->ppid);
		key(b, "uid");
		tp_buf_u64(b, p->uid);
		key(b, "gid");
		tp_buf_u64(b, p->gid);
		key(b, "comm");
		str(b, p->comm);
		key(b, "cgroup_id");
		tp_buf_u64(b, p->cgroup_id);
		if (p->cgroup_v1_id) {
			key(b, "cgroup_v1_id");
			tp_buf_u64(b, p->cgroup_v1_id);
		}
	}
	for (size_t i = 0; i < e->n_fields; i++)
		field(b, e->fields[i]);
	enrichment(b, e);
	for (size_t i = 0; i < e->n_attributes; i++)
		field(b, e->attributes[i]);
	if (e->importance >= 0 || alert) {
		key(b, "importance");
		dbl(b, e->importance);
	}
	if (e->sample_rate > 1) {
		key(b, "sample_rate");
		tp_buf_u64(b, e->sample_rate);
	}
	if (alert) {
		key(b, "rule");
		str(b, e->rule);
		key(b, "severity");
		str(b, (unsigned)e->severity < 7 ? severities[e->severity] : "");
		key(b, "output");
		str(b, e->output);
	}
	if (e->n_tags || alert) {
		key(b, "tags");
		tp_buf_putc(b, '[');
		for (size_t i = 0; i < e->n_tags; i++) {
			if (i)
				tp_buf_putc(b, ',');
			str(b, e->tags[i]);
		}
		tp_buf_putc(b, ']');
	}
	tp_buf_puts(b, "}\n");
}

void tp_sink_batch_json(const Tapio__V1__EventBatch *b, struct tp_buf *out)
{
	for (size_t i = 0; i < b->n_events; i++)
		event(out, b, b->events[i]);
}
