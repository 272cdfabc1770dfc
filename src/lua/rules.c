/*
 * The rule set: load (orchestration of lua/rules_*.c), the index by event
 * type, info, diff and free. See lua/rules_internal.h for the units.
 */
#include "lua/rules.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua/rules_internal.h"

void tp_rules_problem(struct tp_ruleset *rs, const char *file, int line, const char *fmt, ...)
{
	char msg[1024];
	size_t n = 0;
	va_list ap;

	if (file)
		n = (size_t)snprintf(msg, sizeof(msg), line > 0 ? "%s:%d: " : "%s: ", file, line);
	if (n >= sizeof(msg))
		n = sizeof(msg) - 1;
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
	va_end(ap);
	if (!rs->problems++)
		snprintf(rs->first_problem, sizeof(rs->first_problem), "%s", msg);
	if (rs->opts && rs->opts->diag)
		rs->opts->diag(rs->opts->diag_ctx, msg);
}

/* ------------------------------------------------------------ the set */

static int build_index(struct tp_ruleset *rs)
{
	for (unsigned slot = 0; slot < TYPE_SLOTS; slot++) {
		struct slot_index *ix = NULL;

		for (size_t k = 0; k < rs->nfns; k++) {
			struct rule_fn *f = &rs->fns[k];

			if (!f->enabled || !has_type(f->types, slot))
				continue;
			if (f->kind == FN_RULE && f->level < rs->min_severity)
				continue;
			if (!ix) {
				ix = calloc(1, sizeof(*ix));
				if (!ix)
					return -ENOMEM;
				rs->index[slot] = ix;
				for (int kd = 0; kd < FN_KINDS; kd++) {
					ix->fns[kd] = calloc(rs->nfns, sizeof(uint32_t));
					if (!ix->fns[kd])
						return -ENOMEM;
				}
			}
			ix->fns[f->kind][ix->n[f->kind]++] = (uint32_t)k;
		}
	}
	return 0;
}

bool tp_rules_cancelled(struct tp_ruleset *rs)
{
	if (rs->cancelled)
		return true;
	if (!rs->opts || !rs->opts->cancel || !atomic_load(rs->opts->cancel))
		return false;
	rs->cancelled = true;
	tp_rules_problem(rs, NULL, 0, "cancelled: the load was given up");
	return true;
}

int tp_ruleset_load(struct tp_ruleset **out, const struct tp_rules_opts *opts, char *err,
		    size_t errlen)
{
	struct tp_ruleset *rs = calloc(1, sizeof(*rs));
	int r;

	*out = NULL;
	tp_rules_metrics_init();
	if (!rs) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	tp_buf_init(&rs->out);
	rs->opts = opts;
	rs->limits = opts->limits;
	rs->fault_limit = opts->fault_limit;
	rs->min_severity = opts->min_severity;
	rs->hash = FNV_INIT;
	rs->envs_ref = LUA_NOREF;
	rs->names_ref = LUA_NOREF;
	r = tp_lua_vm_new(&rs->vm, &opts->limits, err, errlen);
	if (r < 0) {
		tp_ruleset_free(rs);
		return r;
	}
	rs->L = tp_lua_vm_state(rs->vm);
	tp_lua_vm_set_cancel(rs->vm, opts->cancel);
	if (tp_lua_cpcall(rs->vm, tp_rules_setup_p, rs, err, errlen) != TP_LUA_OK) {
		tp_ruleset_free(rs);
		return -ENOMEM;
	}
	rs->binding = tp_lua_event_binding(rs->L);
	rs->binding->extra = LUA_NOREF;
	/* The stack keeps [message handler, event] below whatever a call pushes. */
	if (lua_gettop(rs->L) != EVENT_SLOT - 1) {
		tp_ruleset_free(rs);
		snprintf(err, errlen, "internal: unexpected Lua stack depth");
		return -EINVAL;
	}
	tp_lua_event_push(rs->L);

	rs->loading = true;
	for (size_t i = 0; i < opts->npaths && !tp_rules_cancelled(rs); i++)
		tp_rules_load_path(rs, opts->paths[i]);
	rs->loading = false;
	if (tp_lua_cpcall(rs->vm, tp_rules_freeze_p, rs, err, errlen) != TP_LUA_OK ||
	    build_index(rs) < 0) {
		tp_ruleset_free(rs);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	tp_rules_run_tests(rs); /* also after problems elsewhere: --validate lists them all */
	if (rs->problems) {
		if (rs->problems > 1)
			snprintf(err, errlen, "%s (and %u more problem%s)", rs->first_problem,
				 rs->problems - 1, rs->problems > 2 ? "s" : "");
		else
			snprintf(err, errlen, "%s", rs->first_problem);
		tp_ruleset_free(rs);
		return -EINVAL;
	}
	rs->opts = NULL;
	*out = rs;
	return 0;
}

void tp_ruleset_free(struct tp_ruleset *rs)
{
	if (!rs)
		return;
	tp_lua_vm_close(rs->vm);
	for (size_t k = 0; k < rs->nfns; k++)
		tp_rules_free_fn(&rs->fns[k]);
	free(rs->fns);
	for (unsigned s = 0; s < TYPE_SLOTS; s++) {
		if (!rs->index[s])
			continue;
		for (int kd = 0; kd < FN_KINDS; kd++)
			free(rs->index[s]->fns[kd]);
		free(rs->index[s]);
	}
	tp_buf_free(&rs->out);
	free(rs);
}

void tp_ruleset_info(const struct tp_ruleset *rs, struct tp_ruleset_info *info)
{
	memset(info, 0, sizeof(*info));
	for (size_t k = 0; k < rs->nfns; k++) {
		const struct rule_fn *f = &rs->fns[k];

		if (f->quarantined)
			info->quarantined++;
		if (!f->enabled)
			continue;
		switch (f->kind) {
		case FN_FILTER:
			info->filters++;
			break;
		case FN_ENRICH:
			info->enrichers++;
			break;
		case FN_SCORE:
			info->scorers++;
			break;
		case FN_RULE:
			info->rules++;
			if (f->level < rs->min_severity)
				info->below_min_severity++;
			break;
		default:
			break;
		}
	}
	info->files = rs->files;
	info->tests = rs->tests;
	info->hash = rs->hash;
}

bool tp_ruleset_may_alert(const struct tp_ruleset *rs, const struct tp_event_type *t)
{
	const struct slot_index *ix = rs->index[type_slot(t)];

	return ix && ix->n[FN_RULE];
}

static const struct rule_fn *find_rule(const struct tp_ruleset *rs, const char *name)
{
	for (size_t k = 0; k < rs->nfns; k++)
		if (rs->fns[k].kind == FN_RULE && !strcmp(rs->fns[k].name, name))
			return &rs->fns[k];
	return NULL;
}

void tp_ruleset_diff(const struct tp_ruleset *old, const struct tp_ruleset *new, size_t *added,
		     size_t *removed, size_t *changed)
{
	*added = *removed = *changed = 0;
	for (size_t k = 0; k < new->nfns; k++) {
		const struct rule_fn *f = &new->fns[k], *o;

		if (f->kind != FN_RULE)
			continue;
		o = old ? find_rule(old, f->name) : NULL;
		if (!o)
			(*added)++;
		else if (o->hash != f->hash)
			(*changed)++;
	}
	for (size_t k = 0; old && k < old->nfns; k++)
		if (old->fns[k].kind == FN_RULE && !find_rule(new, old->fns[k].name))
			(*removed)++;
}

size_t tp_ruleset_mem(const struct tp_ruleset *rs)
{
	return tp_lua_vm_mem(rs->vm);
}
