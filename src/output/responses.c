#include "output/responses.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "tapio/v1/tapio.pb-c.h"
#include "util/peertext.h"

int tp_tapio_parse_response(const uint8_t *p, size_t len, struct tp_response *r, char *err,
			    size_t errlen)
{
	Tapio__V1__TapioStreamEventsResponse *m =
		tapio__v1__tapio_stream_events_response__unpack(NULL, len, len ? p : (const uint8_t *)"");

	memset(r, 0, sizeof(*r));
	if (!m) {
		snprintf(err, errlen, "%zu bytes that are not a TapioStreamEventsResponse", len);
		return -EBADMSG;
	}
	if (m->n_acks) {
		r->acks = malloc(m->n_acks * sizeof(*r->acks));
		if (!r->acks)
			goto oom;
		memcpy(r->acks, m->acks, m->n_acks * sizeof(*r->acks));
		r->nacks = m->n_acks;
	}
	if (m->n_rejections) {
		r->rejections = calloc(m->n_rejections, sizeof(*r->rejections));
		if (!r->rejections)
			goto oom;
		for (size_t i = 0; i < m->n_rejections; i++) {
			const char *why = m->rejections[i]->reason ? m->rejections[i]->reason : "";
			char safe[TP_REJECTION_REASON_MAX];

			tp_peer_text(safe, sizeof(safe), why, strlen(why));
			r->rejections[i].seq = m->rejections[i]->sequence;
			r->rejections[i].reason = strdup(safe);
			if (!r->rejections[i].reason)
				goto oom;
			r->nrejections++;
		}
	}
	if (m->control) {
		r->has_control = true;
		r->max_batch_events = m->control->max_batch_events;
	}
	tapio__v1__tapio_stream_events_response__free_unpacked(m, NULL);
	return 0;
oom:
	tapio__v1__tapio_stream_events_response__free_unpacked(m, NULL);
	tp_response_free(r);
	snprintf(err, errlen, "out of memory");
	return -ENOMEM;
}

int tp_otlp_parse_response(const uint8_t *p, size_t len, struct tp_response *r, char *err,
			   size_t errlen)
{
	Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceResponse *m =
		opentelemetry__proto__collector__logs__v1__export_logs_service_response__unpack(
			NULL, len, len ? p : (const uint8_t *)"");

	memset(r, 0, sizeof(*r));
	if (!m) {
		snprintf(err, errlen, "%zu bytes that are not an ExportLogsServiceResponse", len);
		return -EBADMSG;
	}
	if (m->partial_success) {
		const char *why = m->partial_success->error_message ?
					  m->partial_success->error_message : "";

		r->rejected_events = m->partial_success->rejected_log_records;
		tp_peer_text(r->message, sizeof(r->message), why, strlen(why));
	}
	opentelemetry__proto__collector__logs__v1__export_logs_service_response__free_unpacked(m,
												NULL);
	return 0;
}
