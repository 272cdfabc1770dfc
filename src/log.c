#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util/time.h"

static enum tp_log_level current_level = TP_LOG_INFO;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

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
	for (int i = 0; i <= TP_LOG_DEBUG; i++) {
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
	char ts[40], msg[2048];
	va_list ap;
	size_t n;

	if (!tp_log_enabled(level))
		return;
	tp_format_rfc3339(tp_now_ns(CLOCK_REALTIME), ts, sizeof(ts));
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	/* One write per line keeps lines whole when threads log at once. */
	pthread_mutex_lock(&log_lock);
	fprintf(stderr, "%s %-5s %s\n", ts, level_names[level], msg);
	fflush(stderr);
	pthread_mutex_unlock(&log_lock);
}
