/*
 * obs/health.h - whether the agent is doing its job, for /healthz and the logs.
 *
 * Units report named conditions: tp_health_set degrades the agent until
 * the unit clears the condition (delivery failing, programs skipped);
 * tp_health_set_for degrades it for a while after the last occurrence
 * (kernel drops rising). The run loop beats tp_health_beat; a loop that
 * has not beaten for TP_HEALTH_STALL_NS is reported as stalled, so a wedged
 * agent cannot look healthy.
 *
 * Any thread may report; /healthz renders from the metrics server's thread.
 */
#ifndef TAPIO_HEALTH_H
#define TAPIO_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

#include "util/buf.h"

#define TP_HEALTH_MAX_CONDITIONS 32
#define TP_HEALTH_NAME_MAX 32
#define TP_HEALTH_REASON_MAX 256
#define TP_HEALTH_STALL_NS (10ULL * 1000000000ULL)

/* Degrade the agent until tp_health_clear(name). name is a short stable
 * word ("delivery", "programs"); reason is one sentence for the operator.
 * Setting a name again replaces its reason. Returns 0 or -ENOSPC. */
int tp_health_set(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Degrade the agent for hold_ns from now (monotonic), then recover by
 * itself unless reported again. */
int tp_health_set_for(const char *name, uint64_t hold_ns, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

void tp_health_clear(const char *name);

/* A fact worth showing that does not degrade the agent (e.g. programs whose
 * hook this kernel does not have): listed by /healthz, status unchanged.
 * Replaces an earlier note of the same name. Returns 0 or -ENOSPC. */
int tp_health_note(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The run loop is alive at now_ns (monotonic). Until the first beat the
 * agent reports "starting". */
void tp_health_beat(uint64_t now_ns);

/* The loop stopped on purpose (shutdown): no stall is reported after it. */
void tp_health_stop_beating(void);

/*
 * Evaluate at now_ns (monotonic). Returns true when healthy. Appends to b
 * "ok\n" or "degraded: <reason>; <reason>\n", then one "note: <name>:
 * <text>\n" line per note (as_json: an object with "status", "reasons" and
 * "notes"). Conditions are listed in the order they were first reported.
 */
bool tp_health_render(struct tp_buf *b, uint64_t now_ns, bool as_json);

/*
 * For /livez: false (why filled) only when the loop has stalled. Degraded
 * conditions do not count: a liveness probe that restarts an agent because
 * the kernel dropped records would make the drops worse.
 */
bool tp_health_live(uint64_t now_ns, char *why, size_t len);

/* Register the tapio_healthy gauge (1 ok, 0 degraded). */
void tp_health_register_metrics(void);
void tp_health_unregister_metrics(void);

/* Forget every condition and the heartbeat (tests, and a fresh run). */
void tp_health_reset(void);

#endif
