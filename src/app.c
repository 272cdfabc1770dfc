#include "app.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "enrich/stage.h"
#include "lua/aggregate.h"
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

/*
 * The pipeline, in order: each stage and each output says whether this
 * configuration wants it and how to build it; tp_app_build adds what is
 * wanted, in table order, and closes what it built when a later part fails.
 */
struct stage_def {
	const char *name;
	bool (*wanted)(const struct tp_app *app); /* NULL: always */
	int (*build)(struct tp_stage **out, struct tp_app *app, char *err, size_t errlen);
};

struct output_def {
	const char *name;
	bool (*wanted)(const struct tp_config *cfg);
	/* Optional: can it work at all (a path, a URL, an address)? Run for
	 * --validate and before the probes load, so a typo fails fast. */
	int (*check)(const struct tp_config *cfg, char *err, size_t errlen);
	int (*build)(struct tp_output **out, struct tp_app *app, char *err, size_t errlen);
};

/* Raw storage: the first stage, so it keeps every event whatever later
 * stages decide; a replay reads stored events and writes none. */
static bool want_raw(const struct tp_app *app)
{
	return app->mode == TP_APP_LIVE && strcmp(app->cfg->raw_dir, "off");
}

static int build_raw(struct tp_stage **out, struct tp_app *app, char *err, size_t errlen)
{
	return tp_raw_stage_new(out, app->cfg, err, errlen);
}

static bool want_enrich(const struct tp_app *app)
{
	return app->cfg->enrich;
}

static int build_enrich(struct tp_stage **out, struct tp_app *app, char *err, size_t errlen)
{
	struct tp_enrich_opts eo = {.cfg = app->cfg, .live = app->mode == TP_APP_LIVE};

	return tp_enrich_stage_new(out, &eo, err, errlen);
}

/* Scope (filter.processes, containers, k8s_namespaces): after enrichment,
 * which knows containers and pods, and before the rules, so that what the
 * operator excluded costs no Lua time. */
static bool want_scope(const struct tp_app *app)
{
	return tp_scope_wanted(app->cfg);
}

static int build_scope(struct tp_stage **out, struct tp_app *app, char *err, size_t errlen)
{
	return tp_scope_new(out, app->cfg, err, errlen);
}

/* The Lua rules: alerts go out from here, never sampled. Kept in app->rules
 * for SIGHUP. */
static int build_rules(struct tp_stage **out, struct tp_app *app, char *err, size_t errlen)
{
	int r = tp_rules_stage_new(out, app->cfg, err, errlen);

	if (r == 0)
		app->rules = *out;
	return r;
}

/* Repeats of one rule for one key fold into one alert plus a count. Kept in
 * app->aggregate: the exit closes its open windows. */
static int build_aggregate(struct tp_stage **out, struct tp_app *app, char *err, size_t errlen)
{
	struct tp_aggregate_opts ao = {
	    .window_ns = app->cfg->aggregate_window_ns,
	    .hold_ns = app->cfg->aggregate_hold_ns,
	    .live = app->mode == TP_APP_LIVE,
	    .importance_threshold = app->cfg->importance_threshold,
	    .all_events = app->cfg->all_events,
	    .alerts_only = app->cfg->min_severity > TP_SEV_EVENT,
	};
	int r = tp_aggregate_stage_new(out, &ao, err, errlen);

	if (r == 0)
		app->aggregate = *out;
	return r;
}

/* Sampling and rate limits: the last stage, so that it sees the importance
 * and alerts that the stages before it set. */
static bool want_sampler(const struct tp_app *app)
{
	return tp_sampler_wanted(app->cfg);
}

static int build_sampler(struct tp_stage **out, struct tp_app *app, char *err, size_t errlen)
{
	return tp_sampler_new(out, app->cfg, err, errlen);
}

static const struct stage_def stages[] = {
    {"raw", want_raw, build_raw},	   {"enrich", want_enrich, build_enrich},
    {"scope", want_scope, build_scope},	   {"rules", NULL, build_rules},
    {"aggregate", NULL, build_aggregate},  {"sampler", want_sampler, build_sampler},
};

static bool want_stdout(const struct tp_config *cfg)
{
	return cfg->output != TP_FMT_NONE;
}

static int build_stdout(struct tp_output **out, struct tp_app *app, char *err, size_t errlen)
{
	struct tp_stdout_opts so = {.fd = STDOUT_FILENO,
				    .fmt = app->cfg->output,
				    .color = tp_output_want_color(STDOUT_FILENO)};

	return tp_output_stdout_new(out, &so, err, errlen);
}

static bool want_grpc(const struct tp_config *cfg)
{
	return cfg->server;
}

static int build_grpc(struct tp_output **out, struct tp_app *app, char *err, size_t errlen)
{
	return tp_output_grpc_new(out, app->cfg, err, errlen);
}

static bool want_otlp(const struct tp_config *cfg)
{
	return cfg->otlp;
}

static int build_otlp(struct tp_output **out, struct tp_app *app, char *err, size_t errlen)
{
	return tp_output_otlp_new(out, app->cfg, err, errlen);
}

static bool want_file(const struct tp_config *cfg)
{
	return cfg->file_path;
}

static int check_file(const struct tp_config *cfg, char *err, size_t errlen)
{
	return tp_output_file_check(cfg->file_path, err, errlen);
}

static int build_file(struct tp_output **out, struct tp_app *app, char *err, size_t errlen)
{
	return tp_output_file_new(out, app->cfg, err, errlen);
}

static bool want_webhook(const struct tp_config *cfg)
{
	return cfg->webhook_url;
}

static int check_webhook(const struct tp_config *cfg, char *err, size_t errlen)
{
	return tp_output_webhook_check(cfg->webhook_url, err, errlen);
}

static int build_webhook(struct tp_output **out, struct tp_app *app, char *err, size_t errlen)
{
	return tp_output_webhook_new(out, app->cfg, err, errlen);
}

static bool want_syslog(const struct tp_config *cfg)
{
	return cfg->syslog_address;
}

static int check_syslog(const struct tp_config *cfg, char *err, size_t errlen)
{
	return tp_output_syslog_check(cfg->syslog_address, err, errlen);
}

static int build_syslog(struct tp_output **out, struct tp_app *app, char *err, size_t errlen)
{
	return tp_output_syslog_new(out, app->cfg, err, errlen);
}

static const struct output_def outputs[] = {
    {"stdout", want_stdout, NULL, build_stdout},
    {"gRPC", want_grpc, NULL, build_grpc},
    {"OTLP", want_otlp, NULL, build_otlp},
    {"file", want_file, check_file, build_file},
    {"webhook", want_webhook, check_webhook, build_webhook},
    {"syslog", want_syslog, check_syslog, build_syslog},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

int tp_app_check_outputs(const struct tp_config *cfg, char *err, size_t errlen)
{
	for (size_t i = 0; i < COUNT(outputs); i++) {
		int r;

		if (outputs[i].check && outputs[i].wanted(cfg) &&
		    (r = outputs[i].check(cfg, err, errlen)) < 0)
			return r;
	}
	return 0;
}

int tp_app_build(struct tp_app *app, const struct tp_config *cfg, enum tp_app_mode mode,
		 char *err, size_t errlen)
{
	int r = 0;

	memset(app, 0, sizeof(*app));
	app->cfg = cfg;
	app->mode = mode;
	tp_pipeline_init(&app->pipe);
	/* Events of kernel-sampled categories carry the rate, so counts re-scale. */
	if (mode == TP_APP_LIVE)
		tp_pipeline_set_kernel_sampling(&app->pipe, cfg->kernel_sample);

	for (size_t i = 0; i < COUNT(stages); i++) {
		struct tp_stage *st;

		if (stages[i].wanted && !stages[i].wanted(app))
			continue;
		r = stages[i].build(&st, app, err, errlen);
		if (r < 0)
			goto fail;
		r = tp_pipeline_add_stage(&app->pipe, st);
		if (r < 0) {
			if (st == app->rules)
				app->rules = NULL;
			if (st == app->aggregate)
				app->aggregate = NULL;
			st->ops->close(st);
			snprintf(err, errlen, "cannot add the %s stage: too many pipeline stages",
				 stages[i].name);
			goto fail;
		}
	}
	for (size_t i = 0; i < COUNT(outputs); i++) {
		struct tp_output *o;

		if (!outputs[i].wanted(cfg))
			continue;
		r = outputs[i].build(&o, app, err, errlen);
		if (r < 0)
			goto fail;
		r = tp_pipeline_add_output(&app->pipe, o);
		if (r < 0) {
			o->ops->close(o);
			snprintf(err, errlen, "cannot add the %s output: too many outputs",
				 outputs[i].name);
			goto fail;
		}
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

void tp_app_settle(struct tp_app *app)
{
	if (!app->aggregate)
		return;
	tp_aggregate_stage_finish(app->aggregate);
	tp_pipeline_flush(&app->pipe);
}

void tp_app_close(struct tp_app *app)
{
	tp_pipeline_close(&app->pipe);
}
