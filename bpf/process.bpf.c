// SPDX-License-Identifier: GPL-2.0
/*
 * process.bpf.c - process lifecycle: exec (successful and failed), fork,
 * exit, and renames (prctl PR_SET_NAME, writes to /proc/.../comm).
 *
 * Successful execs come from sched_process_exec, where the new image's argv
 * is read from its own memory (what ps shows, interpreter included), with
 * what was executed (the file: memfd, deleted, overlay layer, writable,
 * inode), the session it runs in (tty, login session, session leader, what
 * fds 0-2 are) and the allow-listed environment variables. Failed execs
 * never reach that hook: the syscall exit reports them with the error,
 * reading the filename and argv as passed from the caller's memory. Forks
 * are reported for new processes only (threads are not), with the header
 * describing the child; exit is reported when the last thread of a process
 * exits.
 */
#include "syscall.bpf.h"

#define TP_EXEC_MAX_ARGS 32
#define TP_EXEC_ARG_MAX 256 /* one argument read at a time, at most this long */

/* Scratch space to gather a failed exec's argv: the slack past TP_ARGV_MAX
 * keeps every bounded read in bounds for the verifier. */
struct exec_args {
	char argv[TP_ARGV_MAX + TP_EXEC_ARG_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct exec_args);
} exec_args_scratch SEC(".maps");

/*
 * The name a task had before its exec, from task_rename (see process.rename
 * below) to sched_process_exec: a slot per tid modulo TP_OLD_COMM_SLOTS,
 * stamped with the tid. An array slot is a few instructions (the verifier
 * inlines the lookup); the LRU hash it replaces cost ~3 us per exec to
 * update and again to delete. Every exec renames its task before
 * sched_process_exec, so the slot of a tid is always this exec's; two execs
 * in flight at once whose tids collide lose old_comm (the stamps differ:
 * empty, never another task's name).
 */
#define TP_OLD_COMM_SLOTS 4096

struct old_comm_slot {
	__u32 tid;    /* 0 while being written */
	__u32 _pad;
	char comm[TP_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TP_OLD_COMM_SLOTS);
	__type(key, __u32);
	__type(value, struct old_comm_slot);
} exec_old_comm SEC(".maps");

/* A read of a kernel field: a plain load through a BTF pointer where typed
 * (tp_sched_exec), else a CO-RE probe read (its twin tp_sched_exec_compat,
 * and the failed-exec path). typed is a constant in each inlined copy. */
#define TP_RD(typed, expr, ...) ((typed) ? (expr) : BPF_CORE_READ(__VA_ARGS__))

static __always_inline __u32 task_loginuid(struct task_struct *task, bool typed)
{
	if (bpf_core_field_exists(task->loginuid))
		return TP_RD(typed, task->loginuid.val, task, loginuid.val);
	return (__u32)-1;
}

/* ------------------------------------------------------------------ */
/* The exec context */

#define TP_TMPFS_MAGIC	   0x01021994
#define TP_HUGETLBFS_MAGIC 0x958458f6
#define TP_OVERLAYFS_MAGIC 0x794c7630
#define TP_SB_RDONLY	   0x1
#define TP_MNT_READONLY	   0x40
#define TP_S_IWUSR	   0200
#define TP_S_IWGRP	   0020
#define TP_S_IWOTH	   0002
#define TP_NGROUPS_SCAN	   16

/* The overlay inode around a VFS inode of an overlay file system. Only
 * the field read is declared: CO-RE finds it in any kernel's layout. */
struct ovl_inode___tp {
	struct inode vfs_inode;
	struct dentry *__upperdentry;
} __attribute__((preserve_access_index));

/* May uid (with gid and the supplementary groups) write the file, by its
 * mode bits, as the kernel's permission check would? Root may (capability
 * DAC override); nobody may on a read-only mount. */
static __always_inline bool exe_writable(struct task_struct *task, struct file *f,
					 struct inode *inode, bool typed)
{
	const struct cred *cred = TP_RD(typed, task->cred, task, cred);
	__u32 uid = TP_RD(typed, cred->uid.val, cred, uid.val);
	__u32 gid = TP_RD(typed, cred->gid.val, cred, gid.val);
	__u32 iuid = TP_RD(typed, inode->i_uid.val, inode, i_uid.val);
	__u32 igid = TP_RD(typed, inode->i_gid.val, inode, i_gid.val);
	__u32 mode = TP_RD(typed, inode->i_mode, inode, i_mode);
	struct group_info *gi;
	__u32 gids[TP_NGROUPS_SCAN] = {};
	int n, i;

	if ((TP_RD(typed, inode->i_sb->s_flags, inode, i_sb, s_flags) & TP_SB_RDONLY) ||
	    (TP_RD(typed, f->f_path.mnt->mnt_flags, f, f_path.mnt, mnt_flags) & TP_MNT_READONLY))
		return false;
	if (uid == 0)
		return true;
	if (uid == iuid)
		return mode & TP_S_IWUSR;
	if (gid == igid)
		return mode & TP_S_IWGRP;
	gi = TP_RD(typed, cred->group_info, cred, group_info);
	n = gi ? TP_RD(typed, gi->ngroups, gi, ngroups) : 0;
	if (n > 0 && (mode & TP_S_IWGRP)) {
		bpf_probe_read_kernel(gids, sizeof(gids),
				      (void *)gi + bpf_core_field_offset(struct group_info, gid));
#pragma unroll
		for (i = 0; i < TP_NGROUPS_SCAN; i++)
			if (i < n && gids[i] == igid)
				return true;
	}
	return mode & TP_S_IWOTH;
}

/* What was executed: bprm->file. */
static __always_inline __u32 exe_context(struct tp_exec_event *e, struct task_struct *task,
					 struct linux_binprm *bprm, bool typed)
{
	struct file *f = TP_RD(typed, bprm->file, bprm, file);
	struct inode *inode;
	__u32 flags = TP_EXE_KNOWN, magic;

	if (!f)
		return 0;
	inode = TP_RD(typed, f->f_inode, f, f_inode);
	e->exe_ino = TP_RD(typed, inode->i_ino, inode, i_ino);
	e->exe_dev = tp_encode_dev(TP_RD(typed, inode->i_sb->s_dev, inode, i_sb, s_dev));
	magic = TP_RD(typed, inode->i_sb->s_magic, inode, i_sb, s_magic);
	if (TP_RD(typed, inode->__i_nlink, inode, __i_nlink) == 0) {
		char name[8] = {};
		__u64 w, memfd;

		bpf_probe_read_kernel(name, 6, BPF_CORE_READ(f, f_path.dentry, d_name.name));
		__builtin_memcpy(&w, name, 8);
		__builtin_memcpy(&memfd, "memfd:\0\0", 8);
		if ((magic == TP_TMPFS_MAGIC || magic == TP_HUGETLBFS_MAGIC) && w == memfd)
			flags |= TP_EXE_MEMFD;
		else
			flags |= TP_EXE_DELETED;
	}
	if (magic == TP_OVERLAYFS_MAGIC) {
		flags |= TP_EXE_OVERLAY;
		if (bpf_core_type_exists(struct ovl_inode___tp)) {
			struct ovl_inode___tp *oi =
			    (void *)inode - bpf_core_field_offset(struct ovl_inode___tp, vfs_inode);

			if (BPF_CORE_READ(oi, __upperdentry))
				flags |= TP_EXE_UPPER_LAYER;
		}
	}
	if (exe_writable(task, f, inode, typed))
		flags |= TP_EXE_WRITABLE;
	return flags;
}

/* The controlling terminal's name into out: "pts/3", "tty1"; empty: none. */
static __always_inline void task_tty(struct task_struct *task, char *out, bool typed)
{
	struct tty_struct *tty = TP_RD(typed, task->signal->tty, task, signal, tty);
	char name[TP_TTY_NAME_MAX];

	if (!tty || BPF_CORE_READ_STR_INTO(&name, tty, name) <= 0)
		return;
	/* devpts names its terminals "pts3"; ps and who say "pts/3". */
	if (name[0] == 'p' && name[1] == 't' && name[2] == 's' && name[3] >= '0' &&
	    name[3] <= '9') {
		__builtin_memcpy(out, "pts/", 4);
		bpf_probe_read_kernel_str(out + 4, TP_TTY_NAME_MAX - 4, name + 3);
		return;
	}
	__builtin_memcpy(out, name, TP_TTY_NAME_MAX);
	out[TP_TTY_NAME_MAX - 1] = '\0';
}

/* What fd of the current task is: sock_bit for a socket; pipe_bit for a
 * pipe or named FIFO, whose inode goes to *pipe (when pipe is not NULL). */
static __always_inline __u32 stdio_fd(int fd, __u32 sock_bit, __u32 pipe_bit, __u64 *pipe)
{
	struct file *f = tp_fd_file(fd);
	struct inode *inode;
	umode_t mode;

	if (!f)
		return 0;
	inode = BPF_CORE_READ(f, f_inode);
	if (!inode)
		return 0;
	mode = BPF_CORE_READ(inode, i_mode) & TP_S_IFMT;
	if (mode == TP_S_IFSOCK)
		return sock_bit;
	if (mode == TP_S_IFIFO && pipe) {
		*pipe = BPF_CORE_READ(inode, i_ino);
		return pipe_bit;
	}
	return 0;
}

/* TP_EXE_* bits for the current task's fds 0-2 that are sockets; with e,
 * also the pipes fds 0 and 1 are (e->stdin_pipe, e->stdout_pipe: a record
 * with room for them). */
static __always_inline __u32 stdio_context(struct tp_exec_event *e)
{
	__u32 flags = 0;

	if (e) {
		e->stdin_pipe = 0;
		e->stdout_pipe = 0;
	}
	flags |= stdio_fd(0, TP_EXE_STDIN_SOCKET, TP_EXE_STDIN_PIPE, e ? &e->stdin_pipe : NULL);
	flags |= stdio_fd(1, TP_EXE_STDOUT_SOCKET, TP_EXE_STDOUT_PIPE, e ? &e->stdout_pipe : NULL);
	flags |= stdio_fd(2, TP_EXE_STDERR_SOCKET, 0, NULL);
	return flags;
}

/* The session the task is in: its leader's pid. */
static __always_inline __u32 task_sid(struct task_struct *task, bool typed)
{
	struct pid *p = TP_RD(typed, task->signal->pids[PIDTYPE_SID], task, signal,
			      pids[PIDTYPE_SID]);

	return p ? TP_RD(typed, p->numbers[0].nr, p, numbers[0].nr) : 0;
}

static __always_inline __u32 task_sessionid(struct task_struct *task, bool typed)
{
	if (bpf_core_field_exists(task->sessionid))
		return TP_RD(typed, task->sessionid, task, sessionid);
	return (__u32)-1;
}

/* ------------------------------------------------------------------ */
/* The environment allow-list */

/* Shared with user space (created by the loader, written by kfilter). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TP_ENV_NAMES_MAX);
	__type(key, struct tp_env_key);
	__type(value, __u8);
} tp_env_names SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tp_env_prefix);
} tp_env_prefix SEC(".maps");

#define TP_ENV_SCAN_MAX 512   /* environment strings looked at */
#define TP_ENV_AREA_MAX 16384 /* bytes of the environment copied to look at */

struct env_scratch {
	char area[TP_ENV_AREA_MAX];         /* the new image's environment strings */
	__u64 ptrs[TP_ENV_SCAN_MAX];        /* its envp[] */
	char out[TP_ENV_MAX + TP_ENV_VALUE_MAX]; /* what is kept; the slack keeps each copy
						  * in bounds for the verifier */
	struct tp_env_key key;
	__u64 start;                        /* mm->env_start */
	__u32 area_len;
	__u32 n;                            /* strings to look at */
	__u32 pos;                          /* bytes used in out */
	__u32 flags;                        /* TP_EXEC_ENV_TRUNCATED */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct env_scratch);
} env_scratch_map SEC(".maps");

/*
 * One environment string, envp[i]: kept when its name is allow-listed. Most
 * strings stop at the prefix test (their first two bytes are no listed
 * name's); the others are cut at '=' and looked up. A bpf_loop callback,
 * verified once whatever the number of strings.
 */
static long env_step(__u32 i, void *ctx)
{
	struct tp_env_prefix *pre;
	struct env_scratch *s;
	__u32 zero = 0, off, idx, j;
	__u64 word;
	long n;

	/* Array lookups: the verifier inlines them, a few instructions each. */
	s = bpf_map_lookup_elem(&env_scratch_map, &zero);
	pre = bpf_map_lookup_elem(&tp_env_prefix, &zero);
	if (!s || !pre || i >= s->n)
		return 1;
	/* The mask is what the verifier sees; clang must not drop it. */
	asm volatile("" : "+r"(i));
	off = s->ptrs[i & (TP_ENV_SCAN_MAX - 1)] - s->start;
	if (off + 2 > s->area_len) {
		s->flags |= TP_EXEC_ENV_TRUNCATED; /* past the bytes copied */
		return 0;
	}
	idx = ((__u8)s->area[off & (TP_ENV_AREA_MAX - 1)] << 8) |
	      (__u8)s->area[(off + 1) & (TP_ENV_AREA_MAX - 1)];
	word = pre->bits[(idx >> 6) & (TP_ENV_PREFIX_WORDS - 1)];
	if (!(word & (1ull << (idx & 63))))
		return 0;
	__builtin_memset(&s->key, 0, sizeof(s->key));
	for (j = 0; j < TP_ENV_NAME_MAX; j++) {
		char c = s->area[(off + j) & (TP_ENV_AREA_MAX - 1)];

		if (c == '=' || c == '\0')
			break;
		s->key.name[j & (TP_ENV_NAME_MAX - 1)] = c;
	}
	if (j == 0 || j >= TP_ENV_NAME_MAX || s->area[(off + j) & (TP_ENV_AREA_MAX - 1)] != '=')
		return 0;
	if (!bpf_map_lookup_elem(&tp_env_names, &s->key))
		return 0;
	if (s->pos >= TP_ENV_MAX) {
		s->flags |= TP_EXEC_ENV_TRUNCATED;
		return 1;
	}
	n = bpf_probe_read_kernel_str(&s->out[s->pos & (TP_ENV_MAX - 1)], TP_ENV_VALUE_MAX,
				      &s->area[off & (TP_ENV_AREA_MAX - 1)]);
	if (n <= 0)
		return 0;
	if (n == TP_ENV_VALUE_MAX)
		s->flags |= TP_EXEC_ENV_TRUNCATED; /* a value longer than kept */
	s->pos += n;
	return 0;
}

/*
 * The allow-listed variables of the new image into e->env. At
 * sched_process_exec the new stack is laid out and the task's registers
 * point at it: argc, argv[], NULL, envp[], NULL. argc is checked against
 * bprm's before envp is trusted. Needs bpf_loop (5.17); without it, or
 * without names, env stays empty.
 */
static __always_inline void exec_env(struct tp_exec_event *e, struct task_struct *task,
				     struct linux_binprm *bprm, __u32 *flags, bool typed)
{
	const struct tp_settings *st = tp_get_settings();
	struct pt_regs *regs = tp_syscall_regs(); /* task is current at sched_process_exec */
	struct tp_env_prefix *pre;
	struct env_scratch *s;
	__u64 sp, argc = 0, len, end;
	__u32 zero = 0, envc;
	__u64 n; /* 64-bit: a 32-bit copy loses its bound on the way to the read (typed build) */

	e->env_len = 0;
	if (!st || !(st->flags & TP_SET_EXEC_ENV) ||
	    !bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_loop))
		return;
	pre = bpf_map_lookup_elem(&tp_env_prefix, &zero);
	s = bpf_map_lookup_elem(&env_scratch_map, &zero);
	if (!pre || !s || !regs)
		return;
	sp = PT_REGS_SP(regs);
	envc = TP_RD(typed, bprm->envc, bprm, envc);
	if (bpf_probe_read_user(&argc, sizeof(argc), (const void *)sp) < 0 ||
	    argc != (__u64)TP_RD(typed, bprm->argc, bprm, argc) || envc == 0)
		return;
	n = envc;
	if (n > TP_ENV_SCAN_MAX) {
		n = TP_ENV_SCAN_MAX;
		*flags |= TP_EXEC_ENV_TRUNCATED;
	}
	asm volatile("" : "+r"(n));
	if (n == 0 || n > TP_ENV_SCAN_MAX ||
	    bpf_probe_read_user(s->ptrs, n * sizeof(__u64),
				(const void *)(sp + (argc + 2) * sizeof(__u64))) < 0)
		return;
	s->start = TP_RD(typed, task->mm->env_start, task, mm, env_start);
	end = TP_RD(typed, task->mm->env_end, task, mm, env_end);
	len = end > s->start ? end - s->start : 0;
	if (len > TP_ENV_AREA_MAX)
		len = TP_ENV_AREA_MAX; /* strings past it are counted as not looked at */
	asm volatile("" : "+r"(len));
	if (len == 0 || len > TP_ENV_AREA_MAX ||
	    bpf_probe_read_user(s->area, len, (const void *)s->start) < 0)
		return;
	s->area_len = len;
	s->n = n;
	s->pos = 0;
	s->flags = 0;
	bpf_loop(n, env_step, NULL, 0);
	*flags |= s->flags;
	n = s->pos;
	if (n > TP_ENV_MAX)
		n = TP_ENV_MAX;
	asm volatile("" : "+r"(n));
	if (n > 0 && n <= TP_ENV_MAX && bpf_probe_read_kernel(e->env, n, s->out) == 0)
		e->env_len = n;
}

/* Clear the exec context of a record (failed execs, and before filling). */
static __always_inline void exec_context_clear(struct tp_exec_event *e)
{
	e->exe_ino = 0;
	e->exe_dev = 0;
	e->exe_flags = 0;
	e->env_len = 0;
	e->_pad = 0;
	/* Empty strings with a zero first word: user space shows them as absent. */
	*(__u32 *)e->tty = 0;
	*(__u32 *)e->old_comm = 0;
}

/* The session context of the current task, for successful and failed execs. */
static __always_inline void exec_session(struct tp_exec_event *e, struct task_struct *task,
					 bool typed)
{
	e->sessionid = task_sessionid(task, typed);
	e->sid = task_sid(task, typed);
	task_tty(task, e->tty, typed);
}

#define TP_EXEC_FAILED_SIZE offsetof(struct tp_exec_event, env)

/*
 * A failed exec, reported at the syscall's exit. The caller's image is
 * still in place, so the filename and argv it passed are read from its
 * memory through the saved syscall registers: nothing runs at the entry of
 * the (far more common) successful exec, which sched_process_exec reports.
 */
static __always_inline int report_failed_exec(long ret, const char *filename,
					      const char *const *argv)
{
	struct tp_exec_event *e;
	struct exec_args *a;
	__u32 zero = 0, off = 0, flags = 0;
	int i;

	if (ret >= 0 || !tp_admit(TP_CAT_PROCESS, true))
		return 0;
	a = bpf_map_lookup_elem(&exec_args_scratch, &zero);
	if (!a)
		return 0;
#pragma unroll
	for (i = 0; i < TP_EXEC_MAX_ARGS; i++) {
		const char *arg = NULL;
		long n;

		if (bpf_probe_read_user(&arg, sizeof(arg), &argv[i]) < 0 || !arg)
			break;
		if (off >= TP_ARGV_MAX) {
			flags |= TP_EXEC_ARGV_TRUNCATED;
			break;
		}
		n = bpf_probe_read_user_str(&a->argv[off & (TP_ARGV_MAX - 1)], TP_EXEC_ARG_MAX, arg);
		if (n <= 0)
			break;
		off += n;
	}
	if (i == TP_EXEC_MAX_ARGS)
		flags |= TP_EXEC_ARGV_TRUNCATED;
	if (off > TP_ARGV_MAX) {
		off = TP_ARGV_MAX;
		flags |= TP_EXEC_ARGV_TRUNCATED;
	}

	/* No environment on a failed exec (there is no new image): the
	 * record ends before env, 1 KiB less in the ring in a flood of them. */
	e = tp_reserve(TP_EXEC_FAILED_SIZE, TP_CAT_PROCESS);
	if (!e)
		return 0;
	tp_fill_hdr(&e->hdr, TP_EV_PROCESS_EXEC, TP_EXEC_FAILED_SIZE);
	e->ret = ret;
	e->flags = flags;
	e->loginuid = task_loginuid(bpf_get_current_task_btf(), false);
	exec_context_clear(e);
	exec_session(e, bpf_get_current_task_btf(), false);
	e->exe_flags = stdio_context(NULL); /* the record ends before env: no pipes */
	if (bpf_probe_read_user_str(e->filename, sizeof(e->filename), filename) < 0)
		e->filename[0] = '\0';
	e->argv_len = off;
	__builtin_memcpy(e->argv, a->argv, TP_ARGV_MAX);
	tp_submit(e, TP_CAT_PROCESS);
	return 0;
}

SEC("tp/syscalls/sys_exit_execve")
int tp_exit_execve(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs;

	if (ctx->ret >= 0)
		return 0;
	regs = tp_syscall_regs();
	return report_failed_exec(ctx->ret, (const char *)TP_ARG1(regs),
				  (const char *const *)TP_ARG2(regs));
}

SEC("tp/syscalls/sys_exit_execveat")
int tp_exit_execveat(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs;

	if (ctx->ret >= 0)
		return 0;
	regs = tp_syscall_regs();
	return report_failed_exec(ctx->ret, (const char *)TP_ARG2(regs),
				  (const char *const *)TP_ARG3(regs));
}

/* raw_tp args: (struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm).
 * typed: p is the current task (bpf_get_current_task_btf) and bprm a BTF
 * pointer (TP_CAST): the fields are plain loads; the strings and user
 * memory stay probe reads. */
static __always_inline int sched_exec(struct bpf_raw_tracepoint_args *ctx, bool typed)
{
	struct task_struct *task = typed ? bpf_get_current_task_btf()
					 : (struct task_struct *)ctx->args[0];
	struct linux_binprm *bprm = typed ? TP_CAST(ctx->args[2], struct linux_binprm)
					  : (struct linux_binprm *)ctx->args[2];
	unsigned long arg_start, arg_end, len;
	struct tp_exec_event *e;
	struct old_comm_slot *old;
	const char *filename;
	__u32 tid, slot_key;

	if (!tp_admit(TP_CAT_PROCESS, false))
		return 0;
	e = tp_reserve(sizeof(*e), TP_CAT_PROCESS);
	if (!e)
		return 0;
	tp_fill_hdr(&e->hdr, TP_EV_PROCESS_EXEC, sizeof(*e));
	e->ret = 0;
	e->flags = 0;
	e->loginuid = task_loginuid(task, typed);
	exec_context_clear(e);
	exec_session(e, task, typed);
	e->exe_flags = exe_context(e, task, bprm, typed) | stdio_context(e);
	tid = e->hdr.tid;
	slot_key = tid % TP_OLD_COMM_SLOTS;
	old = bpf_map_lookup_elem(&exec_old_comm, &slot_key);
	if (old && old->tid == tid) {
		__builtin_memcpy(e->old_comm, old->comm, TP_COMM_LEN);
		e->old_comm[TP_COMM_LEN - 1] = '\0';
		if (*(volatile __u32 *)&old->tid != tid) /* a colliding tid wrote it meanwhile */
			*(__u32 *)e->old_comm = 0;
		*(volatile __u32 *)&old->tid = 0;
	}
	exec_env(e, task, bprm, &e->flags, typed);
	filename = TP_RD(typed, bprm->filename, bprm, filename);
	if (bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), filename) < 0)
		e->filename[0] = '\0';

	arg_start = TP_RD(typed, task->mm->arg_start, task, mm, arg_start);
	arg_end = TP_RD(typed, task->mm->arg_end, task, mm, arg_end);
	len = arg_end > arg_start ? arg_end - arg_start : 0;
	if (len > TP_ARGV_MAX) {
		len = TP_ARGV_MAX;
		e->flags |= TP_EXEC_ARGV_TRUNCATED;
	}
	/* Keep the bound visible to the verifier. */
	asm volatile("" : "+r"(len));
	if (len > 0 && len <= TP_ARGV_MAX &&
	    bpf_probe_read_user(e->argv, len, (const void *)arg_start) == 0)
		e->argv_len = len;
	else
		e->argv_len = 0;
	tp_submit(e, TP_CAT_PROCESS);
	return 0;
}

SEC("raw_tp/sched_process_exec")
int tp_sched_exec(struct bpf_raw_tracepoint_args *ctx)
{
	return sched_exec(ctx, true);
}

SEC("raw_tp/sched_process_exec")
int tp_sched_exec_compat(struct bpf_raw_tracepoint_args *ctx)
{
	return sched_exec(ctx, false);
}

/*
 * process.rename. task_rename fires in __set_task_comm for prctl
 * (PR_SET_NAME), writes to a /proc comm file, and exec. An exec's rename is
 * not an event of its own: the name from before is kept for its
 * process.exec (old_comm) in exec_old_comm. Kernel threads and io_uring's
 * workers are named by the kernel: skipped.
 */

#define TP_PF_IO_WORKER 0x00000010
#define TP_PF_KTHREAD	0x00200000

#if defined(__TARGET_ARCH_x86)
#define TP_NR_PRCTL 157
#define TP_NR_WRITE(nr) ((nr) == 1 || (nr) == 18 || (nr) == 20 || (nr) == 296 || (nr) == 328)
#elif defined(__TARGET_ARCH_arm64)
#define TP_NR_PRCTL 167
#define TP_NR_WRITE(nr) ((nr) == 64 || (nr) == 66 || (nr) == 68 || (nr) == 70 || (nr) == 287)
#else
#define TP_NR_PRCTL -1
#define TP_NR_WRITE(nr) 0
#endif

/* The syscall the current task is in, as an enum tp_syscall_id (prctl or a
 * write), 0 when it is another or cannot be told on this architecture. */
static __always_inline __u16 rename_syscall(void)
{
	struct pt_regs *regs = tp_syscall_regs();
	long nr = -1;

#if defined(__TARGET_ARCH_x86)
	nr = regs->orig_ax;
#elif defined(__TARGET_ARCH_arm64)
	nr = regs->syscallno;
#endif
	if (nr == TP_NR_PRCTL)
		return TP_SYS_PRCTL;
	return TP_NR_WRITE(nr) ? TP_SYS_WRITE : 0;
}

/* raw_tp args: (struct task_struct *task, const char *comm) */
SEC("raw_tp/task_rename")
int tp_task_rename(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *task = (struct task_struct *)ctx->args[0];
	struct task_struct *cur = bpf_get_current_task_btf(), *self;
	struct old_comm_slot *slot;
	struct tp_rename_event *e;
	__u32 tid, slot_key;

	/* Typed loads go through self, a BTF pointer that clang cannot tell
	 * equal to task (a plain number), or it would load through task. */
	self = cur;
	asm volatile("" : "+r"(self));
	if (task == cur) {
		if (self->flags & (TP_PF_KTHREAD | TP_PF_IO_WORKER))
			return 0;
		if (BPF_CORE_READ_BITFIELD(self, in_execve)) {
			/* The exec's own rename, before the new name is
			 * copied in: keep the name for its process.exec. */
			tid = self->pid;
			slot_key = tid % TP_OLD_COMM_SLOTS;
			slot = bpf_map_lookup_elem(&exec_old_comm, &slot_key);
			if (slot) {
				*(volatile __u32 *)&slot->tid = 0;
				bpf_get_current_comm(slot->comm, sizeof(slot->comm));
				*(volatile __u32 *)&slot->tid = tid;
			}
			return 0;
		}
	} else if (BPF_CORE_READ(task, flags) & (TP_PF_KTHREAD | TP_PF_IO_WORKER)) {
		return 0;
	}
	if (!tp_admit(TP_CAT_PROCESS, false))
		return 0;
	e = tp_reserve(sizeof(*e), TP_CAT_PROCESS);
	if (!e)
		return 0;
	tp_fill_hdr(&e->hdr, TP_EV_PROCESS_RENAME, sizeof(*e));
	e->syscall = rename_syscall();
	e->_pad[0] = e->_pad[1] = e->_pad[2] = 0;
	if (task == cur) {
		/* The header holds it all already (the tracepoint fires
		 * before the new name is copied in). */
		e->target_pid = e->hdr.pid;
		e->target_tid = e->hdr.tid;
		__builtin_memcpy(e->old_comm, e->hdr.comm, TP_COMM_LEN);
	} else {
		e->target_pid = BPF_CORE_READ(task, tgid);
		e->target_tid = BPF_CORE_READ(task, pid);
		BPF_CORE_READ_STR_INTO(&e->old_comm, task, comm);
	}
	if (bpf_probe_read_kernel_str(e->new_comm, sizeof(e->new_comm), (const char *)ctx->args[1]) < 0)
		e->new_comm[0] = '\0';
	tp_submit(e, TP_CAT_PROCESS);
	return 0;
}

/* raw_tp args: (struct task_struct *parent, struct task_struct *child) */
SEC("raw_tp/sched_process_fork")
int tp_sched_fork(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *parent = (struct task_struct *)ctx->args[0];
	struct task_struct *child = (struct task_struct *)ctx->args[1];
	struct tp_fork_event *e;
	bool thread;

	if (TP_TYPED_LOADS) {
		struct task_struct *c = TP_CAST(child, struct task_struct);

		thread = c->pid != c->tgid;
	} else {
		thread = BPF_CORE_READ(child, pid) != BPF_CORE_READ(child, tgid);
	}
	if (thread)
		return 0; /* a new thread, not a new process */
	if (!tp_admit(TP_CAT_PROCESS, false))
		return 0;
	e = tp_reserve(sizeof(*e), TP_CAT_PROCESS);
	if (!e)
		return 0;
	tp_fill_hdr_task(&e->hdr, child, TP_EV_PROCESS_FORK, sizeof(*e));
	e->parent_pid = TP_TYPED_LOADS ? TP_CAST(parent, struct task_struct)->tgid
				       : BPF_CORE_READ(parent, tgid);
	e->_pad = 0;
	tp_submit(e, TP_CAT_PROCESS);
	return 0;
}

/*
 * raw_tp args: (struct task_struct *p, ...): the exiting task, current.
 * Typed loads where the kernel has them (no probe read); the duration on
 * the boot clock, from the header's timestamp (no second clock read).
 */
SEC("raw_tp/sched_process_exit")
int tp_sched_exit(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *task = (struct task_struct *)ctx->args[0];
	struct task_struct *t = TP_CAST(task, struct task_struct); /* typed loads */
	struct tp_exit_event *e;
	__u64 start;
	__u32 code;
	int live;

	if (TP_TYPED_LOADS) {
		live = t->signal ? t->signal->live.counter : 0;
	} else {
		live = BPF_CORE_READ(task, signal, live.counter);
	}
	if (live != 0)
		return 0; /* other threads of the process still run */
	if (!tp_admit(TP_CAT_PROCESS, false))
		return 0;
	e = tp_reserve(sizeof(*e), TP_CAT_PROCESS);
	if (!e)
		return 0;
	tp_fill_hdr(&e->hdr, TP_EV_PROCESS_EXIT, sizeof(*e));
	if (TP_TYPED_LOADS) {
		code = t->exit_code;
		start = bpf_core_field_exists(t->start_boottime) ? t->start_boottime : 0;
	} else {
		code = BPF_CORE_READ(task, exit_code);
		start = bpf_core_field_exists(task->start_boottime)
			    ? BPF_CORE_READ(task, start_boottime)
			    : 0;
	}
	e->exit_code = (code >> 8) & 0xff;
	e->signal = code & 0x7f;
	e->core_dumped = (code & 0x80) ? 1 : 0;
	/* start_boottime: since 5.5 (the ring buffer needs 5.8) */
	e->duration_ns = start && e->hdr.ts_ns > start ? e->hdr.ts_ns - start : 0;
	e->_pad = 0;
	tp_submit(e, TP_CAT_PROCESS);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The generation of the header's cgroup cache (bpf/common.bpf.h): each
 * tracepoint after which a task's cgroup ids may differ adds 2. In the process
 * family, which the loader loads with these programs alone when the process
 * events are switched off; not filtered or sampled with its events. The
 * loader turns the cache on only when all of them are attached. */

static __always_inline int cgroup_gen_bump(void)
{
	__u32 zero = 0;
	__u64 *g = bpf_map_lookup_elem(&tp_cgroup_gen, &zero);

	if (g)
		__sync_fetch_and_add(g, 2);
	return 0;
}

#define CGROUP_GEN_PROG(name, tracepoint)                                                          \
	SEC("raw_tp/" tracepoint)                                                                  \
	int name(void *ctx)                                                                        \
	{                                                                                          \
		return cgroup_gen_bump();                                                          \
	}

CGROUP_GEN_PROG(tp_cgroup_gen_attach, "cgroup_attach_task")
CGROUP_GEN_PROG(tp_cgroup_gen_transfer, "cgroup_transfer_tasks")
CGROUP_GEN_PROG(tp_cgroup_gen_setup_root, "cgroup_setup_root")
CGROUP_GEN_PROG(tp_cgroup_gen_remount, "cgroup_remount")
CGROUP_GEN_PROG(tp_cgroup_gen_destroy_root, "cgroup_destroy_root")

char LICENSE[] SEC("license") = "GPL";
