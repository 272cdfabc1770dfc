/*
 * lua/exceptions.h - exceptions to a rule: events the rule never sees,
 * described by field values, matched in C before the rule's when runs (so
 * a stateful rule does not count them either).
 *
 *   exception {
 *     rule = "sensitive_file_opened_for_writing",
 *     comm = { "chef-client", "puppet" },     -- any of them
 *     path = "/etc/sudoers.d/ci-?*",          -- a glob: * and ? match '/' too
 *     parent = { comm = "sshd" },             -- nested: parent, container, k8s
 *     reason = "config management",           -- shown by rules list
 *   }
 *
 * Keys are ANDed, the values of a list ORed. Fields: the header (comm, pid,
 * ppid, tid, uid, gid, type), the events' own fields (path, filename,
 * dport...; "<field>_str" and symbolic names for fields that have them:
 * signal = "SIGKILL"), exe, cmdline (a glob over the arguments joined by
 * spaces), argv (any one argument), env.NAME (a variable of the exec's
 * environment), one_of = { {...}, {...} } (any of the tables, each ANDed),
 * parent (by comm, or by exe when the value has a '/'),
 * parent.comm/.exe/.pid, ancestor (the parent or any ancestor, the same
 * way), container (its id), container.id/.runtime,
 * k8s.namespace/.pod/.container/.pod_uid/.qos, user (a name, resolved to
 * its uid on this node; a name the node does not know never matches).
 * A field that none of the rule's events has is an error at load.
 */
#ifndef TAPIO_LUA_EXCEPTIONS_H
#define TAPIO_LUA_EXCEPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <lua.h>

#include "events/event.h"
#include "events/event_meta.h"

struct tp_exception;

/*
 * Parse the exception table at idx: every key but `rule` and `reason` is a
 * condition. Returns NULL with err filled ("comm: ..."). Does not raise;
 * the table's values are read raw. Stack: [-0, +0]
 */
struct tp_exception *tp_exception_parse(lua_State *L, int idx, const char *file, int line,
					 char *err, size_t errlen);
void tp_exception_free(struct tp_exception *x);

/* Resolve the fields for the rule's event types (types[0..n)). Returns 0,
 * or -EINVAL with err naming the field and what the events have. */
int tp_exception_bind(struct tp_exception *x, const struct tp_event_type *const *types, size_t n,
		      char *err, size_t errlen);

/* Free the caches of answers x's conditions filled (they are made again
 * at their next look-up): what a rule set's inline tests looked up is not
 * what the node's events will. */
void tp_exception_drop_caches(struct tp_exception *x);

/* Does the event (with what enrichment attached in meta) match? */
bool tp_exception_match(const struct tp_exception *x, const struct tp_event *ev,
			const struct tp_event_meta *meta);

/* What its first check costs (0 a number or a flag, more for strings, lists,
 * globs, ancestry, the command line): the cheaper of two to try first. */
int tp_exception_cost(const struct tp_exception *x);

/* Can it match only an event with some key set (a set.<key> condition
 * other than `false`)? The rule engine skips such rules, unchecked, for an
 * event nothing was set on. */
bool tp_exception_needs_set(const struct tp_exception *x);
/* What of the process's context a condition of x needs (container = true,
 * k8s.namespace = "prod": nothing matches a process outside one). */
enum { TP_NEEDS_CONTAINER = 1, TP_NEEDS_K8S = 2 };
unsigned tp_exception_needs_context(const struct tp_exception *x);
/* The key of e:set a condition of x needs set (set = { my_key = true }),
 * the first one; NULL when x has none at its top (one_of's are not). */
const char *tp_exception_set_key(const struct tp_exception *x);
/* A bit-mask condition of x ({ flags = { any = ... } }), else a number it
 * must equal ({ ret = 0 }), on a field of fixed size that events of type t
 * always carry: the rule engine checks it inline, from the record, before
 * anything else (most opens are reads that a write rule's flags turn away;
 * most exec rules want ret = 0), and the full check then skips it. */
struct tp_fast_mask {
	uint16_t off;  /* the field's offset in the record */
	uint8_t size;  /* its size: 1, 2, 4 or 8; 0: no such condition */
	bool all;      /* every bit of mask (else any) */
	bool eq;       /* the field's bits are mask (the number, cut to size) */
	int8_t cond;   /* the condition of x it is (tp_exception_match_but); -1: none */
	uint64_t mask;
};
/* Fills out and returns true when x has one for t. */
bool tp_exception_fast_mask(const struct tp_exception *x, const struct tp_event_type *t,
			    struct tp_fast_mask *out);
/* Every such condition of x for t (at most max, into out; the one
 * tp_exception_fast_mask gives first): each must pass for x to match.
 * Returns how many. */
size_t tp_exception_fast_masks(const struct tp_exception *x, const struct tp_event_type *t,
			       struct tp_fast_mask *out, size_t max);
/* tp_exception_match without condition skip (a tp_fast_mask's cond, checked
 * already; -1: none). */
bool tp_exception_match_but(const struct tp_exception *x, const struct tp_event *ev,
			    const struct tp_event_meta *meta, int skip);

/* Could the event pass the condition m describes? (true when m is none,
 * or the record is too short for the field: the full check decides.) */
static inline bool tp_fast_mask_pass(const struct tp_fast_mask *m, const struct tp_event *ev)
{
	uint64_t u;

	if (!m->size || (uint32_t)m->off + m->size > ev->len)
		return true;
	u = tp_load_uint(ev->rec.bytes + m->off, m->size);
	if (m->eq)
		return u == m->mask;
	return m->all ? (u & m->mask) == m->mask : (u & m->mask) != 0;
}

/*
 * An index key: the string of an event that conditions compare, the comm
 * or a string field (or its base name). The rule engine indexes a type's
 * rules by the one most of them compare (an exec's filename_base): an
 * event then visits only the rules that name its value, and those that
 * do not compare the key at all (rules_index.c).
 */
struct tp_str_key {
	const struct tp_field *field; /* NULL: the comm */
	bool base;		      /* the part after the last '/' */
};

static inline bool tp_str_key_eq(const struct tp_str_key *a, const struct tp_str_key *b)
{
	return a->field == b->field && a->base == b->base;
}

/* The keys x's conditions compare on events of type t by string values
 * alone (no number, bit mask or presence); a one_of counts when every
 * alternative compares the key. Returns how many were put in keys (at
 * most max). */
size_t tp_exception_keys(const struct tp_exception *x, const struct tp_event_type *t,
			 struct tp_str_key *keys, size_t max);
/* What x needs the key to be (its first condition on the key; of a one_of,
 * every alternative's): an event whose key is none of it cannot match x.
 * fn gets each value an index holds (prefix: lit followed by anything),
 * or, for a condition with other values too (suffixes, substrings, globs),
 * the condition itself as eval (lit NULL), for tp_exception_key_eval.
 * Returns false when x has no such condition. */
typedef void (*tp_key_value_fn)(void *ctx, const char *lit, size_t len, bool prefix,
				const void *eval);
bool tp_exception_key_values(const struct tp_exception *x, const struct tp_event_type *t,
			     const struct tp_str_key *key, tp_key_value_fn fn, void *ctx);
/* Does the key's string s (n bytes) pass the condition eval that
 * tp_exception_key_values gave? As a match of the event would decide. */
bool tp_exception_key_eval(const void *eval, const char *s, size_t n);
/* The key's string on the event, or NULL when it has none (a field the
 * record lacks): then no condition on the key holds. */
const char *tp_str_key_get(const struct tp_str_key *key, const struct tp_event *ev);

const char *tp_exception_file(const struct tp_exception *x);
int tp_exception_line(const struct tp_exception *x);
const char *tp_exception_reason(const struct tp_exception *x); /* NULL: none given */
/* "comm=chef-client|puppet path=/etc/cron.d/x" into buf. */
void tp_exception_describe(const struct tp_exception *x, char *buf, size_t len);

#endif
