/* Dedup: ranges merge as gaps fill; ids are separate; the caps forget the
 * oldest and count it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sink/dedup.h"

#define ID(s) s, sizeof(s) - 1

static void test_ranges(void **state)
{
	struct tp_dedup d;

	tp_dedup_init(&d, 10, 100);
	for (uint64_t s = 1; s <= 1000; s += 2)
		assert_int_equal(tp_dedup_add(&d, ID("a"), s), 0);
	assert_true(tp_dedup_seen(&d, ID("a"), 999));
	assert_false(tp_dedup_seen(&d, ID("a"), 2));
	assert_false(tp_dedup_seen(&d, ID("b"), 1));
	/* 500 odd numbers need 500 ranges: past 100 the oldest are forgotten. */
	assert_true(d.forgotten > 0);
	assert_false(tp_dedup_seen(&d, ID("a"), 1));
	tp_dedup_free(&d);

	tp_dedup_init(&d, 10, 4);
	for (uint64_t s = 1; s <= 100000; s++)
		assert_int_equal(tp_dedup_add(&d, ID("a"), s), 0);
	assert_int_equal(d.forgotten, 0); /* contiguous: one range */
	assert_true(tp_dedup_seen(&d, ID("a"), 1));
	assert_true(tp_dedup_seen(&d, ID("a"), 100000));
	assert_false(tp_dedup_seen(&d, ID("a"), 100001));
	/* Filling a gap joins two ranges. */
	tp_dedup_add(&d, ID("a"), 100002);
	tp_dedup_add(&d, ID("a"), 100001);
	assert_true(tp_dedup_seen(&d, ID("a"), 100002));
	tp_dedup_add(&d, ID("a"), 5); /* again: no change */
	assert_int_equal(d.forgotten, 0);
	tp_dedup_free(&d);
}

static void test_collector_cap(void **state)
{
	struct tp_dedup d;

	tp_dedup_init(&d, 2, 10);
	tp_dedup_add(&d, ID("a"), 1);
	tp_dedup_add(&d, ID("b"), 1);
	assert_true(tp_dedup_seen(&d, ID("a"), 1)); /* a is now the most recent */
	tp_dedup_add(&d, ID("c"), 1);               /* b, the least recent, goes */
	assert_false(tp_dedup_seen(&d, ID("b"), 1));
	assert_true(tp_dedup_seen(&d, ID("a"), 1));
	assert_true(tp_dedup_seen(&d, ID("c"), 1));
	assert_int_equal(d.forgotten, 1);
	tp_dedup_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_collector_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
