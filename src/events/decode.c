#include "events/decode.h"

#include <string.h>

_Static_assert(sizeof(struct tp_hdr) == 72, "tp_hdr layout is shared with BPF");
_Static_assert(sizeof(struct tp_exec_event) == 72 + 16 + TP_PATH_MAX + TP_ARGV_MAX + 32 +
							TP_TTY_NAME_MAX + TP_COMM_LEN + TP_ENV_MAX + 16,
	       "tp_exec_event layout is shared with BPF");
_Static_assert(sizeof(struct tp_fork_event) == 80, "tp_fork_event layout is shared with BPF");
_Static_assert(sizeof(struct tp_exit_event) == 96, "tp_exit_event layout is shared with BPF");

int tp_decode(const void *data, size_t len, int64_t ts_offset_ns, struct tp_event *ev)
{
	const struct tp_event_type *t;
	const uint8_t *checked;
	uint32_t nchecked;
	struct tp_hdr hdr;

	if (len < sizeof(hdr))
		return -TP_DECODE_SHORT;
	if (len > TP_RECORD_MAX)
		return -TP_DECODE_OVERSIZED;
	memcpy(&hdr, data, sizeof(hdr));
	if (hdr.size != len)
		return -TP_DECODE_SIZE_MISMATCH;
	t = tp_event_type_by_id(hdr.type);
	if (!t)
		return -TP_DECODE_UNKNOWN_TYPE;
	if (len < t->min_size)
		return -TP_DECODE_SHORT;
	if (len > t->size)
		return -TP_DECODE_OVERSIZED;

	memcpy(ev->rec.bytes, data, len);
	ev->len = (uint32_t)len;
	ev->type = t;
	ev->ts_wall_ns = hdr.ts_ns + (uint64_t)ts_offset_ns;
	ev->rec.hdr.comm[TP_COMM_LEN - 1] = '\0';

	checked = tp_event_type_checked_fields(hdr.type, &nchecked);
	for (uint32_t i = 0; i < nchecked; i++) {
		const struct tp_field *f = &t->fields[checked[i]];
		uint32_t n;

		if (f->kind == TP_FK_STR) {
			if (f->offset >= len)
				continue;
			/* Terminate at the field's end or the record's, whichever comes first. */
			uint32_t end = f->offset + f->size <= len ? f->offset + f->size : (uint32_t)len;

			if (!memchr(ev->rec.bytes + f->offset, '\0', end - f->offset)) {
				if (end == f->offset)
					continue;
				ev->rec.bytes[end - 1] = '\0';
			}
		} else if (f->kind == TP_FK_ARGV || f->kind == TP_FK_ENV) {
			if ((uint32_t)f->aux + 4 > len)
				continue;
			memcpy(&n, ev->rec.bytes + f->aux, 4);
			if (n > f->size)
				return -TP_DECODE_BAD_FIELD;
		}
	}
	if (t->validate && t->validate(ev->rec.bytes, ev->len) < 0)
		return -TP_DECODE_BAD_FIELD;
	return 0;
}

const char *tp_decode_strerror(int err)
{
	switch (-err) {
	case TP_DECODE_SHORT: return "record too short";
	case TP_DECODE_OVERSIZED: return "record too long";
	case TP_DECODE_SIZE_MISMATCH: return "header size does not match record length";
	case TP_DECODE_UNKNOWN_TYPE: return "unknown event type";
	case TP_DECODE_BAD_FIELD: return "field out of range";
	case 0: return "ok";
	default: return "unknown decode error";
	}
}
