/*
 * dedup.h - which (collector id, batch sequence) pairs a receiver has taken,
 * so a batch resent after a lost ack is written once.
 *
 * Per collector: a sorted set of sequence ranges, merged as gaps fill, so a
 * collector that sends 1, 2, 3... costs one range. Bounded: at most
 * max_ranges per collector (the oldest range is forgotten past it) and
 * max_collectors (the least recently seen is forgotten), each forgetting
 * counted: a forgotten batch, if resent, would be written twice.
 */
#ifndef TAPIO_SINK_DEDUP_H
#define TAPIO_SINK_DEDUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tp_dedup_collector;

struct tp_dedup {
	struct tp_dedup_collector *list; /* most recently seen first */
	size_t ncollectors;
	size_t max_collectors, max_ranges;
	uint64_t tick;
	uint64_t forgotten;              /* ranges or collectors dropped at the caps */
};

void tp_dedup_init(struct tp_dedup *d, size_t max_collectors, size_t max_ranges);
void tp_dedup_free(struct tp_dedup *d);
/* Was (id, seq) seen? */
bool tp_dedup_seen(struct tp_dedup *d, const char *id, size_t idlen, uint64_t seq);
/* Record (id, seq). Returns 0 or -ENOMEM. */
int tp_dedup_add(struct tp_dedup *d, const char *id, size_t idlen, uint64_t seq);

#endif
