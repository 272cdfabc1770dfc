/*
 * bench_delivery: how fast the --server (or --otlp) output delivers, and how
 * many bytes an event takes on the wire.
 *
 *   bench_delivery grpc|otlp HOST:PORT EVENTS [none|host|pod]
 *
 * Emits EVENTS synthetic events (the mix of a process's life as -a shows
 * it: fork, exec with a path and four arguments, exit) through the real
 * output, as the reader thread would (encoding included), with the
 * enrichment a host process (exe, argv, parent, two ancestors) or a
 * process in a Kubernetes pod (the same, container and pod) would have,
 * or none (the default: what the encoders sent before they carried the
 * enrichment), and waits until
 * the receiver has acked them all. When the staging queue is full, or
 * 50,000 events wait for their ack (the output's memory queue would soon
 * drop: the bench has no spool), the emitter waits a little, so nothing is
 * dropped and the figure is the rate the whole path sustains; a drop is
 * still counted, never waited for. Prints one line:
 *
 *   events=N seconds=S events_per_s=R wire_bytes_per_event=B dropped=D
 *
 * wire_bytes_per_event is request message bytes (protobuf, before gRPC's
 * own 5-byte message framing and HTTP/2 frames) per event.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "events/decode.h"
#include "events/proc_ctx.h"
#include "obs/log.h"
#include "obs/metrics.h"
#include "output/grpc.h"
#include "output/otlp.h"
#include "util/time.h"

static double now_s(void)
{
	return (double)tp_mono_ns() / 1e9;
}

static void make_events(struct tp_event *evs)
{
	static const char argv[] = "/usr/bin/ls\0--color=auto\0-la\0/var/log\0/tmp";
	struct tp_exec_event x;
	struct tp_fork_event f;
	struct tp_exit_event e;

	memset(&f, 0, sizeof(f));
	f.hdr.type = TP_EV_PROCESS_FORK;
	f.hdr.size = sizeof(f);
	f.hdr.pid = 123456;
	f.hdr.tid = 123456;
	f.hdr.ppid = 4242;
	f.hdr.uid = 1000;
	f.hdr.gid = 1000;
	f.hdr.cgroup_id = 8123;
	memcpy(f.hdr.comm, "bash", 4);
	f.parent_pid = 4242;

	memset(&x, 0, sizeof(x));
	x.hdr = f.hdr;
	x.hdr.type = TP_EV_PROCESS_EXEC;
	x.hdr.size = sizeof(x);
	memcpy(x.hdr.comm, "ls\0\0", 4);
	memcpy(x.filename, "/usr/bin/ls", 11);
	memcpy(x.argv, argv, sizeof(argv));
	x.argv_len = sizeof(argv);
	x.loginuid = 1000;

	memset(&e, 0, sizeof(e));
	e.hdr = x.hdr;
	e.hdr.type = TP_EV_PROCESS_EXIT;
	e.hdr.size = sizeof(e);
	e.duration_ns = 2100000;

	if (tp_decode(&f, sizeof(f), 1795000000000000000LL, &evs[0]) ||
	    tp_decode(&x, sizeof(x), 1795000000000000000LL, &evs[1]) ||
	    tp_decode(&e, sizeof(e), 1795000000000000000LL, &evs[2])) {
		fprintf(stderr, "bench_delivery: cannot build events\n");
		exit(1);
	}
}

/* The enrichment of ls run from bash, on the host or in a pod. */
static const struct tp_proc_ref parent = { 4242, "bash", "/usr/bin/bash" };
static const struct tp_proc_ref ancestors[] = {
	{ 4100, "containerd-shim", "/usr/bin/containerd-shim-runc-v2" },
	{ 1, "systemd", "/usr/lib/systemd/systemd" },
};
static const struct tp_container_ctx container = {
	"3f0a9c6e1d2b4a5f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f", "containerd"
};
static const struct tp_k8s_ctx k8s = { "web-7d4b9c8f6-x2kqz", "shop",
				       "f81d4fae-7dec-11d0-a765-00a0c91e6bf6", "nginx",
				       "Burstable" };
static const char ls_argv[] = "/usr/bin/ls\0--color=auto\0-la\0/var/log\0/tmp";

static uint64_t metric(const char *name, const char *labels)
{
	struct tp_metric *m = tp_metric_find(name, labels);

	return m ? tp_metric_get(m) : 0;
}

/* Events emitted and not yet acked at most: about 25 MB of the largest
 * (pod) mix, well under the output's 64 MiB memory queue, past which it
 * would drop (the bench runs without a spool). */
#define BACKLOG_MAX 50000

/* Events the output dropped, for every reason. */
static uint64_t dropped_total(const char *label)
{
	static const char *const reasons[] = { "queue_full",	"encode",   "spool_full",
					       "spool_corrupt", "rejected", "shutdown" };
	uint64_t sum = 0;
	char dl[96];

	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		snprintf(dl, sizeof(dl), "%s,reason=\"%s\"", label, reasons[i]);
		sum += metric("tapio_delivery_events_dropped_total", dl);
	}
	return sum;
}

int main(int argc, char **argv)
{
	static struct tp_event evs[3];
	struct tp_config cfg;
	struct tp_output *out;
	char err[512], label[32];
	uint64_t n, waits = 0, dropped;
	const char *kind;
	double t0, t1;
	int r;

	struct tp_proc_ctx pc = { .exe = "/usr/bin/ls", .argv = ls_argv, .argv_len = sizeof(ls_argv),
				  .parent = &parent, .ancestors = ancestors, .nancestors = 2 };
	struct tp_event_meta meta = { .importance = -1, .proc = &pc };
	const struct tp_event_meta *mp = NULL;

	if ((argc != 4 && argc != 5) || (strcmp(argv[1], "grpc") && strcmp(argv[1], "otlp")) ||
	    (argc == 5 && strcmp(argv[4], "none") && strcmp(argv[4], "host") &&
	     strcmp(argv[4], "pod"))) {
		fprintf(stderr, "usage: bench_delivery grpc|otlp HOST:PORT EVENTS [none|host|pod]\n");
		return 2;
	}
	if (argc == 5 && strcmp(argv[4], "none")) {
		mp = &meta;
		if (!strcmp(argv[4], "pod")) {
			pc.container = &container;
			pc.k8s = &k8s;
		}
	}
	kind = argv[1];
	n = strtoull(argv[3], NULL, 10);
	tp_log_set_level(TP_LOG_WARN);
	tp_config_defaults(&cfg);
	cfg.spool_dir = "off";
	cfg.flush_interval_ns = 50 * TP_NSEC_PER_MSEC;
	cfg.drain_timeout_ns = 60 * TP_NSEC_PER_SEC;
	cfg.collector_id = "bench";
	if (!strcmp(kind, "grpc")) {
		cfg.server = argv[2];
		r = tp_output_grpc_new(&out, &cfg, err, sizeof(err));
	} else {
		cfg.otlp = argv[2];
		r = tp_output_otlp_new(&out, &cfg, err, sizeof(err));
	}
	if (r < 0) {
		fprintf(stderr, "bench_delivery: %s\n", err);
		return 1;
	}
	snprintf(label, sizeof(label), "output=\"%s\"", kind);
	make_events(evs);

	t0 = now_s();
	for (uint64_t i = 0; i < n; i++) {
		struct tp_event *ev = &evs[i % 3];

		/* Stay under the output's memory queue (the spool is off), as
		 * the rate the path sustains is the figure, not a drop count. */
		while (i % 1024 == 0 &&
		       i - metric("tapio_delivery_events_acked_total", label) > BACKLOG_MAX)
			usleep(200);
		ev->ts_wall_ns += 1000;
		while (out->ops->emit(out, ev, mp) == -ENOBUFS) {
			waits++;
			usleep(200);
		}
	}
	/* Done when every event is acked or dropped (the queue-full retries
	 * were not drops of the run: take them back out of the count). */
	while (metric("tapio_delivery_events_acked_total", label) + dropped_total(label) - waits < n) {
		if (now_s() - t0 > 600) {
			fprintf(stderr, "bench_delivery: not all acked after 600 s\n");
			return 1;
		}
		usleep(1000);
	}
	t1 = now_s();
	dropped = dropped_total(label) - waits;
	printf("events=%llu seconds=%.3f events_per_s=%.0f wire_bytes_per_event=%.1f dropped=%llu\n",
	       (unsigned long long)n, t1 - t0, (double)n / (t1 - t0),
	       (double)metric("tapio_delivery_bytes_sent_total", label) / (double)n,
	       (unsigned long long)dropped);
	out->ops->close(out);
	return 0;
}
