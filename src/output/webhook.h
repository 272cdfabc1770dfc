/*
 * output/webhook.h - the HTTP webhook output (webhook.url): each alert is
 * POSTed as one JSON object in Falco's alert shape, so falcosidekick (and
 * its destinations: Slack, Loki, Elasticsearch, PagerDuty...) or any other
 * receiver of Falco's http_output takes it unchanged:
 *
 *   {"output":"<time>: <Priority> <message>","priority":"Warning",
 *    "rule":"<name>","time":"<RFC 3339, ns>","output_fields":{...},
 *    "tags":[...],"hostname":"<host>","source":"syscall"}
 *
 * output_fields carries Falco's field names where one means the same
 * (evt.time, evt.type, proc.pid, proc.ppid, proc.name, proc.exepath,
 * proc.cmdline, proc.pname, user.uid, user.loginuid, group.gid,
 * container.id, k8s.ns.name, k8s.pod.name, fd.name), then the event's own
 * fields under their -o json names. Priorities: debug Debug, info
 * Informational, notice Notice, warning Warning, error Error, critical
 * Critical.
 *
 * Delivery (output/lines.h): one request per alert over a kept-alive
 * HTTP/1.1 connection; a 2xx answer is the ack. A 408, 429 or 5xx answer, a
 * refused or broken connection, or no answer within delivery.ack_timeout:
 * the alert waits, in order, and is sent again after a backoff. Any other
 * 4xx: the receiver will never take it; dropped and counted (rejected).
 */
#ifndef TAPIO_OUTPUT_WEBHOOK_H
#define TAPIO_OUTPUT_WEBHOOK_H

#include <stddef.h>

#include "config/config.h"
#include "output/output.h"
#include "util/buf.h"

/* A URL that is not http://HOST[:PORT][/PATH] is an error naming
 * webhook.url. The receiver need not be up. */
int tp_output_webhook_new(struct tp_output **out, const struct tp_config *cfg, char *err,
			  size_t errlen);

/* Check webhook.url alone (before anything starts). Returns 0 or -EINVAL. */
int tp_output_webhook_check(const char *url, char *err, size_t errlen);

/* Append the Falco JSON of one event (one line, newline included). */
void tp_webhook_format(struct tp_buf *b, const struct tp_event *ev,
		       const struct tp_event_meta *meta, const char *hostname);

#endif
