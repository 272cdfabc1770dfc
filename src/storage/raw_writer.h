/*
 * raw_writer.h - append records to the segment files of a raw storage
 * directory.
 *
 * Records are framed into a batch in memory and written with one pwrite per
 * batch. Behind the writes, the segment's pages are written back a few MiB
 * at a time and then leave the page cache, so the pages the writes take
 * are the few it just freed (raw_writer.c: WRITE_BEHIND_BYTES). Segments
 * rotate by size and age; retention deletes the oldest segments past an
 * age or a total size, and at a rotation reuses the first of them as the
 * next segment's file (raw_format.h). A failed write (a full disk, a
 * quota, an I/O error) drops the records it could not write, counts them,
 * and cuts the segment back to its last whole frame, so later writes never
 * follow a half-written frame; writing resumes by itself when the next
 * write succeeds. The directory is created 0700, files 0600, and an
 * exclusive lock keeps a second writer out.
 *
 * Synchronous and single-threaded: the raw storage stage runs it on its own
 * thread. The caller passes the wall-clock time, so tests drive rotation and
 * retention without waiting.
 */
#ifndef TAPIO_STORAGE_RAW_WRITER_H
#define TAPIO_STORAGE_RAW_WRITER_H

#include <stddef.h>
#include <stdint.h>

struct tp_raw_writer;

struct tp_raw_writer_opts {
	const char *dir;
	uint64_t segment_bytes;	  /* start a new segment past this size */
	uint64_t segment_age_ns;  /* ... or when the current one is this old (0: never) */
	uint64_t retention_ns;	  /* delete segments last written longer ago (0: never) */
	uint64_t retention_bytes; /* delete the oldest segments past this total (0: no cap) */
};

struct tp_raw_writer_stats {
	uint64_t records_written; /* accepted by the kernel */
	uint64_t bytes_written;	  /* frames, headers included */
	uint64_t records_dropped; /* could not be written */
	uint64_t segments_created;
	uint64_t segments_deleted; /* by retention (reused files included) */
	uint64_t segments_reused;  /* files of deleted segments that new ones reused */
	uint64_t bytes_on_disk;	   /* all segments of the directory */
	int last_error;		   /* errno of the last failed write; 0 once one succeeds */
};

/* Create or open the directory, take its lock, apply retention. On failure
 * err holds a sentence for the user. */
int tp_raw_writer_open(struct tp_raw_writer **out, const struct tp_raw_writer_opts *opts,
		       uint64_t now_wall_ns, char *err, size_t errlen);

/* Add one record (at most TP_RECORD_MAX bytes) to the batch; a full batch
 * or a rotation writes it out first. Returns 0 or -EINVAL for a bad length;
 * write failures are counted, not returned. */
int tp_raw_writer_append(struct tp_raw_writer *w, uint64_t ts_wall_ns, const void *rec, size_t len,
			 uint64_t now_wall_ns);

/* The same for a frame already coded by tp_raw_frame_encode_body (flen
 * bytes): it is sealed where it is (its CRC set), then copied into the
 * batch. Returns 0 or -EINVAL for a frame whose length does not match its
 * header. */
int tp_raw_writer_append_frame(struct tp_raw_writer *w, void *frame, size_t flen,
			       uint64_t now_wall_ns);

/* Write the batch out. Returns 0 or the -errno of a failed write (its
 * records are counted as dropped). */
int tp_raw_writer_flush(struct tp_raw_writer *w, uint64_t now_wall_ns);

/* fdatasync what was written (and the directory after a new segment). */
int tp_raw_writer_sync(struct tp_raw_writer *w);

/* Rotate by age, notice a segment deleted under us, apply retention. */
void tp_raw_writer_maintain(struct tp_raw_writer *w, uint64_t now_wall_ns);

void tp_raw_writer_stats(const struct tp_raw_writer *w, struct tp_raw_writer_stats *st);

/* Flush, close the current segment with its end frame, sync, unlock. */
void tp_raw_writer_close(struct tp_raw_writer *w, uint64_t now_wall_ns);

#endif
