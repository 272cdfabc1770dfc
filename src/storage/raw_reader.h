/*
 * raw_reader.h - read raw event segments back.
 *
 * tp_raw_list finds a directory's segments in the order they were written;
 * a struct tp_raw_seg_reader walks the records of one segment. Where a
 * frame is not intact (a flipped bit, a bad sector, a hole of zeros) it
 * scans forward for the next whole frame that verifies and reads on from
 * there, counting the bytes it skipped; at the end of the file it tells a
 * torn tail (the writer stopped mid-frame) from damage, and in a reused
 * file (raw_format.h) the previous segment's leftovers from both. It never
 * reads past
 * what the file holds, whatever the file holds, its scan costs about one
 * read of the file, and it says how the segment ended and what it skipped
 * so the caller can report it once.
 */
#ifndef TAPIO_STORAGE_RAW_READER_H
#define TAPIO_STORAGE_RAW_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "events/event.h"
#include "storage/raw_format.h"

struct tp_raw_seg_info {
	uint64_t seq;
	uint64_t size;
	uint64_t mtime_ns;
	char name[32]; /* file name inside the directory */
};

/* "raw-000000000042.seg" for seq 42. */
void tp_raw_seg_name(char *buf, size_t len, uint64_t seq);
/* The sequence number of a segment file name; -EINVAL if it is not one. */
int tp_raw_seg_name_parse(const char *name, uint64_t *seq);

/*
 * The segments of dir, oldest first, in a malloc'd array (free it).
 * Other files are ignored. Returns 0 or -errno.
 */
int tp_raw_list(const char *dir, struct tp_raw_seg_info **out, size_t *n);

/* Whether a writer holds dir's lock now (its newest segment is being written). */
bool tp_raw_dir_active(const char *dir);

enum tp_raw_seg_end {
	TP_RAW_SEG_READING = 0,
	TP_RAW_SEG_CLOSED,     /* its end frame: the writer closed it */
	TP_RAW_SEG_UNCLOSED,   /* ends on a frame boundary without an end frame */
	TP_RAW_SEG_TORN,       /* ends inside a frame */
	TP_RAW_SEG_CORRUPT,    /* damaged up to the end: no intact frame after end_offset */
	TP_RAW_SEG_REUSED,     /* the writer reused the file for a newer segment meanwhile */
	TP_RAW_SEG_BAD_HEADER, /* empty, short or not a segment: nothing read */
	TP_RAW_SEG_IO_ERROR,
};

struct tp_raw_seg_reader {
	int fd;
	uint8_t *buf;
	size_t cap, pos, len; /* unread bytes are buf[pos, len) */
	uint64_t buf_off;     /* file offset of buf[0] */
	bool eof;
	struct tp_raw_seg_hdr hdr;
	uint64_t records;      /* records returned so far */
	uint64_t frame_offset; /* file offset of the last record returned */
	/* Once next returns 0: how the segment ended, where, and why. */
	enum tp_raw_seg_end end;
	uint64_t end_offset;	/* bytes before this were read (or skipped, below) */
	uint64_t bytes_ignored; /* bytes after end_offset not read as records */
	char why[160];
	/* Damaged regions skipped on the way, the last one up to the end of
	 * the file included (then end is TP_RAW_SEG_CORRUPT). */
	uint64_t skipped_regions;
	uint64_t skipped_bytes;
	uint64_t skipped_from;	/* file offset where the first one starts */
	uint64_t skipped_to;	/* and where the last one ends */
	char skipped_why[160];	/* why the first one's frame was refused */
	uint64_t resync_budget; /* bytes the scan may still checksum */
	uint8_t rec[TP_RECORD_MAX] __attribute__((aligned(8)));
};

/* Open one segment file. Returns 0 or -errno (err filled) when the file
 * cannot be opened; a bad header is reported by the first next. */
int tp_raw_seg_open(struct tp_raw_seg_reader *r, const char *path, char *err, size_t errlen);

/*
 * The next record: returns 1 with *rec (inside r, valid until the next
 * call), *len and *ts_wall_ns set; 0 when the segment ends (r->end says how).
 */
int tp_raw_seg_next(struct tp_raw_seg_reader *r, const uint8_t **rec, uint32_t *len,
		    uint64_t *ts_wall_ns);

void tp_raw_seg_close(struct tp_raw_seg_reader *r);

#endif
