/*
 * util/hash.h - FNV-1a, 64 bits: the fingerprints of rule sets, state
 * declarations, watched files and aggregation keys; and a hash of a
 * string's ends for in-process caches and indexes (neither for anything
 * an adversary can choose to collide where that matters).
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

/* A hash of a string's length and its first and last 8 bytes: O(1) for a
 * long path, for caches and indexes that compare the whole string after
 * (its high bits are the best mixed). */
static inline uint64_t tp_hash_ends(const char *s, size_t n)
{
	uint64_t a = 0, b = 0;

	if (n >= 8) {
		__builtin_memcpy(&a, s, 8);
		__builtin_memcpy(&b, s + n - 8, 8);
	} else {
		__builtin_memcpy(&a, s, n);
	}
	return (a ^ (b * 0x9e3779b97f4a7c15ull) ^ n) * 0xff51afd7ed558ccdull;
}

#endif
