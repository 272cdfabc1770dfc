/*
 * creds_seed.h - the credentials of threads older than the agent, for the
 * security family's set*id and capset events.
 *
 * Those events report the credentials from before the call as the thread's
 * "last seen" ones, which the kernel side keeps in task storage from each
 * thread's creation on (bpf/security.bpf.c). Threads that existed before
 * the programs were attached have no entry: this fills one for each from
 * /proc/PID/task/TID/status. An entry the kernel made meanwhile is newer
 * and is kept (BPF_NOEXIST).
 */
#ifndef TAPIO_BPF_CREDS_SEED_H
#define TAPIO_BPF_CREDS_SEED_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct tp_creds_seen;

struct tp_creds_seed_stats {
	unsigned seeded; /* entries filled */
	unsigned kept;	 /* threads the kernel had already seen */
	unsigned missed; /* threads left without one (gone, or a kernel before 6.9 for a
			  * thread other than its process's first: no thread pidfd) */
	double ms;	 /* wall time taken */
};

/* Parse a status file's text into c. false when a line is missing. */
bool tp_creds_parse_status(const char *text, struct tp_creds_seen *c);

/* Seed map_fd (task storage of struct tp_creds_seen) from proc_root
 * ("/proc"), stopping early once *stop is set (stop may be NULL).
 * Returns 0, or -errno when proc_root cannot be read. */
int tp_creds_seed(int map_fd, const char *proc_root, const atomic_bool *stop,
		  struct tp_creds_seed_stats *st);

#endif
