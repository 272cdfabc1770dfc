/*
 * pipeline/scope.h - what the semantic path covers: a pipeline stage, after
 * enrichment and before the rules, that keeps the events of the processes,
 * containers and Kubernetes namespaces an operator asked for and drops the
 * rest from the outputs (raw storage, before it, still has every event),
 * so the rules never run on them.
 *
 *   filter.processes          globs (fnmatch) on the process name (comm) or,
 *                             for a pattern with a '/', on its executable
 *                             path: only these; empty: all
 *   filter.exclude_processes  globs on the same: never these
 *   filter.containers         container id prefixes ("3f0a9c"), or globs
 *                             when the pattern has * ? or [; either also
 *                             matches the container's name in its pod
 *                             spec: only these; empty: all
 *   filter.exclude_containers the same: never these
 *   filter.k8s_namespaces     globs on the pod's namespace: only these
 *   filter.exclude_k8s_namespaces  never these
 *
 * The executable is the one enrichment knows for the event's process
 * (meta->proc), or the file a process.exec event names; where neither is
 * known, a path pattern whose last component is a plain name matches a
 * process of that name. In-kernel exclusion (filter.exclude_comms) is
 * cheaper but takes exact names only; these take patterns such as
 * "systemd-*".
 *
 * Container and namespace come from enrichment alone (so those filters
 * need it: tp_scope_check refuses them without). An event whose container
 * or namespace is unknown, or that runs on the host, matches no pattern:
 * an include list drops it, an exclude list keeps it. "*" thus means "in
 * some container": filter.exclude_containers = { "*" } keeps host events.
 *
 * Dropped events are counted in tapio_events_dropped_total{reason=
 * "out_of_scope"} (processes), "excluded_container" or
 * "excluded_k8s_namespace", whichever filter left them out first.
 */
#ifndef TAPIO_SCOPE_H
#define TAPIO_SCOPE_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"
#include "pipeline/pipeline.h"

/* Is a scope stage needed for this configuration? */
bool tp_scope_wanted(const struct tp_config *cfg);

/* Do the settings make sense together? 0, or -EINVAL with the reason in
 * err (container or namespace filters without enrichment). */
int tp_scope_check(const struct tp_config *cfg, char *err, size_t errlen);

/* A new scope stage (patterns are copied). Returns 0, -ENOMEM, or -EINVAL
 * with the reason in err (container or namespace filters without
 * enrichment). */
int tp_scope_new(struct tp_stage **out, const struct tp_config *cfg, char *err, size_t errlen);

#endif
