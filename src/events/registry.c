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

/* Per type, the indices of the fields the decoder checks (strings, argv,
 * env): it skips the others without looking at each. */
static struct {
	uint8_t n;
	uint8_t idx[TP_CHECKED_FIELDS_MAX];
} checked[TP_CAT_MAX][TP_SUBTYPE_MAX];

static bool is_checked(enum tp_field_kind k)
{
	return k == TP_FK_STR || k == TP_FK_ARGV || k == TP_FK_ENV;
}

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
				for (uint32_t i = 0; i < t->nfields; i++) {
					if (!is_checked(t->fields[i].kind))
						continue;
					/* test_event_types: no type has more */
					if (checked[cat][sub].n < TP_CHECKED_FIELDS_MAX &&
					    i <= UINT8_MAX)
						checked[cat][sub].idx[checked[cat][sub].n++] =
						    (uint8_t)i;
				}
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

const uint8_t *tp_event_type_checked_fields(uint32_t id, uint32_t *n)
{
	unsigned cat = TP_TYPE_CATEGORY(id), sub = id & 0xff;

	if (id > 0xffff || cat >= TP_CAT_MAX || sub >= TP_SUBTYPE_MAX) {
		*n = 0;
		return NULL;
	}
	*n = checked[cat][sub].n;
	return checked[cat][sub].idx;
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
