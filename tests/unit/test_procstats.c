/* Process metrics read real values from /proc for this very process. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "obs/metrics.h"
#include "obs/procstats.h"
#include "util/time.h"

static double value(const char *name)
{
	struct tp_metric *m = tp_metric_find(name, NULL);

	assert_non_null(m);
	return tp_metric_value(m);
}

static void test_values(void **state)
{
	double now = (double)tp_now_ns(CLOCK_REALTIME) / 1e9, fds;
	int fd;

	tp_procstats_register();
	/* This test process started moments ago (clock ticks: 10 ms resolution). */
	assert_true(value("process_start_time_seconds") <= now + 1);
	assert_true(value("process_start_time_seconds") > now - 120);
	assert_true(value("process_resident_memory_bytes") > 100 * 1024);
	assert_true(value("process_virtual_memory_bytes") >= value("process_resident_memory_bytes"));
	assert_true(tp_procstats_rss_bytes() > 100 * 1024);
	fds = value("process_open_fds");
	assert_true(fds >= 3);
	fd = open("/dev/null", O_RDONLY);
	assert_true(value("process_open_fds") == fds + 1);
	close(fd);
	assert_true(value("process_cpu_seconds_total") >= 0);
	assert_true(value("process_max_fds") >= fds);
	tp_procstats_unregister();
	assert_null(tp_metric_find("process_open_fds", NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
