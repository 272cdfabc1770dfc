// SPDX-License-Identifier: GPL-2.0
/*
 * security.bpf.c - security events: setuid and setgid families, capset,
 * ptrace, module_load, bpf, memfd_create, kill (kill, tkill, tgkill and
 * pidfd_send_signal), process_vm (process_vm_readv, process_vm_writev).
 *
 * Most come from one exit hook per syscall (syscall.bpf.h). The id and
 * capability changes also need the values from before the call, which the
 * syscall's exit can no longer see: their enter hooks keep the old
 * credentials per thread until the exit. These syscalls are rare, so the
 * second hook costs nothing that matters.
 *
 * module_load uses the module:module_load tracepoint; on a kernel without
 * loadable modules the hook does not exist and the loader skips the
 * program with one warning.
 */
#include "syscall.bpf.h"

#define TP_CAP_V1	   0x19980330
#define TP_BPF_PROG_LOAD   5
#define TP_BPF_MAP_CREATE  0
#define TP_BPF_PROG_ATTACH 8
#define TP_BPF_LINK_CREATE 28

/* What an enter hook keeps for the exit. */
struct old_creds {
	__u64 caps[3]; /* effective, permitted, inheritable */
	__u64 args[3];
	__u32 ids[4]; /* real, effective, saved, fs uid (or gid) */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32); /* tid */
	__type(value, struct old_creds);
} old_creds SEC(".maps");

static __always_inline void read_ids(const struct cred *cred, bool gid, __u32 *ids)
{
	if (gid) {
		ids[0] = BPF_CORE_READ(cred, gid.val);
		ids[1] = BPF_CORE_READ(cred, egid.val);
		ids[2] = BPF_CORE_READ(cred, sgid.val);
		ids[3] = BPF_CORE_READ(cred, fsgid.val);
	} else {
		ids[0] = BPF_CORE_READ(cred, uid.val);
		ids[1] = BPF_CORE_READ(cred, euid.val);
		ids[2] = BPF_CORE_READ(cred, suid.val);
		ids[3] = BPF_CORE_READ(cred, fsuid.val);
	}
}

/* kernel_cap_t is a u64 since 6.3 and two u32 before: 8 bytes either way. */
static __always_inline void read_caps(const struct cred *cred, __u64 *caps)
{
	BPF_CORE_READ_INTO(&caps[0], cred, cap_effective);
	BPF_CORE_READ_INTO(&caps[1], cred, cap_permitted);
	BPF_CORE_READ_INTO(&caps[2], cred, cap_inheritable);
}

static __always_inline const struct cred *current_cred(void)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	return BPF_CORE_READ(task, cred);
}

/* The arguments come from the registers, not ctx->args: a program that
 * reads past the arguments a syscall's tracepoint has is refused at attach. */
static __always_inline int save_creds(bool gid)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	const struct cred *cred = current_cred();
	struct pt_regs *regs = tp_syscall_regs();
	struct old_creds o = {};

	if (tp_current_is_self())
		return 0;
	read_ids(cred, gid, o.ids);
	read_caps(cred, o.caps);
	o.args[0] = TP_ARG1(regs);
	o.args[1] = TP_ARG2(regs);
	o.args[2] = TP_ARG3(regs);
	bpf_map_update_elem(&old_creds, &tid, &o, BPF_ANY);
	return 0;
}

static __always_inline int report_setid(long ret, __u32 sys, bool gid, __u32 nargs)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	const struct tp_settings *s;
	struct tp_setid_event *e;
	struct old_creds *o;

	o = bpf_map_lookup_elem(&old_creds, &tid);
	if (!o)
		return 0; /* the enter hook did not run (attached mid-call, or self) */
	s = tp_admit(TP_CAT_SECURITY, ret < 0);
	if (!s)
		goto out;
	e = tp_reserve(sizeof(*e), TP_CAT_SECURITY);
	if (!e)
		goto out;
	tp_fill_hdr(&e->hdr, gid ? TP_EV_SECURITY_SETGID : TP_EV_SECURITY_SETUID, sizeof(*e));
	e->ret = ret;
	e->syscall = sys;
	/* Arguments a call does not take read as -1, "unchanged". */
	e->arg[0] = o->args[0];
	e->arg[1] = nargs > 1 ? o->args[1] : (__u32)-1;
	e->arg[2] = nargs > 2 ? o->args[2] : (__u32)-1;
	e->old_r = o->ids[0];
	e->old_e = o->ids[1];
	e->old_s = o->ids[2];
	e->old_fs = o->ids[3];
	read_ids(current_cred(), gid, &e->new_r);
	e->_pad = 0;
	tp_submit(e, TP_CAT_SECURITY);
out:
	bpf_map_delete_elem(&old_creds, &tid);
	return 0;
}

#define SETID(name, sys, gid, nargs)                                                               \
	SEC("tp/syscalls/sys_enter_" #name)                                                        \
	int tp_enter_##name(struct trace_event_raw_sys_enter *ctx)                                 \
	{                                                                                          \
		return save_creds(gid);                                                            \
	}                                                                                          \
	SEC("tp/syscalls/sys_exit_" #name)                                                         \
	int tp_exit_##name(struct trace_event_raw_sys_exit *ctx)                                   \
	{                                                                                          \
		return report_setid(ctx->ret, sys, gid, nargs);                                    \
	}

SETID(setuid, TP_SYS_SETUID, false, 1)
SETID(setreuid, TP_SYS_SETREUID, false, 2)
SETID(setresuid, TP_SYS_SETRESUID, false, 3)
SETID(setfsuid, TP_SYS_SETFSUID, false, 1)
SETID(setgid, TP_SYS_SETGID, true, 1)
SETID(setregid, TP_SYS_SETREGID, true, 2)
SETID(setresgid, TP_SYS_SETRESGID, true, 3)
SETID(setfsgid, TP_SYS_SETFSGID, true, 1)

/* ------------------------------------------------------------------ */

SEC("tp/syscalls/sys_enter_capset")
int tp_enter_capset(struct trace_event_raw_sys_enter *ctx)
{
	return save_creds(false);
}

SEC("tp/syscalls/sys_exit_capset")
int tp_exit_capset(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct __user_cap_data_struct data[2] = {};
	struct __user_cap_header_struct hdr = {};
	const struct tp_settings *s;
	struct tp_capset_event *e;
	struct old_creds *o;
	long ret = ctx->ret;

	o = bpf_map_lookup_elem(&old_creds, &tid);
	if (!o)
		return 0;
	s = tp_admit(TP_CAT_SECURITY, ret < 0);
	if (!s)
		goto out;
	e = tp_reserve(sizeof(*e), TP_CAT_SECURITY);
	if (!e)
		goto out;
	tp_fill_hdr(&e->hdr, TP_EV_SECURITY_CAPSET, sizeof(*e));
	e->ret = ret;
	e->old_effective = o->caps[0];
	e->old_permitted = o->caps[1];
	e->old_inheritable = o->caps[2];
	bpf_probe_read_user(&hdr, sizeof(hdr), (const void *)o->args[0]);
	bpf_probe_read_user(data, hdr.version == TP_CAP_V1 ? sizeof(data[0]) : sizeof(data),
			    (const void *)o->args[1]);
	e->target_pid = hdr.pid;
	e->effective = data[0].effective | ((__u64)data[1].effective << 32);
	e->permitted = data[0].permitted | ((__u64)data[1].permitted << 32);
	e->inheritable = data[0].inheritable | ((__u64)data[1].inheritable << 32);
	tp_submit(e, TP_CAT_SECURITY);
out:
	bpf_map_delete_elem(&old_creds, &tid);
	return 0;
}

/* ------------------------------------------------------------------ */

SEC("tp/syscalls/sys_exit_ptrace")
int tp_exit_ptrace(struct trace_event_raw_sys_exit *ctx)
{
	const struct tp_settings *s = tp_admit(TP_CAT_SECURITY, ctx->ret < 0);
	struct pt_regs *regs = tp_syscall_regs();
	struct tp_ptrace_event *e;

	if (!s)
		return 0;
	e = tp_reserve(sizeof(*e), TP_CAT_SECURITY);
	if (!e)
		return 0;
	tp_fill_hdr(&e->hdr, TP_EV_SECURITY_PTRACE, sizeof(*e));
	e->ret = ctx->ret;
	e->request = TP_ARG1(regs);
	e->target_pid = TP_ARG2(regs);
	e->addr = TP_ARG3(regs);
	e->data = TP_ARG4(regs);
	tp_submit(e, TP_CAT_SECURITY);
	return 0;
}

/* raw_tp args: (struct module *mod) */
SEC("raw_tp/module_load")
int tp_module_load(struct bpf_raw_tracepoint_args *ctx)
{
	struct module *mod = (struct module *)ctx->args[0];
	struct tp_module_event *e;

	if (!tp_admit(TP_CAT_SECURITY, false))
		return 0;
	e = tp_reserve(sizeof(*e), TP_CAT_SECURITY);
	if (!e)
		return 0;
	tp_fill_hdr(&e->hdr, TP_EV_SECURITY_MODULE_LOAD, sizeof(*e));
	e->taints = BPF_CORE_READ(mod, taints);
	if (BPF_CORE_READ_STR_INTO(&e->name, mod, name) < 0)
		e->name[0] = '\0';
	tp_submit(e, TP_CAT_SECURITY);
	return 0;
}

/* ------------------------------------------------------------------ */

/* Read a field of the caller's union bpf_attr when its size covers it. */
#define ATTR_READ(dst, attr, size, field)                                                          \
	do {                                                                                       \
		if (bpf_core_field_offset(union bpf_attr, field) + sizeof(dst) <= (size))          \
			bpf_probe_read_user(&(dst), sizeof(dst), &(attr)->field);                  \
	} while (0)

SEC("tp/syscalls/sys_exit_bpf")
int tp_exit_bpf(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();
	__u32 cmd = TP_ARG1(regs), size = TP_ARG3(regs);
	union bpf_attr *attr = (union bpf_attr *)TP_ARG2(regs);
	const struct tp_settings *s;
	struct tp_bpf_event *e;

	s = tp_admit(TP_CAT_SECURITY, ctx->ret < 0);
	if (!s)
		return 0;
	if (cmd >= 64 || !(s->bpf_cmd_mask & (1ull << cmd))) {
		tp_kstat(TP_CAT_SECURITY, TP_KSTAT_SETTING);
		return 0;
	}
	e = tp_reserve(sizeof(*e), TP_CAT_SECURITY);
	if (!e)
		return 0;
	tp_fill_hdr(&e->hdr, TP_EV_SECURITY_BPF, sizeof(*e));
	e->ret = ctx->ret;
	e->cmd = cmd;
	e->prog_type = 0;
	e->map_type = 0;
	e->insn_cnt = 0;
	e->attach_type = 0;
	__builtin_memset(e->name, 0, sizeof(e->name));
	if (cmd == TP_BPF_PROG_LOAD) {
		ATTR_READ(e->prog_type, attr, size, prog_type);
		ATTR_READ(e->insn_cnt, attr, size, insn_cnt);
		ATTR_READ(e->attach_type, attr, size, expected_attach_type);
		ATTR_READ(e->name, attr, size, prog_name);
	} else if (cmd == TP_BPF_MAP_CREATE) {
		ATTR_READ(e->map_type, attr, size, map_type);
		ATTR_READ(e->name, attr, size, map_name);
	} else if (cmd == TP_BPF_PROG_ATTACH) {
		ATTR_READ(e->attach_type, attr, size, attach_type);
	} else if (cmd == TP_BPF_LINK_CREATE) {
		ATTR_READ(e->attach_type, attr, size, link_create.attach_type);
	}
	e->name[sizeof(e->name) - 1] = '\0';
	tp_submit(e, TP_CAT_SECURITY);
	return 0;
}

SEC("tp/syscalls/sys_exit_memfd_create")
int tp_exit_memfd_create(struct trace_event_raw_sys_exit *ctx)
{
	const struct tp_settings *s = tp_admit(TP_CAT_SECURITY, ctx->ret < 0);
	struct pt_regs *regs = tp_syscall_regs();
	struct tp_memfd_event *e;

	if (!s)
		return 0;
	e = tp_reserve(sizeof(*e), TP_CAT_SECURITY);
	if (!e)
		return 0;
	tp_fill_hdr(&e->hdr, TP_EV_SECURITY_MEMFD_CREATE, sizeof(*e));
	e->ret = ctx->ret;
	e->flags = TP_ARG2(regs);
	if (bpf_probe_read_user_str(e->name, sizeof(e->name), (const char *)TP_ARG1(regs)) < 0)
		e->name[0] = '\0';
	tp_submit(e, TP_CAT_SECURITY);
	return 0;
}

/* A security.kill record, reserved and filled but for its target, or NULL
 * when the event was filtered out (or the ring was full). */
static __always_inline struct tp_kill_event *kill_event(long ret, __u16 sys, __u32 sig)
{
	struct tp_kill_event *e;

	if (!tp_admit(TP_CAT_SECURITY, ret < 0))
		return NULL;
	e = tp_reserve(sizeof(*e), TP_CAT_SECURITY);
	if (!e)
		return NULL;
	tp_fill_hdr(&e->hdr, TP_EV_SECURITY_KILL, sizeof(*e));
	e->ret = ret;
	e->sig = sig;
	e->target_pid = 0;
	e->target_tid = 0;
	e->syscall = sys;
	e->_pad[0] = e->_pad[1] = e->_pad[2] = 0;
	e->fd = -1;
	e->flags = 0;
	return e;
}

static __always_inline int report_kill(long ret, __u16 sys, __s32 pid, __s32 tid, __u32 sig)
{
	struct tp_kill_event *e = kill_event(ret, sys, sig);

	if (!e)
		return 0;
	e->target_pid = pid;
	e->target_tid = tid;
	tp_submit(e, TP_CAT_SECURITY);
	return 0;
}

SEC("tp/syscalls/sys_exit_kill")
int tp_exit_kill(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();

	return report_kill(ctx->ret, TP_SYS_KILL, TP_ARG1(regs), 0, TP_ARG2(regs));
}

SEC("tp/syscalls/sys_exit_tkill")
int tp_exit_tkill(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();

	return report_kill(ctx->ret, TP_SYS_TKILL, 0, TP_ARG1(regs), TP_ARG2(regs));
}

SEC("tp/syscalls/sys_exit_tgkill")
int tp_exit_tgkill(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();

	return report_kill(ctx->ret, TP_SYS_TGKILL, TP_ARG1(regs), TP_ARG2(regs), TP_ARG3(regs));
}

#define TP_PIDFS_MAGIC	     0x50494446 /* PID_FS_MAGIC: pidfds are pidfs files since 6.9 */
#define TP_PIDFD_THREAD	     0x80	/* PIDFD_THREAD (O_EXCL) in f_flags: a thread's pidfd */
#define TP_PIDFD_SELF_THREAD -10000	/* PIDFD_SELF_THREAD (6.15) */
#define TP_PIDFD_SELF_GROUP  -10001	/* PIDFD_SELF_THREAD_GROUP */

/*
 * pidfd_send_signal(pidfd, sig, info, flags). A pidfs inode keeps the
 * struct pid it stands for in i_private (as pidfd_pid() reads it), and only
 * a pidfs file says for sure that it is a pidfd: before pidfs (6.9) pidfds
 * were anonymous inodes shared with eventfds and others, whose private data
 * is something else, so there the target is left unresolved (0) rather than
 * guessed; so is a /proc/PID
 * directory fd, which the call also accepts. The number reported is the
 * pid in the initial namespace, as in every event header.
 */
SEC("tp/syscalls/sys_exit_pidfd_send_signal")
int tp_exit_pidfd_send_signal(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();
	struct tp_kill_event *e = kill_event(ctx->ret, TP_SYS_PIDFD_SEND_SIGNAL, TP_ARG2(regs));
	struct file *f;
	__s32 nr;

	if (!e)
		return 0;
	e->fd = (int)TP_ARG1(regs);
	e->flags = TP_ARG4(regs);
	if (e->fd == TP_PIDFD_SELF_THREAD) {
		e->target_tid = e->hdr.tid;
	} else if (e->fd == TP_PIDFD_SELF_GROUP) {
		e->target_pid = e->hdr.pid;
	} else {
		f = tp_fd_file(e->fd);
		if (f && BPF_CORE_READ(f, f_inode, i_sb, s_magic) == TP_PIDFS_MAGIC) {
			struct pid *p = BPF_CORE_READ(f, f_inode, i_private);

			nr = p ? BPF_CORE_READ(p, numbers[0].nr) : 0;
			if (BPF_CORE_READ(f, f_flags) & TP_PIDFD_THREAD)
				e->target_tid = nr;
			else
				e->target_pid = nr;
		}
	}
	tp_submit(e, TP_CAT_SECURITY);
	return 0;
}

/* ------------------------------------------------------------------ */
/* security.process_vm */

/* process_vm_readv/writev(pid, lvec, liovcnt, rvec, riovcnt, flags) */
static __always_inline int report_process_vm(long ret, __u16 sys)
{
	struct pt_regs *regs = tp_syscall_regs();
	struct tp_process_vm_event *e;
	struct iovec iov = {};

	if (!tp_admit(TP_CAT_SECURITY, ret < 0))
		return 0;
	e = tp_reserve(sizeof(*e), TP_CAT_SECURITY);
	if (!e)
		return 0;
	tp_fill_hdr(&e->hdr, TP_EV_SECURITY_PROCESS_VM, sizeof(*e));
	e->ret = ret;
	e->syscall = sys;
	e->_pad = 0;
	e->target_pid = TP_ARG1(regs);
	e->local_iovcnt = TP_ARG3(regs);
	e->remote_iovcnt = TP_ARG5(regs);
	if (e->remote_iovcnt)
		bpf_probe_read_user(&iov, sizeof(iov), (const void *)TP_ARG4(regs));
	e->remote_addr = (__u64)iov.iov_base;
	e->remote_len = iov.iov_len;
	tp_submit(e, TP_CAT_SECURITY);
	return 0;
}

SEC("tp/syscalls/sys_exit_process_vm_readv")
int tp_exit_process_vm_readv(struct trace_event_raw_sys_exit *ctx)
{
	return report_process_vm(ctx->ret, TP_SYS_PROCESS_VM_READV);
}

SEC("tp/syscalls/sys_exit_process_vm_writev")
int tp_exit_process_vm_writev(struct trace_event_raw_sys_exit *ctx)
{
	return report_process_vm(ctx->ret, TP_SYS_PROCESS_VM_WRITEV);
}

char LICENSE[] SEC("license") = "GPL";
