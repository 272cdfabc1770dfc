/*
 * lua/lua_event.h - the decoded event as Lua sees it: one reused userdata
 * per VM whose fields are read lazily through a C __index over the
 * descriptor tables of event.h. No table is built per event: a value read
 * twice in one binding is kept in one reused cache table (lua_event.c).
 *
 * Fields: the header (type, category, ts, cpu, pid, tid, ppid, uid, gid,
 * comm, cgroup_id, cgroup_v1_id), the type's own fields by name (argv is a
 * table of strings, addresses are strings), "<field>_str" for symbolic
 * values exactly as in the JSON output, importance (once scored, else nil),
 * argv on every type (a type without its own reads the process's from the
 * enrichment, meta->proc, as JSON shows it), cmdline (argv joined by
 * spaces; not in JSON),
 * virtual fields registered by other units (tp_lua_register_field), and
 * the keys set by e:set. A field the event does not have reads as nil.
 * Methods: e:set(key, value) and e:tag(text) add to the event's kv and
 * tags (struct tp_event_meta), which every output renders.
 *
 * The userdata is bound to an event only while the engine runs Lua for it;
 * used at any other time (kept in a table and read later) it raises.
 */
#ifndef TAPIO_LUA_EVENT_H
#define TAPIO_LUA_EVENT_H

#include <stdbool.h>
#include <stddef.h>

#include <lua.h>

#include "events/event.h"
#include "events/event_meta.h"
#include "util/buf.h"

/*
 * A virtual field getter: push the value of the field for ev (meta carries
 * what earlier stages attached, e.g. meta->proc) and return 1, or push
 * nothing and return 0 for nil. It runs inside a protected call and may
 * raise. It may push a table or a userdata of its own for nested fields
 * (e.parent.comm). Stack: [-0, +(0|1)]
 */
typedef int (*tp_lua_field_fn)(lua_State *L, const struct tp_event *ev,
			       const struct tp_event_meta *meta);

/*
 * Make e.<name> read through fn in every VM created afterwards: register at
 * startup, before the rule engine loads. name: [a-z_][a-z0-9_]*, not a
 * header or event field, not taken. Returns 0, -EEXIST, -EINVAL or -ENOSPC.
 */
int tp_lua_register_field(const char *name, tp_lua_field_fn fn);

/*
 * A virtual field as an output template writes it, without Lua: append the
 * text of e.<name>.<sub[0]>... for ev (a string as it is, an integer in
 * decimal) and return 1; return 0 when the value is nil; -1 when fn does
 * not know that path (the template then reads it through Lua). It must
 * give what the Lua getter gives, must not raise, and runs outside Lua.
 */
typedef int (*tp_lua_field_text_fn)(const struct tp_event *ev, const struct tp_event_meta *meta,
				    const char *const *sub, size_t nsub, struct tp_buf *out);

/* Give registered virtual field name its template text. Returns 0,
 * -ENOENT (not registered) or -EINVAL. */
int tp_lua_register_field_text(const char *name, tp_lua_field_text_fn fn);

/* True if name is a header field, a field (or "<field>_str") of type t (of
 * any type when t is NULL), or a registered virtual field. */
bool tp_lua_event_has_field(const struct tp_event_type *t, const char *name);

#define TP_LUA_KV_MAX	32
#define TP_LUA_TAGS_MAX 32
#define TP_LUA_ARENA	8192

/* Where e:set and e:tag land for one event: meta->kv / meta->tags point
 * here afterwards. Strings are copied into the arena. */
struct tp_lua_sink {
	struct tp_kv kv[TP_LUA_KV_MAX];
	size_t nkv;
	const char *tags[TP_LUA_TAGS_MAX];
	size_t ntags;
	size_t used;
	char arena[TP_LUA_ARENA];
};

/* Start a sink for one event, keeping what earlier stages put in meta.
 * Returns false if that alone does not fit. */
bool tp_lua_sink_begin(struct tp_lua_sink *s, const struct tp_event_meta *meta);
/* Point meta->kv and meta->tags at the sink. */
void tp_lua_sink_end(struct tp_lua_sink *s, struct tp_event_meta *meta);
/* A copy of p[0..n) and a NUL in the sink's arena, or NULL when full. */
const char *tp_lua_sink_copy(struct tp_lua_sink *s, const char *p, size_t n);
/* What e:set(k, v) does for a string v, from C (an enrich's set = {...}):
 * 0, -EMLINK (the event has its most keys) or -ENOSPC (its most bytes). */
int tp_lua_sink_set_str(struct tp_lua_sink *s, const char *k, const char *v, size_t vlen);
/* Whether e:set may set key k (a name, not a field of any event nor a key
 * the outputs write); else false with why. */
bool tp_lua_set_key_ok(lua_State *L, const char *k, char *why, size_t whylen);

struct tp_lua_names;

/* What the reused userdata points at. The engine binds it around its calls. */
struct tp_lua_event {
	const struct tp_event *ev; /* NULL: not bound, every access raises */
	struct tp_event_meta *meta;
	struct tp_lua_sink *sink;	  /* NULL: e:set / e:tag raise */
	int extra;			  /* test events: registry ref of a table read for names
					   * that are not header or type fields; else LUA_NOREF */
	const struct tp_lua_names *names; /* the VM's name -> field map (set by open) */
	unsigned ncached;		  /* field values kept for this binding (lua_event.c) */
	/* The argv and env views kept across events (lua_event.c, push_list):
	 * the hash of each one's bytes, 0 for none. */
	uint64_t list_hash[16];
};

/* Create the metatable and the reused userdata in the VM of L. Use it as a
 * protected function (tp_lua_cpcall): it raises on memory. Stack: [-0, +0] */
int tp_lua_event_open(lua_State *L);
/* The binding of the VM's reused userdata (stable while the VM lives). */
struct tp_lua_event *tp_lua_event_binding(lua_State *L);
/* Forget the field values kept for the binding (a field read twice in one
 * binding is pushed once): call when the binding changes, or what it points
 * at (the event, meta->proc). Never raises. Stack: [-0, +0] */
void tp_lua_event_forget(lua_State *L, struct tp_lua_event *b);
/* Push the reused userdata. Never raises. Stack: [-0, +1] */
void tp_lua_event_push(lua_State *L);

/* What e.<name> is (a header, a type's field, "<field>_str", a virtual
 * field), as a code for tp_lua_event_text, or -1 (anything else: e:set
 * keys, methods). Resolved once, when an output template compiles. */
int32_t tp_lua_event_name_code(const char *name);

/*
 * The text of e.<path[0]>.<path[1]>... for the event bound to b, written
 * without Lua exactly as an output template renders the Lua value (a
 * string as it is, an integer in decimal, a mode in octal, argv joined by
 * spaces): 1 when appended to out, 0 when the value is nil, -1 when it
 * is not known here (tables, e:set keys, test events' extras,
 * importance...): read it through Lua then. code: tp_lua_event_name_code
 * of path[0]. Never raises.
 */
int tp_lua_event_text(const struct tp_lua_event *b, int32_t code, const char *const *path,
		      size_t npath, struct tp_buf *out);

/*
 * Build a synthetic event from the table at idx (rule tests): type (a name)
 * is required; header and type fields are written into the record (argv as a
 * list, addresses as text, symbolic fields by number or name), then the
 * record goes through the decoder like a kernel record. Returns a registry
 * ref of a table with the other keys (container = {...}, exe...), which
 * the userdata reads for names that are not record fields (b->extra).
 * Raises with a message naming the offending key. Stack: [-0, +0]
 */
int tp_lua_event_from_table(lua_State *L, int idx, struct tp_event *ev);

#endif
