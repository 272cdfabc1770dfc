/*
 * pbwire.h - the few pieces of the protocol buffers wire format that the
 * delivery path writes and walks by hand.
 *
 * A batch is stored as its header fields followed by its events, each
 * already encoded and framed as a length-delimited field (tag, length,
 * bytes). A repeated message field is just such items one after another,
 * so batches are assembled, trimmed and spooled without decoding events.
 */
#ifndef TAPIO_DELIVERY_PBWIRE_H
#define TAPIO_DELIVERY_PBWIRE_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define TP_PB_WIRE_VARINT 0
#define TP_PB_WIRE_LEN 2
#define TP_PB_VARINT_MAX 10

static inline size_t tp_pb_varint_size(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/* Write v at p (room for TP_PB_VARINT_MAX bytes); returns bytes written. */
static inline size_t tp_pb_varint_write(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

void tp_pb_put_varint(struct tp_buf *b, uint64_t v);
/* Tag and length of a length-delimited field whose len bytes follow. */
void tp_pb_put_len_prefix(struct tp_buf *b, uint32_t field, size_t len);
/* A whole length-delimited field: tag, length, bytes. */
void tp_pb_put_bytes(struct tp_buf *b, uint32_t field, const void *p, size_t len);
void tp_pb_put_uint(struct tp_buf *b, uint32_t field, uint64_t v);

/* Read a varint at p[*off] (end at len). Returns 0 or -EBADMSG. */
int tp_pb_varint_read(const uint8_t *p, size_t len, size_t *off, uint64_t *v);

/* Walk framed items: the item at *off (a length-delimited field) spans
 * [*off, *off + *item_len). Returns 0, 1 at the end, -EBADMSG if the bytes
 * are not a sequence of length-delimited fields. Advance *off by *item_len. */
int tp_pb_item(const uint8_t *p, size_t len, size_t off, size_t *item_len);

#endif
