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
	TP_CAT_AGENT = 7, /* the agent's own events, made in user space (agent.drop) */
	TP_CAT_MAX = 8,
};
/* The categories BPF programs report: 1 .. TP_CAT_KERNEL_MAX - 1. */
#define TP_CAT_KERNEL_MAX TP_CAT_AGENT

#define TP_TYPE(cat, sub) (((cat) << 8) | (sub))
#define TP_TYPE_CATEGORY(t) ((t) >> 8)

enum tp_event_type_id {
	TP_EV_PROCESS_EXEC = TP_TYPE(TP_CAT_PROCESS, 1),
	TP_EV_PROCESS_FORK = TP_TYPE(TP_CAT_PROCESS, 2),
	TP_EV_PROCESS_EXIT = TP_TYPE(TP_CAT_PROCESS, 3),
	TP_EV_PROCESS_RENAME = TP_TYPE(TP_CAT_PROCESS, 4),

	TP_EV_FILE_OPEN = TP_TYPE(TP_CAT_FILE, 1),
	TP_EV_FILE_RENAME = TP_TYPE(TP_CAT_FILE, 2),
	TP_EV_FILE_UNLINK = TP_TYPE(TP_CAT_FILE, 3),
	TP_EV_FILE_CHMOD = TP_TYPE(TP_CAT_FILE, 4),
	TP_EV_FILE_CHOWN = TP_TYPE(TP_CAT_FILE, 5),
	TP_EV_FILE_LINK = TP_TYPE(TP_CAT_FILE, 6),
	TP_EV_FILE_SYMLINK = TP_TYPE(TP_CAT_FILE, 7),
	TP_EV_FILE_MKDIR = TP_TYPE(TP_CAT_FILE, 8),
	TP_EV_FILE_UTIMES = TP_TYPE(TP_CAT_FILE, 9),
	TP_EV_FILE_XATTR = TP_TYPE(TP_CAT_FILE, 10),

	TP_EV_NETWORK_CONNECT = TP_TYPE(TP_CAT_NETWORK, 1),
	TP_EV_NETWORK_ACCEPT = TP_TYPE(TP_CAT_NETWORK, 2),
	TP_EV_NETWORK_CLOSE = TP_TYPE(TP_CAT_NETWORK, 3),
	TP_EV_NETWORK_STATE = TP_TYPE(TP_CAT_NETWORK, 4),
	TP_EV_NETWORK_DNS = TP_TYPE(TP_CAT_NETWORK, 5),
	TP_EV_NETWORK_LISTEN = TP_TYPE(TP_CAT_NETWORK, 6),
	TP_EV_NETWORK_STDIO_SOCKET = TP_TYPE(TP_CAT_NETWORK, 7),

	TP_EV_SECURITY_SETUID = TP_TYPE(TP_CAT_SECURITY, 1),
	TP_EV_SECURITY_SETGID = TP_TYPE(TP_CAT_SECURITY, 2),
	TP_EV_SECURITY_CAPSET = TP_TYPE(TP_CAT_SECURITY, 3),
	TP_EV_SECURITY_PTRACE = TP_TYPE(TP_CAT_SECURITY, 4),
	TP_EV_SECURITY_MODULE_LOAD = TP_TYPE(TP_CAT_SECURITY, 5),
	TP_EV_SECURITY_BPF = TP_TYPE(TP_CAT_SECURITY, 6),
	TP_EV_SECURITY_MEMFD_CREATE = TP_TYPE(TP_CAT_SECURITY, 7),
	TP_EV_SECURITY_KILL = TP_TYPE(TP_CAT_SECURITY, 8),
	TP_EV_SECURITY_PROCESS_VM = TP_TYPE(TP_CAT_SECURITY, 9),
	TP_EV_SECURITY_IO_URING_SETUP = TP_TYPE(TP_CAT_SECURITY, 10),
	TP_EV_SECURITY_IO_URING = TP_TYPE(TP_CAT_SECURITY, 11),

	TP_EV_CONTAINER_SETNS = TP_TYPE(TP_CAT_CONTAINER, 1),
	TP_EV_CONTAINER_UNSHARE = TP_TYPE(TP_CAT_CONTAINER, 2),
	TP_EV_CONTAINER_MOUNT = TP_TYPE(TP_CAT_CONTAINER, 3),
	TP_EV_CONTAINER_CGROUP = TP_TYPE(TP_CAT_CONTAINER, 4),
	TP_EV_CONTAINER_UMOUNT = TP_TYPE(TP_CAT_CONTAINER, 5),

	TP_EV_MEMORY_OOM = TP_TYPE(TP_CAT_MEMORY, 1),
	TP_EV_MEMORY_MMAP_EXEC = TP_TYPE(TP_CAT_MEMORY, 2),
	TP_EV_MEMORY_PAGE_FAULT = TP_TYPE(TP_CAT_MEMORY, 3),

	TP_EV_AGENT_DROP = TP_TYPE(TP_CAT_AGENT, 1),
};

/*
 * Common header of every record (72 bytes).
 *
 * cgroup_id is the task's cgroup in the unified (v2) hierarchy. On v1-only
 * and hybrid machines containers often show only in the v1 hierarchies, so
 * cgroup_v1_id is the task's cgroup in one tracked v1 hierarchy (the one of
 * controller tp_cgroup_v1_subsys, chosen by user space at load); 0 when no
 * v1 hierarchy is tracked. Both are kernfs ids: the inode number of the
 * cgroup's directory under that hierarchy's mount. For the current task
 * they come (on x86) from a per-CPU cache that the cgroup tracepoints invalidate
 * (bpf/common.bpf.h): an event between a task's move and the move's
 * tracepoint reports the cgroups the task was in before it.
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
 *
 * What was executed (exe_*, TP_EXE_KNOWN set: successful execs) and how
 * (tty, sessions, standard streams), and the environment variables of an
 * allow-list (env: NUL-separated NAME=value strings, as the new image got
 * them; only listed names, the first occurrence of each). Failed execs
 * have no new image: their records end before env.
 */
#define TP_EXEC_ARGV_TRUNCATED 0x1
#define TP_EXEC_ENV_TRUNCATED  0x2 /* not every variable was looked at, or env was full */

#define TP_EXE_KNOWN	     0x1   /* the exe_* fields describe the executed file */
#define TP_EXE_MEMFD	     0x2   /* a memfd (memfd_create): code on no disk */
#define TP_EXE_DELETED	     0x4   /* unlinked (and no memfd): O_TMPFILE, deleted after open */
#define TP_EXE_OVERLAY	     0x8   /* on an overlay file system (a container's root) */
#define TP_EXE_UPPER_LAYER   0x10  /* overlay: in the upper (writable) layer: created or
				    * modified since the container started ("drift") */
#define TP_EXE_WRITABLE	     0x20  /* the executing user (real uid) may write it */
#define TP_EXE_STDIN_SOCKET  0x40  /* fd 0, 1, 2 of the new image are sockets */
#define TP_EXE_STDOUT_SOCKET 0x80
#define TP_EXE_STDERR_SOCKET 0x100
#define TP_EXE_STDIN_PIPE    0x200 /* fd 0, 1 are pipes or FIFOs: stdin_pipe, stdout_pipe */
#define TP_EXE_STDOUT_PIPE   0x400

#define TP_TTY_NAME_MAX	 32
#define TP_ENV_MAX	 1024 /* bytes of NAME=value strings kept per exec */
#define TP_ENV_NAME_MAX	 32   /* longest allow-listed name, + 1 */
#define TP_ENV_VALUE_MAX 256  /* bytes kept of one NAME=value */
#define TP_ENV_NAMES_MAX 64   /* names in the allow-list */

struct tp_exec_event {
	struct tp_hdr hdr;
	__s32 ret;
	__u32 argv_len;
	__u32 flags;
	__u32 loginuid;
	char filename[TP_PATH_MAX];
	char argv[TP_ARGV_MAX];
	/* Records stored before the exec context end here (1368). */
	__u64 exe_ino;
	__u32 exe_dev;      /* st_dev, userspace encoding */
	__u32 exe_flags;    /* TP_EXE_* */
	__u32 sessionid;    /* audit login session ((__u32)-1: none) */
	__u32 sid;          /* session id: the session leader's pid */
	__u32 env_len;
	__u32 _pad;
	char tty[TP_TTY_NAME_MAX]; /* controlling terminal ("pts/3"); empty: none */
	char old_comm[TP_COMM_LEN]; /* the task's name before the exec */
	char env[TP_ENV_MAX];
	/* Records stored before the pipes end here. The pipe (or named FIFO)
	 * fd 0 reads and fd 1 writes, by inode number: `a | b` gives a's
	 * stdout_pipe == b's stdin_pipe. Successful execs only. */
	__u64 stdin_pipe;
	__u64 stdout_pipe;
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

/*
 * process.rename: a task's name (comm) changed by prctl(PR_SET_NAME) or by a
 * write to /proc/PID/comm or /proc/PID/task/TID/comm (pthread_setname_np).
 * The header is the task that did it; target_* the task renamed (itself or
 * another thread of its process). The rename an exec does is not one of
 * these: process.exec has the name from before (old_comm).
 */
struct tp_rename_event {
	struct tp_hdr hdr;
	__u32 target_pid;
	__u32 target_tid;
	__u16 syscall; /* TP_SYS_PRCTL, TP_SYS_WRITE (write, pwrite, writev...), 0: other */
	__u16 _pad[3];
	char old_comm[TP_COMM_LEN];
	char new_comm[TP_COMM_LEN];
};

/* ------------------------------------------------------------------ */
/* Shared by the syscall-based families. */

#define TP_NAME_MAX 64       /* short names: fstype, module, bpf object names */
#define TP_UNIX_PATH_MAX 108 /* sizeof(sockaddr_un.sun_path) */

/*
 * Which syscall produced an event (field "syscall"): several syscalls map to
 * one subtype (open, openat, openat2, creat -> file.open). Stable numbers,
 * stored in raw records.
 */
enum tp_syscall_id {
	TP_SYS_OPEN = 1,
	TP_SYS_OPENAT = 2,
	TP_SYS_OPENAT2 = 3,
	TP_SYS_CREAT = 4,
	TP_SYS_RENAME = 5,
	TP_SYS_RENAMEAT = 6,
	TP_SYS_RENAMEAT2 = 7,
	TP_SYS_UNLINK = 8,
	TP_SYS_UNLINKAT = 9,
	TP_SYS_RMDIR = 10,
	TP_SYS_CHMOD = 11,
	TP_SYS_FCHMOD = 12,
	TP_SYS_FCHMODAT = 13,
	TP_SYS_FCHMODAT2 = 14,
	TP_SYS_CHOWN = 15,
	TP_SYS_LCHOWN = 16,
	TP_SYS_FCHOWN = 17,
	TP_SYS_FCHOWNAT = 18,
	TP_SYS_LINK = 19,
	TP_SYS_LINKAT = 20,
	TP_SYS_SYMLINK = 21,
	TP_SYS_SYMLINKAT = 22,
	TP_SYS_MKDIR = 23,
	TP_SYS_MKDIRAT = 24,
	TP_SYS_CONNECT = 25,
	TP_SYS_ACCEPT = 26,
	TP_SYS_ACCEPT4 = 27,
	TP_SYS_SENDTO = 28,
	TP_SYS_SENDMSG = 29,
	TP_SYS_SENDMMSG = 30,
	TP_SYS_SETUID = 31,
	TP_SYS_SETREUID = 32,
	TP_SYS_SETRESUID = 33,
	TP_SYS_SETFSUID = 34,
	TP_SYS_SETGID = 35,
	TP_SYS_SETREGID = 36,
	TP_SYS_SETRESGID = 37,
	TP_SYS_SETFSGID = 38,
	TP_SYS_KILL = 39,
	TP_SYS_TKILL = 40,
	TP_SYS_TGKILL = 41,
	TP_SYS_MMAP = 42,
	TP_SYS_MPROTECT = 43,
	TP_SYS_UNSHARE = 44,
	TP_SYS_CLONE = 45,
	TP_SYS_CLONE3 = 46,
	TP_SYS_MOUNT = 47,
	TP_SYS_MOVE_MOUNT = 48,
	TP_SYS_PIDFD_SEND_SIGNAL = 49,
	TP_SYS_UTIMENSAT = 50,
	TP_SYS_UTIMES = 51,
	TP_SYS_FUTIMESAT = 52,
	TP_SYS_UTIME = 53,
	TP_SYS_SETXATTR = 54,
	TP_SYS_LSETXATTR = 55,
	TP_SYS_FSETXATTR = 56,
	TP_SYS_SETXATTRAT = 57,
	TP_SYS_REMOVEXATTR = 58,
	TP_SYS_LREMOVEXATTR = 59,
	TP_SYS_FREMOVEXATTR = 60,
	TP_SYS_REMOVEXATTRAT = 61,
	TP_SYS_LISTEN = 62,
	TP_SYS_DUP = 63,
	TP_SYS_DUP2 = 64,
	TP_SYS_DUP3 = 65,
	TP_SYS_FCNTL = 66,
	TP_SYS_PROCESS_VM_READV = 67,
	TP_SYS_PROCESS_VM_WRITEV = 68,
	TP_SYS_PRCTL = 69,
	TP_SYS_WRITE = 70,
	TP_SYS_IO_URING_SETUP = 71,
	TP_SYS_MAX = 72,
};

/* path_flags bits: how far a path could be resolved. The first path of an
 * event uses the low byte, the second (rename, link, symlink, mount) the
 * next one. */
#define TP_PATH_TRUNCATED 0x1  /* longer than the field or deeper than the walk */
#define TP_PATH_UNRESOLVED 0x2 /* relative and its base unknown: as passed */
#define TP_PATH2_SHIFT 8

/* ------------------------------------------------------------------ */
/* file.* : every path is absolute where it could be resolved. A successful
 * open reports the opened file's own path (symlinks resolved, as the kernel
 * sees it from the task's root); other calls report the path as passed,
 * made absolute against the cwd or the directory fd. */

/* A file.open record ends with its path: hdr.size ends it at the 8-byte
 * word that holds the path's NUL (112 to 360 bytes), or it is whole (368)
 * when proc_target_pid is set. The kernel reserves it in a size class at
 * least that long (bpf/file.bpf.c), and readers take a string cut by the
 * record's end as ending there (src/events/event.h). */
struct tp_file_open_event {
	struct tp_hdr hdr;
	__u64 ino;   /* inode of the opened file; 0 on failure */
	__s32 ret;   /* fd, or -errno */
	__u32 flags; /* O_* as passed */
	__u32 mode;  /* creation mode as passed */
	__u32 dev;   /* st_dev of the opened file (userspace encoding); 0 on failure */
	__u32 path_flags;
	__u16 syscall;
	__u16 _pad;
	char path[TP_PATH_MAX];
	/* Records stored before proc_target_pid end at most here (360). */
	__u32 proc_target_pid; /* /proc/PID/{mem,maps,environ} of another process: its tgid; else 0 */
	__u32 _pad2;
};

/* The size of a record of struct type st that ends with its path (field
 * path), for a path of len bytes (< TP_PATH_MAX): up to the 8-byte word
 * that holds its NUL. */
#define TP_PATH_RECORD_SIZE(st, len) (offsetof(st, path) + ((len) / 8 + 1) * 8)
#define TP_FILE_OPEN_SIZE(len)	     TP_PATH_RECORD_SIZE(struct tp_file_open_event, len)

/* file.rename and file.link: two paths. */
struct tp_file_rename_event {
	struct tp_hdr hdr;
	__s32 ret;
	__u32 flags; /* renameat2 RENAME_*, linkat AT_* */
	__u32 path_flags;
	__u16 syscall;
	__u16 _pad;
	char oldpath[TP_PATH_MAX];
	char newpath[TP_PATH_MAX];
};

/* file.unlink (unlink, unlinkat, rmdir: flags has AT_REMOVEDIR for a
 * directory), file.mkdir (mode), file.chmod (mode). As file.open's, the
 * record ends at the 8-byte word that holds the path's NUL
 * (TP_PATH_RECORD_SIZE: 104 to 352 bytes); so do file.chown's (104 to
 * 352) and file.utimes' (128 to 376). */
struct tp_file_path_event {
	struct tp_hdr hdr;
	__s32 ret;
	__u32 mode;  /* chmod, mkdir: mode as passed */
	__u32 flags; /* AT_* */
	__u32 path_flags;
	__u16 syscall;
	__u16 _pad[3];
	char path[TP_PATH_MAX];
};

/* file.chown: uid/gid as passed, (__u32)-1 leaves one unchanged. */
struct tp_file_chown_event {
	struct tp_hdr hdr;
	__s32 ret;
	__u32 uid;
	__u32 gid;
	__u32 flags;
	__u32 path_flags;
	__u16 syscall;
	__u16 _pad;
	char path[TP_PATH_MAX];
};

/* file.symlink: target is the link's content as given, never resolved. */
struct tp_file_symlink_event {
	struct tp_hdr hdr;
	__s32 ret;
	__u32 path_flags; /* of linkpath */
	__u16 syscall;
	__u16 _pad[3];
	char target[TP_PATH_MAX];
	char linkpath[TP_PATH_MAX];
};

/*
 * file.utimes: utimensat (futimens is utimensat on a descriptor), utimes,
 * futimesat, utime. The times as passed, in seconds and nanoseconds
 * (microseconds of utimes and futimesat converted); time_flags says which
 * one is set to the current time (no times passed, or UTIME_NOW) and which
 * is left unchanged (UTIME_OMIT): a time given explicitly has neither bit.
 */
#define TP_UTIME_ATIME_NOW  0x1
#define TP_UTIME_ATIME_OMIT 0x2
#define TP_UTIME_MTIME_NOW  0x4
#define TP_UTIME_MTIME_OMIT 0x8
struct tp_file_utimes_event {
	struct tp_hdr hdr;
	__s64 atime_sec;
	__s64 mtime_sec;
	__u32 atime_nsec;
	__u32 mtime_nsec;
	__s32 ret;
	__u32 flags;      /* AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH */
	__u32 time_flags; /* TP_UTIME_* */
	__u32 path_flags;
	__u16 syscall;
	__u16 _pad[3];
	char path[TP_PATH_MAX];
};

/*
 * file.xattr: an extended attribute set or removed (setxattr, lsetxattr,
 * fsetxattr, setxattrat, and the removexattr family). When
 * security.capability is set (setcap), the file capabilities in the value
 * are decoded: TP_XATTR_CAPS says the cap_* fields hold them.
 */
#define TP_XATTR_SET	    1
#define TP_XATTR_REMOVE	    2
#define TP_XATTR_CAPS	    0x1 /* xattr_flags: cap_* decoded from the value */
#define TP_XATTR_NAME_MAX   256 /* XATTR_NAME_MAX + 1 */
struct tp_file_xattr_event {
	struct tp_hdr hdr;
	__u64 cap_permitted;   /* file capabilities (bit n = capability n) */
	__u64 cap_inheritable;
	__u32 cap_effective;   /* VFS_CAP_FLAGS_EFFECTIVE: raised at exec */
	__u32 cap_rootid;      /* VFS_CAP_REVISION_3: the user namespace's root uid */
	__s32 ret;
	__u32 flags;           /* XATTR_CREATE, XATTR_REPLACE */
	__u32 size;            /* of the value */
	__u32 at_flags;        /* AT_SYMLINK_NOFOLLOW (l*xattr, *xattrat), AT_EMPTY_PATH */
	__u32 path_flags;
	__u32 xattr_flags;     /* TP_XATTR_CAPS */
	__u16 syscall;
	__u8 op;               /* TP_XATTR_SET, TP_XATTR_REMOVE */
	__u8 _pad[5];
	char name[TP_XATTR_NAME_MAX];
	char path[TP_PATH_MAX];
};

/* ------------------------------------------------------------------ */
/* network.* : addresses in network order as 16 bytes (IPv4 in the first
 * 4), ports in host order. saddr/sport are the local end, daddr/dport the
 * remote end, for connect and accept alike. */

/*
 * network.connect, network.accept, and the events about one socket:
 * network.listen (the bound local end; backlog) and network.stdio_socket
 * (a socket duplicated onto standard input, output or error: fd is the
 * descriptor duplicated, ret the new one, 0, 1 or 2; unix_path is the
 * peer's bound path, else the socket's own).
 */
struct tp_net_conn_event {
	struct tp_hdr hdr;
	__u8 saddr[16];
	__u8 daddr[16];
	__s32 ret;      /* connect: 0 or -errno (-EINPROGRESS when non-blocking); accept: the new fd */
	__s32 fd;       /* connect: the socket; accept: the listening socket */
	__u16 family;   /* AF_INET, AF_INET6, AF_UNIX */
	__u16 sport;
	__u16 dport;
	__u16 protocol; /* IPPROTO_* (0 for AF_UNIX) */
	__u16 socktype; /* SOCK_STREAM, SOCK_DGRAM... */
	__u16 syscall;
	__u32 backlog;  /* listen: as passed; 0 otherwise */
	char unix_path[TP_UNIX_PATH_MAX + 4]; /* AF_UNIX: abstract names start with '@' */
};

/* network.state: a TCP socket changes state. The header describes the
 * socket's owner (the task that connected, listened or accepted it) when
 * known; state changes that happen in softirq context for a socket not yet
 * accepted have owner_known = 0 and a zeroed header task. */
struct tp_net_state_event {
	struct tp_hdr hdr;
	__u8 saddr[16];
	__u8 daddr[16];
	__u64 sock;     /* kernel socket address: correlates the events of one socket */
	__u32 oldstate; /* TCP_* */
	__u32 newstate;
	__u16 family;
	__u16 sport;
	__u16 dport;
	__u16 protocol;
	__u32 owner_known;
	__u32 _pad;
};

/* network.close: a TCP connection ends (its socket reaches TCP_CLOSE). */
struct tp_net_close_event {
	struct tp_hdr hdr;
	__u8 saddr[16];
	__u8 daddr[16];
	__u64 sock;
	__u64 bytes_sent;     /* acked by the peer */
	__u64 bytes_received;
	__u64 duration_ns;    /* since the owner was first seen; 0 if unknown */
	__u32 oldstate;
	__u32 owner_known;
	__u16 family;
	__u16 sport;
	__u16 dport;
	__u16 protocol;
};

/* network.dns: a DNS query sent over UDP (sendto, sendmsg, sendmmsg). */
struct tp_net_dns_event {
	struct tp_hdr hdr;
	__u8 daddr[16];
	__s32 ret;     /* bytes sent, or -errno */
	__u16 family;
	__u16 dport;
	__u16 qtype;   /* A = 1, AAAA = 28... */
	__u16 qclass;
	__u16 id;      /* DNS transaction id */
	__u16 syscall;
	char qname[TP_PATH_MAX];
};

/* ------------------------------------------------------------------ */
/* security.* */

/* security.setuid and security.setgid: ids before and after, and the
 * arguments as passed ((__u32)-1: leave unchanged). The header's uid/gid
 * are those after the call. */
struct tp_setid_event {
	struct tp_hdr hdr;
	__s32 ret;
	__u32 syscall;
	__u32 arg[3];
	__u32 old_r, old_e, old_s, old_fs;
	__u32 new_r, new_e, new_s, new_fs;
	__u32 _pad;
};

/* security.capset: capability sets before and after (bit n = capability n). */
struct tp_capset_event {
	struct tp_hdr hdr;
	__u64 old_effective;
	__u64 old_permitted;
	__u64 old_inheritable;
	__u64 effective;   /* as requested */
	__u64 permitted;
	__u64 inheritable;
	__s32 ret;
	__s32 target_pid;  /* 0: the caller */
};

/* security.ptrace */
struct tp_ptrace_event {
	struct tp_hdr hdr;
	__u64 addr;
	__u64 data;
	__s64 ret;
	__u32 request;     /* PTRACE_* */
	__s32 target_pid;
};

/* security.module_load: a kernel module is loaded. */
struct tp_module_event {
	struct tp_hdr hdr;
	__u64 taints;
	char name[TP_NAME_MAX];
};

/* security.bpf: a bpf(2) command (the commands reported are a setting). */
struct tp_bpf_event {
	struct tp_hdr hdr;
	__s32 ret;
	__u32 cmd;         /* BPF_PROG_LOAD... */
	__u32 prog_type;   /* BPF_PROG_LOAD */
	__u32 map_type;    /* BPF_MAP_CREATE */
	__u32 insn_cnt;    /* BPF_PROG_LOAD */
	__u32 attach_type; /* BPF_PROG_LOAD (expected), BPF_PROG_ATTACH, BPF_LINK_CREATE */
	char name[16];     /* program or map name (BPF_OBJ_NAME_LEN) */
};

/* security.memfd_create */
struct tp_memfd_event {
	struct tp_hdr hdr;
	__s32 ret;   /* fd or -errno */
	__u32 flags; /* MFD_* */
	char name[TP_PATH_MAX];
};

/*
 * security.kill: kill, tkill, tgkill, pidfd_send_signal. A pidfd is
 * resolved to the pid it names where pidfds are pidfs files (Linux 6.9+):
 * target_pid for a process pidfd, target_tid for a thread one (PIDFD_THREAD);
 * both 0 when it could not be resolved (older kernels, a /proc/PID
 * directory fd, not a pidfd at all), and fd says which descriptor it was.
 */
struct tp_kill_event {
	struct tp_hdr hdr;
	__s32 ret;
	__u32 sig;
	__s32 target_pid; /* kill: pid as passed (< 0: a process group); tgkill: tgid */
	__s32 target_tid; /* tkill, tgkill */
	__u16 syscall;
	__u16 _pad[3];
	/* Records stored before pidfd_send_signal was reported end here (96). */
	__s32 fd;         /* pidfd_send_signal: the pidfd as passed; -1 otherwise */
	__u32 flags;      /* pidfd_send_signal: PIDFD_SIGNAL_* */
};

/* security.process_vm: process_vm_readv / process_vm_writev, the memory of
 * another process read or written directly. */
struct tp_process_vm_event {
	struct tp_hdr hdr;
	__u64 remote_addr;  /* base of the first remote iovec */
	__u64 remote_len;   /* its length */
	__s64 ret;          /* bytes transferred, or -errno */
	__s32 target_pid;   /* as passed (in the caller's pid namespace) */
	__u32 local_iovcnt;
	__u32 remote_iovcnt;
	__u16 syscall;      /* TP_SYS_PROCESS_VM_READV, TP_SYS_PROCESS_VM_WRITEV */
	__u16 _pad;
};

/* security.io_uring_setup: io_uring_setup(2), a ring created (or refused:
 * EPERM where kernel.io_uring_disabled forbids it). Sizes and flags as the
 * kernel set them up. */
struct tp_io_uring_setup_event {
	struct tp_hdr hdr;
	__s32 ret;            /* the ring's fd, or -errno */
	__u32 entries;        /* as asked */
	__u32 sq_entries;
	__u32 cq_entries;
	__u32 flags;          /* IORING_SETUP_* */
	__u32 sq_thread_cpu;  /* IORING_SETUP_SQ_AFF */
	__u32 sq_thread_idle; /* IORING_SETUP_SQPOLL: ms before the thread sleeps */
	__u32 features;       /* IORING_FEAT_* */
};

/*
 * security.io_uring: an operation submitted through a ring that touches
 * files or the network (which opcodes is a setting). Reported when it is
 * submitted: it has not run yet, so there is no result. path is the file
 * it names, as the process gave it (a relative one is relative to dfd);
 * addr/port the address it names (connect, a send to one), else a socket
 * fd's local end (listen, accept) or peer (TP_IOU_ADDR: known).
 */
#define TP_IOU_SQ_THREAD  0x1 /* submitted by the ring's SQPOLL kernel thread */
#define TP_IOU_FIXED_FILE 0x2 /* fd indexes the ring's registered files */
#define TP_IOU_ADDR	  0x4 /* addr and port hold an address */
struct tp_io_uring_event {
	struct tp_hdr hdr;
	__u64 user_data;
	__u8 addr[16];
	__s32 fd;
	__s32 dfd;         /* *at ops: the directory of path */
	__u32 op_flags;    /* openat: O_*; renameat: RENAME_*; unlinkat, linkat, statx: AT_*;
			    * socket: the type; xattr ops: XATTR_* */
	__u32 mode;        /* openat, mkdirat */
	__u32 sqe_flags;   /* IOSQE_* */
	__u32 io_flags;    /* TP_IOU_* */
	__u32 path_flags;  /* 0 (names are kept as given) */
	__u16 family;      /* of addr; socket: the domain */
	__u16 port;
	__u16 protocol;    /* socket */
	__u8 op;           /* IORING_OP_* */
	__u8 _pad[5];
	char path[TP_PATH_MAX];
	char path2[TP_PATH_MAX]; /* renameat, linkat: the new path; symlinkat: the link (path is
				  * then its target, as given); xattr ops: the attribute's name */
};

/* ------------------------------------------------------------------ */
/* container.* */

/* container.setns */
struct tp_setns_event {
	struct tp_hdr hdr;
	__u64 ns_ino;  /* inode number of the namespace the fd refers to (as in /proc/PID/ns) */
	__s32 ret;
	__s32 fd;
	__u32 nstype;  /* CLONE_NEW*, 0: any */
	__u32 _pad;
};

/*
 * container.unshare: unshare(2), and clone(2) / clone3(2) with CLONE_NEW*
 * flags (a process started in new namespaces, as container runtimes do).
 * A clone is reported once, from the caller: ret is the child's pid (in the
 * caller's pid namespace) or -errno.
 */
struct tp_unshare_event {
	struct tp_hdr hdr;
	__s32 ret;
	__u32 flags;    /* CLONE_* (clone: without the exit signal byte; clone3: bits 0-31) */
	/* Records stored before clone was reported end here (min_size 80). */
	__u16 syscall;  /* TP_SYS_UNSHARE, TP_SYS_CLONE, TP_SYS_CLONE3 */
	__u16 _pad[3];
};

/*
 * container.mount: mount(2), and move_mount(2) of the new mount API (the
 * step that attaches a mount made by fsopen/fsconfig/fsmount, or cloned by
 * open_tree, to a path). target is absolute where it could be resolved.
 * move_mount of a mount fd: fstype and source are the mount's (its
 * superblock's type and device name), flags its per-mount attributes as
 * MS_* (what fsmount / mount_setattr gave it); move_mount of a path: source
 * is that path, fstype and flags are empty.
 */
struct tp_mount_event {
	struct tp_hdr hdr;
	__u64 flags;   /* MS_* */
	__s32 ret;
	__u32 path_flags; /* of target; << TP_PATH2_SHIFT: of source (move_mount of a path) */
	char fstype[TP_NAME_MAX];
	char source[TP_PATH_MAX];
	char target[TP_PATH_MAX];
	/* Records stored before move_mount was reported end here (664). */
	__u32 move_flags; /* move_mount: MOVE_MOUNT_* */
	__u16 syscall;    /* TP_SYS_MOUNT, TP_SYS_MOVE_MOUNT */
	__u16 _pad;
};

/* container.umount: umount2(2). target is the path as passed, made
 * absolute against the cwd (the mount is gone by the exit). */
struct tp_umount_event {
	struct tp_hdr hdr;
	__s32 ret;
	__u32 flags;      /* MNT_FORCE, MNT_DETACH, MNT_EXPIRE, UMOUNT_NOFOLLOW */
	__u32 path_flags; /* of target */
	__u32 _pad;
	char target[TP_PATH_MAX];
};

/* container.cgroup: a cgroup is created, removed, or a task attached. */
#define TP_CGROUP_MKDIR 1
#define TP_CGROUP_RMDIR 2
#define TP_CGROUP_ATTACH 3
struct tp_cgroup_event {
	struct tp_hdr hdr;
	__u64 cgroup_id;    /* the cgroup's id (kernfs node id) */
	__u32 op;           /* TP_CGROUP_* */
	__u32 hierarchy_id; /* 0 on the v2 hierarchy */
	__u32 level;        /* depth below the hierarchy's root */
	__u32 target_pid;   /* attach: the task moved (thread group id) */
	__u32 threadgroup;  /* attach: the whole process moved */
	__u32 _pad;
	char target_comm[TP_COMM_LEN];
	char path[TP_PATH_MAX];
};

/* ------------------------------------------------------------------ */
/* memory.* */

/* memory.oom: the OOM killer picked a victim. The header describes the
 * task that ran the OOM killer; the victim is in victim_*. Sizes in kB. */
struct tp_oom_event {
	struct tp_hdr hdr;
	__u64 total_vm_kb;
	__u64 anon_rss_kb;
	__u64 file_rss_kb;
	__u64 shmem_rss_kb;
	__u64 pgtables_kb;
	__u32 victim_pid;
	__u32 victim_uid;
	__s32 oom_score_adj;
	__u32 _pad;
	char victim_comm[TP_COMM_LEN];
};

/* memory.mmap_exec: an executable mapping that is anonymous or writable
 * (mmap), or memory made executable that is anonymous or writable
 * (mprotect). */
struct tp_mmap_exec_event {
	struct tp_hdr hdr;
	__u64 addr;      /* mmap: the address returned; mprotect: start */
	__u64 len;
	__s32 ret;       /* 0 or -errno */
	__u32 prot;      /* PROT_* */
	__u32 flags;     /* mmap MAP_* */
	__s32 fd;        /* mmap: -1 when anonymous */
	__u32 anonymous; /* no file behind the memory */
	__u32 path_flags;
	__u16 syscall;
	__u16 _pad[3];
	char path[TP_PATH_MAX]; /* the mapped file, when there is one */
};

/* memory.page_fault: one sampled user-space page fault (1 in sample_period
 * on each CPU). */
struct tp_page_fault_event {
	struct tp_hdr hdr;
	__u64 addr;          /* faulting address */
	__u64 ip;            /* user instruction pointer */
	__u64 sample_period;
};

/*
 * agent.drop, made by the agent (never by BPF): the kernel could not queue
 * `count` records of category `lost_category` (its ring buffer was full) in
 * the `window_ns` before this event, `total` since the agent started. Rules
 * and outputs learn that detections were blind for that time.
 */
struct tp_agent_drop_event {
	struct tp_hdr hdr;
	__u64 count;
	__u64 window_ns;
	__u64 total;
	char lost_category[16];
};

/* ------------------------------------------------------------------ */
/* In-kernel filtering, shared by every family. */

/* Counters of records the kernel side could not reserve, per category. */
#define TP_DROP_SLOTS TP_CAT_KERNEL_MAX

/*
 * What the kernel side did with each event, per category, in a per-CPU map
 * (slot = category * TP_KSTAT_N + reason). For every category:
 *   events = emitted + ring-full drops (tp_drops) + the filtered reasons.
 * The agent's own activity is never an event and is not counted.
 */
enum tp_kstat {
	TP_KSTAT_EMITTED = 0, /* submitted to the ring buffer */
	TP_KSTAT_COMM,        /* comm in the exclude list */
	TP_KSTAT_PATH,        /* every path under an excluded prefix */
	TP_KSTAT_FAILED,      /* a failed syscall, and its category drops failures */
	TP_KSTAT_SAMPLED,     /* not the 1 in N kept by per-category sampling */
	TP_KSTAT_SETTING,     /* a subtype setting (e.g. bpf commands not reported) */
	TP_KSTAT_N,
};
#define TP_KSTAT_SLOTS (TP_CAT_KERNEL_MAX * TP_KSTAT_N)

/* tp_settings.flags: a list has entries, so its map is worth a lookup;
 * PAUSED: the agent is stopping, no program records anything (the counters
 * are final once the ring is drained; detaching comes after the exit). */
#define TP_SET_EXCLUDE_COMM 0x1
#define TP_SET_EXCLUDE_PATH 0x2
#define TP_SET_PAUSED 0x4
#define TP_SET_EXEC_ENV	    0x8 /* the environment allow-list has names */

/* Runtime-changeable settings: one entry of an array map, written by user
 * space whenever they change. */
struct tp_settings {
	__u64 bpf_cmd_mask;            /* bit (1 << cmd): security.bpf commands reported */
	__u64 io_uring_op_mask;        /* bit (1 << IORING_OP_*): security.io_uring ops reported */
	__u32 sample_rate[TP_CAT_KERNEL_MAX]; /* keep 1 in N events of a category; 0 or 1: all */
	__u32 drop_failed;             /* bit (1 << category): drop failed syscalls */
	__u32 flags;                   /* TP_SET_* */
	__u32 _pad;
};

#define TP_EXCLUDE_MAX 64       /* entries of each exclude list */
#define TP_PATH_PREFIX_MAX 128  /* bytes of a path compared with exclude prefixes */

/* The environment allow-list of process.exec: a hash of names (key: the
 * name, NUL-padded) and the set of the names' first two bytes, which most
 * variables fail at the cost of a bit test. */
struct tp_env_key {
	char name[TP_ENV_NAME_MAX];
};
#define TP_ENV_PREFIX_WORDS 1024 /* 65536 bits: (byte0 << 8) | byte1 */
struct tp_env_prefix {
	__u64 bits[TP_ENV_PREFIX_WORDS];
};

/* Key of the path-prefix exclude map (an LPM trie over the path's bytes). */
struct tp_path_key {
	__u32 prefixlen; /* in bits */
	char path[TP_PATH_PREFIX_MAX];
};


#endif /* TAPIO_BPF_EVENTS_H */
