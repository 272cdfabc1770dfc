#include "sink/dedup.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct range {
	uint64_t lo, hi; /* inclusive */
};

struct tp_dedup_collector {
	struct tp_dedup_collector *next;
	char *id;
	size_t idlen;
	struct range *r;
	size_t n, cap;
};

void tp_dedup_init(struct tp_dedup *d, size_t max_collectors, size_t max_ranges)
{
	memset(d, 0, sizeof(*d));
	d->max_collectors = max_collectors ? max_collectors : 1;
	d->max_ranges = max_ranges ? max_ranges : 1;
}

static void collector_free(struct tp_dedup_collector *c)
{
	free(c->id);
	free(c->r);
	free(c);
}

void tp_dedup_free(struct tp_dedup *d)
{
	while (d->list) {
		struct tp_dedup_collector *c = d->list;

		d->list = c->next;
		collector_free(c);
	}
	d->ncollectors = 0;
}

/* Find id and move it to the front (most recently seen). */
static struct tp_dedup_collector *find(struct tp_dedup *d, const char *id, size_t idlen)
{
	struct tp_dedup_collector **pp, *c;

	for (pp = &d->list; (c = *pp); pp = &c->next) {
		if (c->idlen == idlen && !memcmp(c->id, id, idlen)) {
			*pp = c->next;
			c->next = d->list;
			d->list = c;
			return c;
		}
	}
	return NULL;
}

/* Index of the first range with hi >= seq (n if none). */
static size_t lower(const struct tp_dedup_collector *c, uint64_t seq)
{
	size_t lo = 0, hi = c->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->r[mid].hi < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool tp_dedup_seen(struct tp_dedup *d, const char *id, size_t idlen, uint64_t seq)
{
	struct tp_dedup_collector *c = find(d, id, idlen);
	size_t i;

	if (!c)
		return false;
	i = lower(c, seq);
	return i < c->n && c->r[i].lo <= seq;
}

int tp_dedup_add(struct tp_dedup *d, const char *id, size_t idlen, uint64_t seq)
{
	struct tp_dedup_collector *c = find(d, id, idlen);
	size_t i;

	if (!c) {
		if (d->ncollectors >= d->max_collectors) {
			struct tp_dedup_collector **pp = &d->list;

			while ((*pp)->next)
				pp = &(*pp)->next;
			collector_free(*pp);
			*pp = NULL;
			d->ncollectors--;
			d->forgotten++;
		}
		c = calloc(1, sizeof(*c));
		if (!c || !(c->id = malloc(idlen ? idlen : 1))) {
			free(c);
			return -ENOMEM;
		}
		memcpy(c->id, id, idlen);
		c->idlen = idlen;
		c->next = d->list;
		d->list = c;
		d->ncollectors++;
	}
	i = lower(c, seq);
	if (i < c->n && c->r[i].lo <= seq)
		return 0; /* already there */
	/* Extend a neighbour, join two, or insert a new range at i. */
	if (i > 0 && c->r[i - 1].hi + 1 == seq) {
		c->r[i - 1].hi = seq;
		if (i < c->n && c->r[i].lo == seq + 1) {
			c->r[i - 1].hi = c->r[i].hi;
			memmove(&c->r[i], &c->r[i + 1], (c->n - i - 1) * sizeof(*c->r));
			c->n--;
		}
		return 0;
	}
	if (i < c->n && c->r[i].lo == seq + 1) {
		c->r[i].lo = seq;
		return 0;
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;
		struct range *nr;

		if (cap > d->max_ranges)
			cap = d->max_ranges;
		if (c->n == cap) {
			/* Full: forget the oldest range to make room. */
			memmove(&c->r[0], &c->r[1], (c->n - 1) * sizeof(*c->r));
			c->n--;
			d->forgotten++;
			if (i > 0)
				i--;
		} else {
			nr = realloc(c->r, cap * sizeof(*nr));
			if (!nr)
				return -ENOMEM;
			c->r = nr;
			c->cap = cap;
		}
	}
	memmove(&c->r[i + 1], &c->r[i], (c->n - i) * sizeof(*c->r));
	c->r[i] = (struct range){ seq, seq };
	c->n++;
	return 0;
}
