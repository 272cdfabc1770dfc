/*
 * kfilter.h - in-kernel filtering and sampling, set from user space.
 *
 * Every family meets the same filters before it spends anything on an
 * event (bpf/common.bpf.h: tp_admit): the agent's own pid, failed syscalls
 * of categories that drop them, excluded task names, 1-in-N sampling per
 * category; file events also meet the path-prefix exclude list. Subtype
 * settings live here too: the bpf(2) commands and io_uring operations
 * reported, and the environment variables an exec reports. The
 * settings live in maps shared by every family, so they can change while
 * the agent runs (tp_kfilter_apply), and what each filter dropped is
 * counted per category in a per-CPU map (enum tp_kstat).
 */
#ifndef TAPIO_BPF_KFILTER_H
#define TAPIO_BPF_KFILTER_H

#include <stddef.h>
#include <stdint.h>

#include "events.h"

struct bpf_object;

struct tp_kfilter {
	uint32_t sample_rate[TP_CAT_MAX]; /* keep 1 in N per category; 0 or 1 keeps all */
	uint32_t drop_failed;		  /* bit (1 << category): drop failed syscalls */
	uint64_t bpf_cmd_mask;		  /* bit (1 << cmd): bpf(2) commands reported */
	uint64_t io_uring_op_mask;	  /* bit (1 << IORING_OP_*): io_uring ops reported */
	const char *const *exclude_comms; /* task names (at most 15 characters) */
	unsigned nexclude_comms;
	const char *const *exclude_paths; /* absolute prefixes (at most 127 bytes) */
	unsigned nexclude_paths;
	const char (*env_names)[TP_ENV_NAME_MAX]; /* process.exec environment allow-list */
	unsigned nenv_names;
};

struct tp_kfilter_maps {
	int kstats_fd;
	int settings_fd;
	int sample_fd;
	int comm_fd;
	int path_fd;
	int env_names_fd;
	int env_prefix_fd;
};

/* Is name a valid allow-list entry (1 to TP_ENV_NAME_MAX - 1 characters of
 * letters, digits and '_')? */
int tp_kfilter_env_name_ok(const char *name);

/* Check a filter without applying it: 0, or -EINVAL with the reason. */
int tp_kfilter_validate(const struct tp_kfilter *kf, char *err, size_t errlen);

int tp_kfilter_maps_create(struct tp_kfilter_maps *m, char *err, size_t errlen);
void tp_kfilter_maps_close(struct tp_kfilter_maps *m);

/* Make obj use the shared filter maps (before load). */
int tp_kfilter_reuse(const struct tp_kfilter_maps *m, struct bpf_object *obj);

/* Write the settings and rebuild the exclude lists. Events keep flowing:
 * while the lists are rebuilt they are switched off, so a change can let
 * a few excluded events through, never drop wanted ones. */
int tp_kfilter_apply(const struct tp_kfilter_maps *m, const struct tp_kfilter *kf, char *err,
		     size_t errlen);

/* Sum the per-CPU counters into out[TP_KSTAT_SLOTS]
 * (slot = category * TP_KSTAT_N + enum tp_kstat). */
/* Stop every program from recording (TP_SET_PAUSED): the agent is
 * stopping. Until tp_kfilter_apply. Returns 0 or -errno. */
int tp_kfilter_pause(const struct tp_kfilter_maps *m);

int tp_kfilter_read_stats(const struct tp_kfilter_maps *m, uint64_t *out);

/* "comm", "path", ... for enum tp_kstat. */
const char *tp_kstat_name(unsigned reason);

#endif
