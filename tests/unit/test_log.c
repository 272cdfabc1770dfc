/* Log formats: text, JSON and journal lines are one line each, parseable,
 * and a message cannot break a line or the JSON. */
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

#include "obs/log.h"

/* Run fn with stderr going to a file; return what was written. */
static char *capture(void (*fn)(void))
{
	static char out[4096];
	FILE *f = tmpfile();
	int saved = dup(2);
	size_t n;

	assert_non_null(f);
	fflush(stderr);
	dup2(fileno(f), 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	fclose(f);
	return out;
}

static void say(void)
{
	tp_warn("disk \"%s\" is full\nsecond line", "/var");
	tp_debug("hidden at info");
}

static void test_text(void **state)
{
	char *o;

	tp_log_set_level(TP_LOG_INFO);
	tp_log_set_format(TP_LOG_FMT_TEXT);
	o = capture(say);
	/* 2025-01-01T00:00:00.000Z warn  message */
	assert_int_equal(strlen(o), 24 + 1 + 5 + 1 + strlen("disk \"/var\" is full second line") + 1);
	assert_int_equal(o[4], '-');
	assert_int_equal(o[23], 'Z');
	assert_string_equal(o + 24, " warn  disk \"/var\" is full second line\n");
}

static void test_json(void **state)
{
	char *o;

	tp_log_set_format(TP_LOG_FMT_JSON);
	o = capture(say);
	assert_int_equal(strncmp(o, "{\"ts\":\"", 7), 0);
	assert_non_null(strstr(o, "Z\",\"level\":\"warn\",\"msg\":\"disk \\\"/var\\\" is full second line\"}\n"));
	assert_int_equal(strchr(o, '\n') - o + 1, (long)strlen(o));
}

static void test_journal_and_auto(void **state)
{
	struct stat st;
	char env[64];
	char *o;

	tp_log_set_format(TP_LOG_FMT_JOURNAL);
	o = capture(say);
	assert_string_equal(o, "<4>disk \"/var\" is full second line\n");

	/* auto: journal only when JOURNAL_STREAM names our stderr. */
	unsetenv("JOURNAL_STREAM");
	tp_log_set_format(TP_LOG_FMT_AUTO);
	assert_int_equal(tp_log_get_format(), TP_LOG_FMT_TEXT);
	assert_int_equal(fstat(2, &st), 0);
	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", env, 1);
	tp_log_set_format(TP_LOG_FMT_AUTO);
	assert_int_equal(tp_log_get_format(), TP_LOG_FMT_JOURNAL);
	setenv("JOURNAL_STREAM", "1:2", 1);
	tp_log_set_format(TP_LOG_FMT_AUTO);
	assert_int_equal(tp_log_get_format(), TP_LOG_FMT_TEXT);
	unsetenv("JOURNAL_STREAM");
}

static void test_parse(void **state)
{
	enum tp_log_format f;

	assert_int_equal(tp_log_parse_format("JSON", &f), 0);
	assert_int_equal(f, TP_LOG_FMT_JSON);
	assert_int_equal(tp_log_parse_format("journald", &f), -22);
	assert_string_equal(tp_log_format_name(TP_LOG_FMT_JOURNAL), "journal");
	assert_string_equal(tp_log_level_name(TP_LOG_DEBUG), "debug");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_journal_and_auto),
		cmocka_unit_test(test_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
