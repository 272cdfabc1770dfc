/* Sampler stage: per-process and per-container token buckets keep a flood
 * from crowding out other processes; alerts, important events and exempt
 * categories always pass; sampling keeps exactly 1 in N and says so; burst
 * protection holds the kept rate near its threshold; and every event is
 * either passed or counted as dropped by reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "events/decode.h"
#include "obs/metrics.h"
#include "pipeline/pipeline.h"
#include "pipeline/sampler.h"
#include "util/time.h"

#define SEC TP_NSEC_PER_SEC
#define T0  (1795000000ULL * SEC)

/* An output that remembers what reached it. */
struct seen {
	struct tp_output base;
	uint64_t n;
	uint64_t by_pid[16];
	uint64_t scaled; /* sum of sample_rate over kept events: the estimate of the input */
	uint32_t last_rate;
};

static int seen_emit(struct tp_output *o, const struct tp_event *ev, const struct tp_event_meta *m)
{
	struct seen *s = (struct seen *)o;
	uint32_t rate = m && m->sample_rate > 1 ? m->sample_rate : 1;

	s->n++;
	if (ev->rec.hdr.pid < 16)
		s->by_pid[ev->rec.hdr.pid]++;
	s->scaled += rate;
	s->last_rate = rate;
	return 0;
}

static void seen_close(struct tp_output *o) {}

static const struct tp_output_ops seen_ops = {
    .name = "seen", .emit = seen_emit, .close = seen_close};

/* A stage before the sampler that scores events as a rule engine would:
 * pid 13 raises alerts, pid 14 is important, pid 15 is scored 0.5. */
static struct tp_alert test_alert = { .rule = "r", .severity = "warning", .importance = 0.9 };

static int score_event(struct tp_stage *st, struct tp_pipeline *p, struct tp_event *ev,
		       struct tp_event_meta *meta)
{
	switch (ev->rec.hdr.pid) {
	case 13:
		meta->alert = &test_alert;
		break;
	case 14:
		meta->importance = 0.95;
		break;
	case 15:
		meta->importance = 0.5;
		break;
	}
	return TP_STAGE_PASS;
}

static void score_close(struct tp_stage *st) {}

static const struct tp_stage_ops score_ops = {
    .name = "score", .event = score_event, .close = score_close};

struct rig {
	struct tp_pipeline p;
	struct seen out;
	struct tp_stage score;
	struct tp_config cfg;
	struct tp_event ev;
};

static struct rig *rig_new(void (*tune)(struct tp_config *))
{
	struct rig *r = calloc(1, sizeof(*r));
	struct tp_stage *st;
	char err[256];

	assert_non_null(r);
	tp_config_defaults(&r->cfg);
	/* Nothing on unless a test turns it on. */
	r->cfg.rate_limit.per_process = 0;
	r->cfg.rate_limit.per_container = 0;
	r->cfg.rate_limit.global = 0;
	r->cfg.sampling.enabled = false;
	tune(&r->cfg);
	tp_pipeline_init(&r->p);
	r->score.ops = &score_ops;
	assert_int_equal(tp_pipeline_add_stage(&r->p, &r->score), 0);
	assert_int_equal(tp_sampler_new(&st, &r->cfg, err, sizeof(err)), 0);
	assert_int_equal(tp_pipeline_add_stage(&r->p, st), 0);
	r->out.base.ops = &seen_ops;
	assert_int_equal(tp_pipeline_add_output(&r->p, &r->out.base), 0);
	return r;
}

static void rig_free(struct rig *r)
{
	tp_pipeline_close(&r->p);
	tp_config_free(&r->cfg);
	free(r);
}

/* Send one event of type (a fork, or an exec for the security-like
 * category test) from pid in cgroup at wall time ts. */
static void send_event(struct rig *r, uint32_t type, uint32_t pid, uint64_t cgroup, uint64_t ts)
{
	struct tp_fork_event f;

	memset(&f, 0, sizeof(f));
	f.hdr.ts_ns = ts;
	f.hdr.type = type;
	f.hdr.size = sizeof(f);
	f.hdr.pid = pid;
	f.hdr.tid = pid;
	f.hdr.cgroup_id = cgroup;
	memcpy(f.hdr.comm, "t", 2);
	if (type == TP_EV_PROCESS_EXIT) {
		struct tp_exit_event x;

		memset(&x, 0, sizeof(x));
		x.hdr = f.hdr;
		x.hdr.size = sizeof(x);
		assert_int_equal(tp_decode(&x, sizeof(x), 0, &r->ev), 0);
	} else {
		assert_int_equal(tp_decode(&f, sizeof(f), 0, &r->ev), 0);
	}
	assert_int_equal(tp_pipeline_event(&r->p, &r->ev), 0);
}

static uint64_t counter(const char *name, const char *labels)
{
	struct tp_metric *m = tp_metric_find(name, labels);

	return m ? tp_metric_get(m) : 0;
}

static uint64_t dropped(const char *reason)
{
	char labels[64];

	snprintf(labels, sizeof(labels), "reason=\"%s\"", reason);
	return counter("tapio_events_dropped_total", labels);
}

/* events in = passed + every drop, exactly. */
static void assert_books_balance(struct rig *r)
{
	uint64_t drops = dropped("sampled") + dropped("rate_limit_process") +
			 dropped("rate_limit_container") + dropped("rate_limit_global");

	assert_int_equal(r->p.events_in, counter("tapio_events_passed_total", NULL) + drops);
	assert_int_equal(r->out.n, counter("tapio_events_passed_total", NULL));
}

static void tune_per_process(struct tp_config *c)
{
	c->rate_limit.per_process = 100;
	c->rate_limit.per_process_burst = 200;
}

static void test_flood_does_not_crowd_out_others(void **state)
{
	struct rig *r = rig_new(tune_per_process);

	/* Over 2 s, pid 1 sends 50000 events; pids 2 and 3 send 150 each,
	 * interleaved; pid 13 raises an alert every 100 events of the flood. */
	for (uint64_t i = 0; i < 50000; i++) {
		uint64_t ts = T0 + i * (2 * SEC / 50000);

		send_event(r, TP_EV_PROCESS_FORK, 1, 7, ts);
		if (i % 333 == 0) {
			send_event(r, TP_EV_PROCESS_FORK, 2, 7, ts);
			send_event(r, TP_EV_PROCESS_FORK, 3, 8, ts);
		}
		if (i % 100 == 0)
			send_event(r, TP_EV_PROCESS_FORK, 13, 7, ts);
	}
	assert_int_equal(r->out.by_pid[2], 151);
	assert_int_equal(r->out.by_pid[3], 151);
	assert_int_equal(r->out.by_pid[13], 500);
	/* The flood got its burst and its rate: 200 + 100/s * 2 s, give or take
	 * the last refill. */
	assert_in_range(r->out.by_pid[1], 395, 401);
	assert_int_equal(dropped("rate_limit_process"), 50000 - r->out.by_pid[1]);
	assert_int_equal(counter("tapio_sampler_exempt_total", NULL), 500);
	assert_books_balance(r);
	rig_free(r);
}

static void tune_per_container(struct tp_config *c)
{
	c->rate_limit.per_process = 1000;
	c->rate_limit.per_process_burst = 1000;
	c->rate_limit.per_container = 50;
	c->rate_limit.per_container_burst = 50;
}

static void test_container_budget_is_shared_by_its_processes(void **state)
{
	struct rig *r = rig_new(tune_per_container);

	/* Ten processes of cgroup 9 each stay under the process limit, but
	 * together exceed their container's; cgroup 10's one process does not. */
	for (uint64_t i = 0; i < 1000; i++) {
		uint64_t ts = T0 + i * (SEC / 1000);

		send_event(r, TP_EV_PROCESS_FORK, 100 + (uint32_t)(i % 10), 9, ts);
		if (i % 20 == 0)
			send_event(r, TP_EV_PROCESS_FORK, 4, 10, ts);
	}
	assert_int_equal(r->out.by_pid[4], 50);
	assert_in_range(r->out.n - 50, 95, 101); /* 50 burst + 50/s for 1 s */
	assert_int_equal(dropped("rate_limit_container"), 1000 - (r->out.n - 50));
	assert_int_equal(dropped("rate_limit_process"), 0);
	assert_books_balance(r);
	rig_free(r);
}

static void tune_sampling(struct tp_config *c)
{
	c->sampling.enabled = true;
	c->sampling.base_rate = 0.1;
	c->sampling.importance_boost = 10;
	c->sampling.never_sample_importance = 0.9;
	c->sampling.burst_protection = false;
}

static void test_sampling_keeps_one_in_n_and_says_so(void **state)
{
	struct rig *r = rig_new(tune_sampling);

	for (uint64_t i = 0; i < 10000; i++)
		send_event(r, TP_EV_PROCESS_FORK, 1, 7, T0 + i * 1000);
	/* Unscored events are importance 0: exactly one in ten, rate 10. */
	assert_int_equal(r->out.by_pid[1], 1000);
	assert_int_equal(r->out.scaled, 10000);
	assert_int_equal(r->out.last_rate, 10);
	assert_int_equal(dropped("sampled"), 9000);

	/* Importance 0.5: p = 0.1 * 10^0.5 = 0.316, kept one in 3. */
	for (uint64_t i = 0; i < 3000; i++)
		send_event(r, TP_EV_PROCESS_EXIT, 15, 7, T0 + SEC + i * 1000);
	assert_int_equal(r->out.by_pid[15], 1000);
	assert_int_equal(r->out.last_rate, 3);

	/* Importance 0.95 is at or above never_sample_importance; alerts always pass. */
	for (uint64_t i = 0; i < 500; i++) {
		send_event(r, TP_EV_PROCESS_FORK, 14, 7, T0 + 2 * SEC + i * 1000);
		send_event(r, TP_EV_PROCESS_FORK, 13, 7, T0 + 2 * SEC + i * 1000);
	}
	assert_int_equal(r->out.by_pid[14], 500);
	assert_int_equal(r->out.by_pid[13], 500);
	assert_int_equal(r->out.last_rate, 1);
	assert_books_balance(r);
	rig_free(r);
}

static void tune_category(struct tp_config *c)
{
	c->sampling.enabled = true;
	c->sampling.base_rate = 0.01;
	c->sampling.burst_protection = false;
	c->rate_limit.per_process = 10;
	c->rate_limit.per_process_burst = 10;
	c->sampling.never_sample_categories = 1u << TP_CAT_PROCESS;
}

static void test_exempt_category_is_never_sampled_or_limited(void **state)
{
	struct rig *r = rig_new(tune_category);

	for (uint64_t i = 0; i < 5000; i++)
		send_event(r, TP_EV_PROCESS_FORK, 1, 7, T0 + i * 1000);
	assert_int_equal(r->out.by_pid[1], 5000);
	assert_int_equal(counter("tapio_sampler_exempt_total", NULL), 5000);
	assert_books_balance(r);
	rig_free(r);
}

static void tune_burst(struct tp_config *c)
{
	c->sampling.enabled = true;
	c->sampling.base_rate = 1.0; /* only burst protection samples */
	c->sampling.burst_protection = true;
	c->sampling.burst_threshold = 1000;
}

static void test_burst_protection_holds_the_rate(void **state)
{
	struct rig *r = rig_new(tune_burst);
	uint64_t before;

	/* Second 0: 500 events/s, under the threshold: all kept. */
	for (uint64_t i = 0; i < 500; i++)
		send_event(r, TP_EV_PROCESS_FORK, 1, 7, T0 + i * (SEC / 500));
	assert_int_equal(r->out.n, 500);
	/* Seconds 1-4: 20000 events/s. The first second of the burst passes
	 * (the factor is set from the second before), then about 1000/s. */
	for (uint64_t i = 0; i < 80000; i++)
		send_event(r, TP_EV_PROCESS_FORK, 1, 7, T0 + SEC + i * (SEC / 20000));
	assert_in_range(r->out.n - 500, 20000 + 2 * 900, 20000 + 3 * 1100 + 100);
	before = r->out.n;
	/* Rates are re-scalable: sum of sample_rate estimates the input. */
	assert_in_range(r->out.scaled, 80500 * 9 / 10, 80500 * 11 / 10);
	/* Back to quiet: the first quiet second is still sampled at the burst's
	 * factor (1 in 20 of 200), the next one is kept whole. */
	for (uint64_t i = 0; i < 400; i++)
		send_event(r, TP_EV_PROCESS_FORK, 1, 7, T0 + 5 * SEC + i * (SEC / 200));
	assert_in_range(r->out.n - before, 200 + 9, 200 + 11);
	assert_books_balance(r);
	rig_free(r);
}

static void tune_global(struct tp_config *c)
{
	c->rate_limit.global = 100;
	c->rate_limit.global_burst = 100;
}

static void test_global_limit_and_clock_steps(void **state)
{
	struct rig *r = rig_new(tune_global);

	for (uint64_t i = 0; i < 1000; i++)
		send_event(r, TP_EV_PROCESS_FORK, 1 + (uint32_t)(i % 5), 7, T0);
	assert_int_equal(r->out.n, 100);
	/* A wall clock that steps back gives no tokens; moving on again does. */
	for (uint64_t i = 0; i < 100; i++)
		send_event(r, TP_EV_PROCESS_FORK, 1, 7, T0 - 3600 * SEC);
	assert_int_equal(r->out.n, 100);
	send_event(r, TP_EV_PROCESS_FORK, 1, 7, T0 + SEC / 10);
	assert_int_equal(r->out.n, 101);
	assert_int_equal(dropped("rate_limit_global"), 1101 - 101);
	assert_books_balance(r);
	rig_free(r);
}

static void tune_many(struct tp_config *c)
{
	c->rate_limit.per_process = 1;
	c->rate_limit.per_process_burst = 1;
}

static void test_more_processes_than_slots(void **state)
{
	struct rig *r = rig_new(tune_many);
	uint64_t n = 3 * TP_SAMPLER_PROCESS_SLOTS;

	/* Each new process gets its first event through, however many there are. */
	for (uint64_t i = 0; i < n; i++)
		send_event(r, TP_EV_PROCESS_FORK, 1000 + (uint32_t)i, 7, T0 + i);
	assert_int_equal(r->out.n, n);
	assert_true(counter("tapio_rate_limit_evictions_total", "table=\"process\"") > 0);
	assert_books_balance(r);
	rig_free(r);
}

static void test_wanted(void **state)
{
	struct tp_config c;

	tp_config_defaults(&c);
	assert_true(tp_sampler_wanted(&c));
	c.all_events = true;
	assert_false(tp_sampler_wanted(&c));
	c.all_events = false;
	c.rate_limit.per_process = c.rate_limit.per_container = c.rate_limit.global = 0;
	c.sampling.enabled = false;
	assert_false(tp_sampler_wanted(&c));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_flood_does_not_crowd_out_others),
	    cmocka_unit_test(test_container_budget_is_shared_by_its_processes),
	    cmocka_unit_test(test_sampling_keeps_one_in_n_and_says_so),
	    cmocka_unit_test(test_exempt_category_is_never_sampled_or_limited),
	    cmocka_unit_test(test_burst_protection_holds_the_rate),
	    cmocka_unit_test(test_global_limit_and_clock_steps),
	    cmocka_unit_test(test_more_processes_than_slots),
	    cmocka_unit_test(test_wanted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
