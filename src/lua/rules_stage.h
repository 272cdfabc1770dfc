/*
 * lua/rules_stage.h - the Lua rule engine as a pipeline stage, its reload,
 * and --validate.
 *
 * Per event: the rule set runs (lua/rules.h). An event that raised an alert
 * passes on with meta.alert set to its first alert (so later stages see it:
 * the sampler exempts alerts), and each further alert follows it in rule
 * order through the same later stages (tp_pipeline_follow): one line per
 * alert, the event not repeated, alerts in the order of their events.
 * Otherwise, with --all-events every event passes on; without it only
 * events whose importance (0 when nothing scored them) reaches
 * cfg->importance_threshold do; the others, and those a filter dropped, are
 * counted in tapio_events_dropped_total{reason="below_threshold"|"filtered"}.
 *
 * filter.min_severity (also with --all-events): rules below it do not run;
 * an event without an alert is of severity info, so above info only events
 * with an alert pass, and an event of a type no running rule asks for is
 * dropped before any Lua runs; both count as reason="below_min_severity".
 *
 * Reload (SIGHUP): a helper thread builds and self-tests the new set in a
 * VM of its own while the reader keeps running events through the old one;
 * a later tick swaps the sets between two events, so each event meets
 * exactly one set. A set that fails to load changes nothing. A reload that
 * takes longer than rules.reload_timeout is given up (its loader cancelled
 * at its next budget check) and changes nothing either; the log says why.
 * At exit a running reload is cancelled and waited for until the stop
 * deadline (util/stop.h), never longer. Live runs and replays build this
 * stage the same way.
 */
#ifndef TAPIO_LUA_RULES_STAGE_H
#define TAPIO_LUA_RULES_STAGE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config/config.h"
#include "lua/rules.h"
#include "pipeline/pipeline.h"

/* Load the rules (cfg->rule_paths, else <rules_dir>/default). Returns 0 or
 * a negative errno with a sentence (the first problem) in err; every
 * problem is also logged. */
int tp_rules_stage_new(struct tp_stage **out, const struct tp_config *cfg, char *err,
		       size_t errlen);

/* Start a reload; returns at once. A request during a reload is queued. */
void tp_rules_stage_reload(struct tp_stage *st);

/* True while a reload is being built (the swap happens at a tick). */
bool tp_rules_stage_reloading(struct tp_stage *st);

/* --validate: load the rules, run their tests, print each problem to out as
 * "file:line: message" and a summary line. Returns 0 if all is well, else
 * -EINVAL (or another negative errno). */
int tp_rules_validate(const struct tp_config *cfg, FILE *out);

/* Where cfg's rules are: the paths (-r, else @default), rules/lib, the
 * user's folder. The opts point into where. */
struct tp_rules_where {
	const char *paths[TP_MAX_RULE_PATHS];
	char default_path[4096];
	char lib_path[4096];
};
void tp_rules_opts_init(struct tp_rules_opts *o, struct tp_rules_where *where,
			const struct tp_config *cfg);

#endif
