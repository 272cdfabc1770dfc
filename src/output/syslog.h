/*
 * output/syslog.h - the syslog output (syslog.address): each selected
 * event and alert as one RFC 5424 message whose text is its -o json line,
 * so rsyslog (mmjsonparse), syslog-ng or a SIEM can take the fields.
 *
 *   unix:/dev/log      the local syslog daemon, or the journal (journald
 *                      listens there on systemd machines; `journalctl
 *                      SYSLOG_IDENTIFIER=tapio-collector`)
 *   tcp:HOST:PORT      a remote collector, octet-counted framing (RFC 6587)
 *   udp:HOST:PORT      a remote collector, one datagram per message
 *
 * Priority: facility daemon, severity from the alert (critical 2 ... debug
 * 7; an event without an alert is info). Delivery (output/lines.h): a
 * message the socket refuses (the daemon is down or its queue full, the
 * connection broke) waits, in order, and is sent again after a backoff.
 * Syslog has no acks: over TCP, what the kernel accepted just before a
 * connection broke can be lost, and UDP may lose silently on the network;
 * unix:/dev/log has neither gap.
 */
#ifndef TAPIO_OUTPUT_SYSLOG_H
#define TAPIO_OUTPUT_SYSLOG_H

#include <stddef.h>

#include "config/config.h"
#include "output/output.h"

/* A malformed address is an error naming syslog.address. The daemon or
 * collector need not be up. */
int tp_output_syslog_new(struct tp_output **out, const struct tp_config *cfg, char *err,
			 size_t errlen);

/* Check syslog.address alone (before anything starts). Returns 0 or -EINVAL. */
int tp_output_syslog_check(const char *address, char *err, size_t errlen);

#endif
