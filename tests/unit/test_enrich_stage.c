/* The enrichment stage on a replayed stream: ancestry of a process chain
 * up to the configured depth, exit frees, argv on every event, a reboot in
 * the stream empties the table, and the JSON and text renderings of the
 * context. (Cgroup resolution: test_cgcache.c.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "enrich/stage.h"
#include "events/decode.h"
#include "events/format.h"
#include "events/proc_ctx.h"

static const uint64_t SEC = 1000000000ull;

/* Recorded "now": a replay of this boot. */
static int64_t wall_offset(void)
{
	struct timespec rt, bt;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_BOOTTIME, &bt);
	return ((int64_t)rt.tv_sec - bt.tv_sec) * (int64_t)SEC + (rt.tv_nsec - bt.tv_nsec);
}

static uint64_t boot_now(void)
{
	struct timespec bt;

	clock_gettime(CLOCK_BOOTTIME, &bt);
	return (uint64_t)bt.tv_sec * SEC + (uint64_t)bt.tv_nsec;
}

struct fixture {
	struct tp_config cfg;
	struct tp_stage *st;
	struct tp_pipeline pipe;
	struct tp_event ev;
	struct tp_event_meta meta;
	uint64_t ts;
	int64_t off;
};

static void fill_hdr(struct tp_hdr *h, uint32_t type, uint32_t size, uint32_t pid, uint32_t ppid,
		     const char *comm, uint64_t ts)
{
	h->ts_ns = ts;
	h->type = type;
	h->size = size;
	h->pid = h->tid = pid;
	h->ppid = ppid;
	snprintf(h->comm, sizeof(h->comm), "%s", comm);
}

static const struct tp_proc_ctx *run(struct fixture *f, const void *rec, size_t len)
{
	assert_int_equal(tp_decode(rec, len, f->off, &f->ev), 0);
	memset(&f->meta, 0, sizeof(f->meta));
	f->meta.importance = -1;
	assert_int_equal(f->st->ops->event(f->st, &f->pipe, &f->ev, &f->meta), TP_STAGE_PASS);
	assert_non_null(f->meta.proc);
	return f->meta.proc;
}

static const struct tp_proc_ctx *exec_ev(struct fixture *f, uint32_t pid, uint32_t ppid,
					 const char *comm, const char *file, const char *argv,
					 uint32_t argv_len)
{
	struct tp_exec_event e;

	memset(&e, 0, sizeof(e));
	fill_hdr(&e.hdr, TP_EV_PROCESS_EXEC, sizeof(e), pid, ppid, comm, f->ts += 1000);
	snprintf(e.filename, sizeof(e.filename), "%s", file);
	memcpy(e.argv, argv, argv_len);
	e.argv_len = argv_len;
	return run(f, &e, sizeof(e));
}

static const struct tp_proc_ctx *fork_ev(struct fixture *f, uint32_t pid, uint32_t ppid,
					 const char *comm)
{
	struct tp_fork_event e;

	memset(&e, 0, sizeof(e));
	fill_hdr(&e.hdr, TP_EV_PROCESS_FORK, sizeof(e), pid, ppid, comm, f->ts += 1000);
	e.parent_pid = ppid;
	return run(f, &e, sizeof(e));
}

static const struct tp_proc_ctx *exit_ev(struct fixture *f, uint32_t pid, uint32_t ppid,
					 const char *comm)
{
	struct tp_exit_event e;

	memset(&e, 0, sizeof(e));
	fill_hdr(&e.hdr, TP_EV_PROCESS_EXIT, sizeof(e), pid, ppid, comm, f->ts += 1000);
	return run(f, &e, sizeof(e));
}

static int setup(void **state)
{
	static struct fixture f;
	char err[256];
	struct tp_enrich_opts o = { .cfg = &f.cfg, .live = false };

	memset(&f, 0, sizeof(f));
	tp_config_defaults(&f.cfg);
	f.cfg.enrich_ancestors = 2;
	f.cfg.k8s_pod_logs_dir = "";
	f.cfg.k8s_container_logs_dir = "";
	tp_enrich_stage_new(&f.st, &o, err, sizeof(err));
	if (!f.st) {
		fprintf(stderr, "stage: %s\n", err);
		return -1;
	}
	f.off = wall_offset();
	f.ts = boot_now() - 60 * SEC;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	f->st->ops->close(f->st);
	return 0;
}

/* init(1) -> bash(10) -> python3(20) -> child(30) */
static void chain(struct fixture *f)
{
	exec_ev(f, 1, 0, "init", "/sbin/init", "/sbin/init\0", 11);
	fork_ev(f, 10, 1, "init");
	exec_ev(f, 10, 1, "bash", "/bin/bash", "bash\0", 5);
	fork_ev(f, 20, 10, "bash");
	exec_ev(f, 20, 10, "python3", "/usr/bin/python3", "python3\0app.py\0", 15);
	fork_ev(f, 30, 20, "python3");
}

static void test_ancestry(void **state)
{
	struct fixture *f = *state;
	const struct tp_proc_ctx *c;

	chain(f);
	c = exit_ev(f, 30, 20, "python3");
	/* A forked child runs its parent's image until it execs. */
	assert_string_equal(c->exe, "/usr/bin/python3");
	assert_int_equal(c->argv_len, 15);
	assert_non_null(c->parent);
	assert_int_equal(c->parent->pid, 20);
	assert_string_equal(c->parent->comm, "python3");
	assert_string_equal(c->parent->exe, "/usr/bin/python3");
	assert_int_equal(c->nancestors, 2); /* the configured depth */
	assert_int_equal(c->ancestors[0].pid, 10);
	assert_string_equal(c->ancestors[0].exe, "/bin/bash");
	assert_int_equal(c->ancestors[1].pid, 1);
	assert_string_equal(c->ancestors[1].comm, "init");
	assert_null(c->container);
	assert_null(c->k8s);

	/* bash's ancestry ends at init, whose ppid is 0. */
	c = exit_ev(f, 20, 10, "python3");
	assert_int_equal(c->parent->pid, 10);
	assert_int_equal(c->nancestors, 1);
	assert_int_equal(c->ancestors[0].pid, 1);
	c = exec_ev(f, 1, 0, "init", "/sbin/init", "/sbin/init\0", 11);
	assert_null(c->parent);
	assert_int_equal(c->nancestors, 0);
}

static const struct tp_proc_ctx *open_ev(struct fixture *f, uint32_t pid, uint32_t ppid,
					 const char *comm)
{
	struct tp_file_open_event e;

	memset(&e, 0, sizeof(e));
	fill_hdr(&e.hdr, TP_EV_FILE_OPEN, sizeof(e), pid, ppid, comm, f->ts += 1000);
	snprintf(e.path, sizeof(e.path), "/etc/hosts");
	e.ret = 3;
	return run(f, &e, sizeof(e));
}

/* A run of events from one process reuses its tree while the table is
 * unchanged; each change an ancestry shows makes the next event see it. */
static void test_tree_kept_for_a_run_follows_changes(void **state)
{
	struct fixture *f = *state;
	const struct tp_proc_ctx *c;

	chain(f);
	for (int k = 0; k < 2; k++) {
		c = open_ev(f, 30, 20, "python3");
		assert_string_equal(c->parent->comm, "python3");
		assert_string_equal(c->parent->exe, "/usr/bin/python3");
		assert_int_equal(c->ancestors[0].pid, 10);
	}
	open_ev(f, 20, 10, "renamed"); /* the parent's comm */
	c = open_ev(f, 30, 20, "python3");
	assert_string_equal(c->parent->comm, "renamed");
	exec_ev(f, 20, 10, "perl", "/usr/bin/perl", "perl\0x.pl\0", 10); /* its image */
	c = open_ev(f, 30, 20, "python3");
	assert_string_equal(c->parent->exe, "/usr/bin/perl");
	assert_string_equal(c->ancestors[0].exe, "/bin/bash");
	exit_ev(f, 10, 1, "bash"); /* the grandparent goes */
	open_ev(f, 99, 1, "other"); /* (the exit is freed at the next event) */
	c = open_ev(f, 30, 20, "python3");
	assert_int_equal(c->ancestors[0].pid, 10);
	assert_null(c->ancestors[0].exe);
	c = open_ev(f, 30, 1, "python3"); /* reparented to init */
	assert_int_equal(c->parent->pid, 1);
	assert_string_equal(c->parent->comm, "init");
	assert_int_equal(c->nancestors, 0);
	c = open_ev(f, 20, 10, "renamed"); /* another process: its own tree */
	assert_int_equal(c->parent->pid, 10);
}

static void test_exit_frees_and_unknown_stays_unknown(void **state)
{
	struct fixture *f = *state;
	const struct tp_proc_ctx *c;
	struct tp_metric *size = tp_metric_find("tapio_enrich_processes", NULL);
	uint64_t before;

	assert_non_null(size);
	chain(f);
	before = tp_metric_get(size);
	exit_ev(f, 30, 20, "python3");
	exit_ev(f, 20, 10, "python3");
	assert_int_equal(tp_metric_get(size), before - 2);
	/* A process never seen to fork or exec: its comm only; its parent
	 * (known by pid) has nothing more to say. */
	c = exit_ev(f, 777, 776, "ghost");
	assert_null(c->exe);
	assert_null(c->argv);
	assert_int_equal(c->parent->pid, 776);
	assert_null(c->parent->comm);
	assert_null(c->parent->exe);
	assert_int_equal(c->nancestors, 0);
}

static void test_reboot_in_stream_empties_table(void **state)
{
	struct fixture *f = *state;
	const struct tp_proc_ctx *c;

	chain(f);
	/* The boot clock goes back: the stored stream crossed a reboot, and
	 * pid 20 is now another process. */
	f->ts = 5 * SEC;
	c = fork_ev(f, 30, 20, "x");
	assert_null(c->exe);
	assert_null(c->parent->comm);
	f->ts = boot_now() - 30 * SEC;
}

static const struct tp_proc_ctx *with_offset(struct fixture *f, const void *rec, size_t len,
					    int64_t off)
{
	int64_t saved = f->off;
	const struct tp_proc_ctx *c;

	f->off = off;
	c = run(f, rec, len);
	f->off = saved;
	return c;
}

static void test_earlier_boot_from_stored_cgroup_events(void **state)
{
	static const char id[] = "3f0a5e1c9b7d2468ace0f1e2d3c4b5a69788796a5b4c3d2e1f0011223344aabb";
	struct fixture *f = *state;
	int64_t year_ago = f->off - (int64_t)(365 * 86400 * SEC);
	struct tp_cgroup_event cg;
	struct tp_exit_event x;
	const struct tp_proc_ctx *c;

	/* Recorded a year ago: cgroup 1 was the root then as now, but 4242
	 * was a docker container that only the stored mkdir tells about. */
	memset(&cg, 0, sizeof(cg));
	fill_hdr(&cg.hdr, TP_EV_CONTAINER_CGROUP, sizeof(cg), 300, 1, "runc", 50 * SEC);
	cg.hdr.cgroup_id = 1;
	cg.op = TP_CGROUP_MKDIR;
	cg.cgroup_id = 4242;
	snprintf(cg.path, sizeof(cg.path), "/docker/%s", id);
	c = with_offset(f, &cg, sizeof(cg), year_ago);
	assert_null(c->container);

	memset(&x, 0, sizeof(x));
	fill_hdr(&x.hdr, TP_EV_PROCESS_EXIT, sizeof(x), 301, 300, "nginx", 51 * SEC);
	x.hdr.cgroup_id = 4242;
	c = with_offset(f, &x, sizeof(x), year_ago);
	assert_non_null(c->container);
	assert_string_equal(c->container->id, id);
	assert_string_equal(c->container->runtime, "docker");

	/* Another earlier boot: the same id means nothing any more. */
	fill_hdr(&x.hdr, TP_EV_PROCESS_EXIT, sizeof(x), 302, 300, "nginx", 1 * SEC);
	x.hdr.cgroup_id = 4242;
	c = with_offset(f, &x, sizeof(x), year_ago + (int64_t)(30 * 86400 * SEC));
	assert_null(c->container);

	/* A path that filled its field may be cut (where the innermost
	 * container was named): the outer one it shows is not believed. */
	fill_hdr(&cg.hdr, TP_EV_CONTAINER_CGROUP, sizeof(cg), 300, 1, "runc", 2 * SEC);
	cg.cgroup_id = 4343;
	memset(cg.path, 'a', sizeof(cg.path));
	snprintf(cg.path, sizeof(cg.path), "/docker/%s/kubepods/besteffort/", id);
	cg.path[strlen(cg.path)] = 'a';
	with_offset(f, &cg, sizeof(cg), year_ago + (int64_t)(30 * 86400 * SEC));
	fill_hdr(&x.hdr, TP_EV_PROCESS_EXIT, sizeof(x), 303, 300, "nginx", 3 * SEC);
	x.hdr.cgroup_id = 4343;
	c = with_offset(f, &x, sizeof(x), year_ago + (int64_t)(30 * 86400 * SEC));
	assert_null(c->container);
	f->ts = boot_now() - 10 * SEC;
}

static void test_json_and_text(void **state)
{
	struct fixture *f = *state;
	struct tp_container_ctx ctr = { .id = "3f0a5e1c9b7d2468ace0f1e2d3c4b5a6", .runtime = NULL };
	struct tp_k8s_ctx k8s = { .pod_uid = "7e8d", .qos = "BestEffort" };
	struct tp_proc_ctx c;
	struct tp_buf b;
	const char *out;

	chain(f);
	exit_ev(f, 30, 20, "python3");
	c = *f->meta.proc;
	c.container = &ctr;
	c.k8s = &k8s;
	f->meta.proc = &c;
	tp_buf_init(&b);
	tp_format_json(&b, &f->ev, &f->meta);
	out = tp_buf_cstr(&b);
	assert_non_null(strstr(
		out, ",\"exe\":\"/usr/bin/python3\",\"argv\":[\"python3\",\"app.py\"],"
		     "\"parent\":{\"pid\":20,\"comm\":\"python3\",\"exe\":\"/usr/bin/python3\"},"
		     "\"ancestors\":[{\"pid\":10,\"comm\":\"bash\",\"exe\":\"/bin/bash\"},"
		     "{\"pid\":1,\"comm\":\"init\",\"exe\":\"/sbin/init\"}],"
		     "\"container\":{\"id\":\"3f0a5e1c9b7d2468ace0f1e2d3c4b5a6\"},"
		     "\"k8s\":{\"pod_uid\":\"7e8d\",\"qos\":\"BestEffort\"}}\n"));
	tp_buf_reset(&b);
	tp_format_text(&b, &f->ev, &f->meta, false);
	out = tp_buf_cstr(&b);
	assert_non_null(strstr(out, " exe=/usr/bin/python3 parent=python3[20] container=3f0a5e1c9b7d "
				    "pod=7e8d\n"));

	/* Other categories: the parent, not the whole tree. */
	{
		struct tp_file_open_event o;

		memset(&o, 0, sizeof(o));
		fill_hdr(&o.hdr, TP_EV_FILE_OPEN, sizeof(o), 20, 10, "python3", f->ts += 1000);
		snprintf(o.path, sizeof(o.path), "/etc/passwd");
		run(f, &o, sizeof(o));
		assert_int_equal(f->meta.proc->nancestors, 1);
		tp_buf_reset(&b);
		tp_format_json(&b, &f->ev, &f->meta);
		out = tp_buf_cstr(&b);
		assert_non_null(strstr(out, "\"parent\":{\"pid\":10,"));
		assert_null(strstr(out, "\"ancestors\""));
	}

	/* An exec event keeps its own argv; the context does not repeat it. */
	exec_ev(f, 40, 1, "ls", "/bin/ls", "ls\0-l\0", 6);
	tp_buf_reset(&b);
	tp_format_json(&b, &f->ev, &f->meta);
	out = tp_buf_cstr(&b);
	assert_non_null(strstr(out, "\"argv\":[\"ls\",\"-l\"]"));
	assert_null(strstr(strstr(out, "\"argv\":") + 1, "\"argv\":"));
	tp_buf_free(&b);
}

static int setup_small(void **state)
{
	static struct fixture f;
	char err[256];
	struct tp_enrich_opts o = { .cfg = &f.cfg, .live = false };

	memset(&f, 0, sizeof(f));
	tp_config_defaults(&f.cfg);
	f.cfg.enrich_processes = 16; /* the least: evictions, memory used again */
	f.cfg.enrich_ancestors = 3;
	f.cfg.k8s_pod_logs_dir = "";
	f.cfg.k8s_container_logs_dir = "";
	tp_enrich_stage_new(&f.st, &o, err, sizeof(err));
	if (!f.st) {
		fprintf(stderr, "stage: %s\n", err);
		return -1;
	}
	f.off = wall_offset();
	f.ts = boot_now() - 60 * SEC;
	*state = &f;
	return 0;
}

/* -o json keeps the rendering of a context's process tree per thread by
 * the context's pointers and epoch: on a random stream of forks, execs,
 * renames (a new comm in a header), exits and opens over a small table
 * (entries evicted, memory reused), every line, written twice, is the
 * line of the same context with no epoch (nothing kept). */
static void test_json_kept_tree_is_current(void **state)
{
	static const char *const comms[] = { "bash", "sh", "python3", "worker-1", "worker-2", "ls" };
	/* Of one length, like the arguments: a new image may take a freed
	 * one's memory and show other bytes at the same addresses. */
	static const char *const files[] = { "/opt/bin/w1", "/opt/bin/w2", "/opt/bin/w3",
					     "/opt/bin/w4", "/opt/bin/w5" };
	struct fixture *f = *state;
	uint64_t x = 0x853c49e6748fea9bull;
	struct tp_buf got, want;
	size_t kept = 0;

	tp_buf_init(&got);
	tp_buf_init(&want);
	/* First one process execs again and again, an open after each (its
	 * exec lines under another parent: kept apart from the opens'): an
	 * image likely takes the memory the one before the last left. */
	for (int i = -60; i < 20000; i++) {
		uint32_t pid, ppid;
		const char *comm;
		unsigned op;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		pid = 100 + (uint32_t)(x % 24);
		ppid = 100 + (uint32_t)((x >> 8) % 24);
		/* Each pid's own comm, but for renames (op 3). */
		comm = comms[pid % 6];
		op = (unsigned)((x >> 24) % 16);
		if (i < 0) {
			op = i % 2 ? 1 : 4;
			pid = 100, ppid = op == 1 ? 102 : 101, comm = comms[4];
		}
		if (op == 0) {
			fork_ev(f, pid, ppid, comm);
		} else if (op == 1) {
			char argv[64];
			int n = snprintf(argv, sizeof(argv), "w%c--n%c%03u", 0, 0,
					 (unsigned)(x >> 32) % 1000);

			exec_ev(f, pid, ppid, comm, files[(x >> 40) % 5], argv, (uint32_t)n + 1);
		} else if (op == 2) {
			exit_ev(f, pid, ppid, comm);
		} else {
			struct tp_file_open_event o;

			memset(&o, 0, sizeof(o));
			fill_hdr(&o.hdr, TP_EV_FILE_OPEN, sizeof(o), pid, ppid,
				 op == 3 ? comms[(x >> 16) % 6] : comm, f->ts += 1000);
			snprintf(o.path, sizeof(o.path), "/etc/f%u", (unsigned)(x >> 48) % 7);
			run(f, &o, sizeof(o));
		}
		{
			struct tp_proc_ctx plain = *f->meta.proc;
			struct tp_event_meta m = f->meta;

			assert_true(plain.epoch != 0);
			tp_buf_reset(&got);
			tp_format_json(&got, &f->ev, &f->meta);
			tp_format_json(&got, &f->ev, &f->meta);
			plain.epoch = 0;
			m.proc = &plain;
			tp_buf_reset(&want);
			tp_format_json(&want, &f->ev, &m);
			tp_format_json(&want, &f->ev, &m);
			if (got.len != want.len || memcmp(got.data, want.data, got.len))
				fail_msg("event %d:\n got %s\nwant %s", i, tp_buf_cstr(&got),
					 tp_buf_cstr(&want));
			kept += f->meta.proc->exe || f->meta.proc->parent;
		}
	}
	assert_true(kept > 10000); /* contexts with a tree to keep */
	tp_buf_free(&got);
	tp_buf_free(&want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ancestry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tree_kept_for_a_run_follows_changes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_exit_frees_and_unknown_stays_unknown, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reboot_in_stream_empties_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_earlier_boot_from_stored_cgroup_events, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_json_and_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json_kept_tree_is_current, setup_small,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
