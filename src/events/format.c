#include "events/format.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "events/proc_ctx.h"
#include "util/time.h"

int tp_format_parse(const char *name, enum tp_output_format *fmt)
{
	if (!strcmp(name, "text"))
		*fmt = TP_FMT_TEXT;
	else if (!strcmp(name, "json"))
		*fmt = TP_FMT_JSON;
	else if (!strcmp(name, "none"))
		*fmt = TP_FMT_NONE;
	else
		return -EINVAL;
	return 0;
}

/* ,"<key><suffix>": in one reservation. Keys are our own identifiers: no
 * escaping needed. */
static void json_key_suffixed(struct tp_buf *b, const char *key, const char *suffix)
{
	size_t kn = strlen(key), sn = strlen(suffix);
	char *p;

	if (!tp_buf_reserve(b, kn + sn + 4))
		return;
	p = b->data + b->len;
	*p++ = ',';
	*p++ = '"';
	memcpy(p, key, kn);
	p += kn;
	memcpy(p, suffix, sn);
	p += sn;
	*p++ = '"';
	*p++ = ':';
	b->len = (size_t)(p - b->data);
}

static void json_key(struct tp_buf *b, const char *key)
{
	json_key_suffixed(b, key, "");
}

/* A string literal appended without strlen. */
#define PUT_LIT(b, lit) tp_buf_append((b), (lit), sizeof(lit) - 1)

/* "%.6g" of d. The values an event carries (importance: the few a rule set
 * gives) repeat, so the last few are kept per thread by their bits: the
 * same bytes as snprintf without its cost on every line. */
#define DBL_CACHE 8
static _Thread_local struct {
	uint64_t bits;
	uint8_t len; /* 0: empty */
	char s[23];
} dbl_cache[DBL_CACHE];

static void json_double(struct tp_buf *b, double d)
{
	uint64_t bits;
	unsigned slot;
	int n;

	if (!isfinite(d)) {
		PUT_LIT(b, "null");
		return;
	}
	memcpy(&bits, &d, sizeof(bits));
	slot = (unsigned)((bits ^ (bits >> 29) ^ (bits >> 52)) % DBL_CACHE);
	if (dbl_cache[slot].len && dbl_cache[slot].bits == bits) {
		tp_buf_append(b, dbl_cache[slot].s, dbl_cache[slot].len);
		return;
	}
	/* "%.6g" of a finite double: at most "-1.23457e+308", 13 bytes. */
	n = snprintf(dbl_cache[slot].s, sizeof(dbl_cache[slot].s), "%.6g", d);
	if (n <= 0 || (size_t)n >= sizeof(dbl_cache[slot].s)) {
		dbl_cache[slot].len = 0;
		tp_buf_printf(b, "%.6g", d);
		return;
	}
	dbl_cache[slot].bits = bits;
	dbl_cache[slot].len = (uint8_t)n;
	tp_buf_append(b, dbl_cache[slot].s, (size_t)n);
}

static void json_value(struct tp_buf *b, const struct tp_value *v)
{
	switch (v->kind) {
	case TP_V_STR: tp_buf_json_str(b, v->str.s, v->str.len); break;
	case TP_V_INT: tp_buf_i64(b, v->i); break;
	case TP_V_NUM: json_double(b, v->d); break;
	case TP_V_BOOL: tp_buf_puts(b, v->b ? "true" : "false"); break;
	}
}

void tp_format_json_fields(struct tp_buf *b, const struct tp_event *ev)
{
	const struct tp_event_type *t = ev->type;
	char tmp[1024]; /* room for a full capability set by name */

	for (uint32_t i = 0; i < t->nfields; i++) {
		const struct tp_field *f = &t->fields[i];
		uint64_t u;
		int64_t s;

		if (!tp_field_present(ev, f))
			continue;
		switch (f->kind) {
		case TP_FK_STR: {
			const char *str = tp_field_str(ev, f);

			json_key(b, f->name);
			tp_buf_json_str(b, str, strlen(str));
			break;
		}
		case TP_FK_ARGV: {
			uint32_t len;
			size_t n;
			const char *av = tp_field_argv(ev, f, &len);
			bool first = true;

			json_key(b, f->name);
			tp_buf_putc(b, '[');
			for (const char *p = tp_argv_next(av, len, NULL, &n); p;
			     p = tp_argv_next(av, len, p, &n)) {
				if (!first)
					tp_buf_putc(b, ',');
				tp_buf_json_str(b, p, n);
				first = false;
			}
			tp_buf_putc(b, ']');
			break;
		}
		case TP_FK_ENV: {
			struct tp_env_entry en;
			uint32_t len;
			const char *av = tp_field_argv(ev, f, &len);
			bool first = true;

			json_key(b, f->name);
			tp_buf_putc(b, '{');
			for (bool ok = tp_env_next(av, len, NULL, &en); ok;
			     ok = tp_env_next(av, len, &en, &en)) {
				if (!first)
					tp_buf_putc(b, ',');
				tp_buf_json_str(b, en.name, en.name_len);
				tp_buf_putc(b, ':');
				tp_buf_json_str(b, en.value, en.value_len);
				first = false;
			}
			tp_buf_putc(b, '}');
			break;
		}
		case TP_FK_IPADDR:
			json_key(b, f->name);
			if (tp_field_ipaddr(ev, f, tmp, sizeof(tmp)))
				tp_buf_json_str(b, tmp, strlen(tmp));
			else
				PUT_LIT(b, "null");
			break;
		case TP_FK_BOOL:
			tp_field_u64(ev, f, &u);
			json_key(b, f->name);
			tp_buf_puts(b, u ? "true" : "false");
			break;
		case TP_FK_S32:
		case TP_FK_S64:
			tp_field_i64(ev, f, &s);
			json_key(b, f->name);
			tp_buf_i64(b, s);
			u = (uint64_t)s;
			goto syms;
		default:
			tp_field_u64(ev, f, &u);
			json_key(b, f->name);
			tp_buf_u64(b, u);
syms:
			if (f->syms && tp_field_sym(f, u, tmp, sizeof(tmp))) {
				json_key_suffixed(b, f->name, "_str");
				tp_buf_json_str(b, tmp, strlen(tmp));
			}
			break;
		}
	}
}

/* key: "\"name\":", klen its length (STR_FIELD passes a literal name). */
static void json_str_field(struct tp_buf *b, bool *first, const char *key, size_t klen,
			   const char *v)
{
	if (!v)
		return;
	if (!*first)
		tp_buf_putc(b, ',');
	*first = false;
	tp_buf_append(b, key, klen);
	tp_buf_json_str(b, v, strlen(v));
}

#define STR_FIELD(b, first, name, v) \
	json_str_field((b), (first), "\"" name "\":", sizeof(name) + 2, (v))

static void json_proc_ref(struct tp_buf *b, const struct tp_proc_ref *r)
{
	bool first = false;

	PUT_LIT(b, "{\"pid\":");
	tp_buf_u64(b, r->pid);
	STR_FIELD(b, &first, "comm", r->comm);
	STR_FIELD(b, &first, "exe", r->exe);
	tp_buf_putc(b, '}');
}

static void json_argv(struct tp_buf *b, const char *av, uint32_t len)
{
	bool first = true;
	size_t n;

	tp_buf_putc(b, '[');
	for (const char *p = tp_argv_next(av, len, NULL, &n); p; p = tp_argv_next(av, len, p, &n)) {
		if (!first)
			tp_buf_putc(b, ',');
		tp_buf_json_str(b, p, n);
		first = false;
	}
	tp_buf_putc(b, ']');
}

/* The enrichment: nested objects, each absent when unknown (proc_ctx.h). */
static void json_proc(struct tp_buf *b, const struct tp_event *ev, const struct tp_proc_ctx *pc)
{
	bool first;

	if (pc->exe) {
		PUT_LIT(b, ",\"exe\":");
		tp_buf_json_str(b, pc->exe, strlen(pc->exe));
	}
	/* An exec event has the new argv as its own field already. */
	if (pc->argv && !tp_event_field(ev->type, "argv")) {
		PUT_LIT(b, ",\"argv\":");
		json_argv(b, pc->argv, pc->argv_len);
		if (pc->argv_truncated)
			PUT_LIT(b, ",\"argv_truncated\":true");
	}
	if (pc->parent) {
		PUT_LIT(b, ",\"parent\":");
		json_proc_ref(b, pc->parent);
	}
	/* The whole tree where it matters (and Lua has it on every event): a
	 * full ancestry triples the size of every file or network line. */
	if (pc->nancestors && TP_TYPE_CATEGORY(ev->type->id) == TP_CAT_PROCESS) {
		PUT_LIT(b, ",\"ancestors\":");
		tp_buf_putc(b, '[');
		for (size_t i = 0; i < pc->nancestors; i++) {
			if (i)
				tp_buf_putc(b, ',');
			json_proc_ref(b, &pc->ancestors[i]);
		}
		tp_buf_putc(b, ']');
	}
	if (pc->container) {
		PUT_LIT(b, ",\"container\":");
		tp_buf_putc(b, '{');
		first = true;
		STR_FIELD(b, &first, "id", pc->container->id);
		STR_FIELD(b, &first, "runtime", pc->container->runtime);
		tp_buf_putc(b, '}');
	}
	if (pc->k8s) {
		PUT_LIT(b, ",\"k8s\":");
		tp_buf_putc(b, '{');
		first = true;
		STR_FIELD(b, &first, "pod", pc->k8s->pod);
		STR_FIELD(b, &first, "namespace", pc->k8s->namespace);
		STR_FIELD(b, &first, "pod_uid", pc->k8s->pod_uid);
		STR_FIELD(b, &first, "container", pc->k8s->container);
		STR_FIELD(b, &first, "qos", pc->k8s->qos);
		tp_buf_putc(b, '}');
	}
}

void tp_format_json(struct tp_buf *b, const struct tp_event *ev, const struct tp_event_meta *meta)
{
	const struct tp_hdr *h = &ev->rec.hdr;

	PUT_LIT(b, "{\"type\":\"");
	tp_buf_puts(b, ev->type->name);
	PUT_LIT(b, "\",\"ts\":");
	tp_buf_u64(b, ev->ts_wall_ns);
	PUT_LIT(b, ",\"cpu\":");
	tp_buf_u64(b, h->cpu);
	PUT_LIT(b, ",\"pid\":");
	tp_buf_u64(b, h->pid);
	PUT_LIT(b, ",\"tid\":");
	tp_buf_u64(b, h->tid);
	PUT_LIT(b, ",\"ppid\":");
	tp_buf_u64(b, h->ppid);
	PUT_LIT(b, ",\"uid\":");
	tp_buf_u64(b, h->uid);
	PUT_LIT(b, ",\"gid\":");
	tp_buf_u64(b, h->gid);
	PUT_LIT(b, ",\"comm\":");
	tp_buf_json_str(b, h->comm, strnlen(h->comm, sizeof(h->comm)));
	PUT_LIT(b, ",\"cgroup_id\":");
	tp_buf_u64(b, h->cgroup_id);
	if (h->cgroup_v1_id) {
		PUT_LIT(b, ",\"cgroup_v1_id\":");
		tp_buf_u64(b, h->cgroup_v1_id);
	}
	tp_format_json_fields(b, ev);

	if (meta) {
		if (meta->proc)
			json_proc(b, ev, meta->proc);
		for (size_t i = 0; i < meta->nkv; i++) {
			tp_buf_putc(b, ',');
			tp_buf_json_str(b, meta->kv[i].key, strlen(meta->kv[i].key));
			tp_buf_putc(b, ':');
			json_value(b, &meta->kv[i].value);
		}
		if (meta->importance >= 0 || meta->alert) {
			PUT_LIT(b, ",\"importance\":");
			json_double(b, meta->alert ? meta->alert->importance : meta->importance);
		}
		if (meta->sample_rate > 1) {
			PUT_LIT(b, ",\"sample_rate\":");
			tp_buf_u64(b, meta->sample_rate);
		}
		if (meta->alert) {
			const struct tp_alert *a = meta->alert;

			PUT_LIT(b, ",\"rule\":");
			tp_buf_json_str(b, a->rule, strlen(a->rule));
			PUT_LIT(b, ",\"severity\":");
			tp_buf_json_str(b, a->severity, strlen(a->severity));
			PUT_LIT(b, ",\"output\":");
			tp_buf_json_str(b, a->output, strlen(a->output));
		}
		/* One tags array: the rule's tags, then those enrich functions added. */
		if (meta->ntags || (meta->alert && meta->alert->ntags)) {
			bool first = true;

			PUT_LIT(b, ",\"tags\":");
			tp_buf_putc(b, '[');
			for (size_t i = 0; meta->alert && i < meta->alert->ntags; i++, first = false) {
				if (!first)
					tp_buf_putc(b, ',');
				tp_buf_json_str(b, meta->alert->tags[i], strlen(meta->alert->tags[i]));
			}
			for (size_t i = 0; i < meta->ntags; i++, first = false) {
				if (!first)
					tp_buf_putc(b, ',');
				tp_buf_json_str(b, meta->tags[i], strlen(meta->tags[i]));
			}
			tp_buf_putc(b, ']');
		} else if (meta->alert) {
			PUT_LIT(b, ",\"tags\":");
			PUT_LIT(b, "[]");
		}
	}
	PUT_LIT(b, "}\n");
}

/* ANSI colours: one per category, and severities for alerts. */
static const char *const category_colors[TP_CAT_MAX] = {
	[TP_CAT_PROCESS] = "\033[32m",   /* green */
	[TP_CAT_FILE] = "\033[36m",      /* cyan */
	[TP_CAT_NETWORK] = "\033[34m",   /* blue */
	[TP_CAT_SECURITY] = "\033[35m",  /* magenta */
	[TP_CAT_CONTAINER] = "\033[33m", /* yellow */
	[TP_CAT_MEMORY] = "\033[37m",    /* white */
	[TP_CAT_AGENT] = "\033[31m",     /* red: the agent was blind */
};
#define COLOR_RESET "\033[0m"
#define COLOR_DIM "\033[2m"

static const char *severity_color(const char *sev)
{
	if (!strcmp(sev, "critical") || !strcmp(sev, "error"))
		return "\033[1;31m";
	if (!strcmp(sev, "warning"))
		return "\033[1;33m";
	return "\033[1m";
}

/* A value in key=value form: quoted when it holds spaces or quotes. */
static void text_value(struct tp_buf *b, const char *s, size_t n)
{
	if (n && !memchr(s, ' ', n) && !memchr(s, '"', n) && !memchr(s, '=', n)) {
		tp_buf_text_str(b, s, n);
		return;
	}
	tp_buf_putc(b, '"');
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			PUT_LIT(b, "\\\"");
		else
			tp_buf_text_str(b, s + i, 1);
	}
	tp_buf_putc(b, '"');
}

static void text_key(struct tp_buf *b, const char *key, bool color)
{
	tp_buf_putc(b, ' ');
	if (color)
		tp_buf_puts(b, COLOR_DIM);
	tp_buf_puts(b, key);
	tp_buf_putc(b, '=');
	if (color)
		tp_buf_puts(b, COLOR_RESET);
}

static void text_fields(struct tp_buf *b, const struct tp_event *ev, bool color)
{
	const struct tp_event_type *t = ev->type;
	char tmp[1024]; /* room for a full capability set by name */

	for (uint32_t i = 0; i < t->nfields; i++) {
		const struct tp_field *f = &t->fields[i];
		uint64_t u;
		int64_t s;

		if (!tp_field_present(ev, f))
			continue;
		switch (f->kind) {
		case TP_FK_STR: {
			const char *str = tp_field_str(ev, f);

			text_key(b, f->name, color);
			text_value(b, str, strlen(str));
			break;
		}
		case TP_FK_ARGV: {
			uint32_t len;
			size_t n;
			const char *av = tp_field_argv(ev, f, &len);
			bool first = true;

			text_key(b, f->name, color);
			tp_buf_putc(b, '[');
			for (const char *p = tp_argv_next(av, len, NULL, &n); p;
			     p = tp_argv_next(av, len, p, &n)) {
				if (!first)
					tp_buf_putc(b, ' ');
				text_value(b, p, n);
				first = false;
			}
			tp_buf_putc(b, ']');
			break;
		}
		case TP_FK_ENV: {
			struct tp_env_entry en;
			uint32_t len;
			const char *av = tp_field_argv(ev, f, &len);
			bool first = true;

			text_key(b, f->name, color);
			tp_buf_putc(b, '[');
			for (bool ok = tp_env_next(av, len, NULL, &en); ok;
			     ok = tp_env_next(av, len, &en, &en)) {
				if (!first)
					tp_buf_putc(b, ' ');
				text_value(b, en.name, en.name_len + 1 + en.value_len);
				first = false;
			}
			tp_buf_putc(b, ']');
			break;
		}
		case TP_FK_IPADDR:
			if (!tp_field_ipaddr(ev, f, tmp, sizeof(tmp)))
				break;
			text_key(b, f->name, color);
			tp_buf_puts(b, tmp);
			break;
		case TP_FK_BOOL:
			tp_field_u64(ev, f, &u);
			if (!u)
				break; /* a false flag is noise in a human line */
			text_key(b, f->name, color);
			PUT_LIT(b, "true");
			break;
		case TP_FK_S32:
		case TP_FK_S64:
			tp_field_i64(ev, f, &s);
			text_key(b, f->name, color);
			u = (uint64_t)s;
			if (f->syms && tp_field_sym(f, u, tmp, sizeof(tmp)))
				tp_buf_puts(b, tmp);
			else
				tp_buf_i64(b, s);
			break;
		case TP_FK_HEX:
			tp_field_u64(ev, f, &u);
			text_key(b, f->name, color);
			if (f->syms && tp_field_sym(f, u, tmp, sizeof(tmp)))
				tp_buf_puts(b, tmp);
			else
				tp_buf_printf(b, "0x%llx", (unsigned long long)u);
			break;
		case TP_FK_OCTAL:
			tp_field_u64(ev, f, &u);
			text_key(b, f->name, color);
			tp_buf_printf(b, "0%llo", (unsigned long long)u);
			break;
		default:
			tp_field_u64(ev, f, &u);
			text_key(b, f->name, color);
			if (f->syms && tp_field_sym(f, u, tmp, sizeof(tmp)))
				tp_buf_puts(b, tmp);
			else
				tp_buf_u64(b, u);
			break;
		}
	}
}

/* Compact: exe=... parent=comm[pid] container=<12 chars>(runtime)
 * pod=namespace/pod[/container]; unknown parts left out. */
static void text_proc(struct tp_buf *b, const struct tp_proc_ctx *pc, bool color)
{
	if (pc->exe) {
		text_key(b, "exe", color);
		text_value(b, pc->exe, strlen(pc->exe));
	}
	if (pc->parent) {
		text_key(b, "parent", color);
		if (pc->parent->comm)
			text_value(b, pc->parent->comm, strlen(pc->parent->comm));
		tp_buf_printf(b, "[%u]", pc->parent->pid);
	}
	if (pc->container) {
		text_key(b, "container", color);
		text_value(b, pc->container->id, strnlen(pc->container->id, 12));
		if (pc->container->runtime)
			tp_buf_printf(b, "(%s)", pc->container->runtime);
	}
	if (pc->k8s && (pc->k8s->pod || pc->k8s->pod_uid)) {
		const char *ns = pc->k8s->namespace, *pod = pc->k8s->pod;

		text_key(b, "pod", color);
		if (ns && pod) {
			text_value(b, ns, strlen(ns));
			tp_buf_putc(b, '/');
			text_value(b, pod, strlen(pod));
		} else {
			text_value(b, pc->k8s->pod_uid, strlen(pc->k8s->pod_uid));
		}
		if (pc->k8s->container) {
			tp_buf_putc(b, '/');
			text_value(b, pc->k8s->container, strlen(pc->k8s->container));
		}
	}
}

void tp_format_text(struct tp_buf *b, const struct tp_event *ev, const struct tp_event_meta *meta,
		    bool color)
{
	const struct tp_hdr *h = &ev->rec.hdr;
	unsigned cat = TP_TYPE_CATEGORY(ev->type->id);
	char ts[40];

	tp_format_rfc3339(ev->ts_wall_ns, ts, sizeof(ts));
	/* Time of day only: the date is noise in a live view. */
	tp_buf_append(b, ts + 11, 12);
	tp_buf_putc(b, ' ');
	if (meta && meta->alert) {
		const struct tp_alert *a = meta->alert;

		if (color)
			tp_buf_puts(b, severity_color(a->severity));
		tp_buf_printf(b, "ALERT %s %s", a->severity, a->rule);
		if (color)
			tp_buf_puts(b, COLOR_RESET);
		PUT_LIT(b, ": ");
		tp_buf_text_str(b, a->output, strlen(a->output));
		PUT_LIT(b, " | ");
	}
	if (color && cat < TP_CAT_MAX && category_colors[cat])
		tp_buf_puts(b, category_colors[cat]);
	tp_buf_printf(b, "%-18s", ev->type->name);
	if (color)
		tp_buf_puts(b, COLOR_RESET);
	text_key(b, "pid", color);
	tp_buf_u64(b, h->pid);
	if (h->tid != h->pid) {
		text_key(b, "tid", color);
		tp_buf_u64(b, h->tid);
	}
	text_key(b, "ppid", color);
	tp_buf_u64(b, h->ppid);
	text_key(b, "uid", color);
	tp_buf_u64(b, h->uid);
	text_key(b, "comm", color);
	text_value(b, h->comm, strnlen(h->comm, sizeof(h->comm)));
	text_fields(b, ev, color);
	if (meta && meta->proc)
		text_proc(b, meta->proc, color);
	if (meta) {
		for (size_t i = 0; i < meta->nkv; i++) {
			const struct tp_value *v = &meta->kv[i].value;

			text_key(b, meta->kv[i].key, color);
			switch (v->kind) {
			case TP_V_STR: text_value(b, v->str.s, v->str.len); break;
			case TP_V_INT: tp_buf_i64(b, v->i); break;
			case TP_V_NUM: tp_buf_printf(b, "%.6g", v->d); break;
			case TP_V_BOOL: tp_buf_puts(b, v->b ? "true" : "false"); break;
			}
		}
		for (size_t i = 0; i < meta->ntags; i++) {
			PUT_LIT(b, " #");
			tp_buf_text_str(b, meta->tags[i], strlen(meta->tags[i]));
		}
		if (meta->importance >= 0 && !meta->alert) {
			text_key(b, "importance", color);
			tp_buf_printf(b, "%.2f", meta->importance);
		}
	}
	tp_buf_putc(b, '\n');
}
