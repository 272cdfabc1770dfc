/*
 * The names e.<name> can read, built once per process from the descriptor
 * tables of event.h, and the virtual fields registered by other units.
 */
#include "lua/lua_event_names.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

static const char *const header_names[H_MAX] = {
    [H_TYPE] = "type",
    [H_CATEGORY] = "category",
    [H_TS] = "ts",
    [H_CPU] = "cpu",
    [H_PID] = "pid",
    [H_TID] = "tid",
    [H_PPID] = "ppid",
    [H_UID] = "uid",
    [H_GID] = "gid",
    [H_COMM] = "comm",
    [H_CGROUP_ID] = "cgroup_id",
    [H_CGROUP_V1_ID] = "cgroup_v1_id",
    [H_IMPORTANCE] = "importance",
    [H_CMDLINE] = "cmdline",
};

static const char *const method_names[M_MAX] = {[M_SET] = "set", [M_TAG] = "tag"};

/* ------------------------------------------------------------ names (process-wide) */

#define MAX_FIELD_NAMES 1024
#define TYPE_SLOTS	(TP_CAT_MAX * 64)

static struct {
	const char *names[MAX_FIELD_NAMES]; /* distinct field names of all types */
	bool has_syms[MAX_FIELD_NAMES];	    /* some type gives it a "_str" */
	char *str_names[MAX_FIELD_NAMES];   /* "<name>_str" where has_syms */
	unsigned n;
	uint16_t *field_name_idx[TYPE_SLOTS]; /* per type: name index of each field */
} fnames;
static pthread_once_t fnames_once = PTHREAD_ONCE_INIT;

/* name -> code of the header fields, the type fields and their "_str"
 * names, built with fnames; open addressing. The name table of each VM
 * (tp_lua_names_push_table) is made from it, and templates look names up
 * in it by C string (tp_lua_event_name_code). */
#define CODE_SLOTS 4096
static struct {
	const char *name;
	int32_t code;
} codes[CODE_SLOTS];

static uint32_t code_slot(const char *name)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h & (CODE_SLOTS - 1);
}

/* As the name table: a later name replaces an earlier one. */
static void code_put(const char *name, int32_t code)
{
	uint32_t i = code_slot(name);

	while (codes[i].name && strcmp(codes[i].name, name))
		i = (i + 1) & (CODE_SLOTS - 1);
	codes[i].name = name;
	codes[i].code = code;
}
static int argv_name = -1; /* index of "argv" in fnames.names */

#define MAX_VIRTUAL 64
static struct {
	char name[32];
	tp_lua_field_fn fn;
	tp_lua_field_text_fn text; /* NULL: templates read it through Lua */
} virtuals[MAX_VIRTUAL];
static unsigned nvirtuals;
static pthread_mutex_t virtuals_lock = PTHREAD_MUTEX_INITIALIZER;

static unsigned type_slot(const struct tp_event_type *t)
{
	return TP_TYPE_CATEGORY(t->id) * 64 + (t->id & 0x3f);
}

int tp_lua_names_field_index(const char *name)
{
	for (unsigned i = 0; i < fnames.n; i++)
		if (!strcmp(fnames.names[i], name))
			return (int)i;
	return -1;
}

static void fnames_init(void)
{
	const struct tp_event_type *t;

	for (size_t i = 0; (t = tp_event_type_at(i)); i++) {
		uint16_t *idx = calloc(t->nfields ? t->nfields : 1, sizeof(*idx));

		if (!idx)
			abort(); /* at startup, before anything runs */
		for (uint32_t k = 0; k < t->nfields; k++) {
			const struct tp_field *f = &t->fields[k];
			int j = tp_lua_names_field_index(f->name);

			if (j < 0 && fnames.n < MAX_FIELD_NAMES) {
				j = (int)fnames.n++;
				fnames.names[j] = f->name;
			}
			if (j < 0)
				abort();
			idx[k] = (uint16_t)j;
			if (f->syms && !fnames.has_syms[j]) {
				size_t len = strlen(f->name) + 5;

				fnames.str_names[j] = malloc(len);
				if (!fnames.str_names[j])
					abort();
				snprintf(fnames.str_names[j], len, "%s_str", f->name);
				fnames.has_syms[j] = true;
			}
		}
		fnames.field_name_idx[type_slot(t)] = idx;
	}
	argv_name = tp_lua_names_field_index("argv");
	if (H_MAX + 2 * fnames.n >= CODE_SLOTS / 2)
		abort(); /* grow CODE_SLOTS */
	for (int h = 1; h < H_MAX; h++)
		code_put(header_names[h], CODE(K_HEADER, h));
	for (unsigned j = 0; j < fnames.n; j++) {
		code_put(fnames.names[j], CODE(K_FIELD, (int32_t)j));
		if (fnames.has_syms[j])
			code_put(fnames.str_names[j], CODE(K_FIELD_STR, (int32_t)j));
	}
}

const struct tp_field *tp_lua_names_type_field(const struct tp_event_type *t, unsigned j)
{
	const uint16_t *idx = fnames.field_name_idx[type_slot(t)];

	for (uint32_t k = 0; k < t->nfields; k++)
		if (idx[k] == j)
			return &t->fields[k];
	return NULL;
}

bool tp_lua_names_is_header(const char *name)
{
	for (int h = 1; h < H_MAX; h++)
		if (!strcmp(header_names[h], name))
			return true;
	return false;
}

static int virtual_index(const char *name)
{
	for (unsigned i = 0; i < nvirtuals; i++)
		if (!strcmp(virtuals[i].name, name))
			return (int)i;
	return -1;
}

int tp_lua_register_field(const char *name, tp_lua_field_fn fn)
{
	size_t len = strlen(name);
	int r = 0;

	tp_lua_names_init();
	if (!fn || !len || len >= sizeof(virtuals[0].name) ||
	    !strchr("abcdefghijklmnopqrstuvwxyz_", name[0]) ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") != len)
		return -EINVAL;
	pthread_mutex_lock(&virtuals_lock);
	if (tp_lua_names_is_header(name) || tp_lua_names_field_index(name) >= 0 ||
	    virtual_index(name) >= 0)
		r = -EEXIST;
	else if (!strcmp(name, "set") || !strcmp(name, "tag"))
		r = -EEXIST;
	else if (nvirtuals == MAX_VIRTUAL)
		r = -ENOSPC;
	else {
		memcpy(virtuals[nvirtuals].name, name, len + 1);
		virtuals[nvirtuals].fn = fn;
		nvirtuals++;
	}
	pthread_mutex_unlock(&virtuals_lock);
	return r;
}

int tp_lua_register_field_text(const char *name, tp_lua_field_text_fn fn)
{
	int i, r = 0;

	pthread_mutex_lock(&virtuals_lock);
	i = virtual_index(name);
	if (i < 0 || !fn)
		r = i < 0 ? -ENOENT : -EINVAL;
	else
		virtuals[i].text = fn;
	pthread_mutex_unlock(&virtuals_lock);
	return r;
}

/* As the name table says (tp_lua_names_push_table: a later kind wins a
 * name two kinds share): a method is -1 here. */
int32_t tp_lua_event_name_code(const char *name)
{
	int k;

	tp_lua_names_init();
	for (int m = 0; m < M_MAX; m++)
		if (!strcmp(method_names[m], name))
			return -1;
	pthread_mutex_lock(&virtuals_lock);
	k = virtual_index(name);
	pthread_mutex_unlock(&virtuals_lock);
	if (k >= 0)
		return CODE(K_VIRTUAL, k);
	for (uint32_t i = code_slot(name); codes[i].name; i = (i + 1) & (CODE_SLOTS - 1))
		if (!strcmp(codes[i].name, name))
			return codes[i].code;
	return -1;
}

bool tp_lua_event_has_field(const struct tp_event_type *t, const char *name)
{
	size_t len = strlen(name);
	bool r;

	tp_lua_names_init();
	/* argv: the type's own, or the process's from the enrichment. */
	if (tp_lua_names_is_header(name) || !strcmp(name, "argv"))
		return true;
	for (unsigned j = 0; j < fnames.n; j++) {
		bool plain = !strcmp(fnames.names[j], name);
		bool str = fnames.has_syms[j] && len > 4 && !strcmp(fnames.str_names[j], name);

		if (!plain && !str)
			continue;
		if (!t)
			return true;
		if (tp_lua_names_type_field(t, j) && (plain || tp_lua_names_type_field(t, j)->syms))
			return true;
	}
	pthread_mutex_lock(&virtuals_lock);
	r = virtual_index(name) >= 0;
	pthread_mutex_unlock(&virtuals_lock);
	return r;
}

void tp_lua_names_init(void)
{
	pthread_once(&fnames_once, fnames_init);
}

int tp_lua_names_argv(void)
{
	return argv_name;
}

tp_lua_field_fn tp_lua_names_virtual(unsigned i)
{
	return virtuals[i].fn;
}

tp_lua_field_text_fn tp_lua_names_virtual_text(unsigned i)
{
	return virtuals[i].text;
}

/* Stack: [-1, +1] name table (the name -> code map) */
void tp_lua_names_push_table(lua_State *L)
{
	lua_createtable(L, 0, (int)(H_MAX + 2 * fnames.n + nvirtuals + M_MAX));
	/* The header's and the types' names, as codes holds them. */
	for (uint32_t i = 0; i < CODE_SLOTS; i++)
		if (codes[i].name) {
			lua_pushinteger(L, codes[i].code);
			lua_setfield(L, -2, codes[i].name);
		}
	pthread_mutex_lock(&virtuals_lock);
	for (unsigned k = 0; k < nvirtuals; k++) {
		lua_pushinteger(L, CODE(K_VIRTUAL, k));
		lua_setfield(L, -2, virtuals[k].name);
	}
	pthread_mutex_unlock(&virtuals_lock);
	for (int m = 0; m < M_MAX; m++) {
		lua_pushinteger(L, CODE(K_METHOD, m));
		lua_setfield(L, -2, method_names[m]);
	}
}

const struct tp_lua_names *tp_lua_names_build(lua_State *L, int idx)
{
	static const char key_names = 'n';
	struct tp_lua_names *h;
	uint32_t n = 0, size = 16;

	idx = lua_absindex(L, idx);
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		n++;
		lua_pop(L, 1);
	}
	while (size < 4 * n)
		size *= 2;
	h = lua_newuserdatauv(L, sizeof(*h) + size * sizeof(h->slot[0]), 0);
	memset(h, 0, sizeof(*h) + size * sizeof(h->slot[0]));
	h->mask = size - 1;
	lua_rawsetp(L, LUA_REGISTRYINDEX, &key_names);
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		const char *p = lua_tostring(L, -2);
		uint32_t i = name_slot(h, p);

		while (h->slot[i].p)
			i = (i + 1) & h->mask;
		h->slot[i].p = p;
		h->slot[i].code = (int32_t)lua_tointeger(L, -1);
		lua_pop(L, 1);
	}
	return h;
}
