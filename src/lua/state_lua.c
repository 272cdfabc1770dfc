#include "lua/state_lua.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

#include "lua/lua_event.h"
#include "util/time.h"

#define HANDLE_MAGIC 0x73746174u /* "stat" */
#define NAME_MAX_LEN 64
#define STEP_MAX_LEN 64

static const char *const mt_names[TP_STATE_KINDS] = {"tapio.counter", "tapio.distinct",
						     "tapio.sequence", "tapio.map"};

struct tp_lua_state_handle {
	uint32_t magic;
	struct tp_state_spec spec;
	struct tp_state_obj *obj;	 /* NULL until a rule declares it */
	struct tp_lua_event *binding; /* the VM's event: the time and the process */
	char name[NAME_MAX_LEN];
	char steps[TP_STATE_MAX_STEPS][STEP_MAX_LEN];
};

/* ------------------------------------------------------------ declarations */

/* A duration option: seconds or a string with a unit. Stack: [-0, +0] */
static uint64_t opt_duration(lua_State *L, int t, const char *ctor, const char *key)
{
	uint64_t ns = 0;
	int type = lua_getfield(L, t, key);

	if (type == LUA_TNUMBER) {
		double s = lua_tonumber(L, -1);

		if (!(s > 0 && s < 1e10))
			luaL_error(L, "tapio.%s: %s must be above 0 (seconds, or \"30s\", \"5m\")",
				   ctor, key);
		ns = (uint64_t)(s * 1e9);
	} else if (type == LUA_TSTRING) {
		if (tp_parse_duration(lua_tostring(L, -1), &ns) < 0 || !ns)
			luaL_error(L, "tapio.%s: %s \"%s\" is not a duration (\"500ms\", \"30s\", "
				      "\"5m\", \"2h\" or seconds)",
				   ctor, key, lua_tostring(L, -1));
	} else if (type == LUA_TNIL) {
		luaL_error(L, "tapio.%s: %s is required (e.g. %s = \"30s\")", ctor, key, key);
	} else {
		luaL_error(L, "tapio.%s: %s is a duration (\"30s\") or seconds", ctor, key);
	}
	lua_pop(L, 1);
	return ns;
}

static uint32_t opt_count(lua_State *L, int t, const char *ctor, const char *key)
{
	lua_Integer v = 0;
	int ok = 1;

	if (lua_getfield(L, t, key) != LUA_TNIL) {
		v = lua_tointegerx(L, -1, &ok);
		if (!ok || v < 1 || v > (1 << 24))
			luaL_error(L, "tapio.%s: %s is a whole number from 1 to %d", ctor, key,
				   1 << 24);
	}
	lua_pop(L, 1);
	return (uint32_t)v;
}

/* Refuse options the constructor does not know (typos fail loudly). */
static void check_options(lua_State *L, int t, const char *ctor, const char *const *known,
			  bool allow_list)
{
	lua_pushnil(L);
	while (lua_next(L, t)) {
		bool ok = allow_list && lua_type(L, -2) == LUA_TNUMBER;

		for (const char *const *k = known; !ok && *k; k++)
			ok = lua_type(L, -2) == LUA_TSTRING && !strcmp(lua_tostring(L, -2), *k);
		if (!ok) {
			char list[128] = "";

			for (const char *const *k = known; *k; k++)
				snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
					 k == known ? "" : ", ", *k);
			luaL_error(L, "tapio.%s: unknown option '%s' (known: %s)", ctor,
				   lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?",
				   list);
		}
		lua_pop(L, 1);
	}
}

/* tapio.counter / distinct / sequence / map { options }. Upvalue: the kind.
 * Stack: [-1, +1] */
static int l_declare(lua_State *L)
{
	static const char *const known[TP_STATE_KINDS][4] = {
	    {"window", "max_keys", NULL},
	    {"window", "max_keys", "max_values", NULL},
	    {"within", "max_keys", NULL},
	    {"ttl", "max_keys", NULL},
	};
	static const char *const time_key[TP_STATE_KINDS] = {"window", "window", "within", "ttl"};
	enum tp_state_kind kind = (enum tp_state_kind)lua_tointeger(L, lua_upvalueindex(1));
	const char *ctor = tp_state_kind_names[kind];
	struct tp_lua_state_handle *h;

	if (lua_type(L, 1) != LUA_TTABLE)
		return luaL_error(L, "tapio.%s: want tapio.%s { %s = \"30s\", ... }", ctor, ctor,
				  time_key[kind]);
	lua_settop(L, 1);
	check_options(L, 1, ctor, known[kind], kind == TP_STATE_SEQUENCE);
	h = lua_newuserdatauv(L, sizeof(*h), 0);
	memset(h, 0, sizeof(*h));
	h->magic = HANDLE_MAGIC;
	h->spec.kind = kind;
	h->spec.window_ns = opt_duration(L, 1, ctor, time_key[kind]);
	h->spec.max_keys = opt_count(L, 1, ctor, "max_keys");
	if (kind == TP_STATE_DISTINCT)
		h->spec.max_values = opt_count(L, 1, ctor, "max_values");
	if (kind == TP_STATE_SEQUENCE) {
		lua_Integer n = (lua_Integer)lua_rawlen(L, 1);

		if (n < 2 || n > TP_STATE_MAX_STEPS)
			return luaL_error(L,
					  "tapio.sequence: name 2 to %d steps in order, e.g. "
					  "tapio.sequence { \"written\", \"chmod\", \"exec\", "
					  "within = \"2m\" }",
					  TP_STATE_MAX_STEPS);
		for (lua_Integer i = 1; i <= n; i++) {
			size_t len;
			const char *s;

			if (lua_rawgeti(L, 1, i) != LUA_TSTRING)
				return luaL_error(L, "tapio.sequence: step %d is not a name",
						  (int)i);
			s = lua_tolstring(L, -1, &len);
			if (!len || len >= STEP_MAX_LEN)
				return luaL_error(L,
						  "tapio.sequence: step %d: a name of 1 to %d bytes",
						  (int)i, STEP_MAX_LEN - 1);
			for (lua_Integer j = 0; j < i - 1; j++)
				if (!strcmp(h->steps[j], s))
					return luaL_error(L, "tapio.sequence: step '%s' twice", s);
			memcpy(h->steps[i - 1], s, len + 1);
			h->spec.steps[i - 1] = h->steps[i - 1];
			lua_pop(L, 1);
		}
		h->spec.nsteps = (uint32_t)n;
	}
	luaL_setmetatable(L, mt_names[kind]);
	return 1;
}

/* tapio.process(pid): a key that is a process. Stack: [-1, +1] */
static int l_process(lua_State *L)
{
	lua_Integer pid;
	int ok;

	pid = lua_tointegerx(L, 1, &ok);
	if (!ok || pid < 0 || pid > UINT32_MAX)
		return luaL_error(L, "tapio.process: want a pid (e.g. tapio.process(e.ppid))");
	/* pid + 1: a light userdata is never NULL here. */
	lua_pushlightuserdata(L, (void *)(uintptr_t)(pid + 1));
	return 1;
}

/* ------------------------------------------------------------ methods */

static struct tp_lua_state_handle *check_handle(lua_State *L, enum tp_state_kind kind,
						const char *method)
{
	struct tp_lua_state_handle *h =
	    lua_type(L, 1) == LUA_TUSERDATA ? lua_touserdata(L, 1) : NULL;

	if (!h || lua_rawlen(L, 1) != sizeof(*h) || h->magic != HANDLE_MAGIC ||
	    h->spec.kind != kind)
		luaL_error(L, "%s:%s: call it with a colon, on the %s of the rule's state "
			      "(s.name:%s(...))",
			   tp_state_kind_names[kind], method, tp_state_kind_names[kind], method);
	if (!h->obj)
		luaL_error(L, "%s:%s: this %s is not in a rule's state table", tp_state_kind_names[kind],
			   method, tp_state_kind_names[kind]);
	if (!h->binding || !h->binding->ev)
		luaL_error(L, "%s:%s: state is used while a rule runs on an event",
			   tp_state_kind_names[kind], method);
	return h;
}

static uint64_t now_of(const struct tp_lua_state_handle *h)
{
	return h->binding->ev->ts_wall_ns;
}

/* The key at idx. False for nil (nothing is kept). Raises on a bad key.
 * Stack: [-0, +0] */
static bool to_key(lua_State *L, int idx, const struct tp_lua_state_handle *h,
		   struct tp_state_key *k, const char *what)
{
	size_t len;
	const char *s;
	double d;

	switch (lua_type(L, idx)) {
	case LUA_TSTRING:
		s = lua_tolstring(L, idx, &len);
		if (len > TP_STATE_KEY_MAX)
			luaL_error(L, "%s: longer than %d bytes", what, TP_STATE_KEY_MAX);
		tp_state_key_str(k, s, len);
		return true;
	case LUA_TNUMBER:
		if (lua_isinteger(L, idx)) {
			tp_state_key_int(k, lua_tointeger(L, idx));
			return true;
		}
		d = lua_tonumber(L, idx);
		if (d != d)
			luaL_error(L, "%s: NaN", what);
		/* 1.0 and 1 are the same key, as they are for a Lua table. */
		if (d == floor(d) && d >= -9.2e18 && d <= 9.2e18)
			tp_state_key_int(k, (int64_t)d);
		else
			tp_state_key_num(k, d);
		return true;
	case LUA_TBOOLEAN:
		tp_state_key_bool(k, lua_toboolean(L, idx));
		return true;
	case LUA_TUSERDATA:
		if (lua_touserdata(L, idx) == h->binding) {
			tp_state_key_proc(k, h->binding->ev->rec.hdr.pid);
			return true;
		}
		break;
	case LUA_TLIGHTUSERDATA:
		tp_state_key_proc(k, (uint32_t)((uintptr_t)lua_touserdata(L, idx) - 1));
		return true;
	case LUA_TNIL:
	case LUA_TNONE:
		return false;
	default:
		break;
	}
	luaL_error(L, "%s: a string, a number, a boolean, the event (its process) or "
		      "tapio.process(pid), not a %s",
		   what, luaL_typename(L, idx));
	return false;
}

/* counter:add(key [, n]). Stack: [-(2|3), +1] */
static int l_counter_add(lua_State *L)
{
	struct tp_lua_state_handle *h = check_handle(L, TP_STATE_COUNTER, "add");
	struct tp_state_key k;
	lua_Integer n = 1;

	if (!lua_isnoneornil(L, 3)) {
		int ok;

		n = lua_tointegerx(L, 3, &ok);
		if (!ok || n < 0)
			return luaL_error(L, "counter:add: n is a whole number of 0 or more");
	}
	if (!to_key(L, 2, h, &k, "counter:add: key")) {
		lua_pushinteger(L, 0);
		return 1;
	}
	lua_pushinteger(L, (lua_Integer)tp_state_counter_add(h->obj, &k, now_of(h), (uint64_t)n));
	return 1;
}

/* counter:count(key). Stack: [-2, +1] */
static int l_counter_count(lua_State *L)
{
	struct tp_lua_state_handle *h = check_handle(L, TP_STATE_COUNTER, "count");
	struct tp_state_key k;

	if (!to_key(L, 2, h, &k, "counter:count: key")) {
		lua_pushinteger(L, 0);
		return 1;
	}
	lua_pushinteger(L, (lua_Integer)tp_state_counter_get(h->obj, &k, now_of(h)));
	return 1;
}

/* distinct:add(key, value). Stack: [-3, +2] */
static int l_distinct_add(lua_State *L)
{
	struct tp_lua_state_handle *h = check_handle(L, TP_STATE_DISTINCT, "add");
	struct tp_state_key k, v;
	uint64_t n;
	bool fresh;

	if (!to_key(L, 2, h, &k, "distinct:add: key")) {
		lua_pushinteger(L, 0);
		lua_pushboolean(L, 0);
		return 2;
	}
	if (lua_type(L, 3) == LUA_TUSERDATA || lua_type(L, 3) == LUA_TLIGHTUSERDATA ||
	    !to_key(L, 3, h, &v, "distinct:add: value")) {
		if (!lua_isnoneornil(L, 3))
			return luaL_error(L, "distinct:add: the value is a string, a number or a "
					     "boolean");
		lua_pushinteger(L, (lua_Integer)tp_state_distinct_get(h->obj, &k, now_of(h)));
		lua_pushboolean(L, 0);
		return 2;
	}
	fresh = tp_state_distinct_add(h->obj, &k, tp_state_obj_hash_value(h->obj, &v), now_of(h),
				      &n);
	lua_pushinteger(L, (lua_Integer)n);
	lua_pushboolean(L, fresh);
	return 2;
}

/* distinct:count(key). Stack: [-2, +1] */
static int l_distinct_count(lua_State *L)
{
	struct tp_lua_state_handle *h = check_handle(L, TP_STATE_DISTINCT, "count");
	struct tp_state_key k;

	if (!to_key(L, 2, h, &k, "distinct:count: key")) {
		lua_pushinteger(L, 0);
		return 1;
	}
	lua_pushinteger(L, (lua_Integer)tp_state_distinct_get(h->obj, &k, now_of(h)));
	return 1;
}

/* The step at idx: a name of the sequence or its number. */
static uint32_t to_step(lua_State *L, int idx, const struct tp_lua_state_handle *h)
{
	size_t len;
	const char *s;
	uint32_t step;
	int ok;

	if (lua_type(L, idx) == LUA_TSTRING) {
		s = lua_tolstring(L, idx, &len);
		step = tp_state_obj_step(h->obj, s, len);
		if (!step) {
			char list[TP_STATE_MAX_STEPS * (STEP_MAX_LEN + 2)] = "";

			for (uint32_t i = 0; i < h->spec.nsteps; i++)
				snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
					 i ? ", " : "", h->steps[i]);
			luaL_error(L, "sequence:step: no step '%s' (steps: %s)", s, list);
		}
		return step;
	}
	step = (uint32_t)lua_tointegerx(L, idx, &ok);
	if (!ok || step < 1 || step > h->spec.nsteps)
		luaL_error(L, "sequence:step: the step is a name or a number from 1 to %u",
			   h->spec.nsteps);
	return step;
}

/* sequence:step(key, step). Stack: [-3, +1] */
static int l_seq_step(lua_State *L)
{
	struct tp_lua_state_handle *h = check_handle(L, TP_STATE_SEQUENCE, "step");
	struct tp_state_key k;
	uint32_t step = to_step(L, 3, h);

	if (!to_key(L, 2, h, &k, "sequence:step: key")) {
		lua_pushboolean(L, 0);
		return 1;
	}
	lua_pushboolean(L, tp_state_seq_step(h->obj, &k, step, now_of(h)));
	return 1;
}

/* sequence:progress(key). Stack: [-2, +1] */
static int l_seq_progress(lua_State *L)
{
	struct tp_lua_state_handle *h = check_handle(L, TP_STATE_SEQUENCE, "progress");
	struct tp_state_key k;

	if (!to_key(L, 2, h, &k, "sequence:progress: key")) {
		lua_pushinteger(L, 0);
		return 1;
	}
	lua_pushinteger(L, tp_state_seq_progress(h->obj, &k, now_of(h)));
	return 1;
}

/* map:set(key, value). Stack: [-3, +0] */
static int l_map_set(lua_State *L)
{
	struct tp_lua_state_handle *h = check_handle(L, TP_STATE_MAP, "set");
	struct tp_state_key k;
	struct tp_state_value v;

	if (!to_key(L, 2, h, &k, "map:set: key"))
		return 0;
	switch (lua_type(L, 3)) {
	case LUA_TNIL:
	case LUA_TNONE:
		tp_state_del(h->obj, &k);
		return 0;
	case LUA_TBOOLEAN:
		v.type = TP_VAL_BOOL;
		v.b = lua_toboolean(L, 3);
		break;
	case LUA_TNUMBER:
		if (lua_isinteger(L, 3)) {
			v.type = TP_VAL_INT;
			v.i = lua_tointeger(L, 3);
		} else {
			v.type = TP_VAL_NUM;
			v.d = lua_tonumber(L, 3);
		}
		break;
	case LUA_TSTRING:
		v.type = TP_VAL_STR;
		v.str.s = lua_tolstring(L, 3, &v.str.len);
		if (v.str.len > TP_STATE_VALUE_MAX)
			return luaL_error(L, "map:set: a value of at most %d bytes",
					  TP_STATE_VALUE_MAX);
		break;
	default:
		return luaL_error(L, "map:set: the value is a string, a number or a boolean, not a "
				     "%s",
				  luaL_typename(L, 3));
	}
	tp_state_map_set(h->obj, &k, &v, now_of(h));
	return 0;
}

/* map:get(key). Stack: [-2, +1] */
static int l_map_get(lua_State *L)
{
	struct tp_lua_state_handle *h = check_handle(L, TP_STATE_MAP, "get");
	struct tp_state_key k;
	struct tp_state_value v;

	if (!to_key(L, 2, h, &k, "map:get: key") || !tp_state_map_get(h->obj, &k, now_of(h), &v)) {
		lua_pushnil(L);
		return 1;
	}
	switch (v.type) {
	case TP_VAL_BOOL:
		lua_pushboolean(L, v.b);
		break;
	case TP_VAL_INT:
		lua_pushinteger(L, v.i);
		break;
	case TP_VAL_NUM:
		lua_pushnumber(L, v.d);
		break;
	case TP_VAL_STR:
		lua_pushlstring(L, v.str.s, v.str.len);
		break;
	}
	return 1;
}

/* any:reset(key). Upvalue: the kind. Stack: [-2, +0] */
static int l_reset(lua_State *L)
{
	enum tp_state_kind kind = (enum tp_state_kind)lua_tointeger(L, lua_upvalueindex(1));
	struct tp_lua_state_handle *h = check_handle(L, kind, "reset");
	struct tp_state_key k;

	if (to_key(L, 2, h, &k, "reset: key"))
		tp_state_del(h->obj, &k);
	return 0;
}

/* "counter runs (30s window)". Stack: [-1, +1] */
static int l_tostring(lua_State *L)
{
	struct tp_lua_state_handle *h = lua_touserdata(L, 1);

	lua_pushfstring(L, "%s %s", tp_state_kind_names[h->spec.kind],
			h->name[0] ? h->name : "(not in a rule's state)");
	return 1;
}

void tp_lua_state_open(lua_State *L)
{
	static const luaL_Reg counter[] = {
	    {"add", l_counter_add}, {"count", l_counter_count}, {NULL, NULL}};
	static const luaL_Reg distinct[] = {
	    {"add", l_distinct_add}, {"count", l_distinct_count}, {NULL, NULL}};
	static const luaL_Reg sequence[] = {
	    {"step", l_seq_step}, {"progress", l_seq_progress}, {NULL, NULL}};
	static const luaL_Reg map[] = {{"set", l_map_set}, {"get", l_map_get}, {NULL, NULL}};
	static const luaL_Reg *const methods[TP_STATE_KINDS] = {counter, distinct, sequence, map};
	static const char *const ctors[TP_STATE_KINDS] = {"counter", "distinct", "sequence",
							  "map"};
	int lib = lua_gettop(L);

	for (int kind = 0; kind < TP_STATE_KINDS; kind++) {
		luaL_newmetatable(L, mt_names[kind]);
		lua_newtable(L);
		luaL_setfuncs(L, methods[kind], 0);
		lua_pushinteger(L, kind);
		lua_pushcclosure(L, l_reset, 1);
		lua_setfield(L, -2, "reset");
		if (kind == TP_STATE_MAP) {
			lua_pushinteger(L, kind);
			lua_pushcclosure(L, l_reset, 1);
			lua_setfield(L, -2, "del");
		}
		lua_setfield(L, -2, "__index");
		lua_pushcfunction(L, l_tostring);
		lua_setfield(L, -2, "__tostring");
		lua_pushboolean(L, 0);
		lua_setfield(L, -2, "__metatable");
		lua_pop(L, 1);

		lua_pushinteger(L, kind);
		lua_pushcclosure(L, l_declare, 1);
		lua_setfield(L, lib, ctors[kind]);
	}
	lua_pushcfunction(L, l_process);
	lua_setfield(L, lib, "process");
}

/* ------------------------------------------------------------ binding to rules */

int tp_lua_state_bind(lua_State *L, int idx, struct tp_state_group *g,
		      struct tp_lua_event *binding, struct tp_lua_state_handle **handles, int max,
		      char *err, size_t errlen)
{
	int n = 0;

	idx = lua_absindex(L, idx);
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		struct tp_lua_state_handle *h =
		    lua_type(L, -1) == LUA_TUSERDATA ? lua_touserdata(L, -1) : NULL;
		const char *name;
		size_t len;

		if (lua_type(L, -2) != LUA_TSTRING) {
			snprintf(err, errlen, "state: entries are name = tapio.counter {...} (or "
					      "distinct, sequence, map)");
			lua_pop(L, 2);
			goto fail;
		}
		name = lua_tolstring(L, -2, &len);
		if (!h || lua_rawlen(L, -1) != sizeof(*h) || h->magic != HANDLE_MAGIC) {
			snprintf(err, errlen,
				 "state.%s: not a declaration (tapio.counter, tapio.distinct, "
				 "tapio.sequence or tapio.map { ... })",
				 name);
			lua_pop(L, 2);
			goto fail;
		}
		if (h->obj || h->name[0]) {
			snprintf(err, errlen,
				 "state.%s: this declaration already belongs to another rule "
				 "(state.%s); each rule declares its own",
				 name, h->name);
			lua_pop(L, 2);
			goto fail;
		}
		if (len >= NAME_MAX_LEN || n >= max) {
			snprintf(err, errlen, "state.%s: %s", name,
				 n >= max ? "too many declarations in one rule" : "name too long");
			lua_pop(L, 2);
			goto fail;
		}
		h->obj = tp_state_obj_new(g, name, &h->spec, err, errlen);
		if (!h->obj) {
			lua_pop(L, 2);
			goto fail;
		}
		memcpy(h->name, name, len + 1);
		h->binding = binding;
		handles[n++] = h;
		lua_pop(L, 1);
	}
	return n;
fail:
	/* The group goes with the rule: nothing may point into it. */
	while (n > 0) {
		handles[--n]->obj = NULL;
		handles[n]->name[0] = '\0';
	}
	return -1;
}

void tp_lua_state_rebind(struct tp_lua_state_handle *h, struct tp_state_group *g)
{
	h->obj = tp_state_group_obj(g, h->name);
}

void tp_lua_state_unbind(struct tp_lua_state_handle *h)
{
	h->obj = NULL;
}

struct tp_lua_state_handle *tp_lua_state_find_map(struct tp_lua_state_handle *const *handles,
						  int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (handles[i]->spec.kind == TP_STATE_MAP && !strcmp(handles[i]->name, name))
			return handles[i];
	return NULL;
}

void tp_lua_state_mark_process(struct tp_lua_state_handle *h, uint32_t pid, uint64_t now)
{
	struct tp_state_key k;
	struct tp_state_value v = { .type = TP_VAL_BOOL, .b = true };

	if (!h->obj)
		return;
	tp_state_key_proc(&k, pid);
	tp_state_map_set(h->obj, &k, &v, now);
}

bool tp_lua_state_has_process(struct tp_lua_state_handle *h, uint32_t pid, uint64_t now)
{
	struct tp_state_key k;
	struct tp_state_value v;

	if (!h->obj)
		return false;
	tp_state_key_proc(&k, pid);
	return tp_state_map_get(h->obj, &k, now, &v);
}

bool tp_lua_state_has_str(struct tp_lua_state_handle *h, const char *s, size_t len, uint64_t now)
{
	struct tp_state_key k;
	struct tp_state_value v;

	if (!h->obj || len > TP_STATE_KEY_MAX)
		return false;
	tp_state_key_str(&k, s, len);
	return tp_state_map_get(h->obj, &k, now, &v);
}

bool tp_lua_state_seen(struct tp_lua_state_handle *h, const void *key, size_t len, uint64_t now)
{
	struct tp_state_key k;

	if (!h->obj || len > TP_STATE_KEY_MAX)
		return false;
	tp_state_key_str(&k, key, len);
	return tp_state_map_seen(h->obj, &k, now);
}
