/*
 * One gRPC call of either transport, the request of a batch, and what a
 * result does: acks and rejections applied to the store, success and
 * failure (backoff, health, the log lines a user sees).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "delivery/client_internal.h"
#include "obs/health.h"
#include "obs/log.h"
#include "util/peertext.h"
#include "util/time.h"

void tp_client_call_free(struct tp_client *c, struct dcall *d)
{
	struct dcall **pp;

	for (pp = &c->calls; *pp; pp = &(*pp)->next) {
		if (*pp == d) {
			*pp = d->next;
			break;
		}
	}
	if (d->call)
		grpc_call_unref(d->call);
	grpc_metadata_array_destroy(&d->md_in);
	grpc_metadata_array_destroy(&d->trailing);
	grpc_slice_unref(d->details);
	if (d->nmd)
		grpc_slice_unref(d->auth.value);
	if (d->recv_buf)
		grpc_byte_buffer_destroy(d->recv_buf);
	if (d->send_buf)
		grpc_byte_buffer_destroy(d->send_buf);
	free(d);
}

struct dcall *tp_client_call_new(struct tp_client *c, gpr_timespec deadline)
{
	struct dcall *d = calloc(1, sizeof(*d));
	char err[256];

	if (!d)
		return NULL;
	d->c = c;
	for (int i = 0; i < TAG_MAX; i++)
		d->tags[i] = (struct tag){ .kind = (enum tag_kind)i, .call = d };
	grpc_metadata_array_init(&d->md_in);
	grpc_metadata_array_init(&d->trailing);
	d->details = grpc_empty_slice();
	/* The token is read again at every call: a fixed file needs no restart. */
	if (c->o.token_file && tp_client_load_token(c, err, sizeof(err)) < 0 &&
	    tp_mono_ns() - c->last_failure_log_ns > FAILURE_LOG_EVERY_NS)
		tp_warn("%s: %s (keeping the previous token)", c->t->name, err);
	if (c->have_token) {
		d->auth.key = static_slice("authorization");
		d->auth.value = grpc_slice_from_copied_string(c->token);
		d->nmd = 1;
	}
	d->call = grpc_channel_create_call(c->channel, NULL, GRPC_PROPAGATE_DEFAULTS, c->cq,
					   static_slice(c->t->method), NULL, deadline, NULL);
	if (!d->call) {
		tp_client_call_free(c, d);
		return NULL;
	}
	d->next = c->calls;
	c->calls = d;
	return d;
}

bool tp_client_start_ops(struct dcall *d, grpc_op *ops, size_t n, enum tag_kind tag)
{
	grpc_call_error e = grpc_call_start_batch(d->call, ops, n, &d->tags[tag], NULL);

	if (e != GRPC_CALL_OK) {
		tp_error("%s: gRPC refused an operation: %s", d->c->t->name,
			 grpc_call_error_to_string(e));
		return false;
	}
	d->pending++;
	return true;
}

/* The request for batch b: the transport's prefix, then the events. */
grpc_byte_buffer *tp_client_make_request(struct tp_client *c, struct tp_batch *b, size_t *size)
{
	grpc_byte_buffer *bb;
	grpc_slice s;

	tp_buf_reset(&c->prefix);
	if (c->t->request_prefix(c->t->ctx, tp_batch_hdr(b), b->hdr_len, b->body_len,
				 &c->prefix) < 0 ||
	    tp_buf_failed(&c->prefix))
		return NULL;
	*size = c->prefix.len + b->body_len;
	s = grpc_slice_malloc(*size);
	memcpy(GRPC_SLICE_START_PTR(s), c->prefix.data, c->prefix.len);
	memcpy(GRPC_SLICE_START_PTR(s) + c->prefix.len, tp_batch_body(b), b->body_len);
	bb = grpc_raw_byte_buffer_create(&s, 1);
	grpc_slice_unref(s);
	return bb;
}

/* b goes out on call d: in flight from now on. */
void tp_client_start_sending(struct tp_client *c, struct dcall *d, struct tp_batch *b, size_t size,
			  uint64_t now)
{
	d->batch_seq = b->seq;
	d->batch_events = b->nevents;
	d->batch_bytes = size;
	b->sent_ns = now;
	tp_store_sent(&c->store, b);
}

/* gRPC took d's batch for the wire (a call that fails before it connects
 * sends nothing, and counts nothing). */
void tp_client_count_sent(struct tp_client *c, struct dcall *d)
{
	struct tp_batch *b = tp_store_find(&c->store, d->batch_seq);

	tp_metric_add(&c->m.sent, d->batch_events);
	tp_metric_add(&c->m.bytes_sent, d->batch_bytes);
	if (b && b->sends++)
		tp_metric_add(&c->m.resent, d->batch_events);
}

static const char *status_name(grpc_status_code s)
{
	static const char *const names[] = {
		"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
		"NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
		"FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL",
		"UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
	};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "status?";
}

static const char *status_hint(grpc_status_code s)
{
	switch (s) {
	case GRPC_STATUS_UNAUTHENTICATED:
	case GRPC_STATUS_PERMISSION_DENIED:
		return " (the receiver refused our credentials: check TAPIO_TOKEN_FILE and the "
		       "TLS client certificate)";
	case GRPC_STATUS_UNAVAILABLE:
		return " (receiver unreachable or restarting)";
	case GRPC_STATUS_UNIMPLEMENTED:
		return " (the receiver does not serve this method: is the address right?)";
	case GRPC_STATUS_RESOURCE_EXHAUSTED:
		return " (a message over a size limit, or the receiver is overloaded)";
	default:
		return "";
	}
}

void tp_client_on_success(struct tp_client *c, uint64_t now)
{
	struct timespec ts;

	c->last_ack_ns = now;
	clock_gettime(CLOCK_REALTIME, &ts);
	tp_metric_set(&c->m.last_success, (uint64_t)ts.tv_sec);
	tp_backoff_reset(&c->backoff);
	if (c->failures || !c->ever_connected) {
		if (c->ever_connected || c->failures) {
			tp_metric_add(&c->m.reconnects, 1);
			tp_info("%s: delivering to %s again after %u failed attempts; %llu events "
				"waiting (%llu in the spool)",
				c->t->name, c->o.target, c->failures,
				(unsigned long long)c->store.events,
				(unsigned long long)c->store.disk_events);
		} else {
			tp_info("%s: delivering to %s", c->t->name, c->o.target);
		}
		c->failures = 0;
		c->last_logged_status = -1;
		c->ever_connected = true;
		tp_metric_set(&c->m.connected, 1);
		tp_health_clear(c->health_name);
	}
}

void tp_client_on_failure(struct tp_client *c, grpc_status_code status, const char *details,
		       uint64_t now)
{
	uint64_t delay = tp_backoff_next(&c->backoff);

	c->retry_at_ns = now + delay;
	c->failures++;
	tp_metric_add(&c->m.call_failures, 1);
	tp_metric_set(&c->m.connected, 0);
	tp_health_set(c->health_name, "cannot deliver to %s (%s); events wait in the queue and spool",
		      c->o.target, status_name(status));
	/* The first failure, a different one, then one line every 30 s. */
	if ((int)status != c->last_logged_status ||
	    now - c->last_failure_log_ns >= FAILURE_LOG_EVERY_NS) {
		tp_warn("%s: delivery to %s failed: %s: %s%s; %llu events kept (%llu in the spool), "
			"retrying in %.1fs",
			c->t->name, c->o.target, status_name(status), details && *details ? details : "-",
			status_hint(status), (unsigned long long)c->store.events,
			(unsigned long long)c->store.disk_events, (double)delay / 1e9);
		c->last_logged_status = (int)status;
		c->last_failure_log_ns = now;
	}
}

void tp_client_status_text(struct dcall *d, char *buf, size_t len)
{
	/* A peer's text: keep our log lines whole (util/peertext.h). */
	tp_peer_text(buf, len, (const char *)GRPC_SLICE_START_PTR(d->details),
		     GRPC_SLICE_LENGTH(d->details));
}

/* Read a whole received message into a contiguous buffer. */
int tp_client_read_message(grpc_byte_buffer *bb, struct tp_buf *out)
{
	grpc_byte_buffer_reader rd;
	grpc_slice s;

	if (!grpc_byte_buffer_reader_init(&rd, bb))
		return -EBADMSG;
	s = grpc_byte_buffer_reader_readall(&rd);
	grpc_byte_buffer_reader_destroy(&rd);
	tp_buf_reset(out);
	tp_buf_append(out, GRPC_SLICE_START_PTR(s), GRPC_SLICE_LENGTH(s));
	grpc_slice_unref(s);
	return tp_buf_failed(out) ? -ENOMEM : 0;
}

void tp_client_drop_batch(struct tp_client *c, struct tp_batch *b, const char *reason)
{
	tp_warn("%s: the receiver rejected batch %llu (%u events) for good: %s", c->t->name,
		(unsigned long long)b->seq, b->nevents, reason && *reason ? reason : "no reason");
	tp_metric_add(&c->m.dropped[DROP_REJECTED], b->nevents);
	tp_store_remove(&c->store, b);
}

/* A receiver's text about itself (unknown acks, control): one line per
 * FAILURE_LOG_EVERY_NS at most, whatever it sends. */
static bool peer_log_due(struct tp_client *c, uint64_t now)
{
	if (c->last_peer_log_ns && now - c->last_peer_log_ns < FAILURE_LOG_EVERY_NS)
		return false;
	c->last_peer_log_ns = now;
	return true;
}

/* Control, as the proto says: max_batch_events caps our batches; 0 gives
 * back the collector's own size. A value above our own changes nothing (we
 * never send more than our own), so no absurd value can grow a batch. */
static void apply_control(struct tp_client *c, const struct tp_response *r, uint64_t now)
{
	uint32_t v = r->max_batch_events;

	if (v >= c->o.batch_max_events)
		v = 0;
	if (v == c->server_max_events)
		return;
	c->server_max_events = v;
	/* Every change while they are few; then one line per 30 s. */
	if (c->control_logs++ >= 8 && !peer_log_due(c, now))
		return;
	if (v)
		tp_info("%s: the receiver asks for at most %u events per batch", c->t->name, v);
	else
		tp_info("%s: the receiver lifts its batch limit: back to %u events per batch",
			c->t->name, c->o.batch_max_events);
}

void tp_client_apply_response(struct tp_client *c, struct dcall *d, struct tp_response *r,
			   uint64_t now)
{
	size_t progress = 0, unknown = 0;

	/* Only batches in flight can be acked or rejected: they are the
	 * oldest, so the search stops at the first one not in flight, and a
	 * response full of bogus sequences costs the window, not the store. */
	for (size_t i = 0; i < r->nacks; i++) {
		struct tp_batch *b = tp_store_find_inflight(&c->store, r->acks[i]);

		if (!b) {
			unknown++;
			continue;
		}
		tp_metric_add(&c->m.acked, b->nevents);
		tp_metric_add(&c->m.batches_acked, 1);
		tp_store_remove(&c->store, b);
		d->acked = true;
		progress++;
	}
	for (size_t i = 0; i < r->nrejections; i++) {
		struct tp_batch *b = tp_store_find_inflight(&c->store, r->rejections[i].seq);

		if (b) {
			tp_client_drop_batch(c, b, r->rejections[i].reason);
			progress++;
		} else {
			unknown++;
		}
	}
	if (unknown) {
		tp_metric_add(&c->m.unknown_acks, unknown);
		if (peer_log_due(c, now)) {
			uint64_t all = tp_metric_get(&c->m.unknown_acks);

			tp_warn("%s: %s answered %llu times for batches not waiting for an answer "
				"(duplicates, late or bogus acks; %llu since the last such line): not "
				"counted as progress",
				c->t->name, c->o.target, (unsigned long long)unknown,
				(unsigned long long)(all - c->unknown_acks_logged));
			c->unknown_acks_logged = all;
		}
	}
	if (r->has_control)
		apply_control(c, r, now);
	/* Progress is an ack (or rejection) of a batch in flight: anything
	 * else neither resets the ack timeout nor counts as delivering again. */
	if (progress)
		tp_client_on_success(c, now);
}
