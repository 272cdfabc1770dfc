#include "storage/raw_stage.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "obs/log.h"
#include "obs/metrics.h"
#include "storage/raw_format.h"
#include "storage/raw_writer.h"
#include "util/caps.h"
#include "util/stop.h"
#include "util/byteq.h"
#include "util/time.h"

/* Drops are logged at most this often (the first one at once). */
#define REPORT_INTERVAL_NS (10 * TP_NSEC_PER_SEC)
/* Each queued message is the record's frame, coded on the reader thread
 * (tp_raw_frame_encode_body): a third of the record's bytes go through the
 * queue on a typical mix, and the writer only checks (CRC) and writes. */

struct raw_stage {
	struct tp_stage base;
	struct tp_byteq q;
	struct tp_raw_writer *w;
	char dir[256];
	uint64_t write_period_ns;
	uint64_t fsync_interval_ns;
	size_t wake_bytes;

	pthread_t thread;
	bool thread_started;
	bool joined;	/* the writer ended and was joined */
	bool abandoned; /* left running past the stop deadline */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;	       /* under lock */
	bool kick;	       /* under lock */
	bool sync_req;	       /* under lock: sync at the end of this round */
	uint64_t rounds;       /* under lock: rounds of the writer done */
	pthread_cond_t done;   /* signalled at the end of each round */
	_Atomic bool sleeping; /* the writer waits for its period or a kick */

	/* Reader thread only. */
	uint64_t queued;
	uint64_t queue_full;
	uint64_t next_report_ns;
	uint64_t reported_queue_full;
	uint64_t reported_write_drops;

	/* Written by the writer thread. */
	_Atomic int write_errno;
	int finished; /* (atomic) the writer closed its segment and ends */

	struct tp_metric m_stored;
	struct tp_metric m_bytes;
	struct tp_metric m_drop_queue;
	struct tp_metric m_drop_write;
	struct tp_metric m_drop_shutdown;
	struct tp_metric m_segments;
	struct tp_metric m_deleted;
	struct tp_metric m_reused;
	struct tp_metric m_disk_bytes;
	struct tp_metric m_queue_bytes;
};

static void wake_writer(struct raw_stage *s)
{
	atomic_store_explicit(&s->sleeping, false, memory_order_relaxed);
	pthread_mutex_lock(&s->lock);
	s->kick = true;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

static int raw_event(struct tp_stage *st, struct tp_pipeline *p, struct tp_event *ev,
		     struct tp_event_meta *meta)
{
	struct raw_stage *s = (struct raw_stage *)st;
	uint8_t *m = tp_byteq_reserve(&s->q, sizeof(struct tp_raw_frame_hdr) + ev->len);
	int flen;

	if (!m) {
		s->queue_full++;
		return TP_STAGE_PASS;
	}
	/* Decoded records are never empty nor longer than TP_RECORD_MAX. */
	flen = tp_raw_frame_encode_body(m, ev->ts_wall_ns, ev->rec.bytes, ev->len);
	if (flen < 0)
		return TP_STAGE_PASS;
	tp_byteq_commit_len(&s->q, (size_t)flen);
	s->queued++;
	/* Wake the writer early when a quarter of the queue waits; the cheap
	 * producer-side estimate first, the real figure only then. */
	if (atomic_load_explicit(&s->sleeping, memory_order_relaxed) &&
	    s->q.reserved_head - s->q.cached_tail >= s->wake_bytes &&
	    tp_byteq_used(&s->q) >= s->wake_bytes)
		wake_writer(s);
	return TP_STAGE_PASS;
}

static void publish(struct raw_stage *s)
{
	struct tp_raw_writer_stats st;

	tp_raw_writer_stats(s->w, &st);
	tp_metric_set(&s->m_stored, st.records_written);
	tp_metric_set(&s->m_bytes, st.bytes_written);
	tp_metric_set(&s->m_drop_write, st.records_dropped);
	tp_metric_set(&s->m_segments, st.segments_created);
	tp_metric_set(&s->m_deleted, st.segments_deleted);
	tp_metric_set(&s->m_reused, st.segments_reused);
	tp_metric_set(&s->m_disk_bytes, st.bytes_on_disk);
	atomic_store(&s->write_errno, st.last_error);
}

/* Move what is queued into the writer; at most one queue's worth per call,
 * so syncing and retention still run under a producer that never pauses.
 * Returns whether messages remain. */
static bool drain(struct raw_stage *s, uint64_t now_wall)
{
	size_t budget = s->q.cap, n;
	uint8_t *m;

	/* The writer owns a peeked message until it releases it. */
	while (budget && (m = (uint8_t *)tp_byteq_peek(&s->q, &n))) {
		tp_raw_writer_append_frame(s->w, m, n, now_wall);
		tp_byteq_release(&s->q);
		budget = budget > n + 16 ? budget - n - 16 : 0;
	}
	return tp_byteq_used(&s->q) > 0;
}

static void timed_wait(struct raw_stage *s)
{
	struct timespec ts;
	uint64_t until;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	until = (uint64_t)ts.tv_sec * TP_NSEC_PER_SEC + (uint64_t)ts.tv_nsec + s->write_period_ns;
	ts.tv_sec = (time_t)(until / TP_NSEC_PER_SEC);
	ts.tv_nsec = (long)(until % TP_NSEC_PER_SEC);
	atomic_store_explicit(&s->sleeping, true, memory_order_relaxed);
	pthread_cond_timedwait(&s->cond, &s->lock, &ts);
	atomic_store_explicit(&s->sleeping, false, memory_order_relaxed);
}

static void *writer_main(void *arg)
{
	struct raw_stage *s = arg;
	uint64_t last_sync = tp_mono_ns(), dropped_before = 0;
	bool failing = false, more = false;

	for (;;) {
		struct tp_raw_writer_stats st;
		uint64_t now_wall, now;
		bool stopping, sync_now;
		int r;

		pthread_mutex_lock(&s->lock);
		if (!s->stop && !s->kick && !more)
			timed_wait(s);
		s->kick = false;
		stopping = s->stop;
		sync_now = s->sync_req;
		s->sync_req = false;
		pthread_mutex_unlock(&s->lock);

		now_wall = tp_now_ns(CLOCK_REALTIME);
		tp_raw_writer_stats(s->w, &st);
		if (!failing)
			dropped_before = st.records_dropped; /* drain may already write */
		more = drain(s, now_wall);
		r = tp_raw_writer_flush(s->w, now_wall);
		tp_raw_writer_stats(s->w, &st);
		if (r < 0 && !failing) {
			failing = true;
		} else if (r == 0 && failing && st.last_error == 0) {
			failing = false;
			tp_info(
			    "raw storage: writing to %s again (%llu events were not stored while "
			    "it failed)",
			    s->dir, (unsigned long long)(st.records_dropped - dropped_before));
		}
		now = tp_mono_ns();
		if (sync_now || now - last_sync >= s->fsync_interval_ns) {
			tp_raw_writer_sync(s->w);
			last_sync = now;
		}
		tp_raw_writer_maintain(s->w, now_wall);
		publish(s);
		pthread_mutex_lock(&s->lock);
		s->rounds++;
		pthread_cond_broadcast(&s->done);
		pthread_mutex_unlock(&s->lock);
		if (stopping && !more)
			break;
	}
	tp_raw_writer_close(s->w, tp_now_ns(CLOCK_REALTIME));
	__atomic_store_n(&s->finished, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Reader thread, after each drained batch: publish the queue drops and say
 * what could not be stored, at most once per interval. */
static void raw_tick(struct tp_stage *st, struct tp_pipeline *p, uint64_t now)
{
	struct raw_stage *s = (struct raw_stage *)st;
	uint64_t wdrops = tp_metric_get(&s->m_drop_write);
	uint64_t dq = s->queue_full - s->reported_queue_full, dw = wdrops - s->reported_write_drops;
	int e;

	tp_metric_set(&s->m_drop_queue, s->queue_full);
	if ((!dq && !dw) || now < s->next_report_ns)
		return;
	e = atomic_load(&s->write_errno);
	tp_warn("raw storage: %llu events could not be stored (queue full: %llu, write failed: "
		"%llu%s%s); they still went on to the rules and outputs",
		(unsigned long long)(dq + dw), (unsigned long long)dq, (unsigned long long)dw,
		dw && e ? ": " : "", dw && e ? strerror(e) : "");
	s->reported_queue_full = s->queue_full;
	s->reported_write_drops = wdrops;
	s->next_report_ns = now + REPORT_INTERVAL_NS;
}

int tp_raw_stage_sync(struct tp_stage *stage, int timeout_ms, struct tp_raw_stage_stats *st)
{
	struct raw_stage *s = (struct raw_stage *)stage;
	uint64_t deadline = tp_mono_ns() + (uint64_t)timeout_ms * TP_NSEC_PER_MSEC, start;
	struct timespec ts;
	int r = 0;

	/* A round that starts after the request has seen every message
	 * committed before it: wait for the end of the second round from now. */
	pthread_mutex_lock(&s->lock);
	start = s->rounds;
	while (s->rounds < start + 2 || tp_byteq_used(&s->q)) {
		s->kick = true;
		s->sync_req = true;
		pthread_cond_signal(&s->cond);
		if (tp_mono_ns() >= deadline) {
			r = -ETIMEDOUT;
			break;
		}
		ts.tv_sec = (time_t)(deadline / TP_NSEC_PER_SEC);
		ts.tv_nsec = (long)(deadline % TP_NSEC_PER_SEC);
		pthread_cond_timedwait(&s->done, &s->lock, &ts);
	}
	pthread_mutex_unlock(&s->lock);
	st->queued = s->queued;
	st->dropped_queue = s->queue_full;
	st->stored = tp_metric_get(&s->m_stored);
	st->dropped_write = tp_metric_get(&s->m_drop_write);
	return r;
}

static void unregister_metrics(struct raw_stage *s)
{
	struct tp_metric *all[] = {
	    &s->m_stored,   &s->m_bytes,   &s->m_drop_queue, &s->m_drop_write, &s->m_drop_shutdown,
	    &s->m_segments, &s->m_deleted, &s->m_reused,     &s->m_disk_bytes, &s->m_queue_bytes};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		tp_metric_unregister(all[i]);
}

/*
 * The writer did not finish by the stop deadline (a slow or hung disk):
 * what it has not stored is counted as dropped, reason "shutdown", and the
 * thread is left to the process's exit. Its stage stays allocated (it still
 * uses it) and reachable from here, so a leak checker does not report it.
 * Segments already written stay whole on disk.
 */
static struct raw_stage *volatile abandoned_stage;

static void abandon_writer(struct raw_stage *s)
{
	uint64_t done = tp_metric_get(&s->m_stored) + tp_metric_get(&s->m_drop_write);
	uint64_t left = s->queued > done ? s->queued - done : 0;

	tp_metric_set(&s->m_drop_queue, s->queue_full);
	tp_metric_set(&s->m_drop_shutdown, left);
	tp_warn("raw storage: the disk did not take the last %llu events before the stop deadline "
		"(%s is slow or hung); they are counted as dropped (reason shutdown), the segments "
		"written so far stay",
		(unsigned long long)left, s->dir);
	pthread_detach(s->thread);
	s->abandoned = true;
	abandoned_stage = s;
}

#define FINISH_GRACE_NS (50 * TP_NSEC_PER_MSEC)

static uint64_t deadline_with_grace(void)
{
	uint64_t d = tp_stop_deadline_ns(), g = tp_mono_ns() + FINISH_GRACE_NS;

	return d == UINT64_MAX || d > g ? d : g;
}

/* Stop the writer and wait for it (bounded by the stop deadline once a stop
 * began), so that the final counts are published before the exit stats
 * line. Idempotent. */
static void finish_writer(struct raw_stage *s)
{
	if (!s->thread_started || s->joined || s->abandoned)
		return;
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
	/* A writer with nothing left ends within microseconds: when the
	 * budget is already spent (by a slow detach, say), it still gets a
	 * short grace rather than being abandoned at once. */
	if (!tp_stop_wait_flag(&s->finished, deadline_with_grace())) {
		abandon_writer(s);
		return;
	}
	pthread_join(s->thread, NULL);
	s->joined = true;
	/* The writer published its counts at the end of its last round. */
	/* The last counts, for the exit stats line. */
	tp_metric_set(&s->m_drop_queue, s->queue_full);
	if (s->queue_full > s->reported_queue_full ||
	    tp_metric_get(&s->m_drop_write) > s->reported_write_drops)
		raw_tick(&s->base, NULL, UINT64_MAX);
}

/* The agent's final flush (after the stop began): the writer ends here, not
 * at close, so what it stored or could not store is in the exit stats. A
 * flush while running is a no-op: the writer keeps its own period. */
static void raw_flush(struct tp_stage *st)
{
	if (tp_stop_started())
		finish_writer((struct raw_stage *)st);
}

static void raw_close(struct tp_stage *st)
{
	struct raw_stage *s = (struct raw_stage *)st;

	finish_writer(s);
	unregister_metrics(s);
	if (s->abandoned)
		return;
	pthread_cond_destroy(&s->cond);
	pthread_cond_destroy(&s->done);
	pthread_mutex_destroy(&s->lock);
	tp_byteq_free(&s->q);
	free(s);
}

static const struct tp_stage_ops raw_stage_ops = {
    .name = "raw",
    .event = raw_event,
    .tick = raw_tick,
    .flush = raw_flush,
    .close = raw_close,
};

static double read_queue_bytes(void *ctx)
{
	return (double)tp_byteq_used(&((struct raw_stage *)ctx)->q);
}

static void register_metrics(struct raw_stage *s)
{
	static const char help_drop[] = "Events raw storage could not keep, by reason.";

	s->m_stored = (struct tp_metric)TP_COUNTER_INIT("tapio_raw_events_stored_total",
							"Events written to raw storage.");
	s->m_bytes = (struct tp_metric)TP_COUNTER_INIT("tapio_raw_bytes_written_total",
						       "Bytes written to raw segment files.");
	s->m_drop_queue =
	    (struct tp_metric)TP_COUNTER_INIT("tapio_raw_events_dropped_total", help_drop);
	s->m_drop_queue.labels = "reason=\"queue_full\"";
	s->m_drop_write =
	    (struct tp_metric)TP_COUNTER_INIT("tapio_raw_events_dropped_total", help_drop);
	s->m_drop_write.labels = "reason=\"write_error\"";
	s->m_drop_shutdown =
	    (struct tp_metric)TP_COUNTER_INIT("tapio_raw_events_dropped_total", help_drop);
	s->m_drop_shutdown.labels = "reason=\"shutdown\"";
	s->m_segments = (struct tp_metric)TP_COUNTER_INIT("tapio_raw_segments_created_total",
							  "Raw segment files started.");
	s->m_deleted = (struct tp_metric)TP_COUNTER_INIT("tapio_raw_segments_deleted_total",
							 "Raw segment files deleted by retention.");
	s->m_reused = (struct tp_metric)TP_COUNTER_INIT(
	    "tapio_raw_segments_reused_total",
	    "Raw segment files retention deleted that a new segment took (overwritten).");
	s->m_disk_bytes = (struct tp_metric)TP_GAUGE_INIT("tapio_raw_disk_bytes",
							  "Bytes of raw segment files on disk.");
	s->m_queue_bytes = (struct tp_metric)TP_GAUGE_INIT(
	    "tapio_raw_queue_bytes", "Bytes of raw events queued for the writer thread.");
	s->m_queue_bytes.read = read_queue_bytes;
	s->m_queue_bytes.ctx = s;
	tp_metric_register(&s->m_stored);
	tp_metric_register(&s->m_bytes);
	tp_metric_register(&s->m_drop_queue);
	tp_metric_register(&s->m_drop_write);
	tp_metric_register(&s->m_drop_shutdown);
	tp_metric_register(&s->m_segments);
	tp_metric_register(&s->m_deleted);
	tp_metric_register(&s->m_reused);
	tp_metric_register(&s->m_disk_bytes);
	tp_metric_register(&s->m_queue_bytes);
}

int tp_raw_stage_new(struct tp_stage **out, const struct tp_config *cfg, char *err, size_t errlen)
{
	struct tp_raw_writer_opts wo = {
	    .dir = cfg->raw_dir,
	    .segment_bytes = cfg->raw_segment_bytes,
	    .segment_age_ns = cfg->raw_segment_age_ns,
	    .retention_ns = cfg->raw_retention_ns,
	    .retention_bytes = cfg->raw_retention_bytes,
	};
	pthread_condattr_t ca;
	sigset_t all, old;
	struct raw_stage *s;
	int r;

	*out = NULL;
	if (!cfg->raw_dir || !*cfg->raw_dir) {
		snprintf(err, errlen,
			 "--raw-dir: empty path (use --raw-dir off to disable storage)");
		return -EINVAL;
	}
	/* Aligned as declared (calloc gives 16 bytes): the queue keeps its
	 * producer's and its consumer's fields on lines of their own. */
	s = aligned_alloc(_Alignof(struct raw_stage),
			  (sizeof(*s) + _Alignof(struct raw_stage) - 1) &
			      ~(_Alignof(struct raw_stage) - 1));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	memset(s, 0, sizeof(*s));
	s->base.ops = &raw_stage_ops;
	snprintf(s->dir, sizeof(s->dir), "%s", cfg->raw_dir);
	s->fsync_interval_ns =
	    cfg->raw_fsync_interval_ns ? cfg->raw_fsync_interval_ns : TP_NSEC_PER_SEC;
	/* Write a few times per sync interval, never busier than every 10 ms. */
	s->write_period_ns = s->fsync_interval_ns / 4;
	if (s->write_period_ns > 250 * TP_NSEC_PER_MSEC)
		s->write_period_ns = 250 * TP_NSEC_PER_MSEC;
	if (s->write_period_ns < 10 * TP_NSEC_PER_MSEC)
		s->write_period_ns = 10 * TP_NSEC_PER_MSEC;
	r = tp_byteq_init(&s->q,
			  cfg->raw_queue_bytes < 256 * 1024 ? 256 * 1024 : cfg->raw_queue_bytes);
	if (r < 0) {
		snprintf(err, errlen, "cannot allocate the raw storage queue (%llu bytes)",
			 (unsigned long long)cfg->raw_queue_bytes);
		free(s);
		return r;
	}
	s->wake_bytes = s->q.cap / 4;
	r = tp_raw_writer_open(&s->w, &wo, tp_now_ns(CLOCK_REALTIME), err, errlen);
	if (r < 0) {
		tp_byteq_free(&s->q);
		free(s);
		return r;
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* the wait survives clock steps */
	pthread_cond_init(&s->cond, &ca);
	pthread_cond_init(&s->done, &ca);
	pthread_condattr_destroy(&ca);
	register_metrics(s);
	/* Signals are for the reader thread: its wait ends on them (but
	 * the one that drops capabilities reaches every thread). */
	tp_caps_block_signals(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&s->thread, NULL, writer_main, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		snprintf(err, errlen, "cannot start the raw storage thread: %s", strerror(r));
		tp_raw_writer_close(s->w, tp_now_ns(CLOCK_REALTIME));
		raw_close(&s->base);
		return -r;
	}
	/* Named, so that top -H and the benchmarks tell its CPU time from
	 * the reader's (a name is a nicety: its failure is ignored). */
	(void)pthread_setname_np(s->thread, TP_RAW_THREAD_NAME);
	s->thread_started = true;
	*out = &s->base;
	return 0;
}
