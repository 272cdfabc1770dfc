#include "app.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "enrich/stage.h"
#include "lua/rules_stage.h"
#include "obs/log.h"
#include "output/file.h"
#include "output/grpc.h"
#include "output/otlp.h"
#include "output/stdout.h"
#include "output/syslog.h"
#include "output/webhook.h"
#include "pipeline/sampler.h"
#include "pipeline/scope.h"
#include "storage/raw_stage.h"

int tp_app_check_outputs(const struct tp_config *cfg, char *err, size_t errlen)
{
	int r;

	if (cfg->file_path && (r = tp_output_file_check(cfg->file_path, err, errlen)) < 0)
		return r;
	if (cfg->webhook_url && (r = tp_output_webhook_check(cfg->webhook_url, err, errlen)) < 0)
		return r;
	if (cfg->syslog_address &&
	    (r = tp_output_syslog_check(cfg->syslog_address, err, errlen)) < 0)
		return r;
	return 0;
}

static int add_output(struct tp_app *app, struct tp_output *o, const char *what, char *err,
		      size_t errlen)
{
	if (!o) {
		snprintf(err, errlen, "cannot set up the %s output: out of memory", what);
		return -ENOMEM;
	}
	if (tp_pipeline_add_output(&app->pipe, o) < 0) {
		o->ops->close(o);
		snprintf(err, errlen, "too many outputs");
		return -ENOSPC;
	}
	return 0;
}

int tp_app_build(struct tp_app *app, const struct tp_config *cfg, enum tp_app_mode mode,
		 char *err, size_t errlen)
{
	int r;

	memset(app, 0, sizeof(*app));
	app->cfg = cfg;
	app->mode = mode;
	tp_pipeline_init(&app->pipe);
	/* Events of kernel-sampled categories carry the rate, so counts re-scale. */
	if (mode == TP_APP_LIVE)
		tp_pipeline_set_kernel_sampling(&app->pipe, cfg->kernel_sample);

	/* Stages, in order. */
	if (mode == TP_APP_LIVE && strcmp(cfg->raw_dir, "off")) {
		struct tp_stage *raw;

		r = tp_raw_stage_new(&raw, cfg, err, errlen);
		if (r < 0)
			goto fail;
		tp_pipeline_add_stage(&app->pipe, raw); /* the first: cannot be full */
	}
	if (cfg->enrich) {
		struct tp_enrich_opts eo = { .live = mode == TP_APP_LIVE };
		struct tp_stage *st = tp_enrich_stage_new(cfg, &eo, err, errlen);

		if (!st) {
			r = -EINVAL;
			goto fail;
		}
		if (tp_pipeline_add_stage(&app->pipe, st) < 0) {
			st->ops->close(st);
			snprintf(err, errlen, "too many stages");
			r = -ENOSPC;
			goto fail;
		}
	}

	/* Scope (filter.processes, containers, k8s_namespaces): after
	 * enrichment, which knows containers and pods, and before the rules,
	 * so that what the operator excluded costs no Lua time. */
	if (tp_scope_wanted(cfg)) {
		struct tp_stage *st;

		r = tp_scope_new(&st, cfg, err, errlen);
		if (r < 0)
			goto fail;
		if (tp_pipeline_add_stage(&app->pipe, st) < 0) {
			st->ops->close(st);
			snprintf(err, errlen, "too many pipeline stages");
			r = -ENOSPC;
			goto fail;
		}
	}

	/* The Lua rules: alerts go out from here, never sampled. */
	r = tp_rules_stage_new(&app->rules, cfg, err, errlen);
	if (r < 0)
		goto fail;
	tp_pipeline_add_stage(&app->pipe, app->rules);

	/* Sampling and rate limits: the last stage, so that it sees the
	 * importance and alerts that the stages before it set. */
	if (tp_sampler_wanted(cfg)) {
		struct tp_stage *st = tp_sampler_new(&cfg->sampling, &cfg->rate_limit);

		if (!st) {
			snprintf(err, errlen, "cannot set up sampling: out of memory");
			r = -ENOMEM;
			goto fail;
		}
		if (tp_pipeline_add_stage(&app->pipe, st) < 0) {
			st->ops->close(st);
			snprintf(err, errlen, "too many pipeline stages");
			r = -ENOSPC;
			goto fail;
		}
	}

	/* Outputs. */
	if (cfg->output != TP_FMT_NONE) {
		r = add_output(app,
			       tp_output_stdout_new(STDOUT_FILENO, cfg->output,
						    tp_output_want_color(STDOUT_FILENO)),
			       "stdout", err, errlen);
		if (r < 0)
			goto fail;
	}
	if (cfg->server) {
		struct tp_output *o;

		r = tp_output_grpc_new(cfg, &o, err, errlen);
		if (r < 0 || (r = add_output(app, o, "gRPC", err, errlen)) < 0)
			goto fail;
	}
	if (cfg->otlp) {
		struct tp_output *o;

		r = tp_output_otlp_new(cfg, &o, err, errlen);
		if (r < 0 || (r = add_output(app, o, "OTLP", err, errlen)) < 0)
			goto fail;
	}
	if (cfg->file_path) {
		struct tp_output *o;

		r = tp_output_file_new(&o, cfg, err, errlen);
		if (r < 0 || (r = add_output(app, o, "file", err, errlen)) < 0)
			goto fail;
	}
	if (cfg->webhook_url) {
		struct tp_output *o;

		r = tp_output_webhook_new(&o, cfg, err, errlen);
		if (r < 0 || (r = add_output(app, o, "webhook", err, errlen)) < 0)
			goto fail;
	}
	if (cfg->syslog_address) {
		struct tp_output *o;

		r = tp_output_syslog_new(&o, cfg, err, errlen);
		if (r < 0 || (r = add_output(app, o, "syslog", err, errlen)) < 0)
			goto fail;
	}
	return 0;
fail:
	tp_app_close(app);
	return r;
}

static void app_reload(void *ctx)
{
	struct tp_app *app = ctx;

	if (app->rules)
		tp_rules_stage_reload(app->rules);
}

void tp_app_hooks(struct tp_app *app, struct tp_agent_hooks *hooks)
{
	memset(hooks, 0, sizeof(*hooks));
	hooks->reload = app_reload;
	hooks->ctx = app;
}

void tp_app_close(struct tp_app *app)
{
	tp_pipeline_close(&app->pipe);
}
