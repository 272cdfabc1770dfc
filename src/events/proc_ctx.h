/*
 * events/proc_ctx.h - what enrichment knows about the process behind an event: its
 * executable and arguments, its parent and ancestors, its container and its
 * Kubernetes pod. The formatters, the Lua bridge and the gRPC encoder read
 * it from tp_event_meta.proc.
 *
 * Unknown stays unknown: a NULL string or pointer (absent in JSON, nil in
 * Lua), never an empty or made-up value. Everything is borrowed from the
 * enrichment stage for one trip of the event through the pipeline; an
 * output that keeps data past its emit call copies it.
 *
 * JSON (nested objects, absent when unknown):
 *   "exe": "/usr/bin/bash",
 *   "parent": {"pid": 1, "comm": "systemd", "exe": "/usr/lib/systemd/systemd"},
 *   "ancestors": [{"pid": ..., "comm": ..., "exe": ...}, ...],  (process.* events)
 *   "container": {"id": "3f0a...", "runtime": "containerd"},
 *   "k8s": {"pod": "web-0", "namespace": "shop", "pod_uid": "7e8d...",
 *           "container": "nginx", "qos": "Burstable"}
 * Lua: e.exe, e.argv, e.started, e.parent.pid/.comm/.exe, e.ancestors[i].pid/.comm/.exe,
 * e.container.id/.runtime, e.k8s.pod/.namespace/.pod_uid/.container/.qos.
 */
#ifndef TAPIO_PROC_CTX_H
#define TAPIO_PROC_CTX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A process of the event's ancestry. */
struct tp_proc_ref {
	uint32_t pid;
	const char *comm; /* NULL when unknown */
	const char *exe;  /* NULL when unknown */
};

struct tp_container_ctx {
	const char *id;      /* full id (64 hex), or the machine/container name for
			      * systemd-nspawn and LXC */
	const char *runtime; /* docker, containerd, cri-o, podman, systemd-nspawn,
			      * lxc; NULL when the node cannot tell */
};

struct tp_k8s_ctx {
	const char *pod;       /* pod name */
	const char *namespace;
	const char *pod_uid;
	const char *container; /* the container's name in the pod spec */
	const char *qos;       /* Guaranteed, Burstable, BestEffort */
};

struct tp_proc_ctx {
	/* The executable: the path the kernel executed (as the exec call named
	 * it) or, for processes running when the agent started, /proc/PID/exe. */
	const char *exe;
	/* The arguments, NUL-separated like the exec event's argv field, at
	 * most the configured bytes (argv_truncated says more were cut). */
	const char *argv;
	uint32_t argv_len;
	bool argv_truncated;
	/* The parent (pid from the event's ppid); NULL when ppid is 0. */
	const struct tp_proc_ref *parent;
	/* The parent's ancestors, nearest first (grandparent, ...), up to the
	 * configured depth; the chain stops at the first unknown process. */
	const struct tp_proc_ref *ancestors;
	size_t nancestors;
	const struct tp_container_ctx *container; /* NULL: not in a container (or unknown) */
	const struct tp_k8s_ctx *k8s;             /* NULL: not in a pod (or unknown) */
	/* When the process started (its fork, or /proc's start time for one
	 * running when the agent started), in the clock of the record
	 * headers' ts_ns (CLOCK_BOOTTIME); 0 when unknown. Lua only:
	 * e.started, in the wall clock of e.ts. */
	uint64_t start_ns;
	/* Nonzero: the enrichment's count of changes to the processes it
	 * describes (an entry or image freed, a comm changed). Two contexts
	 * with the same epoch and the same pointers to exe, argv and the
	 * processes' comm and exe show the same strings, so a formatter may
	 * keep what it made of them. 0: unknown (a context built or copied
	 * elsewhere), nothing kept. */
	uint64_t epoch;
};

#endif
