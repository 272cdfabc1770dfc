/* Formatter: exact JSON for known events, escaping of hostile strings,
 * alerts, and text output with and without colour. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixtures.h"

#include "events/decode.h"
#include "events/format.h"

static struct tp_event ev;

static void make_exec(const char *comm, const char *filename, const char *argv, size_t argv_len)
{
	struct tp_exec_event e;

	tp_fx_exec_record(&e, comm, filename, argv, argv_len);
	e.hdr.ts_ns = 1;
	e.hdr.pid = 10;
	e.hdr.tid = 10;
	e.hdr.ppid = 1;
	e.hdr.uid = 0;
	e.hdr.gid = 0;
	e.hdr.cpu = 0;
	e.hdr.cgroup_id = 5;
	e.loginuid = 1000;
	assert_int_equal(tp_decode(&e, sizeof(e), 1795000000000000000LL - 1, &ev), 0);
}

static void test_json_exec_exact(void **state)
{
	struct tp_buf b;

	(void)state;
	make_exec("ls", "/bin/ls", "ls\0-la", 6);
	tp_buf_init(&b);
	tp_format_json(&b, &ev, NULL);
	assert_string_equal(tp_buf_cstr(&b),
			    "{\"type\":\"process.exec\",\"ts\":1795000000000000000,\"cpu\":0,\"pid\":10,"
			    "\"tid\":10,\"ppid\":1,\"uid\":0,\"gid\":0,\"comm\":\"ls\",\"cgroup_id\":5,"
			    "\"filename\":\"/bin/ls\",\"argv\":[\"ls\",\"-la\"],\"ret\":0,"
			    "\"argv_truncated\":false,\"loginuid\":1000,\"env_truncated\":false,"
			    "\"sessionid\":0,\"sid\":0,\"stdin_socket\":false,\"stdout_socket\":false,"
			    "\"stderr_socket\":false}\n");
	tp_buf_free(&b);
}

static void test_json_escapes_hostile_strings(void **state)
{
	struct tp_buf b;
	const char *out;

	(void)state;
	/* quote, backslash, newline, ESC, invalid UTF-8, valid UTF-8 */
	make_exec("a\"b\\c\nd\x1b", "/tmp/\xff\xfe-\xc3\xa9", "x\"y\0\x01", 5);
	tp_buf_init(&b);
	tp_format_json(&b, &ev, NULL);
	out = tp_buf_cstr(&b);
	assert_non_null(strstr(out, "\"comm\":\"a\\\"b\\\\c\\nd\\u001b\""));
	assert_non_null(strstr(out, "\"filename\":\"/tmp/\\u00ff\\u00fe-\xc3\xa9\""));
	assert_non_null(strstr(out, "\"argv\":[\"x\\\"y\",\"\\u0001\"]"));
	/* One line, nothing raw below 0x20. */
	for (const char *p = out; *p; p++)
		assert_true((unsigned char)*p >= 0x20 || (*p == '\n' && p[1] == '\0'));
	tp_buf_free(&b);
}

static void test_json_alert(void **state)
{
	static const char *const tags[] = { "mitre:T1059", "container" };
	static const char *const extra_tags[] = { "suspicious" };
	struct tp_alert alert = {
		.rule = "shell_in_container",
		.severity = "warning",
		.importance = 0.9,
		.tags = tags,
		.ntags = 2,
		.output = "shell \"bash\" started",
	};
	struct tp_kv kv[] = {
		{ .key = "team", .value = { .kind = TP_V_STR, .str = { "payments", 8 } } },
		{ .key = "count", .value = { .kind = TP_V_INT, .i = -3 } },
	};
	struct tp_event_meta meta = {
		.importance = -1, .alert = &alert, .tags = extra_tags, .ntags = 1, .kv = kv, .nkv = 2,
	};
	struct tp_buf b;
	const char *out;

	(void)state;
	make_exec("bash", "/bin/bash", "bash", 5);
	tp_buf_init(&b);
	tp_format_json(&b, &ev, &meta);
	out = tp_buf_cstr(&b);
	assert_non_null(strstr(out, ",\"team\":\"payments\",\"count\":-3,"));
	assert_non_null(strstr(out, ",\"importance\":0.9,"));
	assert_non_null(strstr(out, ",\"rule\":\"shell_in_container\",\"severity\":\"warning\","
				    "\"output\":\"shell \\\"bash\\\" started\","
				    "\"tags\":[\"mitre:T1059\",\"container\",\"suspicious\"]}\n"));
	tp_buf_free(&b);
}

/* Numbers a rule or enrich function sets: "%.6g" of each, null when not
 * finite, the same bytes when a value comes again or another shares its
 * slot in the formatter's per-thread cache of recent values. */
static void check_num(double d, const char *want)
{
	struct tp_kv kv[] = { { .key = "n", .value = { .kind = TP_V_NUM, .d = d } } };
	struct tp_event_meta meta = { .importance = -1, .kv = kv, .nkv = 1 };
	struct tp_buf b;
	char expect[64];
	const char *out;

	tp_buf_init(&b);
	tp_format_json(&b, &ev, &meta);
	out = tp_buf_cstr(&b);
	snprintf(expect, sizeof(expect), ",\"n\":%s}\n", want);
	assert_true(strlen(out) >= strlen(expect));
	assert_string_equal(out + strlen(out) - strlen(expect), expect);
	tp_buf_free(&b);
}

static void test_json_numbers(void **state)
{
	static const double vals[] = { 0, -0.0, 1, -1, 0.5, 0.25, 0.9, 0.1 + 0.2, 1.0 / 3,
				       -2.5e-7, 123456, 1234567, -1234567.5, 1e300, -1e-300,
				       4.9e-324, 1.7976931348623157e308 };
	char want[64];
	double x = 0.001;

	(void)state;
	make_exec("ls", "/bin/ls", "ls", 3);
	for (int round = 0; round < 2; round++) /* the second from the cache */
		for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
			snprintf(want, sizeof(want), "%.6g", vals[i]);
			check_num(vals[i], want);
		}
	/* Many values through few slots: each replaces another, none is mistaken. */
	for (int i = 0; i < 2000; i++, x = x * 1.37 + 0.11) {
		double d = (i & 1) ? -x : x;

		snprintf(want, sizeof(want), "%.6g", d);
		check_num(d, want);
		snprintf(want, sizeof(want), "%.6g", vals[i % 17]);
		check_num(vals[i % 17], want);
	}
	check_num(NAN, "null");
	check_num(-NAN, "null");
	check_num(INFINITY, "null");
	check_num(-INFINITY, "null");
}

static void test_json_exit_signal_name(void **state)
{
	struct tp_exit_event x;
	struct tp_buf b;

	(void)state;
	memset(&x, 0, sizeof(x));
	x.hdr.type = TP_EV_PROCESS_EXIT;
	x.hdr.size = sizeof(x);
	x.signal = 15;
	x.exit_code = 0;
	assert_int_equal(tp_decode(&x, sizeof(x), 0, &ev), 0);
	tp_buf_init(&b);
	tp_format_json(&b, &ev, NULL);
	assert_non_null(strstr(tp_buf_cstr(&b), "\"signal\":15,\"signal_str\":\"SIGTERM\""));
	tp_buf_free(&b);
}

static void test_text_plain_and_color(void **state)
{
	struct tp_buf b;
	const char *out;

	(void)state;
	make_exec("evil\x1b[31m", "/bin/sh", "sh\0-c\0echo hi", 13);
	tp_buf_init(&b);
	tp_format_text(&b, &ev, NULL, false);
	out = tp_buf_cstr(&b);
	assert_non_null(strstr(out, "process.exec"));
	assert_non_null(strstr(out, " pid=10 ppid=1 uid=0 comm=evil\\x1b[31m"));
	assert_non_null(strstr(out, " filename=/bin/sh argv=[sh -c \"echo hi\"]"));
	assert_null(strchr(out, '\x1b')); /* a hostile comm cannot inject escapes */
	assert_int_equal(out[strlen(out) - 1], '\n');

	tp_buf_reset(&b);
	tp_format_text(&b, &ev, NULL, true);
	out = tp_buf_cstr(&b);
	assert_non_null(strstr(out, "\033[32mprocess.exec"));
	tp_buf_free(&b);
}

static void test_text_alert(void **state)
{
	struct tp_alert alert = {
		.rule = "r1", .severity = "critical", .importance = 1, .output = "bad\nthing",
	};
	struct tp_event_meta meta = { .importance = -1, .alert = &alert };
	struct tp_buf b;
	const char *out;

	(void)state;
	make_exec("x", "/x", "x", 2);
	tp_buf_init(&b);
	tp_format_text(&b, &ev, &meta, false);
	out = tp_buf_cstr(&b);
	assert_non_null(strstr(out, "ALERT critical r1: bad\\nthing | process.exec"));
	tp_buf_free(&b);
}

static void test_format_parse(void **state)
{
	enum tp_output_format f;

	(void)state;
	assert_int_equal(tp_format_parse("json", &f), 0);
	assert_int_equal(f, TP_FMT_JSON);
	assert_int_equal(tp_format_parse("text", &f), 0);
	assert_int_equal(f, TP_FMT_TEXT);
	assert_int_equal(tp_format_parse("none", &f), 0);
	assert_int_equal(f, TP_FMT_NONE);
	assert_int_not_equal(tp_format_parse("xml", &f), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_exec_exact),
		cmocka_unit_test(test_json_escapes_hostile_strings),
		cmocka_unit_test(test_json_alert),
		cmocka_unit_test(test_json_numbers),
		cmocka_unit_test(test_json_exit_signal_name),
		cmocka_unit_test(test_text_plain_and_color),
		cmocka_unit_test(test_text_alert),
		cmocka_unit_test(test_format_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
