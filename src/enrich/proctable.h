/*
 * proctable.h - the processes of the node as the event stream describes
 * them: pid, parent, executable, arguments, uid, start time and cgroups,
 * kept current from fork, exec and exit events and, in a live run, seeded
 * from /proc at start.
 *
 * Bounded: at most max entries in LRU order; an entry is freed when its
 * process exits, and the least recently seen one is evicted when events
 * were lost and the table is full. A forked child shares its parent's image
 * (exe and arguments) until it execs, so fork-heavy workloads cost one
 * small entry per process.
 *
 * One thread uses a table (the reader's: its metrics are bumped without a
 * locked add).
 */
#ifndef TAPIO_ENRICH_PROCTABLE_H
#define TAPIO_ENRICH_PROCTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "events.h"
#include "obs/metrics.h"
#include "util/lru.h"

/* An executable image: shared by a process and the children it forks. */
struct tp_image {
	uint32_t refs;
	uint32_t argv_len;  /* bytes of argv (NUL-separated) */
	bool argv_truncated;
	char *argv;         /* points into data, after exe; NULL when unknown */
	char data[];        /* exe (NUL-terminated, "" when unknown), then argv */
};

struct tp_proc {
	struct tp_lru_node node; /* key: pid */
	uint32_t pid;
	uint32_t ppid;
	uint32_t uid;
	uint64_t start_ns;       /* CLOCK_BOOTTIME ns; 0 when unknown */
	uint64_t cgroup_id;      /* last seen in an event header */
	uint64_t cgroup_v1_id;
	char comm[TP_COMM_LEN];  /* "" when unknown */
	struct tp_image *image;  /* NULL when unknown */
};

struct tp_proctable {
	struct tp_lru lru;
	uint32_t argv_max;       /* bytes of arguments kept per image */
	struct tp_proc *dead;    /* exited, unlinked, freed at the next call */
	/* Bumped whenever an ancestry the table gives could differ: an entry
	 * added, freed or unlinked, a ppid, comm, start or image changed. A
	 * caller that saw the same version sees the same tree. */
	uint64_t version;
	/* The entry the last touch gave, at version last_version: most events
	 * come in runs of one process's. */
	struct tp_proc *last;
	uint64_t last_version;
	struct tp_metric m_size, m_hits, m_misses, m_evictions, m_exits, m_seeded;
};

int tp_proctable_init(struct tp_proctable *t, size_t max, uint32_t argv_max);
void tp_proctable_free(struct tp_proctable *t);

/* Seed from /proc (live runs only: a replay has no /proc of its past).
 * Returns the number of processes added or -errno. */
int tp_proctable_seed(struct tp_proctable *t, const char *proc_root);

/* The process an event's header describes: found (and refreshed from the
 * header: comm, ppid, uid, cgroups) or created. NULL only without memory. */
struct tp_proc *tp_proctable_touch(struct tp_proctable *t, const struct tp_hdr *h);

/* fork: the header describes the child. It shares the image of parent_pid. */
struct tp_proc *tp_proctable_fork(struct tp_proctable *t, const struct tp_hdr *h,
				  uint32_t parent_pid);

/* A successful exec: a new image. */
struct tp_proc *tp_proctable_exec(struct tp_proctable *t, const struct tp_hdr *h,
				  const char *filename, const char *argv, uint32_t argv_len,
				  bool argv_truncated);

/* The process exited: unlinked now, its memory kept until the next call so
 * that the exit event itself can still be described. */
void tp_proctable_exit(struct tp_proctable *t, struct tp_proc *p);

/* The count of changes to what the table's entries show (an image or an
 * entry freed, a comm changed), over every table of the process: never 0,
 * never the same after such a change (tp_proc_ctx.epoch). */
uint64_t tp_proctable_epoch(void);

/* Look a process up without creating it or changing the LRU order. */
struct tp_proc *tp_proctable_find(const struct tp_proctable *t, uint32_t pid);

static inline size_t tp_proctable_size(const struct tp_proctable *t)
{
	return t->lru.count;
}

static inline const char *tp_proc_exe(const struct tp_proc *p)
{
	return p && p->image && p->image->data[0] ? p->image->data : NULL;
}

#endif
