/*
 * lua/state.h - what rules remember between events, kept in C and bounded:
 * counters over sliding windows, distinct values seen in a window,
 * sequences ("A then B then C within T by the same key") and keyed values
 * with a time to live.
 *
 * A store holds the state of every rule of a set. Each rule that declares
 * state has a group (its memory account); each declared object (a counter,
 * a distinct set, a sequence, a map) holds entries by key. Keys are
 * strings, numbers, booleans or processes; a process key is dropped when
 * the process exits (tp_state_process_exit).
 *
 * Time is the events' time (ns), passed to every call: replays and rule
 * tests with timestamped events behave as the live run did. An event older
 * than what a key has seen counts where it belongs when its bucket is still
 * in the window, and is otherwise ignored.
 *
 * Bounds: an object may cap its keys (max_keys), each group its bytes, the
 * store its bytes. Past a bound the least recently used entry goes (the
 * object's, then the group's oldest, then the store's), counted as an
 * eviction of the group that lost it. Entries whose window has passed are
 * freed when touched and by tp_state_sweep, which callers run between
 * events; they are not evictions.
 *
 * Keys and distinct values are hashed with SipHash-1-3 under a random key
 * (one per process, so groups move between stores): events carry names an attacker chooses, and a hash table they
 * could flood would make every event slow.
 *
 * A store is used by one thread at a time.
 */
#ifndef TAPIO_LUA_STATE_H
#define TAPIO_LUA_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tp_state_kind {
	TP_STATE_COUNTER,  /* events per key in a sliding window */
	TP_STATE_DISTINCT, /* distinct values per key in a sliding window */
	TP_STATE_SEQUENCE, /* steps 1..n per key, all within a time */
	TP_STATE_MAP,	   /* one value per key, for a time to live after it was set */
	TP_STATE_KINDS,
};

extern const char *const tp_state_kind_names[TP_STATE_KINDS];

/* A counter's window is cut in this many buckets: an event leaves the
 * count between window - window/32 and window after it happened. */
#define TP_STATE_BUCKETS   32
#define TP_STATE_MAX_STEPS 16
#define TP_STATE_KEY_MAX   4096
#define TP_STATE_VALUE_MAX 4096 /* a map's string value */

struct tp_state_spec {
	enum tp_state_kind kind;
	uint64_t window_ns;  /* counter, distinct: the window; sequence: first to last
				step; map: time to live after a set */
	uint32_t max_keys;   /* 0: bounded by memory only */
	uint32_t max_values; /* distinct: values kept per key (the oldest go) */
	uint32_t nsteps;     /* sequence: 2..TP_STATE_MAX_STEPS */
	const char *steps[TP_STATE_MAX_STEPS]; /* sequence: step names (may be NULL) */
};

enum tp_state_key_type {
	TP_SKEY_STR = 1,
	TP_SKEY_INT,
	TP_SKEY_NUM,
	TP_SKEY_BOOL,
	TP_SKEY_PROC, /* a process: dropped when it exits */
};

/* A key as a caller sees it (a string is borrowed for the call). Made by
 * the setters below; copying the struct is fine. */
struct tp_state_key {
	enum tp_state_key_type type;
	const void *bytes; /* STR only */
	size_t len;	   /* STR: the string's; others: the bytes of v that count */
	union {
		int64_t i; /* INT, BOOL (0/1), PROC (the pid) */
		double d;
	} v;
};

static inline void tp_state_key_str(struct tp_state_key *k, const char *s, size_t len)
{
	k->type = TP_SKEY_STR;
	k->bytes = s;
	k->len = len;
}
static inline void tp_state_key_int(struct tp_state_key *k, int64_t i)
{
	k->type = TP_SKEY_INT;
	k->v.i = i;
	k->len = sizeof(k->v.i);
}
static inline void tp_state_key_num(struct tp_state_key *k, double d)
{
	k->type = TP_SKEY_NUM;
	k->v.d = d;
	k->len = sizeof(k->v.d);
}
static inline void tp_state_key_bool(struct tp_state_key *k, bool b)
{
	k->type = TP_SKEY_BOOL;
	k->v.i = b;
	k->len = sizeof(k->v.i);
}
static inline void tp_state_key_proc(struct tp_state_key *k, uint32_t pid)
{
	k->type = TP_SKEY_PROC;
	k->v.i = pid;
	k->len = sizeof(k->v.i);
}

/* A map's value. */
enum tp_state_value_type { TP_VAL_BOOL, TP_VAL_INT, TP_VAL_NUM, TP_VAL_STR };
struct tp_state_value {
	enum tp_state_value_type type;
	union {
		bool b;
		int64_t i;
		double d;
		struct {
			const char *s; /* borrowed: valid until the next call on the store */
			size_t len;
		} str;
	};
};

struct tp_state_limits {
	uint64_t max_bytes;	 /* the store; 0: no limit */
	uint64_t group_max_bytes; /* each rule; 0: no limit */
};

struct tp_state_store;
struct tp_state_group;
struct tp_state_obj;

struct tp_state_stats {
	uint64_t bytes;
	uint64_t keys;
	uint64_t evictions; /* entries pushed out by a bound */
	uint64_t expired;   /* entries freed because their window passed */
	uint64_t exited;    /* entries of exited processes */
};

int tp_state_store_new(struct tp_state_store **out, const struct tp_state_limits *lim);
/* Frees the store with every group left in it. */
void tp_state_store_free(struct tp_state_store *st);
void tp_state_store_set_limits(struct tp_state_store *st, const struct tp_state_limits *lim);
void tp_state_store_stats(const struct tp_state_store *st, struct tp_state_stats *out);
/* The latest event time any call passed (ns). */
uint64_t tp_state_store_now(const struct tp_state_store *st);

/* The state of one rule: its objects and its memory account. name is copied. */
struct tp_state_group *tp_state_group_new(struct tp_state_store *st, const char *name);
/* Free the group, its objects and their entries. */
void tp_state_group_free(struct tp_state_group *g);
/* Drop every entry of the group's objects (keeps the objects). */
void tp_state_group_clear(struct tp_state_group *g);
void tp_state_group_stats(const struct tp_state_group *g, struct tp_state_stats *out);
const char *tp_state_group_name(const struct tp_state_group *g);
struct tp_state_store *tp_state_group_store(const struct tp_state_group *g);
/* What was declared (object names, kinds, parameters), order-independent:
 * equal hashes = the same declaration. */
uint64_t tp_state_group_hash(const struct tp_state_group *g);
/* Move an empty-or-not group into another store (entries included). */
void tp_state_group_move(struct tp_state_group *g, struct tp_state_store *to);
/* The group's object of that name, or NULL. */
struct tp_state_obj *tp_state_group_obj(const struct tp_state_group *g, const char *name);

/* Declare an object in the group. name and the spec's strings are copied.
 * Returns NULL with err filled on a bad spec (or no memory). */
struct tp_state_obj *tp_state_obj_new(struct tp_state_group *g, const char *name,
				      const struct tp_state_spec *spec, char *err, size_t errlen);
const struct tp_state_spec *tp_state_obj_spec(const struct tp_state_obj *o);
const char *tp_state_obj_name(const struct tp_state_obj *o);
size_t tp_state_obj_keys(const struct tp_state_obj *o);
/* The step number (1..n) of a sequence's step name, or 0. */
uint32_t tp_state_obj_step(const struct tp_state_obj *o, const char *name, size_t len);

/* Counter: add n at time now; returns the count in the window after it. */
uint64_t tp_state_counter_add(struct tp_state_obj *o, const struct tp_state_key *k, uint64_t now,
			      uint64_t n);
uint64_t tp_state_counter_get(struct tp_state_obj *o, const struct tp_state_key *k, uint64_t now);

/* Distinct: value v (its 64-bit hash: tp_state_hash_value) seen at now.
 * *count gets the distinct values in the window after it; returns true when
 * v was not among them. */
bool tp_state_distinct_add(struct tp_state_obj *o, const struct tp_state_key *k, uint64_t vhash,
			   uint64_t now, uint64_t *count);
uint64_t tp_state_distinct_get(struct tp_state_obj *o, const struct tp_state_key *k, uint64_t now);
uint64_t tp_state_hash_value(const struct tp_state_store *st, const struct tp_state_key *v);
/* The same, through the store of an object. */
uint64_t tp_state_obj_hash_value(const struct tp_state_obj *o, const struct tp_state_key *v);

/*
 * Sequence: step (1..n) happened at now for key. Step 1 starts the key's
 * sequence (again, if it is still at step 1: the time restarts); step i
 * advances a sequence that reached i - 1 within the time since step 1.
 * Returns true when step n completes it (the key starts over).
 */
bool tp_state_seq_step(struct tp_state_obj *o, const struct tp_state_key *k, uint32_t step,
		       uint64_t now);
/* Steps done (0: none, or the time ran out). */
uint32_t tp_state_seq_progress(struct tp_state_obj *o, const struct tp_state_key *k, uint64_t now);

/* Map: set (a string value is copied) or get (false: absent or expired). */
bool tp_state_map_set(struct tp_state_obj *o, const struct tp_state_key *k,
		      const struct tp_state_value *v, uint64_t now);
bool tp_state_map_get(struct tp_state_obj *o, const struct tp_state_key *k, uint64_t now,
		      struct tp_state_value *out);

/*
 * Map: whether the key is held (set within the ttl) and, either way, hold
 * it now with the value true: what `get(k) ~= nil`, then `set(k, true)`
 * do, with one look-up. A string value the key held becomes true.
 */
bool tp_state_map_seen(struct tp_state_obj *o, const struct tp_state_key *k, uint64_t now);

/* Forget the key (any kind). */
void tp_state_del(struct tp_state_obj *o, const struct tp_state_key *k);

/* Drop every entry whose key is that process. Returns how many. */
size_t tp_state_process_exit(struct tp_state_store *st, uint32_t pid);
/* Free up to budget entries whose window has passed at now. Returns how many. */
size_t tp_state_sweep(struct tp_state_store *st, uint64_t now, size_t budget);

#endif
