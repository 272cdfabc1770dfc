/*
 * agent.h - the run loop: drain the source, tick the pipeline, handle
 * signals (SIGHUP reload, SIGUSR1 stats, SIGINT/SIGTERM stop) and report
 * kernel drops as they happen.
 */
#ifndef TAPIO_AGENT_H
#define TAPIO_AGENT_H

#include <stdint.h>

#include "config/config.h"
#include "obs/log.h"
#include "pipeline/pipeline.h"
#include "pipeline/source.h"

struct tp_bpf;

struct tp_agent_hooks {
	/* SIGHUP: reload rules. Runs between two drains; events keep flowing. */
	void (*reload)(void *ctx);
	/* Each loop iteration, with the monotonic time. */
	void (*tick)(void *ctx, uint64_t now_ns);
	void *ctx;
};

/* Note the start of the process (first thing in main): --duration counts
 * from here, start-up included. Without it, from the start of the loop. */
void tp_agent_mark_start(void);

/* Install the signal handlers (no SA_RESTART: a signal ends the wait). */
void tp_agent_install_signals(void);

/* Ask the loop to stop (from any thread, or a signal handler). */
void tp_agent_request_stop(void);

/*
 * Run until stopped, --duration passes, or a finite source ends. bpf may be
 * NULL (no kernel drop counters). Returns 0 or a negative errno.
 */
int tp_agent_run(struct tp_source *src, struct tp_pipeline *p, const struct tp_config *cfg,
		 struct tp_bpf *bpf, const struct tp_agent_hooks *hooks);

/* Log every non-zero counter in one line, "stats (why): ..." (SIGUSR1 at
 * info; the periodic and exit ones at debug). */
void tp_agent_log_stats(const char *why);
void tp_agent_log_stats_at(enum tp_log_level level, const char *why);

/* One short info line, "summary (why, T s): N events, M to the outputs, A
 * alerts, S stored raw; lost: ...", for the periodic and the exit log. */
void tp_agent_log_summary(const char *why, uint64_t elapsed_ns);

/* Nanoseconds since tp_agent_mark_start (0 without it). */
uint64_t tp_agent_uptime_ns(void);

#endif
