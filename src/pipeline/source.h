/*
 * pipeline/source.h - where decoded events come from.
 *
 * The live BPF source and the stored raw-event source sit behind the same
 * small table of functions, so the pipeline and the rules run the same on
 * both and are testable without root.
 */
#ifndef TAPIO_SOURCE_H
#define TAPIO_SOURCE_H

#include <stdint.h>

#include "events/event.h"

/* Called for each decoded event; the event is valid until it returns.
 * Return < 0 to stop the current poll. */
typedef int (*tp_event_fn)(void *ctx, struct tp_event *ev);

struct tp_source;

struct tp_source_ops {
	const char *name;
	/*
	 * Deliver at most max events to fn, waiting up to timeout_ms for the
	 * first when none is ready. Returns the number delivered, -EINTR when a
	 * signal interrupted the wait, -ENODATA at the end of a finite source,
	 * or another negative errno.
	 */
	int (*poll)(struct tp_source *src, int timeout_ms, int max, tp_event_fn fn, void *ctx);
	/* Optional: stop producing (detach probes); what is queued stays
	 * readable with poll. Called once, before the final drain. */
	void (*stop)(struct tp_source *src);
	/* Records that could not be decoded, by enum tp_decode_error. */
	uint64_t (*decode_errors)(const struct tp_source *src, int kind);
	void (*close)(struct tp_source *src);
};

struct tp_source {
	const struct tp_source_ops *ops;
};

static inline int tp_source_poll(struct tp_source *src, int timeout_ms, int max, tp_event_fn fn,
				 void *ctx)
{
	return src->ops->poll(src, timeout_ms, max, fn, ctx);
}

static inline void tp_source_close(struct tp_source *src)
{
	if (src)
		src->ops->close(src);
}

#endif
