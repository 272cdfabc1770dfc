/*
 * container.h - container and pod identity from a cgroup path.
 *
 * Every runtime names the cgroup of a container after its id, in a layout of
 * its own, the same under cgroup v1 and v2:
 *
 *   docker           /docker/<id>, /system.slice/docker-<id>.scope
 *   containerd       .../cri-containerd-<id>.scope, .../nerdctl-<id>.scope,
 *                    /kubepods/.../pod<uid>/<id> (runtime told by its state dir)
 *   cri-o            .../crio-<id>.scope, .../crio-<id>
 *   podman           .../libpod-<id>.scope, /libpod_parent/libpod-<id>
 *   systemd-nspawn   /machine.slice/systemd-nspawn@<name>.service/payload,
 *                    /machine.slice/machine-<name>.scope
 *   lxc              /lxc.payload.<name>, /lxc/<name>
 *
 * and the kubelet names the pod's cgroup after its uid and QoS class:
 * /kubepods/[besteffort|burstable]/pod<uid> (cgroupfs driver) or
 * kubepods-[besteffort-|burstable-]pod<uid_with_underscores>.slice (systemd).
 * The innermost container wins (kind, or docker in a VM's container); the
 * pod is the nearest above it. Monitors (crio-conmon-*, libpod-conmon-*,
 * lxc.monitor.*, nspawn's supervisor) are not containers. What the path
 * cannot tell stays unknown: a bare id under a pod gives no runtime.
 */
#ifndef TAPIO_ENRICH_CONTAINER_H
#define TAPIO_ENRICH_CONTAINER_H

#include <stdbool.h>
#include <stddef.h>

#define TP_CONTAINER_ID_MAX 128 /* ids are 64 hex; nspawn and LXC names are shorter */
#define TP_POD_UID_MAX 40

struct tp_cgroup_identity {
	char container_id[TP_CONTAINER_ID_MAX]; /* "" when not in a container */
	const char *runtime;   /* "docker", "containerd", "cri-o", "podman",
				* "systemd-nspawn", "lxc"; NULL when unknown */
	bool bare_id;          /* a bare 64-hex id: the runtime may be found on disk */
	char pod_uid[TP_POD_UID_MAX]; /* "" when not in a pod */
	const char *qos;       /* "Guaranteed", "Burstable", "BestEffort"; NULL: unknown */
};

/* Parse a cgroup path ("/kubepods/..."). Returns true when it names a
 * container or a pod; out is always filled (empty when false). */
bool tp_container_parse(const char *path, struct tp_cgroup_identity *out);

/* Whether s is a 64-character lowercase hex id. */
bool tp_container_is_hex_id(const char *s, size_t n);

#endif
