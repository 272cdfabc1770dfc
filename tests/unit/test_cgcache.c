/* The cgroup cache on a fake hierarchy (a directory tree: kernfs and any
 * other file system report a directory's inode as its id alike): walk
 * resolution, priming, names that appear later on disk, paths learned from
 * the stream (and only those for an earlier boot), ids that resolve
 * nowhere, and eviction. */
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

#include "enrich/cgcache.h"

#define ID "3f0a5e1c9b7d2468ace0f1e2d3c4b5a69788796a5b4c3d2e1f0011223344aabb"
#define UID "7e8d2f4a-1b3c-4d5e-8f90-a1b2c3d4e5f6"
#define CG "/kubepods/besteffort/pod" UID "/" ID

static const uint64_t SEC = 1000000000ull;
static char root[] = "/tmp/tapio-cgcache-XXXXXX";
static char hier[200], pods[200], ctrs[200], containerd[200];

static void sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_int_equal(system(cmd), 0);
}

static uint64_t ino(const char *rel)
{
	char path[1024];
	struct stat st;

	snprintf(path, sizeof(path), "%s%s", hier, rel);
	assert_int_equal(stat(path, &st), 0);
	return st.st_ino;
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(root))
		return -1;
	snprintf(hier, sizeof(hier), "%s/cgroup", root);
	snprintf(pods, sizeof(pods), "%s/pods", root);
	snprintf(ctrs, sizeof(ctrs), "%s/containers", root);
	snprintf(containerd, sizeof(containerd), "%s/containerd", root);
	sh("mkdir -p '%s%s' '%s/system.slice/ssh.service' '%s' '%s' "
	   "'%s/io.containerd.runtime.v2.task/k8s.io/%s'",
	   hier, CG, hier, pods, ctrs, containerd, ID);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sh("rm -rf '%s'", root);
	return 0;
}

static void open_cache(struct tp_cgcache *c, size_t max, bool live, bool use_fs)
{
	struct tp_cgroupfs fs;
	struct tp_ondisk disk = { .pod_logs_dir = pods,
				  .container_logs_dir = ctrs,
				  .containerd_state_dir = containerd };

	memset(&fs, 0, sizeof(fs));
	snprintf(fs.mount[TP_CG_V2], sizeof(fs.mount[TP_CG_V2]), "%s", hier);
	assert_int_equal(tp_cgcache_init(c, max, &fs, &disk, live, use_fs), 0);
}

static void test_walk_resolves_and_names_come_later(void **state)
{
	struct tp_cgcache c;
	struct tp_cg_entry *e;
	uint64_t now = 1000 * SEC, id = ino(CG);

	(void)state;
	open_cache(&c, 64, true, true);
	/* pid 0: no /proc hint, the walk finds it. */
	e = tp_cgcache_get(&c, TP_CG_V2, id, 0, 0, now);
	assert_non_null(e);
	assert_true(e->has_container);
	assert_string_equal(e->container.id, ID);
	assert_string_equal(e->container.runtime, "containerd"); /* its state dir */
	assert_true(e->has_k8s);
	assert_string_equal(e->k8s.pod_uid, UID);
	assert_string_equal(e->k8s.qos, "BestEffort");
	/* The kubelet has not written the pod's directories yet. */
	assert_null(e->k8s.pod);
	assert_null(e->k8s.namespace);
	assert_null(e->k8s.container);
	assert_int_equal(tp_metric_get(&c.m_resolved_walk), 1);

	sh("mkdir -p '%s/shop_web-0_%s/nginx' && ln -s '%s/shop_web-0_%s/nginx/0.log' "
	   "'%s/web-0_shop_nginx-%s.log'",
	   pods, UID, pods, UID, ctrs, ID);
	/* Not before the retry is due: no disk read per event. */
	e = tp_cgcache_get(&c, TP_CG_V2, id, 0, 0, now + SEC / 2);
	assert_null(e->k8s.pod);
	e = tp_cgcache_get(&c, TP_CG_V2, id, 0, 0, now + 2 * SEC);
	assert_string_equal(e->k8s.pod, "web-0");
	assert_string_equal(e->k8s.namespace, "shop");
	assert_string_equal(e->k8s.container, "nginx");
	assert_int_equal(e->retry_ns, 0); /* everything known: never read again */
	assert_int_equal(tp_metric_get(&c.m_hits), 2);
	assert_int_equal(tp_metric_get(&c.m_misses), 1);
	sh("rm -rf '%s'/* '%s'/*", pods, ctrs);
	tp_cgcache_free(&c);
}

static void test_prime_and_host_cgroups(void **state)
{
	struct tp_cgcache c;
	struct tp_cg_entry *e;
	uint64_t now = 1000 * SEC;

	(void)state;
	open_cache(&c, 64, true, true);
	tp_cgcache_prime(&c, now);
	/* root, kubepods, besteffort, pod, container, system.slice, ssh.service */
	assert_int_equal(c.lru.count, 7);
	e = tp_cgcache_get(&c, TP_CG_V2, ino("/system.slice/ssh.service"), 0, 0, now);
	assert_true(e->resolved);
	assert_false(e->has_container);
	assert_false(e->has_k8s);
	e = tp_cgcache_get(&c, TP_CG_V2, ino("/kubepods/besteffort/pod" UID), 0, 0, now);
	assert_false(e->has_container);
	assert_true(e->has_k8s);
	assert_int_equal(tp_metric_get(&c.m_misses), 0);
	tp_cgcache_free(&c);
}

static void test_unknown_id_is_retried_not_guessed(void **state)
{
	struct tp_cgcache c;
	struct tp_cg_entry *e;
	uint64_t now = 1000 * SEC, missing = ino(CG) + 1000000;

	(void)state;
	open_cache(&c, 64, true, true);
	e = tp_cgcache_get(&c, TP_CG_V2, missing, 0, 0, now);
	assert_non_null(e);
	assert_false(e->resolved);
	assert_false(e->has_container);
	assert_int_equal(e->retry_ns, now + SEC);
	/* Walks are rate limited: another unknown id right away gets none. */
	e = tp_cgcache_get(&c, TP_CG_V2, missing + 1, 0, 0, now + 1);
	assert_false(e->resolved);
	assert_int_equal(tp_metric_get(&c.m_unresolved), 2);
	assert_int_equal(tp_metric_get(&c.m_resolved_walk), 0);
	/* The first one's retry doubles its backoff. */
	e = tp_cgcache_get(&c, TP_CG_V2, missing, 0, 0, now + SEC);
	assert_int_equal(e->retry_ns, now + 3 * SEC);
	tp_cgcache_free(&c);
}

static void test_earlier_boot_learns_from_the_stream_only(void **state)
{
	struct tp_cgcache c;
	struct tp_cg_entry *e;
	uint64_t now = 1000 * SEC, id = ino(CG);

	(void)state;
	/* A replay of an earlier boot: that id named another cgroup then. */
	open_cache(&c, 64, false, false);
	tp_cgcache_prime(&c, now);
	assert_int_equal(c.lru.count, 0);
	e = tp_cgcache_get(&c, TP_CG_V2, id, 0, 0, now);
	assert_false(e->resolved);
	assert_false(e->has_container);
	assert_int_equal(e->retry_ns, 0); /* nothing to retry: only the stream can tell */
	/* The stored container.cgroup event named it. */
	tp_cgcache_learn(&c, TP_CG_V2, id, "/docker/" ID, now);
	e = tp_cgcache_get(&c, TP_CG_V2, id, 0, 0, now);
	assert_true(e->resolved);
	assert_string_equal(e->container.id, ID);
	assert_string_equal(e->container.runtime, "docker");
	tp_cgcache_forget(&c, TP_CG_V2, id);
	assert_int_equal(c.lru.count, 0);
	tp_cgcache_free(&c);
}

static void test_learn_before_any_process(void **state)
{
	struct tp_cgcache c;
	struct tp_cg_entry *e;
	uint64_t now = 1000 * SEC;

	(void)state;
	open_cache(&c, 64, true, true);
	/* mkdir of a cgroup that is already gone from the file system: the
	 * event's path is all there is, and it is enough. */
	tp_cgcache_learn(&c, TP_CG_V2, 987654321, "/system.slice/docker-" ID ".scope", now);
	e = tp_cgcache_get(&c, TP_CG_V2, 987654321, 0, 0, now);
	assert_string_equal(e->container.id, ID);
	assert_int_equal(tp_metric_get(&c.m_resolved_event), 1);
	assert_int_equal(tp_metric_get(&c.m_misses), 0);
	/* A second path for the same id changes nothing: ids are not reused. */
	tp_cgcache_learn(&c, TP_CG_V2, 987654321, "/elsewhere", now);
	assert_string_equal(e->container.id, ID);
	/* Not a path: ignored. */
	tp_cgcache_learn(&c, TP_CG_V2, 42, "docker/" ID, now);
	assert_null(tp_lru_peek(&c.lru, 42));
	tp_cgcache_free(&c);
}

static void test_bounded(void **state)
{
	struct tp_cgcache c;
	uint64_t now = 1000 * SEC, base = ino(CG) + 5000000;

	(void)state;
	open_cache(&c, 16, true, true);
	for (uint64_t i = 0; i < 100; i++)
		tp_cgcache_get(&c, TP_CG_V2, base + i, 0, 0, now);
	assert_int_equal(c.lru.count, 16);
	/* 100 misses, and the first one's walk added the 7 cgroups it passed. */
	assert_int_equal(tp_metric_get(&c.m_evictions), 100 + 7 - 16);
	/* The two hierarchies are separate keys. */
	tp_cgcache_forget(&c, TP_CG_V2, base + 99);
	assert_int_equal(c.lru.count, 15);
	assert_null(tp_lru_peek(&c.lru, base + 99));
	/* A run of events of one cgroup, then it is forgotten (or evicted):
	 * the next look-up of its id makes a new entry (under ASan: never the
	 * freed one). */
	for (int k = 0; k < 2; k++) {
		struct tp_cg_entry *e = tp_cgcache_get(&c, TP_CG_V2, base + 200, 0, 0, now);

		assert_ptr_equal(tp_cgcache_get(&c, TP_CG_V2, base + 200, 0, 0, now), e);
		if (k == 0) {
			tp_cgcache_forget(&c, TP_CG_V2, base + 200);
		} else {
			for (uint64_t i = 0; i < 16; i++) /* evicts it */
				tp_cgcache_get(&c, TP_CG_V2, base + 300 + i, 0, 0, now);
			assert_null(tp_lru_peek(&c.lru, base + 200));
		}
		e = tp_cgcache_get(&c, TP_CG_V2, base + 200, 0, 0, now);
		assert_non_null(tp_lru_peek(&c.lru, base + 200));
		assert_ptr_equal(&e->node, tp_lru_peek(&c.lru, base + 200));
	}
	tp_cgcache_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_walk_resolves_and_names_come_later),
		cmocka_unit_test(test_prime_and_host_cgroups),
		cmocka_unit_test(test_unknown_id_is_retried_not_guessed),
		cmocka_unit_test(test_earlier_boot_learns_from_the_stream_only),
		cmocka_unit_test(test_learn_before_any_process),
		cmocka_unit_test(test_bounded),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
