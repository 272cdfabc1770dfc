// SPDX-License-Identifier: GPL-2.0
/*
 * producer.bpf.c - test-only: a BPF producer for the pipeline benchmark.
 *
 * Not part of the agent. It writes into a running consumer's ring buffer
 * (the tp_events map of a tapio-collector or of the bare consumer, reused
 * by fd) at rates no real syscall loop reaches on one core: each run of
 * `produce` (through BPF_PROG_TEST_RUN, no hook) emits K records copied
 * from templates that user space put in tp_bench_tpl, with a fresh
 * timestamp and CPU. Records are reserved, filled and submitted as the
 * agent's own programs do (no wakeup unless the ring holds more than
 * tp_wakeup_bytes), and a record that finds the ring full is counted in
 * the consumer's tp_drops map, so the consumer's drop counters see it.
 *
 * ctx->args[0] = K (1..TP_BENCH_K_MAX), ctx->args[1] = sequence number of
 * the first record; record j of the run copies template (seq + j) mod the
 * template count.
 */
#include "common.bpf.h"
#include "bench_producer.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TP_BENCH_TPL_MAX);
	__type(key, __u32);
	__type(value, struct tp_bench_tpl);
} tp_bench_tpl SEC(".maps");

/* Per CPU: [0] records submitted, [1] records the ring had no room for. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} tp_bench_counts SEC(".maps");

const volatile __u32 tp_bench_ntpl = 1;

static __always_inline void count(__u32 slot)
{
	__u64 *n = bpf_map_lookup_elem(&tp_bench_counts, &slot);

	if (n)
		*n += 1;
}

/* One record of a fixed size: reserve, copy the template, stamp, submit. */
#define EMIT(T, NEWPID)                                                                \
	do {                                                                           \
		struct T *r = bpf_ringbuf_reserve(&tp_events, sizeof(struct T), 0);    \
		if (!r) {                                                              \
			tp_count_drop(TP_TYPE_CATEGORY(tpl->type) & 7);                \
			count(1);                                                      \
			break;                                                         \
		}                                                                      \
		bpf_probe_read_kernel(r, sizeof(struct T), tpl->rec);                  \
		r->hdr.ts_ns = bpf_ktime_get_boot_ns();                                \
		r->hdr.cpu = bpf_get_smp_processor_id();                               \
		if (NEWPID)                                                            \
			r->hdr.pid = r->hdr.tid = r->hdr.pid + (__u32)(first + j);     \
		bpf_ringbuf_submit(r, tp_submit_flags());                              \
		count(0);                                                              \
	} while (0)

SEC("raw_tp")
int produce(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 k = ctx->args[0];
	__u64 first = ctx->args[1];

	for (__u32 j = 0; j < TP_BENCH_K_MAX; j++) {
		struct tp_bench_tpl *tpl;
		__u32 idx;

		if (j >= k)
			break;
		idx = (first + j) % tp_bench_ntpl;
		tpl = bpf_map_lookup_elem(&tp_bench_tpl, &idx);
		if (!tpl)
			break;
		switch (tpl->kind) {
		case TP_BENCH_OPEN: EMIT(tp_file_open_event, 0); break;
		case TP_BENCH_PATH: EMIT(tp_file_path_event, 0); break;
		case TP_BENCH_RENAME: EMIT(tp_file_rename_event, 0); break;
		case TP_BENCH_CONN: EMIT(tp_net_conn_event, 0); break;
		case TP_BENCH_EXEC: EMIT(tp_exec_event, 0); break;
		case TP_BENCH_FORK: EMIT(tp_fork_event, 0); break;
		case TP_BENCH_EXIT: EMIT(tp_exit_event, 0); break;
		case TP_BENCH_FORK_NEW: EMIT(tp_fork_event, 1); break;
		default: break;
		}
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
