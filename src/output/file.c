#include "output/file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "events/format.h"
#include "obs/log.h"
#include "obs/metrics.h"
#include "output/lines.h"
#include "util/buf.h"

struct file_output {
	struct tp_output base;
	struct tp_lines *lines;
	struct tp_buf line; /* reader thread scratch */

	/* Worker thread. */
	char *path;
	int fd;
	uint64_t size;      /* bytes in the current file */
	uint64_t max_size;  /* 0: never rotate */
	uint32_t max_backups;
	bool mid_line;      /* a failed write left a line unfinished */
	struct tp_metric rotations;
};

static int open_current(struct file_output *f, char *err, size_t errlen)
{
	struct stat st;

	f->fd = open(f->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (f->fd < 0 || fstat(f->fd, &st) < 0) {
		int e = errno;

		if (f->fd >= 0)
			close(f->fd);
		f->fd = -1;
		snprintf(err, errlen, "file.path: cannot open %s for writing: %s", f->path,
			 strerror(e));
		return -e;
	}
	f->size = (uint64_t)st.st_size;
	return 0;
}

/* <path>.N -> <path>.N+1 down to <path> -> <path>.1; the oldest beyond
 * max_backups is replaced (rename) or removed. */
static int rotate(struct file_output *f, char *err, size_t errlen)
{
	char from[PATH_MAX], to[PATH_MAX];

	close(f->fd);
	f->fd = -1;
	if (f->max_backups == 0) {
		unlink(f->path);
	} else {
		for (uint32_t i = f->max_backups; i > 1; i--) {
			snprintf(from, sizeof(from), "%s.%u", f->path, i - 1);
			snprintf(to, sizeof(to), "%s.%u", f->path, i);
			if (rename(from, to) < 0 && errno != ENOENT)
				tp_warn("file: cannot rotate %s to %s: %s", from, to, strerror(errno));
		}
		snprintf(to, sizeof(to), "%s.1", f->path);
		if (rename(f->path, to) < 0 && errno != ENOENT)
			tp_warn("file: cannot rotate %s to %s: %s", f->path, to, strerror(errno));
	}
	tp_metric_add(&f->rotations, 1);
	return open_current(f, err, errlen);
}

static int write_all(struct file_output *f, const char *p, size_t n, size_t *done, char *err,
		     size_t errlen)
{
	while (n) {
		ssize_t w = write(f->fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = w < 0 ? errno : EIO;

			snprintf(err, errlen, "cannot write %s: %s", f->path, strerror(e));
			return -e;
		}
		p += w;
		n -= (size_t)w;
		*done += (size_t)w;
		f->size += (uint64_t)w;
	}
	return 0;
}

static size_t line_len(const char *p, size_t left)
{
	const char *e = memchr(p, '\n', left);

	return e ? (size_t)(e - p) + 1 : left;
}

/* Worker: write whole lines, rotating between two lines past max_size. A
 * line cut by a failed write is finished in the same file on the next
 * attempt, never split across two. */
static int file_deliver(void *ctx, const char *data, size_t len, size_t *done, char *err,
			size_t errlen)
{
	struct file_output *f = ctx;
	size_t off = 0;
	int r;

	*done = 0;
	if (f->fd < 0 && (r = open_current(f, err, errlen)) < 0)
		return r;
	while (off < len) {
		size_t run = line_len(data + off, len - off);

		if (f->max_size && f->size && !f->mid_line && f->size + run > f->max_size &&
		    (r = rotate(f, err, errlen)) < 0)
			return r;
		/* More lines while they fit. */
		while (off + run < len) {
			size_t n = line_len(data + off + run, len - off - run);

			if (f->max_size && f->size + run + n > f->max_size)
				break;
			run += n;
		}
		r = write_all(f, data + off, run, done, err, errlen);
		f->mid_line = *done && data[*done - 1] != '\n';
		if (r < 0)
			return r;
		off += run;
	}
	return 0;
}

static void file_close_worker(void *ctx)
{
	struct file_output *f = ctx;

	if (f->fd >= 0) {
		fsync(f->fd);
		close(f->fd);
		f->fd = -1;
	}
}

int tp_output_file_check(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0) {
		int e = errno;

		snprintf(err, errlen, "file.path: cannot open %s for writing: %s", path, strerror(e));
		return -e;
	}
	close(fd);
	return 0;
}

static int file_emit(struct tp_output *o, const struct tp_event *ev,
		     const struct tp_event_meta *meta)
{
	struct file_output *f = (struct file_output *)o;

	tp_format_json(&f->line, ev, meta);
	return tp_lines_push_buf(f->lines, &f->line);
}

static void file_close(struct tp_output *o)
{
	struct file_output *f = (struct file_output *)o;

	tp_lines_stop(f->lines);
	tp_metric_unregister(&f->rotations);
	tp_buf_free(&f->line);
	free(f->path);
	free(f);
}

static const struct tp_output_ops file_ops = {
	.name = "file",
	.emit = file_emit,
	.close = file_close,
};

int tp_output_file_new(struct tp_output **out, const struct tp_config *cfg, char *err,
		       size_t errlen)
{
	struct file_output *f = calloc(1, sizeof(*f));
	struct tp_lines_sink sink = {
		.name = "file", .deliver = file_deliver, .close = file_close_worker,
	};
	int r;

	if (!f || !(f->path = strdup(cfg->file_path))) {
		free(f);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	f->base.ops = &file_ops;
	f->fd = -1;
	f->max_size = cfg->file_max_size;
	f->max_backups = cfg->file_max_backups;
	tp_buf_init(&f->line);
	r = open_current(f, err, errlen);
	if (r < 0)
		goto fail;
	f->rotations = (struct tp_metric)TP_COUNTER_INIT("tapio_file_rotations_total",
							  "Times the file output started a new file.");
	tp_metric_register(&f->rotations);
	sink.ctx = f;
	r = tp_lines_start(&f->lines, &sink, cfg, err, errlen);
	if (r < 0) {
		tp_metric_unregister(&f->rotations);
		goto fail;
	}
	*out = &f->base;
	return 0;
fail:
	if (f->fd >= 0)
		close(f->fd);
	tp_buf_free(&f->line);
	free(f->path);
	free(f);
	return r;
}
