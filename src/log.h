/*
 * log.h - leveled logging to stderr.
 *
 * Lines are "<RFC 3339 time> <level> <message>", one event per line, so a
 * journal or a log pipeline can split them; stdout stays reserved for events.
 */
#ifndef TAPIO_LOG_H
#define TAPIO_LOG_H

#include <stdbool.h>

enum tp_log_level {
	TP_LOG_ERROR = 0,
	TP_LOG_WARN = 1,
	TP_LOG_INFO = 2,
	TP_LOG_DEBUG = 3,
};

void tp_log_set_level(enum tp_log_level level);
enum tp_log_level tp_log_get_level(void);
/* Accepts error, warn(ing), info, debug. Returns 0 or -EINVAL. */
int tp_log_parse_level(const char *s, enum tp_log_level *level);
bool tp_log_enabled(enum tp_log_level level);

void tp_log(enum tp_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define tp_error(...) tp_log(TP_LOG_ERROR, __VA_ARGS__)
#define tp_warn(...) tp_log(TP_LOG_WARN, __VA_ARGS__)
#define tp_info(...) tp_log(TP_LOG_INFO, __VA_ARGS__)
#define tp_debug(...)                                    \
	do {                                             \
		if (tp_log_enabled(TP_LOG_DEBUG))        \
			tp_log(TP_LOG_DEBUG, __VA_ARGS__); \
	} while (0)

#endif
