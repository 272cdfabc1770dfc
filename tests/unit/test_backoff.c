/* Backoff: delays double from min to max, each drawn from [base/2, base];
 * reset starts over; extreme settings do not overflow. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "delivery/backoff.h"

static void test_growth_and_jitter(void **state)
{
	struct tp_backoff b;
	uint64_t base = 100, distinct = 0, prev = 0;

	tp_backoff_init(&b, 100, 1600, 42);
	for (int i = 0; i < 10; i++) {
		uint64_t d = tp_backoff_next(&b);

		assert_true(d >= base / 2 && d <= base);
		distinct += d != prev;
		prev = d;
		if (base < 1600)
			base *= 2;
	}
	assert_true(distinct > 5); /* jittered, not a fixed sequence */
	tp_backoff_reset(&b);
	assert_true(tp_backoff_next(&b) <= 100);
}

static void test_extremes(void **state)
{
	struct tp_backoff b;

	tp_backoff_init(&b, UINT64_MAX / 2, UINT64_MAX, 1);
	for (int i = 0; i < 100; i++)
		assert_true(tp_backoff_next(&b) >= UINT64_MAX / 4);
	tp_backoff_init(&b, 0, 0, 0); /* nonsense in, sane out */
	assert_true(tp_backoff_next(&b) <= 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_growth_and_jitter),
		cmocka_unit_test(test_extremes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
