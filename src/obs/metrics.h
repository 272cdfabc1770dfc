/*
 * obs/metrics.h - a registry of counters and gauges owned by the units that
 * update them.
 *
 * A unit declares its metrics as static struct tp_metric, registers them
 * once at start, and bumps them with tp_metric_add (a relaxed atomic: any
 * thread may update), or with tp_metric_add_owned when one thread alone
 * ever updates the metric (the reader's per-event counters). Gauges may be
 * computed on read through a callback. The registry renders everything as
 * Prometheus text or as one log line; whoever exposes metrics (HTTP,
 * SIGUSR1, periodic stats) only renders.
 */
#ifndef TAPIO_METRICS_H
#define TAPIO_METRICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/buf.h"

enum tp_metric_type {
	TP_METRIC_COUNTER,
	TP_METRIC_GAUGE,
};

struct tp_metric {
	const char *name;    /* tapio_..., [a-z_] */
	const char *help;
	const char *labels;  /* Prometheus label text without braces, e.g. type="process.exec"; may be NULL */
	enum tp_metric_type type;
	bool quiet; /* left out of the log line (per-rule metrics: too many) */
	_Atomic uint64_t value;
	/* Optional: computed value, read at render time. */
	double (*read)(void *ctx);
	void *ctx;
	struct tp_metric *next;
};

#define TP_COUNTER_INIT(n, h) { .name = n, .help = h, .type = TP_METRIC_COUNTER }
#define TP_GAUGE_INIT(n, h) { .name = n, .help = h, .type = TP_METRIC_GAUGE }

/* Add m to the registry (idempotent). */
void tp_metric_register(struct tp_metric *m);
/* Remove m (for metrics of an object that is destroyed, such as a rule set). */
void tp_metric_unregister(struct tp_metric *m);

static inline void tp_metric_add(struct tp_metric *m, uint64_t n)
{
	atomic_fetch_add_explicit(&m->value, n, memory_order_relaxed);
}

/* For a metric that one thread alone updates: a plain load, add and store,
 * where tp_metric_add is a locked add. A locked add waits for the CPU's
 * store buffer to drain; on the reader thread, several per event held ~8 %
 * of its profile (docs/performance.md). Readers on other threads still see
 * whole values. */
static inline void tp_metric_add_owned(struct tp_metric *m, uint64_t n)
{
	atomic_store_explicit(&m->value, atomic_load_explicit(&m->value, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

static inline void tp_metric_set(struct tp_metric *m, uint64_t v)
{
	atomic_store_explicit(&m->value, v, memory_order_relaxed);
}

static inline uint64_t tp_metric_get(const struct tp_metric *m)
{
	return atomic_load_explicit(&m->value, memory_order_relaxed);
}

double tp_metric_value(const struct tp_metric *m);

/* Prometheus text exposition format 0.0.4. */
void tp_metrics_render_prometheus(struct tp_buf *b);
/* "name{labels}=value ..." for every non-zero metric that is not quiet,
 * then what the line sections add, for a log line. */
void tp_metrics_render_line(struct tp_buf *b);

/* A unit's own part of the log line (e.g. the costliest rules), appended by
 * tp_metrics_render_line on the thread that renders the line. fn NULL
 * removes the section of ctx. At most 4. */
void tp_metrics_line_section(void (*fn)(void *ctx, struct tp_buf *b), void *ctx);

/* The sum of every registered metric of this name, over all its labels. */
double tp_metrics_sum(const char *name);

/* Look a metric up by name and label text (NULL: none); for tests and stats. */
struct tp_metric *tp_metric_find(const char *name, const char *labels);

#endif
