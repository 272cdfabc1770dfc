/*
 * raw_format.h - the on-disk layout of raw event segments, and the codec of
 * one record.
 *
 * A segment file (DIR/raw-<seq>.seg) is a segment header followed by
 * frames. A frame is a frame header and one kernel record exactly as
 * bpf/events.h lays it out, with its runs of zero bytes coded compactly.
 * The format does not know event types: a type added to events.h is stored
 * and read back with no change here, and the reader decodes it with the
 * same tp_decode as the live path. Integers are in the writer's byte order,
 * which the segment header records, with the size of the common record
 * header (struct tp_hdr): records stay readable as long as the layouts in
 * bpf/events.h only grow by new types (or by fields past a type's min_size),
 * and a reader refuses, with a reason, segments whose tp_hdr differs.
 *
 * A segment ends with an end frame when its writer closed it; a segment
 * without one was cut short (crash, kill -9, power cut) and its last frame
 * may be torn. Every frame carries a CRC-32C of its header and payload, so
 * a reader stops at the first frame that is not exactly what was written.
 *
 * Retention reuses the oldest segment's file for the next segment instead
 * of deleting it (no file is created or deleted per segment), so a file
 * may hold, past its current segment's last frame, intact frames of the
 * segment it held before. Each frame's CRC is therefore continued from its
 * segment's frame_seed (the low 32 bits of its sequence number): a frame
 * of an earlier segment of the same file never verifies in the new one,
 * and the RECYCLED flag tells a reader that bytes which do not verify
 * after the last intact frame are such leftovers, not damage. Version 1
 * segments (seed 0, no flags) read as before.
 */
#ifndef TAPIO_STORAGE_RAW_FORMAT_H
#define TAPIO_STORAGE_RAW_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "events/event.h"

#define TP_RAW_MAGIC	   "TPRAWSEG"
#define TP_RAW_VERSION	   2
#define TP_RAW_VERSION_MIN 1 /* the oldest version this reader reads */
#define TP_RAW_BYTE_ORDER  0x01020304u
#define TP_RAW_SEG_PREFIX  "raw-"
#define TP_RAW_SEG_SUFFIX  ".seg"
#define TP_RAW_LOCK_NAME   "LOCK"

struct tp_raw_seg_hdr {
	char magic[8];		  /* TP_RAW_MAGIC, not NUL-terminated */
	uint32_t byte_order;	  /* TP_RAW_BYTE_ORDER in the writer's order */
	uint16_t version;	  /* TP_RAW_VERSION */
	uint16_t hdr_size;	  /* bytes before the first frame: >= sizeof(this) */
	uint64_t created_wall_ns; /* when the writer opened the segment */
	uint32_t writer_pid;
	uint16_t record_hdr_size; /* sizeof(struct tp_hdr) of the writer */
	uint16_t flags;		  /* TP_RAW_SEG_F_* (version 2; 0 in version 1) */
	uint32_t frame_seed;	  /* every frame's CRC continues from it (0 in version 1) */
	uint32_t crc;		  /* CRC-32C of the bytes of this struct before it */
};

/* The file held an earlier segment: what follows the last intact frame may
 * be that segment's bytes. */
#define TP_RAW_SEG_F_RECYCLED 0x1u

/* The frame seed of segment seq. */
static inline uint32_t tp_raw_frame_seed(uint64_t seq)
{
	return (uint32_t)seq;
}

/*
 * stored_len == record_len: the record follows as is.
 * stored_len <  record_len: it follows zero-run coded (tp_raw_zrun_*).
 * stored_len == record_len == 0: end frame; ts_wall_ns holds the number of
 * record frames in the segment.
 */
struct tp_raw_frame_hdr {
	uint32_t crc;	     /* CRC-32C of the rest of this header and the payload */
	uint16_t stored_len; /* payload bytes that follow this header */
	uint16_t record_len; /* bytes of the record once decoded */
	uint64_t ts_wall_ns; /* wall-clock time of the event */
};

_Static_assert(sizeof(struct tp_raw_seg_hdr) == 40, "segment header layout is on disk");
_Static_assert(sizeof(struct tp_raw_frame_hdr) == 16, "frame header layout is on disk");
_Static_assert(TP_RECORD_MAX <= UINT16_MAX, "record lengths are stored in 16 bits");

#define TP_RAW_FRAME_MAX (sizeof(struct tp_raw_frame_hdr) + TP_RECORD_MAX)

/* Fill a segment header (TP_RAW_VERSION) for frames sealed with seed. */
void tp_raw_seg_hdr_init(struct tp_raw_seg_hdr *h, uint64_t created_wall_ns, uint32_t pid,
			 uint32_t seed, uint16_t flags);

/*
 * Check the len bytes at the start of a segment file. Returns 0 with *h
 * filled, -ENODATA when len is too short to hold a header, or -EBADMSG with
 * why (a phrase: "bad magic", ...) filled.
 */
int tp_raw_seg_hdr_parse(const void *data, size_t len, struct tp_raw_seg_hdr *h, char *why,
			 size_t whylen);

/*
 * Encode one record as a frame of a segment whose frame seed is seed into
 * dst (room for TP_RAW_FRAME_MAX bytes). Returns the frame's length, or
 * -EINVAL for a record longer than TP_RECORD_MAX or empty.
 */
int tp_raw_frame_encode(void *dst, uint32_t seed, uint64_t ts_wall_ns, const void *rec, size_t len);

/*
 * The same in two steps, so that coding and checking can run on different
 * threads (and the segment be chosen late): encode_body writes the frame
 * with its CRC left 0 (same return values); seal computes and sets the CRC
 * of a frame so written, or written and sealed before with another seed.
 */
int tp_raw_frame_encode_body(void *dst, uint64_t ts_wall_ns, const void *rec, size_t len);
void tp_raw_frame_seal(void *frame, uint32_t seed);

/* Encode an end frame that counts nrecords. Returns its length. */
int tp_raw_frame_encode_end(void *dst, uint32_t seed, uint64_t nrecords);

enum tp_raw_frame_status {
	TP_RAW_FRAME_RECORD = 0,  /* a record, decoded into rec */
	TP_RAW_FRAME_END = 1,	  /* the end frame */
	TP_RAW_FRAME_PARTIAL = 2, /* avail holds only the start of a frame */
};

/*
 * Parse the frame at the start of data (avail bytes) of a segment whose
 * frame seed is seed (its header's frame_seed). On a record, decode
 * it into rec (room for TP_RECORD_MAX bytes) and set *rec_len, *ts and
 * *frame_len. Returns enum tp_raw_frame_status, or -EBADMSG with why filled
 * when the bytes are not a valid frame.
 */
int tp_raw_frame_parse(const void *data, size_t avail, uint32_t seed, void *rec, uint32_t *rec_len,
		       uint64_t *ts_wall_ns, size_t *frame_len, char *why, size_t whylen);

/*
 * Zero-run codec. A control byte c is followed by data only for literals:
 *   0x00-0x7f  c + 1 literal bytes follow (1..128)
 *   0x80-0xbf  (c & 0x3f) + 1 zero bytes (1..64)
 *   0xc0-0xff  ((c & 0x3f) + 1) * 64 zero bytes (64..4096)
 * Encode returns the coded length, or 0 when coding would not make the
 * record shorter (it is then stored as is). dst has room for n bytes.
 */
size_t tp_raw_zrun_encode(const uint8_t *src, size_t n, uint8_t *dst);
/* Decode exactly out_len bytes from all n bytes of src: 0 or -EBADMSG. */
int tp_raw_zrun_decode(const uint8_t *src, size_t n, uint8_t *dst, size_t out_len);

/* The CRC of segment and frame headers: CRC-32C (util/crc32c.h). */
uint32_t tp_raw_crc(uint32_t crc, const void *data, size_t len);

#endif
