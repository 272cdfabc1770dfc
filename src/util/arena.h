/*
 * arena.h - a bump allocator for short-lived objects built per event (the
 * protobuf structs and sanitized strings of one encoding), reset after
 * each use. Chunks are kept between uses, so steady operation allocates
 * nothing; pointers stay valid until the next reset.
 */
#ifndef TAPIO_UTIL_ARENA_H
#define TAPIO_UTIL_ARENA_H

#include <stddef.h>

struct tp_arena_chunk;

struct tp_arena {
	struct tp_arena_chunk *head; /* chunk being filled */
	struct tp_arena_chunk *spare;
};

void tp_arena_init(struct tp_arena *a);
void tp_arena_free(struct tp_arena *a);
void tp_arena_reset(struct tp_arena *a);
/* size bytes aligned for any object, zeroed; NULL when out of memory. */
void *tp_arena_alloc(struct tp_arena *a, size_t size);
/* A NUL-terminated, valid UTF-8 copy of s[0..n): each byte that is not part
 * of a valid sequence becomes the code point of the same value (as the JSON
 * formatter's \u00XX), and a NUL ends the string. Returns s itself when it
 * already qualifies (s[n] == '\0', valid, no NUL inside); s[n] must be readable. */
const char *tp_arena_utf8(struct tp_arena *a, const char *s, size_t n);
/* The same, always a copy in the arena (for s that does not outlive the
 * caller, such as a stack buffer). */
const char *tp_arena_utf8_copy(struct tp_arena *a, const char *s, size_t n);

#endif
