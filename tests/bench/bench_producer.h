/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * bench_producer.h - what the test-only BPF producer (producer.bpf.c) and
 * its driver (producer.c) share: one record template per map slot.
 */
#ifndef TAPIO_BENCH_PRODUCER_H
#define TAPIO_BENCH_PRODUCER_H

#define TP_BENCH_TPL_MAX 256  /* templates */
#define TP_BENCH_K_MAX	 128  /* records per run */
#define TP_BENCH_REC_MAX 2560 /* >= the largest record emitted (process.exec) */

/* Which record struct a template holds (its size is that struct's). */
enum tp_bench_kind {
	TP_BENCH_OPEN = 1,   /* struct tp_file_open_event */
	TP_BENCH_PATH = 2,   /* struct tp_file_path_event */
	TP_BENCH_RENAME = 3, /* struct tp_file_rename_event */
	TP_BENCH_CONN = 4,   /* struct tp_net_conn_event */
	TP_BENCH_EXEC = 5,   /* struct tp_exec_event */
	TP_BENCH_FORK = 6,   /* struct tp_fork_event */
	TP_BENCH_EXIT = 7,   /* struct tp_exit_event */
	/* struct tp_fork_event whose child pid is the template's plus the
	 * record's sequence number: a new process every time */
	TP_BENCH_FORK_NEW = 8,
};

struct tp_bench_tpl {
	__u32 kind; /* enum tp_bench_kind */
	__u32 type; /* hdr.type, for the drop counter's category */
	__u8 rec[TP_BENCH_REC_MAX];
};

#endif
