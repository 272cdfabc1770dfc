/*
 * output/lines.h - at-least-once delivery of text lines from a thread of
 * its own, for the outputs that write lines to a local destination or a
 * simple peer: a JSON-lines file, syslog, an HTTP webhook.
 *
 * The reader thread pushes one formatted line (ending in '\n') and never
 * waits: past the queue cap the line is dropped and counted (queue_full).
 * The worker takes what was queued and hands it to the sink's deliver(),
 * which writes as much as it can; what it could not write stays, in order,
 * and is offered again after a backoff (with jitter, as the gRPC outputs
 * do), so a destination that fails for a while (a full disk, a receiver
 * restarting) loses nothing within the cap. A line the destination refuses
 * for good (deliver returns -EBADMSG) is dropped and counted (rejected).
 * At exit the worker delivers for up to drain_timeout; what is left is
 * counted (shutdown). Nothing is dropped without a count. The metrics are
 * the gRPC outputs' families with output="<name>", so one dashboard covers
 * every output: tapio_delivery_events_acked_total (delivered),
 * tapio_delivery_events_dropped_total{reason=queue_full|rejected|shutdown|
 * encode}, tapio_delivery_call_failures_total, tapio_delivery_connected,
 * tapio_delivery_queue_bytes, tapio_delivery_queue_events,
 * tapio_delivery_last_success_timestamp_seconds; /healthz is degraded
 * ("<output> delivery") while the destination fails.
 */
#ifndef TAPIO_OUTPUT_LINES_H
#define TAPIO_OUTPUT_LINES_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "util/buf.h"

struct tp_lines;

struct tp_lines_sink {
	const char *name; /* "file", "syslog", "webhook": metric label, log prefix */
	void *ctx;
	/* Deliver data (whole lines, each ending in '\n') from its start. Set
	 * *done to the bytes delivered and return 0 when all of it went, or a
	 * negative errno with err filled; -EBADMSG: the first line is refused
	 * for good (it is dropped, the rest offered again at once). */
	int (*deliver)(void *ctx, const char *data, size_t len, size_t *done, char *err,
		       size_t errlen);
	/* Worker thread, after each round (may be NULL): idle upkeep. */
	void (*tick)(void *ctx, uint64_t now_ns);
	/* Worker thread, at its end (may be NULL). */
	void (*close)(void *ctx);
};

/* Start the worker (the sink must outlive it), with the delivery.* keys of
 * cfg: queue_size (lines waiting, at most), backoff_min/max, drain_timeout. */
int tp_lines_start(struct tp_lines **out, const struct tp_lines_sink *sink,
		   const struct tp_config *cfg, char *err, size_t errlen);

/* Reader thread: queue one line. Returns 0, or -ENOBUFS / -ENOMEM when it
 * was dropped (counted). */
int tp_lines_push(struct tp_lines *l, const char *line, size_t len);

/* Reader thread: queue the line formatted in b (counted as an encode drop
 * when b failed), and empty b. Returns as tp_lines_push. */
int tp_lines_push_buf(struct tp_lines *l, struct tp_buf *b);

/* Deliver what is queued (up to drain_timeout), count the rest, stop the
 * worker, free everything. */
void tp_lines_stop(struct tp_lines *l);

#endif
