/*
 * output/output.h - where selected events and alerts go: stdout, a Tapio server,
 * an OTLP receiver. Each output embeds struct tp_output first.
 */
#ifndef TAPIO_OUTPUT_H
#define TAPIO_OUTPUT_H

#include "events/event.h"
#include "events/event_meta.h"

struct tp_output;

struct tp_output_ops {
	const char *name;
	/* Take one event (meta may be NULL). Must not block for long: an output
	 * that talks to the network queues and sends from its own thread. */
	int (*emit)(struct tp_output *o, const struct tp_event *ev, const struct tp_event_meta *meta);
	/* Called after each drained batch and before exit. */
	void (*flush)(struct tp_output *o);
	void (*close)(struct tp_output *o);
};

struct tp_output {
	const struct tp_output_ops *ops;
};

#endif
