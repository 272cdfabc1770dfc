/* Process table: fork shares the image until exec, exit frees, a full table
 * evicts the least recently seen, reused pids start afresh, /proc seeding,
 * and a million short-lived processes leave the table empty. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixtures.h"

#include "enrich/proctable.h"

static struct tp_hdr hdr(uint32_t pid, uint32_t ppid, const char *comm, uint64_t ts)
{
	struct tp_hdr h;

	memset(&h, 0, sizeof(h));
	h.pid = h.tid = pid;
	h.ppid = ppid;
	h.ts_ns = ts;
	h.uid = 1000;
	h.cgroup_id = 7;
	snprintf(h.comm, sizeof(h.comm), "%s", comm);
	return h;
}

static void test_fork_exec_exit(void **state)
{
	struct tp_proctable t;
	struct tp_hdr h;
	struct tp_proc *a, *b, *c;

	(void)state;
	assert_int_equal(tp_proctable_init(&t, 64, 512), 0);
	h = hdr(100, 1, "bash", 1000);
	a = tp_proctable_exec(&t, &h, "/usr/bin/bash", "bash\0-l", 8, false);
	assert_non_null(a);
	assert_string_equal(tp_proc_exe(a), "/usr/bin/bash");
	assert_int_equal(a->image->argv_len, 8);

	h = hdr(101, 100, "bash", 2000);
	b = tp_proctable_fork(&t, &h, 100);
	assert_non_null(b);
	assert_ptr_equal(b->image, a->image); /* shared until exec */
	assert_int_equal(a->image->refs, 2);
	assert_int_equal(b->start_ns, 2000);
	assert_int_equal(b->ppid, 100);

	h = hdr(101, 100, "ls", 3000);
	c = tp_proctable_exec(&t, &h, "/bin/ls", "ls\0", 3, false);
	assert_ptr_equal(c, b);
	assert_string_equal(tp_proc_exe(b), "/bin/ls");
	assert_string_equal(b->comm, "ls");
	assert_int_equal(a->image->refs, 1);
	assert_int_equal(tp_proctable_size(&t), 2);

	tp_proctable_exit(&t, b);
	assert_int_equal(tp_proctable_size(&t), 1);
	assert_null(tp_proctable_find(&t, 101));
	/* Still readable until the next call: the exit event is described. */
	assert_string_equal(tp_proc_exe(b), "/bin/ls");
	h = hdr(100, 1, "bash", 4000);
	assert_ptr_equal(tp_proctable_touch(&t, &h), a);
	tp_proctable_free(&t);
}

static void test_unknown_process_is_created_without_image(void **state)
{
	struct tp_proctable t;
	struct tp_hdr h = hdr(55, 1, "nginx", 10);
	struct tp_proc *p;

	(void)state;
	assert_int_equal(tp_proctable_init(&t, 64, 512), 0);
	p = tp_proctable_touch(&t, &h);
	assert_non_null(p);
	assert_string_equal(p->comm, "nginx");
	assert_null(tp_proc_exe(p));
	assert_null(p->image);
	/* A fork whose parent is unknown: no image to inherit. */
	h = hdr(56, 999, "x", 20);
	p = tp_proctable_fork(&t, &h, 999);
	assert_null(tp_proc_exe(p));
	tp_proctable_free(&t);
}

static void test_argv_is_capped(void **state)
{
	struct tp_proctable t;
	char argv[100];
	struct tp_hdr h = hdr(9, 1, "x", 1);
	struct tp_proc *p;

	(void)state;
	memset(argv, 'a', sizeof(argv));
	assert_int_equal(tp_proctable_init(&t, 64, 32), 0);
	p = tp_proctable_exec(&t, &h, "/x", argv, sizeof(argv), false);
	assert_int_equal(p->image->argv_len, 32);
	assert_true(p->image->argv_truncated);
	tp_proctable_free(&t);
}

static void test_full_table_evicts_least_recent(void **state)
{
	struct tp_proctable t;
	struct tp_hdr h;

	(void)state;
	assert_int_equal(tp_proctable_init(&t, 16, 64), 0);
	for (uint32_t pid = 1; pid <= 16; pid++) {
		h = hdr(pid, 0, "p", pid);
		tp_proctable_touch(&t, &h);
	}
	h = hdr(1, 0, "p", 100); /* pid 1 seen again: now the most recent */
	tp_proctable_touch(&t, &h);
	for (uint32_t pid = 17; pid <= 20; pid++) {
		h = hdr(pid, 0, "p", pid);
		tp_proctable_touch(&t, &h);
	}
	assert_int_equal(tp_proctable_size(&t), 16);
	assert_int_equal(tp_metric_get(&t.m_evictions), 4);
	assert_non_null(tp_proctable_find(&t, 1));
	for (uint32_t pid = 2; pid <= 5; pid++)
		assert_null(tp_proctable_find(&t, pid));
	assert_non_null(tp_proctable_find(&t, 6));
	tp_proctable_free(&t);
}

static void test_reused_pid_starts_afresh(void **state)
{
	struct tp_proctable t;
	struct tp_hdr h;
	struct tp_proc *p;
	const uint64_t sec = 1000000000ull;

	(void)state;
	assert_int_equal(tp_proctable_init(&t, 64, 64), 0);
	h = hdr(10, 1, "init", 1);
	tp_proctable_exec(&t, &h, "/sbin/init", NULL, 0, false);
	h = hdr(20, 1, "old", 1 * sec);
	p = tp_proctable_exec(&t, &h, "/old", NULL, 0, false);
	p->start_ns = 1 * sec;
	/* Its exit was lost; pid 20 is forked again much later by pid 10. */
	h = hdr(20, 10, "new", 50 * sec);
	p = tp_proctable_fork(&t, &h, 10);
	assert_string_equal(tp_proc_exe(p), "/sbin/init");
	assert_int_equal(p->start_ns, 50 * sec);
	/* A fork event for a process seeded from /proc a moment later keeps
	 * the seeded (newer) state. */
	p = tp_proctable_exec(&t, &h, "/after-exec", NULL, 0, false);
	h.ts_ns = 50 * sec + 5000000;
	p = tp_proctable_fork(&t, &h, 10);
	assert_string_equal(tp_proc_exe(p), "/after-exec");
	tp_proctable_free(&t);
}

/* A run of one process's events finds its entry without a look-up; an
 * exit or an eviction between two runs of the same pid gives the second a
 * fresh entry (under ASan: never the freed one). */
static void test_runs_of_one_process(void **state)
{
	struct tp_proctable t;
	struct tp_hdr h;
	struct tp_proc *p;

	(void)state;
	assert_int_equal(tp_proctable_init(&t, 2, 64), 0);
	h = hdr(200, 1, "svc", 1);
	p = tp_proctable_exec(&t, &h, "/svc", NULL, 0, false);
	assert_ptr_equal(tp_proctable_touch(&t, &h), p);
	assert_ptr_equal(tp_proctable_touch(&t, &h), p);
	tp_proctable_exit(&t, p);
	h = hdr(200, 1, "again", 2); /* pid 200 reused at once */
	p = tp_proctable_touch(&t, &h);
	assert_null(p->image);
	assert_string_equal(p->comm, "again");
	assert_int_equal(tp_proctable_size(&t), 1);
	h = hdr(201, 1, "b", 3);
	tp_proctable_touch(&t, &h);
	h = hdr(202, 1, "c", 4); /* evicts 200, the least recent */
	tp_proctable_touch(&t, &h);
	assert_null(tp_proctable_find(&t, 200));
	h = hdr(200, 1, "third", 5);
	p = tp_proctable_touch(&t, &h);
	assert_string_equal(p->comm, "third");
	assert_int_equal(tp_proctable_size(&t), 2);
	tp_proctable_free(&t);
}

static void test_seed_from_proc(void **state)
{
	char root[] = "/tmp/tapio-proc-XXXXXX", dir[600], link[700];
	struct tp_proctable t;
	struct tp_proc *p;
	long ticks = sysconf(_SC_CLK_TCK);
	static const char stat[] =
		"4242 (my (odd) name) S 77 4242 4242 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 "
		"12345 1000 100 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n";
	static const char status[] = "Name:\tx\nUid:\t1001\t1001\t1001\t1001\n";

	(void)state;
	assert_non_null(mkdtemp(root));
	snprintf(dir, sizeof(dir), "%s/4242", root);
	assert_int_equal(mkdir(dir, 0755), 0);
	tp_fx_write(dir, "stat", stat, sizeof(stat) - 1, 0644, NULL, 0);
	tp_fx_write(dir, "status", status, strlen(status), 0644, NULL, 0);
	tp_fx_write(dir, "cmdline", "/srv/app\0--port\08080\0", 21, 0644, NULL, 0);
	snprintf(link, sizeof(link), "%s/exe", dir);
	assert_int_equal(symlink("/srv/app", link), 0);
	snprintf(dir, sizeof(dir), "%s/self", root); /* not a pid: skipped */
	assert_int_equal(mkdir(dir, 0755), 0);

	assert_int_equal(tp_proctable_init(&t, 64, 512), 0);
	assert_int_equal(tp_proctable_seed(&t, root), 1);
	p = tp_proctable_find(&t, 4242);
	assert_non_null(p);
	assert_string_equal(p->comm, "my (odd) name");
	assert_int_equal(p->ppid, 77);
	assert_int_equal(p->uid, 1001);
	assert_int_equal(p->start_ns, 12345ull * (1000000000ull / (uint64_t)ticks));
	assert_string_equal(tp_proc_exe(p), "/srv/app");
	assert_int_equal(p->image->argv_len, 21);
	assert_memory_equal(p->image->argv, "/srv/app\0--port\08080\0", 21);
	tp_proctable_free(&t);

	unlink(link);
	snprintf(dir, sizeof(dir), "rm -rf '%s'", root);
	assert_int_equal(system(dir), 0);
}

static void test_million_short_lived_leave_nothing(void **state)
{
	struct tp_proctable t;
	struct tp_hdr h;

	(void)state;
	assert_int_equal(tp_proctable_init(&t, 1024, 512), 0);
	h = hdr(1, 0, "init", 1);
	tp_proctable_exec(&t, &h, "/sbin/init", "init", 5, false);
	for (uint32_t i = 0; i < 1000000; i++) {
		uint32_t pid = 2 + (i % 4000000);
		struct tp_proc *p;

		h = hdr(pid, 1, "init", 10 + i);
		p = tp_proctable_fork(&t, &h, 1);
		if (i % 2) {
			p = tp_proctable_exec(&t, &h, "/bin/true", "true", 5, false);
		}
		tp_proctable_exit(&t, p);
	}
	assert_int_equal(tp_proctable_size(&t), 1);
	assert_int_equal(tp_metric_get(&t.m_evictions), 0);
	tp_proctable_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fork_exec_exit),
	    cmocka_unit_test(test_unknown_process_is_created_without_image),
	    cmocka_unit_test(test_argv_is_capped),
	    cmocka_unit_test(test_full_table_evicts_least_recent),
	    cmocka_unit_test(test_reused_pid_starts_afresh),
	    cmocka_unit_test(test_runs_of_one_process),
	    cmocka_unit_test(test_seed_from_proc),
	    cmocka_unit_test(test_million_short_lived_leave_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
