/*
 * batch.h - a sealed batch of encoded events on its way to a receiver.
 *
 * A batch holds one blob: a rank per event (what to drop first when the
 * spool is full), the transport's batch header (collector id, sequence...)
 * and the events, each a framed protobuf field. The same blob is what a
 * spool file holds after its own header, so spilling and loading copy it
 * whole. A batch lives in memory, on disk, or both (loaded to be resent).
 */
#ifndef TAPIO_DELIVERY_BATCH_H
#define TAPIO_DELIVERY_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "events/event_meta.h"

/* Ranks order events for dropping at the spool cap: lowest first. An event
 * nothing scored ranks lowest; then importance in tenths; an alert ranks
 * just above an event of the same importance. */
#define TP_RANKS 24

static inline uint8_t tp_rank_of(const struct tp_event_meta *meta)
{
	double imp;
	int tenth;

	if (!meta)
		return 0;
	imp = meta->alert ? meta->alert->importance : meta->importance;
	if (!(imp >= 0)) /* negative or NaN: not scored */
		return meta->alert ? 1 : 0;
	tenth = imp >= 1 ? 10 : (int)(imp * 10);
	return (uint8_t)(2 + 2 * tenth + (meta->alert ? 1 : 0));
}

struct tp_batch {
	uint64_t seq;
	uint32_t nevents;
	uint32_t sends;       /* times gRPC took it for the wire */
	uint32_t hdr_len;
	uint32_t body_len;
	uint8_t *blob;        /* ranks[nevents], hdr[hdr_len], body[body_len]; NULL if only on disk */
	bool on_disk;         /* a spool file holds it */
	bool in_flight;       /* sent on the current call, not yet acked */
	uint64_t sent_ns;     /* monotonic time of the last send */
	uint32_t rank_count[TP_RANKS];
	struct tp_batch *prev, *next;
};

static inline size_t tp_batch_blob_len(const struct tp_batch *b)
{
	return (size_t)b->nevents + b->hdr_len + b->body_len;
}
static inline uint8_t *tp_batch_ranks(const struct tp_batch *b) { return b->blob; }
static inline uint8_t *tp_batch_hdr(const struct tp_batch *b) { return b->blob + b->nevents; }
static inline uint8_t *tp_batch_body(const struct tp_batch *b)
{
	return b->blob + b->nevents + b->hdr_len;
}

/* A batch from its parts (copied). Returns NULL on allocation failure. */
struct tp_batch *tp_batch_new(uint64_t seq, const uint8_t *ranks, uint32_t nevents,
			      const void *hdr, uint32_t hdr_len, const void *body, uint32_t body_len);
void tp_batch_free(struct tp_batch *b);
/* Recount rank_count from the ranks in the blob. */
void tp_batch_count_ranks(struct tp_batch *b);
/* Drop the events of rank <= max_rank from the blob (which must be loaded).
 * Returns the number dropped, or -EBADMSG if the body is not framed items. */
int tp_batch_drop_ranks(struct tp_batch *b, uint8_t max_rank);

#endif
