/* rules.watch: a change to a rule file or directory is reported once, after
 * it held still for an interval; a ConfigMap-style symlink swap counts;
 * other files in the directory do not. */
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

#include "lua/rules_watch.h"

#define SEC 1000000000ULL

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_file_change_reported_once_settled(void **state)
{
	char dir[] = "/tmp/tapio-watch-XXXXXX", file[256], other[256];
	const char *paths[1] = { dir };
	struct tp_rules_watch w;

	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/a.lua", dir);
	snprintf(other, sizeof(other), "%s/notes.txt", dir);
	write_file(file, "-- one\n");
	tp_rules_watch_init(&w, paths, 1, SEC, 0);
	assert_false(tp_rules_watch_changed(&w, 0));      /* before the interval */
	assert_false(tp_rules_watch_changed(&w, 1 * SEC)); /* nothing changed */

	write_file(other, "not a rule\n");                 /* ignored */
	assert_false(tp_rules_watch_changed(&w, 2 * SEC));
	assert_false(tp_rules_watch_changed(&w, 3 * SEC));

	write_file(file, "-- two, longer\n");
	assert_false(tp_rules_watch_changed(&w, 4 * SEC)); /* seen once: wait */
	assert_true(tp_rules_watch_changed(&w, 5 * SEC));  /* held still: reload */
	assert_false(tp_rules_watch_changed(&w, 6 * SEC)); /* once */

	unlink(file);                                      /* a removal too */
	assert_false(tp_rules_watch_changed(&w, 7 * SEC));
	assert_true(tp_rules_watch_changed(&w, 8 * SEC));
	unlink(other);
	rmdir(dir);
}

static void test_configmap_symlink_swap(void **state)
{
	/* The kubelet's layout: rules.d -> ..data/rules.d, ..data -> ..<ts>. */
	char root[] = "/tmp/tapio-watch-XXXXXX", p[512], rules[512];
	const char *paths[1] = { rules };
	struct tp_rules_watch w;

	assert_non_null(mkdtemp(root));
	snprintf(p, sizeof(p), "%s/..v1", root);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/..v1/rules.d", root);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/..v1/rules.d/local.lua", root);
	write_file(p, "-- v1\n");
	snprintf(p, sizeof(p), "%s/..data", root);
	assert_int_equal(symlink("..v1", p), 0);
	snprintf(rules, sizeof(rules), "%s/rules.d", root);
	assert_int_equal(symlink("..data/rules.d", rules), 0);
	tp_rules_watch_init(&w, paths, 1, SEC, 0);

	/* Same content, new version directory, atomic swap of ..data. */
	snprintf(p, sizeof(p), "%s/..v2", root);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/..v2/rules.d", root);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/..v2/rules.d/local.lua", root);
	write_file(p, "-- v2\n");
	snprintf(p, sizeof(p), "%s/..data.tmp", root);
	assert_int_equal(symlink("..v2", p), 0);
	{
		char to[512];

		snprintf(to, sizeof(to), "%s/..data", root);
		assert_int_equal(rename(p, to), 0);
	}
	assert_false(tp_rules_watch_changed(&w, 1 * SEC));
	assert_true(tp_rules_watch_changed(&w, 2 * SEC));

	snprintf(p, sizeof(p), "rm -rf '%s'", root);
	assert_int_equal(system(p), 0);
}

static void test_interval_zero_never_fires(void **state)
{
	const char *paths[1] = { "/nonexistent/tapio" };
	struct tp_rules_watch w;

	tp_rules_watch_init(&w, paths, 1, 0, 0);
	assert_false(tp_rules_watch_changed(&w, 100 * SEC));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_change_reported_once_settled),
		cmocka_unit_test(test_configmap_symlink_swap),
		cmocka_unit_test(test_interval_zero_never_fires),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
