#include "output/tapio_encode.h"

#include <errno.h>
#include <string.h>

#include "delivery/pbwire.h"
#include "events/proc_ctx.h"
#include "tapio/v1/tapio.pb-c.h"
#include "version.h"

#define MAX_FIELDS 64

static const char *const severities[] = {
	[TAPIO__V1__SEVERITY__SEVERITY_DEBUG] = "debug",
	[TAPIO__V1__SEVERITY__SEVERITY_INFO] = "info",
	[TAPIO__V1__SEVERITY__SEVERITY_NOTICE] = "notice",
	[TAPIO__V1__SEVERITY__SEVERITY_WARNING] = "warning",
	[TAPIO__V1__SEVERITY__SEVERITY_ERROR] = "error",
	[TAPIO__V1__SEVERITY__SEVERITY_CRITICAL] = "critical",
};

int tp_tapio_severity(const char *name)
{
	for (size_t i = 1; name && i < sizeof(severities) / sizeof(severities[0]); i++)
		if (!strcmp(name, severities[i]))
			return (int)i;
	return 0;
}

/* A string for a protobuf-c char* field: valid UTF-8, never NULL. It may
 * be s itself: s must live until the event is packed. */
static char *str(struct tp_arena *a, const char *s, size_t n, bool *oom)
{
	const char *r = tp_arena_utf8(a, s, n);

	if (!r) {
		*oom = true;
		return (char *)"";
	}
	return (char *)r;
}

/* The same, copied: for text in a local buffer. */
static char *str_copy(struct tp_arena *a, const char *s, size_t n, bool *oom)
{
	const char *r = tp_arena_utf8_copy(a, s, n);

	if (!r) {
		*oom = true;
		return (char *)"";
	}
	return (char *)r;
}

/* NUL-separated arguments as a StringList; NULL when out of memory. */
static Tapio__V1__StringList *string_list(struct tp_arena *a, const char *av, uint32_t len,
					  bool *oom)
{
	Tapio__V1__StringList *list = tp_arena_alloc(a, sizeof(*list));
	uint32_t count = 0;
	const char *p;
	size_t n;

	if (!list) {
		*oom = true;
		return NULL;
	}
	tapio__v1__string_list__init(list);
	for (p = tp_argv_next(av, len, NULL, &n); p; p = tp_argv_next(av, len, p, &n))
		count++;
	list->values = tp_arena_alloc(a, (count ? count : 1) * sizeof(char *));
	if (!list->values) {
		*oom = true;
		return NULL;
	}
	for (p = tp_argv_next(av, len, NULL, &n); p; p = tp_argv_next(av, len, p, &n))
		list->values[list->n_values++] = str(a, p, n, oom);
	return list;
}

static void encode_argv(struct tp_arena *a, Tapio__V1__Field *pf, const struct tp_event *ev,
			const struct tp_field *f, bool *oom)
{
	uint32_t len;
	const char *av = tp_field_argv(ev, f, &len);

	pf->string_list = string_list(a, av, len, oom);
	if (pf->string_list)
		pf->value_case = TAPIO__V1__FIELD__VALUE_STRING_LIST;
}

/* NAME=value strings (first occurrence of each name) as a StringMap. */
static void encode_env(struct tp_arena *a, Tapio__V1__Field *pf, const struct tp_event *ev,
		       const struct tp_field *f, bool *oom)
{
	Tapio__V1__StringMap *map = tp_arena_alloc(a, sizeof(*map));
	struct tp_env_entry en;
	uint32_t len, count = 0;
	const char *av = tp_field_argv(ev, f, &len);
	Tapio__V1__StringPair *pairs;

	for (bool ok = tp_env_next(av, len, NULL, &en); ok; ok = tp_env_next(av, len, &en, &en))
		count++;
	pairs = tp_arena_alloc(a, (count ? count : 1) * sizeof(*pairs));
	if (!map || !pairs) {
		*oom = true;
		return;
	}
	tapio__v1__string_map__init(map);
	map->entries = tp_arena_alloc(a, (count ? count : 1) * sizeof(*map->entries));
	if (!map->entries) {
		*oom = true;
		return;
	}
	for (bool ok = tp_env_next(av, len, NULL, &en); ok; ok = tp_env_next(av, len, &en, &en)) {
		Tapio__V1__StringPair *sp = &pairs[map->n_entries];

		tapio__v1__string_pair__init(sp);
		sp->name = str(a, en.name, en.name_len, oom);
		sp->value = str(a, en.value, en.value_len, oom);
		map->entries[map->n_entries++] = sp;
	}
	pf->value_case = TAPIO__V1__FIELD__VALUE_STRING_MAP;
	pf->string_map = map;
}

/* The type's own fields, generically over its descriptor table. */
static size_t encode_fields(struct tp_arena *a, const struct tp_event *ev, Tapio__V1__Field *out,
			    Tapio__V1__Field **ptrs, bool *oom)
{
	const struct tp_event_type *t = ev->type;
	char tmp[256];
	size_t n = 0;

	for (uint32_t i = 0; i < t->nfields && n < MAX_FIELDS; i++) {
		const struct tp_field *f = &t->fields[i];
		Tapio__V1__Field *pf = &out[n];
		uint64_t u = 0;
		int64_t s;

		if (!tp_field_present(ev, f))
			continue;
		tapio__v1__field__init(pf);
		pf->name = (char *)f->name;
		switch (f->kind) {
		case TP_FK_STR: {
			const char *v = tp_field_str(ev, f);

			pf->value_case = TAPIO__V1__FIELD__VALUE_STRING_VALUE;
			pf->string_value = str(a, v, strlen(v), oom);
			break;
		}
		case TP_FK_ARGV:
			encode_argv(a, pf, ev, f, oom);
			break;
		case TP_FK_ENV:
			encode_env(a, pf, ev, f, oom);
			break;
		case TP_FK_IPADDR:
			if (tp_field_ipaddr(ev, f, tmp, sizeof(tmp))) {
				pf->value_case = TAPIO__V1__FIELD__VALUE_STRING_VALUE;
				pf->string_value = str_copy(a, tmp, strlen(tmp), oom);
			} /* else no value: an address of no family */
			break;
		case TP_FK_BOOL:
			tp_field_u64(ev, f, &u);
			pf->value_case = TAPIO__V1__FIELD__VALUE_BOOL_VALUE;
			pf->bool_value = u != 0;
			break;
		case TP_FK_S32:
		case TP_FK_S64:
			tp_field_i64(ev, f, &s);
			pf->value_case = TAPIO__V1__FIELD__VALUE_INT_VALUE;
			pf->int_value = s;
			u = (uint64_t)s;
			break;
		default:
			tp_field_u64(ev, f, &u);
			pf->value_case = TAPIO__V1__FIELD__VALUE_UINT_VALUE;
			pf->uint_value = u;
			break;
		}
		if (f->syms && f->kind != TP_FK_STR && f->kind != TP_FK_ARGV && f->kind != TP_FK_ENV &&
		    f->kind != TP_FK_IPADDR && f->kind != TP_FK_BOOL &&
		    tp_field_sym(f, u, tmp, sizeof(tmp)))
			pf->symbol = str_copy(a, tmp, strlen(tmp), oom);
		ptrs[n] = pf;
		n++;
	}
	return n;
}

static Tapio__V1__Field **encode_kv(struct tp_arena *a, const struct tp_event_meta *meta, bool *oom)
{
	Tapio__V1__Field *fs = tp_arena_alloc(a, meta->nkv * sizeof(*fs));
	Tapio__V1__Field **ptrs = tp_arena_alloc(a, meta->nkv * sizeof(*ptrs));

	if (!fs || !ptrs) {
		*oom = true;
		return NULL;
	}
	for (size_t i = 0; i < meta->nkv; i++) {
		const struct tp_kv *kv = &meta->kv[i];
		Tapio__V1__Field *pf = &fs[i];

		tapio__v1__field__init(pf);
		pf->name = str(a, kv->key, strlen(kv->key), oom);
		switch (kv->value.kind) {
		case TP_V_STR:
			pf->value_case = TAPIO__V1__FIELD__VALUE_STRING_VALUE;
			pf->string_value = str(a, kv->value.str.s, kv->value.str.len, oom);
			break;
		case TP_V_INT:
			pf->value_case = TAPIO__V1__FIELD__VALUE_INT_VALUE;
			pf->int_value = kv->value.i;
			break;
		case TP_V_NUM:
			pf->value_case = TAPIO__V1__FIELD__VALUE_DOUBLE_VALUE;
			pf->double_value = kv->value.d;
			break;
		case TP_V_BOOL:
			pf->value_case = TAPIO__V1__FIELD__VALUE_BOOL_VALUE;
			pf->bool_value = kv->value.b;
			break;
		}
		ptrs[i] = pf;
	}
	return ptrs;
}

static char **encode_tags(struct tp_arena *a, const struct tp_event_meta *meta, size_t *n,
			  bool *oom)
{
	const struct tp_alert *al = meta->alert;
	size_t total = meta->ntags + (al ? al->ntags : 0), k = 0;
	char **tags = tp_arena_alloc(a, (total ? total : 1) * sizeof(char *));

	*n = 0;
	if (!tags) {
		*oom = true;
		return NULL;
	}
	/* As in JSON: the rule's tags, then those enrich functions added. */
	for (size_t i = 0; al && i < al->ntags; i++)
		tags[k++] = str(a, al->tags[i], strlen(al->tags[i]), oom);
	for (size_t i = 0; i < meta->ntags; i++)
		tags[k++] = str(a, meta->tags[i], strlen(meta->tags[i]), oom);
	*n = k;
	return tags;
}

/* A string of the enrichment: "" (not sent) when unknown. */
static char *opt_str(struct tp_arena *a, const char *s, bool *oom)
{
	return s ? str(a, s, strlen(s), oom) : (char *)"";
}

static Tapio__V1__ProcessRef *proc_ref(struct tp_arena *a, const struct tp_proc_ref *r, bool *oom)
{
	Tapio__V1__ProcessRef *pr = tp_arena_alloc(a, sizeof(*pr));

	if (!pr) {
		*oom = true;
		return NULL;
	}
	tapio__v1__process_ref__init(pr);
	pr->pid = r->pid;
	pr->comm = opt_str(a, r->comm, oom);
	pr->exe = opt_str(a, r->exe, oom);
	return pr;
}

/* The enrichment (proc_ctx.h) into e->process, e->container and e->k8s,
 * with what JSON shows of it: argv only on events without their own, the
 * ancestors on process events only. Unknown stays unset. */
static void encode_proc(struct tp_arena *a, const struct tp_event *ev,
			const struct tp_proc_ctx *pc, Tapio__V1__Event *e, bool *oom)
{
	Tapio__V1__Process *proc = e->process;

	proc->exe = opt_str(a, pc->exe, oom);
	if (pc->argv && !tp_event_field(ev->type, "argv")) {
		proc->argv = string_list(a, pc->argv, pc->argv_len, oom);
		proc->argv_truncated = pc->argv_truncated;
	}
	if (pc->parent) {
		proc->parent = proc_ref(a, pc->parent, oom);
		proc->parent_comm = opt_str(a, pc->parent->comm, oom);
	}
	if (pc->nancestors && TP_TYPE_CATEGORY(ev->type->id) == TP_CAT_PROCESS) {
		proc->ancestors = tp_arena_alloc(a, pc->nancestors * sizeof(*proc->ancestors));
		if (!proc->ancestors) {
			*oom = true;
			return;
		}
		for (size_t i = 0; i < pc->nancestors; i++)
			if ((proc->ancestors[proc->n_ancestors] = proc_ref(a, &pc->ancestors[i], oom)))
				proc->n_ancestors++;
	}
	if (pc->container) {
		Tapio__V1__Container *c = tp_arena_alloc(a, sizeof(*c));

		if (!c) {
			*oom = true;
			return;
		}
		tapio__v1__container__init(c);
		c->id = opt_str(a, pc->container->id, oom);
		c->runtime = opt_str(a, pc->container->runtime, oom);
		e->container = c;
	}
	if (pc->k8s) {
		Tapio__V1__Kubernetes *k = tp_arena_alloc(a, sizeof(*k));

		if (!k) {
			*oom = true;
			return;
		}
		tapio__v1__kubernetes__init(k);
		k->pod = opt_str(a, pc->k8s->pod, oom);
		k->namespace_ = opt_str(a, pc->k8s->namespace, oom);
		k->pod_uid = opt_str(a, pc->k8s->pod_uid, oom);
		k->container = opt_str(a, pc->k8s->container, oom);
		k->qos = opt_str(a, pc->k8s->qos, oom);
		e->k8s = k;
	}
}

int tp_tapio_encode_event(const struct tp_event *ev, const struct tp_event_meta *meta,
			  struct tp_arena *arena, struct tp_buf *out)
{
	const struct tp_hdr *h = &ev->rec.hdr;
	Tapio__V1__Event e = TAPIO__V1__EVENT__INIT;
	Tapio__V1__Process proc = TAPIO__V1__PROCESS__INIT;
	Tapio__V1__Field fields[MAX_FIELDS], *field_ptrs[MAX_FIELDS];
	bool oom = false;
	size_t size;

	tp_arena_reset(arena);
	e.type = (char *)ev->type->name;
	e.timestamp_ns = ev->ts_wall_ns;
	e.boot_time_ns = h->ts_ns;
	e.cpu = h->cpu;
	proc.pid = h->pid;
	proc.tid = h->tid;
	proc.ppid = h->ppid;
	proc.uid = h->uid;
	proc.gid = h->gid;
	proc.comm = str(arena, h->comm, strnlen(h->comm, sizeof(h->comm)), &oom);
	proc.cgroup_id = h->cgroup_id;
	proc.cgroup_v1_id = h->cgroup_v1_id;
	e.process = &proc;
	e.n_fields = encode_fields(arena, ev, fields, field_ptrs, &oom);
	e.fields = field_ptrs;
	e.importance = -1;

	if (meta) {
		const struct tp_alert *al = meta->alert;

		if (meta->nkv) {
			e.attributes = encode_kv(arena, meta, &oom);
			e.n_attributes = e.attributes ? meta->nkv : 0;
		}
		e.importance = al ? al->importance : meta->importance < 0 ? -1 : meta->importance;
		e.sample_rate = meta->sample_rate;
		if (al) {
			e.rule = str(arena, al->rule, strlen(al->rule), &oom);
			e.severity = (Tapio__V1__Severity)tp_tapio_severity(al->severity);
			e.output = str(arena, al->output, strlen(al->output), &oom);
		}
		e.tags = encode_tags(arena, meta, &e.n_tags, &oom);
		if (meta->proc)
			encode_proc(arena, ev, meta->proc, &e, &oom);
	}
	if (oom)
		return -ENOMEM;

	size = tapio__v1__event__get_packed_size(&e);
	tp_pb_put_len_prefix(out, TP_PB_BATCH_EVENTS, size);
	if (!tp_buf_reserve(out, size))
		return -ENOMEM;
	out->len += tapio__v1__event__pack(&e, (uint8_t *)out->data + out->len);
	return tp_buf_failed(out) ? -ENOMEM : 0;
}

int tp_tapio_encode_batch_header(const char *collector_id, uint64_t seq, const char *correlation,
				 const char *hostname, struct tp_buf *out)
{
	Tapio__V1__EventBatch b = TAPIO__V1__EVENT_BATCH__INIT;
	size_t size;

	b.collector_id = (char *)collector_id;
	b.sequence = seq;
	b.correlation_mode = (char *)(correlation ? correlation : "");
	b.hostname = (char *)(hostname ? hostname : "");
	b.agent_version = (char *)TAPIO_VERSION;
	size = tapio__v1__event_batch__get_packed_size(&b);
	if (!tp_buf_reserve(out, size))
		return -ENOMEM;
	out->len += tapio__v1__event_batch__pack(&b, (uint8_t *)out->data + out->len);
	return 0;
}
