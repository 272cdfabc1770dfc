// SPDX-License-Identifier: GPL-2.0
/*
 * process.bpf.c - process lifecycle: exec (successful and failed), fork, exit.
 *
 * Successful execs come from sched_process_exec, where the new image's argv
 * is read from its own memory (what ps shows, interpreter included). Failed
 * execs never reach that hook, so the syscall entry keeps the filename and
 * argv as passed, per thread, and the syscall exit reports them with the
 * error. Forks are reported for new processes only (threads are not), with
 * the header describing the child; exit is reported when the last thread of
 * a process exits.
 */
#include "common.bpf.h"

#define TP_EXEC_MAX_ARGS 32
#define TP_EXEC_ARG_MAX 256 /* one argument read at a time, at most this long */

/* What sys_enter_execve(at) keeps until the syscall returns. */
struct exec_args {
	__u32 argv_len;
	__u32 flags;
	char filename[TP_PATH_MAX];
	char argv[TP_ARGV_MAX + TP_EXEC_ARG_MAX]; /* slack keeps every read in bounds */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32); /* tid */
	__type(value, struct exec_args);
} exec_args_by_tid SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct exec_args);
} exec_args_scratch SEC(".maps");

static __always_inline int save_exec_args(const char *filename, const char *const *argv)
{
	__u32 zero = 0, tid = (__u32)bpf_get_current_pid_tgid();
	struct exec_args *a;
	__u32 off = 0;
	int i;

	if (tp_current_is_self())
		return 0;
	a = bpf_map_lookup_elem(&exec_args_scratch, &zero);
	if (!a)
		return 0;
	a->flags = 0;
	if (bpf_probe_read_user_str(a->filename, sizeof(a->filename), filename) < 0)
		a->filename[0] = '\0';

#pragma unroll
	for (i = 0; i < TP_EXEC_MAX_ARGS; i++) {
		const char *arg = NULL;
		long n;

		if (bpf_probe_read_user(&arg, sizeof(arg), &argv[i]) < 0 || !arg)
			break;
		if (off >= TP_ARGV_MAX) {
			a->flags |= TP_EXEC_ARGV_TRUNCATED;
			break;
		}
		n = bpf_probe_read_user_str(&a->argv[off & (TP_ARGV_MAX - 1)], TP_EXEC_ARG_MAX, arg);
		if (n <= 0)
			break;
		off += n;
	}
	if (i == TP_EXEC_MAX_ARGS)
		a->flags |= TP_EXEC_ARGV_TRUNCATED;
	if (off > TP_ARGV_MAX) {
		off = TP_ARGV_MAX;
		a->flags |= TP_EXEC_ARGV_TRUNCATED;
	}
	a->argv_len = off;
	bpf_map_update_elem(&exec_args_by_tid, &tid, a, BPF_ANY);
	return 0;
}

SEC("tp/syscalls/sys_enter_execve")
int tp_enter_execve(struct trace_event_raw_sys_enter *ctx)
{
	return save_exec_args((const char *)ctx->args[0], (const char *const *)ctx->args[1]);
}

SEC("tp/syscalls/sys_enter_execveat")
int tp_enter_execveat(struct trace_event_raw_sys_enter *ctx)
{
	return save_exec_args((const char *)ctx->args[1], (const char *const *)ctx->args[2]);
}

static __always_inline __u32 task_loginuid(struct task_struct *task)
{
	if (bpf_core_field_exists(task->loginuid))
		return BPF_CORE_READ(task, loginuid.val);
	return (__u32)-1;
}

/* Only failures are reported here: a successful exec was reported by
 * sched_process_exec, which also dropped the saved arguments. */
static __always_inline int report_failed_exec(long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct tp_exec_event *e;
	struct exec_args *a;
	__u32 len;

	a = bpf_map_lookup_elem(&exec_args_by_tid, &tid);
	if (!a)
		return 0;
	if (ret >= 0 || !tp_admit(TP_CAT_PROCESS, true))
		goto out;
	e = tp_reserve(sizeof(*e), TP_CAT_PROCESS);
	if (!e)
		goto out;
	tp_fill_hdr(&e->hdr, TP_EV_PROCESS_EXEC, sizeof(*e));
	e->ret = ret;
	e->flags = a->flags;
	e->loginuid = task_loginuid((struct task_struct *)bpf_get_current_task());
	__builtin_memcpy(e->filename, a->filename, sizeof(e->filename));
	len = a->argv_len;
	if (len > TP_ARGV_MAX)
		len = TP_ARGV_MAX;
	e->argv_len = len;
	__builtin_memcpy(e->argv, a->argv, TP_ARGV_MAX);
	tp_submit(e, TP_CAT_PROCESS);
out:
	bpf_map_delete_elem(&exec_args_by_tid, &tid);
	return 0;
}

SEC("tp/syscalls/sys_exit_execve")
int tp_exit_execve(struct trace_event_raw_sys_exit *ctx)
{
	return report_failed_exec(ctx->ret);
}

SEC("tp/syscalls/sys_exit_execveat")
int tp_exit_execveat(struct trace_event_raw_sys_exit *ctx)
{
	return report_failed_exec(ctx->ret);
}

/* raw_tp args: (struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm) */
SEC("raw_tp/sched_process_exec")
int tp_sched_exec(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *task = (struct task_struct *)ctx->args[0];
	struct linux_binprm *bprm = (struct linux_binprm *)ctx->args[2];
	__u32 old_tid = (__u32)ctx->args[1];
	unsigned long arg_start, arg_end, len;
	struct tp_exec_event *e;
	const char *filename;

	bpf_map_delete_elem(&exec_args_by_tid, &old_tid);
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
