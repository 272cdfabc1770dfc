/* SPSC byte queue: messages come out whole and in order across wrap-arounds,
 * a full queue refuses at once, and two threads pass 300000 messages
 * without losing or reordering one. */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/byteq.h"

static void fill(uint8_t *p, size_t n, uint32_t seq)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seq + i);
}

static void check_msg(const uint8_t *p, size_t n, uint32_t seq)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(p[i], (uint8_t)(seq + i));
}

/* Pop the oldest message, if any, and check it: its first 4 bytes say how
 * many bytes of fill(popped) follow. */
static void pop_one(struct tp_byteq *q, uint32_t *popped)
{
	size_t len;
	const uint8_t *m = tp_byteq_peek(q, &len);
	uint32_t want = 0;

	if (!m)
		return;
	memcpy(&want, m, 4);
	assert_int_equal(len, want + 4);
	check_msg(m + 4, want, (*popped)++);
	tp_byteq_release(q);
}

static void test_single_thread(void **state)
{
	struct tp_byteq q;
	uint32_t pushed = 0, popped = 0;

	(void)state;
	assert_int_equal(tp_byteq_init(&q, 1000), 0);
	assert_null(tp_byteq_peek(&q, &(size_t){0}));
	assert_null(tp_byteq_reserve(&q, tp_byteq_max_msg(&q) + 1));
	srand(3);
	for (int round = 0; round < 20000; round++) {
		size_t n = (size_t)rand() % 200;
		uint8_t *p = tp_byteq_reserve(&q, n + 4);

		if (p) {
			memcpy(p, &n, 4);
			fill(p + 4, n, pushed++);
			tp_byteq_commit(&q);
		}
		/* Pop at a different pace so the queue fills and wraps. */
		if (!p || rand() % 3 == 0)
			pop_one(&q, &popped);
	}
	assert_true(pushed > 1000);
	tp_byteq_free(&q);
}

/* A message committed shorter than reserved takes only its own room: the
 * next one follows it, the consumer sees the short length, and a queue of
 * short commits holds as many messages as one of exact reservations. */
static void test_commit_shorter(void **state)
{
	struct tp_byteq q;
	uint32_t pushed = 0, popped = 0;

	(void)state;
	assert_int_equal(tp_byteq_init(&q, 1000), 0);
	srand(5);
	for (int round = 0; round < 20000; round++) {
		size_t room = 4 + (size_t)rand() % 300, n = (size_t)rand() % (room - 3);
		uint8_t *p = tp_byteq_reserve(&q, room);

		if (p) {
			memcpy(p, &n, 4);
			fill(p + 4, n, pushed++);
			tp_byteq_commit_len(&q, n + 4);
		}
		if (!p || rand() % 3 == 0)
			pop_one(&q, &popped);
	}
	assert_true(pushed > 1000);
	tp_byteq_free(&q);

	int n = 0;

	assert_int_equal(tp_byteq_init(&q, 4096), 0);
	while (tp_byteq_reserve(&q, 100)) {
		tp_byteq_commit_len(&q, 20);
		n++;
	}
	assert_int_equal(n, (4096 - 100) / 32 + 1);
	tp_byteq_free(&q);
}

static void test_full_refuses(void **state)
{
	struct tp_byteq q;
	int n = 0;

	(void)state;
	assert_int_equal(tp_byteq_init(&q, 4096), 0);
	while (tp_byteq_reserve(&q, 100)) {
		tp_byteq_commit(&q);
		n++;
	}
	assert_int_equal(n, 4096 / 112);
	assert_true(tp_byteq_used(&q) > 4096 - 112);
	/* Freeing one message makes room for one. */
	size_t len;

	assert_non_null(tp_byteq_peek(&q, &len));
	tp_byteq_release(&q);
	assert_non_null(tp_byteq_reserve(&q, 100));
	tp_byteq_free(&q);
}

#define NMSG 300000

static void *consumer(void *arg)
{
	struct tp_byteq *q = arg;
	uint32_t next = 0;

	while (next < NMSG) {
		size_t len;
		const uint8_t *m = tp_byteq_peek(q, &len);
		uint32_t seq;

		if (!m) {
			sched_yield();
			continue;
		}
		memcpy(&seq, m, 4);
		if (seq != next || len != 4 + seq % 61)
			return (void *)1;
		for (size_t i = 0; i < seq % 61; i++)
			if (m[4 + i] != (uint8_t)(seq + i))
				return (void *)2;
		tp_byteq_release(q);
		next++;
	}
	return NULL;
}

static void test_two_threads(void **state)
{
	struct tp_byteq q;
	pthread_t t;
	void *ret;

	(void)state;
	assert_int_equal(tp_byteq_init(&q, 8192), 0);
	assert_int_equal(pthread_create(&t, NULL, consumer, &q), 0);
	for (uint32_t seq = 0; seq < NMSG;) {
		uint8_t *p = tp_byteq_reserve(&q, 4 + seq % 61);

		if (!p) {
			sched_yield(); /* full: retry, so that nothing is lost in this test */
			continue;
		}
		memcpy(p, &seq, 4);
		fill(p + 4, seq % 61, seq);
		tp_byteq_commit(&q);
		seq++;
	}
	pthread_join(t, &ret);
	assert_null(ret);
	tp_byteq_free(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_single_thread),
	    cmocka_unit_test(test_commit_shorter),
	    cmocka_unit_test(test_full_refuses),
	    cmocka_unit_test(test_two_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
