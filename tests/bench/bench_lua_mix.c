/*
 * bench_lua_mix: the pipeline benchmark's node mix (node_mix.h: what
 * bench_pipeline.py's producer floods at L2) decoded and run through the
 * security preset's rule stage (rules/default + rules/security, without
 * -a), in process: what L2 costs in the rules, without the ring, the
 * kernel or the enrichment (virtual fields such as e.exe read nil).
 *
 *   bench_lua_mix RULES_DIR [REPEAT] [ROUNDS]
 *
 * Prints the median over ROUNDS of thread CPU ns per event (REPEAT passes
 * over the 100 records each, after one pass to warm up). The loop is the
 * function run_mix, so that `valgrind --tool=callgrind --collect-atstart=no
 * --toggle-collect=run_mix` counts the instructions of the loop alone: a
 * figure the load of a shared machine does not move (bench_lua_mix.sh
 * CALLGRIND=1), for comparing two builds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "enrich/lua_fields.h"
#include "events/decode.h"
#include "lua/rules_stage.h"
#include "obs/log.h"
#include "pipeline/pipeline.h"
#include "util/time.h"

#include "bench_util.h"
#include "node_mix.h"

#define MAXREC 128

static uint8_t recs[MAXREC][TP_RECORD_MAX];
static uint32_t lens[MAXREC];
static struct tp_event ev;

static void *mix_add(struct tp_mix *m, enum tp_bench_kind kind, uint32_t type, uint32_t size)
{
	struct tp_hdr *h = (struct tp_hdr *)recs[m->n];

	(void)kind;
	if (m->n >= MAXREC || size > TP_RECORD_MAX) {
		fprintf(stderr, "bench_lua_mix: the mix outgrew MAXREC\n");
		exit(2);
	}
	memset(recs[m->n], 0, TP_RECORD_MAX);
	*h = m->self;
	h->type = type;
	h->size = size;
	lens[m->n++] = size;
	return h;
}

/* REPEAT passes over the mix; returns the events. Not inlined: callgrind
 * counts this function. */
__attribute__((noinline)) uint64_t run_mix(struct tp_pipeline *p, unsigned nrec, int repeat);
__attribute__((noinline)) uint64_t run_mix(struct tp_pipeline *p, unsigned nrec, int repeat)
{
	uint64_t n = 0;

	for (int r = 0; r < repeat; r++)
		for (unsigned i = 0; i < nrec; i++) {
			if (tp_decode(recs[i], lens[i], 0, &ev) == 0)
				tp_pipeline_event(p, &ev);
			if (++n % 4096 == 0)
				tp_pipeline_tick(p, tp_mono_ns());
		}
	return n;
}

int main(int argc, char **argv)
{
	struct tp_mix m = {.add = mix_add};
	struct tp_pipeline p;
	struct tp_config cfg;
	struct tp_stage *st;
	char err[1024], def[600], sec[600];
	int repeat = argc > 2 ? atoi(argv[2]) : 500, rounds = argc > 3 ? atoi(argv[3]) : 5;
	double ns[64];

	if (argc < 2 || repeat < 1 || rounds < 1 || rounds > 64) {
		fprintf(stderr, "usage: bench_lua_mix RULES_DIR [REPEAT] [ROUNDS<=64]\n");
		return 2;
	}
	tp_log_set_level(TP_LOG_WARN);
	if (tp_enrich_lua_register() < 0) { /* ${exe}, e.parent... of the security rules */
		fprintf(stderr, "enrichment fields: out of memory\n");
		return 1;
	}
	/* As the producer describes itself (producer.c) */
	m.self.pid = m.self.tid = 4242;
	m.self.ppid = 1;
	m.self.uid = m.self.gid = 1000;
	snprintf(m.self.comm, sizeof(m.self.comm), "app-worker");
	tp_mix_node(&m);

	tp_config_defaults(&cfg);
	cfg.rules_user_dir = "off";
	cfg.rules_dir = argv[1];
	snprintf(def, sizeof(def), "%s/default", argv[1]);
	snprintf(sec, sizeof(sec), "%s/security", argv[1]);
	cfg.rule_paths[0] = def;
	cfg.rule_paths[1] = sec;
	cfg.nrule_paths = 2;
	tp_pipeline_init(&p);
	if (tp_rules_stage_new(&st, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "security preset: %s\n", err);
		return 1;
	}
	tp_pipeline_add_stage(&p, st);
	run_mix(&p, m.n, 1);
	for (int r = 0; r < rounds; r++) {
		uint64_t t0 = tp_now_ns(CLOCK_THREAD_CPUTIME_ID), n = run_mix(&p, m.n, repeat);

		ns[r] = (double)(tp_now_ns(CLOCK_THREAD_CPUTIME_ID) - t0) / (double)n;
	}
	printf("node mix (%u records) x %d through the security preset's rules, %d rounds: "
	       "median %.0f thread CPU ns/event\n",
	       m.n, repeat, rounds, median(ns, rounds));
	return 0;
}
