#include "lua/rules.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>

#include "log.h"
#include "lua/lua_event.h"
#include "lua/template.h"
#include "metrics.h"
#include "util/buf.h"

#define TYPE_SLOTS    (TP_CAT_MAX * 64)
#define TYPE_WORDS    ((TYPE_SLOTS + 63) / 64)
#define RULE_FILE_MAX (4u << 20)
/* Top-level code of a file may build big tables: a larger budget while loading. */
#define LOAD_BUDGET_MIN 50000000ull
/* Slot 1 of the VM's stack is the sandbox's message handler; 2 the event. */
#define EVENT_SLOT 2

enum fn_kind { FN_FILTER, FN_ENRICH, FN_SCORE, FN_RULE, FN_KINDS };
static const char *const kind_names[FN_KINDS] = {"filter", "enrich", "score", "rule"};

/* A rule without importance gets its severity's. */
static const double severity_importance[TP_SEV_COUNT] = {0.1, 0.3, 0.5, 0.7, 0.85, 1.0};

/* Any Lua function the engine calls: a rule's when, or a filter/enrich/score. */
struct rule_fn {
	enum fn_kind kind;
	int ref;
	char *name; /* the rule's name, or the kind */
	char *file;
	int line;
	uint64_t types[TYPE_WORDS];
	uint32_t faults;
	bool quarantined;
	/* Rules only. */
	bool enabled;
	char *desc;
	const char *severity;
	enum tp_severity level; /* of severity */
	double importance;
	char **tags;
	size_t ntags;
	struct tp_template *output;
	int tests_ref;
	uint64_t hash; /* the definition, for reload summaries */
};

struct slot_index {
	uint32_t *fns[FN_KINDS];
	uint32_t n[FN_KINDS];
};

struct tp_ruleset {
	struct tp_lua_vm *vm;
	lua_State *L;
	struct rule_fn *fns;
	size_t nfns, capfns;
	struct slot_index *index[TYPE_SLOTS];
	struct tp_lua_limits limits;
	uint32_t fault_limit;
	enum tp_severity min_severity; /* rules below it are not indexed: never run */
	uint64_t hash;
	size_t files, tests;
	int envs_ref;
	struct tp_lua_event *binding;
	struct tp_lua_sink sink;
	struct tp_buf out;
	/* While loading. */
	bool loading;
	const char *cur_file;
	const char *cur_text; /* its bytes */
	size_t cur_len;
	const struct tp_rules_opts *opts;
	unsigned problems;
	char first_problem[1024];
	struct tp_event test_ev;
};

/* ------------------------------------------------------------ metrics */

static struct tp_metric m_matches =
    TP_COUNTER_INIT("tapio_rule_matches_total", "Rule matches (alerts raised).");
static struct tp_metric m_faults[3] = {
    TP_COUNTER_INIT("tapio_rule_faults_total", "Rule, filter, enrich or score calls that failed."),
    TP_COUNTER_INIT("tapio_rule_faults_total", "Rule, filter, enrich or score calls that failed."),
    TP_COUNTER_INIT("tapio_rule_faults_total", "Rule, filter, enrich or score calls that failed."),
};
static struct tp_metric m_quarantined =
    TP_COUNTER_INIT("tapio_rules_quarantined_total",
		    "Rules (or filter/enrich/score functions) quarantined after repeated faults.");

static void metrics_init(void)
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

/* ------------------------------------------------------------ helpers */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++) {
		h ^= c[i];
		h *= 1099511628211ull;
	}
	return h;
}
#define FNV_INIT 14695981039346656037ull

static uint64_t fnv_str(uint64_t h, const char *s)
{
	return fnv(h, s ? s : "", s ? strlen(s) + 1 : 1);
}

static unsigned type_slot(const struct tp_event_type *t)
{
	return TP_TYPE_CATEGORY(t->id) * 64 + (t->id & 0x3f);
}

static bool has_type(const uint64_t *types, unsigned slot)
{
	return types[slot / 64] & (1ull << (slot % 64));
}

static __attribute__((format(printf, 4, 5))) void problem(struct tp_ruleset *rs, const char *file,
							  int line, const char *fmt, ...)
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

/* The first line of a Lua error (the message without its traceback). */
static int first_line_len(const char *s)
{
	return (int)strcspn(s, "\n");
}

static char *xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static struct rule_fn *new_fn(struct tp_ruleset *rs)
{
	if (rs->nfns == rs->capfns) {
		size_t cap = rs->capfns ? 2 * rs->capfns : 32;
		struct rule_fn *f = realloc(rs->fns, cap * sizeof(*f));

		if (!f)
			return NULL;
		rs->fns = f;
		rs->capfns = cap;
	}
	memset(&rs->fns[rs->nfns], 0, sizeof(rs->fns[0]));
	rs->fns[rs->nfns].ref = LUA_NOREF;
	rs->fns[rs->nfns].tests_ref = LUA_NOREF;
	return &rs->fns[rs->nfns];
}

/* ------------------------------------------------------------ registration (Lua side) */

/* Where the calling Lua code is: the file being loaded and its line. */
static int caller_line(lua_State *L)
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
	while (p < end && line < ar.linedefined)
		if (*p++ == '\n')
			line++;
	while (p < end && line <= ar.lastlinedefined) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);

		h = fnv(h, p, n);
		p += n;
		line++;
	}
	return h;
}

static const char *const rule_keys[] = {"name",	      "desc",	 "events", "severity",
					"importance", "tags",	 "when",   "output",
					"tests",      "enabled", NULL};

static bool known_key(const char *const *keys, const char *k)
{
	for (; *keys; keys++)
		if (!strcmp(*keys, k))
			return true;
	return false;
}

/* Fill f from the rule table at 1. Raises with the problem; f owns what it
 * got so far either way. Stack: [-0, +0] */
static void parse_rule(lua_State *L, struct tp_ruleset *rs, struct rule_fn *f)
{
	const struct tp_event_type *t;
	const char *s;
	char err[256];
	int sev = TP_SEV_WARNING;
	uint64_t h = FNV_INIT;

	lua_pushnil(L);
	while (lua_next(L, 1)) {
		if (lua_type(L, -2) != LUA_TSTRING || !known_key(rule_keys, lua_tostring(L, -2)))
			luaL_error(L,
				   "unknown key '%s' (known: name, desc, events, severity, "
				   "importance, tags, when, output, tests, enabled)",
				   lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?");
		lua_pop(L, 1);
	}
	if (lua_getfield(L, 1, "name") != LUA_TSTRING || !lua_rawlen(L, -1) ||
	    lua_rawlen(L, -1) > 128)
		luaL_error(L, "name: a string of 1 to 128 bytes is required");
	f->name = xstrdup(lua_tostring(L, -1));
	lua_pop(L, 1);
	for (size_t i = 0; i < rs->nfns; i++)
		if (rs->fns[i].kind == FN_RULE && !strcmp(rs->fns[i].name, f->name))
			luaL_error(L, "rule '%s' is already defined at %s:%d", f->name,
				   rs->fns[i].file, rs->fns[i].line);

	if (lua_getfield(L, 1, "desc") != LUA_TNIL) {
		if (lua_type(L, -1) != LUA_TSTRING)
			luaL_error(L, "desc: a string");
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
	}
	lua_pop(L, 1);

	if (lua_getfield(L, 1, "tags") != LUA_TNIL) {
		lua_Integer n;

		if (lua_type(L, -1) != LUA_TTABLE)
			luaL_error(L, "tags: a list of strings");
		n = (lua_Integer)lua_rawlen(L, -1);
		f->tags = calloc((size_t)n + 1, sizeof(*f->tags));
		if (!f->tags)
			luaL_error(L, "out of memory");
		for (lua_Integer i = 1; i <= n; i++) {
			if (lua_rawgeti(L, -1, i) != LUA_TSTRING)
				luaL_error(L, "tags: entry %d is not a string", (int)i);
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
		lua_pushvalue(L, -1);
		f->tests_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	}
	lua_pop(L, 1);

	if (lua_getfield(L, 1, "when") != LUA_TFUNCTION)
		luaL_error(L, "when: a function(e) returning true for a match is required");
	h = hash_function_text(L, rs, h); /* its text: moving a rule is no change */
	f->ref = luaL_ref(L, LUA_REGISTRYINDEX);

	h = fnv_str(h, f->name);
	h = fnv_str(h, f->desc);
	h = fnv_str(h, f->severity);
	h = fnv(h, &f->importance, sizeof(f->importance));
	h = fnv(h, f->types, sizeof(f->types));
	h = fnv(h, &f->enabled, sizeof(f->enabled));
	f->hash = h;
}

static void free_fn(struct rule_fn *f)
{
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
	int line = caller_line(L);
	struct rule_fn *f;
	const char *name = NULL;

	if (!rs->loading)
		return luaL_error(L, "rule() can only be called while a rule file loads");
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
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
			problem(rs, rs->cur_file, line, "rule '%s': %s", name, lua_tostring(L, -2));
		else
			problem(rs, rs->cur_file, line, "rule: %s", lua_tostring(L, -2));
		if (f->ref != LUA_NOREF)
			luaL_unref(L, LUA_REGISTRYINDEX, f->ref);
		if (f->tests_ref != LUA_NOREF)
			luaL_unref(L, LUA_REGISTRYINDEX, f->tests_ref);
		free_fn(f);
		return 0;
	}
	rs->nfns++;
	return 0;
}

/* filter / enrich / score ([events,] fn). Upvalues: the set, the kind.
 * Stack: [-(1|2), +0] */
static int l_register(lua_State *L)
{
	struct tp_ruleset *rs = lua_touserdata(L, lua_upvalueindex(1));
	enum fn_kind kind = (enum fn_kind)lua_tointeger(L, lua_upvalueindex(2));
	struct rule_fn *f;
	int fidx = lua_gettop(L) >= 2 ? 2 : 1;
	const struct tp_event_type *t;

	if (!rs->loading)
		return luaL_error(L, "%s() can only be called while a rule file loads",
				  kind_names[kind]);
	if (lua_gettop(L) > 2 || lua_type(L, fidx) != LUA_TFUNCTION)
		return luaL_error(
		    L, "%s: want %s(function(e) ... end) or %s(events, function(e) ... end)",
		    kind_names[kind], kind_names[kind], kind_names[kind]);
	f = new_fn(rs);
	if (!f)
		return luaL_error(L, "out of memory");
	if (fidx == 2) {
		parse_events(L, 1, f->types);
	} else {
		for (size_t k = 0; (t = tp_event_type_at(k)); k++)
			f->types[type_slot(t) / 64] |= 1ull << (type_slot(t) % 64);
	}
	f->kind = kind;
	f->enabled = true;
	f->line = caller_line(L);
	f->file = xstrdup(rs->cur_file);
	f->name = xstrdup(kind_names[kind]);
	lua_pushvalue(L, fidx);
	f->ref = luaL_ref(L, LUA_REGISTRYINDEX);
	rs->nfns++;
	return 0;
}

/* Protected: the event userdata, the envs list, the four globals.
 * Stack: [-1, +0] */
static int setup_p(lua_State *L)
{
	struct tp_ruleset *rs = lua_touserdata(L, 1);
	char err[256];

	tp_lua_event_open(L);
	lua_newtable(L);
	rs->envs_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	lua_pushlightuserdata(L, rs);
	lua_pushcclosure(L, l_rule, 1);
	if (tp_lua_set_global(rs->vm, "rule", err, sizeof(err)) < 0)
		return luaL_error(L, "%s", err);
	for (int k = FN_FILTER; k <= FN_SCORE; k++) {
		lua_pushlightuserdata(L, rs);
		lua_pushinteger(L, k);
		lua_pushcclosure(L, l_register, 2);
		if (tp_lua_set_global(rs->vm, kind_names[k], err, sizeof(err)) < 0)
			return luaL_error(L, "%s", err);
	}
	return 0;
}

/* Protected: freeze every file's globals. Stack: [-1, +0] */
static int freeze_p(lua_State *L)
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
	return 0;
}

/* Protected: keep the environment of a chunk, to freeze it after the load.
 * Stack: [-2, +0] (the set, the chunk) */
static int keep_env_p(lua_State *L)
{
	struct tp_ruleset *rs = lua_touserdata(L, 1);

	lua_rawgeti(L, LUA_REGISTRYINDEX, rs->envs_ref);
	tp_lua_push_env(L, 2);
	lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
	lua_pop(L, 1);
	return 0;
}

/* ------------------------------------------------------------ files */

/* A root agent must not run Lua that someone else can change. */
static bool trusted(const struct stat *st, bool sticky_ok)
{
	uid_t me = geteuid();

	if (st->st_uid != 0 && st->st_uid != me)
		return false;
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return sticky_ok && (st->st_mode & S_ISVTX);
	return true;
}

static void untrusted_problem(struct tp_ruleset *rs, const char *path, const struct stat *st)
{
	if (st->st_uid != 0 && st->st_uid != geteuid())
		problem(
		    rs, path, 0,
		    "refusing to load: owned by uid %u, not by root or the agent's user (uid %u); "
		    "whoever owns it could make the agent run any code",
		    (unsigned)st->st_uid, (unsigned)geteuid());
	else
		problem(rs, path, 0,
			"refusing to load: writable by %s (mode %03o); run chmod go-w on it",
			(st->st_mode & S_IWOTH) ? "every user" : "its group",
			(unsigned)(st->st_mode & 0777));
}

static void load_file(struct tp_ruleset *rs, const char *path)
{
	lua_State *L = rs->L;
	struct stat st;
	char *text = NULL, err[2048];
	ssize_t n;
	int fd;
	struct tp_lua_limits load_lim = rs->limits;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		problem(rs, path, 0, "cannot open: %s", strerror(errno));
		return;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		problem(rs, path, 0, "not a regular file");
		goto out;
	}
	if (!rs->opts->allow_untrusted && !trusted(&st, false)) {
		untrusted_problem(rs, path, &st);
		goto out;
	}
	if (st.st_size > RULE_FILE_MAX) {
		problem(rs, path, 0, "larger than %u bytes", RULE_FILE_MAX);
		goto out;
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		problem(rs, path, 0, "out of memory");
		goto out;
	}
	n = read(fd, text, (size_t)st.st_size);
	if (n != st.st_size) {
		problem(rs, path, 0, "short read");
		goto out;
	}
	rs->hash = fnv_str(rs->hash, path);
	rs->hash = fnv(rs->hash, text, (size_t)n);
	rs->files++;

	{
		char name[PATH_MAX + 2];

		snprintf(name, sizeof(name), "@%s", path);
		if (tp_lua_load(rs->vm, text, (size_t)n, name, err, sizeof(err)) < 0) {
			problem(rs, NULL, 0, "%s", err);
			goto out;
		}
	}
	lua_pushcfunction(L, keep_env_p);
	lua_pushlightuserdata(L, rs);
	lua_pushvalue(L, -3);
	if (tp_lua_pcall(rs->vm, 2, 0, err, sizeof(err)) != TP_LUA_OK) {
		lua_pop(L, 1);
		problem(rs, path, 0, "%.*s", first_line_len(err), err);
		goto out;
	}
	rs->cur_file = path;
	rs->cur_text = text;
	rs->cur_len = (size_t)n;
	if (load_lim.instr_budget < LOAD_BUDGET_MIN)
		load_lim.instr_budget = LOAD_BUDGET_MIN;
	load_lim.mem_call_max = 0;
	tp_lua_vm_set_limits(rs->vm, &load_lim);
	enum tp_lua_status s = tp_lua_pcall(rs->vm, 0, 0, err, sizeof(err));
	tp_lua_vm_set_limits(rs->vm, &rs->limits);
	rs->cur_file = NULL;
	rs->cur_text = NULL;
	if (s != TP_LUA_OK) {
		if (!strncmp(err, path, strlen(path)))
			problem(rs, NULL, 0, "%.*s", first_line_len(err), err);
		else
			problem(rs, path, 0, "%.*s", first_line_len(err), err);
	}
out:
	free(text);
	close(fd);
}

static int lua_file_filter(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 4 && !strcmp(d->d_name + n - 4, ".lua");
}

static void load_path(struct tp_ruleset *rs, const char *path)
{
	struct stat st;
	struct dirent **list;
	char sub[PATH_MAX];
	int n;

	if (stat(path, &st) < 0) {
		problem(rs, path, 0, "%s", strerror(errno));
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		char copy[PATH_MAX];
		struct stat dst;

		/* Whoever can write the folder can swap the file. */
		snprintf(copy, sizeof(copy), "%s", path);
		if (!rs->opts->allow_untrusted && stat(dirname(copy), &dst) == 0 &&
		    !trusted(&dst, true)) {
			snprintf(copy, sizeof(copy), "%s", path);
			untrusted_problem(rs, dirname(copy), &dst);
			return;
		}
		load_file(rs, path);
		return;
	}
	if (!rs->opts->allow_untrusted && !trusted(&st, false)) {
		untrusted_problem(rs, path, &st);
		return;
	}
	n = scandir(path, &list, lua_file_filter, alphasort);
	if (n < 0) {
		problem(rs, path, 0, "%s", strerror(errno));
		return;
	}
	for (int i = 0; i < n; i++) {
		snprintf(sub, sizeof(sub), "%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/",
			 list[i]->d_name);
		load_file(rs, sub);
		free(list[i]);
	}
	free(list);
}

/* ------------------------------------------------------------ running functions */

static void bind(struct tp_ruleset *rs, const struct tp_event *ev, struct tp_event_meta *meta,
		 int extra)
{
	rs->binding->ev = ev;
	rs->binding->meta = meta;
	rs->binding->extra = extra;
	rs->binding->sink = tp_lua_sink_begin(&rs->sink, meta) ? &rs->sink : NULL;
}

static void unbind(struct tp_ruleset *rs, struct tp_event_meta *meta)
{
	if (rs->binding->sink)
		tp_lua_sink_end(&rs->sink, meta);
	rs->binding->ev = NULL;
	rs->binding->meta = NULL;
	rs->binding->sink = NULL;
	rs->binding->extra = LUA_NOREF;
}

/* fn(e). The event userdata waits in slot EVENT_SLOT of the VM's stack.
 * Stack: [-0, +1] on TP_LUA_OK, [-0, +0] otherwise */
static enum tp_lua_status call_fn(struct tp_ruleset *rs, const struct rule_fn *f, char *err,
				  size_t errlen)
{
	lua_rawgeti(rs->L, LUA_REGISTRYINDEX, f->ref);
	lua_pushvalue(rs->L, EVENT_SLOT);
	return tp_lua_pcall(rs->vm, 1, 1, err, errlen);
}

static void fault(struct tp_ruleset *rs, struct rule_fn *f, enum tp_lua_status st, const char *err)
{
	int k = st == TP_LUA_TIMEOUT ? 1 : st == TP_LUA_NOMEM ? 2 : 0;
	bool log;

	f->faults++;
	tp_metric_add(&m_faults[k], 1);
	/* Every fault up to the quarantine; without one, fewer and fewer. */
	log = rs->fault_limit ? true : !(f->faults & (f->faults - 1));
	if (log)
		tp_warn("%s%s%s%s (%s:%d) failed: %.*s (fault %u%s)", kind_names[f->kind],
			f->kind == FN_RULE ? " '" : "", f->kind == FN_RULE ? f->name : "",
			f->kind == FN_RULE ? "'" : "", f->file, f->line, first_line_len(err), err,
			f->faults, rs->fault_limit ? "" : ", not quarantined");
	if (rs->fault_limit && f->faults >= rs->fault_limit) {
		f->quarantined = true;
		tp_metric_add(&m_quarantined, 1);
		tp_warn("%s%s%s%s (%s:%d) quarantined after %u faults, until the next reload",
			kind_names[f->kind], f->kind == FN_RULE ? " '" : "",
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

/* Render into rs->out; on a fault the message says so. */
static enum tp_lua_status render(struct tp_ruleset *rs, const struct rule_fn *rule, char *err,
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

static bool truthy_bool(lua_State *L)
{
	bool r = lua_toboolean(L, -1);

	lua_pop(L, 1);
	return r;
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

	*nalerts = 0;
	if (!ix)
		return TP_RULES_KEEP;
	bind(rs, ev, meta, LUA_NOREF);
	for (uint32_t i = 0; i < ix->n[FN_FILTER]; i++) {
		struct rule_fn *f = &rs->fns[ix->fns[FN_FILTER][i]];

		if (f->quarantined)
			continue;
		st = call_fn(rs, f, err, sizeof(err));
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
	for (uint32_t i = 0; i < ix->n[FN_ENRICH]; i++) {
		struct rule_fn *f = &rs->fns[ix->fns[FN_ENRICH][i]];

		if (f->quarantined)
			continue;
		st = call_fn(rs, f, err, sizeof(err));
		if (st != TP_LUA_OK)
			fault(rs, f, st, err);
		else
			lua_pop(L, 1);
	}
	for (uint32_t i = 0; i < ix->n[FN_SCORE]; i++) {
		struct rule_fn *f = &rs->fns[ix->fns[FN_SCORE][i]];
		double v;

		if (f->quarantined)
			continue;
		st = call_fn(rs, f, err, sizeof(err));
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
	for (uint32_t i = 0; i < ix->n[FN_RULE]; i++) {
		struct rule_fn *f = &rs->fns[ix->fns[FN_RULE][i]];
		struct tp_event_meta am;
		struct tp_alert alert;

		if (f->quarantined)
			continue;
		st = call_fn(rs, f, err, sizeof(err));
		if (st != TP_LUA_OK) {
			fault(rs, f, st, err);
			continue;
		}
		if (!truthy_bool(L))
			continue;
		st = render(rs, f, err, sizeof(err));
		if (st != TP_LUA_OK)
			fault(rs, f, st, err);
		alert = (struct tp_alert){
		    .rule = f->name,
		    .severity = f->severity,
		    .importance = f->importance,
		    .tags = (const char *const *)f->tags,
		    .ntags = f->ntags,
		    .output = tp_buf_cstr(&rs->out),
		};
		am = *meta;
		if (rs->binding->sink)
			tp_lua_sink_end(&rs->sink, &am);
		am.alert = &alert;
		tp_metric_add(&m_matches, 1);
		(*nalerts)++;
		alert_fn(ctx, ev, &am);
	}
out:
	unbind(rs, meta);
	return verdict;
}

/* ------------------------------------------------------------ tests */

struct test_args {
	struct tp_ruleset *rs;
	struct rule_fn *rule;
	lua_Integer i;
	int extra;
	bool expect;
	char *want_output;
};

static const char *const test_keys[] = {"event", "expect", "output", NULL};

/* Protected: read test i of the rule and build its event. Stack: [-1, +0] */
static int test_prepare_p(lua_State *L)
{
	struct test_args *a = lua_touserdata(L, 1);

	lua_rawgeti(L, LUA_REGISTRYINDEX, a->rule->tests_ref);
	if (lua_rawgeti(L, -1, a->i) != LUA_TTABLE)
		return luaL_error(L, "not a table { event = {...}, expect = true|false }");
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		if (lua_type(L, -2) != LUA_TSTRING || !known_key(test_keys, lua_tostring(L, -2)))
			return luaL_error(L, "unknown key '%s' (known: event, expect, output)",
					  lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2)
									 : "?");
		lua_pop(L, 1);
	}
	if (lua_getfield(L, -1, "expect") != LUA_TBOOLEAN)
		return luaL_error(L, "expect: true (the rule matches) or false");
	a->expect = lua_toboolean(L, -1);
	lua_pop(L, 1);
	if (lua_getfield(L, -1, "output") != LUA_TNIL) {
		if (lua_type(L, -1) != LUA_TSTRING)
			return luaL_error(L, "output: the expected message, a string");
		a->want_output = strdup(lua_tostring(L, -1));
	}
	lua_pop(L, 1);
	if (lua_getfield(L, -1, "event") != LUA_TTABLE)
		return luaL_error(L, "event: a table with at least a type");
	a->extra = tp_lua_event_from_table(L, -1, &a->rs->test_ev);
	lua_pop(L, 3);
	return 0;
}

static void run_test(struct tp_ruleset *rs, struct rule_fn *r, lua_Integer i)
{
	struct test_args a = {.rs = rs, .rule = r, .i = i, .extra = LUA_NOREF};
	struct tp_event_meta meta = {.importance = -1.0};
	struct slot_index *ix;
	char err[1024];
	enum tp_lua_status st;
	bool matched;

	st = tp_lua_cpcall(rs->vm, test_prepare_p, &a, err, sizeof(err));
	if (st != TP_LUA_OK) {
		problem(rs, r->file, r->line, "rule '%s' test %d: %.*s", r->name, (int)i,
			first_line_len(err), err);
		goto out;
	}
	if (!has_type(r->types, type_slot(rs->test_ev.type))) {
		problem(rs, r->file, r->line,
			"rule '%s' test %d: %s is not among the rule's events", r->name, (int)i,
			rs->test_ev.type->name);
		goto out;
	}
	rs->tests++;
	bind(rs, &rs->test_ev, &meta, a.extra);
	ix = rs->index[type_slot(rs->test_ev.type)];
	for (uint32_t k = 0; ix && k < ix->n[FN_ENRICH]; k++) {
		struct rule_fn *f = &rs->fns[ix->fns[FN_ENRICH][k]];

		st = call_fn(rs, f, err, sizeof(err));
		if (st != TP_LUA_OK) {
			problem(rs, r->file, r->line,
				"rule '%s' test %d: enrich (%s:%d) failed: %.*s", r->name, (int)i,
				f->file, f->line, first_line_len(err), err);
			goto unbind;
		}
		lua_pop(rs->L, 1);
	}
	st = call_fn(rs, r, err, sizeof(err));
	if (st != TP_LUA_OK) {
		problem(rs, r->file, r->line, "rule '%s' test %d: when failed: %.*s", r->name,
			(int)i, first_line_len(err), err);
		goto unbind;
	}
	matched = truthy_bool(rs->L);
	if (matched != a.expect) {
		problem(rs, r->file, r->line, "rule '%s' test %d: expected %s, got %s", r->name,
			(int)i, a.expect ? "a match" : "no match", matched ? "a match" : "none");
		goto unbind;
	}
	if (a.want_output && matched) {
		st = render(rs, r, err, sizeof(err));
		if (st != TP_LUA_OK || strcmp(tp_buf_cstr(&rs->out), a.want_output))
			problem(rs, r->file, r->line,
				"rule '%s' test %d: output \"%s\", expected \"%s\"", r->name,
				(int)i, tp_buf_cstr(&rs->out), a.want_output);
	} else if (a.want_output) {
		problem(rs, r->file, r->line,
			"rule '%s' test %d: output given but no match expected", r->name, (int)i);
	}
unbind:
	unbind(rs, &meta);
out:
	if (a.extra != LUA_NOREF)
		luaL_unref(rs->L, LUA_REGISTRYINDEX, a.extra);
	free(a.want_output);
}

static void run_tests(struct tp_ruleset *rs)
{
	for (size_t k = 0; k < rs->nfns; k++) {
		struct rule_fn *r = &rs->fns[k];
		lua_Integer n;

		if (r->kind != FN_RULE || !r->enabled || r->tests_ref == LUA_NOREF)
			continue;
		lua_rawgeti(rs->L, LUA_REGISTRYINDEX, r->tests_ref);
		n = (lua_Integer)lua_rawlen(rs->L, -1);
		lua_pop(rs->L, 1);
		for (lua_Integer i = 1; i <= n; i++)
			run_test(rs, r, i);
	}
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

int tp_ruleset_load(struct tp_ruleset **out, const struct tp_rules_opts *opts, char *err,
		    size_t errlen)
{
	struct tp_ruleset *rs = calloc(1, sizeof(*rs));
	int r;

	*out = NULL;
	metrics_init();
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
	r = tp_lua_vm_new(&rs->vm, &opts->limits, err, errlen);
	if (r < 0) {
		tp_ruleset_free(rs);
		return r;
	}
	rs->L = tp_lua_vm_state(rs->vm);
	if (tp_lua_cpcall(rs->vm, setup_p, rs, err, errlen) != TP_LUA_OK) {
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
	for (size_t i = 0; i < opts->npaths; i++)
		load_path(rs, opts->paths[i]);
	rs->loading = false;
	if (tp_lua_cpcall(rs->vm, freeze_p, rs, err, errlen) != TP_LUA_OK || build_index(rs) < 0) {
		tp_ruleset_free(rs);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	run_tests(rs); /* also after problems elsewhere: --validate lists them all */
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
		free_fn(&rs->fns[k]);
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
