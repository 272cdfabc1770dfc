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
#include "producer.skel.h"

#define O_RDONLY_ 00
#define O_WRONLY_ 01
#define O_CREAT_  0100
#define O_APPEND_ 02000
#define O_CLOEXEC_ 02000000

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

static void open_rec(const char *path, uint32_t flags, int ret)
{
	struct tp_file_open_event *e =
	    (void *)add(TP_BENCH_OPEN, TP_EV_FILE_OPEN, sizeof(*e))->rec;

	e->ret = ret;
	e->flags = flags;
	e->mode = flags & O_CREAT_ ? 0644 : 0;
	e->syscall = TP_SYS_OPENAT;
	e->ino = ret >= 0 ? 1000 + ntpl : 0;
	e->dev = ret >= 0 ? 0x801 : 0;
	snprintf(e->path, sizeof(e->path), "%s", path);
}

static void unlink_rec(const char *path)
{
	struct tp_file_path_event *e =
	    (void *)add(TP_BENCH_PATH, TP_EV_FILE_UNLINK, sizeof(*e))->rec;

	e->syscall = TP_SYS_UNLINKAT;
	snprintf(e->path, sizeof(e->path), "%s", path);
}

static void rename_rec(const char *from, const char *to)
{
	struct tp_file_rename_event *e =
	    (void *)add(TP_BENCH_RENAME, TP_EV_FILE_RENAME, sizeof(*e))->rec;

	e->syscall = TP_SYS_RENAMEAT2;
	snprintf(e->oldpath, sizeof(e->oldpath), "%s", from);
	snprintf(e->newpath, sizeof(e->newpath), "%s", to);
}

static void connect_rec(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
	struct tp_net_conn_event *e =
	    (void *)add(TP_BENCH_CONN, TP_EV_NETWORK_CONNECT, sizeof(*e))->rec;

	e->family = 2; /* AF_INET */
	e->protocol = 6;
	e->socktype = 1;
	e->syscall = TP_SYS_CONNECT;
	e->ret = -115; /* -EINPROGRESS: a non-blocking connect */
	e->fd = 7;
	e->saddr[0] = 10, e->saddr[1] = 0, e->saddr[2] = 0, e->saddr[3] = 9;
	e->daddr[0] = a, e->daddr[1] = b, e->daddr[2] = c, e->daddr[3] = d;
	e->sport = 40000 + ntpl;
	e->dport = port;
}

static void exec_rec(const char *filename, const char *const *argv)
{
	struct tp_exec_event *e = (void *)add(TP_BENCH_EXEC, TP_EV_PROCESS_EXEC, sizeof(*e))->rec;
	_Static_assert(sizeof(*e) <= TP_BENCH_REC_MAX, "raise TP_BENCH_REC_MAX");
	size_t n = 0;

	snprintf(e->filename, sizeof(e->filename), "%s", filename);
	for (; *argv; argv++) {
		size_t l = strlen(*argv) + 1;

		memcpy(e->argv + n, *argv, l);
		n += l;
	}
	e->argv_len = (uint32_t)n;
	e->loginuid = (uint32_t)-1;
}

/* A short-lived child: its fork, then its exit. */
static void fork_exit_recs(uint32_t child)
{
	struct tp_fork_event *f = (void *)add(TP_BENCH_FORK, TP_EV_PROCESS_FORK, sizeof(*f))->rec;
	struct tp_exit_event *x;

	f->hdr.pid = f->hdr.tid = child;
	f->hdr.ppid = self_hdr.pid;
	f->parent_pid = self_hdr.pid;
	x = (void *)add(TP_BENCH_EXIT, TP_EV_PROCESS_EXIT, sizeof(*x))->rec;
	x->hdr.pid = x->hdr.tid = child;
	x->hdr.ppid = self_hdr.pid;
	x->duration_ns = 2000000;
}

/*
 * The "node" mix, 100 records: what an ordinary service host sends, file
 * opens first. 71 reads of libraries, configuration, /proc and /sys; 8
 * opens for writing (temporary files, a log, a pid file); 4 unlinks and 2
 * renames of those; 6 outgoing connections; 2 execs; 3 short-lived
 * children (fork + exit); and 1 read of /etc/shadow by this service,
 * which the security rules alert on: the 1% that an alerts-only output
 * (the server) gets.
 */
static void make_node_mix(void)
{
	static const char *const reads[] = {
		"/usr/lib/x86_64-linux-gnu/libc.so.6", "/etc/ld.so.cache",
		"/proc/self/status", "/usr/share/zoneinfo/UTC", "/etc/nsswitch.conf",
		"/etc/hosts", "/sys/fs/cgroup/memory.max", "/usr/lib/python3.11/os.py",
		"/var/lib/app/data.db", "/home/app/.config/app/app.conf", "/dev/null",
		"/etc/localtime", "/proc/stat", "/usr/lib/locale/locale-archive",
		"/usr/lib/x86_64-linux-gnu/libssl.so.3", "/etc/resolv.conf",
		"/proc/meminfo", "/usr/share/ca-certificates/mozilla/ISRG_Root_X1.crt",
		"/var/lib/app/cache/3f/9a1c.bin", "/opt/app/lib/app.jar",
	};
	static const char *const date_argv[] = { "date", "+%s", NULL };
	static const char *const py_argv[] = { "python3", "/opt/app/bin/worker.py", "--queue",
					       "default", NULL };
	unsigned r = 0;

	for (int block = 0; block < 10; block++) {
		/* 7 reads per block (71 in all with the one below) */
		for (int i = 0; i < 7; i++, r++)
			open_rec(reads[r % (sizeof(reads) / sizeof(reads[0]))],
				 O_RDONLY_ | O_CLOEXEC_, 3 + (int)(r % 20));
		switch (block) {
		case 0: open_rec("/tmp/app-1234.tmp", O_WRONLY_ | O_CREAT_, 5);
			open_rec("/var/log/app/app.log", O_WRONLY_ | O_APPEND_, 6);
			connect_rec(10, 0, 0, 5, 443);
			break;
		case 1: unlink_rec("/tmp/app-1234.tmp");
			connect_rec(127, 0, 0, 1, 5432);
			fork_exit_recs(self_hdr.pid + 1000000);
			break;
		case 2: open_rec("/run/app/app.pid", O_WRONLY_ | O_CREAT_, 5);
			exec_rec("/usr/bin/date", date_argv);
			break;
		case 3: open_rec("/tmp/app-5678.tmp", O_WRONLY_ | O_CREAT_, 5);
			rename_rec("/tmp/app-5678.tmp", "/var/lib/app/cache/5678");
			connect_rec(10, 0, 0, 6, 443);
			break;
		case 4: open_rec("/var/lib/app/cache/tmp-1.part", O_WRONLY_ | O_CREAT_, 5);
			unlink_rec("/var/lib/app/cache/tmp-1.part");
			fork_exit_recs(self_hdr.pid + 1000001);
			break;
		case 5: open_rec("/var/log/app/access.log", O_WRONLY_ | O_APPEND_, 6);
			connect_rec(10, 0, 0, 7, 8080);
			open_rec("/etc/shadow", O_RDONLY_ | O_CLOEXEC_, 4);
			break;
		case 6: open_rec("/tmp/app-9999.tmp", O_WRONLY_ | O_CREAT_, 5);
			unlink_rec("/tmp/app-9999.tmp");
			exec_rec("/usr/bin/python3", py_argv);
			break;
		case 7: connect_rec(127, 0, 0, 1, 6379);
			rename_rec("/var/lib/app/data.db-journal", "/var/lib/app/data.db-old");
			fork_exit_recs(self_hdr.pid + 1000002);
			break;
		case 8: unlink_rec("/var/lib/app/data.db-old");
			connect_rec(10, 0, 0, 8, 443);
			open_rec(reads[0], O_RDONLY_ | O_CLOEXEC_, 3);
			break;
		default: open_rec(reads[1], O_RDONLY_ | O_CLOEXEC_, 3);
			open_rec(reads[2], O_RDONLY_ | O_CLOEXEC_, 3);
			open_rec(reads[3], O_RDONLY_ | O_CLOEXEC_, 3);
			break;
		}
	}
}

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
	open_rec("/usr/lib/x86_64-linux-gnu/libc.so.6", O_RDONLY_ | O_CLOEXEC_, 3);
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
	if (!strcmp(mix, "node"))
		make_node_mix();
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
