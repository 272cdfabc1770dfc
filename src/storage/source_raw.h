/*
 * source_raw.h - stored raw events as an event source.
 *
 * Implements struct tp_source over a raw storage directory (or one segment
 * file): segments oldest first, each record decoded by the same tp_decode as
 * the live source, with the wall-clock time it was stored with. Rules and
 * outputs cannot tell it from the live BPF source, except that it ends
 * (poll returns -ENODATA). Damaged bytes inside a segment are skipped up
 * to the next intact frame; each segment with damage, a torn tail or that
 * cannot be read is reported once, and reading goes on with the next one.
 */
#ifndef TAPIO_STORAGE_SOURCE_RAW_H
#define TAPIO_STORAGE_SOURCE_RAW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "events/event.h"
#include "pipeline/source.h"

struct tp_raw_filter {
	uint64_t since_ns; /* wall clock; 0: from the start */
	uint64_t until_ns; /* wall clock, inclusive; 0: to the end */
	bool by_type;	   /* only the types marked in want */
	bool want[TP_CAT_MAX][64];
};

struct tp_raw_source_stats {
	uint64_t segments;	    /* opened */
	uint64_t records;	    /* intact records read */
	uint64_t delivered;	    /* passed the filter and decoded */
	uint64_t decode_errors;	    /* intact records tp_decode refused */
	uint64_t segments_damaged;  /* torn, corrupt, bad header or unreadable */
	uint64_t damaged_regions;   /* runs of damaged bytes skipped inside segments */
	uint64_t damaged_bytes;	    /* bytes in them */
	uint64_t segments_unclosed; /* their writer stopped without closing them */
};

/* path: a raw storage directory or one segment file. filter may be NULL.
 * On failure err holds a sentence for the user. */
int tp_source_raw_open(struct tp_source **out, const char *path, const struct tp_raw_filter *filter,
		       char *err, size_t errlen);

void tp_source_raw_stats(const struct tp_source *src, struct tp_raw_source_stats *st);

/* Fill f->want from a comma-separated list of types ("process.exec") and
 * categories ("network"); sets f->by_type. Returns 0 or -EINVAL (err set). */
int tp_raw_filter_add_types(struct tp_raw_filter *f, const char *list, char *err, size_t errlen);

/*
 * Parse a point in time for --since / --until into wall-clock ns:
 * RFC 3339 ("2024-05-01T10:00:00Z", "...+02:00", fractions allowed),
 * "@SECONDS[.FRACTION]" since the epoch, ns since the epoch as printed in
 * the JSON "ts" field, or a duration back from now ("15m", "2h"; now_ns is
 * the reference). Returns 0 or -EINVAL.
 */
int tp_raw_parse_time(const char *s, uint64_t now_ns, uint64_t *out);

#endif
