#include "delivery/batch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "delivery/pbwire.h"

struct tp_batch *tp_batch_new(uint64_t seq, const uint8_t *ranks, uint32_t nevents,
			      const void *hdr, uint32_t hdr_len, const void *body, uint32_t body_len)
{
	struct tp_batch *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->seq = seq;
	b->nevents = nevents;
	b->hdr_len = hdr_len;
	b->body_len = body_len;
	b->blob = malloc(tp_batch_blob_len(b) ? tp_batch_blob_len(b) : 1);
	if (!b->blob) {
		free(b);
		return NULL;
	}
	memcpy(tp_batch_ranks(b), ranks, nevents);
	memcpy(tp_batch_hdr(b), hdr, hdr_len);
	memcpy(tp_batch_body(b), body, body_len);
	tp_batch_count_ranks(b);
	return b;
}

void tp_batch_free(struct tp_batch *b)
{
	if (!b)
		return;
	free(b->blob);
	free(b);
}

void tp_batch_count_ranks(struct tp_batch *b)
{
	memset(b->rank_count, 0, sizeof(b->rank_count));
	for (uint32_t i = 0; i < b->nevents; i++)
		b->rank_count[tp_batch_ranks(b)[i] % TP_RANKS]++;
}

int tp_batch_drop_ranks(struct tp_batch *b, uint8_t max_rank)
{
	uint8_t *ranks = tp_batch_ranks(b), *body = tp_batch_body(b);
	size_t off = 0, out = 0, item;
	uint32_t kept = 0, i = 0;
	int r;

	/* Check the framing first so a bad body is left as it was. */
	while ((r = tp_pb_item(body, b->body_len, off, &item)) == 0) {
		off += item;
		i++;
	}
	if (r < 0 || i != b->nevents)
		return -EBADMSG;
	off = 0;
	i = 0;
	/* Compact events in place, then move the header and body down over
	 * the ranks that were dropped. */
	while ((r = tp_pb_item(body, b->body_len, off, &item)) == 0) {
		if (ranks[i] > max_rank) {
			memmove(body + out, body + off, item);
			out += item;
			ranks[kept++] = ranks[i];
		}
		off += item;
		i++;
	}
	memmove(b->blob + kept, tp_batch_hdr(b), b->hdr_len + out);
	r = (int)(b->nevents - kept);
	b->nevents = kept;
	b->body_len = (uint32_t)out;
	tp_batch_count_ranks(b);
	return r;
}
