#include "storage/raw_reader.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_CHUNK (256 * 1024)

/*
 * Resynchronisation after a damaged frame: the reader scans forward, one
 * byte at a time, for the next offset where a whole frame verifies, and
 * reads on from there. A candidate must pass, cheapest test first:
 *
 *   sizeof(struct tp_hdr) <= record_len <= TP_RECORD_MAX,
 *   0 < stored_len <= record_len,
 *   ts_wall_ns from a day before the segment's creation to a year after it,
 *   all its bytes in the file, its CRC-32C, a payload that decodes to
 *   exactly record_len bytes, and a record header whose 32-bit size field
 *   equals record_len (tp_decode refuses any other record anyway).
 *   An end frame counts only as the last 16 bytes of the file.
 *
 * Why a false resync is not a concern: on random bytes an offset passes the
 * length tests with p ~ 2^-5 (4025/65536, then about half), the time
 * window with ~2^-12.7 (366 days of ns out of 2^64), the CRC with 2^-32 and
 * the size field with ~2^-32: ~2^-81 per offset, ~2^-55 for a whole 64 MiB
 * segment of garbage. The CRC and lengths alone would give ~2^-37 per
 * offset, one false record in ~2000 such segments: that is why the size
 * field and the time are tested too. And a false resync costs one wrong
 * record (which tp_decode most likely refuses, counted) and one more
 * damaged region after it; it cannot make the reader read out of bounds.
 * Bytes made to look like a frame (inside an event's argv, say) are only
 * ever looked at when damage comes before them.
 *
 * Cost: the length and time tests reject almost every offset with a few
 * loads, so the scan runs at about the speed of reading the file; only
 * candidates that pass them are checksummed (up to 4112 bytes each), and
 * all checksumming of a segment's scans is capped at RESYNC_BUDGET(size)
 * bytes, so bytes crafted to pass the cheap tests at every offset cost at
 * most a few reads of the file: past the budget, the rest of the segment is
 * skipped. A time outside the window (a wall clock stepped forward by more
 * than a year within a segment) only makes a damaged segment lose more.
 */
#define RESYNC_TS_BEFORE    (86400ull * 1000000000ull)
#define RESYNC_TS_AFTER	    (366ull * 86400ull * 1000000000ull)
#define RESYNC_BUDGET(size) (4 * (uint64_t)(size) + (1u << 20))

void tp_raw_seg_name(char *buf, size_t len, uint64_t seq)
{
	snprintf(buf, len, TP_RAW_SEG_PREFIX "%012llu" TP_RAW_SEG_SUFFIX, (unsigned long long)seq);
}

int tp_raw_seg_name_parse(const char *name, uint64_t *seq)
{
	size_t plen = strlen(TP_RAW_SEG_PREFIX), slen = strlen(TP_RAW_SEG_SUFFIX);
	size_t n = strlen(name), digits;
	uint64_t v = 0;

	if (n <= plen + slen || strncmp(name, TP_RAW_SEG_PREFIX, plen) ||
	    strcmp(name + n - slen, TP_RAW_SEG_SUFFIX))
		return -EINVAL;
	digits = n - plen - slen;
	if (digits > 19)
		return -EINVAL;
	for (size_t i = plen; i < plen + digits; i++) {
		if (name[i] < '0' || name[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(name[i] - '0');
	}
	*seq = v;
	return 0;
}

static int cmp_seq(const void *a, const void *b)
{
	const struct tp_raw_seg_info *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int tp_raw_list(const char *dir, struct tp_raw_seg_info **out, size_t *n)
{
	struct tp_raw_seg_info *v = NULL;
	size_t len = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int dfd;

	*out = NULL;
	*n = 0;
	d = opendir(dir);
	if (!d)
		return -errno;
	dfd = dirfd(d);
	while ((errno = 0, de = readdir(d))) {
		struct tp_raw_seg_info info = {0};
		struct stat st;

		if (tp_raw_seg_name_parse(de->d_name, &info.seq) < 0 ||
		    strlen(de->d_name) >= sizeof(info.name))
			continue;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue; /* deleted meanwhile (retention), or not a file */
		info.size = (uint64_t)st.st_size;
		info.mtime_ns =
		    (uint64_t)st.st_mtim.tv_sec * 1000000000ull + (uint64_t)st.st_mtim.tv_nsec;
		strcpy(info.name, de->d_name);
		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct tp_raw_seg_info *nv = realloc(v, ncap * sizeof(*v));

			if (!nv) {
				free(v);
				closedir(d);
				return -ENOMEM;
			}
			v = nv;
			cap = ncap;
		}
		v[len++] = info;
	}
	if (errno) {
		int r = -errno;

		free(v);
		closedir(d);
		return r;
	}
	closedir(d);
	if (len)
		qsort(v, len, sizeof(*v), cmp_seq);
	*out = v;
	*n = len;
	return 0;
}

bool tp_raw_dir_active(const char *dir)
{
	char path[4096];
	bool active = false;
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, TP_RAW_LOCK_NAME) >= sizeof(path))
		return false;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return false;
	if (flock(fd, LOCK_SH | LOCK_NB) < 0)
		active = errno == EWOULDBLOCK;
	close(fd); /* drops our shared lock, if we got it */
	return active;
}

int tp_raw_seg_open(struct tp_raw_seg_reader *r, const char *path, char *err, size_t errlen)
{
	struct stat st;

	memset(r, 0, offsetof(struct tp_raw_seg_reader, rec));
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0) {
		int e = errno;

		snprintf(err, errlen, "cannot open %s: %s", path, strerror(e));
		return -e;
	}
	if (fstat(r->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s is not a regular file", path);
		close(r->fd);
		r->fd = -1;
		return -EINVAL;
	}
	r->buf = malloc(READ_CHUNK);
	if (!r->buf) {
		snprintf(err, errlen, "out of memory");
		close(r->fd);
		r->fd = -1;
		return -ENOMEM;
	}
	r->cap = READ_CHUNK;
	r->resync_budget = RESYNC_BUDGET(st.st_size);
	return 0;
}

void tp_raw_seg_close(struct tp_raw_seg_reader *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	free(r->buf);
	r->buf = NULL;
}

/* Keep the unread bytes and read more after them. */
static int fill(struct tp_raw_seg_reader *r)
{
	ssize_t n;

	if (r->pos) {
		memmove(r->buf, r->buf + r->pos, r->len - r->pos);
		r->buf_off += r->pos;
		r->len -= r->pos;
		r->pos = 0;
	}
	while (r->len < r->cap) {
		n = read(r->fd, r->buf + r->len, r->cap - r->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0) {
			r->eof = true;
			break;
		}
		r->len += (size_t)n;
	}
	return 0;
}

/* Bytes of the file from the reader's position on (the rest of the buffer
 * and whatever is still unread). */
static uint64_t bytes_left(struct tp_raw_seg_reader *r)
{
	struct stat st;
	uint64_t here = r->buf_off + r->pos;

	if (fstat(r->fd, &st) < 0 || (uint64_t)st.st_size < here)
		return r->len - r->pos;
	return (uint64_t)st.st_size - here;
}

static int stop(struct tp_raw_seg_reader *r, enum tp_raw_seg_end end)
{
	r->end = end;
	r->end_offset = r->buf_off + r->pos;
	if (end != TP_RAW_SEG_CLOSED && end != TP_RAW_SEG_UNCLOSED)
		r->bytes_ignored = bytes_left(r);
	return 0;
}

static int read_header(struct tp_raw_seg_reader *r)
{
	int e = fill(r);

	if (e < 0) {
		snprintf(r->why, sizeof(r->why), "read error: %s", strerror(-e));
		return stop(r, TP_RAW_SEG_IO_ERROR);
	}
	if (r->len == 0) {
		snprintf(r->why, sizeof(r->why), "empty file");
		return stop(r, TP_RAW_SEG_BAD_HEADER);
	}
	e = tp_raw_seg_hdr_parse(r->buf, r->len, &r->hdr, r->why, sizeof(r->why));
	if (e == -ENODATA)
		snprintf(r->why, sizeof(r->why), "too short for a segment header (%zu bytes)",
			 r->len);
	if (e < 0)
		return stop(r, TP_RAW_SEG_BAD_HEADER);
	r->pos = r->hdr.hdr_size;
	return 1;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* The file's size, or what the reader has seen of it. */
static uint64_t file_end(struct tp_raw_seg_reader *r)
{
	struct stat st;
	uint64_t seen = r->buf_off + r->len;

	if (r->eof || fstat(r->fd, &st) < 0 || (uint64_t)st.st_size < seen)
		return seen;
	return (uint64_t)st.st_size;
}

/* Whether a whole frame that verifies starts at buf[pos] (at least a frame
 * header's bytes are there): 1 yes, 0 no, -1 more bytes must be read to
 * tell. See "Resynchronisation" above. */
static int resync_candidate(struct tp_raw_seg_reader *r, uint64_t ts_lo, uint64_t ts_hi)
{
	const uint8_t *p = r->buf + r->pos;
	size_t avail = r->len - r->pos, flen, need;
	struct tp_raw_frame_hdr f;
	struct tp_hdr h;
	uint32_t rec_len;
	uint64_t ts;
	char why[8];
	int st;

	memcpy(&f, p, sizeof(f));
	if (f.record_len == 0) {
		if (f.stored_len || !r->eof || avail != sizeof(f))
			return 0;
	} else if (f.record_len < sizeof(h) || f.record_len > TP_RECORD_MAX || !f.stored_len ||
		   f.stored_len > f.record_len || f.ts_wall_ns < ts_lo || f.ts_wall_ns > ts_hi) {
		return 0;
	}
	need = sizeof(f) + f.stored_len;
	if (avail < need)
		return r->eof ? 0 : -1;
	if (r->resync_budget < need) {
		r->resync_budget = 0;
		return 0;
	}
	r->resync_budget -= need;
	st = tp_raw_frame_parse(p, avail, r->hdr.frame_seed, r->rec, &rec_len, &ts, &flen, why,
				sizeof(why));
	if (st == TP_RAW_FRAME_END)
		return 1;
	if (st != TP_RAW_FRAME_RECORD)
		return 0;
	memcpy(&h, r->rec, sizeof(h));
	return h.size == rec_len;
}

/* Move pos to the next offset after it where an intact frame starts:
 * 1 found, 0 none up to the end of the file (or the budget is spent), or
 * -errno from a read. */
static int resync(struct tp_raw_seg_reader *r)
{
	uint64_t created = r->hdr.created_wall_ns;
	uint64_t ts_lo = created > RESYNC_TS_BEFORE ? created - RESYNC_TS_BEFORE : 0;
	uint64_t ts_hi =
	    created < UINT64_MAX - RESYNC_TS_AFTER ? created + RESYNC_TS_AFTER : UINT64_MAX;
	int e;

	r->pos++;
	for (;;) {
		while (r->resync_budget && r->len - r->pos >= sizeof(struct tp_raw_frame_hdr)) {
			size_t last = r->len - sizeof(struct tp_raw_frame_hdr);
			uint16_t rl;
			int c;

			/* The record length alone rejects ~94% of random offsets:
			 * test it in a tight loop first (an end frame, length 0,
			 * can only be the file's last 16 bytes). */
			for (; r->pos <= last; r->pos++) {
				memcpy(&rl,
				       r->buf + r->pos +
					   offsetof(struct tp_raw_frame_hdr, record_len),
				       sizeof(rl));
				if ((uint16_t)(rl - sizeof(struct tp_hdr)) <=
					TP_RECORD_MAX - sizeof(struct tp_hdr) ||
				    (rl == 0 && r->pos == last && r->eof))
					break;
			}
			if (r->pos > last)
				break;
			c = resync_candidate(r, ts_lo, ts_hi);
			if (c > 0)
				return 1;
			if (c < 0)
				break; /* a candidate runs past the buffer */
			r->pos++;
		}
		if (!r->resync_budget || r->eof)
			return 0;
		if ((e = fill(r)) < 0)
			return e;
	}
}

/*
 * buf[pos] starts bytes that are not an intact frame (why: how not). Skip
 * to the next intact frame and count the damaged region. When there is
 * none: with torn_if_none (the bytes are the end of the file and may be the
 * start of a frame the writer did not finish) the segment ends torn, else
 * it ends corrupt. Returns 1 to read on, 0 when the segment ended.
 */
static int skip_damage(struct tp_raw_seg_reader *r, const char *why, bool torn_if_none)
{
	uint64_t from = r->buf_off + r->pos;
	size_t avail = r->len - r->pos;
	bool zeros = all_zero(r->buf + r->pos, avail < sizeof(struct tp_raw_frame_hdr)
						   ? avail
						   : sizeof(struct tp_raw_frame_hdr));
	struct tp_raw_seg_hdr now;
	int e;

	/* Retention gave the file to a newer segment while we read it: what
	 * follows is that segment's (read in its turn), not damage. */
	if (pread(r->fd, &now, sizeof(now), 0) == (ssize_t)sizeof(now) &&
	    memcmp(&now, &r->hdr, sizeof(now)) != 0) {
		snprintf(r->why, sizeof(r->why),
			 "the writer reused the file for a newer segment while it was read "
			 "(retention deleted this one)");
		return stop(r, TP_RAW_SEG_REUSED);
	}
	e = resync(r);
	if (e == 0 && (r->hdr.flags & TP_RAW_SEG_F_RECYCLED)) {
		/* What follows the last intact frame of a reused file that was
		 * not closed (closing cuts the file there) is, but for damage at
		 * its very end, the previous segment's. */
		r->end = TP_RAW_SEG_UNCLOSED;
		r->end_offset = from;
		r->bytes_ignored = file_end(r) - from;
		snprintf(r->why, sizeof(r->why),
			 "%llu bytes after its last intact frame do not verify: the previous "
			 "segment's, whose file it reused",
			 (unsigned long long)r->bytes_ignored);
		return 0;
	}
	if (e == 0 && torn_if_none) {
		r->pos = (size_t)(from - r->buf_off); /* at the end of the file: not refilled */
		snprintf(r->why, sizeof(r->why), "the last frame is incomplete (%zu bytes)", avail);
		return stop(r, TP_RAW_SEG_TORN);
	}
	if (!r->skipped_regions++) {
		r->skipped_from = from;
		if (zeros)
			snprintf(r->skipped_why, sizeof(r->skipped_why),
				 "zero bytes where a frame should be (data that never reached the "
				 "disk)");
		else
			snprintf(r->skipped_why, sizeof(r->skipped_why), "%s", why);
	}
	if (e < 0) {
		r->skipped_to = r->buf_off + r->pos;
		r->skipped_bytes += r->skipped_to - from;
		snprintf(r->why, sizeof(r->why), "read error: %s", strerror(-e));
		return stop(r, TP_RAW_SEG_IO_ERROR);
	}
	if (e > 0) {
		r->skipped_to = r->buf_off + r->pos;
		r->skipped_bytes += r->skipped_to - from;
		r->why[0] = '\0';
		return 1;
	}
	r->end = TP_RAW_SEG_CORRUPT;
	r->end_offset = from;
	r->skipped_to = file_end(r);
	r->bytes_ignored = r->skipped_to - from;
	r->skipped_bytes += r->bytes_ignored;
	if (r->resync_budget)
		snprintf(r->why, sizeof(r->why), "no intact frame from byte %llu to the end",
			 (unsigned long long)from);
	else
		snprintf(r->why, sizeof(r->why),
			 "stopped looking for an intact frame at byte %llu: the scan's checksum "
			 "budget for this segment is spent",
			 (unsigned long long)(r->buf_off + r->pos));
	return 0;
}

int tp_raw_seg_next(struct tp_raw_seg_reader *r, const uint8_t **rec, uint32_t *len,
		    uint64_t *ts_wall_ns)
{
	if (r->end != TP_RAW_SEG_READING)
		return 0;
	if (r->buf_off == 0 && r->len == 0 && !r->eof && read_header(r) == 0)
		return 0;
	for (;;) {
		size_t avail = r->len - r->pos, flen = 0;
		uint64_t ts = 0;
		int st = tp_raw_frame_parse(r->buf + r->pos, avail, r->hdr.frame_seed, r->rec, len,
					    &ts, &flen, r->why, sizeof(r->why));

		if (st == TP_RAW_FRAME_PARTIAL) {
			struct tp_raw_frame_hdr f;
			int e;

			if (!r->eof && (e = fill(r)) < 0) {
				snprintf(r->why, sizeof(r->why), "read error: %s", strerror(-e));
				return stop(r, TP_RAW_SEG_IO_ERROR);
			}
			if (!r->eof || r->len - r->pos > avail)
				continue;
			if (avail == 0)
				return stop(r, TP_RAW_SEG_UNCLOSED);
			if (avail < sizeof(f)) {
				snprintf(r->why, sizeof(r->why),
					 "the last frame is incomplete (%zu bytes)", avail);
				return stop(r, TP_RAW_SEG_TORN);
			}
			/* A whole header whose frame runs past the end of the file:
			 * torn, unless an intact frame follows (then its length was
			 * damaged). */
			memcpy(&f, r->buf + r->pos, sizeof(f));
			snprintf(r->why, sizeof(r->why),
				 "frame claims %u bytes, more than the file holds after it",
				 f.stored_len);
			if (!skip_damage(r, r->why, true))
				return 0;
			continue;
		}
		if (st < 0) {
			if (!skip_damage(r, r->why, false))
				return 0;
			continue;
		}
		if (st == TP_RAW_FRAME_END) {
			r->pos += flen;
			stop(r, TP_RAW_SEG_CLOSED);
			r->bytes_ignored = bytes_left(r);
			if (r->bytes_ignored)
				snprintf(r->why, sizeof(r->why), "%llu bytes after its end frame",
					 (unsigned long long)r->bytes_ignored);
			else if (ts != r->records && !r->skipped_regions)
				snprintf(r->why, sizeof(r->why),
					 "its end frame counts %llu records, %llu were read",
					 (unsigned long long)ts, (unsigned long long)r->records);
			return 0;
		}
		r->frame_offset = r->buf_off + r->pos;
		r->pos += flen;
		r->records++;
		*rec = r->rec;
		*ts_wall_ns = ts;
		return 1;
	}
}
