#include "delivery/client.h"

#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/time.h>

#include "delivery/client_internal.h"
#include "obs/health.h"
#include "obs/log.h"
#include "util/stop.h"
#include "util/time.h"

/* ---------------------------------------------------------------- thread */

static void handle(struct tp_client *c, grpc_event ev, uint64_t now)
{
	struct tag *t = ev.tag;
	struct dcall *d = t->call;

	d->pending--;
	if (t->kind == TAG_UNARY)
		tp_client_unary_done(c, d, now);
	else
		tp_client_stream_event(c, d, t->kind, ev.success != 0, now);
	if (d->done && d->pending == 0)
		tp_client_call_free(c, d);
}

/* A backlog this large, once drained, gives its memory back. */
#define GIVE_BACK_BYTES (8u << 20)
#define SMALL_BUF_BYTES (1u << 20)

static void shrink(struct tp_staged *st)
{
	if (st->n || (st->items.cap <= SMALL_BUF_BYTES && st->ranks.cap <= SMALL_BUF_BYTES))
		return;
	tp_staged_free(st);
	tp_staged_init(st);
}

/*
 * Memory taken by a backlog (an outage, a slow receiver) is given back once
 * it drains: the hand-off buffers that grew with it are freed while empty
 * (the staging's own comes out at the next take and goes the same way),
 * and once the backlog is gone the allocator returns free pages to the
 * system. Batches in memory are freed as they are acked.
 */
static void give_back_memory(struct tp_client *c)
{
	uint64_t q = c->store.mem_bytes + c->open.items.len + tp_staging_bytes(&c->staging);

	if (q > c->queue_high_bytes)
		c->queue_high_bytes = q;
	if (q > SMALL_BUF_BYTES)
		return;
	shrink(&c->take);
	shrink(&c->open);
	if (c->queue_high_bytes >= GIVE_BACK_BYTES) {
		malloc_trim(0);
		c->queue_high_bytes = q;
	}
}

static void housekeeping(struct tp_client *c, uint64_t now)
{
	tp_client_take_staged(c, now);
	if (c->stopping || (c->open.n && now - c->open_first_ns >= c->o.flush_interval_ns))
		tp_client_seal(c, true);
	else if (c->open.n)
		tp_client_seal(c, false);
	if (c->t->streaming) {
		bool want = c->store.head || c->open.n || !c->stopping;

		if (!c->stream && want && now >= c->retry_at_ns)
			tp_client_stream_start(c);
		tp_client_stream_pump(c, now);
		tp_client_stream_check_acks(c, now);
	} else {
		tp_client_unary_pump(c, now);
	}
	give_back_memory(c);
	tp_client_publish(c);
}

static void cq_wait(struct tp_client *c, int ms)
{
	gpr_timespec deadline = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
					     gpr_time_from_millis(ms, GPR_TIMESPAN));
	grpc_event ev = grpc_completion_queue_next(c->cq, deadline, NULL);

	while (ev.type == GRPC_OP_COMPLETE) {
		handle(c, ev, tp_mono_ns());
		/* Take whatever else is ready without waiting. */
		ev = grpc_completion_queue_next(c->cq, gpr_inf_past(GPR_CLOCK_MONOTONIC), NULL);
	}
}

static void finish(struct tp_client *c)
{
	uint64_t lost, spill_by;

	/* Cancel what is in flight and wait for gRPC to hand every call back. */
	c->finishing = true;
	for (struct dcall *d = c->calls; d; d = d->next)
		grpc_call_cancel(d->call, NULL);
	while (c->calls)
		cq_wait(c, TICK_IDLE_MS);
	tp_store_unsend_all(&c->store);
	tp_client_take_staged(c, tp_mono_ns());
	tp_client_seal(c, true);
	/* The spill has the rest of the stop budget; a drain_timeout set
	 * longer than the budget moves its end by as much. */
	spill_by = tp_stop_deadline_ns();
	if (spill_by != UINT64_MAX && c->drain_deadline_ns + TP_STOP_BUDGET_NS / 2 > spill_by)
		spill_by = c->drain_deadline_ns + TP_STOP_BUDGET_NS / 2;
	lost = tp_store_spill_all(&c->store, spill_by);
	tp_client_publish(c);
	if (lost) {
		tp_metric_add(&c->m.dropped[DROP_SHUTDOWN], lost);
		tp_warn("%s: %llu events were not delivered to %s and are lost (%s)", c->t->name,
			(unsigned long long)lost, c->o.target,
			c->have_spool ? "the spool could not take them" : "no spool directory");
	} else if (c->store.events) {
		tp_info("%s: %llu events not yet delivered to %s wait in %s for the next start",
			c->t->name, (unsigned long long)c->store.events, c->o.target,
			c->o.spool_dir);
	}
	tp_info("%s: sent %llu events (%llu resent), acked %llu, spooled %llu, dropped %llu "
		"(queue_full %llu, spool_full %llu, rejected %llu, shutdown %llu, other %llu), "
		"reconnects %llu",
		c->t->name, (unsigned long long)tp_metric_get(&c->m.sent),
		(unsigned long long)tp_metric_get(&c->m.resent),
		(unsigned long long)tp_metric_get(&c->m.acked),
		(unsigned long long)tp_metric_get(&c->m.spooled),
		(unsigned long long)(tp_metric_get(&c->m.dropped[DROP_QUEUE_FULL]) +
				     tp_metric_get(&c->m.dropped[DROP_ENCODE]) +
				     tp_metric_get(&c->m.dropped[DROP_SPOOL_FULL]) +
				     tp_metric_get(&c->m.dropped[DROP_SPOOL_CORRUPT]) +
				     tp_metric_get(&c->m.dropped[DROP_REJECTED]) +
				     tp_metric_get(&c->m.dropped[DROP_SHUTDOWN])),
		(unsigned long long)tp_metric_get(&c->m.dropped[DROP_QUEUE_FULL]),
		(unsigned long long)tp_metric_get(&c->m.dropped[DROP_SPOOL_FULL]),
		(unsigned long long)tp_metric_get(&c->m.dropped[DROP_REJECTED]),
		(unsigned long long)tp_metric_get(&c->m.dropped[DROP_SHUTDOWN]),
		(unsigned long long)(tp_metric_get(&c->m.dropped[DROP_ENCODE]) +
				     tp_metric_get(&c->m.dropped[DROP_SPOOL_CORRUPT])),
		(unsigned long long)tp_metric_get(&c->m.reconnects));
}

static void *run(void *arg)
{
	struct tp_client *c = arg;

	for (;;) {
		uint64_t now = tp_mono_ns();
		bool busy;

		if (!c->stopping && atomic_load(&c->stop)) {
			c->stopping = true;
			/* Deliver for drain_timeout (by default within the first
			 * half of the stop budget, util/stop.h), then spill. */
			c->drain_deadline_ns = now + c->o.drain_timeout_ns;
		}
		housekeeping(c, now);
		if (c->stopping &&
		    ((!c->store.head && !c->open.n && !tp_staging_count(&c->staging)) ||
		     now >= c->drain_deadline_ns))
			break;
		busy = c->open.n || c->store.head || c->stopping;
		cq_wait(c, busy ? TICK_BUSY_MS : TICK_IDLE_MS);
	}
	finish(c);
	return NULL;
}

static void spool_batch(void *ctx, struct tp_batch *b)
{
	struct tp_client *c = ctx;

	tp_store_add_spooled(&c->store, b, tp_spool_file_size(b));
}

static void spool_bad(void *ctx, const char *name, uint32_t nevents, const char *why)
{
	struct tp_client *c = ctx;

	tp_warn("%s: spool file %s/%s is damaged (%s): set aside as .bad, %u events lost",
		c->t->name, c->o.spool_dir, name, why, nevents);
	tp_metric_add(&c->m.dropped[DROP_SPOOL_CORRUPT], nevents);
}

static void client_free(struct tp_client *c)
{
	for (struct dcall *d = c->calls, *next; d; d = next) {
		next = d->next;
		tp_client_call_free(c, d);
	}
	if (c->channel)
		grpc_channel_destroy(c->channel);
	if (c->cq) {
		grpc_completion_queue_shutdown(c->cq);
		while (grpc_completion_queue_next(c->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL)
			       .type != GRPC_QUEUE_SHUTDOWN)
			;
		grpc_completion_queue_destroy(c->cq);
	}
	tp_store_free(&c->store);
	if (c->have_spool)
		tp_spool_close(&c->spool);
	tp_staging_destroy(&c->staging);
	tp_staged_free(&c->open);
	tp_staged_free(&c->take);
	tp_buf_free(&c->hdr);
	tp_buf_free(&c->prefix);
	tp_client_metrics_unregister(c);
	if (c->health_name[0])
		tp_health_clear(c->health_name);
	free(c->spool_dir);
	free(c);
	grpc_shutdown();
}

int tp_client_start(struct tp_client **out, const struct tp_client_opts *opts,
		    const struct tp_transport *t, char *err, size_t errlen)
{
	struct tp_client *c = calloc(1, sizeof(*c));
	int r;

	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	grpc_init();
	c->o = *opts;
	c->t = t;
	if (!c->o.batch_max_events)
		c->o.batch_max_events = 1000;
	if (!c->o.batch_max_bytes)
		c->o.batch_max_bytes = 1 << 20;
	/* A batch is kept or spilled whole: one larger than the memory queue
	 * or the spool could never be kept, and a burst would be dropped at the
	 * caps entirely. A quarter of the smaller cap keeps the caps' worth of
	 * events (at the cost of more, smaller batches under small caps). */
	if (c->o.queue_max_bytes && c->o.queue_max_bytes / 4 < c->o.batch_max_bytes)
		c->o.batch_max_bytes = c->o.queue_max_bytes / 4;
	if (c->o.spool_dir && c->o.spool_max_bytes &&
	    c->o.spool_max_bytes / 4 < c->o.batch_max_bytes)
		c->o.batch_max_bytes = c->o.spool_max_bytes / 4;
	if (c->o.batch_max_bytes < 4096)
		c->o.batch_max_bytes = 4096;
	if (!c->o.max_inflight)
		c->o.max_inflight = 1;
	if (!c->o.max_response_bytes)
		c->o.max_response_bytes = 1 << 20;
	atomic_init(&c->stop, false);
	c->last_logged_status = -1;
	/* A burst larger than this between two takes (10 ms apart) is dropped
	 * and counted before it reaches the store. */
	tp_staging_init(&c->staging, c->o.queue_max_bytes / 2 > (4u << 20) ?
					     c->o.queue_max_bytes / 2 : (4u << 20));
	tp_staged_init(&c->open);
	tp_staged_init(&c->take);
	tp_buf_init(&c->hdr);
	tp_buf_init(&c->prefix);
	tp_backoff_init(&c->backoff, c->o.backoff_min_ns, c->o.backoff_max_ns,
			tp_now_ns(CLOCK_REALTIME) ^ (uint64_t)getpid());
	tp_client_metrics_register(c);
	snprintf(c->health_name, sizeof(c->health_name), "%s delivery", t->name);
	snprintf(c->health_drops, sizeof(c->health_drops), "%s drops", t->name);
	/* The caller's strings may not outlive this call. */
	if (opts->spool_dir && !(c->o.spool_dir = c->spool_dir = strdup(opts->spool_dir))) {
		snprintf(err, errlen, "out of memory");
		r = -ENOMEM;
		goto fail;
	}

	if (c->o.spool_dir) {
		r = tp_spool_open(&c->spool, c->o.spool_dir, err, errlen);
		if (r < 0)
			goto fail;
		c->have_spool = true;
	}
	tp_store_init(&c->store, c->o.queue_max_bytes, c->o.spool_max_bytes,
		      c->have_spool ? &c->spool : NULL);
	if (c->have_spool) {
		r = tp_spool_scan(&c->spool, spool_batch, spool_bad, c);
		if (r < 0) {
			snprintf(err, errlen, "cannot read spool directory %s: %s", c->o.spool_dir,
				 strerror(-r));
			goto fail;
		}
		if (r > 0)
			tp_info("%s: %llu events in %d spooled batches from an earlier run will be "
				"sent first",
				t->name, (unsigned long long)c->store.events, r);
	}
	c->next_seq = c->o.first_seq ? c->o.first_seq : 1;
	if (tp_store_last_seq(&c->store) >= c->next_seq)
		c->next_seq = tp_store_last_seq(&c->store) + 1;

	if (c->o.token_file && (r = tp_client_load_token(c, err, errlen)) < 0)
		goto fail;
	if (c->have_token && !c->o.tls_ca && !c->o.tls_cert)
		tp_warn("%s: the bearer token goes to %s without TLS: anyone on the path can read "
			"it",
			t->name, c->o.target);
	r = tp_client_make_channel(c, err, errlen);
	if (r < 0)
		goto fail;
	c->cq = grpc_completion_queue_create_for_next(NULL);
	r = pthread_create(&c->thread, NULL, run, c);
	if (r) {
		snprintf(err, errlen, "cannot start the delivery thread: %s", strerror(r));
		r = -r;
		goto fail;
	}
	c->thread_started = true;
	*out = c;
	return 0;
fail:
	client_free(c);
	return r;
}

int tp_client_push(struct tp_client *c, const void *item, size_t len, uint8_t rank)
{
	int r = tp_staging_push(&c->staging, item, len, rank, tp_mono_ns());

	if (r == 0)
		return 0;
	tp_metric_add(&c->m.dropped[r == -ENOBUFS ? DROP_QUEUE_FULL : DROP_ENCODE], 1);
	return r;
}

void tp_client_count_encode_error(struct tp_client *c)
{
	tp_metric_add(&c->m.dropped[DROP_ENCODE], 1);
}

void tp_client_stop(struct tp_client *c)
{
	if (!c)
		return;
	atomic_store(&c->stop, true);
	if (c->thread_started)
		pthread_join(c->thread, NULL);
	client_free(c);
}
