/*
 * The registry of event types: every family's descriptor table (events/
 * <family>.c, declared in events/types.h), indexed by id and by name. The
 * model (events/event.h) knows nothing of the families; this unit is the
 * one place that lists them.
 */
#include "events/event.h"

#include <stdbool.h>
#include <string.h>

#include "events/types.h"

/* Every family's descriptor table; each ends with a zeroed entry. */
static const struct tp_event_type *const families[] = {
	tp_process_event_types,
	tp_file_event_types,
	tp_network_event_types,
	tp_security_event_types,
	tp_container_event_types,
	tp_memory_event_types,
	tp_agent_event_types,
};

#define TP_SUBTYPE_MAX 64
static const struct tp_event_type *by_id[TP_CAT_MAX][TP_SUBTYPE_MAX];
static const struct tp_event_type *all_types[TP_CAT_MAX * TP_SUBTYPE_MAX];
static size_t ntypes;

static void registry_init(void)
{
	static bool done;

	if (done)
		return;
	for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++) {
		for (const struct tp_event_type *t = families[f]; t->name; t++) {
			unsigned cat = TP_TYPE_CATEGORY(t->id), sub = t->id & 0xff;

			if (cat < TP_CAT_MAX && sub < TP_SUBTYPE_MAX) {
				by_id[cat][sub] = t;
				all_types[ntypes++] = t;
			}
		}
	}
	done = true;
}

/* Registration happens before main's threads start. */
__attribute__((constructor)) static void registry_ctor(void)
{
	registry_init();
}

const struct tp_event_type *tp_event_type_by_id(uint32_t id)
{
	unsigned cat = TP_TYPE_CATEGORY(id), sub = id & 0xff;

	if (id > 0xffff || cat >= TP_CAT_MAX || sub >= TP_SUBTYPE_MAX)
		return NULL;
	return by_id[cat][sub];
}

const struct tp_event_type *tp_event_type_by_name(const char *name)
{
	for (size_t i = 0; i < ntypes; i++)
		if (!strcmp(all_types[i]->name, name))
			return all_types[i];
	return NULL;
}

const struct tp_event_type *tp_event_type_at(size_t i)
{
	return i < ntypes ? all_types[i] : NULL;
}
