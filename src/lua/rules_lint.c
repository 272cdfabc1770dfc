#include "lua/rules_lint.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua/rules_internal.h"

struct lint {
	struct tp_ruleset *rs;
	void (*warn)(void *ctx, const char *msg);
	void *ctx;
	size_t n;
	char **set_keys; /* names e:set gives in the set's enrich functions */
	size_t nset_keys;
};

__attribute__((format(printf, 4, 5))) static void warn(struct lint *l, const char *file, int line,
						       const char *fmt, ...)
{
	char msg[1024];
	size_t used;
	va_list ap;

	used = (size_t)snprintf(msg, sizeof(msg), "%s:%d: warning: ", file, line);
	va_start(ap, fmt);
	vsnprintf(msg + used, sizeof(msg) - used, fmt, ap);
	va_end(ap);
	l->warn(l->ctx, msg);
	l->n++;
}

/* ------------------------------------------------------------ sources */

/* The source lines first..last of file (NUL-terminated, malloc'd). */
static char *source_lines(const char *file, int first, int last)
{
	FILE *f = fopen(file, "r");
	char *out = NULL, line[4096];
	size_t len = 0;
	int n = 0;

	if (!f)
		return NULL;
	while (fgets(line, sizeof(line), f)) {
		size_t k = strlen(line);
		char *grown;

		if (line[k ? k - 1 : 0] == '\n' || feof(f))
			n++;
		if (n < first)
			continue;
		if (n > last)
			break;
		grown = realloc(out, len + k + 1);
		if (!grown)
			break;
		out = grown;
		memcpy(out + len, line, k + 1);
		len += k;
	}
	fclose(f);
	return out;
}

/* Lines of the Lua function behind registry ref `ref`: its source text. */
static char *function_source(struct tp_ruleset *rs, const struct rule_fn *f)
{
	lua_Debug ar;

	lua_rawgeti(rs->L, LUA_REGISTRYINDEX, f->ref);
	if (!lua_isfunction(rs->L, -1)) {
		lua_pop(rs->L, 1);
		return NULL;
	}
	/* '>' pops the function. */
	if (!lua_getinfo(rs->L, ">S", &ar) || ar.linedefined <= 0 || !f->file)
		return NULL;
	return source_lines(f->file, ar.linedefined, ar.lastlinedefined);
}

/*
 * Walk the Lua text: call fn(name, ctx) for every `param.name` (and
 * param["name"]) outside strings and comments. A crude tokenizer, enough for
 * the shape rules have: it never reports a field that is not read, and it
 * may miss one read through another local or a helper function.
 */
static void field_reads(const char *src, const char *param,
			void (*fn)(const char *name, size_t len, void *ctx), void *ctx)
{
	size_t plen = strlen(param);
	const char *p = src;

	while (*p) {
		if (p[0] == '-' && p[1] == '-') {
			p += strcspn(p, "\n");
			continue;
		}
		if (*p == '"' || *p == '\'') {
			char q = *p++;

			while (*p && *p != q && *p != '\n')
				p += (*p == '\\' && p[1]) ? 2 : 1;
			if (*p == q)
				p++;
			continue;
		}
		if (p[0] == '[' && p[1] == '[') {
			const char *end = strstr(p + 2, "]]");

			p = end ? end + 2 : p + strlen(p);
			continue;
		}
		if ((isalpha((unsigned char)*p) || *p == '_') &&
		    (p == src || !(isalnum((unsigned char)p[-1]) || p[-1] == '_' || p[-1] == '.' ||
				   p[-1] == ':'))) {
			size_t n = 0;

			while (isalnum((unsigned char)p[n]) || p[n] == '_')
				n++;
			if (n == plen && !memcmp(p, param, plen)) {
				const char *q = p + n;

				while (*q == ' ' || *q == '\t')
					q++;
				if (*q == '.' && q[1] != '.') {
					size_t k = 0;

					q++;
					while (*q == ' ' || *q == '\t')
						q++;
					while (isalnum((unsigned char)q[k]) || q[k] == '_')
						k++;
					if (k)
						fn(q, k, ctx);
				} else if (*q == '[') {
					q++;
					while (*q == ' ')
						q++;
					if (*q == '"' || *q == '\'') {
						char quote = *q++;
						size_t k = strcspn(q, quote == '"' ? "\"\n" : "'\n");

						if (q[k] == quote)
							fn(q, k, ctx);
					}
				}
			}
			p += n;
			continue;
		}
		p++;
	}
}

/* The name of the first parameter of the function text ("e"), or "". */
static void first_param(const char *src, char *out, size_t len)
{
	const char *p = strstr(src, "function");
	size_t n = 0;

	out[0] = '\0';
	if (!p)
		return;
	p = strchr(p, '(');
	if (!p)
		return;
	p++;
	while (*p == ' ' || *p == '\t')
		p++;
	while ((isalnum((unsigned char)p[n]) || p[n] == '_') && n + 1 < len)
		n++;
	memcpy(out, p, n);
	out[n] = '\0';
}

/* ------------------------------------------------------------ e:set keys */

/* Every e:set("key", ...) of the set's enrich functions: fields a rule may read. */
static void collect_set_keys(struct lint *l)
{
	for (size_t k = 0; k < l->rs->nfns; k++) {
		const struct rule_fn *f = &l->rs->fns[k];
		char *src, *p;

		for (uint32_t i = 0; i < f->nsets; i++) { /* set = {...}: in C */
			char **grown = realloc(l->set_keys, (l->nset_keys + 1) * sizeof(*grown));

			if (!grown)
				break;
			l->set_keys = grown;
			l->set_keys[l->nset_keys] = strdup(f->sets[i].key);
			if (l->set_keys[l->nset_keys])
				l->nset_keys++;
		}
		if (f->kind != FN_ENRICH || !(src = function_source(l->rs, f)))
			continue;
		for (p = src; (p = strstr(p, ":set(")); ) {
			char **grown;
			size_t n;

			p += 5;
			while (*p == ' ')
				p++;
			if (*p != '"' && *p != '\'')
				continue;
			n = strcspn(p + 1, "\"'\n");
			grown = realloc(l->set_keys, (l->nset_keys + 1) * sizeof(*grown));
			if (!grown)
				break;
			l->set_keys = grown;
			l->set_keys[l->nset_keys] = strndup(p + 1, n);
			if (l->set_keys[l->nset_keys])
				l->nset_keys++;
		}
		free(src);
	}
}

/* ------------------------------------------------------------ rules */

struct field_check {
	struct lint *l;
	const struct rule_fn *r;
	int line;
	char seen[32][48]; /* reported once each */
	size_t nseen;
};

static bool rule_type_has(const struct rule_fn *r, const char *name)
{
	const struct tp_event_type *t;

	for (size_t i = 0; (t = tp_event_type_at(i)); i++)
		if (has_type(r->types, type_slot(t)) && tp_lua_event_has_field(t, name))
			return true;
	return false;
}

static void types_text(const struct rule_fn *r, char *buf, size_t len)
{
	const struct tp_event_type *t;
	size_t used = 0, n = 0;

	buf[0] = '\0';
	for (size_t i = 0; (t = tp_event_type_at(i)) && used < len; i++) {
		if (!has_type(r->types, type_slot(t)))
			continue;
		if (n++ == 3) {
			snprintf(buf + used, len - used, "...");
			return;
		}
		used += (size_t)snprintf(buf + used, len - used, "%s%s", n > 1 ? ", " : "", t->name);
	}
}

static void check_field(const char *name, size_t len, void *ctx)
{
	struct field_check *c = ctx;
	char field[48], types[128];

	if (len >= sizeof(field))
		return;
	memcpy(field, name, len);
	field[len] = '\0';
	for (size_t i = 0; i < c->nseen; i++)
		if (!strcmp(c->seen[i], field))
			return;
	if (c->nseen < 32)
		strcpy(c->seen[c->nseen++], field);
	if (rule_type_has(c->r, field))
		return;
	for (size_t i = 0; i < c->l->nset_keys; i++)
		if (!strcmp(c->l->set_keys[i], field))
			return;
	types_text(c->r, types, sizeof(types));
	warn(c->l, c->r->file, c->line,
	     "rule '%s': when reads e.%s, which no event of its types (%s) has: it is always nil",
	     c->r->name, field, types);
}

static void lint_fields(struct lint *l, const struct rule_fn *r)
{
	struct field_check c = { .l = l, .r = r, .line = r->line };
	char *src = function_source(l->rs, r), param[32];
	lua_Debug ar;

	if (!src)
		return;
	lua_rawgeti(l->rs->L, LUA_REGISTRYINDEX, r->ref);
	if (lua_getinfo(l->rs->L, ">S", &ar) && ar.linedefined > 0) /* pops it */
		c.line = ar.linedefined;
	first_param(src, param, sizeof(param));
	if (*param)
		field_reads(src, param, check_field, &c);
	free(src);
}

/* Build the plain event of a type into rs->test_ev. Stack: [-1, +0] */
struct plain_args {
	struct tp_ruleset *rs;
	const char *type;
	int extra;
};

static int plain_event_p(lua_State *L)
{
	struct plain_args *a = lua_touserdata(L, 1);

	lua_createtable(L, 0, 1);
	lua_pushstring(L, a->type);
	lua_setfield(L, -2, "type");
	a->extra = tp_lua_event_from_table(L, -1, &a->rs->test_ev);
	lua_pop(L, 1);
	return 0;
}

static void lint_plain_events(struct lint *l, struct rule_fn *r)
{
	struct tp_ruleset *rs = l->rs;
	const struct tp_event_type *t;
	char err[512];

	for (size_t i = 0; (t = tp_event_type_at(i)); i++) {
		struct plain_args a = { .rs = rs, .type = t->name, .extra = LUA_NOREF };
		struct tp_event_meta meta = {.importance = -1.0};
		enum tp_lua_status st;

		if (!has_type(r->types, type_slot(t)))
			continue;
		if (tp_lua_cpcall(rs->vm, plain_event_p, &a, err, sizeof(err)) != TP_LUA_OK)
			continue;
		tp_rules_bind(rs, &rs->test_ev, &meta, a.extra);
		/* As the engine runs it: an event its match or an exception
		 * turns away never reaches when. */
		if ((r->match || r->ntmatch) &&
		    !tp_rules_matched(r, &rs->test_ev, tp_rules_meta_now(rs, &meta), -1))
			st = TP_LUA_OK;
		else if (r->nexceptions &&
			 tp_rules_excepted(r, &rs->test_ev, tp_rules_meta_now(rs, &meta)))
			st = TP_LUA_OK;
		else if ((st = tp_rules_call(rs, r, err, sizeof(err))) == TP_LUA_OK)
			lua_pop(rs->L, 1);
		tp_rules_unbind(rs, &meta);
		if (a.extra != LUA_NOREF)
			luaL_unref(rs->L, LUA_REGISTRYINDEX, a.extra);
		if (st != TP_LUA_OK) {
			warn(l, r->file, r->line,
			     "rule '%s': when fails on a plain %s event (all fields zero or empty, "
			     "no enrichment): %.*s",
			     r->name, t->name, first_line_len(err), err);
			return; /* once per rule */
		}
	}
}

static size_t count_tests(struct tp_ruleset *rs, const struct rule_fn *r)
{
	size_t n;

	if (r->tests_ref == LUA_NOREF)
		return 0;
	lua_rawgeti(rs->L, LUA_REGISTRYINDEX, r->tests_ref);
	n = lua_rawlen(rs->L, -1);
	lua_pop(rs->L, 1);
	return n;
}

size_t tp_ruleset_lint(struct tp_ruleset *rs, void (*warn_fn)(void *ctx, const char *msg), void *ctx)
{
	struct lint l = { .rs = rs, .warn = warn_fn, .ctx = ctx };

	collect_set_keys(&l);
	for (size_t k = 0; k < rs->nfns; k++) {
		struct rule_fn *r = &rs->fns[k];

		if (r->kind != FN_RULE)
			continue;
		lint_fields(&l, r);
		if (!count_tests(rs, r))
			warn(&l, r->file, r->line,
			     "rule '%s' has no tests: give it tests = { { event = {...}, expect = "
			     "true }, ... }",
			     r->name);
		if (r->enabled)
			lint_plain_events(&l, r);
	}
	for (size_t i = 0; i < l.nset_keys; i++)
		free(l.set_keys[i]);
	free(l.set_keys);
	return l.n;
}
