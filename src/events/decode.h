/*
 * events/decode.h - turn one record from an untrusted source (the ring buffer, a
 * stored segment) into a struct tp_event.
 *
 * The decoder never reads past len. It rejects records shorter than the
 * header, whose header size disagrees with len, of an unknown type, shorter
 * than their type's fixed part or longer than its struct, and those whose
 * inner counts (argv length) point past their buffer. Strings are forced
 * NUL-terminated inside the copy, so later stages can trust them.
 */
#ifndef TAPIO_DECODE_H
#define TAPIO_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "events/event.h"

enum tp_decode_error {
	TP_DECODE_SHORT = 1,     /* shorter than a header or than its type */
	TP_DECODE_OVERSIZED,     /* longer than its type or TP_RECORD_MAX */
	TP_DECODE_SIZE_MISMATCH, /* header size != record length */
	TP_DECODE_UNKNOWN_TYPE,
	TP_DECODE_BAD_FIELD,     /* an inner count or value is out of range */
	TP_DECODE_NERRORS,
};

/*
 * Decode len bytes at data into ev. ts_offset_ns is added to the header's
 * CLOCK_BOOTTIME timestamp to give wall-clock time. Returns 0, or
 * -enum tp_decode_error.
 */
int tp_decode(const void *data, size_t len, int64_t ts_offset_ns, struct tp_event *ev);

const char *tp_decode_strerror(int err);

#endif
