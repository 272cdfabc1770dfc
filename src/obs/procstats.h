/*
 * obs/procstats.h - the agent's own resource use as Prometheus process metrics
 * (the names every Prometheus client library uses, so existing dashboards
 * work): resident and virtual memory, CPU seconds, open and maximum file
 * descriptors, start time. Read from /proc/self at render time.
 */
#ifndef TAPIO_PROCSTATS_H
#define TAPIO_PROCSTATS_H

#include <stdint.h>

void tp_procstats_register(void);
void tp_procstats_unregister(void);

/* Resident set size in bytes, or 0 when /proc cannot be read. */
uint64_t tp_procstats_rss_bytes(void);

#endif
