/* Kernel settings by name (-k KEY=VALUE): each key sets its field, bad
 * values are refused with the key in the message, and the filter the
 * loader gets mirrors the configuration. */
#include <setjmp.h>
#include <stdarg.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config/config_kernel.h"

static struct tp_config cfg;
static char err[256];

static int set(const char *kv)
{
	err[0] = '\0';
	return tp_config_kernel_arg(&cfg, kv, err, sizeof(err));
}

static void test_keys(void **state)
{
	struct tp_kfilter kf;

	(void)state;
	tp_config_defaults(&cfg);
	assert_int_equal(set("categories=file,network"), 0);
	assert_int_equal(cfg.categories, (1u << TP_CAT_FILE) | (1u << TP_CAT_NETWORK));
	assert_int_equal(set("categories=all"), 0);
	assert_int_equal(cfg.categories, 0x7e);
	assert_int_equal(set("drop_failed=file"), 0);
	assert_int_equal(cfg.drop_failed, 1u << TP_CAT_FILE);
	assert_int_equal(set("drop_failed=none"), 0);
	assert_int_equal(cfg.drop_failed, 0);
	assert_int_equal(set("sample.network=10"), 0);
	assert_int_equal(cfg.kernel_sample[TP_CAT_NETWORK], 10);
	assert_int_equal(set("exclude_comm=sshd"), 0);
	assert_int_equal(set("exclude_path=/proc/"), 0);
	assert_int_equal(set("bpf_commands=prog_load,map_create"), 0);
	assert_int_equal(cfg.bpf_cmd_mask, (1ull << 5) | 1ull);
	assert_int_equal(set("bpf_commands=control"), 0);
	assert_true(cfg.bpf_cmd_mask & (1ull << 5));
	assert_false(cfg.bpf_cmd_mask & (1ull << 1)); /* map lookups are data, not control */
	assert_int_equal(set("page_fault_sample=0"), 0);
	assert_int_equal(cfg.page_fault_period, 0);

	tp_config_kfilter(&cfg, &kf);
	assert_int_equal(kf.nexclude_comms, 1);
	assert_string_equal(kf.exclude_comms[0], "sshd");
	assert_int_equal(kf.nexclude_paths, 1);
	assert_string_equal(kf.exclude_paths[0], "/proc/");
	assert_int_equal(kf.sample_rate[TP_CAT_NETWORK], 10);
	assert_int_equal(tp_kfilter_validate(&kf, err, sizeof(err)), 0);
}

static void test_bad_values(void **state)
{
	static const char *const bad[][2] = {
		{ "categories=", "categories" },          { "categories=files", "categories" },
		{ "sample.file=-1", "sample.file" },      { "sample.file=x", "sample.file" },
		{ "sample.nosuch=2", "sample.nosuch" },   { "exclude_comm=", "exclude_comm" },
		{ "exclude_comm=sixteen-chars-xx", "exclude_comm" },
		{ "exclude_path=tmp", "exclude_path" },   { "drop_failed=disk", "drop_failed" },
		{ "bpf_commands=prog_lod", "bpf_commands" }, { "page_fault_sample=1e3", "page_fault_sample" },
		{ "nosuch=1", "nosuch" },                 { "=1", "=1" },
		{ "novalue", "KEY=VALUE" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tp_config_defaults(&cfg);
		if (set(bad[i][0]) != -EINVAL)
			fail_msg("'%s' was accepted", bad[i][0]);
		if (!strstr(err, bad[i][1]))
			fail_msg("'%s': message '%s' does not name %s", bad[i][0], err, bad[i][1]);
	}
}

static void test_list_limits(void **state)
{
	char name[16];

	(void)state;
	tp_config_defaults(&cfg);
	for (int i = 0; i < TP_EXCLUDE_MAX; i++) {
		static char names[TP_EXCLUDE_MAX][32];

		snprintf(names[i], sizeof(names[i]), "exclude_comm=c%d", i);
		assert_int_equal(set(names[i]), 0);
	}
	snprintf(name, sizeof(name), "exclude_comm=x");
	assert_int_equal(set(name), -EINVAL);
	assert_non_null(strstr(err, "too many"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_list_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
