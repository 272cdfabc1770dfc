/*
 * lua/lua_event_names.h - the names e.<name> can read, process-wide: the
 * header fields, every event type's field names (and "<field>_str"), the
 * virtual fields other units register, and the methods. Shared by the units
 * of the event userdata (lua/lua_event*.c); not a public header.
 */
#ifndef TAPIO_LUA_EVENT_NAMES_H
#define TAPIO_LUA_EVENT_NAMES_H

#include <stdbool.h>
#include <stdint.h>

#include <lua.h>

#include "events/event.h"
#include "lua/lua_event.h"

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

enum { M_SET, M_TAG, M_MAX };

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

static inline uint32_t name_slot(const struct tp_lua_names *h, const char *p)
{
	return (uint32_t)(((uintptr_t)p >> 3) * 0x9E3779B97F4A7C15ull >> 32) & h->mask;
}

static inline int32_t name_code(const struct tp_lua_names *h, const char *p)
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
const struct tp_lua_names *tp_lua_names_build(lua_State *L, int idx);

/* Build the process-wide name tables (once; every entry point calls it). */
void tp_lua_names_init(void);
/* The field of type t whose name has index j, or NULL. */
const struct tp_field *tp_lua_names_type_field(const struct tp_event_type *t, unsigned j);
bool tp_lua_names_is_header(const char *name);
/* The index of a field name (of any type), or -1. */
int tp_lua_names_field_index(const char *name);
/* The index of "argv" among the field names. */
int tp_lua_names_argv(void);
/* The getter of virtual field i (registered at startup, before any VM). */
tp_lua_field_fn tp_lua_names_virtual(unsigned i);
/* Its text for templates, or NULL (tp_lua_register_field_text). */
tp_lua_field_text_fn tp_lua_names_virtual_text(unsigned i);
/* Stack: [-0, +1] the name table (name -> CODE(kind, index)) */
void tp_lua_names_push_table(lua_State *L);

#endif
