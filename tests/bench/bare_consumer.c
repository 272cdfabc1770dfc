/*
 * bare_consumer - the floor that the collector's drain path is measured
 * against: the same file-family BPF programs (same ring size, same
 * "no wakeup per event, wake at a quarter full" policy, same 10 ms drain
 * timer), drained by libbpf's own ring_buffer consumer whose callback
 * only counts. No decoding, no pipeline, no output.
 *
 *   bare_consumer RING_BYTES [--ring-only]
 *
 * --ring-only loads no program: only the ring (tp_events) and the drop
 * counters (tp_drops), for a producer that shares them (the test-only BPF
 * producer of the pipeline benchmark, producer.c).
 *
 * Prints "ready" once attached; on SIGTERM/SIGINT prints
 * "records N bytes B drops D" (drops: records the kernel could not
 * reserve) and exits.
 */
#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "events.h"
#include "file.skel.h"

static volatile sig_atomic_t stop;
static bool final_drain;

struct counts {
	uint64_t records;
	uint64_t bytes;
};

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct counts *c = ctx;

	(void)data;
	c->records++;
	c->bytes += size;
	/* libbpf 1.1 drains until the ring is empty: under a faster producer
	 * that is never, so a stop request ends the drain here (after this
	 * record: libbpf has already moved past it). */
	if (stop && !final_drain)
		return -EINTR;
	return 0;
}

/* The per-CPU, per-category counters of records not reserved, summed. */
static uint64_t kernel_drops(int fd)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t sum = 0, *v;

	if (ncpu <= 0)
		return 0;
	v = calloc((size_t)ncpu, sizeof(*v));
	for (uint32_t key = 0; v && key < TP_DROP_SLOTS; key++)
		if (bpf_map_lookup_elem(fd, &key, v) == 0)
			for (int i = 0; i < ncpu; i++)
				sum += v[i];
	free(v);
	return sum;
}

int main(int argc, char **argv)
{
	struct counts c = { 0 };
	struct ring_buffer *rb = NULL;
	struct file_bpf *skel = NULL;
	unsigned long ring;
	int r = 1, ring_fd, drops_fd = -1;
	bool ring_only = argc == 3 && !strcmp(argv[2], "--ring-only");

	if ((argc != 2 && !ring_only) || (ring = strtoul(argv[1], NULL, 0)) < 4096) {
		fprintf(stderr, "usage: bare_consumer RING_BYTES [--ring-only] (a power of two)\n");
		return 2;
	}
	if (ring_only) {
		ring_fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "tp_events", 0, 0, (uint32_t)ring, NULL);
		drops_fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "tp_drops", sizeof(uint32_t),
					  sizeof(uint64_t), TP_DROP_SLOTS, NULL);
		if (ring_fd < 0 || drops_fd < 0) {
			fprintf(stderr, "bare_consumer: cannot create the maps: %s\n", strerror(errno));
			return 1;
		}
		goto consume;
	}
	skel = file_bpf__open();
	if (!skel) {
		fprintf(stderr, "bare_consumer: cannot open the file programs: %s\n", strerror(errno));
		return 1;
	}
	skel->rodata->tp_self_pid = (uint32_t)getpid();
	skel->rodata->tp_wakeup_bytes = ring / 4;
	if (bpf_map__set_max_entries(skel->maps.tp_events, (uint32_t)ring) < 0 ||
	    file_bpf__load(skel) < 0 || file_bpf__attach(skel) < 0) {
		fprintf(stderr, "bare_consumer: cannot load or attach: %s\n", strerror(errno));
		goto out;
	}
	ring_fd = bpf_map__fd(skel->maps.tp_events);
	drops_fd = bpf_map__fd(skel->maps.tp_drops);
consume:
	rb = ring_buffer__new(ring_fd, on_record, &c, NULL);
	if (!rb) {
		fprintf(stderr, "bare_consumer: ring_buffer__new: %s\n", strerror(errno));
		goto out;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		/* Woken at a quarter full, else every 10 ms; then drain. */
		ring_buffer__poll(rb, 10);
		ring_buffer__consume(rb);
	}
	final_drain = true;
	ring_buffer__consume(rb);
	printf("records %llu bytes %llu drops %llu\n", (unsigned long long)c.records,
	       (unsigned long long)c.bytes,
	       (unsigned long long)kernel_drops(drops_fd));
	r = 0;
out:
	ring_buffer__free(rb);
	if (skel)
		file_bpf__destroy(skel);
	else if (drops_fd >= 0)
		close(drops_fd);
	return r;
}
