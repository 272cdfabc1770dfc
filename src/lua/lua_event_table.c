/*
 * Synthetic events built from Lua tables (the inline tests of rules): the
 * values are written into a record like the kernel's, which then goes
 * through the decoder.
 */
#include "lua/lua_event.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <lauxlib.h>

#include "events/decode.h"
#include "lua/lua_event_names.h"

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

	if (f->present_mask) { /* a conditional field given: it is present */
		uint32_t cond;

		memcpy(&cond, rec + f->present_offset, 4);
		cond |= f->present_mask;
		memcpy(rec + f->present_offset, &cond, 4);
	}

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
	case TP_FK_ENV: {
		int t = lua_absindex(L, vidx);
		uint32_t used = 0;

		if (lua_type(L, t) != LUA_TTABLE)
			luaL_error(L, "test event: '%s' must be a table of names to strings", f->name);
		lua_pushnil(L);
		while (lua_next(L, t)) {
			const char *k, *v;
			size_t kn, vn;

			if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
				luaL_error(L, "test event: '%s' must be a table of names to strings",
					   f->name);
			k = lua_tolstring(L, -2, &kn);
			v = lua_tolstring(L, -1, &vn);
			if (used + kn + vn + 2 > f->size)
				luaL_error(L, "test event: '%s' holds more than %u bytes", f->name,
					   (unsigned)f->size);
			memcpy(p + used, k, kn);
			p[used + kn] = '=';
			memcpy(p + used + kn + 1, v, vn);
			p[used + kn + 1 + vn] = '\0';
			used += (uint32_t)(kn + vn + 2);
			lua_pop(L, 1);
		}
		put_uint(rec + f->aux, 4, used);
		break;
	}
	default:
		put_uint(p, f->size, field_number(L, vidx, f));
		break;
	}
	/* A field given in a test event is present: raise its condition. */
	if (f->present_mask && f->present_offset != f->offset)
		put_uint(rec + f->present_offset, 4,
			 get_uint(rec + f->present_offset, 4) | f->present_mask);
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

	tp_lua_names_init();
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
		} else if (tp_lua_names_is_header(key)) {
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
		} else if ((j = tp_lua_names_field_index(key)) >= 0) {
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
