/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * common.bpf.h - maps, settings and helpers shared by every probe family.
 *
 * Each family is its own BPF object, but they all write to one ring buffer
 * and count drops in one map: the loader creates these maps once and hands
 * the same fds to every object (bpf_map__reuse_fd) before load.
 *
 * Records are submitted without a wakeup; the reader drains on a short timer.
 * Only when the ring holds more than tp_wakeup_bytes of unread data does a
 * submission wake the reader, so bursts cannot overflow it between ticks.
 */
#ifndef TAPIO_COMMON_BPF_H
#define TAPIO_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "events.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20); /* resized by the loader */
} tp_events SEC(".maps");

/* Per-CPU count of records that could not be reserved, per category. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TP_DROP_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} tp_drops SEC(".maps");

/* What happened to each event, per category and reason (enum tp_kstat). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TP_KSTAT_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} tp_kstats SEC(".maps");

/* Runtime settings (struct tp_settings), written by user space. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tp_settings);
} tp_settings SEC(".maps");

/* Per-CPU count of events that reached the sampling step, per category. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TP_CAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} tp_sample_ctr SEC(".maps");

/* Task names whose events are dropped (key: comm, NUL-padded). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TP_EXCLUDE_MAX);
	__type(key, char[TP_COMM_LEN]);
	__type(value, __u8);
} tp_exclude_comm SEC(".maps");

/* Path prefixes whose file events are dropped. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, TP_EXCLUDE_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct tp_path_key);
	__type(value, __u8);
} tp_exclude_path SEC(".maps");

/* Set by the loader before load. */
const volatile __u32 tp_self_pid = 0;	  /* the agent's own tgid: never traced */
const volatile __u64 tp_wakeup_bytes = 0; /* 0: never wake, timer only */
/* Unread bytes past which a failed syscall's event is dropped (and counted
 * as a ring drop) before it is built: in a flood of failures (an exec or
 * open loop on missing files) the rest of the ring stays free for events
 * of calls that worked. 0: never. */
const volatile __u64 tp_shed_failed_bytes = 0;
/* 1 + enum cgroup_subsys_id of the controller whose v1 hierarchy is tracked
 * in tp_hdr.cgroup_v1_id; 0: none (pure cgroup v2 machines). */
const volatile __u32 tp_cgroup_v1_subsys = 0;

/*
 * Typed loads. A pointer whose BTF type the verifier knows is read with
 * plain loads (an instruction each; a fault reads 0) where a probe read is
 * a helper call of tens of ns in a VM, and an untrusted one is verified
 * without the scans of the kernel's BTF that each load through a trusted
 * pointer costs (bpf_get_current_task_btf: most of the start-up on 6.x,
 * issue 14). bpf_rdonly_cast (6.2+) gives a number such a type; the
 * verifier turns the call into a move.
 *
 * Each family is built twice (cmake/bpf.cmake): NAME.bpf.o with typed
 * loads, and NAME_nk.bpf.o with -DTP_NO_KFUNCS, which calls no kfunc, for
 * kernels without bpf_rdonly_cast; the loader picks one by the kernel's
 * BTF (src/bpf/loader.c). No weak kfunc: libbpf 1.1 looks for a missing
 * one in the modules' BTF, which only CAP_SYS_ADMIN may list, so a
 * non-root agent could not load the object at all. In NAME_nk, a program
 * on TP_CAST is never loaded (the loader takes its NAME_compat twin on
 * probe reads instead), so TP_CAST is a plain cast there.
 */
#ifdef TP_NO_KFUNCS
#define TP_TYPED_LOADS 0
#define TP_CAST(p, type) ((type *)(p))
#else
#define TP_TYPED_LOADS 1
extern void *bpf_rdonly_cast(const void *obj__ign, __u32 btf_id) __ksym;
/* Tests only (TAPIO_TEST_NO_TYPED_BPF=refused): every cast asks for a BTF
 * id that is no type, so the kernel refuses this build's programs and the
 * loader falls back to NAME_nk, as on a kernel that had the kfunc but would
 * not take it. Otherwise a constant of the frozen .rodata: no cost. */
const volatile bool tp_test_refuse_typed = false;
#define TP_NO_BTF_TYPE 0x7ffffffu
#define TP_CAST(p, type)                                                              \
	((type *)bpf_rdonly_cast((const void *)(p), tp_test_refuse_typed ? TP_NO_BTF_TYPE \
								  : bpf_core_type_id_kernel(type)))
#endif

/*
 * The 8 bytes at a kernel address, as one plain load where the kernel has
 * typed casts (a fault reads 0, as a failed probe read leaves 0): the
 * address is cast to a qstr, whose first member is a u64 on every kernel,
 * and read as that. Not for the NAME_nk build (TP_CAST is a plain cast
 * there): callers test TP_TYPED_LOADS first.
 */
#define TP_LOAD_U64(addr) ((__u64)TP_CAST(addr, struct qstr)->hash_len)

static __always_inline void tp_count_drop(__u32 category)
{
	__u64 *n = bpf_map_lookup_elem(&tp_drops, &category);

	if (n)
		*n += 1; /* per-CPU slot: no atomic needed */
}

static __always_inline void tp_kstat(__u32 category, __u32 reason)
{
	__u32 slot = category * TP_KSTAT_N + reason;
	__u64 *n = bpf_map_lookup_elem(&tp_kstats, &slot);

	if (n)
		*n += 1;
}

static __always_inline void *tp_reserve(__u64 size, __u32 category)
{
	void *rec = bpf_ringbuf_reserve(&tp_events, size, 0);

	if (!rec)
		tp_count_drop(category);
	return rec;
}

/*
 * Whether the reader must be woken (tp_wakeup_bytes unread) is asked of the
 * ring only once in TP_WAKEUP_CHECK_EVERY records of a category on a CPU:
 * bpf_ringbuf_query reads the reader's position, a cache line the reader
 * keeps writing from another CPU (~60 ns per file.open measured with
 * bpf_stats). The reader is then woken at most that many records late per
 * CPU and category, a few hundred KiB against a quarter of the ring.
 */
#define TP_WAKEUP_CHECK_EVERY 32

static __always_inline __u64 tp_submit_flags(void)
{
	if (tp_wakeup_bytes && bpf_ringbuf_query(&tp_events, BPF_RB_AVAIL_DATA) >= tp_wakeup_bytes)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

/* Submit a reserved record and count it as emitted. */
static __always_inline void tp_submit(void *rec, __u32 category)
{
	__u32 slot = category * TP_KSTAT_N + TP_KSTAT_EMITTED;
	__u64 *n = bpf_map_lookup_elem(&tp_kstats, &slot);
	__u64 flags = BPF_RB_NO_WAKEUP;

	if (n) {
		*n += 1; /* per-CPU slot: no atomic needed */
		if (!(*n & (TP_WAKEUP_CHECK_EVERY - 1)))
			flags = tp_submit_flags();
	} else {
		flags = tp_submit_flags();
	}
	bpf_ringbuf_submit(rec, flags);
}

/* Give a reserved record back, counted under reason. */
static __always_inline void tp_discard(void *rec, __u32 category, __u32 reason)
{
	bpf_ringbuf_discard(rec, BPF_RB_NO_WAKEUP);
	tp_kstat(category, reason);
}

static __always_inline int tp_current_is_self(void)
{
	return (__u32)(bpf_get_current_pid_tgid() >> 32) == tp_self_pid;
}

/* The cgroup v2 id of any task (kernfs node id of its default cgroup). */
static __always_inline __u64 tp_task_cgroup_id(struct task_struct *task)
{
	return BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);
}

/* The id of the task's cgroup in the tracked v1 hierarchy, 0 when none. */
static __always_inline __u64 tp_task_cgroup_v1_id(struct task_struct *task)
{
	struct cgroup_subsys_state *css = NULL;
	struct css_set *cset;
	__u32 ssid = tp_cgroup_v1_subsys - 1;

	if (!tp_cgroup_v1_subsys ||
	    ssid >= bpf_core_field_size(struct css_set, subsys) / sizeof(css))
		return 0;
	cset = BPF_CORE_READ(task, cgroups);
	if (!cset || bpf_core_read(&css, sizeof(css), &cset->subsys[ssid]) < 0 || !css)
		return 0;
	return BPF_CORE_READ(css, cgroup, kn, id);
}

static __always_inline const struct tp_settings *tp_get_settings(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&tp_settings, &zero);
}

/* comm: a NUL-padded TP_COMM_LEN name, or NULL for the current task's. */
static __always_inline bool tp_comm_excluded(const struct tp_settings *s, const char *comm)
{
	char cur[TP_COMM_LEN];

	if (!(s->flags & TP_SET_EXCLUDE_COMM))
		return false;
	if (!comm) {
		bpf_get_current_comm(cur, sizeof(cur)); /* NUL-padded, as the keys are */
		comm = cur;
	}
	return bpf_map_lookup_elem(&tp_exclude_comm, comm) != NULL;
}

/* Keep 1 in N events of a category (per CPU, counted exactly). */
static __always_inline bool tp_sampled_out(const struct tp_settings *s, __u32 category)
{
	__u32 rate = category < TP_CAT_KERNEL_MAX ? s->sample_rate[category & 7] : 0;
	__u64 *n;

	if (rate <= 1)
		return false;
	n = bpf_map_lookup_elem(&tp_sample_ctr, &category);
	if (!n)
		return false;
	*n += 1;
	return (*n % rate) != 0;
}

/*
 * The filters an event meets before any work is done for it, in this
 * order: the agent itself (never an event, not counted), a failed syscall
 * in a category that drops failures, an excluded comm, 1-in-N sampling.
 * Returns the settings when the event goes on; NULL when it was dropped,
 * and then it was counted under its reason. The event is about task pid
 * named comm (NULL: the current task).
 */
static __always_inline const struct tp_settings *tp_admit_as(__u32 category, bool failed, __u32 pid,
							     const char *comm)
{
	const struct tp_settings *s;

	if (pid == tp_self_pid)
		return NULL;
	s = tp_get_settings();
	if (!s || (s->flags & TP_SET_PAUSED)) /* stopping: not an event, not counted */
		return NULL;
	if (failed && (s->drop_failed & (1u << category))) {
		tp_kstat(category, TP_KSTAT_FAILED);
		return NULL;
	}
	if (failed && tp_shed_failed_bytes &&
	    bpf_ringbuf_query(&tp_events, BPF_RB_AVAIL_DATA) >= tp_shed_failed_bytes) {
		tp_count_drop(category);
		return NULL;
	}
	if (tp_comm_excluded(s, comm)) {
		tp_kstat(category, TP_KSTAT_COMM);
		return NULL;
	}
	if (tp_sampled_out(s, category)) {
		tp_kstat(category, TP_KSTAT_SAMPLED);
		return NULL;
	}
	return s;
}

/* tp_admit_as for an event of the current task. */
static __always_inline const struct tp_settings *tp_admit(__u32 category, bool failed)
{
	/* The tgid as a typed load where the kernel has typed casts (one helper
	 * call fewer on every event: bpf_get_current_task is inlined). */
	__u32 pid = TP_TYPED_LOADS ? TP_CAST(bpf_get_current_task(), struct task_struct)->tgid
				   : (__u32)(bpf_get_current_pid_tgid() >> 32);

	return tp_admit_as(category, failed, pid, NULL);
}

#define TP_CGROUP_SUBSYS_MAX 16

/*
 * The current task for field loads: an untrusted typed pointer where the
 * kernel has bpf_rdonly_cast, else bpf_get_current_task_btf (5.11+; its
 * verifier does not scan BTF for trusted pointers). Not for a helper that
 * wants a trusted task (bpf_task_pt_regs, bpf_find_vma): those take
 * bpf_get_current_task_btf() itself.
 */
static __always_inline struct task_struct *tp_current(void)
{
	if (TP_TYPED_LOADS)
		return TP_CAST(bpf_get_current_task(), struct task_struct);
	return bpf_get_current_task_btf();
}

/* tp_task_cgroup_v1_id for the current task, with typed loads instead of
 * probe reads (every event pays for it): the array index must then be a
 * constant, so the tracked controller is found by an unrolled loop that
 * the verifier resolves, tp_cgroup_v1_subsys being read-only data. */
static __always_inline __u64 tp_current_cgroup_v1_id(struct task_struct *task)
{
	struct cgroup_subsys_state *css = NULL;
	struct css_set *cset = task->cgroups;
	int i;

	if (!tp_cgroup_v1_subsys || !cset)
		return 0;
#pragma unroll
	for (i = 0; i < TP_CGROUP_SUBSYS_MAX; i++) {
		if (i + 1 == tp_cgroup_v1_subsys &&
		    i < bpf_core_field_size(struct css_set, subsys) / sizeof(css)) {
			css = cset->subsys[i];
			break;
		}
	}
	if (!css || !css->cgroup || !css->cgroup->kn)
		return 0;
	return css->cgroup->kn->id;
}

/*
 * The header's fields about task, read from the task itself with typed
 * loads (TP_TYPED_LOADS only): what bpf_get_current_pid_tgid, _uid_gid
 * and _comm return for the current task, as loads instead of helper calls
 * or probe reads. The ids as the kernel keeps them (the helpers map uid and
 * gid to the initial user namespace, where a kuid is its own value); the
 * name as two words (the kernel keeps it NUL-terminated, and the reader
 * stops at the first NUL). The cgroup ids apart: tp_hdr_cgroups_read (what
 * bpf_get_current_cgroup_id returns: the default hierarchy's cgroup of the
 * task, its kernfs node's id) or, for the current task,
 * tp_hdr_cgroups_current.
 */
static __always_inline void tp_hdr_task_typed(struct tp_hdr *h, struct task_struct *task)
{
	const struct cred *cred = task->cred;

	h->ppid = task->real_parent ? task->real_parent->tgid : 0;
	h->pid = task->tgid;
	h->tid = task->pid;
	h->uid = cred ? cred->uid.val : 0;
	h->gid = cred ? cred->gid.val : 0;
	*(__u64 *)&h->comm[0] = *(const __u64 *)&task->comm[0];
	*(__u64 *)&h->comm[8] = *(const __u64 *)&task->comm[8];
}

/*
 * The current task's cgroup ids, from a per-CPU cache.
 *
 * The loads from the task to its cgroups' kernfs ids (task->cgroups,
 * ->dfl_cgrp, ->kn, ->id and the v1 chain through ->subsys[]) meet cold
 * cache lines on nearly every event: ~75 ns of a ~600 ns open on a 2-core
 * VM (issue 14). A task's cgroup ids change only when it is migrated
 * (cgroup_attach_task, cgroup_transfer_tasks: both fire a tracepoint once
 * the move is made, under cgroup_mutex, before the next move can begin) or
 * when a v1 hierarchy is mounted, remounted or destroyed (a controller's
 * root css changes hierarchy: cgroup_setup_root, _remount, _destroy_root).
 * A move that changes only which controllers' csses a task has
 * (subtree_control, cgroup_update_dfl_csses) leaves its default cgroup and
 * its v1 hierarchies' cgroups where they were. The process family's
 * tp_cgroup_gen_* programs add 2 to tp_cgroup_gen on each of those
 * tracepoints; user space makes it odd once they are attached (even: no
 * cache, every event reads the chains).
 *
 * A miss loads the generation before the chains, so a slot never pairs a
 * generation with ids older than it: the compiler keeps that order (the
 * barrier below), and the CPU does on x86 (loads are not reordered with
 * older loads). A weakly ordered CPU (arm64) would need a fence there,
 * which BPF has only as a fetching atomic (5.12+): the loader turns the
 * cache on on x86 only.
 *
 * A slot holds one task's ids as of one generation: the task by its address
 * and its start time (a task freed and another made at the same address
 * has a later start). An event whose task, start and generation match takes
 * the ids from the slot; so an event between a move and its tracepoint
 * reports the cgroup the task was in before the move: the stream's own
 * order, where the container.cgroup attach event comes from that
 * tracepoint. The slot's seq is odd while it is written: a program that
 * runs nested on this CPU (an interrupt) neither writes a slot being
 * written nor takes a slot that changed under its reads.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} tp_cgroup_gen SEC(".maps");

#define TP_CGCACHE_SLOTS 16 /* a power of 2 */

struct tp_cgcache_slot {
	__u64 seq;
	__u64 task;
	__u64 start;
	__u64 gen;
	__u64 cgroup_id;
	__u64 cgroup_v1_id;
};

struct tp_cgcache {
	struct tp_cgcache_slot slot[TP_CGCACHE_SLOTS];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tp_cgcache);
} tp_cgcache SEC(".maps");

static __always_inline void tp_hdr_cgroups_read(struct tp_hdr *h, struct task_struct *task)
{
	struct cgroup *dfl = task->cgroups ? task->cgroups->dfl_cgrp : NULL;

	h->cgroup_id = dfl && dfl->kn ? dfl->kn->id : 0;
	h->cgroup_v1_id = tp_current_cgroup_v1_id(task);
}

/* The current task's ids read through its cgroups: typed loads, or (the
 * build without kfuncs) the helper and probe reads. */
static __always_inline void tp_hdr_cgroups_read_current(struct tp_hdr *h, struct task_struct *task)
{
	if (TP_TYPED_LOADS) {
		tp_hdr_cgroups_read(h, task);
	} else {
		h->cgroup_id = bpf_get_current_cgroup_id();
		h->cgroup_v1_id = tp_task_cgroup_v1_id(task);
	}
}

/* task: the current task, t: its address as a number (a pointer's bits may
 * not be hashed) */
static __always_inline void tp_hdr_cgroups_current(struct tp_hdr *h, struct task_struct *task,
						   __u64 t)
{
	volatile struct tp_cgcache_slot *s;
	struct tp_cgcache *c;
	__u64 gen, start, seq;
	__u32 zero = 0;
	__u64 *g;

	g = bpf_map_lookup_elem(&tp_cgroup_gen, &zero);
	c = bpf_map_lookup_elem(&tp_cgcache, &zero);
	gen = g ? *(volatile __u64 *)g : 0;
	asm volatile("" ::: "memory");
	if (!(gen & 1) || !c) {
		tp_hdr_cgroups_read_current(h, task);
		return;
	}
	start = TP_TYPED_LOADS ? task->start_time : BPF_CORE_READ(task, start_time);
	s = &c->slot[((t >> 12) ^ (t >> 17)) & (TP_CGCACHE_SLOTS - 1)];
	seq = s->seq;
	if (!(seq & 1) && s->task == t && s->start == start && s->gen == gen) {
		__u64 id = s->cgroup_id, v1 = s->cgroup_v1_id;

		if (s->seq == seq) {
			h->cgroup_id = id;
			h->cgroup_v1_id = v1;
			return;
		}
	}
	tp_hdr_cgroups_read_current(h, task);
	if (seq & 1 || s->seq != seq)
		return;
	s->seq = seq + 1;
	s->task = t;
	s->start = start;
	s->gen = gen;
	s->cgroup_id = h->cgroup_id;
	s->cgroup_v1_id = h->cgroup_v1_id;
	s->seq = seq + 2;
}

/* Fill the header for an event about the current task. */
static __always_inline void tp_fill_hdr_inline(struct tp_hdr *h, __u32 type, __u32 size)
{
	h->ts_ns = bpf_ktime_get_boot_ns();
	if (TP_TYPED_LOADS) {
		__u64 t = bpf_get_current_task();
		struct task_struct *task = TP_CAST(t, struct task_struct);

		tp_hdr_cgroups_current(h, task, t);
		tp_hdr_task_typed(h, task);
	} else {
		/* Probe reads: also before 5.11 (no bpf_get_current_task_btf). */
		__u64 t = bpf_get_current_task();
		struct task_struct *task = (struct task_struct *)t;
		__u64 id = bpf_get_current_pid_tgid();
		__u64 ug = bpf_get_current_uid_gid();

		tp_hdr_cgroups_current(h, task, t);
		h->ppid = BPF_CORE_READ(task, real_parent, tgid);
		h->pid = id >> 32;
		h->tid = (__u32)id;
		h->uid = (__u32)ug;
		h->gid = ug >> 32;
		bpf_get_current_comm(h->comm, sizeof(h->comm));
	}
	h->type = type;
	h->size = size;
	h->cpu = bpf_get_smp_processor_id();
}

/*
 * tp_fill_hdr: tp_fill_hdr_inline as a global function where the kernel
 * has typed casts (6.2+): the verifier checks a global function once per
 * program instead of once per call site, and a program that sends its
 * record in size classes (the file events that end with their path:
 * PATH_SEND, bpf/file.bpf.c) fills a header in each: ~135,000
 * instructions fewer to verify at start-up. The call costs a few ns. The
 * build without kfuncs, for kernels before 6.2 (some before 5.12, which
 * take no pointer argument in a global function), keeps it inline.
 */
#if TP_TYPED_LOADS
__noinline int tp_fill_hdr_global(struct tp_hdr *h, __u32 type, __u32 size)
{
	if (h) /* the verifier checks the function for any pointer the type allows */
		tp_fill_hdr_inline(h, type, size);
	return 0;
}
#define tp_fill_hdr(h, type, size) tp_fill_hdr_global(h, type, size)
#else
#define tp_fill_hdr(h, type, size) tp_fill_hdr_inline(h, type, size)
#endif

/* Fill the header for an event about another task (e.g. a fork child). */
static __always_inline void tp_fill_hdr_task(struct tp_hdr *h, struct task_struct *task, __u32 type,
					     __u32 size)
{
	h->ts_ns = bpf_ktime_get_boot_ns();
	if (TP_TYPED_LOADS) {
		struct task_struct *t = TP_CAST(task, struct task_struct);

		tp_hdr_cgroups_read(h, t);
		tp_hdr_task_typed(h, t);
	} else {
		h->cgroup_id = tp_task_cgroup_id(task);
		h->cgroup_v1_id = tp_task_cgroup_v1_id(task);
		h->pid = BPF_CORE_READ(task, tgid);
		h->tid = BPF_CORE_READ(task, pid);
		h->ppid = BPF_CORE_READ(task, real_parent, tgid);
		h->uid = BPF_CORE_READ(task, cred, uid.val);
		h->gid = BPF_CORE_READ(task, cred, gid.val);
		BPF_CORE_READ_STR_INTO(&h->comm, task, comm);
	}
	h->type = type;
	h->size = size;
	h->cpu = bpf_get_smp_processor_id();
}

#endif /* TAPIO_COMMON_BPF_H */
