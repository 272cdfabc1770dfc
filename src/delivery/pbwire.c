#include "delivery/pbwire.h"

#include <errno.h>

void tp_pb_put_varint(struct tp_buf *b, uint64_t v)
{
	uint8_t tmp[TP_PB_VARINT_MAX];

	tp_buf_append(b, tmp, tp_pb_varint_write(tmp, v));
}

void tp_pb_put_len_prefix(struct tp_buf *b, uint32_t field, size_t len)
{
	tp_pb_put_varint(b, ((uint64_t)field << 3) | TP_PB_WIRE_LEN);
	tp_pb_put_varint(b, len);
}

void tp_pb_put_bytes(struct tp_buf *b, uint32_t field, const void *p, size_t len)
{
	tp_pb_put_len_prefix(b, field, len);
	tp_buf_append(b, p, len);
}

void tp_pb_put_uint(struct tp_buf *b, uint32_t field, uint64_t v)
{
	tp_pb_put_varint(b, ((uint64_t)field << 3) | TP_PB_WIRE_VARINT);
	tp_pb_put_varint(b, v);
}

int tp_pb_varint_read(const uint8_t *p, size_t len, size_t *off, uint64_t *v)
{
	uint64_t r = 0;

	for (unsigned shift = 0; shift < 64; shift += 7) {
		uint8_t c;

		if (*off >= len)
			return -EBADMSG;
		c = p[(*off)++];
		r |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*v = r;
			return 0;
		}
	}
	return -EBADMSG;
}

int tp_pb_item(const uint8_t *p, size_t len, size_t off, size_t *item_len)
{
	size_t o = off;
	uint64_t tag, n;

	if (off >= len)
		return 1;
	if (tp_pb_varint_read(p, len, &o, &tag) < 0 || (tag & 7) != TP_PB_WIRE_LEN ||
	    tp_pb_varint_read(p, len, &o, &n) < 0 || n > len - o)
		return -EBADMSG;
	*item_len = o - off + (size_t)n;
	return 0;
}
