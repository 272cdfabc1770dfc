/*
 * otlp_encode.h - one event as an OpenTelemetry LogRecord (OTLP logs,
 * opentelemetry-proto v1.5.0), framed as an element of
 * ScopeLogs.log_records; and the resource and scope around a batch.
 *
 * Mapping: time_unix_nano is the event's wall-clock time; event_name and
 * the attribute event.name are the type ("process.exec"); the body is the
 * alert's message, or the event as a text line; severity is the alert's
 * (debug 5, info 9, notice 10, warning 13, error 17, critical 21), INFO for
 * an event. Process context uses the semantic conventions (process.pid,
 * process.parent_pid, thread.id, process.user.id, process.group.id,
 * process.command); the type's own fields are tapio.<name> (symbolic forms
 * tapio.<name>_str), alerts add tapio.rule, tapio.importance, tapio.tags;
 * fields set by enrich functions keep their own keys.
 *
 * The enrichment (proc_ctx.h), each attribute absent when unknown:
 * process.executable.path, process.command_args (on every event: the
 * process's arguments; tapio.argv_truncated when cut), tapio.parent.comm,
 * tapio.parent.exe, tapio.ancestors (process events: kvlists {pid, comm,
 * exe}, nearest first), container.id, container.runtime, k8s.pod.name,
 * k8s.namespace.name, k8s.pod.uid, k8s.container.name, tapio.k8s.qos.
 */
#ifndef TAPIO_OUTPUT_OTLP_ENCODE_H
#define TAPIO_OUTPUT_OTLP_ENCODE_H

#include <stdint.h>

#include "events/event.h"
#include "events/event_meta.h"
#include "util/arena.h"
#include "util/buf.h"

#define TP_OTLP_SCOPE_LOG_RECORDS 2

/* Append the framed LogRecord to out; observed_ns is the time it was seen. */
int tp_otlp_encode_event(const struct tp_event *ev, const struct tp_event_meta *meta,
			 uint64_t observed_ns, struct tp_arena *arena, struct tp_buf *out);

/* Everything of an ExportLogsServiceRequest that comes before the log
 * records of one batch of body_len bytes: one ResourceLogs (service.name,
 * service.version, service.instance.id = collector_id, host.name) holding
 * one ScopeLogs (scope tapio-collector). */
int tp_otlp_encode_prefix(const char *collector_id, const char *hostname, size_t body_len,
			  struct tp_buf *out);

/* OTLP severity number of a severity name; INFO for NULL or unknown. */
int tp_otlp_severity(const char *name);

#endif
