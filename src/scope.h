/*
 * scope.h - which processes the semantic path covers: a pipeline stage,
 * after enrichment and before the rules, that keeps the events of the
 * processes an operator asked for and drops the rest from the outputs
 * (raw storage, before it, still has every event).
 *
 *   filter.processes          globs (fnmatch) on the process name (comm) or,
 *                             for a pattern with a '/', on its executable
 *                             path: only these; empty: all
 *   filter.exclude_processes  globs on the same: never these
 *
 * The executable is known for process.exec events (and for every event
 * once enrichment gives meta->proc); where it is not, a path pattern
 * whose last component is a plain name matches a process of that name. In-kernel exclusion
 * (filter.exclude_comms) is cheaper but takes exact names only; these
 * take patterns such as "systemd-*".
 * Dropped events are counted in tapio_events_dropped_total{reason=
 * "out_of_scope"}.
 */
#ifndef TAPIO_SCOPE_H
#define TAPIO_SCOPE_H

#include <stdbool.h>

#include "config.h"
#include "pipeline.h"

/* Is a scope stage needed for this configuration? */
bool tp_scope_wanted(const struct tp_config *cfg);

/* A new scope stage (patterns are copied), or NULL when out of memory. */
struct tp_stage *tp_scope_new(const struct tp_config *cfg);

#endif
