/* -o json's formatter alone: tp_format_json of a process.exec line with a
 * process context (parent, 3 ancestors) and an importance, 630 bytes, N
 * times into one buffer (reset every 60 KB, as the stdout output writes).
 * Prints the line once to stderr and ns/event to stdout. Its instruction
 * count per event under callgrind is the repeatable figure on a busy
 * machine (bench_format.sh).
 *   bench_format [N]   (default 200000) */
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

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 200000;
	static struct tp_exec_event e;
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
	struct tp_buf b;
	double t0, t1;

	if (n <= 0) {
		fprintf(stderr, "bench_format: N must be a positive count, not %s\n", argv[1]);
		return 2;
	}
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
	if (tp_decode(&e, sizeof(e), 1795000000123456789LL, &ev)) {
		fprintf(stderr, "bench_format: the exec record does not decode\n");
		return 1;
	}
	tp_buf_init(&b);
	t0 = now_ns();
	for (int i = 0; i < n; i++) {
		tp_format_json(&b, &ev, &meta);
		if (b.len > 60000)
			tp_buf_reset(&b);
	}
	t1 = now_ns();
	tp_buf_reset(&b);
	tp_format_json(&b, &ev, &meta);
	fwrite(b.data, 1, b.len, stderr);
	printf("json: %zu bytes/line, %.0f ns/event (CPU, %d events)\n", b.len, (t1 - t0) / n, n);
	tp_buf_free(&b);
	return 0;
}
