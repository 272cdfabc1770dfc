/*
 * lru.h - a bounded hash table of intrusive nodes keyed by a u64, kept in
 * least-recently-used order.
 *
 * The caller embeds struct tp_lru_node in its own entries and allocates
 * them; the table only links them. Lookups that hit move the node to the
 * front; when the table is full the caller evicts tp_lru_oldest (and frees
 * it) before inserting. Not thread-safe: one owner (a pipeline stage).
 */
#ifndef TAPIO_UTIL_LRU_H
#define TAPIO_UTIL_LRU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tp_lru_node {
	uint64_t key;
	struct tp_lru_node *hnext; /* hash chain */
	struct tp_lru_node *prev, *next; /* recency list, most recent first */
};

struct tp_lru {
	struct tp_lru_node **buckets;
	size_t mask;
	size_t count;
	size_t max;
	struct tp_lru_node list; /* sentinel: list.next is the most recent */
};

/* max entries; buckets sized to the next power of two. 0 or -ENOMEM. */
int tp_lru_init(struct tp_lru *l, size_t max);
/* Unlinks everything; the caller frees its entries first (tp_lru_oldest). */
void tp_lru_free(struct tp_lru *l);

/* Find key; a hit becomes the most recent. */
struct tp_lru_node *tp_lru_get(struct tp_lru *l, uint64_t key);
/* Find key without touching the order. */
struct tp_lru_node *tp_lru_peek(const struct tp_lru *l, uint64_t key);
/* Link n (n->key set, not present) as the most recent. The caller keeps
 * count <= max by evicting first. */
void tp_lru_insert(struct tp_lru *l, struct tp_lru_node *n);
void tp_lru_remove(struct tp_lru *l, struct tp_lru_node *n);
/* The least recently used node, NULL when empty. */
struct tp_lru_node *tp_lru_oldest(const struct tp_lru *l);

static inline bool tp_lru_full(const struct tp_lru *l)
{
	return l->count >= l->max;
}

#endif
