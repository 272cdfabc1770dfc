/*
 * obs/log.h - leveled logging to stderr, one line per message; stdout stays
 * reserved for events.
 *
 * Formats (--log-format):
 *   text     "<RFC 3339 time> <level> <message>"; level is error, warn,
 *            info, debug or trace, padded to 5 characters
 *   json     {"ts":"<RFC 3339>","level":"info","msg":"..."}
 *   journal  "<N>message" with the syslog priority N, which journald turns
 *            into the entry's PRIORITY (journald adds its own timestamp)
 *   auto     journal when stderr is connected to the journal (systemd's
 *            JOURNAL_STREAM names stderr's device and inode), else text
 */
#ifndef TAPIO_LOG_H
#define TAPIO_LOG_H

#include <stdbool.h>

enum tp_log_level {
	TP_LOG_ERROR = 0,
	TP_LOG_WARN = 1,
	TP_LOG_INFO = 2,
	TP_LOG_DEBUG = 3,
	TP_LOG_TRACE = 4, /* other libraries' own chatter (libbpf's relocations...) */
};

enum tp_log_format {
	TP_LOG_FMT_AUTO = 0,
	TP_LOG_FMT_TEXT,
	TP_LOG_FMT_JSON,
	TP_LOG_FMT_JOURNAL,
};

void tp_log_set_level(enum tp_log_level level);
/* AUTO is resolved here, once, from JOURNAL_STREAM. */
void tp_log_set_format(enum tp_log_format fmt);
enum tp_log_format tp_log_get_format(void);
/* Accepts auto, text, json, journal. Returns 0 or -EINVAL. */
int tp_log_parse_format(const char *s, enum tp_log_format *fmt);
const char *tp_log_format_name(enum tp_log_format fmt);
const char *tp_log_level_name(enum tp_log_level level);
enum tp_log_level tp_log_get_level(void);
/* Accepts error, warn(ing), info, debug, trace. Returns 0 or -EINVAL. */
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

#define tp_trace(...)                                    \
	do {                                             \
		if (tp_log_enabled(TP_LOG_TRACE))        \
			tp_log(TP_LOG_TRACE, __VA_ARGS__); \
	} while (0)

#endif
