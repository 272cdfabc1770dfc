/*
 * stage.h - the enrichment stage: gives every event its process context
 * (exe, argv, parent, ancestors, container, Kubernetes pod) through
 * tp_event_meta.proc, from a process table kept by the process events and a
 * cache of cgroup ids.
 *
 * Live: the table is seeded from /proc at start and cgroups are resolved on
 * this machine. Replay: everything comes from the stored events themselves
 * (no /proc of the past); cgroup ids are resolved only for events recorded
 * since this machine booted, and a reboot inside the stored stream (its
 * boot clock going back) empties the table.
 */
#ifndef TAPIO_ENRICH_STAGE_H
#define TAPIO_ENRICH_STAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"
#include "pipeline/pipeline.h"

struct tp_enrich_opts {
	const struct tp_config *cfg;
	bool live;
	const char *proc_root; /* "/proc"; tests may point elsewhere */
};

/* A new stage. Returns 0, or -EINVAL / -ENOMEM / the cgroup file system's
 * error with err filled. */
int tp_enrich_stage_new(struct tp_stage **out, const struct tp_enrich_opts *o, char *err,
			size_t errlen);

#endif
