/*
 * time.h - clocks and durations.
 */
#ifndef TAPIO_UTIL_TIME_H
#define TAPIO_UTIL_TIME_H

#include <stdint.h>

#define TP_NSEC_PER_SEC 1000000000ULL
#define TP_NSEC_PER_MSEC 1000000ULL

uint64_t tp_now_ns(int clock_id);
static inline uint64_t tp_mono_ns(void) { return tp_now_ns(1 /* CLOCK_MONOTONIC */); }

/* Offset to add to a CLOCK_BOOTTIME timestamp to get wall-clock ns. */
int64_t tp_boot_to_wall_offset(void);

/* Parse "500ms", "5s", "2m", "1h", "250us", "100ns" or a bare number of
 * seconds. Returns 0 or -EINVAL (unknown unit, overflow, negative). */
int tp_parse_duration(const char *s, uint64_t *ns);

/* Parse "64", "16k", "8M", "1G" (powers of 1024). Returns 0 or -EINVAL. */
int tp_parse_size(const char *s, uint64_t *bytes);

/* Format wall-clock ns as RFC 3339 UTC with milliseconds into buf (>= 25 bytes). */
void tp_format_rfc3339(uint64_t wall_ns, char *buf, unsigned long len);

#endif
