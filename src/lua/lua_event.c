#include "lua/lua_event.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <lauxlib.h>

#include "decode.h"
#include "proc_ctx.h"

#define EVENT_MT "tapio.event"

/* __index resolves a name through a per-VM table name -> code; the code's
 * high bits say what kind of name it is. */
enum {
	K_HEADER = 0,
	K_FIELD = 1,	 /* low bits: index into field_names */
	K_FIELD_STR = 2, /* "<field>_str" */
	K_VIRTUAL = 3,	 /* low bits: index into virtuals */
	K_METHOD = 4,
};
#define CODE(kind, i) (((kind) << 16) | (i))

enum {
	H_TYPE = 1,
	H_CATEGORY,
	H_TS,
	H_CPU,
	H_PID,
	H_TID,
	H_PPID,
	H_UID,
	H_GID,
	H_COMM,
	H_CGROUP_ID,
	H_CGROUP_V1_ID,
	H_IMPORTANCE,
	H_CMDLINE,
	H_MAX,
};

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

enum { M_SET, M_TAG, M_MAX };
static const char *const method_names[M_MAX] = {[M_SET] = "set", [M_TAG] = "tag"};

/* Keys the outputs write themselves: e:set may not shadow them. */
static const char *const output_keys[] = {
    "rule", "severity", "output", "tags", "sample_rate", NULL,
};

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
static int argv_name = -1; /* index of "argv" in fnames.names */

#define MAX_VIRTUAL 64
static struct {
	char name[32];
	tp_lua_field_fn fn;
} virtuals[MAX_VIRTUAL];
static unsigned nvirtuals;
static pthread_mutex_t virtuals_lock = PTHREAD_MUTEX_INITIALIZER;

static unsigned type_slot(const struct tp_event_type *t)
{
	return TP_TYPE_CATEGORY(t->id) * 64 + (t->id & 0x3f);
}

static int field_name_index(const char *name)
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
			int j = field_name_index(f->name);

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
	argv_name = field_name_index("argv");
}

static const struct tp_field *type_field(const struct tp_event_type *t, unsigned j)
{
	const uint16_t *idx = fnames.field_name_idx[type_slot(t)];

	for (uint32_t k = 0; k < t->nfields; k++)
		if (idx[k] == j)
			return &t->fields[k];
	return NULL;
}

static bool is_header_name(const char *name)
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

	pthread_once(&fnames_once, fnames_init);
	if (!fn || !len || len >= sizeof(virtuals[0].name) ||
	    !strchr("abcdefghijklmnopqrstuvwxyz_", name[0]) ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") != len)
		return -EINVAL;
	pthread_mutex_lock(&virtuals_lock);
	if (is_header_name(name) || field_name_index(name) >= 0 || virtual_index(name) >= 0)
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

bool tp_lua_event_has_field(const struct tp_event_type *t, const char *name)
{
	size_t len = strlen(name);
	bool r;

	pthread_once(&fnames_once, fnames_init);
	/* argv: the type's own, or the process's from the enrichment. */
	if (is_header_name(name) || !strcmp(name, "argv"))
		return true;
	for (unsigned j = 0; j < fnames.n; j++) {
		bool plain = !strcmp(fnames.names[j], name);
		bool str = fnames.has_syms[j] && len > 4 && !strcmp(fnames.str_names[j], name);

		if (!plain && !str)
			continue;
		if (!t)
			return true;
		if (type_field(t, j) && (plain || type_field(t, j)->syms))
			return true;
	}
	pthread_mutex_lock(&virtuals_lock);
	r = virtual_index(name) >= 0;
	pthread_mutex_unlock(&virtuals_lock);
	return r;
}

/* ------------------------------------------------------------ the sink (e:set, e:tag) */

static const char *arena_copy(struct tp_lua_sink *s, const char *p, size_t n)
{
	char *d;

	if (n + 1 > sizeof(s->arena) - s->used)
		return NULL;
	d = s->arena + s->used;
	memcpy(d, p, n);
	d[n] = '\0';
	s->used += n + 1;
	return d;
}

bool tp_lua_sink_begin(struct tp_lua_sink *s, const struct tp_event_meta *meta)
{
	s->nkv = s->ntags = s->used = 0;
	if (!meta)
		return true;
	if (meta->nkv > TP_LUA_KV_MAX || meta->ntags > TP_LUA_TAGS_MAX)
		return false;
	/* Borrowed from earlier stages: valid for the whole event. */
	if (meta->nkv)
		memcpy(s->kv, meta->kv, meta->nkv * sizeof(s->kv[0]));
	s->nkv = meta->nkv;
	if (meta->ntags)
		memcpy(s->tags, meta->tags, meta->ntags * sizeof(s->tags[0]));
	s->ntags = meta->ntags;
	return true;
}

void tp_lua_sink_end(struct tp_lua_sink *s, struct tp_event_meta *meta)
{
	meta->kv = s->nkv ? s->kv : NULL;
	meta->nkv = s->nkv;
	meta->tags = s->ntags ? s->tags : NULL;
	meta->ntags = s->ntags;
}

/* ------------------------------------------------------------ pushing values */

/* NUL-separated arguments as a table of strings. Stack: [-0, +1] */
static void push_argv(lua_State *L, const char *av, uint32_t len)
{
	lua_Integer i = 0;
	size_t n;

	lua_createtable(L, 8, 0);
	for (const char *p = tp_argv_next(av, len, NULL, &n); p; p = tp_argv_next(av, len, p, &n)) {
		lua_pushlstring(L, p, n);
		lua_rawseti(L, -2, ++i);
	}
}

/* Stack: [-0, +1] */
static int push_field(lua_State *L, const struct tp_event *ev, const struct tp_field *f)
{
	char buf[INET6_ADDRSTRLEN + 8];
	uint64_t u;
	int64_t s;

	if (!tp_field_present(ev, f)) {
		lua_pushnil(L);
		return 1;
	}
	switch (f->kind) {
	case TP_FK_STR:
		lua_pushstring(L, tp_field_str(ev, f));
		break;
	case TP_FK_ARGV: {
		uint32_t len;
		const char *av = tp_field_argv(ev, f, &len);

		push_argv(L, av, len);
		break;
	}
	case TP_FK_IPADDR:
		if (tp_field_ipaddr(ev, f, buf, sizeof(buf)))
			lua_pushstring(L, buf);
		else
			lua_pushnil(L);
		break;
	case TP_FK_BOOL:
		tp_field_u64(ev, f, &u);
		lua_pushboolean(L, u != 0);
		break;
	case TP_FK_S32:
	case TP_FK_S64:
		tp_field_i64(ev, f, &s);
		lua_pushinteger(L, (lua_Integer)s);
		break;
	default:
		tp_field_u64(ev, f, &u);
		lua_pushinteger(L, (lua_Integer)u);
		break;
	}
	return 1;
}

/* The symbolic form, as format.c writes "<field>_str". Stack: [-0, +1] */
static int push_field_sym(lua_State *L, const struct tp_event *ev, const struct tp_field *f)
{
	char buf[1024]; /* as format.c: room for a full capability set by name */
	uint64_t u = 0;
	int64_t s;

	if (!f->syms || !tp_field_present(ev, f)) {
		lua_pushnil(L);
		return 1;
	}
	if (f->kind == TP_FK_S32 || f->kind == TP_FK_S64) {
		tp_field_i64(ev, f, &s);
		u = (uint64_t)s;
	} else {
		tp_field_u64(ev, f, &u);
	}
	if (tp_field_sym(f, u, buf, sizeof(buf)))
		lua_pushstring(L, buf);
	else
		lua_pushnil(L);
	return 1;
}

/* NUL-separated arguments joined by spaces. Stack: [-0, +1] */
static void push_joined(lua_State *L, const char *av, uint32_t len)
{
	luaL_Buffer buf;
	bool first = true;
	size_t n;

	luaL_buffinit(L, &buf);
	for (const char *p = tp_argv_next(av, len, NULL, &n); p; p = tp_argv_next(av, len, p, &n)) {
		if (!first)
			luaL_addchar(&buf, ' ');
		luaL_addlstring(&buf, p, n);
		first = false;
	}
	luaL_pushresult(&buf);
}

static bool push_extra(lua_State *L, const struct tp_lua_event *b, int key);

/* A test event's argv (a table of strings, checked when the event was
 * made) joined by spaces. Stack: [-0, +0 | +1]; returns true with the
 * value pushed */
static bool push_extra_cmdline(lua_State *L, const struct tp_lua_event *b)
{
	luaL_Buffer buf;
	lua_Integer n;
	int t;

	if (b->extra == LUA_NOREF || b->extra == LUA_REFNIL)
		return false;
	lua_rawgeti(L, LUA_REGISTRYINDEX, b->extra);
	if (lua_getfield(L, -1, "argv") != LUA_TTABLE) {
		lua_pop(L, 2);
		return false;
	}
	lua_remove(L, -2);
	t = lua_gettop(L);
	n = (lua_Integer)lua_rawlen(L, t);
	luaL_buffinit(L, &buf);
	for (lua_Integer i = 1; i <= n; i++) {
		if (i > 1)
			luaL_addchar(&buf, ' ');
		lua_rawgeti(L, t, i);
		luaL_addvalue(&buf);
	}
	luaL_pushresult(&buf);
	lua_remove(L, t);
	return true;
}

/* The arguments of an event whose type has no argv field: a test event's
 * own, else the process's from the enrichment (meta->proc), else nil; as
 * a table, or joined by spaces. Stack: [-0, +1] */
static int push_proc_argv(lua_State *L, const struct tp_lua_event *b, bool joined)
{
	const struct tp_proc_ctx *pc = b->meta ? b->meta->proc : NULL;

	if (joined) {
		if (push_extra_cmdline(L, b))
			return 1;
	} else {
		lua_pushliteral(L, "argv");
		if (push_extra(L, b, lua_gettop(L))) {
			lua_remove(L, -2);
			return 1;
		}
		lua_pop(L, 1);
	}
	if (pc && pc->argv) {
		if (joined)
			push_joined(L, pc->argv, pc->argv_len);
		else
			push_argv(L, pc->argv, pc->argv_len);
	} else {
		lua_pushnil(L);
	}
	return 1;
}

/* The argv joined by spaces (Lua only: "sh -c curl x | sh"), so a rule
 * matches a command line without building a table: the type's argv, else
 * the process's. Stack: [-0, +1] */
static void push_cmdline(lua_State *L, const struct tp_lua_event *b)
{
	const struct tp_event_type *t = b->ev->type;

	for (uint32_t k = 0; k < t->nfields; k++) {
		const struct tp_field *f = &t->fields[k];
		uint32_t len;
		const char *av;

		if (f->kind != TP_FK_ARGV)
			continue;
		av = tp_field_argv(b->ev, f, &len);
		if (av)
			push_joined(L, av, len);
		else
			lua_pushnil(L);
		return;
	}
	push_proc_argv(L, b, true);
}

/* Stack: [-0, +1] */
static int push_header(lua_State *L, const struct tp_lua_event *b, int h)
{
	const struct tp_event *ev = b->ev;
	const struct tp_hdr *hd = &ev->rec.hdr;

	switch (h) {
	case H_TYPE:
		lua_pushstring(L, ev->type->name);
		break;
	case H_CATEGORY:
		lua_pushstring(L, tp_category_name(TP_TYPE_CATEGORY(ev->type->id)));
		break;
	case H_TS:
		lua_pushinteger(L, (lua_Integer)ev->ts_wall_ns);
		break;
	case H_CPU:
		lua_pushinteger(L, hd->cpu);
		break;
	case H_PID:
		lua_pushinteger(L, hd->pid);
		break;
	case H_TID:
		lua_pushinteger(L, hd->tid);
		break;
	case H_PPID:
		lua_pushinteger(L, hd->ppid);
		break;
	case H_UID:
		lua_pushinteger(L, hd->uid);
		break;
	case H_GID:
		lua_pushinteger(L, hd->gid);
		break;
	case H_COMM:
		lua_pushlstring(L, hd->comm, strnlen(hd->comm, sizeof(hd->comm)));
		break;
	case H_CGROUP_ID:
		lua_pushinteger(L, (lua_Integer)hd->cgroup_id);
		break;
	case H_CGROUP_V1_ID:
		/* As in JSON: absent when the event has none. */
		if (hd->cgroup_v1_id)
			lua_pushinteger(L, (lua_Integer)hd->cgroup_v1_id);
		else
			lua_pushnil(L);
		break;
	case H_IMPORTANCE:
		if (b->meta && b->meta->importance >= 0)
			lua_pushnumber(L, b->meta->importance);
		else
			lua_pushnil(L);
		break;
	case H_CMDLINE:
		push_cmdline(L, b);
		break;
	default:
		lua_pushnil(L);
		break;
	}
	return 1;
}

static void push_kv_value(lua_State *L, const struct tp_value *v)
{
	switch (v->kind) {
	case TP_V_STR:
		lua_pushlstring(L, v->str.s, v->str.len);
		break;
	case TP_V_INT:
		lua_pushinteger(L, v->i);
		break;
	case TP_V_NUM:
		lua_pushnumber(L, v->d);
		break;
	case TP_V_BOOL:
		lua_pushboolean(L, v->b);
		break;
	}
}

/* A test event's extra table, for names the record does not have.
 * Stack: [-0, +0 | +1]; returns true with the value pushed */
static bool push_extra(lua_State *L, const struct tp_lua_event *b, int key)
{
	if (b->extra == LUA_NOREF || b->extra == LUA_REFNIL)
		return false;
	lua_rawgeti(L, LUA_REGISTRYINDEX, b->extra);
	lua_pushvalue(L, key);
	if (lua_rawget(L, -2) == LUA_TNIL) {
		lua_pop(L, 2);
		return false;
	}
	lua_remove(L, -2);
	return true;
}

/* Names that are not fields: a test event's extras, then e:set keys.
 * Stack: [-0, +1] */
static int index_other(lua_State *L, const struct tp_lua_event *b)
{
	const char *k;

	if (push_extra(L, b, 2))
		return 1;
	k = lua_tostring(L, 2);
	if (k && b->sink) {
		for (size_t i = 0; i < b->sink->nkv; i++) {
			if (!strcmp(b->sink->kv[i].key, k)) {
				push_kv_value(L, &b->sink->kv[i].value);
				return 1;
			}
		}
	}
	lua_pushnil(L);
	return 1;
}

static struct tp_lua_event *bound(lua_State *L, int idx)
{
	struct tp_lua_event *b = luaL_checkudata(L, idx, EVENT_MT);

	if (!b->ev)
		luaL_error(L, "event used outside the call it was passed to (it is only valid "
			      "during that call)");
	return b;
}

/*
 * name -> code by the address of the interned string: Lua interns every
 * short string, so the key of e.pid is the very string this map was built
 * from (kept alive by the name table). One multiply and a compare instead
 * of a table lookup through the API; names are short, a long key simply
 * misses and takes the slow path.
 */
struct tp_lua_names {
	uint32_t mask;
	struct {
		const char *p;
		int32_t code;
	} slot[];
};

static uint32_t name_slot(const struct tp_lua_names *h, const char *p)
{
	return (uint32_t)(((uintptr_t)p >> 3) * 0x9E3779B97F4A7C15ull >> 32) & h->mask;
}

static int32_t name_code(const struct tp_lua_names *h, const char *p)
{
	for (uint32_t i = name_slot(h, p);; i = (i + 1) & h->mask) {
		if (h->slot[i].p == p)
			return h->slot[i].code;
		if (!h->slot[i].p)
			return -1;
	}
}

/* Build the map from the name table at idx, as a userdata kept in the
 * registry. Stack: [-0, +0] */
static const struct tp_lua_names *build_names(lua_State *L, int idx)
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

/* __index(e, key). Upvalues: the name table, then the methods (the name
 * table is for e:set; lookups go through b->names).
 * Stack: [-2, +1] */
static int event_index(lua_State *L)
{
	struct tp_lua_event *b = lua_touserdata(L, 1);
	const struct tp_field *f;
	lua_Integer code;
	int kind, i;

	if (!b || !b->ev)
		return luaL_error(L, "event used outside the call it was passed to (it is only "
				     "valid during that call)");
	if (lua_type(L, 2) != LUA_TSTRING || (code = name_code(b->names, lua_tostring(L, 2))) < 0)
		return index_other(L, b);
	kind = (int)(code >> 16);
	i = (int)(code & 0xffff);
	switch (kind) {
	case K_HEADER:
		return push_header(L, b, i);
	case K_FIELD:
		f = type_field(b->ev->type, (unsigned)i);
		if (!f && i == argv_name)
			return push_proc_argv(L, b, false);
		if (!f) {
			lua_pushnil(L);
			return 1;
		}
		return push_field(L, b->ev, f);
	case K_FIELD_STR:
		f = type_field(b->ev->type, (unsigned)i);
		if (!f) {
			lua_pushnil(L);
			return 1;
		}
		return push_field_sym(L, b->ev, f);
	case K_VIRTUAL:
		if (push_extra(L, b, 2))
			return 1;
		if (!virtuals[i].fn(L, b->ev, b->meta))
			lua_pushnil(L);
		return 1;
	case K_METHOD:
		lua_pushvalue(L, lua_upvalueindex(2 + i));
		return 1;
	}
	lua_pushnil(L);
	return 1;
}

/* Stack: [-3, +0] (raises) */
static int event_newindex(lua_State *L)
{
	return luaL_error(L, "event fields are read-only (use e:set(key, value))");
}

/* Stack: [-1, +1] */
static int event_tostring(lua_State *L)
{
	struct tp_lua_event *b = lua_touserdata(L, 1);

	if (!b || !b->ev)
		lua_pushliteral(L, "event (unbound)");
	else
		lua_pushfstring(L, "event %s pid %d", b->ev->type->name, (int)b->ev->rec.hdr.pid);
	return 1;
}

static bool valid_key(const char *k, size_t n)
{
	if (!n || n > 64 || !strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_", k[0]))
		return false;
	return strspn(k, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.") == n;
}

/* e:set(key, value): value a string, number or boolean; nil removes.
 * Upvalue 1: the name table (reserved names). Stack: [-3, +0] */
static int event_set(lua_State *L)
{
	struct tp_lua_event *b = bound(L, 1);
	struct tp_lua_sink *s = b->sink;
	size_t klen, vlen, i;
	const char *k = luaL_checklstring(L, 2, &klen);
	struct tp_value v = {0};

	if (!s)
		return luaL_error(L, "e:set is not available here");
	if (!valid_key(k, klen))
		return luaL_error(L, "e:set: bad key '%s' (letters, digits, _ and ., at most 64)",
				  k);
	lua_pushvalue(L, 2);
	if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL)
		return luaL_error(L, "e:set: '%s' is an event field", k);
	lua_pop(L, 1);
	for (const char *const *o = output_keys; *o; o++)
		if (!strcmp(*o, k))
			return luaL_error(L, "e:set: '%s' is written by the outputs", k);
	switch (lua_type(L, 3)) {
	case LUA_TSTRING: {
		const char *p = lua_tolstring(L, 3, &vlen);

		v.kind = TP_V_STR;
		v.str.s = arena_copy(s, p, vlen);
		v.str.len = vlen;
		if (!v.str.s)
			return luaL_error(L, "e:set: more than %d bytes set on one event",
					  TP_LUA_ARENA);
		break;
	}
	case LUA_TNUMBER:
		if (lua_isinteger(L, 3)) {
			v.kind = TP_V_INT;
			v.i = lua_tointeger(L, 3);
		} else {
			v.kind = TP_V_NUM;
			v.d = lua_tonumber(L, 3);
		}
		break;
	case LUA_TBOOLEAN:
		v.kind = TP_V_BOOL;
		v.b = lua_toboolean(L, 3);
		break;
	case LUA_TNIL:
		break;
	default:
		return luaL_error(L,
				  "e:set: value of '%s' must be a string, number or boolean, "
				  "not a %s",
				  k, luaL_typename(L, 3));
	}
	for (i = 0; i < s->nkv; i++)
		if (!strcmp(s->kv[i].key, k))
			break;
	if (lua_isnil(L, 3)) {
		if (i < s->nkv) {
			memmove(&s->kv[i], &s->kv[i + 1], (s->nkv - i - 1) * sizeof(s->kv[0]));
			s->nkv--;
		}
		return 0;
	}
	if (i == s->nkv) {
		if (s->nkv == TP_LUA_KV_MAX)
			return luaL_error(L, "e:set: more than %d keys on one event",
					  TP_LUA_KV_MAX);
		s->kv[i].key = arena_copy(s, k, klen);
		if (!s->kv[i].key)
			return luaL_error(L, "e:set: more than %d bytes set on one event",
					  TP_LUA_ARENA);
		s->nkv++;
	}
	s->kv[i].value = v;
	return 0;
}

/* e:tag(text): added once. Stack: [-2, +0] */
static int event_tag(lua_State *L)
{
	struct tp_lua_event *b = bound(L, 1);
	struct tp_lua_sink *s = b->sink;
	size_t n;
	const char *t = luaL_checklstring(L, 2, &n);
	const char *copy;

	if (!s)
		return luaL_error(L, "e:tag is not available here");
	if (!n || n > 128 || memchr(t, '\0', n))
		return luaL_error(L, "e:tag: a tag is 1 to 128 bytes of text");
	for (size_t i = 0; i < s->ntags; i++)
		if (!strcmp(s->tags[i], t))
			return 0;
	if (s->ntags == TP_LUA_TAGS_MAX)
		return luaL_error(L, "e:tag: more than %d tags on one event", TP_LUA_TAGS_MAX);
	copy = arena_copy(s, t, n);
	if (!copy)
		return luaL_error(L, "e:tag: more than %d bytes set on one event", TP_LUA_ARENA);
	s->tags[s->ntags++] = copy;
	return 0;
}

/* ------------------------------------------------------------ per VM */

static const char key_event = 'e'; /* registry: the reused userdata */

/* Stack: [-1, +1] name table (the name -> code map) */
static void push_name_table(lua_State *L)
{
	lua_createtable(L, 0, (int)(H_MAX + fnames.n + nvirtuals + M_MAX));
	for (int h = 1; h < H_MAX; h++) {
		lua_pushinteger(L, CODE(K_HEADER, h));
		lua_setfield(L, -2, header_names[h]);
	}
	for (unsigned j = 0; j < fnames.n; j++) {
		lua_pushinteger(L, CODE(K_FIELD, j));
		lua_setfield(L, -2, fnames.names[j]);
		if (fnames.has_syms[j]) {
			lua_pushinteger(L, CODE(K_FIELD_STR, j));
			lua_setfield(L, -2, fnames.str_names[j]);
		}
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

int tp_lua_event_open(lua_State *L)
{
	const struct tp_lua_names *names;
	struct tp_lua_event *b;

	pthread_once(&fnames_once, fnames_init);
	luaL_newmetatable(L, EVENT_MT);
	push_name_table(L);
	names = build_names(L, -1);
	lua_pushvalue(L, -1);
	lua_pushcclosure(L, event_set, 1);
	lua_pushcfunction(L, event_tag);
	lua_pushcclosure(L, event_index, 1 + M_MAX);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, event_newindex);
	lua_setfield(L, -2, "__newindex");
	lua_pushcfunction(L, event_tostring);
	lua_setfield(L, -2, "__tostring");
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");

	b = lua_newuserdatauv(L, sizeof(*b), 0);
	memset(b, 0, sizeof(*b));
	b->extra = LUA_NOREF;
	b->names = names;
	lua_pushvalue(L, -2);
	lua_setmetatable(L, -2);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &key_event);
	lua_pop(L, 1);
	return 0;
}

struct tp_lua_event *tp_lua_event_binding(lua_State *L)
{
	struct tp_lua_event *b;

	lua_rawgetp(L, LUA_REGISTRYINDEX, &key_event);
	b = lua_touserdata(L, -1);
	lua_pop(L, 1);
	return b;
}

void tp_lua_event_push(lua_State *L)
{
	lua_rawgetp(L, LUA_REGISTRYINDEX, &key_event);
}

/* ------------------------------------------------------------ synthetic events */

static lua_Integer want_integer(lua_State *L, int idx, const char *key)
{
	int ok;
	lua_Integer v = lua_tointegerx(L, idx, &ok);

	if (!ok || lua_type(L, idx) != LUA_TNUMBER)
		luaL_error(L, "test event: '%s' must be an integer, not %s", key,
			   luaL_typename(L, idx));
	return v;
}

static void put_uint(uint8_t *p, size_t size, uint64_t v)
{
	switch (size) {
	case 1: {
		uint8_t x = (uint8_t)v;
		memcpy(p, &x, 1);
		break;
	}
	case 2: {
		uint16_t x = (uint16_t)v;
		memcpy(p, &x, 2);
		break;
	}
	case 4: {
		uint32_t x = (uint32_t)v;
		memcpy(p, &x, 4);
		break;
	}
	case 8:
		memcpy(p, &v, 8);
		break;
	}
}

static uint64_t get_uint(const uint8_t *p, size_t size)
{
	uint8_t a;
	uint16_t b;
	uint32_t c;
	uint64_t d = 0;

	switch (size) {
	case 1:
		memcpy(&a, p, 1);
		return a;
	case 2:
		memcpy(&b, p, 2);
		return b;
	case 4:
		memcpy(&c, p, 4);
		return c;
	case 8:
		memcpy(&d, p, 8);
		return d;
	}
	return 0;
}

/* A number, or for a field with symbols one of their names ("SIGKILL"). */
static uint64_t field_number(lua_State *L, int vidx, const struct tp_field *f)
{
	if (lua_type(L, vidx) == LUA_TSTRING && f->syms) {
		const char *name = lua_tostring(L, vidx);

		for (const struct tp_sym *s = f->syms; s->name; s++)
			if (!strcmp(s->name, name))
				return s->value;
		luaL_error(L, "test event: '%s': unknown name '%s'", f->name, name);
	}
	return (uint64_t)want_integer(L, vidx, f->name);
}

/* Write the value at vidx into field f of the record. Stack: [-0, +0] */
static void write_field(lua_State *L, int vidx, uint8_t *rec, const struct tp_field *f)
{
	uint8_t *p = rec + f->offset;
	size_t n;

	switch (f->kind) {
	case TP_FK_STR: {
		const char *s;

		if (lua_type(L, vidx) != LUA_TSTRING)
			luaL_error(L, "test event: '%s' must be a string", f->name);
		s = lua_tolstring(L, vidx, &n);
		if (n >= f->size)
			n = f->size - 1u;
		memcpy(p, s, n);
		p[n] = '\0';
		break;
	}
	case TP_FK_ARGV: {
		uint32_t used = 0;
		lua_Integer len;

		if (lua_type(L, vidx) != LUA_TTABLE)
			luaL_error(L, "test event: '%s' must be a list of strings", f->name);
		len = (lua_Integer)lua_rawlen(L, vidx);
		for (lua_Integer i = 1; i <= len; i++) {
			const char *s;

			if (lua_rawgeti(L, vidx, i) != LUA_TSTRING)
				luaL_error(L, "test event: '%s' must be a list of strings",
					   f->name);
			s = lua_tolstring(L, -1, &n);
			if (used + n + 1 > f->size)
				n = f->size - used - 1u; /* truncated, as the kernel side does */
			memcpy(p + used, s, n);
			p[used + n] = '\0';
			used += (uint32_t)n + 1;
			lua_pop(L, 1);
			if (used >= f->size)
				break;
		}
		put_uint(rec + f->aux, 4, used);
		break;
	}
	case TP_FK_IPADDR: {
		const char *s;
		uint16_t family = 0;

		if (lua_type(L, vidx) != LUA_TSTRING)
			luaL_error(L, "test event: '%s' must be an address string", f->name);
		s = lua_tostring(L, vidx);
		if (inet_pton(AF_INET, s, p) == 1)
			family = AF_INET;
		else if (f->size >= 16 && inet_pton(AF_INET6, s, p) == 1)
			family = AF_INET6;
		else
			luaL_error(L, "test event: '%s': not an IP address: %s", f->name, s);
		put_uint(rec + f->aux, 2, family);
		break;
	}
	case TP_FK_BOOL: {
		uint64_t cur = get_uint(p, f->size);
		bool on;

		if (lua_type(L, vidx) != LUA_TBOOLEAN)
			luaL_error(L, "test event: '%s' must be true or false", f->name);
		on = lua_toboolean(L, vidx);
		if (f->aux)
			cur = on ? cur | f->aux : cur & ~(uint64_t)f->aux;
		else
			cur = on;
		put_uint(p, f->size, cur);
		break;
	}
	default:
		put_uint(p, f->size, field_number(L, vidx, f));
		break;
	}
}

static void write_header(lua_State *L, int vidx, struct tp_hdr *h, const char *key)
{
	if (!strcmp(key, "comm")) {
		size_t n;
		const char *s;

		if (lua_type(L, vidx) != LUA_TSTRING)
			luaL_error(L, "test event: 'comm' must be a string");
		s = lua_tolstring(L, vidx, &n);
		memset(h->comm, 0, sizeof(h->comm));
		memcpy(h->comm, s, n < sizeof(h->comm) - 1 ? n : sizeof(h->comm) - 1);
	} else if (!strcmp(key, "ts")) {
		h->ts_ns = (uint64_t)want_integer(L, vidx, key);
	} else if (!strcmp(key, "cpu")) {
		h->cpu = (uint32_t)want_integer(L, vidx, key);
	} else if (!strcmp(key, "pid")) {
		h->pid = (uint32_t)want_integer(L, vidx, key);
	} else if (!strcmp(key, "tid")) {
		h->tid = (uint32_t)want_integer(L, vidx, key);
	} else if (!strcmp(key, "ppid")) {
		h->ppid = (uint32_t)want_integer(L, vidx, key);
	} else if (!strcmp(key, "uid")) {
		h->uid = (uint32_t)want_integer(L, vidx, key);
	} else if (!strcmp(key, "gid")) {
		h->gid = (uint32_t)want_integer(L, vidx, key);
	} else if (!strcmp(key, "cgroup_id")) {
		h->cgroup_id = (uint64_t)want_integer(L, vidx, key);
	} else if (!strcmp(key, "cgroup_v1_id")) {
		h->cgroup_v1_id = (uint64_t)want_integer(L, vidx, key);
	} else {
		luaL_error(L, "test event: '%s' cannot be set (it is derived)", key);
	}
}

/* Raise unless the value at vidx is a list of strings. Stack: [-0, +0] */
static void check_string_list(lua_State *L, int vidx, const char *key)
{
	lua_Integer len;

	if (lua_type(L, vidx) != LUA_TTABLE)
		luaL_error(L, "test event: '%s' must be a list of strings", key);
	len = (lua_Integer)lua_rawlen(L, vidx);
	for (lua_Integer i = 1; i <= len; i++) {
		if (lua_rawgeti(L, vidx, i) != LUA_TSTRING)
			luaL_error(L, "test event: '%s' must be a list of strings", key);
		lua_pop(L, 1);
	}
}

int tp_lua_event_from_table(lua_State *L, int idx, struct tp_event *ev)
{
	static _Thread_local union {
		struct tp_hdr hdr;
		uint8_t bytes[TP_RECORD_MAX];
	} rec;
	const struct tp_event_type *t;
	const char *tname;
	int extra, r;
	bool tid_set = false;

	pthread_once(&fnames_once, fnames_init);
	idx = lua_absindex(L, idx);
	luaL_checktype(L, idx, LUA_TTABLE);
	if (lua_getfield(L, idx, "type") != LUA_TSTRING)
		luaL_error(L, "test event: 'type' (an event type name) is required");
	tname = lua_tostring(L, -1);
	t = tp_event_type_by_name(tname);
	if (!t)
		luaL_error(L, "test event: unknown event type '%s'", tname);
	lua_pop(L, 1);

	memset(&rec, 0, sizeof(rec));
	rec.hdr.type = t->id;
	rec.hdr.size = t->size;
	rec.hdr.pid = rec.hdr.tid = 1000;
	rec.hdr.ppid = 1;
	lua_newtable(L);
	extra = lua_gettop(L);
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		const char *key;
		const struct tp_field *f;
		int j;

		if (lua_type(L, -2) != LUA_TSTRING)
			luaL_error(L, "test event: keys must be field names");
		key = lua_tostring(L, -2);
		if (!strcmp(key, "type") || !strcmp(key, "category") ||
		    !strcmp(key, "importance")) {
			if (strcmp(key, "type"))
				luaL_error(L, "test event: '%s' cannot be set (it is derived)",
					   key);
		} else if (is_header_name(key)) {
			tid_set |= !strcmp(key, "tid");
			write_header(L, lua_gettop(L), &rec.hdr, key);
		} else if ((f = tp_event_field(t, key))) {
			write_field(L, lua_gettop(L), rec.bytes, f);
		} else if (!strcmp(key, "argv")) {
			/* The process's arguments, which live events of this type
			 * get from the enrichment: kept as given. */
			check_string_list(L, lua_gettop(L), key);
			lua_pushvalue(L, -2);
			lua_pushvalue(L, -2);
			lua_rawset(L, extra);
		} else if ((j = field_name_index(key)) >= 0) {
			luaL_error(L, "test event: '%s' is not a field of %s", key, t->name);
		} else if (strlen(key) > 4 && !strcmp(key + strlen(key) - 4, "_str")) {
			luaL_error(L, "test event: set '%.*s' (a number or a name), not '%s'",
				   (int)strlen(key) - 4, key, key);
		} else {
			lua_pushvalue(L, -2);
			lua_pushvalue(L, -2);
			lua_rawset(L, extra);
		}
		lua_pop(L, 1);
	}
	if (!tid_set)
		rec.hdr.tid = rec.hdr.pid;
	r = tp_decode(&rec, t->size, 0, ev);
	if (r < 0)
		luaL_error(L, "test event: the record does not decode: %s", tp_decode_strerror(r));
	return luaL_ref(L, LUA_REGISTRYINDEX);
}
