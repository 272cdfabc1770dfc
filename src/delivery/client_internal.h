/*
 * delivery/client_internal.h - what the units of the delivery client share
 * (not a public header: include it only from delivery/client*.c).
 *
 *   client.c          the client's life: start, push, the delivery thread,
 *                     the final drain and summary, stop
 *   client_batches.c  sealing staged events into batches
 *   client_channel.c  the bearer token and the gRPC channel (TLS, arguments)
 *   client_calls.c    one gRPC call, a request, and what a result does
 *                     (acks, rejections, success and failure, health)
 *   client_stream.c   the streaming transport (one long call, acks by seq)
 *   client_unary.c    the unary transport (a call per batch, OK = ack)
 *   client_metrics.c  tapio_delivery_*{output=...} and their publication
 */
#ifndef TAPIO_DELIVERY_CLIENT_INTERNAL_H
#define TAPIO_DELIVERY_CLIENT_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/time.h>

#include "delivery/backoff.h"
#include "delivery/batch.h"
#include "delivery/client.h"
#include "delivery/spool.h"
#include "delivery/staging.h"
#include "delivery/store.h"
#include "obs/metrics.h"

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

extern const char *const tp_client_drop_reason_names[DROP_MAX];

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
	uint64_t last_peer_log_ns;     /* unknown acks, control changes: one line per 30 s */
	uint64_t unknown_acks_logged;  /* the count at that line */
	uint32_t control_logs;         /* lines about control changes so far */
	uint64_t queue_high_bytes;     /* the backlog's peak since memory was last given back */
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

static inline grpc_slice static_slice(const char *s)
{
	return grpc_slice_from_static_string(s);
}

/* client_metrics.c */
void tp_client_metrics_register(struct tp_client *c);
void tp_client_metrics_unregister(struct tp_client *c);
void tp_client_publish(struct tp_client *c);

/* client_channel.c */
int tp_client_load_token(struct tp_client *c, char *err, size_t errlen);
int tp_client_make_channel(struct tp_client *c, char *err, size_t errlen);

/* client_batches.c */
void tp_client_seal(struct tp_client *c, bool all);
void tp_client_take_staged(struct tp_client *c, uint64_t now);

/* client_calls.c */
void tp_client_call_free(struct tp_client *c, struct dcall *d);
struct dcall *tp_client_call_new(struct tp_client *c, gpr_timespec deadline);
bool tp_client_start_ops(struct dcall *d, grpc_op *ops, size_t n, enum tag_kind tag);
grpc_byte_buffer *tp_client_make_request(struct tp_client *c, struct tp_batch *b, size_t *size);
void tp_client_start_sending(struct tp_client *c, struct dcall *d, struct tp_batch *b, size_t size,
			  uint64_t now);
void tp_client_count_sent(struct tp_client *c, struct dcall *d);
void tp_client_on_success(struct tp_client *c, uint64_t now);
void tp_client_on_failure(struct tp_client *c, grpc_status_code status, const char *details,
		       uint64_t now);
void tp_client_status_text(struct dcall *d, char *buf, size_t len);
int tp_client_read_message(grpc_byte_buffer *bb, struct tp_buf *out);
void tp_client_drop_batch(struct tp_client *c, struct tp_batch *b, const char *reason);
void tp_client_apply_response(struct tp_client *c, struct dcall *d, struct tp_response *r,
			   uint64_t now);

/* client_stream.c */
void tp_client_stream_start(struct tp_client *c);
void tp_client_stream_pump(struct tp_client *c, uint64_t now);
void tp_client_stream_event(struct tp_client *c, struct dcall *d, enum tag_kind kind, bool ok,
			 uint64_t now);
void tp_client_stream_check_acks(struct tp_client *c, uint64_t now);

/* client_unary.c */
void tp_client_unary_pump(struct tp_client *c, uint64_t now);
void tp_client_unary_done(struct tp_client *c, struct dcall *d, uint64_t now);

#endif
