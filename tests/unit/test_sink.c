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

#include "delivery/pbwire.h"
#include "events/decode.h"
#include "events/format.h"
#include "events/proc_ctx.h"
#include "output/tapio_encode.h"
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

/* One event as the collector's -o json prints it (expected, appended)
 * and as the --server output encodes it (body, appended). */
static void collector_both(const void *rec, size_t size, const struct tp_event_meta *meta,
			   struct tp_buf *expected, struct tp_buf *body)
{
	struct tp_event ev;
	struct tp_arena a;

	assert_int_equal(tp_decode(rec, size, 1795000000000000000LL, &ev), 0);
	tp_format_json(expected, &ev, meta);
	tp_arena_init(&a);
	assert_int_equal(tp_tapio_encode_event(&ev, meta, &a, body), 0);
	tp_arena_free(&a);
}

/* What the sink writes is what the collector printed, byte for byte after
 * the sink's own two keys: the enrichment with every name known, with
 * some unknown, with none known and without enrichment at all; the
 * arguments where the type has none of its own, the ancestors on process
 * events, an alert and e:set keys after the enrichment. */
static void test_json_matches_collector(void **state)
{
	static const char av[] = "nginx\0-g\0daemon off;";
	static const struct tp_proc_ref parent = { 1, "containerd-shim", "/usr/bin/containerd-shim" };
	static const struct tp_proc_ref anc[] = { { 2, "containerd", NULL }, { 3, NULL, "/sbin/init" } };
	static const struct tp_container_ctx ctr = { "3f0a9c", "containerd" };
	static const struct tp_container_ctx ctr_bare = { "3f0a9c", NULL };
	static const struct tp_k8s_ctx k8s = { "web-0", "shop", "7e8d-11", "nginx", "Burstable" };
	static const struct tp_k8s_ctx k8s_uid = { NULL, NULL, "7e8d-11", NULL, "BestEffort" };
	static const char *const tags[] = { "t" };
	const struct tp_proc_ctx full = {
		.exe = "/usr/sbin/nginx", .argv = av, .argv_len = sizeof(av), .argv_truncated = true,
		.parent = &parent, .ancestors = anc, .nancestors = 2, .container = &ctr, .k8s = &k8s,
	};
	const struct tp_proc_ctx some = { .argv = av, .argv_len = 6, .parent = &anc[1],
					  .ancestors = anc, .nancestors = 1, .container = &ctr_bare,
					  .k8s = &k8s_uid };
	const struct tp_proc_ctx none = { 0 };
	struct tp_alert alert = { .rule = "r", .severity = "warning", .importance = 0.5, .tags = tags,
				  .ntags = 1, .output = "out" };
	struct tp_kv kv = { .key = "team", .value = { .kind = TP_V_STR, .str = { "blue", 4 } } };
	struct tp_event_meta m_full = { .importance = -1, .proc = &full };
	struct tp_event_meta m_alert = { .importance = 0.2, .proc = &full, .alert = &alert, .kv = &kv,
					 .nkv = 1 };
	struct tp_event_meta m_some = { .importance = -1, .proc = &some };
	struct tp_event_meta m_none = { .importance = -1, .proc = &none };
	struct tp_exec_event x;
	struct tp_file_open_event o;
	struct tp_exit_event e;
	struct tp_buf expected, body, hdr, req;
	const char *want, *got;
	uint64_t seq;
	char err[256];
	int fd = open(path, O_RDWR | O_APPEND);
	struct tp_sink_state st;

	memset(&x, 0, sizeof(x));
	x.hdr.type = TP_EV_PROCESS_EXEC;
	x.hdr.size = sizeof(x);
	x.hdr.pid = 10;
	x.hdr.ppid = 1;
	x.hdr.cgroup_id = 5;
	x.hdr.cgroup_v1_id = 6;
	memcpy(x.hdr.comm, "nginx", 5);
	memcpy(x.filename, "/usr/sbin/nginx", 15);
	memcpy(x.argv, av, sizeof(av));
	x.argv_len = sizeof(av);
	memset(&o, 0, sizeof(o));
	o.hdr = x.hdr;
	o.hdr.type = TP_EV_FILE_OPEN;
	o.hdr.size = sizeof(o);
	memcpy(o.path, "/etc/nginx/nginx.conf", 21);
	o.ret = 3;
	memset(&e, 0, sizeof(e));
	e.hdr = x.hdr;
	e.hdr.type = TP_EV_PROCESS_EXIT;
	e.hdr.size = sizeof(e);
	e.signal = 9;

	tp_buf_init(&expected);
	tp_buf_init(&body);
	collector_both(&x, sizeof(x), &m_full, &expected, &body);
	collector_both(&o, sizeof(o), &m_full, &expected, &body);
	collector_both(&e, sizeof(e), &m_full, &expected, &body);
	collector_both(&o, sizeof(o), &m_alert, &expected, &body);
	collector_both(&o, sizeof(o), &m_some, &expected, &body);
	collector_both(&e, sizeof(e), &m_some, &expected, &body);
	collector_both(&o, sizeof(o), &m_none, &expected, &body);
	collector_both(&e, sizeof(e), NULL, &expected, &body);
	/* The JSON has what the test means it to have. */
	want = tp_buf_cstr(&expected);
	assert_non_null(strstr(want, "\"k8s\":{\"pod\":\"web-0\",\"namespace\":\"shop\""));
	assert_non_null(strstr(want, "\"argv_truncated\":true"));
	assert_non_null(strstr(want, "\"ancestors\":[{\"pid\":2,\"comm\":\"containerd\"}"));
	assert_non_null(strstr(want, "\"container\":{\"id\":\"3f0a9c\"}"));

	tp_buf_init(&hdr);
	tp_buf_init(&req);
	assert_int_equal(tp_tapio_encode_batch_header("c", 9, "semantic", "h", &hdr), 0);
	tp_pb_put_len_prefix(&req, TP_PB_REQUEST_BATCH, hdr.len + body.len);
	tp_buf_append(&req, hdr.data, hdr.len);
	tp_buf_append(&req, body.data, body.len);
	tp_sink_state_init(&st, fd, false);
	assert_int_equal(tp_sink_handle(&st, (const uint8_t *)req.data, req.len, &seq, err,
					sizeof(err)),
			 TP_SINK_WRITTEN);
	got = slurp();
	assert_int_equal(count_lines(got), 8);
	for (const char *w = want; *w;) {
		const char *prefix = "{\"collector_id\":\"c\",\"batch_seq\":9,";
		const char *wend = strchr(w, '\n'), *gend = strchr(got, '\n');

		assert_true(!strncmp(got, prefix, strlen(prefix)));
		got += strlen(prefix);
		/* The collector's line without its "{", the sink's after its prefix. */
		if (wend - w - 1 != gend - got || memcmp(w + 1, got, (size_t)(gend - got)))
			fail_msg("sink and collector differ:\n  sink      {%.*s\n  collector %.*s",
				 (int)(gend - got), got, (int)(wend - w), w);
		w = wend + 1;
		got = gend + 1;
	}
	tp_sink_state_free(&st);
	close(fd);
	tp_buf_free(&expected);
	tp_buf_free(&body);
	tp_buf_free(&hdr);
	tp_buf_free(&req);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_once_and_ack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_reads_output_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json_matches_collector, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
