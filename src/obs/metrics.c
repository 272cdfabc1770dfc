#include "obs/metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

static struct tp_metric *registry_head;
static struct tp_metric **registry_tail = &registry_head;
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;

void tp_metric_register(struct tp_metric *m)
{
	pthread_mutex_lock(&registry_lock);
	for (struct tp_metric *p = registry_head; p; p = p->next) {
		if (p == m) {
			pthread_mutex_unlock(&registry_lock);
			return;
		}
	}
	m->next = NULL;
	*registry_tail = m;
	registry_tail = &m->next;
	pthread_mutex_unlock(&registry_lock);
}

void tp_metric_unregister(struct tp_metric *m)
{
	pthread_mutex_lock(&registry_lock);
	for (struct tp_metric **pp = &registry_head; *pp; pp = &(*pp)->next) {
		if (*pp == m) {
			*pp = m->next;
			if (registry_tail == &m->next)
				registry_tail = pp;
			break;
		}
	}
	pthread_mutex_unlock(&registry_lock);
}

double tp_metric_value(const struct tp_metric *m)
{
	if (m->read)
		return m->read(m->ctx);
	return (double)tp_metric_get(m);
}

static bool labels_equal(const char *a, const char *b)
{
	if (!a || !*a)
		return !b || !*b;
	return b && !strcmp(a, b);
}

struct tp_metric *tp_metric_find(const char *name, const char *labels)
{
	struct tp_metric *found = NULL;

	pthread_mutex_lock(&registry_lock);
	for (struct tp_metric *p = registry_head; p; p = p->next) {
		if (!strcmp(p->name, name) && labels_equal(p->labels, labels)) {
			found = p;
			break;
		}
	}
	pthread_mutex_unlock(&registry_lock);
	return found;
}

static void render_value(struct tp_buf *b, double v)
{
	if (isnan(v))
		tp_buf_puts(b, "NaN");
	else if (v == floor(v) && fabs(v) < 9.0e15)
		tp_buf_printf(b, "%.0f", v);
	else
		tp_buf_printf(b, "%.9g", v);
}

void tp_metrics_render_prometheus(struct tp_buf *b)
{
	pthread_mutex_lock(&registry_lock);
	/* Samples of one name must be grouped under one HELP/TYPE header. */
	for (struct tp_metric *m = registry_head; m; m = m->next) {
		bool seen = false;

		for (struct tp_metric *p = registry_head; p != m; p = p->next) {
			if (!strcmp(p->name, m->name)) {
				seen = true;
				break;
			}
		}
		if (seen)
			continue;
		tp_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", m->name, m->help, m->name,
			      m->type == TP_METRIC_COUNTER ? "counter" : "gauge");
		for (struct tp_metric *p = m; p; p = p->next) {
			if (strcmp(p->name, m->name))
				continue;
			tp_buf_puts(b, p->name);
			if (p->labels && *p->labels)
				tp_buf_printf(b, "{%s}", p->labels);
			tp_buf_putc(b, ' ');
			render_value(b, tp_metric_value(p));
			tp_buf_putc(b, '\n');
		}
	}
	pthread_mutex_unlock(&registry_lock);
}

static struct {
	void (*fn)(void *ctx, struct tp_buf *b);
	void *ctx;
} sections[4];

void tp_metrics_line_section(void (*fn)(void *ctx, struct tp_buf *b), void *ctx)
{
	pthread_mutex_lock(&registry_lock);
	for (size_t i = 0; i < 4; i++) {
		if (sections[i].ctx == ctx || (fn && !sections[i].fn)) {
			sections[i].fn = fn;
			sections[i].ctx = fn ? ctx : NULL;
			break;
		}
	}
	pthread_mutex_unlock(&registry_lock);
}

void tp_metrics_render_line(struct tp_buf *b)
{
	bool first = true;
	size_t before;

	pthread_mutex_lock(&registry_lock);
	for (struct tp_metric *m = registry_head; m; m = m->next) {
		double v;

		if (m->quiet)
			continue;
		v = tp_metric_value(m);
		if (v == 0)
			continue;
		if (!first)
			tp_buf_putc(b, ' ');
		first = false;
		/* Shorter in a log line: drop the common prefix. */
		tp_buf_puts(b, strncmp(m->name, "tapio_", 6) ? m->name : m->name + 6);
		if (m->labels && *m->labels)
			tp_buf_printf(b, "{%s}", m->labels);
		tp_buf_putc(b, '=');
		render_value(b, v);
	}
	for (size_t i = 0; i < 4; i++) {
		if (!sections[i].fn)
			continue;
		before = b->len;
		if (!first)
			tp_buf_putc(b, ' ');
		sections[i].fn(sections[i].ctx, b);
		if (b->len == before + !first)
			b->len = before; /* the section had nothing to say */
		else
			first = false;
	}
	pthread_mutex_unlock(&registry_lock);
}

double tp_metrics_sum(const char *name)
{
	double sum = 0;

	pthread_mutex_lock(&registry_lock);
	for (struct tp_metric *m = registry_head; m; m = m->next)
		if (!strcmp(m->name, name))
			sum += tp_metric_value(m);
	pthread_mutex_unlock(&registry_lock);
	return sum;
}
