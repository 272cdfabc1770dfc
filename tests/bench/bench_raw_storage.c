/*
 * bench_raw_storage: what raw storage costs per event, and how many bytes an
 * event takes on disk.
 *
 *   bench_raw_storage CORPUS OUTDIR [ROUNDS]
 *
 * CORPUS is a raw storage directory written by a live run (the real mix of
 * this machine's events). Each round replays its records as the live reader
 * does (decode into one reused event, run the pipeline, tick every 4096
 * events) through two pipelines on the same load: without stages, and with
 * the raw storage stage alone. Figures are medians over the rounds:
 *
 *   reader ns/event   on the reader thread, with and without storage
 *   writer ns/event   CPU of the writer thread (framing, coding, CRC, write)
 *   bytes/event       segment files on disk / events, vs the kernel record
 *   read ns/event     reading them back through the stored-events source
 *                     (what raw cat and replay pay before formatting or rules)
 *
 * The queue is sized to hold a whole round, so no event is dropped and the
 * figures are the cost of keeping every event; drops are printed anyway.
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "config/config.h"
#include "events/decode.h"
#include "obs/log.h"
#include "pipeline/pipeline.h"
#include "storage/raw_reader.h"
#include "storage/raw_stage.h"
#include "storage/source_raw.h"
#include "util/time.h"

#include "bench_util.h"

#define REPEAT 20 /* passes over the corpus per round */

struct rec {
	uint64_t ts;
	uint32_t len;
	uint8_t *bytes;
};

static struct rec *corpus;
static size_t ncorpus;
static uint64_t corpus_bytes;
static struct tp_event ev;

static int load(void *ctx, struct tp_event *e)
{
	(void)ctx;
	corpus = realloc(corpus, (ncorpus + 1) * sizeof(*corpus));
	corpus[ncorpus].ts = e->ts_wall_ns;
	corpus[ncorpus].len = e->len;
	corpus[ncorpus].bytes = malloc(e->len);
	memcpy(corpus[ncorpus].bytes, e->rec.bytes, e->len);
	corpus_bytes += e->len;
	ncorpus++;
	return 0;
}

static uint64_t cpu_ns(int clock)
{
	return tp_now_ns(clock);
}

/* One pass as the live reader makes it; returns reader-thread ns. */
static uint64_t feed(struct tp_pipeline *p)
{
	uint64_t t0 = cpu_ns(CLOCK_THREAD_CPUTIME_ID), n = 0;

	for (int r = 0; r < REPEAT; r++) {
		for (size_t i = 0; i < ncorpus; i++) {
			const struct rec *c = &corpus[i];
			const struct tp_hdr *h = (const struct tp_hdr *)c->bytes;

			if (tp_decode(c->bytes, c->len, (int64_t)(c->ts - h->ts_ns), &ev) == 0)
				tp_pipeline_event(p, &ev);
			if (++n % 4096 == 0)
				tp_pipeline_tick(p, tp_mono_ns());
		}
	}
	return cpu_ns(CLOCK_THREAD_CPUTIME_ID) - t0;
}

static int count_event(void *ctx, struct tp_event *e)
{
	(void)e;
	(*(uint64_t *)ctx)++;
	return 0;
}

/* Read a directory back through the stored-events source; returns ns. */
static uint64_t read_back(const char *dir)
{
	uint64_t t0 = tp_mono_ns(), n = 0;
	struct tp_source *src;
	char err[512];

	if (tp_source_raw_open(&src, dir, NULL, err, sizeof(err)) < 0)
		return 0;
	while (tp_source_poll(src, 0, 4096, count_event, &n) > 0)
		;
	tp_source_close(src);
	return tp_mono_ns() - t0;
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

static uint64_t dir_bytes(const char *dir)
{
	struct tp_raw_seg_info *s;
	uint64_t total = 0;
	size_t n;

	if (tp_raw_list(dir, &s, &n) < 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		total += s[i].size;
	free(s);
	return total;
}

int main(int argc, char **argv)
{
	int rounds = argc > 3 ? atoi(argv[3]) : 7;
	double base[64], with[64], writer[64], bytes[64], readback[64];
	uint64_t drops = 0;
	struct tp_source *src;
	char err[512];

	if (argc < 3 || rounds < 1 || rounds > 64) {
		fprintf(stderr, "usage: %s CORPUS_DIR OUT_DIR [ROUNDS]\n", argv[0]);
		return 2;
	}
	tp_log_set_level(TP_LOG_ERROR);
	if (tp_source_raw_open(&src, argv[1], NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	while (tp_source_poll(src, 0, 4096, load, NULL) > 0)
		;
	tp_source_close(src);
	if (!ncorpus) {
		fprintf(stderr, "no events in %s\n", argv[1]);
		return 1;
	}
	mkdir(argv[2], 0700);

	for (int r = 0; r < rounds; r++) {
		struct tp_raw_stage_stats st;
		struct tp_pipeline p;
		struct tp_stage *stage;
		struct tp_config cfg;
		struct rusage ru0, ru1;
		uint64_t events = (uint64_t)ncorpus * REPEAT, reader, proc;
		char dir[4200];

		tp_pipeline_init(&p);
		base[r] = (double)feed(&p) / (double)events;
		tp_pipeline_close(&p);

		snprintf(dir, sizeof(dir), "%s/round-%d", argv[2], r);
		tp_config_defaults(&cfg);
		cfg.raw_dir = dir;
		cfg.raw_queue_bytes = (corpus_bytes + ncorpus * 24) * REPEAT + (16 << 20);
		tp_pipeline_init(&p);
		if (tp_raw_stage_new(&stage, &cfg, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		tp_pipeline_add_stage(&p, stage);
		getrusage(RUSAGE_SELF, &ru0);
		reader = feed(&p);
		tp_raw_stage_sync(stage, 120000, &st);
		getrusage(RUSAGE_SELF, &ru1);
		tp_pipeline_close(&p);
		proc = (uint64_t)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) * 1000000000ull +
		       (uint64_t)(ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) * 1000000000ull +
		       (uint64_t)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) * 1000ull +
		       (uint64_t)(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) * 1000ull;
		with[r] = (double)reader / (double)events;
		writer[r] = proc > reader ? (double)(proc - reader) / (double)events : 0;
		bytes[r] = (double)dir_bytes(dir) / (double)events;
		drops += st.dropped_queue + st.dropped_write;
		readback[r] = (double)read_back(dir) / (double)events;
		nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	}
	double mb = median(base, rounds), mw = median(with, rounds);

	printf("corpus: %zu events (x%d per round), %.1f bytes/event as kernel records\n", ncorpus,
	       REPEAT, (double)corpus_bytes / (double)ncorpus);
	printf("reader thread, no storage:   %.1f ns/event (median of %d)\n", mb, rounds);
	printf("reader thread, with storage: %.1f ns/event (median of %d)\n", mw, rounds);
	printf("storage cost on the reader:  %.1f ns/event (%.2fx)\n", mw - mb, mw / mb);
	printf("writer thread CPU:           %.1f ns/event (median of %d)\n",
	       median(writer, rounds), rounds);
	printf("on disk:                     %.1f bytes/event (median; %.1fx smaller than the "
	       "records)\n",
	       median(bytes, rounds),
	       (double)corpus_bytes / (double)ncorpus / median(bytes, rounds));
	printf("read back (raw cat, replay): %.1f ns/event (median of %d)\n",
	       median(readback, rounds), rounds);
	printf("events dropped:              %llu\n", (unsigned long long)drops);
	return drops ? 1 : 0;
}
