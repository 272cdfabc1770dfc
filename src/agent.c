#include "agent.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bpf/loader.h"
#include "config/config_keys.h"
#include "events/decode.h"
#include "obs/health.h"
#include "obs/log.h"
#include "obs/metrics.h"
#include "util/buf.h"
#include "util/stop.h"
#include "util/time.h"

static volatile sig_atomic_t stop_requested; /* the signal, or -1 for a request */
static volatile sig_atomic_t reload_requested;
static volatile sig_atomic_t stats_requested;
/* When the process started (monotonic): --duration counts from here, so a
 * run takes the time asked for, start-up included. */
static uint64_t process_start_ns;

void tp_agent_mark_start(void)
{
	if (!process_start_ns)
		process_start_ns = tp_mono_ns();
}

static void on_signal(int sig)
{
	switch (sig) {
	case SIGINT:
	case SIGTERM:
		stop_requested = sig;
		break;
	case SIGHUP:
		reload_requested = 1;
		break;
	case SIGUSR1:
		stats_requested = 1;
		break;
	}
}

void tp_agent_install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: the loop's wait returns EINTR */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

void tp_agent_request_stop(void)
{
	stop_requested = -1;
}

void tp_agent_log_stats(const char *why)
{
	tp_agent_log_stats_at(TP_LOG_INFO, why);
}

void tp_agent_log_stats_at(enum tp_log_level level, const char *why)
{
	struct tp_buf b;

	if (!tp_log_enabled(level))
		return;
	tp_buf_init(&b);
	tp_metrics_render_line(&b);
	tp_log(level, "stats (%s): %s", why, b.len ? tp_buf_cstr(&b) : "no activity");
	tp_buf_free(&b);
}

static uint64_t sum(const char *name)
{
	return (uint64_t)tp_metrics_sum(name);
}

void tp_agent_log_summary(const char *why, uint64_t elapsed_ns)
{
	uint64_t drops = sum("tapio_kernel_drops_total"), lost = sum("tapio_delivery_events_dropped_total");
	uint64_t raw_lost = sum("tapio_raw_events_dropped_total"), faults = sum("tapio_rules_faults_total");
	/* The engine's totals: per-rule series go with their rule at a reload. */
	uint64_t matches = sum("tapio_rules_matches_total"), folded = sum("tapio_alerts_aggregated_total");
	struct tp_buf b;

	tp_buf_init(&b);

	tp_buf_printf(&b, "summary (%s, %.1f s): %llu events, %llu to the outputs, %llu alerts", why,
		      elapsed_ns / 1e9, (unsigned long long)sum("tapio_events_total"),
		      (unsigned long long)sum("tapio_events_emitted_total"),
		      (unsigned long long)(matches - folded));
	if (folded)
		tp_buf_printf(&b, " (and %llu repeats folded into them)", (unsigned long long)folded);
	if (tp_metric_find("tapio_raw_events_stored_total", NULL))
		tp_buf_printf(&b, ", %llu stored raw", (unsigned long long)sum("tapio_raw_events_stored_total"));
	tp_buf_printf(&b, "; lost: %llu in the kernel", (unsigned long long)drops);
	if (raw_lost)
		tp_buf_printf(&b, ", %llu by raw storage", (unsigned long long)raw_lost);
	if (lost)
		tp_buf_printf(&b, ", %llu by delivery", (unsigned long long)lost);
	if (faults)
		tp_buf_printf(&b, "; %llu rule faults", (unsigned long long)faults);
	tp_buf_puts(&b, " (all counters: --log-level debug, SIGUSR1 or /metrics)");
	tp_info("%s", tp_buf_cstr(&b));
	tp_buf_free(&b);
}

/* How long /healthz stays degraded after the kernel last dropped records. */
#define DROPS_DEGRADED_NS (60 * TP_NSEC_PER_SEC)

/* Say when the kernel dropped records, per category, at most every few
 * seconds: loss is never silent, but a storm does not flood the log.
 * /healthz is degraded while drops keep rising. */
struct drop_watch {
	uint64_t reported[TP_DROP_SLOTS];
	uint64_t seen[TP_DROP_SLOTS];
	uint64_t told[TP_DROP_SLOTS]; /* drops the pipeline got an agent.drop for */
	uint64_t last_check_ns;
	uint64_t last_read_ns; /* of the counters: the start of an agent.drop's window */
	uint64_t last_warn_ns;
};

/* Tell rules and outputs that the kernel dropped records of category cat:
 * an agent.drop event through the whole pipeline, like a kernel event
 * (stored raw, seen by rules, sent to the outputs). */
static void send_drop(struct tp_pipeline *p, unsigned cat, uint64_t count, uint64_t window_ns,
		      uint64_t total)
{
	static struct tp_event ev;
	struct tp_agent_drop_event rec;

	memset(&rec, 0, sizeof(rec));
	rec.hdr.type = TP_EV_AGENT_DROP;
	rec.hdr.size = sizeof(rec);
	rec.hdr.pid = rec.hdr.tid = (uint32_t)getpid();
	rec.hdr.ppid = (uint32_t)getppid();
	rec.hdr.uid = (uint32_t)geteuid();
	rec.hdr.gid = (uint32_t)getegid();
	snprintf(rec.hdr.comm, sizeof(rec.hdr.comm), "tapio-collector");
	rec.count = count;
	rec.window_ns = window_ns;
	rec.total = total;
	snprintf(rec.lost_category, sizeof(rec.lost_category), "%s", tp_category_name(cat));
	/* ts 0 plus the wall clock as the offset: the event happens now. */
	if (tp_decode(&rec, sizeof(rec), (int64_t)tp_now_ns(CLOCK_REALTIME), &ev) == 0)
		tp_pipeline_event(p, &ev);
}

static void drops_health(struct drop_watch *w, const uint64_t *drops)
{
	char reason[TP_HEALTH_REASON_MAX];
	size_t used = 0;
	bool rising = false;

	for (int c = 1; c < TP_DROP_SLOTS; c++) {
		if (drops[c] <= w->seen[c])
			continue;
		if (!rising)
			used = (size_t)snprintf(reason, sizeof(reason),
						"the kernel is dropping records (ring buffer full):");
		rising = true;
		if (used < sizeof(reason))
			used += (size_t)snprintf(reason + used, sizeof(reason) - used, " %s +%llu",
						 tp_category_name((unsigned)c),
						 (unsigned long long)(drops[c] - w->seen[c]));
		w->seen[c] = drops[c];
	}
	if (rising)
		tp_health_set_for("kernel_drops", DROPS_DEGRADED_NS, "%s", reason);
}

static void check_kernel_drops(struct drop_watch *w, struct tp_bpf *bpf, struct tp_pipeline *p,
			       uint64_t now, bool final)
{
	uint64_t drops[TP_DROP_SLOTS], read_at = tp_mono_ns();
	char now_sz[24], next_sz[24];

	if (!bpf || (!final && now - w->last_check_ns < TP_NSEC_PER_SEC))
		return;
	w->last_check_ns = now;
	if (tp_bpf_read_drops(bpf, drops) < 0)
		return;
	for (int c = 1; c < TP_DROP_SLOTS; c++) {
		if (drops[c] <= w->told[c])
			continue;
		send_drop(p, (unsigned)c, drops[c] - w->told[c], read_at - w->last_read_ns, drops[c]);
		w->told[c] = drops[c];
	}
	w->last_read_ns = read_at;
	drops_health(w, drops);
	if (!final && now - w->last_warn_ns < 5 * TP_NSEC_PER_SEC && w->last_warn_ns)
		return;
	for (int c = 1; c < TP_DROP_SLOTS; c++) {
		if (drops[c] == w->reported[c])
			continue;
		tp_config_size_text(now_sz, sizeof(now_sz), (double)tp_bpf_ring_bytes(bpf));
		tp_config_size_text(next_sz, sizeof(next_sz), 2.0 * (double)tp_bpf_ring_bytes(bpf));
		tp_warn(
		    "the kernel dropped %llu %s records (ring buffer full, or half full for "
		    "failed calls; %llu in all): raise ring.size (now %s: e.g. --set "
		    "ring.size=%s; a larger ring costs each event more in the kernel) or filter "
		    "more in the kernel",
		    (unsigned long long)(drops[c] - w->reported[c]), tp_category_name((unsigned)c),
		    (unsigned long long)drops[c], now_sz, next_sz);
		w->reported[c] = drops[c];
		w->last_warn_ns = now;
	}
}

/* "N of M programs skipped: fam/name (reason), ..." for the programs that
 * are skipped and (do or do not) lack their hook. Returns N. */
static size_t list_skipped(const struct tp_prog_info *progs, size_t n, bool hook_missing,
			   char *out, size_t len)
{
	size_t skipped = 0, used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (progs[i].status != TP_PROG_SKIPPED || progs[i].hook_missing != hook_missing)
			continue;
		if (skipped < 3 && used < len)
			used += (size_t)snprintf(out + used, len - used, "%s%s/%s (%s)",
						 skipped ? ", " : "", progs[i].family, progs[i].name,
						 progs[i].reason);
		skipped++;
	}
	if (skipped > 3 && used < len)
		snprintf(out + used, len - used, " and %zu more", skipped - 3);
	return skipped;
}

static struct tp_metric m_programs[3] = {
	TP_GAUGE_INIT("tapio_bpf_programs", "BPF programs by status."),
	TP_GAUGE_INIT("tapio_bpf_programs", "BPF programs by status."),
	TP_GAUGE_INIT("tapio_bpf_programs", "BPF programs by status."),
};

/*
 * Programs the kernel refused (load or attach failed) degrade /healthz for
 * the whole run: the agent sees less than this kernel allows. Programs
 * whose hook this kernel does not have are a fixed property of the node
 * (module_load without module support): a note, not a degradation, or the
 * node would never look healthy and the signal would be ignored.
 */
static void programs_health(struct tp_bpf *bpf)
{
	char list[TP_HEALTH_REASON_MAX - 64];
	const struct tp_prog_info *progs;
	size_t n, refused, missing, attached = 0, disabled = 0;

	if (!bpf)
		return;
	progs = tp_bpf_programs(bpf, &n);
	for (size_t i = 0; i < n; i++) {
		attached += progs[i].status == TP_PROG_ATTACHED;
		disabled += progs[i].status == TP_PROG_DISABLED;
	}
	refused = list_skipped(progs, n, false, list, sizeof(list));
	if (refused)
		tp_health_set("programs", "%zu of %zu programs refused by the kernel: %s", refused, n,
			      list);
	missing = list_skipped(progs, n, true, list, sizeof(list));
	if (missing)
		tp_health_note("programs_unavailable",
			       "%zu of %zu programs have no hook on this kernel: %s", missing, n, list);
	m_programs[0].labels = "status=\"attached\"";
	m_programs[1].labels = "status=\"skipped\"";
	m_programs[2].labels = "status=\"disabled\"";
	tp_metric_set(&m_programs[0], attached);
	tp_metric_set(&m_programs[1], refused + missing);
	tp_metric_set(&m_programs[2], disabled);
	for (int i = 0; i < 3; i++)
		tp_metric_register(&m_programs[i]);
}

static void log_stopping(const struct tp_config *cfg, bool duration_over)
{
	int sig = stop_requested;

	if (sig > 0)
		tp_info("stopping (%s): flushing the outputs and storage",
			sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "signal");
	else if (duration_over)
		tp_info("stopping (--duration %.1f s over): flushing the outputs and storage",
			cfg->duration_ns / 1e9);
	else if (sig < 0)
		tp_info("stopping: flushing the outputs and storage");
}

int tp_agent_run(struct tp_source *src, struct tp_pipeline *p, const struct tp_config *cfg,
		 struct tp_bpf *bpf, const struct tp_agent_hooks *hooks)
{
	uint64_t start = tp_mono_ns(), next_stats = start + cfg->stats_interval_ns;
	uint64_t deadline = (process_start_ns ? process_start_ns : start) + cfg->duration_ns;
	bool duration_over = false;
	int timeout_ms = (int)(cfg->drain_interval_ns / TP_NSEC_PER_MSEC);
	int batch = cfg->drain_batch ? (int)cfg->drain_batch : 4096;
	struct drop_watch drops = { .last_read_ns = start };
	int r = 0;

	if (timeout_ms <= 0)
		timeout_ms = 1;
	programs_health(bpf);
	tp_health_beat(start);
	while (!stop_requested) {
		uint64_t now;
		int n = tp_source_poll(src, timeout_ms, batch, tp_pipeline_event, p);

		if (n == -ENODATA)
			break;
		if (n < 0 && n != -EINTR) {
			tp_error("reading events failed: %s", strerror(-n));
			r = n;
			break;
		}
		now = tp_mono_ns();
		tp_health_beat(now);
		tp_pipeline_tick(p, now);
		if (hooks && hooks->tick)
			hooks->tick(hooks->ctx, now);
		check_kernel_drops(&drops, bpf, p, now, false);
		if (reload_requested) {
			reload_requested = 0;
			if (hooks && hooks->reload)
				hooks->reload(hooks->ctx);
		}
		if (stats_requested) {
			stats_requested = 0;
			tp_agent_log_stats("SIGUSR1");
		}
		if (cfg->stats_interval_ns && now >= next_stats) {
			tp_agent_log_summary("periodic", now - (process_start_ns ? process_start_ns : start));
			tp_agent_log_stats_at(TP_LOG_DEBUG, "periodic");
			next_stats = now + cfg->stats_interval_ns;
		}
		if (cfg->duration_ns && now >= deadline) {
			duration_over = true;
			break;
		}
	}
	log_stopping(cfg, duration_over);

	/* From here every final flush is bounded by the stop deadline: a live
	 * run's, or any run a signal stops (a replay that reached the end of
	 * its input flushes in full). */
	if (bpf || stop_requested)
		tp_stop_begin(tp_mono_ns());
	tp_health_stop_beating();
	/* Stop after flushing: stop the producers (so the counters they keep
	 * are final and nothing is left behind in the ring), take what the
	 * kernel already queued (bounded in batches and by half the stop
	 * budget, for a source that cannot stop its producers), then push
	 * every output out. */
	if (src->ops->stop)
		src->ops->stop(src);
	for (int i = 0; i < 64 && tp_mono_ns() + TP_STOP_BUDGET_NS / 2 < tp_stop_deadline_ns();
	     i++) {
		int n = tp_source_poll(src, 0, batch, tp_pipeline_event, p);

		if (n <= 0)
			break;
	}
	/* The last drops still reach the rules and the outputs. */
	check_kernel_drops(&drops, bpf, p, tp_mono_ns(), true);
	tp_pipeline_flush(p);
	return r;
}

uint64_t tp_agent_uptime_ns(void)
{
	return process_start_ns ? tp_mono_ns() - process_start_ns : 0;
}
