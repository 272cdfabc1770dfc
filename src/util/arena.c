#include "util/arena.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

#define ARENA_CHUNK (32 * 1024)

struct tp_arena_chunk {
	struct tp_arena_chunk *next;
	size_t used, cap;
	_Alignas(16) unsigned char data[];
};

void tp_arena_init(struct tp_arena *a)
{
	a->head = a->spare = NULL;
}

static void free_list(struct tp_arena_chunk *c)
{
	while (c) {
		struct tp_arena_chunk *next = c->next;

		free(c);
		c = next;
	}
}

void tp_arena_free(struct tp_arena *a)
{
	free_list(a->head);
	free_list(a->spare);
	a->head = a->spare = NULL;
}

void tp_arena_reset(struct tp_arena *a)
{
	while (a->head) {
		struct tp_arena_chunk *c = a->head;

		a->head = c->next;
		if (c->cap == ARENA_CHUNK) {
			c->used = 0;
			c->next = a->spare;
			a->spare = c;
		} else {
			free(c); /* an oversized one-off */
		}
	}
}

void *tp_arena_alloc(struct tp_arena *a, size_t size)
{
	struct tp_arena_chunk *c = a->head;
	void *p;

	size = (size + 15) & ~(size_t)15;
	if (!c || c->cap - c->used < size) {
		if (size <= ARENA_CHUNK && a->spare) {
			c = a->spare;
			a->spare = c->next;
		} else {
			size_t cap = size > ARENA_CHUNK ? size : ARENA_CHUNK;

			c = malloc(sizeof(*c) + cap);
			if (!c)
				return NULL;
			c->cap = cap;
		}
		c->used = 0;
		c->next = a->head;
		a->head = c;
	}
	p = c->data + c->used;
	c->used += size;
	memset(p, 0, size);
	return p;
}

static const char *utf8(struct tp_arena *a, const char *str, size_t n, bool copy)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, o = 0, l = 0;
	char *out;

	while (!copy && i < n && s[i] && (s[i] < 0x80 || (l = tp_utf8_seq_len(s + i, n - i)) > 0))
		i += s[i] < 0x80 ? 1 : l;
	if (!copy && i == n && s[n] == '\0')
		return str;
	out = tp_arena_alloc(a, 2 * n + 1);
	if (!out)
		return NULL;
	for (i = 0; i < n && s[i]; ) {
		if (s[i] < 0x80) {
			out[o++] = (char)s[i++];
		} else if ((l = tp_utf8_seq_len(s + i, n - i)) > 0) {
			memcpy(out + o, s + i, l);
			o += l;
			i += l;
		} else {
			out[o++] = (char)(0xc0 | (s[i] >> 6));
			out[o++] = (char)(0x80 | (s[i] & 0x3f));
			i++;
		}
	}
	out[o] = '\0';
	return out;
}

const char *tp_arena_utf8(struct tp_arena *a, const char *s, size_t n)
{
	return utf8(a, s, n, false);
}

const char *tp_arena_utf8_copy(struct tp_arena *a, const char *s, size_t n)
{
	return utf8(a, s, n, true);
}
