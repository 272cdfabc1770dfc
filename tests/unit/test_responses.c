/* A receiver's responses: acks, rejections and control parsed from bytes;
 * text from the peer made safe for a log line before anyone sees it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "output/responses.h"
#include "tapio/v1/tapio.pb-c.h"
#include "util/peertext.h"

static void test_peer_text(void **state)
{
	char out[32];

	(void)state;
	assert_int_equal(tp_peer_text(out, sizeof(out), "plain text", 10), 10);
	assert_string_equal(out, "plain text");
	tp_peer_text(out, sizeof(out), "a\nb\x1b[31mc\\", 10);
	assert_string_equal(out, "a\\x0ab\\x1b[31mc\\x5c");
	tp_peer_text(out, sizeof(out), "\xc3\xa9", 2);
	assert_string_equal(out, "\\xc3\\xa9");
	/* Cut with "..." and always terminated, even in a tiny buffer. */
	assert_int_equal(tp_peer_text(out, 8, "0123456789", 10), 7);
	assert_string_equal(out, "0123...");
	assert_int_equal(tp_peer_text(out, 8, "0123456", 7), 7);
	assert_string_equal(out, "0123456");
	tp_peer_text(out, 8, "\n\n\n\n", 4);
	assert_string_equal(out, "\\x0a...");
	tp_peer_text(out, 3, "abcdef", 6);
	assert_string_equal(out, "..");
	tp_peer_text(out, 1, "abcdef", 6);
	assert_string_equal(out, "");
	tp_peer_text(out, sizeof(out), "", 0);
	assert_string_equal(out, "");
}

static size_t pack_tapio(const Tapio__V1__TapioStreamEventsResponse *m, uint8_t **out)
{
	size_t n = tapio__v1__tapio_stream_events_response__get_packed_size(m);

	*out = malloc(n ? n : 1);
	assert_non_null(*out);
	return tapio__v1__tapio_stream_events_response__pack(m, *out);
}

static void test_tapio_response(void **state)
{
	Tapio__V1__TapioStreamEventsResponse m = TAPIO__V1__TAPIO_STREAM_EVENTS_RESPONSE__INIT;
	Tapio__V1__Rejection rej = TAPIO__V1__REJECTION__INIT, *rejs[1] = { &rej };
	Tapio__V1__Control ctl = TAPIO__V1__CONTROL__INIT;
	uint64_t acks[3] = { 7, 8, 9 };
	struct tp_response r;
	char err[128], reason[4096];
	uint8_t *buf;
	size_t n;

	(void)state;
	memset(reason, 'x', sizeof(reason) - 1);
	reason[sizeof(reason) - 1] = '\0';
	memcpy(reason, "bad\r\nFAKE LOG LINE\x1b[2J", 22);
	m.n_acks = 3;
	m.acks = acks;
	rej.sequence = 42;
	rej.reason = reason;
	m.n_rejections = 1;
	m.rejections = rejs;
	ctl.max_batch_events = 5;
	m.control = &ctl;
	n = pack_tapio(&m, &buf);
	assert_int_equal(tp_tapio_parse_response(buf, n, &r, err, sizeof(err)), 0);
	assert_int_equal(r.nacks, 3);
	assert_int_equal(r.acks[2], 9);
	assert_int_equal(r.nrejections, 1);
	assert_int_equal(r.rejections[0].seq, 42);
	/* The reason is one bounded line of printable ASCII. */
	assert_true(strlen(r.rejections[0].reason) < TP_REJECTION_REASON_MAX);
	assert_non_null(strstr(r.rejections[0].reason, "bad\\x0d\\x0aFAKE LOG LINE\\x1b[2J"));
	assert_non_null(strstr(r.rejections[0].reason, "..."));
	assert_int_equal(r.max_batch_events, 5);
	free(r.rejections[0].reason);
	free(r.rejections);
	free(r.acks);
	free(buf);

	/* Garbage is refused and leaves nothing behind. */
	assert_int_equal(tp_tapio_parse_response((const uint8_t *)"\xff\xff\xff", 3, &r, err,
						 sizeof(err)),
			 -EBADMSG);
	assert_null(r.acks);
	assert_null(r.rejections);
	assert_non_null(strstr(err, "not a TapioStreamEventsResponse"));
	/* Empty is a valid, empty response. */
	assert_int_equal(tp_tapio_parse_response(NULL, 0, &r, err, sizeof(err)), 0);
	assert_int_equal(r.nacks + r.nrejections + r.max_batch_events, 0);
}

static void test_otlp_response(void **state)
{
	Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceResponse m =
		OPENTELEMETRY__PROTO__COLLECTOR__LOGS__V1__EXPORT_LOGS_SERVICE_RESPONSE__INIT;
	Opentelemetry__Proto__Collector__Logs__V1__ExportLogsPartialSuccess ps =
		OPENTELEMETRY__PROTO__COLLECTOR__LOGS__V1__EXPORT_LOGS_PARTIAL_SUCCESS__INIT;
	struct tp_response r;
	char err[128];
	uint8_t buf[256];
	size_t n;

	(void)state;
	ps.rejected_log_records = 3;
	ps.error_message = (char *)"too\nold\x07";
	m.partial_success = &ps;
	n = opentelemetry__proto__collector__logs__v1__export_logs_service_response__pack(&m, buf);
	assert_int_equal(tp_otlp_parse_response(buf, n, &r, err, sizeof(err)), 0);
	assert_int_equal(r.rejected_events, 3);
	assert_string_equal(r.message, "too\\x0aold\\x07");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_peer_text),
		cmocka_unit_test(test_tapio_response),
		cmocka_unit_test(test_otlp_response),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
