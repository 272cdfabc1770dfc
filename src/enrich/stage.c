#include "enrich/stage.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "enrich/cgcache.h"
#include "enrich/proctable.h"
#include "events/proc_ctx.h"
#include "obs/log.h"

/* A parent is never younger than its child; /proc's start times are in
 * clock ticks, so allow a few. */
#define START_SLACK_NS (30ull * 1000 * 1000)
/* The boot clock of a stored stream going back this much: a reboot. */
#define REBOOT_STEP_NS (10ull * 1000 * 1000 * 1000)

struct enrich_stage {
	struct tp_stage base;
	struct tp_proctable procs;
	struct tp_cgcache cgroups;  /* ids of this boot */
	struct tp_cgcache past;     /* replay: ids of an earlier boot, from its cgroup events */
	bool live;
	uint64_t boot_wall_ns;      /* wall clock of this boot's start */
	uint32_t v1_hierarchy_id;   /* the tracked v1 hierarchy (container.cgroup events) */
	uint32_t max_ancestors;
	size_t max_procs, max_cgroups;
	uint32_t argv_bytes;
	uint64_t now_ns;       /* monotonic, from the last tick */
	uint64_t last_boot_ns; /* replay: the last header time seen */
	/* What the current event's meta points to. */
	struct tp_proc_ctx ctx;
	struct tp_proc_ref parent;
	struct tp_proc_ref *ancestors;
	/* The event the tree above was built for: the next event of the same
	 * process, with the table unchanged since, has the same one (most
	 * events come in runs from one process; a tree is up to 1 + 8 table
	 * look-ups). tree_valid: false until built, and after a reboot reset. */
	const struct tp_proc *tree_self;
	uint32_t tree_pid, tree_ppid;
	uint64_t tree_version;
	bool tree_valid;
	struct tp_metric m_reboots;
};

#define NSEC_PER_SEC 1000000000ull

static uint64_t clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void describe(struct tp_proc_ref *ref, uint32_t pid, const struct tp_proc *p)
{
	ref->pid = pid;
	ref->comm = p && p->comm[0] ? p->comm : NULL;
	ref->exe = tp_proc_exe(p);
}

/* The process of pid, if it can be an ancestor of child (not younger). */
static struct tp_proc *ancestor(struct enrich_stage *st, uint32_t pid, const struct tp_proc *child)
{
	struct tp_proc *p = tp_proctable_find(&st->procs, pid);

	if (p && child && p->start_ns && child->start_ns &&
	    p->start_ns > child->start_ns + START_SLACK_NS)
		return NULL; /* a reused pid */
	return p;
}

static void build_tree(struct enrich_stage *st, const struct tp_hdr *h, const struct tp_proc *self)
{
	struct tp_proc_ctx *ctx = &st->ctx;
	const struct tp_proc *cur;

	ctx->parent = NULL;
	ctx->ancestors = st->ancestors;
	ctx->nancestors = 0;
	if (!h->ppid)
		return;
	cur = ancestor(st, h->ppid, self);
	describe(&st->parent, h->ppid, cur);
	ctx->parent = &st->parent;
	while (cur && cur->ppid && ctx->nancestors < st->max_ancestors) {
		struct tp_proc *next = ancestor(st, cur->ppid, cur);

		describe(&st->ancestors[ctx->nancestors++], cur->ppid, next);
		if (next == cur)
			break;
		cur = next;
	}
}

/* Whether an event's cgroup ids are this boot's: always in a live run; in a
 * replay, if it was recorded since this machine booted (an earlier boot's
 * ids named other cgroups than today's). */
static bool this_boot(const struct enrich_stage *st, const struct tp_event *ev)
{
	return st->live || ev->ts_wall_ns >= st->boot_wall_ns + 2 * NSEC_PER_SEC;
}

/* container.cgroup: the stream names the path of an id before any process
 * runs in it (mkdir, attach), and says when it is gone (rmdir). */
static void learn_cgroup(struct enrich_stage *st, const struct tp_event *ev, bool now)
{
	const struct tp_cgroup_event *c = (const void *)ev->rec.bytes;
	struct tp_cgcache *cache = now ? &st->cgroups : &st->past;
	enum tp_cg_hier h;

	if (ev->len < sizeof(*c))
		return;
	if (c->hierarchy_id == 0)
		h = TP_CG_V2;
	else if (now && st->v1_hierarchy_id && c->hierarchy_id == st->v1_hierarchy_id)
		h = TP_CG_V1; /* an earlier boot may have numbered its hierarchies otherwise */
	else
		return;
	if (c->op == TP_CGROUP_RMDIR)
		tp_cgcache_forget(cache, h, c->cgroup_id);
	else if (strnlen(c->path, sizeof(c->path)) < sizeof(c->path) - 1)
		/* A path that filled the field may be cut: an outer container
		 * would pass for the innermost one. */
		tp_cgcache_learn(cache, h, c->cgroup_id, c->path, st->now_ns);
}

static void build_cgroup(struct enrich_stage *st, const struct tp_event *ev)
{
	const struct tp_hdr *h = &ev->rec.hdr;
	bool now = this_boot(st, ev);
	struct tp_cgcache *cache = now ? &st->cgroups : &st->past;
	struct tp_cg_entry *e;

	st->ctx.container = NULL;
	st->ctx.k8s = NULL;
	if (h->type == TP_EV_CONTAINER_CGROUP)
		learn_cgroup(st, ev, now);
	e = tp_cgcache_get(cache, TP_CG_V2, h->cgroup_id, h->pid, h->ppid, st->now_ns);
	/* Hybrid machines: a container of the cgroupfs driver exists only in
	 * the v1 hierarchies. */
	if ((!e || (!e->has_container && !e->has_k8s)) && h->cgroup_v1_id)
		e = tp_cgcache_get(cache, TP_CG_V1, h->cgroup_v1_id, h->pid, h->ppid, st->now_ns);
	if (!e)
		return;
	if (e->has_container)
		st->ctx.container = &e->container;
	if (e->has_k8s)
		st->ctx.k8s = &e->k8s;
}

/* Replay: a stored stream that spans a reboot restarts the boot clock. */
static void check_reboot(struct enrich_stage *st, const struct tp_hdr *h)
{
	if (st->live)
		return;
	if (st->last_boot_ns > REBOOT_STEP_NS && h->ts_ns < st->last_boot_ns - REBOOT_STEP_NS) {
		tp_proctable_free(&st->procs);
		st->tree_valid = false;
		if (tp_proctable_init(&st->procs, st->max_procs, st->argv_bytes) < 0)
			tp_warn("enrichment: cannot rebuild the process table");
		tp_cgcache_clear(&st->past);
		tp_metric_add(&st->m_reboots, 1);
	}
	st->last_boot_ns = h->ts_ns;
}

static int enrich_event(struct tp_stage *base, struct tp_pipeline *p, struct tp_event *ev,
			struct tp_event_meta *meta)
{
	struct enrich_stage *st = (struct enrich_stage *)base;
	const struct tp_hdr *h = &ev->rec.hdr;
	struct tp_proc *self;

	(void)p;
	check_reboot(st, h);
	switch (h->type) {
	case TP_EV_PROCESS_FORK: {
		const struct tp_fork_event *f = (const void *)ev->rec.bytes;

		self = tp_proctable_fork(&st->procs, h, f->parent_pid);
		break;
	}
	case TP_EV_PROCESS_EXEC: {
		const struct tp_exec_event *x = (const void *)ev->rec.bytes;

		if (x->ret == 0)
			self = tp_proctable_exec(&st->procs, h, x->filename, x->argv, x->argv_len,
						 x->flags & TP_EXEC_ARGV_TRUNCATED);
		else
			self = tp_proctable_touch(&st->procs, h);
		break;
	}
	default:
		self = tp_proctable_touch(&st->procs, h);
		break;
	}

	st->ctx.exe = tp_proc_exe(self);
	st->ctx.start_ns = self ? self->start_ns : 0;
	st->ctx.argv = self && self->image ? self->image->argv : NULL;
	st->ctx.argv_len = st->ctx.argv ? self->image->argv_len : 0;
	st->ctx.argv_truncated = st->ctx.argv && self->image->argv_truncated;
	if (!st->tree_valid || self != st->tree_self || h->pid != st->tree_pid ||
	    h->ppid != st->tree_ppid || st->procs.version != st->tree_version) {
		build_tree(st, h, self);
		st->tree_self = self;
		st->tree_pid = h->pid;
		st->tree_ppid = h->ppid;
		st->tree_version = st->procs.version;
		st->tree_valid = true;
	}
	build_cgroup(st, ev);
	st->ctx.epoch = tp_proctable_epoch();
	meta->proc = &st->ctx;

	/* Unlinked now, freed at the next event: this one still describes it. */
	if (h->type == TP_EV_PROCESS_EXIT)
		tp_proctable_exit(&st->procs, self);
	return TP_STAGE_PASS;
}

static void enrich_tick(struct tp_stage *base, struct tp_pipeline *p, uint64_t now_ns)
{
	(void)p;
	((struct enrich_stage *)base)->now_ns = now_ns;
}

static void enrich_close(struct tp_stage *base)
{
	struct enrich_stage *st = (struct enrich_stage *)base;

	tp_proctable_free(&st->procs);
	tp_cgcache_free(&st->cgroups);
	tp_cgcache_free(&st->past);
	tp_metric_unregister(&st->m_reboots);
	free(st->ancestors);
	free(st);
}

static const struct tp_stage_ops enrich_ops = {
	.name = "enrich",
	.event = enrich_event,
	.tick = enrich_tick,
	.close = enrich_close,
};

int tp_enrich_stage_new(struct tp_stage **out, const struct tp_enrich_opts *o, char *err,
			size_t errlen)
{
	const struct tp_config *cfg = o->cfg;
	struct tp_ondisk disk = {
		.pod_logs_dir = cfg->k8s_pod_logs_dir,
		.container_logs_dir = cfg->k8s_container_logs_dir,
		.containerd_state_dir = cfg->containerd_state_dir,
		.docker_data_dir = cfg->docker_data_dir,
	};
	struct tp_cgroupfs fs;
	struct enrich_stage *st;
	int r;

	*out = NULL;
	if (cfg->enrich_processes < 16 || cfg->enrich_cgroups < 16) {
		snprintf(err, errlen, "enrichment tables need room for at least 16 entries");
		return -EINVAL;
	}
	r = tp_cgroupfs_open(&fs, cfg->cgroup_v1_controller, err, errlen);
	if (r < 0)
		return r;
	st = calloc(1, sizeof(*st));
	if (!st || !(st->ancestors = calloc(cfg->enrich_ancestors + 1, sizeof(*st->ancestors)))) {
		free(st);
		snprintf(err, errlen, "enrichment: out of memory");
		return -ENOMEM;
	}
	st->base.ops = &enrich_ops;
	st->live = o->live;
	st->max_ancestors = cfg->enrich_ancestors;
	st->max_procs = cfg->enrich_processes;
	st->max_cgroups = cfg->enrich_cgroups;
	st->argv_bytes = cfg->enrich_argv_bytes;
	st->now_ns = clock_ns(CLOCK_MONOTONIC);
	st->m_reboots = (struct tp_metric)TP_COUNTER_INIT(
		"tapio_enrich_replay_reboots_total",
		"Reboots seen in a replayed stream (the process table restarts).");
	st->boot_wall_ns = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_BOOTTIME);
	st->v1_hierarchy_id = fs.v1_hierarchy_id;
	if (tp_proctable_init(&st->procs, st->max_procs, st->argv_bytes) < 0 ||
	    tp_cgcache_init(&st->cgroups, st->max_cgroups, &fs, &disk, o->live, true) < 0 ||
	    tp_cgcache_init(&st->past, st->max_cgroups, &fs, &disk, false, false) < 0) {
		tp_proctable_free(&st->procs);
		tp_cgcache_free(&st->cgroups);
		free(st->ancestors);
		free(st);
		snprintf(err, errlen, "enrichment: out of memory");
		return -ENOMEM;
	}
	tp_metric_register(&st->m_reboots);
	tp_cgcache_prime(&st->cgroups, st->now_ns);
	if (o->live) {
		r = tp_proctable_seed(&st->procs, o->proc_root ? o->proc_root : "/proc");
		if (r < 0)
			tp_warn("enrichment: cannot read the processes in %s: %s",
				o->proc_root ? o->proc_root : "/proc", strerror(-r));
		else
			tp_debug("enrichment: %d processes read from /proc", r);
	}
	*out = &st->base;
	return 0;
}
