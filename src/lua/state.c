#include "lua/state.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "util/hash.h"

const char *const tp_state_kind_names[TP_STATE_KINDS] = {"counter", "distinct", "sequence",
							 "map"};

/* What malloc keeps beside each block, for the accounts. */
#define MALLOC_OVERHEAD 16
#define NIL		UINT32_MAX

struct entry {
	struct entry *hnext;	     /* the object's hash chain */
	struct entry *prev, *next;   /* the object's LRU: head = most recent */
	struct entry *gprev, *gnext; /* the store's LRU */
	struct entry *pprev, *pnext; /* the store's pid chain (process keys) */
	struct tp_state_obj *obj;
	uint64_t hash;
	uint64_t touched; /* the latest event time that used it */
	uint32_t size;	  /* bytes accounted, owned allocations included */
	uint16_t keylen;
	uint8_t keytype;
	/* payload (obj->payload bytes, 8-aligned), then the key */
};

struct counter {
	int64_t head; /* bucket index (time / gran) of the newest bucket */
	uint64_t sum;
	uint32_t b[TP_STATE_BUCKETS];
};

struct dvalue {
	uint64_t h;
	uint64_t ts;
	uint32_t prev, next; /* oldest-first list; next also chains free slots */
};

struct dset {
	uint32_t cap; /* values (a power of two); the index has 2 * cap slots */
	uint32_t n;
	uint32_t oldest, newest, free;
	uint32_t *index; /* value number + 1; 0 = empty */
	struct dvalue v[];
};

struct seq {
	uint64_t start;
	uint32_t progress;
};

struct mval {
	uint64_t set_at;
	enum tp_state_value_type type;
	uint32_t len;
	union {
		bool b;
		int64_t i;
		double d;
		char *s;
	};
};

struct tp_state_obj {
	struct tp_state_group *g;
	struct tp_state_obj *next;
	char *name;
	struct tp_state_spec spec;
	uint32_t payload;
	uint64_t gran; /* counter: bucket width */
	struct entry **buckets;
	size_t nbuckets, nkeys;
	struct entry *head, *tail;
};

struct tp_state_group {
	struct tp_state_store *st;
	struct tp_state_group *prev, *next;
	char *name;
	struct tp_state_obj *objs;
	struct tp_state_stats stats;
};

struct tp_state_store {
	struct tp_state_limits lim;
	struct tp_state_stats stats;
	uint64_t now;
	struct entry *head, *tail;
	struct entry **pids;
	size_t npids, npid_buckets;
	struct tp_state_group *groups;
};

/* ------------------------------------------------------------ SipHash-1-3 */

static inline uint64_t rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

#define SIPROUND                                                                                   \
	do {                                                                                       \
		v0 += v1;                                                                          \
		v1 = rotl(v1, 13);                                                                 \
		v1 ^= v0;                                                                          \
		v0 = rotl(v0, 32);                                                                 \
		v2 += v3;                                                                          \
		v3 = rotl(v3, 16);                                                                 \
		v3 ^= v2;                                                                          \
		v0 += v3;                                                                          \
		v3 = rotl(v3, 21);                                                                 \
		v3 ^= v0;                                                                          \
		v2 += v1;                                                                          \
		v1 = rotl(v1, 17);                                                                 \
		v1 ^= v2;                                                                          \
		v2 = rotl(v2, 32);                                                                 \
	} while (0)

static uint64_t siphash13(uint64_t k0, uint64_t k1, const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t v0 = k0 ^ 0x736f6d6570736575ull, v1 = k1 ^ 0x646f72616e646f6dull;
	uint64_t v2 = k0 ^ 0x6c7967656e657261ull, v3 = k1 ^ 0x7465646279746573ull;
	uint64_t m, b = (uint64_t)len << 56;
	size_t i, full = len & ~(size_t)7;

	for (i = 0; i < full; i += 8) {
		memcpy(&m, p + i, 8); /* little-endian hosts (x86-64, arm64) */
		v3 ^= m;
		SIPROUND;
		v0 ^= m;
	}
	for (size_t j = 0; i + j < len; j++)
		b |= (uint64_t)p[i + j] << (8 * j);
	v3 ^= b;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

static inline const void *kbytes(const struct tp_state_key *k)
{
	return k->type == TP_SKEY_STR ? k->bytes : (const void *)&k->v;
}

/* One secret for the process: a group moves between stores at a reload
 * with its hashes (a distinct set keeps only its values' hashes). */
static uint64_t sip_k0, sip_k1;
static pthread_once_t sip_once = PTHREAD_ONCE_INIT;

static void sip_init(void)
{
	uint64_t seed[2];

	if (getrandom(seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed)) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		seed[0] = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uintptr_t)&ts;
		seed[1] = (uint64_t)ts.tv_sec * 0xbf58476d1ce4e5b9ull ^ (uintptr_t)&sip_k0;
	}
	sip_k0 = seed[0];
	sip_k1 = seed[1];
}

/* The last number key hashed on this thread, and its hash: an event's
 * process is the key of every map its rules mark or ask (a connect: five
 * remember maps), one siphash for them all. */
static __thread struct {
	bool set;
	enum tp_state_key_type type;
	size_t len;
	int64_t v;
	uint64_t hash;
} last_key;

static uint64_t hash_key(const struct tp_state_store *st, const struct tp_state_key *k)
{
	(void)st;
	if (k->type == TP_SKEY_STR)
		return siphash13(sip_k0 ^ (uint64_t)k->type, sip_k1, kbytes(k), k->len);
	if (!last_key.set || last_key.type != k->type || last_key.len != k->len ||
	    memcmp(&last_key.v, &k->v, sizeof(k->v))) {
		last_key.hash = siphash13(sip_k0 ^ (uint64_t)k->type, sip_k1, kbytes(k), k->len);
		last_key.type = k->type;
		last_key.len = k->len;
		memcpy(&last_key.v, &k->v, sizeof(k->v));
		last_key.set = true;
	}
	return last_key.hash;
}

uint64_t tp_state_hash_value(const struct tp_state_store *st, const struct tp_state_key *v)
{
	(void)st;
	return siphash13(sip_k1 ^ (uint64_t)v->type, sip_k0, kbytes(v), v->len);
}

/* ------------------------------------------------------------ store */

int tp_state_store_new(struct tp_state_store **out, const struct tp_state_limits *lim)
{
	struct tp_state_store *st = calloc(1, sizeof(*st));

	*out = NULL;
	if (!st)
		return -ENOMEM;
	pthread_once(&sip_once, sip_init);
	if (lim)
		st->lim = *lim;
	*out = st;
	return 0;
}

void tp_state_store_free(struct tp_state_store *st)
{
	if (!st)
		return;
	while (st->groups)
		tp_state_group_free(st->groups);
	free(st->pids);
	free(st);
}

void tp_state_store_set_limits(struct tp_state_store *st, const struct tp_state_limits *lim)
{
	st->lim = *lim;
}

void tp_state_store_stats(const struct tp_state_store *st, struct tp_state_stats *out)
{
	*out = st->stats;
}

uint64_t tp_state_store_now(const struct tp_state_store *st)
{
	return st->now;
}

/* ------------------------------------------------------------ entries */

static inline void *payload(struct entry *e)
{
	return e + 1;
}

static inline const char *key_bytes(const struct entry *e)
{
	return (const char *)(e + 1) + e->obj->payload;
}

static void account(struct tp_state_obj *o, int64_t delta)
{
	o->g->stats.bytes += (uint64_t)delta;
	o->g->st->stats.bytes += (uint64_t)delta;
}

static void lru_unlink(struct tp_state_obj *o, struct entry *e)
{
	struct tp_state_store *st = o->g->st;

	if (e->prev)
		e->prev->next = e->next;
	else
		o->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		o->tail = e->prev;
	if (e->gprev)
		e->gprev->gnext = e->gnext;
	else
		st->head = e->gnext;
	if (e->gnext)
		e->gnext->gprev = e->gprev;
	else
		st->tail = e->gprev;
}

static void lru_push(struct tp_state_obj *o, struct entry *e)
{
	struct tp_state_store *st = o->g->st;

	e->prev = NULL;
	e->next = o->head;
	if (o->head)
		o->head->prev = e;
	else
		o->tail = e;
	o->head = e;
	e->gprev = NULL;
	e->gnext = st->head;
	if (st->head)
		st->head->gprev = e;
	else
		st->tail = e;
	st->head = e;
}

static void touch(struct tp_state_obj *o, struct entry *e, uint64_t now)
{
	struct tp_state_store *st = o->g->st;

	if (now > e->touched)
		e->touched = now;
	if (now > st->now)
		st->now = now;
	if (o->head == e && st->head == e)
		return;
	lru_unlink(o, e);
	lru_push(o, e);
}

static size_t pid_bucket(const struct tp_state_store *st, uint32_t pid)
{
	return (pid * 0x9e3779b1u) & (st->npid_buckets - 1);
}

static uint32_t entry_pid(const struct entry *e)
{
	int64_t v;

	memcpy(&v, key_bytes(e), sizeof(v));
	return (uint32_t)v;
}

static void pid_link(struct tp_state_store *st, struct entry *e)
{
	size_t b;

	if (st->npids >= 2 * st->npid_buckets) {
		size_t n = st->npid_buckets ? 2 * st->npid_buckets : 256;
		struct entry **nb = calloc(n, sizeof(*nb)), *x, *next;
		size_t old = st->npid_buckets;

		if (nb) {
			struct entry **ob = st->pids;

			st->pids = nb;
			st->npid_buckets = n;
			for (size_t i = 0; i < old; i++) {
				for (x = ob[i]; x; x = next) {
					next = x->pnext;
					b = pid_bucket(st, entry_pid(x));
					x->pprev = NULL;
					x->pnext = st->pids[b];
					if (st->pids[b])
						st->pids[b]->pprev = x;
					st->pids[b] = x;
				}
			}
			free(ob);
		}
	}
	if (!st->npid_buckets) { /* no memory for a first table: not indexed */
		e->pprev = e->pnext = NULL;
		return;
	}
	b = pid_bucket(st, entry_pid(e));
	e->pprev = NULL;
	e->pnext = st->pids[b];
	if (st->pids[b])
		st->pids[b]->pprev = e;
	st->pids[b] = e;
	st->npids++;
}

static void pid_unlink(struct tp_state_store *st, struct entry *e)
{
	if (!st->npid_buckets)
		return;
	if (e->pprev)
		e->pprev->pnext = e->pnext;
	else if (st->pids[pid_bucket(st, entry_pid(e))] == e)
		st->pids[pid_bucket(st, entry_pid(e))] = e->pnext;
	else
		return; /* was never linked */
	if (e->pnext)
		e->pnext->pprev = e->pprev;
	st->npids--;
}

static void free_payload(struct tp_state_obj *o, struct entry *e)
{
	if (o->spec.kind == TP_STATE_DISTINCT) {
		free(*(struct dset **)payload(e));
	} else if (o->spec.kind == TP_STATE_MAP) {
		struct mval *m = payload(e);

		if (m->type == TP_VAL_STR)
			free(m->s);
	}
}

static void hash_unlink(struct tp_state_obj *o, struct entry *e)
{
	struct entry **pp = &o->buckets[e->hash & (o->nbuckets - 1)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
}

/* Why an entry goes (for the counts). */
enum gone { GONE_DELETED, GONE_EVICTED, GONE_EXPIRED, GONE_EXITED };

static void entry_free(struct tp_state_obj *o, struct entry *e, enum gone why)
{
	struct tp_state_group *g = o->g;
	struct tp_state_store *st = g->st;

	hash_unlink(o, e);
	lru_unlink(o, e);
	if (e->keytype == TP_SKEY_PROC)
		pid_unlink(st, e);
	o->nkeys--;
	g->stats.keys--;
	st->stats.keys--;
	account(o, -(int64_t)e->size);
	switch (why) {
	case GONE_EVICTED:
		g->stats.evictions++;
		st->stats.evictions++;
		break;
	case GONE_EXPIRED:
		g->stats.expired++;
		st->stats.expired++;
		break;
	case GONE_EXITED:
		g->stats.exited++;
		st->stats.exited++;
		break;
	default:
		break;
	}
	free_payload(o, e);
	free(e);
}

static bool key_equal(const struct entry *e, uint64_t h, const struct tp_state_key *k)
{
	return e->hash == h && e->keytype == k->type && e->keylen == k->len &&
	       !memcmp(key_bytes(e), kbytes(k), k->len);
}

static struct entry *lookup(struct tp_state_obj *o, const struct tp_state_key *k, uint64_t h)
{
	struct entry *e;

	if (!o->nbuckets)
		return NULL;
	for (e = o->buckets[h & (o->nbuckets - 1)]; e; e = e->hnext)
		if (key_equal(e, h, k))
			return e;
	return NULL;
}

static bool expired(const struct tp_state_obj *o, const struct entry *e, uint64_t now)
{
	return now >= e->touched && now - e->touched >= o->spec.window_ns;
}

/* The oldest entry of the group, other than keep. */
static struct entry *group_oldest(struct tp_state_group *g, const struct entry *keep)
{
	struct entry *best = NULL;

	for (struct tp_state_obj *o = g->objs; o; o = o->next) {
		struct entry *e = o->tail;

		if (e == keep)
			e = e->prev;
		if (e && (!best || e->touched < best->touched))
			best = e;
	}
	return best;
}

/* Make room for need more bytes (and one more key of o when new) by evicting
 * least recently used entries, never keep. False when it cannot. */
static bool make_room(struct tp_state_obj *o, uint64_t need, bool new_key,
		      const struct entry *keep)
{
	struct tp_state_group *g = o->g;
	struct tp_state_store *st = g->st;
	struct entry *v;

	if (new_key && o->spec.max_keys) {
		while (o->nkeys >= o->spec.max_keys) {
			v = o->tail == keep ? (keep ? keep->prev : NULL) : o->tail;
			if (!v)
				return false;
			entry_free(v->obj, v, GONE_EVICTED);
		}
	}
	if (st->lim.group_max_bytes) {
		if (need > st->lim.group_max_bytes)
			return false;
		while (g->stats.bytes + need > st->lim.group_max_bytes) {
			v = group_oldest(g, keep);
			if (!v)
				return false;
			entry_free(v->obj, v, GONE_EVICTED);
		}
	}
	if (st->lim.max_bytes) {
		if (need > st->lim.max_bytes)
			return false;
		while (st->stats.bytes + need > st->lim.max_bytes) {
			v = st->tail == keep ? (keep ? keep->gprev : NULL) : st->tail;
			if (!v)
				return false;
			entry_free(v->obj, v, GONE_EVICTED);
		}
	}
	return true;
}

static void grow_buckets(struct tp_state_obj *o)
{
	size_t n = o->nbuckets ? 2 * o->nbuckets : 16;
	struct entry **nb = calloc(n, sizeof(*nb)), *e, *next;

	if (!nb)
		return; /* longer chains, still correct */
	for (size_t i = 0; i < o->nbuckets; i++) {
		for (e = o->buckets[i]; e; e = next) {
			next = e->hnext;
			e->hnext = nb[e->hash & (n - 1)];
			nb[e->hash & (n - 1)] = e;
		}
	}
	free(o->buckets);
	o->buckets = nb;
	o->nbuckets = n;
}

/* A new, zeroed entry for k, or NULL when no room can be made. */
static struct entry *entry_new(struct tp_state_obj *o, const struct tp_state_key *k, uint64_t h,
			       uint64_t now)
{
	size_t size = sizeof(struct entry) + o->payload + k->len;
	uint64_t cost = size + MALLOC_OVERHEAD;
	struct tp_state_store *st = o->g->st;
	struct entry *e;

	if (!make_room(o, cost, true, NULL))
		return NULL;
	if (o->nkeys >= o->nbuckets)
		grow_buckets(o);
	if (!o->nbuckets)
		return NULL;
	e = calloc(1, size);
	if (!e)
		return NULL;
	e->obj = o;
	e->hash = h;
	e->touched = now;
	e->size = (uint32_t)cost;
	e->keylen = (uint16_t)k->len;
	e->keytype = (uint8_t)k->type;
	memcpy((char *)(e + 1) + o->payload, kbytes(k), k->len);
	e->hnext = o->buckets[h & (o->nbuckets - 1)];
	o->buckets[h & (o->nbuckets - 1)] = e;
	lru_push(o, e);
	if (k->type == TP_SKEY_PROC)
		pid_link(st, e);
	o->nkeys++;
	o->g->stats.keys++;
	st->stats.keys++;
	account(o, (int64_t)cost);
	if (now > st->now)
		st->now = now;
	return e;
}

/* The key's entry, touched, or a new one (*created: its payload is zero);
 * NULL when there is no room for one. */
static struct entry *entry_get(struct tp_state_obj *o, const struct tp_state_key *k, uint64_t now,
			       bool *created)
{
	uint64_t h = hash_key(o->g->st, k);
	struct entry *e = lookup(o, k, h);

	*created = !e;
	if (!e)
		return entry_new(o, k, h, now);
	touch(o, e, now);
	return e;
}

static bool key_ok(const struct tp_state_key *k)
{
	return k->len <= TP_STATE_KEY_MAX;
}

/* ------------------------------------------------------------ groups and objects */

struct tp_state_group *tp_state_group_new(struct tp_state_store *st, const char *name)
{
	struct tp_state_group *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->name = strdup(name);
	if (!g->name) {
		free(g);
		return NULL;
	}
	g->st = st;
	g->next = st->groups;
	if (st->groups)
		st->groups->prev = g;
	st->groups = g;
	return g;
}

static void obj_clear(struct tp_state_obj *o)
{
	while (o->head)
		entry_free(o, o->head, GONE_DELETED);
}

static void obj_free(struct tp_state_obj *o)
{
	obj_clear(o);
	free(o->buckets);
	for (uint32_t i = 0; i < o->spec.nsteps; i++)
		free((char *)o->spec.steps[i]);
	free(o->name);
	free(o);
}

void tp_state_group_clear(struct tp_state_group *g)
{
	for (struct tp_state_obj *o = g->objs; o; o = o->next)
		obj_clear(o);
}

static void group_unlink(struct tp_state_group *g)
{
	struct tp_state_store *st = g->st;

	if (g->prev)
		g->prev->next = g->next;
	else
		st->groups = g->next;
	if (g->next)
		g->next->prev = g->prev;
	g->prev = g->next = NULL;
}

void tp_state_group_free(struct tp_state_group *g)
{
	struct tp_state_obj *o, *next;

	if (!g)
		return;
	for (o = g->objs; o; o = next) {
		next = o->next;
		obj_free(o);
	}
	group_unlink(g);
	free(g->name);
	free(g);
}

void tp_state_group_stats(const struct tp_state_group *g, struct tp_state_stats *out)
{
	*out = g->stats;
}

const char *tp_state_group_name(const struct tp_state_group *g)
{
	return g->name;
}

struct tp_state_store *tp_state_group_store(const struct tp_state_group *g)
{
	return g->st;
}


uint64_t tp_state_group_hash(const struct tp_state_group *g)
{
	uint64_t all = 0;

	/* Objects are combined by xor: the declaration's order does not matter. */
	for (const struct tp_state_obj *o = g->objs; o; o = o->next) {
		const struct tp_state_spec *s = &o->spec;
		uint64_t h = TP_FNV1A_INIT;
		uint32_t kind = s->kind;

		h = tp_fnv1a(h, o->name, strlen(o->name) + 1);
		h = tp_fnv1a(h, &kind, sizeof(kind));
		h = tp_fnv1a(h, &s->window_ns, sizeof(s->window_ns));
		h = tp_fnv1a(h, &s->max_keys, sizeof(s->max_keys));
		h = tp_fnv1a(h, &s->max_values, sizeof(s->max_values));
		h = tp_fnv1a(h, &s->nsteps, sizeof(s->nsteps));
		for (uint32_t i = 0; i < s->nsteps; i++)
			h = tp_fnv1a(h, s->steps[i] ? s->steps[i] : "", s->steps[i] ? strlen(s->steps[i]) + 1 : 1);
		all ^= h;
	}
	return all;
}

void tp_state_group_move(struct tp_state_group *g, struct tp_state_store *to)
{
	struct tp_state_store *from = g->st;
	struct tp_state_obj *o;
	struct entry *e;

	if (from == to)
		return;
	/* Take the entries out of the old store's lists and into the new one's,
	 * oldest first so that the new LRU keeps their order. */
	for (o = g->objs; o; o = o->next) {
		for (e = o->tail; e; e = e->prev) {
			if (e->gprev)
				e->gprev->gnext = e->gnext;
			else
				from->head = e->gnext;
			if (e->gnext)
				e->gnext->gprev = e->gprev;
			else
				from->tail = e->gprev;
			if (e->keytype == TP_SKEY_PROC)
				pid_unlink(from, e);
		}
	}
	group_unlink(g);
	from->stats.bytes -= g->stats.bytes;
	from->stats.keys -= g->stats.keys;
	g->st = to;
	g->next = to->groups;
	if (to->groups)
		to->groups->prev = g;
	to->groups = g;
	to->stats.bytes += g->stats.bytes;
	to->stats.keys += g->stats.keys;
	for (o = g->objs; o; o = o->next) {
		for (e = o->tail; e; e = e->prev) {
			e->gprev = NULL;
			e->gnext = to->head;
			if (to->head)
				to->head->gprev = e;
			else
				to->tail = e;
			to->head = e;
			if (e->keytype == TP_SKEY_PROC)
				pid_link(to, e);
		}
	}
}

struct tp_state_obj *tp_state_group_obj(const struct tp_state_group *g, const char *name)
{
	for (struct tp_state_obj *o = g->objs; o; o = o->next)
		if (!strcmp(o->name, name))
			return o;
	return NULL;
}

struct tp_state_obj *tp_state_obj_new(struct tp_state_group *g, const char *name,
				      const struct tp_state_spec *spec, char *err, size_t errlen)
{
	struct tp_state_obj *o;

	if (spec->kind >= TP_STATE_KINDS) {
		snprintf(err, errlen, "%s: unknown kind of state", name);
		return NULL;
	}
	if (!spec->window_ns) {
		snprintf(err, errlen, "%s: the %s needs a time longer than 0", name,
			 tp_state_kind_names[spec->kind]);
		return NULL;
	}
	if (spec->kind == TP_STATE_SEQUENCE &&
	    (spec->nsteps < 2 || spec->nsteps > TP_STATE_MAX_STEPS)) {
		snprintf(err, errlen, "%s: a sequence has 2 to %d steps", name, TP_STATE_MAX_STEPS);
		return NULL;
	}
	if (tp_state_group_obj(g, name)) {
		snprintf(err, errlen, "%s: declared twice", name);
		return NULL;
	}
	o = calloc(1, sizeof(*o));
	if (!o || !(o->name = strdup(name))) {
		free(o);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	o->g = g;
	o->spec = *spec;
	o->spec.nsteps = spec->kind == TP_STATE_SEQUENCE ? spec->nsteps : 0;
	for (uint32_t i = 0; i < TP_STATE_MAX_STEPS; i++)
		o->spec.steps[i] = NULL;
	for (uint32_t i = 0; i < o->spec.nsteps; i++) {
		if (spec->steps[i] && !(o->spec.steps[i] = strdup(spec->steps[i]))) {
			obj_free(o);
			snprintf(err, errlen, "out of memory");
			return NULL;
		}
	}
	if (o->spec.kind == TP_STATE_DISTINCT && !o->spec.max_values)
		o->spec.max_values = 1024;
	if (o->spec.max_values > (1u << 20))
		o->spec.max_values = 1u << 20;
	switch (spec->kind) {
	case TP_STATE_COUNTER:
		o->payload = sizeof(struct counter);
		o->gran = spec->window_ns / TP_STATE_BUCKETS;
		if (!o->gran)
			o->gran = 1;
		break;
	case TP_STATE_DISTINCT:
		o->payload = sizeof(struct dset *);
		break;
	case TP_STATE_SEQUENCE:
		o->payload = sizeof(struct seq);
		break;
	default:
		o->payload = sizeof(struct mval);
		break;
	}
	o->payload = (o->payload + 7) & ~7u;
	o->next = g->objs;
	g->objs = o;
	return o;
}

const struct tp_state_spec *tp_state_obj_spec(const struct tp_state_obj *o)
{
	return &o->spec;
}

const char *tp_state_obj_name(const struct tp_state_obj *o)
{
	return o->name;
}

size_t tp_state_obj_keys(const struct tp_state_obj *o)
{
	return o->nkeys;
}

uint32_t tp_state_obj_step(const struct tp_state_obj *o, const char *name, size_t len)
{
	for (uint32_t i = 0; i < o->spec.nsteps; i++)
		if (o->spec.steps[i] && strlen(o->spec.steps[i]) == len &&
		    !memcmp(o->spec.steps[i], name, len))
			return i + 1;
	return 0;
}

/* ------------------------------------------------------------ counters */

static void counter_advance(struct counter *c, int64_t idx)
{
	if (idx <= c->head)
		return;
	if (idx - c->head >= TP_STATE_BUCKETS) {
		memset(c->b, 0, sizeof(c->b));
		c->sum = 0;
	} else {
		for (int64_t i = c->head + 1; i <= idx; i++) {
			c->sum -= c->b[i & (TP_STATE_BUCKETS - 1)];
			c->b[i & (TP_STATE_BUCKETS - 1)] = 0;
		}
	}
	c->head = idx;
}

uint64_t tp_state_counter_add(struct tp_state_obj *o, const struct tp_state_key *k, uint64_t now,
			      uint64_t n)
{
	struct entry *e;
	struct counter *c;
	int64_t idx = (int64_t)(now / o->gran);
	uint32_t *b;
	bool created;

	if (!key_ok(k))
		return n;
	e = entry_get(o, k, now, &created);
	if (!e)
		return n; /* no room: this event alone */
	if (created)
		((struct counter *)payload(e))->head = idx;
	c = payload(e);
	counter_advance(c, idx);
	if (c->head - idx < TP_STATE_BUCKETS) {
		b = &c->b[idx & (TP_STATE_BUCKETS - 1)];
		if (n > UINT32_MAX - *b)
			n = UINT32_MAX - *b;
		*b += (uint32_t)n;
		c->sum += n;
	}
	return c->sum;
}

uint64_t tp_state_counter_get(struct tp_state_obj *o, const struct tp_state_key *k, uint64_t now)
{
	struct entry *e;
	struct counter *c;

	if (!key_ok(k))
		return 0;
	e = lookup(o, k, hash_key(o->g->st, k));
	if (!e)
		return 0;
	c = payload(e);
	counter_advance(c, (int64_t)(now / o->gran));
	return c->sum;
}

/* ------------------------------------------------------------ distinct values */

static size_t dset_bytes(uint32_t cap)
{
	return sizeof(struct dset) + cap * sizeof(struct dvalue) + 2 * cap * sizeof(uint32_t);
}

static struct dset *dset_new(uint32_t cap)
{
	struct dset *d = calloc(1, dset_bytes(cap));

	if (!d)
		return NULL;
	d->cap = cap;
	d->oldest = d->newest = NIL;
	d->index = (uint32_t *)&d->v[cap];
	for (uint32_t i = 0; i < cap; i++)
		d->v[i].next = i + 1 < cap ? i + 1 : NIL;
	d->free = 0;
	return d;
}

static uint32_t dset_slot(const struct dset *d, uint64_t h, bool *found)
{
	uint32_t mask = 2 * d->cap - 1, i = (uint32_t)h & mask;

	for (;;) {
		uint32_t x = d->index[i];

		if (!x) {
			*found = false;
			return i;
		}
		if (d->v[x - 1].h == h) {
			*found = true;
			return i;
		}
		i = (i + 1) & mask;
	}
}

/* Remove value number vi (its index slot at pos), closing the gap in the
 * linear-probing index by shifting later members back. */
static void dset_remove(struct dset *d, uint32_t vi, uint32_t pos)
{
	uint32_t mask = 2 * d->cap - 1, j = pos, k = pos;
	struct dvalue *v = &d->v[vi];

	d->index[j] = 0;
	for (;;) {
		uint32_t home;

		k = (k + 1) & mask;
		if (!d->index[k])
			break;
		home = (uint32_t)d->v[d->index[k] - 1].h & mask;
		/* Stays when its home lies cyclically in (j, k]. */
		if (j <= k ? (home > j && home <= k) : (home > j || home <= k))
			continue;
		d->index[j] = d->index[k];
		d->index[k] = 0;
		j = k;
	}
	if (v->prev != NIL)
		d->v[v->prev].next = v->next;
	else
		d->oldest = v->next;
	if (v->next != NIL)
		d->v[v->next].prev = v->prev;
	else
		d->newest = v->prev;
	v->next = d->free;
	d->free = vi;
	d->n--;
}

static void dset_remove_oldest(struct dset *d)
{
	bool found;
	uint32_t vi = d->oldest, pos = dset_slot(d, d->v[vi].h, &found);

	dset_remove(d, vi, pos);
}

static void dset_expire(struct dset *d, uint64_t now, uint64_t window)
{
	while (d->oldest != NIL && now >= d->v[d->oldest].ts && now - d->v[d->oldest].ts >= window)
		dset_remove_oldest(d);
}

static void dset_append(struct dset *d, uint32_t vi)
{
	struct dvalue *v = &d->v[vi];

	v->prev = d->newest;
	v->next = NIL;
	if (d->newest != NIL)
		d->v[d->newest].next = vi;
	else
		d->oldest = vi;
	d->newest = vi;
}

/* A copy of d with room for cap values, in the same order. */
static struct dset *dset_grow(const struct dset *d, uint32_t cap)
{
	struct dset *n = dset_new(cap);

	if (!n)
		return NULL;
	for (uint32_t vi = d->oldest; vi != NIL; vi = d->v[vi].next) {
		bool found;
		uint32_t ni = n->free, pos = dset_slot(n, d->v[vi].h, &found);

		n->free = n->v[ni].next;
		n->v[ni].h = d->v[vi].h;
		n->v[ni].ts = d->v[vi].ts;
		n->index[pos] = ni + 1;
		dset_append(n, ni);
		n->n++;
	}
	return n;
}

bool tp_state_distinct_add(struct tp_state_obj *o, const struct tp_state_key *k, uint64_t vhash,
			   uint64_t now, uint64_t *count)
{
	struct entry *e;
	struct dset **dp, *d;
	uint32_t pos, vi;
	bool found, created;

	*count = 1;
	if (!key_ok(k))
		return true;
	e = entry_get(o, k, now, &created);
	if (!e)
		return true;
	dp = payload(e);
	if (!*dp) {
		if (!make_room(o, dset_bytes(4) + MALLOC_OVERHEAD, false, e) ||
		    !(*dp = dset_new(4)))
			return true;
		e->size += (uint32_t)(dset_bytes(4) + MALLOC_OVERHEAD);
		account(o, (int64_t)(dset_bytes(4) + MALLOC_OVERHEAD));
	}
	d = *dp;
	dset_expire(d, now, o->spec.window_ns);
	/* Keep the list in time order: a late event counts as of the newest. */
	if (d->newest != NIL && d->v[d->newest].ts > now)
		now = d->v[d->newest].ts;
	pos = dset_slot(d, vhash, &found);
	if (found) {
		vi = d->index[pos] - 1;
		d->v[vi].ts = now;
		if (d->newest != vi) {
			struct dvalue *v = &d->v[vi];

			if (v->prev != NIL)
				d->v[v->prev].next = v->next;
			else
				d->oldest = v->next;
			d->v[v->next].prev = v->prev;
			dset_append(d, vi);
		}
		*count = d->n;
		return false;
	}
	if (d->n >= o->spec.max_values) {
		dset_remove_oldest(d); /* full: the oldest value goes */
		pos = dset_slot(d, vhash, &found);
	} else if (d->n == d->cap) {
		uint32_t cap = d->cap * 2;
		struct dset *nd = NULL;
		int64_t delta = (int64_t)dset_bytes(cap) - (int64_t)dset_bytes(d->cap);

		if (d->cap < o->spec.max_values && make_room(o, (uint64_t)delta, false, e))
			nd = dset_grow(d, cap);
		if (nd) {
			free(d);
			*dp = d = nd;
			e->size += (uint32_t)delta;
			account(o, delta);
		} else {
			dset_remove_oldest(d); /* full: the oldest value goes */
		}
		pos = dset_slot(d, vhash, &found);
	}
	vi = d->free;
	d->free = d->v[vi].next;
	d->v[vi].h = vhash;
	d->v[vi].ts = now;
	d->index[pos] = vi + 1;
	dset_append(d, vi);
	d->n++;
	*count = d->n;
	return true;
}

uint64_t tp_state_distinct_get(struct tp_state_obj *o, const struct tp_state_key *k, uint64_t now)
{
	struct entry *e;
	struct dset *d;

	if (!key_ok(k))
		return 0;
	e = lookup(o, k, hash_key(o->g->st, k));
	if (!e || !(d = *(struct dset **)payload(e)))
		return 0;
	dset_expire(d, now, o->spec.window_ns);
	return d->n;
}

uint64_t tp_state_obj_hash_value(const struct tp_state_obj *o, const struct tp_state_key *v)
{
	return tp_state_hash_value(o->g->st, v);
}

/* ------------------------------------------------------------ sequences */

static bool seq_live(const struct tp_state_obj *o, const struct seq *s, uint64_t now)
{
	return s->progress && (now < s->start || now - s->start <= o->spec.window_ns);
}

bool tp_state_seq_step(struct tp_state_obj *o, const struct tp_state_key *k, uint32_t step,
		       uint64_t now)
{
	struct entry *e;
	struct seq *s;
	uint64_t h;

	if (!key_ok(k) || step < 1 || step > o->spec.nsteps)
		return false;
	h = hash_key(o->g->st, k);
	e = lookup(o, k, h);
	if (e)
		touch(o, e, now);
	s = e ? payload(e) : NULL;
	if (s && !seq_live(o, s, now))
		s->progress = 0;
	if (step == 1) {
		if (!e && !(e = entry_new(o, k, h, now)))
			return false;
		s = payload(e);
		if (s->progress <= 1) {
			s->start = now;
			s->progress = 1;
		}
		return false;
	}
	if (!s || s->progress < step - 1)
		return false;
	if (step > s->progress)
		s->progress = step;
	if (step < o->spec.nsteps)
		return false;
	entry_free(o, e, GONE_DELETED); /* complete: the key starts over */
	return true;
}

uint32_t tp_state_seq_progress(struct tp_state_obj *o, const struct tp_state_key *k, uint64_t now)
{
	struct entry *e;
	struct seq *s;

	if (!key_ok(k))
		return 0;
	e = lookup(o, k, hash_key(o->g->st, k));
	if (!e)
		return 0;
	s = payload(e);
	return seq_live(o, s, now) ? s->progress : 0;
}

/* ------------------------------------------------------------ maps */

bool tp_state_map_set(struct tp_state_obj *o, const struct tp_state_key *k,
		      const struct tp_state_value *v, uint64_t now)
{
	struct entry *e;
	struct mval *m;
	char *copy = NULL;
	int64_t delta;
	bool created;

	if (!key_ok(k) || (v->type == TP_VAL_STR && v->str.len > TP_STATE_VALUE_MAX))
		return false;
	e = entry_get(o, k, now, &created);
	if (!e)
		return false;
	m = payload(e);
	delta = -(m->type == TP_VAL_STR ? (int64_t)m->len + MALLOC_OVERHEAD : 0);
	if (v->type == TP_VAL_STR) {
		delta += (int64_t)v->str.len + MALLOC_OVERHEAD;
		if (delta > 0 && !make_room(o, (uint64_t)delta, false, e)) {
			entry_free(o, e, GONE_EVICTED);
			return false;
		}
		copy = malloc(v->str.len ? v->str.len : 1);
		if (!copy) {
			entry_free(o, e, GONE_DELETED);
			return false;
		}
		memcpy(copy, v->str.s, v->str.len);
	}
	if (m->type == TP_VAL_STR)
		free(m->s);
	m->type = v->type;
	m->set_at = now;
	switch (v->type) {
	case TP_VAL_BOOL:
		m->b = v->b;
		break;
	case TP_VAL_INT:
		m->i = v->i;
		break;
	case TP_VAL_NUM:
		m->d = v->d;
		break;
	case TP_VAL_STR:
		m->s = copy;
		m->len = (uint32_t)v->str.len;
		break;
	}
	e->size = (uint32_t)((int64_t)e->size + delta);
	account(o, delta);
	return true;
}

bool tp_state_map_seen(struct tp_state_obj *o, const struct tp_state_key *k, uint64_t now)
{
	struct entry *e;
	struct mval *m;
	bool created, held;

	if (!key_ok(k))
		return false;
	e = entry_get(o, k, now, &created);
	if (!e)
		return false;
	m = payload(e); /* a new one's is zero: a false bool */
	held = !created && !(now >= m->set_at && now - m->set_at >= o->spec.window_ns);
	if (m->type == TP_VAL_STR) {
		int64_t delta = -((int64_t)m->len + MALLOC_OVERHEAD);

		free(m->s);
		e->size = (uint32_t)((int64_t)e->size + delta);
		account(o, delta);
	}
	m->type = TP_VAL_BOOL;
	m->b = true;
	m->set_at = now;
	return held;
}

bool tp_state_map_get(struct tp_state_obj *o, const struct tp_state_key *k, uint64_t now,
		      struct tp_state_value *out)
{
	struct entry *e;
	struct mval *m;

	if (!key_ok(k))
		return false;
	e = lookup(o, k, hash_key(o->g->st, k));
	if (!e)
		return false;
	m = payload(e);
	if (now >= m->set_at && now - m->set_at >= o->spec.window_ns) {
		entry_free(o, e, GONE_EXPIRED);
		return false;
	}
	touch(o, e, now);
	out->type = m->type;
	switch (m->type) {
	case TP_VAL_BOOL:
		out->b = m->b;
		break;
	case TP_VAL_INT:
		out->i = m->i;
		break;
	case TP_VAL_NUM:
		out->d = m->d;
		break;
	case TP_VAL_STR:
		out->str.s = m->s;
		out->str.len = m->len;
		break;
	}
	return true;
}

/* ------------------------------------------------------------ keys, exits, sweeps */

void tp_state_del(struct tp_state_obj *o, const struct tp_state_key *k)
{
	struct entry *e;

	if (!key_ok(k))
		return;
	e = lookup(o, k, hash_key(o->g->st, k));
	if (e)
		entry_free(o, e, GONE_DELETED);
}

size_t tp_state_process_exit(struct tp_state_store *st, uint32_t pid)
{
	struct entry *e, *next;
	size_t n = 0;

	if (!st->npids)
		return 0;
	for (e = st->pids[pid_bucket(st, pid)]; e; e = next) {
		next = e->pnext;
		if (entry_pid(e) != pid)
			continue;
		entry_free(e->obj, e, GONE_EXITED);
		n++;
	}
	return n;
}

size_t tp_state_sweep(struct tp_state_store *st, uint64_t now, size_t budget)
{
	struct tp_state_group *g;
	struct tp_state_obj *o;
	size_t n = 0;

	/* Per object, least recently touched first: an object's entries expire
	 * in that order (touched + its time), so each walk stops at the first
	 * live one. */
	for (g = st->groups; g && n < budget; g = g->next) {
		for (o = g->objs; o && n < budget; o = o->next) {
			while (o->tail && n < budget && expired(o, o->tail, now)) {
				entry_free(o, o->tail, GONE_EXPIRED);
				n++;
			}
		}
	}
	if (now > st->now)
		st->now = now;
	return n;
}
