/* Health: conditions degrade until cleared or until their hold time ends;
 * a loop that stops beating is reported as stalled; JSON and text say the
 * same; liveness ignores degraded conditions. */
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "obs/health.h"
#include "util/time.h"

#define SEC TP_NSEC_PER_SEC

static const char *render(uint64_t now, bool json, bool *ok)
{
	static struct tp_buf b;

	tp_buf_free(&b);
	tp_buf_init(&b);
	*ok = tp_health_render(&b, now, json);
	return tp_buf_cstr(&b);
}

static void test_starting_then_ok(void **state)
{
	uint64_t now = tp_mono_ns();
	char why[128];
	bool ok;

	tp_health_reset();
	assert_string_equal(render(now, false, &ok), "degraded: starting: the event loop has not run yet\n");
	assert_false(ok);
	assert_true(tp_health_live(now, why, sizeof(why)));
	tp_health_beat(now);
	assert_string_equal(render(now, false, &ok), "ok\n");
	assert_true(ok);
	assert_string_equal(render(now, true, &ok), "{\"status\":\"ok\",\"reasons\":[],\"notes\":[]}\n");
}

static void test_conditions_in_order_and_cleared(void **state)
{
	uint64_t now = tp_mono_ns();
	bool ok;

	tp_health_reset();
	tp_health_beat(now);
	assert_int_equal(tp_health_set("programs", "2 of 9 programs skipped"), 0);
	assert_int_equal(tp_health_set("delivery", "server %s unreachable", "x:1"), 0);
	assert_string_equal(render(now, false, &ok),
			    "degraded: programs: 2 of 9 programs skipped; delivery: server x:1 unreachable\n");
	/* Re-reporting keeps the place and replaces the reason. */
	assert_int_equal(tp_health_set("programs", "3 of 9 programs skipped"), 0);
	tp_health_clear("delivery");
	assert_string_equal(render(now, true, &ok),
			    "{\"status\":\"degraded\",\"reasons\":[{\"name\":\"programs\","
			    "\"reason\":\"3 of 9 programs skipped\"}],\"notes\":[]}\n");
	tp_health_clear("programs");
	tp_health_clear("never-set");
	assert_string_equal(render(now, false, &ok), "ok\n");
}

static void test_notes_do_not_degrade(void **state)
{
	uint64_t now = tp_mono_ns();
	bool ok;

	tp_health_reset();
	tp_health_beat(now);
	assert_int_equal(tp_health_note("programs_unavailable", "1 of 9 programs have no hook"), 0);
	assert_string_equal(render(now, false, &ok),
			    "ok\nnote: programs_unavailable: 1 of 9 programs have no hook\n");
	assert_true(ok);
	assert_string_equal(render(now, true, &ok),
			    "{\"status\":\"ok\",\"reasons\":[],\"notes\":[{\"name\":"
			    "\"programs_unavailable\",\"reason\":\"1 of 9 programs have no hook\"}]}\n");
	tp_health_set("delivery", "down");
	assert_string_equal(render(now, false, &ok),
			    "degraded: delivery: down\nnote: programs_unavailable: 1 of 9 programs have "
			    "no hook\n");
	assert_false(ok);
}

static void test_hold_expires(void **state)
{
	uint64_t now = tp_mono_ns();
	bool ok;

	tp_health_reset();
	tp_health_beat(now + 100 * SEC);
	assert_int_equal(tp_health_set_for("kernel_drops", 60 * SEC, "dropping \"fast\""), 0);
	render(now + 30 * SEC, true, &ok);
	assert_false(ok);
	assert_non_null(strstr(render(now + 30 * SEC, true, &ok), "dropping \\\"fast\\\""));
	assert_string_equal(render(now + 61 * SEC, false, &ok), "ok\n");
	assert_true(ok);
}

static void test_stall_and_stop(void **state)
{
	uint64_t now = tp_mono_ns();
	char why[128];
	bool ok;

	tp_health_reset();
	tp_health_beat(now);
	tp_health_set_for("kernel_drops", 1000 * SEC, "x");
	assert_string_equal(render(now + 30 * SEC, false, &ok),
			    "degraded: event loop stalled for 30 s; kernel_drops: x\n");
	/* Liveness only cares about the loop. */
	assert_false(tp_health_live(now + 30 * SEC, why, sizeof(why)));
	assert_string_equal(why, "event loop stalled for 30 s");
	assert_true(tp_health_live(now + 5 * SEC, why, sizeof(why)));
	tp_health_stop_beating();
	assert_true(tp_health_live(now + 30 * SEC, why, sizeof(why)));
}

static void test_capacity(void **state)
{
	char name[16];

	tp_health_reset();
	for (int i = 0; i < TP_HEALTH_MAX_CONDITIONS; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		assert_int_equal(tp_health_set(name, "r"), 0);
	}
	assert_int_equal(tp_health_set("one-more", "r"), -ENOSPC);
	assert_int_equal(tp_health_set("c3", "again"), 0);
	tp_health_reset();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_starting_then_ok),
		cmocka_unit_test(test_conditions_in_order_and_cleared),
		cmocka_unit_test(test_notes_do_not_degrade),
		cmocka_unit_test(test_hold_expires),
		cmocka_unit_test(test_stall_and_stop),
		cmocka_unit_test(test_capacity),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	bool ok;

	render(0, false, &ok); /* free the buffer */
	return r;
}
