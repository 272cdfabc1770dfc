/* Sink request handling without gRPC: a batch is written once as JSON
 * lines, a resent one is acked but not written, garbage is refused, and a
 * restart reads the output back (cutting a batch a crash left half). */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sink/sink.h"
#include "tapio/v1/tapio.pb-c.h"

static char path[256];

static int setup(void **state)
{
	int fd;

	snprintf(path, sizeof(path), "/tmp/tapio-test-sink-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	return unlink(path);
}

/* A request of n exec events from collector id with sequence seq. */
static size_t make_request(uint8_t *out, size_t cap, const char *id, uint64_t seq, size_t n)
{
	Tapio__V1__TapioStreamEventsRequest req = TAPIO__V1__TAPIO_STREAM_EVENTS_REQUEST__INIT;
	Tapio__V1__EventBatch b = TAPIO__V1__EVENT_BATCH__INIT;
	Tapio__V1__Event ev[8], *evp[8];
	Tapio__V1__Process proc = TAPIO__V1__PROCESS__INIT;
	Tapio__V1__Field f = TAPIO__V1__FIELD__INIT, *fp = &f;
	size_t len;

	proc.pid = 42;
	proc.comm = (char *)"sh";
	f.name = (char *)"signal";
	f.value_case = TAPIO__V1__FIELD__VALUE_UINT_VALUE;
	f.uint_value = 9;
	f.symbol = (char *)"SIGKILL";
	for (size_t i = 0; i < n; i++) {
		tapio__v1__event__init(&ev[i]);
		ev[i].type = (char *)"process.exit";
		ev[i].timestamp_ns = 1000 + i;
		ev[i].process = &proc;
		ev[i].fields = &fp;
		ev[i].n_fields = 1;
		ev[i].importance = -1;
		evp[i] = &ev[i];
	}
	b.collector_id = (char *)id;
	b.sequence = seq;
	b.events = evp;
	b.n_events = n;
	req.batch = &b;
	len = tapio__v1__tapio_stream_events_request__get_packed_size(&req);
	assert_true(len <= cap);
	return tapio__v1__tapio_stream_events_request__pack(&req, out);
}

static char *slurp(void)
{
	static char buf[8192];
	int fd = open(path, O_RDONLY);
	ssize_t n = read(fd, buf, sizeof(buf) - 1);

	close(fd);
	buf[n < 0 ? 0 : n] = '\0';
	return buf;
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_write_once_and_ack(void **state)
{
	struct tp_sink_state s;
	uint8_t req[4096];
	size_t len = make_request(req, sizeof(req), "node\"1", 7, 3);
	uint64_t seq;
	char err[256];
	int fd = open(path, O_RDWR | O_APPEND);

	tp_sink_state_init(&s, fd, false);
	assert_int_equal(tp_sink_handle(&s, req, len, &seq, err, sizeof(err)), TP_SINK_WRITTEN);
	assert_int_equal(seq, 7);
	assert_int_equal(tp_sink_handle(&s, req, len, &seq, err, sizeof(err)), TP_SINK_DUPLICATE);
	assert_int_equal(seq, 7);
	assert_int_equal(count_lines(slurp()), 3);
	assert_non_null(strstr(slurp(), "{\"collector_id\":\"node\\\"1\",\"batch_seq\":7,"
					 "\"type\":\"process.exit\",\"ts\":1000,\"cpu\":0,\"pid\":42,"));
	assert_non_null(strstr(slurp(), "\"signal\":9,\"signal_str\":\"SIGKILL\"}\n"));
	assert_int_equal(s.batches, 1);
	assert_int_equal(s.events, 3);
	assert_int_equal(s.duplicates, 1);
	tp_sink_state_free(&s);
	close(fd);
}

static void test_bad_requests(void **state)
{
	struct tp_sink_state s;
	uint8_t req[4096];
	uint64_t seq;
	char err[256];
	size_t len;
	int fd = open(path, O_RDWR | O_APPEND);

	tp_sink_state_init(&s, fd, false);
	assert_int_equal(tp_sink_handle(&s, (const uint8_t *)"\xff\xff\xff", 3, &seq, err,
					sizeof(err)),
			 TP_SINK_BAD);
	len = make_request(req, sizeof(req), "", 7, 1); /* no collector id */
	assert_int_equal(tp_sink_handle(&s, req, len, &seq, err, sizeof(err)), TP_SINK_BAD);
	len = make_request(req, sizeof(req), "a", 0, 1); /* no sequence */
	assert_int_equal(tp_sink_handle(&s, req, len, &seq, err, sizeof(err)), TP_SINK_BAD);
	assert_int_equal(tp_sink_handle(&s, NULL, 0, &seq, err, sizeof(err)), TP_SINK_BAD);
	assert_int_equal(s.bad_requests, 4);
	assert_string_equal(slurp(), "");
	tp_sink_state_free(&s);
	close(fd);
}

static void test_restart_reads_output_back(void **state)
{
	struct tp_sink_state s;
	uint8_t req[4096];
	size_t len1 = make_request(req, sizeof(req), "a", 1, 2);
	uint8_t req2[4096];
	size_t len2 = make_request(req2, sizeof(req2), "a", 2, 3);
	uint64_t seq;
	char err[256];
	int fd = open(path, O_RDWR | O_APPEND);
	struct stat st;

	tp_sink_state_init(&s, fd, false);
	assert_int_equal(tp_sink_handle(&s, req, len1, &seq, err, sizeof(err)), TP_SINK_WRITTEN);
	assert_int_equal(tp_sink_handle(&s, req2, len2, &seq, err, sizeof(err)), TP_SINK_WRITTEN);
	tp_sink_state_free(&s);
	/* A crash in the middle of batch 2's last line. */
	fstat(fd, &st);
	assert_int_equal(ftruncate(fd, st.st_size - 5), 0);
	close(fd);

	fd = open(path, O_RDWR | O_APPEND);
	tp_sink_state_init(&s, fd, false);
	assert_int_equal(tp_sink_recover(&s, fd, err, sizeof(err)), 0);
	assert_int_equal(count_lines(slurp()), 2); /* batch 2 cut off whole */
	assert_int_equal(tp_sink_handle(&s, req, len1, &seq, err, sizeof(err)), TP_SINK_DUPLICATE);
	assert_int_equal(tp_sink_handle(&s, req2, len2, &seq, err, sizeof(err)), TP_SINK_WRITTEN);
	assert_int_equal(count_lines(slurp()), 5);
	tp_sink_state_free(&s);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_once_and_ack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_reads_output_back, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
