/*
 * ondisk.h - what the node's own files say about a pod or a container,
 * read only when a cache misses, never over the network:
 *
 *   pod name and namespace   the kubelet's pod log directory,
 *                            <pod_logs_dir>/<namespace>_<pod>_<uid>/
 *   container name           the kubelet's container log link,
 *                            <container_logs_dir>/<pod>_<ns>_<container>-<id>.log
 *                            -> <pod_logs_dir>/<ns>_<pod>_<uid>/<container>/N.log
 *   runtime of a bare id     the runtimes' state: <docker_data_dir>/containers/<id>,
 *                            <containerd_state_dir>/io.containerd.runtime.v2.task/<ns>/<id>
 *
 * Namespaces, pod names and container names are DNS labels or subdomains,
 * which cannot hold '_': the kubelet's names split without ambiguity. A link
 * whose target names another pod uid than the cgroup does is not believed.
 */
#ifndef TAPIO_ENRICH_ONDISK_H
#define TAPIO_ENRICH_ONDISK_H

#include <stddef.h>

#define TP_K8S_NAME_MAX 256 /* DNS subdomain: 253 */

struct tp_ondisk {
	const char *pod_logs_dir;         /* /var/log/pods; NULL, "" or "off" disables */
	const char *container_logs_dir;   /* /var/log/containers */
	const char *containerd_state_dir; /* /run/containerd */
	const char *docker_data_dir;      /* /var/lib/docker */
};

struct tp_pod_names {
	char namespace[TP_K8S_NAME_MAX];
	char pod[TP_K8S_NAME_MAX];
};

/* Pod name and namespace of a pod uid. 0, -ENOENT when the node does not
 * tell (yet), or another -errno. */
int tp_ondisk_pod(const struct tp_ondisk *d, const char *uid, struct tp_pod_names *out);

/* The name of container id in pod uid (uid may be NULL: not checked). */
int tp_ondisk_container_name(const struct tp_ondisk *d, const char *id, const char *uid,
			     char *name, size_t len);

/* The runtime that keeps state for a bare container id: "docker",
 * "containerd" or NULL. */
const char *tp_ondisk_runtime(const struct tp_ondisk *d, const char *id);

/* Parsing helpers, exposed for tests: "<ns>_<pod>_<uid>" (the uid must
 * match when given); 0 or -EINVAL. */
int tp_ondisk_parse_pod_dir(const char *name, const char *uid, struct tp_pod_names *out);

#endif
