/*
 * otlp.h - the --otlp output: selected events and alerts exported as
 * OpenTelemetry logs (opentelemetry.proto.collector.logs.v1.LogsService/
 * Export, opentelemetry-proto v1.5.0) to any OTLP/gRPC receiver, such as
 * an OpenTelemetry Collector. At least once: a batch is kept until an OK
 * status; receivers do not deduplicate, so a retry after a lost answer
 * may deliver a batch twice.
 */
#ifndef TAPIO_OUTPUT_OTLP_H
#define TAPIO_OUTPUT_OTLP_H

#include <stddef.h>

#include "config/config.h"
#include "output/output.h"

#define TP_OTLP_LOGS_METHOD "/opentelemetry.proto.collector.logs.v1.LogsService/Export"

int tp_output_otlp_new(struct tp_output **out, const struct tp_config *cfg, char *err,
		       size_t errlen);

#endif
