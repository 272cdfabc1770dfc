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
 *
 * With BY_RECORD=1 in the environment it then prints each record's own
 * cost (the median over ROUNDS of REPEAT runs of that record alone, after
 * the mix): which kinds of event the rules spend their time on. With
 * BY_RECORD=N (N > 1), each record costing N ns or more is followed by the
 * rules (and enrich/filter/score functions) that spent most of it, from
 * the tapio_rule_cpu_seconds_total series (sampled: 1 call in 32 timed).
 * ONLY=I runs record I of the mix alone (under callgrind too).
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
#include "obs/metrics.h"
#include "pipeline/pipeline.h"
#include "util/buf.h"
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
	m->n++; /* lens: from each record's header once the mix is made */
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

/* Record i alone, n times. */
static void run_record(struct tp_pipeline *p, unsigned i, int n)
{
	for (int k = 0; k < n; k++)
		if (tp_decode(recs[i], lens[i], 0, &ev) == 0)
			tp_pipeline_event(p, &ev);
}

#define MAXSERIES 512

struct series {
	char labels[160];
	double v;
};

/* tapio_rule_cpu_seconds_total's series as published now. */
static int cpu_series(struct tp_pipeline *p, struct series *out)
{
	static const char prefix[] = "tapio_rule_cpu_seconds_total{";
	static uint64_t tick = 1ull << 62;
	struct tp_buf b = {0};
	const char *s;
	int n = 0;

	tick += 60ull * 1000000000; /* past the publishing interval */
	tp_pipeline_tick(p, tick);
	tp_metrics_render_prometheus(&b);
	for (s = tp_buf_cstr(&b); s && (s = strstr(s, prefix)) && n < MAXSERIES; s++) {
		const char *end = strchr(s, '}');

		if (!end || (size_t)(end - s) - sizeof(prefix) + 1 >= sizeof(out[n].labels))
			continue;
		memcpy(out[n].labels, s + sizeof(prefix) - 1, (size_t)(end - s) - sizeof(prefix) + 1);
		out[n].labels[end - s - sizeof(prefix) + 1] = 0;
		out[n].v = strtod(end + 1, NULL);
		n++;
	}
	tp_buf_free(&b);
	return n;
}

static int by_cost(const void *a, const void *b)
{
	double x = ((const struct series *)a)->v, y = ((const struct series *)b)->v;

	return x < y ? 1 : x > y ? -1 : 0;
}

/* Which functions spent the time of REPEAT runs of record i. */
static void by_rule(struct tp_pipeline *p, unsigned i, int repeat)
{
	static struct series before[MAXSERIES], after[MAXSERIES];
	int nb = cpu_series(p, before), na, top = getenv("TOP") ? atoi(getenv("TOP")) : 12;

	run_record(p, i, repeat * 32); /* 1 call in 32 is timed */
	na = cpu_series(p, after);
	for (int a = 0; a < na; a++)
		for (int k = 0; k < nb; k++)
			if (!strcmp(after[a].labels, before[k].labels)) {
				after[a].v -= before[k].v;
				break;
			}
	qsort(after, (size_t)na, sizeof(after[0]), by_cost);
	for (int a = 0; a < na && a < top && after[a].v > 0; a++)
		printf("      %7.0f ns  %s\n", after[a].v * 1e9 / (repeat * 32), after[a].labels);
}

/* One line per record: its median thread CPU ns over ROUNDS of REPEAT
 * runs of it alone, its type and its path or file name. */
static void by_record(struct tp_pipeline *p, unsigned nrec, int repeat, int rounds, int detail)
{
	double ns[64], sum = 0;

	for (unsigned i = 0; i < nrec; i++) {
		const struct tp_hdr *h = (const struct tp_hdr *)recs[i];
		const char *what = "";

		for (int r = 0; r < rounds; r++) {
			uint64_t t0 = tp_now_ns(CLOCK_THREAD_CPUTIME_ID);

			run_record(p, i, repeat);
			ns[r] = (double)(tp_now_ns(CLOCK_THREAD_CPUTIME_ID) - t0) / repeat;
		}
		if (h->type == TP_EV_FILE_OPEN)
			what = ((const struct tp_file_open_event *)h)->path;
		else if (h->type == TP_EV_FILE_UNLINK)
			what = ((const struct tp_file_path_event *)h)->path;
		else if (h->type == TP_EV_FILE_RENAME)
			what = ((const struct tp_file_rename_event *)h)->oldpath;
		else if (h->type == TP_EV_PROCESS_EXEC)
			what = ((const struct tp_exec_event *)h)->filename;
		sum += median(ns, rounds);
		printf("%3u %7.0f ns  type %2u  %s\n", i, median(ns, rounds), h->type, what);
		if (detail > 1 && median(ns, rounds) >= detail)
			by_rule(p, i, repeat);
	}
	printf("sum %.0f ns over %u records: %.0f ns/record\n", sum, nrec, sum / nrec);
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
	for (unsigned i = 0; i < m.n; i++) /* a record may end before its struct (file.open) */
		lens[i] = ((const struct tp_hdr *)recs[i])->size;
	if (getenv("ONLY")) { /* one record of the mix, alone: ONLY=29 */
		unsigned i = (unsigned)atoi(getenv("ONLY"));

		if (i >= m.n) {
			fprintf(stderr, "bench_lua_mix: ONLY=%u: the mix has %u records\n", i, m.n);
			return 2;
		}
		memmove(recs[0], recs[i], lens[i]);
		lens[0] = lens[i];
		m.n = 1;
	}

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
	if (getenv("BY_RECORD") && atoi(getenv("BY_RECORD")) > 0)
		by_record(&p, m.n, repeat, rounds, atoi(getenv("BY_RECORD")));
	return 0;
}
