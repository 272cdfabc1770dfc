/*
 * Per-rule metrics and cost, and what passes from one set to the next at a
 * reload (the state store, each unchanged rule's state, the counters).
 *
 * Counts are plain fields of each function, updated on the reader thread
 * without atomics; they are published to the registry (relaxed atomics)
 * at most once a second, so a scrape is at most a second behind. Time is
 * sampled: every call of 1 event in COST_SAMPLE is timed and counted
 * COST_SAMPLE times (a clock read costs ~90 ns in a VM, more than many
 * rules do).
 *
 *   tapio_rule_calls_total{rule}        events the rule met (excepted ones too)
 *   tapio_rule_matches_total{rule}      alerts it raised
 *   tapio_rule_cpu_seconds_total{rule}  time in it, on the reader thread
 *   tapio_rule_faults_total{rule,kind}  failed calls (error, timeout, memory)
 *   tapio_rule_quarantines_total{rule}  times it was quarantined
 *   tapio_rule_excepted_total{rule}     events an exception kept from it
 *   tapio_rule_state_keys{rule}, tapio_rule_state_bytes{rule},
 *   tapio_rule_state_evictions_total{rule}
 *
 * Filters, enrich and score functions are "rule" labels too, as
 * "filter@file.lua:12". Series that would only say 0 (faults, exceptions,
 * quarantines) appear once they have something to count.
 */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "obs/log.h"
#include "lua/rules_internal.h"
#include "util/time.h"

#define PUBLISH_EVERY_NS TP_NSEC_PER_SEC
/* Name a rule that costs this many times the median per call, and more
 * than COST_FLOOR_NS, after COST_MIN_CALLS calls. */
#define COST_FACTOR    10
#define COST_FLOOR_NS  2000
#define COST_MIN_CALLS 2048

static const char *const fault_kinds[3] = {"error", "timeout", "memory"};

/* A Prometheus label value: \ " and newline escaped. */
static void escape_label(char *out, size_t len, const char *s)
{
	size_t j = 0;

	for (; *s && j + 3 < len; s++) {
		if (*s == '\\' || *s == '"') {
			out[j++] = '\\';
			out[j++] = *s;
		} else if (*s == '\n') {
			out[j++] = '\\';
			out[j++] = 'n';
		} else {
			out[j++] = *s;
		}
	}
	out[j] = '\0';
}

/* The rule's name, or "filter@file.lua:12". */
static void fn_name(const struct rule_fn *f, char *buf, size_t len)
{
	char copy[512];

	if (f->kind == FN_RULE) {
		snprintf(buf, len, "%s", f->name);
		return;
	}
	snprintf(copy, sizeof(copy), "%s", f->file ? f->file : "?");
	snprintf(buf, len, "%s@%s:%d", tp_rules_kind_names[f->kind], basename(copy), f->line);
}

static void metric(struct tp_metric *m, const char *name, const char *help,
		   enum tp_metric_type type, const char *labels)
{
	memset(m, 0, sizeof(*m));
	m->name = name;
	m->help = help;
	m->type = type;
	m->labels = labels;
	m->quiet = true;
}

static struct fn_metrics *fn_metrics(struct rule_fn *f)
{
	struct fn_metrics *m;
	char name[300], esc[300];

	if (f->m)
		return f->m;
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	fn_name(f, name, sizeof(name));
	escape_label(esc, sizeof(esc), name);
	snprintf(m->labels, sizeof(m->labels), "rule=\"%s\"", esc);
	for (int k = 0; k < 3; k++) {
		snprintf(m->fault_labels[k], sizeof(m->fault_labels[k]), "%s,kind=\"%s\"", m->labels,
			 fault_kinds[k]);
		metric(&m->faults[k], "tapio_rule_faults_total",
		       "Calls of a rule (or filter/enrich/score) that failed, by kind.",
		       TP_METRIC_COUNTER, m->fault_labels[k]);
	}
	metric(&m->calls, "tapio_rule_calls_total",
	       "Events a rule (or filter/enrich/score) met, excepted ones included.",
	       TP_METRIC_COUNTER, m->labels);
	metric(&m->matches, "tapio_rule_matches_total", "Alerts a rule raised.", TP_METRIC_COUNTER,
	       m->labels);
	metric(&m->cpu, "tapio_rule_cpu_seconds_total",
	       "Time the reader thread spent in a rule (sampled: 1 event in 32 is timed).",
	       TP_METRIC_COUNTER, m->labels);
	metric(&m->excepted, "tapio_rule_excepted_total",
	       "Events an exception kept from a rule.", TP_METRIC_COUNTER, m->labels);
	metric(&m->quarantines, "tapio_rule_quarantines_total",
	       "Times a rule was quarantined after repeated faults.", TP_METRIC_COUNTER,
	       m->labels);
	metric(&m->state_keys, "tapio_rule_state_keys", "Keys a rule's state holds.",
	       TP_METRIC_GAUGE, m->labels);
	metric(&m->state_bytes, "tapio_rule_state_bytes", "Bytes a rule's state holds.",
	       TP_METRIC_GAUGE, m->labels);
	metric(&m->state_evictions, "tapio_rule_state_evictions_total",
	       "Keys of a rule's state pushed out by its memory or key bound.", TP_METRIC_COUNTER,
	       m->labels);
	f->m = m;
	return m;
}

/* Functions that never run (disabled, below the minimum severity) have no
 * series. */
static bool runs(const struct tp_ruleset *rs, const struct rule_fn *f)
{
	return f->enabled && (f->kind != FN_RULE || f->level >= rs->min_severity);
}

void tp_rules_stats_publish(struct tp_ruleset *rs)
{
	if (!rs->active)
		return;
	for (size_t k = 0; k < rs->nfns; k++) {
		struct rule_fn *f = &rs->fns[k];
		struct fn_metrics *m = f->m;

		if (!m)
			continue;
		tp_metric_set(&m->calls, tp_rules_fn_calls(rs, k));
		tp_metric_set(&m->cpu, f->cpu_ns); /* ns; read as seconds */
		if (f->kind == FN_RULE)
			tp_metric_set(&m->matches, f->matches);
		for (int i = 0; i < 3; i++) {
			if (!f->nfaults[i])
				continue;
			tp_metric_set(&m->faults[i], f->nfaults[i]);
			if (!m->reg_faults[i]) {
				tp_metric_register(&m->faults[i]);
				m->reg_faults[i] = true;
			}
		}
		if (f->excepted) {
			tp_metric_set(&m->excepted, f->excepted);
			if (!m->reg_excepted) {
				tp_metric_register(&m->excepted);
				m->reg_excepted = true;
			}
		}
		if (f->quarantines) {
			tp_metric_set(&m->quarantines, f->quarantines);
			if (!m->reg_quarantines) {
				tp_metric_register(&m->quarantines);
				m->reg_quarantines = true;
			}
		}
		if (f->state) {
			struct tp_state_stats ss;

			tp_state_group_stats(f->state, &ss);
			tp_metric_set(&m->state_keys, ss.keys);
			tp_metric_set(&m->state_bytes, ss.bytes);
			tp_metric_set(&m->state_evictions, ss.evictions);
		}
	}
}

static double ns_to_seconds(void *ctx)
{
	return (double)tp_metric_get(ctx) / 1e9;
}

void tp_rules_stats_register(struct tp_ruleset *rs)
{
	for (size_t k = 0; k < rs->nfns; k++) {
		struct rule_fn *f = &rs->fns[k];
		struct fn_metrics *m;

		if (!runs(rs, f) || !(m = fn_metrics(f)))
			continue;
		/* The value holds ns; the reader shows seconds. */
		m->cpu.read = ns_to_seconds;
		m->cpu.ctx = &m->cpu;
		tp_metric_register(&m->calls);
		if (f->kind == FN_RULE)
			tp_metric_register(&m->matches);
		tp_metric_register(&m->cpu);
		if (f->state) {
			tp_metric_register(&m->state_keys);
			tp_metric_register(&m->state_bytes);
			tp_metric_register(&m->state_evictions);
			m->reg_state = true;
		}
	}
	rs->active = true;
	tp_rules_stats_publish(rs);
}

void tp_rules_stats_unregister(struct tp_ruleset *rs)
{
	for (size_t k = 0; k < rs->nfns; k++) {
		struct fn_metrics *m = rs->fns[k].m;

		if (!m)
			continue;
		tp_metric_unregister(&m->calls);
		tp_metric_unregister(&m->matches);
		tp_metric_unregister(&m->cpu);
		tp_metric_unregister(&m->excepted);
		tp_metric_unregister(&m->quarantines);
		for (int i = 0; i < 3; i++)
			tp_metric_unregister(&m->faults[i]);
		tp_metric_unregister(&m->state_keys);
		tp_metric_unregister(&m->state_bytes);
		tp_metric_unregister(&m->state_evictions);
	}
	rs->active = false;
}

/* ------------------------------------------------------------ cost */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void tp_rules_stats_check_costs(struct tp_ruleset *rs)
{
	uint64_t *per = malloc(rs->nfns * sizeof(*per) + 1), median;
	size_t n = 0;
	char name[300];

	if (!per)
		return;
	for (size_t k = 0; k < rs->nfns; k++)
		if (tp_rules_fn_calls(rs, k) >= COST_MIN_CALLS)
			per[n++] = rs->fns[k].cpu_ns / tp_rules_fn_calls(rs, k);
	/* "Far above the others" needs others. */
	if (n < 3) {
		free(per);
		return;
	}
	qsort(per, n, sizeof(*per), cmp_u64);
	median = per[n / 2];
	free(per);
	for (size_t k = 0; k < rs->nfns; k++) {
		struct rule_fn *f = &rs->fns[k];
		uint64_t c, calls = tp_rules_fn_calls(rs, k);

		if (f->cost_logged || calls < COST_MIN_CALLS)
			continue;
		c = f->cpu_ns / calls;
		if (c < COST_FLOOR_NS || c < COST_FACTOR * (median ? median : 1))
			continue;
		f->cost_logged = true;
		fn_name(f, name, sizeof(name));
		tp_warn("rule '%s' (%s:%d) costs %.1f us per event, %llux the median rule (%llu ns), "
			"over %llu events: make its cheap tests come first, or narrow its events",
			name, f->file, f->line, (double)c / 1e3,
			(unsigned long long)(c / (median ? median : 1)), (unsigned long long)median,
			(unsigned long long)calls);
	}
}

struct by_cost {
	const struct rule_fn *f;
};

static int cmp_cost(const void *a, const void *b)
{
	const struct rule_fn *x = ((const struct by_cost *)a)->f, *y = ((const struct by_cost *)b)->f;

	return x->cpu_ns < y->cpu_ns ? 1 : x->cpu_ns > y->cpu_ns ? -1 : 0;
}

void tp_ruleset_top_costs(const struct tp_ruleset *rs, size_t n, struct tp_buf *b)
{
	struct by_cost *v = malloc((rs->nfns + 1) * sizeof(*v));
	size_t m = 0;
	char name[300], esc[300];

	if (!v)
		return;
	for (size_t k = 0; k < rs->nfns; k++)
		if (tp_rules_fn_calls(rs, k) && rs->fns[k].cpu_ns)
			v[m++].f = &rs->fns[k];
	qsort(v, m, sizeof(*v), cmp_cost);
	/* Items like the rest of the line (name{labels}=number), without
	 * blanks, so that the line still splits into items. */
	for (size_t i = 0; i < m && i < n; i++) {
		const struct rule_fn *f = v[i].f;

		fn_name(f, name, sizeof(name));
		for (char *c = name; *c; c++)
			if (*c == ' ' || *c == '\t' || *c == '\n')
				*c = '_';
		escape_label(esc, sizeof(esc), name);
		tp_buf_printf(b, "%stop_rule_cpu_seconds{rank=\"%zu\",rule=\"%s\",ns_per_event=\"%.0f\"}=%.6f",
			      i ? " " : "", i + 1, esc,
			      (double)f->cpu_ns / (double)tp_rules_fn_calls(rs, (size_t)(f - rs->fns)),
			      f->cpu_ns / 1e9);
	}
	free(v);
}

/* ------------------------------------------------------------ handover at a reload */

/* old's function that f continues: the rule of the same name, or the
 * filter/enrich/score of the same kind at the same file and line. */
static struct rule_fn *same_fn(struct tp_ruleset *old, const struct rule_fn *f)
{
	for (size_t k = 0; k < old->nfns; k++) {
		struct rule_fn *o = &old->fns[k];

		if (o->kind != f->kind)
			continue;
		if (f->kind == FN_RULE ? !strcmp(o->name, f->name)
				       : o->line == f->line && o->file && f->file &&
					     !strcmp(o->file, f->file))
			return o;
	}
	return NULL;
}

static void add_name(char *list, size_t len, const char *name)
{
	size_t used = strlen(list);

	if (used + 8 >= len)
		return;
	if (used + strlen(name) + 8 >= len) {
		snprintf(list + used, len - used, "%s...", used ? ", " : "");
		list[len - 1] = '\0';
		return;
	}
	snprintf(list + used, len - used, "%s%s", used ? ", " : "", name);
}

void tp_ruleset_adopt(struct tp_ruleset *rs, struct tp_ruleset *old,
		      struct tp_ruleset_adoption *sum)
{
	struct tp_ruleset_adoption dummy;
	struct tp_state_store *tmp;

	if (!sum)
		sum = &dummy;
	memset(sum, 0, sizeof(*sum));
	if (old) {
		for (size_t k = 0; k < rs->nfns; k++) {
			struct rule_fn *f = &rs->fns[k], *o = same_fn(old, f);

			if (!o)
				continue;
			/* Counters go on where they were (Prometheus counters must not
			 * fall), and a cost already named is not named again. */
			f->calls_base = tp_rules_fn_calls(old, (size_t)(o - old->fns));
			f->matches = o->matches;
			f->excepted = o->excepted;
			f->cpu_ns = o->cpu_ns;
			f->quarantines = o->quarantines;
			memcpy(f->nfaults, o->nfaults, sizeof(f->nfaults));
			f->cost_logged = o->cost_logged && o->hash == f->hash;
			if (!f->state)
				continue;
			if (o->state && o->state_hash == f->state_hash) {
				tp_state_group_free(f->state);
				f->state = o->state;
				o->state = NULL;
				for (int i = 0; i < f->nhandles; i++)
					tp_lua_state_rebind(f->handles[i], f->state);
				sum->kept++;
			} else if (o->state) {
				sum->reset++;
				add_name(sum->reset_names, sizeof(sum->reset_names), f->name);
			}
		}
		/* What old kept and rs does not take is gone. */
		for (size_t k = 0; k < old->nfns; k++) {
			struct rule_fn *o = &old->fns[k];

			if (!o->state)
				continue;
			if (!tp_rules_find(rs, o->name) || !tp_rules_find(rs, o->name)->state)
				sum->dropped++;
			tp_state_group_free(o->state);
			o->state = NULL;
		}
		/* rs's own groups (emptied by the tests) move to the store in use. */
		for (size_t k = 0; k < rs->nfns; k++) {
			struct rule_fn *f = &rs->fns[k];

			if (f->state && tp_state_group_store(f->state) != old->state) {
				tp_state_group_clear(f->state);
				tp_state_group_move(f->state, old->state);
			}
		}
		tmp = rs->state;
		rs->state = old->state;
		old->state = tmp;
		tp_state_store_set_limits(rs->state, &rs->state_limits);
		if (old->active)
			tp_rules_stats_unregister(old);
	}
	tp_rules_stats_register(rs);
}

void tp_ruleset_tick(struct tp_ruleset *rs, uint64_t mono_ns)
{
	static const uint64_t checks_every = 10;

	/* Expired state: a bounded amount per tick, at the events' time. */
	tp_state_sweep(rs->state, tp_state_store_now(rs->state), 1024);
	if (mono_ns - rs->published_ns < PUBLISH_EVERY_NS)
		return;
	rs->published_ns = mono_ns;
	tp_rules_stats_publish(rs);
	if (++rs->ticks % checks_every == 0)
		tp_rules_stats_check_costs(rs);
}
