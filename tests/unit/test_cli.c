/* Command line and environment: flags win over the environment, every
 * value goes through the key table with the flag or variable named in the
 * error, --set reaches any key, and the Go collector's switches work. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli.h"
#include "config/config.h"
#include "config/config_keys.h"

static char err[512];

static int parse(struct tp_config *c, char **argv)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	err[0] = '\0';
	return tp_cli_parse(argc, argv, c, stdout, err, sizeof(err));
}

static void clear_env(void)
{
	static const char *const vars[] = {
		"TAPIO_SERVER_ADDR", "TAPIO_BUFFER_SIZE", "TAPIO_CORRELATION_MODE", "TAPIO_LOG_LEVEL",
		"TAPIO_LOG_FORMAT", "TAPIO_METRICS_ADDR", "TAPIO_DEBUG", "TAPIO_ENABLE_EBPF",
	};

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
}

static void test_flags_win_over_environment(void **state)
{
	char *argv[] = { "tapio-collector", "--buffer-size", "300", "-s", "flag:1", NULL };
	struct tp_config c;

	clear_env();
	setenv("TAPIO_SERVER_ADDR", "env:9090", 1);
	setenv("TAPIO_BUFFER_SIZE", "2000", 1);
	setenv("TAPIO_CORRELATION_MODE", "temporal", 1);
	tp_config_defaults(&c);
	assert_int_equal(tp_cli_apply_env(&c, err, sizeof(err)), 0);
	assert_string_equal(c.server, "env:9090");
	assert_int_equal(c.buffer_size, 2000);
	assert_int_equal(tp_config_source_of(&c, "server.batch_size"), TP_SRC_ENV);
	assert_int_equal(parse(&c, argv), 0);
	assert_string_equal(c.server, "flag:1");
	assert_int_equal(c.buffer_size, 300);
	assert_string_equal(c.correlation, "temporal");
	assert_int_equal(tp_config_source_of(&c, "server.batch_size"), TP_SRC_FLAG);
	assert_int_equal(tp_config_source_of(&c, "server.correlation"), TP_SRC_ENV);
	tp_config_free(&c);
	clear_env();
}

static void test_environment_errors_name_the_variable(void **state)
{
	struct tp_config c;

	clear_env();
	setenv("TAPIO_BUFFER_SIZE", "lots", 1);
	tp_config_defaults(&c);
	assert_int_equal(tp_cli_apply_env(&c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "invalid value 'lots' for TAPIO_BUFFER_SIZE: expected a whole "
				 "number from 1 to 1000000, got \"lots\"");
	clear_env();
	setenv("TAPIO_SERVER_ADDR", "no-port", 1);
	assert_int_equal(tp_cli_apply_env(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "TAPIO_SERVER_ADDR"));
	clear_env();
	/* Empty means unset. */
	setenv("TAPIO_BUFFER_SIZE", "", 1);
	assert_int_equal(tp_cli_apply_env(&c, err, sizeof(err)), 0);
	assert_int_equal(c.buffer_size, 1000);
	tp_config_free(&c);
	clear_env();
}

static void test_go_collector_switches(void **state)
{
	char *ok[] = { "tapio-collector", "--enable-ebpf", "--enable-ebpf=true", NULL };
	char *off[] = { "tapio-collector", "--enable-ebpf=false", NULL };
	struct tp_config c;

	clear_env();
	tp_config_defaults(&c);
	setenv("TAPIO_DEBUG", "true", 1);
	assert_int_equal(tp_cli_apply_env(&c, err, sizeof(err)), 0);
	assert_int_equal(c.log_level, TP_LOG_DEBUG);
	/* An explicit level wins over TAPIO_DEBUG. */
	setenv("TAPIO_LOG_LEVEL", "warn", 1);
	assert_int_equal(tp_cli_apply_env(&c, err, sizeof(err)), 0);
	assert_int_equal(c.log_level, TP_LOG_WARN);
	setenv("TAPIO_DEBUG", "sure", 1);
	assert_int_equal(tp_cli_apply_env(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "TAPIO_DEBUG"));
	clear_env();
	setenv("TAPIO_ENABLE_EBPF", "true", 1);
	assert_int_equal(tp_cli_apply_env(&c, err, sizeof(err)), 0);
	setenv("TAPIO_ENABLE_EBPF", "false", 1);
	assert_int_equal(tp_cli_apply_env(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "cannot be disabled"));
	clear_env();
	assert_int_equal(parse(&c, ok), 0);
	assert_int_equal(parse(&c, off), -EINVAL);
	assert_non_null(strstr(err, "--enable-ebpf=false"));
	tp_config_free(&c);
}

static void test_set(void **state)
{
	char *good[] = { "tapio-collector", "--set", "sampling.base_rate=0.05", "--set",
			 "sampling.never_sample_categories=security,process", "--set",
			 "programs.memory.enabled=false", NULL };
	char *typo[] = { "tapio-collector", "--set", "sampling.base_rat=1", NULL };
	char *noeq[] = { "tapio-collector", "--set", "sampling.base_rate", NULL };
	char *range[] = { "tapio-collector", "--set", "sampling.base_rate=2", NULL };
	char *preset[] = { "tapio-collector", "--set", "preset=security", NULL };
	struct tp_config c;

	tp_config_defaults(&c);
	assert_int_equal(parse(&c, good), 0);
	assert_true(c.sampling.base_rate == 0.05);
	assert_int_equal(c.sampling.never_sample_categories, (1u << 4) | (1u << 1));
	assert_false(c.categories & (1u << 6));
	assert_int_equal(parse(&c, typo), -EINVAL);
	assert_string_equal(err, "--set: unknown key 'sampling.base_rat': did you mean "
				 "'sampling.base_rate'? (--print-keys lists them)");
	assert_int_equal(parse(&c, noeq), -EINVAL);
	assert_non_null(strstr(err, "KEY=VALUE"));
	assert_int_equal(parse(&c, range), -EINVAL);
	assert_string_equal(err, "--set sampling.base_rate: expected a number from 1e-06 to 1, got \"2\"");
	assert_int_equal(parse(&c, preset), -EINVAL);
	assert_non_null(strstr(err, "--preset"));
	tp_config_free(&c);
}

static void test_flag_values_checked_by_the_table(void **state)
{
	char *fmt[] = { "tapio-collector", "-o", "xml", NULL };
	char *preset[] = { "tapio-collector", "-p", "turbo", NULL };
	char *flush[] = { "tapio-collector", "--flush-interval=0", NULL };
	char *metrics[] = { "tapio-collector", "--metrics-addr", "9464", NULL };
	char *logf[] = { "tapio-collector", "--log-format", "json", "-a", NULL };
	struct tp_config c;

	tp_config_defaults(&c);
	assert_int_equal(parse(&c, fmt), -EINVAL);
	assert_string_equal(err, "invalid value 'xml' for --output: expected one of text, json, "
				 "none, got \"xml\"");
	assert_int_equal(parse(&c, preset), -EINVAL);
	assert_non_null(strstr(err, "invalid value 'turbo' for --preset: expected one of default, "
				    "high-performance, security"));
	assert_int_equal(parse(&c, flush), -EINVAL);
	assert_non_null(strstr(err, "invalid value '0' for --flush-interval"));
	assert_int_equal(parse(&c, metrics), -EINVAL);
	assert_non_null(strstr(err, "HOST:PORT"));
	assert_int_equal(parse(&c, logf), 0);
	assert_int_equal(c.log_format, TP_LOG_FMT_JSON);
	assert_true(c.all_events);
	assert_int_equal(tp_config_source_of(&c, "output.all_events"), TP_SRC_FLAG);
	tp_config_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flags_win_over_environment),
		cmocka_unit_test(test_environment_errors_name_the_variable),
		cmocka_unit_test(test_go_collector_switches),
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_flag_values_checked_by_the_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
