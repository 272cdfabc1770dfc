#include "lua/rules_stage.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lua/rules.h"
#include "lua/rules_lint.h"
#include "lua/rules_watch.h"
#include "lua/sandbox.h"
#include "obs/health.h"
#include "obs/log.h"
#include "obs/metrics.h"
#include "util/stop.h"
#include "util/time.h"

struct rules_stage {
	struct tp_stage base;
	const struct tp_config *cfg;
	struct tp_rules_where where;
	struct tp_rules_opts opts;
	struct tp_ruleset *rs; /* the set in use: reader thread only */
	struct tp_pipeline *pipe;
	/* The event's alerts: the first travels on with it (meta.alert), the
	 * others follow it (tp_pipeline_follow), in order. */
	struct tp_alert alerts[TP_PIPELINE_MAX_FOLLOW];
	struct tp_event_meta metas[TP_PIPELINE_MAX_FOLLOW];
	size_t out_off[TP_PIPELINE_MAX_FOLLOW];
	size_t nalerts;
	struct tp_buf outputs;

	/* Reload in flight, and one given up at its time limit that has not
	 * ended yet (cancelled: it stops at its next budget check). */
	struct reload_job *job;
	struct reload_job *abandoned;
	bool again;
	uint64_t reload_timeout_ns;

	struct tp_rules_watch watch; /* rules.watch */

	/* The lazy budget: 0 not tried yet, 1 this thread's tick timer runs,
	 * -1 it could not be started (every instruction counted). */
	int lazy;

	/* /healthz: quarantined functions, checked once a second. */
	uint64_t next_health_ns;
	size_t quarantined;
};

/* One reload, on a thread of its own; owned by the stage until the thread
 * ends (a job left behind at exit is the process's to free). */
struct reload_job {
	pthread_t thread;
	struct tp_rules_opts opts;
	atomic_bool cancel;
	int done; /* (atomic) the thread has finished with the job */
	struct tp_ruleset *rs;
	int r;
	char err[1024];
	uint64_t started_ns;
	uint64_t built_ns;
};

static struct tp_metric m_reload_ok =
    TP_COUNTER_INIT("tapio_rules_reloads_total", "Rule reloads, by result.");
static struct tp_metric m_reload_failed =
    TP_COUNTER_INIT("tapio_rules_reloads_total", "Rule reloads, by result.");
static struct tp_metric m_rules = TP_GAUGE_INIT("tapio_rules_loaded", "Rules in use.");

static void metrics_init(void)
{
	static bool done;

	if (done)
		return;
	m_reload_ok.labels = "result=\"ok\"";
	m_reload_failed.labels = "result=\"failed\"";
	tp_metric_register(&m_reload_ok);
	tp_metric_register(&m_reload_failed);
	tp_metric_register(&m_rules);
	done = true;
}

static void log_problem(void *ctx, const char *msg)
{
	(void)ctx;
	tp_warn("rules: %s", msg);
}

/* Rule paths: -r (repeatable), else the shipped default set. */
static size_t rule_paths(const struct tp_config *cfg, const char **paths, char *default_path,
			 size_t len)
{
	if (cfg->nrule_paths) {
		for (unsigned i = 0; i < cfg->nrule_paths; i++)
			paths[i] = cfg->rule_paths[i];
		return cfg->nrule_paths;
	}
	snprintf(default_path, len, "%s/default", cfg->rules_dir);
	paths[0] = default_path;
	return 1;
}

/* <rules_dir>/lib: the shared lists and macros, whatever the paths are. */
static const char *lib_path(const struct tp_config *cfg, char *buf, size_t len)
{
	struct stat st;

	snprintf(buf, len, "%s/lib", cfg->rules_dir);
	return stat(buf, &st) == 0 && S_ISDIR(st.st_mode) ? buf : NULL;
}

void tp_rules_opts_init(struct tp_rules_opts *o, struct tp_rules_where *w,
			const struct tp_config *cfg)
{
	size_t npaths = rule_paths(cfg, w->paths, w->default_path, sizeof(w->default_path));

	memset(o, 0, sizeof(*o));
	o->paths = w->paths;
	o->npaths = npaths;
	o->lib_path = lib_path(cfg, w->lib_path, sizeof(w->lib_path));
	o->user_dir = cfg->rules_user_dir && strcmp(cfg->rules_user_dir, "off")
			  ? cfg->rules_user_dir
			  : NULL;
	o->state.max_bytes = cfg->rules_state_max;
	o->state.group_max_bytes = cfg->rule_state_max;
	o->limits.mem_max = cfg->lua_mem_max;
	o->limits.mem_call_max = cfg->rule_mem_call_max;
	o->limits.instr_budget = cfg->rule_instr_budget;
	o->fault_limit = cfg->rule_fault_limit;
	o->min_severity = cfg->min_severity;
}

/* "@default, @security, /etc/tapio/my.lua": the rule sets by the names the
 * configuration gave them (a shipped set as @name). */
static void describe_sets(const struct rules_stage *s, char *buf, size_t len)
{
	size_t used = 0, dlen = strlen(s->cfg->rules_dir);

	buf[0] = '\0';
	for (size_t i = 0; i < s->opts.npaths && used < len; i++) {
		const char *p = s->opts.paths[i];

		if (!strncmp(p, s->cfg->rules_dir, dlen) && p[dlen] == '/' && p[dlen + 1] &&
		    !strchr(p + dlen + 1, '/'))
			used += (size_t)snprintf(buf + used, len - used, "%s@%s", i ? ", " : "",
						 p + dlen + 1);
		else
			used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", p);
	}
}

static void log_loaded(const struct rules_stage *s, const char *what, struct tp_ruleset *rs,
		       const struct tp_ruleset *old, uint64_t build_ns, uint64_t swap_ns,
		       const struct tp_ruleset_adoption *ad)
{
	enum tp_severity min_severity = s->cfg->min_severity;
	struct tp_ruleset_info in;
	size_t added, removed, changed;
	char sets[512];

	tp_ruleset_info(rs, &in);
	tp_ruleset_diff(old, rs, &added, &removed, &changed);
	tp_metric_set(&m_rules, in.rules);
	describe_sets(s, sets, sizeof(sets));
	tp_info("%s: %zu rules (+%zu -%zu ~%zu), %zu filter %zu enrich %zu score from %zu files, "
		"%zu tests passed, %zu exceptions, %zu overridden, hash %016llx, built in %.1f ms; "
		"rule sets: %s",
		what, in.rules, added, removed, changed, in.filters, in.enrichers, in.scorers,
		in.files, in.tests, in.exceptions, in.overridden, (unsigned long long)in.hash,
		build_ns / 1e6, sets);
	if (ad && (ad->kept || ad->reset || ad->dropped))
		tp_info("%s: state kept for %zu rules, started fresh for %zu whose state declaration "
			"changed%s%s%s, dropped for %zu gone",
			what, ad->kept, ad->reset, ad->reset ? " (" : "", ad->reset_names,
			ad->reset ? ")" : "", ad->dropped);
	if (in.below_min_severity)
		tp_info("%s: %zu rules below filter.min_severity=%s do not run", what,
			in.below_min_severity, tp_severity_names[min_severity]);
	if (swap_ns)
		tp_debug("rules: swapped and freed the old set in %.3f ms", swap_ns / 1e6);
}

/* Keep each alert of the event (its output is rendered into a buffer the
 * set reuses); they leave after the rules are done with the event. */
static void on_alert(void *ctx, const struct tp_event *ev, const struct tp_event_meta *meta)
{
	struct rules_stage *s = ctx;
	size_t k = s->nalerts;

	if (k == TP_PIPELINE_MAX_FOLLOW) { /* too many for one event: at once */
		tp_pipeline_emit(s->pipe, ev, meta);
		return;
	}
	s->alerts[k] = *meta->alert; /* names and tags live in the set until a tick */
	s->metas[k] = *meta;
	s->out_off[k] = s->outputs.len;
	tp_buf_puts(&s->outputs, meta->alert->output);
	tp_buf_putc(&s->outputs, '\0');
	s->nalerts++;
}

/* The first alert rides the event; the others follow it in order (later
 * stages see each: the sampler exempts alerts). */
static void send_alerts(struct rules_stage *s, const struct tp_event *ev,
			struct tp_event_meta *meta)
{
	for (size_t k = 0; k < s->nalerts; k++) {
		s->alerts[k].output = tp_buf_failed(&s->outputs) ? "(out of memory)"
								: s->outputs.data + s->out_off[k];
		s->metas[k].alert = &s->alerts[k];
	}
	meta->alert = &s->alerts[0];
	for (size_t k = 1; k < s->nalerts; k++)
		tp_pipeline_follow(s->pipe, ev, &s->metas[k]);
}

static int stage_event(struct tp_stage *st, struct tp_pipeline *p, struct tp_event *ev,
		       struct tp_event_meta *meta)
{
	struct rules_stage *s = (struct rules_stage *)st;
	unsigned nalerts;
	int v;

	/* Under a minimum severity above that of plain events only alerts
	 * go out: an event no rule that runs asks for costs no Lua. */
	bool alerts_only = s->cfg->min_severity > TP_SEV_EVENT;

	/* The agent's own events (agent.drop: it was blind) always matter. */
	if (TP_TYPE_CATEGORY(ev->type->id) == TP_CAT_AGENT && meta->importance < 1)
		meta->importance = 1;
	if (alerts_only && !tp_ruleset_may_alert(s->rs, ev->type))
		return TP_DROP_BELOW_MIN_SEVERITY;
	s->pipe = p;
	s->nalerts = 0;
	tp_buf_reset(&s->outputs);
	if (!s->lazy) {
		char err[160];

		s->lazy = tp_lua_lazy_thread_start(err, sizeof(err)) == 0 ? 1 : -1;
		if (s->lazy < 0)
			tp_warn("rules: %s: every instruction of rule calls is counted", err);
	}
	tp_ruleset_lazy_budget(s->rs, s->lazy > 0);
	v = tp_ruleset_event(s->rs, ev, meta, on_alert, s, &nalerts);
	tp_ruleset_lazy_budget(s->rs, false);
	if (s->nalerts) {
		send_alerts(s, ev, meta);
		return TP_STAGE_PASS;
	}
	/* filter.* settings hold with --all-events too; the Lua filters and
	 * the importance threshold do not. */
	if (alerts_only)
		return TP_DROP_BELOW_MIN_SEVERITY;
	if (s->cfg->all_events)
		return TP_STAGE_PASS;
	if (v == TP_RULES_FILTERED)
		return TP_DROP_FILTERED;
	/* Nothing scored it: importance 0 for the threshold. */
	if ((meta->importance < 0 ? 0 : meta->importance) >= s->cfg->importance_threshold)
		return TP_STAGE_PASS;
	return TP_DROP_BELOW_THRESHOLD;
}

static void *reload_thread(void *arg)
{
	struct reload_job *j = arg;

	tp_lua_lazy_block_signal();
	j->r = tp_ruleset_load(&j->rs, &j->opts, j->err, sizeof(j->err));
	j->built_ns = tp_mono_ns() - j->started_ns;
	__atomic_store_n(&j->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static bool job_done(const struct reload_job *j)
{
	return __atomic_load_n(&j->done, __ATOMIC_ACQUIRE);
}

static void job_free(struct reload_job *j)
{
	if (!j)
		return;
	pthread_join(j->thread, NULL);
	tp_ruleset_free(j->rs);
	free(j);
}

static void start_reload(struct rules_stage *s)
{
	struct reload_job *j;
	int r;

	s->again = false;
	if (s->abandoned) {
		/* One given up and still unwinding: never two loaders at once. */
		s->again = true;
		return;
	}
	j = calloc(1, sizeof(*j));
	if (!j) {
		tp_error("rules reload: out of memory; keeping the rules in use");
		tp_metric_add(&m_reload_failed, 1);
		return;
	}
	j->opts = s->opts;
	j->opts.cancel = &j->cancel;
	atomic_init(&j->cancel, false);
	j->started_ns = tp_mono_ns();
	r = pthread_create(&j->thread, NULL, reload_thread, j);
	if (r) {
		tp_error("rules reload: cannot start a thread (%s); keeping the rules in use",
			 strerror(r));
		tp_metric_add(&m_reload_failed, 1);
		free(j);
		return;
	}
	s->job = j;
	tp_info("rules reload: loading and testing the new rules beside the running ones");
}

/* Degraded until a reload succeeds: the rules on disk are not the rules
 * that run. */
static void reload_failed_health(const char *why)
{
	char when[40];

	tp_format_rfc3339(tp_now_ns(0 /* CLOCK_REALTIME */), when, sizeof(when));
	tp_health_set("rules_reload", "the rules reload at %s failed, the previous rules still run: %.150s",
		      when, why);
}

/* A reload past its time limit: cancelled (its Lua stops at the next budget
 * check), the rules in use stay, and the log says why. */
static void give_up_reload(struct rules_stage *s, uint64_t now)
{
	struct tp_ruleset_info in;

	atomic_store(&s->job->cancel, true);
	s->abandoned = s->job;
	s->job = NULL;
	tp_metric_add(&m_reload_failed, 1);
	tp_ruleset_info(s->rs, &in);
	tp_error("rules reload given up after %.1f s (limit rules.reload_timeout = %.1f s), keeping "
		 "the rules in use (hash %016llx): a rule file does too much work while it loads "
		 "(top-level code, lists, tests); --validate names the files",
		 (now - s->abandoned->started_ns) / 1e9, s->reload_timeout_ns / 1e9,
		 (unsigned long long)in.hash);
	reload_failed_health("given up at rules.reload_timeout");
}

/* At a tick, between two events: take the new set if it is ready. */
static void finish_reload(struct rules_stage *s, uint64_t now)
{
	struct tp_ruleset_info in;
	struct reload_job *j = s->job;
	struct tp_ruleset *old;
	uint64_t t0;

	if (s->abandoned && job_done(s->abandoned)) {
		job_free(s->abandoned);
		s->abandoned = NULL;
		if (s->again && !s->job)
			start_reload(s);
	}
	if (!j)
		return;
	if (!job_done(j)) {
		if (s->reload_timeout_ns && now - j->started_ns >= s->reload_timeout_ns)
			give_up_reload(s, now);
		return;
	}
	s->job = NULL;
	if (j->r < 0) {
		tp_metric_add(&m_reload_failed, 1);
		tp_ruleset_info(s->rs, &in);
		tp_error("rules reload failed, keeping the rules in use (hash %016llx): %s",
			 (unsigned long long)in.hash, j->err);
		reload_failed_health(j->err);
	} else {
		tp_health_clear("rules_reload");
		s->quarantined = 0;
		tp_health_clear("rules_quarantined");
		t0 = tp_mono_ns();
		old = s->rs;
		s->rs = j->rs;
		j->rs = NULL;
		struct tp_ruleset_adoption ad;

		tp_ruleset_adopt(s->rs, old, &ad);
		tp_metric_add(&m_reload_ok, 1);
		log_loaded(s, "rules reloaded", s->rs, old, j->built_ns, 0, &ad);
		tp_ruleset_free(old);
		tp_debug("rules: swap and free of the old set took %.3f ms",
			 (tp_mono_ns() - t0) / 1e6);
	}
	job_free(j);
	if (s->again)
		start_reload(s);
}

/* /healthz is degraded while a function of the set in use is quarantined
 * (it stays so until a reload replaces the set). */
static void check_quarantine(struct rules_stage *s, uint64_t now_ns)
{
	struct tp_ruleset_info in;

	if (now_ns < s->next_health_ns)
		return;
	s->next_health_ns = now_ns + TP_NSEC_PER_SEC;
	tp_ruleset_info(s->rs, &in);
	if (in.quarantined == s->quarantined)
		return;
	s->quarantined = in.quarantined;
	if (in.quarantined)
		tp_health_set("rules_quarantined",
			      "%zu rule function%s quarantined after %u faults, until the next "
			      "reload (the log names %s)",
			      in.quarantined, in.quarantined > 1 ? "s" : "", s->cfg->rule_fault_limit,
			      in.quarantined > 1 ? "them" : "it");
	else
		tp_health_clear("rules_quarantined");
}

static void stage_tick(struct tp_stage *st, struct tp_pipeline *p, uint64_t now_ns)
{
	struct rules_stage *s = (struct rules_stage *)st;

	(void)p;
	finish_reload(s, now_ns);
	tp_ruleset_tick(s->rs, now_ns);
	if (s->cfg->rules_watch && tp_rules_watch_changed(&s->watch, tp_mono_ns())) {
		tp_info("rules reload: rule files changed on disk");
		tp_rules_stage_reload(st);
	}
	check_quarantine(s, now_ns);
}

/* The stats line's part: the rules that cost most so far. */
static void stats_section(void *ctx, struct tp_buf *b)
{
	tp_ruleset_top_costs(((struct rules_stage *)ctx)->rs, 3, b);
}

/* At exit: a reload still running is cancelled and waited for until the
 * stop deadline at most; one that is not done by then is left to the
 * process's exit. */
static void close_job(struct reload_job *j)
{
	if (!j)
		return;
	atomic_store(&j->cancel, true);
	if (!tp_stop_wait_flag(&j->done, tp_stop_deadline_ns())) {
		tp_warn("rules: a reload still running at exit was left behind");
		pthread_detach(j->thread);
		return;
	}
	job_free(j);
}

static void stage_close(struct tp_stage *st)
{
	struct rules_stage *s = (struct rules_stage *)st;

	if (s->lazy > 0)
		tp_lua_lazy_thread_stop();
	close_job(s->job);
	close_job(s->abandoned);
	tp_metrics_line_section(NULL, s);
	tp_ruleset_free(s->rs);
	tp_buf_free(&s->outputs);
	free(s);
}

static const enum tp_drop_reason rules_drops[] = {
    TP_DROP_FILTERED, TP_DROP_BELOW_THRESHOLD, TP_DROP_BELOW_MIN_SEVERITY, 0};

static const struct tp_stage_ops rules_stage_ops = {
    .name = "rules",
    .event = stage_event,
    .drops = rules_drops,
    .tick = stage_tick,
    .close = stage_close,
};

int tp_rules_stage_new(struct tp_stage **out, const struct tp_config *cfg, char *err, size_t errlen)
{
	struct rules_stage *s = calloc(1, sizeof(*s));
	uint64_t t0 = tp_mono_ns();
	int r;

	*out = NULL;
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	metrics_init();
	s->base.ops = &rules_stage_ops;
	s->cfg = cfg;
	tp_buf_init(&s->outputs);
	tp_rules_opts_init(&s->opts, &s->where, cfg);
	s->opts.diag = log_problem;
	s->reload_timeout_ns = cfg->rules_reload_timeout_ns;
	r = tp_ruleset_load(&s->rs, &s->opts, err, errlen);
	if (r < 0) {
		tp_buf_free(&s->outputs);
		free(s);
		return r;
	}
	tp_ruleset_adopt(s->rs, NULL, NULL);
	tp_metrics_line_section(stats_section, s);
	log_loaded(s, "rules loaded", s->rs, NULL, tp_mono_ns() - t0, 0, NULL);
	if (cfg->rules_watch)
		tp_rules_watch_init(&s->watch, s->opts.paths, s->opts.npaths, cfg->rules_watch_interval_ns,
				    tp_mono_ns());
	*out = &s->base;
	return 0;
}

void tp_rules_stage_reload(struct tp_stage *st)
{
	struct rules_stage *s = (struct rules_stage *)st;

	if (s->job || s->abandoned) {
		s->again = true;
		tp_info("rules reload: one is in progress; another will follow it");
		return;
	}
	start_reload(s);
}

bool tp_rules_stage_reloading(struct tp_stage *st)
{
	return ((struct rules_stage *)st)->job != NULL;
}

struct validate_ctx {
	FILE *out;
	unsigned n;
};

static void print_problem(void *ctx, const char *msg)
{
	struct validate_ctx *v = ctx;

	fprintf(v->out, "%s\n", msg);
	v->n++;
}

int tp_rules_validate(const struct tp_config *cfg, FILE *out)
{
	static struct tp_rules_where w;
	char err[1024];
	struct validate_ctx v = {out, 0};
	struct tp_rules_opts o;
	struct tp_ruleset *rs;
	struct tp_ruleset_info in;
	size_t warnings;
	int r;

	tp_rules_opts_init(&o, &w, cfg);
	o.diag = print_problem;
	o.diag_ctx = &v;
	r = tp_ruleset_load(&rs, &o, err, sizeof(err));
	if (r < 0) {
		if (!v.n)
			fprintf(out, "%s\n", err);
		fprintf(out, "rules: %u problem%s\n", v.n ? v.n : 1, v.n > 1 ? "s" : "");
		fflush(out);
		return r;
	}
	tp_ruleset_info(rs, &in);
	warnings = tp_ruleset_lint(rs, print_problem, &v);
	fprintf(out,
		"rules OK: %zu rules, %zu filter %zu enrich %zu score from %zu files, %zu tests "
		"passed, hash %016llx%s",
		in.rules, in.filters, in.enrichers, in.scorers, in.files, in.tests,
		(unsigned long long)in.hash, warnings ? "" : "\n");
	if (warnings)
		fprintf(out, "; %zu warning%s\n", warnings, warnings > 1 ? "s" : "");
	fflush(out);
	tp_ruleset_free(rs);
	return 0;
}
