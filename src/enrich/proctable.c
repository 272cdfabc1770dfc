#include "enrich/proctable.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

static struct tp_proc *proc_of(struct tp_lru_node *n)
{
	return n ? container_of(n, struct tp_proc, node) : NULL;
}

/* tp_proctable_epoch: bumped before anything an entry shows changes or
 * its memory goes (so a pointer to it cannot come back with the same
 * epoch and other bytes). */
static uint64_t epoch = 1;

static void changed(void)
{
	__atomic_add_fetch(&epoch, 1, __ATOMIC_RELAXED);
}

uint64_t tp_proctable_epoch(void)
{
	return __atomic_load_n(&epoch, __ATOMIC_RELAXED);
}

static void image_put(struct tp_image *img)
{
	if (img && --img->refs == 0) {
		changed();
		free(img);
	}
}

static struct tp_image *image_get(struct tp_image *img)
{
	if (img)
		img->refs++;
	return img;
}

/* A new image; exe may be NULL, argv may be NULL (unknown). */
static struct tp_image *image_new(const char *exe, size_t exe_len, const char *argv,
				  uint32_t argv_len, bool truncated, uint32_t argv_max)
{
	struct tp_image *img;

	if (argv && argv_len > argv_max) {
		argv_len = argv_max;
		truncated = true;
	}
	img = malloc(sizeof(*img) + exe_len + 1 + (argv ? argv_len : 0));
	if (!img)
		return NULL;
	img->refs = 1;
	if (exe_len)
		memcpy(img->data, exe, exe_len);
	img->data[exe_len] = '\0';
	img->argv = NULL;
	img->argv_len = 0;
	img->argv_truncated = false;
	if (argv) {
		img->argv = img->data + exe_len + 1;
		memcpy(img->argv, argv, argv_len);
		img->argv_len = argv_len;
		img->argv_truncated = truncated;
	}
	return img;
}

int tp_proctable_init(struct tp_proctable *t, size_t max, uint32_t argv_max)
{
	int r;

	memset(t, 0, sizeof(*t));
	r = tp_lru_init(&t->lru, max);
	if (r < 0)
		return r;
	t->argv_max = argv_max;
	t->m_size = (struct tp_metric)TP_GAUGE_INIT("tapio_enrich_processes",
						    "Processes in the enrichment table.");
	t->m_hits = (struct tp_metric)TP_COUNTER_INIT(
		"tapio_enrich_process_lookups_total", "Events whose process was in the table.");
	t->m_hits.labels = "result=\"hit\"";
	t->m_misses = (struct tp_metric)TP_COUNTER_INIT(
		"tapio_enrich_process_lookups_total", "Events whose process was in the table.");
	t->m_misses.labels = "result=\"miss\"";
	t->m_evictions = (struct tp_metric)TP_COUNTER_INIT(
		"tapio_enrich_process_evictions_total",
		"Processes dropped from a full table (their exit was never seen).");
	t->m_exits = (struct tp_metric)TP_COUNTER_INIT("tapio_enrich_process_exits_total",
						       "Processes freed from the table at exit.");
	t->m_seeded = (struct tp_metric)TP_COUNTER_INIT("tapio_enrich_processes_seeded_total",
							"Processes read from /proc at start.");
	tp_metric_register(&t->m_size);
	tp_metric_register(&t->m_hits);
	tp_metric_register(&t->m_misses);
	tp_metric_register(&t->m_evictions);
	tp_metric_register(&t->m_exits);
	tp_metric_register(&t->m_seeded);
	return 0;
}

static void proc_free(struct tp_proc *p)
{
	if (!p)
		return;
	changed();
	image_put(p->image);
	free(p);
}

static void reap(struct tp_proctable *t)
{
	if (t->dead)
		t->version++;
	proc_free(t->dead);
	t->dead = NULL;
}

void tp_proctable_free(struct tp_proctable *t)
{
	struct tp_lru_node *n;

	reap(t);
	t->last = NULL;
	while ((n = tp_lru_oldest(&t->lru))) {
		tp_lru_remove(&t->lru, n);
		proc_free(proc_of(n));
	}
	tp_lru_free(&t->lru);
	tp_metric_unregister(&t->m_size);
	tp_metric_unregister(&t->m_hits);
	tp_metric_unregister(&t->m_misses);
	tp_metric_unregister(&t->m_evictions);
	tp_metric_unregister(&t->m_exits);
	tp_metric_unregister(&t->m_seeded);
}

struct tp_proc *tp_proctable_find(const struct tp_proctable *t, uint32_t pid)
{
	return proc_of(tp_lru_peek(&t->lru, pid));
}

static struct tp_proc *insert(struct tp_proctable *t, uint32_t pid)
{
	struct tp_proc *p;

	if (tp_lru_full(&t->lru)) {
		struct tp_lru_node *old = tp_lru_oldest(&t->lru);

		tp_lru_remove(&t->lru, old);
		proc_free(proc_of(old));
		tp_metric_add_owned(&t->m_evictions, 1);
	}
	t->version++; /* also for the entry evicted above */
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->pid = pid;
	p->node.key = pid;
	tp_lru_insert(&t->lru, &p->node);
	tp_metric_set(&t->m_size, t->lru.count);
	return p;
}

static void refresh(struct tp_proctable *t, struct tp_proc *p, const struct tp_hdr *h)
{
	if (p->ppid != h->ppid || memcmp(p->comm, h->comm, sizeof(p->comm) - 1))
		t->version++;
	p->ppid = h->ppid;
	p->uid = h->uid;
	p->cgroup_id = h->cgroup_id;
	p->cgroup_v1_id = h->cgroup_v1_id;
	if (memcmp(p->comm, h->comm, sizeof(p->comm) - 1)) {
		changed();
		memcpy(p->comm, h->comm, sizeof(p->comm));
	}
	p->comm[sizeof(p->comm) - 1] = '\0';
}

struct tp_proc *tp_proctable_touch(struct tp_proctable *t, const struct tp_hdr *h)
{
	struct tp_proc *p;

	reap(t);
	/* The process of the last touch, when no entry was added or freed
	 * since (each bumps the version): still the most recent in the LRU. */
	if (t->last && t->last_version == t->version && t->last->pid == h->pid)
		p = t->last;
	else
		p = proc_of(tp_lru_get(&t->lru, h->pid));
	if (p) {
		tp_metric_add_owned(&t->m_hits, 1);
	} else {
		tp_metric_add_owned(&t->m_misses, 1);
		p = insert(t, h->pid);
		if (!p)
			return NULL;
	}
	refresh(t, p, h);
	t->last = p;
	t->last_version = t->version;
	return p;
}

/* Tick granularity of /proc's start times: a seeded entry and a fork event
 * for the same process agree within this. */
#define SAME_START_NS (30ull * 1000 * 1000)

struct tp_proc *tp_proctable_fork(struct tp_proctable *t, const struct tp_hdr *h,
				  uint32_t parent_pid)
{
	struct tp_proc *p, *parent;

	reap(t);
	p = proc_of(tp_lru_get(&t->lru, h->pid));
	if (p && p->start_ns && p->start_ns <= h->ts_ns + SAME_START_NS &&
	    h->ts_ns <= p->start_ns + SAME_START_NS) {
		/* Seeded from /proc while its fork was still in the ring: the
		 * seeded entry is newer (it may already have exec'd). */
		tp_metric_add_owned(&t->m_hits, 1);
		refresh(t, p, h);
		return p;
	}
	if (p) {
		/* The pid was reused and the old process's exit was lost. */
		image_put(p->image);
		p->image = NULL;
	} else {
		p = insert(t, h->pid);
		if (!p)
			return NULL;
	}
	tp_metric_add_owned(&t->m_misses, 1);
	refresh(t, p, h);
	t->version++; /* its start and image */
	p->start_ns = h->ts_ns;
	parent = proc_of(tp_lru_peek(&t->lru, parent_pid));
	if (parent && parent != p)
		p->image = image_get(parent->image);
	return p;
}

struct tp_proc *tp_proctable_exec(struct tp_proctable *t, const struct tp_hdr *h,
				  const char *filename, const char *argv, uint32_t argv_len,
				  bool argv_truncated)
{
	struct tp_proc *p = tp_proctable_touch(t, h);
	struct tp_image *img;

	if (!p)
		return NULL;
	img = image_new(filename, filename ? strlen(filename) : 0, argv, argv_len,
			argv_truncated, t->argv_max);
	if (!img)
		return p; /* keeps the old image: better than none */
	image_put(p->image);
	p->image = img;
	t->version++;
	return p;
}

void tp_proctable_exit(struct tp_proctable *t, struct tp_proc *p)
{
	if (!p)
		return;
	reap(t);
	tp_lru_remove(&t->lru, &p->node);
	t->dead = p;
	t->version++;
	tp_metric_add_owned(&t->m_exits, 1);
	tp_metric_set(&t->m_size, t->lru.count);
}

/* ------------------------------------------------------------------ seeding */

static ssize_t read_file(int dirfd, const char *name, char *buf, size_t len)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	size_t used = 0;

	if (fd < 0)
		return -errno;
	while (used < len) {
		ssize_t n = read(fd, buf + used, len - used);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		used += (size_t)n;
	}
	close(fd);
	return (ssize_t)used;
}

/* /proc/PID/stat: "pid (comm) state ppid ... starttime(22) ..." */
static int parse_stat(const char *buf, char comm[TP_COMM_LEN], uint32_t *ppid,
		      uint64_t *start_ticks)
{
	const char *open = strchr(buf, '('), *close = strrchr(buf, ')');
	unsigned long long v;
	const char *p;
	size_t n;
	int field;

	if (!open || !close || close < open)
		return -EINVAL;
	n = (size_t)(close - open - 1);
	if (n >= TP_COMM_LEN)
		n = TP_COMM_LEN - 1;
	memcpy(comm, open + 1, n);
	comm[n] = '\0';
	/* field 3 (state) starts after ") " */
	p = close + 2;
	for (field = 3; *p && field < 22; field++) {
		if (field == 4) {
			if (sscanf(p, "%llu", &v) != 1)
				return -EINVAL;
			*ppid = (uint32_t)v;
		}
		p = strchr(p, ' ');
		if (!p)
			return -EINVAL;
		p++;
	}
	if (sscanf(p, "%llu", &v) != 1)
		return -EINVAL;
	*start_ticks = v;
	return 0;
}

static int seed_one(struct tp_proctable *t, int procfd, const char *name, long ticks)
{
	char buf[1024], exe[4096], comm[TP_COMM_LEN];
	char *argv = NULL;
	uint64_t start_ticks;
	uint32_t ppid = 0, uid = (uint32_t)-1, pid = (uint32_t)strtoul(name, NULL, 10);
	ssize_t n, exe_len;
	struct tp_proc *p;
	int dfd, r = 0;

	dfd = openat(procfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	n = read_file(dfd, "stat", buf, sizeof(buf) - 1);
	if (n <= 0) {
		r = -ENOENT;
		goto out;
	}
	buf[n] = '\0';
	if ((r = parse_stat(buf, comm, &ppid, &start_ticks)) < 0)
		goto out;
	n = read_file(dfd, "status", buf, sizeof(buf) - 1);
	if (n > 0) {
		char *u;

		buf[n] = '\0';
		u = strstr(buf, "\nUid:");
		if (u)
			uid = (uint32_t)strtoul(u + 5, NULL, 10);
	}
	exe_len = readlinkat(dfd, "exe", exe, sizeof(exe) - 1);
	if (exe_len < 0)
		exe_len = 0; /* kernel threads, or not permitted */
	exe[exe_len] = '\0';
	argv = malloc((size_t)t->argv_max + 1);
	if (!argv) {
		r = -ENOMEM;
		goto out;
	}
	/* One byte more than kept, to tell a cut command line. */
	n = read_file(dfd, "cmdline", argv, (size_t)t->argv_max + 1);
	if (tp_proctable_find(t, pid)) {
		r = 0; /* an event already described it: events are newer */
		goto out;
	}
	p = insert(t, pid);
	if (!p) {
		r = -ENOMEM;
		goto out;
	}
	p->ppid = ppid;
	p->uid = uid;
	memcpy(p->comm, comm, sizeof(p->comm));
	p->start_ns = ticks > 0 ? start_ticks * (1000000000ull / (uint64_t)ticks) : 0;
	p->image = image_new(exe, (size_t)exe_len, n > 0 ? argv : NULL, n > 0 ? (uint32_t)n : 0,
			     false, t->argv_max);
	tp_metric_add_owned(&t->m_seeded, 1);
	r = 1;
out:
	free(argv);
	close(dfd);
	return r;
}

int tp_proctable_seed(struct tp_proctable *t, const char *proc_root)
{
	long ticks = sysconf(_SC_CLK_TCK);
	struct dirent *de;
	int added = 0, procfd;
	DIR *d;

	procfd = open(proc_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (procfd < 0)
		return -errno;
	d = fdopendir(procfd);
	if (!d) {
		close(procfd);
		return -errno;
	}
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (tp_lru_full(&t->lru))
			break; /* keep room: what events bring is newer */
		if (seed_one(t, dirfd(d), de->d_name, ticks) > 0)
			added++;
	}
	closedir(d);
	return added;
}
