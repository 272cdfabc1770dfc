/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * syscall.bpf.h - helpers of the syscall-based families: a syscall's
 * arguments at its exit, and the files and sockets behind descriptors.
 *
 * One hook per syscall: the program runs on the syscall's exit tracepoint,
 * where the result is known, and reads the arguments from the task's saved
 * user registers, which hold them unchanged for the whole syscall (arm64
 * and s390 keep the first one in orig_x0 / orig_gpr2, which libbpf's
 * PT_REGS_PARMn_CORE_SYSCALL reads). Compared with an enter/exit pair this
 * halves the hooks on the traced syscall and needs no map between the two;
 * user memory the syscall named is also resident by then, so reading its
 * strings does not fail on a page the kernel had yet to fault in.
 */
#ifndef TAPIO_SYSCALL_BPF_H
#define TAPIO_SYSCALL_BPF_H

#include "common.bpf.h"

#define TP_AT_FDCWD -100
#define TP_S_IFMT   00170000
#define TP_S_IFSOCK 0140000
#define TP_S_IFIFO  0010000

/*
 * Where a task's saved user registers sit above its stack page: the same
 * for every task of a boot on x86-64 and arm64 (task_pt_regs is the top of
 * the stack, THREAD_SIZE up, minus the pt_regs), learned on each CPU from
 * bpf_task_pt_regs the first time and kept in a per-CPU scratch entry
 * (scratch: a sharded family still loads in shards). After that, the
 * registers are a typed load and an add: two helper calls fewer on every
 * syscall event (bpf_get_current_task_btf, bpf_task_pt_regs).
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} tp_regs_off SEC(".maps");

/* The current task's saved user registers. */
static __always_inline struct pt_regs *tp_syscall_regs(void)
{
	struct pt_regs *regs;

#if defined(__TARGET_ARCH_x86) || defined(__TARGET_ARCH_arm64)
	if (TP_TYPED_LOADS) {
		struct task_struct *t = tp_current();
		__u64 stack = (__u64)t->stack;
		__u32 zero = 0;
		__u64 *off = bpf_map_lookup_elem(&tp_regs_off, &zero);

		if (off && *off && stack)
			return TP_CAST(stack + *off, struct pt_regs);
		regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
		if (off && stack)
			*off = (__u64)regs - stack;
		return TP_CAST(regs, struct pt_regs);
	}
#endif
	regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	if (TP_TYPED_LOADS)
		return TP_CAST(regs, struct pt_regs);
	return regs;
}

/* bpf_task_pt_regs gives a typed (BTF) pointer: these are plain loads, not
 * probe-read helper calls (which cost ~50 ns each in a VM). */
#define TP_ARG1(regs) ((unsigned long)PT_REGS_PARM1_SYSCALL(regs))
#define TP_ARG2(regs) ((unsigned long)PT_REGS_PARM2_SYSCALL(regs))
#define TP_ARG3(regs) ((unsigned long)PT_REGS_PARM3_SYSCALL(regs))
#define TP_ARG4(regs) ((unsigned long)PT_REGS_PARM4_SYSCALL(regs))
#define TP_ARG5(regs) ((unsigned long)PT_REGS_PARM5_SYSCALL(regs))

/* The open file behind a descriptor of the current task, or NULL. The
 * table is reached with typed loads, and so is the slot where the kernel
 * has typed casts (else a probe read). */
static __always_inline struct file *tp_fd_file(long fd)
{
	struct task_struct *task = tp_current();
	struct fdtable *fdt;
	struct file *f = NULL;

	if (fd < 0 || !task->files)
		return NULL;
	fdt = task->files->fdt;
	if (!fdt || (unsigned long)fd >= fdt->max_fds)
		return NULL;
	if (TP_TYPED_LOADS)
		return (struct file *)TP_LOAD_U64(&fdt->fd[fd]);
	if (bpf_probe_read_kernel(&f, sizeof(f), &fdt->fd[fd]) < 0)
		return NULL;
	return f;
}

/* The socket of an open file, or NULL when the file is not a socket. */
static __always_inline struct socket *tp_file_socket(struct file *f)
{
	umode_t mode;

	if (!f)
		return NULL;
	mode = BPF_CORE_READ(f, f_inode, i_mode);
	if ((mode & TP_S_IFMT) != TP_S_IFSOCK)
		return NULL;
	return BPF_CORE_READ(f, private_data);
}

/* st_dev as user space sees it (new_encode_dev) from a kernel dev_t. */
static __always_inline __u32 tp_encode_dev(__u32 dev)
{
	__u32 major = dev >> 20, minor = dev & 0xfffff;

	return (minor & 0xff) | (major << 8) | ((minor & ~0xffu) << 12);
}

/* Typed loads: TP_CAST (bpf/common.bpf.h). */

#endif /* TAPIO_SYSCALL_BPF_H */
