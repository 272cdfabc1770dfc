// SPDX-License-Identifier: GPL-2.0
/*
 * file.bpf.c - file events: open, rename, unlink, chmod, chown, link,
 * symlink, mkdir.
 *
 * Each syscall of a subtype has one program on its exit tracepoint (see
 * syscall.bpf.h): open, openat, openat2 and creat all give file.open, and
 * so on. A successful open reports the opened file's own path, rebuilt from
 * its dentry; every other path is the one passed, made absolute against the
 * cwd or the directory descriptor (path.bpf.h).
 *
 * Filters, in order: tp_admit (self, failed syscalls, comm, sampling), then
 * the path-prefix exclude list once the paths are known; an event with two
 * paths is excluded only when both are.
 */
#include "path.bpf.h"

#define TP_O_CREAT	       0100
#define TP_O_WRONLY	       01
#define TP_O_TRUNC	       01000
#define TP_AT_SYMLINK_NOFOLLOW 0x100
#define TP_AT_REMOVEDIR	       0x200

/* Submit e unless its paths are excluded. */
static __always_inline int file_finish(void *e, const struct tp_settings *s, const char *path,
				       const char *path2)
{
	if (tp_path_excluded(s, path) && (!path2 || tp_path_excluded(s, path2))) {
		tp_discard(e, TP_CAT_FILE, TP_KSTAT_PATH);
		return 0;
	}
	tp_submit(e, TP_CAT_FILE);
	return 0;
}

static __always_inline int file_open(long ret, __u16 sys, long dfd, const char *upath, __u32 flags,
				     __u32 mode)
{
	const struct tp_settings *s = tp_admit(TP_CAT_FILE, ret < 0);
	struct tp_file_open_event *e;
	struct file *f;

	if (!s)
		return 0;
	e = tp_reserve(sizeof(*e), TP_CAT_FILE);
	if (!e)
		return 0;
	tp_fill_hdr(&e->hdr, TP_EV_FILE_OPEN, sizeof(*e));
	e->ret = ret;
	e->flags = flags;
	e->mode = mode;
	e->syscall = sys;
	e->_pad = 0;
	f = ret >= 0 ? tp_fd_file(ret) : NULL;
	if (f) {
		struct inode *inode = BPF_CORE_READ(f, f_inode);

		e->ino = BPF_CORE_READ(inode, i_ino);
		e->dev = tp_encode_dev(BPF_CORE_READ(inode, i_sb, s_dev));
		e->path_flags = tp_path_of_file(f, e->path);
	} else {
		e->ino = 0;
		e->dev = 0;
		e->path_flags = tp_path_at(dfd, upath, e->path);
	}
	return file_finish(e, s, e->path, NULL);
}

SEC("tp/syscalls/sys_exit_open")
int tp_exit_open(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();

	return file_open(ctx->ret, TP_SYS_OPEN, TP_AT_FDCWD, (const char *)TP_ARG1(regs),
			 TP_ARG2(regs), TP_ARG3(regs));
}

SEC("tp/syscalls/sys_exit_openat")
int tp_exit_openat(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();

	return file_open(ctx->ret, TP_SYS_OPENAT, TP_ARG1(regs), (const char *)TP_ARG2(regs),
			 TP_ARG3(regs), TP_ARG4(regs));
}

SEC("tp/syscalls/sys_exit_openat2")
int tp_exit_openat2(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();
	struct open_how how = {};

	bpf_probe_read_user(&how, sizeof(how), (const void *)TP_ARG3(regs));
	return file_open(ctx->ret, TP_SYS_OPENAT2, TP_ARG1(regs), (const char *)TP_ARG2(regs),
			 how.flags, how.mode);
}

SEC("tp/syscalls/sys_exit_creat")
int tp_exit_creat(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();

	return file_open(ctx->ret, TP_SYS_CREAT, TP_AT_FDCWD, (const char *)TP_ARG1(regs),
			 TP_O_CREAT | TP_O_WRONLY | TP_O_TRUNC, TP_ARG2(regs));
}

/* file.rename and file.link */
static __always_inline int file_two_paths(__u32 type, long ret, __u16 sys, long olddfd,
					  const char *oldp, long newdfd, const char *newp,
					  __u32 flags)
{
	const struct tp_settings *s = tp_admit(TP_CAT_FILE, ret < 0);
	struct tp_file_rename_event *e;

	if (!s)
		return 0;
	e = tp_reserve(sizeof(*e), TP_CAT_FILE);
	if (!e)
		return 0;
	tp_fill_hdr(&e->hdr, type, sizeof(*e));
	e->ret = ret;
	e->flags = flags;
	e->syscall = sys;
	e->_pad = 0;
	e->path_flags = tp_path_at(olddfd, oldp, e->oldpath);
	e->path_flags |= tp_path_at(newdfd, newp, e->newpath) << TP_PATH2_SHIFT;
	return file_finish(e, s, e->oldpath, e->newpath);
}

SEC("tp/syscalls/sys_exit_rename")
int tp_exit_rename(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();

	return file_two_paths(TP_EV_FILE_RENAME, ctx->ret, TP_SYS_RENAME, TP_AT_FDCWD,
			      (const char *)TP_ARG1(regs), TP_AT_FDCWD, (const char *)TP_ARG2(regs),
			      0);
}

SEC("tp/syscalls/sys_exit_renameat")
int tp_exit_renameat(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();

	return file_two_paths(TP_EV_FILE_RENAME, ctx->ret, TP_SYS_RENAMEAT, TP_ARG1(regs),
			      (const char *)TP_ARG2(regs), TP_ARG3(regs),
			      (const char *)TP_ARG4(regs), 0);
}

SEC("tp/syscalls/sys_exit_renameat2")
int tp_exit_renameat2(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();

	return file_two_paths(TP_EV_FILE_RENAME, ctx->ret, TP_SYS_RENAMEAT2, TP_ARG1(regs),
			      (const char *)TP_ARG2(regs), TP_ARG3(regs),
			      (const char *)TP_ARG4(regs), TP_ARG5(regs));
}

SEC("tp/syscalls/sys_exit_link")
int tp_exit_link(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();

	return file_two_paths(TP_EV_FILE_LINK, ctx->ret, TP_SYS_LINK, TP_AT_FDCWD,
			      (const char *)TP_ARG1(regs), TP_AT_FDCWD, (const char *)TP_ARG2(regs),
			      0);
}

SEC("tp/syscalls/sys_exit_linkat")
int tp_exit_linkat(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();

	return file_two_paths(TP_EV_FILE_LINK, ctx->ret, TP_SYS_LINKAT, TP_ARG1(regs),
			      (const char *)TP_ARG2(regs), TP_ARG3(regs),
			      (const char *)TP_ARG4(regs), TP_ARG5(regs));
}

/* file.unlink, file.mkdir, file.chmod: one path, from a name or a descriptor. */
static __always_inline int file_one_path(__u32 type, long ret, __u16 sys, long dfd,
					 const char *upath, long fd, __u32 mode, __u32 flags)
{
	const struct tp_settings *s = tp_admit(TP_CAT_FILE, ret < 0);
	struct tp_file_path_event *e;

	if (!s)
		return 0;
	e = tp_reserve(sizeof(*e), TP_CAT_FILE);
	if (!e)
		return 0;
	tp_fill_hdr(&e->hdr, type, sizeof(*e));
	e->ret = ret;
	e->mode = mode;
	e->flags = flags;
	e->syscall = sys;
	e->_pad[0] = e->_pad[1] = e->_pad[2] = 0;
	if (fd >= 0)
		e->path_flags = tp_path_of_file(tp_fd_file(fd), e->path);
	else
		e->path_flags = tp_path_at(dfd, upath, e->path);
	return file_finish(e, s, e->path, NULL);
}

SEC("tp/syscalls/sys_exit_unlink")
int tp_exit_unlink(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();

	return file_one_path(TP_EV_FILE_UNLINK, ctx->ret, TP_SYS_UNLINK, TP_AT_FDCWD,
			     (const char *)TP_ARG1(regs), -1, 0, 0);
}

SEC("tp/syscalls/sys_exit_unlinkat")
int tp_exit_unlinkat(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();

	return file_one_path(TP_EV_FILE_UNLINK, ctx->ret, TP_SYS_UNLINKAT, TP_ARG1(regs),
			     (const char *)TP_ARG2(regs), -1, 0, TP_ARG3(regs));
}

SEC("tp/syscalls/sys_exit_rmdir")
int tp_exit_rmdir(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();

	return file_one_path(TP_EV_FILE_UNLINK, ctx->ret, TP_SYS_RMDIR, TP_AT_FDCWD,
			     (const char *)TP_ARG1(regs), -1, 0, TP_AT_REMOVEDIR);
}

SEC("tp/syscalls/sys_exit_mkdir")
int tp_exit_mkdir(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();

	return file_one_path(TP_EV_FILE_MKDIR, ctx->ret, TP_SYS_MKDIR, TP_AT_FDCWD,
			     (const char *)TP_ARG1(regs), -1, TP_ARG2(regs), 0);
}

SEC("tp/syscalls/sys_exit_mkdirat")
int tp_exit_mkdirat(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();

	return file_one_path(TP_EV_FILE_MKDIR, ctx->ret, TP_SYS_MKDIRAT, TP_ARG1(regs),
			     (const char *)TP_ARG2(regs), -1, TP_ARG3(regs), 0);
}

SEC("tp/syscalls/sys_exit_chmod")
int tp_exit_chmod(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();

	return file_one_path(TP_EV_FILE_CHMOD, ctx->ret, TP_SYS_CHMOD, TP_AT_FDCWD,
			     (const char *)TP_ARG1(regs), -1, TP_ARG2(regs), 0);
}

SEC("tp/syscalls/sys_exit_fchmod")
int tp_exit_fchmod(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();

	return file_one_path(TP_EV_FILE_CHMOD, ctx->ret, TP_SYS_FCHMOD, TP_AT_FDCWD, NULL,
			     (int)TP_ARG1(regs), TP_ARG2(regs), 0);
}

SEC("tp/syscalls/sys_exit_fchmodat")
int tp_exit_fchmodat(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();

	return file_one_path(TP_EV_FILE_CHMOD, ctx->ret, TP_SYS_FCHMODAT, TP_ARG1(regs),
			     (const char *)TP_ARG2(regs), -1, TP_ARG3(regs), 0);
}

SEC("tp/syscalls/sys_exit_fchmodat2")
int tp_exit_fchmodat2(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();

	return file_one_path(TP_EV_FILE_CHMOD, ctx->ret, TP_SYS_FCHMODAT2, TP_ARG1(regs),
			     (const char *)TP_ARG2(regs), -1, TP_ARG3(regs), TP_ARG4(regs));
}

/* file.chown */
static __always_inline int file_chown(long ret, __u16 sys, long dfd, const char *upath, long fd,
				      __u32 uid, __u32 gid, __u32 flags)
{
	const struct tp_settings *s = tp_admit(TP_CAT_FILE, ret < 0);
	struct tp_file_chown_event *e;

	if (!s)
		return 0;
	e = tp_reserve(sizeof(*e), TP_CAT_FILE);
	if (!e)
		return 0;
	tp_fill_hdr(&e->hdr, TP_EV_FILE_CHOWN, sizeof(*e));
	e->ret = ret;
	e->uid = uid;
	e->gid = gid;
	e->flags = flags;
	e->syscall = sys;
	e->_pad = 0;
	if (fd >= 0)
		e->path_flags = tp_path_of_file(tp_fd_file(fd), e->path);
	else
		e->path_flags = tp_path_at(dfd, upath, e->path);
	return file_finish(e, s, e->path, NULL);
}

SEC("tp/syscalls/sys_exit_chown")
int tp_exit_chown(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();

	return file_chown(ctx->ret, TP_SYS_CHOWN, TP_AT_FDCWD, (const char *)TP_ARG1(regs), -1,
			  TP_ARG2(regs), TP_ARG3(regs), 0);
}

SEC("tp/syscalls/sys_exit_lchown")
int tp_exit_lchown(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();

	return file_chown(ctx->ret, TP_SYS_LCHOWN, TP_AT_FDCWD, (const char *)TP_ARG1(regs), -1,
			  TP_ARG2(regs), TP_ARG3(regs), TP_AT_SYMLINK_NOFOLLOW);
}

SEC("tp/syscalls/sys_exit_fchown")
int tp_exit_fchown(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();

	return file_chown(ctx->ret, TP_SYS_FCHOWN, TP_AT_FDCWD, NULL, (int)TP_ARG1(regs),
			  TP_ARG2(regs), TP_ARG3(regs), 0);
}

SEC("tp/syscalls/sys_exit_fchownat")
int tp_exit_fchownat(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();

	return file_chown(ctx->ret, TP_SYS_FCHOWNAT, TP_ARG1(regs), (const char *)TP_ARG2(regs), -1,
			  TP_ARG3(regs), TP_ARG4(regs), TP_ARG5(regs));
}

/* file.symlink: the target is content, kept as given. */
static __always_inline int file_symlink(long ret, __u16 sys, const char *target, long newdfd,
					const char *linkpath)
{
	const struct tp_settings *s = tp_admit(TP_CAT_FILE, ret < 0);
	struct tp_file_symlink_event *e;

	if (!s)
		return 0;
	e = tp_reserve(sizeof(*e), TP_CAT_FILE);
	if (!e)
		return 0;
	tp_fill_hdr(&e->hdr, TP_EV_FILE_SYMLINK, sizeof(*e));
	e->ret = ret;
	e->syscall = sys;
	e->_pad[0] = e->_pad[1] = e->_pad[2] = 0;
	if (bpf_probe_read_user_str(e->target, sizeof(e->target), target) < 0)
		e->target[0] = '\0';
	e->path_flags = tp_path_at(newdfd, linkpath, e->linkpath);
	return file_finish(e, s, e->linkpath, NULL);
}

SEC("tp/syscalls/sys_exit_symlink")
int tp_exit_symlink(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();

	return file_symlink(ctx->ret, TP_SYS_SYMLINK, (const char *)TP_ARG1(regs), TP_AT_FDCWD,
			    (const char *)TP_ARG2(regs));
}

SEC("tp/syscalls/sys_exit_symlinkat")
int tp_exit_symlinkat(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();

	return file_symlink(ctx->ret, TP_SYS_SYMLINKAT, (const char *)TP_ARG1(regs), TP_ARG2(regs),
			    (const char *)TP_ARG3(regs));
}

char LICENSE[] SEC("license") = "GPL";
