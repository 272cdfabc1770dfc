/*
 * pipeline/sampler.h - the last pipeline stage before the outputs: rate limits and
 * adaptive sampling, so a flood cannot bury what matters.
 *
 * In order, for each event:
 *   1. exempt: alerts, events scored at or above never_sample_importance and
 *      events of a never_sample_category pass untouched (and take no tokens);
 *   2. a token bucket per process (pid), then one per container (cgroup id):
 *      a noisy process spends its own budget, not its neighbours';
 *   3. adaptive sampling (when enabled): an event of importance i is kept
 *      with probability p = base_rate * importance_boost^i (at most 1), and
 *      when the kept stream would exceed burst_threshold events/s, p is
 *      lowered for the next second to stay near it. Kept events carry
 *      meta.sample_rate = 1/p (multiplied with a rate set earlier, e.g. by
 *      in-kernel sampling), so counts can be re-scaled. Sampling is
 *      deterministic per event type: exactly one in N is kept;
 *   4. a global token bucket.
 * Each drop is counted in tapio_events_dropped_total{reason=...} with reason
 * sampled, rate_limit_process, rate_limit_container or rate_limit_global.
 *
 * Time is the events' own timestamps, so a replay of stored events is
 * limited exactly as the live run was, and tests are deterministic.
 */
#ifndef TAPIO_SAMPLER_H
#define TAPIO_SAMPLER_H

#include "config/config.h"
#include "pipeline/pipeline.h"

#define TP_SAMPLER_PROCESS_SLOTS   8192
#define TP_SAMPLER_CONTAINER_SLOTS 2048

/* A new sampler stage for cfg->sampling and cfg->rate_limit. Returns 0, or
 * -ENOMEM with err filled. */
int tp_sampler_new(struct tp_stage **out, const struct tp_config *cfg, char *err, size_t errlen);

/* Is the sampler needed at all for this configuration? (-a, or nothing
 * enabled, leaves it out of the pipeline.) */
bool tp_sampler_wanted(const struct tp_config *cfg);

#endif
