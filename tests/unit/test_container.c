/* Container and pod identity from cgroup paths: every runtime's layout under
 * both cgroup drivers, nesting, monitors that are not containers, and
 * look-alikes that must stay unknown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "enrich/container.h"

#define ID "3f0a5e1c9b7d2468ace0f1e2d3c4b5a69788796a5b4c3d2e1f0011223344aabb"
#define ID2 "aaaa5e1c9b7d2468ace0f1e2d3c4b5a69788796a5b4c3d2e1f0011223344ffff"
#define UID "7e8d2f4a-1b3c-4d5e-8f90-a1b2c3d4e5f6"
#define UID_ "7e8d2f4a_1b3c_4d5e_8f90_a1b2c3d4e5f6"

struct want {
	const char *path;
	const char *id;      /* NULL: no container */
	const char *runtime; /* NULL: unknown */
	const char *pod_uid; /* NULL: no pod */
	const char *qos;
};

static const struct want cases[] = {
	/* docker */
	{ "/docker/" ID, ID, "docker", NULL, NULL },
	{ "/system.slice/docker-" ID ".scope", ID, "docker", NULL, NULL },
	{ "/system.slice/docker-" ID ".scope/init.scope", ID, "docker", NULL, NULL },
	/* containerd */
	{ "/system.slice/nerdctl-" ID ".scope", ID, "containerd", NULL, NULL },
	{ "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_
	  ".slice/cri-containerd-" ID ".scope",
	  ID, "containerd", UID, "BestEffort" },
	{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
	  ".slice/cri-containerd-" ID ".scope",
	  ID, "containerd", UID, "Burstable" },
	{ "/kubepods.slice/kubepods-pod" UID_ ".slice/cri-containerd-" ID ".scope", ID,
	  "containerd", UID, "Guaranteed" },
	/* cgroupfs driver: a bare id, runtime not told by the path */
	{ "/kubepods/besteffort/pod" UID "/" ID, ID, NULL, UID, "BestEffort" },
	{ "/kubepods/burstable/pod" UID "/" ID, ID, NULL, UID, "Burstable" },
	{ "/kubepods/pod" UID "/" ID, ID, NULL, UID, "Guaranteed" },
	{ "/default/" ID, ID, NULL, NULL, NULL },
	/* cri-o */
	{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
	  ".slice/crio-" ID ".scope",
	  ID, "cri-o", UID, "Burstable" },
	{ "/kubepods/besteffort/pod" UID "/crio-" ID, ID, "cri-o", UID, "BestEffort" },
	{ "/kubepods.slice/kubepods-pod" UID_ ".slice/crio-conmon-" ID ".scope", NULL, NULL, UID,
	  "Guaranteed" },
	/* podman */
	{ "/machine.slice/libpod-" ID ".scope", ID, "podman", NULL, NULL },
	{ "/machine.slice/libpod-" ID ".scope/container", ID, "podman", NULL, NULL },
	{ "/libpod_parent/libpod-" ID, ID, "podman", NULL, NULL },
	{ "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID ".scope", ID,
	  "podman", NULL, NULL },
	{ "/machine.slice/libpod-conmon-" ID ".scope", NULL, NULL, NULL, NULL },
	/* systemd-nspawn */
	{ "/machine.slice/systemd-nspawn@web\\x2d1.service/payload", "web-1", "systemd-nspawn",
	  NULL, NULL },
	{ "/machine.slice/systemd-nspawn@web.service/payload/system.slice/cron.service", "web",
	  "systemd-nspawn", NULL, NULL },
	{ "/machine.slice/systemd-nspawn@web.service/supervisor", NULL, NULL, NULL, NULL },
	{ "/machine.slice/machine-db.scope", "db", "systemd-nspawn", NULL, NULL },
	{ "/machine.slice/machine-qemu\\x2d1\\x2dvm.scope", NULL, NULL, NULL, NULL },
	/* an escape that decodes to NUL names nothing; a malformed one is literal */
	{ "/machine.slice/machine-\\x00db.scope", NULL, NULL, NULL, NULL },
	{ "/machine.slice/machine-a\\x0sb.scope", "a\\x0sb", "systemd-nspawn", NULL, NULL },
	/* lxc */
	{ "/lxc.payload.mail", "mail", "lxc", NULL, NULL },
	{ "/lxc.payload.mail/system.slice/postfix.service", "mail", "lxc", NULL, NULL },
	{ "/lxc/mail", "mail", "lxc", NULL, NULL },
	{ "/lxc.monitor.mail", NULL, NULL, NULL, NULL },
	/* nesting: the innermost container, the pod above it */
	{ "/system.slice/docker-" ID2 ".scope/kubelet.slice/kubelet-kubepods.slice/"
	  "kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod" UID_
	  ".slice/cri-containerd-" ID ".scope",
	  ID, "containerd", UID, "BestEffort" },
	{ "/docker/" ID2 "/kubepods/burstable/pod" UID "/" ID, ID, NULL, UID, "Burstable" },
	/* a static pod: a 32-hex uid */
	{ "/kubepods/burstable/pod0123456789abcdef0123456789abcdef/" ID, ID, NULL,
	  "0123456789abcdef0123456789abcdef", "Burstable" },
	/* a process in the pod's own cgroup */
	{ "/kubepods/besteffort/pod" UID, NULL, NULL, UID, "BestEffort" },
	/* not containers */
	{ "/", NULL, NULL, NULL, NULL },
	{ "", NULL, NULL, NULL, NULL },
	{ "/system.slice/ssh.service", NULL, NULL, NULL, NULL },
	{ "/user.slice/user-1000.slice/session-3.scope", NULL, NULL, NULL, NULL },
	{ "/system.slice/docker.service", NULL, NULL, NULL, NULL },
	{ "/system.slice/docker-abc.scope", NULL, NULL, NULL, NULL },
	{ "/docker/" ID "0", NULL, NULL, NULL, NULL },
	{ "/docker/3F0A5E1C9B7D2468ACE0F1E2D3C4B5A69788796A5B4C3D2E1F0011223344AABB", NULL, NULL,
	  NULL, NULL },
	{ "/kubepods/besteffort/podnot-a-uid/" ID, ID, NULL, NULL, NULL },
	{ "/elsewhere/pod" UID "/" ID, ID, NULL, NULL, NULL },
	{ "/kubepods", NULL, NULL, NULL, NULL },
	{ "/kubepods.slice/kubepods-besteffort.slice", NULL, NULL, NULL, NULL },
	{ "/some/lxc/x", NULL, NULL, NULL, NULL },
};

static void test_layouts(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct want *w = &cases[i];
		struct tp_cgroup_identity got;
		bool any = tp_container_parse(w->path, &got);

		print_message("%s\n", w->path);
		assert_int_equal(any, w->id != NULL || w->pod_uid != NULL);
		assert_string_equal(got.container_id, w->id ? w->id : "");
		if (w->runtime)
			assert_string_equal(got.runtime, w->runtime);
		else
			assert_null(got.runtime);
		assert_int_equal(got.bare_id, w->id && !w->runtime && strlen(w->id) == 64);
		assert_string_equal(got.pod_uid, w->pod_uid ? w->pod_uid : "");
		if (w->qos)
			assert_string_equal(got.qos, w->qos);
		else
			assert_null(got.qos);
	}
}

static void test_long_names_stay_unknown(void **state)
{
	char path[512];
	struct tp_cgroup_identity got;

	(void)state;
	/* A name that does not fit is not cut into another container's name. */
	strcpy(path, "/lxc.payload.");
	memset(path + strlen(path), 'x', 200);
	path[13 + 200] = '\0';
	assert_false(tp_container_parse(path, &got));
	assert_string_equal(got.container_id, "");
}

static void test_many_components(void **state)
{
	char path[4096] = "";
	struct tp_cgroup_identity got;

	(void)state;
	for (int i = 0; i < 100; i++)
		strcat(path, "/a");
	strcat(path, "/docker-" ID ".scope");
	/* Deeper than the parser looks: unknown, never a wrong answer. */
	assert_false(tp_container_parse(path, &got));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layouts),
		cmocka_unit_test(test_long_names_stay_unknown),
		cmocka_unit_test(test_many_components),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
