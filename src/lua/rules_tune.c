/*
 * What rule files share and what users change in shipped rules without
 * editing them: list(), append(), macro() (lua/lists.h), exception{}
 * (lua/exceptions.h) and override{} (severity, importance, enabled).
 *
 * Exceptions and overrides name a rule that any file may define, before
 * or after them: they are kept while the files load and applied when all
 * have loaded, before the index is built and the tests run. A rule or a
 * field that does not exist is a problem of the load, at the line of the
 * exception.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua/rules_internal.h"
#include "util/strdist.h"

enum tune_kind { TUNE_EXCEPTION, TUNE_OVERRIDE };

struct tune {
	enum tune_kind kind;
	char *rule;
	char *file;
	int line;
	struct tp_exception *x; /* exception */
	int severity;		/* override: -1 unchanged */
	int enabled;		/* override: -1 unchanged */
	double importance;	/* override: < 0 unchanged */
};

/* A severity's importance, for rules that do not set their own. */
static const double severity_importance[TP_SEV_COUNT] = {0.1, 0.3, 0.5, 0.7, 0.85, 1.0};

static struct tune *new_tune(struct tp_ruleset *rs)
{
	if (rs->ntunes == rs->captunes) {
		size_t cap = rs->captunes ? 2 * rs->captunes : 16;
		struct tune *t = realloc(rs->tunes, cap * sizeof(*t));

		if (!t)
			return NULL;
		rs->tunes = t;
		rs->captunes = cap;
	}
	memset(&rs->tunes[rs->ntunes], 0, sizeof(rs->tunes[0]));
	rs->tunes[rs->ntunes].severity = -1;
	rs->tunes[rs->ntunes].enabled = -1;
	rs->tunes[rs->ntunes].importance = -1;
	return &rs->tunes[rs->ntunes];
}

static void free_tune(struct tune *t)
{
	free(t->rule);
	free(t->file);
	tp_exception_free(t->x);
}

void tp_rules_tune_free(struct tp_ruleset *rs)
{
	for (size_t i = 0; i < rs->ntunes; i++)
		free_tune(&rs->tunes[i]);
	free(rs->tunes);
	rs->tunes = NULL;
	rs->ntunes = rs->captunes = 0;
	tp_lua_lists_free(rs->lists);
	rs->lists = NULL;
}

static struct tp_ruleset *loading_set(lua_State *L, const char *what)
{
	struct tp_ruleset *rs = lua_touserdata(L, lua_upvalueindex(1));

	if (!rs->loading)
		luaL_error(L, "%s() can only be called while a rule file loads", what);
	return rs;
}

/* ------------------------------------------------------------ list, append, macro */

/* list(name, entries) / append(name, entries) / macro(name, fn). Upvalues:
 * the set, which (0 list, 1 append, 2 macro). Problems are reported and the
 * load goes on. Stack: [-2, +0] */
static int l_define(lua_State *L)
{
	static const char *const names[] = {"list", "append", "macro"};
	int which = (int)lua_tointeger(L, lua_upvalueindex(2));
	struct tp_ruleset *rs = loading_set(L, names[which]);
	int line = tp_rules_caller_line(L);
	char err[512];
	int r;

	if (lua_type(L, 1) != LUA_TSTRING) {
		tp_rules_problem(rs, rs->cur_file, line, "%s: the first argument is a name, e.g. "
							 "%s(\"SHELLS\", ...)",
				 names[which], names[which]);
		return 0;
	}
	if (!rs->lists && !(rs->lists = tp_lua_lists_new()))
		return luaL_error(L, "out of memory");
	if (which == 0)
		r = tp_lua_list_define(rs->lists, L, lua_tostring(L, 1), 2, rs->cur_file, line, err,
				       sizeof(err));
	else if (which == 1)
		r = tp_lua_list_append(rs->lists, L, lua_tostring(L, 1), 2, rs->cur_file, line, err,
				       sizeof(err));
	else
		r = tp_lua_macro_define(rs->lists, L, lua_tostring(L, 1), 2, rs->cur_file, line,
					err, sizeof(err));
	if (r < 0)
		tp_rules_problem(rs, rs->cur_file, line, "%s", err);
	return 0;
}

/* ------------------------------------------------------------ exception, override */

/* The rule name of an exception or override table at 1, or NULL (reported). */
static const char *tune_rule(lua_State *L, struct tp_ruleset *rs, const char *what, int line)
{
	if (lua_type(L, 1) != LUA_TTABLE) {
		tp_rules_problem(rs, rs->cur_file, line,
				 "%s: want %s { rule = \"name\", ... }", what, what);
		return NULL;
	}
	if (lua_getfield(L, 1, "rule") != LUA_TSTRING) {
		lua_pop(L, 1);
		tp_rules_problem(rs, rs->cur_file, line,
				 "%s: rule = \"<name of the rule>\" is required", what);
		return NULL;
	}
	lua_pop(L, 1);
	lua_getfield(L, 1, "rule");
	lua_replace(L, 2);
	return lua_tostring(L, 2);
}

/* exception { rule = "...", field = value(s)... }. Upvalue: the set.
 * Stack: [-1, +0] */
static int l_exception(lua_State *L)
{
	struct tp_ruleset *rs = loading_set(L, "exception");
	int line = tp_rules_caller_line(L);
	const char *rule;
	struct tp_exception *x;
	struct tune *t;
	char err[512];

	lua_settop(L, 2);
	rule = tune_rule(L, rs, "exception", line);
	if (!rule)
		return 0;
	x = tp_exception_parse(L, 1, rs->cur_file, line, err, sizeof(err));
	if (!x) {
		tp_rules_problem(rs, rs->cur_file, line, "exception for rule '%s': %s", rule, err);
		return 0;
	}
	t = new_tune(rs);
	if (!t || !(t->rule = strdup(rule)) || !(t->file = strdup(rs->cur_file))) {
		tp_exception_free(x);
		if (t)
			free_tune(t);
		return luaL_error(L, "out of memory");
	}
	t->kind = TUNE_EXCEPTION;
	t->line = line;
	t->x = x;
	rs->ntunes++;
	return 0;
}

/* override { rule = "...", severity = ..., importance = ..., enabled = ... }.
 * Upvalue: the set. Stack: [-1, +0] */
static int l_override(lua_State *L)
{
	static const char *const keys[] = {"rule", "severity", "importance", "enabled", NULL};
	struct tp_ruleset *rs = loading_set(L, "override");
	int line = tp_rules_caller_line(L);
	struct tune tmp = {.severity = -1, .enabled = -1, .importance = -1}, *t;
	const char *rule;
	bool any = false;

	lua_settop(L, 2);
	rule = tune_rule(L, rs, "override", line);
	if (!rule)
		return 0;
	lua_pushnil(L);
	while (lua_next(L, 1)) {
		const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";

		lua_pop(L, 1);
		if (!known_key(keys, k)) {
			lua_pop(L, 1);
			tp_rules_problem(rs, rs->cur_file, line,
					 "override of rule '%s': unknown key '%s' (known: rule, "
					 "severity, importance, enabled; exceptions are exception{})",
					 rule, k);
			return 0;
		}
		any |= strcmp(k, "rule") != 0;
	}
	if (lua_getfield(L, 1, "severity") != LUA_TNIL) {
		tmp.severity = tp_severity_parse(lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1)
									     : NULL);
		if (tmp.severity < 0) {
			tp_rules_problem(rs, rs->cur_file, line,
					 "override of rule '%s': severity: one of debug, info, "
					 "notice, warning, error, critical",
					 rule);
			return 0;
		}
	}
	lua_pop(L, 1);
	if (lua_getfield(L, 1, "importance") != LUA_TNIL) {
		double v = lua_tonumber(L, -1);

		if (lua_type(L, -1) != LUA_TNUMBER || !(v >= 0 && v <= 1)) {
			tp_rules_problem(rs, rs->cur_file, line,
					 "override of rule '%s': importance: a number in [0, 1]",
					 rule);
			return 0;
		}
		tmp.importance = v;
	}
	lua_pop(L, 1);
	if (lua_getfield(L, 1, "enabled") != LUA_TNIL) {
		if (lua_type(L, -1) != LUA_TBOOLEAN) {
			tp_rules_problem(rs, rs->cur_file, line,
					 "override of rule '%s': enabled: true or false", rule);
			return 0;
		}
		tmp.enabled = lua_toboolean(L, -1);
	}
	lua_pop(L, 1);
	if (!any) {
		tp_rules_problem(rs, rs->cur_file, line,
				 "override of rule '%s': nothing to change (severity, importance, "
				 "enabled)",
				 rule);
		return 0;
	}
	t = new_tune(rs);
	if (!t)
		return luaL_error(L, "out of memory");
	*t = tmp;
	t->kind = TUNE_OVERRIDE;
	t->line = line;
	t->rule = strdup(rule);
	t->file = strdup(rs->cur_file);
	if (!t->rule || !t->file) {
		free_tune(t);
		return luaL_error(L, "out of memory");
	}
	rs->ntunes++;
	return 0;
}

void tp_rules_tune_setup(lua_State *L, struct tp_ruleset *rs)
{
	static const char *const defs[] = {"list", "append", "macro"};
	char err[256];

	for (int i = 0; i < 3; i++) {
		lua_pushlightuserdata(L, rs);
		lua_pushinteger(L, i);
		lua_pushcclosure(L, l_define, 2);
		if (tp_lua_set_global(rs->vm, defs[i], err, sizeof(err)) < 0)
			luaL_error(L, "%s", err);
	}
	lua_pushlightuserdata(L, rs);
	lua_pushcclosure(L, l_exception, 1);
	if (tp_lua_set_global(rs->vm, "exception", err, sizeof(err)) < 0)
		luaL_error(L, "%s", err);
	lua_pushlightuserdata(L, rs);
	lua_pushcclosure(L, l_override, 1);
	if (tp_lua_set_global(rs->vm, "override", err, sizeof(err)) < 0)
		luaL_error(L, "%s", err);
}

/* ------------------------------------------------------------ applying */

struct rule_fn *tp_rules_find(const struct tp_ruleset *rs, const char *name)
{
	for (size_t k = 0; k < rs->nfns; k++)
		if (rs->fns[k].kind == FN_RULE && !strcmp(rs->fns[k].name, name))
			return &rs->fns[k];
	return NULL;
}

/* "unknown rule 'x' (did you mean 'y'?)" */
static void unknown_rule(struct tp_ruleset *rs, const struct tune *t)
{
	const char *best = NULL;
	size_t bestd = TP_EDIT_DISTANCE_FAR;

	for (size_t k = 0; k < rs->nfns; k++) {
		size_t d;

		if (rs->fns[k].kind != FN_RULE)
			continue;
		d = tp_edit_distance(t->rule, rs->fns[k].name);
		if (d < bestd) {
			bestd = d;
			best = rs->fns[k].name;
		}
	}
	if (best && bestd <= 3)
		tp_rules_problem(rs, t->file, t->line, "%s for unknown rule '%s' (did you mean '%s'?)",
				 t->kind == TUNE_EXCEPTION ? "exception" : "override", t->rule, best);
	else
		tp_rules_problem(rs, t->file, t->line,
				 "%s for unknown rule '%s' (no rule of that name is loaded)",
				 t->kind == TUNE_EXCEPTION ? "exception" : "override", t->rule);
}

static void apply_override(struct tp_ruleset *rs, struct rule_fn *f, struct tune *t)
{
	char at[512];

	if (t->severity >= 0) {
		f->level = (enum tp_severity)t->severity;
		f->severity = tp_severity_names[t->severity];
		if (!f->importance_set)
			f->importance = severity_importance[t->severity];
	}
	if (t->importance >= 0) {
		f->importance = t->importance;
		f->importance_set = true;
	}
	if (t->enabled >= 0)
		f->enabled = t->enabled;
	snprintf(at, sizeof(at), "%s:%d", t->file, t->line);
	free(f->override_at);
	f->override_at = strdup(at);
	/* A changed rule for the reload summary. */
	f->hash = tp_fnv1a(f->hash, &t->severity, sizeof(t->severity));
	f->hash = tp_fnv1a(f->hash, &t->enabled, sizeof(t->enabled));
	f->hash = tp_fnv1a(f->hash, &t->importance, sizeof(t->importance));
	(void)rs;
}

/* The rule's event types into types; how many. */
static size_t rule_types(const struct rule_fn *f, const struct tp_event_type **types)
{
	const struct tp_event_type *ty;
	size_t n = 0;

	for (size_t k = 0; (ty = tp_event_type_at(k)); k++)
		if (has_type(f->types, type_slot(ty)))
			types[n++] = ty;
	return n;
}

static void apply_exception(struct tp_ruleset *rs, struct rule_fn *f, struct tune *t)
{
	const struct tp_event_type *types[TYPE_SLOTS];
	struct tp_exception **xs;
	char err[768];
	size_t n = rule_types(f, types);

	if (tp_exception_bind(t->x, types, n, err, sizeof(err)) < 0) {
		tp_rules_problem(rs, t->file, t->line, "exception for rule '%s': %s", t->rule, err);
		return;
	}
	xs = realloc(f->exceptions, (f->nexceptions + 1) * sizeof(*xs));
	if (!xs) {
		tp_rules_problem(rs, t->file, t->line, "out of memory");
		return;
	}
	f->exceptions = xs;
	f->exceptions[f->nexceptions++] = t->x;
	t->x = NULL; /* the rule owns it */
}

/* The conditions of the table at idx, bound to types[0..n); NULL with err. */
static struct tp_exception *match_conds(lua_State *L, int idx, const struct rule_fn *f,
					const struct tp_event_type *const *types, size_t n,
					uint64_t *hash, char *err, size_t errlen)
{
	struct tp_exception *x = tp_exception_parse(L, idx, f->file, f->line, err, errlen);
	char desc[1024];

	if (x && tp_exception_bind(x, types, n, err, errlen) < 0) {
		tp_exception_free(x);
		return NULL;
	}
	if (x) {
		tp_exception_describe(x, desc, sizeof(desc));
		*hash = fnv_str(*hash, desc); /* a changed match is a changed rule */
	}
	return x;
}

/* match = {...} of a rule, with the lists as every file left them: the
 * conditions for every type, and those under a type's name
 * (["file.open"] = {...}) for that type only. Raises with the problem.
 * Stack: [-0, +0] */
static void build_match_p(lua_State *L, struct tp_ruleset *rs, struct rule_fn *f, char *err,
			  size_t errlen)
{
	const struct tp_event_type *types[TYPE_SLOTS], *ty;
	size_t n = rule_types(f, types), ncommon = 0;
	struct rule_type_match *tm;
	int m, common;

	lua_rawgeti(L, LUA_REGISTRYINDEX, f->match_ref);
	m = lua_gettop(L);
	lua_newtable(L);
	common = lua_gettop(L);
	lua_pushnil(L);
	while (lua_next(L, m)) {
		ty = lua_type(L, -2) == LUA_TSTRING ? tp_event_type_by_name(lua_tostring(L, -2))
						    : NULL;
		if (!ty) { /* a condition for every type */
			lua_pushvalue(L, -2);
			lua_insert(L, -2);
			lua_rawset(L, common);
			ncommon++;
			continue;
		}
		if (!has_type(f->types, type_slot(ty)))
			luaL_error(L, "%s: not one of the rule's events", ty->name);
		if (lua_type(L, -1) != LUA_TTABLE)
			luaL_error(L, "%s: a table of conditions for those events", ty->name);
		tm = realloc(f->tmatch, (f->ntmatch + 1) * sizeof(*f->tmatch));
		if (!tm)
			luaL_error(L, "out of memory");
		f->tmatch = tm;
		f->tmatch[f->ntmatch].type = ty;
		f->tmatch[f->ntmatch].x =
		    match_conds(L, -1, f, &ty, 1, &f->hash, err, errlen);
		if (!f->tmatch[f->ntmatch].x)
			luaL_error(L, "%s: %s", ty->name, err);
		f->ntmatch++;
		lua_pop(L, 1);
	}
	if (ncommon && !(f->match = match_conds(L, common, f, types, n, &f->hash, err, errlen)))
		luaL_error(L, "%s", err);
	/* A write check per type (a flag) before a list of paths for all. */
	f->tmatch_first = f->match && f->ntmatch;
	for (size_t i = 0; f->tmatch_first && i < f->ntmatch; i++)
		if (tp_exception_cost(f->tmatch[i].x) >= tp_exception_cost(f->match))
			f->tmatch_first = false;
	if (!ncommon && !f->ntmatch)
		luaL_error(L, "no field to match (e.g. path = \"/etc/cron*\")");
	lua_pop(L, 2);
}

static int build_match_cp(lua_State *L)
{
	struct tp_ruleset *rs = lua_touserdata(L, 1);
	struct rule_fn *f = lua_touserdata(L, 2);
	char *err = lua_touserdata(L, 3);

	build_match_p(L, rs, f, err, 768);
	return 0;
}

/* A bad match is a problem of the rule's file:line, and the rule does not
 * run. */
static void build_match(lua_State *L, struct tp_ruleset *rs, struct rule_fn *f)
{
	char err[768];

	lua_pushcfunction(L, build_match_cp);
	lua_pushlightuserdata(L, rs);
	lua_pushlightuserdata(L, f);
	lua_pushlightuserdata(L, err);
	if (lua_pcall(L, 3, 0, 0) != LUA_OK) {
		if (f->kind == FN_RULE)
			tp_rules_problem(rs, f->file, f->line, "rule '%s': match: %s", f->name,
					 lua_tostring(L, -1));
		else
			tp_rules_problem(rs, f->file, f->line, "%s: match: %s",
					 tp_rules_kind_names[f->kind], lua_tostring(L, -1));
		lua_pop(L, 1);
		f->enabled = false;
	}
}

void tp_rules_tune_apply(lua_State *L, struct tp_ruleset *rs)
{
	for (size_t i = 0; i < rs->nfns; i++)
		if (rs->fns[i].match_ref != LUA_NOREF) /* rules' and filter/enrich/score's */
			build_match(L, rs, &rs->fns[i]);
	/* In file order: a later override wins. */
	for (size_t i = 0; i < rs->ntunes; i++) {
		struct tune *t = &rs->tunes[i];
		struct rule_fn *f = tp_rules_find(rs, t->rule);

		if (!f)
			unknown_rule(rs, t);
		else if (t->kind == TUNE_OVERRIDE)
			apply_override(rs, f, t);
		else
			apply_exception(rs, f, t);
	}
}

bool tp_rules_matched(const struct rule_fn *f, const struct tp_event *ev,
		      const struct tp_event_meta *meta, int skip)
{
	if (f->match && !f->tmatch_first && !tp_exception_match_but(f->match, ev, meta, skip))
		return false;
	for (size_t i = 0; i < f->ntmatch; i++)
		if (f->tmatch[i].type == ev->type && !tp_exception_match(f->tmatch[i].x, ev, meta))
			return false;
	return !f->tmatch_first || tp_exception_match_but(f->match, ev, meta, skip);
}

bool tp_rules_excepted(const struct rule_fn *f, const struct tp_event *ev,
		       const struct tp_event_meta *meta)
{
	for (size_t i = 0; i < f->nexceptions; i++)
		if (tp_exception_match(f->exceptions[i], ev, meta))
			return true;
	return false;
}
