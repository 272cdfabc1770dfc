/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * path.bpf.h - absolute paths without bpf_d_path (which only fentry and LSM
 * programs may call), and the path-prefix exclude filter.
 *
 * A path is rebuilt by walking from a dentry to the task's root: dentry by
 * dentry up to its mount's root, then over to the mount point in the parent
 * mount, as d_path does. The walk stops at the task's root, so a process in
 * a container or a chroot gets the path it sees itself. Names are written
 * backwards into a per-CPU scratch buffer, which leaves room after the walked
 * directory to append a relative name passed by the process.
 */
#ifndef TAPIO_PATH_BPF_H
#define TAPIO_PATH_BPF_H

#include "syscall.bpf.h"

#define TP_PATH_WALK_DEPTH 32			 /* components (and mount crossings) */
#define TP_PATH_WALK_END   (TP_PATH_MAX * 2 - 1) /* index of the NUL after a walk */
#define TP_PATH_SCRATCH	   (TP_PATH_MAX * 4)

struct tp_path_scratch {
	/* A path is at most TP_PATH_SCRATCH bytes in; the slack after lets
	 * tp_path_copy read whole words from any position the mask gives. */
	char buf[TP_PATH_SCRATCH + TP_PATH_MAX];
	struct tp_path_key key;
	__u32 pos;
	__u32 w_flags; /* the walks' state (tp_path_walk, tp_path_walk_typed) */
	__u32 w_done;  /* the walk ended before its last step */
	__u64 w_dentry, w_mnt, w_mnt_root, w_root_dentry, w_root_mnt;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tp_path_scratch);
} tp_path_scratch SEC(".maps");

static __always_inline struct tp_path_scratch *tp_scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&tp_path_scratch, &zero);
}

static __always_inline struct mount *tp_real_mount(struct vfsmount *vfsmnt)
{
	return (struct mount *)((void *)vfsmnt - bpf_core_field_offset(struct mount, mnt));
}

#define TP_DENTRY_SPAN 32

/*
 * A dentry's parent, name length and name pointer. They sit side by side
 * in struct dentry, so one probe read of the span that holds them replaces
 * three (each costs tens of ns); the offsets come from CO-RE, and a layout
 * where they are farther apart falls back to one read each.
 */
static __always_inline void tp_dentry_name(struct dentry *d, struct dentry **parent, __u32 *len,
					   const unsigned char **name)
{
	__u32 op = bpf_core_field_offset(struct dentry, d_parent);
	__u32 ol = bpf_core_field_offset(struct dentry, d_name.len);
	__u32 on = bpf_core_field_offset(struct dentry, d_name.name);
	__u32 lo = op < ol ? op : ol;
	__u8 blk[TP_DENTRY_SPAN];

	lo = lo < on ? lo : on;
	if (op - lo <= TP_DENTRY_SPAN - 8 && on - lo <= TP_DENTRY_SPAN - 8 &&
	    ol - lo <= TP_DENTRY_SPAN - 4 &&
	    bpf_probe_read_kernel(blk, sizeof(blk), (void *)d + lo) == 0) {
		__builtin_memcpy(parent, blk + (op - lo), sizeof(*parent));
		__builtin_memcpy(len, blk + (ol - lo), sizeof(*len));
		__builtin_memcpy(name, blk + (on - lo), sizeof(*name));
		return;
	}
	*parent = BPF_CORE_READ(d, d_parent);
	*len = BPF_CORE_READ(d, d_name.len);
	*name = BPF_CORE_READ(d, d_name.name);
}

/* A load the compiler cannot keep in a register across iterations. */
#define TP_SCRATCH_GET(x) (*(volatile __typeof__(x) *)&(x))

/*
 * Write the path of (dentry, vfsmnt) backwards into s->buf so that it ends
 * with the NUL at buf[TP_PATH_WALK_END]; return where it starts. Sets
 * TP_PATH_TRUNCATED in *flags when components were left out.
 *
 * Everything the loop carries from one iteration to the next (the write
 * position, the dentry and mount, the outcome) lives in the scratch map
 * value (the w_ fields the typed walk uses too), not in registers or on the
 * stack: the verifier does not track map memory, so every iteration starts
 * from one state whatever the names, the mounts and the caller's pointers
 * were, and every exit of the loop reaches the code after it in one state.
 * Kept in registers, the verifier went through the loop's body ~20 times
 * per iteration (one per combination of pointer kinds and branches taken)
 * and through the rest of the program once per exit: 142,000 instructions
 * verified per file program, most of the agent's start-up time (issue 14).
 * The loads and stores cost a few nanoseconds per component, against tens
 * for each probe read.
 */
static __always_inline __u32 tp_path_walk_inline(struct tp_path_scratch *s, struct dentry *dentry,
						 struct vfsmount *vfsmnt, __u32 *flags)
{
	struct task_struct *task = tp_current();
	__u32 mnt_off = bpf_core_field_offset(struct mount, mnt);
	__u32 pos;
	int i;

	s->w_root_dentry = 0;
	s->w_root_mnt = 0;
	if (task->fs) {
		s->w_root_dentry = (__u64)task->fs->root.dentry;
		s->w_root_mnt = (__u64)tp_real_mount(task->fs->root.mnt);
	}
	s->w_dentry = (__u64)dentry;
	s->w_mnt = (__u64)tp_real_mount(vfsmnt);
	s->w_mnt_root = (__u64)BPF_CORE_READ(vfsmnt, mnt_root);
	s->buf[TP_PATH_WALK_END] = '\0';
	s->pos = TP_PATH_WALK_END;
	s->w_flags = TP_PATH_TRUNCATED; /* until the walk ends before its depth */
	for (i = 0; i < TP_PATH_WALK_DEPTH; i++) {
		struct dentry *d = (struct dentry *)TP_SCRATCH_GET(s->w_dentry);
		struct mount *mnt = (struct mount *)TP_SCRATCH_GET(s->w_mnt);
		const unsigned char *name;
		struct dentry *parent;
		__u32 len;

		if ((__u64)d == TP_SCRATCH_GET(s->w_root_dentry) &&
		    (__u64)mnt == TP_SCRATCH_GET(s->w_root_mnt)) {
			s->w_flags = 0;
			break;
		}
		if ((__u64)d == TP_SCRATCH_GET(s->w_mnt_root)) {
			struct mount *up = BPF_CORE_READ(mnt, mnt_parent);

			if (up == mnt) {
				s->w_flags = 0; /* the root of the mount namespace */
				break;
			}
			s->w_dentry = (__u64)BPF_CORE_READ(mnt, mnt_mountpoint);
			s->w_mnt = (__u64)up;
			s->w_mnt_root = (__u64)BPF_CORE_READ((struct vfsmount *)((void *)up + mnt_off),
							     mnt_root);
			continue;
		}
		tp_dentry_name(d, &parent, &len, &name);
		/* A dentry that is its own parent but no mount's root is a
		 * pseudo file's (memfd, shared anonymous memory): its name is
		 * all there is, kept when nothing was walked yet. */
		pos = TP_SCRATCH_GET(s->pos);
		if (parent == d && pos != TP_PATH_WALK_END) {
			s->w_flags = 0;
			break;
		}
		if (pos > TP_PATH_WALK_END || len >= TP_PATH_MAX || len + 1 > pos)
			break; /* truncated */
		pos -= len;
		/* clang would drop the mask as redundant after the check above;
		 * the verifier needs it on the register passed to the helper. */
		asm volatile("" : "+r"(len));
		bpf_probe_read_kernel(&s->buf[pos & (TP_PATH_MAX * 2 - 1)], len & (TP_PATH_MAX - 1),
				      name);
		pos -= 1;
		s->buf[pos & (TP_PATH_MAX * 2 - 1)] = '/';
		s->pos = pos;
		if (parent == d) {
			s->w_flags = 0;
			break;
		}
		s->w_dentry = (__u64)parent;
	}
	*flags |= TP_SCRATCH_GET(s->w_flags);
	pos = TP_SCRATCH_GET(s->pos);
	if (pos >= TP_PATH_WALK_END) {
		pos = TP_PATH_WALK_END - 1;
		s->buf[pos] = '/';
	}
	return pos;
}

/*
 * tp_path_walk: tp_path_walk_inline as a global function in the build with
 * typed loads (6.2+; bpf/common.bpf.h says why not in the other): the
 * verifier checks it once per program instead of at every call site and
 * in every state a caller reaches it in (a rename walks twice). The
 * dentry and the mount go in through the scratch map (a global function
 * takes no typed pointer), the walk's flags come back in s->w_flags, and
 * the position is clamped where the walk leaves it, for the verifier (it
 * knows nothing of a global function's result).
 */
#if TP_TYPED_LOADS
__noinline __u32 tp_path_walk_global(struct tp_path_scratch *s)
{
	__u32 flags = 0, pos;

	if (!s)
		return 0;
	pos = tp_path_walk_inline(s, (struct dentry *)s->w_dentry, (struct vfsmount *)s->w_mnt,
				  &flags);
	s->w_flags = flags;
	return pos;
}

static __always_inline __u32 tp_path_walk(struct tp_path_scratch *s, struct dentry *dentry,
					  struct vfsmount *vfsmnt, __u32 *flags)
{
	__u32 pos;

	s->w_dentry = (__u64)dentry;
	s->w_mnt = (__u64)vfsmnt;
	pos = tp_path_walk_global(s);
	*flags |= s->w_flags;
	return pos < TP_PATH_WALK_END ? pos : TP_PATH_WALK_END - 1;
}
#else
#define tp_path_walk(s, dentry, vfsmnt, flags) tp_path_walk_inline(s, dentry, vfsmnt, flags)
#endif

/* Typed loads: TP_CAST (bpf/syscall.bpf.h). */

#define TP_NAME_WORDS 8 /* names up to 64 bytes: nearly all; longer ones are probe-read */

/*
 * The len-byte name at kernel address name into s->buf at pos, as 8-byte
 * typed loads (TP_LOAD_U64) and stores instead of a probe read (a helper
 * call of tens of ns; a path has a few names). Words go from the name's end
 * backwards, the last one ending at the name's first bytes: its bytes
 * before the name land before pos, where nothing is written yet and the
 * next names and slashes of the walk go (the caller keeps pos >= 8, so no
 * word starts before buf). A fault reads 0, as a failed probe read does.
 */
static __always_inline void tp_name_words(struct tp_path_scratch *s, __u32 pos, __u32 len,
					  __u64 name)
{
	int k;

#pragma unroll
	for (k = 0; k < TP_NAME_WORDS; k++) {
		__u32 end = len - 8 * k; /* the word ends here, in the name */

		if (8 * k >= len)
			break;
		*(__u64 *)&s->buf[(pos + end - 8) & (TP_PATH_MAX * 2 - 1)] =
			TP_LOAD_U64(name + end - 8);
	}
}

/* One step of tp_path_walk_typed: a bpf_loop callback, verified once (the
 * walk's pointers live in the scratch map as numbers, cast back each step).
 * Returns 1 (and sets w_done) where tp_path_walk breaks out of its loop. */
static long tp_path_walk_step(__u32 i, void *ctx)
{
	struct tp_path_scratch *s = tp_scratch(); /* an inlined array lookup */
	struct dentry *d, *parent;
	struct mount *mnt;
	__u32 len, pos;

	if (!s)
		return 1;
	d = TP_CAST(s->w_dentry, struct dentry);
	mnt = TP_CAST(s->w_mnt, struct mount);
	s->w_done = 1;
	if (s->w_dentry == s->w_root_dentry && s->w_mnt == s->w_root_mnt)
		return 1;
	if (s->w_dentry == s->w_mnt_root) {
		struct mount *up = mnt->mnt_parent;

		if (up == mnt)
			return 1; /* the root of the mount namespace */
		s->w_dentry = (__u64)mnt->mnt_mountpoint;
		s->w_mnt = (__u64)up;
		s->w_mnt_root = (__u64)up->mnt.mnt_root;
		s->w_done = 0;
		return 0;
	}
	parent = d->d_parent;
	len = d->d_name.len;
	/* See tp_path_walk: a pseudo file's dentry, its own parent. */
	if (parent == d && s->pos != TP_PATH_WALK_END)
		return 1;
	pos = s->pos;
	if (pos > TP_PATH_WALK_END || len >= TP_PATH_MAX || len + 1 > pos) {
		s->w_flags |= TP_PATH_TRUNCATED;
		return 1;
	}
	pos -= len;
	if (len <= TP_NAME_WORDS * 8 && pos >= 8) {
		tp_name_words(s, pos, len, (__u64)d->d_name.name);
	} else {
		asm volatile("" : "+r"(len));
		bpf_probe_read_kernel(&s->buf[pos & (TP_PATH_MAX * 2 - 1)], len & (TP_PATH_MAX - 1),
				      d->d_name.name);
	}
	pos -= 1;
	s->buf[pos & (TP_PATH_MAX * 2 - 1)] = '/';
	s->pos = pos;
	if (parent == d)
		return 1;
	s->w_dentry = (__u64)parent;
	s->w_done = 0;
	return 0;
}

/* tp_path_walk with typed loads (dentry and vfsmnt: BTF pointers), as a
 * bpf_loop (5.17+; typed casts need 6.2 anyway). Same result. */
static __always_inline __u32 tp_path_walk_typed(struct tp_path_scratch *s, struct dentry *dentry,
						struct vfsmount *vfsmnt, __u32 *flags)
{
	struct task_struct *task = tp_current();
	__u32 pos;

	s->w_root_dentry = 0;
	s->w_root_mnt = 0;
	if (task->fs) {
		s->w_root_dentry = (__u64)task->fs->root.dentry;
		s->w_root_mnt = (__u64)tp_real_mount(task->fs->root.mnt);
	}
	s->w_dentry = (__u64)dentry;
	s->w_mnt = (__u64)tp_real_mount(vfsmnt);
	s->w_mnt_root = (__u64)vfsmnt->mnt_root;
	s->w_flags = 0;
	s->w_done = 0;
	s->buf[TP_PATH_WALK_END] = '\0';
	s->pos = TP_PATH_WALK_END;
	bpf_loop(TP_PATH_WALK_DEPTH, tp_path_walk_step, NULL, 0);
	*flags |= s->w_flags;
	if (!s->w_done)
		*flags |= TP_PATH_TRUNCATED; /* components left after the last step */
	pos = s->pos;
	if (pos >= TP_PATH_WALK_END) {
		pos = TP_PATH_WALK_END - 1;
		s->buf[pos] = '/';
	}
	return pos;
}

/* Copy the len-byte string at buf[pos] (the scratch buffer) to out (cap
 * bytes: a power of two from 32 to TP_PATH_MAX, a constant) and end it with
 * a NUL; *flags gets TP_PATH_TRUNCATED when it did not fit. The length is
 * known, so this is a copy of whole words by plain loads and stores (both
 * sides are memory the program owns): 32 bytes per step (one branch each:
 * the verifier goes through the rest of the program once per way out of the
 * loop), then the word that holds the string's end again, cut after it: its
 * bytes after the string are zero, the first of them the NUL. A probe read
 * costs a helper call of tens of ns, and every event with a path pays for
 * it. */
static __always_inline void tp_path_copy_cap(char *out, const char *buf, __u32 pos, __u32 len,
					     __u32 *flags, const __u32 cap)
{
	__u32 k;

	if (len >= cap) {
		*flags |= TP_PATH_TRUNCATED;
		len = cap - 1;
	}
	/* Keep the clamp (clang drops it as the loop's exit; the verifier needs it). */
	asm volatile("" : "+r"(len));
	pos &= TP_PATH_SCRATCH - 1; /* buf has TP_PATH_MAX bytes of slack after */
	for (k = 0; k < cap; k += 32) {
		*(__u64 *)&out[k] = *(const __u64 *)&buf[pos + k];
		*(__u64 *)&out[k + 8] = *(const __u64 *)&buf[pos + k + 8];
		*(__u64 *)&out[k + 16] = *(const __u64 *)&buf[pos + k + 16];
		*(__u64 *)&out[k + 24] = *(const __u64 *)&buf[pos + k + 24];
		if (k + 32 > len)
			break;
	}
	k = len & ~7u;
	asm volatile("" : "+r"(k)); /* keep the bound (0..cap - 8) in the register */
	*(__u64 *)&out[k & (cap - 8)] =
	    *(const __u64 *)&buf[pos + (k & (cap - 8))] & ((1ull << ((len - k) * 8)) - 1);
}

/* tp_path_copy_cap into a TP_PATH_MAX field. */
static __always_inline void tp_path_copy(char *out, const char *buf, __u32 pos, __u32 len,
					 __u32 *flags)
{
	tp_path_copy_cap(out, buf, pos, len, flags, TP_PATH_MAX);
}

/*
 * The *_scratch variants leave the path in s->buf: len bytes at *pos (not
 * NUL-terminated); tp_path_copy then puts it in a record. A caller can so
 * look at a path (the exclude list, tp_path_excluded_at) before it
 * reserves a record for it. They return path flags.
 */

/* The path of an open file. typed (a constant): f is a BTF pointer, walked
 * with typed loads. */
static __always_inline __u32 tp_path_of_file_scratch(struct tp_path_scratch *s, struct file *f,
						     const bool typed, __u32 *pos, __u32 *len)
{
	__u32 flags = 0, p;

	if (typed)
		p = tp_path_walk_typed(s, f->f_path.dentry, f->f_path.mnt, &flags);
	else
		p = tp_path_walk(s, BPF_CORE_READ(f, f_path.dentry), BPF_CORE_READ(f, f_path.mnt),
				 &flags);
	*pos = p;
	*len = TP_PATH_WALK_END - p;
	return flags;
}

/* The path of an open file into out (TP_PATH_MAX bytes). Returns path
 * flags. typed (a constant): f is a BTF pointer, walked with typed loads. */
static __always_inline __u32 tp_path_of_file_as(struct file *f, char *out, const bool typed)
{
	struct tp_path_scratch *s = tp_scratch();
	__u32 flags, pos, len;

	if (!s || !f) {
		out[0] = '\0';
		return TP_PATH_UNRESOLVED;
	}
	flags = tp_path_of_file_scratch(s, f, typed, &pos, &len);
	tp_path_copy(out, s->buf, pos, len, &flags);
	return flags;
}

static __always_inline __u32 tp_path_of_file(struct file *f, char *out)
{
	return tp_path_of_file_as(f, out, false);
}

/* A string of the process, as it is, at s->buf[0]. */
static __always_inline __u32 tp_path_user_scratch(struct tp_path_scratch *s, const char *upath,
						  __u32 *pos, __u32 *len)
{
	long n = bpf_probe_read_user_str(s->buf, TP_PATH_MAX, upath);

	*pos = 0;
	*len = n > 0 ? n - 1 : 0;
	return n >= TP_PATH_MAX ? TP_PATH_TRUNCATED : 0;
}

/*
 * A path passed by the process, relative to dfd (TP_AT_FDCWD: the cwd),
 * made absolute. An empty path names dfd itself (AT_EMPTY_PATH). Not
 * canonical: "..", "." and symlinks in the passed part stay as given.
 */
static __always_inline __u32 tp_path_at_scratch(struct tp_path_scratch *s, long dfd,
						const char *upath, __u32 *pos, __u32 *len)
{
	struct dentry *dentry;
	struct vfsmount *vfsmnt;
	__u32 flags = 0, p, at;
	char head[2] = {};
	long n;

	*pos = 0;
	*len = 0;
	if (!upath || bpf_probe_read_user(head, sizeof(head), upath) < 0) {
		/* A one-byte string at the end of a page: try it as a string. */
		if (!upath || bpf_probe_read_user_str(head, sizeof(head), upath) < 0)
			return TP_PATH_UNRESOLVED;
	}
	if (head[0] == '/')
		return tp_path_user_scratch(s, upath, pos, len);
	if (head[0] == '.' && head[1] == '/')
		upath += 2;
	if ((int)dfd == TP_AT_FDCWD) {
		struct task_struct *t = tp_current();

		if (!t->fs)
			return TP_PATH_UNRESOLVED;
		dentry = t->fs->pwd.dentry;
		vfsmnt = t->fs->pwd.mnt;
	} else {
		struct file *f = tp_fd_file((int)dfd);

		if (!f)
			return TP_PATH_UNRESOLVED | tp_path_user_scratch(s, upath, pos, len);
		dentry = BPF_CORE_READ(f, f_path.dentry);
		vfsmnt = BPF_CORE_READ(f, f_path.mnt);
	}
	p = tp_path_walk(s, dentry, vfsmnt, &flags);
	*pos = p;
	if (head[0] == '\0') {
		*len = TP_PATH_WALK_END - p;
		return flags;
	}
	/* "/" + name after the root, "/dir" + "/" + name after anything else. */
	at = TP_PATH_WALK_END;
	if (p != TP_PATH_WALK_END - 1) {
		s->buf[TP_PATH_WALK_END] = '/';
		at++;
	}
	if (at > TP_PATH_WALK_END + 1)
		at = TP_PATH_WALK_END + 1; /* a bound the verifier can see */
	n = bpf_probe_read_user_str(&s->buf[at], TP_PATH_MAX, upath);
	if (n >= TP_PATH_MAX)
		flags |= TP_PATH_TRUNCATED;
	*len = at - p + (n > 0 ? n - 1 : 0);
	return flags;
}

/* tp_path_at_scratch into out (TP_PATH_MAX bytes). Returns path flags. */
static __always_inline __u32 tp_path_at(long dfd, const char *upath, char *out)
{
	struct tp_path_scratch *s = tp_scratch();
	__u32 flags, pos, len;

	if (!s) {
		out[0] = '\0';
		return TP_PATH_UNRESOLVED;
	}
	flags = tp_path_at_scratch(s, dfd, upath, &pos, &len);
	tp_path_copy(out, s->buf, pos, len, &flags);
	return flags;
}

/* Is path under a prefix of the exclude list? */
static __always_inline bool tp_path_excluded(const struct tp_settings *st, const char *path)
{
	struct tp_path_scratch *s;
	long n;

	if (!(st->flags & TP_SET_EXCLUDE_PATH))
		return false;
	s = tp_scratch();
	if (!s)
		return false;
	n = bpf_probe_read_kernel_str(s->key.path, sizeof(s->key.path), path);
	if (n <= 1)
		return false;
	s->key.prefixlen = (n - 1) * 8;
	return bpf_map_lookup_elem(&tp_exclude_path, &s->key) != NULL;
}

/* tp_path_excluded for a path in the scratch buffer (tp_path_*_scratch),
 * before any record is reserved for it. */
static __always_inline bool tp_path_excluded_at(const struct tp_settings *st,
						struct tp_path_scratch *s, __u32 pos, __u32 len)
{
	if (!(st->flags & TP_SET_EXCLUDE_PATH) || !len)
		return false;
	if (len > sizeof(s->key.path) - 1)
		len = sizeof(s->key.path) - 1;
	asm volatile("" : "+r"(len)); /* keep the bound for the verifier */
	if (bpf_probe_read_kernel(s->key.path, len & (TP_PATH_PREFIX_MAX - 1),
				  &s->buf[pos & (TP_PATH_SCRATCH - 1)]) < 0)
		return false;
	s->key.prefixlen = len * 8;
	return bpf_map_lookup_elem(&tp_exclude_path, &s->key) != NULL;
}

#endif /* TAPIO_PATH_BPF_H */
