/*
 * output/responses.h - what a receiver's response says, parsed from its
 * bytes: the tapio.v1 stream's TapioStreamEventsResponse (acks, rejections,
 * control) and OTLP's ExportLogsServiceResponse (partial success).
 *
 * Bytes from a peer: anything must parse into a bounded response or be
 * refused. Text (a rejection's reason, an OTLP error message) is made safe
 * for the log here (util/peertext.h) and bounded, so no caller logs a peer's
 * raw bytes.
 */
#ifndef TAPIO_OUTPUT_RESPONSES_H
#define TAPIO_OUTPUT_RESPONSES_H

#include <stddef.h>
#include <stdint.h>

#include "delivery/client.h"

/* A rejection's reason as kept: at most this many bytes, sanitised. */
#define TP_REJECTION_REASON_MAX 256

/* Returns 0, -EBADMSG (not a response; err says so) or -ENOMEM; r is
 * filled on 0 and empty otherwise. */
int tp_tapio_parse_response(const uint8_t *p, size_t len, struct tp_response *r, char *err,
			    size_t errlen);
int tp_otlp_parse_response(const uint8_t *p, size_t len, struct tp_response *r, char *err,
			   size_t errlen);

#endif
