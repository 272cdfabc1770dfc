// SPDX-License-Identifier: GPL-2.0
/*
 * container.bpf.c - container events: setns, unshare, mount, umount, and
 * cgroups created, removed or joined.
 *
 * setns, unshare and mount come from their syscalls' exits (syscall.bpf.h),
 * and so do clone and clone3 calls that ask for new namespaces (reported as
 * container.unshare), move_mount (container.mount) and umount2; the cgroup
 * events from the cgroup raw tracepoints, on every hierarchy
 * (v2 and each v1 one), in the context of the task that made the change.
 */
#include "path.bpf.h"

#define TP_NSFS_MAGIC 0x6e736673

SEC("tp/syscalls/sys_exit_setns")
int tp_exit_setns(struct trace_event_raw_sys_exit *ctx)
{
	const struct tp_settings *s = tp_admit(TP_CAT_CONTAINER, ctx->ret < 0);
	struct pt_regs *regs = tp_syscall_regs();
	struct tp_setns_event *e;
	struct file *f;
	long fd;

	if (!s)
		return 0;
	e = tp_reserve(sizeof(*e), TP_CAT_CONTAINER);
	if (!e)
		return 0;
	tp_fill_hdr(&e->hdr, TP_EV_CONTAINER_SETNS, sizeof(*e));
	fd = (int)TP_ARG1(regs);
	e->ret = ctx->ret;
	e->fd = fd;
	e->nstype = TP_ARG2(regs);
	e->_pad = 0;
	e->ns_ino = 0;
	/* A namespace file (/proc/PID/ns/...): its inode is the namespace's. A
	 * pidfd names a process, not one namespace. */
	f = tp_fd_file(fd);
	if (f && BPF_CORE_READ(f, f_inode, i_sb, s_magic) == TP_NSFS_MAGIC)
		e->ns_ino = BPF_CORE_READ(f, f_inode, i_ino);
	tp_submit(e, TP_CAT_CONTAINER);
	return 0;
}

SEC("tp/syscalls/sys_exit_unshare")
int tp_exit_unshare(struct trace_event_raw_sys_exit *ctx)
{
	const struct tp_settings *s = tp_admit(TP_CAT_CONTAINER, ctx->ret < 0);
	struct pt_regs *regs = tp_syscall_regs();
	struct tp_unshare_event *e;

	if (!s)
		return 0;
	e = tp_reserve(sizeof(*e), TP_CAT_CONTAINER);
	if (!e)
		return 0;
	tp_fill_hdr(&e->hdr, TP_EV_CONTAINER_UNSHARE, sizeof(*e));
	e->ret = ctx->ret;
	e->flags = TP_ARG1(regs);
	e->syscall = TP_SYS_UNSHARE;
	e->_pad[0] = e->_pad[1] = e->_pad[2] = 0;
	tp_submit(e, TP_CAT_CONTAINER);
	return 0;
}

/* CLONE_NEWTIME, NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET. */
#define TP_CLONE_NEW_MASK 0x7e020080u
#define TP_CSIGNAL 0xffu /* clone(2): the exit signal, not flags (0x80 is not CLONE_NEWTIME) */

/*
 * A clone that asked for new namespaces. Every fork and thread start of the
 * machine passes here, so the flags are checked first: a clone without
 * CLONE_NEW* is no event and is not counted. The exit tracepoint also runs in
 * the child (ret 0) with the parent's saved registers: only the caller's
 * return is reported, so one clone is one event.
 */
static __always_inline int report_clone(long ret, __u64 flags, __u16 sys)
{
	struct tp_unshare_event *e;

	if (ret == 0 || !(flags & TP_CLONE_NEW_MASK))
		return 0;
	if (!tp_admit(TP_CAT_CONTAINER, ret < 0))
		return 0;
	e = tp_reserve(sizeof(*e), TP_CAT_CONTAINER);
	if (!e)
		return 0;
	tp_fill_hdr(&e->hdr, TP_EV_CONTAINER_UNSHARE, sizeof(*e));
	e->ret = ret;
	e->flags = (__u32)flags;
	e->syscall = sys;
	e->_pad[0] = e->_pad[1] = e->_pad[2] = 0;
	tp_submit(e, TP_CAT_CONTAINER);
	return 0;
}

SEC("tp/syscalls/sys_exit_clone")
int tp_exit_clone(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();
	/* s390 passes (newsp, flags, ...) (CONFIG_CLONE_BACKWARDS2); every
	 * other architecture has the flags first. */
#if defined(__TARGET_ARCH_s390)
	__u64 flags = TP_ARG2(regs);
#else
	__u64 flags = TP_ARG1(regs);
#endif

	return report_clone(ctx->ret, flags & ~(__u64)TP_CSIGNAL, TP_SYS_CLONE);
}

/* clone3(struct clone_args *uargs, size_t size): flags is the first __u64. */
SEC("tp/syscalls/sys_exit_clone3")
int tp_exit_clone3(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();
	__u64 flags = 0;

	if (ctx->ret == 0)
		return 0; /* the child: nothing to read */
	if (bpf_probe_read_user(&flags, sizeof(flags), (const void *)TP_ARG1(regs)) < 0)
		return 0;
	return report_clone(ctx->ret, flags, TP_SYS_CLONE3);
}

SEC("tp/syscalls/sys_exit_mount")
int tp_exit_mount(struct trace_event_raw_sys_exit *ctx)
{
	const struct tp_settings *s = tp_admit(TP_CAT_CONTAINER, ctx->ret < 0);
	struct pt_regs *regs = tp_syscall_regs();
	const char *source, *fstype;
	struct tp_mount_event *e;

	if (!s)
		return 0;
	e = tp_reserve(sizeof(*e), TP_CAT_CONTAINER);
	if (!e)
		return 0;
	tp_fill_hdr(&e->hdr, TP_EV_CONTAINER_MOUNT, sizeof(*e));
	e->ret = ctx->ret;
	e->flags = TP_ARG4(regs);
	source = (const char *)TP_ARG1(regs);
	fstype = (const char *)TP_ARG3(regs);
	/* source and fstype may be NULL (remounts, bind mounts). */
	if (!source || bpf_probe_read_user_str(e->source, sizeof(e->source), source) < 0)
		e->source[0] = '\0';
	if (!fstype || bpf_probe_read_user_str(e->fstype, sizeof(e->fstype), fstype) < 0)
		e->fstype[0] = '\0';
	e->path_flags = tp_path_at(TP_AT_FDCWD, (const char *)TP_ARG2(regs), e->target);
	e->move_flags = 0;
	e->syscall = TP_SYS_MOUNT;
	e->_pad = 0;
	tp_submit(e, TP_CAT_CONTAINER);
	return 0;
}

/*
 * Per-mount flags (enum mount_flags, kernel-internal) and their MS_*
 * equivalents. The values have not changed since 2.6, but they are read
 * through CO-RE where the kernel's BTF has them as an enum (6.x); the
 * ___tp flavor keeps this build independent of the vmlinux.h it meets.
 */
enum mount_flags___tp {
	MNT_NOSUID___tp = 0x01,
	MNT_NODEV___tp = 0x02,
	MNT_NOEXEC___tp = 0x04,
	MNT_NOATIME___tp = 0x08,
	MNT_NODIRATIME___tp = 0x10,
	MNT_RELATIME___tp = 0x20,
	MNT_READONLY___tp = 0x40,
	MNT_NOSYMFOLLOW___tp = 0x80,
};

#define TP_MNT(name)                                                                        \
	(bpf_core_enum_value_exists(enum mount_flags___tp, name##___tp)                     \
		 ? bpf_core_enum_value(enum mount_flags___tp, name##___tp)                  \
		 : name##___tp)
#define TP_SB_RDONLY 1 /* SB_RDONLY, the same value as MS_RDONLY (uapi) */

static __always_inline __u64 tp_mount_ms_flags(struct vfsmount *mnt)
{
	int mf = BPF_CORE_READ(mnt, mnt_flags);
	__u64 ms = 0;

	if (mf & TP_MNT(MNT_READONLY) || BPF_CORE_READ(mnt, mnt_sb, s_flags) & TP_SB_RDONLY)
		ms |= 1; /* MS_RDONLY */
	if (mf & TP_MNT(MNT_NOSUID))
		ms |= 2; /* MS_NOSUID */
	if (mf & TP_MNT(MNT_NODEV))
		ms |= 4; /* MS_NODEV */
	if (mf & TP_MNT(MNT_NOEXEC))
		ms |= 8; /* MS_NOEXEC */
	if (mf & TP_MNT(MNT_NOSYMFOLLOW))
		ms |= 256; /* MS_NOSYMFOLLOW */
	if (mf & TP_MNT(MNT_NOATIME))
		ms |= 1024; /* MS_NOATIME */
	if (mf & TP_MNT(MNT_NODIRATIME))
		ms |= 2048; /* MS_NODIRATIME */
	if (mf & TP_MNT(MNT_RELATIME))
		ms |= 1 << 21; /* MS_RELATIME */
	return ms;
}

/*
 * move_mount(from_dfd, from_path, to_dfd, to_path, flags): the new mount
 * API's attach step, so the one place where a mount made by fsopen /
 * fsconfig / fsmount (or cloned by open_tree) gets a path. fsmount itself
 * is not hooked: the mount fd it returns still names the same mount here,
 * and its superblock knows the fstype and the source given to fsconfig.
 */
SEC("tp/syscalls/sys_exit_move_mount")
int tp_exit_move_mount(struct trace_event_raw_sys_exit *ctx)
{
	const struct tp_settings *s = tp_admit(TP_CAT_CONTAINER, ctx->ret < 0);
	struct pt_regs *regs = tp_syscall_regs();
	const char *from_path = (const char *)TP_ARG2(regs);
	struct tp_mount_event *e;
	char head = 0;
	long from_dfd;

	if (!s)
		return 0;
	e = tp_reserve(sizeof(*e), TP_CAT_CONTAINER);
	if (!e)
		return 0;
	tp_fill_hdr(&e->hdr, TP_EV_CONTAINER_MOUNT, sizeof(*e));
	e->ret = ctx->ret;
	e->flags = 0;
	e->move_flags = TP_ARG5(regs);
	e->syscall = TP_SYS_MOVE_MOUNT;
	e->_pad = 0;
	e->fstype[0] = '\0';
	e->source[0] = '\0';
	from_dfd = (int)TP_ARG1(regs);
	if (from_path)
		bpf_probe_read_user(&head, 1, from_path);
	e->path_flags = 0;
	if (head == '\0') {
		/* The mount fd itself (MOVE_MOUNT_F_EMPTY_PATH). */
		struct file *f = tp_fd_file(from_dfd);
		struct vfsmount *mnt = f ? BPF_CORE_READ(f, f_path.mnt) : NULL;

		if (mnt) {
			struct mount *m = tp_real_mount(mnt);

			if (bpf_probe_read_kernel_str(e->fstype, sizeof(e->fstype),
						      BPF_CORE_READ(mnt, mnt_sb, s_type, name)) < 0)
				e->fstype[0] = '\0';
			if (bpf_probe_read_kernel_str(e->source, sizeof(e->source),
						      BPF_CORE_READ(m, mnt_devname)) < 0)
				e->source[0] = '\0';
			e->flags = tp_mount_ms_flags(mnt);
		}
	} else {
		e->path_flags = tp_path_at(from_dfd, from_path, e->source) << TP_PATH2_SHIFT;
	}
	e->path_flags |= tp_path_at((int)TP_ARG3(regs), (const char *)TP_ARG4(regs), e->target);
	tp_submit(e, TP_CAT_CONTAINER);
	return 0;
}

/* umount2(target, flags): the tracepoint is named after the kernel's
 * sys_umount, which is umount2 (oldumount is the one-argument call that
 * x86-64 and arm64 do not have). */
SEC("tp/syscalls/sys_exit_umount")
int tp_exit_umount(struct trace_event_raw_sys_exit *ctx)
{
	const struct tp_settings *s = tp_admit(TP_CAT_CONTAINER, ctx->ret < 0);
	struct pt_regs *regs = tp_syscall_regs();
	struct tp_umount_event *e;

	if (!s)
		return 0;
	e = tp_reserve(sizeof(*e), TP_CAT_CONTAINER);
	if (!e)
		return 0;
	tp_fill_hdr(&e->hdr, TP_EV_CONTAINER_UMOUNT, sizeof(*e));
	e->ret = ctx->ret;
	e->flags = TP_ARG2(regs);
	e->_pad = 0;
	e->path_flags = tp_path_at(TP_AT_FDCWD, (const char *)TP_ARG1(regs), e->target);
	tp_submit(e, TP_CAT_CONTAINER);
	return 0;
}

/* ------------------------------------------------------------------ */

static __always_inline struct tp_cgroup_event *cgroup_event(struct cgroup *cgrp, const char *path,
							    __u32 op)
{
	struct tp_cgroup_event *e;

	if (!tp_admit(TP_CAT_CONTAINER, false))
		return NULL;
	e = tp_reserve(sizeof(*e), TP_CAT_CONTAINER);
	if (!e)
		return NULL;
	tp_fill_hdr(&e->hdr, TP_EV_CONTAINER_CGROUP, sizeof(*e));
	e->op = op;
	e->cgroup_id = BPF_CORE_READ(cgrp, kn, id);
	e->hierarchy_id = BPF_CORE_READ(cgrp, root, hierarchy_id);
	e->level = BPF_CORE_READ(cgrp, level);
	e->target_pid = 0;
	e->threadgroup = 0;
	e->_pad = 0;
	e->target_comm[0] = '\0';
	if (bpf_probe_read_kernel_str(e->path, sizeof(e->path), path) < 0)
		e->path[0] = '\0';
	return e;
}

/* raw_tp args: (struct cgroup *cgrp, const char *path) */
SEC("raw_tp/cgroup_mkdir")
int tp_cgroup_mkdir(struct bpf_raw_tracepoint_args *ctx)
{
	struct tp_cgroup_event *e = cgroup_event((struct cgroup *)ctx->args[0],
						 (const char *)ctx->args[1], TP_CGROUP_MKDIR);

	if (e)
		tp_submit(e, TP_CAT_CONTAINER);
	return 0;
}

SEC("raw_tp/cgroup_rmdir")
int tp_cgroup_rmdir(struct bpf_raw_tracepoint_args *ctx)
{
	struct tp_cgroup_event *e = cgroup_event((struct cgroup *)ctx->args[0],
						 (const char *)ctx->args[1], TP_CGROUP_RMDIR);

	if (e)
		tp_submit(e, TP_CAT_CONTAINER);
	return 0;
}

/* raw_tp args: (struct cgroup *dst, const char *path, struct task_struct *task, bool threadgroup)
 */
SEC("raw_tp/cgroup_attach_task")
int tp_cgroup_attach_task(struct bpf_raw_tracepoint_args *ctx)
{
	struct tp_cgroup_event *e = cgroup_event((struct cgroup *)ctx->args[0],
						 (const char *)ctx->args[1], TP_CGROUP_ATTACH);
	struct task_struct *task = (struct task_struct *)ctx->args[2];

	if (!e)
		return 0;
	e->target_pid = BPF_CORE_READ(task, tgid);
	e->threadgroup = (__u8)ctx->args[3];
	if (BPF_CORE_READ_STR_INTO(&e->target_comm, task, comm) < 0)
		e->target_comm[0] = '\0';
	tp_submit(e, TP_CAT_CONTAINER);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
