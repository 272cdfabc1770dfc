#include "events/event_meta.h"

#include <string.h>

const char *const tp_severity_names[TP_SEV_COUNT + 1] = {
    [TP_SEV_DEBUG] = "debug",	  [TP_SEV_INFO] = "info",   [TP_SEV_NOTICE] = "notice",
    [TP_SEV_WARNING] = "warning", [TP_SEV_ERROR] = "error", [TP_SEV_CRITICAL] = "critical",
    [TP_SEV_COUNT] = NULL,
};

int tp_severity_parse(const char *name)
{
	for (int i = 0; name && i < TP_SEV_COUNT; i++)
		if (!strcmp(name, tp_severity_names[i]))
			return i;
	/* The spellings of log levels and syslog. */
	if (name && !strcmp(name, "warn"))
		return TP_SEV_WARNING;
	if (name && !strcmp(name, "err"))
		return TP_SEV_ERROR;
	if (name && !strcmp(name, "crit"))
		return TP_SEV_CRITICAL;
	return -1;
}
