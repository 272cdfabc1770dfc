/*
 * byteq.h - a bounded queue of variable-size messages between exactly one
 * producer thread and one consumer thread, without locks.
 *
 * The producer reserves room for a message, fills it and commits; when the
 * queue is full reserve fails at once (the caller counts a drop), so the
 * producer never waits. The consumer peeks at the oldest message and
 * releases it when done. Messages are 8-byte aligned and at most
 * tp_byteq_max_msg bytes.
 */
#ifndef TAPIO_UTIL_BYTEQ_H
#define TAPIO_UTIL_BYTEQ_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct tp_byteq {
	uint8_t *buf;
	size_t cap; /* a multiple of 8 */
	/* Positions count bytes since the start, wrap markers included. */
	_Alignas(64) _Atomic uint64_t head; /* written by the producer */
	uint64_t reserved_head;		    /* producer: head after the pending message */
	uint64_t reserved_msg;		    /* producer: where the pending message starts */
	uint64_t cached_tail;		    /* producer's view of tail */
	_Alignas(64) _Atomic uint64_t tail; /* written by the consumer */
	uint64_t next_tail;		    /* consumer: tail after the peeked message */
	uint64_t cached_head;		    /* consumer's view of head */
};

/* cap bytes of room (rounded up to a multiple of 8). Returns 0 or -ENOMEM/-EINVAL. */
int tp_byteq_init(struct tp_byteq *q, size_t cap);
void tp_byteq_free(struct tp_byteq *q);

/* The largest message that always fits once the queue drains. */
static inline size_t tp_byteq_max_msg(const struct tp_byteq *q)
{
	return q->cap / 2 - 8;
}

/* Producer: room for n bytes, or NULL when the queue is full. */
void *tp_byteq_reserve(struct tp_byteq *q, size_t n);
/* Producer: publish the message last reserved. */
void tp_byteq_commit(struct tp_byteq *q);
/* Producer: publish only the first n bytes of the message last reserved
 * (n at most what was reserved); the rest of its room is not used. */
void tp_byteq_commit_len(struct tp_byteq *q, size_t n);

/* Consumer: the oldest message and its length, or NULL when empty. */
const void *tp_byteq_peek(struct tp_byteq *q, size_t *n);
/* Consumer: done with the message last peeked. */
void tp_byteq_release(struct tp_byteq *q);

/* Bytes in use (approximate from any thread). */
size_t tp_byteq_used(struct tp_byteq *q);

#endif
