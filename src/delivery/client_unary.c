/*
 * The unary transport: one call per batch, up to max_inflight at once; an
 * OK status is the ack, INVALID_ARGUMENT a rejection for good.
 */
#include <string.h>

#include "delivery/client_internal.h"
#include "obs/log.h"
#include "util/time.h"

void tp_client_unary_pump(struct tp_client *c, uint64_t now)
{
	while (c->unary_inflight < c->o.max_inflight && now >= c->retry_at_ns) {
		struct tp_batch *b = tp_store_next(&c->store);
		gpr_timespec deadline;
		struct dcall *d;
		grpc_op ops[6];
		size_t size;

		if (!b)
			return;
		deadline = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
					gpr_time_from_millis((int64_t)(c->o.ack_timeout_ns /
								       TP_NSEC_PER_MSEC),
							     GPR_TIMESPAN));
		d = tp_client_call_new(c, deadline);
		if (!d)
			return;
		d->send_buf = tp_client_make_request(c, b, &size);
		if (!d->send_buf) {
			tp_client_call_free(c, d);
			return;
		}
		memset(ops, 0, sizeof(ops));
		ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
		ops[0].data.send_initial_metadata.count = d->nmd;
		ops[0].data.send_initial_metadata.metadata = d->nmd ? &d->auth : NULL;
		ops[1].op = GRPC_OP_SEND_MESSAGE;
		ops[1].data.send_message.send_message = d->send_buf;
		ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
		ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
		ops[3].data.recv_initial_metadata.recv_initial_metadata = &d->md_in;
		ops[4].op = GRPC_OP_RECV_MESSAGE;
		ops[4].data.recv_message.recv_message = &d->recv_buf;
		ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
		ops[5].data.recv_status_on_client.trailing_metadata = &d->trailing;
		ops[5].data.recv_status_on_client.status = &d->status;
		ops[5].data.recv_status_on_client.status_details = &d->details;
		ops[5].data.recv_status_on_client.error_string = &d->error_string;
		if (!tp_client_start_ops(d, ops, 6, TAG_UNARY)) {
			tp_client_call_free(c, d);
			return;
		}
		c->unary_inflight++;
		tp_client_start_sending(c, d, b, size, now);
	}
}

void tp_client_unary_done(struct tp_client *c, struct dcall *d, uint64_t now)
{
	struct tp_batch *b = tp_store_find(&c->store, d->batch_seq);
	struct tp_response r = { 0 };
	struct tp_buf msg;
	char details[256], err[256];

	d->done = true;
	c->unary_inflight--;
	tp_client_status_text(d, details, sizeof(details));
	/* UNAVAILABLE: no connection, the request did not go out. */
	if (d->status != GRPC_STATUS_UNAVAILABLE)
		tp_client_count_sent(c, d);
	if (!b) /* dropped meanwhile (cannot happen: in-flight batches are kept) */
		return;
	if (c->finishing && d->status != GRPC_STATUS_OK) {
		tp_store_unsend(&c->store, b);
		return;
	}
	if (d->status == GRPC_STATUS_OK) {
		tp_buf_init(&msg);
		if (d->recv_buf && (tp_client_read_message(d->recv_buf, &msg) < 0 ||
				    c->t->parse_response(c->t->ctx, (const uint8_t *)msg.data,
							 msg.len, &r, err, sizeof(err)) < 0)) {
			/* The call succeeded; only its details are unreadable. */
			tp_warn("%s: %s answered with a malformed response (%s); taking the OK "
				"status as the ack",
				c->t->name, c->o.target, err);
			tp_response_free(&r);
		}
		tp_buf_free(&msg);
		if (r.rejected_events > 0) {
			uint64_t n = (uint64_t)r.rejected_events > b->nevents ? b->nevents :
										 (uint64_t)r.rejected_events;

			tp_warn("%s: the receiver refused %llu of %u events: %s", c->t->name,
				(unsigned long long)n, b->nevents, r.message[0] ? r.message : "-");
			tp_metric_add(&c->m.dropped[DROP_REJECTED], n);
			tp_metric_add(&c->m.acked, b->nevents - n);
		} else {
			tp_metric_add(&c->m.acked, b->nevents);
		}
		tp_response_free(&r);
		tp_metric_add(&c->m.batches_acked, 1);
		tp_store_remove(&c->store, b);
		tp_client_on_success(c, now);
		return;
	}
	if (d->status == GRPC_STATUS_INVALID_ARGUMENT) {
		/* The receiver says this data can never be taken: retrying it would
		 * block everything behind it. */
		tp_client_drop_batch(c, b, details);
		return;
	}
	tp_store_unsend(&c->store, b);
	tp_client_on_failure(c, d->status, details, now);
}
