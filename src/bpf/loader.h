/*
 * loader.h - load and attach the BPF probe families.
 *
 * The sequence for each family is: open its skeleton, set its settings
 * (rodata), hand it the shared ring buffer and drop counters, switch off
 * programs whose hook this kernel lacks (one warning each), load, attach.
 * A program the kernel refuses at load (EPERM for fentry/LSM on locked-down
 * kernels, a verifier rejection) is switched off and the family loaded
 * again without it: the agent runs with what the kernel allows and says
 * what it skipped. Only when nothing at all can be attached is it an error.
 *
 * Before anything, tp_bpf_preflight checks privileges, BTF and ring buffer
 * support, so a user gets one sentence about what is missing instead of a
 * libbpf trace.
 */
#ifndef TAPIO_BPF_LOADER_H
#define TAPIO_BPF_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/kfilter.h"
#include "events.h"

struct bpf_object;
struct tp_bpf;

struct tp_bpf_opts {
	uint32_t categories;   /* bit (1 << TP_CAT_x) for each category to load */
	uint64_t ring_bytes;   /* ring buffer size; rounded up to a power of two */
	uint64_t wakeup_bytes; /* unread bytes that make the kernel wake the reader */
	uint64_t shed_failed_bytes; /* unread bytes past which failed syscalls' events
				     * are dropped (counted) before they are built; 0: never */
	uint32_t self_pid;     /* never traced */
	uint32_t cgroup_v1_subsys; /* 1 + cgroup subsystem id whose v1 hierarchy
				    * tp_hdr.cgroup_v1_id reports; 0: none */
	struct tp_kfilter filter; /* in-kernel filtering and sampling */
	uint64_t page_fault_period; /* memory.page_fault: 1 in N user faults per CPU; 0: off */
	bool no_typed_loads; /* tests: load as on a kernel without bpf_rdonly_cast (< 6.2) */
	bool refuse_typed_loads; /* tests: the kernel refuses the build with typed loads */
	/* Optional: called for each family after open, before load, to set its
	 * own settings (tp_bpf_set_rodata) or switch programs off. */
	int (*configure)(struct bpf_object *obj, const char *family, void *ctx);
	void *configure_ctx;
};

enum tp_prog_status {
	TP_PROG_PENDING,  /* not attached (yet) */
	TP_PROG_ATTACHED,
	TP_PROG_SKIPPED,  /* hook missing, refused at load or attach */
	TP_PROG_DISABLED, /* switched off by configuration */
};

struct tp_prog_info {
	char family[32];
	char name[64];
	char section[128];
	enum tp_prog_status status;
	char reason[160];
	bool hook_missing; /* SKIPPED because this kernel has no such hook (a property of
			    * the node), not because the kernel refused the program */
	unsigned order;	   /* the loader's: its place in its family's object */
};

/* Checks that need no BPF object: privileges, BTF, ring buffer support.
 * Returns 0, or a negative errno with a sentence for the user in err. */
int tp_bpf_preflight(char *err, size_t errlen);

int tp_bpf_open(struct tp_bpf **out, const struct tp_bpf_opts *opts, char *err, size_t errlen);
/* Detach and free. The release of many perf-event attachments is left to a
 * short-lived child process, so that the agent itself exits at once. */
void tp_bpf_close(struct tp_bpf *b);

/* Detach every program (they stop producing); maps and the ring buffer stay
 * until tp_bpf_close. Idempotent. */
void tp_bpf_detach(struct tp_bpf *b);

/* Stop every program from recording, at once, attached as they are (the
 * kernel's detach is slow: tp_bpf_close leaves it to a child that outlives
 * the agent). Returns 0 or -errno. */
int tp_bpf_pause(struct tp_bpf *b);

int tp_bpf_ring_fd(const struct tp_bpf *b);
uint64_t tp_bpf_ring_bytes(const struct tp_bpf *b);

/* Sum the kernel's per-CPU drop counters into drops[TP_DROP_SLOTS]. */
int tp_bpf_read_drops(const struct tp_bpf *b, uint64_t *drops);

/* Change the in-kernel filters while running (0 or -errno with err). */
int tp_bpf_set_filter(struct tp_bpf *b, const struct tp_kfilter *kf, char *err, size_t errlen);

/* What the kernel side did with events: out[TP_KSTAT_SLOTS], see enum tp_kstat. */
int tp_bpf_read_kstats(const struct tp_bpf *b, uint64_t *out);

/* The programs of every family that was opened, with their status. */
const struct tp_prog_info *tp_bpf_programs(const struct tp_bpf *b, size_t *n);
/* Programs with status TP_PROG_ATTACHED (not links: a perf-event program
 * has one per CPU), as tapio_bpf_programs{status="attached"} counts them. */
size_t tp_bpf_attached_count(const struct tp_bpf *b);

/* Set a `const volatile` global of obj by name before load. Returns 0,
 * -ENOENT if obj has no such variable, -EINVAL on a size mismatch. */
int tp_bpf_set_rodata(struct bpf_object *obj, const char *name, const void *val, size_t size);

/* The families compiled in: name and category. */
struct tp_bpf_family_info {
	const char *name;
	unsigned category;
};
const struct tp_bpf_family_info *tp_bpf_family_at(size_t i);

#endif
