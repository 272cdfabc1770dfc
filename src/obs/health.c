#include "obs/health.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "obs/metrics.h"
#include "util/time.h"

struct condition {
	char name[TP_HEALTH_NAME_MAX];
	char reason[TP_HEALTH_REASON_MAX];
	uint64_t until_ns; /* 0: until cleared */
	uint64_t order;    /* first report, for a stable listing */
	bool note;         /* informational: does not degrade */
};

static struct condition conditions[TP_HEALTH_MAX_CONDITIONS];
static size_t nconditions;
static uint64_t next_order;
static uint64_t last_beat_ns;
static bool beating_stopped;
static pthread_mutex_t health_lock = PTHREAD_MUTEX_INITIALIZER;

static struct condition *find(const char *name)
{
	for (size_t i = 0; i < nconditions; i++)
		if (!strcmp(conditions[i].name, name))
			return &conditions[i];
	return NULL;
}

static int vset(const char *name, uint64_t until_ns, bool note, const char *fmt, va_list ap)
{
	struct condition *c;
	int r = 0;

	pthread_mutex_lock(&health_lock);
	c = find(name);
	if (!c) {
		if (nconditions == TP_HEALTH_MAX_CONDITIONS) {
			r = -ENOSPC;
			goto out;
		}
		c = &conditions[nconditions++];
		snprintf(c->name, sizeof(c->name), "%s", name);
		c->order = next_order++;
	}
	vsnprintf(c->reason, sizeof(c->reason), fmt, ap);
	c->until_ns = until_ns;
	c->note = note;
out:
	pthread_mutex_unlock(&health_lock);
	return r;
}

int tp_health_set(const char *name, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vset(name, 0, false, fmt, ap);
	va_end(ap);
	return r;
}

int tp_health_note(const char *name, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vset(name, 0, true, fmt, ap);
	va_end(ap);
	return r;
}

int tp_health_set_for(const char *name, uint64_t hold_ns, const char *fmt, ...)
{
	uint64_t until = tp_mono_ns() + (hold_ns ? hold_ns : 1);
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vset(name, until, false, fmt, ap);
	va_end(ap);
	return r;
}

void tp_health_clear(const char *name)
{
	struct condition *c;

	pthread_mutex_lock(&health_lock);
	c = find(name);
	if (c) {
		*c = conditions[--nconditions];
		memset(&conditions[nconditions], 0, sizeof(conditions[0]));
	}
	pthread_mutex_unlock(&health_lock);
}

void tp_health_beat(uint64_t now_ns)
{
	__atomic_store_n(&last_beat_ns, now_ns, __ATOMIC_RELAXED);
}

void tp_health_stop_beating(void)
{
	__atomic_store_n(&beating_stopped, true, __ATOMIC_RELAXED);
}

static void loop_state(uint64_t now_ns, char *why, size_t len)
{
	uint64_t beat = __atomic_load_n(&last_beat_ns, __ATOMIC_RELAXED);
	bool stopped = __atomic_load_n(&beating_stopped, __ATOMIC_RELAXED);

	why[0] = '\0';
	if (!beat)
		snprintf(why, len, "starting: the event loop has not run yet");
	else if (!stopped && now_ns > beat && now_ns - beat > TP_HEALTH_STALL_NS)
		snprintf(why, len, "event loop stalled for %llu s",
			 (unsigned long long)((now_ns - beat) / TP_NSEC_PER_SEC));
}

bool tp_health_live(uint64_t now_ns, char *why, size_t len)
{
	uint64_t beat = __atomic_load_n(&last_beat_ns, __ATOMIC_RELAXED);

	loop_state(now_ns, why, len);
	/* Starting is alive: loading BPF programs can take a while. */
	if (!beat) {
		why[0] = '\0';
		return true;
	}
	return !why[0];
}

/* The conditions (notes: the notes) in force at now, in the order they
 * were first reported. */
static size_t active(uint64_t now_ns, bool notes, const struct condition **out)
{
	size_t n = 0;

	for (size_t i = 0; i < nconditions; i++)
		if (conditions[i].note == notes &&
		    (!conditions[i].until_ns || conditions[i].until_ns > now_ns))
			out[n++] = &conditions[i];
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && out[j - 1]->order > out[j]->order; j--) {
			const struct condition *t = out[j];

			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	return n;
}

static void json_items(struct tp_buf *b, const struct condition *const *items, size_t n,
		       bool first)
{
	for (size_t i = 0; i < n; i++) {
		if (!first)
			tp_buf_putc(b, ',');
		first = false;
		tp_buf_puts(b, "{\"name\":");
		tp_buf_json_str(b, items[i]->name, strlen(items[i]->name));
		tp_buf_puts(b, ",\"reason\":");
		tp_buf_json_str(b, items[i]->reason, strlen(items[i]->reason));
		tp_buf_putc(b, '}');
	}
}

bool tp_health_render(struct tp_buf *b, uint64_t now_ns, bool as_json)
{
	const struct condition *act[TP_HEALTH_MAX_CONDITIONS], *notes[TP_HEALTH_MAX_CONDITIONS];
	char loop[96];
	size_t n, nnotes;
	bool ok;

	loop_state(now_ns, loop, sizeof(loop));

	pthread_mutex_lock(&health_lock);
	n = active(now_ns, false, act);
	nnotes = active(now_ns, true, notes);
	ok = !n && !loop[0];
	if (as_json) {
		tp_buf_printf(b, "{\"status\":\"%s\",\"reasons\":[", ok ? "ok" : "degraded");
		if (loop[0]) {
			tp_buf_puts(b, "{\"name\":\"loop\",\"reason\":");
			tp_buf_json_str(b, loop, strlen(loop));
			tp_buf_putc(b, '}');
		}
		json_items(b, act, n, !loop[0]);
		tp_buf_puts(b, "],\"notes\":[");
		json_items(b, notes, nnotes, true);
		tp_buf_puts(b, "]}\n");
	} else {
		if (ok) {
			tp_buf_puts(b, "ok\n");
		} else {
			const char *sep = "";

			tp_buf_puts(b, "degraded: ");
			if (loop[0]) {
				tp_buf_puts(b, loop);
				sep = "; ";
			}
			for (size_t i = 0; i < n; i++) {
				tp_buf_printf(b, "%s%s: %s", sep, act[i]->name, act[i]->reason);
				sep = "; ";
			}
			tp_buf_putc(b, '\n');
		}
		for (size_t i = 0; i < nnotes; i++)
			tp_buf_printf(b, "note: %s: %s\n", notes[i]->name, notes[i]->reason);
	}
	pthread_mutex_unlock(&health_lock);
	return ok;
}

static double read_healthy(void *ctx)
{
	struct tp_buf b;
	bool ok;

	(void)ctx;
	tp_buf_init(&b);
	ok = tp_health_render(&b, tp_mono_ns(), false);
	tp_buf_free(&b);
	return ok ? 1 : 0;
}

static struct tp_metric m_healthy = TP_GAUGE_INIT(
	"tapio_healthy", "1 when /healthz reports ok, 0 when it reports degraded.");

void tp_health_register_metrics(void)
{
	m_healthy.read = read_healthy;
	tp_metric_register(&m_healthy);
}

void tp_health_unregister_metrics(void)
{
	tp_metric_unregister(&m_healthy);
}

void tp_health_reset(void)
{
	pthread_mutex_lock(&health_lock);
	memset(conditions, 0, sizeof(conditions));
	nconditions = 0;
	next_order = 0;
	pthread_mutex_unlock(&health_lock);
	__atomic_store_n(&last_beat_ns, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&beating_stopped, false, __ATOMIC_RELAXED);
}
