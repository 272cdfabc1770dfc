/*
 * event_meta.h - what the semantic path attaches to an event on its way to
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

struct tp_alert {
	const char *rule;
	const char *severity;  /* debug, info, notice, warning, error, critical */
	double importance;     /* [0, 1] */
	const char *const *tags;
	size_t ntags;
	const char *output;    /* the rendered message */
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
};

#endif
