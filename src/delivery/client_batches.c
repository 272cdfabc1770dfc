/*
 * Sealing: staged events move into the open set, which is cut into batches
 * by event count and bytes (or at the flush interval) and handed to the store.
 */
#include <string.h>

#include "delivery/client_internal.h"
#include "delivery/pbwire.h"

static uint32_t batch_max_events(const struct tp_client *c)
{
	uint32_t n = c->o.batch_max_events;

	if (c->server_max_events && c->server_max_events < n)
		n = c->server_max_events;
	return n ? n : 1;
}

/* Seal events from the open set into batches: full ones always, the rest
 * too when all is set. */
void tp_client_seal(struct tp_client *c, bool all)
{
	struct tp_staged *o = &c->open;
	const uint8_t *items = (const uint8_t *)o->items.data;
	const uint8_t *ranks = (const uint8_t *)o->ranks.data;
	size_t off = 0, ev = 0, max_ev = batch_max_events(c);

	while (ev < o->n) {
		size_t start = off, k = 0, item;

		while (ev + k < o->n && k < max_ev &&
		       tp_pb_item(items, o->items.len, off, &item) == 0 &&
		       (k == 0 || off + item - start <= c->o.batch_max_bytes)) {
			off += item;
			k++;
		}
		if (k == 0)
			break; /* cannot happen: items are framed by our encoders */
		if (!all && k < max_ev && off - start < c->o.batch_max_bytes && ev + k == o->n) {
			off = start; /* a partial batch waits for more or the flush interval */
			break;
		}
		{
			struct tp_batch *b;
			uint64_t seq = c->next_seq;

			tp_buf_reset(&c->hdr);
			if (c->t->batch_header(c->t->ctx, seq, &c->hdr) < 0 || tp_buf_failed(&c->hdr) ||
			    !(b = tp_batch_new(seq, ranks + ev, (uint32_t)k, c->hdr.data,
					       (uint32_t)c->hdr.len, items + start,
					       (uint32_t)(off - start)))) {
				tp_metric_add(&c->m.dropped[DROP_ENCODE], k);
			} else {
				c->next_seq++;
				tp_store_add(&c->store, b);
			}
		}
		ev += k;
	}
	if (ev == 0)
		return;
	/* Keep the rest (one partial batch at most) at the front. */
	memmove(o->items.data, o->items.data + off, o->items.len - off);
	o->items.len -= off;
	memmove(o->ranks.data, o->ranks.data + ev, o->n - ev);
	o->ranks.len -= ev;
	o->n -= (uint32_t)ev;
}

/* Move what the reader staged into the open set. */
void tp_client_take_staged(struct tp_client *c, uint64_t now)
{
	struct tp_staged *o = &c->open, *t = &c->take;

	tp_staging_take(&c->staging, t);
	if (!t->n)
		return;
	if (!o->n) {
		struct tp_staged tmp = *o;

		*o = *t;
		*t = tmp;
		c->open_first_ns = o->first_ns ? o->first_ns : now;
		return;
	}
	tp_buf_append(&o->items, t->items.data, t->items.len);
	tp_buf_append(&o->ranks, t->ranks.data, t->ranks.len);
	if (tp_buf_failed(&o->items) || tp_buf_failed(&o->ranks)) {
		/* Out of memory: what was taken is lost, counted. */
		tp_metric_add(&c->m.dropped[DROP_ENCODE], t->n);
		o->items.len -= o->items.failed ? 0 : t->items.len;
		o->ranks.len -= o->ranks.failed ? 0 : t->ranks.len;
		o->items.failed = o->ranks.failed = false;
		return;
	}
	o->n += t->n;
}
