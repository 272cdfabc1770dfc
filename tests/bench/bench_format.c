/* -o json's formatter alone: tp_format_json of one line N times into one
 * buffer (reset every 60 KB, as the stdout output writes). Prints the line
 * once to stderr and ns/event to stdout. Its instruction count per event
 * under callgrind is the repeatable figure on a busy machine
 * (bench_format.sh). Lines:
 *   exec  a process.exec with a process context (parent, 3 ancestors) and
 *         an importance, 630 bytes
 *   open  a file.open with flags and syscall names, the process's exe, argv
 *         and parent, 575 bytes: most lines of benchmark pipeline's json level
 *   bench_format [N [exec|open]]   (default 200000 exec) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "events/decode.h"
#include "events/format.h"
#include "events/proc_ctx.h"

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void make_exec(struct tp_event *ev)
{
	static struct tp_exec_event e;

	memset(&e, 0, sizeof(e));
	e.hdr.type = TP_EV_PROCESS_EXEC;
	e.hdr.size = sizeof(e);
	strcpy(e.hdr.comm, "cat");
	strcpy(e.filename, "/usr/bin/cat");
	memcpy(e.argv, "cat\0/etc/hostname", 17);
	e.argv_len = 17;
	e.hdr.pid = e.hdr.tid = 123456;
	e.hdr.ppid = 4321;
	e.hdr.uid = e.hdr.gid = 1000;
	e.hdr.cpu = 1;
	e.hdr.cgroup_id = 8812;
	e.loginuid = 1000;
	if (tp_decode(&e, sizeof(e), 1795000000123456789LL, ev)) {
		fprintf(stderr, "bench_format: the exec record does not decode\n");
		exit(1);
	}
}

static void make_open(struct tp_event *ev)
{
	static struct tp_file_open_event o;

	memset(&o, 0, sizeof(o));
	o.hdr.type = TP_EV_FILE_OPEN;
	o.hdr.size = sizeof(o);
	strcpy(o.hdr.comm, "app-worker");
	strcpy(o.path, "/usr/lib/x86_64-linux-gnu/libc.so.6");
	o.flags = 02000000; /* O_CLOEXEC */
	o.ret = 3;
	o.ino = 1001;
	o.dev = 2049;
	o.syscall = 2;
	o.hdr.pid = o.hdr.tid = 7861;
	o.hdr.ppid = 7808;
	o.hdr.uid = o.hdr.gid = 1000;
	o.hdr.cgroup_id = 1;
	if (tp_decode(&o, sizeof(o), 1796282595815585566LL, ev)) {
		fprintf(stderr, "bench_format: the open record does not decode\n");
		exit(1);
	}
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 200000;
	const char *line = argc > 2 ? argv[2] : "exec";
	struct tp_event ev;
	struct tp_proc_ref par = { .pid = 4321, .comm = "bash", .exe = "/usr/bin/bash" };
	struct tp_proc_ref anc[3] = {
		{ .pid = 4000, .comm = "sshd", .exe = "/usr/sbin/sshd" },
		{ .pid = 900, .comm = "sshd", .exe = "/usr/sbin/sshd" },
		{ .pid = 1, .comm = "systemd", .exe = "/usr/lib/systemd/systemd" },
	};
	struct tp_proc_ctx pc = { .exe = "/usr/bin/cat", .argv = "cat\0/etc/hostname",
				  .argv_len = 17, .parent = &par, .ancestors = anc, .nancestors = 3 };
	struct tp_event_meta meta = { .proc = &pc, .importance = 0.25 };
	static const char wargv[] = "/opt/app/bin/app-worker\0--config\0/etc/app/worker.toml"
				    "\0--threads\0" "4\0--log-level\0info";
	struct tp_proc_ref wpar = { .pid = 7808, .comm = "python3",
				    .exe = "/usr/local/lib/python3.11/bin/python3.11" };
	struct tp_proc_ctx wpc = { .exe = "/opt/app/bin/app-worker", .argv = wargv,
				   .argv_len = sizeof(wargv) - 1, .parent = &wpar };
	struct tp_event_meta wmeta = { .proc = &wpc, .importance = -1 };
	struct tp_event_meta *m = &meta;
	struct tp_buf b;
	double t0, t1;

	if (n <= 0) {
		fprintf(stderr, "bench_format: N must be a positive count, not %s\n", argv[1]);
		return 2;
	}
	if (!strcmp(line, "exec")) {
		make_exec(&ev);
	} else if (!strcmp(line, "open")) {
		make_open(&ev);
		m = &wmeta;
	} else {
		fprintf(stderr, "bench_format: the line is exec or open, not %s\n", line);
		return 2;
	}
	tp_buf_init(&b);
	t0 = now_ns();
	for (int i = 0; i < n; i++) {
		tp_format_json(&b, &ev, m);
		if (b.len > 60000)
			tp_buf_reset(&b);
	}
	t1 = now_ns();
	tp_buf_reset(&b);
	tp_format_json(&b, &ev, m);
	fwrite(b.data, 1, b.len, stderr);
	printf("json %s: %zu bytes/line, %.0f ns/event (CPU, %d events)\n", line, b.len,
	       (t1 - t0) / n, n);
	tp_buf_free(&b);
	return 0;
}
