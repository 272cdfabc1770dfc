/*
 * producer - test-only driver of the BPF producer (producer.bpf.c): puts
 * records into a running consumer's ring buffer at rates that real
 * syscalls do not reach on one core.
 *
 *   producer PID K (--count N | --seconds S) [--rate R] [--mix node|open|procs]
 *
 * PID is a tapio-collector (or bench_bare_consumer): its ring buffer
 * (tp_events) and drop counters (tp_drops) are found among its open BPF
 * maps and shared, so it reads these records as its own and counts the
 * ones the ring had no room for. Each BPF_PROG_TEST_RUN emits K records
 * (1..128); --rate paces the runs to R records/s (default: as fast as
 * possible). The records are copies of a mix of templates (--mix, see
 * make_mix) describing this process; each gets a fresh kernel timestamp.
 *
 * Prints "runs R emitted E full F ns T" (full: records the ring had no
 * room for; T: wall time of the loop) and exits.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "events.h"
#include "bench_producer.h"
#include "node_mix.h"
#include "producer.skel.h"


static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "producer: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* A BPF map of process pid, by name: an fd of ours for it, or -1. */
static int find_map(int pid, const char *name, uint32_t *max_entries)
{
	char dir[64], path[320], line[256];
	struct dirent *d;
	DIR *dp;
	int found = -1;

	snprintf(dir, sizeof(dir), "/proc/%d/fdinfo", pid);
	dp = opendir(dir);
	if (!dp)
		die(dir);
	while (found < 0 && (d = readdir(dp))) {
		unsigned id = 0;
		FILE *f;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "map_id: %u", &id) == 1)
				break;
		fclose(f);
		if (!id)
			continue;
		int fd = bpf_map_get_fd_by_id(id);
		struct bpf_map_info info = { 0 };
		__u32 len = sizeof(info);

		if (fd < 0)
			continue;
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && !strcmp(info.name, name)) {
			found = fd;
			if (max_entries)
				*max_entries = info.max_entries;
		} else {
			close(fd);
		}
	}
	closedir(dp);
	return found;
}

/* The cgroup v2 id of this process (its directory's inode), 0 if unknown. */
static uint64_t own_cgroup_id(void)
{
	static const char *const roots[] = { "/sys/fs/cgroup/unified", "/sys/fs/cgroup" };
	char line[512], path[1024];
	struct stat st;
	FILE *f = fopen("/proc/self/cgroup", "r");
	uint64_t id = 0;

	if (!f)
		return 0;
	while (!id && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3))
			continue;
		line[strcspn(line, "\n")] = '\0';
		for (unsigned i = 0; i < 2 && !id; i++) {
			snprintf(path, sizeof(path), "%s%s", roots[i], line + 3);
			if (stat(path, &st) == 0)
				id = st.st_ino;
		}
	}
	fclose(f);
	return id;
}

static struct tp_bench_tpl tpls[TP_BENCH_TPL_MAX];
static unsigned ntpl;
static struct tp_hdr self_hdr;

static struct tp_bench_tpl *add(enum tp_bench_kind kind, uint32_t type, uint32_t size)
{
	struct tp_bench_tpl *t;
	struct tp_hdr *h;

	if (ntpl >= TP_BENCH_TPL_MAX || size > TP_BENCH_REC_MAX) {
		fprintf(stderr, "producer: %s (raise TP_BENCH_%s in bench_producer.h)\n",
			ntpl >= TP_BENCH_TPL_MAX ? "too many templates" : "a record larger than a template",
			ntpl >= TP_BENCH_TPL_MAX ? "TPL_MAX" : "REC_MAX");
		exit(2);
	}
	t = &tpls[ntpl++];
	h = (struct tp_hdr *)t->rec;
	memset(t, 0, sizeof(*t));
	t->kind = kind;
	t->type = type;
	*h = self_hdr;
	h->type = type;
	h->size = size;
	return t;
}

/* The mix's records go to the templates (node_mix.h). */
static void *mix_add(struct tp_mix *m, enum tp_bench_kind kind, uint32_t type, uint32_t size)
{
	void *rec = add(kind, type, size)->rec;

	m->n = ntpl;
	return rec;
}

static struct tp_mix mix_ctx = {.add = mix_add};

/* Only forks, each of a new process (pids from 4,000,000 up, above any
 * pid_max): what the process table holds per process. */
static void make_procs_mix(void)
{
	struct tp_fork_event *f = (void *)add(TP_BENCH_FORK_NEW, TP_EV_PROCESS_FORK, sizeof(*f))->rec;

	f->hdr.pid = f->hdr.tid = 4000000;
	f->hdr.ppid = self_hdr.pid;
	f->parent_pid = self_hdr.pid;
}

/* Only file.open reads of /usr/lib: the cheapest mix for rules. */
static void make_open_mix(void)
{
	tp_mix_open(&mix_ctx, "/usr/lib/x86_64-linux-gnu/libc.so.6", O_RDONLY_ | O_CLOEXEC_, 3);
}

static uint64_t sum_percpu(int fd, uint32_t key)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t v[256], s = 0;

	if (ncpu <= 0 || ncpu > 256 || bpf_map_lookup_elem(fd, &key, v) < 0)
		return 0;
	for (int i = 0; i < ncpu; i++)
		s += v[i];
	return s;
}

int main(int argc, char **argv)
{
	const char *mix = "node";
	uint64_t count = 0, seconds = 0, rate = 0, runs = 0, t0, t1, deadline, next;
	uint32_t ring_size = 0;
	struct producer_bpf *skel;
	int pid, k, ring_fd, drops_fd, prog_fd;
	__u64 args[2];
	LIBBPF_OPTS(bpf_test_run_opts, topts, .ctx_in = args, .ctx_size_in = sizeof(args));

	if (argc < 5) {
		fprintf(stderr, "usage: producer PID K (--count N | --seconds S) [--rate R] "
				"[--mix node|open|procs]\n");
		return 2;
	}
	pid = atoi(argv[1]);
	k = atoi(argv[2]);
	if (k < 1 || k > TP_BENCH_K_MAX) {
		fprintf(stderr, "producer: K must be 1..%d\n", TP_BENCH_K_MAX);
		return 2;
	}
	for (int i = 3; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--count"))
			count = strtoull(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--seconds"))
			seconds = strtoull(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--rate"))
			rate = strtoull(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--mix"))
			mix = argv[i + 1];
		else {
			fprintf(stderr, "producer: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	if (!count && !seconds) {
		fprintf(stderr, "producer: --count or --seconds is needed\n");
		return 2;
	}

	ring_fd = find_map(pid, "tp_events", &ring_size);
	drops_fd = find_map(pid, "tp_drops", NULL);
	if (ring_fd < 0 || drops_fd < 0) {
		fprintf(stderr, "producer: process %d holds no tp_events/tp_drops map\n", pid);
		return 1;
	}

	prctl(PR_SET_NAME, "app-worker");
	self_hdr.pid = self_hdr.tid = (uint32_t)getpid();
	self_hdr.ppid = (uint32_t)getppid();
	self_hdr.uid = self_hdr.gid = 1000;
	self_hdr.cgroup_id = own_cgroup_id();
	snprintf(self_hdr.comm, sizeof(self_hdr.comm), "app-worker");
	mix_ctx.self = self_hdr;
	if (!strcmp(mix, "node"))
		tp_mix_node(&mix_ctx);
	else if (!strcmp(mix, "open"))
		make_open_mix();
	else if (!strcmp(mix, "procs"))
		make_procs_mix();
	else {
		fprintf(stderr, "producer: unknown mix %s (node, open, procs)\n", mix);
		return 2;
	}

	skel = producer_bpf__open();
	if (!skel)
		die("open the producer");
	skel->rodata->tp_wakeup_bytes = ring_size / 4;
	skel->rodata->tp_bench_ntpl = ntpl;
	if (bpf_map__reuse_fd(skel->maps.tp_events, ring_fd) < 0 ||
	    bpf_map__reuse_fd(skel->maps.tp_drops, drops_fd) < 0)
		die("share the consumer's maps");
	if (producer_bpf__load(skel) < 0)
		die("load the producer");
	for (uint32_t i = 0; i < ntpl; i++)
		if (bpf_map_update_elem(bpf_map__fd(skel->maps.tp_bench_tpl), &i, &tpls[i], 0) < 0)
			die("write a template");
	prog_fd = bpf_program__fd(skel->progs.produce);

	t0 = now_ns();
	deadline = seconds ? t0 + seconds * 1000000000ull : UINT64_MAX;
	next = t0;
	for (uint64_t done = 0; !count || done < count; done += (uint64_t)k) {
		args[0] = (uint64_t)k;
		args[1] = done;
		if (bpf_prog_test_run_opts(prog_fd, &topts) < 0)
			die("run the producer");
		runs++;
		if ((runs & 63) == 0 && now_ns() >= deadline)
			break;
		if (rate) {
			uint64_t now;

			next += (uint64_t)k * 1000000000ull / rate;
			now = now_ns();
			if (next > now + 50000) {
				struct timespec ts = { .tv_sec = (time_t)(next / 1000000000ull),
						       .tv_nsec = (long)(next % 1000000000ull) };

				clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
			} else {
				while (now_ns() < next)
					;
			}
		}
	}
	t1 = now_ns();
	printf("runs %llu emitted %llu full %llu ns %llu\n", (unsigned long long)runs,
	       (unsigned long long)sum_percpu(bpf_map__fd(skel->maps.tp_bench_counts), 0),
	       (unsigned long long)sum_percpu(bpf_map__fd(skel->maps.tp_bench_counts), 1),
	       (unsigned long long)(t1 - t0));
	producer_bpf__destroy(skel);
	return 0;
}
