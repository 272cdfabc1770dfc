#include "config/config_keys.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config/config_kernel.h"
#include "config/config_keys_internal.h"
#include "events/event.h"
#include "events/types.h"
#include "util/strdist.h"

/* ------------------------------------------------------------ the table */

#define OFF(field) offsetof(struct tp_config, field)
#define SZ(field) ((uint8_t)sizeof(((struct tp_config *)0)->field))
static const char *const output_formats[] = { "text", "json", "none", NULL };
const char *const tp_config_log_levels[] = { "error", "warn", "info", "debug", "trace", NULL };
static const char *const log_formats[] = { "auto", "text", "json", "journal", NULL };
static const char *const presets[] = { "default", "high-performance", "security", NULL };

/* programs.<category>.enabled and .sample, side by side (a group's keys are
 * contiguous). */
#define PROGRAMS(cat)                                                                    \
	{ .path = "programs." #cat ".enabled", .type = TP_KEY_CATEGORY,                  \
	  .offset = OFF(categories), .bit = 1u << TP_CAT_##cat##_BIT,                    \
	  .doc = "Load the " #cat " probes." },                                          \
	{ .path = "programs." #cat ".sample", .type = TP_KEY_UINT,                       \
	  .offset = OFF(kernel_sample[TP_CAT_##cat##_BIT]),                              \
	  .size = SZ(kernel_sample[0]), .min = 0, .max = 4294967295.0,                   \
	  .doc = "Keep 1 in N " #cat " events in the kernel (0 or 1 keeps all)." }

#define TP_CAT_process_BIT TP_CAT_PROCESS
#define TP_CAT_file_BIT TP_CAT_FILE
#define TP_CAT_network_BIT TP_CAT_NETWORK
#define TP_CAT_security_BIT TP_CAT_SECURITY
#define TP_CAT_container_BIT TP_CAT_CONTAINER
#define TP_CAT_memory_BIT TP_CAT_MEMORY

static const struct tp_config_key keys[] = {
	{ .path = "preset", .type = TP_KEY_CHOICE, .offset = OFF(preset), .choices = presets,
	  .flags = TP_KEYF_FILE_ONLY | TP_KEYF_NAME, .flag = "--preset", .env = "TAPIO_PRESET",
	  .doc = "The preset this configuration starts from; its keys change single settings "
		 "(--preset, then TAPIO_PRESET, then the file's preset)." },

	/* Logging and the agent's own numbers. */
	{ .path = "log.level", .type = TP_KEY_CHOICE, .offset = OFF(log_level),
	  .choices = tp_config_log_levels, .flag = "--log-level", .env = "TAPIO_LOG_LEVEL",
	  .doc = "Log verbosity (TAPIO_DEBUG=true also selects debug; trace adds libbpf's own "
		 "output)." },
	{ .path = "log.format", .type = TP_KEY_CHOICE, .offset = OFF(log_format),
	  .choices = log_formats, .flag = "--log-format", .env = "TAPIO_LOG_FORMAT",
	  .doc = "Log line format on stderr (auto: journal under systemd, else text)." },
	{ .path = "metrics.address", .type = TP_KEY_ADDR, .offset = OFF(metrics_addr),
	  .flags = TP_KEYF_OFF, .flag = "--metrics-addr", .env = "TAPIO_METRICS_ADDR",
	  .doc = "Where /metrics, /healthz and /livez listen (HOST:PORT, port 0 picks one; "
		 "off disables)." },
	{ .path = "metrics.stats_interval", .type = TP_KEY_DURATION,
	  .offset = OFF(stats_interval_ns), .min = 0, .max = 86400 * SEC,
	  .doc = "How often a summary line is logged (the full counters at debug level; 0 "
		 "disables)." },

	/* Outputs. */
	{ .path = "output.format", .type = TP_KEY_CHOICE, .offset = OFF(output),
	  .choices = output_formats, .flag = "--output",
	  .doc = "Events on stdout: text, json (one object per line) or none." },
	{ .path = "output.all_events", .type = TP_KEY_BOOL, .offset = OFF(all_events),
	  .flag = "--all-events",
	  .doc = "Every decoded event to the outputs: no importance threshold, no sampling, "
		 "no rate limits." },
	{ .path = "server.address", .type = TP_KEY_ADDR, .offset = OFF(server),
	  .flag = "--server", .env = "TAPIO_SERVER_ADDR",
	  .doc = "Stream semantic events to this Tapio server (gRPC HOST:PORT)." },
	{ .path = "server.batch_size", .type = TP_KEY_UINT, .offset = OFF(buffer_size),
	  .size = SZ(buffer_size), .min = 1, .max = 1000000, .flag = "--buffer-size",
	  .env = "TAPIO_BUFFER_SIZE", .doc = "Events per batch sent to the server." },
	{ .path = "server.flush_interval", .type = TP_KEY_DURATION,
	  .offset = OFF(flush_interval_ns), .min = 1e6, .max = 3600 * SEC,
	  .flag = "--flush-interval", .doc = "Send a partial batch after this long." },
	{ .path = "server.correlation", .type = TP_KEY_STR, .offset = OFF(correlation),
	  .flag = "--correlation", .env = "TAPIO_CORRELATION_MODE",
	  .doc = "Correlation mode announced to the server." },
	{ .path = "server.collector_id", .type = TP_KEY_STR, .offset = OFF(collector_id),
	  .env = "TAPIO_COLLECTOR_ID",
	  .doc = "Names this collector's batches, for the server's deduplication (default: the "
		 "host name)." },
	{ .path = "server.token_file", .type = TP_KEY_STR, .offset = OFF(token_file),
	  .env = "TAPIO_TOKEN_FILE",
	  .doc = "File holding a bearer token for the server and the OTLP receiver; read again "
		 "at every reconnect." },
	{ .path = "server.tls_ca", .type = TP_KEY_STR, .offset = OFF(tls_ca), .env = "TAPIO_TLS_CA",
	  .doc = "PEM CA bundle that verifies the server; setting it (or tls_cert) turns on TLS." },
	{ .path = "server.tls_cert", .type = TP_KEY_STR, .offset = OFF(tls_cert),
	  .env = "TAPIO_TLS_CERT", .doc = "PEM client certificate for the server (with tls_key)." },
	{ .path = "server.tls_key", .type = TP_KEY_STR, .offset = OFF(tls_key),
	  .env = "TAPIO_TLS_KEY", .doc = "PEM private key of tls_cert." },
	{ .path = "otlp.address", .type = TP_KEY_ADDR, .offset = OFF(otlp), .flag = "--otlp",
	  .doc = "Export semantic events as OTLP logs to this collector (HOST:PORT)." },
	{ .path = "otlp.tls_ca", .type = TP_KEY_STR, .offset = OFF(otlp_tls_ca),
	  .env = "TAPIO_OTLP_TLS_CA",
	  .doc = "PEM CA bundle that verifies the OTLP receiver; setting it turns on TLS." },
	{ .path = "otlp.tls_cert", .type = TP_KEY_STR, .offset = OFF(otlp_tls_cert),
	  .env = "TAPIO_OTLP_TLS_CERT", .doc = "PEM client certificate for the OTLP receiver." },
	{ .path = "otlp.tls_key", .type = TP_KEY_STR, .offset = OFF(otlp_tls_key),
	  .env = "TAPIO_OTLP_TLS_KEY", .doc = "PEM private key of otlp.tls_cert." },
	{ .path = "file.path", .type = TP_KEY_STR, .offset = OFF(file_path),
	  .env = "TAPIO_FILE_PATH",
	  .doc = "Append selected events and alerts to this file as JSON lines (the -o json "
		 "shape), rotated by size." },
	{ .path = "file.max_size", .type = TP_KEY_SIZE, .offset = OFF(file_max_size), .min = 0,
	  .max = 1e15,
	  .doc = "Start a new file past this size; the old one becomes <path>.1 (0: never)." },
	{ .path = "file.max_backups", .type = TP_KEY_UINT, .offset = OFF(file_max_backups),
	  .size = SZ(file_max_backups), .min = 0, .max = 1000,
	  .doc = "Rotated files kept (<path>.1 ... <path>.N); older ones are deleted." },
	{ .path = "webhook.url", .type = TP_KEY_STR, .offset = OFF(webhook_url),
	  .env = "TAPIO_WEBHOOK_URL",
	  .doc = "POST each alert to this http:// URL as Falco's JSON alert (for falcosidekick "
		 "and other Falco webhook receivers)." },
	{ .path = "webhook.all_events", .type = TP_KEY_BOOL, .offset = OFF(webhook_all_events),
	  .doc = "Post selected events without an alert too (priority Informational, rule "
		 "empty); default: alerts only, as Falco does." },
	{ .path = "syslog.address", .type = TP_KEY_STR, .offset = OFF(syslog_address),
	  .env = "TAPIO_SYSLOG_ADDR",
	  .doc = "Send selected events and alerts as RFC 5424 messages (the JSON line as text) to "
		 "unix:/dev/log (syslog or the journal), tcp:HOST:PORT or udp:HOST:PORT." },
	{ .path = "delivery.spool_dir", .type = TP_KEY_STR, .offset = OFF(spool_dir),
	  .flags = TP_KEYF_OFF, .env = "TAPIO_SPOOL_DIR",
	  .doc = "Unacked batches past the memory queue wait here, one subdirectory per output "
		 "(off: memory only)." },
	{ .path = "delivery.spool_size", .type = TP_KEY_SIZE, .offset = OFF(spool_max_bytes),
	  .min = 0, .max = 64.0 * 1024 * 1024 * 1024 * 1024, .env = "TAPIO_SPOOL_MAX",
	  .doc = "Spool cap per output; past it events are dropped lowest importance first "
		 "(and counted)." },
	{ .path = "delivery.queue_size", .type = TP_KEY_SIZE, .offset = OFF(queue_max_bytes),
	  .min = 64 * 1024, .max = 64.0 * 1024 * 1024 * 1024, .env = "TAPIO_QUEUE_MAX",
	  .doc = "Memory for unacked batches per output; past it the oldest go to the spool." },
	{ .path = "delivery.batch_max_bytes", .type = TP_KEY_SIZE, .offset = OFF(batch_max_bytes),
	  .min = 4096, .max = 64.0 * 1024 * 1024,
	  .doc = "A batch also ends at this size (receivers cap message sizes, often at 4M), and at a quarter of delivery.queue_size or delivery.spool_size if smaller (a batch is kept whole or not at all)." },
	{ .path = "delivery.max_inflight", .type = TP_KEY_UINT, .offset = OFF(max_inflight),
	  .size = SZ(max_inflight), .min = 1, .max = 1024,
	  .doc = "Batches sent and not yet acked, per output." },
	{ .path = "delivery.max_response_size", .type = TP_KEY_SIZE,
	  .offset = OFF(max_response_bytes), .min = 1024, .max = 64.0 * 1024 * 1024,
	  .doc = "A larger response from a receiver fails the call (and is retried)." },
	{ .path = "delivery.backoff_min", .type = TP_KEY_DURATION, .offset = OFF(backoff_min_ns),
	  .min = 1e6, .max = 3600 * SEC, .env = "TAPIO_BACKOFF_MIN",
	  .doc = "First wait before reconnecting; it doubles, with jitter, up to backoff_max." },
	{ .path = "delivery.backoff_max", .type = TP_KEY_DURATION, .offset = OFF(backoff_max_ns),
	  .min = 1e6, .max = 3600 * SEC, .env = "TAPIO_BACKOFF_MAX",
	  .doc = "Longest wait between reconnect attempts." },
	{ .path = "delivery.ack_timeout", .type = TP_KEY_DURATION, .offset = OFF(ack_timeout_ns),
	  .min = 1e8, .max = 3600 * SEC, .env = "TAPIO_ACK_TIMEOUT",
	  .doc = "No ack for this long: reconnect and resend (also the OTLP call deadline)." },
	{ .path = "delivery.drain_timeout", .type = TP_KEY_DURATION,
	  .offset = OFF(drain_timeout_ns), .min = 0, .max = 3600 * SEC,
	  .env = "TAPIO_DRAIN_TIMEOUT",
	  .doc = "At exit, time to deliver what is queued before spooling the rest." },

	/* Dual path: raw storage and rules. */
	{ .path = "storage.raw_dir", .type = TP_KEY_STR, .offset = OFF(raw_dir),
	  .flags = TP_KEYF_OFF, .flag = "--raw-dir", .env = "TAPIO_RAW_DIR",
	  .doc = "Raw event storage directory (off disables)." },
	{ .path = "storage.segment_size", .type = TP_KEY_SIZE, .offset = OFF(raw_segment_bytes),
	  .min = 64 * 1024, .max = 4.0 * 1024 * 1024 * 1024,
	  .doc = "Start a new raw segment file past this size." },
	{ .path = "storage.segment_age", .type = TP_KEY_DURATION,
	  .offset = OFF(raw_segment_age_ns), .min = 1 * SEC, .max = 7 * 86400 * SEC,
	  .doc = "Start a new raw segment file when the current one is this old." },
	{ .path = "storage.retention", .type = TP_KEY_DURATION, .offset = OFF(raw_retention_ns),
	  .min = 0, .max = 3650 * 86400 * SEC,
	  .doc = "Delete raw segments older than this (0 keeps them)." },
	{ .path = "storage.retention_size", .type = TP_KEY_SIZE,
	  .offset = OFF(raw_retention_bytes), .min = 0, .max = 1e15,
	  .doc = "Delete the oldest raw segments past this total (0: no cap)." },
	{ .path = "storage.fsync_interval", .type = TP_KEY_DURATION,
	  .offset = OFF(raw_fsync_interval_ns), .min = 1e6, .max = 3600 * SEC,
	  .doc = "Raw events reach the disk within this; a crash loses at most this much." },
	{ .path = "storage.queue_size", .type = TP_KEY_SIZE, .offset = OFF(raw_queue_bytes),
	  .min = 256 * 1024, .max = 4.0 * 1024 * 1024 * 1024,
	  .doc = "Memory for raw events not yet written; past it they are dropped (and counted)." },
	{ .path = "rules.paths", .type = TP_KEY_CUSTOM, .set = set_rule_paths,
	  .format = format_rule_paths, .flag = "--rules",
	  .doc = "Rule files or directories; @name is the shipped set rules.dir/name (-r and "
		 "TAPIO_RULES add to this list, -R replaces it; empty: @default)." },
	{ .path = "rules.dir", .type = TP_KEY_STR, .offset = OFF(rules_dir),
	  .ref_default = "share/tapio/rules beside the binary",
	  .doc = "Where the shipped rule sets are (default, security)." },
	{ .path = "rules.importance_threshold", .type = TP_KEY_NUM,
	  .offset = OFF(importance_threshold), .min = 0, .max = 1,
	  .doc = "Without -a, events scored below this (unscored: 0) stay off the outputs; "
		 "alerts always go out (raw storage keeps every event)." },
	{ .path = "rules.aggregate_window", .type = TP_KEY_DURATION,
	  .offset = OFF(aggregate_window_ns), .min = 0, .max = 7 * 86400 * SEC,
	  .doc = "Repeats of a rule for one process within this window are one alert with a "
		 "count (a rule's aggregate key changes it; 0: every match its own alert)." },
	{ .path = "rules.aggregate_hold", .type = TP_KEY_DURATION,
	  .offset = OFF(aggregate_hold_ns), .min = 0, .max = 3600 * SEC,
	  .doc = "How long the first alert of a window waits for repeats of a burst (0: out at "
		 "once, the repeats in one closing line)." },
	{ .path = "rules.instr_budget", .type = TP_KEY_UINT, .offset = OFF(rule_instr_budget),
	  .size = SZ(rule_instr_budget), .min = 1000, .max = 1e9,
	  .doc = "Lua VM instructions one rule call may run before it is stopped (a fault). On "
		 "events the agent counts them only once a call has run 1 to 2 ticks of CPU "
		 "(1 ms, or 1/HZ if longer; a call that ends sooner is not held to it; "
		 "docs/security.md)." },
	{ .path = "rules.mem_max", .type = TP_KEY_SIZE, .offset = OFF(lua_mem_max),
	  .min = 1024 * 1024, .max = 4.0 * 1024 * 1024 * 1024,
	  .doc = "Memory the rules' Lua VM may hold." },
	{ .path = "rules.mem_call_max", .type = TP_KEY_SIZE, .offset = OFF(rule_mem_call_max),
	  .min = 64 * 1024, .max = 1024.0 * 1024 * 1024,
	  .doc = "Memory one rule call may add to the VM before it is stopped (a fault)." },
	{ .path = "rules.fault_limit", .type = TP_KEY_UINT, .offset = OFF(rule_fault_limit),
	  .size = SZ(rule_fault_limit), .min = 0, .max = 1e6,
	  .doc = "Faults before a rule is quarantined until the next reload (0: never)." },
	{ .path = "rules.watch", .type = TP_KEY_BOOL, .offset = OFF(rules_watch),
	  .doc = "Reload the rules when their files change on disk, as SIGHUP does (for "
		 "Kubernetes ConfigMaps)." },
	{ .path = "rules.watch_interval", .type = TP_KEY_DURATION,
	  .offset = OFF(rules_watch_interval_ns), .min = 100e6, .max = 3600 * SEC,
	  .doc = "How often rules.watch looks at the rule files; a change is loaded once it "
		 "has held still this long." },
	{ .path = "rules.reload_timeout", .type = TP_KEY_DURATION,
	  .offset = OFF(rules_reload_timeout_ns), .min = 0.1 * SEC, .max = 600 * SEC,
	  .doc = "A reload still loading after this long is given up (cancelled); the rules in "
		 "use stay." },
	{ .path = "rules.user_dir", .type = TP_KEY_STR, .offset = OFF(rules_user_dir),
	  .doc = "Your own rule files, loaded after the rule sets when the folder exists: "
		 "exceptions, overrides, list additions, extra rules (\"off\": none)." },
	{ .path = "rules.state_max", .type = TP_KEY_SIZE, .offset = OFF(rules_state_max),
	  .min = 1024 * 1024, .max = 64.0 * 1024 * 1024 * 1024,
	  .doc = "Memory the state of all rules may hold (counters, sequences...); past it the "
		 "least recently used keys go (counted)." },
	{ .path = "rules.rule_state_max", .type = TP_KEY_SIZE, .offset = OFF(rule_state_max),
	  .min = 64 * 1024, .max = 64.0 * 1024 * 1024 * 1024,
	  .doc = "Memory the state of one rule may hold; past it its least recently used keys "
		 "go (counted)." },

	/* Kernel side. */
	PROGRAMS(process),
	{ .path = "programs.process.exec_env", .type = TP_KEY_CUSTOM,
	  .set = set_kernel_list, .format = format_exec_env,
	  .doc = "Environment variables process.exec reports (e.env.NAME), read in the kernel "
		 "from the new image: a list of at most 64 names, or none. Only these names, "
		 "never a whole environment." },
	PROGRAMS(file),
	PROGRAMS(network),
	PROGRAMS(security),
	{ .path = "programs.security.bpf_commands", .type = TP_KEY_CUSTOM,
	  .set = set_kernel_list, .format = format_bpf_commands,
	  .doc = "bpf(2) commands reported as security.bpf: control (those that load, attach or "
		 "reach others' objects), all, or a list such as prog_load,map_create." },
	{ .path = "programs.security.io_uring_ops", .type = TP_KEY_CUSTOM,
	  .set = set_kernel_list, .format = format_io_uring_ops,
	  .doc = "io_uring operations reported as security.io_uring: default (those that name "
		 "a file, a socket or an address), all, none, or a list such as openat,connect." },
	PROGRAMS(container),
	PROGRAMS(memory),
	{ .path = "programs.memory.page_fault_sample", .type = TP_KEY_UINT,
	  .offset = OFF(page_fault_period), .size = SZ(page_fault_period), .min = 0,
	  .max = 1099511627776.0,
	  .doc = "Report 1 in N user page faults per CPU as memory.page_fault (0: none)." },
	{ .path = "programs.cgroup_v1_controller", .type = TP_KEY_STR,
	  .offset = OFF(cgroup_v1_controller), .env = "TAPIO_CGROUP_V1",
	  .doc = "The cgroup v1 hierarchy each event reports (cgroup_v1_id): a controller "
		 "name, auto or none." },
	{ .path = "ring.size", .type = TP_KEY_SIZE, .offset = OFF(ring_bytes), .min = 64 * 1024,
	  .max = 1024.0 * 1024 * 1024, .flags = TP_KEYF_POW2,
	  .doc = "BPF ring buffer size (rounded up to a power of two). A larger ring absorbs longer "
		 "stalls of the reader, but one past the CPU's caches makes every event cost more "
		 "in the kernel (docs/performance.md)." },
	{ .path = "ring.drain_interval", .type = TP_KEY_DURATION,
	  .offset = OFF(drain_interval_ns), .min = 1e6, .max = 1 * SEC,
	  .doc = "How often the reader drains the ring buffer." },
	{ .path = "ring.drain_batch", .type = TP_KEY_UINT, .offset = OFF(drain_batch),
	  .size = SZ(drain_batch), .min = 1, .max = 1000000,
	  .doc = "Records per drain before signals and timers run." },

	/* Enrichment: process tree, containers, Kubernetes (src/events/proc_ctx.h). */
	{ .path = "enrich.enabled", .type = TP_KEY_BOOL, .offset = OFF(enrich),
	  .doc = "Give every event its exe, argv, parent, ancestors, container and pod." },
	{ .path = "enrich.processes", .type = TP_KEY_UINT, .offset = OFF(enrich_processes),
	  .size = SZ(enrich_processes), .min = 16, .max = 4194304,
	  .doc = "Processes tracked; past it the least recently seen is forgotten." },
	{ .path = "enrich.ancestors", .type = TP_KEY_UINT, .offset = OFF(enrich_ancestors),
	  .size = SZ(enrich_ancestors), .min = 0, .max = 64,
	  .doc = "Ancestors listed beyond the parent." },
	{ .path = "enrich.argv_bytes", .type = TP_KEY_UINT, .offset = OFF(enrich_argv_bytes),
	  .size = SZ(enrich_argv_bytes), .min = 16, .max = 65536,
	  .doc = "Bytes of arguments kept per process (argv on events other than exec)." },
	{ .path = "enrich.cgroups", .type = TP_KEY_UINT, .offset = OFF(enrich_cgroups),
	  .size = SZ(enrich_cgroups), .min = 16, .max = 1048576,
	  .doc = "Cgroups whose container and pod context is cached." },
	{ .path = "enrich.k8s_pod_logs_dir", .type = TP_KEY_STR, .offset = OFF(k8s_pod_logs_dir),
	  .flags = TP_KEYF_OFF, .env = "TAPIO_K8S_POD_LOGS_DIR",
	  .doc = "The kubelet's pod log directories (<namespace>_<pod>_<uid>): pod names." },
	{ .path = "enrich.k8s_container_logs_dir", .type = TP_KEY_STR,
	  .offset = OFF(k8s_container_logs_dir), .flags = TP_KEYF_OFF,
	  .env = "TAPIO_K8S_CONTAINER_LOGS_DIR",
	  .doc = "The kubelet's container log links (<pod>_<namespace>_<container>-<id>.log): "
		 "container names." },
	{ .path = "enrich.containerd_state_dir", .type = TP_KEY_STR,
	  .offset = OFF(containerd_state_dir), .flags = TP_KEYF_OFF,
	  .env = "TAPIO_CONTAINERD_STATE_DIR",
	  .doc = "containerd's state directory: tells its containers' bare cgroup ids." },
	{ .path = "enrich.docker_data_dir", .type = TP_KEY_STR, .offset = OFF(docker_data_dir),
	  .flags = TP_KEYF_OFF, .env = "TAPIO_DOCKER_DATA_DIR",
	  .doc = "Docker's data directory: tells its containers' bare cgroup ids." },

	/* In-kernel filters (also -k KEY=VALUE, see config_kernel.h). */
	{ .path = "filter.exclude_comms", .type = TP_KEY_CUSTOM, .set = set_excludes,
	  .format = format_excludes, .flag = "--kernel exclude_comm=",
	  .doc = "Drop, in the kernel, the events of tasks with these names." },
	{ .path = "filter.exclude_paths", .type = TP_KEY_CUSTOM, .set = set_excludes,
	  .format = format_excludes, .flag = "--kernel exclude_path=",
	  .doc = "Drop, in the kernel, file events under these path prefixes." },
	{ .path = "filter.processes", .type = TP_KEY_STRLIST, .offset = OFF(scope_processes),
	  .flags = TP_KEYF_NONEMPTY,
	  .doc = "Only the events of these processes reach the rules and outputs: globs on the "
		 "name, or on the executable path when the pattern has a '/' (empty: all)." },
	{ .path = "filter.exclude_processes", .type = TP_KEY_STRLIST,
	  .offset = OFF(scope_exclude_processes), .flags = TP_KEYF_NONEMPTY,
	  .doc = "The events of these processes never reach the rules and outputs: globs as "
		 "for filter.processes (\"systemd-*\")." },
	{ .path = "filter.containers", .type = TP_KEY_STRLIST, .offset = OFF(scope_containers),
	  .flags = TP_KEYF_NONEMPTY,
	  .doc = "Only the events of these containers reach the rules and outputs: container id "
		 "prefixes, or globs with * ? [; either also matches the container's name in its "
		 "pod (\"*\": any container, not the host; needs enrich.enabled; empty: all)." },
	{ .path = "filter.exclude_containers", .type = TP_KEY_STRLIST,
	  .offset = OFF(scope_exclude_containers), .flags = TP_KEYF_NONEMPTY,
	  .doc = "The events of these containers never reach the rules and outputs: as for "
		 "filter.containers (\"*\": keep only the host's events)." },
	{ .path = "filter.k8s_namespaces", .type = TP_KEY_STRLIST,
	  .offset = OFF(scope_k8s_namespaces), .flags = TP_KEYF_NONEMPTY,
	  .doc = "Only the events of pods in these Kubernetes namespaces reach the rules and "
		 "outputs: globs (needs enrich.enabled; empty: all)." },
	{ .path = "filter.exclude_k8s_namespaces", .type = TP_KEY_STRLIST,
	  .offset = OFF(scope_exclude_k8s_namespaces), .flags = TP_KEYF_NONEMPTY,
	  .doc = "The events of pods in these Kubernetes namespaces never reach the rules and "
		 "outputs: globs (\"kube-*\")." },
	{ .path = "filter.min_severity", .type = TP_KEY_CHOICE, .offset = OFF(min_severity),
	  .choices = tp_severity_names,
	  .doc = "Alerts below this severity are not raised (those rules load and self-test but "
		 "do not run); an event without an alert counts as info, so notice and above keep "
		 "only alerts. Also with --all-events (warn, err and crit name warning, error and "
		 "critical too)." },
	{ .path = "filter.drop_failed", .type = TP_KEY_CATEGORIES, .offset = OFF(drop_failed),
	  .flag = "--kernel drop_failed=",
	  .doc = "Drop, in the kernel, failed syscalls of these categories." },

	/* Sampling. */
	{ .path = "sampling.enabled", .type = TP_KEY_BOOL, .offset = OFF(sampling.enabled),
	  .doc = "Adaptive sampling of events that are neither alerts nor important." },
	{ .path = "sampling.base_rate", .type = TP_KEY_NUM, .offset = OFF(sampling.base_rate),
	  .min = 1e-6, .max = 1, .doc = "Fraction of importance-0 events kept." },
	{ .path = "sampling.importance_boost", .type = TP_KEY_NUM,
	  .offset = OFF(sampling.importance_boost), .min = 1, .max = 1e6,
	  .doc = "An event of importance i is kept at base_rate * boost^i (at most 1)." },
	{ .path = "sampling.never_sample_importance", .type = TP_KEY_NUM,
	  .offset = OFF(sampling.never_sample_importance), .min = 0, .max = 1.01,
	  .doc = "Events at or above this importance are never sampled or rate limited "
		 "(alerts never are)." },
	{ .path = "sampling.never_sample_categories", .type = TP_KEY_CATEGORIES,
	  .offset = OFF(sampling.never_sample_categories),
	  .doc = "Categories never sampled or rate limited." },
	{ .path = "sampling.burst_protection", .type = TP_KEY_BOOL,
	  .offset = OFF(sampling.burst_protection),
	  .doc = "When more than burst_threshold events/s arrive, sample harder to stay near it." },
	{ .path = "sampling.burst_threshold", .type = TP_KEY_UINT,
	  .offset = OFF(sampling.burst_threshold), .size = SZ(sampling.burst_threshold),
	  .min = 1, .max = 1e9, .doc = "Events per second that trigger burst protection." },

	/* Rate limits (token buckets). */
	{ .path = "rate_limit.per_process", .type = TP_KEY_UINT,
	  .offset = OFF(rate_limit.per_process), .size = SZ(rate_limit.per_process), .min = 0,
	  .max = 1e9, .doc = "Events per second per process (0: no limit)." },
	{ .path = "rate_limit.per_process_burst", .type = TP_KEY_UINT,
	  .offset = OFF(rate_limit.per_process_burst), .size = SZ(rate_limit.per_process_burst),
	  .min = 1, .max = 1e9, .doc = "Events a process may send at once above its rate." },
	{ .path = "rate_limit.per_container", .type = TP_KEY_UINT,
	  .offset = OFF(rate_limit.per_container), .size = SZ(rate_limit.per_container),
	  .min = 0, .max = 1e9, .doc = "Events per second per container (cgroup; 0: no limit)." },
	{ .path = "rate_limit.per_container_burst", .type = TP_KEY_UINT,
	  .offset = OFF(rate_limit.per_container_burst),
	  .size = SZ(rate_limit.per_container_burst), .min = 1, .max = 1e9,
	  .doc = "Events a container may send at once above its rate." },
	{ .path = "rate_limit.global", .type = TP_KEY_UINT, .offset = OFF(rate_limit.global),
	  .size = SZ(rate_limit.global), .min = 0, .max = 1e9,
	  .doc = "Events per second to the outputs in all (0: no limit)." },
	{ .path = "rate_limit.global_burst", .type = TP_KEY_UINT,
	  .offset = OFF(rate_limit.global_burst), .size = SZ(rate_limit.global_burst),
	  .min = 1, .max = 1e9, .doc = "Events sent at once above the global rate." },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))
/* CHOICE keys store an enum as an int. */
_Static_assert(sizeof(enum tp_output_format) == sizeof(int), "enum size");
_Static_assert(sizeof(enum tp_log_level) == sizeof(int), "enum size");
_Static_assert(sizeof(enum tp_log_format) == sizeof(int), "enum size");
_Static_assert(sizeof(enum tp_severity) == sizeof(int), "enum size");
_Static_assert(NKEYS <= TP_CONFIG_MAX_KEYS, "raise TP_CONFIG_MAX_KEYS");

size_t tp_config_key_count(void)
{
	return NKEYS;
}

const struct tp_config_key *tp_config_key_at(size_t i)
{
	return i < NKEYS ? &keys[i] : NULL;
}

const struct tp_config_key *tp_config_key_find(const char *path)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (!strcmp(keys[i].path, path))
			return &keys[i];
	return NULL;
}

bool tp_config_key_is_group(const char *path)
{
	size_t n = strlen(path);

	for (size_t i = 0; i < NKEYS; i++)
		if (!strncmp(keys[i].path, path, n) && keys[i].path[n] == '.')
			return true;
	return false;
}

const char *tp_config_key_suggest(const char *path)
{
	const char *best = NULL;
	size_t best_d = 4;

	static char group[80];

	for (size_t i = 0; i < NKEYS; i++) {
		const char *dot = strrchr(keys[i].path, '.');
		size_t d = tp_edit_distance(path, keys[i].path);

		/* The right leaf in the wrong group ("base_rate" alone). */
		if (dot && !strcmp(dot + 1, path))
			d = 1;
		if (d < best_d) {
			best_d = d;
			best = keys[i].path;
		}
		/* A misspelt group ("rate_limits" for "rate_limit"). */
		for (const char *p = strchr(keys[i].path, '.'); p; p = strchr(p + 1, '.')) {
			size_t n = (size_t)(p - keys[i].path);
			char g[80];

			if (n >= sizeof(g))
				break;
			memcpy(g, keys[i].path, n);
			g[n] = '\0';
			d = tp_edit_distance(path, g);
			/* Short names are close to many others: only a near miss. */
			if (d && d < best_d && d <= (n > 5 ? n / 3 : 1)) {
				best_d = d;
				snprintf(group, sizeof(group), "%s", g);
				best = group;
			}
		}
	}
	return best;
}

const char *tp_config_source_name(enum tp_config_source src)
{
	static const char *const names[] = { "default", "preset", "file", "environment", "flag" };

	return src <= TP_SRC_FLAG ? names[src] : "?";
}

enum tp_config_source tp_config_source_of(const struct tp_config *cfg, const char *path)
{
	const struct tp_config_key *k = tp_config_key_find(path);

	return k ? (enum tp_config_source)cfg->key_source[k - keys] : TP_SRC_DEFAULT;
}

size_t tp_config_key_index(const struct tp_config_key *k)
{
	return (size_t)(k - keys);
}
