#include "output/grpc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "delivery/pbwire.h"
#include "output/remote.h"
#include "output/responses.h"
#include "output/tapio_encode.h"
#include "tapio/v1/tapio.pb-c.h"

static int encode(struct tp_remote_output *ro, const struct tp_event *ev,
		  const struct tp_event_meta *meta, struct tp_arena *arena, struct tp_buf *out)
{
	return tp_tapio_encode_event(ev, meta, arena, out);
}

static int batch_header(void *ctx, uint64_t seq, struct tp_buf *out)
{
	struct tp_remote_output *ro = ctx;

	return tp_tapio_encode_batch_header(ro->collector_id, seq, ro->correlation, ro->hostname,
					    out);
}

/* TapioStreamEventsRequest { batch = 1 }: the batch is its header fields
 * followed by its framed events. */
static int request_prefix(void *ctx, const uint8_t *hdr, size_t hdr_len, size_t body_len,
			  struct tp_buf *out)
{
	tp_pb_put_len_prefix(out, TP_PB_REQUEST_BATCH, hdr_len + body_len);
	tp_buf_append(out, hdr, hdr_len);
	return tp_buf_failed(out) ? -ENOMEM : 0;
}

static int parse_response(void *ctx, const uint8_t *p, size_t len, struct tp_response *r,
			  char *err, size_t errlen)
{
	return tp_tapio_parse_response(p, len, r, err, errlen);
}

int tp_output_grpc_new(struct tp_output **out, const struct tp_config *cfg, char *err,
		       size_t errlen)
{
	struct tp_remote_spec spec = {
	    .transport =
		{
		    .name = "grpc",
		    .method = TP_TAPIO_STREAM_METHOD,
		    .streaming = true,
		    .batch_header = batch_header,
		    .request_prefix = request_prefix,
		    .parse_response = parse_response,
		},
	    .encode = encode,
	    .target = cfg->server,
	    .tls_ca = cfg->tls_ca,
	    .tls_cert = cfg->tls_cert,
	    .tls_key = cfg->tls_key,
	};

	return tp_remote_output_new(out, &spec, cfg, err, errlen);
}
