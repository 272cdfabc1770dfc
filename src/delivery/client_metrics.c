/*
 * The delivery metrics of one output (tapio_delivery_*{output="<name>"}),
 * registered at start and published from the delivery thread.
 */
#include <stdio.h>

#include "delivery/client_internal.h"
#include "obs/health.h"
#include "util/time.h"

const char *const tp_client_drop_reason_names[DROP_MAX] = {
	"queue_full", "encode", "spool_full", "spool_corrupt", "rejected", "shutdown",
};

static void metric(struct tp_metric *m, enum tp_metric_type type, const char *name,
		   const char *help, const char *labels)
{
	*m = (struct tp_metric){ .name = name, .help = help, .type = type, .labels = labels };
	tp_metric_register(m);
}

void tp_client_metrics_register(struct tp_client *c)
{
	struct client_metrics *m = &c->m;
	const char *l = m->label;

	snprintf(m->label, sizeof(m->label), "output=\"%s\"", c->t->name);
	metric(&m->sent, TP_METRIC_COUNTER, "tapio_delivery_events_sent_total",
	       "Events sent to the receiver (resends included).", l);
	metric(&m->acked, TP_METRIC_COUNTER, "tapio_delivery_events_acked_total",
	       "Events the receiver acknowledged.", l);
	metric(&m->resent, TP_METRIC_COUNTER, "tapio_delivery_events_resent_total",
	       "Events sent again after a failed or unacknowledged attempt.", l);
	metric(&m->spooled, TP_METRIC_COUNTER, "tapio_delivery_events_spooled_total",
	       "Events written to the disk spool.", l);
	metric(&m->reconnects, TP_METRIC_COUNTER, "tapio_delivery_reconnects_total",
	       "Deliveries that worked again after a failure.", l);
	metric(&m->call_failures, TP_METRIC_COUNTER, "tapio_delivery_call_failures_total",
	       "gRPC calls that failed (unreachable, refused, reset...).", l);
	metric(&m->bytes_sent, TP_METRIC_COUNTER, "tapio_delivery_bytes_sent_total",
	       "Request message bytes sent (protobuf, before gRPC framing).", l);
	metric(&m->batches_acked, TP_METRIC_COUNTER, "tapio_delivery_batches_acked_total",
	       "Batches the receiver acknowledged.", l);
	metric(&m->unknown_acks, TP_METRIC_COUNTER, "tapio_delivery_unknown_acks_total",
	       "Acks for batches not waiting for one (duplicates, late acks).", l);
	metric(&m->spool_errors, TP_METRIC_COUNTER, "tapio_delivery_spool_errors_total",
	       "Failed spool writes, reads and removals.", l);
	for (int i = 0; i < DROP_MAX; i++) {
		snprintf(m->drop_labels[i], sizeof(m->drop_labels[i]), "%s,reason=\"%s\"", l,
			 tp_client_drop_reason_names[i]);
		metric(&m->dropped[i], TP_METRIC_COUNTER, "tapio_delivery_events_dropped_total",
		       "Events that will never be delivered, by reason.", m->drop_labels[i]);
	}
	metric(&m->last_success, TP_METRIC_GAUGE, "tapio_delivery_last_success_timestamp_seconds",
	       "Wall-clock time of the last acknowledged batch.", l);
	metric(&m->connected, TP_METRIC_GAUGE, "tapio_delivery_connected",
	       "1 while the receiver acknowledges batches, 0 after a failure.", l);
	metric(&m->queue_bytes, TP_METRIC_GAUGE, "tapio_delivery_queue_bytes",
	       "Encoded events waiting in memory.", l);
	metric(&m->queue_events, TP_METRIC_GAUGE, "tapio_delivery_queue_events",
	       "Events waiting in memory.", l);
	metric(&m->spool_bytes, TP_METRIC_GAUGE, "tapio_delivery_spool_bytes",
	       "Bytes of batches waiting in the disk spool.", l);
	metric(&m->spool_events, TP_METRIC_GAUGE, "tapio_delivery_spool_events",
	       "Events waiting in the disk spool.", l);
}

void tp_client_metrics_unregister(struct tp_client *c)
{
	struct client_metrics *m = &c->m;
	struct tp_metric *all[] = {
		&m->sent, &m->acked, &m->resent, &m->spooled, &m->reconnects, &m->call_failures,
		&m->bytes_sent, &m->batches_acked, &m->unknown_acks, &m->spool_errors,
		&m->last_success, &m->connected, &m->queue_bytes, &m->queue_events,
		&m->spool_bytes, &m->spool_events,
	};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		tp_metric_unregister(all[i]);
	for (int i = 0; i < DROP_MAX; i++)
		tp_metric_unregister(&m->dropped[i]);
}

/* Store counters and gauges, from the delivery thread. */
void tp_client_publish(struct tp_client *c)
{
	struct tp_store_counters *s = &c->store.c, *p = &c->published;
	struct tp_store *st = &c->store;

	tp_metric_add(&c->m.spooled, s->spooled - p->spooled);
	tp_metric_add(&c->m.dropped[DROP_SPOOL_FULL], s->dropped_full - p->dropped_full);
	if (s->dropped_full != p->dropped_full)
		tp_health_set_for(c->health_drops, 60 * TP_NSEC_PER_SEC,
				  "%llu events dropped at the spool cap (receiver down or slow for "
				  "too long)",
				  (unsigned long long)s->dropped_full);
	tp_metric_add(&c->m.dropped[DROP_SPOOL_CORRUPT], s->dropped_corrupt - p->dropped_corrupt);
	tp_metric_add(&c->m.spool_errors, s->spool_errors - p->spool_errors);
	*p = *s;
	tp_metric_set(&c->m.queue_bytes,
		      st->mem_bytes + c->open.items.len + tp_staging_bytes(&c->staging));
	tp_metric_set(&c->m.queue_events, st->events - st->disk_events + c->open.n +
						  tp_staging_count(&c->staging));
	tp_metric_set(&c->m.spool_bytes, st->disk_bytes);
	tp_metric_set(&c->m.spool_events, st->disk_events);
}
