/*
 * grpc.h - the --server output: selected events and alerts streamed to a
 * Tapio server over tapio.v1.TapioService/StreamEvents, at least once.
 */
#ifndef TAPIO_OUTPUT_GRPC_H
#define TAPIO_OUTPUT_GRPC_H

#include <stddef.h>

#include "config/config.h"
#include "output/output.h"

#define TP_TAPIO_STREAM_METHOD "/tapio.v1.TapioService/StreamEvents"

/* Start streaming to cfg->server. Returns 0 with *out set, or -errno with
 * err saying why (unreadable token or TLS files, spool in use...). */
int tp_output_grpc_new(struct tp_output **out, const struct tp_config *cfg, char *err,
		       size_t errlen);

#endif
