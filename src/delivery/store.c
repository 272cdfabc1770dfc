#include "delivery/store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/time.h"

void tp_store_init(struct tp_store *st, uint64_t mem_cap, uint64_t disk_cap, struct tp_spool *spool)
{
	memset(st, 0, sizeof(*st));
	st->mem_cap = mem_cap;
	st->disk_cap = spool ? disk_cap : 0;
	st->spool = spool;
	st->spill_deadline_ns = UINT64_MAX;
}

void tp_store_free(struct tp_store *st)
{
	struct tp_batch *b = st->head, *next;

	for (; b; b = next) {
		next = b->next;
		tp_batch_free(b);
	}
	st->head = st->tail = NULL;
	st->nbatches = st->events = st->disk_events = st->mem_bytes = st->disk_bytes = 0;
	memset(st->rank_count, 0, sizeof(st->rank_count));
	memset(st->inflight_rank_count, 0, sizeof(st->inflight_rank_count));
	st->inflight = 0;
}

static void count_ranks(uint64_t *total, const struct tp_batch *b, int sign)
{
	for (int r = 0; r < TP_RANKS; r++)
		total[r] += (uint64_t)((int64_t)sign * b->rank_count[r]);
}

static void append(struct tp_store *st, struct tp_batch *b)
{
	b->prev = st->tail;
	b->next = NULL;
	if (st->tail)
		st->tail->next = b;
	else
		st->head = b;
	st->tail = b;
	st->nbatches++;
	st->events += b->nevents;
	count_ranks(st->rank_count, b, 1);
}

static void unlink_batch(struct tp_store *st, struct tp_batch *b)
{
	if (b->prev)
		b->prev->next = b->next;
	else
		st->head = b->next;
	if (b->next)
		b->next->prev = b->prev;
	else
		st->tail = b->prev;
	st->nbatches--;
	st->events -= b->nevents;
	count_ranks(st->rank_count, b, -1);
	if (b->in_flight) {
		count_ranks(st->inflight_rank_count, b, -1);
		st->inflight--;
	}
	if (b->blob)
		st->mem_bytes -= tp_batch_blob_len(b);
	if (b->on_disk) {
		st->disk_bytes -= tp_spool_file_size(b);
		st->disk_events -= b->nevents;
	}
}

static void free_blob(struct tp_store *st, struct tp_batch *b)
{
	if (!b->blob)
		return;
	st->mem_bytes -= tp_batch_blob_len(b);
	free(b->blob);
	b->blob = NULL;
}

void tp_store_remove(struct tp_store *st, struct tp_batch *b)
{
	unlink_batch(st, b);
	if (b->on_disk && st->spool && tp_spool_remove(st->spool, b->seq) < 0)
		st->c.spool_errors++;
	tp_batch_free(b);
}

/* The batch could not be read back from the spool: it is lost, counted. */
static void drop_corrupt(struct tp_store *st, struct tp_batch *b)
{
	st->c.dropped_corrupt += b->nevents;
	st->c.spool_errors++;
	unlink_batch(st, b);
	tp_spool_set_aside(st->spool, b->seq);
	tp_batch_free(b);
}

static int load(struct tp_store *st, struct tp_batch *b)
{
	int r;

	if (b->blob)
		return 0;
	r = st->spool ? tp_spool_load(st->spool, b) : -ENOENT;
	if (r < 0)
		return r;
	st->mem_bytes += tp_batch_blob_len(b);
	return 0;
}

/* Write b to the spool if there is room. Returns 0, -ENOSPC (no room or no
 * spool) or -errno of a failed write. */
static int spill(struct tp_store *st, struct tp_batch *b, bool count)
{
	long n;

	if (b->on_disk)
		return 0;
	if (!st->spool || st->disk_bytes + tp_spool_file_size(b) > st->disk_cap)
		return -ENOSPC;
	n = tp_spool_write(st->spool, b);
	if (n < 0) {
		st->spool_failed = true;
		st->last_spool_error = (int)n;
		st->c.spool_errors++;
		return (int)n;
	}
	st->spool_failed = false;
	b->on_disk = true;
	st->disk_bytes += (uint64_t)n;
	st->disk_events += b->nevents;
	if (count)
		st->c.spooled += b->nevents;
	return 0;
}

/* Drop the lowest-ranked events (newest batch first) from one batch not in
 * flight. Returns the number of events dropped, 0 if nothing can be. */
static uint64_t evict_step(struct tp_store *st)
{
	struct tp_batch *b;
	bool loaded = false;
	int rank = -1, n;

	for (int r = 0; r < TP_RANKS; r++) {
		if (st->rank_count[r] > st->inflight_rank_count[r]) {
			rank = r;
			break;
		}
	}
	if (rank < 0)
		return 0;
	for (b = st->tail; b; b = b->prev)
		if (!b->in_flight && b->rank_count[rank])
			break;
	if (!b)
		return 0;
	if (!b->blob) {
		if (load(st, b) < 0) {
			uint64_t lost = b->nevents;

			drop_corrupt(st, b);
			return lost;
		}
		loaded = true;
	}

	/* Take the batch out of the totals, trim it, put it back. */
	{
		size_t old_mem = tp_batch_blob_len(b);
		size_t old_file = b->on_disk ? tp_spool_file_size(b) : 0;
		uint32_t old_n = b->nevents;

		count_ranks(st->rank_count, b, -1);
		n = tp_batch_drop_ranks(b, (uint8_t)rank);
		count_ranks(st->rank_count, b, 1);
		if (n < 0) { /* not framed: cannot happen for a batch we built or checked */
			uint64_t lost = b->nevents;

			st->c.dropped_corrupt += lost;
			unlink_batch(st, b);
			if (b->on_disk)
				tp_spool_set_aside(st->spool, b->seq);
			tp_batch_free(b);
			return lost;
		}
		st->c.dropped_full += (uint64_t)n;
		st->events -= (uint64_t)n;
		st->mem_bytes -= old_mem - tp_batch_blob_len(b);
		if (b->on_disk) {
			/* Rewrite the spool file with what is left (same name,
			 * replaced atomically), or remove it. */
			st->disk_bytes -= old_file;
			st->disk_events -= old_n;
			b->on_disk = false;
			if (!b->nevents || spill(st, b, false) < 0)
				tp_spool_remove(st->spool, b->seq);
			if (b->on_disk && loaded)
				free_blob(st, b);
		}
	}
	if (!b->nevents)
		tp_store_remove(st, b);
	return (uint64_t)n;
}

void tp_store_enforce(struct tp_store *st)
{
	while (st->mem_bytes > st->mem_cap) {
		struct tp_batch *b;

		/* Oldest first to disk: the newest are sent last. */
		for (b = st->head; b; b = b->next)
			if (b->blob && !b->in_flight)
				break;
		if (!b)
			break; /* all in flight: bounded by the window */
		if (b->on_disk) {
			free_blob(st, b);
			continue;
		}
		if (st->spill_deadline_ns != UINT64_MAX && tp_mono_ns() >= st->spill_deadline_ns)
			break; /* a slow disk at exit: the rest stays in memory, counted lost */
		if (spill(st, b, true) == 0) {
			free_blob(st, b);
			continue;
		}
		if (!evict_step(st))
			break;
	}
}

void tp_store_add(struct tp_store *st, struct tp_batch *b)
{
	append(st, b);
	st->mem_bytes += tp_batch_blob_len(b);
	tp_store_enforce(st);
}

void tp_store_add_spooled(struct tp_store *st, struct tp_batch *b, size_t file_size)
{
	free(b->blob);
	b->blob = NULL;
	b->on_disk = true;
	append(st, b);
	st->disk_bytes += file_size;
	st->disk_events += b->nevents;
}

struct tp_batch *tp_store_next(struct tp_store *st)
{
	struct tp_batch *b = st->head, *next;

	for (; b; b = next) {
		next = b->next;
		if (b->in_flight)
			continue;
		if (load(st, b) == 0)
			return b;
		drop_corrupt(st, b);
	}
	return NULL;
}

void tp_store_sent(struct tp_store *st, struct tp_batch *b)
{
	if (!b->in_flight) {
		b->in_flight = true;
		st->inflight++;
		count_ranks(st->inflight_rank_count, b, 1);
	}
	if (b->on_disk)
		free_blob(st, b);
}

void tp_store_unsend(struct tp_store *st, struct tp_batch *b)
{
	if (!b->in_flight)
		return;
	b->in_flight = false;
	st->inflight--;
	count_ranks(st->inflight_rank_count, b, -1);
}

void tp_store_unsend_all(struct tp_store *st)
{
	for (struct tp_batch *b = st->head; b && st->inflight; b = b->next)
		tp_store_unsend(st, b);
	tp_store_enforce(st);
}

struct tp_batch *tp_store_find(struct tp_store *st, uint64_t seq)
{
	/* Acks are for batches in flight, which are the oldest: search from
	 * the head, but stop once past the sequence. */
	for (struct tp_batch *b = st->head; b && b->seq <= seq; b = b->next)
		if (b->seq == seq)
			return b;
	return NULL;
}

struct tp_batch *tp_store_find_inflight(struct tp_store *st, uint64_t seq)
{
	uint32_t seen = 0;

	for (struct tp_batch *b = st->head; b && seen < st->inflight && b->seq <= seq; b = b->next) {
		if (!b->in_flight)
			continue;
		if (b->seq == seq)
			return b;
		seen++;
	}
	return NULL;
}

uint64_t tp_store_spill_all(struct tp_store *st, uint64_t deadline_ns)
{
	uint64_t lost = 0;

	/* The same policy as during a run with no memory left: oldest to disk,
	 * lowest ranks dropped (and counted) when the spool is full. */
	if (!st->spool)
		return st->events;
	st->mem_cap = 0;
	st->spill_deadline_ns = deadline_ns;
	tp_store_enforce(st);
	st->spill_deadline_ns = UINT64_MAX;
	for (struct tp_batch *b = st->head; b; b = b->next)
		if (!b->on_disk)
			lost += b->nevents;
	return lost;
}
