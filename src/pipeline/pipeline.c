#include "pipeline/pipeline.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util/time.h"

static char type_labels[TP_CAT_MAX][64][48];

const char *const tp_drop_reason_names[TP_DROP_REASONS] = {
    [TP_DROP_FILTERED] = "filtered",
    [TP_DROP_BELOW_THRESHOLD] = "below_threshold",
    [TP_DROP_BELOW_MIN_SEVERITY] = "below_min_severity",
    [TP_DROP_SAMPLED] = "sampled",
    [TP_DROP_RATE_LIMIT_PROCESS] = "rate_limit_process",
    [TP_DROP_RATE_LIMIT_CONTAINER] = "rate_limit_container",
    [TP_DROP_RATE_LIMIT_GLOBAL] = "rate_limit_global",
    [TP_DROP_OUT_OF_SCOPE] = "out_of_scope",
    [TP_DROP_EXCLUDED_CONTAINER] = "excluded_container",
    [TP_DROP_EXCLUDED_K8S_NAMESPACE] = "excluded_k8s_namespace",
    [TP_DROP_AGGREGATED] = "aggregated",
};

static char drop_labels[TP_DROP_REASONS][64];

/* The series of one drop reason, the first time a stage declares it. */
static void drop_metric(struct tp_pipeline *p, enum tp_drop_reason why)
{
	struct tp_metric *m = &p->m_dropped[why];

	if (m->name)
		return;
	snprintf(drop_labels[why], sizeof(drop_labels[why]), "reason=\"%s\"",
		 tp_drop_reason_names[why]);
	*m = (struct tp_metric)TP_COUNTER_INIT(
	    "tapio_events_dropped_total",
	    "Events kept from the outputs on purpose or for lack of room, by reason.");
	m->labels = drop_labels[why];
	tp_metric_register(m);
}

static double read_seconds(void *ctx)
{
	return (double)tp_metric_get(ctx) / 1e9;
}

static void time_metric(struct tp_pipeline *p, size_t slot, const char *name)
{
	struct tp_metric *m = &p->m_stage_ns[slot];

	snprintf(p->stage_labels[slot], sizeof(p->stage_labels[slot]), "stage=\"%s\"", name);
	*m = (struct tp_metric)TP_COUNTER_INIT(
		"tapio_pipeline_seconds_total",
		"Time spent in each pipeline stage and in the outputs (the rules stage is the "
		"time in Lua), estimated from 1 in 64 events, less the cost of the clock reads.");
	m->labels = p->stage_labels[slot];
	m->read = read_seconds;
	m->ctx = m;
	tp_metric_register(m);
}

/* The median of back-to-back clock reads: what a timed interval holds
 * beyond its stage (on a VM's kvm-clock ~25 ns, as much as a small stage). */
static uint64_t clock_read_cost(void)
{
	uint64_t d[31];

	for (size_t i = 0; i < 31; i++) {
		uint64_t a = tp_mono_ns();

		d[i] = tp_mono_ns() - a;
	}
	for (size_t i = 1; i < 31; i++)
		for (size_t j = i; j > 0 && d[j - 1] > d[j]; j--) {
			uint64_t t = d[j];

			d[j] = d[j - 1];
			d[j - 1] = t;
		}
	return d[15];
}

static inline uint64_t interval(const struct tp_pipeline *p, uint64_t t0, uint64_t t1)
{
	uint64_t d = t1 - t0;

	return d > p->clock_read_ns ? d - p->clock_read_ns : 0;
}

void tp_pipeline_init(struct tp_pipeline *p)
{
	const struct tp_event_type *t;

	memset(p, 0, sizeof(*p));
	p->clock_read_ns = clock_read_cost();
	for (size_t i = 0; (t = tp_event_type_at(i)); i++) {
		unsigned cat = TP_TYPE_CATEGORY(t->id), sub = t->id & 0xff;
		struct tp_metric *m = &p->m_events_by_type[cat][sub];

		snprintf(type_labels[cat][sub], sizeof(type_labels[cat][sub]), "type=\"%s\"", t->name);
		*m = (struct tp_metric)TP_COUNTER_INIT("tapio_events_total",
						       "Decoded events, by type.");
		m->labels = type_labels[cat][sub];
		tp_metric_register(m);
	}
	p->m_emitted = (struct tp_metric)TP_COUNTER_INIT(
		"tapio_events_emitted_total", "Events and alerts handed to the outputs.");
	p->m_output_errors = (struct tp_metric)TP_COUNTER_INIT(
		"tapio_output_errors_total", "Events an output could not take.");
	/* Events in (tapio_events_total) = passed + tapio_events_dropped_total. */
	p->m_passed = (struct tp_metric)TP_COUNTER_INIT(
		"tapio_events_passed_total", "Decoded events that passed every stage to the outputs.");
	tp_metric_register(&p->m_emitted);
	tp_metric_register(&p->m_output_errors);
	tp_metric_register(&p->m_passed);
	time_metric(p, TP_PIPELINE_MAX_STAGES, "outputs");
}

int tp_pipeline_add_stage(struct tp_pipeline *p, struct tp_stage *st)
{
	if (p->nstages == TP_PIPELINE_MAX_STAGES)
		return -ENOSPC;
	for (const enum tp_drop_reason *d = st->ops->drops; d && *d; d++)
		if (*d > 0 && *d < TP_DROP_REASONS)
			drop_metric(p, *d);
	time_metric(p, p->nstages, st->ops->name);
	p->stages[p->nstages++] = st;
	return 0;
}

int tp_pipeline_add_output(struct tp_pipeline *p, struct tp_output *o)
{
	if (p->noutputs == TP_PIPELINE_MAX_OUTPUTS)
		return -ENOSPC;
	p->outputs[p->noutputs++] = o;
	return 0;
}

void tp_pipeline_emit(struct tp_pipeline *p, const struct tp_event *ev,
		      const struct tp_event_meta *meta)
{
	for (size_t i = 0; i < p->noutputs; i++) {
		struct tp_output *o = p->outputs[i];

		if (o->ops->emit(o, ev, meta) < 0)
			tp_metric_add_owned(&p->m_output_errors, 1);
	}
	p->events_out++;
	tp_metric_add_owned(&p->m_emitted, 1);
}

void tp_pipeline_set_kernel_sampling(struct tp_pipeline *p, const uint32_t rates[TP_CAT_MAX])
{
	for (unsigned c = 0; c < TP_CAT_MAX; c++)
		p->kernel_sample_rate[c] = rates && rates[c] > 1 ? rates[c] : 0;
}

/* What the kernel kept of this event's stream: 1 in N (0: all). */
static uint32_t kernel_rate(const struct tp_pipeline *p, const struct tp_event *ev, unsigned cat)
{
	uint64_t n = cat < TP_CAT_MAX ? p->kernel_sample_rate[cat] : 0;

	if (ev->type->id == TP_EV_MEMORY_PAGE_FAULT) {
		/* The decoder checked the record's size (min_size is the struct's). */
		uint64_t period =
		    ((const struct tp_page_fault_event *)ev->rec.bytes)->sample_period;

		if (period > 1)
			n = (n ? n : 1) * (period > UINT32_MAX ? UINT32_MAX : period);
	}
	return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

int tp_pipeline_follow(struct tp_pipeline *p, const struct tp_event *ev,
		       const struct tp_event_meta *meta)
{
	if (p->nfollow == TP_PIPELINE_MAX_FOLLOW) {
		tp_pipeline_emit(p, ev, meta);
		return -ENOSPC;
	}
	p->follow[p->nfollow].stage = p->cur_stage;
	p->follow[p->nfollow].meta = *meta;
	p->follow[p->nfollow].meta.follows = true;
	p->nfollow++;
	return 0;
}

/* The alerts that follow the event, in order, through the stages after the
 * one that raised each. */
static void run_follows(struct tp_pipeline *p, struct tp_event *ev)
{
	for (size_t k = 0; k < p->nfollow; k++) {
		struct tp_event_meta *m = &p->follow[k].meta;
		size_t i;

		for (i = p->follow[k].stage + 1; i < p->nstages; i++) {
			p->cur_stage = i;
			if (p->stages[i]->ops->event(p->stages[i], p, ev, m) != TP_STAGE_PASS)
				break;
		}
		if (i == p->nstages)
			tp_pipeline_emit(p, ev, m);
	}
	p->nfollow = 0;
}

int tp_pipeline_event(void *pipeline, struct tp_event *ev)
{
	struct tp_pipeline *p = pipeline;
	unsigned cat = TP_TYPE_CATEGORY(ev->type->id), sub = ev->type->id & 0xff;
	struct tp_event_meta meta = { .importance = -1.0, .sample_rate = kernel_rate(p, ev, cat) };

	bool timed = p->events_in % TP_PIPELINE_TIME_EVERY == 0;
	uint64_t t0 = timed ? tp_mono_ns() : 0, t1;
	size_t i;

	p->events_in++;
	tp_metric_add_owned(&p->m_events_by_type[cat][sub], 1);
	for (i = 0; i < p->nstages; i++) {
		struct tp_stage *st = p->stages[i];
		int verdict;

		p->cur_stage = i;
		verdict = st->ops->event(st, p, ev, &meta);
		if (timed) {
			t1 = tp_mono_ns();
			tp_metric_add_owned(&p->m_stage_ns[i],
					    interval(p, t0, t1) * TP_PIPELINE_TIME_EVERY);
			t0 = t1;
		}
		if (verdict != TP_STAGE_PASS) {
			if (verdict > 0 && verdict < TP_DROP_REASONS)
				tp_metric_add_owned(&p->m_dropped[verdict], 1);
			break;
		}
	}
	if (i == p->nstages) {
		tp_metric_add_owned(&p->m_passed, 1);
		tp_pipeline_emit(p, ev, &meta);
		if (timed)
			tp_metric_add_owned(&p->m_stage_ns[TP_PIPELINE_MAX_STAGES],
					    interval(p, t0, tp_mono_ns()) * TP_PIPELINE_TIME_EVERY);
	}
	if (p->nfollow)
		run_follows(p, ev);
	return 0;
}

void tp_pipeline_tick(struct tp_pipeline *p, uint64_t now_ns)
{
	for (size_t i = 0; i < p->nstages; i++)
		if (p->stages[i]->ops->tick)
			p->stages[i]->ops->tick(p->stages[i], p, now_ns);
	tp_pipeline_flush(p);
}

void tp_pipeline_flush(struct tp_pipeline *p)
{
	for (size_t i = 0; i < p->nstages; i++)
		if (p->stages[i]->ops->flush)
			p->stages[i]->ops->flush(p->stages[i]);
	for (size_t i = 0; i < p->noutputs; i++)
		if (p->outputs[i]->ops->flush)
			p->outputs[i]->ops->flush(p->outputs[i]);
}

void tp_pipeline_close(struct tp_pipeline *p)
{
	tp_pipeline_flush(p);
	for (size_t i = p->nstages; i > 0; i--)
		p->stages[i - 1]->ops->close(p->stages[i - 1]);
	for (size_t i = p->noutputs; i > 0; i--)
		p->outputs[i - 1]->ops->close(p->outputs[i - 1]);
	p->nstages = p->noutputs = 0;
	for (unsigned c = 0; c < TP_CAT_MAX; c++)
		for (unsigned s = 0; s < 64; s++)
			if (p->m_events_by_type[c][s].name)
				tp_metric_unregister(&p->m_events_by_type[c][s]);
	tp_metric_unregister(&p->m_emitted);
	tp_metric_unregister(&p->m_output_errors);
	tp_metric_unregister(&p->m_passed);
	for (size_t i = 0; i < TP_DROP_REASONS; i++)
		if (p->m_dropped[i].name)
			tp_metric_unregister(&p->m_dropped[i]);
	for (size_t i = 0; i <= TP_PIPELINE_MAX_STAGES; i++)
		if (p->m_stage_ns[i].name)
			tp_metric_unregister(&p->m_stage_ns[i]);
}
