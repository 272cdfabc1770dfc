/*
 * aggregate.h - alert aggregation: the matches of one rule for one key
 * (process, container, executable, a field...) within a window become one
 * alert plus a count, with the first and last time.
 *
 * A (rule, key) opens a window at its first match. Its first line goes out
 * `hold` later (2 s by default) and reports every match of that time: a
 * burst (a tool writing four account files, loading a dozen BPF programs)
 * is one line with `count`, `first_ts` and `last_ts` beside the event's
 * fields, and "(N times in T s by the same process, first ..., last ...)"
 * after the message. Matches after that, until the window ends (60 s by
 * default, rules.aggregate_window), are folded into one closing line at
 * its end; none, no closing line. Every match is counted
 * (tapio_rules_matches_total = tapio_alert_lines_total +
 * tapio_alerts_aggregated_total once the lines are out), and its event is
 * in raw storage like every event. A rule declares its own grouping:
 *
 *   aggregate = { by = "process", window = "60s", hold = "2s" } -- the default
 *   aggregate = { by = { "container", "path" }, window = "10m" }
 *   aggregate = { hold = 0 }   -- the first match at once, repeats folded
 *   aggregate = false          -- every match its own alert, at once
 *
 * by: process (the pid), container (the container id; the cgroup on the
 * host), exe (the executable; the comm without enrichment), parent (the
 * ppid), user (the uid), rule (one group for the whole rule), or the name
 * of a field of the rule's events; a list combines them. window and hold:
 * a duration ("90s") or a number of seconds.
 *
 * The stage sits after the rules. Windows run on the events' own time, so
 * a replay folds as the live run did; a live run also moves them on with
 * the wall clock when no event comes. At the end of a run (or when the
 * table of windows is full) open windows end early: every match is
 * reported.
 */
#ifndef TAPIO_LUA_AGGREGATE_H
#define TAPIO_LUA_AGGREGATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pipeline/pipeline.h"

struct lua_State;

enum tp_agg_by {
	TP_AGG_PROCESS,
	TP_AGG_CONTAINER,
	TP_AGG_EXE,
	TP_AGG_PARENT,
	TP_AGG_USER,
	TP_AGG_RULE,
	TP_AGG_FIELD,
};

#define TP_AGG_MAX_BY 4
#define TP_AGG_FIELD_MAX 48

struct tp_aggregate_spec {
	bool off;	    /* aggregate = false */
	uint64_t window_ns; /* 0: the stage's default window */
	bool hold_set;	    /* hold given (0 is a value: no hold) */
	uint64_t hold_ns;
	unsigned nby;	    /* 0: by process */
	enum tp_agg_by by[TP_AGG_MAX_BY];
	char field[TP_AGG_MAX_BY][TP_AGG_FIELD_MAX]; /* for TP_AGG_FIELD */
};

/*
 * Read a rule's `aggregate` value at stack index idx: false, true (the
 * defaults) or a table { by = ..., window = ... }. Unknown keys, unknown
 * groupings and bad windows are errors (err names the key). Stack effect:
 * none. Returns 0 or -EINVAL.
 */
int tp_aggregate_parse(struct lua_State *L, int idx, struct tp_aggregate_spec *out, char *err,
		       size_t errlen);

/* "process", "container", ... or the field's name, "+"-joined. */
void tp_aggregate_describe(const struct tp_aggregate_spec *spec, char *buf, size_t len);

struct tp_aggregate_opts {
	uint64_t window_ns;	     /* default window; 0: off for rules that set none */
	uint64_t hold_ns;	     /* default hold of the first line */
	size_t max_groups;	     /* open windows at most (0: 4096) */
	bool live;		     /* also close windows on the wall clock */
	double importance_threshold; /* the event of a folded alert goes on as a plain */
	bool all_events;	     /* event when it scores this, or with -a */
	bool alerts_only;	     /* filter.min_severity above events: never */
};

/*
 * The stage. The spec of each alert is meta->alert->aggregate (NULL: the
 * defaults). Events whose alert was folded go on without it when they
 * would have passed as plain events, else they are dropped and counted
 * (reason "aggregated").
 */
int tp_aggregate_stage_new(struct tp_stage **out, const struct tp_aggregate_opts *opts, char *err,
			   size_t errlen);

/* Close every open window now (the end of a run): its repeats go out. */
void tp_aggregate_stage_finish(struct tp_stage *st);

#endif
