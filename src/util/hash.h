/*
 * util/hash.h - FNV-1a, 64 bits: the fingerprints of rule sets, state
 * declarations, watched files and aggregation keys (not for anything an
 * adversary can choose to collide where that matters).
 */
#ifndef TAPIO_UTIL_HASH_H
#define TAPIO_UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>

#define TP_FNV1A_INIT 14695981039346656037ull

/* h folded with the n bytes at p; start from TP_FNV1A_INIT. */
static inline uint64_t tp_fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++) {
		h ^= c[i];
		h *= 1099511628211ull;
	}
	return h;
}

#endif
