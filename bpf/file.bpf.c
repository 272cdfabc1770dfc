// SPDX-License-Identifier: GPL-2.0
/*
 * file.bpf.c - file events: open, rename, unlink, chmod, chown, link,
 * symlink, mkdir, utimes, xattr.
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
#define TP_PROC_SUPER_MAGIC    0x9fa0

/*
 * A successful open of /proc/PID/mem, /proc/PID/maps or /proc/PID/environ
 * (or of a thread's, under task/TID) of another process: that process's
 * tgid, else 0. A proc inode keeps the struct pid of the task it shows;
 * the task is the one on the pid's PIDTYPE_PID list (as pid_task() finds
 * it). Only files of a proc superblock are looked at (the caller compares
 * the superblock's magic), so every other open pays one compare.
 */
static __always_inline __u32 proc_target_pid(struct file *f, struct inode *inode)
{
	struct proc_inode *pi;
	struct hlist_node *node;
	struct task_struct *t;
	const unsigned char *name;
	struct pid *pid;
	__u64 word = 0, mem, maps, environ;
	__u32 tgid;

	name = BPF_CORE_READ(f, f_path.dentry, d_name.name);
	/* Names are NUL-terminated and short ones sit inline in the dentry:
	 * 8 bytes are always there to read. */
	if (!name || bpf_probe_read_kernel(&word, sizeof(word), name) < 0)
		return 0;
	__builtin_memcpy(&mem, "mem\0\0\0\0", 8);
	__builtin_memcpy(&maps, "maps\0\0\0", 8);
	__builtin_memcpy(&environ, "environ", 8);
	if ((word & 0xffffffffull) != mem && (word & 0xffffffffffull) != maps && word != environ)
		return 0;
	pi = (struct proc_inode *)((void *)inode - bpf_core_field_offset(struct proc_inode, vfs_inode));
	pid = BPF_CORE_READ(pi, pid);
	node = pid ? BPF_CORE_READ(pid, tasks[PIDTYPE_PID].first) : NULL;
	if (!node)
		return 0;
	t = (struct task_struct *)((void *)node - bpf_core_field_offset(struct task_struct, pid_links));
	tgid = BPF_CORE_READ(t, tgid);
	return tgid == (__u32)(bpf_get_current_pid_tgid() >> 32) ? 0 : tgid;
}

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

/*
 * Send a record of struct type st, whose last field is its path (char
 * path[TP_PATH_MAX]) and which has path_flags, for a path made in the
 * scratch buffer (pos, len), in the smallest size class that holds the
 * path: a path field of 32, 64, 128 or TP_PATH_MAX bytes (a reserve takes
 * a constant size, hence the classes). The copy ends the path at the
 * 8-byte word that holds its NUL, zeroed after it, and the header's size
 * (TP_PATH_RECORD_SIZE) ends the record there; the ring reader decodes
 * that much (src/bpf/source_bpf.c), so what lies after it in the class is
 * never read. The statements after path_flags set the record's other
 * fields through e.
 */
#define PATH_CLASS_SUBMIT(st, type, sc, pos, len, path_flags, cap, ...)                            \
	do {                                                                                       \
		st *e = tp_reserve(offsetof(st, path) + (cap), TP_CAT_FILE);                       \
		__u32 pf_ = (path_flags), n_ = (len) < (cap) ? (len) : (cap)-1;                    \
                                                                                                   \
		if (e) {                                                                           \
			tp_fill_hdr(&e->hdr, type, TP_PATH_RECORD_SIZE(st, n_));                   \
			__VA_ARGS__;                                                               \
			tp_path_copy_cap(e->path, (sc)->buf, pos, len, &pf_, cap);                 \
			e->path_flags = pf_;                                                       \
			tp_submit(e, TP_CAT_FILE);                                                 \
		}                                                                                  \
	} while (0)

#define PATH_SEND(st, type, sc, pos, len, path_flags, ...)                                         \
	do {                                                                                       \
		if ((len) < 32)                                                                    \
			PATH_CLASS_SUBMIT(st, type, sc, pos, len, path_flags, 32, __VA_ARGS__);    \
		else if ((len) < 64)                                                               \
			PATH_CLASS_SUBMIT(st, type, sc, pos, len, path_flags, 64, __VA_ARGS__);    \
		else if ((len) < 128)                                                              \
			PATH_CLASS_SUBMIT(st, type, sc, pos, len, path_flags, 128, __VA_ARGS__);   \
		else                                                                               \
			PATH_CLASS_SUBMIT(st, type, sc, pos, len, path_flags, TP_PATH_MAX,         \
					  __VA_ARGS__);                                            \
	} while (0)

/* Is the path made in the scratch buffer (pos, len) under an excluded
 * prefix? Then the event is dropped before anything is reserved, and
 * counted (reason "path"). */
static __always_inline bool path_dropped(const struct tp_settings *s, struct tp_path_scratch *sc,
					 __u32 pos, __u32 len)
{
	if (!tp_path_excluded_at(s, sc, pos, len))
		return false;
	tp_kstat(TP_CAT_FILE, TP_KSTAT_PATH);
	return true;
}

/* A file.open's fields but its path. */
struct open_fields {
	__u64 ino;
	__s32 ret;
	__u32 flags, mode, dev, target;
	__u16 sys;
};

/* A file.open record whose proc_target_pid is set: the whole struct. */
static __always_inline void open_submit_whole(const struct open_fields *o,
					      struct tp_path_scratch *sc, __u32 pos, __u32 len,
					      __u32 path_flags)
{
	struct tp_file_open_event *e = tp_reserve(sizeof(*e), TP_CAT_FILE);

	if (!e)
		return;
	tp_fill_hdr(&e->hdr, TP_EV_FILE_OPEN, sizeof(*e));
	e->ret = o->ret;
	e->flags = o->flags;
	e->mode = o->mode;
	e->syscall = o->sys;
	e->_pad = 0;
	e->ino = o->ino;
	e->dev = o->dev;
	e->proc_target_pid = o->target;
	e->_pad2 = 0;
	tp_path_copy(e->path, sc->buf, pos, len, &path_flags);
	e->path_flags = path_flags;
	tp_submit(e, TP_CAT_FILE);
}

/*
 * typed (a constant): the opened file is read with typed loads (TP_CAST,
 * path.bpf.h). The path is made first, in the scratch buffer: an open
 * under an excluded prefix is dropped before a record is reserved and
 * filled (counted as before, under reason "path").
 */
static __always_inline int file_open(long ret, __u16 sys, long dfd, const char *upath, __u32 flags,
				     __u32 mode, const bool typed)
{
	const struct tp_settings *s = tp_admit(TP_CAT_FILE, ret < 0);
	struct open_fields o = {.ret = ret, .flags = flags, .mode = mode, .sys = sys};
	struct tp_path_scratch *sc;
	__u32 path_flags, pos, len, dev = 0, magic;
	struct file *f;

	if (!s)
		return 0;
	sc = tp_scratch();
	if (!sc)
		return 0; /* never: a one-entry array */
	f = ret >= 0 ? tp_fd_file(ret) : NULL;
	if (f) {
		struct inode *inode;
		struct super_block *sb;

		if (typed) {
			f = TP_CAST(f, struct file);
			inode = f->f_inode;
			sb = inode->i_sb;
			o.ino = inode->i_ino;
			dev = sb->s_dev;
			magic = sb->s_magic;
		} else {
			inode = BPF_CORE_READ(f, f_inode);
			sb = BPF_CORE_READ(inode, i_sb);
			o.ino = BPF_CORE_READ(inode, i_ino);
			dev = BPF_CORE_READ(sb, s_dev);
			magic = BPF_CORE_READ(sb, s_magic);
		}
		o.dev = tp_encode_dev(dev);
		o.target = magic == TP_PROC_SUPER_MAGIC ? proc_target_pid(f, inode) : 0;
		path_flags = tp_path_of_file_scratch(sc, f, typed, &pos, &len);
	} else {
		path_flags = tp_path_at_scratch(sc, dfd, upath, &pos, &len);
	}
	if (path_dropped(s, sc, pos, len))
		return 0;
	if (o.target) {
		open_submit_whole(&o, sc, pos, len, path_flags);
		return 0;
	}
	PATH_SEND(struct tp_file_open_event, TP_EV_FILE_OPEN, sc, pos, len, path_flags,
		  e->ret = o.ret;
		  e->flags = o.flags; e->mode = o.mode; e->syscall = o.sys; e->_pad = 0;
		  e->ino = o.ino; e->dev = o.dev);
	return 0;
}

static __always_inline int exit_open(struct trace_event_raw_sys_exit *ctx, const bool typed)
{
	struct pt_regs *regs = tp_syscall_regs();

	return file_open(ctx->ret, TP_SYS_OPEN, TP_AT_FDCWD, (const char *)TP_ARG1(regs),
			 TP_ARG2(regs), TP_ARG3(regs), typed);
}

static __always_inline int exit_openat(struct trace_event_raw_sys_exit *ctx, const bool typed)
{
	struct pt_regs *regs = tp_syscall_regs();

	return file_open(ctx->ret, TP_SYS_OPENAT, TP_ARG1(regs), (const char *)TP_ARG2(regs),
			 TP_ARG3(regs), TP_ARG4(regs), typed);
}

/* The hot ones typed, each with its twin for kernels without typed casts. */
SEC("tp/syscalls/sys_exit_open")
int tp_exit_open(struct trace_event_raw_sys_exit *ctx)
{
	return exit_open(ctx, true);
}

SEC("tp/syscalls/sys_exit_open")
int tp_exit_open_compat(struct trace_event_raw_sys_exit *ctx)
{
	return exit_open(ctx, false);
}

SEC("tp/syscalls/sys_exit_openat")
int tp_exit_openat(struct trace_event_raw_sys_exit *ctx)
{
	return exit_openat(ctx, true);
}

SEC("tp/syscalls/sys_exit_openat")
int tp_exit_openat_compat(struct trace_event_raw_sys_exit *ctx)
{
	return exit_openat(ctx, false);
}

SEC("tp/syscalls/sys_exit_openat2")
int tp_exit_openat2(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();
	struct open_how how = {};

	bpf_probe_read_user(&how, sizeof(how), (const void *)TP_ARG3(regs));
	return file_open(ctx->ret, TP_SYS_OPENAT2, TP_ARG1(regs), (const char *)TP_ARG2(regs),
			 how.flags, how.mode, false);
}

SEC("tp/syscalls/sys_exit_creat")
int tp_exit_creat(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();

	return file_open(ctx->ret, TP_SYS_CREAT, TP_AT_FDCWD, (const char *)TP_ARG1(regs),
			 TP_O_CREAT | TP_O_WRONLY | TP_O_TRUNC, TP_ARG2(regs), false);
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

/*
 * The path of an event about one file, in the scratch buffer: the file of
 * descriptor fd when fd >= 0, else upath made absolute against dfd.
 * Returns path flags.
 */
static __always_inline __u32 one_path_scratch(struct tp_path_scratch *sc, long dfd,
					      const char *upath, long fd, __u32 *pos, __u32 *len)
{
	struct file *f;

	*pos = 0;
	*len = 0;
	if (fd < 0)
		return tp_path_at_scratch(sc, dfd, upath, pos, len);
	f = tp_fd_file(fd);
	return f ? tp_path_of_file_scratch(sc, f, false, pos, len) : TP_PATH_UNRESOLVED;
}

/* The settings and the scratch buffer, with the path of an event about one
 * file in it; NULL when the event was dropped (and counted) before any
 * record was reserved: by tp_admit, or for its path. */
static __always_inline struct tp_path_scratch *
one_path(long ret, long dfd, const char *upath, long fd, __u32 *path_flags, __u32 *pos, __u32 *len)
{
	const struct tp_settings *s = tp_admit(TP_CAT_FILE, ret < 0);
	struct tp_path_scratch *sc;

	if (!s)
		return NULL;
	sc = tp_scratch();
	if (!sc)
		return NULL; /* never: a one-entry array */
	*path_flags = one_path_scratch(sc, dfd, upath, fd, pos, len);
	return path_dropped(s, sc, *pos, *len) ? NULL : sc;
}

/* file.unlink, file.mkdir, file.chmod: one path, from a name or a
 * descriptor (fd >= 0). */
static __always_inline int file_one_path(__u32 type, long ret, __u16 sys, long dfd,
					 const char *upath, long fd, __u32 mode, __u32 flags)
{
	__u32 path_flags, pos, len;
	struct tp_path_scratch *sc = one_path(ret, dfd, upath, fd, &path_flags, &pos, &len);

	if (!sc)
		return 0;
	PATH_SEND(struct tp_file_path_event, type, sc, pos, len, path_flags, e->ret = ret;
		  e->mode = mode; e->flags = flags; e->syscall = sys;
		  e->_pad[0] = e->_pad[1] = e->_pad[2] = 0);
	return 0;
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
	__u32 path_flags, pos, len;
	struct tp_path_scratch *sc = one_path(ret, dfd, upath, fd, &path_flags, &pos, &len);

	if (!sc)
		return 0;
	PATH_SEND(struct tp_file_chown_event, TP_EV_FILE_CHOWN, sc, pos, len, path_flags,
		  e->ret = ret;
		  e->uid = uid; e->gid = gid; e->flags = flags; e->syscall = sys; e->_pad = 0);
	return 0;
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

/* ------------------------------------------------------------------ */
/* file.utimes */

#define TP_UTIME_NOW  ((1l << 30) - 1l)
#define TP_UTIME_OMIT ((1l << 30) - 2l)

/* One time of utimensat: a timespec, or UTIME_NOW / UTIME_OMIT in tv_nsec
 * (then the time is 0 and the flag bit says which). */
static __always_inline __u32 utime_spec(const struct __kernel_timespec *ts, __s64 *sec, __u32 *nsec,
					__u32 now_bit, __u32 omit_bit)
{
	*sec = ts->tv_sec;
	*nsec = (__u32)ts->tv_nsec;
	if (ts->tv_nsec != TP_UTIME_NOW && ts->tv_nsec != TP_UTIME_OMIT)
		return 0;
	*sec = 0;
	*nsec = 0;
	return ts->tv_nsec == TP_UTIME_NOW ? now_bit : omit_bit;
}

/* How the times were passed: a timespec pair (utimensat), a timeval pair
 * (utimes, futimesat) or a utimbuf of two time_t (utime). */
enum utimes_kind { UT_TIMESPEC, UT_TIMEVAL, UT_UTIMBUF };

static __always_inline int file_utimes(long ret, __u16 sys, long dfd, const char *upath, long fd,
				       const void *utimes, enum utimes_kind kind, __u32 flags)
{
	__s64 t[4] = {}, asec = 0, msec = 0;
	__u32 path_flags, pos, len, ansec = 0, mnsec = 0, time_flags = 0;
	struct tp_path_scratch *sc;

	/* utimensat with no name (futimens) or AT_EMPTY_PATH: the descriptor. */
	sc = one_path(ret, dfd, upath, fd, &path_flags, &pos, &len);
	if (!sc)
		return 0;
	if (!utimes || bpf_probe_read_user(t, kind == UT_UTIMBUF ? 16 : sizeof(t), utimes) < 0) {
		/* No times: both set to the current time. */
		time_flags = TP_UTIME_ATIME_NOW | TP_UTIME_MTIME_NOW;
	} else if (kind == UT_TIMESPEC) {
		struct __kernel_timespec *ts = (struct __kernel_timespec *)t;

		time_flags =
		    utime_spec(&ts[0], &asec, &ansec, TP_UTIME_ATIME_NOW, TP_UTIME_ATIME_OMIT) |
		    utime_spec(&ts[1], &msec, &mnsec, TP_UTIME_MTIME_NOW, TP_UTIME_MTIME_OMIT);
	} else if (kind == UT_TIMEVAL) {
		asec = t[0];
		ansec = (__u32)t[1] * 1000;
		msec = t[2];
		mnsec = (__u32)t[3] * 1000;
	} else {
		asec = t[0];
		msec = t[1];
	}
	PATH_SEND(struct tp_file_utimes_event, TP_EV_FILE_UTIMES, sc, pos, len, path_flags,
		  e->ret = ret;
		  e->flags = flags; e->syscall = sys; e->_pad[0] = e->_pad[1] = e->_pad[2] = 0;
		  e->time_flags = time_flags; e->atime_sec = asec; e->atime_nsec = ansec;
		  e->mtime_sec = msec; e->mtime_nsec = mnsec);
	return 0;
}

SEC("tp/syscalls/sys_exit_utimensat")
int tp_exit_utimensat(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();
	const char *upath = (const char *)TP_ARG2(regs);
	long dfd = (int)TP_ARG1(regs);

	/* A NULL name is the kernel's futimens: the times of dfd itself. */
	return file_utimes(ctx->ret, TP_SYS_UTIMENSAT, dfd, upath, upath ? -1 : dfd,
			   (const void *)TP_ARG3(regs), UT_TIMESPEC, TP_ARG4(regs));
}

SEC("tp/syscalls/sys_exit_utimes")
int tp_exit_utimes(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();

	return file_utimes(ctx->ret, TP_SYS_UTIMES, TP_AT_FDCWD, (const char *)TP_ARG1(regs), -1,
			   (const void *)TP_ARG2(regs), UT_TIMEVAL, 0);
}

SEC("tp/syscalls/sys_exit_futimesat")
int tp_exit_futimesat(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();
	const char *upath = (const char *)TP_ARG2(regs);
	long dfd = (int)TP_ARG1(regs);

	return file_utimes(ctx->ret, TP_SYS_FUTIMESAT, dfd, upath, upath ? -1 : dfd,
			   (const void *)TP_ARG3(regs), UT_TIMEVAL, 0);
}

SEC("tp/syscalls/sys_exit_utime")
int tp_exit_utime(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();

	return file_utimes(ctx->ret, TP_SYS_UTIME, TP_AT_FDCWD, (const char *)TP_ARG1(regs), -1,
			   (const void *)TP_ARG2(regs), UT_UTIMBUF, 0);
}

/* ------------------------------------------------------------------ */
/* file.xattr */

#define TP_VFS_CAP_REVISION_MASK 0xff000000
#define TP_VFS_CAP_REVISION_1	 0x01000000
#define TP_VFS_CAP_REVISION_3	 0x03000000
#define TP_VFS_CAP_FLAGS_EFFECTIVE 0x000001

/* struct vfs_ns_cap_data: the value of security.capability (revision 1
 * has one 32-bit word per set, 2 and 3 two; 3 adds the root uid). */
struct tp_vfs_cap {
	__u32 magic_etc;
	__u32 data[4]; /* permitted[0], inheritable[0], permitted[1], inheritable[1] */
	__u32 rootid;
};

/* Is name "security.capability"? */
static __always_inline bool xattr_is_capability(const char *name)
{
	__u64 w[3], c[3];

	__builtin_memcpy(w, name, sizeof(w));
	__builtin_memcpy(c, "security.capability\0\0\0\0", sizeof(c));
	return w[0] == c[0] && w[1] == c[1] && (w[2] & 0xffffffffull) == (c[2] & 0xffffffffull);
}

static __always_inline void xattr_caps(struct tp_file_xattr_event *e, const void *value, __u32 size)
{
	struct tp_vfs_cap v = {};
	__u32 rev;

	if (size < 12 || bpf_probe_read_user(&v, size < sizeof(v) ? 12 : sizeof(v), value) < 0)
		return;
	if (size >= 20 && size < sizeof(v))
		bpf_probe_read_user(&v, 20, value);
	rev = v.magic_etc & TP_VFS_CAP_REVISION_MASK;
	e->cap_permitted = v.data[0];
	e->cap_inheritable = v.data[1];
	if (rev != TP_VFS_CAP_REVISION_1 && size >= 20) {
		e->cap_permitted |= (__u64)v.data[2] << 32;
		e->cap_inheritable |= (__u64)v.data[3] << 32;
	}
	e->cap_rootid = rev == TP_VFS_CAP_REVISION_3 && size >= sizeof(v) ? v.rootid : 0;
	e->cap_effective = (v.magic_etc & TP_VFS_CAP_FLAGS_EFFECTIVE) != 0;
	e->xattr_flags |= TP_XATTR_CAPS;
}

/*
 * One xattr call. The path is the one passed (dfd + name; AT_EMPTY_PATH
 * or an f*xattr call: the descriptor's file). value/size/flags only for a
 * set.
 */
static __always_inline int file_xattr(long ret, __u16 sys, __u8 op, long dfd, const char *upath,
				      long fd, const char *uname, const void *value, __u32 size,
				      __u32 flags, __u32 at_flags)
{
	const struct tp_settings *s = tp_admit(TP_CAT_FILE, ret < 0);
	struct tp_file_xattr_event *e;

	if (!s)
		return 0;
	e = tp_reserve(sizeof(*e), TP_CAT_FILE);
	if (!e)
		return 0;
	tp_fill_hdr(&e->hdr, TP_EV_FILE_XATTR, sizeof(*e));
	e->ret = ret;
	e->op = op;
	e->flags = flags;
	e->size = size;
	e->at_flags = at_flags;
	e->syscall = sys;
	e->xattr_flags = 0;
	e->cap_permitted = e->cap_inheritable = 0;
	e->cap_effective = e->cap_rootid = 0;
	__builtin_memset(e->_pad, 0, sizeof(e->_pad));
	if (bpf_probe_read_user_str(e->name, sizeof(e->name), uname) < 0)
		e->name[0] = '\0';
	if (op == TP_XATTR_SET && xattr_is_capability(e->name))
		xattr_caps(e, value, size);
	if (fd >= 0)
		e->path_flags = tp_path_of_file(tp_fd_file(fd), e->path);
	else
		e->path_flags = tp_path_at(dfd, upath, e->path);
	return file_finish(e, s, e->path, NULL);
}

SEC("tp/syscalls/sys_exit_setxattr")
int tp_exit_setxattr(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();

	return file_xattr(ctx->ret, TP_SYS_SETXATTR, TP_XATTR_SET, TP_AT_FDCWD,
			  (const char *)TP_ARG1(regs), -1, (const char *)TP_ARG2(regs),
			  (const void *)TP_ARG3(regs), TP_ARG4(regs), TP_ARG5(regs), 0);
}

SEC("tp/syscalls/sys_exit_lsetxattr")
int tp_exit_lsetxattr(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();

	return file_xattr(ctx->ret, TP_SYS_LSETXATTR, TP_XATTR_SET, TP_AT_FDCWD,
			  (const char *)TP_ARG1(regs), -1, (const char *)TP_ARG2(regs),
			  (const void *)TP_ARG3(regs), TP_ARG4(regs), TP_ARG5(regs),
			  TP_AT_SYMLINK_NOFOLLOW);
}

SEC("tp/syscalls/sys_exit_fsetxattr")
int tp_exit_fsetxattr(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();

	return file_xattr(ctx->ret, TP_SYS_FSETXATTR, TP_XATTR_SET, TP_AT_FDCWD, NULL,
			  (int)TP_ARG1(regs), (const char *)TP_ARG2(regs),
			  (const void *)TP_ARG3(regs), TP_ARG4(regs), TP_ARG5(regs), 0);
}

#define TP_AT_EMPTY_PATH 0x1000

/* setxattrat(dfd, path, at_flags, name, struct xattr_args *uargs, usize), 6.13+ */
SEC("tp/syscalls/sys_exit_setxattrat")
int tp_exit_setxattrat(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();
	struct {
		__u64 value;
		__u32 size;
		__u32 flags;
	} args = {};
	const char *upath = (const char *)TP_ARG2(regs);
	long dfd = (int)TP_ARG1(regs);
	__u32 at_flags = TP_ARG3(regs);
	char head = 0;

	bpf_probe_read_user(&args, sizeof(args), (const void *)TP_ARG5(regs));
	if (at_flags & TP_AT_EMPTY_PATH)
		bpf_probe_read_user(&head, 1, upath);
	return file_xattr(ctx->ret, TP_SYS_SETXATTRAT, TP_XATTR_SET, dfd, upath,
			  (at_flags & TP_AT_EMPTY_PATH) && !head ? dfd : -1,
			  (const char *)TP_ARG4(regs), (const void *)args.value, args.size, args.flags,
			  at_flags);
}

SEC("tp/syscalls/sys_exit_removexattr")
int tp_exit_removexattr(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();

	return file_xattr(ctx->ret, TP_SYS_REMOVEXATTR, TP_XATTR_REMOVE, TP_AT_FDCWD,
			  (const char *)TP_ARG1(regs), -1, (const char *)TP_ARG2(regs), NULL, 0, 0, 0);
}

SEC("tp/syscalls/sys_exit_lremovexattr")
int tp_exit_lremovexattr(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();

	return file_xattr(ctx->ret, TP_SYS_LREMOVEXATTR, TP_XATTR_REMOVE, TP_AT_FDCWD,
			  (const char *)TP_ARG1(regs), -1, (const char *)TP_ARG2(regs), NULL, 0, 0,
			  TP_AT_SYMLINK_NOFOLLOW);
}

SEC("tp/syscalls/sys_exit_fremovexattr")
int tp_exit_fremovexattr(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();

	return file_xattr(ctx->ret, TP_SYS_FREMOVEXATTR, TP_XATTR_REMOVE, TP_AT_FDCWD, NULL,
			  (int)TP_ARG1(regs), (const char *)TP_ARG2(regs), NULL, 0, 0, 0);
}

/* removexattrat(dfd, path, at_flags, name), 6.13+ */
SEC("tp/syscalls/sys_exit_removexattrat")
int tp_exit_removexattrat(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();
	const char *upath = (const char *)TP_ARG2(regs);
	long dfd = (int)TP_ARG1(regs);
	__u32 at_flags = TP_ARG3(regs);
	char head = 0;

	if (at_flags & TP_AT_EMPTY_PATH)
		bpf_probe_read_user(&head, 1, upath);
	return file_xattr(ctx->ret, TP_SYS_REMOVEXATTRAT, TP_XATTR_REMOVE, dfd, upath,
			  (at_flags & TP_AT_EMPTY_PATH) && !head ? dfd : -1,
			  (const char *)TP_ARG4(regs), NULL, 0, 0, at_flags);
}

char LICENSE[] SEC("license") = "GPL";
