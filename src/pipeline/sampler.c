#include "pipeline/sampler.h"

#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "obs/metrics.h"
#include "util/time.h"

/* ------------------------------------------------------ token buckets */

struct bucket {
	uint64_t key;
	uint64_t last_ns; /* event time of the last refill */
	double tokens;
	bool used;
};

/* Open addressing; a key looks at PROBE slots from its hash and, when all
 * are taken, replaces the one idle longest (its owner starts afresh with a
 * full bucket: it loses nothing, it may gain a burst). */
#define PROBE 8

struct bucket_table {
	struct bucket *slots;
	size_t mask;
	double rate;	     /* tokens per second; 0: no limit */
	double burst;	     /* bucket capacity */
	_Atomic size_t used; /* read by the metrics thread */
	struct tp_metric m_tracked;
	struct tp_metric m_evictions;
	char labels[32];
};

static uint64_t mix(uint64_t x)
{
	/* splitmix64's finalizer: pids and cgroup ids are dense, spread them. */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static void refill(struct bucket *b, double rate, double burst, uint64_t now)
{
	/* Events from several CPUs arrive slightly out of order, and a wall
	 * clock may step back: time only moves forward for a bucket. */
	if (now > b->last_ns) {
		b->tokens += (double)(now - b->last_ns) * rate / 1e9;
		if (b->tokens > burst)
			b->tokens = burst;
		b->last_ns = now;
	}
}

static bool take(struct bucket *b, double rate, double burst, uint64_t now)
{
	refill(b, rate, burst, now);
	if (b->tokens < 1.0)
		return false;
	b->tokens -= 1.0;
	return true;
}

static struct bucket *table_get(struct bucket_table *t, uint64_t key, uint64_t now)
{
	size_t h = (size_t)mix(key), oldest = h & t->mask;

	for (size_t i = 0; i < PROBE; i++) {
		struct bucket *b = &t->slots[(h + i) & t->mask];

		if (b->used && b->key == key)
			return b;
		if (!b->used) {
			atomic_fetch_add_explicit(&t->used, 1, memory_order_relaxed);
			*b = (struct bucket){
			    .key = key, .last_ns = now, .tokens = t->burst, .used = true};
			return b;
		}
		if (b->last_ns < t->slots[oldest].last_ns)
			oldest = (h + i) & t->mask;
	}
	tp_metric_add(&t->m_evictions, 1);
	t->slots[oldest] =
	    (struct bucket){ .key = key, .last_ns = now, .tokens = t->burst, .used = true };
	return &t->slots[oldest];
}

static double read_tracked(void *ctx)
{
	return (double)atomic_load_explicit(&((struct bucket_table *)ctx)->used,
					    memory_order_relaxed);
}

static int table_init(struct bucket_table *t, size_t slots, uint64_t rate, uint64_t burst,
		      const char *name)
{
	memset(t, 0, sizeof(*t));
	t->rate = (double)rate;
	t->burst = (double)(burst ? burst : 1);
	if (!rate)
		return 0;
	t->slots = calloc(slots, sizeof(*t->slots));
	if (!t->slots)
		return -1;
	t->mask = slots - 1;
	snprintf(t->labels, sizeof(t->labels), "table=\"%s\"", name);
	t->m_tracked = (struct tp_metric)TP_GAUGE_INIT(
	    "tapio_rate_limit_tracked", "Processes or containers with a rate limit bucket.");
	t->m_tracked.labels = t->labels;
	t->m_tracked.read = read_tracked;
	t->m_tracked.ctx = t;
	t->m_evictions = (struct tp_metric)TP_COUNTER_INIT(
	    "tapio_rate_limit_evictions_total",
	    "Buckets recycled because the table was full near their slot.");
	t->m_evictions.labels = t->labels;
	tp_metric_register(&t->m_tracked);
	tp_metric_register(&t->m_evictions);
	return 0;
}

static void table_free(struct bucket_table *t)
{
	if (!t->slots)
		return;
	tp_metric_unregister(&t->m_tracked);
	tp_metric_unregister(&t->m_evictions);
	free(t->slots);
	t->slots = NULL;
}

/* ------------------------------------------------------------ sampler */

static const enum tp_drop_reason sampler_drops[] = {
    TP_DROP_SAMPLED, TP_DROP_RATE_LIMIT_PROCESS, TP_DROP_RATE_LIMIT_CONTAINER,
    TP_DROP_RATE_LIMIT_GLOBAL, 0};

#define NSTREAMS (TP_CAT_MAX * 256)

struct sampler {
	struct tp_stage base;
	struct tp_sampling_config cfg;
	struct bucket_table procs;
	struct bucket_table containers;
	struct bucket global;
	double global_rate, global_burst;

	/* Deterministic 1-in-N per event type: each event earns 1/N of credit,
	 * and an event that finds a whole unit is kept and spends it. */
	double credit[NSTREAMS];

	/* Burst protection, in one-second windows of event time. */
	uint64_t window_start;
	double window_expected;	   /* events sampling would keep this window */
	double factor;		   /* applied to p during this window */
	_Atomic double factor_pub; /* the same, for the metrics thread */

	struct tp_metric m_exempt;
	struct tp_metric m_sampled_kept;
	struct tp_metric m_factor;
};

static double read_factor(void *ctx)
{
	return atomic_load_explicit(&((struct sampler *)ctx)->factor_pub, memory_order_relaxed);
}

static bool exempt(const struct sampler *s, const struct tp_event *ev,
		   const struct tp_event_meta *meta)
{
	unsigned cat = TP_TYPE_CATEGORY(ev->type->id);

	if (meta->alert)
		return true;
	if (meta->importance >= 0 && meta->importance >= s->cfg.never_sample_importance)
		return true;
	return cat < 32 && (s->cfg.never_sample_categories & (1u << cat));
}

static void burst_window(struct sampler *s, uint64_t now)
{
	double target;

	if (!s->window_start) {
		s->window_start = now;
		return;
	}
	if (now < s->window_start + TP_NSEC_PER_SEC)
		return;
	/* The next window's factor from this one: what sampling alone would
	 * have kept (window_expected) against what the threshold allows. */
	target = (double)s->cfg.burst_threshold * (double)(now - s->window_start) / 1e9;
	s->factor = s->window_expected > target ? target / s->window_expected : 1.0;
	atomic_store_explicit(&s->factor_pub, s->factor, memory_order_relaxed);
	s->window_start = now;
	s->window_expected = 0;
}

/* Returns the N of 1-in-N this event was kept at, or 0 when sampled out. */
static uint32_t sample(struct sampler *s, const struct tp_event *ev,
		       const struct tp_event_meta *meta)
{
	double imp = meta->importance < 0 ? 0 : meta->importance > 1 ? 1 : meta->importance;
	double p = s->cfg.base_rate * pow(s->cfg.importance_boost, imp);
	uint32_t id = ev->type->id, n;
	double *credit = &s->credit[id < NSTREAMS ? id : 0];

	if (p > 1)
		p = 1;
	if (s->cfg.burst_protection) {
		burst_window(s, ev->ts_wall_ns);
		s->window_expected += p;
		p *= s->factor;
	}
	/* 1-in-N with a whole N, so that re-scaling by N is exact. */
	n = p >= 1 ? 1 : p <= 1e-9 ? 1000000000u : (uint32_t)lround(1.0 / p);
	if (n < 1)
		n = 1;
	/* Keep when a whole unit of credit is there, then earn 1/N: the first
	 * event of a stream is kept, then exactly one in every N. */
	if (*credit < 1.0 - 1e-9) {
		*credit += 1.0 / n;
		return 0;
	}
	*credit -= 1.0;
	if (*credit < 0)
		*credit = 0;
	*credit += 1.0 / n;
	return n;
}

static int sampler_event(struct tp_stage *st, struct tp_pipeline *p, struct tp_event *ev,
			 struct tp_event_meta *meta)
{
	struct sampler *s = (struct sampler *)st;
	uint64_t now = ev->ts_wall_ns;
	if (exempt(s, ev, meta)) {
		tp_metric_add(&s->m_exempt, 1);
		return TP_STAGE_PASS;
	}
	if (s->procs.slots &&
	    !take(table_get(&s->procs, ev->rec.hdr.pid, now), s->procs.rate, s->procs.burst, now)) {
		return TP_DROP_RATE_LIMIT_PROCESS;
	}
	/* A container is its unified cgroup and, on hybrid machines where
	 * cgroupfs-driver containers exist only in v1, its v1 cgroup. */
	if (s->containers.slots &&
	    !take(table_get(&s->containers,
			    ev->rec.hdr.cgroup_id ^ mix(ev->rec.hdr.cgroup_v1_id + 1), now),
		  s->containers.rate, s->containers.burst, now)) {
		return TP_DROP_RATE_LIMIT_CONTAINER;
	}
	if (s->cfg.enabled) {
		uint32_t n = sample(s, ev, meta);

		if (!n)
			return TP_DROP_SAMPLED;
		if (n > 1) {
			uint64_t rate = (uint64_t)(meta->sample_rate ? meta->sample_rate : 1) * n;

			meta->sample_rate = rate > UINT32_MAX ? UINT32_MAX : (uint32_t)rate;
			tp_metric_add(&s->m_sampled_kept, 1);
		}
	}
	if (s->global_rate > 0 && !take(&s->global, s->global_rate, s->global_burst, now)) {
		return TP_DROP_RATE_LIMIT_GLOBAL;
	}
	return TP_STAGE_PASS;
}

static void sampler_close(struct tp_stage *st)
{
	struct sampler *s = (struct sampler *)st;

	tp_metric_unregister(&s->m_exempt);
	tp_metric_unregister(&s->m_sampled_kept);
	tp_metric_unregister(&s->m_factor);
	table_free(&s->procs);
	table_free(&s->containers);
	free(s);
}

static const struct tp_stage_ops sampler_ops = {
    .name = "sampler",
    .event = sampler_event,
    .drops = sampler_drops,
    .close = sampler_close,
};

bool tp_sampler_wanted(const struct tp_config *cfg)
{
	if (cfg->all_events)
		return false;
	return cfg->sampling.enabled || cfg->rate_limit.per_process ||
	       cfg->rate_limit.per_container || cfg->rate_limit.global;
}

int tp_sampler_new(struct tp_stage **out, const struct tp_config *cfg, char *err, size_t errlen)
{
	const struct tp_sampling_config *sampling = &cfg->sampling;
	const struct tp_rate_limit_config *limits = &cfg->rate_limit;
	struct sampler *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s)
		goto nomem;
	s->base.ops = &sampler_ops;
	s->cfg = *sampling;
	s->factor = 1.0;
	s->factor_pub = 1.0;
	for (size_t i = 0; i < NSTREAMS; i++)
		s->credit[i] = 1.0; /* the first event of each type is kept */
	if (table_init(&s->procs, TP_SAMPLER_PROCESS_SLOTS, limits->per_process,
		       limits->per_process_burst, "process") < 0 ||
	    table_init(&s->containers, TP_SAMPLER_CONTAINER_SLOTS, limits->per_container,
		       limits->per_container_burst, "container") < 0) {
		table_free(&s->procs);
		free(s);
		goto nomem;
	}
	s->global_rate = (double)limits->global;
	s->global_burst = (double)(limits->global_burst ? limits->global_burst : 1);
	s->global.tokens = s->global_burst;
	s->m_exempt = (struct tp_metric)TP_COUNTER_INIT(
	    "tapio_sampler_exempt_total",
	    "Alerts and important events that bypassed sampling and rate limits.");
	s->m_sampled_kept = (struct tp_metric)TP_COUNTER_INIT(
	    "tapio_sampler_kept_total", "Events kept by sampling at a rate below 1 (they carry "
					"sample_rate).");
	s->m_factor = (struct tp_metric)TP_GAUGE_INIT(
	    "tapio_sampler_burst_factor",
	    "Burst protection's current multiplier of the sampling rate (1: no burst).");
	s->m_factor.read = read_factor;
	s->m_factor.ctx = s;
	tp_metric_register(&s->m_exempt);
	if (s->cfg.enabled)
		tp_metric_register(&s->m_sampled_kept);
	if (s->cfg.enabled && s->cfg.burst_protection)
		tp_metric_register(&s->m_factor);
	*out = &s->base;
	return 0;
nomem:
	snprintf(err, errlen, "cannot set up sampling: out of memory");
	return -ENOMEM;
}
