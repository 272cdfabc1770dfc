/*
 * Running a rule set on an event: filters, enrich, score, then the rules
 * indexed for its type; faults counted, logged and quarantined; alerts
 * rendered and handed to the caller.
 */
#include <stdio.h>
#include <string.h>

#include "events/proc_ctx.h"
#include "lua/rules_internal.h"
#include "lua/state_lua.h"
#include "obs/log.h"
#include "obs/metrics.h"
#include "util/file.h"
#include "util/time.h"

/* ------------------------------------------------------------ metrics */

static struct tp_metric m_matches =
    TP_COUNTER_INIT("tapio_rules_matches_total", "Alerts raised by all rules.");
static struct tp_metric m_faults[3] = {
    TP_COUNTER_INIT("tapio_rules_faults_total", "Calls of rules, filters, enrich or score functions that failed, by kind."),
    TP_COUNTER_INIT("tapio_rules_faults_total", "Calls of rules, filters, enrich or score functions that failed, by kind."),
    TP_COUNTER_INIT("tapio_rules_faults_total", "Calls of rules, filters, enrich or score functions that failed, by kind."),
};
static struct tp_metric m_quarantined =
    TP_COUNTER_INIT("tapio_rules_quarantined_total",
		    "Rules (or filter/enrich/score functions) quarantined after repeated faults.");

void tp_rules_metrics_init(void)
{
	static bool done;

	if (done)
		return;
	m_faults[0].labels = "kind=\"error\"";
	m_faults[1].labels = "kind=\"timeout\"";
	m_faults[2].labels = "kind=\"memory\"";
	tp_metric_register(&m_matches);
	for (int i = 0; i < 3; i++)
		tp_metric_register(&m_faults[i]);
	tp_metric_register(&m_quarantined);
	done = true;
}

void tp_rules_bind(struct tp_ruleset *rs, const struct tp_event *ev, struct tp_event_meta *meta,
		   int extra)
{
	tp_lua_event_forget(rs->L, rs->binding);
	rs->binding->ev = ev;
	rs->binding->meta = meta;
	rs->binding->extra = extra;
	rs->binding->sink = tp_lua_sink_begin(&rs->sink, meta) ? &rs->sink : NULL;
	if (rs->binding->sink) {
		rs->view = meta ? *meta : (struct tp_event_meta){.importance = -1};
		rs->view.kv = rs->sink.kv;
	}
}

void tp_rules_unbind(struct tp_ruleset *rs, struct tp_event_meta *meta)
{
	if (rs->binding->sink)
		tp_lua_sink_end(&rs->sink, meta);
	tp_lua_event_forget(rs->L, rs->binding);
	rs->binding->ev = NULL;
	rs->binding->meta = NULL;
	rs->binding->sink = NULL;
	rs->binding->extra = LUA_NOREF;
}

enum tp_lua_status tp_rules_call(struct tp_ruleset *rs, const struct rule_fn *f, char *err,
				 size_t errlen)
{
	lua_rawgeti(rs->L, LUA_REGISTRYINDEX, f->ref);
	lua_pushvalue(rs->L, EVENT_SLOT);
	if (f->state_ref == LUA_NOREF)
		return tp_lua_pcall(rs->vm, 1, 1, err, errlen);
	lua_rawgeti(rs->L, LUA_REGISTRYINDEX, f->state_ref); /* when(e, s) */
	return tp_lua_pcall(rs->vm, 2, 1, err, errlen);
}

/* A call of f ended: count it, and its time when this event is timed. */
static inline void charge(struct rule_fn *f, uint64_t *t)
{
	f->calls++;
	if (*t) {
		uint64_t now = tp_mono_ns();

		f->cpu_ns += (now - *t) * COST_SAMPLE;
		*t = now;
	}
}

/* Does function k's inline check (fm) turn the event away? Counted apart,
 * without a look at the function's struct. */
static inline bool fast_rejected(struct tp_ruleset *rs, uint32_t k, const struct tp_fast_mask *fm,
				 const struct tp_event *ev)
{
	if (tp_fast_mask_pass(fm, ev)) /* true without a condition (size 0) */
		return false;
	rs->fast_rejects[k]++;
	return true;
}

/* Does the event pass f's match (true without one)? An event it turns
 * away is a call of f at the cost of the C check: no Lua call. fm: the
 * match's inline condition on this type, passed already (fast_rejected).
 * The event is bound for the matches and calls at the first function
 * visited (*bound): most events (a node's reads) reach none, and skip the
 * binding and its undoing. */
static inline bool fn_matched(struct tp_ruleset *rs, struct rule_fn *f,
			      const struct tp_fast_mask *fm, const struct tp_event *ev,
			      struct tp_event_meta *meta, uint64_t *t, bool *bound)
{
	if (!*bound) {
		tp_rules_bind(rs, ev, meta, LUA_NOREF);
		*bound = true;
	}
	if (!f->match && !f->ntmatch)
		return true;
	if (tp_rules_matched(f, ev, tp_rules_meta_now(rs, meta), fm->size ? fm->cond : -1))
		return true;
	charge(f, t);
	return false;
}

/* The next rule of the candidates' bitmap (its position in *i), from word
 * *w whose bits not yet visited are *bits. */
static inline bool next_candidate(const uint64_t *cand, uint32_t nwords, uint32_t *w,
				  uint64_t *bits, uint32_t *i)
{
	while (!*bits) {
		if (++*w >= nwords)
			return false;
		*bits = cand[*w];
	}
	*i = *w * 64 + (uint32_t)__builtin_ctzll(*bits);
	*bits &= *bits - 1;
	return true;
}

/* Does one of the gate's maps hold its field of the event (or the field's
 * last component), or is the field the process's program (or its name)? */
static bool recalled_by_key(const struct rule_gate *g, const struct tp_event *ev,
			    const struct tp_event_meta *meta)
{
	for (unsigned k = 0; k < g->nkeys; k++) {
		const struct gate_key *key = &g->keys[k];
		const char *s, *exe;
		size_t n, en;

		if (!tp_field_present(ev, key->field) || !(s = tp_field_str(ev, key->field)))
			continue;
		n = strlen(s);
		if (key->base)
			s = tp_path_base(s, n, &n);
		if (key->map) {
			if (tp_lua_state_has_str(key->map, s, n, ev->ts_wall_ns))
				return true;
			continue;
		}
		exe = meta && meta->proc ? meta->proc->exe : NULL;
		if (!exe || !*exe)
			continue;
		en = strlen(exe);
		if (key->exe_base)
			exe = tp_path_base(exe, en, &en);
		if (en == n && !memcmp(exe, s, n))
			return true;
	}
	return false;
}

/* f's recall for the event: false when f recalls its type and the map
 * does not hold its process (or keys). */
static bool recalled(const struct rule_fn *f, const struct tp_event *ev,
		     const struct tp_event_meta *meta)
{
	unsigned slot = type_slot(ev->type);

	for (unsigned i = 0; i < f->nrecall; i++)
		if (f->recall[i].slot == slot)
			return f->recall[i].map
				   ? tp_lua_state_has_process(f->recall[i].map, ev->rec.hdr.pid,
							      ev->ts_wall_ns)
				   : recalled_by_key(&f->recall[i], ev, meta);
	return true;
}

/* f's remember for the event: true when f remembers its type (the
 * process is marked, and when is not called). */
static bool remembered(const struct rule_fn *f, const struct tp_event *ev)
{
	unsigned slot = type_slot(ev->type);

	for (unsigned i = 0; i < f->nremember; i++)
		if (f->remember[i].slot == slot) {
			tp_lua_state_mark_process(f->remember[i].map, ev->rec.hdr.pid,
						  ev->ts_wall_ns);
			return true;
		}
	return false;
}

bool tp_rules_gates_pass(struct rule_fn *f, const struct tp_event *ev,
			 const struct tp_event_meta *meta)
{
	/* (A type is remembered or recalled, never both.) */
	return !remembered(f, ev) && recalled(f, ev, meta);
}

/* The values of the rule's skip_repeats fields, each as its length (2
 * bytes) and bytes: a string up to its end, else the field's bytes; an
 * absent field is empty. 4 fields of at most 256 bytes each (argv and env
 * are refused at load). */
#define REPEAT_KEY_MAX (REPEAT_FIELDS_MAX * (2 + TP_PATH_MAX + 8))

bool tp_rules_repeat(struct rule_fn *f, const struct tp_event *ev)
{
	const struct rule_repeats *r = f->repeats;
	const struct repeat_type *rt = NULL;
	uint8_t key[REPEAT_KEY_MAX];
	size_t n = 0;

	for (uint32_t i = 0; i < r->ntypes && !rt; i++)
		if (r->types[i].type == ev->type)
			rt = &r->types[i];
	if (!rt)
		return false;
	for (uint32_t i = 0; i < r->nfields; i++) {
		const struct repeat_field *rf = &rt->fld[i];
		const uint8_t *p = ev->rec.bytes + rf->offset;
		size_t len = rf->size;

		if (rf->f && !tp_field_present(ev, rf->f))
			len = 0;
		else if (rf->str)
			len = strnlen((const char *)p, rf->size);
		if (n + 2 + len > sizeof(key))
			return false; /* never: the sizes are bounded at load */
		key[n++] = (uint8_t)len;
		key[n++] = (uint8_t)(len >> 8);
		memcpy(key + n, p, len);
		n += len;
	}
	return tp_lua_state_seen(r->map, key, n, ev->ts_wall_ns);
}

void tp_rules_apply_sets(struct tp_ruleset *rs, const struct rule_fn *f, const struct tp_event *ev)
{
	for (uint32_t i = 0; rs->binding->sink && i < f->nsets; i++) {
		const struct enrich_set *es = &f->sets[i];
		const char *v = NULL, *slash;

		for (uint32_t k = 0; k < es->ntypes && !v; k++)
			if (es->t[k].type == ev->type)
				v = tp_field_str(ev, es->t[k].f);
		if (!v)
			continue;
		if (es->base && (slash = strrchr(v, '/')))
			v = slash + 1;
		tp_lua_sink_set_str(rs->binding->sink, es->key, v, strlen(v));
	}
}

static void fault(struct tp_ruleset *rs, struct rule_fn *f, enum tp_lua_status st, const char *err)
{
	int k = st == TP_LUA_TIMEOUT ? 1 : st == TP_LUA_NOMEM ? 2 : 0;
	bool log;

	f->faults++;
	f->nfaults[k]++;
	tp_metric_add(&m_faults[k], 1);
	/* Every fault up to the quarantine; without one, fewer and fewer. */
	log = rs->fault_limit ? true : !(f->faults & (f->faults - 1));
	if (log)
		tp_warn("%s%s%s%s (%s:%d) failed: %.*s (fault %u%s)", tp_rules_kind_names[f->kind],
			f->kind == FN_RULE ? " '" : "", f->kind == FN_RULE ? f->name : "",
			f->kind == FN_RULE ? "'" : "", f->file, f->line, first_line_len(err), err,
			f->faults, rs->fault_limit ? "" : ", not quarantined");
	if (rs->fault_limit && f->faults >= rs->fault_limit) {
		f->quarantined = true;
		tp_rules_index_quarantine(rs, (size_t)(f - rs->fns));
		f->quarantines++;
		tp_metric_add(&m_quarantined, 1);
		tp_warn("%s%s%s%s (%s:%d) quarantined after %u faults, until the next reload",
			tp_rules_kind_names[f->kind], f->kind == FN_RULE ? " '" : "",
			f->kind == FN_RULE ? f->name : "", f->kind == FN_RULE ? "'" : "", f->file,
			f->line, f->faults);
	}
}

struct render_args {
	struct tp_ruleset *rs;
	const struct rule_fn *rule;
};

/* Protected: render the rule's output for the bound event. Stack: [-1, +0] */
static int render_p(lua_State *L)
{
	struct render_args *a = lua_touserdata(L, 1);

	tp_lua_event_push(L);
	tp_template_render(L, a->rule->output, -1, &a->rs->out);
	lua_pop(L, 1);
	return 0;
}

enum tp_lua_status tp_rules_render(struct tp_ruleset *rs, const struct rule_fn *rule, char *err,
				   size_t errlen)
{
	struct render_args a = {rs, rule};
	enum tp_lua_status st;

	tp_buf_reset(&rs->out);
	st = tp_lua_cpcall(rs->vm, render_p, &a, err, errlen);
	if (st != TP_LUA_OK) {
		tp_buf_reset(&rs->out);
		tp_buf_printf(&rs->out, "(output of rule %s could not be rendered: %.*s)",
			      rule->name, first_line_len(err), err);
	}
	if (tp_buf_failed(&rs->out)) {
		tp_buf_reset(&rs->out);
		tp_buf_puts(&rs->out, "(out of memory rendering the output)");
	}
	tp_buf_cstr(&rs->out);
	return st;
}

void tp_ruleset_lazy_budget(struct tp_ruleset *rs, bool on)
{
	tp_lua_vm_set_lazy(rs->vm, on);
}

int tp_ruleset_event(struct tp_ruleset *rs, const struct tp_event *ev, struct tp_event_meta *meta,
		     tp_rules_alert_fn alert_fn, void *ctx, unsigned *nalerts)
{
	struct slot_index *ix = rs->index[type_slot(ev->type)];
	lua_State *L = rs->L;
	char err[1024];
	enum tp_lua_status st;
	double best = -1;
	int verdict = TP_RULES_KEEP;
	/* 1 event in COST_SAMPLE: every call timed, counted COST_SAMPLE times. */
	uint64_t t = (rs->events++ % COST_SAMPLE) == 0 ? tp_mono_ns() : 0;
	bool bound = false;

	const uint64_t *cand;
	uint64_t bits;

	*nalerts = 0;
	if (!ix)
		goto exited;
	for (uint32_t i = 0; i < ix->n[FN_FILTER]; i++) {
		struct rule_fn *f;

		if (fast_rejected(rs, ix->fns[FN_FILTER][i], &ix->fast[FN_FILTER][i], ev))
			continue;
		f = &rs->fns[ix->fns[FN_FILTER][i]];

		if (f->quarantined ||
		    !fn_matched(rs, f, &ix->fast[FN_FILTER][i], ev, meta, &t, &bound))
			continue;
		st = tp_rules_call(rs, f, err, sizeof(err));
		charge(f, &t);
		if (st != TP_LUA_OK) {
			fault(rs, f, st, err); /* a broken filter keeps the event */
			continue;
		}
		if (lua_type(L, -1) == LUA_TBOOLEAN && !lua_toboolean(L, -1)) {
			lua_pop(L, 1);
			verdict = TP_RULES_FILTERED;
			goto out;
		}
		lua_pop(L, 1);
	}
	/* The enrich functions and rules the event can match (rules_index.c):
	 * the enrich functions' from pf.nrules on, in load order. The others
	 * are not visited (nor counted as called). */
	cand = tp_rules_candidates(ix, ev, meta);
	bits = ix->pf.nrules / 64 < ix->pf.nwords
		   ? cand[ix->pf.nrules / 64] & (~0ull << (ix->pf.nrules % 64))
		   : 0;
	for (uint32_t w = ix->pf.nrules / 64, i;
	     next_candidate(cand, ix->pf.nwords, &w, &bits, &i);) {
		const struct tp_fast_mask *fm = &ix->fast[FN_ENRICH][i - ix->pf.nrules];
		struct rule_fn *f = &rs->fns[ix->fns[FN_ENRICH][i - ix->pf.nrules]];

		/* (A quarantined one is in no slot's candidates.) */
		if (!fn_matched(rs, f, fm, ev, meta, &t, &bound))
			continue;
		if (f->nsets) { /* no Lua */
			tp_rules_apply_sets(rs, f, ev);
			charge(f, &t);
			continue;
		}
		st = tp_rules_call(rs, f, err, sizeof(err));
		charge(f, &t);
		if (st != TP_LUA_OK)
			fault(rs, f, st, err);
		else
			lua_pop(L, 1);
	}
	for (uint32_t i = 0; i < ix->n[FN_SCORE]; i++) {
		struct rule_fn *f;
		double v;

		if (fast_rejected(rs, ix->fns[FN_SCORE][i], &ix->fast[FN_SCORE][i], ev))
			continue;
		f = &rs->fns[ix->fns[FN_SCORE][i]];
		if (f->quarantined ||
		    !fn_matched(rs, f, &ix->fast[FN_SCORE][i], ev, meta, &t, &bound))
			continue;
		st = tp_rules_call(rs, f, err, sizeof(err));
		charge(f, &t);
		if (st != TP_LUA_OK) {
			fault(rs, f, st, err);
			continue;
		}
		v = lua_tonumber(L, -1);
		if (lua_type(L, -1) == LUA_TNUMBER && v >= 0 && v <= 1) {
			if (v > best)
				best = v;
		} else if (lua_type(L, -1) != LUA_TNIL) {
			snprintf(err, sizeof(err), "returned %s, want a number in [0, 1] or nil",
				 lua_type(L, -1) == LUA_TNUMBER ? "a number out of [0, 1]"
								: luaL_typename(L, -1));
			fault(rs, f, TP_LUA_ERROR, err);
		}
		lua_pop(L, 1);
	}
	if (best >= 0 && best > meta->importance)
		meta->importance = best;
	/* Of those, the rules: not those whose match needs a key not set on
	 * the event (by enrich or an earlier stage). */
	cand = tp_rules_candidates_rules(ix, bound ? tp_rules_meta_now(rs, meta) : meta);
	bits = cand[0];
	for (uint32_t w = 0, i;
	     next_candidate(cand, ix->pf.nwords, &w, &bits, &i) && i < ix->pf.nrules;) {
		const struct tp_fast_mask *fm = &ix->fast[FN_RULE][i];
		struct rule_fn *f = &rs->fns[ix->fns[FN_RULE][i]];
		struct tp_event_meta am;
		struct tp_alert alert;

		/* (A quarantined rule is in no slot's candidates.) Events its
		 * match turns away: no Lua call at all. */
		if (!fn_matched(rs, f, fm, ev, meta, &t, &bound))
			continue;
		/* Bookkeeping the engine does itself, no Lua call. A recall
		 * goes before the exceptions: it costs less (an exception can
		 * walk the ancestors), and an event it turns away meets none. */
		if (f->nrecall && !recalled(f, ev, tp_rules_meta_now(rs, meta))) {
			charge(f, &t);
			continue;
		}
		/* Excepted events never reach when: stateful rules do not count
		 * them (a remember comes after). */
		if (f->nexceptions && tp_rules_excepted(f, ev, tp_rules_meta_now(rs, meta))) {
			f->excepted++;
			charge(f, &t);
			continue;
		}
		if (f->nremember && remembered(f, ev)) {
			charge(f, &t);
			continue;
		}
		if (f->repeats && tp_rules_repeat(f, ev)) {
			charge(f, &t);
			continue;
		}
		st = tp_rules_call(rs, f, err, sizeof(err));
		if (st != TP_LUA_OK) {
			charge(f, &t);
			fault(rs, f, st, err);
			continue;
		}
		if (!truthy_bool(L)) {
			charge(f, &t);
			continue;
		}
		st = tp_rules_render(rs, f, err, sizeof(err));
		charge(f, &t);
		if (st != TP_LUA_OK)
			fault(rs, f, st, err);
		alert = (struct tp_alert){
		    .rule = f->name,
		    .severity = f->severity,
		    .importance = f->importance,
		    .tags = (const char *const *)f->tags,
		    .ntags = f->ntags,
		    .output = tp_buf_cstr(&rs->out),
		    .aggregate = f->aggregate,
		};
		am = *meta;
		if (rs->binding->sink)
			tp_lua_sink_end(&rs->sink, &am);
		am.alert = &alert;
		tp_metric_add(&m_matches, 1);
		f->matches++;
		(*nalerts)++;
		alert_fn(ctx, ev, &am);
		if (t)
			t = tp_mono_ns(); /* the caller's work is not the rule's */
	}
out:
	if (bound)
		tp_rules_unbind(rs, meta);
exited:
	/* After the rules saw it: a process's keys go with the process. */
	if (ev->type->id == TP_EV_PROCESS_EXIT)
		tp_state_process_exit(rs->state, ev->rec.hdr.pid);
	return verdict;
}
