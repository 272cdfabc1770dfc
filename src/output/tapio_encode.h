/*
 * tapio_encode.h - one event (with what the semantic path attached) as a
 * tapio.v1.Event, framed as an element of EventBatch.events, ready to be
 * appended to a batch.
 *
 * Fields are taken generically from the type's descriptor table, so a new
 * event type needs nothing here. Strings are made valid UTF-8 the way the
 * JSON formatter does it (a stray byte 0xXX becomes U+00XX), so every
 * protobuf implementation accepts what we send.
 */
#ifndef TAPIO_OUTPUT_TAPIO_ENCODE_H
#define TAPIO_OUTPUT_TAPIO_ENCODE_H

#include "events/event.h"
#include "events/event_meta.h"
#include "util/arena.h"
#include "util/buf.h"

/* EventBatch field numbers used when framing by hand. */
#define TP_PB_BATCH_EVENTS 3
#define TP_PB_REQUEST_BATCH 1

/* Append the framed event to out. arena is scratch (reset here). Returns 0
 * or -ENOMEM. */
int tp_tapio_encode_event(const struct tp_event *ev, const struct tp_event_meta *meta,
			  struct tp_arena *arena, struct tp_buf *out);

/* The EventBatch fields other than events (collector id, sequence...). */
int tp_tapio_encode_batch_header(const char *collector_id, uint64_t seq, const char *correlation,
				 const char *hostname, struct tp_buf *out);

/* Severity name ("warning") to the tapio.v1.Severity value, 0 if unknown. */
int tp_tapio_severity(const char *name);

#endif
