/*
 * pipeline/pipeline.h - what happens to each decoded event.
 *
 * Stages run in order (raw storage, enrichment, the Lua rules, sampling...);
 * each may pass the event on, drop it from the semantic path, or emit
 * alerts of its own through tp_pipeline_emit. Whatever passes every stage
 * goes to all outputs. A stage drops by returning the reason; the pipeline
 * counts it, once for every stage, in tapio_events_dropped_total{reason},
 * so that events in = passed + dropped.
 *
 * The pipeline runs on the reader's thread alone (its metrics are bumped
 * without a locked add); it never blocks on the network.
 */
#ifndef TAPIO_PIPELINE_H
#define TAPIO_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "events/event.h"
#include "events/event_meta.h"
#include "obs/metrics.h"
#include "output/output.h"

struct tp_pipeline;
struct tp_stage;

enum tp_stage_verdict {
	TP_STAGE_PASS = 0, /* go on to the next stage; else an enum tp_drop_reason */
};

/* Why an event is kept from the outputs: the reason label of
 * tapio_events_dropped_total (tp_drop_reason_names). */
enum tp_drop_reason {
	TP_DROP_FILTERED = 1,	     /* a Lua filter returned false */
	TP_DROP_BELOW_THRESHOLD,     /* importance under rules.importance_threshold */
	TP_DROP_BELOW_MIN_SEVERITY,  /* no alert at or above filter.min_severity */
	TP_DROP_SAMPLED,	     /* sampling */
	TP_DROP_RATE_LIMIT_PROCESS,  /* rate_limit.per_process */
	TP_DROP_RATE_LIMIT_CONTAINER, /* rate_limit.per_container */
	TP_DROP_RATE_LIMIT_GLOBAL,   /* rate_limit.global */
	TP_DROP_OUT_OF_SCOPE,	     /* filter.processes / exclude_processes */
	TP_DROP_EXCLUDED_CONTAINER,  /* filter.containers / exclude_containers */
	TP_DROP_EXCLUDED_K8S_NAMESPACE, /* filter.k8s_namespaces / exclude_... */
	TP_DROP_AGGREGATED,	     /* its alert folded into another line, the event itself unimportant */
	TP_DROP_REASONS,
};

extern const char *const tp_drop_reason_names[TP_DROP_REASONS];

struct tp_stage_ops {
	const char *name;
	/* Returns TP_STAGE_PASS, or the enum tp_drop_reason of a drop (the
	 * pipeline counts it). meta is shared by the stages of one event. */
	int (*event)(struct tp_stage *st, struct tp_pipeline *p, struct tp_event *ev,
		     struct tp_event_meta *meta);
	/* The reasons event may return, 0-terminated (NULL: it never drops):
	 * their series are registered when the stage is added. */
	const enum tp_drop_reason *drops;
	/* Optional: called after each drained batch with the monotonic time. */
	void (*tick)(struct tp_stage *st, struct tp_pipeline *p, uint64_t now_ns);
	/* Optional: push buffered work out (before exit, and at each tick). */
	void (*flush)(struct tp_stage *st);
	void (*close)(struct tp_stage *st);
};

struct tp_stage {
	const struct tp_stage_ops *ops;
};

#define TP_PIPELINE_MAX_STAGES 16
#define TP_PIPELINE_MAX_OUTPUTS 8
#define TP_PIPELINE_MAX_FOLLOW 64

struct tp_pipeline {
	struct tp_stage *stages[TP_PIPELINE_MAX_STAGES];
	size_t nstages;
	struct tp_output *outputs[TP_PIPELINE_MAX_OUTPUTS];
	size_t noutputs;
	uint64_t events_in;
	uint64_t events_out;
	/* The 1 in N that in-kernel sampling kept of each category (0 or 1:
	 * all): every event of the category starts with meta.sample_rate = N,
	 * which later sampling multiplies. */
	uint32_t kernel_sample_rate[TP_CAT_MAX];
	struct tp_metric m_events_by_type[TP_CAT_MAX][64];
	struct tp_metric m_emitted;
	struct tp_metric m_passed; /* events that passed every stage */
	struct tp_metric m_dropped[TP_DROP_REASONS]; /* registered for the stages' reasons */
	struct tp_metric m_output_errors;
	/* Time in each stage (and in the outputs, the last slot), in ns,
	 * estimated from 1 in TP_PIPELINE_TIME_EVERY events: what Lua (the
	 * "rules" stage), storage or sampling cost, without a clock read per
	 * event and stage. */
	struct tp_metric m_stage_ns[TP_PIPELINE_MAX_STAGES + 1];
	/* What one clock read adds to each timed interval (the end of the read
	 * that starts it and the start of the one that ends it), measured at
	 * init and taken off each interval. */
	uint64_t clock_read_ns;
	char stage_labels[TP_PIPELINE_MAX_STAGES + 1][48];
	/* Alerts that follow the current event (tp_pipeline_follow). */
	struct {
		size_t stage; /* the stages after this one */
		struct tp_event_meta meta;
	} follow[TP_PIPELINE_MAX_FOLLOW];
	size_t nfollow;
	size_t cur_stage; /* the stage running on the current event */
};

#define TP_PIPELINE_TIME_EVERY 64

void tp_pipeline_init(struct tp_pipeline *p);
/* The pipeline takes ownership of stages and outputs (closed by tp_pipeline_close). */
int tp_pipeline_add_stage(struct tp_pipeline *p, struct tp_stage *st);
int tp_pipeline_add_output(struct tp_pipeline *p, struct tp_output *o);

/*
 * Events come from a source that kept 1 in rates[c] events of category c
 * (programs.<category>.sample; NULL or 0/1: all). For live sources only:
 * stored events do not record the rate they were taken at. A
 * memory.page_fault record carries its own 1-in-sample_period (the perf
 * event's), which multiplies, for any source.
 */
void tp_pipeline_set_kernel_sampling(struct tp_pipeline *p, const uint32_t rates[TP_CAT_MAX]);

/* The tp_event_fn for sources: run one event through the stages. */
int tp_pipeline_event(void *pipeline, struct tp_event *ev);

/*
 * From a stage's event call: a further alert of the current event (the
 * first rides the event as meta.alert). It follows the event, in the order
 * of the calls, through the stages after the calling one and then to the
 * outputs, once the event has gone through them (or was dropped): alerts
 * leave in the order of their events. meta is copied; what it points to
 * must stay valid until the current tp_pipeline_event returns. Past
 * TP_PIPELINE_MAX_FOLLOW alerts of one event the rest go to the outputs at
 * once. Returns 0, or -ENOSPC when it went out at once.
 */
int tp_pipeline_follow(struct tp_pipeline *p, const struct tp_event *ev,
		       const struct tp_event_meta *meta);

/* Send one event (or alert) to every output. */
void tp_pipeline_emit(struct tp_pipeline *p, const struct tp_event *ev,
		      const struct tp_event_meta *meta);

/* After each drained batch: stage ticks and output flushes. */
void tp_pipeline_tick(struct tp_pipeline *p, uint64_t now_ns);
void tp_pipeline_flush(struct tp_pipeline *p);
void tp_pipeline_close(struct tp_pipeline *p);

#endif
