#include "lua/aggregate.h"

#include <errno.h>
#include <stddef.h>
#include <lauxlib.h>
#include <lua.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events/proc_ctx.h"
#include "obs/log.h"
#include "obs/metrics.h"
#include "util/buf.h"
#include "util/hash.h"
#include "util/time.h"

/* ------------------------------------------------------------ the spec */

static const struct {
	const char *name;
	enum tp_agg_by by;
} by_names[] = {
	{ "process", TP_AGG_PROCESS }, { "container", TP_AGG_CONTAINER }, { "exe", TP_AGG_EXE },
	{ "parent", TP_AGG_PARENT },   { "user", TP_AGG_USER },	  { "rule", TP_AGG_RULE },
};

static int add_by(struct tp_aggregate_spec *s, const char *name, char *err, size_t errlen)
{
	size_t n = strlen(name);

	if (s->nby >= TP_AGG_MAX_BY) {
		snprintf(err, errlen, "aggregate.by: at most %d groupings", TP_AGG_MAX_BY);
		return -EINVAL;
	}
	for (size_t i = 0; i < sizeof(by_names) / sizeof(by_names[0]); i++) {
		if (!strcmp(name, by_names[i].name)) {
			s->by[s->nby++] = by_names[i].by;
			return 0;
		}
	}
	/* Anything else names a field of the rule's events. */
	if (!n || n >= TP_AGG_FIELD_MAX || strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_.") != n) {
		snprintf(err, errlen,
			 "aggregate.by: '%s' is not process, container, exe, parent, user, rule or a "
			 "field name",
			 name);
		return -EINVAL;
	}
	memcpy(s->field[s->nby], name, n + 1);
	s->by[s->nby++] = TP_AGG_FIELD;
	return 0;
}

#define MAX_WINDOW_NS (7ULL * 86400 * TP_NSEC_PER_SEC)

/* window or hold: a duration text or seconds, up to 7 days (a window
 * above 0). Stack effect: none. */
static int parse_duration(lua_State *L, int idx, const char *what, bool zero_ok, uint64_t *ns,
			  char *err, size_t errlen)
{
	if (lua_type(L, idx) == LUA_TNUMBER) {
		double sec = lua_tonumber(L, idx);

		if (!(sec >= 0 && sec <= 7 * 86400.0) || (!zero_ok && sec == 0)) {
			snprintf(err, errlen, "aggregate.%s: expected %s to 7 days, got %g s", what,
				 zero_ok ? "0" : "more than 0", sec);
			return -EINVAL;
		}
		*ns = (uint64_t)(sec * 1e9);
		return 0;
	}
	if (lua_type(L, idx) == LUA_TSTRING) {
		const char *t = lua_tostring(L, idx);

		if (tp_parse_duration(t, ns) < 0 || (!zero_ok && !*ns) || *ns > MAX_WINDOW_NS) {
			snprintf(err, errlen,
				 "aggregate.%s: expected a duration up to 7d such as \"60s\", got "
				 "\"%s\"",
				 what, t);
			return -EINVAL;
		}
		return 0;
	}
	snprintf(err, errlen, "aggregate.%s: expected a duration such as \"60s\", got a %s", what,
		 luaL_typename(L, idx));
	return -EINVAL;
}

int tp_aggregate_parse(lua_State *L, int idx, struct tp_aggregate_spec *out, char *err,
		       size_t errlen)
{
	int r = 0;

	memset(out, 0, sizeof(*out));
	idx = lua_absindex(L, idx);
	switch (lua_type(L, idx)) {
	case LUA_TBOOLEAN:
		out->off = !lua_toboolean(L, idx);
		return 0;
	case LUA_TTABLE:
		break;
	default:
		snprintf(err, errlen,
			 "aggregate: expected false or a table such as { by = \"process\", window = "
			 "\"60s\", hold = \"2s\" }, got a %s",
			 luaL_typename(L, idx));
		return -EINVAL;
	}
	lua_pushnil(L);
	while (!r && lua_next(L, idx)) {
		const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;

		if (key && !strcmp(key, "window")) {
			r = parse_duration(L, -1, "window", false, &out->window_ns, err, errlen);
		} else if (key && !strcmp(key, "hold")) {
			r = parse_duration(L, -1, "hold", true, &out->hold_ns, err, errlen);
			out->hold_set = true;
		} else if (key && !strcmp(key, "by") && lua_type(L, -1) == LUA_TSTRING) {
			r = add_by(out, lua_tostring(L, -1), err, errlen);
		} else if (key && !strcmp(key, "by") && lua_type(L, -1) == LUA_TTABLE) {
			lua_Integer n = luaL_len(L, -1);

			for (lua_Integer i = 1; !r && i <= n; i++) {
				if (lua_geti(L, -1, i) != LUA_TSTRING) {
					snprintf(err, errlen, "aggregate.by[%lld]: expected a string",
						 (long long)i);
					r = -EINVAL;
				} else {
					r = add_by(out, lua_tostring(L, -1), err, errlen);
				}
				lua_pop(L, 1);
			}
		} else if (key && !strcmp(key, "by")) {
			snprintf(err, errlen, "aggregate.by: expected a string or a list of strings");
			r = -EINVAL;
		} else {
			snprintf(err, errlen, "aggregate: unknown key '%s' (known: by, window, hold)",
				 key ? key : "(not a string)");
			r = -EINVAL;
		}
		lua_pop(L, 1);
	}
	if (r)
		lua_pop(L, 1); /* the key lua_next left */
	return r;
}

void tp_aggregate_describe(const struct tp_aggregate_spec *spec, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	if (!spec || !spec->nby) {
		snprintf(buf, len, "process");
		return;
	}
	for (unsigned i = 0; i < spec->nby && used < len; i++) {
		const char *name = spec->field[i];

		for (size_t k = 0; k < sizeof(by_names) / sizeof(by_names[0]); k++)
			if (spec->by[i] == by_names[k].by)
				name = by_names[k].name;
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? "+" : "", name);
	}
}

/* ------------------------------------------------- a copy of the first alert */

/* One allocation holding what the window's closing line needs after the
 * event's trip through the pipeline: the alert's texts and the enrichment
 * (borrowed pointers until then). Two passes: measure, then copy. */
struct copier {
	char *p;
	size_t need;
};

static void *cp_alloc(struct copier *c, size_t n)
{
	void *r = c->p ? c->p + c->need : NULL;

	c->need += (n + 7) & ~(size_t)7;
	return r;
}

static const char *cp_str(struct copier *c, const char *s)
{
	char *d;

	if (!s)
		return NULL;
	d = cp_alloc(c, strlen(s) + 1);
	if (d)
		strcpy(d, s);
	return d;
}

static const char *cp_bytes(struct copier *c, const char *s, size_t n)
{
	char *d;

	if (!s)
		return NULL;
	d = cp_alloc(c, n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

static void cp_ref(struct copier *c, struct tp_proc_ref *dst, const struct tp_proc_ref *src)
{
	if (!dst) {
		cp_str(c, src->comm);
		cp_str(c, src->exe);
		return;
	}
	dst->pid = src->pid;
	dst->comm = cp_str(c, src->comm);
	dst->exe = cp_str(c, src->exe);
}

/* Copy pc into c (or measure it when c->p is NULL). */
static struct tp_proc_ctx *cp_proc(struct copier *c, const struct tp_proc_ctx *pc)
{
	struct tp_proc_ctx *d;

	if (!pc)
		return NULL;
	d = cp_alloc(c, sizeof(*d));
	if (d) {
		*d = *pc;
		d->epoch = 0; /* its own copies: not the enrichment's */
	}
	if (d)
		d->exe = cp_str(c, pc->exe);
	else
		cp_str(c, pc->exe);
	{
		const char *argv = cp_bytes(c, pc->argv, pc->argv_len);

		if (d)
			d->argv = argv;
	}
	if (pc->parent) {
		struct tp_proc_ref *r = cp_alloc(c, sizeof(*r));

		cp_ref(c, r, pc->parent);
		if (d)
			d->parent = r;
	}
	if (pc->nancestors) {
		struct tp_proc_ref *a = cp_alloc(c, pc->nancestors * sizeof(*a));

		for (size_t i = 0; i < pc->nancestors; i++)
			cp_ref(c, a ? &a[i] : NULL, &pc->ancestors[i]);
		if (d)
			d->ancestors = a;
	}
	if (pc->container) {
		struct tp_container_ctx *k = cp_alloc(c, sizeof(*k));
		const char *id = cp_str(c, pc->container->id);
		const char *rt = cp_str(c, pc->container->runtime);

		if (k) {
			k->id = id;
			k->runtime = rt;
			d->container = k;
		}
	}
	if (pc->k8s) {
		struct tp_k8s_ctx *k = cp_alloc(c, sizeof(*k));
		const char *pod = cp_str(c, pc->k8s->pod), *ns = cp_str(c, pc->k8s->namespace);
		const char *uid = cp_str(c, pc->k8s->pod_uid), *ct = cp_str(c, pc->k8s->container);
		const char *qos = cp_str(c, pc->k8s->qos);

		if (k) {
			*k = (struct tp_k8s_ctx){ pod, ns, uid, ct, qos };
			d->k8s = k;
		}
	}
	return d;
}

/* ------------------------------------------------------------ the stage */

/*
 * One (rule, key). Two phases: until hold_end the matches gather into the
 * first line (emitted at hold_end, with their count when more than one);
 * after it, until window_end, they gather into the closing line (emitted
 * at window_end when there were any).
 */
struct group {
	uint64_t hash;
	uint64_t hold_end, window_end; /* event time, ns */
	uint64_t first_ts, last_ts;    /* of the matches of the current phase */
	uint64_t count;		       /* matches of the current phase */
	bool emitted;		       /* the first line went out */
	const char *key;	       /* rule name NUL key text: in mem */
	struct tp_alert alert;	       /* texts in mem */
	struct tp_proc_ctx *proc;      /* in mem; NULL when not enriched */
	char by[64];		       /* "process", for the message */
	void *mem;
	struct group *next;	       /* hash chain */
	struct tp_event ev;	       /* the first event (its valid bytes) */
};

struct agg_stage {
	struct tp_stage base;
	struct tp_aggregate_opts o;
	struct group **buckets;
	size_t nbuckets; /* power of two */
	size_t open;
	uint64_t clock;	 /* latest event time seen */
	uint64_t next_scan_ns;
	struct tp_pipeline *pipe;
	struct tp_metric m_folded, m_open, m_lines;
};

static void key_field(struct tp_buf *k, const struct tp_event *ev, const char *name)
{
	const struct tp_field *f = tp_event_field(ev->type, name);
	char ip[64];
	uint64_t u;
	int64_t i;

	if (!f || !tp_field_present(ev, f)) {
		tp_buf_puts(k, "-");
		return;
	}
	switch (f->kind) {
	case TP_FK_STR:
		tp_buf_puts(k, tp_field_str(ev, f));
		break;
	case TP_FK_ARGV: {
		uint32_t len;
		const char *a = tp_field_argv(ev, f, &len);

		tp_buf_append(k, a, len);
		break;
	}
	case TP_FK_IPADDR:
		tp_field_ipaddr(ev, f, ip, sizeof(ip));
		tp_buf_puts(k, ip);
		break;
	case TP_FK_S32:
	case TP_FK_S64:
		if (tp_field_i64(ev, f, &i))
			tp_buf_printf(k, "%lld", (long long)i);
		break;
	default:
		if (tp_field_u64(ev, f, &u))
			tp_buf_printf(k, "%llu", (unsigned long long)u);
		break;
	}
}

/* "rule\0key" for the event's grouping. */
static void group_key(struct tp_buf *k, const struct tp_aggregate_spec *spec,
		      const struct tp_event *ev, const struct tp_event_meta *meta)
{
	const struct tp_hdr *h = &ev->rec.hdr;
	const struct tp_proc_ctx *pc = meta->proc;
	unsigned nby = spec && spec->nby ? spec->nby : 1;

	tp_buf_puts(k, meta->alert->rule);
	tp_buf_putc(k, '\0');
	for (unsigned i = 0; i < nby; i++) {
		enum tp_agg_by by = spec && spec->nby ? spec->by[i] : TP_AGG_PROCESS;

		if (i)
			tp_buf_putc(k, '|');
		switch (by) {
		case TP_AGG_PROCESS:
			tp_buf_printf(k, "%u", h->pid);
			break;
		case TP_AGG_PARENT:
			tp_buf_printf(k, "%u", h->ppid);
			break;
		case TP_AGG_USER:
			tp_buf_printf(k, "%u", h->uid);
			break;
		case TP_AGG_CONTAINER:
			if (pc && pc->container && pc->container->id)
				tp_buf_puts(k, pc->container->id);
			else
				tp_buf_printf(k, "cgroup:%llu", (unsigned long long)h->cgroup_id);
			break;
		case TP_AGG_EXE:
			if (pc && pc->exe)
				tp_buf_puts(k, pc->exe);
			else
				tp_buf_append(k, h->comm, strnlen(h->comm, sizeof(h->comm)));
			break;
		case TP_AGG_RULE:
			break;
		case TP_AGG_FIELD:
			key_field(k, ev, spec->field[i]);
			break;
		}
	}
}

static struct group *group_new(uint64_t hash, const struct tp_buf *key,
			       const struct tp_aggregate_spec *spec, const struct tp_event *ev,
			       const struct tp_event_meta *meta, uint64_t hold, uint64_t window)
{
	size_t evsize = offsetof(struct tp_event, rec) + ev->len;
	const struct tp_alert *a = meta->alert;
	struct copier c = { NULL, 0 };
	struct group *g = calloc(1, offsetof(struct group, ev) + (evsize > sizeof(struct tp_event) ?
								    evsize : sizeof(struct tp_event)));

	if (!g)
		return NULL;
	/* Measure, then copy: the key, the alert's texts, the enrichment. */
	for (int pass = 0; pass < 2; pass++) {
		const char **tags;

		if (pass) {
			g->mem = c.p = malloc(c.need ? c.need : 1);
			if (!g->mem) {
				free(g);
				return NULL;
			}
			c.need = 0;
		}
		g->key = cp_bytes(&c, key->data, key->len);
		g->alert.rule = cp_str(&c, a->rule);
		g->alert.severity = cp_str(&c, a->severity);
		g->alert.output = cp_str(&c, a->output);
		tags = cp_alloc(&c, (a->ntags ? a->ntags : 1) * sizeof(*tags));
		for (size_t i = 0; i < a->ntags; i++) {
			const char *t = cp_str(&c, a->tags[i]);

			if (tags)
				tags[i] = t;
		}
		g->alert.tags = tags;
		g->proc = cp_proc(&c, meta->proc);
	}
	g->alert.ntags = a->ntags;
	g->alert.importance = a->importance;
	g->alert.aggregate = NULL;
	g->hash = hash;
	g->first_ts = g->last_ts = ev->ts_wall_ns;
	g->hold_end = ev->ts_wall_ns + hold;
	g->window_end = ev->ts_wall_ns + (window > hold ? window : hold);
	g->count = 1;
	tp_aggregate_describe(spec, g->by, sizeof(g->by));
	memcpy(&g->ev, ev, evsize);
	return g;
}

/* A line for the matches of the group's current phase: the first event,
 * with their count, first and last time when there was more than one. */
static void emit_line(struct agg_stage *s, struct group *g)
{
	struct tp_event_meta meta = { .importance = g->alert.importance, .proc = g->proc };
	struct tp_alert alert = g->alert;
	char first[40], last[40];
	struct tp_kv kv[3];
	struct tp_buf out;

	tp_buf_init(&out);
	meta.alert = &alert;
	if (g->count > 1 || g->emitted) {
		tp_format_rfc3339(g->first_ts, first, sizeof(first));
		tp_format_rfc3339(g->last_ts, last, sizeof(last));
		first[23] = last[23] = '\0'; /* the time of day, as text output shows it */
		tp_buf_printf(&out, "%s (%s%llu time%s in %.1f s by the same %s, first %s, last %s)",
			      g->alert.output, g->emitted ? "again: " : "",
			      (unsigned long long)g->count, g->count > 1 ? "s" : "",
			      (g->last_ts - g->first_ts) / 1e9, g->by, first + 11, last + 11);
		if (!tp_buf_failed(&out))
			alert.output = tp_buf_cstr(&out);
		kv[0] = (struct tp_kv){ "count", { .kind = TP_V_INT, .i = (int64_t)g->count } };
		kv[1] = (struct tp_kv){ "first_ts", { .kind = TP_V_INT, .i = (int64_t)g->first_ts } };
		kv[2] = (struct tp_kv){ "last_ts", { .kind = TP_V_INT, .i = (int64_t)g->last_ts } };
		meta.kv = kv;
		meta.nkv = 3;
	}
	if (s->pipe)
		tp_pipeline_emit(s->pipe, &g->ev, &meta);
	tp_metric_add(&s->m_lines, 1);
	tp_buf_free(&out);
	g->emitted = true;
	g->count = 0;
}

/* Move the group on to clock: the first line at the end of the hold, the
 * closing one at the end of the window. Returns true when it is over. */
static bool advance(struct agg_stage *s, struct group *g, uint64_t clock)
{
	if (!g->emitted && clock >= g->hold_end)
		emit_line(s, g);
	if (clock < g->window_end)
		return false;
	if (!g->emitted || g->count)
		emit_line(s, g);
	return true;
}

static void unlink_group(struct agg_stage *s, struct group **pp)
{
	struct group *g = *pp;

	*pp = g->next;
	free(g->mem);
	free(g);
	s->open--;
}

/* Move every group on to clock (UINT64_MAX: the end, all of them out). */
static void advance_all(struct agg_stage *s, uint64_t clock)
{
	for (size_t b = 0; s->open && b < s->nbuckets; b++) {
		struct group **pp = &s->buckets[b];

		while (*pp) {
			if (advance(s, *pp, clock))
				unlink_group(s, pp);
			else
				pp = &(*pp)->next;
		}
	}
	tp_metric_set(&s->m_open, s->open);
}

/* The table is full: end the window that ends first (its matches are
 * reported now rather than later; nothing is lost). */
static void close_oldest(struct agg_stage *s)
{
	struct group **oldest = NULL;

	for (size_t b = 0; b < s->nbuckets; b++)
		for (struct group **pp = &s->buckets[b]; *pp; pp = &(*pp)->next)
			if (!oldest || (*pp)->window_end < (*oldest)->window_end)
				oldest = pp;
	if (oldest) {
		advance(s, *oldest, UINT64_MAX);
		unlink_group(s, oldest);
	}
}

/* The event of a folded (or held) alert goes on as a plain event when it
 * would have passed as one; an alert that follows its event (alerts 2..N)
 * has no event of its own to pass on. */
static int as_plain_event(struct agg_stage *s, struct tp_event_meta *meta)
{
	double imp = meta->importance < 0 ? 0 : meta->importance;

	meta->alert = NULL;
	if (meta->follows || s->o.alerts_only)
		return TP_DROP_AGGREGATED;
	if (s->o.all_events || imp >= s->o.importance_threshold)
		return TP_STAGE_PASS;
	return TP_DROP_AGGREGATED;
}

static int stage_event(struct tp_stage *st, struct tp_pipeline *p, struct tp_event *ev,
		       struct tp_event_meta *meta)
{
	struct agg_stage *s = (struct agg_stage *)st;
	const struct tp_aggregate_spec *spec;
	uint64_t window, hold, hash, ts = ev->ts_wall_ns;
	struct group *g, **pp, **slot;
	struct tp_buf key;

	if (ts > s->clock)
		s->clock = ts;
	if (!meta->alert)
		return TP_STAGE_PASS;
	s->pipe = p;
	spec = meta->alert->aggregate;
	window = spec && spec->window_ns ? spec->window_ns : s->o.window_ns;
	hold = spec && spec->hold_set ? spec->hold_ns : s->o.hold_ns;
	if ((spec && spec->off) || !window)
		return TP_STAGE_PASS;

	tp_buf_init(&key);
	group_key(&key, spec, ev, meta);
	if (tp_buf_failed(&key)) {
		tp_buf_free(&key);
		return TP_STAGE_PASS; /* out of memory: raise it, never lose it */
	}
	hash = tp_fnv1a(TP_FNV1A_INIT, key.data, key.len);
	slot = &s->buckets[hash & (s->nbuckets - 1)];
	for (pp = slot; (g = *pp); pp = &g->next)
		if (g->hash == hash && !memcmp(g->key, key.data, key.len) && !g->key[key.len])
			break;
	/* A window over by the stream's clock (no tick came in between)
	 * reports what it holds; this match opens the next one. */
	if (g && advance(s, g, ts)) {
		unlink_group(s, pp);
		g = NULL;
	}
	if (g) {
		tp_buf_free(&key);
		/* matches = lines + folded, once every line is out */
		if (g->count++)
			tp_metric_add(&s->m_folded, 1);
		else
			g->first_ts = ts;
		if (ts > g->last_ts || g->count == 1)
			g->last_ts = ts;
		return as_plain_event(s, meta);
	}
	if (s->open >= s->o.max_groups)
		close_oldest(s);
	g = group_new(hash, &key, spec, ev, meta, hold, window);
	tp_buf_free(&key);
	if (!g)
		return TP_STAGE_PASS; /* out of memory: raise it now */
	g->next = *slot;
	*slot = g;
	s->open++;
	tp_metric_set(&s->m_open, s->open);
	if (!hold) {
		g->emitted = true; /* this one goes out now, with its event */
		g->count = 0;
		tp_metric_add(&s->m_lines, 1);
		return TP_STAGE_PASS;
	}
	return as_plain_event(s, meta);
}

static void stage_tick(struct tp_stage *st, struct tp_pipeline *p, uint64_t now_ns)
{
	struct agg_stage *s = (struct agg_stage *)st;
	uint64_t clock = s->clock;

	s->pipe = p;
	if (!s->open || now_ns < s->next_scan_ns)
		return;
	s->next_scan_ns = now_ns + 50 * TP_NSEC_PER_MSEC;
	if (s->o.live) {
		/* No event may come for a while: the wall clock moves too. */
		uint64_t wall = tp_now_ns(0 /* CLOCK_REALTIME */);

		if (wall > clock)
			clock = wall;
	}
	advance_all(s, clock);
}

void tp_aggregate_stage_finish(struct tp_stage *st)
{
	advance_all((struct agg_stage *)st, UINT64_MAX);
}

static void stage_close(struct tp_stage *st)
{
	struct agg_stage *s = (struct agg_stage *)st;

	/* The end of the run: every match is reported. */
	advance_all(s, UINT64_MAX);
	free(s->buckets);
	tp_metric_unregister(&s->m_folded);
	tp_metric_unregister(&s->m_open);
	tp_metric_unregister(&s->m_lines);
	free(s);
}

static const enum tp_drop_reason agg_drops[] = {TP_DROP_AGGREGATED, 0};

static const struct tp_stage_ops agg_ops = {
    .name = "aggregate",
    .event = stage_event,
    .drops = agg_drops,
    .tick = stage_tick,
    .close = stage_close,
};

int tp_aggregate_stage_new(struct tp_stage **out, const struct tp_aggregate_opts *opts, char *err,
			   size_t errlen)
{
	struct agg_stage *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s) {
		snprintf(err, errlen, "alert aggregation: out of memory");
		return -ENOMEM;
	}
	s->base.ops = &agg_ops;
	s->o = *opts;
	if (!s->o.max_groups)
		s->o.max_groups = 4096;
	for (s->nbuckets = 64; s->nbuckets < s->o.max_groups; s->nbuckets <<= 1)
		;
	s->buckets = calloc(s->nbuckets, sizeof(*s->buckets));
	if (!s->buckets) {
		free(s);
		snprintf(err, errlen, "alert aggregation: out of memory");
		return -ENOMEM;
	}
	s->m_folded = (struct tp_metric)TP_COUNTER_INIT(
	    "tapio_alerts_aggregated_total",
	    "Matches of a rule folded into another alert line of the same rule and key (its count).");
	s->m_lines = (struct tp_metric)TP_COUNTER_INIT(
	    "tapio_alert_lines_total", "Alert lines that aggregation sent to the outputs.");
	s->m_open = (struct tp_metric)TP_GAUGE_INIT("tapio_alert_aggregates_open",
						    "Alert aggregation windows open.");
	tp_metric_register(&s->m_folded);
	tp_metric_register(&s->m_lines);
	tp_metric_register(&s->m_open);
	*out = &s->base;
	return 0;
}
