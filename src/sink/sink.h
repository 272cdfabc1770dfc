/*
 * sink.h - tapio-sink, the reference receiver of tapio.v1 StreamEvents: it
 * accepts streams from any number of collectors, writes each event as a
 * JSON line (sink/json.h), acks each batch once it is written, and writes
 * a batch resent after a lost ack only once (sink/dedup.h).
 *
 * The output file is the record of what was taken: at start the sink reads
 * it back to learn which batches it already has, and cuts off a batch whose
 * lines a crash left incomplete, so it is written whole when resent.
 */
#ifndef TAPIO_SINK_SINK_H
#define TAPIO_SINK_SINK_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sink/dedup.h"
#include "util/buf.h"

struct tp_sink_opts {
	const char *listen;       /* HOST:PORT; port 0 picks a free one */
	const char *out_path;     /* NULL: stdout */
	const char *token_file;   /* require "authorization: Bearer <token>" */
	const char *tls_cert;     /* PEM server certificate and key: TLS */
	const char *tls_key;
	const char *tls_ca;       /* PEM CA: require client certificates it signed */
	bool fsync;               /* fsync the output before each ack */
	uint64_t max_request_bytes;
};

/* What the sink does with one request, apart from gRPC: for the server
 * and the fuzzer. */
struct tp_sink_state {
	int out_fd;
	bool fsync;
	struct tp_dedup dedup;
	struct tp_buf lines;
	uint64_t batches, events, duplicates, bad_requests;
};

enum tp_sink_verdict {
	TP_SINK_WRITTEN,   /* new batch, written: ack it */
	TP_SINK_DUPLICATE, /* seen before: ack it again, write nothing */
	TP_SINK_BAD,       /* malformed request: end the call with INVALID_ARGUMENT */
	TP_SINK_IO_ERROR,  /* could not write: end the call with UNAVAILABLE, no ack */
};

void tp_sink_state_init(struct tp_sink_state *s, int out_fd, bool fsync);
void tp_sink_state_free(struct tp_sink_state *s);
/* Read back an output file (fd open for reading and writing): seed the
 * dedup set and cut an incomplete last batch. Returns 0 or -errno. */
int tp_sink_recover(struct tp_sink_state *s, int fd, char *err, size_t errlen);
/* Handle one TapioStreamEventsRequest. *seq is the batch sequence (for the
 * ack); err says what was wrong for TP_SINK_BAD / TP_SINK_IO_ERROR. */
enum tp_sink_verdict tp_sink_handle(struct tp_sink_state *s, const uint8_t *msg, size_t len,
				    uint64_t *seq, char *err, size_t errlen);

/* Serve until *stop is set. ready(port) is called once listening. */
int tp_sink_run(const struct tp_sink_opts *o, volatile sig_atomic_t *stop,
		void (*ready)(int port, void *ctx), void *ctx, char *err, size_t errlen);

#endif
