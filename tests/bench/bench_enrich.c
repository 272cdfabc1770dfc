/*
 * bench_enrich: what the enrichment stage costs per event, and how much
 * memory a tracked process takes.
 *
 *   bench_enrich [ROUNDS]
 *
 * Per event (ns, median over the rounds, each round a fresh stage fed the
 * same pre-decoded stream; the stream is replayed as a live reader would,
 * ticking every 4096 events):
 *
 *   steady      events of 2,000 known processes in known cgroups: a
 *               process lookup, two cgroup lookups (hybrid machine: the
 *               unified id, then the tracked v1 id) and an ancestry of 2
 *   deep        the same with 9 ancestors above each process: the
 *               configured depth (8 beyond the parent) is walked
 *   churn       1 in 10 events a fork, an exec or an exit (short-lived
 *               processes coming and going), the rest as in steady
 *   json        rendering one event as JSON without and with its context
 *               (the outputs' extra cost of the enrichment)
 *
 * Memory (bytes per process, heap measured with mallinfo2 around building a
 * table of 20,000 processes): each with its own exec'd image (exe ~20 B,
 * argv ~60 B), and forked children sharing their parent's image.
 *
 * Startup: creating a live stage (reading this machine's /proc and walking
 * its cgroup hierarchies), in ms.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "enrich/cgroupfs.h"
#include "enrich/proctable.h"
#include "enrich/stage.h"
#include "events/event.h"
#include "events/format.h"
#include "obs/log.h"
#include "pipeline/pipeline.h"

#include "bench_util.h"

#define NPROCS 2000
#define NEVENTS 1000000
#define MEM_PROCS 20000

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t cg_v2, cg_v1;

/* The stream is compact descriptors; each event is patched into a reused
 * template of its type, the same work with and without the stage. */
struct desc {
	uint32_t type, pid, ppid;
	uint64_t ts;
};

static struct desc *stream;
static size_t nstream;
static struct tp_event tmpl_exec, tmpl_fork, tmpl_exit, tmpl_open;

static void hdr(struct tp_event *ev, uint32_t type, uint32_t pid, uint32_t ppid, uint64_t ts)
{
	struct tp_hdr *h = &ev->rec.hdr;

	h->type = type;
	h->ts_ns = ts;
	h->pid = h->tid = pid;
	h->ppid = ppid;
	h->cgroup_id = cg_v2;
	h->cgroup_v1_id = cg_v1;
}

static void make_templates(void)
{
	static const char argv[] = "/usr/local/bin/worker\0--config\0/etc/worker/config.yaml\0-v";
	struct tp_exec_event *x = (struct tp_exec_event *)tmpl_exec.rec.bytes;
	struct tp_event *all[] = { &tmpl_exec, &tmpl_fork, &tmpl_exit, &tmpl_open };
	uint32_t types[] = { TP_EV_PROCESS_EXEC, TP_EV_PROCESS_FORK, TP_EV_PROCESS_EXIT,
			     TP_EV_FILE_OPEN };

	for (int i = 0; i < 4; i++) {
		memset(all[i], 0, sizeof(*all[i]));
		all[i]->type = tp_event_type_by_id(types[i]);
		all[i]->len = all[i]->type->min_size;
		all[i]->ts_wall_ns = wall_ns();
		all[i]->rec.hdr.size = all[i]->len;
		snprintf(all[i]->rec.hdr.comm, sizeof(all[i]->rec.hdr.comm), "worker");
	}
	snprintf(x->filename, sizeof(x->filename), "/usr/local/bin/worker");
	memcpy(x->argv, argv, sizeof(argv));
	x->argv_len = sizeof(argv);
}

static struct tp_event *event_of(const struct desc *d)
{
	struct tp_event *ev;

	switch (d->type) {
	case TP_EV_PROCESS_EXEC: ev = &tmpl_exec; break;
	case TP_EV_PROCESS_FORK:
		ev = &tmpl_fork;
		((struct tp_fork_event *)ev->rec.bytes)->parent_pid = d->ppid;
		break;
	case TP_EV_PROCESS_EXIT: ev = &tmpl_exit; break;
	default: ev = &tmpl_open; break;
	}
	hdr(ev, d->type, d->pid, d->ppid, d->ts);
	return ev;
}

static void add(uint32_t type, uint32_t pid, uint32_t ppid, uint64_t ts)
{
	stream[nstream++] = (struct desc){ type, pid, ppid, ts };
}

/* The parent of process pid (2 .. NPROCS+1): with deep, the first 10 form
 * a chain under init and the rest hang off its end, so every event has 8
 * ancestors beyond its parent to list; else 10 shells under init. */
static uint32_t parent_of(uint32_t pid, bool deep)
{
	if (deep)
		return pid < 12 ? pid - 1 : 11;
	return pid < 12 ? 1 : 2 + (pid % 10);
}

/* A tree under init(1); then events of its processes. */
static void build_stream(bool churn, bool deep)
{
	uint64_t ts = 1000000000ull;
	uint32_t next_pid = 100000;

	nstream = 0;
	add(TP_EV_PROCESS_EXEC, 1, 0, ts++);
	for (uint32_t pid = 2; pid < 2 + NPROCS; pid++) {
		uint32_t ppid = parent_of(pid, deep);

		add(TP_EV_PROCESS_FORK, pid, ppid, ts++);
		add(TP_EV_PROCESS_EXEC, pid, ppid, ts++);
	}
	while (nstream < NEVENTS) {
		uint32_t pid = 2 + (uint32_t)(nstream * 7919 % NPROCS);
		uint32_t ppid = parent_of(pid, deep);

		if (churn && nstream % 30 == 0) {
			/* fork, exec and exit of a short-lived child: 3 in 30 */
			uint32_t child = next_pid++;

			add(TP_EV_PROCESS_FORK, child, pid, ts++);
			add(TP_EV_PROCESS_EXEC, child, pid, ts++);
			add(TP_EV_PROCESS_EXIT, child, pid, ts++);
			continue;
		}
		add(TP_EV_FILE_OPEN, pid, ppid, ts++);
	}
}

static struct tp_stage *new_stage(const struct tp_config *cfg)
{
	struct tp_enrich_opts o = { .cfg = cfg, .live = false };
	char err[256];
	struct tp_stage *st;

	if (tp_enrich_stage_new(&st, &o, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_enrich: %s\n", err);
		exit(1);
	}
	return st;
}

/* ns per event of one pass of the stream through a fresh stage (NULL: the
 * loop alone). */
static uint64_t pass(const struct tp_config *cfg, bool stage)
{
	struct tp_stage *st = stage ? new_stage(cfg) : NULL;
	struct tp_pipeline p;
	uint64_t t0, t1, sink = 0;

	memset(&p, 0, sizeof(p));
	t0 = now_ns();
	for (size_t i = 0; i < nstream; i++) {
		struct tp_event_meta meta = { .importance = -1 };

		struct tp_event *ev = event_of(&stream[i]);

		if (st)
			st->ops->event(st, &p, ev, &meta);
		sink += (uintptr_t)meta.proc;
		if ((i & 4095) == 4095 && st)
			st->ops->tick(st, &p, now_ns());
	}
	t1 = now_ns();
	if (st)
		st->ops->close(st);
	if (sink == 1)
		puts("");
	return (t1 - t0) / nstream;
}

static void per_event(const struct tp_config *cfg, const char *what, bool churn, bool deep,
		      int rounds)
{
	uint64_t base[32], with[32];

	build_stream(churn, deep);
	for (int r = 0; r < rounds; r++) {
		base[r] = pass(cfg, false);
		with[r] = pass(cfg, true);
	}
	printf("%-8s %8zu events  loop %3llu ns/event  with enrichment %4llu ns/event  "
	       "=> enrichment %llu ns/event\n",
	       what, nstream, (unsigned long long)median_u64(base, rounds),
	       (unsigned long long)median_u64(with, rounds),
	       (unsigned long long)(median_u64(with, rounds) - median_u64(base, rounds)));
}

static void json_cost(const struct tp_config *cfg, int rounds)
{
	struct tp_stage *st = new_stage(cfg);
	uint64_t plain[32], rich[32];
	struct tp_pipeline p;
	struct tp_event_meta meta;
	struct tp_buf b;
	size_t bytes_plain = 0, bytes_rich = 0;
	const int n = 100000;

	memset(&p, 0, sizeof(p));
	build_stream(false, true);
	for (size_t i = 0; i < 2 * NPROCS + 1; i++) {
		struct tp_event_meta m = { .importance = -1 };

		st->ops->event(st, &p, event_of(&stream[i]), &m);
	}
	tp_buf_init(&b);
	for (int r = 0; r < rounds; r++) {
		for (int pass_rich = 0; pass_rich < 2; pass_rich++) {
			uint64_t t0 = now_ns();
			size_t bytes = 0;

			for (int i = 0; i < n; i++) {
				struct tp_event *ev = event_of(&stream[2 * NPROCS + 1 + i]);

				meta = (struct tp_event_meta){ .importance = -1 };
				st->ops->event(st, &p, ev, &meta);
				if (!pass_rich)
					meta.proc = NULL;
				tp_buf_reset(&b);
				tp_format_json(&b, ev, &meta);
				bytes += b.len;
			}
			(pass_rich ? rich : plain)[r] = (now_ns() - t0) / n;
			*(pass_rich ? &bytes_rich : &bytes_plain) = bytes / n;
		}
	}
	printf("json     file.open, 8 ancestors: line %zu -> %zu bytes, %llu -> %llu ns/event (stage included in both)\n",
	       bytes_plain, bytes_rich, (unsigned long long)median_u64(plain, rounds),
	       (unsigned long long)median_u64(rich, rounds));
	tp_buf_free(&b);
	st->ops->close(st);
}

/* A live stage reads /proc and walks the cgroup hierarchies at start. */
static void startup(const struct tp_config *cfg, int rounds)
{
	struct tp_enrich_opts o = { .cfg = cfg, .live = true };
	uint64_t t[32], procs = 0, cgroups = 0;
	char err[256];

	for (int r = 0; r < rounds; r++) {
		uint64_t t0 = now_ns();
		struct tp_stage *st;
		int rc = tp_enrich_stage_new(&st, &o, err, sizeof(err));

		t[r] = now_ns() - t0;
		if (rc < 0) {
			fprintf(stderr, "bench_enrich: %s\n", err);
			exit(1);
		}
		procs = tp_metric_get(tp_metric_find("tapio_enrich_processes", NULL));
		cgroups = tp_metric_get(tp_metric_find("tapio_enrich_cgroups", NULL));
		st->ops->close(st);
	}
	printf("startup  live stage: %llu processes read from /proc, %llu cgroups walked: %.1f ms\n",
	       (unsigned long long)procs, (unsigned long long)cgroups, median_u64(t, rounds) / 1e6);
}

static size_t heap_used(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

static void memory(void)
{
	struct tp_proctable t;
	struct tp_event *ev;
	const struct tp_exec_event *x = (const void *)tmpl_exec.rec.bytes;
	size_t before, after;
	char exe[64];

	before = heap_used();
	tp_proctable_init(&t, 65536, 512);
	for (uint32_t pid = 2; pid < 2 + MEM_PROCS; pid++) {
		ev = event_of(&(struct desc){ TP_EV_PROCESS_EXEC, pid, 1, pid });
		snprintf(exe, sizeof(exe), "/usr/local/bin/w%u", pid % 50);
		tp_proctable_exec(&t, &ev->rec.hdr, exe, x->argv, x->argv_len, false);
	}
	after = heap_used();
	printf("memory   %u processes, own image each: %zu bytes/process (table buckets included)\n",
	       MEM_PROCS, (after - before) / MEM_PROCS);
	tp_proctable_free(&t);

	before = heap_used();
	tp_proctable_init(&t, 65536, 512);
	ev = event_of(&(struct desc){ TP_EV_PROCESS_EXEC, 1, 0, 1 });
	tp_proctable_exec(&t, &ev->rec.hdr, "/usr/sbin/apache2", "apache2\0-k\0start", 17, false);
	for (uint32_t pid = 2; pid < 2 + MEM_PROCS; pid++) {
		ev = event_of(&(struct desc){ TP_EV_PROCESS_FORK, pid, 1, pid });
		tp_proctable_fork(&t, &ev->rec.hdr, 1);
	}
	after = heap_used();
	printf("memory   %u forked children sharing their parent's image: %zu bytes/process\n",
	       MEM_PROCS, (after - before) / MEM_PROCS);
	tp_proctable_free(&t);
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 7;
	struct tp_cgroupfs fs;
	struct tp_config cfg;
	char err[256];

	if (rounds < 1 || rounds > 32)
		rounds = 7;
	tp_log_set_level(TP_LOG_WARN);
	tp_config_defaults(&cfg);
	cfg.k8s_pod_logs_dir = cfg.k8s_container_logs_dir = "off";
	if (tp_cgroupfs_open(&fs, cfg.cgroup_v1_controller, err, sizeof(err)) == 0) {
		tp_cgroupfs_id(&fs, TP_CG_V2, "", &cg_v2);
		tp_cgroupfs_id(&fs, TP_CG_V1, "", &cg_v1);
	}
	stream = calloc(NEVENTS + 8, sizeof(*stream));
	if (!stream)
		return 1;
	make_templates();
	printf("enrichment cost, medians of %d rounds (cgroup ids: unified %llu, v1 %llu)\n", rounds,
	       (unsigned long long)cg_v2, (unsigned long long)cg_v1);
	per_event(&cfg, "steady", false, false, rounds);
	per_event(&cfg, "deep", false, true, rounds);
	per_event(&cfg, "churn", true, false, rounds);
	json_cost(&cfg, rounds);
	memory();
	startup(&cfg, rounds);
	free(stream);
	return 0;
}
