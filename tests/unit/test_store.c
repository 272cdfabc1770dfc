/* Store: batches leave in sequence order; past the memory cap the oldest
 * go to the spool; past the spool cap the lowest ranks are dropped (newest
 * first) and counted; batches in flight are never touched; what is spooled
 * at exit comes back after a restart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixtures.h"

#include "delivery/pbwire.h"
#include "delivery/store.h"

static char dir[256];

static int setup(void **state)
{
	tp_fx_tmpdir(dir, sizeof(dir), "store");
	return 0;
}

static int teardown(void **state)
{
	tp_fx_rmtree(dir);
	return 0;
}

/* A batch of n events of 100 bytes each, all of rank `rank`. */
static struct tp_batch *make_batch(uint64_t seq, uint32_t n, uint8_t rank)
{
	struct tp_buf body;
	uint8_t ranks[256];
	char ev[98];
	struct tp_batch *b;

	tp_buf_init(&body);
	for (uint32_t i = 0; i < n; i++) {
		memset(ev, 'a' + (int)(seq % 26), sizeof(ev));
		tp_pb_put_bytes(&body, 3, ev, sizeof(ev));
		ranks[i] = rank;
	}
	b = tp_batch_new(seq, ranks, n, "", 0, body.data, (uint32_t)body.len);
	tp_buf_free(&body);
	return b;
}

static void test_send_order_and_acks(void **state)
{
	struct tp_store st;
	struct tp_batch *b;

	tp_store_init(&st, 1 << 20, 0, NULL);
	for (uint64_t s = 1; s <= 3; s++)
		tp_store_add(&st, make_batch(s, 2, 0));
	b = tp_store_next(&st);
	assert_int_equal(b->seq, 1);
	tp_store_sent(&st, b);
	b = tp_store_next(&st);
	assert_int_equal(b->seq, 2);
	tp_store_sent(&st, b);
	/* Ack out of order, then a failure: everything left goes again from the oldest. */
	tp_store_remove(&st, tp_store_find(&st, 2));
	assert_null(tp_store_find(&st, 2));
	tp_store_unsend_all(&st);
	assert_int_equal(tp_store_next(&st)->seq, 1);
	assert_int_equal(st.events, 4);
	assert_int_equal(st.nbatches, 2);
	tp_store_free(&st);
}

static void test_memory_cap_without_spool_drops_lowest_rank_newest_first(void **state)
{
	struct tp_store st;

	/* Room for about three batches of 10 events. */
	tp_store_init(&st, 3 * (10 * 101), 0, NULL);
	tp_store_add(&st, make_batch(1, 10, 5));
	tp_store_add(&st, make_batch(2, 10, 0));
	tp_store_add(&st, make_batch(3, 10, 9));
	assert_int_equal(st.c.dropped_full, 0);
	tp_store_add(&st, make_batch(4, 10, 0)); /* over the cap: rank 0, newest first */
	assert_int_equal(st.c.dropped_full, 10);
	assert_null(tp_store_find(&st, 4));
	assert_non_null(tp_store_find(&st, 2));
	tp_store_add(&st, make_batch(5, 10, 7));
	/* The only rank-0 batch left is 2: it goes, 5 stays. */
	assert_int_equal(st.c.dropped_full, 20);
	assert_null(tp_store_find(&st, 2));
	assert_non_null(tp_store_find(&st, 5));
	assert_true(st.mem_bytes <= st.mem_cap);
	tp_store_free(&st);
}

static void test_in_flight_batches_are_never_dropped(void **state)
{
	struct tp_store st;
	struct tp_batch *b;

	tp_store_init(&st, 2 * (10 * 101), 0, NULL);
	tp_store_add(&st, make_batch(1, 10, 0));
	b = tp_store_next(&st);
	tp_store_sent(&st, b);
	tp_store_add(&st, make_batch(2, 10, 3));
	tp_store_add(&st, make_batch(3, 10, 3));
	/* Batch 1 has the lowest rank but is in flight: a rank-3 batch goes. */
	assert_non_null(tp_store_find(&st, 1));
	assert_int_equal(st.c.dropped_full, 10);
	assert_null(tp_store_find(&st, 3));
	tp_store_free(&st);
}

static void test_mixed_ranks_within_a_batch(void **state)
{
	struct tp_store st;
	struct tp_buf body;
	uint8_t ranks[6] = { 4, 0, 4, 0, 0, 4 };
	struct tp_batch *b;
	char ev[98];

	tp_buf_init(&body);
	memset(ev, 'x', sizeof(ev));
	for (int i = 0; i < 6; i++)
		tp_pb_put_bytes(&body, 3, ev, sizeof(ev));
	tp_store_init(&st, 6 * 101 + 50, 0, NULL);
	tp_store_add(&st, tp_batch_new(1, ranks, 6, "H", 1, body.data, (uint32_t)body.len));
	tp_store_add(&st, make_batch(2, 1, 4));
	/* One event over: the three rank-0 events of batch 1 go, the rest stays whole. */
	assert_int_equal(st.c.dropped_full, 3);
	b = tp_store_find(&st, 1);
	assert_int_equal(b->nevents, 3);
	assert_int_equal(b->body_len, 3 * 100);
	assert_int_equal(tp_batch_hdr(b)[0], 'H');
	for (int i = 0; i < 3; i++)
		assert_int_equal(tp_batch_ranks(b)[i], 4);
	assert_int_equal(st.events, 4);
	tp_store_free(&st);
	tp_buf_free(&body);
}

static void test_spill_then_spool_cap(void **state)
{
	struct tp_spool sp;
	struct tp_store st;
	struct tp_batch *b;
	char err[256];
	size_t file = TP_SPOOL_HDR_SIZE + 10 + 10 * 100;

	assert_int_equal(tp_spool_open(&sp, dir, err, sizeof(err)), 0);
	/* One batch in memory, three on disk. */
	tp_store_init(&st, 10 * 101 + 10, 3 * file, &sp);
	for (uint64_t s = 1; s <= 4; s++)
		tp_store_add(&st, make_batch(s, 10, s == 2 ? 0 : 6));
	assert_int_equal(st.c.spooled, 30);
	assert_int_equal(st.disk_events, 30);
	assert_int_equal(st.c.dropped_full, 0);
	assert_false(tp_store_find(&st, 1)->blob != NULL); /* oldest spilled */
	assert_true(tp_store_find(&st, 4)->blob != NULL);  /* newest in memory */

	/* Both full: the rank-0 batch (2, on disk) is dropped before any rank 6. */
	tp_store_add(&st, make_batch(5, 10, 6));
	assert_int_equal(st.c.dropped_full, 10);
	assert_null(tp_store_find(&st, 2));
	assert_int_equal(st.events, 40);

	/* Sending reads the oldest back from disk; the order holds. */
	b = tp_store_next(&st);
	assert_int_equal(b->seq, 1);
	assert_non_null(b->blob);
	assert_int_equal(b->body_len, 1000);
	tp_store_sent(&st, b);
	assert_null(b->blob); /* the spool has it: no second copy in memory */
	tp_store_remove(&st, b);
	assert_int_equal(tp_store_next(&st)->seq, 3);
	tp_store_free(&st);
	tp_spool_close(&sp);
}

static void add_back(void *ctx, struct tp_batch *b)
{
	struct tp_store *st = ctx;

	tp_store_add_spooled(st, b, tp_spool_file_size(b));
}

static void test_spill_all_at_exit_and_restart(void **state)
{
	struct tp_spool sp;
	struct tp_store st;
	char err[256];

	assert_int_equal(tp_spool_open(&sp, dir, err, sizeof(err)), 0);
	tp_store_init(&st, 1 << 20, 1 << 20, &sp);
	for (uint64_t s = 100; s < 105; s++)
		tp_store_add(&st, make_batch(s, 3, 2));
	tp_store_remove(&st, tp_store_find(&st, 101));
	assert_int_equal(st.disk_events, 0);
	assert_int_equal(tp_store_spill_all(&st, UINT64_MAX), 0);
	assert_int_equal(st.disk_events, 12);
	tp_store_free(&st);
	tp_spool_close(&sp);

	/* The next start finds them, in order, and sends them first. */
	assert_int_equal(tp_spool_open(&sp, dir, err, sizeof(err)), 0);
	tp_store_init(&st, 1 << 20, 1 << 20, &sp);
	assert_int_equal(tp_spool_scan(&sp, add_back, NULL, &st), 4);
	assert_int_equal(st.events, 12);
	assert_int_equal(tp_store_last_seq(&st), 104);
	assert_int_equal(tp_store_next(&st)->seq, 100);
	tp_store_remove(&st, tp_store_find(&st, 100));
	assert_int_equal(tp_store_next(&st)->seq, 102);
	tp_store_free(&st);
	tp_spool_close(&sp);
}

static void test_spill_all_without_spool_reports_loss(void **state)
{
	struct tp_store st;

	tp_store_init(&st, 1 << 20, 0, NULL);
	tp_store_add(&st, make_batch(1, 7, 0));
	assert_int_equal(tp_store_spill_all(&st, UINT64_MAX), 7);
	tp_store_free(&st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_send_order_and_acks),
		cmocka_unit_test(test_memory_cap_without_spool_drops_lowest_rank_newest_first),
		cmocka_unit_test(test_in_flight_batches_are_never_dropped),
		cmocka_unit_test(test_mixed_ranks_within_a_batch),
		cmocka_unit_test_setup_teardown(test_spill_then_spool_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spill_all_at_exit_and_restart, setup, teardown),
		cmocka_unit_test(test_spill_all_without_spool_reports_loss),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
