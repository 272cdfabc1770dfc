/*
 * source_bpf.h - the live event source: BPF programs and their ring buffer.
 */
#ifndef TAPIO_BPF_SOURCE_BPF_H
#define TAPIO_BPF_SOURCE_BPF_H

#include <stddef.h>

#include "bpf/loader.h"
#include "pipeline/source.h"

/* Load and attach the probes and open the ring buffer. On failure err holds
 * a sentence for the user. */
int tp_source_bpf_open(struct tp_source **out, const struct tp_bpf_opts *opts, char *err,
		       size_t errlen);

/* The loader behind a live source (program list, drop counters). */
struct tp_bpf *tp_source_bpf_loader(struct tp_source *src);

#endif
