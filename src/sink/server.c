#include "sink/sink.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/time.h>

#include "output/grpc.h"
#include "tapio/v1/tapio.pb-c.h"
#include "util/file.h"
#include "util/trusted.h"

enum stag_kind { ST_NEW, ST_CLOSE, ST_MD, ST_RECV, ST_SEND, ST_STATUS, ST_SHUTDOWN, ST_MAX };

struct scall;

struct stag {
	enum stag_kind kind;
	struct scall *call;
};

struct sink;

struct scall {
	struct sink *sk;
	grpc_call *call;
	grpc_call_details details;
	grpc_metadata_array md;
	int pending;
	int cancelled;
	bool started, closed, md_sent, status_sent, half_closed, send_pending, want_status;
	grpc_status_code status;
	char status_msg[256];
	grpc_slice status_slice;
	grpc_byte_buffer *recv_buf, *send_buf;
	uint64_t *acks;
	size_t nacks, cap;
	struct stag tags[ST_MAX];
	struct scall *next;
};

struct sink {
	grpc_server *server;
	grpc_completion_queue *cq;
	struct tp_sink_state st;
	char *auth;               /* "Bearer <token>", NULL: none required */
	struct scall *calls;
	struct stag shutdown_tag;
	bool shutting_down, shutdown_done;
};

static struct scall *scall_new(struct sink *sk)
{
	struct scall *sc = calloc(1, sizeof(*sc));

	if (!sc)
		return NULL;
	sc->sk = sk;
	for (int i = 0; i < ST_MAX; i++)
		sc->tags[i] = (struct stag){ .kind = (enum stag_kind)i, .call = sc };
	grpc_call_details_init(&sc->details);
	grpc_metadata_array_init(&sc->md);
	sc->status_slice = grpc_empty_slice();
	sc->next = sk->calls;
	sk->calls = sc;
	return sc;
}

static void scall_free(struct sink *sk, struct scall *sc)
{
	for (struct scall **pp = &sk->calls; *pp; pp = &(*pp)->next) {
		if (*pp == sc) {
			*pp = sc->next;
			break;
		}
	}
	if (sc->call)
		grpc_call_unref(sc->call);
	grpc_call_details_destroy(&sc->details);
	grpc_metadata_array_destroy(&sc->md);
	grpc_slice_unref(sc->status_slice);
	if (sc->recv_buf)
		grpc_byte_buffer_destroy(sc->recv_buf);
	if (sc->send_buf)
		grpc_byte_buffer_destroy(sc->send_buf);
	free(sc->acks);
	free(sc);
}

static bool sops(struct scall *sc, grpc_op *ops, size_t n, enum stag_kind kind)
{
	if (grpc_call_start_batch(sc->call, ops, n, &sc->tags[kind], NULL) != GRPC_CALL_OK)
		return false;
	sc->pending++;
	return true;
}

static void request_call(struct sink *sk)
{
	struct scall *sc;

	if (sk->shutting_down || !(sc = scall_new(sk)))
		return;
	if (grpc_server_request_call(sk->server, &sc->call, &sc->details, &sc->md, sk->cq, sk->cq,
				     &sc->tags[ST_NEW]) != GRPC_CALL_OK) {
		scall_free(sk, sc);
		return;
	}
	sc->pending++;
}

static void send_status(struct scall *sc)
{
	grpc_op ops[2];
	size_t n = 0;

	if (sc->status_sent)
		return;
	if (sc->send_pending) {
		sc->want_status = true; /* after the ack being sent */
		return;
	}
	memset(ops, 0, sizeof(ops));
	if (!sc->md_sent) {
		ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
		sc->md_sent = true;
	}
	grpc_slice_unref(sc->status_slice);
	sc->status_slice = grpc_slice_from_copied_string(sc->status_msg);
	ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
	ops[n].data.send_status_from_server.status = sc->status;
	ops[n].data.send_status_from_server.status_details = &sc->status_slice;
	n++;
	if (sops(sc, ops, n, ST_STATUS))
		sc->status_sent = true;
}

static void finish(struct scall *sc, grpc_status_code code, const char *msg)
{
	if (sc->want_status || sc->status_sent)
		return;
	sc->status = code;
	snprintf(sc->status_msg, sizeof(sc->status_msg), "%s", msg);
	send_status(sc);
}

static void flush_acks(struct scall *sc)
{
	Tapio__V1__TapioStreamEventsResponse resp = TAPIO__V1__TAPIO_STREAM_EVENTS_RESPONSE__INIT;
	grpc_slice s;
	grpc_op op;

	if (sc->send_pending || !sc->nacks || sc->status_sent)
		return;
	resp.acks = sc->acks;
	resp.n_acks = sc->nacks;
	s = grpc_slice_malloc(tapio__v1__tapio_stream_events_response__get_packed_size(&resp));
	tapio__v1__tapio_stream_events_response__pack(&resp, GRPC_SLICE_START_PTR(s));
	sc->send_buf = grpc_raw_byte_buffer_create(&s, 1);
	grpc_slice_unref(s);
	sc->nacks = 0;
	memset(&op, 0, sizeof(op));
	op.op = GRPC_OP_SEND_MESSAGE;
	op.data.send_message.send_message = sc->send_buf;
	if (sops(sc, &op, 1, ST_SEND)) {
		sc->send_pending = true;
	} else {
		grpc_byte_buffer_destroy(sc->send_buf);
		sc->send_buf = NULL;
	}
}

static void post_recv(struct scall *sc)
{
	grpc_op op;

	memset(&op, 0, sizeof(op));
	op.op = GRPC_OP_RECV_MESSAGE;
	op.data.recv_message.recv_message = &sc->recv_buf;
	sops(sc, &op, 1, ST_RECV);
}

static bool token_ok(struct sink *sk, struct scall *sc)
{
	size_t want, got;
	unsigned char diff = 0;

	if (!sk->auth)
		return true;
	want = strlen(sk->auth);
	for (size_t i = 0; i < sc->md.count; i++) {
		const grpc_metadata *m = &sc->md.metadata[i];

		if (grpc_slice_str_cmp(m->key, "authorization"))
			continue;
		got = GRPC_SLICE_LENGTH(m->value);
		if (got != want)
			return false;
		/* Constant time: the comparison says nothing about where it differs. */
		for (size_t j = 0; j < want; j++)
			diff |= (unsigned char)(GRPC_SLICE_START_PTR(m->value)[j] ^
						(unsigned char)sk->auth[j]);
		return diff == 0;
	}
	return false;
}

static void on_new(struct sink *sk, struct scall *sc, bool ok)
{
	grpc_op ops[2];

	if (!ok) {
		sc->closed = true; /* shutting down: no call came */
		return;
	}
	request_call(sk);
	sc->started = true;
	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
	ops[0].data.recv_close_on_server.cancelled = &sc->cancelled;
	if (!sops(sc, ops, 1, ST_CLOSE)) {
		sc->closed = true;
		return;
	}
	if (grpc_slice_str_cmp(sc->details.method, TP_TAPIO_STREAM_METHOD)) {
		finish(sc, GRPC_STATUS_UNIMPLEMENTED, "tapio-sink serves tapio.v1.TapioService/StreamEvents only");
		return;
	}
	if (!token_ok(sk, sc)) {
		fprintf(stderr, "tapio-sink: refused a stream: bad or missing bearer token\n");
		finish(sc, GRPC_STATUS_UNAUTHENTICATED, "bad or missing bearer token");
		return;
	}
	ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
	ops[0].data.send_initial_metadata.count = 0;
	if (sops(sc, ops, 1, ST_MD))
		sc->md_sent = true;
	post_recv(sc);
}

static void on_recv(struct sink *sk, struct scall *sc, bool ok)
{
	grpc_byte_buffer_reader rd;
	grpc_slice s;
	uint64_t seq;
	char err[256];
	enum tp_sink_verdict v;

	if (!ok || !sc->recv_buf) {
		/* The collector closed its side: end once the acks are out. */
		sc->half_closed = true;
		if (!sc->send_pending && !sc->nacks)
			finish(sc, GRPC_STATUS_OK, "");
		return;
	}
	if (!grpc_byte_buffer_reader_init(&rd, sc->recv_buf)) {
		finish(sc, GRPC_STATUS_INTERNAL, "cannot read the message");
		return;
	}
	s = grpc_byte_buffer_reader_readall(&rd);
	grpc_byte_buffer_reader_destroy(&rd);
	grpc_byte_buffer_destroy(sc->recv_buf);
	sc->recv_buf = NULL;
	v = tp_sink_handle(&sk->st, GRPC_SLICE_START_PTR(s), GRPC_SLICE_LENGTH(s), &seq, err,
			   sizeof(err));
	grpc_slice_unref(s);
	switch (v) {
	case TP_SINK_WRITTEN:
	case TP_SINK_DUPLICATE:
		if (sc->nacks == sc->cap) {
			size_t cap = sc->cap ? sc->cap * 2 : 16;
			uint64_t *na = realloc(sc->acks, cap * sizeof(*na));

			if (!na) {
				finish(sc, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
				return;
			}
			sc->acks = na;
			sc->cap = cap;
		}
		sc->acks[sc->nacks++] = seq;
		flush_acks(sc);
		post_recv(sc);
		break;
	case TP_SINK_BAD:
		fprintf(stderr, "tapio-sink: ending a stream: %s\n", err);
		finish(sc, GRPC_STATUS_INVALID_ARGUMENT, err);
		break;
	case TP_SINK_IO_ERROR:
		fprintf(stderr, "tapio-sink: ending a stream: %s\n", err);
		finish(sc, GRPC_STATUS_UNAVAILABLE, err);
		break;
	}
}

static void on_send(struct scall *sc)
{
	sc->send_pending = false;
	grpc_byte_buffer_destroy(sc->send_buf);
	sc->send_buf = NULL;
	if (sc->want_status) {
		send_status(sc);
		return;
	}
	flush_acks(sc);
	if (sc->half_closed && !sc->send_pending)
		finish(sc, GRPC_STATUS_OK, "");
}

static void handle(struct sink *sk, grpc_event ev)
{
	struct stag *t = ev.tag;
	struct scall *sc = t->call;
	bool ok = ev.success != 0;

	if (t->kind == ST_SHUTDOWN) {
		sk->shutdown_done = true;
		return;
	}
	sc->pending--;
	switch (t->kind) {
	case ST_NEW: on_new(sk, sc, ok); break;
	case ST_CLOSE: sc->closed = true; break;
	case ST_RECV: on_recv(sk, sc, ok); break;
	case ST_SEND: on_send(sc); break;
	default: break;
	}
	if (sc->closed && sc->pending == 0)
		scall_free(sk, sc);
}

static int server_creds(const struct tp_sink_opts *o, grpc_server_credentials **out, char *err,
			size_t errlen)
{
	struct tp_trusted_opts topts = { .max_bytes = 1 << 20 };
	char *cert = NULL, *key = NULL, *ca = NULL, terr[1024];
	size_t n;
	int r;

	if (!o->tls_cert && !o->tls_key && !o->tls_ca) {
		*out = grpc_insecure_server_credentials_create();
		return 0;
	}
	if (!o->tls_cert || !o->tls_key) {
		snprintf(err, errlen, "TLS needs both --tls-cert and --tls-key");
		return -EINVAL;
	}
	if ((r = tp_trusted_read(o->tls_cert, &topts, &cert, &n, terr, sizeof(terr))) < 0 ||
	    (r = tp_trusted_read(o->tls_key, &topts, &key, &n, terr, sizeof(terr))) < 0 ||
	    (o->tls_ca && (r = tp_trusted_read(o->tls_ca, &topts, &ca, &n, terr, sizeof(terr))) < 0)) {
		snprintf(err, errlen, "TLS file %s", terr);
	} else {
		grpc_ssl_pem_key_cert_pair pair = { .private_key = key, .cert_chain = cert };

		*out = grpc_ssl_server_credentials_create_ex(
			ca, &pair, 1,
			ca ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY :
			     GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE,
			NULL);
		if (!*out) {
			snprintf(err, errlen, "cannot set up TLS with these files");
			r = -EINVAL;
		}
	}
	free(cert);
	free(key);
	free(ca);
	return r;
}

static int load_auth(struct sink *sk, const char *path, char *err, size_t errlen)
{
	char auth[4096 + 8];
	int r = tp_read_bearer_token(path, auth, sizeof(auth), err, errlen);

	if (r < 0)
		return r;
	sk->auth = strdup(auth);
	return sk->auth ? 0 : -ENOMEM;
}

int tp_sink_run(const struct tp_sink_opts *o, volatile sig_atomic_t *stop,
		void (*ready)(int port, void *ctx), void *ctx, char *err, size_t errlen)
{
	struct sink sk;
	grpc_server_credentials *creds = NULL;
	grpc_arg arg;
	grpc_channel_args args;
	int fd, port, r;

	memset(&sk, 0, sizeof(sk));
	sk.shutdown_tag.kind = ST_SHUTDOWN;
	if (o->out_path) {
		fd = open(o->out_path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (fd < 0) {
			r = -errno;
			snprintf(err, errlen, "cannot open %s: %s", o->out_path, strerror(-r));
			return r;
		}
	} else {
		fd = dup(STDOUT_FILENO);
	}
	tp_sink_state_init(&sk.st, fd, o->fsync);
	if (o->out_path && (r = tp_sink_recover(&sk.st, fd, err, errlen)) < 0)
		goto out_state;
	if (o->token_file && (r = load_auth(&sk, o->token_file, err, errlen)) < 0)
		goto out_state;
	if ((r = server_creds(o, &creds, err, errlen)) < 0)
		goto out_state;

	grpc_init();
	arg = (grpc_arg){ .type = GRPC_ARG_INTEGER,
			  .key = (char *)GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH,
			  .value.integer = (int)o->max_request_bytes };
	args = (grpc_channel_args){ .num_args = 1, .args = &arg };
	sk.server = grpc_server_create(&args, NULL);
	sk.cq = grpc_completion_queue_create_for_next(NULL);
	grpc_server_register_completion_queue(sk.server, sk.cq, NULL);
	port = grpc_server_add_http2_port(sk.server, o->listen, creds);
	grpc_server_credentials_release(creds);
	if (port == 0) {
		snprintf(err, errlen, "cannot listen on %s", o->listen);
		r = -EADDRNOTAVAIL;
		grpc_server_destroy(sk.server);
		goto out_cq;
	}
	grpc_server_start(sk.server);
	request_call(&sk);
	if (ready)
		ready(port, ctx);

	while (!sk.shutdown_done || sk.calls) {
		gpr_timespec deadline = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
						     gpr_time_from_millis(100, GPR_TIMESPAN));
		grpc_event ev = grpc_completion_queue_next(sk.cq, deadline, NULL);

		if (ev.type == GRPC_OP_COMPLETE)
			handle(&sk, ev);
		if (*stop && !sk.shutting_down) {
			sk.shutting_down = true;
			grpc_server_shutdown_and_notify(sk.server, sk.cq, &sk.shutdown_tag);
			grpc_server_cancel_all_calls(sk.server);
		}
	}
	grpc_server_destroy(sk.server);
	r = 0;
	fprintf(stderr,
		"tapio-sink: %llu batches (%llu events) written, %llu duplicate batches acked "
		"again, %llu bad requests\n",
		(unsigned long long)sk.st.batches, (unsigned long long)sk.st.events,
		(unsigned long long)sk.st.duplicates, (unsigned long long)sk.st.bad_requests);
out_cq:
	grpc_completion_queue_shutdown(sk.cq);
	while (grpc_completion_queue_next(sk.cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
	       GRPC_QUEUE_SHUTDOWN)
		;
	grpc_completion_queue_destroy(sk.cq);
	grpc_shutdown();
out_state:
	free(sk.auth);
	tp_sink_state_free(&sk.st);
	close(fd);
	return r;
}
