/*
 * bare_consumer - the floor that the collector's drain path is measured
 * against: the same file-family BPF programs (same ring size, same
 * "no wakeup per event, wake at a quarter full" policy, same 10 ms drain
 * timer), drained by libbpf's own ring_buffer consumer whose callback
 * only counts. No decoding, no pipeline, no output.
 *
 *   bare_consumer RING_BYTES
 *
 * Prints "ready" once attached; on SIGTERM/SIGINT prints
 * "records N bytes B drops D" (drops: records the kernel could not
 * reserve) and exits.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "file.skel.h"

static volatile sig_atomic_t stop;

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
	return 0;
}

/* The per-CPU, per-category counters of records not reserved, summed. */
static uint64_t kernel_drops(const struct bpf_map *map)
{
	int ncpu = libbpf_num_possible_cpus(), fd = bpf_map__fd(map);
	uint64_t sum = 0, *v;

	if (ncpu <= 0)
		return 0;
	v = calloc((size_t)ncpu, sizeof(*v));
	for (uint32_t key = 0; v && key < bpf_map__max_entries(map); key++)
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
	struct file_bpf *skel;
	unsigned long ring;
	int r = 1;

	if (argc != 2 || (ring = strtoul(argv[1], NULL, 0)) < 4096) {
		fprintf(stderr, "usage: bare_consumer RING_BYTES (a power of two)\n");
		return 2;
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
	rb = ring_buffer__new(bpf_map__fd(skel->maps.tp_events), on_record, &c, NULL);
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
	ring_buffer__consume(rb);
	printf("records %llu bytes %llu drops %llu\n", (unsigned long long)c.records,
	       (unsigned long long)c.bytes,
	       (unsigned long long)kernel_drops(skel->maps.tp_drops));
	r = 0;
out:
	ring_buffer__free(rb);
	file_bpf__destroy(skel);
	return r;
}
