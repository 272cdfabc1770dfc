#include "output/otlp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "output/otlp_encode.h"
#include "output/remote.h"
#include "output/responses.h"
#include "util/time.h"

static int encode(struct tp_remote_output *ro, const struct tp_event *ev,
		  const struct tp_event_meta *meta, struct tp_arena *arena, struct tp_buf *out)
{
	return tp_otlp_encode_event(ev, meta, tp_now_ns(CLOCK_REALTIME), arena, out);
}

/* OTLP batches carry no header of their own: the resource is built when
 * sent (receivers do not deduplicate, so nothing needs to stay fixed). */
static int batch_header(void *ctx, uint64_t seq, struct tp_buf *out)
{
	return 0;
}

static int request_prefix(void *ctx, const uint8_t *hdr, size_t hdr_len, size_t body_len,
			  struct tp_buf *out)
{
	struct tp_remote_output *ro = ctx;

	return tp_otlp_encode_prefix(ro->collector_id, ro->hostname, body_len, out);
}

static int parse_response(void *ctx, const uint8_t *p, size_t len, struct tp_response *r,
			  char *err, size_t errlen)
{
	return tp_otlp_parse_response(p, len, r, err, errlen);
}

int tp_output_otlp_new(struct tp_output **out, const struct tp_config *cfg, char *err,
		       size_t errlen)
{
	struct tp_remote_spec spec = {
	    .transport =
		{
		    .name = "otlp",
		    .method = TP_OTLP_LOGS_METHOD,
		    .streaming = false,
		    .batch_header = batch_header,
		    .request_prefix = request_prefix,
		    .parse_response = parse_response,
		},
	    .encode = encode,
	    .target = cfg->otlp,
	    .tls_ca = cfg->otlp_tls_ca,
	    .tls_cert = cfg->otlp_tls_cert,
	    .tls_key = cfg->otlp_tls_key,
	};

	return tp_remote_output_new(out, &spec, cfg, err, errlen);
}
