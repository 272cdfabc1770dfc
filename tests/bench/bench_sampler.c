/*
 * bench_sampler: what the sampler stage costs per event, and what a
 * /metrics scrape costs the agent.
 *
 * One pre-decoded event set (forks from `procs` pids in 64 cgroups, 1 µs
 * apart) goes through a pipeline with a null output: without the sampler
 * (the baseline), with rate limits only, and with rate limits plus adaptive
 * sampling and burst protection; once with 16 busy processes, once with
 * 20000 (more than the process table holds, so buckets are recycled).
 * Limits and rates are set so that every event passes: the figures are
 * what deciding costs, not what dropping saves. Each
 * figure is the median of ROUNDS runs, in ns per event; the sampler's cost
 * is the difference to the baseline of the same run.
 *
 * Then the scope filters (process, container and namespace patterns,
 * scope.h) on the same events, each carrying an enrichment context that
 * every filter lets through: the cost of the scope stage against a
 * pipeline with only a stand-in for enrichment.
 *
 * Then the Prometheus rendering of the registry as it stands (the pipeline
 * and sampler metrics registered), median µs per render.
 *
 * Usage: bench_sampler [ROUNDS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/config_keys.h"
#include "events/decode.h"
#include "events/proc_ctx.h"
#include "obs/metrics.h"
#include "pipeline/pipeline.h"
#include "pipeline/sampler.h"
#include "pipeline/scope.h"
#include "util/buf.h"
#include "util/time.h"

#include "bench_util.h"

#define NEVENTS 400000

static int null_emit(struct tp_output *o, const struct tp_event *ev,
		     const struct tp_event_meta *meta)
{
	return 0;
}

static void null_close(struct tp_output *o)
{
}

static const struct tp_output_ops null_ops = { .name = "null", .emit = null_emit,
					       .close = null_close };

static struct tp_event *make_events(unsigned procs)
{
	struct tp_event *evs = calloc(NEVENTS, sizeof(*evs));

	if (!evs)
		return NULL;
	for (unsigned i = 0; i < NEVENTS; i++) {
		struct tp_fork_event f;

		memset(&f, 0, sizeof(f));
		f.hdr.ts_ns = 1000000000ULL + (uint64_t)i * 1000;
		f.hdr.type = TP_EV_PROCESS_FORK;
		f.hdr.size = sizeof(f);
		f.hdr.pid = 1000 + (i * 2654435761u) % procs;
		f.hdr.cgroup_id = 100 + f.hdr.pid % 64;
		memcpy(f.hdr.comm, "bench", 6);
		if (tp_decode(&f, sizeof(f), 0, &evs[i]) < 0) {
			free(evs);
			return NULL;
		}
	}
	return evs;
}

enum mode { BASELINE, LIMITS, SAMPLING };

/* ns per event of one pass of every event. */
static struct tp_stage *new_sampler(const struct tp_config *cfg)
{
	struct tp_stage *st;
	char err[256];

	if (tp_sampler_new(&st, cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_sampler: %s\n", err);
		exit(1);
	}
	return st;
}

static double run_once(struct tp_event *evs, enum mode mode)
{
	struct tp_output out = { .ops = &null_ops };
	struct tp_pipeline p;
	struct tp_config cfg;
	uint64_t t0, t1;

	tp_config_defaults(&cfg);
	/* Limits and rates high enough that every event passes: the figures
	 * are the cost of deciding, not the savings of dropping. */
	cfg.rate_limit.per_process = cfg.rate_limit.per_container = cfg.rate_limit.global = 1e9;
	cfg.rate_limit.per_process_burst = cfg.rate_limit.per_container_burst = 1e9;
	cfg.rate_limit.global_burst = 1e9;
	cfg.sampling.enabled = mode == SAMPLING;
	cfg.sampling.base_rate = 1.0;
	cfg.sampling.burst_threshold = 1e9;
	tp_pipeline_init(&p);
	if (mode != BASELINE)
		tp_pipeline_add_stage(&p, new_sampler(&cfg));
	tp_pipeline_add_output(&p, &out);
	t0 = tp_mono_ns();
	for (unsigned i = 0; i < NEVENTS; i++)
		tp_pipeline_event(&p, &evs[i]);
	t1 = tp_mono_ns();
	tp_pipeline_close(&p);
	return (double)(t1 - t0) / NEVENTS;
}

/* A stand-in for enrichment: every event in one pod's container. */
static const struct tp_container_ctx bench_ct = {
	.id = "3f0a9c1b2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f90",
	.runtime = "containerd"
};
static const struct tp_k8s_ctx bench_pod = { .pod = "web-0", .namespace = "shop",
					     .container = "web" };
static const struct tp_proc_ctx bench_proc = { .exe = "/usr/bin/bench",
					       .container = &bench_ct,
					       .k8s = &bench_pod };

static int fake_enrich(struct tp_stage *st, struct tp_pipeline *p, struct tp_event *ev,
		       struct tp_event_meta *meta)
{
	meta->proc = &bench_proc;
	return TP_STAGE_PASS;
}

static void fake_close(struct tp_stage *st)
{
}

static const struct tp_stage_ops fake_ops = { .name = "enrich", .event = fake_enrich,
					      .close = fake_close };

/* ns per event: the stand-in for enrichment, with the scope stage or not. */
static double run_scope(struct tp_event *evs, bool with_scope)
{
	static const char *const kv[][2] = {
		{ "filter.exclude_processes", "systemd-*,/usr/lib/jvm/*/bin/java" },
		{ "filter.containers", "deadbeef,3f0a9c,api-*" },
		{ "filter.exclude_k8s_namespaces", "kube-*,monitoring" },
	};
	struct tp_output out = { .ops = &null_ops };
	struct tp_stage fake = { .ops = &fake_ops }, *scope;
	struct tp_pipeline p;
	struct tp_config cfg;
	char err[256];
	uint64_t t0, t1;

	tp_config_defaults(&cfg);
	for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++)
		if (tp_config_set_text(&cfg, tp_config_key_find(kv[i][0]), kv[i][1], TP_SRC_FLAG, err,
				       sizeof(err)) < 0) {
			fprintf(stderr, "bench_sampler: %s: %s\n", kv[i][0], err);
			exit(1);
		}
	tp_pipeline_init(&p);
	tp_pipeline_add_stage(&p, &fake);
	if (with_scope) {
		if (tp_scope_new(&scope, &cfg, err, sizeof(err)) < 0) {
			fprintf(stderr, "bench_sampler: %s\n", err);
			exit(1);
		}
		tp_pipeline_add_stage(&p, scope);
	}
	tp_pipeline_add_output(&p, &out);
	t0 = tp_mono_ns();
	for (unsigned i = 0; i < NEVENTS; i++)
		tp_pipeline_event(&p, &evs[i]);
	t1 = tp_mono_ns();
	if (p.events_out != NEVENTS) {
		fprintf(stderr, "bench_sampler: the scope filters dropped events\n");
		exit(1);
	}
	tp_pipeline_close(&p);
	tp_config_free(&cfg);
	return (double)(t1 - t0) / NEVENTS;
}

static double render_us(int rounds)
{
	struct tp_output out = { .ops = &null_ops };
	struct tp_pipeline p;
	struct tp_config cfg;
	double t[64];
	size_t bytes = 0;

	tp_config_defaults(&cfg);
	cfg.sampling.enabled = true;
	tp_pipeline_init(&p);
	tp_pipeline_add_stage(&p, new_sampler(&cfg));
	tp_pipeline_add_output(&p, &out);
	for (int r = 0; r < rounds; r++) {
		struct tp_buf b;
		uint64_t t0;

		tp_buf_init(&b);
		t0 = tp_mono_ns();
		tp_metrics_render_prometheus(&b);
		t[r] = (double)(tp_mono_ns() - t0) / 1000;
		bytes = b.len;
		tp_buf_free(&b);
	}
	tp_pipeline_close(&p);
	printf("metrics render: %.1f us median for %zu bytes of /metrics\n", median(t, rounds),
	       bytes);
	return 0;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 7;
	static const unsigned procs[] = { 16, 20000 };

	if (rounds < 1 || rounds > 64)
		rounds = 7;
	for (size_t k = 0; k < 2; k++) {
		struct tp_event *evs = make_events(procs[k]);
		double base[64], lim[64], smp[64], mb, ml, ms;

		if (!evs) {
			fprintf(stderr, "bench_sampler: out of memory\n");
			return 1;
		}
		/* Interleave the modes so a noisy neighbour hits them alike. */
		for (int r = 0; r < rounds; r++) {
			base[r] = run_once(evs, BASELINE);
			lim[r] = run_once(evs, LIMITS);
			smp[r] = run_once(evs, SAMPLING);
		}
		mb = median(base, rounds);
		ml = median(lim, rounds);
		ms = median(smp, rounds);
		printf("%5u processes: baseline %.1f ns/event; rate limits %.1f (+%.1f); "
		       "limits + sampling + burst protection %.1f (+%.1f)  [median of %d]\n",
		       procs[k], mb, ml, ml - mb, ms, ms - mb, rounds);
		free(evs);
	}
	{
		struct tp_event *evs = make_events(16);
		double base[64], scoped[64], mb, msc;

		if (!evs) {
			fprintf(stderr, "bench_sampler: out of memory\n");
			return 1;
		}
		for (int r = 0; r < rounds; r++) {
			base[r] = run_scope(evs, false);
			scoped[r] = run_scope(evs, true);
		}
		mb = median(base, rounds);
		msc = median(scoped, rounds);
		printf("scope filters (2 process, 3 container, 2 namespace patterns): %.1f ns/event "
		       "(+%.1f over %.1f)  [median of %d]\n",
		       msc, msc - mb, mb, rounds);
		free(evs);
	}
	render_us(rounds * 3 > 64 ? 64 : rounds * 3);
	return 0;
}
