/*
 * app.h - assemble the agent from its configuration.
 *
 * The same assembly serves a live run and a replay of stored events: the
 * pipeline's stages (raw storage, enrichment, rules, sampling) and outputs
 * (stdout, file, syslog, webhook, gRPC, OTLP) are built here from struct
 * tp_config, so a replay sees events exactly as a live run would. A stage
 * or output is a row of
 * the tables in app.c (whether the config wants it, how to build it, in
 * pipeline order); one that holds state a reload touches is also kept in
 * struct tp_app (the rules).
 */
#ifndef TAPIO_APP_H
#define TAPIO_APP_H

#include <stddef.h>

#include "agent.h"
#include "config/config.h"
#include "pipeline/pipeline.h"

enum tp_app_mode {
	TP_APP_LIVE,   /* events from the kernel */
	TP_APP_REPLAY, /* events from raw storage: no raw writing */
};

struct tp_app {
	const struct tp_config *cfg;
	enum tp_app_mode mode;
	struct tp_pipeline pipe;
	struct tp_stage *rules; /* the Lua rule engine (owned by pipe) */
	struct tp_stage *aggregate; /* alert aggregation (owned by pipe) */
};

/* Build the pipeline. On failure err holds a sentence for the user. */
int tp_app_build(struct tp_app *app, const struct tp_config *cfg, enum tp_app_mode mode,
		 char *err, size_t errlen);

/* Check the outputs' destinations that can be checked without starting
 * anything (file.path, webhook.url, syslog.address), so a mistake stops the
 * agent before it loads programs. Returns 0, -EINVAL (a malformed value) or
 * another -errno, with err naming the key. */
int tp_app_check_outputs(const struct tp_config *cfg, char *err, size_t errlen);

/* Hooks for tp_agent_run: SIGHUP reload and the periodic tick. */
void tp_app_hooks(struct tp_app *app, struct tp_agent_hooks *hooks);

/* After the run (its final flush ended the raw writer, so raw storage's
 * counts are final): report the repeats of open alert windows and push
 * their lines out, within the stop deadline (util/stop.h), so the exit
 * counters are what went out. */
void tp_app_settle(struct tp_app *app);

void tp_app_close(struct tp_app *app);

#endif
