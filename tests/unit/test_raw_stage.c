/* Raw storage stage: events pushed through a live pipeline come back from
 * disk in order; under a queue too small for the load every event is either
 * stored or counted as dropped; tp_app_build puts the stage first in a live
 * run and leaves it out of a replay and of --raw-dir off. */
#include <errno.h>
#include <ftw.h>
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

#include "fixtures.h"

#include "app.h"
#include "events/decode.h"
#include "obs/log.h"
#include "obs/metrics.h"
#include "storage/raw_reader.h"
#include "storage/raw_stage.h"
#include "storage/source_raw.h"

static char dir[64];

static int setup_dir(void **state)
{
	(void)state;
	tp_fx_tmpdir(dir, sizeof(dir), "stage");
	return 0;
}

static int teardown_dir(void **state)
{
	(void)state;
	tp_fx_rmtree(dir);
	return 0;
}

static struct tp_event ev;

/* A decoded event of the given type, as the live source hands it over. */
static struct tp_event *make_event(uint32_t type, uint32_t pid)
{
	const struct tp_event_type *t = tp_event_type_by_id(type);
	static uint8_t rec[TP_RECORD_MAX];
	struct tp_hdr h = {.ts_ns = 1000 + pid, .type = type, .size = t->size, .pid = pid};

	memset(rec, 0, sizeof(rec));
	memcpy(h.comm, "stage", 6);
	memcpy(rec, &h, sizeof(h));
	assert_int_equal(tp_decode(rec, t->size, 1700000000000000000ll, &ev), 0);
	return &ev;
}

static uint64_t metric(const char *name, const char *labels)
{
	struct tp_metric *m = tp_metric_find(name, labels);

	assert_non_null(m);
	return tp_metric_get(m);
}

struct counts {
	uint64_t n;
	uint32_t last_pid;
	int out_of_order;
};

static int count_event(void *ctx, struct tp_event *e)
{
	struct counts *c = ctx;

	if (c->n && e->rec.hdr.pid <= c->last_pid)
		c->out_of_order++;
	c->last_pid = e->rec.hdr.pid;
	c->n++;
	return 0;
}

static struct counts read_back(void)
{
	struct counts c = {0};
	struct tp_source *src;
	char err[256];

	assert_int_equal(tp_source_raw_open(&src, dir, NULL, err, sizeof(err)), 0);
	while (tp_source_poll(src, 0, 1000, count_event, &c) > 0)
		;
	tp_source_close(src);
	return c;
}

/* Push n events of one type through a pipeline whose only stage is raw
 * storage; return the stage's final counts. */
static struct tp_raw_stage_stats run_stage(struct tp_config *cfg, uint32_t type, uint32_t n)
{
	struct tp_raw_stage_stats st;
	struct tp_pipeline p;
	struct tp_stage *stage;
	char err[256];

	tp_pipeline_init(&p);
	assert_int_equal(tp_raw_stage_new(&stage, cfg, err, sizeof(err)), 0);
	assert_int_equal(tp_pipeline_add_stage(&p, stage), 0);
	for (uint32_t i = 1; i <= n; i++) {
		tp_pipeline_event(&p, make_event(type, i));
		if (i % 1000 == 0)
			tp_pipeline_tick(&p, (uint64_t)i * 1000000);
	}
	assert_int_equal(tp_raw_stage_sync(stage, 60000, &st), 0);
	assert_int_equal(metric("tapio_raw_events_stored_total", NULL), st.stored);
	assert_int_equal(metric("tapio_raw_events_dropped_total", "reason=\"queue_full\""),
			 st.dropped_queue);
	assert_true(tp_raw_dir_active(dir));
	tp_pipeline_close(&p);
	assert_false(tp_raw_dir_active(dir));
	assert_null(tp_metric_find("tapio_raw_events_stored_total", NULL));
	return st;
}

static void test_every_event_stored_in_order(void **state)
{
	struct tp_raw_stage_stats st;
	struct tp_config cfg;
	struct counts c;

	(void)state;
	tp_config_defaults(&cfg);
	cfg.raw_dir = dir;
	/* 20000 fork events fit the default queue many times over: none may be
	 * dropped however late the writer thread runs. */
	st = run_stage(&cfg, TP_EV_PROCESS_FORK, 20000);
	assert_int_equal(st.queued, 20000);
	assert_int_equal(st.dropped_queue, 0);
	assert_int_equal(st.dropped_write, 0);
	assert_int_equal(st.stored, 20000);
	c = read_back();
	assert_int_equal(c.n, 20000);
	assert_int_equal(c.out_of_order, 0);
	assert_int_equal(c.last_pid, 20000);
}

static void test_full_queue_counts_every_drop(void **state)
{
	struct tp_raw_stage_stats st;
	struct tp_config cfg;
	struct counts c;

	(void)state;
	tp_config_defaults(&cfg);
	cfg.raw_dir = dir;
	cfg.raw_queue_bytes = 256 * 1024; /* ~190 exec records */
	st = run_stage(&cfg, TP_EV_PROCESS_EXEC, 30000);
	print_message("stored %llu, dropped (queue full) %llu\n", (unsigned long long)st.stored,
		      (unsigned long long)st.dropped_queue);
	/* Whatever the threads' timing, nothing is lost uncounted. */
	assert_int_equal(st.queued + st.dropped_queue, 30000);
	assert_int_equal(st.stored + st.dropped_write, st.queued);
	c = read_back();
	assert_int_equal(c.n, st.stored);
	assert_int_equal(c.out_of_order, 0);
}

static void test_app_puts_storage_first_in_live_runs_only(void **state)
{
	struct tp_config cfg;
	struct tp_app app;
	char err[256], sub[128];
	struct stat st;

	(void)state;
	tp_config_defaults(&cfg);
	cfg.output = TP_FMT_NONE;
	snprintf(sub, sizeof(sub), "%s/live", dir);
	cfg.raw_dir = sub;
	assert_int_equal(tp_app_build(&app, &cfg, TP_APP_LIVE, err, sizeof(err)), 0);
	assert_true(app.pipe.nstages >= 1);
	assert_string_equal(app.pipe.stages[0]->ops->name, "raw");
	assert_true(tp_raw_dir_active(sub));
	/* A second live run on the same directory is refused with a reason. */
	struct tp_app app2;

	assert_int_equal(tp_app_build(&app2, &cfg, TP_APP_LIVE, err, sizeof(err)), -EBUSY);
	assert_non_null(strstr(err, "in use"));
	tp_app_close(&app);

	snprintf(sub, sizeof(sub), "%s/replay", dir);
	assert_int_equal(tp_app_build(&app, &cfg, TP_APP_REPLAY, err, sizeof(err)), 0);
	for (size_t i = 0; i < app.pipe.nstages; i++)
		assert_string_not_equal(app.pipe.stages[i]->ops->name, "raw");
	tp_app_close(&app);
	assert_int_equal(stat(sub, &st), -1);

	cfg.raw_dir = "off";
	assert_int_equal(tp_app_build(&app, &cfg, TP_APP_LIVE, err, sizeof(err)), 0);
	for (size_t i = 0; i < app.pipe.nstages; i++)
		assert_string_not_equal(app.pipe.stages[i]->ops->name, "raw");
	tp_app_close(&app);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup_dir, teardown_dir)
	const struct CMUnitTest tests[] = {
	    T(test_every_event_stored_in_order),
	    T(test_full_queue_counts_every_drop),
	    T(test_app_puts_storage_first_in_live_runs_only),
	};

	tp_log_set_level(TP_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
