/*
 * The streaming transport: one long bidirectional call; batches go out in
 * order within the in-flight window, responses carry acks by sequence.
 */
#include <stdio.h>
#include <string.h>

#include "delivery/client_internal.h"
#include "obs/log.h"
#include "util/time.h"

void tp_client_stream_start(struct tp_client *c)
{
	struct dcall *d = tp_client_call_new(c, gpr_inf_future(GPR_CLOCK_REALTIME));
	grpc_op op;

	if (!d) {
		tp_client_on_failure(c, GRPC_STATUS_INTERNAL, "cannot create a call", tp_mono_ns());
		return;
	}
	c->stream = d;
	memset(&op, 0, sizeof(op));
	op.op = GRPC_OP_SEND_INITIAL_METADATA;
	op.data.send_initial_metadata.count = d->nmd;
	op.data.send_initial_metadata.metadata = d->nmd ? &d->auth : NULL;
	if (!tp_client_start_ops(d, &op, 1, TAG_SEND_MD))
		goto fail;
	memset(&op, 0, sizeof(op));
	op.op = GRPC_OP_RECV_STATUS_ON_CLIENT;
	op.data.recv_status_on_client.trailing_metadata = &d->trailing;
	op.data.recv_status_on_client.status = &d->status;
	op.data.recv_status_on_client.status_details = &d->details;
	op.data.recv_status_on_client.error_string = &d->error_string;
	if (!tp_client_start_ops(d, &op, 1, TAG_STATUS))
		goto fail;
	memset(&op, 0, sizeof(op));
	op.op = GRPC_OP_RECV_INITIAL_METADATA;
	op.data.recv_initial_metadata.recv_initial_metadata = &d->md_in;
	if (!tp_client_start_ops(d, &op, 1, TAG_RECV_MD))
		goto fail;
	memset(&op, 0, sizeof(op));
	op.op = GRPC_OP_RECV_MESSAGE;
	op.data.recv_message.recv_message = &d->recv_buf;
	if (!tp_client_start_ops(d, &op, 1, TAG_RECV))
		goto fail;
	return;
fail:
	grpc_call_cancel(d->call, NULL);
}

void tp_client_stream_pump(struct tp_client *c, uint64_t now)
{
	struct dcall *d = c->stream;
	struct tp_batch *b;
	grpc_op op;
	size_t size;

	if (!d || d->done || d->send_pending || c->store.inflight >= c->o.max_inflight)
		return;
	b = tp_store_next(&c->store);
	if (!b)
		return;
	d->send_buf = tp_client_make_request(c, b, &size);
	if (!d->send_buf) {
		tp_error("%s: out of memory building a request", c->t->name);
		return;
	}
	memset(&op, 0, sizeof(op));
	op.op = GRPC_OP_SEND_MESSAGE;
	op.data.send_message.send_message = d->send_buf;
	if (!tp_client_start_ops(d, &op, 1, TAG_SEND)) {
		grpc_byte_buffer_destroy(d->send_buf);
		d->send_buf = NULL;
		grpc_call_cancel(d->call, NULL);
		return;
	}
	d->send_pending = true;
	tp_client_start_sending(c, d, b, size, now);
}

void tp_client_stream_event(struct tp_client *c, struct dcall *d, enum tag_kind kind, bool ok,
			 uint64_t now)
{
	char err[256];

	switch (kind) {
	case TAG_SEND:
		if (ok)
			tp_client_count_sent(c, d);
		d->send_pending = false;
		grpc_byte_buffer_destroy(d->send_buf);
		d->send_buf = NULL;
		break; /* a failed send ends the call: its status follows */
	case TAG_RECV: {
		struct tp_buf msg;
		struct tp_response r = { 0 };
		grpc_op op;

		if (!ok || !d->recv_buf)
			break; /* the stream ended: its status follows */
		tp_buf_init(&msg);
		if (tp_client_read_message(d->recv_buf, &msg) < 0 ||
		    c->t->parse_response(c->t->ctx, (const uint8_t *)msg.data, msg.len, &r, err,
					 sizeof(err)) < 0) {
			tp_buf_free(&msg);
			tp_response_free(&r);
			grpc_byte_buffer_destroy(d->recv_buf);
			d->recv_buf = NULL;
			grpc_call_cancel_with_status(d->call, GRPC_STATUS_INTERNAL,
						     "tapio-collector: malformed response", NULL);
			tp_warn("%s: %s sent a malformed response (%s): reconnecting", c->t->name,
				c->o.target, err);
			break;
		}
		tp_buf_free(&msg);
		grpc_byte_buffer_destroy(d->recv_buf);
		d->recv_buf = NULL;
		if (d == c->stream)
			tp_client_apply_response(c, d, &r, now);
		tp_response_free(&r);
		if (d->done)
			break;
		memset(&op, 0, sizeof(op));
		op.op = GRPC_OP_RECV_MESSAGE;
		op.data.recv_message.recv_message = &d->recv_buf;
		tp_client_start_ops(d, &op, 1, TAG_RECV);
		break;
	}
	case TAG_STATUS: {
		char details[256];

		d->done = true;
		tp_client_status_text(d, details, sizeof(details));
		if (d != c->stream)
			break;
		c->stream = NULL;
		tp_store_unsend_all(&c->store);
		if (c->finishing)
			break;
		if (d->status == GRPC_STATUS_OK && d->acked) {
			/* The receiver ended a stream that worked: come back soon. */
			c->retry_at_ns = now + c->backoff.min_ns;
			break;
		}
		tp_client_on_failure(c, d->status, details, now);
		break;
	}
	default:
		break;
	}
}

void tp_client_stream_check_acks(struct tp_client *c, uint64_t now)
{
	struct tp_batch *b = c->store.head;
	char msg[96];

	if (!c->stream || c->stream->done || !b || !b->in_flight)
		return;
	if (now - b->sent_ns < c->o.ack_timeout_ns ||
	    (c->last_ack_ns && now - c->last_ack_ns < c->o.ack_timeout_ns))
		return;
	snprintf(msg, sizeof(msg), "tapio-collector: no ack within %.1fs",
		 (double)c->o.ack_timeout_ns / 1e9);
	grpc_call_cancel_with_status(c->stream->call, GRPC_STATUS_DEADLINE_EXCEEDED, msg, NULL);
}
