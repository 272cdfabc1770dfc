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
 *   writer ns/event   CPU of the writer thread (framing, coding, CRC, write),
 *                     from its schedstat
 *   framing ns/event  coding and CRC alone, into a buffer in cache
 *   bytes/event       segment files on disk / events, vs the kernel record
 *   read ns/event     reading them back through the stored-events source
 *                     (what raw cat and replay pay before formatting or rules)
 *   past the cap      the writer alone (this thread's CPU and wall time),
 *                     once retention deletes a segment per rotation: the
 *                     state of an agent whose directory has filled. The
 *                     corpus is appended until 4 times a 128 MiB cap is
 *                     written; the figure is over the second half.
 *   1 GiB stream      the writer alone as above, with no cap, writing 1 GiB
 *                     (16 segments): the state of an agent that has not
 *                     filled its directory, whose writes take page-cache
 *                     pages the machine may not have handed out for a
 *                     while (raw_writer.c: WRITE_BEHIND_BYTES).
 *
 * The queue is sized to hold a whole round, so no event is dropped and the
 * figures are the cost of keeping every event; drops are printed anyway.
 */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "config/config.h"
#include "events/decode.h"
#include "obs/log.h"
#include "pipeline/pipeline.h"
#include "storage/raw_format.h"
#include "storage/raw_reader.h"
#include "storage/raw_stage.h"
#include "storage/raw_writer.h"
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

/* CPU ns of this process's thread named name (0 when there is none): the
 * first figure of its schedstat, exact where rusage is sampled. */
static uint64_t thread_cpu_ns(const char *name)
{
	char path[64], comm[32];
	unsigned long long ns = 0;
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;

	while (d && (de = readdir(d))) {
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%.16s/comm", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = '\0';
		fclose(f);
		comm[strcspn(comm, "\n")] = '\0';
		if (strcmp(comm, name))
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%.16s/schedstat", de->d_name);
		f = fopen(path, "r");
		if (f && fscanf(f, "%llu", &ns) != 1)
			ns = 0;
		if (f)
			fclose(f);
		break;
	}
	if (d)
		closedir(d);
	return ns;
}

static int count_event(void *ctx, struct tp_event *e)
{
	(void)e;
	(*(uint64_t *)ctx)++;
	return 0;
}

/* Framing alone (zero-run coding and CRC, what the writer does before its
 * write) over one pass of the corpus into a frame buffer that stays in
 * cache; returns ns per event, and the frame bytes in *bytes. */
static double frame_pass(uint64_t *bytes)
{
	static uint8_t frame[TP_RAW_FRAME_MAX + 64];
	uint64_t t0 = cpu_ns(CLOCK_THREAD_CPUTIME_ID), b = 0;

	for (int r = 0; r < REPEAT; r++)
		for (size_t i = 0; i < ncorpus; i++)
			b += (uint64_t)tp_raw_frame_encode(frame, 1, corpus[i].ts, corpus[i].bytes,
							   corpus[i].len);
	*bytes = b;
	return (double)(cpu_ns(CLOCK_THREAD_CPUTIME_ID) - t0) / (double)(ncorpus * REPEAT);
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

#define CAP_BYTES (128ull << 20)
#define STREAM_BYTES (1ull << 30)

/* The writer alone (see the top): past a retention cap of cap bytes, or
 * with no cap (0) over a stream of STREAM_BYTES: ns of CPU per event, wall
 * ns in *wall, files reused per rotation in *reused. */
static double writer_alone(const char *dir, uint64_t cap, double *wall, double *reused)
{
	struct tp_raw_writer_opts o = {
	    .dir = dir, .segment_bytes = cap ? cap / 4 : 64ull << 20, .retention_bytes = cap};
	uint64_t from = cap ? 2 * cap : 0, upto = cap ? 4 * cap : STREAM_BYTES;
	struct tp_raw_writer_stats st;
	struct tp_raw_writer *w;
	uint64_t c0 = 0, m0 = 0, n = 0, rot0 = 0, reuse0 = 0, now = tp_now_ns(CLOCK_REALTIME);
	char err[512];

	if (tp_raw_writer_open(&w, &o, now, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	for (size_t i = 0;; i = (i + 1) % ncorpus) {
		if (i == 0) {
			tp_raw_writer_stats(w, &st);
			if (!c0 && st.bytes_written >= from) {
				c0 = cpu_ns(CLOCK_THREAD_CPUTIME_ID);
				m0 = tp_mono_ns();
				rot0 = st.segments_created;
				reuse0 = st.segments_reused;
				n = 0;
			}
			if (st.bytes_written >= upto)
				break;
		}
		tp_raw_writer_append(w, corpus[i].ts, corpus[i].bytes, corpus[i].len, now);
		n++;
	}
	tp_raw_writer_sync(w);
	*wall = (double)(tp_mono_ns() - m0) / (double)n;
	tp_raw_writer_stats(w, &st);
	*reused = (double)(st.segments_reused - reuse0) /
		  (double)(st.segments_created - rot0 ? st.segments_created - rot0 : 1);
	double c = (double)(cpu_ns(CLOCK_THREAD_CPUTIME_ID) - c0) / (double)n;

	tp_raw_writer_close(w, now);
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return c;
}

int main(int argc, char **argv)
{
	int rounds = argc > 3 ? atoi(argv[3]) : 7;
	double base[64], with[64], writer[64], bytes[64], readback[64], framing[64];
	uint64_t frame_bytes = 0;
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
		uint64_t events = (uint64_t)ncorpus * REPEAT, reader, w0, w1;
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
		w0 = thread_cpu_ns(TP_RAW_THREAD_NAME);
		reader = feed(&p);
		tp_raw_stage_sync(stage, 120000, &st);
		w1 = thread_cpu_ns(TP_RAW_THREAD_NAME);
		tp_pipeline_close(&p);
		with[r] = (double)reader / (double)events;
		writer[r] = (double)(w1 - w0) / (double)events;
		bytes[r] = (double)dir_bytes(dir) / (double)events;
		drops += st.dropped_queue + st.dropped_write;
		readback[r] = (double)read_back(dir) / (double)events;
		framing[r] = frame_pass(&frame_bytes);
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
	printf("  of which framing:          %.1f ns/event (median of %d; coding and CRC "
	       "alone, %.1f bytes/frame)\n",
	       median(framing, rounds), rounds, (double)frame_bytes / (double)(ncorpus * REPEAT));
	printf("on disk:                     %.1f bytes/event (median; %.1fx smaller than the "
	       "records)\n",
	       median(bytes, rounds),
	       (double)corpus_bytes / (double)ncorpus / median(bytes, rounds));
	printf("read back (raw cat, replay): %.1f ns/event (median of %d)\n",
	       median(readback, rounds), rounds);
	{
		double cpu[3], wall[3], reused = 0;
		char dir[4200];

		for (int r = 0; r < 3; r++) {
			snprintf(dir, sizeof(dir), "%s/cap-%d", argv[2], r);
			cpu[r] = writer_alone(dir, CAP_BYTES, &wall[r], &reused);
		}
		printf("writer past a %llu MiB cap:   %.1f ns/event CPU, %.1f wall (median of 3; "
		       "%.0f%% of rotations reused a file)\n",
		       (unsigned long long)(CAP_BYTES >> 20), median(cpu, 3), median(wall, 3),
		       reused * 100);
		for (int r = 0; r < 3; r++) {
			snprintf(dir, sizeof(dir), "%s/stream-%d", argv[2], r);
			cpu[r] = writer_alone(dir, 0, &wall[r], &reused);
		}
		printf("writer, a 1 GiB stream:      %.1f ns/event CPU, %.1f wall (median of 3)\n",
		       median(cpu, 3), median(wall, 3));
	}
	printf("events dropped:              %llu\n", (unsigned long long)drops);
	return drops ? 1 : 0;
}
