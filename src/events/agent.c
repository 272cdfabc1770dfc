/* Descriptors of the agent's own events (made in user space): drop. */
#include "events/types.h"

static const struct tp_field drop_fields[] = {
	TP_FIELD(struct tp_agent_drop_event, "lost_category", lost_category, TP_FK_STR),
	TP_FIELD(struct tp_agent_drop_event, "count", count, TP_FK_U64),
	TP_FIELD(struct tp_agent_drop_event, "window_ns", window_ns, TP_FK_U64),
	TP_FIELD(struct tp_agent_drop_event, "total", total, TP_FK_U64),
};

const struct tp_event_type tp_agent_event_types[] = {
	{ .id = TP_EV_AGENT_DROP, .name = "agent.drop", .size = sizeof(struct tp_agent_drop_event),
	  .min_size = sizeof(struct tp_agent_drop_event), TP_FIELDS(drop_fields) },
	{ 0 },
};
