#include "obs/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "util/buf.h"
#include "util/time.h"

static enum tp_log_level current_level = TP_LOG_INFO;
static enum tp_log_format current_format = TP_LOG_FMT_TEXT;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = { "error", "warn", "info", "debug", "trace" };
static const char *const format_names[] = { "auto", "text", "json", "journal" };
/* sd-daemon.h priorities: LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG (trace too). */
static const int journal_priority[] = { 3, 4, 6, 7, 7 };

const char *tp_log_level_name(enum tp_log_level level)
{
	return level <= TP_LOG_TRACE ? level_names[level] : "?";
}

const char *tp_log_format_name(enum tp_log_format fmt)
{
	return fmt <= TP_LOG_FMT_JOURNAL ? format_names[fmt] : "?";
}

int tp_log_parse_format(const char *s, enum tp_log_format *fmt)
{
	if (!s)
		return -EINVAL;
	for (int i = 0; i <= TP_LOG_FMT_JOURNAL; i++) {
		if (!strcasecmp(s, format_names[i])) {
			*fmt = (enum tp_log_format)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* systemd sets JOURNAL_STREAM=<dev>:<ino> of the stream it connected; it is
 * inherited by children whose stderr may point elsewhere, so compare. */
static bool stderr_is_journal(void)
{
	const char *v = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!v || sscanf(v, "%llu:%llu", &dev, &ino) != 2 || fstat(2, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void tp_log_set_format(enum tp_log_format fmt)
{
	if (fmt == TP_LOG_FMT_AUTO)
		fmt = stderr_is_journal() ? TP_LOG_FMT_JOURNAL : TP_LOG_FMT_TEXT;
	current_format = fmt;
}

enum tp_log_format tp_log_get_format(void)
{
	return current_format;
}

void tp_log_set_level(enum tp_log_level level)
{
	current_level = level;
}

enum tp_log_level tp_log_get_level(void)
{
	return current_level;
}

bool tp_log_enabled(enum tp_log_level level)
{
	return level <= current_level;
}

int tp_log_parse_level(const char *s, enum tp_log_level *level)
{
	if (!s)
		return -EINVAL;
	for (int i = 0; i <= TP_LOG_TRACE; i++) {
		if (!strcasecmp(s, level_names[i])) {
			*level = (enum tp_log_level)i;
			return 0;
		}
	}
	if (!strcasecmp(s, "warning")) {
		*level = TP_LOG_WARN;
		return 0;
	}
	return -EINVAL;
}

void tp_log(enum tp_log_level level, const char *fmt, ...)
{
	char ts[40], small[2048], *msg = small;
	va_list ap;
	size_t n;
	int len;

	if (!tp_log_enabled(level))
		return;
	tp_format_rfc3339(tp_now_ns(CLOCK_REALTIME), ts, sizeof(ts));
	va_start(ap, fmt);
	len = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	/* A long line (the full stats at exit) is never cut: one try on the
	 * heap, else the cut line. */
	if (len >= (int)sizeof(small) && (msg = malloc((size_t)len + 1))) {
		va_start(ap, fmt);
		vsnprintf(msg, (size_t)len + 1, fmt, ap);
		va_end(ap);
	} else if (!msg) {
		msg = small;
	}
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	/* A message never spans lines: a parser splits on newlines. */
	for (size_t i = 0; i < n; i++)
		if (msg[i] == '\n' || msg[i] == '\r')
			msg[i] = ' ';
	/* One write per line keeps lines whole when threads log at once. */
	pthread_mutex_lock(&log_lock);
	switch (current_format) {
	case TP_LOG_FMT_JSON: {
		struct tp_buf b;

		tp_buf_init(&b);
		tp_buf_printf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":", ts,
			      level_names[level]);
		tp_buf_json_str(&b, msg, n);
		tp_buf_puts(&b, "}\n");
		if (!tp_buf_failed(&b))
			fwrite(b.data, 1, b.len, stderr);
		tp_buf_free(&b);
		break;
	}
	case TP_LOG_FMT_JOURNAL:
		fprintf(stderr, "<%d>%s\n", journal_priority[level], msg);
		break;
	default:
		fprintf(stderr, "%s %-5s %s\n", ts, level_names[level], msg);
		break;
	}
	fflush(stderr);
	pthread_mutex_unlock(&log_lock);
	if (msg != small)
		free(msg);
}
