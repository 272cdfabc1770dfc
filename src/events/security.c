/* Descriptors of the security family: setuid, setgid, capset, ptrace,
 * module_load, bpf, memfd_create, kill (and pidfd_send_signal), process_vm,
 * io_uring_setup, io_uring. The bpf(2) command names also serve
 * the -k bpf_commands setting. */
#include "events/types.h"

_Static_assert(sizeof(struct tp_setid_event) == 128, "layout shared with BPF");
_Static_assert(sizeof(struct tp_capset_event) == 128, "layout shared with BPF");
_Static_assert(sizeof(struct tp_ptrace_event) == 104, "layout shared with BPF");
_Static_assert(sizeof(struct tp_module_event) == 144, "layout shared with BPF");
_Static_assert(sizeof(struct tp_bpf_event) == 112, "layout shared with BPF");
_Static_assert(sizeof(struct tp_memfd_event) == 336, "layout shared with BPF");
_Static_assert(sizeof(struct tp_kill_event) == 104, "layout shared with BPF");
_Static_assert(offsetof(struct tp_kill_event, fd) == 96, "kill records before pidfds end at 96");
_Static_assert(sizeof(struct tp_process_vm_event) == 112, "layout shared with BPF");
_Static_assert(sizeof(struct tp_io_uring_setup_event) == 104, "layout shared with BPF");
_Static_assert(sizeof(struct tp_io_uring_event) == 648, "layout shared with BPF");

/* bpf(2) commands: numbers are ABI, listed here so that newer commands are
 * named even when the build host's headers are older. */
const struct tp_sym tp_bpf_cmd_syms[] = {
	{ 0, "BPF_MAP_CREATE" },
	{ 1, "BPF_MAP_LOOKUP_ELEM" },
	{ 2, "BPF_MAP_UPDATE_ELEM" },
	{ 3, "BPF_MAP_DELETE_ELEM" },
	{ 4, "BPF_MAP_GET_NEXT_KEY" },
	{ 5, "BPF_PROG_LOAD" },
	{ 6, "BPF_OBJ_PIN" },
	{ 7, "BPF_OBJ_GET" },
	{ 8, "BPF_PROG_ATTACH" },
	{ 9, "BPF_PROG_DETACH" },
	{ 10, "BPF_PROG_TEST_RUN" },
	{ 11, "BPF_PROG_GET_NEXT_ID" },
	{ 12, "BPF_MAP_GET_NEXT_ID" },
	{ 13, "BPF_PROG_GET_FD_BY_ID" },
	{ 14, "BPF_MAP_GET_FD_BY_ID" },
	{ 15, "BPF_OBJ_GET_INFO_BY_FD" },
	{ 16, "BPF_PROG_QUERY" },
	{ 17, "BPF_RAW_TRACEPOINT_OPEN" },
	{ 18, "BPF_BTF_LOAD" },
	{ 19, "BPF_BTF_GET_FD_BY_ID" },
	{ 20, "BPF_TASK_FD_QUERY" },
	{ 21, "BPF_MAP_LOOKUP_AND_DELETE_ELEM" },
	{ 22, "BPF_MAP_FREEZE" },
	{ 23, "BPF_BTF_GET_NEXT_ID" },
	{ 24, "BPF_MAP_LOOKUP_BATCH" },
	{ 25, "BPF_MAP_LOOKUP_AND_DELETE_BATCH" },
	{ 26, "BPF_MAP_UPDATE_BATCH" },
	{ 27, "BPF_MAP_DELETE_BATCH" },
	{ 28, "BPF_LINK_CREATE" },
	{ 29, "BPF_LINK_UPDATE" },
	{ 30, "BPF_LINK_GET_FD_BY_ID" },
	{ 31, "BPF_LINK_GET_NEXT_ID" },
	{ 32, "BPF_ENABLE_STATS" },
	{ 33, "BPF_ITER_CREATE" },
	{ 34, "BPF_LINK_DETACH" },
	{ 35, "BPF_PROG_BIND_MAP" },
	{ 36, "BPF_TOKEN_CREATE" },
	{ 0, NULL },
};

/* Capabilities as bits of a 64-bit set (linux/capability.h numbers). */
#define CAP(n, name) { 1ull << (n), name }
const struct tp_sym tp_cap_syms[] = {
	CAP(0, "CAP_CHOWN"),            CAP(1, "CAP_DAC_OVERRIDE"),   CAP(2, "CAP_DAC_READ_SEARCH"),
	CAP(3, "CAP_FOWNER"),           CAP(4, "CAP_FSETID"),         CAP(5, "CAP_KILL"),
	CAP(6, "CAP_SETGID"),           CAP(7, "CAP_SETUID"),         CAP(8, "CAP_SETPCAP"),
	CAP(9, "CAP_LINUX_IMMUTABLE"),  CAP(10, "CAP_NET_BIND_SERVICE"), CAP(11, "CAP_NET_BROADCAST"),
	CAP(12, "CAP_NET_ADMIN"),       CAP(13, "CAP_NET_RAW"),       CAP(14, "CAP_IPC_LOCK"),
	CAP(15, "CAP_IPC_OWNER"),       CAP(16, "CAP_SYS_MODULE"),    CAP(17, "CAP_SYS_RAWIO"),
	CAP(18, "CAP_SYS_CHROOT"),      CAP(19, "CAP_SYS_PTRACE"),    CAP(20, "CAP_SYS_PACCT"),
	CAP(21, "CAP_SYS_ADMIN"),       CAP(22, "CAP_SYS_BOOT"),      CAP(23, "CAP_SYS_NICE"),
	CAP(24, "CAP_SYS_RESOURCE"),    CAP(25, "CAP_SYS_TIME"),      CAP(26, "CAP_SYS_TTY_CONFIG"),
	CAP(27, "CAP_MKNOD"),           CAP(28, "CAP_LEASE"),         CAP(29, "CAP_AUDIT_WRITE"),
	CAP(30, "CAP_AUDIT_CONTROL"),   CAP(31, "CAP_SETFCAP"),       CAP(32, "CAP_MAC_OVERRIDE"),
	CAP(33, "CAP_MAC_ADMIN"),       CAP(34, "CAP_SYSLOG"),        CAP(35, "CAP_WAKE_ALARM"),
	CAP(36, "CAP_BLOCK_SUSPEND"),   CAP(37, "CAP_AUDIT_READ"),    CAP(38, "CAP_PERFMON"),
	CAP(39, "CAP_BPF"),             CAP(40, "CAP_CHECKPOINT_RESTORE"),
	{ 0, NULL },
};
#undef CAP

static const struct tp_sym ptrace_syms[] = {
	{ 0, "PTRACE_TRACEME" },     { 1, "PTRACE_PEEKTEXT" },    { 2, "PTRACE_PEEKDATA" },
	{ 3, "PTRACE_PEEKUSER" },    { 4, "PTRACE_POKETEXT" },    { 5, "PTRACE_POKEDATA" },
	{ 6, "PTRACE_POKEUSER" },    { 7, "PTRACE_CONT" },        { 8, "PTRACE_KILL" },
	{ 9, "PTRACE_SINGLESTEP" },  { 12, "PTRACE_GETREGS" },    { 13, "PTRACE_SETREGS" },
	{ 14, "PTRACE_GETFPREGS" },  { 15, "PTRACE_SETFPREGS" },  { 16, "PTRACE_ATTACH" },
	{ 17, "PTRACE_DETACH" },     { 24, "PTRACE_SYSCALL" },    { 0x4200, "PTRACE_SETOPTIONS" },
	{ 0x4201, "PTRACE_GETEVENTMSG" }, { 0x4202, "PTRACE_GETSIGINFO" },
	{ 0x4203, "PTRACE_SETSIGINFO" }, { 0x4204, "PTRACE_GETREGSET" },
	{ 0x4205, "PTRACE_SETREGSET" }, { 0x4206, "PTRACE_SEIZE" }, { 0x4207, "PTRACE_INTERRUPT" },
	{ 0x4208, "PTRACE_LISTEN" },  { 0x4209, "PTRACE_PEEKSIGINFO" },
	{ 0, NULL },
};

static const struct tp_sym bpf_prog_type_syms[] = {
	{ 1, "SOCKET_FILTER" }, { 2, "KPROBE" },        { 3, "SCHED_CLS" },    { 4, "SCHED_ACT" },
	{ 5, "TRACEPOINT" },    { 6, "XDP" },           { 7, "PERF_EVENT" },   { 8, "CGROUP_SKB" },
	{ 9, "CGROUP_SOCK" },   { 10, "LWT_IN" },       { 11, "LWT_OUT" },     { 12, "LWT_XMIT" },
	{ 13, "SOCK_OPS" },     { 14, "SK_SKB" },       { 15, "CGROUP_DEVICE" }, { 16, "SK_MSG" },
	{ 17, "RAW_TRACEPOINT" }, { 18, "CGROUP_SOCK_ADDR" }, { 19, "LWT_SEG6LOCAL" },
	{ 20, "LIRC_MODE2" },   { 21, "SK_REUSEPORT" }, { 22, "FLOW_DISSECTOR" },
	{ 23, "CGROUP_SYSCTL" }, { 24, "RAW_TRACEPOINT_WRITABLE" }, { 25, "CGROUP_SOCKOPT" },
	{ 26, "TRACING" },      { 27, "STRUCT_OPS" },   { 28, "EXT" },         { 29, "LSM" },
	{ 30, "SK_LOOKUP" },    { 31, "SYSCALL" },      { 32, "NETFILTER" },
	{ 0, NULL },
};

static const struct tp_sym bpf_map_type_syms[] = {
	{ 1, "HASH" },          { 2, "ARRAY" },         { 3, "PROG_ARRAY" },   { 4, "PERF_EVENT_ARRAY" },
	{ 5, "PERCPU_HASH" },   { 6, "PERCPU_ARRAY" },  { 7, "STACK_TRACE" },  { 8, "CGROUP_ARRAY" },
	{ 9, "LRU_HASH" },      { 10, "LRU_PERCPU_HASH" }, { 11, "LPM_TRIE" }, { 12, "ARRAY_OF_MAPS" },
	{ 13, "HASH_OF_MAPS" }, { 14, "DEVMAP" },       { 15, "SOCKMAP" },     { 16, "CPUMAP" },
	{ 17, "XSKMAP" },       { 18, "SOCKHASH" },     { 19, "CGROUP_STORAGE" },
	{ 20, "REUSEPORT_SOCKARRAY" }, { 21, "PERCPU_CGROUP_STORAGE" }, { 22, "QUEUE" },
	{ 23, "STACK" },        { 24, "SK_STORAGE" },   { 25, "DEVMAP_HASH" }, { 26, "STRUCT_OPS" },
	{ 27, "RINGBUF" },      { 28, "INODE_STORAGE" }, { 29, "TASK_STORAGE" }, { 30, "BLOOM_FILTER" },
	{ 31, "USER_RINGBUF" }, { 32, "CGRP_STORAGE" }, { 33, "ARENA" },
	{ 0, NULL },
};

static const struct tp_sym memfd_flag_syms[] = {
	{ 1, "MFD_CLOEXEC" }, { 2, "MFD_ALLOW_SEALING" }, { 4, "MFD_HUGETLB" },
	{ 8, "MFD_NOEXEC_SEAL" }, { 16, "MFD_EXEC" }, { 0, NULL },
};

#define SYSCALL(st, type) TP_FIELD_SYMS(st, "syscall", syscall, type, tp_syscall_syms, false)
#define RET(st) TP_FIELD_SYMS(st, "ret", ret, TP_FK_S32, tp_errno_syms, false)

static const struct tp_field setuid_fields[] = {
	TP_FIELD(struct tp_setid_event, "old_uid", old_r, TP_FK_U32),
	TP_FIELD(struct tp_setid_event, "old_euid", old_e, TP_FK_U32),
	TP_FIELD(struct tp_setid_event, "old_suid", old_s, TP_FK_U32),
	TP_FIELD(struct tp_setid_event, "old_fsuid", old_fs, TP_FK_U32),
	TP_FIELD(struct tp_setid_event, "new_uid", new_r, TP_FK_U32),
	TP_FIELD(struct tp_setid_event, "new_euid", new_e, TP_FK_U32),
	TP_FIELD(struct tp_setid_event, "new_suid", new_s, TP_FK_U32),
	TP_FIELD(struct tp_setid_event, "new_fsuid", new_fs, TP_FK_U32),
	TP_FIELD(struct tp_setid_event, "arg0", arg[0], TP_FK_U32),
	TP_FIELD(struct tp_setid_event, "arg1", arg[1], TP_FK_U32),
	TP_FIELD(struct tp_setid_event, "arg2", arg[2], TP_FK_U32),
	RET(struct tp_setid_event),
	SYSCALL(struct tp_setid_event, TP_FK_U32),
};

static const struct tp_field setgid_fields[] = {
	TP_FIELD(struct tp_setid_event, "old_gid", old_r, TP_FK_U32),
	TP_FIELD(struct tp_setid_event, "old_egid", old_e, TP_FK_U32),
	TP_FIELD(struct tp_setid_event, "old_sgid", old_s, TP_FK_U32),
	TP_FIELD(struct tp_setid_event, "old_fsgid", old_fs, TP_FK_U32),
	TP_FIELD(struct tp_setid_event, "new_gid", new_r, TP_FK_U32),
	TP_FIELD(struct tp_setid_event, "new_egid", new_e, TP_FK_U32),
	TP_FIELD(struct tp_setid_event, "new_sgid", new_s, TP_FK_U32),
	TP_FIELD(struct tp_setid_event, "new_fsgid", new_fs, TP_FK_U32),
	TP_FIELD(struct tp_setid_event, "arg0", arg[0], TP_FK_U32),
	TP_FIELD(struct tp_setid_event, "arg1", arg[1], TP_FK_U32),
	TP_FIELD(struct tp_setid_event, "arg2", arg[2], TP_FK_U32),
	RET(struct tp_setid_event),
	SYSCALL(struct tp_setid_event, TP_FK_U32),
};

#define CAPS(fname, member)                                                                  	TP_FIELD_SYMS(struct tp_capset_event, fname, member, TP_FK_HEX, tp_cap_syms, true)
static const struct tp_field capset_fields[] = {
	CAPS("effective", effective),
	CAPS("permitted", permitted),
	CAPS("inheritable", inheritable),
	CAPS("old_effective", old_effective),
	CAPS("old_permitted", old_permitted),
	CAPS("old_inheritable", old_inheritable),
	TP_FIELD(struct tp_capset_event, "target_pid", target_pid, TP_FK_S32),
	RET(struct tp_capset_event),
};

static const struct tp_field ptrace_fields[] = {
	TP_FIELD_SYMS(struct tp_ptrace_event, "request", request, TP_FK_U32, ptrace_syms, false),
	TP_FIELD(struct tp_ptrace_event, "target_pid", target_pid, TP_FK_S32),
	TP_FIELD(struct tp_ptrace_event, "addr", addr, TP_FK_HEX),
	TP_FIELD(struct tp_ptrace_event, "data", data, TP_FK_HEX),
	TP_FIELD_SYMS(struct tp_ptrace_event, "ret", ret, TP_FK_S64, tp_errno_syms, false),
};

static const struct tp_field module_fields[] = {
	TP_FIELD(struct tp_module_event, "name", name, TP_FK_STR),
	TP_FIELD(struct tp_module_event, "taints", taints, TP_FK_HEX),
};

static const struct tp_field bpf_fields[] = {
	TP_FIELD_SYMS(struct tp_bpf_event, "cmd", cmd, TP_FK_U32, tp_bpf_cmd_syms, false),
	TP_FIELD(struct tp_bpf_event, "name", name, TP_FK_STR),
	TP_FIELD_SYMS(struct tp_bpf_event, "prog_type", prog_type, TP_FK_U32, bpf_prog_type_syms,
		      false),
	TP_FIELD_SYMS(struct tp_bpf_event, "map_type", map_type, TP_FK_U32, bpf_map_type_syms, false),
	TP_FIELD(struct tp_bpf_event, "insn_cnt", insn_cnt, TP_FK_U32),
	TP_FIELD(struct tp_bpf_event, "attach_type", attach_type, TP_FK_U32),
	RET(struct tp_bpf_event),
};

static const struct tp_field memfd_fields[] = {
	TP_FIELD(struct tp_memfd_event, "name", name, TP_FK_STR),
	TP_FIELD_SYMS(struct tp_memfd_event, "flags", flags, TP_FK_HEX, memfd_flag_syms, true),
	RET(struct tp_memfd_event),
};

/* pidfd_send_signal flags (linux/pidfd.h). */
static const struct tp_sym pidfd_signal_syms[] = {
	{ 1, "PIDFD_SIGNAL_THREAD" },
	{ 2, "PIDFD_SIGNAL_THREAD_GROUP" },
	{ 4, "PIDFD_SIGNAL_PROCESS_GROUP" },
	{ 0, NULL },
};

static const struct tp_field kill_fields[] = {
	TP_FIELD_SYMS(struct tp_kill_event, "sig", sig, TP_FK_U32, tp_signal_syms, false),
	TP_FIELD(struct tp_kill_event, "target_pid", target_pid, TP_FK_S32),
	TP_FIELD(struct tp_kill_event, "target_tid", target_tid, TP_FK_S32),
	RET(struct tp_kill_event),
	SYSCALL(struct tp_kill_event, TP_FK_U16),
	TP_FIELD(struct tp_kill_event, "fd", fd, TP_FK_S32),
	TP_FIELD_SYMS(struct tp_kill_event, "flags", flags, TP_FK_HEX, pidfd_signal_syms, true),
};

static const struct tp_field process_vm_fields[] = {
	TP_FIELD(struct tp_process_vm_event, "target_pid", target_pid, TP_FK_S32),
	TP_FIELD(struct tp_process_vm_event, "remote_addr", remote_addr, TP_FK_HEX),
	TP_FIELD(struct tp_process_vm_event, "remote_len", remote_len, TP_FK_U64),
	TP_FIELD(struct tp_process_vm_event, "local_iovcnt", local_iovcnt, TP_FK_U32),
	TP_FIELD(struct tp_process_vm_event, "remote_iovcnt", remote_iovcnt, TP_FK_U32),
	TP_FIELD_SYMS(struct tp_process_vm_event, "ret", ret, TP_FK_S64, tp_errno_syms, false),
	SYSCALL(struct tp_process_vm_event, TP_FK_U16),
};

/* io_uring opcodes (ABI numbers, include/uapi/linux/io_uring.h), listed here
 * so that newer ones are named whatever the build host's headers. Also the
 * names of -k io_uring_ops. */
const struct tp_sym tp_io_uring_op_syms[] = {
	{ 0, "IORING_OP_NOP" }, { 1, "IORING_OP_READV" }, { 2, "IORING_OP_WRITEV" },
	{ 3, "IORING_OP_FSYNC" }, { 4, "IORING_OP_READ_FIXED" }, { 5, "IORING_OP_WRITE_FIXED" },
	{ 6, "IORING_OP_POLL_ADD" }, { 7, "IORING_OP_POLL_REMOVE" }, { 8, "IORING_OP_SYNC_FILE_RANGE" },
	{ 9, "IORING_OP_SENDMSG" }, { 10, "IORING_OP_RECVMSG" }, { 11, "IORING_OP_TIMEOUT" },
	{ 12, "IORING_OP_TIMEOUT_REMOVE" }, { 13, "IORING_OP_ACCEPT" }, { 14, "IORING_OP_ASYNC_CANCEL" },
	{ 15, "IORING_OP_LINK_TIMEOUT" }, { 16, "IORING_OP_CONNECT" }, { 17, "IORING_OP_FALLOCATE" },
	{ 18, "IORING_OP_OPENAT" }, { 19, "IORING_OP_CLOSE" }, { 20, "IORING_OP_FILES_UPDATE" },
	{ 21, "IORING_OP_STATX" }, { 22, "IORING_OP_READ" }, { 23, "IORING_OP_WRITE" },
	{ 24, "IORING_OP_FADVISE" }, { 25, "IORING_OP_MADVISE" }, { 26, "IORING_OP_SEND" },
	{ 27, "IORING_OP_RECV" }, { 28, "IORING_OP_OPENAT2" }, { 29, "IORING_OP_EPOLL_CTL" },
	{ 30, "IORING_OP_SPLICE" }, { 31, "IORING_OP_PROVIDE_BUFFERS" }, { 32, "IORING_OP_REMOVE_BUFFERS" },
	{ 33, "IORING_OP_TEE" }, { 34, "IORING_OP_SHUTDOWN" }, { 35, "IORING_OP_RENAMEAT" },
	{ 36, "IORING_OP_UNLINKAT" }, { 37, "IORING_OP_MKDIRAT" }, { 38, "IORING_OP_SYMLINKAT" },
	{ 39, "IORING_OP_LINKAT" }, { 40, "IORING_OP_MSG_RING" }, { 41, "IORING_OP_FSETXATTR" },
	{ 42, "IORING_OP_SETXATTR" }, { 43, "IORING_OP_FGETXATTR" }, { 44, "IORING_OP_GETXATTR" },
	{ 45, "IORING_OP_SOCKET" }, { 46, "IORING_OP_URING_CMD" }, { 47, "IORING_OP_SEND_ZC" },
	{ 48, "IORING_OP_SENDMSG_ZC" }, { 49, "IORING_OP_READ_MULTISHOT" }, { 50, "IORING_OP_WAITID" },
	{ 51, "IORING_OP_FUTEX_WAIT" }, { 52, "IORING_OP_FUTEX_WAKE" }, { 53, "IORING_OP_FUTEX_WAITV" },
	{ 54, "IORING_OP_FIXED_FD_INSTALL" }, { 55, "IORING_OP_FTRUNCATE" }, { 56, "IORING_OP_BIND" },
	{ 57, "IORING_OP_LISTEN" }, { 58, "IORING_OP_RECV_ZC" }, { 59, "IORING_OP_EPOLL_WAIT" },
	{ 60, "IORING_OP_READV_FIXED" }, { 61, "IORING_OP_WRITEV_FIXED" }, { 62, "IORING_OP_PIPE" },
	{ 0, NULL },
};

static const struct tp_sym io_uring_setup_syms[] = {
	{ 1u << 0, "IORING_SETUP_IOPOLL" },	{ 1u << 1, "IORING_SETUP_SQPOLL" },
	{ 1u << 2, "IORING_SETUP_SQ_AFF" },	{ 1u << 3, "IORING_SETUP_CQSIZE" },
	{ 1u << 4, "IORING_SETUP_CLAMP" },	{ 1u << 5, "IORING_SETUP_ATTACH_WQ" },
	{ 1u << 6, "IORING_SETUP_R_DISABLED" }, { 1u << 7, "IORING_SETUP_SUBMIT_ALL" },
	{ 1u << 8, "IORING_SETUP_COOP_TASKRUN" }, { 1u << 9, "IORING_SETUP_TASKRUN_FLAG" },
	{ 1u << 10, "IORING_SETUP_SQE128" },	{ 1u << 11, "IORING_SETUP_CQE32" },
	{ 1u << 12, "IORING_SETUP_SINGLE_ISSUER" }, { 1u << 13, "IORING_SETUP_DEFER_TASKRUN" },
	{ 1u << 14, "IORING_SETUP_NO_MMAP" },	{ 1u << 15, "IORING_SETUP_REGISTERED_FD_ONLY" },
	{ 1u << 16, "IORING_SETUP_NO_SQARRAY" }, { 1u << 17, "IORING_SETUP_HYBRID_IOPOLL" },
	{ 0, NULL },
};

static const struct tp_sym iosqe_syms[] = {
	{ 1u << 0, "IOSQE_FIXED_FILE" },  { 1u << 1, "IOSQE_IO_DRAIN" },
	{ 1u << 2, "IOSQE_IO_LINK" },	  { 1u << 3, "IOSQE_IO_HARDLINK" },
	{ 1u << 4, "IOSQE_ASYNC" },	  { 1u << 5, "IOSQE_BUFFER_SELECT" },
	{ 1u << 6, "IOSQE_CQE_SKIP_SUCCESS" },
	{ 0, NULL },
};

static const struct tp_sym af_syms[] = {
	{ 1, "AF_UNIX" }, { 2, "AF_INET" }, { 10, "AF_INET6" }, { 16, "AF_NETLINK" },
	{ 17, "AF_PACKET" }, { 40, "AF_VSOCK" }, { 0, NULL },
};

static const struct tp_field io_uring_setup_fields[] = {
	TP_FIELD(struct tp_io_uring_setup_event, "entries", entries, TP_FK_U32),
	TP_FIELD(struct tp_io_uring_setup_event, "sq_entries", sq_entries, TP_FK_U32),
	TP_FIELD(struct tp_io_uring_setup_event, "cq_entries", cq_entries, TP_FK_U32),
	TP_FIELD_SYMS(struct tp_io_uring_setup_event, "flags", flags, TP_FK_HEX, io_uring_setup_syms,
		      true),
	TP_FIELD(struct tp_io_uring_setup_event, "sq_thread_cpu", sq_thread_cpu, TP_FK_U32),
	TP_FIELD(struct tp_io_uring_setup_event, "sq_thread_idle", sq_thread_idle, TP_FK_U32),
	TP_FIELD(struct tp_io_uring_setup_event, "features", features, TP_FK_HEX),
	RET(struct tp_io_uring_setup_event),
};

static const struct tp_field io_uring_fields[] = {
	TP_FIELD_SYMS(struct tp_io_uring_event, "op", op, TP_FK_U8, tp_io_uring_op_syms, false),
	TP_FIELD(struct tp_io_uring_event, "fd", fd, TP_FK_S32),
	TP_FIELD_IF(struct tp_io_uring_event, "path", path, TP_FK_STR, path, 0xffffffffu),
	TP_FIELD_IF(struct tp_io_uring_event, "path2", path2, TP_FK_STR, path2, 0xffffffffu),
	TP_FIELD(struct tp_io_uring_event, "dfd", dfd, TP_FK_S32),
	TP_FIELD_SYMS(struct tp_io_uring_event, "family", family, TP_FK_U16, af_syms, false),
	{ .name = "addr", .kind = TP_FK_IPADDR, .offset = offsetof(struct tp_io_uring_event, addr),
	  .size = 16, .aux = offsetof(struct tp_io_uring_event, family),
	  .present_offset = offsetof(struct tp_io_uring_event, io_flags), .present_mask = TP_IOU_ADDR },
	TP_FIELD_IF(struct tp_io_uring_event, "port", port, TP_FK_U16, io_flags, TP_IOU_ADDR),
	TP_FIELD(struct tp_io_uring_event, "protocol", protocol, TP_FK_U16),
	TP_FIELD(struct tp_io_uring_event, "op_flags", op_flags, TP_FK_HEX),
	TP_FIELD(struct tp_io_uring_event, "mode", mode, TP_FK_OCTAL),
	TP_FIELD_SYMS(struct tp_io_uring_event, "sqe_flags", sqe_flags, TP_FK_HEX, iosqe_syms, true),
	TP_FIELD_BIT(struct tp_io_uring_event, "fixed_file", io_flags, TP_IOU_FIXED_FILE),
	TP_FIELD_BIT(struct tp_io_uring_event, "sq_thread", io_flags, TP_IOU_SQ_THREAD),
	TP_FIELD(struct tp_io_uring_event, "user_data", user_data, TP_FK_HEX),
};

#define TYPE(tid, tname, st, f)                                                              \
	{ .id = tid, .name = tname, .size = sizeof(st), .min_size = sizeof(st), TP_FIELDS(f) }

const struct tp_event_type tp_security_event_types[] = {
	TYPE(TP_EV_SECURITY_SETUID, "security.setuid", struct tp_setid_event, setuid_fields),
	TYPE(TP_EV_SECURITY_SETGID, "security.setgid", struct tp_setid_event, setgid_fields),
	TYPE(TP_EV_SECURITY_CAPSET, "security.capset", struct tp_capset_event, capset_fields),
	TYPE(TP_EV_SECURITY_PTRACE, "security.ptrace", struct tp_ptrace_event, ptrace_fields),
	TYPE(TP_EV_SECURITY_MODULE_LOAD, "security.module_load", struct tp_module_event,
	     module_fields),
	TYPE(TP_EV_SECURITY_BPF, "security.bpf", struct tp_bpf_event, bpf_fields),
	TYPE(TP_EV_SECURITY_MEMFD_CREATE, "security.memfd_create", struct tp_memfd_event,
	     memfd_fields),
	/* Records of 96 bytes (stored before pidfd_send_signal was reported) have
	 * no fd and flags. */
	{ .id = TP_EV_SECURITY_KILL, .name = "security.kill", .size = sizeof(struct tp_kill_event),
	  .min_size = offsetof(struct tp_kill_event, fd), TP_FIELDS(kill_fields) },
	TYPE(TP_EV_SECURITY_PROCESS_VM, "security.process_vm", struct tp_process_vm_event,
	     process_vm_fields),
	TYPE(TP_EV_SECURITY_IO_URING_SETUP, "security.io_uring_setup",
	     struct tp_io_uring_setup_event, io_uring_setup_fields),
	TYPE(TP_EV_SECURITY_IO_URING, "security.io_uring", struct tp_io_uring_event,
	     io_uring_fields),
	{ 0 },
};
