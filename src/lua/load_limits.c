#include "lua/load_limits.h"

#include <errno.h>
#include <stdio.h>

static const struct {
	const char *what, *unit, *whom;
	size_t max;
} limits[TP_LOAD_LIMITS] = {
	[TP_LOAD_FILE_BYTES] = {"file", "bytes", "a rule file", 4u << 20},
	[TP_LOAD_FILES] = {"rule files", "files", "one load", 1024},
	[TP_LOAD_FUNCTIONS] = {"rules", "rules, filters, enrich and score functions", "a rule set",
			       10000},
	[TP_LOAD_NAME_BYTES] = {"name", "bytes", "a rule's name", 128},
	[TP_LOAD_DESC_BYTES] = {"desc", "bytes", "a rule's desc", 4096},
	[TP_LOAD_TAGS] = {"tags", "entries", "a rule", 64},
	[TP_LOAD_TAG_BYTES] = {"tags", "bytes in one tag", "a tag", 128},
	[TP_LOAD_EVENTS] = {"events", "entries", "a rule", 256},
	[TP_LOAD_TESTS] = {"tests", "tests", "a rule", 100},
	[TP_LOAD_TESTS_TOTAL] = {"tests", "tests in all", "one load", 10000},
	[TP_LOAD_LIST_ITEMS] = {"list", "entries", "a list", 100000},
};

size_t tp_load_max(enum tp_load_limit which)
{
	return limits[which].max;
}

int tp_load_check(enum tp_load_limit which, size_t n, char *err, size_t errlen)
{
	if (n <= limits[which].max)
		return 0;
	snprintf(err, errlen, "%s: %zu %s, more than the %zu %s may have", limits[which].what, n,
		 limits[which].unit, limits[which].max, limits[which].whom);
	return -E2BIG;
}
