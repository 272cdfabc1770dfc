/*
 * The rule set: load (orchestration of lua/rules_*.c), info, diff and
 * free. See lua/rules_internal.h for the units.
 */
#include "lua/rules.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

/* The user's folder, unless it is missing (nothing to load) or already
 * among the paths. */
static bool want_user_dir(const struct tp_rules_opts *opts)
{
	char a[PATH_MAX], b[PATH_MAX];
	struct stat st;

	if (!opts->user_dir || !*opts->user_dir || stat(opts->user_dir, &st) < 0)
		return false;
	if (!realpath(opts->user_dir, a))
		return false;
	for (size_t i = 0; i < opts->npaths; i++)
		if (realpath(opts->paths[i], b) && !strcmp(a, b))
			return false;
	return true;
}

/* Protected: exceptions and overrides, once every file has loaded. */
static int tune_p(lua_State *L)
{
	tp_rules_tune_apply(L, lua_touserdata(L, 1));
	return 0;
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
	rs->hash = TP_FNV1A_INIT;
	rs->envs_ref = LUA_NOREF;
	rs->names_ref = LUA_NOREF;
	rs->state_limits = opts->state;
	if (tp_state_store_new(&rs->state, &opts->state) < 0) {
		tp_ruleset_free(rs);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
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

	/* The shared lists and macros, the rules, then the user's changes. */
	rs->loading = true;
	if (opts->lib_path)
		tp_rules_load_path(rs, opts->lib_path);
	for (size_t i = 0; i < opts->npaths && !tp_rules_cancelled(rs); i++)
		tp_rules_load_path(rs, opts->paths[i]);
	if (want_user_dir(opts) && !tp_rules_cancelled(rs))
		tp_rules_load_path(rs, opts->user_dir);
	rs->loading = false;
	if (tp_lua_cpcall(rs->vm, tune_p, rs, err, errlen) != TP_LUA_OK ||
	    tp_lua_cpcall(rs->vm, tp_rules_freeze_p, rs, err, errlen) != TP_LUA_OK ||
	    tp_rules_index_build(rs) < 0) {
		tp_ruleset_free(rs);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	tp_rules_tune_free(rs);
	tp_rules_run_tests(rs); /* also after problems elsewhere: --validate lists them all */
	if (opts->report) {
		*opts->report = (struct tp_rules_load_report){
		    .files = rs->files,
		    .tests = rs->tests,
		    .tests_failed = rs->tests_failed,
		    .problems = rs->problems,
		};
		for (size_t k = 0; k < rs->nfns; k++)
			opts->report->rules += rs->fns[k].kind == FN_RULE;
	}
	/* The tests' state is not the first events', nor are the strings
	 * their events looked up (the index's and the matches' caches). */
	for (size_t k = 0; k < rs->nfns; k++)
		if (rs->fns[k].state)
			tp_state_group_clear(rs->fns[k].state);
	tp_rules_index_drop_caches(rs);
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
	if (rs->active)
		tp_rules_stats_unregister(rs);
	tp_lua_vm_close(rs->vm);
	for (size_t k = 0; k < rs->nfns; k++)
		tp_rules_free_fn(&rs->fns[k]);
	free(rs->fns);
	tp_rules_index_free(rs);
	tp_rules_tune_free(rs);
	tp_state_store_free(rs->state);
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
			info->exceptions += f->nexceptions;
			info->overridden += f->override_at != NULL;
			info->stateful += f->state != NULL;
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
	return tp_rules_find(rs, name);
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

struct tp_state_store *tp_ruleset_state(const struct tp_ruleset *rs)
{
	return rs->state;
}

/* The i-th rule (not filter/enrich/score). */
static const struct rule_fn *nth_rule(const struct tp_ruleset *rs, size_t i)
{
	for (size_t k = 0; k < rs->nfns; k++)
		if (rs->fns[k].kind == FN_RULE && i-- == 0)
			return &rs->fns[k];
	return NULL;
}

bool tp_ruleset_rule(const struct tp_ruleset *rs, size_t i, struct tp_rule_info *out,
		     const struct tp_event_type **events, size_t max, size_t *nevents)
{
	const struct rule_fn *f = nth_rule(rs, i);
	const struct tp_event_type *t;

	if (!f)
		return false;
	*out = (struct tp_rule_info){
	    .name = f->name,
	    .desc = f->desc,
	    .severity = f->severity,
	    .importance = f->importance,
	    .enabled = f->enabled,
	    .file = f->file,
	    .line = f->line,
	    .tags = (const char *const *)f->tags,
	    .ntags = f->ntags,
	    .override_at = f->override_at,
	    .nexceptions = f->nexceptions,
	    .has_state = f->state != NULL,
	};
	*nevents = 0;
	for (size_t k = 0; (t = tp_event_type_at(k)); k++)
		if (has_type(f->types, type_slot(t)) && *nevents < max)
			events[(*nevents)++] = t;
	return true;
}

bool tp_ruleset_rule_exception(const struct tp_ruleset *rs, size_t i, size_t j, char *buf,
			       size_t len)
{
	const struct rule_fn *f = nth_rule(rs, i);
	const struct tp_exception *x;
	char desc[512];

	if (!f || j >= f->nexceptions)
		return false;
	x = f->exceptions[j];
	tp_exception_describe(x, desc, sizeof(desc));
	snprintf(buf, len, "%s:%d: %s%s%s%s", tp_exception_file(x), tp_exception_line(x), desc,
		 tp_exception_reason(x) ? " (" : "", tp_exception_reason(x) ? tp_exception_reason(x) : "",
		 tp_exception_reason(x) ? ")" : "");
	return true;
}

