#include "storage/raw_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "obs/log.h"
#include "storage/raw_format.h"
#include "storage/raw_reader.h"
#include "util/file.h"

#define BATCH_BYTES (1024 * 1024)
/*
 * Write-behind: a segment's bytes are handed to the disk a window at a time
 * (sync_file_range: the writeback starts, nothing waits for it), and a
 * window later, its writeback done, the window's pages leave the page cache
 * (POSIX_FADV_DONTNEED); each sync drops what it made clean. The pages freed
 * are the ones the next writes take, so the writer keeps reusing a few MiB
 * of memory rather than filling the page cache with a stream nobody reads
 * back soon: pages new to the machine cost more than the copy into them (on
 * a VM whose balloon reports free pages to the host, a host fault each,
 * ~2.4 us: ~95 ns per 160-byte frame; docs/performance.md), and the page
 * cache is charged to the agent's cgroup. A window of 4 MiB: 2 and 8 cost
 * the same, 16 and more (or only dropping at the 1 s sync) cost more.
 */
#define WRITE_BEHIND_BYTES (4u * 1024 * 1024)
/* Retention looks at the directory after each rotation and at least this often. */
#define RETENTION_PERIOD_NS (10ull * 1000000000ull)

struct tp_raw_writer {
	struct tp_raw_writer_opts o;
	char dir[PATH_MAX];
	int dfd;
	int lock_fd;
	/* The current segment; fd < 0 when none is open (one is created when
	 * the next batch is written). */
	int fd;
	uint64_t seq; /* of the current segment */
	uint64_t next_seq;
	uint64_t seg_size; /* bytes of the current segment */
	uint64_t seg_file; /* bytes of its file: more when it reused an old one */
	uint64_t seg_records;
	uint64_t seg_created_ns;
	uint64_t wb_started; /* writeback started up to here (a page boundary) */
	uint64_t wb_dropped; /* pages dropped up to here (wb_dropped <= wb_started) */
	uint64_t page_size;
	bool dirty;	/* written since the last sync */
	bool dir_dirty; /* a segment was created since the last sync */
	uint64_t last_retention_ns;
	/* A segment retention deleted at a rotation, whose file the next
	 * segment takes (spare_name[0] == 0: none). */
	char spare_name[32];
	uint64_t spare_seq;
	uint8_t *batch;
	size_t batch_len;
	size_t batch_records;
	uint32_t batch_seed; /* the frame seed the batch's frames are sealed with */
	struct tp_raw_writer_stats st;
};

static int take_lock(struct tp_raw_writer *w, char *err, size_t errlen)
{
	char pid[32] = "";
	int n;

	w->lock_fd =
	    openat(w->dfd, TP_RAW_LOCK_NAME, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (w->lock_fd < 0) {
		int e = errno;

		snprintf(err, errlen, "cannot create the lock file in raw dir %s: %s", w->dir,
			 strerror(e));
		return -e;
	}
	if (flock(w->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;

		if (e == EWOULDBLOCK) {
			n = (int)pread(w->lock_fd, pid, sizeof(pid) - 1, 0);
			pid[n > 0 ? strcspn(pid, "\n") : 0] = '\0';
			snprintf(
			    err, errlen,
			    "raw dir %s is in use by another tapio-collector%s%s%s: give this one "
			    "its own --raw-dir (storage.raw_dir, TAPIO_RAW_DIR), or --raw-dir off",
			    w->dir, *pid ? " (pid " : "", pid, *pid ? ")" : "");
			return -EBUSY;
		}
		snprintf(err, errlen, "cannot lock raw dir %s: %s", w->dir, strerror(e));
		return -e;
	}
	n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(w->lock_fd, 0) < 0 || pwrite(w->lock_fd, pid, (size_t)n, 0) != n)
		tp_debug("cannot write our pid into %s/%s", w->dir, TP_RAW_LOCK_NAME);
	return 0;
}

/*
 * Delete the oldest segments past the age or size retention allows. With
 * reuse (at a rotation, no segment open), room is made for the next
 * segment too, and the first segment deleted is kept as the spare whose
 * file the next segment takes: its bytes still count, as that segment's
 * file will hold as many. So past the cap each rotation reuses one file
 * and the directory stays within the cap.
 */
static void apply_retention(struct tp_raw_writer *w, uint64_t now, bool reuse)
{
	struct tp_raw_seg_info *segs;
	uint64_t total = 0;
	size_t n;
	int r;

	w->last_retention_ns = now;
	r = tp_raw_list(w->dir, &segs, &n);
	if (r < 0) {
		tp_warn("raw storage: cannot list %s for retention: %s", w->dir, strerror(-r));
		return;
	}
	for (size_t i = 0; i < n; i++)
		total += w->fd >= 0 && segs[i].seq == w->seq ? w->seg_file : segs[i].size;
	/* Oldest first; the segment being written and the spare stay. */
	for (size_t i = 0; i < n; i++) {
		bool too_old = w->o.retention_ns && segs[i].mtime_ns + w->o.retention_ns < now;
		uint64_t next = reuse && !w->spare_name[0] ? w->o.segment_bytes : 0;
		bool too_much = w->o.retention_bytes && total + next > w->o.retention_bytes;

		if ((w->fd >= 0 && segs[i].seq == w->seq) ||
		    (w->spare_name[0] && segs[i].seq == w->spare_seq))
			continue;
		if (!too_old && !too_much)
			continue;
		if (reuse && w->fd < 0 && !w->spare_name[0]) {
			strcpy(w->spare_name, segs[i].name);
			w->spare_seq = segs[i].seq;
			tp_debug("raw storage: deleted %s (%s); the next segment reuses its file",
				 segs[i].name, too_old ? "age" : "size");
			w->st.segments_deleted++;
			continue;
		}
		if (unlinkat(w->dfd, segs[i].name, 0) < 0) {
			if (errno != ENOENT)
				tp_warn("raw storage: cannot delete %s/%s: %s", w->dir,
					segs[i].name, strerror(errno));
			continue;
		}
		tp_debug("raw storage: deleted %s (%s)", segs[i].name, too_old ? "age" : "size");
		total -= segs[i].size;
		w->st.segments_deleted++;
	}
	w->st.bytes_on_disk = total;
	free(segs);
}

int tp_raw_writer_open(struct tp_raw_writer **out, const struct tp_raw_writer_opts *opts,
		       uint64_t now_wall_ns, char *err, size_t errlen)
{
	struct tp_raw_writer *w;
	struct tp_raw_seg_info *segs;
	struct stat st;
	size_t n;
	int r;

	*out = NULL;
	if (strlen(opts->dir) >= PATH_MAX) {
		snprintf(err, errlen, "raw dir path too long");
		return -ENAMETOOLONG;
	}
	w = calloc(1, sizeof(*w));
	if (!w || !(w->batch = malloc(BATCH_BYTES))) {
		free(w);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	w->o = *opts;
	strcpy(w->dir, opts->dir);
	w->o.dir = w->dir;
	/* Retention by size needs several segments to choose from. */
	if (w->o.retention_bytes && w->o.segment_bytes > w->o.retention_bytes / 4)
		w->o.segment_bytes = w->o.retention_bytes / 4;
	if (w->o.segment_bytes < 64 * 1024)
		w->o.segment_bytes = 64 * 1024;
	w->fd = w->lock_fd = w->dfd = -1;
	w->page_size = (uint64_t)sysconf(_SC_PAGESIZE);
	if (!w->page_size || w->page_size & (w->page_size - 1))
		w->page_size = 4096;

	r = tp_mkdir_p(w->dir, 0755, 0700);
	if (r < 0) {
		snprintf(err, errlen, "cannot create raw dir %s: %s", w->dir, strerror(-r));
		goto fail;
	}
	w->dfd = open(w->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w->dfd < 0 || fstat(w->dfd, &st) < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot open raw dir %s: %s", w->dir, strerror(-r));
		goto fail;
	}
	if (st.st_mode & 077)
		tp_warn("raw dir %s is open to other users (mode %04o): stored events may hold "
			"secrets (command lines, paths); chmod 0700 it",
			w->dir, (unsigned)(st.st_mode & 07777));
	r = take_lock(w, err, errlen);
	if (r < 0)
		goto fail;
	r = tp_raw_list(w->dir, &segs, &n);
	if (r < 0) {
		snprintf(err, errlen, "cannot list raw dir %s: %s", w->dir, strerror(-r));
		goto fail;
	}
	/* Never append to an old segment: its tail may be torn. */
	w->next_seq = n ? segs[n - 1].seq + 1 : 1;
	free(segs);
	apply_retention(w, now_wall_ns, false);
	*out = w;
	return 0;
fail:
	if (w->lock_fd >= 0)
		close(w->lock_fd);
	if (w->dfd >= 0)
		close(w->dfd);
	free(w->batch);
	free(w);
	return r;
}

/* The file of the spare (apply_retention) holding the header h, under
 * the name of the next segment: an open fd, or -1 (gone, or cannot be
 * reused: then it is deleted). The header goes first, so the old frames
 * no longer verify before the file is renamed. */
static int reuse_spare(struct tp_raw_writer *w, const char *name, struct tp_raw_seg_hdr *h)
{
	struct stat st;
	int fd;

	fd = openat(w->dfd, w->spare_name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    pwrite(fd, h, sizeof(*h), 0) == (ssize_t)sizeof(*h) &&
	    renameat(w->dfd, w->spare_name, w->dfd, name) == 0) {
		w->seg_file = (uint64_t)st.st_size > sizeof(*h) ? (uint64_t)st.st_size : sizeof(*h);
		w->st.segments_reused++;
		w->spare_name[0] = '\0';
		return fd;
	}
	if (errno != ENOENT)
		tp_debug("raw storage: cannot reuse %s/%s (%s): deleting it", w->dir, w->spare_name,
			 strerror(errno));
	if (fd >= 0)
		close(fd);
	unlinkat(w->dfd, w->spare_name, 0);
	w->spare_name[0] = '\0';
	return -1;
}

static int create_segment(struct tp_raw_writer *w, uint64_t now)
{
	uint32_t seed = tp_raw_frame_seed(w->next_seq);
	struct tp_raw_seg_hdr h;
	char name[32];
	int fd = -1;

	tp_raw_seg_name(name, sizeof(name), w->next_seq);
	if (w->spare_name[0]) {
		tp_raw_seg_hdr_init(&h, now, (uint32_t)getpid(), seed, TP_RAW_SEG_F_RECYCLED);
		fd = reuse_spare(w, name, &h);
	}
	if (fd < 0) {
		tp_raw_seg_hdr_init(&h, now, (uint32_t)getpid(), seed, 0);
		fd = openat(w->dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
			    0600);
		if (fd < 0 && errno == ENOENT) {
			/* The directory went away under us: make it again. */
			int d = -1;

			if (tp_mkdir_p(w->dir, 0755, 0700) == 0 &&
			    (d = open(w->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
				close(w->dfd);
				w->dfd = d;
				tp_warn("raw storage: %s was removed; created it again", w->dir);
			}
			fd = openat(w->dfd, name,
				    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		}
		if (fd < 0)
			return -errno;
		if (pwrite(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h)) {
			int e = errno ? errno : ENOSPC;

			close(fd);
			unlinkat(w->dfd, name, 0);
			return -e;
		}
		w->seg_file = sizeof(h);
		w->st.bytes_on_disk += sizeof(h);
	}
	w->fd = fd;
	w->seq = w->next_seq++;
	w->seg_size = sizeof(h);
	w->wb_started = w->wb_dropped = 0;
	w->seg_records = 0;
	w->seg_created_ns = now;
	w->dirty = w->dir_dirty = true;
	w->st.segments_created++;
	w->st.bytes_written += sizeof(h);
	return 0;
}

/* The segment's size grew to end: its file too, when past its end. */
static void seg_grew(struct tp_raw_writer *w, uint64_t end)
{
	w->seg_size = end;
	if (end > w->seg_file) {
		w->st.bytes_on_disk += end - w->seg_file;
		w->seg_file = end;
	}
}

/* The seed of the segment the next frames go to. */
static uint32_t target_seed(const struct tp_raw_writer *w)
{
	return tp_raw_frame_seed(w->fd >= 0 ? w->seq : w->next_seq);
}

/* Seal the batch's frames again for the segment they now go to (after the
 * one they were sealed for was dropped): rare, so a walk. */
static void reseal_batch(struct tp_raw_writer *w, uint32_t seed)
{
	size_t off = 0;

	while (off + sizeof(struct tp_raw_frame_hdr) <= w->batch_len) {
		struct tp_raw_frame_hdr f;

		memcpy(&f, w->batch + off, sizeof(f));
		tp_raw_frame_seal(w->batch + off, seed);
		off += sizeof(f) + f.stored_len;
	}
	w->batch_seed = seed;
}

/* Bytes of whole frames at the start of the batch within n bytes, and how
 * many frames that is. */
static size_t whole_frames(const uint8_t *b, size_t n, size_t *frames)
{
	size_t off = 0;

	*frames = 0;
	for (;;) {
		struct tp_raw_frame_hdr f;

		if (off + sizeof(f) > n)
			break;
		memcpy(&f, b + off, sizeof(f));
		if (off + sizeof(f) + f.stored_len > n)
			break;
		off += sizeof(f) + f.stored_len;
		(*frames)++;
	}
	return off;
}

/* Out of the page cache: the current segment's pages in [wb_dropped, to),
 * which must be clean (a dirty page is kept). */
static void drop_pages(struct tp_raw_writer *w, uint64_t to)
{
	if (to > w->wb_dropped)
		posix_fadvise(w->fd, (off_t)w->wb_dropped, (off_t)(to - w->wb_dropped),
			      POSIX_FADV_DONTNEED);
	w->wb_dropped = to;
}

/* Write-behind (WRITE_BEHIND_BYTES says why): once a window's worth is
 * written past the last start, start its writeback, then wait for the
 * previous window's (started a window ago: usually done) and drop it. The
 * last partial page stays: the next write goes on into it. */
static void write_behind(struct tp_raw_writer *w)
{
	uint64_t end = w->seg_size & ~(w->page_size - 1);

	if (end < w->wb_started + WRITE_BEHIND_BYTES)
		return;
	sync_file_range(w->fd, (off_t)w->wb_started, (off_t)(end - w->wb_started),
			SYNC_FILE_RANGE_WRITE);
	if (w->wb_dropped < w->wb_started &&
	    sync_file_range(w->fd, (off_t)w->wb_dropped, (off_t)(w->wb_started - w->wb_dropped),
			    SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
				SYNC_FILE_RANGE_WAIT_AFTER) == 0)
		drop_pages(w, w->wb_started);
	w->wb_started = end;
}

static void drop_segment(struct tp_raw_writer *w)
{
	close(w->fd);
	w->fd = -1;
}

int tp_raw_writer_flush(struct tp_raw_writer *w, uint64_t now)
{
	size_t done = 0, good, frames;
	int e = 0, r;

	if (!w->batch_len)
		return 0;
	if (w->fd < 0 && (r = create_segment(w, now)) < 0) {
		e = -r;
		goto out;
	}
	if (w->batch_seed != tp_raw_frame_seed(w->seq))
		reseal_batch(w, tp_raw_frame_seed(w->seq));
	while (done < w->batch_len) {
		ssize_t n = pwrite(w->fd, w->batch + done, w->batch_len - done,
				   (off_t)(w->seg_size + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			e = n < 0 ? errno : ENOSPC;
			break;
		}
		done += (size_t)n;
	}
	/* All written: every frame is whole (no walk over the batch). */
	if (done == w->batch_len) {
		good = done;
		frames = w->batch_records;
	} else {
		good = whole_frames(w->batch, done, &frames);
	}
	if (good < done && ftruncate(w->fd, (off_t)(w->seg_size + good)) < 0) {
		/* The half-written frame stays: readers stop there. */
		tp_warn("raw storage: cannot cut %s back after a failed write (%s); starting a new "
			"segment",
			w->dir, strerror(errno));
		drop_segment(w);
	} else if (good < done && w->seg_file > w->seg_size + good) {
		w->st.bytes_on_disk -= w->seg_file - (w->seg_size + good);
		w->seg_file = w->seg_size + good;
	}
	if (w->fd >= 0) {
		seg_grew(w, w->seg_size + good);
		write_behind(w);
	} else /* dropped: the file keeps what was written */
		w->st.bytes_on_disk += good;
	w->seg_records += frames;
	w->st.records_written += frames;
	w->st.bytes_written += good;
	if (good)
		w->dirty = true;
	w->batch_records -= frames;
out:
	w->st.records_dropped += w->batch_records;
	w->st.last_error = e;
	w->batch_len = 0;
	w->batch_records = 0;
	return -e;
}

static void close_segment(struct tp_raw_writer *w)
{
	uint8_t end[sizeof(struct tp_raw_frame_hdr)];
	int n;

	if (w->fd < 0)
		return;
	n = tp_raw_frame_encode_end(end, tp_raw_frame_seed(w->seq), w->seg_records);
	if (pwrite(w->fd, end, (size_t)n, (off_t)w->seg_size) == n) {
		seg_grew(w, w->seg_size + (uint64_t)n);
		w->st.bytes_written += (uint64_t)n;
	}
	/* A reused file's bytes past the end are the old segment's. */
	if (w->seg_file > w->seg_size && ftruncate(w->fd, (off_t)w->seg_size) == 0) {
		w->st.bytes_on_disk -= w->seg_file - w->seg_size;
		w->seg_file = w->seg_size;
	}
	if (fdatasync(w->fd) < 0)
		tp_debug("raw storage: fdatasync: %s", strerror(errno));
	else
		drop_pages(w, w->seg_size + w->page_size); /* its last page too */
	drop_segment(w);
	w->dirty = false;
}

/* The frame of flen bytes just put at the batch's end: when it would take
 * the segment past its size, the batch before it is written, the segment
 * closed, and the frame opens the next one. */
static void batch_add(struct tp_raw_writer *w, size_t flen, uint64_t now)
{
	if (w->fd >= 0 || w->batch_len) {
		uint64_t base = w->fd >= 0 ? w->seg_size : sizeof(struct tp_raw_seg_hdr);

		if (base + w->batch_len + flen > w->o.segment_bytes &&
		    base + w->batch_len > sizeof(struct tp_raw_seg_hdr)) {
			uint8_t frame[TP_RAW_FRAME_MAX];

			memcpy(frame, w->batch + w->batch_len, flen);
			tp_raw_writer_flush(w, now);
			close_segment(w);
			apply_retention(w, now, true);
			memcpy(w->batch, frame, flen);
			w->batch_seed = target_seed(w);
			tp_raw_frame_seal(w->batch, w->batch_seed);
		}
	}
	w->batch_len += flen;
	w->batch_records++;
}

/* The raw stage codes its frames on the reader thread; this one codes
 * here and goes the same way. */
int tp_raw_writer_append(struct tp_raw_writer *w, uint64_t ts_wall_ns, const void *rec, size_t len,
			 uint64_t now)
{
	uint8_t frame[TP_RAW_FRAME_MAX];
	int flen = tp_raw_frame_encode_body(frame, ts_wall_ns, rec, len);

	if (flen < 0)
		return flen;
	return tp_raw_writer_append_frame(w, frame, (size_t)flen, now);
}

int tp_raw_writer_append_frame(struct tp_raw_writer *w, void *frame, size_t flen, uint64_t now)
{
	struct tp_raw_frame_hdr f;

	if (flen < sizeof(f) || flen > TP_RAW_FRAME_MAX)
		return -EINVAL;
	memcpy(&f, frame, sizeof(f));
	if (sizeof(f) + f.stored_len != flen || !f.record_len || f.stored_len > f.record_len)
		return -EINVAL;
	if (w->batch_len + TP_RAW_FRAME_MAX > BATCH_BYTES)
		tp_raw_writer_flush(w, now);
	if (!w->batch_len)
		w->batch_seed = target_seed(w);
	/* Sealed where it is: the CRC's loads bring the frame into cache for
	 * the copy, where a CRC of the copy would wait on the batch's stores. */
	tp_raw_frame_seal(frame, w->batch_seed);
	memcpy(w->batch + w->batch_len, frame, flen);
	batch_add(w, flen, now);
	return 0;
}

int tp_raw_writer_sync(struct tp_raw_writer *w)
{
	int r = 0;

	if (w->fd >= 0 && w->dirty) {
		if (fdatasync(w->fd) < 0) {
			r = -errno;
		} else {
			w->dirty = false;
			w->wb_started = w->seg_size & ~(w->page_size - 1);
			drop_pages(w, w->wb_started);
		}
	}
	if (w->dir_dirty && fsync(w->dfd) == 0)
		w->dir_dirty = false;
	return r;
}

void tp_raw_writer_maintain(struct tp_raw_writer *w, uint64_t now)
{
	struct stat st;
	bool rotated = false;

	if (w->fd >= 0 && fstat(w->fd, &st) == 0 && st.st_nlink == 0) {
		char name[32];

		tp_raw_seg_name(name, sizeof(name), w->seq);
		tp_warn(
		    "raw storage: %s/%s was deleted while being written; starting a new segment",
		    w->dir, name);
		drop_segment(w);
		rotated = true;
	}
	/* A wall clock stepped back makes the age unknown: rotate then too,
	 * rather than keep one segment open until the clock catches up. */
	if (w->fd >= 0 && w->o.segment_age_ns &&
	    (now < w->seg_created_ns || now - w->seg_created_ns >= w->o.segment_age_ns)) {
		tp_raw_writer_flush(w, now);
		close_segment(w);
		rotated = true;
	}
	if (rotated || now - w->last_retention_ns >= RETENTION_PERIOD_NS ||
	    now < w->last_retention_ns)
		apply_retention(w, now, rotated && w->fd < 0);
}

void tp_raw_writer_stats(const struct tp_raw_writer *w, struct tp_raw_writer_stats *st)
{
	*st = w->st;
}

void tp_raw_writer_close(struct tp_raw_writer *w, uint64_t now)
{
	if (!w)
		return;
	tp_raw_writer_flush(w, now);
	close_segment(w);
	if (w->spare_name[0] && unlinkat(w->dfd, w->spare_name, 0) == 0)
		w->dir_dirty = true;
	if (w->dir_dirty)
		fsync(w->dfd);
	close(w->lock_fd);
	close(w->dfd);
	free(w->batch);
	free(w);
}
