/*
 * obs/metrics_http.h - the agent's HTTP endpoint (--metrics-addr):
 *
 *   GET /metrics   every registered metric, Prometheus text format 0.0.4
 *   GET /healthz   200 "ok" or 503 "degraded: <reasons>" (?format=json, or
 *                  Accept: application/json, for a JSON object)
 *   GET /livez     200 while the event loop runs, 503 when it is stalled
 *   GET /          a short index
 *
 * A small HTTP/1.1 server on its own thread: GET and HEAD only, one request
 * per connection, bounded request size, per-connection deadlines and a cap
 * on connections, so a slow or hostile client cannot stall the agent or
 * grow its memory. Every request is counted by status code.
 */
#ifndef TAPIO_METRICS_HTTP_H
#define TAPIO_METRICS_HTTP_H

#include <stddef.h>

struct tp_metrics_http;

#define TP_HTTP_MAX_REQUEST 8192 /* request line and headers */
#define TP_HTTP_MAX_CLIENTS 32

/*
 * Listen on addr ("HOST:PORT", "[v6]:PORT", ":PORT"; port 0 picks a free
 * one) and serve from a new thread. Returns 0 or -errno with err set.
 */
int tp_metrics_http_start(struct tp_metrics_http **out, const char *addr, char *err,
			  size_t errlen);

/* The address actually bound, e.g. "127.0.0.1:40123". */
const char *tp_metrics_http_addr(const struct tp_metrics_http *s);

/* Stop the thread, close every connection, free s. NULL is fine. */
void tp_metrics_http_stop(struct tp_metrics_http *s);

#endif
