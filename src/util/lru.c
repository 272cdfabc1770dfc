#include "util/lru.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static size_t bucket_of(const struct tp_lru *l, uint64_t key)
{
	/* Fibonacci hashing: pids and kernfs ids are dense small integers. */
	return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & l->mask;
}

int tp_lru_init(struct tp_lru *l, size_t max)
{
	size_t n = 16;

	memset(l, 0, sizeof(*l));
	if (max == 0)
		return -EINVAL;
	while (n < max && n < ((size_t)1 << 30))
		n <<= 1;
	l->buckets = calloc(n, sizeof(*l->buckets));
	if (!l->buckets)
		return -ENOMEM;
	l->mask = n - 1;
	l->max = max;
	l->list.next = l->list.prev = &l->list;
	return 0;
}

void tp_lru_free(struct tp_lru *l)
{
	free(l->buckets);
	memset(l, 0, sizeof(*l));
}

static void list_unlink(struct tp_lru_node *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
}

static void list_push_front(struct tp_lru *l, struct tp_lru_node *n)
{
	n->next = l->list.next;
	n->prev = &l->list;
	l->list.next->prev = n;
	l->list.next = n;
}

struct tp_lru_node *tp_lru_peek(const struct tp_lru *l, uint64_t key)
{
	struct tp_lru_node *n;

	if (!l->buckets)
		return NULL;
	for (n = l->buckets[bucket_of(l, key)]; n; n = n->hnext)
		if (n->key == key)
			return n;
	return NULL;
}

struct tp_lru_node *tp_lru_get(struct tp_lru *l, uint64_t key)
{
	struct tp_lru_node *n = tp_lru_peek(l, key);

	if (n && l->list.next != n) {
		list_unlink(n);
		list_push_front(l, n);
	}
	return n;
}

void tp_lru_insert(struct tp_lru *l, struct tp_lru_node *n)
{
	size_t b = bucket_of(l, n->key);

	n->hnext = l->buckets[b];
	l->buckets[b] = n;
	list_push_front(l, n);
	l->count++;
}

void tp_lru_remove(struct tp_lru *l, struct tp_lru_node *n)
{
	struct tp_lru_node **pp = &l->buckets[bucket_of(l, n->key)];

	while (*pp && *pp != n)
		pp = &(*pp)->hnext;
	if (!*pp)
		return; /* not linked */
	*pp = n->hnext;
	n->hnext = NULL;
	list_unlink(n);
	n->prev = n->next = NULL;
	l->count--;
}

struct tp_lru_node *tp_lru_oldest(const struct tp_lru *l)
{
	return l->list.prev == &l->list ? NULL : l->list.prev;
}
