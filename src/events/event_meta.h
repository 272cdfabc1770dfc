/*
 * events/event_meta.h - what the semantic path attaches to an event on its way to
 * the outputs: importance, alert (a rule match), tags and fields set by
 * enrich functions, the sampling rate the event survived, and the process
 * context from the enrichment stage (proc_ctx.h).
 *
 * All pointers are borrowed for the duration of one output call.
 */
#ifndef TAPIO_EVENT_META_H
#define TAPIO_EVENT_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tp_value_kind {
	TP_V_STR,
	TP_V_INT,
	TP_V_NUM,
	TP_V_BOOL,
};

struct tp_value {
	enum tp_value_kind kind;
	union {
		struct {
			const char *s;
			size_t len;
		} str;
		int64_t i;
		double d;
		bool b;
	};
};

struct tp_kv {
	const char *key;
	struct tp_value value;
};

/* Severity levels, lowest first (README, "Rules"). An event without an alert is
 * TP_SEV_EVENT: the outputs report it as info (OTLP SeverityNumber INFO). */
enum tp_severity {
	TP_SEV_DEBUG,
	TP_SEV_INFO,
	TP_SEV_NOTICE,
	TP_SEV_WARNING,
	TP_SEV_ERROR,
	TP_SEV_CRITICAL,
	TP_SEV_COUNT,
};
#define TP_SEV_EVENT TP_SEV_INFO

/* "debug" ... "critical", NULL-terminated, in enum order. */
extern const char *const tp_severity_names[TP_SEV_COUNT + 1];

/* The level of a severity name (warn, err and crit too), or -1 when it is
 * none of them. */
int tp_severity_parse(const char *name);

struct tp_aggregate_spec;

struct tp_alert {
	const char *rule;
	const char *severity;  /* one of tp_severity_names */
	double importance;     /* [0, 1] */
	const char *const *tags;
	size_t ntags;
	const char *output;    /* the rendered message */
	/* How repeats of this rule fold into one alert (lua/aggregate.h);
	 * NULL: the defaults. */
	const struct tp_aggregate_spec *aggregate;
};

struct tp_proc_ctx;

struct tp_event_meta {
	double importance;          /* [0, 1]; negative when nothing scored the event */
	const struct tp_alert *alert;
	const char *const *tags;
	size_t ntags;
	const struct tp_kv *kv;
	size_t nkv;
	uint32_t sample_rate;       /* 1 in N events of this stream kept; 0 or 1: not sampled */
	const struct tp_proc_ctx *proc; /* exe, parent, container, k8s; NULL: not enriched */
	/* An alert that follows its event (tp_pipeline_follow: alerts 2..N of
	 * one event): not an event of its own, so a stage that takes its
	 * alert away stops it rather than passing the event on again. */
	bool follows;
};

#endif
