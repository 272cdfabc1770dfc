/*
 * util/stop.h - the stop deadline.
 *
 * SIGTERM, SIGINT and --duration are honoured within half a second,
 * whatever a reload, a delivery or a slow disk is doing: when the run loop
 * ends, the agent has TP_STOP_BUDGET_NS to flush and exit. Every final
 * flush (raw storage, delivery drain and spill, a reload still running) is
 * bounded by tp_stop_deadline_ns(); what it cannot finish in time is
 * counted as dropped with reason "shutdown" (or is already durable: spool
 * files and raw segments on disk stay for the next start).
 */
#ifndef TAPIO_UTIL_STOP_H
#define TAPIO_UTIL_STOP_H

#include <stdbool.h>
#include <stdint.h>

#include "util/time.h"

/* From the end of the run loop to the end of every flush; the rest of the
 * half second is for noticing the signal (the loop's wait ends on it) and
 * for the process's own exit. */
#define TP_STOP_BUDGET_NS (400 * TP_NSEC_PER_MSEC)

/* The run loop ended at now_ns (CLOCK_MONOTONIC): start the budget. */
void tp_stop_begin(uint64_t now_ns);
/* The deadline of every final flush; UINT64_MAX while running. */
uint64_t tp_stop_deadline_ns(void);
bool tp_stop_started(void);

/* min(a, the stop deadline): a deadline of one's own, capped by stop's. */
uint64_t tp_stop_cap(uint64_t deadline_ns);

/* Wait (polling every few ms) until *done is non-zero or deadline_ns
 * passes. Returns whether done. */
bool tp_stop_wait_flag(const int *done, uint64_t deadline_ns);

#endif
