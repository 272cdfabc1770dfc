/*
 * cgcache.h - container and pod context by cgroup id, cached.
 *
 * An event carries kernfs cgroup ids. Paths come first from the stream
 * itself: container.cgroup events (mkdir, attach) name the path of an id
 * before any process runs in it, and rmdir forgets it. Otherwise, when the
 * cache may look at this machine (use_fs), it is filled at start by a walk
 * of the hierarchies and the first event of a new cgroup resolves its path
 * (through /proc/PID/cgroup of the event's process or parent in a live run,
 * checked against the id, else a bounded and rate-limited walk that also
 * fills the cache with every other new cgroup). A path is parsed
 * (container.h) and what the node's files say is read (ondisk.h); every
 * later event of that cgroup is a hash lookup. A cgroup id names one cgroup
 * for the life of a boot, so a resolved entry never goes stale; what could
 * not be told yet (the path of a cgroup whose processes are gone, a pod's
 * names before the kubelet wrote them) is retried with a backoff, never
 * guessed. Bounded: LRU. One thread uses a cache (the reader's: its
 * metrics are bumped without a locked add).
 *
 * A cache holds the ids of one boot: a replay of events recorded before
 * this boot uses a cache without use_fs (today's cgroup of an id is
 * another one), filled from the stored cgroup events alone.
 */
#ifndef TAPIO_ENRICH_CGCACHE_H
#define TAPIO_ENRICH_CGCACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "enrich/cgroupfs.h"
#include "enrich/container.h"
#include "enrich/ondisk.h"
#include "events/proc_ctx.h"
#include "obs/metrics.h"
#include "util/lru.h"

struct tp_cg_entry {
	struct tp_lru_node node;   /* key: id, top bit set for the v1 hierarchy */
	bool resolved;             /* the path was found and parsed */
	uint64_t retry_ns;         /* monotonic time of the next attempt (0: none) */
	uint32_t backoff_ms;
	struct tp_cgroup_identity ident;
	char *k8s_namespace, *k8s_pod, *k8s_container; /* NULL: unknown */
	struct tp_container_ctx container;
	struct tp_k8s_ctx k8s;
	bool has_container, has_k8s;
};

struct tp_cgcache {
	struct tp_lru lru;
	struct tp_cgroupfs fs;
	struct tp_ondisk disk;
	bool live;                 /* resolve with /proc/PID (a replay never does) */
	bool use_fs;               /* resolve on this machine's cgroup file systems */
	unsigned walk_max_dirs;
	uint64_t walk_budget_ns;   /* rate limit of hierarchy walks */
	uint64_t next_walk_ns;
	struct tp_metric m_size, m_hits, m_misses, m_evictions;
	/* The entry the last look-up gave, and its key: most events come in
	 * runs of one process's (NULL when an entry was freed since). */
	struct tp_cg_entry *last;
	uint64_t last_key;
	struct tp_metric m_resolved_pid, m_resolved_walk, m_resolved_event, m_unresolved;
	struct tp_metric m_k8s_found, m_k8s_missing;
};

/* fs: the hierarchies (its v1 controller must be the one the BPF side
 * tracks). live: /proc describes the events' processes; use_fs: the ids
 * are of this boot. 0 or -errno. Metrics are registered only for a cache
 * with use_fs (one per agent). */
int tp_cgcache_init(struct tp_cgcache *c, size_t max, const struct tp_cgroupfs *fs,
		    const struct tp_ondisk *disk, bool live, bool use_fs);
void tp_cgcache_free(struct tp_cgcache *c);

/* Fill free room with every cgroup of the hierarchies (at start). */
void tp_cgcache_prime(struct tp_cgcache *c, uint64_t now_ns);

/*
 * The entry for one id of an event: pid and ppid (its process and parent)
 * are hints for the path, now_ns is monotonic now (for retries). NULL for
 * id 0 or without memory.
 */
struct tp_cg_entry *tp_cgcache_get(struct tp_cgcache *c, enum tp_cg_hier h, uint64_t id,
				   uint32_t pid, uint32_t ppid, uint64_t now_ns);

/* The stream named the path of an id (a container.cgroup event). */
void tp_cgcache_learn(struct tp_cgcache *c, enum tp_cg_hier h, uint64_t id, const char *path,
		      uint64_t now_ns);

/* Forget an id (its cgroup was removed). */
void tp_cgcache_forget(struct tp_cgcache *c, enum tp_cg_hier h, uint64_t id);

/* Forget every id (a replayed stream crossed a reboot). */
void tp_cgcache_clear(struct tp_cgcache *c);

#endif
