/*
 * perf_attach.h - programs that run on perf events (SEC("perf_event")).
 *
 * libbpf cannot attach them from their section name, which does not say
 * which event: each such program has a spec (families.c) naming a perf
 * event and the loader option that holds its sample period. The program
 * is attached to that event on every CPU; the kernel counts the events and
 * runs the program on every Nth one, so events left out cost no BPF.
 */
#ifndef TAPIO_BPF_PERF_ATTACH_H
#define TAPIO_BPF_PERF_ATTACH_H

#include <stddef.h>
#include <stdint.h>

struct bpf_link;
struct bpf_program;

struct tp_bpf_perf_spec {
	const char *prog;     /* program name */
	uint32_t type;	      /* PERF_TYPE_* */
	uint64_t config;      /* PERF_COUNT_* */
	size_t period_offset; /* of a uint64_t in struct tp_bpf_opts; 0 there: off */
};

/* The spec of a perf_event program, or NULL (families.c). */
const struct tp_bpf_perf_spec *tp_bpf_perf_spec(const char *prog);

/*
 * Open spec's event on every online CPU (user-mode events only) with the
 * given period and attach prog to each. Calls add(ctx, link) for every link;
 * returns the number attached (> 0), or -errno with reason filled.
 */
int tp_perf_attach(struct bpf_program *prog, const struct tp_bpf_perf_spec *spec, uint64_t period,
		   int (*add)(void *ctx, struct bpf_link *link), void *ctx, char *reason,
		   size_t len);

#endif
