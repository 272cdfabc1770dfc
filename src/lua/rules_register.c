/*
 * The Lua side of loading a rule set: the rule{} table (parsed and checked
 * key by key), filter/enrich/score registrations, the globals a rule file
 * sees, and freezing every file's globals after the load.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua/load_limits.h"
#include "lua/rules_internal.h"

const char *const tp_rules_kind_names[FN_KINDS] = {"filter", "enrich", "score", "rule"};

/* A rule without importance gets its severity's. */
static const double severity_importance[TP_SEV_COUNT] = {0.1, 0.3, 0.5, 0.7, 0.85, 1.0};

static struct rule_fn *new_fn(struct tp_ruleset *rs)
{
	if (rs->nfns == rs->capfns) {
		size_t cap = rs->capfns ? 2 * rs->capfns : 32;
		/* cache-line aligned: each function's hot fields in one line */
		struct rule_fn *f = aligned_alloc(64, cap * sizeof(*f));

		if (!f)
			return NULL;
		if (rs->nfns)
			memcpy(f, rs->fns, rs->nfns * sizeof(*f));
		free(rs->fns);
		rs->fns = f;
		rs->capfns = cap;
	}
	memset(&rs->fns[rs->nfns], 0, sizeof(rs->fns[0]));
	rs->fns[rs->nfns].ref = LUA_NOREF;
	rs->fns[rs->nfns].tests_ref = LUA_NOREF;
	rs->fns[rs->nfns].state_ref = LUA_NOREF;
	rs->fns[rs->nfns].match_ref = LUA_NOREF;
	return &rs->fns[rs->nfns];
}

/* Raise the limit's message when n is past it. Stack: [-0, +0] (may raise) */
static void check_limit(lua_State *L, enum tp_load_limit which, size_t n)
{
	char err[192];

	if (tp_load_check(which, n, err, sizeof(err)) < 0)
		luaL_error(L, "%s", err);
}

/* Where the calling Lua code is: the file being loaded and its line. */
int tp_rules_caller_line(lua_State *L)
{
	lua_Debug ar;

	if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "l", &ar))
		return ar.currentline;
	return 0;
}

/* Event names at idx (a string or a list) into a type set. Raises with the
 * problem. Stack: [-0, +0] */
static void parse_events(lua_State *L, int idx, uint64_t *types)
{
	lua_Integer n;

	idx = lua_absindex(L, idx);
	memset(types, 0, TYPE_WORDS * sizeof(*types));
	if (lua_type(L, idx) == LUA_TSTRING) {
		n = 1;
	} else if (lua_type(L, idx) == LUA_TTABLE) {
		n = (lua_Integer)lua_rawlen(L, idx);
		if (!n)
			luaL_error(L, "events: the list is empty");
		check_limit(L, TP_LOAD_EVENTS, (size_t)n);
	} else {
		luaL_error(L,
			   "events: a list of event types (\"process.exec\", \"process\", \"*\")");
		return;
	}
	for (lua_Integer i = 1; i <= n; i++) {
		const struct tp_event_type *t;
		const char *s;
		char cat[32];
		int c = -1;

		if (lua_type(L, idx) == LUA_TSTRING)
			lua_pushvalue(L, idx);
		else
			lua_rawgeti(L, idx, i);
		if (lua_type(L, -1) != LUA_TSTRING)
			luaL_error(L, "events: entry %d is not a string", (int)i);
		s = lua_tostring(L, -1);
		if (!strcmp(s, "*")) {
			for (size_t k = 0; (t = tp_event_type_at(k)); k++)
				types[type_slot(t) / 64] |= 1ull << (type_slot(t) % 64);
		} else if ((t = tp_event_type_by_name(s))) {
			types[type_slot(t) / 64] |= 1ull << (type_slot(t) % 64);
		} else {
			snprintf(cat, sizeof(cat), "%.*s", (int)strcspn(s, "."), s);
			if (!strchr(s, '.') || !strcmp(strchr(s, '.'), ".*"))
				c = tp_category_by_name(cat);
			if (c < 0)
				luaL_error(L, "events: unknown event type '%s'", s);
			for (size_t k = 0; (t = tp_event_type_at(k)); k++)
				if (TP_TYPE_CATEGORY(t->id) == (unsigned)c)
					types[type_slot(t) / 64] |= 1ull << (type_slot(t) % 64);
		}
		lua_pop(L, 1);
	}
}

/* Hash the source lines of the function on top (its text, wherever it
 * moved in the file). Stack: [-0, +0] */
static uint64_t hash_function_text(lua_State *L, struct tp_ruleset *rs, uint64_t h)
{
	const char *p = rs->cur_text, *end = p ? p + rs->cur_len : NULL;
	lua_Debug ar;
	int line = 1;

	lua_pushvalue(L, -1);
	if (!p || !lua_getinfo(L, ">S", &ar) || ar.linedefined <= 0)
		return h;
	if (rs->scan_p && rs->scan_line <= ar.linedefined) {
		p = rs->scan_p;
		line = rs->scan_line;
	}
	while (p < end && line < ar.linedefined)
		if (*p++ == '\n')
			line++;
	rs->scan_p = p;
	rs->scan_line = line;
	while (p < end && line <= ar.lastlinedefined) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);

		h = tp_fnv1a(h, p, n);
		p += n;
		line++;
	}
	return h;
}

static const char *const rule_keys[] = {"name",	 "desc",  "events",  "severity", "importance",
					"tags",	 "when",  "output",  "tests",	 "enabled",
					"state", "match", "aggregate", "remember", "recall",
					"skip_repeats", NULL};

/* state = { name = tapio.counter {...}, ... }: a group for the rule in the
 * set's store, one object per declaration. Raises with the problem.
 * Stack: [-0, +0] */
static void parse_state(lua_State *L, struct tp_ruleset *rs, struct rule_fn *f, int idx)
{
	char err[256];
	int n;

	if (lua_type(L, idx) != LUA_TTABLE)
		luaL_error(L, "state: a table of declarations, e.g. state = { runs = "
			      "tapio.counter { window = \"30s\" } }");
	f->state = tp_state_group_new(rs->state, f->name);
	if (!f->state)
		luaL_error(L, "out of memory");
	n = tp_lua_state_bind(L, idx, f->state, rs->binding, f->handles, STATE_DECLS_MAX, err,
			      sizeof(err));
	if (n < 0)
		luaL_error(L, "%s", err);
	f->nhandles = n;
	if (!n)
		luaL_error(L, "state: declare at least one (or leave state out)");
	f->state_hash = tp_state_group_hash(f->state);
	lua_pushvalue(L, idx);
	f->state_ref = luaL_ref(L, LUA_REGISTRYINDEX);
}
static struct tp_lua_state_handle *gate_map(lua_State *L, const char *key, struct rule_fn *f,
					    const char *name)
{
	struct tp_lua_state_handle *m = tp_lua_state_find_map(f->handles, f->nhandles, name);

	if (!m)
		luaL_error(L, "%s: %s: no tapio.map of that name in the rule's state", key, name);
	return m;
}

/* recall's { map = "field", ... } for type t (its table on top) into g,
 * in the order of the maps' names (the same at every load). Raises with
 * the problem. Stack: [-0, +0] */
static void parse_gate_keys(lua_State *L, const char *key, struct rule_fn *f,
			    const struct tp_event_type *t, struct rule_gate *g, uint64_t *h)
{
	int idx = lua_gettop(L);
	const char *names[RULE_GATE_KEYS_MAX];
	size_t n = 0;

	lua_pushnil(L);
	while (lua_next(L, idx)) {
		if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
			luaL_error(L,
				   "%s: %s: entries are map = \"field\" (e.g. by_path = "
				   "\"path\", by_name = \"path_base\", exe_base = \"path_base\")",
				   key, t->name);
		if (n == RULE_GATE_KEYS_MAX)
			luaL_error(L, "%s: %s: at most %d maps", key, t->name, RULE_GATE_KEYS_MAX);
		names[n++] = lua_tostring(L, -2); /* the table keeps it */
		lua_pop(L, 1);
	}
	if (!n)
		luaL_error(L,
			   "%s: %s: name a map and the field it is keyed by (e.g. by_path = "
			   "\"path\")",
			   key, t->name);
	for (size_t i = 1; i < n; i++) /* sorted: a handful */
		for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			const char *x = names[j];

			names[j] = names[j - 1];
			names[j - 1] = x;
		}
	for (size_t i = 0; i < n; i++) {
		struct gate_key *k = &g->keys[g->nkeys];
		char field[64];
		size_t len;
		const char *fname;

		lua_getfield(L, idx, names[i]);
		fname = lua_tolstring(L, -1, &len);
		/* exe / exe_base, unless the state has a map of that name: the
		 * process's program, compared to the field */
		k->map = tp_lua_state_find_map(f->handles, f->nhandles, names[i]);
		k->exe_base = !strcmp(names[i], "exe_base");
		if (!k->map && !k->exe_base && strcmp(names[i], "exe"))
			gate_map(L, key, f, names[i]); /* raises: no such map */
		k->base = len > 5 && !strcmp(fname + len - 5, "_base");
		snprintf(field, sizeof(field), "%.*s", (int)(k->base ? len - 5 : len), fname);
		k->field = tp_event_field(t, field);
		if (!k->field || k->field->kind != TP_FK_STR)
			luaL_error(L,
				   "%s: %s: %s: not a text field of the event (a path, a "
				   "name: \"path\", \"filename\", \"<field>_base\")",
				   key, t->name, fname);
		g->nkeys++;
		*h = fnv_str(*h, names[i]);
		*h = fnv_str(*h, fname);
		lua_pop(L, 1);
	}
}

/* remember / recall = { ["type"] = "map", ... } at idx into gates: each
 * type one of the rule's events (and not in both lists), each map a
 * tapio.map of the rule's state; recall's may instead be a table of maps
 * keyed by the event's fields, { map = "field", ... }. Returns the count;
 * raises with the problem. Stack: [-0, +0] */
static uint8_t parse_gates(lua_State *L, int idx, const char *key, struct rule_fn *f,
			   struct rule_gate *gates, uint64_t *h)
{
	bool keys_ok = !strcmp(key, "recall");
	uint8_t n = 0;

	idx = lua_absindex(L, idx);
	if (lua_type(L, idx) != LUA_TTABLE)
		luaL_error(L, "%s: a table of event type = state map, e.g. %s = { "
			      "[\"network.connect\"] = \"talked\" }",
			   key, key);
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		const struct tp_event_type *t;
		unsigned slot = 0;

		if (lua_type(L, -2) != LUA_TSTRING ||
		    (lua_type(L, -1) != LUA_TSTRING && !(keys_ok && lua_type(L, -1) == LUA_TTABLE)))
			luaL_error(L,
				   keys_ok ? "%s: entries are [\"event.type\"] = \"map name\" "
					     "or { map = \"field\", ... }"
					   : "%s: entries are [\"event.type\"] = \"map name\"",
				   key);
		t = tp_event_type_by_name(lua_tostring(L, -2));
		if (!t || !has_type(f->types, slot = type_slot(t)))
			luaL_error(L, "%s: %s: not one of the rule's events", key,
				   lua_tostring(L, -2));
		/* remember is parsed first (and a table has each key once): only
		 * recall can repeat one of its types. */
		for (unsigned i = 0; i < f->nremember; i++)
			if (f->remember[i].slot == slot)
				luaL_error(L, "%s: %s: in remember already", key,
					   lua_tostring(L, -2));
		if (n == RULE_GATES_MAX)
			luaL_error(L, "%s: at most %d event types", key, RULE_GATES_MAX);
		gates[n] = (struct rule_gate){.slot = slot};
		*h = fnv_str(*h, key);
		*h = fnv_str(*h, lua_tostring(L, -2));
		if (lua_type(L, -1) == LUA_TTABLE) {
			parse_gate_keys(L, key, f, t, &gates[n], h);
		} else {
			gates[n].map = gate_map(L, key, f, lua_tostring(L, -1));
			*h = fnv_str(*h, lua_tostring(L, -1));
		}
		n++;
		lua_pop(L, 1);
	}
	return n;
}

#define HDR_FIELD(n)                                                                               \
	{                                                                                          \
#n, offsetof(struct tp_hdr, n), sizeof(((struct tp_hdr *)0)->n)                    \
	}
static const struct {
	const char *name;
	uint16_t offset, size;
} repeat_hdrs[] = {HDR_FIELD(pid), HDR_FIELD(tid), HDR_FIELD(ppid),
		   HDR_FIELD(uid), HDR_FIELD(gid), HDR_FIELD(comm)};
#undef HDR_FIELD

/* skip_repeats = { map = "m", fields = { "pid", "daddr", ... } } at idx:
 * the map a tapio.map of the rule's state, each field a header field or a
 * field of every one of the rule's events (not argv or env). Raises with
 * the problem. Stack: [-0, +0] */
static void parse_repeats(lua_State *L, int idx, struct rule_fn *f, uint64_t *h)
{
	const char *names[REPEAT_FIELDS_MAX];
	struct tp_lua_state_handle *m;
	struct rule_repeats *r;
	uint32_t nfields = 0, ntypes = 0;

	idx = lua_absindex(L, idx);
	if (lua_type(L, idx) != LUA_TTABLE)
		luaL_error(L,
			   "skip_repeats: a table, e.g. skip_repeats = { map = \"tried\", fields "
			   "= { \"pid\", \"daddr\", \"dport\" } }");
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";

		if (strcmp(k, "map") && strcmp(k, "fields"))
			luaL_error(L, "skip_repeats: unknown key '%s' (known: map, fields)", k);
		lua_pop(L, 1);
	}
	if (lua_getfield(L, idx, "map") != LUA_TSTRING)
		luaL_error(L, "skip_repeats: map: the name of a tapio.map in the rule's state");
	m = tp_lua_state_find_map(f->handles, f->nhandles, lua_tostring(L, -1));
	if (!m)
		luaL_error(L,
			   "skip_repeats: map: %s: no tapio.map of that name in the rule's state",
			   lua_tostring(L, -1));
	*h = fnv_str(*h, lua_tostring(L, -1));
	lua_pop(L, 1);
	if (lua_getfield(L, idx, "fields") != LUA_TTABLE || lua_rawlen(L, -1) == 0 ||
	    lua_rawlen(L, -1) > REPEAT_FIELDS_MAX)
		luaL_error(L, "skip_repeats: fields: a list of 1 to %d field names",
			   REPEAT_FIELDS_MAX);
	nfields = (uint32_t)lua_rawlen(L, -1);
	for (uint32_t i = 0; i < nfields; i++) {
		if (lua_rawgeti(L, -1, (lua_Integer)i + 1) != LUA_TSTRING)
			luaL_error(L, "skip_repeats: fields: a list of field names");
		names[i] = lua_tostring(L, -1);
		*h = fnv_str(*h, names[i]);
		lua_pop(L, 1); /* the list keeps the string */
	}
	for (size_t i = 0; tp_event_type_at(i); i++)
		ntypes += has_type(f->types, type_slot(tp_event_type_at(i)));
	r = calloc(1, sizeof(*r) + ntypes * sizeof(r->types[0]));
	if (!r)
		luaL_error(L, "out of memory");
	f->repeats = r; /* freed with f, whatever is raised below */
	r->map = m;
	r->nfields = nfields;
	for (size_t i = 0; tp_event_type_at(i); i++) {
		const struct tp_event_type *t = tp_event_type_at(i);
		struct repeat_type *rt;

		if (!has_type(f->types, type_slot(t)))
			continue;
		rt = &r->types[r->ntypes++];
		rt->type = t;
		for (uint32_t k = 0; k < nfields; k++) {
			struct repeat_field *rf = &rt->fld[k];

			for (size_t j = 0; j < sizeof(repeat_hdrs) / sizeof(repeat_hdrs[0]); j++)
				if (!strcmp(names[k], repeat_hdrs[j].name))
					*rf = (struct repeat_field){NULL, repeat_hdrs[j].offset,
								    repeat_hdrs[j].size,
								    !strcmp(names[k], "comm")};
			if (rf->size)
				continue;
			rf->f = tp_event_field(t, names[k]);
			if (!rf->f)
				luaL_error(
				    L,
				    "skip_repeats: fields: %s: not a field of %s (header fields: "
				    "pid, tid, ppid, uid, gid, comm)",
				    names[k], t->name);
			if (rf->f->kind == TP_FK_ARGV || rf->f->kind == TP_FK_ENV ||
			    rf->f->size > TP_PATH_MAX + 8)
				luaL_error(L,
					   "skip_repeats: fields: %s: too long to key on (argv, "
					   "env)",
					   names[k]);
			rf->offset = rf->f->offset;
			rf->size = rf->f->size;
			rf->str = rf->f->kind == TP_FK_STR;
		}
	}
	lua_pop(L, 1);
}

/* Fill f from the rule table at 1. Raises with the problem; f owns what it
 * got so far either way. Stack: [-0, +0] */
static void parse_rule(lua_State *L, struct tp_ruleset *rs, struct rule_fn *f)
{
	const struct tp_event_type *t;
	const char *s;
	char err[256];
	int sev = TP_SEV_WARNING;
	uint64_t h = TP_FNV1A_INIT;

	lua_pushnil(L);
	while (lua_next(L, 1)) {
		if (lua_type(L, -2) != LUA_TSTRING || !known_key(rule_keys, lua_tostring(L, -2)))
			luaL_error(L,
				   "unknown key '%s' (known: name, desc, events, severity, "
				   "importance, tags, when, output, tests, enabled, state, match, "
				   "aggregate, remember, recall, skip_repeats)",
				   lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?");
		lua_pop(L, 1);
	}
	if (lua_getfield(L, 1, "name") != LUA_TSTRING || !lua_rawlen(L, -1) ||
	    lua_rawlen(L, -1) > tp_load_max(TP_LOAD_NAME_BYTES))
		luaL_error(L, "name: a string of 1 to %zu bytes is required",
			   tp_load_max(TP_LOAD_NAME_BYTES));
	f->name = xstrdup(lua_tostring(L, -1));
	lua_pop(L, 1);
	/* Duplicates through a table of names: a scan per rule would make a
	 * file of many rules quadratic. */
	lua_rawgeti(L, LUA_REGISTRYINDEX, rs->names_ref);
	lua_pushstring(L, f->name);
	if (lua_rawget(L, -2) == LUA_TNUMBER) {
		const struct rule_fn *d = &rs->fns[lua_tointeger(L, -1)];

		luaL_error(L, "rule '%s' is already defined at %s:%d", f->name, d->file, d->line);
	}
	lua_pop(L, 2);

	if (lua_getfield(L, 1, "desc") != LUA_TNIL) {
		if (lua_type(L, -1) != LUA_TSTRING)
			luaL_error(L, "desc: a string");
		check_limit(L, TP_LOAD_DESC_BYTES, lua_rawlen(L, -1));
		f->desc = xstrdup(lua_tostring(L, -1));
	}
	lua_pop(L, 1);

	if (lua_getfield(L, 1, "events") == LUA_TNIL)
		luaL_error(L, "events: required (a list of event types)");
	parse_events(L, -1, f->types);
	lua_pop(L, 1);

	if (lua_getfield(L, 1, "severity") != LUA_TNIL) {
		s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
		sev = tp_severity_parse(s);
		if (sev < 0)
			luaL_error(
			    L, "severity: one of debug, info, notice, warning, error, critical");
	}
	lua_pop(L, 1);
	f->severity = tp_severity_names[sev];
	f->level = (enum tp_severity)sev;
	f->importance = severity_importance[sev];

	if (lua_getfield(L, 1, "importance") != LUA_TNIL) {
		double v = lua_tonumber(L, -1);

		if (lua_type(L, -1) != LUA_TNUMBER || !(v >= 0 && v <= 1))
			luaL_error(L, "importance: a number in [0, 1]");
		f->importance = v;
		f->importance_set = true;
	}
	lua_pop(L, 1);

	if (lua_getfield(L, 1, "tags") != LUA_TNIL) {
		lua_Integer n;

		if (lua_type(L, -1) != LUA_TTABLE)
			luaL_error(L, "tags: a list of strings");
		n = (lua_Integer)lua_rawlen(L, -1);
		check_limit(L, TP_LOAD_TAGS, (size_t)n);
		f->tags = calloc((size_t)n + 1, sizeof(*f->tags));
		if (!f->tags)
			luaL_error(L, "out of memory");
		for (lua_Integer i = 1; i <= n; i++) {
			if (lua_rawgeti(L, -1, i) != LUA_TSTRING)
				luaL_error(L, "tags: entry %d is not a string", (int)i);
			check_limit(L, TP_LOAD_TAG_BYTES, lua_rawlen(L, -1));
			f->tags[f->ntags++] = xstrdup(lua_tostring(L, -1));
			h = fnv_str(h, lua_tostring(L, -1));
			lua_pop(L, 1);
		}
	}
	lua_pop(L, 1);

	if (lua_getfield(L, 1, "enabled") != LUA_TNIL && lua_type(L, -1) != LUA_TBOOLEAN)
		luaL_error(L, "enabled: true or false");
	f->enabled = lua_type(L, -1) == LUA_TNIL || lua_toboolean(L, -1);
	lua_pop(L, 1);

	if (lua_getfield(L, 1, "output") != LUA_TSTRING)
		luaL_error(
		    L, "output: a message template is required, e.g. \"${comm} ran ${filename}\"");
	if (tp_template_compile(lua_tostring(L, -1), &f->output, err, sizeof(err)) < 0)
		luaL_error(L, "%s", err);
	h = fnv_str(h, lua_tostring(L, -1));
	lua_pop(L, 1);
	for (size_t i = 0; (s = tp_template_field(f->output, i)); i++) {
		bool ok = false;

		for (size_t k = 0; !ok && (t = tp_event_type_at(k)); k++)
			ok = has_type(f->types, type_slot(t)) && tp_lua_event_has_field(t, s);
		if (!ok)
			luaL_error(L, "output: no field '%s' in the rule's events", s);
	}

	if (lua_getfield(L, 1, "tests") != LUA_TNIL) {
		if (lua_type(L, -1) != LUA_TTABLE)
			luaL_error(L, "tests: a list of { event = {...}, expect = true|false }");
		check_limit(L, TP_LOAD_TESTS, lua_rawlen(L, -1));
		lua_pushvalue(L, -1);
		f->tests_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	}
	lua_pop(L, 1);

	if (lua_getfield(L, 1, "state") != LUA_TNIL)
		parse_state(L, rs, f, -1);
	lua_pop(L, 1);

	/* Set one at a time: a type may not be in both. */
	if (lua_getfield(L, 1, "remember") != LUA_TNIL)
		f->nremember = parse_gates(L, -1, "remember", f, f->remember, &h);
	lua_pop(L, 1);
	if (lua_getfield(L, 1, "recall") != LUA_TNIL)
		f->nrecall = parse_gates(L, -1, "recall", f, f->recall, &h);
	lua_pop(L, 1);
	if (lua_getfield(L, 1, "skip_repeats") != LUA_TNIL)
		parse_repeats(L, -1, f, &h);
	lua_pop(L, 1);

	if (lua_getfield(L, 1, "aggregate") != LUA_TNIL) {
		f->aggregate = calloc(1, sizeof(*f->aggregate));
		if (!f->aggregate)
			luaL_error(L, "out of memory");
		if (tp_aggregate_parse(L, -1, f->aggregate, err, sizeof(err)) < 0)
			luaL_error(L, "%s", err);
		for (unsigned i = 0; i < f->aggregate->nby; i++) {
			bool ok = f->aggregate->by[i] != TP_AGG_FIELD;

			for (size_t k = 0; !ok && (t = tp_event_type_at(k)); k++)
				ok = has_type(f->types, type_slot(t)) &&
				     tp_event_field(t, f->aggregate->field[i]);
			if (!ok)
				luaL_error(L,
					   "aggregate.by: no field '%s' in the rule's events (or "
					   "process, container, exe, parent, user, rule)",
					   f->aggregate->field[i]);
		}
		h = tp_fnv1a(h, f->aggregate, sizeof(*f->aggregate));
	}
	lua_pop(L, 1);

	/* Parsed once every file has loaded (rules_tune.c): a list it names
	 * may still grow. */
	if (lua_getfield(L, 1, "match") != LUA_TNIL) {
		if (lua_type(L, -1) != LUA_TTABLE)
			luaL_error(L, "match: a table of field conditions, e.g. match = { path = "
				      "{ \"/etc/cron*\" } }");
		lua_pushvalue(L, -1);
		f->match_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	}
	lua_pop(L, 1);

	if (lua_getfield(L, 1, "when") != LUA_TFUNCTION)
		luaL_error(L, "when: a function(e) returning true for a match is required");
	h = hash_function_text(L, rs, h); /* its text: moving a rule is no change */
	f->ref = luaL_ref(L, LUA_REGISTRYINDEX);

	h = fnv_str(h, f->name);
	h = fnv_str(h, f->desc);
	h = fnv_str(h, f->severity);
	h = tp_fnv1a(h, &f->importance, sizeof(f->importance));
	h = tp_fnv1a(h, f->types, sizeof(f->types));
	h = tp_fnv1a(h, &f->enabled, sizeof(f->enabled));
	h = tp_fnv1a(h, &f->state_hash, sizeof(f->state_hash));
	f->hash = h;
	lua_rawgeti(L, LUA_REGISTRYINDEX, rs->names_ref);
	lua_pushstring(L, f->name);
	lua_pushinteger(L, (lua_Integer)rs->nfns); /* the index this rule gets */
	lua_rawset(L, -3);
	lua_pop(L, 1);
}

void tp_rules_free_fn(struct rule_fn *f)
{
	tp_state_group_free(f->state);
	tp_exception_free(f->match);
	for (size_t i = 0; i < f->ntmatch; i++)
		tp_exception_free(f->tmatch[i].x);
	free(f->tmatch);
	free(f->rslots);
	free(f->repeats);
	for (uint32_t i = 0; i < f->nsets; i++) {
		free(f->sets[i].key);
		free(f->sets[i].t);
	}
	free(f->sets);
	for (size_t i = 0; i < f->nexceptions; i++)
		tp_exception_free(f->exceptions[i]);
	free(f->exceptions);
	free(f->override_at);
	free(f->aggregate);
	free(f->m);
	free(f->name);
	free(f->file);
	free(f->desc);
	for (size_t i = 0; i < f->ntags; i++)
		free(f->tags[i]);
	free(f->tags);
	tp_template_free(f->output);
}

/* Protected part of rule{}: parse into a fresh slot. Stack: [-0, +0] */
static int rule_p(lua_State *L)
{
	struct tp_ruleset *rs = lua_touserdata(L, lua_upvalueindex(1));

	parse_rule(L, rs, &rs->fns[rs->nfns]);
	return 0;
}

/* rule { ... }: problems are reported and loading goes on, so a
 * validation lists them all. Upvalue: the set. Stack: [-1, +0] */
static int l_rule(lua_State *L)
{
	struct tp_ruleset *rs = lua_touserdata(L, lua_upvalueindex(1));
	int line = tp_rules_caller_line(L);
	struct rule_fn *f;
	const char *name = NULL;

	if (!rs->loading)
		return luaL_error(L, "rule() can only be called while a rule file loads");
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	check_limit(L, TP_LOAD_FUNCTIONS, rs->nfns + 1);
	f = new_fn(rs);
	if (!f)
		return luaL_error(L, "out of memory");
	f->kind = FN_RULE;
	f->line = line;
	f->file = xstrdup(rs->cur_file);
	/* Parse under a protected call of its own, to keep going after a problem. */
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_pushcclosure(L, rule_p, 1);
	lua_pushvalue(L, 1);
	if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
		if (lua_getfield(L, 1, "name") == LUA_TSTRING)
			name = lua_tostring(L, -1);
		if (name)
			tp_rules_problem(rs, rs->cur_file, line, "rule '%s': %s", name,
					 lua_tostring(L, -2));
		else
			tp_rules_problem(rs, rs->cur_file, line, "rule: %s", lua_tostring(L, -2));
		if (f->ref != LUA_NOREF)
			luaL_unref(L, LUA_REGISTRYINDEX, f->ref);
		if (f->tests_ref != LUA_NOREF)
			luaL_unref(L, LUA_REGISTRYINDEX, f->tests_ref);
		if (f->state_ref != LUA_NOREF)
			luaL_unref(L, LUA_REGISTRYINDEX, f->state_ref);
		/* Its declarations may be reachable from other rules' code. */
		for (int i = 0; i < f->nhandles; i++)
			tp_lua_state_unbind(f->handles[i]);
		tp_rules_free_fn(f);
		return 0;
	}
	rs->nfns++;
	return 0;
}

/* filter / enrich / score ([events, [{ match = {...} },]] fn). Upvalues:
 * the set, the kind. Stack: [-(1|2|3), +0] */
/* set = { key = "field" | "field_base", ... } at idx for f (an enrich with
 * no function): each key one e:set could set, each field a text field of
 * every one of f's events. Raises with the problem. Stack: [-0, +0] */
static void parse_sets(lua_State *L, int idx, struct rule_fn *f)
{
	const struct tp_event_type *t;
	uint32_t n = 0, ntypes = 0;
	char why[160];

	lua_pushnil(L);
	while (lua_next(L, idx)) {
		n++;
		lua_pop(L, 1);
	}
	if (!n || n > 16)
		luaL_error(L, "enrich: set: 1 to 16 keys");
	for (size_t k = 0; (t = tp_event_type_at(k)); k++)
		ntypes += has_type(f->types, type_slot(t));
	f->sets = calloc(n, sizeof(*f->sets));
	if (!f->sets)
		luaL_error(L, "out of memory");
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		struct enrich_set *es = &f->sets[f->nsets];
		const char *key, *name;
		size_t nlen;

		if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
			luaL_error(L, "enrich: set: entries are key = \"field\"");
		key = lua_tostring(L, -2);
		name = lua_tolstring(L, -1, &nlen);
		if (!tp_lua_set_key_ok(L, key, why, sizeof(why)))
			luaL_error(L, "enrich: set: %s", why);
		es->key = xstrdup(key);
		es->t = calloc(ntypes ? ntypes : 1, sizeof(*es->t));
		f->nsets++;
		if (!es->key || !es->t)
			luaL_error(L, "out of memory");
		es->base = nlen > 5 && !strcmp(name + nlen - 5, "_base");
		for (size_t k = 0; (t = tp_event_type_at(k)); k++) {
			char field[64];
			const struct tp_field *fld;

			if (!has_type(f->types, type_slot(t)))
				continue;
			snprintf(field, sizeof(field), "%.*s", (int)(es->base ? nlen - 5 : nlen),
				 name);
			fld = tp_event_field(t, field);
			if (!fld || fld->kind != TP_FK_STR)
				luaL_error(L,
					   "enrich: set: %s: %s is not a text field of %s (a field "
					   "such as filename, path, or its _base)",
					   key, name, t->name);
			es->t[es->ntypes++] = (struct enrich_set_type){t, fld};
		}
		lua_pop(L, 1);
	}
}

static int l_register(lua_State *L)
{
	struct tp_ruleset *rs = lua_touserdata(L, lua_upvalueindex(1));
	enum fn_kind kind = (enum fn_kind)lua_tointeger(L, lua_upvalueindex(2));
	const char *kn = tp_rules_kind_names[kind];
	struct rule_fn *f;
	int top = lua_gettop(L), fidx = top >= 1 && top <= 3 ? top : 1;
	const struct tp_event_type *t;
	/* enrich(events, { match = {...}, set = {...} }): no function */
	bool c_set = kind == FN_ENRICH && top == 2 && lua_type(L, 2) == LUA_TTABLE;

	if (!rs->loading)
		return luaL_error(L, "%s() can only be called while a rule file loads", kn);
	if (!c_set && (top > 3 || lua_type(L, fidx) != LUA_TFUNCTION))
		return luaL_error(L,
				  "%s: want %s(function(e) ... end), %s(events, function(e) ... "
				  "end) or %s(events, { match = {...} }, function(e) ... end)%s",
				  kn, kn, kn, kn,
				  kind == FN_ENRICH
				      ? " or enrich(events, { match = {...}, set = { key = "
					"\"field\" } })"
				      : "");
	if (top == 3 || c_set) {
		if (lua_type(L, 2) != LUA_TTABLE)
			return luaL_error(L, "%s: the second of three arguments is { match = {...} }",
					  kn);
		lua_pushnil(L);
		while (lua_next(L, 2)) {
			lua_pop(L, 1);
			if (lua_type(L, -1) != LUA_TSTRING ||
			    (strcmp(lua_tostring(L, -1), "match") &&
			     (!c_set || strcmp(lua_tostring(L, -1), "set"))))
				return luaL_error(L, "%s: unknown option '%s' (known: match%s)", kn,
						  luaL_tolstring(L, -1, NULL),
						  c_set ? ", set" : "");
		}
		if (c_set && lua_getfield(L, 2, "set") != LUA_TTABLE)
			return luaL_error(L,
					  "enrich: set: a table of key = \"field\", e.g. set = { "
					  "shell_exec = \"filename_base\" } (or give a function)");
		if (c_set)
			lua_pop(L, 1);
		lua_getfield(L, 2, "match");
		if (lua_type(L, -1) != LUA_TTABLE)
			return luaL_error(L,
					  "%s: match: a table of field conditions, e.g. match = { "
					  "flags = { any = \"O_WRONLY|O_RDWR\" } }",
					  kn);
		lua_pop(L, 1);
	}
	check_limit(L, TP_LOAD_FUNCTIONS, rs->nfns + 1);
	f = new_fn(rs);
	if (!f)
		return luaL_error(L, "out of memory");
	if (fidx >= 2) {
		parse_events(L, 1, f->types);
	} else {
		for (size_t k = 0; (t = tp_event_type_at(k)); k++)
			f->types[type_slot(t) / 64] |= 1ull << (type_slot(t) % 64);
	}
	f->kind = kind;
	f->enabled = true;
	f->line = tp_rules_caller_line(L);
	f->file = xstrdup(rs->cur_file);
	f->name = xstrdup(kn);
	if (fidx == 3 || c_set) { /* built once every file has loaded, as a rule's */
		lua_getfield(L, 2, "match");
		f->match_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	}
	rs->nfns++; /* f is the set's now: freed with it whatever is raised */
	if (c_set) {
		lua_getfield(L, 2, "set");
		parse_sets(L, lua_gettop(L), f);
		lua_pop(L, 1);
		return 0;
	}
	lua_pushvalue(L, fidx);
	f->ref = luaL_ref(L, LUA_REGISTRYINDEX);
	return 0;
}

/* Protected: the event userdata, the envs list, the four globals.
 * Stack: [-1, +0] */
int tp_rules_setup_p(lua_State *L)
{
	struct tp_ruleset *rs = lua_touserdata(L, 1);
	char err[256];

	tp_lua_event_open(L);
	lua_newtable(L);
	rs->envs_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	lua_newtable(L);
	rs->names_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	lua_pushlightuserdata(L, rs);
	lua_pushcclosure(L, l_rule, 1);
	if (tp_lua_set_global(rs->vm, "rule", err, sizeof(err)) < 0)
		return luaL_error(L, "%s", err);
	for (int k = FN_FILTER; k <= FN_SCORE; k++) {
		lua_pushlightuserdata(L, rs);
		lua_pushinteger(L, k);
		lua_pushcclosure(L, l_register, 2);
		if (tp_lua_set_global(rs->vm, tp_rules_kind_names[k], err, sizeof(err)) < 0)
			return luaL_error(L, "%s", err);
	}
	tp_rules_tune_setup(L, rs);
	return 0;
}

/* Protected: freeze every file's globals. Stack: [-1, +0] */
int tp_rules_freeze_p(lua_State *L)
{
	struct tp_ruleset *rs = lua_touserdata(L, 1);
	lua_Integer n;

	lua_rawgeti(L, LUA_REGISTRYINDEX, rs->envs_ref);
	n = (lua_Integer)lua_rawlen(L, -1);
	for (lua_Integer i = 1; i <= n; i++) {
		lua_rawgeti(L, -1, i);
		tp_lua_env_freeze(L, -1);
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	luaL_unref(L, LUA_REGISTRYINDEX, rs->envs_ref);
	rs->envs_ref = LUA_NOREF;
	luaL_unref(L, LUA_REGISTRYINDEX, rs->names_ref);
	rs->names_ref = LUA_NOREF;
	if (rs->lists)
		tp_lua_lists_freeze(rs->lists, L);
	return 0;
}
