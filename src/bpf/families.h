/*
 * families.h - the probe families compiled in, each a BPF skeleton.
 *
 * The loader only needs to open and destroy a skeleton; everything else it
 * does on the skeleton's bpf_object.
 */
#ifndef TAPIO_BPF_FAMILIES_H
#define TAPIO_BPF_FAMILIES_H

#include <stdbool.h>

struct bpf_object;

struct tp_bpf_family {
	const char *name;
	unsigned category;
	/* Open the skeleton, the one with typed loads (kfuncs: bpf_rdonly_cast,
	 * 6.2+) or the one without (bpf/common.bpf.h); returns it and its
	 * object, or NULL (errno set). destroy takes the same typed. */
	void *(*open)(struct bpf_object **obj, bool typed);
	void (*destroy)(void *skel, bool typed);
	/* Its programs are many and slow to verify: the loader loads it in
	 * shards on several threads when they share no state (loader.c). */
	bool shard;
};

extern const struct tp_bpf_family tp_bpf_families[];
extern const unsigned tp_bpf_nfamilies;

#endif
