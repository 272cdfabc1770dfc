#include "output/stdout.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "obs/log.h"
#include "obs/metrics.h"
#include "util/buf.h"

/* Write out once this much is buffered; the rest goes at each flush (the
 * pipeline's tick). Measured under -o json to /dev/null (MODE=json A/B of
 * the outputs stage): 16 KiB cost ~100 ns more per line, 256 KiB no less
 * than 64 KiB. */
#define STDOUT_HIGH_WATER (64 * 1024)

struct stdout_output {
	struct tp_output base;
	int fd;
	enum tp_output_format fmt;
	bool color;
	bool broken; /* the reader went away */
	struct tp_buf buf;
};

static struct tp_metric m_lines = TP_COUNTER_INIT("tapio_stdout_lines_total",
						  "Lines written to stdout.");
static struct tp_metric m_write_errors = TP_COUNTER_INIT(
	"tapio_stdout_dropped_total", "Lines that could not be written to stdout.");

static void write_out(struct stdout_output *s)
{
	size_t off = 0;

	while (off < s->buf.len && !s->broken) {
		ssize_t n = write(s->fd, s->buf.data + off, s->buf.len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			s->broken = true;
			tp_warn("cannot write events to stdout (%s): stopping the stdout output",
				n < 0 ? strerror(errno) : "short write");
			break;
		}
		off += (size_t)n;
	}
	tp_buf_reset(&s->buf);
}

static int stdout_emit(struct tp_output *o, const struct tp_event *ev,
		       const struct tp_event_meta *meta)
{
	struct stdout_output *s = (struct stdout_output *)o;

	if (s->broken) {
		tp_metric_add(&m_write_errors, 1);
		return -EPIPE;
	}
	if (s->fmt == TP_FMT_JSON)
		tp_format_json(&s->buf, ev, meta);
	else
		tp_format_text(&s->buf, ev, meta, s->color);
	if (tp_buf_failed(&s->buf)) {
		tp_buf_reset(&s->buf);
		tp_metric_add(&m_write_errors, 1);
		return -ENOMEM;
	}
	tp_metric_add_owned(&m_lines, 1); /* the pipeline's thread alone */
	if (s->buf.len >= STDOUT_HIGH_WATER)
		write_out(s);
	return 0;
}

static void stdout_flush(struct tp_output *o)
{
	struct stdout_output *s = (struct stdout_output *)o;

	if (s->buf.len)
		write_out(s);
}

static void stdout_close(struct tp_output *o)
{
	struct stdout_output *s = (struct stdout_output *)o;

	stdout_flush(o);
	tp_buf_free(&s->buf);
	free(s);
}

static const struct tp_output_ops stdout_ops = {
	.name = "stdout",
	.emit = stdout_emit,
	.flush = stdout_flush,
	.close = stdout_close,
};

int tp_output_stdout_new(struct tp_output **out, const struct tp_stdout_opts *o, char *err,
			 size_t errlen)
{
	struct stdout_output *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s) {
		snprintf(err, errlen, "cannot set up the stdout output: out of memory");
		return -ENOMEM;
	}
	s->base.ops = &stdout_ops;
	s->fd = o->fd;
	s->fmt = o->fmt;
	s->color = o->color && o->fmt == TP_FMT_TEXT;
	tp_buf_init(&s->buf);
	tp_metric_register(&m_lines);
	tp_metric_register(&m_write_errors);
	*out = &s->base;
	return 0;
}

bool tp_output_want_color(int fd)
{
	const char *term = getenv("TERM");

	if (getenv("NO_COLOR"))
		return false;
	if (term && !strcmp(term, "dumb"))
		return false;
	return isatty(fd);
}
