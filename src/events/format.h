/*
 * events/format.h - one event as a line of text or JSON.
 *
 * JSON: one object per line with type, ts (wall clock ns), cpu, pid, tid,
 * ppid, uid, gid, comm, cgroup_id (and cgroup_v1_id when a v1 hierarchy is
 * tracked), then the type's own fields under their Lua
 * names; symbolic values add "<field>_str". Alerts add rule, severity,
 * importance, tags and output. Text: a time, the type and key=value pairs,
 * coloured by category and severity when color is set.
 */
#ifndef TAPIO_FORMAT_H
#define TAPIO_FORMAT_H

#include <stdbool.h>

#include "events/event.h"
#include "events/event_meta.h"
#include "util/buf.h"

enum tp_output_format {
	TP_FMT_TEXT,
	TP_FMT_JSON,
	TP_FMT_NONE,
};

/* Returns 0 or -EINVAL for an unknown name ("text", "json", "none"). */
int tp_format_parse(const char *name, enum tp_output_format *fmt);

/* Append one line, newline included. meta may be NULL. */
void tp_format_json(struct tp_buf *b, const struct tp_event *ev, const struct tp_event_meta *meta);
void tp_format_text(struct tp_buf *b, const struct tp_event *ev, const struct tp_event_meta *meta,
		    bool color);

/* Append the type's own fields (not the header) as "name":value pairs, each
 * preceded by a comma. Used by the JSON formatter and by other encoders. */
void tp_format_json_fields(struct tp_buf *b, const struct tp_event *ev);

#endif
