#include "delivery/spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

#include "delivery/pbwire.h"
#include "util/file.h"

#define SPOOL_MAGIC "TPSB"
#define SPOOL_VERSION 1
#define SPOOL_FILE_MAX (256u << 20) /* far above any batch we write */

static void put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const uint8_t *p)
{
	return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

int tp_spool_open(struct tp_spool *s, const char *dir, char *err, size_t errlen)
{
	int r;

	memset(s, 0, sizeof(*s));
	s->dir_fd = s->lock_fd = -1;
	if (strlen(dir) >= sizeof(s->dir)) {
		snprintf(err, errlen, "spool directory path too long: %s", dir);
		return -ENAMETOOLONG;
	}
	snprintf(s->dir, sizeof(s->dir), "%s", dir);
	r = tp_mkdir_p(dir, 0700, 0700);
	if (r < 0) {
		snprintf(err, errlen, "cannot create spool directory %s: %s", dir, strerror(-r));
		return r;
	}
	s->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dir_fd < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot open spool directory %s: %s", dir, strerror(-r));
		return r;
	}
	s->lock_fd = openat(s->dir_fd, ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lock_fd < 0 || flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		r = -errno;
		if (r == -EWOULDBLOCK) {
			char pid[16] = "";
			ssize_t n = pread(s->lock_fd, pid, sizeof(pid) - 1, 0);

			pid[n > 0 ? strcspn(pid, "\n") : 0] = '\0';
			snprintf(err, errlen,
				 "spool directory %s is in use by another tapio-collector%s%s%s: give "
				 "this one its own with delivery.spool_dir (--set "
				 "delivery.spool_dir=DIR or TAPIO_SPOOL_DIR; off keeps unacked "
				 "batches in memory only)",
				 dir, *pid ? " (pid " : "", pid, *pid ? ")" : "");
		} else
			snprintf(err, errlen, "cannot lock spool directory %s: %s", dir,
				 strerror(-r));
		tp_spool_close(s);
		return r;
	}
	/* Our pid, for the message another collector gets. */
	{
		char pid[16];
		int n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());

		if (ftruncate(s->lock_fd, 0) < 0 || pwrite(s->lock_fd, pid, (size_t)n, 0) != n) {
			/* only another collector's message loses the pid */
		}
	}
	return 0;
}

void tp_spool_close(struct tp_spool *s)
{
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	if (s->dir_fd >= 0)
		close(s->dir_fd);
	s->lock_fd = s->dir_fd = -1;
}

static void file_name(char *buf, size_t len, uint64_t seq, const char *ext)
{
	snprintf(buf, len, "%016llx.%s", (unsigned long long)seq, ext);
}

long tp_spool_write(struct tp_spool *s, const struct tp_batch *b)
{
	uint8_t hdr[TP_SPOOL_HDR_SIZE];
	char tmp[64], name[64];
	size_t blob = tp_batch_blob_len(b), total = sizeof(hdr) + blob;
	struct iovec iov[2] = { { hdr, sizeof(hdr) }, { b->blob, blob } };
	ssize_t n;
	int fd, r = 0;

	memcpy(hdr, SPOOL_MAGIC, 4);
	put_u32(hdr + 4, SPOOL_VERSION);
	put_u64(hdr + 8, b->seq);
	put_u32(hdr + 16, b->nevents);
	put_u32(hdr + 20, b->hdr_len);
	put_u32(hdr + 24, b->body_len);
	put_u32(hdr + 28, (uint32_t)crc32(0, b->blob, (uInt)blob));

	file_name(tmp, sizeof(tmp), b->seq, "tmp");
	file_name(name, sizeof(name), b->seq, "batch");
	fd = openat(s->dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	n = writev(fd, iov, 2);
	if (n < 0)
		r = -errno;
	else if ((size_t)n != total)
		r = -ENOSPC; /* a short write to a regular file: the disk is full */
	if (close(fd) < 0 && !r)
		r = -errno;
	if (!r && renameat(s->dir_fd, tmp, s->dir_fd, name) < 0)
		r = -errno;
	if (r) {
		unlinkat(s->dir_fd, tmp, 0);
		return r;
	}
	return (long)total;
}

static int read_file(int dir_fd, const char *name, uint8_t **out, size_t *len)
{
	struct stat st;
	uint8_t *p;
	size_t off = 0;
	int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (st.st_size < TP_SPOOL_HDR_SIZE || st.st_size > SPOOL_FILE_MAX) {
		r = -EBADMSG;
		goto out;
	}
	p = malloc((size_t)st.st_size);
	if (!p) {
		r = -ENOMEM;
		goto out;
	}
	while (off < (size_t)st.st_size) {
		ssize_t n = read(fd, p + off, (size_t)st.st_size - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EBADMSG;
			free(p);
			goto out;
		}
		off += (size_t)n;
	}
	*out = p;
	*len = off;
out:
	close(fd);
	return r;
}

int tp_spool_parse(const uint8_t *p, size_t len, struct tp_batch **out, const char **why)
{
	uint32_t nevents, hdr_len, body_len, count = 0;
	const uint8_t *blob = p + TP_SPOOL_HDR_SIZE, *body;
	size_t off = 0, item;
	struct tp_batch *b;
	int r;

	*out = NULL;
	if (len < TP_SPOOL_HDR_SIZE || memcmp(p, SPOOL_MAGIC, 4)) {
		*why = "not a spool file";
		return -EBADMSG;
	}
	if (get_u32(p + 4) != SPOOL_VERSION) {
		*why = "unknown spool file version";
		return -EBADMSG;
	}
	nevents = get_u32(p + 16);
	hdr_len = get_u32(p + 20);
	body_len = get_u32(p + 24);
	if ((uint64_t)nevents + hdr_len + body_len != len - TP_SPOOL_HDR_SIZE) {
		*why = "sizes do not match the file";
		return -EBADMSG;
	}
	if ((uint32_t)crc32(0, blob, (uInt)(len - TP_SPOOL_HDR_SIZE)) != get_u32(p + 28)) {
		*why = "checksum mismatch";
		return -EBADMSG;
	}
	for (uint32_t i = 0; i < nevents; i++) {
		if (blob[i] >= TP_RANKS) {
			*why = "bad event rank";
			return -EBADMSG;
		}
	}
	body = blob + nevents + hdr_len;
	while ((r = tp_pb_item(body, body_len, off, &item)) == 0) {
		off += item;
		count++;
	}
	if (r < 0 || count != nevents) {
		*why = "events are not framed as the header says";
		return -EBADMSG;
	}
	b = tp_batch_new(get_u64(p + 8), blob, nevents, blob + nevents, hdr_len, body, body_len);
	if (!b) {
		*why = "out of memory";
		return -ENOMEM;
	}
	*out = b;
	return 0;
}

int tp_spool_load(struct tp_spool *s, struct tp_batch *b)
{
	char name[64];
	uint8_t *p;
	size_t len;
	struct tp_batch *nb;
	const char *why;
	int r;

	file_name(name, sizeof(name), b->seq, "batch");
	r = read_file(s->dir_fd, name, &p, &len);
	if (r < 0)
		return r;
	r = tp_spool_parse(p, len, &nb, &why);
	free(p);
	if (r < 0)
		return r;
	if (nb->seq != b->seq || nb->nevents != b->nevents || nb->hdr_len != b->hdr_len ||
	    nb->body_len != b->body_len) {
		tp_batch_free(nb);
		return -EBADMSG;
	}
	free(b->blob);
	b->blob = nb->blob;
	nb->blob = NULL;
	tp_batch_free(nb);
	return 0;
}

int tp_spool_remove(struct tp_spool *s, uint64_t seq)
{
	char name[64];

	file_name(name, sizeof(name), seq, "batch");
	if (unlinkat(s->dir_fd, name, 0) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

void tp_spool_set_aside(struct tp_spool *s, uint64_t seq)
{
	char name[64], bad[64];

	file_name(name, sizeof(name), seq, "batch");
	file_name(bad, sizeof(bad), seq, "batch.bad");
	renameat(s->dir_fd, name, s->dir_fd, bad);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* "<16 hex digits>.batch" -> seq */
static int parse_name(const char *name, uint64_t *seq)
{
	char *end;

	if (strlen(name) != 22 || strcmp(name + 16, ".batch"))
		return -EINVAL;
	errno = 0;
	*seq = strtoull(name, &end, 16);
	return errno || end != name + 16 ? -EINVAL : 0;
}

int tp_spool_scan(struct tp_spool *s, void (*fn)(void *ctx, struct tp_batch *b),
		  void (*bad)(void *ctx, const char *name, uint32_t nevents, const char *why),
		  void *ctx)
{
	uint64_t *seqs = NULL, seq;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int fd = dup(s->dir_fd), count = 0;
	DIR *d;

	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	rewinddir(d);
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);

		if (l > 4 && !strcmp(de->d_name + l - 4, ".tmp")) {
			unlinkat(s->dir_fd, de->d_name, 0); /* a write cut short */
			continue;
		}
		if (parse_name(de->d_name, &seq) < 0)
			continue;
		if (n == cap) {
			uint64_t *ns = realloc(seqs, (cap ? cap * 2 : 64) * sizeof(*seqs));

			if (!ns) {
				free(seqs);
				closedir(d);
				return -ENOMEM;
			}
			seqs = ns;
			cap = cap ? cap * 2 : 64;
		}
		seqs[n++] = seq;
	}
	closedir(d);
	qsort(seqs, n, sizeof(*seqs), cmp_u64);

	for (size_t i = 0; i < n; i++) {
		char name[64];
		uint8_t *p = NULL;
		size_t len = 0;
		struct tp_batch *b = NULL;
		const char *why = NULL;
		int r;

		file_name(name, sizeof(name), seqs[i], "batch");
		r = read_file(s->dir_fd, name, &p, &len);
		if (r == -ENOENT)
			continue;
		if (r == 0) {
			r = tp_spool_parse(p, len, &b, &why);
			if (r == 0 && b->seq != seqs[i]) {
				tp_batch_free(b);
				why = "sequence does not match the file name";
				r = -EBADMSG;
			}
		} else {
			why = r == -EBADMSG ? "bad file size" : strerror(-r);
		}
		if (r == 0) {
			fn(ctx, b);
			count++;
		} else {
			/* The event count of a damaged file is a hint at best: only
			 * believe a header that is whole and not larger than the file. */
			uint32_t nev = 0;

			if (p && len >= TP_SPOOL_HDR_SIZE && !memcmp(p, SPOOL_MAGIC, 4) &&
			    get_u32(p + 16) <= len - TP_SPOOL_HDR_SIZE)
				nev = get_u32(p + 16);
			if (bad)
				bad(ctx, name, nev, why);
			if (r != -ENOMEM)
				tp_spool_set_aside(s, seqs[i]);
		}
		free(p);
	}
	free(seqs);
	return count;
}
