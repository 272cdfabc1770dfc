// SPDX-License-Identifier: GPL-2.0
/*
 * memory.bpf.c - memory events: OOM kills, executable anonymous or
 * writable+executable memory, sampled user page faults.
 *
 * oom: the oom:mark_victim tracepoint, read through CO-RE so that kernels
 * whose event has only the victim's pid still work (the other fields then
 * read as 0). mmap_exec: the exits of mmap and mprotect; for mprotect the
 * memory's mapping is looked up (bpf_find_vma) to tell anonymous memory
 * from a file's. Memory counts as anonymous when no file is behind it or
 * the file is unlinked: shared anonymous memory and memfd files are
 * unlinked shmem files, and so is a binary deleted after it was opened,
 * all ways to run code that is on no disk. page_fault: a perf software event counts user page
 * faults on each CPU and runs the program on every Nth one (N from user space), so the faults left
 * out cost no BPF at all.
 */
#include "path.bpf.h"

#define TP_PROT_WRITE	 0x2
#define TP_PROT_EXEC	 0x4
#define TP_MAP_ANONYMOUS 0x20

SEC("tp/oom/mark_victim")
int tp_oom_mark_victim(struct trace_event_raw_mark_victim *ctx)
{
	struct tp_oom_event *e;

	if (!tp_admit(TP_CAT_MEMORY, false))
		return 0;
	e = tp_reserve(sizeof(*e), TP_CAT_MEMORY);
	if (!e)
		return 0;
	tp_fill_hdr(&e->hdr, TP_EV_MEMORY_OOM, sizeof(*e));
	e->victim_pid = BPF_CORE_READ(ctx, pid);
	e->total_vm_kb = 0;
	e->anon_rss_kb = 0;
	e->file_rss_kb = 0;
	e->shmem_rss_kb = 0;
	e->pgtables_kb = 0;
	e->victim_uid = 0;
	e->oom_score_adj = 0;
	e->_pad = 0;
	e->victim_comm[0] = '\0';
	if (bpf_core_field_exists(ctx->anon_rss)) {
		e->total_vm_kb = BPF_CORE_READ(ctx, total_vm);
		e->anon_rss_kb = BPF_CORE_READ(ctx, anon_rss);
		e->file_rss_kb = BPF_CORE_READ(ctx, file_rss);
		e->shmem_rss_kb = BPF_CORE_READ(ctx, shmem_rss);
		e->pgtables_kb = BPF_CORE_READ(ctx, pgtables);
	}
	if (bpf_core_field_exists(ctx->uid))
		e->victim_uid = BPF_CORE_READ(ctx, uid);
	if (bpf_core_field_exists(ctx->oom_score_adj))
		e->oom_score_adj = BPF_CORE_READ(ctx, oom_score_adj);
	if (bpf_core_field_exists(ctx->__data_loc_comm)) {
		__u32 loc = BPF_CORE_READ(ctx, __data_loc_comm);

		if (bpf_probe_read_kernel_str(e->victim_comm, sizeof(e->victim_comm),
					      (void *)ctx + (loc & 0xffff)) < 0)
			e->victim_comm[0] = '\0';
	}
	tp_submit(e, TP_CAT_MEMORY);
	return 0;
}

/* ------------------------------------------------------------------ */

static __always_inline int report_exec_map(long ret, __u16 sys, __u64 addr, __u64 len, __u32 prot,
					   __u32 flags, long fd, bool anonymous, struct file *file)
{
	const struct tp_settings *s = tp_admit(TP_CAT_MEMORY, ret < 0);
	struct tp_mmap_exec_event *e;

	if (!s)
		return 0;
	e = tp_reserve(sizeof(*e), TP_CAT_MEMORY);
	if (!e)
		return 0;
	tp_fill_hdr(&e->hdr, TP_EV_MEMORY_MMAP_EXEC, sizeof(*e));
	e->addr = addr;
	e->len = len;
	e->ret = ret < 0 ? ret : 0;
	e->prot = prot;
	e->flags = flags;
	e->fd = fd;
	e->anonymous = anonymous;
	e->syscall = sys;
	e->_pad[0] = e->_pad[1] = e->_pad[2] = 0;
	e->path[0] = '\0';
	e->path_flags = 0;
	if (file)
		e->path_flags = tp_path_of_file(file, e->path);
	tp_submit(e, TP_CAT_MEMORY);
	return 0;
}

static __always_inline bool file_unlinked(struct file *f)
{
	return BPF_CORE_READ(f, f_inode, __i_nlink) == 0;
}

SEC("tp/syscalls/sys_exit_mmap")
int tp_exit_mmap(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();
	__u32 prot = TP_ARG3(regs), flags = TP_ARG4(regs);
	long ret = ctx->ret, fd = (int)TP_ARG5(regs);
	bool failed = ret < 0 && ret > -4096;
	struct file *file = NULL;
	bool anonymous;

	if (!(prot & TP_PROT_EXEC))
		return 0;
	if (!(flags & TP_MAP_ANONYMOUS))
		file = tp_fd_file(fd);
	anonymous = !file || file_unlinked(file);
	if (!anonymous && !(prot & TP_PROT_WRITE))
		return 0; /* a file's code mapped: what loaders do */
	return report_exec_map(failed ? ret : 0, TP_SYS_MMAP, failed ? TP_ARG1(regs) : (__u64)ret,
			       TP_ARG2(regs), prot, flags, file ? fd : -1, anonymous, file);
}

struct vma_info {
	struct file *file;
	bool found;
};

static long vma_cb(struct task_struct *task, struct vm_area_struct *vma, void *data)
{
	struct vma_info *v = data;

	v->file = BPF_CORE_READ(vma, vm_file);
	v->found = true;
	return 0;
}

SEC("tp/syscalls/sys_exit_mprotect")
int tp_exit_mprotect(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();
	__u32 prot = TP_ARG3(regs);
	__u64 start = TP_ARG1(regs);
	struct vma_info v = {};

	if (!(prot & TP_PROT_EXEC))
		return 0;
	/* Which memory is it? Unknown (the lookup can fail when the mm lock is
	 * taken) counts as anonymous: better one event too many. */
	bpf_find_vma(bpf_get_current_task_btf(), start, vma_cb, &v, 0);
	if (v.found && v.file && !file_unlinked(v.file) && !(prot & TP_PROT_WRITE))
		return 0; /* a file's code made executable: what loaders do */
	return report_exec_map(ctx->ret, TP_SYS_MPROTECT, start, TP_ARG2(regs), prot, 0, -1,
			       !v.file || file_unlinked(v.file), v.file);
}

/* ------------------------------------------------------------------ */

/* Attached by the loader to a PERF_COUNT_SW_PAGE_FAULTS software event on
 * each CPU, user-mode faults only, sample period from the configuration. */
SEC("perf_event")
int tp_page_fault(struct bpf_perf_event_data *ctx)
{
	struct tp_page_fault_event *e;

	if (!tp_admit(TP_CAT_MEMORY, false))
		return 0;
	e = tp_reserve(sizeof(*e), TP_CAT_MEMORY);
	if (!e)
		return 0;
	tp_fill_hdr(&e->hdr, TP_EV_MEMORY_PAGE_FAULT, sizeof(*e));
	e->addr = ctx->addr;
	e->ip = PT_REGS_IP(&ctx->regs);
	e->sample_period = ctx->sample_period;
	tp_submit(e, TP_CAT_MEMORY);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
