/*
 * util/caps.h - least privilege at run time.
 *
 * Loading and attaching BPF programs takes CAP_BPF and CAP_PERFMON (or
 * CAP_SYS_ADMIN), mounting tracefs CAP_SYS_ADMIN. Once the programs are
 * attached the agent needs far less, and keeps only:
 *
 *   CAP_BPF             kernel filter updates and drop counters (bpf() on
 *                       its own map fds; kernels before 6.5 check it on
 *                       every bpf() call). Kernels without CAP_BPF (before
 *                       5.8) get CAP_SYS_ADMIN in its place.
 *   CAP_SYS_PTRACE      /proc/<pid>/exe, environ, ns and root of processes
 *                       of other users (the enrichment).
 *   CAP_DAC_READ_SEARCH files under /proc/<pid>/root of containers, and
 *                       rule, config and token files the agent's user
 *                       cannot read by mode alone.
 *
 * Everything else (the effective, permitted, inheritable, ambient and,
 * with CAP_SETPCAP, bounding sets) is dropped in every thread of the
 * process, and no_new_privs is set (the agent executes nothing): capabilities
 * are per thread in Linux, and the metrics and delivery threads, which talk
 * to the network, exist by then. Threads started later inherit the reduced
 * sets. Nothing here can raise a capability the process did not have.
 */
#ifndef TAPIO_UTIL_CAPS_H
#define TAPIO_UTIL_CAPS_H

#include <stddef.h>
#include <stdint.h>

#include <signal.h>

/* Every thread takes the drop from this signal: a thread that blocks
 * signals (they belong to the run loop) blocks all but this one, with
 * tp_caps_block_signals. */
#define TP_CAPS_SIGNAL (SIGRTMIN + 4)
/* Fill set with every signal but TP_CAPS_SIGNAL. */
void tp_caps_block_signals(sigset_t *set);

/* The sets kept, as a mask of capability numbers (1ull << CAP_X). */
uint64_t tp_caps_runtime_set(void);

/* "cap_bpf,cap_sys_ptrace" for a mask. */
void tp_caps_names(uint64_t mask, char *out, size_t len);

/* Drop to tp_caps_runtime_set() in every thread. Returns 1 when something
 * was dropped, 0 when nothing was held beyond the kept set, or -errno (err
 * says why); kept and dropped (may be NULL) receive the masks. */
int tp_caps_drop_runtime(uint64_t *kept, uint64_t *dropped, char *err, size_t errlen);

/* The effective set of the calling thread, and of thread tid of this
 * process (-1 if it cannot be read). */
uint64_t tp_caps_effective(void);
int64_t tp_caps_thread_effective(int tid);

#endif
