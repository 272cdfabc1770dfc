/* What the node's files tell: pod names from the kubelet's pod log
 * directories, container names from its log links (checked against the pod
 * uid), the runtime of a bare id from the runtimes' state directories; and
 * nothing at all when the files are absent or malformed. */
#include <errno.h>
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

#include "enrich/ondisk.h"

#define ID "3f0a5e1c9b7d2468ace0f1e2d3c4b5a69788796a5b4c3d2e1f0011223344aabb"
#define ID2 "bbbb5e1c9b7d2468ace0f1e2d3c4b5a69788796a5b4c3d2e1f0011223344aabb"
#define UID "7e8d2f4a-1b3c-4d5e-8f90-a1b2c3d4e5f6"
#define UID2 "00000000-1b3c-4d5e-8f90-a1b2c3d4e5f6"

static char root[] = "/tmp/tapio-ondisk-XXXXXX";
static char pods[256], ctrs[256], containerd[256], docker[256];

static void mkdirs(const char *fmt, ...)
{
	char path[1024], cmd[1100];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", path);
	assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
	char target[1024], link[1024];

	(void)state;
	if (!mkdtemp(root))
		return -1;
	snprintf(pods, sizeof(pods), "%s/pods", root);
	snprintf(ctrs, sizeof(ctrs), "%s/containers", root);
	snprintf(containerd, sizeof(containerd), "%s/run-containerd", root);
	snprintf(docker, sizeof(docker), "%s/docker", root);
	mkdirs("%s/shop_web-0_%s/nginx", pods, UID);
	mkdirs("%s/other_web-0_%s/nginx", pods, UID2);
	mkdirs("%s/bad_name_with_underscore_%s", pods, UID2);
	mkdirs("%s", ctrs);
	/* The kubelet's link: <pod>_<ns>_<container>-<id>.log -> pod log file */
	snprintf(target, sizeof(target), "%s/shop_web-0_%s/nginx/0.log", pods, UID);
	snprintf(link, sizeof(link), "%s/web-0_shop_nginx-%s.log", ctrs, ID);
	if (symlink(target, link) < 0)
		return -1;
	mkdirs("%s/io.containerd.runtime.v2.task/k8s.io/%s", containerd, ID);
	mkdirs("%s/io.containerd.runtime.v2.task/moby/%s", containerd, ID2);
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static struct tp_ondisk disk(void)
{
	return (struct tp_ondisk){ .pod_logs_dir = pods,
				   .container_logs_dir = ctrs,
				   .containerd_state_dir = containerd,
				   .docker_data_dir = docker };
}

static void test_pod_names(void **state)
{
	struct tp_ondisk d = disk();
	struct tp_pod_names pn;

	(void)state;
	assert_int_equal(tp_ondisk_pod(&d, UID, &pn), 0);
	assert_string_equal(pn.namespace, "shop");
	assert_string_equal(pn.pod, "web-0");
	assert_int_equal(tp_ondisk_pod(&d, UID2, &pn), 0);
	assert_string_equal(pn.namespace, "other");
	assert_int_equal(tp_ondisk_pod(&d, "11111111-1b3c-4d5e-8f90-a1b2c3d4e5f6", &pn), -ENOENT);
	d.pod_logs_dir = "";
	assert_int_equal(tp_ondisk_pod(&d, UID, &pn), -ENOENT);
	d.pod_logs_dir = "/nonexistent/tapio";
	assert_true(tp_ondisk_pod(&d, UID, &pn) < 0);
}

static void test_parse_pod_dir(void **state)
{
	struct tp_pod_names pn;

	(void)state;
	assert_int_equal(tp_ondisk_parse_pod_dir("kube-system_coredns-5d78c9869d-abcde_" UID, UID,
						 &pn),
			 0);
	assert_string_equal(pn.namespace, "kube-system");
	assert_string_equal(pn.pod, "coredns-5d78c9869d-abcde");
	assert_int_equal(tp_ondisk_parse_pod_dir("a_b_" UID, UID2, &pn), -EINVAL);
	assert_int_equal(tp_ondisk_parse_pod_dir("a_b_c_" UID, NULL, &pn), -EINVAL);
	assert_int_equal(tp_ondisk_parse_pod_dir("_b_" UID, NULL, &pn), -EINVAL);
	assert_int_equal(tp_ondisk_parse_pod_dir("A_b_" UID, NULL, &pn), -EINVAL);
	assert_int_equal(tp_ondisk_parse_pod_dir(UID, NULL, &pn), -EINVAL);
}

static void test_container_name(void **state)
{
	struct tp_ondisk d = disk();
	char name[256];

	(void)state;
	assert_int_equal(tp_ondisk_container_name(&d, ID, UID, name, sizeof(name)), 0);
	assert_string_equal(name, "nginx");
	assert_int_equal(tp_ondisk_container_name(&d, ID, NULL, name, sizeof(name)), 0);
	/* The link points into another pod than the cgroup says: not believed. */
	assert_int_equal(tp_ondisk_container_name(&d, ID, UID2, name, sizeof(name)), -ENOENT);
	assert_int_equal(tp_ondisk_container_name(&d, ID2, UID, name, sizeof(name)), -ENOENT);
}

static void test_container_name_from_plain_file(void **state)
{
	struct tp_ondisk d = disk();
	char path[1024], name[256];
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/web-1_shop_sidecar-%s.log", ctrs, ID2);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(tp_ondisk_container_name(&d, ID2, UID, name, sizeof(name)), 0);
	assert_string_equal(name, "sidecar");
	unlink(path);
}

static void test_runtime(void **state)
{
	struct tp_ondisk d = disk();
	const char *id3 = "cccc5e1c9b7d2468ace0f1e2d3c4b5a69788796a5b4c3d2e1f0011223344aabb";

	(void)state;
	assert_string_equal(tp_ondisk_runtime(&d, ID), "containerd");
	assert_string_equal(tp_ondisk_runtime(&d, ID2), "docker"); /* containerd's moby namespace */
	assert_null(tp_ondisk_runtime(&d, id3));
	mkdirs("%s/containers/%s", docker, id3);
	assert_string_equal(tp_ondisk_runtime(&d, id3), "docker");
	d.docker_data_dir = "";
	d.containerd_state_dir = NULL;
	assert_null(tp_ondisk_runtime(&d, ID));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pod_names),
		cmocka_unit_test(test_parse_pod_dir),
		cmocka_unit_test(test_container_name),
		cmocka_unit_test(test_container_name_from_plain_file),
		cmocka_unit_test(test_runtime),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
