#include "output/lines.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "delivery/backoff.h"
#include "delivery/staging.h"
#include "obs/health.h"
#include "obs/log.h"
#include "obs/metrics.h"
#include "util/time.h"

#define TICK_BUSY_NS (10 * TP_NSEC_PER_MSEC)
#define TICK_IDLE_NS (100 * TP_NSEC_PER_MSEC)
#define FAILURE_LOG_EVERY_NS (30 * TP_NSEC_PER_SEC)

enum { DROP_QUEUE_FULL, DROP_REJECTED, DROP_SHUTDOWN, DROP_ENCODE, DROP_MAX };
static const char *const drop_names[DROP_MAX] = { "queue_full", "rejected", "shutdown", "encode" };

struct tp_lines {
	struct tp_lines_sink sink;
	uint64_t drain_timeout_ns;
	pthread_t thread;
	bool thread_started;
	atomic_bool stop;

	struct tp_staging staging;
	struct tp_staged pending; /* taken from staging, not yet delivered */
	size_t off;               /* bytes of pending already delivered */
	struct tp_backoff backoff;
	uint64_t retry_at_ns;
	bool failing;
	uint64_t failures, last_log_ns;

	char label[64], drop_labels[DROP_MAX][96], health[48];
	struct tp_metric acked, failed, connected, last_success, queue_bytes, queue_events;
	struct tp_metric dropped[DROP_MAX];
};

static void metric(struct tp_metric *m, enum tp_metric_type type, const char *name,
		   const char *help, const char *labels)
{
	*m = (struct tp_metric){ .name = name, .help = help, .type = type, .labels = labels };
	tp_metric_register(m);
}

static void metrics_register(struct tp_lines *l)
{
	snprintf(l->label, sizeof(l->label), "output=\"%s\"", l->sink.name);
	metric(&l->acked, TP_METRIC_COUNTER, "tapio_delivery_events_acked_total",
	       "Events the receiver acknowledged.", l->label);
	metric(&l->failed, TP_METRIC_COUNTER, "tapio_delivery_call_failures_total",
	       "gRPC calls that failed (unreachable, refused, reset...).", l->label);
	metric(&l->connected, TP_METRIC_GAUGE, "tapio_delivery_connected",
	       "1 while the receiver acknowledges batches, 0 after a failure.", l->label);
	metric(&l->last_success, TP_METRIC_GAUGE, "tapio_delivery_last_success_timestamp_seconds",
	       "Wall-clock time of the last acknowledged batch.", l->label);
	metric(&l->queue_bytes, TP_METRIC_GAUGE, "tapio_delivery_queue_bytes",
	       "Encoded events waiting in memory.", l->label);
	metric(&l->queue_events, TP_METRIC_GAUGE, "tapio_delivery_queue_events",
	       "Events waiting in memory.", l->label);
	for (int i = 0; i < DROP_MAX; i++) {
		snprintf(l->drop_labels[i], sizeof(l->drop_labels[i]), "%s,reason=\"%s\"", l->label,
			 drop_names[i]);
		metric(&l->dropped[i], TP_METRIC_COUNTER, "tapio_delivery_events_dropped_total",
		       "Events that will never be delivered, by reason.", l->drop_labels[i]);
	}
}

static void metrics_unregister(struct tp_lines *l)
{
	struct tp_metric *all[] = { &l->acked, &l->failed, &l->connected, &l->last_success,
				    &l->queue_bytes, &l->queue_events };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		tp_metric_unregister(all[i]);
	for (int i = 0; i < DROP_MAX; i++)
		tp_metric_unregister(&l->dropped[i]);
}

static uint64_t count_lines(const char *p, size_t n)
{
	uint64_t k = 0;

	for (const char *e = p + n; (p = memchr(p, '\n', (size_t)(e - p))); p++)
		k++;
	return k;
}

static void publish(struct tp_lines *l)
{
	size_t left = l->pending.items.len - l->off;

	tp_metric_set(&l->queue_bytes, left + tp_staging_bytes(&l->staging));
	tp_metric_set(&l->queue_events, count_lines(l->pending.items.data + l->off, left) +
						tp_staging_count(&l->staging));
}

static void on_failure(struct tp_lines *l, const char *why, uint64_t now)
{
	tp_metric_add(&l->failed, 1);
	tp_metric_set(&l->connected, 0);
	l->failures++;
	l->retry_at_ns = now + tp_backoff_next(&l->backoff);
	if (!l->failing || now - l->last_log_ns >= FAILURE_LOG_EVERY_NS) {
		tp_warn("%s: %s; %llu events wait and will be delivered again (%llu failed "
			"attempts)",
			l->sink.name, why,
			(unsigned long long)count_lines(l->pending.items.data + l->off,
							l->pending.items.len - l->off),
			(unsigned long long)l->failures);
		l->last_log_ns = now;
	}
	if (!l->failing)
		tp_health_set(l->health, "%s", why);
	l->failing = true;
}

static void on_success(struct tp_lines *l)
{
	tp_metric_set(&l->connected, 1);
	tp_metric_set(&l->last_success, (double)tp_now_ns(CLOCK_REALTIME) / TP_NSEC_PER_SEC);
	tp_backoff_reset(&l->backoff);
	if (l->failing) {
		tp_info("%s: delivering again after %llu failed attempts", l->sink.name,
			(unsigned long long)l->failures);
		tp_health_clear(l->health);
	}
	l->failing = false;
	l->failures = 0;
}

/* One delivery attempt of what is pending. */
static void attempt(struct tp_lines *l, uint64_t now)
{
	const char *p = l->pending.items.data + l->off;
	size_t len = l->pending.items.len - l->off, done = 0;
	char err[256] = "";
	int r = l->sink.deliver(l->sink.ctx, p, len, &done, err, sizeof(err));

	if (done > len)
		done = len;
	tp_metric_add(&l->acked, count_lines(p, done));
	l->off += done;
	if (r == -EBADMSG) {
		/* The first line left is refused for good: drop it, go on at once. */
		const char *s = l->pending.items.data + l->off;
		const char *nl = memchr(s, '\n', l->pending.items.len - l->off);
		size_t n = nl ? (size_t)(nl - s) + 1 : l->pending.items.len - l->off;

		tp_metric_add(&l->dropped[DROP_REJECTED], 1);
		tp_warn("%s: an event was refused and is dropped: %s", l->sink.name, err);
		l->off += n;
		on_success(l);
	} else if (r < 0) {
		on_failure(l, err[0] ? err : strerror(-r), now);
	} else {
		on_success(l);
	}
	if (l->off >= l->pending.items.len) {
		tp_buf_reset(&l->pending.items);
		tp_buf_reset(&l->pending.ranks);
		l->pending.n = 0;
		l->off = 0;
	}
}

static void take(struct tp_lines *l)
{
	struct tp_staged t;

	if (l->pending.items.len || !tp_staging_count(&l->staging))
		return;
	t = l->pending;
	tp_staging_take(&l->staging, &t);
	l->pending = t;
	l->off = 0;
}

static void *run(void *arg)
{
	struct tp_lines *l = arg;
	uint64_t deadline = 0;
	bool stopping = false;

	for (;;) {
		uint64_t now = tp_mono_ns();
		struct timespec ts;
		bool busy;

		if (!stopping && atomic_load(&l->stop)) {
			stopping = true;
			deadline = now + l->drain_timeout_ns;
		}
		take(l);
		if (l->pending.items.len && now >= l->retry_at_ns)
			attempt(l, now);
		if (l->sink.tick)
			l->sink.tick(l->sink.ctx, now);
		publish(l);
		busy = l->pending.items.len || tp_staging_count(&l->staging);
		if (stopping && (!busy || now >= deadline))
			break;
		if (busy && l->pending.items.len && now >= l->retry_at_ns)
			continue; /* more to deliver now */
		ts.tv_sec = 0;
		ts.tv_nsec = (long)(busy || stopping ? TICK_BUSY_NS : TICK_IDLE_NS);
		nanosleep(&ts, NULL);
	}
	{
		uint64_t left = count_lines(l->pending.items.data + l->off,
					    l->pending.items.len - l->off) +
				tp_staging_count(&l->staging);

		if (left) {
			tp_metric_add(&l->dropped[DROP_SHUTDOWN], left);
			tp_warn("%s: %llu events were not delivered before the drain timeout and are "
				"lost",
				l->sink.name, (unsigned long long)left);
		}
	}
	tp_info("%s: delivered %llu events, dropped %llu (queue_full %llu, rejected %llu, "
		"shutdown %llu, encode %llu)",
		l->sink.name, (unsigned long long)tp_metric_get(&l->acked),
		(unsigned long long)(tp_metric_get(&l->dropped[0]) + tp_metric_get(&l->dropped[1]) +
				     tp_metric_get(&l->dropped[2]) + tp_metric_get(&l->dropped[3])),
		(unsigned long long)tp_metric_get(&l->dropped[DROP_QUEUE_FULL]),
		(unsigned long long)tp_metric_get(&l->dropped[DROP_REJECTED]),
		(unsigned long long)tp_metric_get(&l->dropped[DROP_SHUTDOWN]),
		(unsigned long long)tp_metric_get(&l->dropped[DROP_ENCODE]));
	if (l->sink.close)
		l->sink.close(l->sink.ctx);
	return NULL;
}

int tp_lines_start(struct tp_lines **out, const struct tp_lines_sink *sink,
		   const struct tp_config *cfg, char *err, size_t errlen)
{
	struct tp_lines *l = calloc(1, sizeof(*l));
	int r;

	if (!l) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	l->sink = *sink;
	l->drain_timeout_ns = cfg->drain_timeout_ns;
	atomic_init(&l->stop, false);
	tp_staging_init(&l->staging, cfg->queue_max_bytes ? cfg->queue_max_bytes : 64u << 20);
	tp_staged_init(&l->pending);
	tp_backoff_init(&l->backoff, cfg->backoff_min_ns, cfg->backoff_max_ns,
			tp_now_ns(CLOCK_REALTIME) ^ (uint64_t)getpid());
	snprintf(l->health, sizeof(l->health), "%s delivery", sink->name);
	metrics_register(l);
	tp_metric_set(&l->connected, 1);
	r = pthread_create(&l->thread, NULL, run, l);
	if (r) {
		snprintf(err, errlen, "cannot start the %s output's thread: %s", sink->name,
			 strerror(r));
		metrics_unregister(l);
		tp_staging_destroy(&l->staging);
		tp_staged_free(&l->pending);
		free(l);
		return -r;
	}
	l->thread_started = true;
	*out = l;
	return 0;
}

int tp_lines_push(struct tp_lines *l, const char *line, size_t len)
{
	int r = tp_staging_push(&l->staging, line, len, 0, 0);

	if (r)
		tp_metric_add(&l->dropped[r == -ENOBUFS ? DROP_QUEUE_FULL : DROP_ENCODE], 1);
	return r;
}

int tp_lines_push_buf(struct tp_lines *l, struct tp_buf *b)
{
	int r;

	if (tp_buf_failed(b)) {
		tp_metric_add(&l->dropped[DROP_ENCODE], 1);
		r = -ENOMEM;
	} else {
		r = tp_lines_push(l, b->data, b->len);
	}
	tp_buf_reset(b);
	return r;
}

void tp_lines_stop(struct tp_lines *l)
{
	if (!l)
		return;
	atomic_store(&l->stop, true);
	if (l->thread_started)
		pthread_join(l->thread, NULL);
	tp_health_clear(l->health);
	metrics_unregister(l);
	tp_staging_destroy(&l->staging);
	tp_staged_free(&l->pending);
	free(l);
}
