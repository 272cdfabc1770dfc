/*
 * json.h - a received tapio.v1 event batch as JSON lines, one per event, in
 * the collector's -o json shape ("type", "ts", "pid"..., the type's fields
 * by name with "<name>_str" for symbolic forms, then importance, rule,
 * severity, output, tags), each line opening with "collector_id" and
 * "batch_seq" so a reader (and the sink itself, at restart) can tell which
 * batch it came from.
 */
#ifndef TAPIO_SINK_JSON_H
#define TAPIO_SINK_JSON_H

#include "tapio/v1/tapio.pb-c.h"
#include "util/buf.h"

void tp_sink_batch_json(const Tapio__V1__EventBatch *b, struct tp_buf *out);

#endif
