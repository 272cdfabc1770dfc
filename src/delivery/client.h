/*
 * client.h - at-least-once delivery of encoded events to a gRPC receiver,
 * from a thread of its own.
 *
 * The reader thread pushes encoded events (never blocking: past the
 * staging cap an event is dropped and counted). The delivery thread, with
 * its own completion queue, seals batches by size and by flush interval,
 * keeps them in a store (memory, then the spool) until the receiver acks
 * them, and resends from the oldest unacked batch after a reconnect, with
 * exponential backoff and jitter between attempts. The transport says how
 * a batch becomes a request and a response becomes acks:
 *
 *   streaming: one long bidirectional call; batches go out in order within
 *     a window of max_inflight unacked; responses carry acks by sequence
 *     (tapio.v1.TapioService/StreamEvents).
 *   unary: one call per batch, up to max_inflight at once; an OK status is
 *     the ack (OTLP LogsService/Export).
 *
 * A bearer token is read from token_file at every (re)connect, so fixing a
 * wrong token needs no restart. Counters and gauges are registered as
 * tapio_delivery_*{output="<name>"}.
 */
#ifndef TAPIO_DELIVERY_CLIENT_H
#define TAPIO_DELIVERY_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

struct tp_client;

/* What one response says. Arrays are owned by the response. */
struct tp_response {
	uint64_t *acks;
	size_t nacks;
	struct tp_rejection {
		uint64_t seq;
		char *reason;
	} *rejections;
	size_t nrejections;
	bool has_control;           /* a Control message came (max_batch_events 0 in it:
				     * back to the collector's own batch size) */
	uint32_t max_batch_events;  /* from the control message */
	int64_t rejected_events;    /* unary: events of the batch the receiver refused */
	char message[256];          /* unary: why, from the receiver */
};

/* Free what a parsed response holds and zero it (a zeroed one is fine). */
static inline void tp_response_free(struct tp_response *r)
{
	for (size_t i = 0; i < r->nrejections; i++)
		free(r->rejections[i].reason);
	free(r->rejections);
	free(r->acks);
	memset(r, 0, sizeof(*r));
}

struct tp_transport {
	const char *name;    /* "grpc", "otlp": metric label and log prefix */
	const char *method;  /* "/tapio.v1.TapioService/StreamEvents" */
	bool streaming;
	void *ctx;
	/* The header stored with a batch when it is sealed (may be empty). */
	int (*batch_header)(void *ctx, uint64_t seq, struct tp_buf *out);
	/* Everything of a request before the batch's events. */
	int (*request_prefix)(void *ctx, const uint8_t *hdr, size_t hdr_len, size_t body_len,
			      struct tp_buf *out);
	/* Parse one response. Returns 0 or -EBADMSG with err filled. */
	int (*parse_response)(void *ctx, const uint8_t *p, size_t len, struct tp_response *r,
			      char *err, size_t errlen);
};

struct tp_client_opts {
	const char *target;         /* HOST:PORT */
	const char *tls_ca;         /* PEM files; either set: TLS */
	const char *tls_cert;
	const char *tls_key;
	const char *token_file;     /* NULL: no token */
	const char *spool_dir;      /* NULL: memory only */
	uint64_t spool_max_bytes;
	uint64_t queue_max_bytes;   /* batches in memory; staging may add half of it */
	uint64_t batch_max_bytes;
	uint32_t batch_max_events;
	uint32_t max_inflight;
	uint64_t max_response_bytes;
	uint64_t flush_interval_ns;
	uint64_t backoff_min_ns, backoff_max_ns;
	uint64_t ack_timeout_ns;
	uint64_t drain_timeout_ns;
	/* First batch sequence at least this (the spool may raise it). */
	uint64_t first_seq;
};

/* Start the delivery thread. The transport must outlive the client. */
int tp_client_start(struct tp_client **out, const struct tp_client_opts *opts,
		    const struct tp_transport *t, char *err, size_t errlen);

/* Reader thread: take one framed event. Returns 0, or -ENOBUFS / -ENOMEM
 * when it was dropped (counted here). */
int tp_client_push(struct tp_client *c, const void *item, size_t len, uint8_t rank);
/* Count an event the caller could not encode. */
void tp_client_count_encode_error(struct tp_client *c);

/* Deliver what is queued (up to drain_timeout), spool the rest, stop the
 * thread and free everything. */
void tp_client_stop(struct tp_client *c);

#endif
