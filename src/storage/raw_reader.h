/*
 * raw_reader.h - read raw event segments back.
 *
 * tp_raw_list finds a directory's segments in the order they were written;
 * a struct tp_raw_seg_reader walks the records of one segment and stops
 * cleanly at the first byte that is not a whole, intact frame: a torn tail
 * left by a crash, a flipped bit, garbage. It never reads past what the
 * file holds, whatever the file holds, and says how and where it stopped so
 * the caller can report it once.
 */
#ifndef TAPIO_STORAGE_RAW_READER_H
#define TAPIO_STORAGE_RAW_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
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
	TP_RAW_SEG_CORRUPT,    /* a frame is not what was written: the rest is skipped */
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
	uint64_t end_offset;	/* bytes before this are good */
	uint64_t bytes_ignored; /* bytes after end_offset not read as records */
	char why[160];
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
