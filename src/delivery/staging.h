/*
 * staging.h - the hand-off from the reader thread, which encodes events,
 * to the delivery thread, which batches and sends them.
 *
 * The reader appends an encoded, framed event and its rank under a mutex
 * held for a memcpy; the delivery thread swaps the whole content out. The
 * staging area has a byte cap: when the delivery thread falls that far
 * behind, the reader drops the event (counted by the caller), never waits.
 */
#ifndef TAPIO_DELIVERY_STAGING_H
#define TAPIO_DELIVERY_STAGING_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "util/buf.h"

struct tp_staged {
	struct tp_buf items;  /* framed events, back to back */
	struct tp_buf ranks;  /* one byte per event */
	uint32_t n;
	uint64_t first_ns;    /* monotonic time the oldest event was staged */
};

struct tp_staging {
	pthread_mutex_t mu;
	struct tp_staged cur;
	uint64_t cap_bytes;
	_Atomic uint64_t bytes;  /* cur.items.len, for readers without the lock */
	_Atomic uint64_t count;  /* cur.n, likewise */
};

void tp_staging_init(struct tp_staging *s, uint64_t cap_bytes);
void tp_staging_destroy(struct tp_staging *s);
/* Returns 0, -ENOBUFS (over the cap) or -ENOMEM. */
int tp_staging_push(struct tp_staging *s, const void *item, size_t len, uint8_t rank,
		    uint64_t now_ns);
/* Move everything staged into out; out's old buffers (emptied) stay behind
 * for reuse, so steady operation allocates nothing. */
void tp_staging_take(struct tp_staging *s, struct tp_staged *out);
/* Bytes and events staged, for gauges and the drain at exit. */
uint64_t tp_staging_bytes(struct tp_staging *s);
uint64_t tp_staging_count(struct tp_staging *s);

void tp_staged_init(struct tp_staged *st);
void tp_staged_free(struct tp_staged *st);

#endif
