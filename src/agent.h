/*
 * agent.h - the run loop: drain the source, tick the pipeline, handle
 * signals (SIGHUP reload, SIGUSR1 stats, SIGINT/SIGTERM stop) and report
 * kernel drops as they happen.
 */
#ifndef TAPIO_AGENT_H
#define TAPIO_AGENT_H

#include <stdint.h>

#include "config/config.h"
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

/* Log the current counters in one line (SIGUSR1 and the periodic stats). */
void tp_agent_log_stats(const char *why);

#endif
