/* Config key table: every row is well formed; values of each type are
 * checked with errors that say what was expected and what was given; text
 * and typed values agree; the effective configuration renders as a config
 * file with each value's origin. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "config/config_keys.h"
#include "events.h"

static char err[256];

static int set_text(struct tp_config *c, const char *path, const char *text)
{
	const struct tp_config_key *k = tp_config_key_find(path);

	assert_non_null(k);
	err[0] = '\0';
	return tp_config_set_text(c, k, text, TP_SRC_FILE, err, sizeof(err));
}

static int set_num(struct tp_config *c, const char *path, double v)
{
	struct tp_cval cv = { .kind = TP_CV_NUM, .num = v };

	err[0] = '\0';
	return tp_config_set(c, tp_config_key_find(path), &cv, TP_SRC_FILE, err, sizeof(err));
}

static int set_bool(struct tp_config *c, const char *path, bool v)
{
	struct tp_cval cv = { .kind = TP_CV_BOOL, .b = v };

	err[0] = '\0';
	return tp_config_set(c, tp_config_key_find(path), &cv, TP_SRC_FILE, err, sizeof(err));
}

static int set_list(struct tp_config *c, const char *path, const char *const *items, size_t n)
{
	struct tp_cval cv = { .kind = TP_CV_LIST, .list = items, .nlist = n };

	err[0] = '\0';
	return tp_config_set(c, tp_config_key_find(path), &cv, TP_SRC_FILE, err, sizeof(err));
}

static void test_table_is_well_formed(void **state)
{
	size_t n = tp_config_key_count();

	assert_true(n > 20);
	for (size_t i = 0; i < n; i++) {
		const struct tp_config_key *k = tp_config_key_at(i);

		assert_non_null(k->path);
		assert_non_null(k->doc);
		assert_true(strlen(k->doc) > 10);
		for (const char *p = k->path; *p; p++)
			assert_non_null(strchr("abcdefghijklmnopqrstuvwxyz0123456789_.", *p));
		assert_ptr_equal(tp_config_key_find(k->path), k);
		if (k->type == TP_KEY_UINT)
			assert_true(k->size == 4 || k->size == 8);
		if (k->type == TP_KEY_CHOICE)
			assert_non_null(k->choices);
		if (k->type == TP_KEY_CUSTOM)
			assert_true(k->set && k->format);
		if (k->env)
			assert_int_equal(strncmp(k->env, "TAPIO_", 6), 0);
		if (k->flag)
			assert_int_equal(strncmp(k->flag, "--", 2), 0);
		/* A group's keys are contiguous, so a rendered config opens each
		 * table once: once a group is left, no later key returns to it. */
		for (size_t j = i + 2; j < n; j++) {
			const char *a = k->path, *b = tp_config_key_at(j)->path;
			const char *mid = tp_config_key_at(j - 1)->path;
			size_t ga = strrchr(a, '.') ? (size_t)(strrchr(a, '.') - a) : 0;

			if (!ga || strncmp(a, b, ga) || b[ga] != '.')
				continue;
			if (strncmp(a, mid, ga) || mid[ga] != '.')
				fail_msg("group of %s is split by %s before %s", a, mid, b);
		}
	}
	assert_null(tp_config_key_find("sampling"));
	assert_true(tp_config_key_is_group("sampling"));
	assert_true(tp_config_key_is_group("programs.file"));
	assert_false(tp_config_key_is_group("sampling.base_rate"));
}

static void test_numbers_and_ranges(void **state)
{
	struct tp_config c;

	tp_config_defaults(&c);
	assert_int_equal(set_num(&c, "sampling.base_rate", 0.25), 0);
	assert_true(c.sampling.base_rate == 0.25);
	assert_int_equal(set_num(&c, "sampling.base_rate", 1.5), -EINVAL);
	assert_string_equal(err, "expected a number from 1e-06 to 1, got 1.5");
	assert_int_equal(set_text(&c, "sampling.base_rate", "high"), -EINVAL);
	assert_string_equal(err, "expected a number from 1e-06 to 1, got \"high\"");
	assert_int_equal(set_text(&c, "sampling.base_rate", "nan"), -EINVAL);
	assert_int_equal(set_text(&c, "sampling.base_rate", "0.5x"), -EINVAL);
	assert_int_equal(set_text(&c, "sampling.base_rate", ".5"), 0);
	assert_true(c.sampling.base_rate == 0.5);

	assert_int_equal(set_num(&c, "server.batch_size", 500), 0);
	assert_int_equal(c.buffer_size, 500);
	assert_int_equal(set_num(&c, "server.batch_size", 2.5), -EINVAL);
	assert_string_equal(err, "expected a whole number from 1 to 1000000, got 2.5");
	assert_int_equal(set_text(&c, "server.batch_size", "0"), -EINVAL);
	assert_int_equal(set_text(&c, "server.batch_size", "-5"), -EINVAL);
	assert_int_equal(set_text(&c, "server.batch_size", "1000001"), -EINVAL);
	assert_int_equal(set_text(&c, "server.batch_size", "1000000"), 0);
	assert_int_equal(c.buffer_size, 1000000);
	assert_int_equal(set_bool(&c, "server.batch_size", true), -EINVAL);
	assert_string_equal(err, "expected a whole number from 1 to 1000000, got true");

	/* A 32-bit field is written as 32 bits. */
	c.drain_batch = 0;
	assert_int_equal(set_text(&c, "ring.drain_batch", "77"), 0);
	assert_int_equal(c.drain_batch, 77);
	tp_config_free(&c);
}

static void test_durations_and_sizes(void **state)
{
	struct tp_config c;

	tp_config_defaults(&c);
	assert_int_equal(set_text(&c, "server.flush_interval", "250ms"), 0);
	assert_int_equal(c.flush_interval_ns, 250000000ULL);
	assert_int_equal(set_num(&c, "server.flush_interval", 2), 0); /* seconds */
	assert_int_equal(c.flush_interval_ns, 2000000000ULL);
	assert_int_equal(set_text(&c, "server.flush_interval", "0"), -EINVAL);
	assert_string_equal(err, "expected a duration from 1ms to 1h (e.g. 500ms, 2s, 1m), "
				 "got \"0\"");
	assert_int_equal(set_text(&c, "server.flush_interval", "soon"), -EINVAL);
	assert_int_equal(set_text(&c, "server.flush_interval", "nan"), -EINVAL);
	assert_int_equal(set_text(&c, "server.flush_interval", "infs"), -EINVAL);
	assert_int_equal(set_text(&c, "server.flush_interval", "0x10"), -EINVAL);
	assert_int_equal(set_text(&c, "ring.size", "nan"), -EINVAL);
	assert_int_equal(set_num(&c, "server.flush_interval", -1), -EINVAL);

	assert_int_equal(set_text(&c, "ring.size", "32M"), 0);
	assert_int_equal(c.ring_bytes, 32u << 20);
	assert_int_equal(set_num(&c, "ring.size", 1 << 20), 0);
	assert_int_equal(c.ring_bytes, 1u << 20);
	assert_int_equal(set_text(&c, "ring.size", "2G"), -EINVAL);
	assert_string_equal(err, "expected a size from 64K to 1G (e.g. 16M), got \"2G\"");
	assert_int_equal(set_num(&c, "ring.size", 1.5e6 + 0.5), -EINVAL);
	tp_config_free(&c);
}

static void test_bools_choices_categories(void **state)
{
	static const char *const sec[] = { "security", "process" };
	static const char *const bogus[] = { "security", "kernel" };
	struct tp_config c;

	tp_config_defaults(&c);
	assert_int_equal(set_text(&c, "sampling.enabled", "yes"), 0);
	assert_true(c.sampling.enabled);
	assert_int_equal(set_text(&c, "sampling.enabled", "maybe"), -EINVAL);
	assert_string_equal(err, "expected true or false, got \"maybe\"");

	assert_int_equal(set_bool(&c, "programs.file.enabled", false), 0);
	assert_false(c.categories & (1u << TP_CAT_FILE));
	assert_true(c.categories & (1u << TP_CAT_PROCESS));
	assert_int_equal(set_text(&c, "programs.file.enabled", "true"), 0);
	assert_true(c.categories & (1u << TP_CAT_FILE));

	assert_int_equal(set_text(&c, "output.format", "JSON"), 0);
	assert_int_equal(c.output, TP_FMT_JSON);
	assert_int_equal(set_text(&c, "output.format", "xml"), -EINVAL);
	assert_string_equal(err, "expected one of text, json, none, got \"xml\"");
	assert_int_equal(set_text(&c, "log.level", "warning"), 0);
	assert_int_equal(c.log_level, TP_LOG_WARN);
	assert_int_equal(set_text(&c, "preset", "security"), 0);
	assert_string_equal(c.preset, "security");
	assert_int_equal(set_text(&c, "preset", "fast"), -EINVAL);

	assert_int_equal(set_list(&c, "sampling.never_sample_categories", sec, 2), 0);
	assert_int_equal(c.sampling.never_sample_categories,
			 (1u << TP_CAT_SECURITY) | (1u << TP_CAT_PROCESS));
	assert_int_equal(set_list(&c, "sampling.never_sample_categories", bogus, 2), -EINVAL);
	assert_int_equal(set_text(&c, "sampling.never_sample_categories", "file, network"), 0);
	assert_int_equal(c.sampling.never_sample_categories,
			 (1u << TP_CAT_FILE) | (1u << TP_CAT_NETWORK));
	assert_int_equal(set_text(&c, "sampling.never_sample_categories", ""), 0);
	assert_int_equal(c.sampling.never_sample_categories, 0);
	assert_int_equal(set_text(&c, "sampling.never_sample_categories", "file,,memory"), -EINVAL);
	assert_non_null(strstr(err, "empty item"));
	assert_int_equal(set_text(&c, "sampling.never_sample_categories", "1"), -EINVAL);
	tp_config_free(&c);
}

static void test_strings_and_addresses(void **state)
{
	static const char *const paths[] = { "/a.lua", "/b" };
	struct tp_config c;
	char buf[64];

	tp_config_defaults(&c);
	/* Text is copied: the caller's buffer may go away. */
	snprintf(buf, sizeof(buf), "10.0.0.1:9090");
	assert_int_equal(set_text(&c, "server.address", buf), 0);
	memset(buf, 'x', sizeof(buf) - 1);
	assert_string_equal(c.server, "10.0.0.1:9090");
	assert_int_equal(set_text(&c, "server.address", "off"), 0);
	assert_null(c.server);
	assert_int_equal(set_text(&c, "server.address", "nohost"), -EINVAL);
	assert_string_equal(err, "expected HOST:PORT, got \"nohost\"");
	assert_int_equal(set_text(&c, "metrics.address", "off"), 0);
	assert_string_equal(c.metrics_addr, "off");
	assert_int_equal(set_text(&c, "metrics.address", "[::1]:0"), 0);
	assert_int_equal(set_text(&c, "metrics.address", "host:99999"), -EINVAL);

	assert_int_equal(set_text(&c, "storage.raw_dir", "off"), 0);
	assert_string_equal(c.raw_dir, "off");
	assert_int_equal(set_text(&c, "server.correlation", ""), -EINVAL);
	assert_int_equal(set_num(&c, "server.correlation", 3), -EINVAL);
	assert_string_equal(err, "expected a string, got 3");

	assert_int_equal(set_list(&c, "rules.paths", paths, 2), 0);
	assert_int_equal(c.nrule_paths, 2);
	assert_string_equal(c.rule_paths[1], "/b");
	tp_config_free(&c);
}

static void test_kernel_filters(void **state)
{
	static const char *const comms[] = { "sshd", "cron" };
	static const char *const long_comm[] = { "a-name-longer-than-15" };
	static const char *const cmds[] = { "prog_load", "map_create" };
	struct tp_config c;
	struct tp_buf b;

	tp_config_defaults(&c);
	assert_int_equal(set_list(&c, "filter.exclude_comms", comms, 2), 0);
	assert_int_equal(c.nexclude_comms, 2);
	assert_string_equal(c.exclude_comms[1], "cron");
	/* A new list replaces the old one. */
	assert_int_equal(set_list(&c, "filter.exclude_comms", comms, 1), 0);
	assert_int_equal(c.nexclude_comms, 1);
	assert_int_equal(set_list(&c, "filter.exclude_comms", long_comm, 1), -EINVAL);
	assert_string_equal(err, "expected a task name of 1 to 15 characters, got "
				 "\"a-name-longer-than-15\"");
	assert_int_equal(set_text(&c, "filter.exclude_paths", "/proc,/sys"), 0);
	assert_int_equal(c.nexclude_paths, 2);
	assert_int_equal(set_text(&c, "filter.exclude_paths", "relative"), -EINVAL);

	assert_int_equal(set_text(&c, "filter.drop_failed", "all"), 0);
	assert_int_equal(c.drop_failed, ((1u << TP_CAT_KERNEL_MAX) - 1) & ~1u);
	assert_int_equal(set_text(&c, "programs.file.sample", "10"), 0);
	assert_int_equal(c.kernel_sample[TP_CAT_FILE], 10);
	assert_int_equal(c.kernel_sample[TP_CAT_NETWORK], 0);
	assert_int_equal(set_text(&c, "programs.memory.page_fault_sample", "0"), 0);
	assert_int_equal(c.page_fault_period, 0);

	assert_int_equal(set_list(&c, "programs.security.bpf_commands", cmds, 2), 0);
	tp_buf_init(&b);
	tp_config_format_value(&c, tp_config_key_find("programs.security.bpf_commands"), &b);
	assert_string_equal(tp_buf_cstr(&b), "{ \"map_create\", \"prog_load\" }");
	assert_int_equal(set_text(&c, "programs.security.bpf_commands", "control"), 0);
	tp_buf_reset(&b);
	tp_config_format_value(&c, tp_config_key_find("programs.security.bpf_commands"), &b);
	assert_string_equal(tp_buf_cstr(&b), "\"control\"");
	assert_int_equal(set_text(&c, "programs.security.bpf_commands", "frob"), -EINVAL);
	tp_buf_free(&b);
	tp_config_free(&c);
}

static void test_suggest(void **state)
{
	assert_string_equal(tp_config_key_suggest("sampling.base_rat"), "sampling.base_rate");
	assert_string_equal(tp_config_key_suggest("base_rate"), "sampling.base_rate");
	assert_string_equal(tp_config_key_suggest("ratelimit.per_process"),
			    "rate_limit.per_process");
	assert_string_equal(tp_config_key_suggest("rate_limits"), "rate_limit");
	assert_string_equal(tp_config_key_suggest("sampeling"), "sampling");
	assert_null(tp_config_key_suggest("completely.unrelated.thing"));
}

static void test_render_marks_origins(void **state)
{
	struct tp_config c;
	struct tp_buf b;

	tp_config_defaults(&c);
	assert_int_equal(set_text(&c, "sampling.base_rate", "0.05"), 0);
	assert_int_equal(tp_config_source_of(&c, "sampling.base_rate"), TP_SRC_FILE);
	assert_int_equal(tp_config_source_of(&c, "sampling.enabled"), TP_SRC_DEFAULT);
	tp_buf_init(&b);
	tp_config_render(&c, &b);
	assert_non_null(strstr(tp_buf_cstr(&b), "  sampling = {\n    enabled = false, -- default\n"
						"    base_rate = 0.05, -- file\n"));
	assert_non_null(strstr(tp_buf_cstr(&b), "  programs = {\n    process = {\n"
						"      enabled = true, -- default\n"
						"      sample = 0, -- default\n"
						"      exec_env = { \"LD_PRELOAD\", \"LD_LIBRARY_PATH\", "));
	assert_non_null(strstr(tp_buf_cstr(&b), "\"PERL5LIB\" }, -- default\n    },\n    file = {\n"));
	tp_buf_reset(&b);
	tp_config_render_reference(&b);
	assert_non_null(strstr(tp_buf_cstr(&b), "| `sampling.base_rate` | `0.1` |"));
	assert_non_null(strstr(tp_buf_cstr(&b), "`--buffer-size` `TAPIO_BUFFER_SIZE`"));
	tp_buf_free(&b);
	tp_config_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_is_well_formed),
		cmocka_unit_test(test_numbers_and_ranges),
		cmocka_unit_test(test_durations_and_sizes),
		cmocka_unit_test(test_bools_choices_categories),
		cmocka_unit_test(test_strings_and_addresses),
		cmocka_unit_test(test_kernel_filters),
		cmocka_unit_test(test_suggest),
		cmocka_unit_test(test_render_marks_origins),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
