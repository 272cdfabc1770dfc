#include "config/config_file.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lua.h>

#include "config/config_keys.h"
#include "lua/embedded.h"
#include "lua/sandbox.h"
#include "util/buf.h"
#include "util/trusted.h"

/* Generated from the files rules/presets/NAME.lua (cmake/embed_lua.cmake). */
extern const struct tp_lua_embedded_file tp_preset_files[];

#define CONFIG_FILE_MAX (1u << 20)
#define MAX_PROBLEMS 20

/* A config is data: generous limits, but a runaway chunk still stops. */
static const struct tp_lua_limits config_limits = {
	.mem_max = 32u << 20,
	.mem_call_max = 0,
	.instr_budget = 50u * 1000 * 1000,
};

struct tp_config_doc {
	struct tp_lua_vm *vm;
	char name[256];   /* for messages: the path, or "preset <name>" */
	char *preset;     /* top-level "preset" string, if any */
	bool is_preset;
};

void tp_config_doc_free(struct tp_config_doc *d)
{
	if (!d)
		return;
	tp_lua_vm_close(d->vm);
	free(d->preset);
	free(d);
}

/* read_preset(table, d), under tp_lua_pcall. Stack: [-2, +0] */
static int read_preset_fn(lua_State *L)
{
	struct tp_config_doc *d = lua_touserdata(L, 2);
	const char *s;
	size_t n;

	lua_pushliteral(L, "preset");
	lua_rawget(L, 1);
	if (lua_type(L, -1) == LUA_TSTRING) {
		s = lua_tolstring(L, -1, &n);
		if (strlen(s) == n)
			d->preset = strdup(s);
	}
	return 0;
}

int tp_config_doc_load_text(struct tp_config_doc **out, const char *text, size_t len,
			    const char *name, char *err, size_t errlen)
{
	struct tp_config_doc *d;
	char chunk[300], why[1024];
	enum tp_lua_status st;
	lua_State *L;
	int r;

	*out = NULL;
	d = calloc(1, sizeof(*d));
	if (!d) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	snprintf(d->name, sizeof(d->name), "%s", name);
	r = tp_lua_vm_new(&d->vm, &config_limits, why, sizeof(why));
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", name, why);
		goto fail;
	}
	L = tp_lua_vm_state(d->vm);
	snprintf(chunk, sizeof(chunk), "@%s", name);
	r = tp_lua_load(d->vm, text, len, chunk, why, sizeof(why));
	if (r < 0) {
		snprintf(err, errlen, "%s", why);
		goto fail;
	}
	st = tp_lua_pcall(d->vm, 0, 1, why, sizeof(why));
	if (st != TP_LUA_OK) {
		/* The first line says where; the traceback adds nothing for a config. */
		why[strcspn(why, "\n")] = '\0';
		if (st == TP_LUA_ERROR)
			snprintf(err, errlen, "%s", why); /* "file:line: message" */
		else
			snprintf(err, errlen, "%s: stopped: %s (a config file only returns a table)",
				 name, why);
		r = st == TP_LUA_NOMEM ? -ENOMEM : -EINVAL;
		goto fail;
	}
	if (lua_type(L, -1) != LUA_TTABLE) {
		snprintf(err, errlen, "%s: must return a table of settings (return { ... }), returned %s",
			 name, lua_typename(L, lua_type(L, -1)));
		r = -EINVAL;
		goto fail;
	}
	/* The table stays at index 1 for the document's life (moving values on
	 * the stack allocates nothing). */
	lua_insert(L, 1);
	lua_settop(L, 1);
	lua_pushcfunction(L, read_preset_fn);
	lua_pushvalue(L, 1);
	lua_pushlightuserdata(L, d);
	if (tp_lua_pcall(d->vm, 2, 0, why, sizeof(why)) != TP_LUA_OK) {
		snprintf(err, errlen, "%s: out of memory", name);
		r = -ENOMEM;
		goto fail;
	}
	*out = d;
	return 0;
fail:
	tp_config_doc_free(d);
	return r;
}

int tp_config_doc_load_file(struct tp_config_doc **out, const char *path, char *err,
			    size_t errlen)
{
	/* The agent acts on what a config file says (which probes, what is
	 * dropped): the trusted-file policy applies. */
	struct tp_trusted_opts topts = {.max_bytes = CONFIG_FILE_MAX};
	char *text;
	size_t n;
	int r;

	*out = NULL;
	r = tp_trusted_read(path, &topts, &text, &n, err, errlen);
	if (r < 0)
		return r;
	r = tp_config_doc_load_text(out, text, n, path, err, errlen);
	free(text);
	return r;
}

const char *tp_preset_name_at(size_t i)
{
	static char names[16][64];
	size_t n = 0;

	for (const struct tp_lua_embedded_file *f = tp_preset_files; f->name; f++, n++) {
		if (n != i)
			continue;
		if (n >= 16)
			return NULL;
		snprintf(names[n], sizeof(names[n]), "%.*s", (int)(strcspn(f->name, ".")),
			 f->name);
		return names[n];
	}
	return NULL;
}

int tp_config_doc_load_preset(struct tp_config_doc **out, const char *name, char *err,
			      size_t errlen)
{
	char file[80], label[96];
	int r;

	*out = NULL;
	snprintf(file, sizeof(file), "%s.lua", name);
	for (const struct tp_lua_embedded_file *f = tp_preset_files; f->name; f++) {
		if (strcmp(f->name, file))
			continue;
		snprintf(label, sizeof(label), "preset %s", name);
		r = tp_config_doc_load_text(out, f->data, f->len, label, err, errlen);
		if (r == 0)
			(*out)->is_preset = true;
		return r;
	}
	snprintf(err, errlen, "unknown preset '%s'", name);
	return -ENOENT;
}

const char *tp_config_doc_preset(const struct tp_config_doc *d)
{
	return d->preset;
}

/* --------------------------------------------------------- applying */

struct walk {
	struct tp_config_doc *doc;
	struct tp_config *cfg;
	enum tp_config_source src;
	struct tp_buf problems;
	unsigned nproblems;
	int hard_error; /* -ENOMEM: stop */
};

static void problem(struct walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(struct walk *w, const char *fmt, ...)
{
	va_list ap;

	w->nproblems++;
	if (w->nproblems > MAX_PROBLEMS)
		return;
	if (w->problems.len)
		tp_buf_putc(&w->problems, '\n');
	tp_buf_printf(&w->problems, "%s: ", w->doc->name);
	va_start(ap, fmt);
	tp_buf_vprintf(&w->problems, fmt, ap);
	va_end(ap);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool valid_name(const char *s, size_t n)
{
	if (!n || strlen(s) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789_.", s[i]))
			return false;
	return s[0] != '.' && s[n - 1] != '.' && !strstr(s, "..");
}

/* A short description of a Lua value for a message. Stack: [-0, +0] */
static void describe(lua_State *L, int idx, char *buf, size_t len)
{
	switch (lua_type(L, idx)) {
	case LUA_TSTRING:
		snprintf(buf, len, "\"%.60s\"", lua_tostring(L, idx));
		break;
	case LUA_TNUMBER:
		snprintf(buf, len, "%.15g", (double)lua_tonumber(L, idx));
		break;
	case LUA_TBOOLEAN:
		snprintf(buf, len, "%s", lua_toboolean(L, idx) ? "true" : "false");
		break;
	default:
		snprintf(buf, len, "a %s", lua_typename(L, lua_type(L, idx)));
		break;
	}
}

/*
 * A sequence of strings at idx into list (pointers into the Lua strings,
 * valid while the table is). Returns the count, or -1 (and a problem) when
 * it is not one. Stack: [-0, +0]
 */
static long read_list(lua_State *L, struct walk *w, const char *path, int idx, const char ***list)
{
	lua_Integer n = (lua_Integer)lua_rawlen(L, idx), keys = 0;
	const char **v;

	lua_pushnil(L);
	while (lua_next(L, idx)) {
		keys++;
		lua_pop(L, 1);
	}
	if (keys != n) {
		problem(w, "%s: expected a list (a sequence of strings), got a table with other keys",
			path);
		return -1;
	}
	v = calloc((size_t)n + 1, sizeof(*v));
	if (!v) {
		w->hard_error = -ENOMEM;
		return -1;
	}
	for (lua_Integer i = 1; i <= n; i++) {
		size_t len;

		lua_rawgeti(L, idx, i);
		if (lua_type(L, -1) != LUA_TSTRING) {
			char got[80];

			describe(L, -1, got, sizeof(got));
			problem(w, "%s: item %lld: expected a string, got %s", path, (long long)i, got);
			lua_pop(L, 1);
			free(v);
			return -1;
		}
		v[i - 1] = lua_tolstring(L, -1, &len);
		lua_pop(L, 1); /* the table keeps the string alive */
		if (strlen(v[i - 1]) != len) {
			problem(w, "%s: item %lld contains a NUL byte", path, (long long)i);
			free(v);
			return -1;
		}
	}
	*list = v;
	return (long)n;
}

/* Set key k from the value on top of the stack. Stack: [-0, +0] */
static void set_value(lua_State *L, struct walk *w, const struct tp_config_key *k)
{
	struct tp_cval v = { 0 };
	const char **list = NULL;
	char why[512];
	size_t len;
	int r;

	switch (lua_type(L, -1)) {
	case LUA_TBOOLEAN:
		v.kind = TP_CV_BOOL;
		v.b = lua_toboolean(L, -1);
		break;
	case LUA_TNUMBER:
		v.kind = TP_CV_NUM;
		v.num = (double)lua_tonumber(L, -1);
		break;
	case LUA_TSTRING:
		v.kind = TP_CV_STR;
		v.str = lua_tolstring(L, -1, &len);
		if (strlen(v.str) != len) {
			problem(w, "%s: contains a NUL byte", k->path);
			return;
		}
		break;
	case LUA_TTABLE: {
		long n = read_list(L, w, k->path, lua_gettop(L), &list);

		if (n < 0)
			return;
		v.kind = TP_CV_LIST;
		v.list = list;
		v.nlist = (size_t)n;
		break;
	}
	default: {
		char want[200];

		tp_config_key_describe(k, want, sizeof(want));
		problem(w, "%s: expected %s, got a %s", k->path, want,
			lua_typename(L, lua_type(L, -1)));
		return;
	}
	}
	r = tp_config_set(w->cfg, k, &v, w->src, why, sizeof(why));
	free(list);
	if (r == -ENOMEM)
		w->hard_error = r;
	else if (r < 0)
		problem(w, "%s: %s", k->path, why);
}

static void walk_table(lua_State *L, struct walk *w, int idx, const char *prefix);

/* One key of a table: the value is on top. Stack: [-0, +0] */
static void walk_key(lua_State *L, struct walk *w, const char *prefix, const char *key)
{
	const struct tp_config_key *k;
	char path[160];
	const char *hint;

	snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", key);
	if (!*prefix && !strcmp(key, "preset")) {
		if (w->doc->is_preset)
			problem(w, "preset: a preset cannot start from another preset");
		else if (lua_type(L, -1) != LUA_TSTRING)
			set_value(L, w, tp_config_key_find("preset")); /* reports the type */
		return; /* applied first, by the caller */
	}
	k = tp_config_key_find(path);
	if (k) {
		set_value(L, w, k);
		return;
	}
	if (tp_config_key_is_group(path)) {
		if (lua_type(L, -1) == LUA_TTABLE) {
			walk_table(L, w, lua_gettop(L), path);
		} else {
			char got[80];

			describe(L, -1, got, sizeof(got));
			problem(w, "%s: expected a table of settings, got %s", path, got);
		}
		return;
	}
	hint = tp_config_key_suggest(path);
	if (hint)
		problem(w, "unknown key '%s' (did you mean '%s'?)", path, hint);
	else
		problem(w, "unknown key '%s' (tapio-collector --print-keys lists them)", path);
}

/* Keys in sorted order, so problems come out the same way every time.
 * Stack: [-0, +0] */
static void walk_table(lua_State *L, struct walk *w, int idx, const char *prefix)
{
	const char **names = NULL;
	size_t n = 0, cap = 0;

	lua_pushnil(L);
	while (lua_next(L, idx)) {
		size_t len;

		lua_pop(L, 1);
		if (lua_type(L, -1) != LUA_TSTRING) {
			char got[80];

			describe(L, -1, got, sizeof(got));
			problem(w, "%s%skeys must be names, got %s", prefix, *prefix ? ": " : "", got);
			continue;
		}
		/* lua_tolstring on a string key does not change it: lua_next is safe. */
		const char *key = lua_tolstring(L, -1, &len);

		if (!valid_name(key, len)) {
			problem(w, "%s%sbad key name \"%.60s\"", prefix, *prefix ? ": " : "",
				lua_tostring(L, -1));
			continue;
		}
		if (n == cap) {
			const char **grown = realloc(names, (cap = cap ? 2 * cap : 16) * sizeof(*names));

			if (!grown) {
				w->hard_error = -ENOMEM;
				lua_pop(L, 1);
				break;
			}
			names = grown;
		}
		names[n++] = lua_tostring(L, -1); /* the table keeps its keys alive */
	}
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n && !w->hard_error; i++) {
		lua_pushstring(L, names[i]);
		lua_rawget(L, idx);
		walk_key(L, w, prefix, names[i]);
		lua_pop(L, 1);
	}
	free(names);
}

/* walk(table, w): runs under tp_lua_pcall, so a refused allocation (the
 * VM's memory cap) is an error returned, not a panic. Stack: [-2, +0] */
static int walk_fn(lua_State *L)
{
	struct walk *w = lua_touserdata(L, 2);

	lua_settop(L, 1);
	walk_table(L, w, 1, "");
	return 0;
}

int tp_config_doc_apply(struct tp_config_doc *d, struct tp_config *cfg, enum tp_config_source src,
			char *err, size_t errlen)
{
	lua_State *L = tp_lua_vm_state(d->vm);
	struct walk w = { .doc = d, .cfg = cfg, .src = src };
	enum tp_lua_status st;
	char why[512];

	tp_buf_init(&w.problems);
	lua_pushcfunction(L, walk_fn);
	lua_pushvalue(L, 1);
	lua_pushlightuserdata(L, &w);
	st = tp_lua_pcall(d->vm, 2, 0, why, sizeof(why));
	if (st != TP_LUA_OK && !w.hard_error) {
		why[strcspn(why, "\n")] = '\0';
		snprintf(err, errlen, "%s: %s", d->name, why);
		tp_buf_free(&w.problems);
		return st == TP_LUA_NOMEM ? -ENOMEM : -EINVAL;
	}
	if (w.hard_error) {
		snprintf(err, errlen, "%s: out of memory", d->name);
		tp_buf_free(&w.problems);
		return w.hard_error;
	}
	if (w.nproblems > MAX_PROBLEMS)
		tp_buf_printf(&w.problems, "\n%s: ... and %u more problems", d->name,
			      w.nproblems - MAX_PROBLEMS);
	if (w.nproblems)
		snprintf(err, errlen, "%s", tp_buf_cstr(&w.problems));
	tp_buf_free(&w.problems);
	return w.nproblems ? -EINVAL : 0;
}
