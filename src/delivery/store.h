/*
 * store.h - every batch not yet acked, in sequence order, within a memory
 * cap and a spool cap.
 *
 * Batches are appended when sealed and removed when acked (or rejected).
 * Past the memory cap the oldest batches not in flight move to the spool;
 * past the spool cap (or past the memory cap with no spool) events are
 * dropped lowest rank first and, within a rank, newest first, and counted.
 * Batches in flight are never changed. The send order is the sequence
 * order: after a reconnect everything is resent from the oldest.
 *
 * Single-threaded: only the delivery thread touches a store.
 */
#ifndef TAPIO_DELIVERY_STORE_H
#define TAPIO_DELIVERY_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "delivery/batch.h"
#include "delivery/spool.h"

struct tp_store_counters {
	uint64_t spooled;         /* events written to the spool */
	uint64_t dropped_full;    /* events dropped at the caps */
	uint64_t dropped_corrupt; /* events in spool files that could not be read back */
	uint64_t spool_errors;    /* failed spool writes, reads and removals */
};

struct tp_store {
	struct tp_batch *head, *tail;
	uint64_t nbatches;
	uint64_t events;          /* all stored events */
	uint64_t disk_events;     /* events whose batch is in the spool */
	uint64_t mem_bytes;       /* blobs in memory */
	uint64_t disk_bytes;      /* spool files */
	uint64_t mem_cap, disk_cap;
	struct tp_spool *spool;   /* NULL: memory only */
	bool spool_failed;        /* a write failed: memory only until a write works again */
	int last_spool_error;     /* -errno of the last failure, for the log */
	uint64_t spill_deadline_ns; /* while spilling at exit; else UINT64_MAX */
	uint64_t rank_count[TP_RANKS];
	uint64_t inflight_rank_count[TP_RANKS];
	uint32_t inflight;
	struct tp_store_counters c;
};

void tp_store_init(struct tp_store *st, uint64_t mem_cap, uint64_t disk_cap, struct tp_spool *spool);
/* Free every batch; spool files stay for the next start. */
void tp_store_free(struct tp_store *st);

/* Take a sealed batch (its seq above every stored one) and apply the caps. */
void tp_store_add(struct tp_store *st, struct tp_batch *b);
/* Take a batch read back from the spool at start (it stays on disk). */
void tp_store_add_spooled(struct tp_store *st, struct tp_batch *b, size_t file_size);
void tp_store_enforce(struct tp_store *st);

/* The oldest batch not in flight, its blob loaded; NULL if none. */
struct tp_batch *tp_store_next(struct tp_store *st);
/* b was handed to the transport: in flight, its memory copy freed if the
 * spool has it. */
void tp_store_sent(struct tp_store *st, struct tp_batch *b);
/* b is no longer in flight (its call failed) and will be sent again. */
void tp_store_unsend(struct tp_store *st, struct tp_batch *b);
void tp_store_unsend_all(struct tp_store *st);
struct tp_batch *tp_store_find(struct tp_store *st, uint64_t seq);
/* The batch seq if it is in flight, else NULL. In-flight batches are the
 * oldest: the search ends after the window's batches or past seq, so a
 * response full of bogus sequences costs the window, not the store. */
struct tp_batch *tp_store_find_inflight(struct tp_store *st, uint64_t seq);
/* Forget b (acked, or rejected by the receiver): memory and spool file. */
void tp_store_remove(struct tp_store *st, struct tp_batch *b);
/* At exit: move everything to the spool under the spool cap (dropping
 * lowest ranks first, counted, if it is full), until deadline_ns
 * (CLOCK_MONOTONIC; UINT64_MAX: no limit). Returns the events left only in
 * memory (no spool, it failed, or the disk was too slow for the deadline),
 * which the caller counts as lost. */
uint64_t tp_store_spill_all(struct tp_store *st, uint64_t deadline_ns);
/* Largest stored sequence, 0 if empty. */
static inline uint64_t tp_store_last_seq(const struct tp_store *st)
{
	return st->tail ? st->tail->seq : 0;
}

#endif
