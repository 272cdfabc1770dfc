#include "util/time.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t tp_now_ns(int clock_id)
{
	struct timespec ts;

	clock_gettime(clock_id, &ts);
	return (uint64_t)ts.tv_sec * TP_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

int64_t tp_boot_to_wall_offset(void)
{
	/* Take the tightest of a few samples so a preemption between the two
	 * reads does not skew every timestamp of the run. */
	int64_t best = 0;
	uint64_t best_gap = UINT64_MAX;

	for (int i = 0; i < 5; i++) {
		uint64_t b1 = tp_now_ns(CLOCK_BOOTTIME);
		uint64_t w = tp_now_ns(CLOCK_REALTIME);
		uint64_t b2 = tp_now_ns(CLOCK_BOOTTIME);

		if (b2 - b1 < best_gap) {
			best_gap = b2 - b1;
			best = (int64_t)w - (int64_t)(b1 + (b2 - b1) / 2);
		}
	}
	return best;
}

static int parse_number_unit(const char *s, double *num, const char **unit)
{
	char *end;

	if (!s || !*s || *s == '-' || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	*num = strtod(s, &end);
	/* strtod also reads "nan", "inf" and hex floats: numbers only. */
	if (errno || end == s || *num < 0 || !isfinite(*num) || !isdigit((unsigned char)*s) ||
	    (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')))
		return -EINVAL;
	*unit = end;
	return 0;
}

int tp_parse_duration(const char *s, uint64_t *ns)
{
	static const struct {
		const char *name;
		double mult;
	} units[] = {
		{ "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 },
		{ "", 1e9 }, { "m", 60e9 }, { "h", 3600e9 }, { "d", 86400e9 },
	};
	const char *unit;
	double v;

	if (parse_number_unit(s, &v, &unit) < 0)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(unit, units[i].name) == 0) {
			double r = v * units[i].mult;

			if (r > 1.8e19)
				return -EINVAL;
			*ns = (uint64_t)r;
			return 0;
		}
	}
	return -EINVAL;
}

int tp_parse_size(const char *s, uint64_t *bytes)
{
	const char *unit;
	double v, mult;

	if (parse_number_unit(s, &v, &unit) < 0)
		return -EINVAL;
	if (!strcmp(unit, "") || !strcasecmp(unit, "b"))
		mult = 1;
	else if (!strcasecmp(unit, "k") || !strcasecmp(unit, "kb") || !strcasecmp(unit, "kib"))
		mult = 1024.0;
	else if (!strcasecmp(unit, "m") || !strcasecmp(unit, "mb") || !strcasecmp(unit, "mib"))
		mult = 1024.0 * 1024;
	else if (!strcasecmp(unit, "g") || !strcasecmp(unit, "gb") || !strcasecmp(unit, "gib"))
		mult = 1024.0 * 1024 * 1024;
	else
		return -EINVAL;
	if (v * mult > 1.8e19)
		return -EINVAL;
	*bytes = (uint64_t)(v * mult);
	return 0;
}

void tp_format_rfc3339(uint64_t wall_ns, char *buf, unsigned long len)
{
	time_t sec = (time_t)(wall_ns / TP_NSEC_PER_SEC);
	unsigned ms = (unsigned)((wall_ns % TP_NSEC_PER_SEC) / TP_NSEC_PER_MSEC);
	struct tm tm;
	char tmp[32];

	gmtime_r(&sec, &tm);
	strftime(tmp, sizeof(tmp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03uZ", tmp, ms);
}
