/* Staging: the reader's events come out whole and in order across threads;
 * past the cap a push fails at once instead of waiting. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "delivery/staging.h"

#define N 200000

static struct tp_staging stg;

static void *producer(void *arg)
{
	uint32_t i = 0;

	while (i < N) {
		if (tp_staging_push(&stg, &i, sizeof(i), (uint8_t)(i % 24), 1) == 0)
			i++;
	}
	return NULL;
}

static void test_order_across_threads(void **state)
{
	struct tp_staged out;
	pthread_t t;
	uint32_t next = 0;

	tp_staging_init(&stg, 4096);
	tp_staged_init(&out);
	pthread_create(&t, NULL, producer, NULL);
	while (next < N) {
		tp_staging_take(&stg, &out);
		assert_int_equal(out.items.len, out.n * sizeof(uint32_t));
		for (uint32_t k = 0; k < out.n; k++) {
			uint32_t v;

			memcpy(&v, out.items.data + k * sizeof(v), sizeof(v));
			assert_int_equal(v, next);
			assert_int_equal((uint8_t)out.ranks.data[k], next % 24);
			next++;
		}
	}
	pthread_join(t, NULL);
	tp_staged_free(&out);
	tp_staging_destroy(&stg);
}

static void test_cap(void **state)
{
	char item[100] = { 0 };
	struct tp_staged out;

	tp_staging_init(&stg, 250);
	assert_int_equal(tp_staging_push(&stg, item, 100, 0, 5), 0);
	assert_int_equal(tp_staging_push(&stg, item, 100, 0, 6), 0);
	assert_int_equal(tp_staging_push(&stg, item, 100, 0, 7), -ENOBUFS);
	assert_int_equal(tp_staging_count(&stg), 2);
	assert_int_equal(tp_staging_bytes(&stg), 200);
	tp_staged_init(&out);
	tp_staging_take(&stg, &out);
	assert_int_equal(out.n, 2);
	assert_int_equal(out.first_ns, 5);
	assert_int_equal(tp_staging_count(&stg), 0);
	assert_int_equal(tp_staging_push(&stg, item, 100, 0, 8), 0);
	tp_staged_free(&out);
	tp_staging_destroy(&stg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_across_threads),
		cmocka_unit_test(test_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
