#include "storage/source_raw.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "events/decode.h"
#include "obs/log.h"
#include "storage/raw_reader.h"
#include "util/time.h"

struct raw_source {
	struct tp_source base;
	char path[PATH_MAX];
	bool single_file;
	bool active; /* a live writer holds the directory: its newest segment grows */
	struct tp_raw_seg_info *segs;
	size_t nsegs;
	size_t next_seg;
	bool reading;
	char seg_path[PATH_MAX + 40];
	struct tp_raw_filter filter;
	uint64_t decode_errors[TP_DECODE_NERRORS];
	struct tp_raw_source_stats st;
	struct tp_raw_seg_reader rd;
	struct tp_event ev;
};

static bool is_newest_of_active(const struct raw_source *s)
{
	return s->active && s->next_seg == s->nsegs;
}

/* Say once what a segment skipped, if anything, in one line. */
static void report_damage(struct raw_source *s)
{
	const struct tp_raw_seg_reader *r = &s->rd;
	unsigned long long n = (unsigned long long)r->skipped_regions;

	if (!n)
		return;
	s->st.damaged_regions += r->skipped_regions;
	s->st.damaged_bytes += r->skipped_bytes;
	tp_warn("raw segment %s is damaged at byte %llu (%s): skipped %llu bytes in %llu %s "
		"between bytes %llu and %llu%s%s; %llu records read",
		s->seg_path, (unsigned long long)r->skipped_from, r->skipped_why,
		(unsigned long long)r->skipped_bytes, n, n == 1 ? "region" : "regions",
		(unsigned long long)r->skipped_from, (unsigned long long)r->skipped_to,
		r->end == TP_RAW_SEG_CORRUPT ? ", " : ", reading on after each",
		r->end == TP_RAW_SEG_CORRUPT ? r->why : "", (unsigned long long)r->records);
}

/* Say once how a segment ended, when it is not the plain good ending. */
static void report_end(struct raw_source *s)
{
	const struct tp_raw_seg_reader *r = &s->rd;
	unsigned long long recs = (unsigned long long)r->records;
	unsigned long long at = (unsigned long long)r->end_offset;
	unsigned long long ign = (unsigned long long)r->bytes_ignored;
	const char *p = s->seg_path;
	bool damaged = r->skipped_regions > 0; /* a segment counts once */

	report_damage(s);
	switch (r->end) {
	case TP_RAW_SEG_READING:
	case TP_RAW_SEG_CLOSED:
		if (r->why[0])
			tp_warn("raw segment %s: %s", p, r->why);
		break;
	case TP_RAW_SEG_UNCLOSED:
		if (is_newest_of_active(s))
			break;
		s->st.segments_unclosed++;
		tp_info("raw segment %s was not closed by its writer (stopped by a crash, kill or "
			"power loss); its %llu records are intact%s%s",
			p, recs, r->why[0] ? "; " : "", r->why);
		break;
	case TP_RAW_SEG_REUSED:
		tp_info("raw segment %s: %s; %llu records read", p, r->why, recs);
		break;
	case TP_RAW_SEG_TORN:
		if (is_newest_of_active(s)) {
			tp_debug("raw segment %s: being written; read up to byte %llu", p, at);
			break;
		}
		damaged = true;
		s->st.segments_unclosed++;
		tp_warn("raw segment %s has a torn tail at byte %llu (%s: the writer stopped "
			"mid-write); %llu bytes ignored, the %llu records before it are intact",
			p, at, r->why, ign, recs);
		break;
	case TP_RAW_SEG_CORRUPT:
		break; /* said by report_damage */
	case TP_RAW_SEG_BAD_HEADER:
		if (is_newest_of_active(s) && r->end_offset == 0 &&
		    ign < sizeof(struct tp_raw_seg_hdr))
			break; /* just created by the live writer */
		damaged = true;
		tp_warn("raw segment %s skipped: %s", p, r->why);
		break;
	case TP_RAW_SEG_IO_ERROR:
		damaged = true;
		tp_warn("raw segment %s: %s at byte %llu; %llu records read before it", p, r->why,
			at, recs);
		break;
	}
	s->st.segments_damaged += damaged;
}

static int open_next_segment(struct raw_source *s)
{
	char err[PATH_MAX + 128];

	while (s->next_seg < s->nsegs) {
		const struct tp_raw_seg_info *si = &s->segs[s->next_seg++];

		if (s->single_file)
			snprintf(s->seg_path, sizeof(s->seg_path), "%s", s->path);
		else
			snprintf(s->seg_path, sizeof(s->seg_path), "%s/%s", s->path, si->name);
		if (tp_raw_seg_open(&s->rd, s->seg_path, err, sizeof(err)) < 0) {
			if (errno == ENOENT || strstr(err, strerror(ENOENT)))
				tp_debug("raw segment %s was deleted before it was read",
					 s->seg_path);
			else {
				s->st.segments_damaged++;
				tp_warn("raw segment skipped: %s", err);
			}
			continue;
		}
		s->st.segments++;
		s->reading = true;
		return 1;
	}
	return 0;
}

static bool wanted(const struct raw_source *s, const uint8_t *rec, uint32_t len, uint64_t ts)
{
	const struct tp_raw_filter *f = &s->filter;
	struct tp_hdr h;

	if (f->since_ns && ts < f->since_ns)
		return false;
	if (f->until_ns && ts > f->until_ns)
		return false;
	if (!f->by_type)
		return true;
	if (len < sizeof(h))
		return false;
	memcpy(&h, rec, sizeof(h));
	return TP_TYPE_CATEGORY(h.type) < TP_CAT_MAX && h.type <= 0xffff && (h.type & 0xff) < 64 &&
	       f->want[TP_TYPE_CATEGORY(h.type)][h.type & 0xff];
}

static void report_decode_error(struct raw_source *s, int err, const uint8_t *rec, uint32_t len)
{
	struct tp_hdr h = {0};
	char hint[96] = "";

	s->st.decode_errors++;
	if (s->decode_errors[-err]++)
		return;
	if (len >= sizeof(h))
		memcpy(&h, rec, sizeof(h));
	if (err == -TP_DECODE_UNKNOWN_TYPE)
		snprintf(hint, sizeof(hint), " (type 0x%x: written by a newer tapio-collector?)",
			 h.type);
	tp_warn("raw segment %s, byte %llu: skipping a stored record: %s%s; further ones are "
		"only counted",
		s->seg_path, (unsigned long long)s->rd.frame_offset, tp_decode_strerror(err), hint);
}

static int raw_poll(struct tp_source *src, int timeout_ms, int max, tp_event_fn fn, void *ctx)
{
	struct raw_source *s = (struct raw_source *)src;
	int n = 0;

	(void)timeout_ms; /* stored events are always ready */
	while (n < max) {
		const uint8_t *rec;
		uint32_t len;
		uint64_t ts;
		struct tp_hdr h;
		int r;

		if (!s->reading && !open_next_segment(s))
			return n ? n : -ENODATA;
		r = tp_raw_seg_next(&s->rd, &rec, &len, &ts);
		if (r == 0) {
			report_end(s);
			tp_raw_seg_close(&s->rd);
			s->reading = false;
			continue;
		}
		s->st.records++;
		if (!wanted(s, rec, len, ts))
			continue;
		/* The header's boot-time stamp plus this offset gives back the
		 * stored wall-clock time exactly. */
		memset(&h, 0, sizeof(h));
		memcpy(&h, rec, len < sizeof(h) ? len : sizeof(h));
		r = tp_decode(rec, len, (int64_t)(ts - h.ts_ns), &s->ev);
		if (r < 0) {
			report_decode_error(s, r, rec, len);
			continue;
		}
		s->st.delivered++;
		n++;
		if (fn(ctx, &s->ev) < 0)
			break;
	}
	return n;
}

static uint64_t raw_decode_errors(const struct tp_source *src, int kind)
{
	const struct raw_source *s = (const struct raw_source *)src;

	return kind > 0 && kind < TP_DECODE_NERRORS ? s->decode_errors[kind] : 0;
}

static void raw_close(struct tp_source *src)
{
	struct raw_source *s = (struct raw_source *)src;

	if (s->reading)
		tp_raw_seg_close(&s->rd);
	free(s->segs);
	free(s);
}

static const struct tp_source_ops raw_source_ops = {
    .name = "raw",
    .poll = raw_poll,
    .decode_errors = raw_decode_errors,
    .close = raw_close,
};

int tp_source_raw_open(struct tp_source **out, const char *path, const struct tp_raw_filter *filter,
		       char *err, size_t errlen)
{
	struct raw_source *s;
	struct stat st;
	int r;

	*out = NULL;
	if (strlen(path) >= PATH_MAX) {
		snprintf(err, errlen, "path too long");
		return -ENAMETOOLONG;
	}
	if (stat(path, &st) < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(-r));
		return r;
	}
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s is neither a raw storage directory nor a segment file",
			 path);
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->base.ops = &raw_source_ops;
	strcpy(s->path, path);
	if (filter)
		s->filter = *filter;
	if (S_ISREG(st.st_mode)) {
		s->single_file = true;
		s->segs = calloc(1, sizeof(*s->segs));
		s->nsegs = 1;
		if (!s->segs) {
			free(s);
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
	} else {
		r = tp_raw_list(path, &s->segs, &s->nsegs);
		if (r < 0) {
			snprintf(err, errlen, "cannot list %s: %s", path, strerror(-r));
			free(s);
			return r;
		}
		s->active = tp_raw_dir_active(path);
		if (!s->nsegs)
			tp_warn("no raw segments (%s*%s) in %s", TP_RAW_SEG_PREFIX,
				TP_RAW_SEG_SUFFIX, path);
	}
	*out = &s->base;
	return 0;
}

void tp_source_raw_stats(const struct tp_source *src, struct tp_raw_source_stats *st)
{
	*st = ((const struct raw_source *)src)->st;
}

int tp_raw_filter_add_types(struct tp_raw_filter *f, const char *list, char *err, size_t errlen)
{
	char buf[512], *save = NULL;

	if (strlen(list) >= sizeof(buf) || !*list) {
		snprintf(err, errlen, "invalid --type '%s'", list);
		return -EINVAL;
	}
	strcpy(buf, list);
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		const struct tp_event_type *t = tp_event_type_by_name(tok);
		int cat;

		if (t) {
			f->want[TP_TYPE_CATEGORY(t->id)][t->id & 0xff] = true;
		} else if ((cat = tp_category_by_name(tok)) > 0) {
			for (size_t i = 0; (t = tp_event_type_at(i)); i++)
				if (TP_TYPE_CATEGORY(t->id) == (unsigned)cat)
					f->want[cat][t->id & 0xff] = true;
		} else {
			snprintf(
			    err, errlen,
			    "unknown event type '%s': expected a type such as process.exec or a "
			    "category (process, file, network, security, container, memory)",
			    tok);
			return -EINVAL;
		}
	}
	f->by_type = true;
	return 0;
}

/* Digits into *v (at most max of them); returns how many were read. */
static int digits(const char **s, int max, long long *v)
{
	int n = 0;

	*v = 0;
	while (n < max && isdigit((unsigned char)**s)) {
		*v = *v * 10 + (**s - '0');
		(*s)++;
		n++;
	}
	return n;
}

static int parse_fraction_ns(const char **s, uint64_t *ns)
{
	uint64_t scale = 100000000;

	*ns = 0;
	if (**s != '.')
		return 0;
	(*s)++;
	if (!isdigit((unsigned char)**s))
		return -EINVAL;
	while (isdigit((unsigned char)**s)) {
		*ns += (uint64_t)(**s - '0') * scale;
		scale /= 10;
		(*s)++;
	}
	return 0;
}

static int parse_rfc3339(const char *s, uint64_t *out)
{
	long long y, mo, d, h = 0, mi = 0, sec = 0, oh = 0, om = 0;
	struct tm tm = {0};
	uint64_t frac = 0;
	int sign = 0;
	time_t t;

	if (digits(&s, 4, &y) != 4 || *s++ != '-' || digits(&s, 2, &mo) != 2 || *s++ != '-' ||
	    digits(&s, 2, &d) != 2)
		return -EINVAL;
	if (*s == 'T' || *s == 't' || *s == ' ') {
		s++;
		if (digits(&s, 2, &h) != 2 || *s++ != ':' || digits(&s, 2, &mi) != 2 ||
		    *s++ != ':' || digits(&s, 2, &sec) != 2 || parse_fraction_ns(&s, &frac) < 0)
			return -EINVAL;
		if (*s == 'Z' || *s == 'z') {
			s++;
		} else if (*s == '+' || *s == '-') {
			sign = *s++ == '-' ? -1 : 1;
			if (digits(&s, 2, &oh) != 2 || *s++ != ':' || digits(&s, 2, &om) != 2)
				return -EINVAL;
		} else {
			return -EINVAL; /* a time without a zone is ambiguous */
		}
	}
	if (*s || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 ||
	    oh > 23 || om > 59 || y < 1970)
		return -EINVAL;
	tm.tm_year = (int)(y - 1900);
	tm.tm_mon = (int)(mo - 1);
	tm.tm_mday = (int)d;
	tm.tm_hour = (int)h;
	tm.tm_min = (int)mi;
	tm.tm_sec = (int)sec;
	t = timegm(&tm);
	t -= sign * (time_t)(oh * 3600 + om * 60);
	if (t < 0)
		return -EINVAL;
	*out = (uint64_t)t * TP_NSEC_PER_SEC + frac;
	return 0;
}

int tp_raw_parse_time(const char *s, uint64_t now_ns, uint64_t *out)
{
	const char *p = s;
	uint64_t v;

	if (!s || !*s)
		return -EINVAL;
	if (strspn(s, "0123456789") == strlen(s)) {
		char *end;

		errno = 0;
		v = strtoull(s, &end, 10);
		/* ns since the epoch, as in the JSON ts field; a small number is
		 * more likely a duration without its unit than a time in 1970. */
		if (errno || v < 100000000000000000ull)
			return -EINVAL;
		*out = v;
		return 0;
	}
	if (*p == '@') {
		long long sec;
		uint64_t frac;

		p++;
		if (!digits(&p, 12, &sec) || parse_fraction_ns(&p, &frac) < 0 || *p)
			return -EINVAL;
		*out = (uint64_t)sec * TP_NSEC_PER_SEC + frac;
		return 0;
	}
	if (strlen(s) >= 10 && s[4] == '-')
		return parse_rfc3339(s, out);
	if (*p == '-')
		p++;
	if (!isdigit((unsigned char)*p) || isdigit((unsigned char)p[strlen(p) - 1]) ||
	    tp_parse_duration(p, &v) < 0 || v > now_ns)
		return -EINVAL;
	*out = now_ns - v;
	return 0;
}
