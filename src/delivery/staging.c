#include "delivery/staging.h"

#include <errno.h>
#include <string.h>

void tp_staged_init(struct tp_staged *st)
{
	memset(st, 0, sizeof(*st));
	tp_buf_init(&st->items);
	tp_buf_init(&st->ranks);
}

void tp_staged_free(struct tp_staged *st)
{
	tp_buf_free(&st->items);
	tp_buf_free(&st->ranks);
	st->n = 0;
}

void tp_staging_init(struct tp_staging *s, uint64_t cap_bytes)
{
	pthread_mutex_init(&s->mu, NULL);
	tp_staged_init(&s->cur);
	s->cap_bytes = cap_bytes;
	atomic_init(&s->bytes, 0);
	atomic_init(&s->count, 0);
}

void tp_staging_destroy(struct tp_staging *s)
{
	tp_staged_free(&s->cur);
	pthread_mutex_destroy(&s->mu);
}

int tp_staging_push(struct tp_staging *s, const void *item, size_t len, uint8_t rank,
		    uint64_t now_ns)
{
	int r = 0;

	pthread_mutex_lock(&s->mu);
	if (s->cur.items.len + len > s->cap_bytes) {
		r = -ENOBUFS;
	} else if (!tp_buf_reserve(&s->cur.items, len) || !tp_buf_reserve(&s->cur.ranks, 1)) {
		s->cur.items.failed = s->cur.ranks.failed = false;
		r = -ENOMEM;
	} else {
		tp_buf_append(&s->cur.items, item, len);
		tp_buf_putc(&s->cur.ranks, (char)rank);
		if (!s->cur.n++)
			s->cur.first_ns = now_ns;
		atomic_store_explicit(&s->bytes, s->cur.items.len, memory_order_relaxed);
		atomic_store_explicit(&s->count, s->cur.n, memory_order_relaxed);
	}
	pthread_mutex_unlock(&s->mu);
	return r;
}

void tp_staging_take(struct tp_staging *s, struct tp_staged *out)
{
	struct tp_staged tmp;

	tp_buf_reset(&out->items);
	tp_buf_reset(&out->ranks);
	out->n = 0;
	pthread_mutex_lock(&s->mu);
	tmp = s->cur;
	s->cur = *out;
	atomic_store_explicit(&s->bytes, 0, memory_order_relaxed);
	atomic_store_explicit(&s->count, 0, memory_order_relaxed);
	pthread_mutex_unlock(&s->mu);
	*out = tmp;
}

uint64_t tp_staging_bytes(struct tp_staging *s)
{
	return atomic_load_explicit(&s->bytes, memory_order_relaxed);
}

uint64_t tp_staging_count(struct tp_staging *s)
{
	return atomic_load_explicit(&s->count, memory_order_relaxed);
}
