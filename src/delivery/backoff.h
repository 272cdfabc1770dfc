/*
 * backoff.h - exponential backoff with jitter between reconnect attempts.
 *
 * The n-th delay is drawn uniformly from [base/2, base] with base =
 * min(max, min * 2^n): attempts spread out (many collectors restarted with
 * a server do not come back in lockstep) but never wait past max.
 */
#ifndef TAPIO_DELIVERY_BACKOFF_H
#define TAPIO_DELIVERY_BACKOFF_H

#include <stdint.h>

struct tp_backoff {
	uint64_t min_ns, max_ns;
	unsigned attempt;
	uint64_t rng;
};

void tp_backoff_init(struct tp_backoff *b, uint64_t min_ns, uint64_t max_ns, uint64_t seed);
/* The delay before the next attempt; each call grows the next one. */
uint64_t tp_backoff_next(struct tp_backoff *b);
/* Progress was made: start again from min. */
static inline void tp_backoff_reset(struct tp_backoff *b) { b->attempt = 0; }

#endif
