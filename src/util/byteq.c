#include "util/byteq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define WRAP_MARK UINT32_MAX
#define MSG_HDR	  8 /* u32 length, u32 unused: keeps payloads 8-aligned */

static inline size_t align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

int tp_byteq_init(struct tp_byteq *q, size_t cap)
{
	memset(q, 0, sizeof(*q));
	cap = align8(cap);
	if (cap < 64)
		return -EINVAL;
	q->buf = aligned_alloc(64, (cap + 63) & ~(size_t)63);
	if (!q->buf)
		return -ENOMEM;
	/* Fault every page in now: the producer must not take page faults on
	 * its first pass round the ring (the pages stay resident anyway once
	 * the ring has wrapped). */
	memset(q->buf, 0, cap);
	q->cap = cap;
	return 0;
}

void tp_byteq_free(struct tp_byteq *q)
{
	free(q->buf);
	q->buf = NULL;
}

void *tp_byteq_reserve(struct tp_byteq *q, size_t n)
{
	uint64_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
	size_t off = head % q->cap, need = MSG_HDR + align8(n), total = need;
	uint32_t len32 = (uint32_t)n;

	if (n > tp_byteq_max_msg(q))
		return NULL;
	if (q->cap - off < need)
		total += q->cap - off; /* skip the end of the buffer */
	if (q->cap - (head - q->cached_tail) < total) {
		q->cached_tail = atomic_load_explicit(&q->tail, memory_order_acquire);
		if (q->cap - (head - q->cached_tail) < total)
			return NULL;
	}
	if (total != need) {
		uint32_t mark = WRAP_MARK;

		memcpy(q->buf + off, &mark, 4);
		off = 0;
	}
	memcpy(q->buf + off, &len32, 4);
	q->reserved_msg = head + total - need;
	q->reserved_head = head + total;
	return q->buf + off + MSG_HDR;
}

void tp_byteq_commit(struct tp_byteq *q)
{
	atomic_store_explicit(&q->head, q->reserved_head, memory_order_release);
}

void tp_byteq_commit_len(struct tp_byteq *q, size_t n)
{
	uint32_t len32 = (uint32_t)n;

	memcpy(q->buf + q->reserved_msg % q->cap, &len32, 4);
	q->reserved_head = q->reserved_msg + MSG_HDR + align8(n);
	atomic_store_explicit(&q->head, q->reserved_head, memory_order_release);
}

const void *tp_byteq_peek(struct tp_byteq *q, size_t *n)
{
	uint64_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
	size_t off = tail % q->cap;
	uint32_t len;

	if (q->cached_head == tail) {
		q->cached_head = atomic_load_explicit(&q->head, memory_order_acquire);
		if (q->cached_head == tail)
			return NULL;
	}
	memcpy(&len, q->buf + off, 4);
	if (len == WRAP_MARK) {
		tail += q->cap - off;
		off = 0;
		memcpy(&len, q->buf, 4);
	}
	q->next_tail = tail + MSG_HDR + align8(len);
	*n = len;
	return q->buf + off + MSG_HDR;
}

void tp_byteq_release(struct tp_byteq *q)
{
	atomic_store_explicit(&q->tail, q->next_tail, memory_order_release);
}

size_t tp_byteq_used(struct tp_byteq *q)
{
	uint64_t tail = atomic_load_explicit(&q->tail, memory_order_acquire);
	uint64_t head = atomic_load_explicit(&q->head, memory_order_acquire);

	return head >= tail ? (size_t)(head - tail) : 0;
}
