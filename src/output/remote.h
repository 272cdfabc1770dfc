/*
 * remote.h - what the gRPC and OTLP outputs share: an output that encodes
 * each event on the reader thread and hands it to a delivery client
 * (delivery/client.h), with the client's options taken from the config.
 */
#ifndef TAPIO_OUTPUT_REMOTE_H
#define TAPIO_OUTPUT_REMOTE_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "delivery/client.h"
#include "output/output.h"
#include "util/arena.h"
#include "util/buf.h"

struct tp_remote_output;

/* Append one framed event to out. Returns 0 or -errno. */
typedef int (*tp_remote_encode_fn)(struct tp_remote_output *ro, const struct tp_event *ev,
				   const struct tp_event_meta *meta, struct tp_arena *arena,
				   struct tp_buf *out);

struct tp_remote_output {
	struct tp_output base;
	struct tp_client *client;
	struct tp_transport transport;
	tp_remote_encode_fn encode;
	struct tp_arena arena;
	struct tp_buf item;
	char *collector_id;   /* valid UTF-8 */
	char *hostname;       /* valid UTF-8 */
	const char *correlation;
};

/* Options for an output named name ("grpc", "otlp") sending to target, from
 * cfg: spool in <spool_dir>/<name>, TLS files given. */
void tp_remote_client_opts(const struct tp_config *cfg, const char *name, const char *target,
			   const char *tls_ca, const char *tls_cert, const char *tls_key,
			   struct tp_client_opts *o, char *spool_path, size_t spool_len);

/* Set up ro (transport filled by the caller except ctx) and start its
 * client. On failure err says why and ro is freed. */
int tp_remote_output_start(struct tp_remote_output *ro, const struct tp_config *cfg,
			   const struct tp_client_opts *o, char *err, size_t errlen);

#endif
