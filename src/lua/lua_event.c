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

#include "events/decode.h"
#include "events/proc_ctx.h"
#include "lua/lua_event_names.h"
#include "lua/readonly.h"
#include "util/hash.h"

#define EVENT_MT "tapio.event"

/* Keys the outputs write themselves: e:set may not shadow them. */
static const char *const output_keys[] = {
    "rule", "severity", "output", "tags", "sample_rate", NULL,
};

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
		/* No variable (or an older record): an empty table, so that
		 * e.env.NAME is nil rather than an error. */
		if (f->kind == TP_FK_ENV)
			lua_createtable(L, 0, 0);
		else
			lua_pushnil(L);
		return 1;
	}
	switch (f->kind) {
	case TP_FK_STR:
		lua_pushstring(L, tp_field_str(ev, f));
		break;
	case TP_FK_ENV: {
		struct tp_env_entry en;
		uint32_t len;
		const char *av = tp_field_argv(ev, f, &len);

		lua_createtable(L, 0, 4);
		for (bool ok = tp_env_next(av, len, NULL, &en); ok; ok = tp_env_next(av, len, &en, &en)) {
			lua_pushlstring(L, en.name, en.name_len);
			lua_pushlstring(L, en.value, en.value_len);
			lua_rawset(L, -3);
		}
		break;
	}
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

/* The symbolic form, as format.c writes "<field>_str", in buf (1024 bytes,
 * as format.c: room for a full capability set by name); NULL: nil. */
static const char *field_sym(const struct tp_event *ev, const struct tp_field *f, char *buf,
			     size_t len)
{
	uint64_t u = 0;
	int64_t s;

	if (!f->syms || !tp_field_present(ev, f))
		return NULL;
	if (f->kind == TP_FK_S32 || f->kind == TP_FK_S64) {
		tp_field_i64(ev, f, &s);
		u = (uint64_t)s;
	} else {
		tp_field_u64(ev, f, &u);
	}
	return tp_field_sym(f, u, buf, len) ? buf : NULL;
}

/* Stack: [-0, +1] */
static int push_field_sym(lua_State *L, const struct tp_event *ev, const struct tp_field *f)
{
	char buf[1024];
	const char *s = field_sym(ev, f, buf, sizeof(buf));

	if (s)
		lua_pushstring(L, s);
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
 * a table, or joined by spaces. Returns 2 when it built the value from the
 * process table, else 1. Stack: [-0, +1] */
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
		return 2; /* built from the process table */
	}
	lua_pushnil(L);
	return 1;
}

/* The argv joined by spaces (Lua only: "sh -c curl x | sh"), so a rule
 * matches a command line without building a table: the type's argv, else
 * the process's. Stack: [-0, +1] */
/* Does ev's type have an argv field? Its bytes in *av (NULL: none in the
 * record) and *len. */
static bool type_argv(const struct tp_event *ev, const char **av, uint32_t *len)
{
	const struct tp_event_type *t = ev->type;

	for (uint32_t k = 0; k < t->nfields; k++)
		if (t->fields[k].kind == TP_FK_ARGV) {
			*av = tp_field_argv(ev, &t->fields[k], len);
			return true;
		}
	return false;
}

static void push_cmdline(lua_State *L, const struct tp_lua_event *b)
{
	const char *av;
	uint32_t len;

	if (!type_argv(b->ev, &av, &len))
		push_proc_argv(L, b, true);
	else if (av)
		push_joined(L, av, len);
	else
		lua_pushnil(L);
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

/* The event at idx, bound. The methods hold the VM's one event userdata
 * (light) as their upvalue up: the event is found by comparing with it,
 * without luaL_checkudata's look-up of the metatable by name (~350
 * instructions); anything else goes through that check, and its error. */
static struct tp_lua_event *bound(lua_State *L, int idx, int up)
{
	struct tp_lua_event *b = lua_touserdata(L, up);

	if (lua_touserdata(L, idx) != b)
		b = luaL_checkudata(L, idx, EVENT_MT);
	if (!b->ev)
		luaL_error(L, "event used outside the call it was passed to (it is only valid "
			      "during that call)");
	return b;
}

/*
 * The per-event cache. The userdata's __index is a table (the cache): Lua
 * reads a field found there like any table field, with no call. What is
 * not there goes to the cache's own __index, event_index below, which
 * pushes the value and, when it stays the same for the whole event (a
 * string, number or boolean of a header, type or virtual field, or a
 * method), keeps it in the cache. Not kept: nil, tables (argv, env,
 * parent: a rule may change its copy), importance (it changes after the
 * score functions), the keys of e:set. tp_lua_event_forget empties the
 * cache when the binding changes, through the list of the keys kept (an
 * upvalue of event_index); no rule can reach either (the metatable is
 * hidden).
 */
#define KEPT_UPVALUE lua_upvalueindex(3 + M_MAX)

static void cache_top(lua_State *L, struct tp_lua_event *b)
{
	/* Listed first: if storing the value raises (memory), forget still
	 * finds the key (setting nil on an absent key adds nothing). */
	lua_pushvalue(L, 2);
	lua_rawseti(L, KEPT_UPVALUE, (lua_Integer)b->ncached + 1);
	b->ncached++;
	lua_pushvalue(L, 2);
	lua_pushvalue(L, -2);
	lua_rawset(L, 1);
}

/* The argv and env views kept across events: a node runs the same command
 * lines again and again (cron jobs, health checks, workers), and a view of
 * the same bytes reads the same, read-only as it is. Half the slots for
 * each kind; lists longer than LIST_KEEP_MAX bytes are made each time. */
#define LIST_KEEP     (sizeof(((struct tp_lua_event *)0)->list_hash) / sizeof(uint64_t))
#define LIST_KEEP_MAX 1024
static const char key_lists = 'l'; /* registry: slot i's bytes at 2i+1, its view at 2i+2 */

/* Push the read-only view of ev's argv or env field f: the one kept for
 * the same bytes, else a new one (kept). false: no table (an absent
 * argv is nil). Stack: [-0, +1] */
static bool push_list(lua_State *L, struct tp_lua_event *b, const struct tp_field *f)
{
	uint32_t len = 0;
	const char *av = tp_field_present(b->ev, f) ? tp_field_argv(b->ev, f, &len) : NULL;
	uint64_t h;
	unsigned slot;

	if (!av || len > LIST_KEEP_MAX) {
		push_field(L, b->ev, f);
		if (lua_type(L, -1) != LUA_TTABLE)
			return false;
		tp_lua_wrap_readonly(L);
		return true;
	}
	h = tp_hash_ends(av, len) | 1;
	slot = (unsigned)(h >> 60) % (LIST_KEEP / 2) + (f->kind == TP_FK_ENV ? LIST_KEEP / 2 : 0);
	lua_rawgetp(L, LUA_REGISTRYINDEX, &key_lists);
	if (b->list_hash[slot] == h) {
		size_t n;
		const char *kept;

		lua_rawgeti(L, -1, 2 * (lua_Integer)slot + 1);
		kept = lua_tolstring(L, -1, &n);
		lua_pop(L, 1);
		if (kept && n == len && !memcmp(kept, av, len)) {
			lua_rawgeti(L, -1, 2 * (lua_Integer)slot + 2);
			lua_remove(L, -2);
			return true;
		}
	}
	b->list_hash[slot] = 0; /* until both are in place (a raise on memory) */
	push_field(L, b->ev, f);
	tp_lua_wrap_readonly(L);
	lua_pushlstring(L, av, len);
	lua_rawseti(L, -3, 2 * (lua_Integer)slot + 1);
	lua_pushvalue(L, -1);
	lua_rawseti(L, -3, 2 * (lua_Integer)slot + 2);
	lua_remove(L, -2);
	b->list_hash[slot] = h;
	return true;
}

static void cache_value(lua_State *L, struct tp_lua_event *b)
{
	int t = lua_type(L, -1);

	if (t != LUA_TSTRING && t != LUA_TNUMBER && t != LUA_TBOOLEAN && t != LUA_TFUNCTION)
		return;
	cache_top(L, b);
}

/* The argv or env table at the top, fresh from the record, as a read-only
 * view kept for the whole event: built once, whatever the number of rules
 * (and of e.argv[i] in their loops) that read it. */
static void cache_table(lua_State *L, struct tp_lua_event *b)
{
	if (lua_type(L, -1) != LUA_TTABLE)
		return;
	tp_lua_wrap_readonly(L);
	cache_top(L, b);
}


/* __index(cache, key) (see cache_value). Upvalues: the name table, the
 * methods, the binding, the list of keys kept (the name table is for
 * e:set; lookups go through b->names). Stack: [-2, +1] */
static int event_index(lua_State *L)
{
	struct tp_lua_event *b = lua_touserdata(L, lua_upvalueindex(2 + M_MAX));
	const struct tp_field *f;
	lua_Integer code;
	int kind, i;

	if (!b->ev)
		return luaL_error(L, "event used outside the call it was passed to (it is only "
				     "valid during that call)");
	if (lua_type(L, 2) != LUA_TSTRING || (code = name_code(b->names, lua_tostring(L, 2))) < 0)
		return index_other(L, b);
	kind = (int)(code >> 16);
	i = (int)(code & 0xffff);
	switch (kind) {
	case K_HEADER:
		push_header(L, b, i);
		if (i != H_IMPORTANCE)
			cache_value(L, b);
		return 1;
	case K_FIELD:
		f = tp_lua_names_type_field(b->ev->type, (unsigned)i);
		if (!f && i == tp_lua_names_argv()) {
			if (push_proc_argv(L, b, false) == 2) /* from the process table */
				cache_table(L, b);
			return 1;
		}
		if (!f) {
			lua_pushnil(L);
			return 1;
		}
		if (f->kind == TP_FK_ARGV || f->kind == TP_FK_ENV) {
			if (push_list(L, b, f))
				cache_top(L, b);
			return 1;
		}
		push_field(L, b->ev, f);
		cache_value(L, b);
		return 1;
	case K_FIELD_STR:
		f = tp_lua_names_type_field(b->ev->type, (unsigned)i);
		if (!f) {
			lua_pushnil(L);
			return 1;
		}
		push_field_sym(L, b->ev, f);
		cache_value(L, b);
		return 1;
	case K_VIRTUAL:
		if (!push_extra(L, b, 2) && !tp_lua_names_virtual((unsigned)i)(L, b->ev, b->meta))
			lua_pushnil(L);
		cache_value(L, b);
		return 1;
	case K_METHOD:
		lua_pushvalue(L, lua_upvalueindex(2 + i));
		cache_value(L, b);
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

/* A letter or _, or (not first) a digit or a dot. */
static inline bool key_char(unsigned char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       (!first && ((c >= '0' && c <= '9') || c == '.'));
}

static bool valid_key(const char *k, size_t n)
{
	if (!n || n > 64)
		return false;
	for (size_t i = 0; i < n; i++) /* an embedded NUL is no key character */
		if (!key_char((unsigned char)k[i], i == 0))
			return false;
	return true;
}

/* Why e:set may not set k (NULL: it may): not a name, a field (the name
 * table at names), or a key the outputs write. kidx: k as a Lua string on
 * the stack (0: none; pushed from k). Every e:set asks: ~200 instructions
 * (700-1,150 with strspn and a fresh Lua string). */
static const char *key_problem(lua_State *L, int names, int kidx, const char *k, size_t klen,
			       char *why, size_t whylen)
{
	bool field;

	if (!valid_key(k, klen)) {
		snprintf(why, whylen, "bad key '%s' (letters, digits, _ and ., at most 64)", k);
		return why;
	}
	if (kidx)
		lua_pushvalue(L, kidx);
	else
		lua_pushlstring(L, k, klen);
	field = lua_rawget(L, names) != LUA_TNIL;
	lua_pop(L, 1);
	if (field) {
		snprintf(why, whylen, "'%s' is an event field", k);
		return why;
	}
	for (const char *const *o = output_keys; *o; o++)
		if ((*o)[0] == k[0] && !strcmp(*o, k)) {
			snprintf(why, whylen, "'%s' is written by the outputs", k);
			return why;
		}
	return NULL;
}

bool tp_lua_set_key_ok(lua_State *L, const char *k, char *why, size_t whylen)
{
	bool ok;

	tp_lua_names_push_table(L);
	ok = !key_problem(L, lua_gettop(L), 0, k, strlen(k), why, whylen);
	lua_pop(L, 1);
	return ok;
}

/* Set key k (klen bytes) to v, whose text is in the sink already: 0,
 * -EMLINK (the event has its most keys) or -ENOSPC (its most bytes). */
static int sink_put(struct tp_lua_sink *s, const char *k, size_t klen, const struct tp_value *v)
{
	size_t i;

	for (i = 0; i < s->nkv; i++)
		if (!strcmp(s->kv[i].key, k))
			break;
	if (i == s->nkv) {
		if (s->nkv == TP_LUA_KV_MAX)
			return -EMLINK;
		s->kv[i].key = tp_lua_sink_copy(s, k, klen);
		if (!s->kv[i].key)
			return -ENOSPC;
		s->nkv++;
	}
	s->kv[i].value = *v;
	return 0;
}

int tp_lua_sink_set_str(struct tp_lua_sink *s, const char *k, const char *v, size_t vlen)
{
	struct tp_value val = {.kind = TP_V_STR};

	val.str.s = tp_lua_sink_copy(s, v, vlen);
	val.str.len = vlen;
	return val.str.s ? sink_put(s, k, strlen(k), &val) : -ENOSPC;
}

/* e:set(key, value): value a string, number or boolean; nil removes.
 * Upvalues: the name table (reserved names), the event (bound). Stack:
 * [-3, +0] */
static int event_set(lua_State *L)
{
	struct tp_lua_event *b = bound(L, 1, lua_upvalueindex(2));
	struct tp_lua_sink *s = b->sink;
	size_t klen, vlen, i;
	const char *k = luaL_checklstring(L, 2, &klen);
	struct tp_value v = {0};
	char why[128];

	if (!s)
		return luaL_error(L, "e:set is not available here");
	if (key_problem(L, lua_upvalueindex(1), 2, k, klen, why, sizeof(why)))
		return luaL_error(L, "e:set: %s", why);
	switch (lua_type(L, 3)) {
	case LUA_TSTRING: {
		const char *p = lua_tolstring(L, 3, &vlen);

		v.kind = TP_V_STR;
		v.str.s = tp_lua_sink_copy(s, p, vlen);
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
	if (lua_isnil(L, 3)) {
		for (i = 0; i < s->nkv; i++)
			if (!strcmp(s->kv[i].key, k)) {
				memmove(&s->kv[i], &s->kv[i + 1],
					(s->nkv - i - 1) * sizeof(s->kv[0]));
				s->nkv--;
				break;
			}
		return 0;
	}
	switch (sink_put(s, k, klen, &v)) {
	case -EMLINK:
		return luaL_error(L, "e:set: more than %d keys on one event", TP_LUA_KV_MAX);
	case -ENOSPC:
		return luaL_error(L, "e:set: more than %d bytes set on one event", TP_LUA_ARENA);
	}
	return 0;
}

/* e:tag(text): added once. Upvalue: the event (bound). Stack: [-2, +0] */
static int event_tag(lua_State *L)
{
	struct tp_lua_event *b = bound(L, 1, lua_upvalueindex(1));
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
	copy = tp_lua_sink_copy(s, t, n);
	if (!copy)
		return luaL_error(L, "e:tag: more than %d bytes set on one event", TP_LUA_ARENA);
	s->tags[s->ntags++] = copy;
	return 0;
}

/* ------------------------------------------------------------ per VM */

static const char key_event = 'e'; /* registry: the reused userdata */
static const char key_cache = 'c'; /* registry: its cache (see cache_value) */
static const char key_kept = 'k';  /* registry: the keys kept in the cache */

int tp_lua_event_open(lua_State *L)
{
	struct tp_lua_event *b;

	tp_lua_names_init();
	b = lua_newuserdatauv(L, sizeof(*b), 0);
	memset(b, 0, sizeof(*b));
	b->extra = LUA_NOREF;
	luaL_newmetatable(L, EVENT_MT);
	lua_createtable(L, 0, 16); /* the cache */
	lua_createtable(L, 0, 1);  /* its metatable */
	tp_lua_names_push_table(L);
	b->names = tp_lua_names_build(L, -1);
	lua_pushvalue(L, -1);
	lua_pushlightuserdata(L, b);
	lua_pushcclosure(L, event_set, 2);
	lua_pushlightuserdata(L, b);
	lua_pushcclosure(L, event_tag, 1);
	lua_pushlightuserdata(L, b);
	lua_createtable(L, 2 * LIST_KEEP, 0); /* the lists kept (push_list) */
	lua_rawsetp(L, LUA_REGISTRYINDEX, &key_lists);
	lua_createtable(L, 32, 0); /* the keys kept */
	lua_pushvalue(L, -1);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &key_kept);
	lua_pushcclosure(L, event_index, 3 + M_MAX);
	lua_setfield(L, -2, "__index");
	lua_setmetatable(L, -2);
	lua_pushvalue(L, -1);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &key_cache);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, event_newindex);
	lua_setfield(L, -2, "__newindex");
	lua_pushcfunction(L, event_tostring);
	lua_setfield(L, -2, "__tostring");
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	lua_setmetatable(L, -2);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &key_event);
	return 0;
}

void tp_lua_event_forget(lua_State *L, struct tp_lua_event *b)
{
	if (!b->ncached)
		return;
	lua_rawgetp(L, LUA_REGISTRYINDEX, &key_cache);
	lua_rawgetp(L, LUA_REGISTRYINDEX, &key_kept);
	for (unsigned i = 1; i <= b->ncached; i++) {
		lua_rawgeti(L, -1, i);
		lua_pushnil(L);
		lua_rawset(L, -4); /* an existing key: no allocation, no error */
	}
	lua_pop(L, 2);
	b->ncached = 0;
}

/* ------------------------------------------------------------ text without Lua */

/* NUL-separated arguments joined by spaces, as render_value writes the
 * argv table (and push_joined the cmdline). */
static void join_args(const char *av, uint32_t len, struct tp_buf *out)
{
	bool first = true;
	size_t n;

	for (const char *p = tp_argv_next(av, len, NULL, &n); p; p = tp_argv_next(av, len, p, &n)) {
		if (!first)
			tp_buf_putc(out, ' ');
		tp_buf_append(out, p, n);
		first = false;
	}
}

/* As push_proc_argv (b has no test extras): the process's, joined. */
static int proc_argv_text(const struct tp_lua_event *b, struct tp_buf *out)
{
	const struct tp_proc_ctx *pc = b->meta ? b->meta->proc : NULL;

	if (!pc || !pc->argv)
		return 0;
	join_args(pc->argv, pc->argv_len, out);
	return 1;
}

/* As push_cmdline. */
static int cmdline_text(const struct tp_lua_event *b, struct tp_buf *out)
{
	const char *av;
	uint32_t len;

	if (!type_argv(b->ev, &av, &len))
		return proc_argv_text(b, out);
	if (!av)
		return 0;
	join_args(av, len, out);
	return 1;
}

/* As push_header, then render_value (template.c). */
static int header_text(const struct tp_lua_event *b, int h, struct tp_buf *out)
{
	const struct tp_event *ev = b->ev;
	const struct tp_hdr *hd = &ev->rec.hdr;
	int64_t v;

	switch (h) {
	case H_TYPE:
		tp_buf_puts(out, ev->type->name);
		return 1;
	case H_CATEGORY:
		tp_buf_puts(out, tp_category_name(TP_TYPE_CATEGORY(ev->type->id)));
		return 1;
	case H_COMM:
		tp_buf_append(out, hd->comm, strnlen(hd->comm, sizeof(hd->comm)));
		return 1;
	case H_CMDLINE:
		return cmdline_text(b, out);
	case H_TS:
		v = (int64_t)ev->ts_wall_ns;
		break;
	case H_CPU:
		v = hd->cpu;
		break;
	case H_PID:
		v = hd->pid;
		break;
	case H_TID:
		v = hd->tid;
		break;
	case H_PPID:
		v = hd->ppid;
		break;
	case H_UID:
		v = hd->uid;
		break;
	case H_GID:
		v = hd->gid;
		break;
	case H_CGROUP_ID:
		v = (int64_t)hd->cgroup_id;
		break;
	case H_CGROUP_V1_ID:
		if (!hd->cgroup_v1_id)
			return 0;
		v = (int64_t)hd->cgroup_v1_id;
		break;
	default: /* importance: a float */
		return -1;
	}
	tp_buf_i64(out, v);
	return 1;
}

/* As push_field, then render_value (and template.c's octal for modes). */
static int field_text(const struct tp_event *ev, const struct tp_field *f, struct tp_buf *out)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *s;
	uint64_t u = 0;
	int64_t i = 0;

	if (!tp_field_present(ev, f))
		return f->kind == TP_FK_ENV ? -1 : 0; /* env: an empty table */
	switch (f->kind) {
	case TP_FK_STR:
		if (!(s = tp_field_str(ev, f)))
			return 0;
		tp_buf_puts(out, s);
		return 1;
	case TP_FK_ENV:
		return -1;
	case TP_FK_ARGV: {
		uint32_t len;
		const char *av = tp_field_argv(ev, f, &len);

		join_args(av, len, out);
		return 1;
	}
	case TP_FK_IPADDR:
		if (!tp_field_ipaddr(ev, f, buf, sizeof(buf)))
			return 0;
		tp_buf_puts(out, buf);
		return 1;
	case TP_FK_BOOL:
		tp_field_u64(ev, f, &u);
		tp_buf_puts(out, u ? "true" : "false");
		return 1;
	case TP_FK_S32:
	case TP_FK_S64:
		tp_field_i64(ev, f, &i);
		tp_buf_i64(out, i);
		return 1;
	case TP_FK_OCTAL:
		tp_field_u64(ev, f, &u);
		tp_buf_printf(out, "0%llo", (unsigned long long)u);
		return 1;
	default:
		tp_field_u64(ev, f, &u);
		tp_buf_i64(out, (int64_t)u);
		return 1;
	}
}

/* As push_field_sym. */
static int field_sym_text(const struct tp_event *ev, const struct tp_field *f, struct tp_buf *out)
{
	char buf[1024];
	const char *s = field_sym(ev, f, buf, sizeof(buf));

	if (!s)
		return 0;
	tp_buf_puts(out, s);
	return 1;
}

int tp_lua_event_text(const struct tp_lua_event *b, int32_t code, const char *const *path,
		      size_t npath, struct tp_buf *out)
{
	const struct tp_event *ev = b->ev;
	const struct tp_field *f;
	tp_lua_field_text_fn text;
	int kind = code >> 16, i = code & 0xffff;

	/* A test event's extras come first in event_index: through Lua. */
	if (!ev || code < 0 || !npath || (b->extra != LUA_NOREF && b->extra != LUA_REFNIL))
		return -1;
	if (kind == K_VIRTUAL) {
		text = tp_lua_names_virtual_text((unsigned)i);
		return text ? text(ev, b->meta, path + 1, npath - 1, out) : -1;
	}
	if (npath != 1) /* a string's .x is nil, a table's through Lua */
		return -1;
	switch (kind) {
	case K_HEADER:
		return header_text(b, i, out);
	case K_FIELD:
		f = tp_lua_names_type_field(ev->type, (unsigned)i);
		if (!f) /* argv of a type without one: the process table's */
			return i == tp_lua_names_argv() ? proc_argv_text(b, out) : 0;
		return field_text(ev, f, out);
	case K_FIELD_STR:
		f = tp_lua_names_type_field(ev->type, (unsigned)i);
		return f ? field_sym_text(ev, f, out) : 0;
	}
	return -1;
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
