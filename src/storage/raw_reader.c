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
		int st = tp_raw_frame_parse(r->buf + r->pos, avail, r->rec, len, &ts, &flen, r->why,
					    sizeof(r->why));

		if (st == TP_RAW_FRAME_PARTIAL) {
			int e;

			if (!r->eof && (e = fill(r)) < 0) {
				snprintf(r->why, sizeof(r->why), "read error: %s", strerror(-e));
				return stop(r, TP_RAW_SEG_IO_ERROR);
			}
			if (!r->eof || r->len - r->pos > avail)
				continue;
			if (avail == 0)
				return stop(r, TP_RAW_SEG_UNCLOSED);
			snprintf(r->why, sizeof(r->why), "the last frame is incomplete (%zu bytes)",
				 avail);
			return stop(r, TP_RAW_SEG_TORN);
		}
		if (st < 0) {
			size_t n = avail < sizeof(struct tp_raw_frame_hdr)
				       ? avail
				       : sizeof(struct tp_raw_frame_hdr);

			if (all_zero(r->buf + r->pos, n))
				snprintf(
				    r->why, sizeof(r->why),
				    "zero bytes where a frame should be (data that never reached "
				    "the disk)");
			return stop(r, TP_RAW_SEG_CORRUPT);
		}
		if (st == TP_RAW_FRAME_END) {
			r->pos += flen;
			stop(r, TP_RAW_SEG_CLOSED);
			r->bytes_ignored = bytes_left(r);
			if (r->bytes_ignored)
				snprintf(r->why, sizeof(r->why), "%llu bytes after its end frame",
					 (unsigned long long)r->bytes_ignored);
			else if (ts != r->records)
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
