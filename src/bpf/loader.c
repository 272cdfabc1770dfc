#include "bpf/loader.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <linux/capability.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "bpf/families.h"
#include "bpf/percpu.h"
#include "bpf/perf_attach.h"
#include "obs/log.h"

#define TRACEFS "/sys/kernel/tracing"
#define DEBUGFS_TRACING "/sys/kernel/debug/tracing"
#define VMLINUX_BTF "/sys/kernel/btf/vmlinux"
#define MAX_PROGS 256
#define MAX_LOAD_THREADS 8
#define MAX_SHARDS 4

struct family_state {
	const struct tp_bpf_family *fam;
	void *skel;
	struct bpf_object *obj;
	bool typed; /* skel is NAME_bpf, with typed loads, else NAME_nk_bpf */
	unsigned shard, nshards; /* this object loads the programs of shard `shard` */
	bool shardable;		 /* its programs share no state (family_shardable) */
	bool gen_only; /* switched off by configuration: the cgroup cache's programs only */
	uint64_t mine[MAX_PROGS / 64]; /* by place in the object: the programs it loads */
};

struct tp_bpf {
	int ring_fd;
	int drops_fd;
	int cgroup_gen_fd; /* the header's cgroup cache generation (bpf/common.bpf.h) */
	struct tp_kfilter_maps kmaps;
	uint64_t ring_bytes;
	struct family_state families[16];
	unsigned nfamilies;
	struct bpf_link **links; /* grows: a perf_event program has a link per CPU */
	unsigned nlinks;
	unsigned links_cap;
	struct tp_prog_info progs[MAX_PROGS];
	unsigned nprogs;
	pthread_mutex_t lock; /* progs and links, while the families load in parallel */
	struct btf *vmlinux;
	bool typed_current; /* the families built with typed loads (bpf/common.bpf.h) */
	const char *tracing_root; /* NULL when tracefs is unavailable */
	char tracefs_error[160];
};

/* ------------------------------------------------------------------ */
/* libbpf's own messages: its warnings go to the debug log, its info and
 * debug output (thousands of relocation lines per start) to the trace log;
 * the name of a program that failed to load is kept to switch it off and
 * retry. */

static __thread char failed_prog[64]; /* each loading thread its own */

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	enum tp_log_level ours = level == LIBBPF_WARN ? TP_LOG_DEBUG : TP_LOG_TRACE;
	char line[1024];
	const char *p;
	size_t n;

	if (level != LIBBPF_WARN && !tp_log_enabled(ours))
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	if (level == LIBBPF_WARN && (p = strstr(line, "prog '")) && strstr(line, "fail")) {
		p += 6;
		n = strcspn(p, "'");
		if (n < sizeof(failed_prog)) {
			memcpy(failed_prog, p, n);
			failed_prog[n] = '\0';
		}
	}
	if (tp_log_enabled(ours))
		tp_log(ours, "libbpf: %s", line);
	return 0;
}

/* ------------------------------------------------------------------ */

static bool has_capability(int cap)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { 0 };

	if (syscall(SYS_capget, &hdr, data) < 0)
		return false;
	return data[cap / 32].effective & (1u << (cap % 32));
}

int tp_bpf_preflight(char *err, size_t errlen)
{
	int r;

	libbpf_set_print(libbpf_print);
	if (!has_capability(CAP_SYS_ADMIN) &&
	    !(has_capability(39 /* CAP_BPF */) && has_capability(38 /* CAP_PERFMON */))) {
		snprintf(err, errlen,
			 "tapio-collector needs root (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN) "
			 "to load eBPF programs: run it as root, for example with sudo");
		return -EPERM;
	}
	if (access(VMLINUX_BTF, R_OK) < 0) {
		snprintf(err, errlen,
			 "this kernel has no BTF type information (%s is missing): tapio-collector "
			 "needs a kernel built with CONFIG_DEBUG_INFO_BTF=y (most distributions since 2020)",
			 VMLINUX_BTF);
		return -ENOTSUP;
	}
	r = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL);
	if (r <= 0) {
		snprintf(err, errlen,
			 "this kernel has no BPF ring buffer (BPF_MAP_TYPE_RINGBUF): tapio-collector "
			 "needs Linux 5.8 or later");
		return -ENOTSUP;
	}
	return 0;
}

/* ------------------------------------------------------------------ */

static bool path_exists(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0;
}

/* libbpf resolves tracepoints under the debugfs path when it exists, else
 * under tracefs: look where it will look, and mount tracefs if neither is
 * there (a fresh machine mounts neither). */
static void ensure_tracefs(struct tp_bpf *b)
{
	if (path_exists(DEBUGFS_TRACING "/events")) {
		b->tracing_root = DEBUGFS_TRACING;
		return;
	}
	if (path_exists(TRACEFS "/events")) {
		b->tracing_root = TRACEFS;
		return;
	}
	if (mount("tracefs", TRACEFS, "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0 &&
	    path_exists(TRACEFS "/events")) {
		tp_info("mounted tracefs at %s", TRACEFS);
		b->tracing_root = TRACEFS;
		return;
	}
	snprintf(b->tracefs_error, sizeof(b->tracefs_error),
		 "tracefs is not mounted and mounting it at %s failed (%s)", TRACEFS, strerror(errno));
	b->tracing_root = NULL;
}

static bool section_has_prefix(const char *sec, const char *prefix, const char **rest)
{
	size_t n = strlen(prefix);

	if (strncmp(sec, prefix, n))
		return false;
	*rest = sec + n;
	return true;
}

/* Does this kernel have the hook that a program's section names? When it
 * does not, reason says why, for the one warning the user gets. */
static bool hook_available(struct tp_bpf *b, const char *sec, char *reason, size_t len)
{
	char name[256];
	const char *rest;

	if (section_has_prefix(sec, "tp/", &rest) || section_has_prefix(sec, "tracepoint/", &rest)) {
		if (!b->tracing_root) {
			snprintf(reason, len, "%s", b->tracefs_error);
			return false;
		}
		snprintf(name, sizeof(name), "%s/events/%s", b->tracing_root, rest);
		if (!path_exists(name)) {
			snprintf(reason, len, "tracepoint %s does not exist on this kernel", rest);
			return false;
		}
		return true;
	}
	if (section_has_prefix(sec, "raw_tp/", &rest) ||
	    section_has_prefix(sec, "raw_tracepoint/", &rest) ||
	    section_has_prefix(sec, "tp_btf/", &rest)) {
		snprintf(name, sizeof(name), "btf_trace_%s", rest);
		if (b->vmlinux && btf__find_by_name_kind(b->vmlinux, name, BTF_KIND_TYPEDEF) < 0) {
			snprintf(reason, len, "raw tracepoint %s does not exist on this kernel", rest);
			return false;
		}
		return true;
	}
	if (section_has_prefix(sec, "kprobe/", &rest) || section_has_prefix(sec, "kretprobe/", &rest)) {
		if (!path_exists("/sys/bus/event_source/devices/kprobe/type")) {
			snprintf(reason, len, "this kernel is built without kprobes");
			return false;
		}
		if (b->vmlinux && btf__find_by_name_kind(b->vmlinux, rest, BTF_KIND_FUNC) < 0) {
			snprintf(reason, len, "kernel function %s does not exist", rest);
			return false;
		}
		return true;
	}
	if (section_has_prefix(sec, "fentry/", &rest) || section_has_prefix(sec, "fexit/", &rest)) {
		if (b->vmlinux && btf__find_by_name_kind(b->vmlinux, rest, BTF_KIND_FUNC) < 0) {
			snprintf(reason, len, "kernel function %s does not exist", rest);
			return false;
		}
		return true;
	}
	if (section_has_prefix(sec, "lsm/", &rest)) {
		snprintf(name, sizeof(name), "bpf_lsm_%s", rest);
		if (b->vmlinux && btf__find_by_name_kind(b->vmlinux, name, BTF_KIND_FUNC) < 0) {
			snprintf(reason, len, "LSM hook %s does not exist (no BPF LSM)", rest);
			return false;
		}
		return true;
	}
	return true;
}

/* ------------------------------------------------------------------ */

int tp_bpf_set_rodata(struct bpf_object *obj, const char *name, const void *val, size_t size)
{
	const struct btf *btf = bpf_object__btf(obj);
	const struct btf_var_secinfo *vs;
	const struct btf_type *sec;
	struct bpf_map *map, *rodata = NULL;
	size_t map_size;
	void *data;
	int id;

	bpf_object__for_each_map(map, obj) {
		const char *mname = bpf_map__name(map);
		size_t n = strlen(mname);

		if (bpf_map__is_internal(map) && n >= 7 && !strcmp(mname + n - 7, ".rodata")) {
			rodata = map;
			break;
		}
	}
	if (!btf || !rodata)
		return -ENOENT;
	id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
	if (id < 0)
		return -ENOENT;
	sec = btf__type_by_id(btf, id);
	/* Writable until load: the skeleton writes the same memory. */
	data = (void *)bpf_map__initial_value(rodata, &map_size);
	if (!data)
		return -ENOENT;
	vs = btf_var_secinfos(sec);
	for (int i = 0; i < btf_vlen(sec); i++, vs++) {
		const struct btf_type *var = btf__type_by_id(btf, vs->type);

		if (strcmp(btf__name_by_offset(btf, var->name_off), name))
			continue;
		if (vs->size != size || vs->offset + size > map_size)
			return -EINVAL;
		memcpy((char *)data + vs->offset, val, size);
		return 0;
	}
	return -ENOENT;
}

/*
 * Which build of the families to load (bpf/common.bpf.h): with typed loads
 * (bpf_rdonly_cast, kernel 6.2+: verified in a fraction of the time, and
 * cheaper per event) or without any kfunc. The kfunc is looked for by name
 * in vmlinux BTF, where libbpf would resolve it. Said once when missing.
 */
static bool typed_current_wanted(struct tp_bpf *b, const struct tp_bpf_opts *opts)
{
	if (opts->no_typed_loads) {
		tp_info("eBPF: loading the programs built without typed loads (switched off for a "
			"test)");
		return false;
	}
	if (b->vmlinux && btf__find_by_name_kind(b->vmlinux, "bpf_rdonly_cast", BTF_KIND_FUNC) >= 0)
		return true;
	tp_info("eBPF: this kernel has no bpf_rdonly_cast (before 6.2%s): loading the programs "
		"built without typed loads",
		b->vmlinux ? "" : ", or no vmlinux BTF");
	return false;
}

static int set_common_rodata(struct bpf_object *obj, const struct tp_bpf_opts *opts)
{
	int r;

	r = tp_bpf_set_rodata(obj, "tp_self_pid", &opts->self_pid, sizeof(opts->self_pid));
	if (r == 0)
		r = tp_bpf_set_rodata(obj, "tp_wakeup_bytes", &opts->wakeup_bytes,
				      sizeof(opts->wakeup_bytes));
	if (r == 0)
		r = tp_bpf_set_rodata(obj, "tp_shed_failed_bytes", &opts->shed_failed_bytes,
				      sizeof(opts->shed_failed_bytes));
	if (r == 0)
		r = tp_bpf_set_rodata(obj, "tp_cgroup_v1_subsys", &opts->cgroup_v1_subsys,
				      sizeof(opts->cgroup_v1_subsys));
	return r;
}

static int reuse_shared_maps(struct tp_bpf *b, struct bpf_object *obj)
{
	struct bpf_map *m;
	int r;

	m = bpf_object__find_map_by_name(obj, "tp_events");
	if (m && (r = bpf_map__reuse_fd(m, b->ring_fd)) < 0)
		return r;
	m = bpf_object__find_map_by_name(obj, "tp_drops");
	if (m && (r = bpf_map__reuse_fd(m, b->drops_fd)) < 0)
		return r;
	m = bpf_object__find_map_by_name(obj, "tp_cgroup_gen");
	if (m && (r = bpf_map__reuse_fd(m, b->cgroup_gen_fd)) < 0)
		return r;
	return tp_kfilter_reuse(&b->kmaps, obj);
}

static struct tp_prog_info *prog_info_at(struct tp_bpf *b, const char *family, const char *name,
					 unsigned order)
{
	struct tp_prog_info *p = NULL;

	pthread_mutex_lock(&b->lock);
	for (unsigned i = 0; i < b->nprogs; i++)
		if (!strcmp(b->progs[i].family, family) && !strcmp(b->progs[i].name, name)) {
			p = &b->progs[i];
			goto out;
		}
	if (b->nprogs == MAX_PROGS)
		goto out;
	p = &b->progs[b->nprogs++];
	memset(p, 0, sizeof(*p));
	snprintf(p->family, sizeof(p->family), "%s", family);
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->order = order;
out:
	pthread_mutex_unlock(&b->lock);
	return p;
}

static struct tp_prog_info *prog_info(struct tp_bpf *b, const char *family, const char *name)
{
	return prog_info_at(b, family, name, 0);
}

/*
 * A program named NAME_compat is NAME built on probe reads, for kernels
 * that refuse NAME's typed loads (bpf/path.bpf.h, TP_CAST): it is loaded
 * only once the kernel has refused NAME, and is otherwise never listed.
 */
#define COMPAT_SUFFIX "_compat"

static bool compat_wanted(struct tp_bpf *b, const char *family, const char *name)
{
	size_t n = strlen(name), k = strlen(COMPAT_SUFFIX);

	bool want = false;

	if (n <= k || strcmp(name + n - k, COMPAT_SUFFIX))
		return true; /* not a twin */
	pthread_mutex_lock(&b->lock); /* other families may be adding programs */
	for (unsigned i = 0; i < b->nprogs; i++)
		if (!strcmp(b->progs[i].family, family) && strlen(b->progs[i].name) == n - k &&
		    !strncmp(b->progs[i].name, name, n - k)) {
			want = b->progs[i].status == TP_PROG_SKIPPED && !b->progs[i].hook_missing;
			break;
		}
	pthread_mutex_unlock(&b->lock);
	return want;
}

static void skip_prog(struct tp_prog_info *p, const char *reason)
{
	if (!p || p->status == TP_PROG_SKIPPED)
		return;
	p->status = TP_PROG_SKIPPED;
	snprintf(p->reason, sizeof(p->reason), "%s", reason);
	tp_warn("skipping %s program %s (%s): %s", p->family, p->name, p->section, reason);
}

static uint64_t perf_period(const struct tp_bpf_opts *opts, const struct tp_bpf_perf_spec *spec)
{
	uint64_t v;

	memcpy(&v, (const char *)opts + spec->period_offset, sizeof(v));
	return v;
}

static int add_link(void *ctx, struct bpf_link *link)
{
	struct tp_bpf *b = ctx;
	int r = 0;

	pthread_mutex_lock(&b->lock);
	if (b->nlinks == b->links_cap) {
		unsigned cap = b->links_cap ? b->links_cap * 2 : 64;
		struct bpf_link **l = realloc(b->links, cap * sizeof(*l));

		if (!l) {
			r = -ENOMEM;
			goto out;
		}
		b->links = l;
		b->links_cap = cap;
	}
	b->links[b->nlinks++] = link;
out:
	pthread_mutex_unlock(&b->lock);
	return r;
}

static bool has_compat(struct bpf_object *obj, const char *name)
{
	char twin[96];

	snprintf(twin, sizeof(twin), "%s%s", name, COMPAT_SUFFIX);
	return bpf_object__find_program_by_name(obj, twin) != NULL;
}

/*
 * Shards. The verifier checks an object's programs one after the other, and
 * the file family alone was most of the start-up (issue 14): a family whose
 * programs share no state is loaded as nshards copies of its object, each
 * with every nshards-th program, on as many threads at once. Shared state
 * would be a map of its own (the agent's common maps are one set for every
 * object, reused, and a per-CPU scratch map of one entry is scratch) or a
 * writable global: such a family loads whole in shard 0.
 */
static bool family_shardable(struct bpf_object *obj, const char **why)
{
	struct bpf_map *m;

	bpf_object__for_each_map(m, obj) {
		const char *name = bpf_map__name(m);
		size_t n = strlen(name);

		if (bpf_map__is_internal(m)) {
			if ((n >= 7 && !strcmp(name + n - 7, ".rodata")) ||
			    (n >= 8 && !strcmp(name + n - 8, ".kconfig")))
				continue;
		} else if (bpf_map__fd(m) >= 0 ||
			   (bpf_map__type(m) == BPF_MAP_TYPE_PERCPU_ARRAY &&
			    bpf_map__max_entries(m) == 1)) {
			continue; /* reused (common), or per-CPU scratch */
		}
		*why = name;
		return false;
	}
	return true;
}

/* The shard of a program: its place among the object's programs that are
 * not twins, a NAME_compat twin taking NAME's. */
static unsigned prog_shard(struct bpf_object *obj, const char *name, unsigned nshards)
{
	size_t n = strlen(name), k = strlen(COMPAT_SUFFIX), base = n;
	struct bpf_program *prog;
	unsigned rank = 0;

	if (n > k && !strcmp(name + n - k, COMPAT_SUFFIX))
		base = n - k;
	bpf_object__for_each_program(prog, obj) {
		const char *other = bpf_program__name(prog);
		size_t m = strlen(other);

		if (m > k && !strcmp(other + m - k, COMPAT_SUFFIX))
			continue;
		if (m == base && !strncmp(other, name, base))
			break;
		rank++;
	}
	return rank % nshards;
}

#define CGROUP_GEN_PREFIX "tp_cgroup_gen_"

/* Whether this object loads the program: its shard's; of a family that
 * configuration switched off, the cgroup cache's programs alone. */
static bool in_shard(const struct family_state *st, const char *name)
{
	if (st->gen_only && strncmp(name, CGROUP_GEN_PREFIX, sizeof(CGROUP_GEN_PREFIX) - 1))
		return false;
	if (st->nshards <= 1)
		return true;
	if (!st->shardable)
		return st->shard == 0;
	return prog_shard(st->obj, name, st->nshards) == st->shard;
}

/* Open, configure, load one family; on a program the kernel refuses, switch
 * it off and start over. Returns 0 when loaded (maybe with fewer programs). */
static int load_family(struct tp_bpf *b, const struct tp_bpf_family *fam,
		       const struct tp_bpf_opts *opts, struct family_state *st)
{
	struct bpf_program *prog;
	bool typed = b->typed_current;
	char reason[160];
	int r = 0;

	for (int attempt = 0; attempt < MAX_PROGS; attempt++) {
		unsigned enabled = 0, order;

		st->typed = typed;
		st->skel = fam->open(&st->obj, st->typed);
		if (!st->skel) {
			r = -errno;
			tp_warn("probe family %s: cannot open BPF object: %s", fam->name, strerror(-r));
			return r;
		}
		st->fam = fam;
		if ((r = set_common_rodata(st->obj, opts)) < 0 || (r = reuse_shared_maps(b, st->obj)) < 0 ||
		    (typed && opts->refuse_typed_loads &&
		     (r = tp_bpf_set_rodata(st->obj, "tp_test_refuse_typed", &typed, sizeof(typed))) < 0)) {
			tp_warn("probe family %s: cannot configure: %s", fam->name, strerror(-r));
			goto fail;
		}
		if (st->nshards > 1) {
			const char *why = NULL;

			st->shardable = family_shardable(st->obj, &why);
			if (!st->shardable && st->shard == 0 && attempt == 0)
				tp_debug("probe family %s: loaded whole, on one thread (its map %s may "
					 "hold state its programs share)",
					 fam->name, why);
		}
		/* Without bpf_rdonly_cast the kernel refuses a program on typed
		 * loads for certain: its twin goes in its place at once rather
		 * than after a refused load of the whole object. */
		order = 0;
		bpf_object__for_each_program(prog, st->obj) {
			const char *name = bpf_program__name(prog);
			struct tp_prog_info *p;

			order++;
			if (typed || !has_compat(st->obj, name) || !in_shard(st, name))
				continue;
			p = prog_info_at(b, fam->name, name, order - 1);
			if (p && !p->section[0])
				snprintf(p->section, sizeof(p->section), "%s",
					 bpf_program__section_name(prog));
			if (p && p->status == TP_PROG_PENDING)
				skip_prog(p, "typed loads need bpf_rdonly_cast (kernel 6.2+); its twin on "
					     "probe reads runs instead");
		}
		order = 0;
		bpf_object__for_each_program(prog, st->obj) {
			const char *sec = bpf_program__section_name(prog);
			struct tp_prog_info *p;

			order++;
			if (!in_shard(st, bpf_program__name(prog)) ||
			    !compat_wanted(b, fam->name, bpf_program__name(prog))) {
				bpf_program__set_autoload(prog, false);
				continue;
			}
			st->mine[(order - 1) / 64] |= 1ull << ((order - 1) % 64);
			p = prog_info_at(b, fam->name, bpf_program__name(prog), order - 1);
			if (p && !p->section[0])
				snprintf(p->section, sizeof(p->section), "%s", sec);
			if (p && p->status != TP_PROG_PENDING) {
				bpf_program__set_autoload(prog, false);
				continue;
			}
			if (!hook_available(b, sec, reason, sizeof(reason))) {
				skip_prog(p, reason);
				if (p)
					p->hook_missing = true;
				bpf_program__set_autoload(prog, false);
				continue;
			}
			if (!strcmp(sec, "perf_event")) {
				const struct tp_bpf_perf_spec *spec = tp_bpf_perf_spec(bpf_program__name(prog));

				if (!spec) {
					skip_prog(p, "no perf event is known for it");
					bpf_program__set_autoload(prog, false);
					continue;
				}
				if (perf_period(opts, spec) == 0) {
					bpf_program__set_autoload(prog, false);
					if (p) {
						p->status = TP_PROG_DISABLED;
						snprintf(p->reason, sizeof(p->reason), "sample period 0");
					}
					continue;
				}
			}
			enabled++;
		}
		if (opts->configure && (r = opts->configure(st->obj, fam->name, opts->configure_ctx)) < 0) {
			tp_warn("probe family %s: configuration failed: %s", fam->name, strerror(-r));
			goto fail;
		}
		/* configure may have switched programs off. */
		enabled = 0;
		bpf_object__for_each_program(prog, st->obj) {
			struct tp_prog_info *p;

			if (!in_shard(st, bpf_program__name(prog)) ||
			    !compat_wanted(b, fam->name, bpf_program__name(prog)))
				continue;
			p = prog_info(b, fam->name, bpf_program__name(prog));
			if (bpf_program__autoload(prog))
				enabled++;
			else if (p && p->status == TP_PROG_PENDING)
				p->status = TP_PROG_DISABLED;
		}
		if (!enabled) {
			fam->destroy(st->skel, st->typed);
			st->skel = NULL;
			return -ENOENT;
		}
		failed_prog[0] = '\0';
		r = bpf_object__load(st->obj);
		if (r == 0)
			return 0;
		if (!failed_prog[0]) {
			tp_warn("probe family %s: load failed: %s", fam->name, strerror(-r));
			goto fail;
		}
		if (typed) {
			/* The kernel has bpf_rdonly_cast but refused a program of
			 * the build on it (every program casts): the family is
			 * loaded from the build without kfuncs, where a program
			 * the kernel refuses is refused for its own sake. */
			tp_warn("probe family %s: the kernel refused %s of the build with typed loads "
				"(%s); loading the build without kfuncs",
				fam->name, failed_prog, strerror(-r));
			typed = false;
			fam->destroy(st->skel, st->typed);
			st->skel = NULL;
			continue;
		}
		snprintf(reason, sizeof(reason), "the kernel refused to load it (%s)%s", strerror(-r),
			 has_compat(st->obj, failed_prog) ? "; its twin on probe reads runs instead" : "");
		skip_prog(prog_info(b, fam->name, failed_prog), reason);
		fam->destroy(st->skel, st->typed);
		st->skel = NULL;
	}
	r = -ELOOP;
fail:
	fam->destroy(st->skel, st->typed);
	st->skel = NULL;
	pthread_mutex_lock(&b->lock); /* other families may be adding programs */
	for (unsigned i = 0; i < b->nprogs; i++)
		if (!strcmp(b->progs[i].family, fam->name) && b->progs[i].status == TP_PROG_PENDING &&
		    b->progs[i].order < MAX_PROGS &&
		    (st->mine[b->progs[i].order / 64] >> (b->progs[i].order % 64) & 1))
			skip_prog(&b->progs[i], "its probe family could not be loaded");
	pthread_mutex_unlock(&b->lock);
	return r;
}

/* Attach every loaded program of a family; returns how many attached. */
static unsigned attach_family(struct tp_bpf *b, struct family_state *st,
			      const struct tp_bpf_opts *opts)
{
	struct bpf_program *prog;
	unsigned attached = 0;

	bpf_object__for_each_program(prog, st->obj) {
		struct tp_prog_info *p;
		struct bpf_link *link;
		char reason[160];

		if (!bpf_program__autoload(prog))
			continue;
		p = prog_info(b, st->fam->name, bpf_program__name(prog));
		if (!p || p->status != TP_PROG_PENDING)
			continue;
		if (!strcmp(bpf_program__section_name(prog), "perf_event")) {
			const struct tp_bpf_perf_spec *spec = tp_bpf_perf_spec(bpf_program__name(prog));

			if (tp_perf_attach(prog, spec, perf_period(opts, spec), add_link, b, reason,
					   sizeof(reason)) < 0) {
				skip_prog(p, reason);
			} else {
				p->status = TP_PROG_ATTACHED;
				attached++;
			}
			continue;
		}
		link = bpf_program__attach(prog);
		if (!link) {
			snprintf(reason, sizeof(reason), "attach failed: %s", strerror(errno));
			skip_prog(p, reason);
			continue;
		}
		if (add_link(b, link) < 0) {
			bpf_link__destroy(link);
			skip_prog(p, "out of memory");
			continue;
		}
		p->status = TP_PROG_ATTACHED;
		attached++;
	}
	return attached;
}

static double clock_ms(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/*
 * Start-up is the kernel's verifier, family by family (issue 14): the
 * families load and attach in parallel, one thread per CPU taking the next
 * family from the list (the costliest, file, early), and each family
 * attaches as soon as it is loaded. Whatever order they finish in, the
 * families and programs are listed in the table's order afterwards.
 */
struct family_job {
	struct tp_bpf *b;
	const struct tp_bpf_opts *opts;
	const struct tp_bpf_family *fam;
	struct family_state st;
	bool loaded;
	double cpu_ms; /* this thread's CPU time for the family: the verifier, mostly */
	uint64_t verified; /* instructions the verifier went through, all its programs */
	bool verified_known; /* the kernel reports it (5.16+) */
};

struct load_queue {
	struct family_job *jobs;
	unsigned njobs;
	unsigned next; /* atomic */
};

/* The instructions the verifier processed for a loaded family's programs
 * (bpf_prog_info.verified_insns, kernel 5.16+: what start-up costs, per
 * program, without a verifier log), and its costliest programs in top (for
 * the debug log). False when the kernel does not say. */
#define TOP_PROGS 3

static bool family_verified_insns(struct bpf_object *obj, uint64_t *sum, char *top, size_t toplen)
{
	struct bpf_program *prog, *best[TOP_PROGS] = { 0 };
	__u32 best_n[TOP_PROGS] = { 0 };
	bool known = false;
	size_t at = 0;

	*sum = 0;
	bpf_object__for_each_program(prog, obj) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(prog);

		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0 ||
		    len < offsetof(struct bpf_prog_info, verified_insns) + sizeof(info.verified_insns) ||
		    !info.verified_insns)
			continue;
		*sum += info.verified_insns;
		known = true;
		for (int i = 0; i < TOP_PROGS; i++) {
			if (info.verified_insns <= best_n[i])
				continue;
			memmove(best + i + 1, best + i, (TOP_PROGS - 1 - i) * sizeof(best[0]));
			memmove(best_n + i + 1, best_n + i, (TOP_PROGS - 1 - i) * sizeof(best_n[0]));
			best[i] = prog;
			best_n[i] = info.verified_insns;
			break;
		}
	}
	top[0] = '\0';
	for (int i = 0; i < TOP_PROGS && best[i] && at < toplen; i++) {
		int n = snprintf(top + at, toplen - at, "%s%s %u", i ? ", " : "; most: ",
				 bpf_program__name(best[i]), best_n[i]);

		if (n < 0)
			break;
		at += (size_t)n;
	}
	return known;
}

static void run_job(struct family_job *j)
{
	double t0 = clock_ms(CLOCK_MONOTONIC), c0 = clock_ms(CLOCK_THREAD_CPUTIME_ID), t1;
	char top[200] = "", shard[32] = "";
	unsigned n = 0;

	j->loaded = load_family(j->b, j->fam, j->opts, &j->st) == 0;
	t1 = clock_ms(CLOCK_MONOTONIC);
	if (j->loaded) {
		j->verified_known =
		    family_verified_insns(j->st.obj, &j->verified, top, sizeof(top));
		n = attach_family(j->b, &j->st, j->opts);
	}
	j->cpu_ms = clock_ms(CLOCK_THREAD_CPUTIME_ID) - c0;
	if (j->st.nshards > 1)
		snprintf(shard, sizeof(shard), " (shard %u of %u)", j->st.shard + 1, j->st.nshards);
	tp_debug("probe family %s%s: loaded in %.0f ms, %u programs attached in %.0f ms "
		 "(%.0f ms of CPU, %llu instructions verified%s)",
		 j->fam->name, shard, t1 - t0, n, clock_ms(CLOCK_MONOTONIC) - t1, j->cpu_ms,
		 (unsigned long long)j->verified, top);
}

static void *load_worker(void *arg)
{
	struct load_queue *q = arg;
	unsigned i;

	while ((i = __atomic_fetch_add(&q->next, 1, __ATOMIC_RELAXED)) < q->njobs)
		run_job(&q->jobs[i]);
	return NULL;
}

static int family_index(const char *name)
{
	for (unsigned i = 0; i < tp_bpf_nfamilies; i++)
		if (!strcmp(tp_bpf_families[i].name, name))
			return (int)i;
	return (int)tp_bpf_nfamilies;
}

/* The programs in the table's family order, each family's in its object's
 * order (a stable insertion sort: a family's entries were appended by one
 * thread, in order). */
static void sort_progs(struct tp_bpf *b)
{
	for (unsigned i = 1; i < b->nprogs; i++) {
		struct tp_prog_info p = b->progs[i];
		int f = family_index(p.family);
		unsigned j = i;

		for (; j > 0 && (family_index(b->progs[j - 1].family) > f ||
				 (family_index(b->progs[j - 1].family) == f &&
				  b->progs[j - 1].order > p.order));
		     j--)
			b->progs[j] = b->progs[j - 1];
		b->progs[j] = p;
	}
}

static void load_families(struct tp_bpf *b, const struct tp_bpf_opts *opts)
{
	struct family_job jobs[sizeof(b->families) / sizeof(b->families[0])];
	struct load_queue q = { .jobs = jobs };
	pthread_t threads[MAX_LOAD_THREADS];
	unsigned nthreads = 0, want, nloaded = 0;
	double t0 = clock_ms(CLOCK_MONOTONIC), cpu = 0;
	uint64_t verified = 0;
	bool verified_known = false;
	char vtext[64];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	want = ncpu > 1 ? (unsigned)ncpu : 1;
	if (want > MAX_LOAD_THREADS)
		want = MAX_LOAD_THREADS;
	for (unsigned i = 0; i < tp_bpf_nfamilies; i++) {
		const struct tp_bpf_family *fam = &tp_bpf_families[i];
		unsigned nshards = fam->shard ? want : 1;

		if (!(opts->categories & (1u << fam->category))) {
			if (strcmp(fam->name, "process") ||
			    q.njobs >= sizeof(jobs) / sizeof(jobs[0])) {
				tp_debug("probe family %s disabled by configuration", fam->name);
				continue;
			}
			/* The programs that keep the header's cgroup cache exact
			 * (bpf/common.bpf.h) load even so: they record nothing. */
			tp_debug("probe family process disabled by configuration, but for its "
				 "programs that keep the events' cgroup ids cached");
			jobs[q.njobs++] =
			    (struct family_job){.b = b,
						.opts = opts,
						.fam = fam,
						.st = {.nshards = 1, .gen_only = true}};
			continue;
		}
		if (nshards > MAX_SHARDS)
			nshards = MAX_SHARDS;
		/* Room for one job for each family still to come. */
		while (nshards > 1 && q.njobs + nshards + (tp_bpf_nfamilies - i - 1) >
					     sizeof(jobs) / sizeof(jobs[0]))
			nshards--;
		if (q.njobs >= sizeof(jobs) / sizeof(jobs[0]))
			break;
		for (unsigned k = 0; k < nshards; k++)
			jobs[q.njobs++] = (struct family_job){
				.b = b, .opts = opts, .fam = fam, .st = { .shard = k, .nshards = nshards }
			};
	}
	if (want > q.njobs)
		want = q.njobs;
	/* The calling thread is one of the workers. */
	while (nthreads + 1 < want && pthread_create(&threads[nthreads], NULL, load_worker, &q) == 0)
		nthreads++;
	load_worker(&q);
	for (unsigned i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);

	for (unsigned i = 0; i < q.njobs; i++) {
		cpu += jobs[i].cpu_ms;
		verified += jobs[i].verified;
		verified_known |= jobs[i].verified_known;
		if (!jobs[i].loaded)
			continue;
		b->families[b->nfamilies++] = jobs[i].st;
		/* A family in shards counts once. */
		nloaded += i == 0 || jobs[i - 1].fam != jobs[i].fam || !jobs[i - 1].loaded;
	}
	sort_progs(b);
	if (verified_known)
		snprintf(vtext, sizeof(vtext), "%llu instructions verified", (unsigned long long)verified);
	else
		snprintf(vtext, sizeof(vtext), "instructions verified not reported by this kernel");
	tp_info("eBPF: %u probe families loaded and attached in %.0f ms on %u threads "
		"(%.0f ms of CPU, the kernel's verifier mostly; %s)",
		nloaded, clock_ms(CLOCK_MONOTONIC) - t0, nthreads + 1, cpu, vtext);
}

/*
 * The header's cgroup ids come from a per-CPU cache that the programs on
 * the cgroup tracepoints invalidate (tp_cgroup_gen_*, bpf/common.bpf.h); it
 * is on (the generation odd) only when every one of them is attached.
 * Otherwise each event reads the ids through the task's cgroups, as
 * before: correct, ~75 ns dearer per event on a 2-core VM.
 */
static void cgroup_cache_on(struct tp_bpf *b)
{
	const uint32_t zero = 0;
	const uint64_t on = 1;
	unsigned attached = 0;

#if !defined(__x86_64__) && !defined(__i386__)
	/* The generation's load must come before the chains' (bpf/common.bpf.h):
	 * x86 keeps loads in order, a weakly ordered CPU does not. */
	tp_debug("the events' cgroup ids are read on every event: their cache needs a CPU that "
		 "keeps loads in order (x86)");
	return;
#endif

	for (unsigned k = 0; k < b->nprogs; k++) {
		const struct tp_prog_info *p = &b->progs[k];

		if (strncmp(p->name, CGROUP_GEN_PREFIX, sizeof(CGROUP_GEN_PREFIX) - 1))
			continue;
		if (p->status != TP_PROG_ATTACHED) {
			tp_debug(
			    "the events' cgroup ids are read on every event: %s is not attached "
			    "(%s)",
			    p->name, p->reason[0] ? p->reason : "off");
			return;
		}
		attached++;
	}
	if (!attached) {
		tp_debug("the events' cgroup ids are read on every event: the process family, "
			 "whose programs keep their cache exact, did not load");
		return;
	}
	if (bpf_map_update_elem(b->cgroup_gen_fd, &zero, &on, BPF_ANY) < 0)
		tp_debug("the events' cgroup ids are read on every event: cannot turn their "
			 "cache on: %s",
			 strerror(errno));
	else
		tp_debug("the events' cgroup ids are cached per task, until a cgroup tracepoint "
			 "says a task may have moved");
}

static uint64_t round_up_pow2(uint64_t v)
{
	uint64_t p = 4096;

	while (p < v)
		p <<= 1;
	return p;
}

int tp_bpf_open(struct tp_bpf **out, const struct tp_bpf_opts *opts, char *err, size_t errlen)
{
	struct tp_bpf *b;
	int r;

	*out = NULL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->ring_fd = b->drops_fd = b->cgroup_gen_fd = -1;
	pthread_mutex_init(&b->lock, NULL);
	b->kmaps.kstats_fd = b->kmaps.settings_fd = b->kmaps.sample_fd = -1;
	b->kmaps.comm_fd = b->kmaps.path_fd = -1;
	b->kmaps.env_names_fd = b->kmaps.env_prefix_fd = -1;
	libbpf_set_print(libbpf_print);
	b->vmlinux = btf__load_vmlinux_btf();
	if (!b->vmlinux)
		b->vmlinux = NULL; /* hook checks then defer to the kernel */
	b->typed_current = typed_current_wanted(b, opts);
	ensure_tracefs(b);

	b->ring_bytes = round_up_pow2(opts->ring_bytes ? opts->ring_bytes : 8u << 20);
	b->ring_fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "tp_events", 0, 0, (uint32_t)b->ring_bytes, NULL);
	if (b->ring_fd < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot create the %llu-byte BPF ring buffer: %s",
			 (unsigned long long)b->ring_bytes, strerror(-r));
		goto fail;
	}
	b->drops_fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "tp_drops", sizeof(uint32_t),
				     sizeof(uint64_t), TP_DROP_SLOTS, NULL);
	if (b->drops_fd < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot create the drop counter map: %s", strerror(-r));
		goto fail;
	}
	b->cgroup_gen_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "tp_cgroup_gen", sizeof(uint32_t),
					  sizeof(uint64_t), 1, NULL);
	if (b->cgroup_gen_fd < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot create the cgroup cache map: %s", strerror(-r));
		goto fail;
	}
	/* Filters are in place before the first program runs. */
	if ((r = tp_kfilter_maps_create(&b->kmaps, err, errlen)) < 0 ||
	    (r = tp_kfilter_apply(&b->kmaps, &opts->filter, err, errlen)) < 0)
		goto fail;

	load_families(b, opts);
	cgroup_cache_on(b);

	if (b->nlinks == 0) {
		snprintf(err, errlen,
			 "no eBPF program could be attached on this kernel (see the warnings above); "
			 "nothing would be observed");
		r = -ENOENT;
		goto fail;
	}
	*out = b;
	return 0;
fail:
	tp_bpf_close(b);
	return r;
}

void tp_bpf_detach(struct tp_bpf *b)
{
	for (unsigned i = b->nlinks; i > 0; i--)
		bpf_link__destroy(b->links[i - 1]);
	b->nlinks = 0;
}

int tp_bpf_pause(struct tp_bpf *b)
{
	return tp_kfilter_pause(&b->kmaps);
}

/*
 * Releasing a perf-event tracepoint attachment waits for an RCU grace
 * period under the kernel's event_mutex (~50 ms each here: 3.5 s for the
 * syscall tracepoints of every family), and so would the agent's exit.
 * A child made by a raw fork (no atfork handlers: gRPC's threads may hold
 * their locks) shares every descriptor, so the agent's own closes release
 * nothing; the child closes its standard streams (a reader of the agent's
 * output sees the end at once), waits for the agent to be gone (the end of
 * a pipe only the agent holds open), and exits holding the last
 * references: the slow release is the child's. The programs are paused by
 * then (tp_bpf_pause): they record nothing in the meantime. Returns the
 * pipe's end the agent keeps open until it has closed everything (-1: no
 * child, the release happens here).
 */
#define RELEASE_IN_CHILD_MIN 8 /* links; fewer release fast enough here */

static int release_in_child(struct tp_bpf *b)
{
	int fds[2];
	long pid;

	if (b->nlinks < RELEASE_IN_CHILD_MIN || pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	pid = syscall(SYS_fork);
	if (pid == 0) {
		sigset_t all;
		char c;

		sigfillset(&all);
		syscall(SYS_rt_sigprocmask, SIG_BLOCK, &all, NULL, sizeof(long));
		syscall(SYS_close, fds[1]);
		for (int fd = 0; fd < 3; fd++)
			syscall(SYS_close, fd);
		while (syscall(SYS_read, fds[0], &c, 1) < 0 && errno == EINTR)
			;
		syscall(SYS_exit_group, 0); /* the kernel closes the rest */
	}
	close(fds[0]);
	if (pid < 0) {
		tp_debug("cannot release the programs in a child (%s): detaching here",
			 strerror(errno));
		close(fds[1]);
		return -1;
	}
	return fds[1];
}

void tp_bpf_close(struct tp_bpf *b)
{
	int child;

	if (!b)
		return;
	child = release_in_child(b);
	/* Detach everything before the objects go: nothing stays half attached. */
	tp_bpf_detach(b);
	free(b->links);
	for (unsigned i = b->nfamilies; i > 0; i--)
		b->families[i - 1].fam->destroy(b->families[i - 1].skel, b->families[i - 1].typed);
	tp_kfilter_maps_close(&b->kmaps);
	if (b->drops_fd >= 0)
		close(b->drops_fd);
	if (b->cgroup_gen_fd >= 0)
		close(b->cgroup_gen_fd);
	if (b->ring_fd >= 0)
		close(b->ring_fd);
	btf__free(b->vmlinux);
	pthread_mutex_destroy(&b->lock);
	free(b);
	if (child >= 0)
		close(child); /* the child exits, holding the last references */
}

int tp_bpf_ring_fd(const struct tp_bpf *b)
{
	return b->ring_fd;
}

uint64_t tp_bpf_ring_bytes(const struct tp_bpf *b)
{
	return b->ring_bytes;
}

int tp_bpf_read_drops(const struct tp_bpf *b, uint64_t *drops)
{
	return tp_percpu_sum(b->drops_fd, TP_DROP_SLOTS, drops);
}

int tp_bpf_set_filter(struct tp_bpf *b, const struct tp_kfilter *kf, char *err, size_t errlen)
{
	return tp_kfilter_apply(&b->kmaps, kf, err, errlen);
}

int tp_bpf_read_kstats(const struct tp_bpf *b, uint64_t *out)
{
	return tp_kfilter_read_stats(&b->kmaps, out);
}

const struct tp_prog_info *tp_bpf_programs(const struct tp_bpf *b, size_t *n)
{
	*n = b->nprogs;
	return b->progs;
}

size_t tp_bpf_attached_count(const struct tp_bpf *b)
{
	size_t n = 0;

	for (unsigned i = 0; i < b->nprogs; i++)
		n += b->progs[i].status == TP_PROG_ATTACHED;
	return n;
}

const struct tp_bpf_family_info *tp_bpf_family_at(size_t i)
{
	static struct tp_bpf_family_info info;

	if (i >= tp_bpf_nfamilies)
		return NULL;
	info.name = tp_bpf_families[i].name;
	info.category = tp_bpf_families[i].category;
	return &info;
}
