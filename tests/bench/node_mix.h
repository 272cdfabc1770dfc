/*
 * node_mix.h - the records of the benchmarks' "node" mix, for the BPF
 * producer's templates (producer.c --mix node) and for the in-process
 * drivers (bench_lua_mix.c): one definition, so that what the pipeline
 * benchmark floods is what the in-process figures run.
 *
 * The caller's add() returns a zeroed record of `size` bytes whose header
 * is m->self with type and size set, and counts it in m->n.
 */
#ifndef TAPIO_BENCH_NODE_MIX_H
#define TAPIO_BENCH_NODE_MIX_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "events.h"
#include "bench_producer.h"

#define O_RDONLY_  00
#define O_WRONLY_  01
#define O_CREAT_   0100
#define O_APPEND_  02000
#define O_CLOEXEC_ 02000000

struct tp_mix {
	void *(*add)(struct tp_mix *m, enum tp_bench_kind kind, uint32_t type, uint32_t size);
	unsigned n;	    /* records added so far */
	struct tp_hdr self; /* the process the records describe */
};

static inline void tp_mix_open(struct tp_mix *m, const char *path, uint32_t flags, int ret)
{
	struct tp_file_open_event *e = m->add(m, TP_BENCH_OPEN, TP_EV_FILE_OPEN, sizeof(*e));

	e->ret = ret;
	e->flags = flags;
	e->mode = flags & O_CREAT_ ? 0644 : 0;
	e->syscall = TP_SYS_OPENAT;
	e->ino = ret >= 0 ? 1000 + m->n : 0;
	e->dev = ret >= 0 ? 0x801 : 0;
	snprintf(e->path, sizeof(e->path), "%s", path);
	/* Sent up to the word that holds the path's NUL, as bpf/file.bpf.c does. */
	e->hdr.size = (uint32_t)TP_FILE_OPEN_SIZE(strlen(e->path));
}

static inline void tp_mix_unlink(struct tp_mix *m, const char *path)
{
	struct tp_file_path_event *e = m->add(m, TP_BENCH_PATH, TP_EV_FILE_UNLINK, sizeof(*e));

	e->syscall = TP_SYS_UNLINKAT;
	snprintf(e->path, sizeof(e->path), "%s", path);
	/* Sent up to the word that holds the path's NUL, as bpf/file.bpf.c does. */
	e->hdr.size = (uint32_t)TP_PATH_RECORD_SIZE(struct tp_file_path_event, strlen(e->path));
}

static inline void tp_mix_rename(struct tp_mix *m, const char *from, const char *to)
{
	struct tp_file_rename_event *e = m->add(m, TP_BENCH_RENAME, TP_EV_FILE_RENAME, sizeof(*e));

	e->syscall = TP_SYS_RENAMEAT2;
	snprintf(e->oldpath, sizeof(e->oldpath), "%s", from);
	snprintf(e->newpath, sizeof(e->newpath), "%s", to);
}

static inline void tp_mix_connect(struct tp_mix *m, uint8_t a, uint8_t b, uint8_t c, uint8_t d,
				  uint16_t port)
{
	struct tp_net_conn_event *e = m->add(m, TP_BENCH_CONN, TP_EV_NETWORK_CONNECT, sizeof(*e));

	e->family = 2; /* AF_INET */
	e->protocol = 6;
	e->socktype = 1;
	e->syscall = TP_SYS_CONNECT;
	e->ret = -115; /* -EINPROGRESS: a non-blocking connect */
	e->fd = 7;
	e->saddr[0] = 10, e->saddr[1] = 0, e->saddr[2] = 0, e->saddr[3] = 9;
	e->daddr[0] = a, e->daddr[1] = b, e->daddr[2] = c, e->daddr[3] = d;
	e->sport = 40000 + m->n;
	e->dport = port;
}

static inline void tp_mix_exec(struct tp_mix *m, const char *filename, const char *const *argv)
{
	struct tp_exec_event *e = m->add(m, TP_BENCH_EXEC, TP_EV_PROCESS_EXEC, sizeof(*e));
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
static inline void tp_mix_fork_exit(struct tp_mix *m, uint32_t child)
{
	struct tp_fork_event *f = m->add(m, TP_BENCH_FORK, TP_EV_PROCESS_FORK, sizeof(*f));
	struct tp_exit_event *x;

	f->hdr.pid = f->hdr.tid = child;
	f->hdr.ppid = m->self.pid;
	f->parent_pid = m->self.pid;
	x = m->add(m, TP_BENCH_EXIT, TP_EV_PROCESS_EXIT, sizeof(*x));
	x->hdr.pid = x->hdr.tid = child;
	x->hdr.ppid = m->self.pid;
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
static inline void tp_mix_node(struct tp_mix *m)
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
			tp_mix_open(m, reads[r % (sizeof(reads) / sizeof(reads[0]))],
				    O_RDONLY_ | O_CLOEXEC_, 3 + (int)(r % 20));
		switch (block) {
		case 0: tp_mix_open(m, "/tmp/app-1234.tmp", O_WRONLY_ | O_CREAT_, 5);
			tp_mix_open(m, "/var/log/app/app.log", O_WRONLY_ | O_APPEND_, 6);
			tp_mix_connect(m, 10, 0, 0, 5, 443);
			break;
		case 1: tp_mix_unlink(m, "/tmp/app-1234.tmp");
			tp_mix_connect(m, 127, 0, 0, 1, 5432);
			tp_mix_fork_exit(m, m->self.pid + 1000000);
			break;
		case 2: tp_mix_open(m, "/run/app/app.pid", O_WRONLY_ | O_CREAT_, 5);
			tp_mix_exec(m, "/usr/bin/date", date_argv);
			break;
		case 3: tp_mix_open(m, "/tmp/app-5678.tmp", O_WRONLY_ | O_CREAT_, 5);
			tp_mix_rename(m, "/tmp/app-5678.tmp", "/var/lib/app/cache/5678");
			tp_mix_connect(m, 10, 0, 0, 6, 443);
			break;
		case 4: tp_mix_open(m, "/var/lib/app/cache/tmp-1.part", O_WRONLY_ | O_CREAT_, 5);
			tp_mix_unlink(m, "/var/lib/app/cache/tmp-1.part");
			tp_mix_fork_exit(m, m->self.pid + 1000001);
			break;
		case 5: tp_mix_open(m, "/var/log/app/access.log", O_WRONLY_ | O_APPEND_, 6);
			tp_mix_connect(m, 10, 0, 0, 7, 8080);
			tp_mix_open(m, "/etc/shadow", O_RDONLY_ | O_CLOEXEC_, 4);
			break;
		case 6: tp_mix_open(m, "/tmp/app-9999.tmp", O_WRONLY_ | O_CREAT_, 5);
			tp_mix_unlink(m, "/tmp/app-9999.tmp");
			tp_mix_exec(m, "/usr/bin/python3", py_argv);
			break;
		case 7: tp_mix_connect(m, 127, 0, 0, 1, 6379);
			tp_mix_rename(m, "/var/lib/app/data.db-journal", "/var/lib/app/data.db-old");
			tp_mix_fork_exit(m, m->self.pid + 1000002);
			break;
		case 8: tp_mix_unlink(m, "/var/lib/app/data.db-old");
			tp_mix_connect(m, 10, 0, 0, 8, 443);
			tp_mix_open(m, reads[0], O_RDONLY_ | O_CLOEXEC_, 3);
			break;
		default: tp_mix_open(m, reads[1], O_RDONLY_ | O_CLOEXEC_, 3);
			tp_mix_open(m, reads[2], O_RDONLY_ | O_CLOEXEC_, 3);
			tp_mix_open(m, reads[3], O_RDONLY_ | O_CLOEXEC_, 3);
			break;
		}
	}
}

#endif
