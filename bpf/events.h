/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * events.h - the record format shared by the BPF programs and user space.
 *
 * Every record in the ring buffer starts with struct tp_hdr; hdr.type says
 * which struct follows and hdr.size is the total record size. Only fixed-size
 * types (__u8..__u64 and arrays of them), largest fields first, explicit
 * padding: the layout is the same for clang -target bpf and for gcc on the
 * host, which user space checks with _Static_assert.
 *
 * Event type ids are (category << 8) | subtype and are stable: they are
 * written to raw storage and must never be renumbered.
 */
#ifndef TAPIO_BPF_EVENTS_H
#define TAPIO_BPF_EVENTS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define TP_COMM_LEN 16
#define TP_PATH_MAX 256
#define TP_ARGV_MAX 1024

enum tp_category {
	TP_CAT_NONE = 0,
	TP_CAT_PROCESS = 1,
	TP_CAT_FILE = 2,
	TP_CAT_NETWORK = 3,
	TP_CAT_SECURITY = 4,
	TP_CAT_CONTAINER = 5,
	TP_CAT_MEMORY = 6,
	TP_CAT_MAX = 7,
};

#define TP_TYPE(cat, sub) (((cat) << 8) | (sub))
#define TP_TYPE_CATEGORY(t) ((t) >> 8)

enum tp_event_type_id {
	TP_EV_PROCESS_EXEC = TP_TYPE(TP_CAT_PROCESS, 1),
	TP_EV_PROCESS_FORK = TP_TYPE(TP_CAT_PROCESS, 2),
	TP_EV_PROCESS_EXIT = TP_TYPE(TP_CAT_PROCESS, 3),

	TP_EV_FILE_OPEN = TP_TYPE(TP_CAT_FILE, 1),
	TP_EV_FILE_RENAME = TP_TYPE(TP_CAT_FILE, 2),
	TP_EV_FILE_UNLINK = TP_TYPE(TP_CAT_FILE, 3),
	TP_EV_FILE_CHMOD = TP_TYPE(TP_CAT_FILE, 4),
	TP_EV_FILE_CHOWN = TP_TYPE(TP_CAT_FILE, 5),
	TP_EV_FILE_LINK = TP_TYPE(TP_CAT_FILE, 6),
	TP_EV_FILE_SYMLINK = TP_TYPE(TP_CAT_FILE, 7),
	TP_EV_FILE_MKDIR = TP_TYPE(TP_CAT_FILE, 8),

	TP_EV_NETWORK_CONNECT = TP_TYPE(TP_CAT_NETWORK, 1),
	TP_EV_NETWORK_ACCEPT = TP_TYPE(TP_CAT_NETWORK, 2),
	TP_EV_NETWORK_CLOSE = TP_TYPE(TP_CAT_NETWORK, 3),
	TP_EV_NETWORK_STATE = TP_TYPE(TP_CAT_NETWORK, 4),
	TP_EV_NETWORK_DNS = TP_TYPE(TP_CAT_NETWORK, 5),

	TP_EV_SECURITY_SETUID = TP_TYPE(TP_CAT_SECURITY, 1),
	TP_EV_SECURITY_SETGID = TP_TYPE(TP_CAT_SECURITY, 2),
	TP_EV_SECURITY_CAPSET = TP_TYPE(TP_CAT_SECURITY, 3),
	TP_EV_SECURITY_PTRACE = TP_TYPE(TP_CAT_SECURITY, 4),
	TP_EV_SECURITY_MODULE_LOAD = TP_TYPE(TP_CAT_SECURITY, 5),
	TP_EV_SECURITY_BPF = TP_TYPE(TP_CAT_SECURITY, 6),
	TP_EV_SECURITY_MEMFD_CREATE = TP_TYPE(TP_CAT_SECURITY, 7),
	TP_EV_SECURITY_KILL = TP_TYPE(TP_CAT_SECURITY, 8),

	TP_EV_CONTAINER_SETNS = TP_TYPE(TP_CAT_CONTAINER, 1),
	TP_EV_CONTAINER_UNSHARE = TP_TYPE(TP_CAT_CONTAINER, 2),
	TP_EV_CONTAINER_MOUNT = TP_TYPE(TP_CAT_CONTAINER, 3),
	TP_EV_CONTAINER_CGROUP = TP_TYPE(TP_CAT_CONTAINER, 4),

	TP_EV_MEMORY_OOM = TP_TYPE(TP_CAT_MEMORY, 1),
	TP_EV_MEMORY_MMAP_EXEC = TP_TYPE(TP_CAT_MEMORY, 2),
	TP_EV_MEMORY_PAGE_FAULT = TP_TYPE(TP_CAT_MEMORY, 3),
};

/*
 * Common header of every record (72 bytes).
 *
 * cgroup_id is the task's cgroup in the unified (v2) hierarchy. On v1-only
 * and hybrid machines containers often show only in the v1 hierarchies, so
 * cgroup_v1_id is the task's cgroup in one tracked v1 hierarchy (the one of
 * controller tp_cgroup_v1_subsys, chosen by user space at load); 0 when no
 * v1 hierarchy is tracked. Both are kernfs ids: the inode number of the
 * cgroup's directory under that hierarchy's mount.
 */
struct tp_hdr {
	__u64 ts_ns;        /* CLOCK_BOOTTIME; user space converts to wall clock */
	__u64 cgroup_id;    /* cgroup v2 id of the task */
	__u64 cgroup_v1_id; /* cgroup id in the tracked v1 hierarchy, 0: none */
	__u32 type;      /* enum tp_event_type_id */
	__u32 size;      /* total record size, header included */
	__u32 pid;       /* thread group id */
	__u32 tid;
	__u32 ppid;      /* thread group id of the real parent */
	__u32 uid;
	__u32 gid;
	__u32 cpu;
	char comm[TP_COMM_LEN];
};

/*
 * process.exec. A successful exec is reported from sched_process_exec with
 * ret = 0 and argv read from the new image; a failed one from the syscall
 * exit with ret < 0 and argv as passed. argv holds NUL-separated strings;
 * argv_len counts the bytes used, TP_EXEC_ARGV_TRUNCATED says there was more.
 */
#define TP_EXEC_ARGV_TRUNCATED 0x1
struct tp_exec_event {
	struct tp_hdr hdr;
	__s32 ret;
	__u32 argv_len;
	__u32 flags;
	__u32 loginuid;
	char filename[TP_PATH_MAX];
	char argv[TP_ARGV_MAX];
};

/*
 * process.fork: a new process (not a thread). The header describes the child
 * (pid, ppid = its real parent, comm inherited); parent_pid is the process
 * that called fork/clone, which differs from ppid under CLONE_PARENT.
 */
struct tp_fork_event {
	struct tp_hdr hdr;
	__u32 parent_pid;
	__u32 _pad;
};

/* process.exit: the last thread of a process exits. */
struct tp_exit_event {
	struct tp_hdr hdr;
	__u64 duration_ns; /* since the process started */
	__s32 exit_code;   /* (status >> 8) & 0xff */
	__u32 signal;      /* status & 0x7f, 0 when it exited normally */
	__u32 core_dumped;
	__u32 _pad;
};

/* Counters of records the kernel side could not reserve, per category. */
#define TP_DROP_SLOTS TP_CAT_MAX

#endif /* TAPIO_BPF_EVENTS_H */
