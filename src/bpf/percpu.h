/*
 * percpu.h - read a per-CPU array of u64 counters, summed over the CPUs.
 */
#ifndef TAPIO_BPF_PERCPU_H
#define TAPIO_BPF_PERCPU_H

#include <stdint.h>

/* out[k] = the sum over every possible CPU of entry k, for k < nkeys; an
 * entry that cannot be read is 0. Returns 0 or -errno. */
int tp_percpu_sum(int map_fd, uint32_t nkeys, uint64_t *out);

#endif
