/*
 * The rule set's index by event type: a slot per type with the functions
 * of each kind that take it, in load order, and for the rules and enrich
 * functions a prefilter.
 *
 * Most of a type's rules cannot match a given event, and most say so in
 * their match: an inline bit-mask condition (a write rule's open flags,
 * an exec rule's ret = 0) or the value of one string (an exec rule's
 * filename_base = { "nc", "ncat" }). Checked rule by rule, a read's open
 * met ~100 inline conditions and an exec ~60 full matches. The prefilter
 * checks each distinct inline condition once, looks up the strings the
 * rules compare most (up to PF_KEYS: an open's path, its base name and
 * its comm), each once (a hash of the values every rule names, and their
 * prefixes; a condition with other values, such as suffixes and globs,
 * is evaluated on the string), and keeps, as a bitmap over the slot's
 * rules and enrich functions, those still in the running: only they are
 * visited, in load order, and their full match decides. A key is looked
 * up only while a function that compares it is left, and each key
 * remembers its last PF_CACHE_N strings with the answers found for them:
 * the same paths and names come back, and a remembered look-up costs less
 * than visiting one function (~130 instructions against 200-400).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "events/proc_ctx.h"
#include "lua/rules_internal.h"
#include "util/hash.h"

#define KEYS_MAX 8
/* The inline conditions of one rule the prefilter checks. */
#define RULE_MASKS_MAX 4
/* The recent look-ups a key keeps (a power of two), PF_CACHE_WAYS to a
 * set, the least recently used one replaced (a node's few dozen paths
 * share slots of a direct-mapped cache, and two or three that alternate
 * would miss every time), and the longest string it keeps: longer ones
 * are looked up every time. */
#define PF_CACHE_N    256
#define PF_CACHE_WAYS 4
#define PF_CACHE_KEY  119

/* The cache: the strings' hashes (a set's four in one line, compared
 * before any string), when each was last hit (pk->cclock), then the
 * entries: length and bytes, then the bitmaps (pk->cstride bytes each):
 * the rules kept and those whose evals were decided, then, for a key
 * whose base name is a key too (an open's path and path_base), the same
 * two for the base name of the string: one look-up answers both. */
struct pf_cached {
	uint8_t len; /* 0: empty */
	char s[PF_CACHE_KEY];
	uint64_t kept[];
};

static inline uint64_t *cache_tags(const struct pf_key *pk)
{
	return (uint64_t *)pk->cache;
}

static inline uint64_t *cache_stamps(const struct pf_key *pk)
{
	return (uint64_t *)(pk->cache + PF_CACHE_N * sizeof(uint64_t));
}

static inline struct pf_cached *cache_entry(const struct pf_key *pk, uint32_t i)
{
	return (struct pf_cached *)(pk->cache + PF_CACHE_N * 2 * sizeof(uint64_t) +
				    (size_t)i * pk->cstride);
}

static const struct tp_event_type *slot_type(unsigned slot)
{
	const struct tp_event_type *t;

	for (size_t k = 0; (t = tp_event_type_at(k)); k++)
		if (type_slot(t) == slot)
			return t;
	return NULL;
}

/* Function f's conditions for the events of this slot's type alone (its
 * match's table under the type's name), or NULL: a slot is one type. */
static const struct rule_type_match *slot_tmatch(const struct rule_fn *f, unsigned slot)
{
	for (size_t i = 0; i < f->ntmatch; i++)
		if (type_slot(f->tmatch[i].type) == slot)
			return &f->tmatch[i];
	return NULL;
}

/* Does rule f's match, for the events of this slot, need a key set? */
static bool needs_set(const struct rule_fn *f, unsigned slot)
{
	const struct rule_type_match *tm = slot_tmatch(f, slot);

	return tp_exception_needs_set(f->match) || (tm && tp_exception_needs_set(tm->x));
}

/* The key of e:set rule f's match needs for the events of this slot, when
 * one of its conditions names one; NULL otherwise. */
static const char *set_key(const struct rule_fn *f, unsigned slot)
{
	const struct rule_type_match *tm = slot_tmatch(f, slot);
	const char *k = tp_exception_set_key(f->match);

	return k || !tm ? k : tp_exception_set_key(tm->x);
}

/* What of the process's context function f's match needs for the events
 * of this slot (TP_NEEDS_*). */
static unsigned needs_context(const struct rule_fn *f, unsigned slot)
{
	const struct rule_type_match *tm = slot_tmatch(f, slot);

	return tp_exception_needs_context(f->match) | (tm ? tp_exception_needs_context(tm->x) : 0);
}

/* Rule f's bit-mask condition for the events of this slot, if it has one. */
static struct tp_fast_mask fast_mask(const struct rule_fn *f, unsigned slot)
{
	const struct rule_type_match *tm = slot_tmatch(f, slot);
	const struct tp_event_type *t = slot_type(slot);
	struct tp_fast_mask m = {0};

	if (tm && tp_exception_fast_mask(tm->x, tm->type, &m)) {
		m.cond = -1; /* checked again with the rest of its table */
		return m;
	}
	if (f->match && t)
		tp_exception_fast_mask(f->match, t, &m);
	return m;
}

/* Every inline condition rule f's match has for the events of this slot
 * (at most max; the rule must pass them all). */
static size_t rule_masks(const struct rule_fn *f, unsigned slot, struct tp_fast_mask *out,
			 size_t max)
{
	const struct rule_type_match *tm = slot_tmatch(f, slot);
	const struct tp_event_type *t = slot_type(slot);
	size_t n = 0;

	if (tm)
		n += tp_exception_fast_masks(tm->x, tm->type, out, max);
	if (f->match && t && n < max)
		n += tp_exception_fast_masks(f->match, t, out + n, max - n);
	return n;
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

/* The functions the prefilter takes: the slot's rules, then its enrich
 * functions (a read's open meets the credential enrich's path list). */
static uint32_t pf_count(const struct slot_index *ix)
{
	return ix->n[FN_RULE] + ix->n[FN_ENRICH];
}

static const struct rule_fn *pf_fn(const struct tp_ruleset *rs, const struct slot_index *ix,
				   uint32_t i)
{
	if (i < ix->n[FN_RULE])
		return &rs->fns[ix->fns[FN_RULE][i]];
	return &rs->fns[ix->fns[FN_ENRICH][i - ix->n[FN_RULE]]];
}

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

/* The keys the slot's rules compare, the most compared first (at most
 * max). Returns how many. */
static size_t pick_keys(const struct tp_ruleset *rs, const struct slot_index *ix,
			const struct tp_event_type *t, struct tp_str_key *out, size_t max)
{
	struct tp_str_key seen[64], keys[KEYS_MAX];
	size_t count[64] = {0}, nseen = 0, nout = 0;

	for (uint32_t i = 0; i < pf_count(ix); i++) {
		size_t n = rule_keys(pf_fn(rs, ix, i), t, keys);

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
	while (nout < max) {
		size_t best = nseen;

		for (size_t j = 0; j < nseen; j++)
			if (count[j] && (best == nseen || count[j] > count[best]))
				best = j;
		if (best == nseen)
			break;
		out[nout++] = seen[best];
		count[best] = 0;
	}
	return nout;
}

struct key_value {
	const char *s;
	uint32_t len;
	bool prefix;
	uint32_t pos;	  /* the rule's, in the slot */
	const void *eval; /* a condition to evaluate instead (s NULL) */
};

struct values {
	struct key_value *v;
	size_t n, cap;
	uint32_t pos;
	bool failed;
};

static void add_value(void *ctx, const char *lit, size_t len, bool prefix, const void *eval)
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
	vs->v[vs->n++] = (struct key_value){lit, (uint32_t)len, prefix, vs->pos, eval};
}

/* The conditions to evaluate out of vs, into pk->evals (in rule order, as
 * the rules were walked); vs keeps the values. */
static int take_evals(const struct slot_prefilter *pf, struct pf_key *pk, struct values *vs)
{
	size_t n = 0, ne = 0;

	for (size_t i = 0; i < vs->n; i++)
		ne += vs->v[i].eval != NULL;
	pk->evals = calloc(ne + 1, sizeof(*pk->evals));
	pk->evalmask = calloc(pf->nwords, sizeof(uint64_t));
	if (!pk->evals || !pk->evalmask)
		return -ENOMEM;
	for (size_t i = 0; i < vs->n; i++) {
		if (!vs->v[i].eval) {
			vs->v[n++] = vs->v[i];
			continue;
		}
		pk->evals[pk->nevals++] = (struct pf_eval){vs->v[i].pos, vs->v[i].eval};
		set_bit(pk->evalmask, vs->v[i].pos);
	}
	vs->n = n;
	return 0;
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
static int build_values(const struct slot_prefilter *pf, struct pf_key *pk, struct values *vs)
{
	size_t nv = 0, ne = 0, np = 0, tsize = 16;

	if (vs->n) /* none: a key whose conditions are all evaluated */
		qsort(vs->v, vs->n, sizeof(*vs->v), by_value);
	for (size_t i = 0; i < vs->n; i++)
		nv += i == 0 || by_value(&vs->v[i - 1], &vs->v[i]) != 0;
	pk->bits = calloc(nv * pf->nwords + 1, sizeof(uint64_t));
	pk->exact = calloc(nv + 1, sizeof(*pk->exact));
	pk->prefix = calloc(nv + 1, sizeof(*pk->prefix));
	if (!pk->bits || !pk->exact || !pk->prefix)
		return -ENOMEM;
	nv = 0;
	for (size_t i = 0; i < vs->n; i++) {
		const struct key_value *kv = &vs->v[i];
		struct pf_value *v;

		if (i == 0 || by_value(&vs->v[i - 1], kv) != 0) {
			v = kv->prefix ? &pk->prefix[np++] : &pk->exact[ne++];
			*v = (struct pf_value){kv->s, kv->len, (uint32_t)(nv++ * pf->nwords)};
		} else {
			v = kv->prefix ? &pk->prefix[np - 1] : &pk->exact[ne - 1];
		}
		set_bit(pk->bits + v->bits, kv->pos);
	}
	pk->nexact = (uint32_t)ne;
	pk->nprefix = (uint32_t)np;
	/* Sorted, a prefix comes after the prefixes of its own (its parents:
	 * the nearest, then its nearest...), each somewhere on the chain of
	 * parents of the one just before it. */
	pk->pparent = calloc(np + 1, sizeof(uint32_t));
	if (!pk->pparent)
		return -ENOMEM;
	for (uint32_t j = 1; j < np; j++) {
		uint32_t k = j; /* k - 1: the candidate */

		while (k && !(pk->prefix[k - 1].len <= pk->prefix[j].len &&
			      !memcmp(pk->prefix[k - 1].s, pk->prefix[j].s, pk->prefix[k - 1].len)))
			k = pk->pparent[k - 1];
		pk->pparent[j] = k;
	}
	while (tsize < 2 * ne)
		tsize *= 2;
	pk->table = calloc(tsize, sizeof(uint32_t));
	if (!pk->table)
		return -ENOMEM;
	pk->tmask = (uint32_t)tsize - 1;
	for (uint32_t i = 0; i < ne; i++) {
		uint32_t h = str_hash(pk->exact[i].s, pk->exact[i].len) & pk->tmask;

		while (pk->table[h])
			h = (h + 1) & pk->tmask;
		pk->table[h] = i + 1;
	}
	return 0;
}

static int build_key(const struct tp_ruleset *rs, struct slot_index *ix,
		     const struct tp_event_type *t, struct pf_key *pk)
{
	struct slot_prefilter *pf = &ix->pf;
	struct values vs = {0};
	int r;

	pk->keyed = calloc(pf->nwords, sizeof(uint64_t));
	if (!pk->keyed)
		return -ENOMEM;
	for (uint32_t i = 0; i < pf_count(ix); i++) {
		const struct rule_fn *f = pf_fn(rs, ix, i);
		bool keyed;

		vs.pos = i;
		keyed = tp_exception_key_values(f->match, t, &pk->key, add_value, &vs);
		for (size_t j = 0; !keyed && j < f->ntmatch; j++)
			if (f->tmatch[j].type == t)
				keyed = tp_exception_key_values(f->tmatch[j].x, t, &pk->key,
								add_value, &vs);
		if (keyed)
			set_bit(pk->keyed, i);
	}
	r = vs.failed ? -ENOMEM : take_evals(pf, pk, &vs);
	if (!r)
		r = build_values(pf, pk, &vs);
	free(vs.v);
	return r;
}

/* The slot's keys: those its rules compare, the most compared first. */
static int build_keys(const struct tp_ruleset *rs, struct slot_index *ix,
		      const struct tp_event_type *t)
{
	struct slot_prefilter *pf = &ix->pf;
	struct tp_str_key keys[PF_KEYS];
	size_t n = pick_keys(rs, ix, t, keys, PF_KEYS);

	for (size_t k = 0; k < n; k++) {
		pf->keys[k].key = keys[k];
		pf->keys[k].base = pf->keys[k].full = PF_KEYS;
		pf->nkeys = (uint32_t)k + 1; /* freed with the slot, built or not */
		if (build_key(rs, ix, t, &pf->keys[k]) < 0)
			return -ENOMEM;
	}
	/* A string field and its base name, both keys: looked up as one. */
	for (uint32_t k = 0; k < pf->nkeys; k++)
		for (uint32_t j = 0; j < pf->nkeys; j++)
			if (pf->keys[k].key.field && !pf->keys[k].key.base &&
			    pf->keys[j].key.field == pf->keys[k].key.field &&
			    pf->keys[j].key.base) {
				pf->keys[k].base = j;
				pf->keys[j].full = k;
			}
	for (uint32_t k = 0; k < pf->nkeys; k++)
		if (pf->keys[k].full == PF_KEYS) {
			pf->lookups[pf->nlookups][0] = (uint8_t)k;
			pf->lookups[pf->nlookups++][1] = (uint8_t)pf->keys[k].base;
		}
	for (uint32_t k = 0; k < pf->nkeys; k++)
		pf->keys[k].cstride =
		    (uint32_t)(sizeof(struct pf_cached) + (pf->keys[k].base < PF_KEYS ? 4 : 2) *
							      pf->nwords * sizeof(uint64_t));
	return 0;
}

/* Where the slot's events' candidates start, by their process's context:
 * the functions that need a container or a pod are out of the others'. */
static int build_starts(const struct tp_ruleset *rs, struct slot_index *ix, unsigned slot)
{
	struct slot_prefilter *pf = &ix->pf;
	unsigned any = 0;

	for (uint32_t i = 0; i < pf_count(ix); i++)
		any |= needs_context(pf_fn(rs, ix, i), slot);
	for (unsigned k = 0; k < 4; k++) {
		pf->start[k] = pf->all;
		if (!any || k == 3) /* (3: in a container and a pod, all) */
			continue;
		pf->start[k] = malloc(pf->nwords * sizeof(uint64_t));
		if (!pf->start[k])
			return -ENOMEM;
		memcpy(pf->start[k], pf->all, pf->nwords * sizeof(uint64_t));
	}
	for (uint32_t i = 0; any && i < pf_count(ix); i++) {
		unsigned need = needs_context(pf_fn(rs, ix, i), slot);

		for (unsigned k = 0; need && k < 3; k++)
			if (need & ~k)
				clear_bit(pf->start[k], i);
	}
	return 0;
}

/* The slot's rules that need a key set, by key (PF_SET_KEYS keys at most:
 * the rules of others are checked by their match). */
static int build_set_keys(const struct tp_ruleset *rs, struct slot_index *ix, unsigned slot)
{
	struct slot_prefilter *pf = &ix->pf;

	for (uint32_t i = 0; i < pf->nrules; i++) {
		const char *k = set_key(pf_fn(rs, ix, i), slot);
		uint32_t j = 0;

		if (!k)
			continue;
		while (j < pf->nset_keys && strcmp(pf->set_keys[j].name, k))
			j++;
		if (j == PF_SET_KEYS)
			continue;
		if (j == pf->nset_keys) {
			pf->set_keys[j].name = k;
			pf->set_keys[j].bits = calloc(pf->nwords, sizeof(uint64_t));
			if (!pf->set_keys[j].bits)
				return -ENOMEM;
			pf->nset_keys++;
		}
		set_bit(pf->set_keys[j].bits, i);
	}
	return 0;
}

static bool same_mask(const struct tp_fast_mask *a, const struct tp_fast_mask *b)
{
	return a->off == b->off && a->size == b->size && a->all == b->all && a->eq == b->eq &&
	       a->mask == b->mask;
}

static int build_prefilter(struct tp_ruleset *rs, struct slot_index *ix, unsigned slot)
{
	struct slot_prefilter *pf = &ix->pf;
	uint32_t n = pf_count(ix);
	const struct tp_event_type *t = slot_type(slot);

	pf->nrules = ix->n[FN_RULE];
	pf->nwords = (n + 63) / 64 ? (n + 63) / 64 : 1;
	pf->all = calloc(pf->nwords, sizeof(uint64_t));
	pf->unset = calloc(pf->nwords, sizeof(uint64_t));
	pf->cand = calloc(pf->nwords, sizeof(uint64_t));
	/* kept, decided; the same for a base name */
	pf->keep = calloc(4 * (size_t)pf->nwords, sizeof(uint64_t));
	/* (room for as many distinct conditions as the rules could have) */
	pf->masks = calloc((size_t)n * RULE_MASKS_MAX + 1, sizeof(*pf->masks));
	pf->mask_bits = calloc((size_t)n * RULE_MASKS_MAX * pf->nwords + 1, sizeof(uint64_t));
	pf->memo_out = calloc(pf->nwords, sizeof(uint64_t));
	if (!pf->all || !pf->unset || !pf->cand || !pf->keep || !pf->masks || !pf->mask_bits ||
	    !pf->memo_out)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		struct tp_fast_mask m[RULE_MASKS_MAX];
		size_t nm = rule_masks(pf_fn(rs, ix, i), slot, m, RULE_MASKS_MAX);

		set_bit(pf->all, i);
		if (!needs_set(pf_fn(rs, ix, i), slot))
			set_bit(pf->unset, i);
		for (size_t j = 0; j < nm; j++) {
			uint32_t d = 0;

			while (d < pf->nmasks && !same_mask(&pf->masks[d], &m[j]))
				d++;
			if (d == pf->nmasks)
				pf->masks[pf->nmasks++] = m[j];
			set_bit(pf->mask_bits + (size_t)d * pf->nwords, i);
		}
	}
	/* The fields they read, for the memo; more than PF_MASK_FIELDS: none. */
	for (uint32_t d = 0; d < pf->nmasks; d++) {
		uint32_t k = 0;

		while (k < pf->nmfields && (pf->mfield[k].off != pf->masks[d].off ||
					    pf->mfield[k].size != pf->masks[d].size))
			k++;
		if (k < pf->nmfields)
			continue;
		if (pf->nmfields == PF_MASK_FIELDS) {
			pf->nmfields = 0;
			break;
		}
		pf->mfield[pf->nmfields++] =
		    (struct pf_mask_field){pf->masks[d].off, pf->masks[d].size};
	}
	if (build_set_keys(rs, ix, slot) < 0 || build_starts(rs, ix, slot) < 0)
		return -ENOMEM;
	return t ? build_keys(rs, ix, t) : 0;
}

/* Where each rule and enrich function is, for its calls. */
static int place_rules(struct tp_ruleset *rs)
{
	for (unsigned slot = 0; slot < TYPE_SLOTS; slot++) {
		struct slot_index *ix = rs->index[slot];

		for (uint32_t i = 0; ix && i < pf_count(ix); i++) {
			struct rule_fn *f = (struct rule_fn *)pf_fn(rs, ix, i);
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
		free(ix->pf.memo_out);
		for (uint32_t j = 0; j < ix->pf.nset_keys; j++)
			free(ix->pf.set_keys[j].bits);
		for (unsigned k = 0; k < 4; k++)
			if (ix->pf.start[k] != ix->pf.all)
				free(ix->pf.start[k]);
		for (uint32_t k = 0; k < ix->pf.nkeys; k++) {
			struct pf_key *pk = &ix->pf.keys[k];

			free(pk->keyed);
			free(pk->exact);
			free(pk->prefix);
			free(pk->table);
			free(pk->pparent);
			free(pk->bits);
			free(pk->evals);
			free(pk->evalmask);
			free(pk->cache);
		}
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
static void prefix_hits(const struct pf_key *pk, uint32_t nwords, const char *s, size_t n,
			uint64_t *keep)
{
	uint32_t lo = 0, hi = pk->nprefix, k; /* the last <= s: lo - 1 */
	size_t common = 0;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		const struct pf_value *v = &pk->prefix[mid];
		int c = memcmp(v->s, s, v->len < n ? v->len : n);

		if (c < 0 || (c == 0 && v->len <= n))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return;
	k = lo; /* index + 1 */
	while (common < n && common < pk->prefix[k - 1].len &&
	       pk->prefix[k - 1].s[common] == s[common])
		common++;
	for (; k; k = pk->pparent[k - 1]) {
		const struct pf_value *v = &pk->prefix[k - 1];

		if (v->len > common)
			continue;
		for (uint32_t w = 0; w < nwords; w++)
			keep[w] |= pk->bits[v->bits + w];
	}
}

/* keep |= the bitmaps of the key values s (n bytes, hashed h) matches. */
static void key_hits(const struct pf_key *pk, uint32_t nwords, const char *s, size_t n, uint64_t h,
		     uint64_t *keep)
{
	if (pk->nexact) {
		uint32_t i = (uint32_t)(h >> 32) & pk->tmask;

		for (uint32_t e; (e = pk->table[i]); i = (i + 1) & pk->tmask) {
			const struct pf_value *v = &pk->exact[e - 1];

			if (v->len == n && !memcmp(v->s, s, n)) {
				for (uint32_t w = 0; w < nwords; w++)
					keep[w] |= pk->bits[v->bits + w];
				break;
			}
		}
	}
	if (pk->nprefix)
		prefix_hits(pk, nwords, s, n, keep);
}

/* Has pk evals of functions in c not decided yet? */
static inline bool evals_needed(const struct pf_key *pk, uint32_t nwords, const uint64_t *c,
				const uint64_t *decided)
{
	uint64_t need = 0;

	for (uint32_t w = 0; w < nwords; w++)
		need |= c[w] & pk->evalmask[w] & ~decided[w];
	return need != 0;
}

/* The evals of the functions in c not decided yet for s: kept gets those
 * s passes, decided all of them. A function's answer is found when it is
 * still in the running, never for those the event was already turned away
 * from (an open's read meets the write rules' path globs only as a write). */
static void key_evals(const struct pf_key *pk, uint32_t nwords, const char *s, size_t n,
		      const uint64_t *c, uint64_t *kept, uint64_t *decided)
{
	for (uint32_t j = 0; j < pk->nevals; j++) {
		uint32_t pos = pk->evals[j].pos;

		if (get_bit(c, pos) && !get_bit(decided, pos) && !get_bit(kept, pos) &&
		    tp_exception_key_eval(pk->evals[j].cond, s, n))
			set_bit(kept, pos);
	}
	for (uint32_t w = 0; w < nwords; w++)
		decided[w] |= c[w] & pk->evalmask[w];
}

/* Key pk's answers for the string s (n bytes, hashed h), fresh: the rules
 * that do not compare it and those one of whose table's values it
 * matches; none decided. */
static void key_fill(const struct pf_key *pk, uint32_t nwords, const char *s, size_t n, uint64_t h,
		     uint64_t *kept, uint64_t *decided)
{
	for (uint32_t w = 0; w < nwords; w++) {
		kept[w] = ~pk->keyed[w];
		decided[w] = 0;
	}
	key_hits(pk, nwords, s, n, h, kept);
}

/* The comm key's entry i was hit or filled for the header's comm at s. */
static inline void remember_comm(struct pf_key *pk, uint32_t i, const char *s)
{
	pk->last = i + 1;
	memcpy(pk->last_comm, s, sizeof(pk->last_comm));
}

/* The base name of s (n bytes) and its length, as tp_str_key_get gives it. */
static const char *base_of(const char *s, size_t n, size_t *nb)
{
	const char *b = memrchr(s, '/', n);

	b = b ? b + 1 : s;
	*nb = n - (size_t)(b - s);
	return b;
}

/* What is left to decide of a cache entry's (or the scratch's) answers
 * for s (n bytes), for the functions in c: pk's evals on s, and pb's (the
 * key of its base name, when not NULL) on its base name. */
static inline void key_decide(const struct pf_key *pk, const struct pf_key *pb, uint32_t nwords,
			      const char *s, size_t n, const uint64_t *c, uint64_t *kept)
{
	if (pk->nevals && evals_needed(pk, nwords, c, kept + nwords))
		key_evals(pk, nwords, s, n, c, kept, kept + nwords);
	if (pb && pb->nevals && evals_needed(pb, nwords, c, kept + 3 * nwords)) {
		size_t nb;
		const char *b = base_of(s, n, &nb);

		key_evals(pb, nwords, b, nb, c, kept + 2 * nwords, kept + 3 * nwords);
	}
}

/* The comm key's answers from its last entry, when the event's comm has
 * the same 16 bytes as the one it was hit for; NULL otherwise. */
static inline const uint64_t *comm_keep(struct pf_key *pk, uint32_t nwords, const char *comm,
					const uint64_t *c)
{
	struct pf_cached *e;

	if (!pk->last || memcmp(comm, pk->last_comm, sizeof(pk->last_comm)))
		return NULL;
	e = cache_entry(pk, pk->last - 1);
	cache_stamps(pk)[pk->last - 1] = ++pk->cclock;
	key_decide(pk, NULL, nwords, e->s, e->len, c, e->kept);
	return e->kept;
}

/* The rules key pk (and pb, the key of its base name, when not NULL)
 * leave for the string s, of those in c: kept (nwords), and with pb the
 * base name's at 2 * nwords. From the key's cache when s was looked up
 * lately; else into scratch (4 * nwords, and the cache). */
static const uint64_t *key_keep(struct pf_key *pk, struct pf_key *pb, uint32_t nwords,
				const char *s, const uint64_t *c, uint64_t *scratch)
{
	size_t n = strlen(s), nb;
	uint64_t h = tp_hash_ends(s, n);
	struct pf_cached *e = NULL;
	uint64_t *kept = scratch;
	const char *b;

	if (n && n <= PF_CACHE_KEY &&
	    (pk->cache || (pk->cache = calloc(PF_CACHE_N, 2 * sizeof(uint64_t) + pk->cstride)))) {
		uint32_t set = (uint32_t)(h >> 56) % (PF_CACHE_N / PF_CACHE_WAYS) * PF_CACHE_WAYS;
		uint64_t *tag = cache_tags(pk) + set;
		uint64_t *stamp = cache_stamps(pk) + set;
		uint32_t old = 0;

		for (uint32_t k = 0; k < PF_CACHE_WAYS; k++) {
			if (tag[k] == h && (e = cache_entry(pk, set + k))->len == n &&
			    !memcmp(e->s, s, n)) {
				stamp[k] = ++pk->cclock;
				if (!pk->key.field) /* the header's comm: 16 bytes */
					remember_comm(pk, set + k, s);
				key_decide(pk, pb, nwords, s, n, c, e->kept);
				return e->kept;
			}
			if (stamp[k] < stamp[old])
				old = k;
		}
		/* The one of its set hit longest ago (or an empty one) takes it. */
		e = cache_entry(pk, set + old);
		stamp[old] = ++pk->cclock;
		if (!pk->key.field)
			remember_comm(pk, set + old, s);
		tag[old] = h;
		kept = e->kept;
		e->len = (uint8_t)n;
		memcpy(e->s, s, n);
	}
	key_fill(pk, nwords, s, n, h, kept, kept + nwords);
	if (pb) {
		b = base_of(s, n, &nb);
		key_fill(pb, nwords, b, nb, tp_hash_ends(b, nb), kept + 2 * nwords,
			 kept + 3 * nwords);
	}
	key_decide(pk, pb, nwords, s, n, c, kept);
	return kept;
}

/* Are any of the rules in c compared on key pk? */
static inline bool any_keyed(const struct pf_key *pk, uint32_t nwords, const uint64_t *c)
{
	for (uint32_t w = 0; w < nwords; w++)
		if (c[w] & pk->keyed[w])
			return true;
	return false;
}

/* out = the rules the inline conditions turn the event away from. */
static void masks_out(const struct slot_prefilter *pf, const struct tp_event *ev, uint64_t *out)
{
	memset(out, 0, pf->nwords * sizeof(uint64_t));
	for (uint32_t d = 0; d < pf->nmasks; d++) {
		const uint64_t *b = pf->mask_bits + (size_t)d * pf->nwords;

		if (tp_fast_mask_pass(&pf->masks[d], ev))
			continue;
		for (uint32_t w = 0; w < pf->nwords; w++)
			out[w] |= b[w];
	}
}

/* The values of the fields the inline conditions read, into v; false when
 * the record ends before one (the conditions decide alone then). */
static bool mask_values(const struct slot_prefilter *pf, const struct tp_event *ev, uint64_t *v)
{
	for (uint32_t k = 0; k < pf->nmfields; k++) {
		const struct pf_mask_field *f = &pf->mfield[k];

		if ((uint32_t)f->off + f->size > ev->len)
			return false;
		v[k] = tp_load_uint(ev->rec.bytes + f->off, f->size);
	}
	return true;
}

/* c &= the rules the event's inline conditions and keys leave. */
static void narrow(struct slot_prefilter *pf, const struct tp_event *ev, uint64_t *c,
		   uint64_t *keep)
{
	if (pf->nmasks) {
		uint64_t v[PF_MASK_FIELDS];
		bool known = pf->nmfields && mask_values(pf, ev, v), same = known && pf->memo_valid;

		for (uint32_t k = 0; same && k < pf->nmfields; k++)
			same = v[k] == pf->memo_val[k];
		if (!same) {
			masks_out(pf, ev, pf->memo_out);
			pf->memo_valid = known;
			if (known)
				memcpy(pf->memo_val, v, pf->nmfields * sizeof(uint64_t));
		}
		for (uint32_t w = 0; w < pf->nwords; w++)
			c[w] &= ~pf->memo_out[w];
	}
	/* A key is looked up while some rule left compares it: cached, the
	 * look-up costs less than one visit of a rule. A field's base name
	 * goes with the field. */
	for (uint32_t k = 0; k < pf->nlookups; k++) {
		struct pf_key *pk = &pf->keys[pf->lookups[k][0]];
		struct pf_key *pb =
		    pf->lookups[k][1] < PF_KEYS ? &pf->keys[pf->lookups[k][1]] : NULL;
		const uint64_t *kept;
		const char *s;

		if (!any_keyed(pk, pf->nwords, c) && !(pb && any_keyed(pb, pf->nwords, c)))
			continue;
		s = tp_str_key_get(&pk->key, ev);
		if (!s) { /* no such string: no rule that compares it can match */
			for (uint32_t w = 0; w < pf->nwords; w++)
				c[w] &= ~(pk->keyed[w] | (pb ? pb->keyed[w] : 0));
			continue;
		}
		if (pk->key.field || !(kept = comm_keep(pk, pf->nwords, s, c)))
			kept = key_keep(pk, pb, pf->nwords, s, c, keep);
		for (uint32_t w = 0; w < pf->nwords; w++)
			c[w] &= kept[w] & (pb ? kept[2 * pf->nwords + w] : ~0ull);
	}
}

/* The candidates an event starts from, by its process's context. */
static inline const uint64_t *start_of(const struct slot_prefilter *pf,
				       const struct tp_event_meta *meta)
{
	const struct tp_proc_ctx *pc = meta ? meta->proc : NULL;

	return pc ? pf->start[(pc->container != NULL) | (pc->k8s != NULL) << 1] : pf->start[0];
}

const uint64_t *tp_rules_candidates(struct slot_index *ix, const struct tp_event *ev,
				    const struct tp_event_meta *meta)
{
	struct slot_prefilter *pf = &ix->pf;

	memcpy(pf->cand, start_of(pf, meta), pf->nwords * sizeof(uint64_t));
	narrow(pf, ev, pf->cand, pf->keep);
	return pf->cand;
}

/* Is key set on the event (meta's keys; NULL: none)? As set.<key> finds it. */
static bool key_is_set(const struct tp_event_meta *meta, const char *key)
{
	for (size_t i = 0; meta && i < meta->nkv; i++)
		if (!strcmp(meta->kv[i].key, key))
			return true;
	return false;
}

/* keys_set_out when some key is set: by each key the rules need. */
static void keys_set_out_by_key(struct slot_prefilter *pf, const struct tp_event_meta *meta,
				uint64_t *c, bool count)
{
	for (uint32_t j = 0; j < pf->nset_keys; j++) {
		struct pf_set_key *k = &pf->set_keys[j];

		if (key_is_set(meta, k->name))
			k->seen += count;
		else
			for (uint32_t w = 0; w < pf->nwords; w++)
				c[w] &= ~k->bits[w];
	}
}

/* c &= the rules meta's keys leave; count: the events that reached them. */
static inline void keys_set_out(struct slot_prefilter *pf, const struct tp_event_meta *meta,
				uint64_t *c, bool count)
{
	if (count)
		pf->seen[meta && meta->nkv]++;
	if (meta && meta->nkv) {
		keys_set_out_by_key(pf, meta, c, count);
		return;
	}
	for (uint32_t w = 0; w < pf->nwords; w++)
		c[w] &= pf->unset[w];
}

const uint64_t *tp_rules_candidates_rules(struct slot_index *ix, const struct tp_event_meta *meta)
{
	struct slot_prefilter *pf = &ix->pf;

	keys_set_out(pf, meta, pf->cand, true);
	return pf->cand;
}

bool tp_rules_index_admits(struct tp_ruleset *rs, const struct rule_fn *f,
			   const struct tp_event *ev, const struct tp_event_meta *meta)
{
	unsigned slot = type_slot(ev->type);
	struct slot_prefilter *pf;

	for (uint32_t i = 0; i < f->nrslots; i++) {
		if (f->rslots[i].slot != slot)
			continue;
		/* The slot's scratch, as an event would use it (no count); an
		 * enrich function is found before any key is set. */
		pf = &rs->index[slot]->pf;
		memcpy(pf->cand, start_of(pf, meta), pf->nwords * sizeof(uint64_t));
		narrow(pf, ev, pf->cand, pf->keep);
		if (f->rslots[i].pos < pf->nrules)
			keys_set_out(pf, meta, pf->cand, false);
		return get_bit(pf->cand, f->rslots[i].pos);
	}
	return false;
}

void tp_rules_index_drop_caches(struct tp_ruleset *rs)
{
	for (unsigned s = 0; s < TYPE_SLOTS; s++) {
		struct slot_index *ix = rs->index[s];

		for (uint32_t k = 0; ix && k < ix->pf.nkeys; k++) {
			free(ix->pf.keys[k].cache);
			ix->pf.keys[k].cache = NULL;
			ix->pf.keys[k].last = 0;
		}
		if (ix)
			ix->pf.memo_valid = false;
	}
	for (size_t k = 0; k < rs->nfns; k++) {
		struct rule_fn *f = &rs->fns[k];

		tp_exception_drop_caches(f->match);
		for (size_t i = 0; i < f->ntmatch; i++)
			tp_exception_drop_caches(f->tmatch[i].x);
		for (size_t i = 0; i < f->nexceptions; i++)
			tp_exception_drop_caches(f->exceptions[i]);
	}
}

/* ------------------------------------------------------------ counts */

uint64_t tp_rules_fn_calls(const struct tp_ruleset *rs, size_t k)
{
	const struct rule_fn *f = &rs->fns[k];
	uint64_t n = f->calls_base;

	if (f->kind != FN_RULE && f->kind != FN_ENRICH)
		return n + f->calls + (rs->fast_rejects ? rs->fast_rejects[k] : 0);
	/* Every event that reached the slot's rules while f was in them (an
	 * enrich function meets them before any key is set; a rule that needs
	 * a key, those with it set). */
	for (uint32_t i = 0; i < f->nrslots; i++) {
		const struct slot_prefilter *pf = &rs->index[f->rslots[i].slot]->pf;
		uint32_t pos = f->rslots[i].pos, j = 0;

		while (f->kind == FN_RULE && j < pf->nset_keys &&
		       !get_bit(pf->set_keys[j].bits, pos))
			j++;
		if (!get_bit(pf->all, pos))
			continue;
		if (f->kind == FN_RULE && j < pf->nset_keys) /* only with its key set */
			n += pf->set_keys[j].seen;
		else
			n += pf->seen[1] +
			     (f->kind == FN_ENRICH || get_bit(pf->unset, pos) ? pf->seen[0] : 0);
	}
	return n;
}

void tp_rules_index_quarantine(struct tp_ruleset *rs, size_t k)
{
	struct rule_fn *f = &rs->fns[k];

	if (f->kind == FN_RULE || f->kind == FN_ENRICH) {
		/* Out of every slot's running; its calls so far are kept. */
		uint64_t calls = tp_rules_fn_calls(rs, k);

		for (uint32_t i = 0; i < f->nrslots; i++) {
			struct slot_prefilter *pf = &rs->index[f->rslots[i].slot]->pf;
			uint32_t pos = f->rslots[i].pos;

			for (unsigned k = 0; k < 4; k++)
				if (pf->start[k] != pf->all)
					clear_bit(pf->start[k], pos);
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
