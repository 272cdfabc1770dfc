/*
 * raw_stage.h - the raw path: the first stage of a live pipeline keeps every
 * decoded event on disk, before enrichment, rules or sampling touch it.
 *
 * The stage only copies the record and its wall-clock time into a bounded
 * queue and passes the event on; a writer thread frames, batches, writes,
 * syncs, rotates and prunes segments (raw_writer.h). The reader thread never
 * waits for the disk: an event that finds the queue full is dropped from
 * storage only, and counted. Drops are counted by reason
 * (tapio_raw_events_dropped_total) and logged at most once per interval;
 * recovery after a write error is logged too.
 */
#ifndef TAPIO_STORAGE_RAW_STAGE_H
#define TAPIO_STORAGE_RAW_STAGE_H

#include <stddef.h>

#include "config/config.h"
#include "pipeline/pipeline.h"

/* The writer thread's name (its comm in /proc/PID/task/TID/comm). */
#define TP_RAW_THREAD_NAME "tapio-raw"

/* Open cfg->raw_dir (created 0700, locked) and start the writer thread.
 * On failure err holds a sentence for the user. */
int tp_raw_stage_new(struct tp_stage **out, const struct tp_config *cfg, char *err, size_t errlen);

struct tp_raw_stage_stats {
	uint64_t queued;	/* events handed to the writer thread */
	uint64_t dropped_queue; /* found the queue full */
	uint64_t stored;	/* written to a segment */
	uint64_t dropped_write; /* the write failed */
};

/*
 * Wait until the writer thread has written (and synced) every event queued
 * before the call, at most timeout_ms, then fill st. Reader thread only.
 * Returns 0 or -ETIMEDOUT.
 */
int tp_raw_stage_sync(struct tp_stage *stage, int timeout_ms, struct tp_raw_stage_stats *st);

#endif
