// SPDX-License-Identifier: GPL-2.0
/*
 * process.bpf.c - process lifecycle: exec (successful and failed), fork, exit.
 *
 * Successful execs come from sched_process_exec, where the new image's argv
 * is read from its own memory (what ps shows, interpreter included). Failed
 * execs never reach that hook: the syscall exit reports them with the error,
 * reading the filename and argv as passed from the caller's memory. Forks are reported for new processes only (threads are not), with
 * the header describing the child; exit is reported when the last thread of
 * a process exits.
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

static __always_inline __u32 task_loginuid(struct task_struct *task)
{
	if (bpf_core_field_exists(task->loginuid))
		return BPF_CORE_READ(task, loginuid.val);
	return (__u32)-1;
}

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

	e = tp_reserve(sizeof(*e), TP_CAT_PROCESS);
	if (!e)
		return 0;
	tp_fill_hdr(&e->hdr, TP_EV_PROCESS_EXEC, sizeof(*e));
	e->ret = ret;
	e->flags = flags;
	e->loginuid = task_loginuid(bpf_get_current_task_btf());
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

/* raw_tp args: (struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm) */
SEC("raw_tp/sched_process_exec")
int tp_sched_exec(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *task = (struct task_struct *)ctx->args[0];
	struct linux_binprm *bprm = (struct linux_binprm *)ctx->args[2];
	unsigned long arg_start, arg_end, len;
	struct tp_exec_event *e;
	const char *filename;

	if (!tp_admit(TP_CAT_PROCESS, false))
		return 0;
	e = tp_reserve(sizeof(*e), TP_CAT_PROCESS);
	if (!e)
		return 0;
	tp_fill_hdr(&e->hdr, TP_EV_PROCESS_EXEC, sizeof(*e));
	e->ret = 0;
	e->flags = 0;
	e->loginuid = task_loginuid(task);
	filename = BPF_CORE_READ(bprm, filename);
	if (bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), filename) < 0)
		e->filename[0] = '\0';

	arg_start = BPF_CORE_READ(task, mm, arg_start);
	arg_end = BPF_CORE_READ(task, mm, arg_end);
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

/* raw_tp args: (struct task_struct *parent, struct task_struct *child) */
SEC("raw_tp/sched_process_fork")
int tp_sched_fork(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *parent = (struct task_struct *)ctx->args[0];
	struct task_struct *child = (struct task_struct *)ctx->args[1];
	struct tp_fork_event *e;

	if (BPF_CORE_READ(child, pid) != BPF_CORE_READ(child, tgid))
		return 0; /* a new thread, not a new process */
	if (!tp_admit(TP_CAT_PROCESS, false))
		return 0;
	e = tp_reserve(sizeof(*e), TP_CAT_PROCESS);
	if (!e)
		return 0;
	tp_fill_hdr_task(&e->hdr, child, TP_EV_PROCESS_FORK, sizeof(*e));
	e->parent_pid = BPF_CORE_READ(parent, tgid);
	e->_pad = 0;
	tp_submit(e, TP_CAT_PROCESS);
	return 0;
}

/* raw_tp args: (struct task_struct *p, ...) */
SEC("raw_tp/sched_process_exit")
int tp_sched_exit(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *task = (struct task_struct *)ctx->args[0];
	struct tp_exit_event *e;
	__u32 code;

	if (BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0; /* other threads of the process still run */
	if (!tp_admit(TP_CAT_PROCESS, false))
		return 0;
	e = tp_reserve(sizeof(*e), TP_CAT_PROCESS);
	if (!e)
		return 0;
	tp_fill_hdr(&e->hdr, TP_EV_PROCESS_EXIT, sizeof(*e));
	code = BPF_CORE_READ(task, exit_code);
	e->exit_code = (code >> 8) & 0xff;
	e->signal = code & 0x7f;
	e->core_dumped = (code & 0x80) ? 1 : 0;
	e->duration_ns = bpf_ktime_get_ns() - BPF_CORE_READ(task, start_time);
	e->_pad = 0;
	tp_submit(e, TP_CAT_PROCESS);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
