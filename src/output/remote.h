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

/* What makes a remote output the gRPC or the OTLP one. */
struct tp_remote_spec {
	struct tp_transport transport; /* name, method, callbacks (ctx set here) */
	tp_remote_encode_fn encode;
	const char *target; /* HOST:PORT */
	const char *tls_ca, *tls_cert, *tls_key;
};

/* A remote output for spec, its delivery client's options from cfg (spool
 * in <spool_dir>/<transport name>), its client started. Returns 0, or
 * -errno with err saying why. */
int tp_remote_output_new(struct tp_output **out, const struct tp_remote_spec *spec,
			 const struct tp_config *cfg, char *err, size_t errlen);

#endif
