#include "output/remote.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "delivery/batch.h"
#include "util/time.h"

static int remote_emit(struct tp_output *o, const struct tp_event *ev,
		       const struct tp_event_meta *meta)
{
	struct tp_remote_output *ro = (struct tp_remote_output *)o;
	int r;

	tp_buf_reset(&ro->item);
	r = ro->encode(ro, ev, meta, &ro->arena, &ro->item);
	if (r < 0 || tp_buf_failed(&ro->item)) {
		tp_client_count_encode_error(ro->client);
		return r < 0 ? r : -ENOMEM;
	}
	return tp_client_push(ro->client, ro->item.data, ro->item.len, tp_rank_of(meta));
}

static void remote_close(struct tp_output *o)
{
	struct tp_remote_output *ro = (struct tp_remote_output *)o;

	tp_client_stop(ro->client);
	tp_arena_free(&ro->arena);
	tp_buf_free(&ro->item);
	free(ro->collector_id);
	free(ro->hostname);
	free(ro);
}

static const struct tp_output_ops grpc_ops = {
	.name = "grpc",
	.emit = remote_emit,
	.close = remote_close,
};

static const struct tp_output_ops otlp_ops = {
	.name = "otlp",
	.emit = remote_emit,
	.close = remote_close,
};

/* Options for an output named name ("grpc", "otlp") sending to target, from
 * cfg: spool in <spool_dir>/<name>, TLS files given. */
static void client_opts(const struct tp_config *cfg, const char *name, const char *target,
			const char *tls_ca, const char *tls_cert, const char *tls_key,
			struct tp_client_opts *o, char *spool_path, size_t spool_len)
{
	struct timespec ts;

	memset(o, 0, sizeof(*o));
	o->target = target;
	o->tls_ca = tls_ca;
	o->tls_cert = tls_cert;
	o->tls_key = tls_key;
	o->token_file = cfg->token_file;
	if (cfg->spool_dir && strcmp(cfg->spool_dir, "off")) {
		snprintf(spool_path, spool_len, "%s/%s", cfg->spool_dir, name);
		o->spool_dir = spool_path;
	}
	o->spool_max_bytes = cfg->spool_max_bytes;
	o->queue_max_bytes = cfg->queue_max_bytes;
	o->batch_max_bytes = cfg->batch_max_bytes;
	o->batch_max_events = (uint32_t)cfg->buffer_size;
	o->max_inflight = cfg->max_inflight;
	o->max_response_bytes = cfg->max_response_bytes;
	o->flush_interval_ns = cfg->flush_interval_ns;
	o->backoff_min_ns = cfg->backoff_min_ns;
	o->backoff_max_ns = cfg->backoff_max_ns;
	o->ack_timeout_ns = cfg->ack_timeout_ns;
	o->drain_timeout_ns = cfg->drain_timeout_ns;
	/* Sequences never go back, even across restarts: start from the wall
	 * clock in microseconds (the spool may raise it further). */
	clock_gettime(CLOCK_REALTIME, &ts);
	o->first_seq = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static char *utf8_dup(const char *s)
{
	struct tp_arena a;
	const char *v;
	char *r;

	tp_arena_init(&a);
	v = tp_arena_utf8(&a, s, strlen(s));
	r = v ? strdup(v) : NULL;
	tp_arena_free(&a);
	return r;
}

int tp_remote_output_new(struct tp_output **out, const struct tp_remote_spec *spec,
			 const struct tp_config *cfg, char *err, size_t errlen)
{
	struct tp_remote_output *ro = calloc(1, sizeof(*ro));
	struct tp_client_opts o;
	char spool[4096];
	char host[256];
	int r;

	*out = NULL;
	if (!ro) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ro->encode = spec->encode;
	ro->transport = spec->transport;
	ro->base.ops = !strcmp(ro->transport.name, "otlp") ? &otlp_ops : &grpc_ops;
	tp_arena_init(&ro->arena);
	tp_buf_init(&ro->item);
	if (gethostname(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "unknown");
	host[sizeof(host) - 1] = '\0';
	ro->hostname = utf8_dup(host);
	ro->collector_id = utf8_dup(cfg->collector_id && *cfg->collector_id ? cfg->collector_id :
									      host);
	ro->correlation = cfg->correlation;
	ro->transport.ctx = ro;
	if (!ro->hostname || !ro->collector_id) {
		snprintf(err, errlen, "out of memory");
		r = -ENOMEM;
		goto fail;
	}
	client_opts(cfg, ro->transport.name, spec->target, spec->tls_ca, spec->tls_cert,
		    spec->tls_key, &o, spool, sizeof(spool));
	r = tp_client_start(&ro->client, &o, &ro->transport, err, errlen);
	if (r < 0)
		goto fail;
	*out = &ro->base;
	return 0;
fail:
	tp_arena_free(&ro->arena);
	tp_buf_free(&ro->item);
	free(ro->collector_id);
	free(ro->hostname);
	free(ro);
	return r;
}
