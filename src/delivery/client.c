#include "delivery/client.h"

#include <errno.h>
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

#include "delivery/backoff.h"
#include "delivery/batch.h"
#include "delivery/pbwire.h"
#include "delivery/spool.h"
#include "delivery/staging.h"
#include "delivery/store.h"
#include "health.h"
#include "log.h"
#include "metrics.h"
#include "util/file.h"
#include "util/time.h"
#include "version.h"

#define TICK_BUSY_MS 10
#define TICK_IDLE_MS 100
#define FAILURE_LOG_EVERY_NS (30 * TP_NSEC_PER_SEC)
#define TOKEN_MAX 4096
#define PEM_MAX (1 << 20)

enum tag_kind { TAG_SEND_MD, TAG_RECV_MD, TAG_SEND, TAG_RECV, TAG_STATUS, TAG_UNARY, TAG_MAX };

struct dcall;

struct tag {
	enum tag_kind kind;
	struct dcall *call;
};

/* One gRPC call: the stream, or one unary export. */
struct dcall {
	struct tp_client *c;
	grpc_call *call;
	int pending;            /* op batches started and not completed */
	bool done;              /* status received */
	bool send_pending;
	bool acked;             /* an ack arrived on this call */
	grpc_metadata auth;
	size_t nmd;
	grpc_metadata_array md_in, trailing;
	grpc_status_code status;
	grpc_slice details;
	const char *error_string;
	grpc_byte_buffer *recv_buf;
	grpc_byte_buffer *send_buf;
	uint64_t batch_seq;     /* the batch being sent (unary: the one it carries) */
	uint32_t batch_events;
	size_t batch_bytes;
	struct tag tags[TAG_MAX];
	struct dcall *next;
};

enum drop_reason {
	DROP_QUEUE_FULL,
	DROP_ENCODE,
	DROP_SPOOL_FULL,
	DROP_SPOOL_CORRUPT,
	DROP_REJECTED,
	DROP_SHUTDOWN,
	DROP_MAX,
};

static const char *const drop_reason_names[DROP_MAX] = {
	"queue_full", "encode", "spool_full", "spool_corrupt", "rejected", "shutdown",
};

struct client_metrics {
	struct tp_metric sent, acked, resent, spooled, reconnects, call_failures, bytes_sent,
		batches_acked, unknown_acks, spool_errors;
	struct tp_metric dropped[DROP_MAX];
	struct tp_metric last_success, connected, queue_bytes, queue_events, spool_bytes,
		spool_events;
	char label[64];
	char drop_labels[DROP_MAX][96];
};

struct tp_client {
	struct tp_client_opts o;
	char *spool_dir;               /* o.spool_dir, owned */
	const struct tp_transport *t;
	pthread_t thread;
	bool thread_started;
	atomic_bool stop;

	struct tp_staging staging;
	struct tp_staged open, take;   /* events not yet sealed; scratch for taking */
	uint64_t open_first_ns;

	struct tp_store store;
	struct tp_spool spool;
	bool have_spool;
	struct tp_backoff backoff;
	uint64_t next_seq;
	uint32_t server_max_events;

	grpc_completion_queue *cq;
	grpc_channel *channel;
	struct dcall *stream;          /* streaming: the current call */
	struct dcall *calls;           /* every live call */
	uint32_t unary_inflight;
	uint64_t retry_at_ns;
	uint64_t last_ack_ns;

	char token[TOKEN_MAX];
	bool have_token;
	bool ever_connected;
	uint32_t failures;             /* failed attempts since the last success */
	uint64_t last_failure_log_ns;
	int last_logged_status;

	bool stopping;
	bool finishing;                /* calls cancelled on purpose: no failure logs */
	uint64_t drain_deadline_ns;

	struct tp_buf hdr, prefix;
	struct tp_store_counters published;
	struct client_metrics m;
	char health_name[32];          /* "<output> delivery" */
	char health_drops[32];         /* "<output> drops" */
};

static grpc_slice static_slice(const char *s)
{
	return grpc_slice_from_static_string(s);
}

void tp_response_free(struct tp_response *r)
{
	for (size_t i = 0; i < r->nrejections; i++)
		free(r->rejections[i].reason);
	free(r->rejections);
	free(r->acks);
	memset(r, 0, sizeof(*r));
}

/* ---------------------------------------------------------------- metrics */

static void metric(struct tp_metric *m, enum tp_metric_type type, const char *name,
		   const char *help, const char *labels)
{
	*m = (struct tp_metric){ .name = name, .help = help, .type = type, .labels = labels };
	tp_metric_register(m);
}

static void metrics_register(struct tp_client *c)
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
			 drop_reason_names[i]);
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

static void metrics_unregister(struct tp_client *c)
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
static void publish(struct tp_client *c)
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

/* ---------------------------------------------------------------- setup */

/* Read the token file: trimmed, printable ASCII (a legal header value). */
static int load_token(struct tp_client *c, char *err, size_t errlen)
{
	char *text;
	size_t n, start = 0;
	int r;

	if (!c->o.token_file)
		return 0;
	r = tp_read_file(c->o.token_file, TOKEN_MAX, &text, &n);
	if (r < 0) {
		snprintf(err, errlen, "cannot read the token file %s: %s", c->o.token_file,
			 r == -EFBIG ? "larger than 4 KiB" : strerror(-r));
		return r;
	}
	while (n && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' ' ||
		     text[n - 1] == '\t'))
		n--;
	while (start < n && (text[start] == ' ' || text[start] == '\t'))
		start++;
	for (size_t i = start; i < n; i++) {
		if (text[i] < 0x20 || text[i] > 0x7e) {
			snprintf(err, errlen,
				 "the token file %s holds a character that cannot go in a header "
				 "(byte %zu)",
				 c->o.token_file, i);
			free(text);
			return -EINVAL;
		}
	}
	if (n == start) {
		snprintf(err, errlen, "the token file %s is empty", c->o.token_file);
		free(text);
		return -EINVAL;
	}
	n = (size_t)snprintf(c->token, sizeof(c->token), "Bearer %.*s", (int)(n - start),
			     text + start);
	c->have_token = n < sizeof(c->token);
	free(text);
	if (!c->have_token) {
		snprintf(err, errlen, "the token in %s is too long", c->o.token_file);
		return -EINVAL;
	}
	return 0;
}

static int make_channel(struct tp_client *c, char *err, size_t errlen)
{
	grpc_channel_credentials *creds;
	char *ca = NULL, *cert = NULL, *key = NULL;
	size_t n;
	int r = 0;
	grpc_arg args[8];
	int nargs = 0;
	grpc_channel_args ch_args;
	const char *files[3] = { c->o.tls_ca, c->o.tls_cert, c->o.tls_key };
	char **bufs[3] = { &ca, &cert, &key };

	if (!!c->o.tls_cert != !!c->o.tls_key) {
		snprintf(err, errlen, "a TLS client certificate needs both a certificate and a key");
		return -EINVAL;
	}
	for (int i = 0; i < 3; i++) {
		if (!files[i])
			continue;
		r = tp_read_file(files[i], PEM_MAX, bufs[i], &n);
		if (r < 0) {
			snprintf(err, errlen, "cannot read %s: %s", files[i], strerror(-r));
			goto out;
		}
	}
	if (ca || cert) {
		grpc_ssl_pem_key_cert_pair pair = { .private_key = key, .cert_chain = cert };

		creds = grpc_ssl_credentials_create(ca, cert ? &pair : NULL, NULL, NULL);
	} else {
		creds = grpc_insecure_credentials_create();
	}
	if (!creds) {
		snprintf(err, errlen, "cannot set up credentials for %s", c->o.target);
		r = -EINVAL;
		goto out;
	}

#define INT_ARG(k, v) \
	args[nargs++] = (grpc_arg){ .type = GRPC_ARG_INTEGER, .key = (char *)(k), .value.integer = (v) }
	INT_ARG(GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, (int)c->o.max_response_bytes);
	INT_ARG(GRPC_ARG_MAX_SEND_MESSAGE_LENGTH, -1);
	/* The channel's own reconnect backoff follows ours, so a server that
	 * is back is found within one of our backoff steps. */
	INT_ARG(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, (int)(c->o.backoff_min_ns / TP_NSEC_PER_MSEC));
	INT_ARG(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, (int)(c->o.backoff_min_ns / TP_NSEC_PER_MSEC));
	INT_ARG(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, (int)(c->o.backoff_max_ns / TP_NSEC_PER_MSEC));
	/* Find a dead peer on an idle stream; no more often than default
	 * servers allow (5 minutes) to avoid GOAWAY too_many_pings. */
	INT_ARG(GRPC_ARG_KEEPALIVE_TIME_MS, 300000);
	INT_ARG(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20000);
	args[nargs++] = (grpc_arg){ .type = GRPC_ARG_STRING,
				    .key = (char *)GRPC_ARG_PRIMARY_USER_AGENT_STRING,
				    .value.string = (char *)"tapio-collector/" TAPIO_VERSION };
#undef INT_ARG
	ch_args.num_args = (size_t)nargs;
	ch_args.args = args;
	c->channel = grpc_channel_create(c->o.target, creds, &ch_args);
	grpc_channel_credentials_release(creds);
	if (!c->channel) {
		snprintf(err, errlen, "cannot create a gRPC channel to %s", c->o.target);
		r = -EINVAL;
	}
out:
	free(ca);
	free(cert);
	free(key);
	return r;
}

/* ---------------------------------------------------------------- batches */

static uint32_t batch_max_events(const struct tp_client *c)
{
	uint32_t n = c->o.batch_max_events;

	if (c->server_max_events && c->server_max_events < n)
		n = c->server_max_events;
	return n ? n : 1;
}

/* Seal events from the open set into batches: full ones always, the rest
 * too when all is set. */
static void seal(struct tp_client *c, bool all)
{
	struct tp_staged *o = &c->open;
	const uint8_t *items = (const uint8_t *)o->items.data;
	const uint8_t *ranks = (const uint8_t *)o->ranks.data;
	size_t off = 0, ev = 0, max_ev = batch_max_events(c);

	while (ev < o->n) {
		size_t start = off, k = 0, item;

		while (ev + k < o->n && k < max_ev &&
		       tp_pb_item(items, o->items.len, off, &item) == 0 &&
		       (k == 0 || off + item - start <= c->o.batch_max_bytes)) {
			off += item;
			k++;
		}
		if (k == 0)
			break; /* cannot happen: items are framed by our encoders */
		if (!all && k < max_ev && off - start < c->o.batch_max_bytes && ev + k == o->n) {
			off = start; /* a partial batch waits for more or the flush interval */
			break;
		}
		{
			struct tp_batch *b;
			uint64_t seq = c->next_seq;

			tp_buf_reset(&c->hdr);
			if (c->t->batch_header(c->t->ctx, seq, &c->hdr) < 0 || tp_buf_failed(&c->hdr) ||
			    !(b = tp_batch_new(seq, ranks + ev, (uint32_t)k, c->hdr.data,
					       (uint32_t)c->hdr.len, items + start,
					       (uint32_t)(off - start)))) {
				tp_metric_add(&c->m.dropped[DROP_ENCODE], k);
			} else {
				c->next_seq++;
				tp_store_add(&c->store, b);
			}
		}
		ev += k;
	}
	if (ev == 0)
		return;
	/* Keep the rest (one partial batch at most) at the front. */
	memmove(o->items.data, o->items.data + off, o->items.len - off);
	o->items.len -= off;
	memmove(o->ranks.data, o->ranks.data + ev, o->n - ev);
	o->ranks.len -= ev;
	o->n -= (uint32_t)ev;
}

/* Move what the reader staged into the open set. */
static void take_staged(struct tp_client *c, uint64_t now)
{
	struct tp_staged *o = &c->open, *t = &c->take;

	tp_staging_take(&c->staging, t);
	if (!t->n)
		return;
	if (!o->n) {
		struct tp_staged tmp = *o;

		*o = *t;
		*t = tmp;
		c->open_first_ns = o->first_ns ? o->first_ns : now;
		return;
	}
	tp_buf_append(&o->items, t->items.data, t->items.len);
	tp_buf_append(&o->ranks, t->ranks.data, t->ranks.len);
	if (tp_buf_failed(&o->items) || tp_buf_failed(&o->ranks)) {
		/* Out of memory: what was taken is lost, counted. */
		tp_metric_add(&c->m.dropped[DROP_ENCODE], t->n);
		o->items.len -= o->items.failed ? 0 : t->items.len;
		o->ranks.len -= o->ranks.failed ? 0 : t->ranks.len;
		o->items.failed = o->ranks.failed = false;
		return;
	}
	o->n += t->n;
}

/* ---------------------------------------------------------------- calls */

static void call_free(struct tp_client *c, struct dcall *d)
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

static struct dcall *call_new(struct tp_client *c, gpr_timespec deadline)
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
	if (c->o.token_file && load_token(c, err, sizeof(err)) < 0 &&
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
		call_free(c, d);
		return NULL;
	}
	d->next = c->calls;
	c->calls = d;
	return d;
}

static bool start_ops(struct dcall *d, grpc_op *ops, size_t n, enum tag_kind tag)
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
static grpc_byte_buffer *make_request(struct tp_client *c, struct tp_batch *b, size_t *size)
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
static void start_sending(struct tp_client *c, struct dcall *d, struct tp_batch *b, size_t size,
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
static void count_sent(struct tp_client *c, struct dcall *d)
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

static void on_success(struct tp_client *c, uint64_t now)
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

static void on_failure(struct tp_client *c, grpc_status_code status, const char *details,
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

static void status_text(struct dcall *d, char *buf, size_t len)
{
	size_t n = GRPC_SLICE_LENGTH(d->details);

	if (n >= len)
		n = len - 1;
	memcpy(buf, GRPC_SLICE_START_PTR(d->details), n);
	buf[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)buf[i] < 0x20 || (unsigned char)buf[i] > 0x7e)
			buf[i] = '?'; /* a peer's text: keep our log lines whole */
}

/* Read a whole received message into a contiguous buffer. */
static int read_message(grpc_byte_buffer *bb, struct tp_buf *out)
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

static void drop_batch(struct tp_client *c, struct tp_batch *b, const char *reason)
{
	tp_warn("%s: the receiver rejected batch %llu (%u events) for good: %s", c->t->name,
		(unsigned long long)b->seq, b->nevents, reason && *reason ? reason : "no reason");
	tp_metric_add(&c->m.dropped[DROP_REJECTED], b->nevents);
	tp_store_remove(&c->store, b);
}

static void apply_response(struct tp_client *c, struct dcall *d, struct tp_response *r,
			   uint64_t now)
{
	for (size_t i = 0; i < r->nacks; i++) {
		struct tp_batch *b = tp_store_find(&c->store, r->acks[i]);

		if (!b) {
			tp_metric_add(&c->m.unknown_acks, 1);
			continue;
		}
		tp_metric_add(&c->m.acked, b->nevents);
		tp_metric_add(&c->m.batches_acked, 1);
		tp_store_remove(&c->store, b);
		d->acked = true;
	}
	for (size_t i = 0; i < r->nrejections; i++) {
		struct tp_batch *b = tp_store_find(&c->store, r->rejections[i].seq);

		if (b)
			drop_batch(c, b, r->rejections[i].reason);
		else
			tp_metric_add(&c->m.unknown_acks, 1);
	}
	if (r->max_batch_events && r->max_batch_events != c->server_max_events) {
		tp_info("%s: the receiver asks for at most %u events per batch", c->t->name,
			r->max_batch_events);
		c->server_max_events = r->max_batch_events;
	}
	if (r->nacks)
		on_success(c, now);
}

/* ---------------------------------------------------------------- streaming */

static void stream_start(struct tp_client *c)
{
	struct dcall *d = call_new(c, gpr_inf_future(GPR_CLOCK_REALTIME));
	grpc_op op;

	if (!d) {
		on_failure(c, GRPC_STATUS_INTERNAL, "cannot create a call", tp_mono_ns());
		return;
	}
	c->stream = d;
	memset(&op, 0, sizeof(op));
	op.op = GRPC_OP_SEND_INITIAL_METADATA;
	op.data.send_initial_metadata.count = d->nmd;
	op.data.send_initial_metadata.metadata = d->nmd ? &d->auth : NULL;
	if (!start_ops(d, &op, 1, TAG_SEND_MD))
		goto fail;
	memset(&op, 0, sizeof(op));
	op.op = GRPC_OP_RECV_STATUS_ON_CLIENT;
	op.data.recv_status_on_client.trailing_metadata = &d->trailing;
	op.data.recv_status_on_client.status = &d->status;
	op.data.recv_status_on_client.status_details = &d->details;
	op.data.recv_status_on_client.error_string = &d->error_string;
	if (!start_ops(d, &op, 1, TAG_STATUS))
		goto fail;
	memset(&op, 0, sizeof(op));
	op.op = GRPC_OP_RECV_INITIAL_METADATA;
	op.data.recv_initial_metadata.recv_initial_metadata = &d->md_in;
	if (!start_ops(d, &op, 1, TAG_RECV_MD))
		goto fail;
	memset(&op, 0, sizeof(op));
	op.op = GRPC_OP_RECV_MESSAGE;
	op.data.recv_message.recv_message = &d->recv_buf;
	if (!start_ops(d, &op, 1, TAG_RECV))
		goto fail;
	return;
fail:
	grpc_call_cancel(d->call, NULL);
}

static void stream_pump(struct tp_client *c, uint64_t now)
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
	d->send_buf = make_request(c, b, &size);
	if (!d->send_buf) {
		tp_error("%s: out of memory building a request", c->t->name);
		return;
	}
	memset(&op, 0, sizeof(op));
	op.op = GRPC_OP_SEND_MESSAGE;
	op.data.send_message.send_message = d->send_buf;
	if (!start_ops(d, &op, 1, TAG_SEND)) {
		grpc_byte_buffer_destroy(d->send_buf);
		d->send_buf = NULL;
		grpc_call_cancel(d->call, NULL);
		return;
	}
	d->send_pending = true;
	start_sending(c, d, b, size, now);
}

static void stream_event(struct tp_client *c, struct dcall *d, enum tag_kind kind, bool ok,
			 uint64_t now)
{
	char err[256];

	switch (kind) {
	case TAG_SEND:
		if (ok)
			count_sent(c, d);
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
		if (read_message(d->recv_buf, &msg) < 0 ||
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
			apply_response(c, d, &r, now);
		tp_response_free(&r);
		if (d->done)
			break;
		memset(&op, 0, sizeof(op));
		op.op = GRPC_OP_RECV_MESSAGE;
		op.data.recv_message.recv_message = &d->recv_buf;
		start_ops(d, &op, 1, TAG_RECV);
		break;
	}
	case TAG_STATUS: {
		char details[256];

		d->done = true;
		status_text(d, details, sizeof(details));
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
		on_failure(c, d->status, details, now);
		break;
	}
	default:
		break;
	}
}

static void stream_check_acks(struct tp_client *c, uint64_t now)
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

/* ---------------------------------------------------------------- unary */

static void unary_pump(struct tp_client *c, uint64_t now)
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
		d = call_new(c, deadline);
		if (!d)
			return;
		d->send_buf = make_request(c, b, &size);
		if (!d->send_buf) {
			call_free(c, d);
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
		if (!start_ops(d, ops, 6, TAG_UNARY)) {
			call_free(c, d);
			return;
		}
		c->unary_inflight++;
		start_sending(c, d, b, size, now);
	}
}

static void unary_done(struct tp_client *c, struct dcall *d, uint64_t now)
{
	struct tp_batch *b = tp_store_find(&c->store, d->batch_seq);
	struct tp_response r = { 0 };
	struct tp_buf msg;
	char details[256], err[256];

	d->done = true;
	c->unary_inflight--;
	status_text(d, details, sizeof(details));
	/* UNAVAILABLE: no connection, the request did not go out. */
	if (d->status != GRPC_STATUS_UNAVAILABLE)
		count_sent(c, d);
	if (!b) /* dropped meanwhile (cannot happen: in-flight batches are kept) */
		return;
	if (c->finishing && d->status != GRPC_STATUS_OK) {
		tp_store_unsend(&c->store, b);
		return;
	}
	if (d->status == GRPC_STATUS_OK) {
		tp_buf_init(&msg);
		if (d->recv_buf && (read_message(d->recv_buf, &msg) < 0 ||
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
		on_success(c, now);
		return;
	}
	if (d->status == GRPC_STATUS_INVALID_ARGUMENT) {
		/* The receiver says this data can never be taken: retrying it would
		 * block everything behind it. */
		drop_batch(c, b, details);
		return;
	}
	tp_store_unsend(&c->store, b);
	on_failure(c, d->status, details, now);
}

/* ---------------------------------------------------------------- thread */

static void handle(struct tp_client *c, grpc_event ev, uint64_t now)
{
	struct tag *t = ev.tag;
	struct dcall *d = t->call;

	d->pending--;
	if (t->kind == TAG_UNARY)
		unary_done(c, d, now);
	else
		stream_event(c, d, t->kind, ev.success != 0, now);
	if (d->done && d->pending == 0)
		call_free(c, d);
}

static void housekeeping(struct tp_client *c, uint64_t now)
{
	take_staged(c, now);
	if (c->stopping || (c->open.n && now - c->open_first_ns >= c->o.flush_interval_ns))
		seal(c, true);
	else if (c->open.n)
		seal(c, false);
	if (c->t->streaming) {
		bool want = c->store.head || c->open.n || !c->stopping;

		if (!c->stream && want && now >= c->retry_at_ns)
			stream_start(c);
		stream_pump(c, now);
		stream_check_acks(c, now);
	} else {
		unary_pump(c, now);
	}
	publish(c);
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
	uint64_t lost;

	/* Cancel what is in flight and wait for gRPC to hand every call back. */
	c->finishing = true;
	for (struct dcall *d = c->calls; d; d = d->next)
		grpc_call_cancel(d->call, NULL);
	while (c->calls)
		cq_wait(c, TICK_IDLE_MS);
	tp_store_unsend_all(&c->store);
	take_staged(c, tp_mono_ns());
	seal(c, true);
	lost = tp_store_spill_all(&c->store);
	publish(c);
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
		call_free(c, d);
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
	metrics_unregister(c);
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
	metrics_register(c);
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

	if (c->o.token_file && (r = load_token(c, err, errlen)) < 0)
		goto fail;
	if (c->have_token && !c->o.tls_ca && !c->o.tls_cert)
		tp_warn("%s: the bearer token goes to %s without TLS: anyone on the path can read "
			"it",
			t->name, c->o.target);
	r = make_channel(c, err, errlen);
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
