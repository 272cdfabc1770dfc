/*
 * The rule set's index by event type: a slot per type with the functions
 * of each kind that take it, in load order, and for the rules a prefilter.
 *
 * Most of a type's rules cannot match a given event, and most say so in
 * their match: an inline bit-mask condition (a write rule's open flags,
 * an exec rule's ret = 0) or the value of one string (an exec rule's
 * filename_base = { "nc", "ncat" }). Checked rule by rule, a read's open
 * met ~100 inline conditions and an exec ~60 full matches. The prefilter
 * checks each distinct inline condition once, looks the key's value up
 * once (a hash of the values every rule names, and their prefixes), and
 * keeps, as a bitmap over the slot's rules, those still in the running:
 * only they are visited, in load order, and their full match decides.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lua/rules_internal.h"
#include "util/hash.h"

#define KEYS_MAX 8
/* A type gets a key when at least this many of its rules compare it. */
#define KEY_RULES_MIN 4
/* Look the key up when more of the rules that compare it are left. */
#define KEY_LOOKUP_MIN 3

/* Does rule f's match, for the events of this slot, need a key set? */
static bool needs_set(const struct rule_fn *f, unsigned slot)
{
	if (tp_exception_needs_set(f->match))
		return true;
	for (size_t i = 0; i < f->ntmatch; i++)
		if (type_slot(f->tmatch[i].type) == slot && tp_exception_needs_set(f->tmatch[i].x))
			return true;
	return false;
}

/* Rule f's bit-mask condition for the events of this slot, if it has one. */
static struct tp_fast_mask fast_mask(const struct rule_fn *f, unsigned slot)
{
	struct tp_fast_mask m = {0};

	for (size_t i = 0; i < f->ntmatch; i++)
		if (type_slot(f->tmatch[i].type) == slot &&
		    tp_exception_fast_mask(f->tmatch[i].x, f->tmatch[i].type, &m)) {
			m.cond = -1; /* checked again with the rest of its table */
			return m;
		}
	for (size_t k = 0; f->match && tp_event_type_at(k); k++)
		if (type_slot(tp_event_type_at(k)) == slot &&
		    tp_exception_fast_mask(f->match, tp_event_type_at(k), &m))
			return m;
	return m;
}

static const struct tp_event_type *slot_type(unsigned slot)
{
	const struct tp_event_type *t;

	for (size_t k = 0; (t = tp_event_type_at(k)); k++)
		if (type_slot(t) == slot)
			return t;
	return NULL;
}

static inline void set_bit(uint64_t *b, uint32_t i)
{
	b[i / 64] |= 1ull << (i % 64);
}

static inline void clear_bit(uint64_t *b, uint32_t i)
{
	b[i / 64] &= ~(1ull << (i % 64));
}

static inline bool get_bit(const uint64_t *b, uint32_t i)
{
	return b[i / 64] >> (i % 64) & 1;
}

static uint32_t str_hash(const char *s, size_t n)
{
	return (uint32_t)(tp_hash_ends(s, n) >> 32);
}

/* ------------------------------------------------------------ building */

/* The keys rule f compares on type t (its match and the type's). */
static size_t rule_keys(const struct rule_fn *f, const struct tp_event_type *t,
			struct tp_str_key *keys)
{
	size_t n = tp_exception_keys(f->match, t, keys, KEYS_MAX);

	for (size_t i = 0; i < f->ntmatch && n < KEYS_MAX; i++)
		if (f->tmatch[i].type == t)
			n += tp_exception_keys(f->tmatch[i].x, t, keys + n, KEYS_MAX - n);
	return n;
}

/* The key most of the slot's rules compare, if at least min do. */
static bool pick_key(const struct tp_ruleset *rs, const struct slot_index *ix,
		     const struct tp_event_type *t, size_t min, struct tp_str_key *out)
{
	struct tp_str_key seen[64], keys[KEYS_MAX];
	size_t count[64] = {0}, nseen = 0, best = 0;

	for (uint32_t i = 0; i < ix->n[FN_RULE]; i++) {
		size_t n = rule_keys(&rs->fns[ix->fns[FN_RULE][i]], t, keys);

		for (size_t a = 0; a < n; a++) {
			size_t j = 0;
			bool again = false;

			for (size_t b = 0; b < a; b++) /* a rule counts once per key */
				again |= tp_str_key_eq(&keys[a], &keys[b]);
			if (again)
				continue;
			while (j < nseen && !tp_str_key_eq(&seen[j], &keys[a]))
				j++;
			if (j == nseen) {
				if (nseen == 64)
					continue;
				seen[nseen++] = keys[a];
			}
			count[j]++;
		}
	}
	for (size_t j = 0; j < nseen; j++)
		if (count[j] > count[best])
			best = j;
	if (!nseen || count[best] < min)
		return false;
	*out = seen[best];
	return true;
}

struct key_value {
	const char *s;
	uint32_t len;
	bool prefix;
	uint32_t pos; /* the rule's, in the slot */
};

struct values {
	struct key_value *v;
	size_t n, cap;
	uint32_t pos;
	bool failed;
};

static void add_value(void *ctx, const char *lit, size_t len, bool prefix)
{
	struct values *vs = ctx;

	if (vs->n == vs->cap) {
		size_t cap = vs->cap ? vs->cap * 2 : 256;
		struct key_value *v = realloc(vs->v, cap * sizeof(*v));

		if (!v) {
			vs->failed = true;
			return;
		}
		vs->v = v;
		vs->cap = cap;
	}
	vs->v[vs->n++] = (struct key_value){lit, (uint32_t)len, prefix, vs->pos};
}

static int by_value(const void *a, const void *b)
{
	const struct key_value *x = a, *y = b;
	int c;

	if (x->prefix != y->prefix)
		return x->prefix - y->prefix;
	c = memcmp(x->s, y->s, x->len < y->len ? x->len : y->len);
	if (c)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

/* The key's values, each with the bitmap of the rules that name it. */
static int build_values(struct slot_prefilter *pf, struct values *vs)
{
	size_t nv = 0, ne = 0, np = 0, tsize = 16;

	qsort(vs->v, vs->n, sizeof(*vs->v), by_value);
	for (size_t i = 0; i < vs->n; i++)
		nv += i == 0 || by_value(&vs->v[i - 1], &vs->v[i]) != 0;
	pf->bits = calloc(nv * pf->nwords + 1, sizeof(uint64_t));
	pf->exact = calloc(nv + 1, sizeof(*pf->exact));
	pf->prefix = calloc(nv + 1, sizeof(*pf->prefix));
	if (!pf->bits || !pf->exact || !pf->prefix)
		return -ENOMEM;
	nv = 0;
	for (size_t i = 0; i < vs->n; i++) {
		const struct key_value *kv = &vs->v[i];
		struct pf_value *v;

		if (i == 0 || by_value(&vs->v[i - 1], kv) != 0) {
			v = kv->prefix ? &pf->prefix[np++] : &pf->exact[ne++];
			*v = (struct pf_value){kv->s, kv->len, (uint32_t)(nv++ * pf->nwords)};
		} else {
			v = kv->prefix ? &pf->prefix[np - 1] : &pf->exact[ne - 1];
		}
		set_bit(pf->bits + v->bits, kv->pos);
	}
	pf->nexact = (uint32_t)ne;
	pf->nprefix = (uint32_t)np;
	/* Sorted, a prefix comes after the prefixes of its own (its parents:
	 * the nearest, then its nearest...), each somewhere on the chain of
	 * parents of the one just before it. */
	pf->pparent = calloc(np + 1, sizeof(uint32_t));
	if (!pf->pparent)
		return -ENOMEM;
	for (uint32_t j = 1; j < np; j++) {
		uint32_t k = j; /* k - 1: the candidate */

		while (k && !(pf->prefix[k - 1].len <= pf->prefix[j].len &&
			      !memcmp(pf->prefix[k - 1].s, pf->prefix[j].s, pf->prefix[k - 1].len)))
			k = pf->pparent[k - 1];
		pf->pparent[j] = k;
	}
	while (tsize < 2 * ne)
		tsize *= 2;
	pf->table = calloc(tsize, sizeof(uint32_t));
	if (!pf->table)
		return -ENOMEM;
	pf->tmask = (uint32_t)tsize - 1;
	for (uint32_t i = 0; i < ne; i++) {
		uint32_t h = str_hash(pf->exact[i].s, pf->exact[i].len) & pf->tmask;

		while (pf->table[h])
			h = (h + 1) & pf->tmask;
		pf->table[h] = i + 1;
	}
	return 0;
}

static int build_key(const struct tp_ruleset *rs, struct slot_index *ix,
		     const struct tp_event_type *t)
{
	struct slot_prefilter *pf = &ix->pf;
	struct values vs = {0};
	int r;

	if (!pick_key(rs, ix, t, KEY_RULES_MIN, &pf->key))
		return 0;
	pf->keyed = calloc(pf->nwords, sizeof(uint64_t));
	if (!pf->keyed)
		return -ENOMEM;
	for (uint32_t i = 0; i < ix->n[FN_RULE]; i++) {
		const struct rule_fn *f = &rs->fns[ix->fns[FN_RULE][i]];
		bool keyed;

		vs.pos = i;
		keyed = tp_exception_key_values(f->match, t, &pf->key, add_value, &vs);
		for (size_t j = 0; !keyed && j < f->ntmatch; j++)
			if (f->tmatch[j].type == t)
				keyed = tp_exception_key_values(f->tmatch[j].x, t, &pf->key,
								add_value, &vs);
		if (keyed)
			set_bit(pf->keyed, i);
	}
	r = vs.failed ? -ENOMEM : build_values(pf, &vs);
	free(vs.v);
	pf->has_key = r == 0;
	return r;
}

static bool same_mask(const struct tp_fast_mask *a, const struct tp_fast_mask *b)
{
	return a->off == b->off && a->size == b->size && a->all == b->all && a->eq == b->eq &&
	       a->mask == b->mask;
}

static int build_prefilter(struct tp_ruleset *rs, struct slot_index *ix, unsigned slot)
{
	struct slot_prefilter *pf = &ix->pf;
	uint32_t n = ix->n[FN_RULE];
	const struct tp_event_type *t = slot_type(slot);

	pf->nwords = (n + 63) / 64 ? (n + 63) / 64 : 1;
	pf->all = calloc(pf->nwords, sizeof(uint64_t));
	pf->unset = calloc(pf->nwords, sizeof(uint64_t));
	pf->cand = calloc(pf->nwords, sizeof(uint64_t));
	pf->keep = calloc(pf->nwords, sizeof(uint64_t));
	pf->masks = calloc(n + 1, sizeof(*pf->masks));
	if (!pf->all || !pf->unset || !pf->cand || !pf->keep || !pf->masks)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		const struct tp_fast_mask *m = &ix->fast[FN_RULE][i];
		uint32_t d = 0;

		set_bit(pf->all, i);
		if (!needs_set(&rs->fns[ix->fns[FN_RULE][i]], slot))
			set_bit(pf->unset, i);
		if (!m->size)
			continue;
		while (d < pf->nmasks && !same_mask(&pf->masks[d], m))
			d++;
		if (d == pf->nmasks)
			pf->masks[pf->nmasks++] = *m;
	}
	pf->mask_bits = calloc((size_t)pf->nmasks * pf->nwords + 1, sizeof(uint64_t));
	if (!pf->mask_bits)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t d = 0; d < pf->nmasks && ix->fast[FN_RULE][i].size; d++)
			if (same_mask(&pf->masks[d], &ix->fast[FN_RULE][i]))
				set_bit(pf->mask_bits + (size_t)d * pf->nwords, i);
	return t ? build_key(rs, ix, t) : 0;
}

/* Where each rule is, for its calls. */
static int place_rules(struct tp_ruleset *rs)
{
	for (unsigned slot = 0; slot < TYPE_SLOTS; slot++) {
		struct slot_index *ix = rs->index[slot];

		for (uint32_t i = 0; ix && i < ix->n[FN_RULE]; i++) {
			struct rule_fn *f = &rs->fns[ix->fns[FN_RULE][i]];
			struct rule_slot *v = realloc(f->rslots, (f->nrslots + 1) * sizeof(*v));

			if (!v)
				return -ENOMEM;
			v[f->nrslots++] = (struct rule_slot){slot, i};
			f->rslots = v;
		}
	}
	return 0;
}

int tp_rules_index_build(struct tp_ruleset *rs)
{
	rs->fast_rejects = calloc(rs->nfns ? rs->nfns : 1, sizeof(*rs->fast_rejects));
	if (!rs->fast_rejects)
		return -ENOMEM;
	for (unsigned slot = 0; slot < TYPE_SLOTS; slot++) {
		struct slot_index *ix = NULL;

		for (size_t k = 0; k < rs->nfns; k++) {
			struct rule_fn *f = &rs->fns[k];

			if (!f->enabled || !has_type(f->types, slot))
				continue;
			if (f->kind == FN_RULE && f->level < rs->min_severity)
				continue;
			if (!ix) {
				ix = calloc(1, sizeof(*ix));
				if (!ix)
					return -ENOMEM;
				rs->index[slot] = ix;
				for (int kd = 0; kd < FN_KINDS; kd++) {
					ix->fns[kd] = calloc(rs->nfns, sizeof(uint32_t));
					ix->fast[kd] = calloc(rs->nfns, sizeof(*ix->fast[kd]));
					if (!ix->fns[kd] || !ix->fast[kd])
						return -ENOMEM;
				}
			}
			ix->fast[f->kind][ix->n[f->kind]] = fast_mask(f, slot);
			ix->fns[f->kind][ix->n[f->kind]++] = (uint32_t)k;
		}
		if (ix && build_prefilter(rs, ix, slot) < 0)
			return -ENOMEM;
	}
	return place_rules(rs);
}

void tp_rules_index_free(struct tp_ruleset *rs)
{
	for (unsigned s = 0; s < TYPE_SLOTS; s++) {
		struct slot_index *ix = rs->index[s];

		if (!ix)
			continue;
		for (int kd = 0; kd < FN_KINDS; kd++) {
			free(ix->fns[kd]);
			free(ix->fast[kd]);
		}
		free(ix->pf.all);
		free(ix->pf.unset);
		free(ix->pf.masks);
		free(ix->pf.mask_bits);
		free(ix->pf.keyed);
		free(ix->pf.exact);
		free(ix->pf.prefix);
		free(ix->pf.table);
		free(ix->pf.pparent);
		free(ix->pf.bits);
		free(ix->pf.cand);
		free(ix->pf.keep);
		free(ix);
		rs->index[s] = NULL;
	}
	free(rs->fast_rejects);
	rs->fast_rejects = NULL;
}

/* ------------------------------------------------------------ per event */

/* keep |= the bitmaps of the prefixes s starts with. Those are on the
 * chain of parents of the last prefix sorted at or before s: any string
 * between a prefix of s and s starts with that prefix. */
static void prefix_hits(const struct slot_prefilter *pf, const char *s, size_t n, uint64_t *keep)
{
	uint32_t lo = 0, hi = pf->nprefix, k; /* the last <= s: lo - 1 */
	size_t common = 0;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		const struct pf_value *v = &pf->prefix[mid];
		int c = memcmp(v->s, s, v->len < n ? v->len : n);

		if (c < 0 || (c == 0 && v->len <= n))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return;
	k = lo; /* index + 1 */
	while (common < n && common < pf->prefix[k - 1].len &&
	       pf->prefix[k - 1].s[common] == s[common])
		common++;
	for (; k; k = pf->pparent[k - 1]) {
		const struct pf_value *v = &pf->prefix[k - 1];

		if (v->len > common)
			continue;
		for (uint32_t w = 0; w < pf->nwords; w++)
			keep[w] |= pf->bits[v->bits + w];
	}
}

/* keep |= the bitmaps of the key values s matches. */
static void key_hits(const struct slot_prefilter *pf, const char *s, uint64_t *keep)
{
	size_t n = strlen(s);
	uint32_t h;

	if (pf->nexact) {
		h = str_hash(s, n) & pf->tmask;
		for (uint32_t e; (e = pf->table[h]); h = (h + 1) & pf->tmask) {
			const struct pf_value *v = &pf->exact[e - 1];

			if (v->len == n && !memcmp(v->s, s, n)) {
				for (uint32_t w = 0; w < pf->nwords; w++)
					keep[w] |= pf->bits[v->bits + w];
				break;
			}
		}
	}
	if (pf->nprefix)
		prefix_hits(pf, s, n, keep);
}

/* c &= the rules the event's inline conditions and key leave. */
static void narrow(const struct slot_prefilter *pf, const struct tp_event *ev, uint64_t *c,
		   uint64_t *keep)
{
	const char *s;
	unsigned left;

	for (uint32_t d = 0; d < pf->nmasks; d++) {
		const uint64_t *b = pf->mask_bits + (size_t)d * pf->nwords;

		if (tp_fast_mask_pass(&pf->masks[d], ev))
			continue;
		for (uint32_t w = 0; w < pf->nwords; w++)
			c[w] &= ~b[w];
	}
	if (!pf->has_key)
		return;
	/* Left by the inline conditions, a few rules that compare the key are
	 * cheaper visited (each condition keeps its own cache of strings)
	 * than the look-up (a read's open: 2 of the 11 that name a path). */
	left = 0;
	for (uint32_t w = 0; w < pf->nwords && left <= KEY_LOOKUP_MIN; w++)
		for (uint64_t x = c[w] & pf->keyed[w]; x && left <= KEY_LOOKUP_MIN; x &= x - 1)
			left++; /* no popcnt instruction in a generic build */
	if (left <= KEY_LOOKUP_MIN)
		return;
	for (uint32_t w = 0; w < pf->nwords; w++)
		keep[w] = ~pf->keyed[w];
	s = tp_str_key_get(&pf->key, ev);
	if (s)
		key_hits(pf, s, keep);
	for (uint32_t w = 0; w < pf->nwords; w++)
		c[w] &= keep[w];
}

const uint64_t *tp_rules_candidates(struct slot_index *ix, const struct tp_event *ev, bool kv)
{
	struct slot_prefilter *pf = &ix->pf;

	pf->seen[kv]++;
	memcpy(pf->cand, kv ? pf->all : pf->unset, pf->nwords * sizeof(uint64_t));
	narrow(pf, ev, pf->cand, pf->keep);
	return pf->cand;
}

bool tp_rules_index_admits(struct tp_ruleset *rs, const struct rule_fn *f,
			   const struct tp_event *ev, bool kv)
{
	unsigned slot = type_slot(ev->type);
	struct slot_prefilter *pf;

	for (uint32_t i = 0; i < f->nrslots; i++) {
		if (f->rslots[i].slot != slot)
			continue;
		/* The slot's scratch, as an event would use it (no count). */
		pf = &rs->index[slot]->pf;
		memcpy(pf->cand, kv ? pf->all : pf->unset, pf->nwords * sizeof(uint64_t));
		narrow(pf, ev, pf->cand, pf->keep);
		return get_bit(pf->cand, f->rslots[i].pos);
	}
	return false;
}

/* ------------------------------------------------------------ counts */

uint64_t tp_rules_fn_calls(const struct tp_ruleset *rs, size_t k)
{
	const struct rule_fn *f = &rs->fns[k];
	uint64_t n = f->calls_base;

	if (f->kind != FN_RULE)
		return n + f->calls + (rs->fast_rejects ? rs->fast_rejects[k] : 0);
	/* Every event that reached the slot's rules while f was in them. */
	for (uint32_t i = 0; i < f->nrslots; i++) {
		const struct slot_prefilter *pf = &rs->index[f->rslots[i].slot]->pf;
		uint32_t pos = f->rslots[i].pos;

		if (get_bit(pf->all, pos))
			n += pf->seen[1] + (get_bit(pf->unset, pos) ? pf->seen[0] : 0);
	}
	return n;
}

void tp_rules_index_quarantine(struct tp_ruleset *rs, size_t k)
{
	struct rule_fn *f = &rs->fns[k];

	if (f->kind == FN_RULE) {
		/* Out of every slot's running; its calls so far are kept. */
		uint64_t calls = tp_rules_fn_calls(rs, k);

		for (uint32_t i = 0; i < f->nrslots; i++) {
			struct slot_prefilter *pf = &rs->index[f->rslots[i].slot]->pf;
			uint32_t pos = f->rslots[i].pos;

			clear_bit(pf->all, pos);
			clear_bit(pf->unset, pos);
		}
		f->calls_base = calls;
		return;
	}
	for (unsigned s = 0; s < TYPE_SLOTS; s++) {
		struct slot_index *ix = rs->index[s];

		for (uint32_t i = 0; ix && i < ix->n[f->kind]; i++)
			if (ix->fns[f->kind][i] == k)
				ix->fast[f->kind][i].size = 0;
	}
}
