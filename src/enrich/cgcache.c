#include "enrich/cgcache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

#define NSEC_PER_MSEC 1000000ull
#define NSEC_PER_SEC 1000000000ull
#define BACKOFF_FIRST_MS 1000u
#define BACKOFF_MAX_MS 60000u
#define WALK_MAX_DIRS 50000u
#define WALK_INTERVAL_NS (250 * NSEC_PER_MSEC) /* at most 4 walks a second */
#define V1_KEY_BIT (1ull << 63)

static struct tp_cg_entry *entry_of(struct tp_lru_node *n)
{
	return n ? container_of(n, struct tp_cg_entry, node) : NULL;
}

static void metric(struct tp_metric *m, const char *name, const char *help, const char *labels,
		   enum tp_metric_type type)
{
	*m = (struct tp_metric){ .name = name, .help = help, .labels = labels, .type = type };
}

#define NMETRICS 10

/* The cache's metrics, to register and unregister them together. */
static void metrics_of(struct tp_cgcache *c, struct tp_metric *out[NMETRICS])
{
	struct tp_metric *all[NMETRICS] = {
		&c->m_size,         &c->m_hits,           &c->m_misses,
		&c->m_evictions,    &c->m_resolved_pid,   &c->m_resolved_walk,
		&c->m_resolved_event, &c->m_unresolved,   &c->m_k8s_found,
		&c->m_k8s_missing,
	};

	memcpy(out, all, sizeof(all));
}

int tp_cgcache_init(struct tp_cgcache *c, size_t max, const struct tp_cgroupfs *fs,
		    const struct tp_ondisk *disk, bool live, bool use_fs)
{
	static const char lookups_help[] = "Events whose cgroup was in the enrichment cache.";
	static const char resolve_help[] = "Cgroup ids resolved to a path, by how.";
	static const char k8s_help[] = "Kubernetes names looked up on disk, by result.";
	int r;

	memset(c, 0, sizeof(*c));
	r = tp_lru_init(&c->lru, max);
	if (r < 0)
		return r;
	c->fs = *fs;
	c->disk = *disk;
	c->live = live;
	c->use_fs = use_fs;
	c->walk_max_dirs = WALK_MAX_DIRS;
	c->walk_budget_ns = WALK_INTERVAL_NS;
	metric(&c->m_size, "tapio_enrich_cgroups", "Cgroups in the enrichment cache.", NULL,
	       TP_METRIC_GAUGE);
	metric(&c->m_hits, "tapio_enrich_cgroup_lookups_total", lookups_help, "result=\"hit\"",
	       TP_METRIC_COUNTER);
	metric(&c->m_misses, "tapio_enrich_cgroup_lookups_total", lookups_help, "result=\"miss\"",
	       TP_METRIC_COUNTER);
	metric(&c->m_evictions, "tapio_enrich_cgroup_evictions_total",
	       "Cgroups dropped from a full enrichment cache.", NULL, TP_METRIC_COUNTER);
	metric(&c->m_resolved_pid, "tapio_enrich_cgroup_resolves_total", resolve_help,
	       "how=\"proc\"", TP_METRIC_COUNTER);
	metric(&c->m_resolved_walk, "tapio_enrich_cgroup_resolves_total", resolve_help,
	       "how=\"walk\"", TP_METRIC_COUNTER);
	metric(&c->m_resolved_event, "tapio_enrich_cgroup_resolves_total", resolve_help,
	       "how=\"event\"", TP_METRIC_COUNTER);
	metric(&c->m_unresolved, "tapio_enrich_cgroup_resolves_total", resolve_help,
	       "how=\"failed\"", TP_METRIC_COUNTER);
	metric(&c->m_k8s_found, "tapio_enrich_k8s_lookups_total", k8s_help, "result=\"found\"",
	       TP_METRIC_COUNTER);
	metric(&c->m_k8s_missing, "tapio_enrich_k8s_lookups_total", k8s_help,
	       "result=\"missing\"", TP_METRIC_COUNTER);
	if (use_fs) {
		struct tp_metric *m[NMETRICS];

		metrics_of(c, m);
		for (int i = 0; i < NMETRICS; i++)
			tp_metric_register(m[i]);
	}
	return 0;
}

static void entry_free(struct tp_cg_entry *e)
{
	if (!e)
		return;
	free(e->k8s_namespace);
	free(e->k8s_pod);
	free(e->k8s_container);
	free(e);
}

void tp_cgcache_clear(struct tp_cgcache *c)
{
	struct tp_lru_node *n;

	c->last = NULL;
	while ((n = tp_lru_oldest(&c->lru))) {
		tp_lru_remove(&c->lru, n);
		entry_free(entry_of(n));
	}
	tp_metric_set(&c->m_size, 0);
}

void tp_cgcache_free(struct tp_cgcache *c)
{
	struct tp_metric *m[NMETRICS];

	tp_cgcache_clear(c);
	tp_lru_free(&c->lru);
	metrics_of(c, m);
	for (int i = 0; i < NMETRICS; i++)
		tp_metric_unregister(m[i]);
}

static void fill_ctx(struct tp_cg_entry *e)
{
	const struct tp_cgroup_identity *id = &e->ident;

	e->has_container = id->container_id[0] != '\0';
	e->container.id = e->has_container ? id->container_id : NULL;
	e->container.runtime = e->has_container ? id->runtime : NULL;
	e->has_k8s = id->pod_uid[0] != '\0';
	e->k8s.pod_uid = e->has_k8s ? id->pod_uid : NULL;
	e->k8s.qos = e->has_k8s ? id->qos : NULL;
	e->k8s.namespace = e->k8s_namespace;
	e->k8s.pod = e->k8s_pod;
	e->k8s.container = e->k8s_container;
}

/* Read what the disk tells about a resolved entry. Returns true when
 * something knowable is still missing (worth another look later). */
static bool read_disk(struct tp_cgcache *c, struct tp_cg_entry *e)
{
	struct tp_cgroup_identity *id = &e->ident;
	bool pending = false;

	if (id->bare_id && !id->runtime) {
		id->runtime = tp_ondisk_runtime(&c->disk, id->container_id);
		pending |= id->runtime == NULL;
	}
	if (!id->pod_uid[0])
		return pending;
	if (!e->k8s_pod) {
		struct tp_pod_names pn;

		if (tp_ondisk_pod(&c->disk, id->pod_uid, &pn) == 0) {
			e->k8s_namespace = strdup(pn.namespace);
			e->k8s_pod = strdup(pn.pod);
			if (!e->k8s_namespace || !e->k8s_pod) {
				free(e->k8s_namespace);
				free(e->k8s_pod);
				e->k8s_namespace = e->k8s_pod = NULL;
			}
		}
		tp_metric_add_owned(e->k8s_pod ? &c->m_k8s_found : &c->m_k8s_missing, 1);
		pending |= e->k8s_pod == NULL;
	}
	if (id->container_id[0] && !e->k8s_container) {
		char name[TP_K8S_NAME_MAX];

		if (tp_ondisk_container_name(&c->disk, id->container_id, id->pod_uid, name,
					     sizeof(name)) == 0)
			e->k8s_container = strdup(name);
		tp_metric_add_owned(e->k8s_container ? &c->m_k8s_found : &c->m_k8s_missing, 1);
		pending |= e->k8s_container == NULL;
	}
	return pending;
}

static void schedule_retry(struct tp_cg_entry *e, uint64_t now_ns)
{
	if (!e->backoff_ms)
		e->backoff_ms = BACKOFF_FIRST_MS;
	else if (e->backoff_ms < BACKOFF_MAX_MS)
		e->backoff_ms = e->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
								    : e->backoff_ms * 2;
	e->retry_ns = now_ns + e->backoff_ms * NSEC_PER_MSEC;
}

/* The path is known: what it and the disk tell. */
static void settle(struct tp_cgcache *c, struct tp_cg_entry *e, const char *path, uint64_t now_ns)
{
	tp_container_parse(path, &e->ident);
	e->resolved = true;
	e->backoff_ms = 0;
	e->retry_ns = 0;
	if (read_disk(c, e))
		schedule_retry(e, now_ns);
	fill_ctx(e);
}

static uint64_t key_of(enum tp_cg_hier h, uint64_t id)
{
	return id | (h == TP_CG_V1 ? V1_KEY_BIT : 0);
}

struct walk_ctx {
	struct tp_cgcache *c;
	enum tp_cg_hier h;
	uint64_t now_ns;
	uint64_t want; /* 0: none, just fill the cache */
};

/* Every cgroup a walk passes is worth knowing: the events of a new
 * container usually come in a burst. Fills free room only, never evicts. */
static int walk_visit(void *ctx, uint64_t id, const char *path)
{
	struct walk_ctx *w = ctx;
	struct tp_cgcache *c = w->c;
	struct tp_cg_entry *e;

	if (!id || (id & V1_KEY_BIT))
		return 0;
	e = entry_of(tp_lru_peek(&c->lru, key_of(w->h, id)));
	if (!e && !tp_lru_full(&c->lru) && (e = calloc(1, sizeof(*e)))) {
		e->node.key = key_of(w->h, id);
		tp_lru_insert(&c->lru, &e->node);
		tp_metric_set(&c->m_size, c->lru.count);
	}
	if (e && !e->resolved)
		settle(c, e, path, w->now_ns);
	return id == w->want;
}

static int walk(struct tp_cgcache *c, enum tp_cg_hier h, uint64_t want, uint64_t now_ns)
{
	struct walk_ctx w = { .c = c, .h = h, .now_ns = now_ns, .want = want };

	return tp_cgroupfs_walk(&c->fs, h, c->walk_max_dirs, walk_visit, &w);
}

void tp_cgcache_prime(struct tp_cgcache *c, uint64_t now_ns)
{
	if (!c->use_fs)
		return;
	for (int h = 0; h < TP_CG_NHIER; h++)
		walk(c, (enum tp_cg_hier)h, 0, now_ns);
	c->next_walk_ns = now_ns + c->walk_budget_ns;
}

static void resolve(struct tp_cgcache *c, struct tp_cg_entry *e, enum tp_cg_hier h, uint64_t id,
		    const uint32_t pids[2], uint64_t now_ns)
{
	e->retry_ns = 0;
	if (!e->resolved) {
		char path[TP_CG_PATH_MAX];
		int r = -ENOENT;

		/* The event's process, or its parent (a short-lived process may
		 * be gone already): a path is believed only if its inode is id. */
		for (int i = 0; c->live && r < 0 && i < 2; i++)
			if (pids[i])
				r = tp_cgroupfs_path_by_pid(&c->fs, h, id, pids[i], path,
							    sizeof(path));
		if (r == 0) {
			tp_metric_add_owned(&c->m_resolved_pid, 1);
			settle(c, e, path, now_ns);
			return;
		}
		if (!c->use_fs) {
			/* Only the stream can tell (tp_cgcache_learn). */
			tp_metric_add_owned(&c->m_unresolved, 1);
			return;
		}
		if (now_ns >= c->next_walk_ns) {
			c->next_walk_ns = now_ns + c->walk_budget_ns;
			walk(c, h, id, now_ns);
			if (e->resolved) {
				tp_metric_add_owned(&c->m_resolved_walk, 1);
				return;
			}
		}
		tp_metric_add_owned(&c->m_unresolved, 1);
		schedule_retry(e, now_ns);
		return;
	}
	if (read_disk(c, e))
		schedule_retry(e, now_ns);
	fill_ctx(e);
}

static struct tp_cg_entry *entry_new(struct tp_cgcache *c, uint64_t key)
{
	struct tp_cg_entry *e;

	if (tp_lru_full(&c->lru)) {
		struct tp_lru_node *old = tp_lru_oldest(&c->lru);

		tp_lru_remove(&c->lru, old);
		entry_free(entry_of(old));
		c->last = NULL;
		tp_metric_add_owned(&c->m_evictions, 1);
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->node.key = key;
	tp_lru_insert(&c->lru, &e->node);
	tp_metric_set(&c->m_size, c->lru.count);
	return e;
}

struct tp_cg_entry *tp_cgcache_get(struct tp_cgcache *c, enum tp_cg_hier h, uint64_t id,
				   uint32_t pid, uint32_t ppid, uint64_t now_ns)
{
	uint64_t key = key_of(h, id);
	const uint32_t pids[2] = { pid, ppid };
	struct tp_cg_entry *e;

	if (!id || (id & V1_KEY_BIT))
		return NULL;
	/* The same cgroup as the last look-up: that entry, still the most
	 * recent in the LRU (a look-up of another would have replaced it). */
	e = c->last && c->last_key == key ? c->last : entry_of(tp_lru_get(&c->lru, key));
	if (e) {
		tp_metric_add_owned(&c->m_hits, 1);
		if (e->retry_ns && now_ns >= e->retry_ns)
			resolve(c, e, h, id, pids, now_ns);
	} else {
		tp_metric_add_owned(&c->m_misses, 1);
		e = entry_new(c, key);
		if (e)
			resolve(c, e, h, id, pids, now_ns);
	}
	c->last = e;
	c->last_key = key;
	return e;
}

void tp_cgcache_learn(struct tp_cgcache *c, enum tp_cg_hier h, uint64_t id, const char *path,
		      uint64_t now_ns)
{
	uint64_t key = key_of(h, id);
	struct tp_cg_entry *e;

	if (!id || (id & V1_KEY_BIT) || path[0] != '/')
		return;
	e = entry_of(tp_lru_get(&c->lru, key));
	if (!e && !(e = entry_new(c, key)))
		return;
	if (e->resolved)
		return; /* an id names one cgroup for the whole boot */
	tp_metric_add_owned(&c->m_resolved_event, 1);
	settle(c, e, path, now_ns);
}

void tp_cgcache_forget(struct tp_cgcache *c, enum tp_cg_hier h, uint64_t id)
{
	struct tp_lru_node *n = tp_lru_peek(&c->lru, key_of(h, id));

	if (!n)
		return;
	tp_lru_remove(&c->lru, n);
	entry_free(entry_of(n));
	c->last = NULL;
	tp_metric_set(&c->m_size, c->lru.count);
}
