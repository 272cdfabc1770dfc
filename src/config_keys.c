#include "config_keys.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_kernel.h"
#include "event.h"
#include "events/types.h"
#include "format.h"
#include "log.h"
#include "util/addr.h"
#include "util/strdist.h"
#include "util/time.h"

/* ------------------------------------------------------------ the table */

#define OFF(field) offsetof(struct tp_config, field)
#define SZ(field) ((uint8_t)sizeof(((struct tp_config *)0)->field))
#define SEC 1e9

static const char *const output_formats[] = { "text", "json", "none", NULL };
static const char *const log_levels[] = { "error", "warn", "info", "debug", NULL };
static const char *const log_formats[] = { "auto", "text", "json", "journal", NULL };
static const char *const presets[] = { "default", "high-performance", "security", NULL };

static int set_rule_paths(struct tp_config *cfg, const struct tp_config_key *k,
			  const struct tp_cval *v, char *err, size_t errlen);
static int set_excludes(struct tp_config *cfg, const struct tp_config_key *k,
			const struct tp_cval *v, char *err, size_t errlen);
static void format_excludes(const struct tp_config *cfg, const struct tp_config_key *k,
			    struct tp_buf *b);
static int set_bpf_commands(struct tp_config *cfg, const struct tp_config_key *k,
			    const struct tp_cval *v, char *err, size_t errlen);
static void format_bpf_commands(const struct tp_config *cfg, const struct tp_config_key *k,
				struct tp_buf *b);
static void format_rule_paths(const struct tp_config *cfg, const struct tp_config_key *k,
			      struct tp_buf *b);

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
	  .flags = TP_KEYF_FILE_ONLY | TP_KEYF_NAME, .flag = "--preset",
	  .doc = "The preset this configuration starts from; its keys change single settings." },

	/* Logging and the agent's own numbers. */
	{ .path = "log.level", .type = TP_KEY_CHOICE, .offset = OFF(log_level),
	  .choices = log_levels, .flag = "--log-level", .env = "TAPIO_LOG_LEVEL",
	  .doc = "Log verbosity (TAPIO_DEBUG=true also selects debug)." },
	{ .path = "log.format", .type = TP_KEY_CHOICE, .offset = OFF(log_format),
	  .choices = log_formats, .flag = "--log-format", .env = "TAPIO_LOG_FORMAT",
	  .doc = "Log line format on stderr (auto: journal under systemd, else text)." },
	{ .path = "metrics.address", .type = TP_KEY_ADDR, .offset = OFF(metrics_addr),
	  .flags = TP_KEYF_OFF, .flag = "--metrics-addr", .env = "TAPIO_METRICS_ADDR",
	  .doc = "Where /metrics, /healthz and /livez listen (HOST:PORT, port 0 picks one; "
		 "off disables)." },
	{ .path = "metrics.stats_interval", .type = TP_KEY_DURATION,
	  .offset = OFF(stats_interval_ns), .min = 0, .max = 86400 * SEC,
	  .doc = "How often the counters are logged in one stats line (0 disables)." },

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
	  .doc = "A batch also ends at this size (receivers cap message sizes, often at 4M)." },
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
	  .flags = TP_KEYF_OFF, .flag = "--raw-dir",
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
	  .doc = "Rule files or directories; @name is the shipped set rules.dir/name (-r "
		 "replaces this list; repeat -r for more; empty: @default)." },
	{ .path = "rules.dir", .type = TP_KEY_STR, .offset = OFF(rules_dir),
	  .ref_default = "rules/ of the source tree",
	  .doc = "Where the shipped rule sets are (default, security)." },
	{ .path = "rules.importance_threshold", .type = TP_KEY_NUM,
	  .offset = OFF(importance_threshold), .min = 0, .max = 1,
	  .doc = "Without -a, events scored below this (unscored: 0) stay off the outputs; "
		 "alerts always go out." },
	{ .path = "rules.instr_budget", .type = TP_KEY_UINT, .offset = OFF(rule_instr_budget),
	  .size = SZ(rule_instr_budget), .min = 1000, .max = 1e9,
	  .doc = "Lua VM instructions one rule call may run before it is stopped (a fault)." },
	{ .path = "rules.mem_max", .type = TP_KEY_SIZE, .offset = OFF(lua_mem_max),
	  .min = 1024 * 1024, .max = 4.0 * 1024 * 1024 * 1024,
	  .doc = "Memory the rules' Lua VM may hold." },
	{ .path = "rules.mem_call_max", .type = TP_KEY_SIZE, .offset = OFF(rule_mem_call_max),
	  .min = 64 * 1024, .max = 1024.0 * 1024 * 1024,
	  .doc = "Memory one rule call may add to the VM before it is stopped (a fault)." },
	{ .path = "rules.fault_limit", .type = TP_KEY_UINT, .offset = OFF(rule_fault_limit),
	  .size = SZ(rule_fault_limit), .min = 0, .max = 1e6,
	  .doc = "Faults before a rule is quarantined until the next reload (0: never)." },

	/* Kernel side. */
	PROGRAMS(process),
	PROGRAMS(file),
	PROGRAMS(network),
	PROGRAMS(security),
	{ .path = "programs.security.bpf_commands", .type = TP_KEY_CUSTOM,
	  .set = set_bpf_commands, .format = format_bpf_commands,
	  .doc = "bpf(2) commands reported as security.bpf: control (those that load, attach or "
		 "reach others' objects), all, or a list such as prog_load,map_create." },
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
	  .doc = "BPF ring buffer size (rounded up to a power of two)." },
	{ .path = "ring.drain_interval", .type = TP_KEY_DURATION,
	  .offset = OFF(drain_interval_ns), .min = 1e6, .max = 1 * SEC,
	  .doc = "How often the reader drains the ring buffer." },
	{ .path = "ring.drain_batch", .type = TP_KEY_UINT, .offset = OFF(drain_batch),
	  .size = SZ(drain_batch), .min = 1, .max = 1000000,
	  .doc = "Records per drain before signals and timers run." },

	/* Enrichment: process tree, containers, Kubernetes (src/proc_ctx.h). */
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
		 "only alerts. Also with --all-events." },
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

/* ------------------------------------------------------- owned memory */

struct tp_config_alloc {
	struct tp_config_alloc *next;
	max_align_t data[];
};

static void *config_alloc(struct tp_config *cfg, size_t n)
{
	struct tp_config_alloc *a = malloc(sizeof(*a) + n);

	if (!a)
		return NULL;
	a->next = cfg->owned;
	cfg->owned = a;
	return a->data;
}

const char *tp_config_strdup(struct tp_config *cfg, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = config_alloc(cfg, n);

	if (p)
		memcpy(p, s, n);
	return p;
}

void tp_config_free(struct tp_config *cfg)
{
	while (cfg->owned) {
		struct tp_config_alloc *a = cfg->owned;

		cfg->owned = a->next;
		free(a);
	}
}

/* ------------------------------------------------------------ setting */

static void *field(struct tp_config *cfg, const struct tp_config_key *k)
{
	return (char *)cfg + k->offset;
}

static const void *cfield(const struct tp_config *cfg, const struct tp_config_key *k)
{
	return (const char *)cfg + k->offset;
}

/* "got ..." for an error message: the value as the user wrote it. */
static void describe_value(const struct tp_cval *v, char *buf, size_t len)
{
	switch (v->kind) {
	case TP_CV_BOOL:
		snprintf(buf, len, "%s", v->b ? "true" : "false");
		break;
	case TP_CV_NUM:
		snprintf(buf, len, "%.17g", v->num);
		break;
	case TP_CV_STR:
		snprintf(buf, len, "\"%.60s%s\"", v->str, strlen(v->str) > 60 ? "..." : "");
		break;
	case TP_CV_LIST:
		snprintf(buf, len, "a list");
		break;
	}
}

static void fmt_range_num(char *buf, size_t len, double v)
{
	snprintf(buf, len, "%.15g", v);
}

static void fmt_duration(char *buf, size_t len, double ns)
{
	/* The largest unit that says it exactly, as tp_parse_duration reads it. */
	static const struct {
		const char *unit;
		double ns;
	} units[] = { { "d", 86400 * SEC }, { "h", 3600 * SEC }, { "m", 60 * SEC }, { "s", SEC },
		      { "ms", 1e6 },	    { "us", 1e3 },	  { "ns", 1 } };

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (ns >= units[i].ns && fmod(ns, units[i].ns) == 0) {
			snprintf(buf, len, "%.0f%s", ns / units[i].ns, units[i].unit);
			return;
		}
	}
	snprintf(buf, len, "%.0fs", ns / SEC);
}

static void fmt_size(char *buf, size_t len, double bytes)
{
	static const char *const units[] = { "", "K", "M", "G", "T" };
	int u = 0;

	while (u < 4 && bytes >= 1024 && fmod(bytes, 1024) == 0) {
		bytes /= 1024;
		u++;
	}
	snprintf(buf, len, "%.0f%s", bytes, units[u]);
}

void tp_config_key_describe(const struct tp_config_key *k, char *buf, size_t len)
{
	char lo[32], hi[32];
	size_t used;

	switch (k->type) {
	case TP_KEY_BOOL:
	case TP_KEY_CATEGORY:
		snprintf(buf, len, "true or false");
		break;
	case TP_KEY_UINT:
		fmt_range_num(lo, sizeof(lo), k->min);
		fmt_range_num(hi, sizeof(hi), k->max);
		snprintf(buf, len, "a whole number from %s to %s", lo, hi);
		break;
	case TP_KEY_NUM:
		fmt_range_num(lo, sizeof(lo), k->min);
		fmt_range_num(hi, sizeof(hi), k->max);
		snprintf(buf, len, "a number from %s to %s", lo, hi);
		break;
	case TP_KEY_DURATION:
		fmt_duration(lo, sizeof(lo), k->min);
		fmt_duration(hi, sizeof(hi), k->max);
		snprintf(buf, len, "a duration from %s to %s (e.g. 500ms, 2s, 1m)", lo, hi);
		break;
	case TP_KEY_SIZE:
		fmt_size(lo, sizeof(lo), k->min);
		fmt_size(hi, sizeof(hi), k->max);
		snprintf(buf, len, "a size from %s to %s (e.g. 16M)", lo, hi);
		break;
	case TP_KEY_STR:
		snprintf(buf, len, "%s", k->flags & TP_KEYF_OFF ? "a string (off disables)" : "a string");
		break;
	case TP_KEY_ADDR:
		snprintf(buf, len, "%s", k->flags & TP_KEYF_OFF ? "HOST:PORT or off" : "HOST:PORT");
		break;
	case TP_KEY_CHOICE:
		used = (size_t)snprintf(buf, len, "one of");
		for (const char *const *c = k->choices; *c && used < len; c++)
			used += (size_t)snprintf(buf + used, len - used, "%s %s", c == k->choices ? "" : ",", *c);
		break;
	case TP_KEY_CATEGORIES:
		snprintf(buf, len, "a list of categories (process, file, network, security, "
				   "container, memory, or all)");
		break;
	case TP_KEY_STRLIST:
	case TP_KEY_CUSTOM:
		snprintf(buf, len, "a list of strings");
		break;
	}
}

static int bad(const struct tp_config_key *k, const struct tp_cval *v, char *err, size_t errlen)
{
	char want[160], got[96];

	tp_config_key_describe(k, want, sizeof(want));
	describe_value(v, got, sizeof(got));
	snprintf(err, errlen, "expected %s, got %s", want, got);
	return -EINVAL;
}

static int number_of(const struct tp_config_key *k, const struct tp_cval *v, double *out)
{
	char *end;

	if (v->kind == TP_CV_NUM) {
		*out = v->num;
	} else if (v->kind == TP_CV_STR) {
		const char *s = v->str;

		if (!*s || !strchr("0123456789.-+", *s))
			return -EINVAL;
		errno = 0;
		*out = strtod(s, &end);
		if (errno || *end)
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	return isfinite(*out) ? 0 : -EINVAL;
}

static int set_uint(void *f, const struct tp_config_key *k, double d)
{
	if (d < k->min || d > k->max || d != floor(d))
		return -EINVAL;
	if (k->size == 4)
		*(uint32_t *)f = (uint32_t)d;
	else
		*(uint64_t *)f = (uint64_t)d;
	return 0;
}

static int parse_bool_text(const char *s, bool *b)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (!strcasecmp(s, yes[i])) {
			*b = true;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*b = false;
			return 0;
		}
	}
	return -EINVAL;
}

static int categories_mask(const struct tp_cval *v, uint32_t *mask)
{
	*mask = 0;
	if (v->kind != TP_CV_LIST)
		return -EINVAL;
	for (size_t i = 0; i < v->nlist; i++) {
		int c = tp_category_by_name(v->list[i]);

		if (!strcmp(v->list[i], "all")) {
			*mask |= ((1u << TP_CAT_MAX) - 1) & ~1u;
			continue;
		}
		if (c <= 0 || c >= TP_CAT_MAX)
			return -EINVAL;
		*mask |= 1u << c;
	}
	return 0;
}

static int set_strlist(struct tp_config *cfg, struct tp_strlist *l, const struct tp_cval *v)
{
	const char **arr;

	if (v->kind != TP_CV_LIST)
		return -EINVAL;
	arr = config_alloc(cfg, (v->nlist ? v->nlist : 1) * sizeof(*arr));
	if (!arr)
		return -ENOMEM;
	for (size_t i = 0; i < v->nlist; i++) {
		arr[i] = tp_config_strdup(cfg, v->list[i]);
		if (!arr[i])
			return -ENOMEM;
	}
	l->v = arr;
	l->n = v->nlist;
	return 0;
}

static int set_rule_paths(struct tp_config *cfg, const struct tp_config_key *k,
			  const struct tp_cval *v, char *err, size_t errlen)
{
	if (v->kind != TP_CV_LIST)
		return bad(k, v, err, errlen);
	if (v->nlist > TP_MAX_RULE_PATHS) {
		snprintf(err, errlen, "expected at most %d paths, got %zu", TP_MAX_RULE_PATHS,
			 v->nlist);
		return -EINVAL;
	}
	for (size_t i = 0; i < v->nlist; i++) {
		if (!*v->list[i]) {
			snprintf(err, errlen, "expected a list of paths, got an empty string");
			return -EINVAL;
		}
		cfg->rule_paths[i] = tp_config_strdup(cfg, v->list[i]);
		if (!cfg->rule_paths[i])
			return -ENOMEM;
	}
	cfg->nrule_paths = (unsigned)v->nlist;
	return 0;
}

/* A Lua string literal: quotes, backslashes and control bytes escaped as
 * decimal escapes, which every Lua version reads. */
static void lua_str(struct tp_buf *b, const char *s)
{
	tp_buf_putc(b, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			tp_buf_printf(b, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			tp_buf_printf(b, "\\%03u", c);
		else
			tp_buf_putc(b, (char)c);
	}
	tp_buf_putc(b, '"');
}

static void format_list(struct tp_buf *b, const char *const *v, size_t n)
{
	tp_buf_puts(b, "{");
	for (size_t i = 0; i < n; i++) {
		tp_buf_puts(b, i ? ", " : " ");
		lua_str(b, v[i]);
	}
	tp_buf_puts(b, n ? " }" : "}");
}

static void format_rule_paths(const struct tp_config *cfg, const struct tp_config_key *k,
			      struct tp_buf *b)
{
	format_list(b, cfg->rule_paths, cfg->nrule_paths);
}

/* config_kernel.c says "invalid value 'v' for kernel setting k: expected
 * ..."; keep our form, "expected ..., got ...". */
static int kernel_error(const char *value, char *err, size_t errlen)
{
	char *exp = strstr(err, "expected ");
	char tmp[256];

	if (exp) {
		snprintf(tmp, sizeof(tmp), "%s, got \"%.60s\"", exp, value);
		snprintf(err, errlen, "%s", tmp);
	}
	return -EINVAL;
}

static bool is_comms(const struct tp_config_key *k)
{
	return !strcmp(k->path, "filter.exclude_comms");
}

static int set_excludes(struct tp_config *cfg, const struct tp_config_key *k,
			const struct tp_cval *v, char *err, size_t errlen)
{
	bool comms = is_comms(k);

	if (v->kind != TP_CV_LIST)
		return bad(k, v, err, errlen);
	if (v->nlist > TP_EXCLUDE_MAX) {
		snprintf(err, errlen, "expected at most %d entries, got %zu", TP_EXCLUDE_MAX,
			 v->nlist);
		return -EINVAL;
	}
	/* The list replaces what was there (a preset's, a file's). */
	if (comms)
		cfg->nexclude_comms = 0;
	else
		cfg->nexclude_paths = 0;
	for (size_t i = 0; i < v->nlist; i++) {
		const char *copy = tp_config_strdup(cfg, v->list[i]);

		if (!copy)
			return -ENOMEM;
		if (tp_config_set_kernel(cfg, comms ? "exclude_comm" : "exclude_path", copy, err,
					 errlen) < 0)
			return kernel_error(v->list[i], err, errlen);
	}
	return 0;
}

static void format_list(struct tp_buf *b, const char *const *v, size_t n);

static void format_excludes(const struct tp_config *cfg, const struct tp_config_key *k,
			    struct tp_buf *b)
{
	if (is_comms(k))
		format_list(b, cfg->exclude_comms, cfg->nexclude_comms);
	else
		format_list(b, cfg->exclude_paths, cfg->nexclude_paths);
}

static int set_bpf_commands(struct tp_config *cfg, const struct tp_config_key *k,
			    const struct tp_cval *v, char *err, size_t errlen)
{
	struct tp_buf joined;
	int r;

	if (v->kind == TP_CV_STR)
		return tp_config_set_kernel(cfg, "bpf_commands", v->str, err, errlen) < 0
			       ? kernel_error(v->str, err, errlen)
			       : 0;
	if (v->kind != TP_CV_LIST || !v->nlist)
		return bad(k, v, err, errlen);
	tp_buf_init(&joined);
	for (size_t i = 0; i < v->nlist; i++) {
		if (i)
			tp_buf_putc(&joined, ',');
		tp_buf_puts(&joined, v->list[i]);
	}
	if (tp_buf_failed(&joined)) {
		tp_buf_free(&joined);
		return -ENOMEM;
	}
	r = tp_config_set_kernel(cfg, "bpf_commands", tp_buf_cstr(&joined), err, errlen);
	if (r < 0)
		kernel_error(tp_buf_cstr(&joined), err, errlen);
	tp_buf_free(&joined);
	return r < 0 ? -EINVAL : 0;
}

static void format_bpf_commands(const struct tp_config *cfg, const struct tp_config_key *k,
				struct tp_buf *b)
{
	const char *names[64];
	char lower[64][40];
	size_t n = 0;

	if (cfg->bpf_cmd_mask == TP_BPF_CMDS_CONTROL) {
		tp_buf_puts(b, "\"control\"");
		return;
	}
	if (cfg->bpf_cmd_mask == ~0ull) {
		tp_buf_puts(b, "\"all\"");
		return;
	}
	for (const struct tp_sym *s = tp_bpf_cmd_syms; s->name && n < 64; s++) {
		const char *name = strncmp(s->name, "BPF_", 4) ? s->name : s->name + 4;
		size_t i = 0;

		if (s->value >= 64 || !(cfg->bpf_cmd_mask & (1ull << s->value)))
			continue;
		for (; name[i] && i < sizeof(lower[0]) - 1; i++)
			lower[n][i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
		lower[n][i] = '\0';
		names[n] = lower[n];
		n++;
	}
	format_list(b, names, n);
}

int tp_config_set(struct tp_config *cfg, const struct tp_config_key *k, const struct tp_cval *v,
		  enum tp_config_source src, char *err, size_t errlen)
{
	void *f = field(cfg, k);
	const char *s = v->kind == TP_CV_STR ? v->str : NULL;
	char host[256];
	uint16_t port;
	uint64_t u64;
	uint32_t mask;
	double d;
	bool b;
	int r = 0;

	switch (k->type) {
	case TP_KEY_BOOL:
	case TP_KEY_CATEGORY:
		if (v->kind == TP_CV_BOOL)
			b = v->b;
		else if (!s || parse_bool_text(s, &b) < 0)
			return bad(k, v, err, errlen);
		if (k->type == TP_KEY_BOOL)
			*(bool *)f = b;
		else if (b)
			*(uint32_t *)f |= k->bit;
		else
			*(uint32_t *)f &= ~k->bit;
		break;
	case TP_KEY_UINT:
		if (number_of(k, v, &d) < 0 || set_uint(f, k, d) < 0)
			return bad(k, v, err, errlen);
		break;
	case TP_KEY_NUM:
		if (number_of(k, v, &d) < 0 || d < k->min || d > k->max)
			return bad(k, v, err, errlen);
		*(double *)f = d;
		break;
	case TP_KEY_DURATION:
		/* A number is seconds; text takes units. */
		if (v->kind == TP_CV_NUM) {
			if (!isfinite(v->num) || v->num < 0 || v->num * SEC > 1.8e19)
				return bad(k, v, err, errlen);
			u64 = (uint64_t)(v->num * SEC);
		} else if (!s || tp_parse_duration(s, &u64) < 0) {
			return bad(k, v, err, errlen);
		}
		if ((double)u64 < k->min || (double)u64 > k->max)
			return bad(k, v, err, errlen);
		*(uint64_t *)f = u64;
		break;
	case TP_KEY_SIZE:
		if (v->kind == TP_CV_NUM) {
			if (!isfinite(v->num) || v->num < 0 || v->num != floor(v->num) ||
			    v->num > 1.8e19)
				return bad(k, v, err, errlen);
			u64 = (uint64_t)v->num;
		} else if (!s || tp_parse_size(s, &u64) < 0) {
			return bad(k, v, err, errlen);
		}
		if ((double)u64 < k->min || (double)u64 > k->max)
			return bad(k, v, err, errlen);
		*(uint64_t *)f = u64;
		break;
	case TP_KEY_STR:
		if (!s)
			return bad(k, v, err, errlen);
		if (!*s && !(k->flags & TP_KEYF_OFF)) {
			snprintf(err, errlen, "expected a non-empty string");
			return -EINVAL;
		}
		s = tp_config_strdup(cfg, *s ? s : "off");
		if (!s)
			return -ENOMEM;
		*(const char **)f = s;
		break;
	case TP_KEY_ADDR:
		if (!s)
			return bad(k, v, err, errlen);
		if (!*s || !strcmp(s, "off")) {
			/* Optional addresses are unset (NULL); a listener says "off". */
			*(const char **)f = k->flags & TP_KEYF_OFF ? "off" : NULL;
			break;
		}
		if (tp_parse_hostport(s, host, sizeof(host), &port) < 0)
			return bad(k, v, err, errlen);
		s = tp_config_strdup(cfg, s);
		if (!s)
			return -ENOMEM;
		*(const char **)f = s;
		break;
	case TP_KEY_CHOICE: {
		int i = 0;

		if (!s)
			return bad(k, v, err, errlen);
		while (k->choices[i] && strcasecmp(s, k->choices[i]))
			i++;
		/* "warning" for warn, as tp_log_parse_level accepts it. */
		if (!k->choices[i] && k->choices == log_levels && !strcasecmp(s, "warning"))
			i = TP_LOG_WARN;
		else if (!k->choices[i])
			return bad(k, v, err, errlen);
		if (k->flags & TP_KEYF_NAME)
			*(const char **)f = k->choices[i];
		else
			*(int *)f = i;
		break;
	}
	case TP_KEY_CATEGORIES:
		if (categories_mask(v, &mask) < 0)
			return bad(k, v, err, errlen);
		*(uint32_t *)f = mask;
		break;
	case TP_KEY_STRLIST:
		if (v->kind == TP_CV_LIST && (k->flags & TP_KEYF_NONEMPTY))
			for (size_t i = 0; i < v->nlist; i++)
				if (!*v->list[i]) {
					snprintf(err, errlen,
						 "expected a list of non-empty strings, got an empty "
						 "string");
					return -EINVAL;
				}
		r = set_strlist(cfg, f, v);
		if (r == -EINVAL)
			return bad(k, v, err, errlen);
		break;
	case TP_KEY_CUSTOM:
		r = k->set(cfg, k, v, err, errlen);
		break;
	}
	if (r == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	if (r < 0)
		return r;
	cfg->key_source[k - keys] = (uint8_t)src;
	return 0;
}

/* Split "a,b, c" into a list (spaces around items trimmed, empty text is
 * the empty list). */
static int split_list(const char *text, char **copy, const char ***items, size_t *n)
{
	size_t cap = 1;
	char *p;

	for (const char *c = text; *c; c++)
		cap += *c == ',';
	*copy = strdup(text);
	*items = calloc(cap, sizeof(**items));
	if (!*copy || !*items) {
		free(*copy);
		free(*items);
		return -ENOMEM;
	}
	*n = 0;
	p = *copy;
	while (*p == ' ')
		p++;
	if (!*p)
		return 0;
	for (;;) {
		char *comma = strchr(p, ','), *end;

		if (comma)
			*comma = '\0';
		while (*p == ' ')
			p++;
		end = p + strlen(p);
		while (end > p && end[-1] == ' ')
			*--end = '\0';
		(*items)[(*n)++] = p;
		if (!comma)
			break;
		p = comma + 1;
	}
	return 0;
}

int tp_config_set_text(struct tp_config *cfg, const struct tp_config_key *k, const char *text,
		       enum tp_config_source src, char *err, size_t errlen)
{
	struct tp_cval v = { .kind = TP_CV_STR, .str = text };
	const char **items = NULL;
	char *copy = NULL;
	int r;

	if (k->type == TP_KEY_CATEGORIES || k->type == TP_KEY_STRLIST || k->type == TP_KEY_CUSTOM) {
		size_t n;

		if (split_list(text, &copy, &items, &n) < 0) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		v = (struct tp_cval){ .kind = TP_CV_LIST, .list = items, .nlist = n };
		for (size_t i = 0; i < n; i++) {
			if (!*items[i]) {
				char want[160];

				tp_config_key_describe(k, want, sizeof(want));
				snprintf(err, errlen, "expected %s separated by commas, got an empty item",
					 want);
				free(copy);
				free(items);
				return -EINVAL;
			}
		}
	}
	r = tp_config_set(cfg, k, &v, src, err, errlen);
	free(copy);
	free(items);
	return r;
}

/* ------------------------------------------------------------ rendering */

static void format_num(struct tp_buf *b, double d)
{
	char s[40];

	snprintf(s, sizeof(s), "%.15g", d);
	tp_buf_puts(b, s);
}

void tp_config_format_value(const struct tp_config *cfg, const struct tp_config_key *k,
			    struct tp_buf *b)
{
	const void *f = cfield(cfg, k);
	char s[48];

	switch (k->type) {
	case TP_KEY_BOOL:
		tp_buf_puts(b, *(const bool *)f ? "true" : "false");
		break;
	case TP_KEY_CATEGORY:
		tp_buf_puts(b, *(const uint32_t *)f & k->bit ? "true" : "false");
		break;
	case TP_KEY_UINT:
		tp_buf_u64(b, k->size == 4 ? *(const uint32_t *)f : *(const uint64_t *)f);
		break;
	case TP_KEY_NUM:
		format_num(b, *(const double *)f);
		break;
	case TP_KEY_DURATION:
		fmt_duration(s, sizeof(s), (double)*(const uint64_t *)f);
		lua_str(b, s);
		break;
	case TP_KEY_SIZE:
		fmt_size(s, sizeof(s), (double)*(const uint64_t *)f);
		lua_str(b, s);
		break;
	case TP_KEY_STR:
	case TP_KEY_ADDR: {
		const char *v = *(const char *const *)f;

		if (v)
			lua_str(b, v);
		else
			tp_buf_puts(b, "nil");
		break;
	}
	case TP_KEY_CHOICE: {
		const char *v = k->flags & TP_KEYF_NAME ? *(const char *const *)f
							: k->choices[*(const int *)f];

		lua_str(b, v);
		break;
	}
	case TP_KEY_CATEGORIES: {
		const char *names[TP_CAT_MAX];
		size_t n = 0;

		for (unsigned c = 1; c < TP_CAT_MAX; c++)
			if (*(const uint32_t *)f & (1u << c))
				names[n++] = tp_category_name(c);
		format_list(b, names, n);
		break;
	}
	case TP_KEY_STRLIST: {
		const struct tp_strlist *l = f;

		format_list(b, l->v, l->n);
		break;
	}
	case TP_KEY_CUSTOM:
		k->format(cfg, k, b);
		break;
	}
}

/* The number of leading dotted parts two group paths share. */
static size_t common_depth(const char *a, const char *b)
{
	size_t depth = 0, i = 0;

	if (!*a || !*b)
		return 0;
	for (;; i++) {
		bool ea = !a[i] || a[i] == '.', eb = !b[i] || b[i] == '.';

		if (ea && eb) {
			depth++;
			if (!a[i] || !b[i])
				return depth;
			continue;
		}
		if (a[i] != b[i])
			return depth;
	}
}

static size_t group_depth(const char *g)
{
	size_t d = *g ? 1 : 0;

	for (; *g; g++)
		d += *g == '.';
	return d;
}

static void indent(struct tp_buf *b, size_t depth)
{
	for (size_t i = 0; i <= depth; i++)
		tp_buf_puts(b, "  ");
}

/*
 * Keys sharing a group become nested Lua tables, in table order. A group's
 * keys are contiguous in the table (a unit test checks), so no table is
 * opened twice.
 */
void tp_config_render(const struct tp_config *cfg, struct tp_buf *b)
{
	char open[64] = "";

	tp_buf_puts(b, "-- tapio-collector effective configuration (a valid config file);\n"
		       "-- each comment says where the value came from.\nreturn {\n");
	for (size_t i = 0; i < NKEYS; i++) {
		const struct tp_config_key *k = &keys[i];
		const char *leaf = strrchr(k->path, '.');
		char group[64] = "";
		size_t keep, depth;

		if (leaf)
			snprintf(group, sizeof(group), "%.*s", (int)(leaf++ - k->path), k->path);
		else
			leaf = k->path;
		keep = common_depth(open, group);
		for (depth = group_depth(open); depth > keep; depth--) {
			indent(b, depth - 1);
			tp_buf_puts(b, "},\n");
		}
		for (const char *p = group; depth < group_depth(group); depth++) {
			const char *part = p;
			size_t n;

			for (size_t skip = 0; skip < depth; skip++)
				part = strchr(part, '.') + 1;
			n = strcspn(part, ".");
			indent(b, depth);
			tp_buf_printf(b, "%.*s = {\n", (int)n, part);
		}
		snprintf(open, sizeof(open), "%s", group);
		indent(b, depth);
		tp_buf_printf(b, "%s = ", leaf);
		tp_config_format_value(cfg, k, b);
		tp_buf_printf(b, ", -- %s\n", tp_config_source_name(cfg->key_source[i]));
	}
	for (size_t depth = group_depth(open); depth > 0; depth--) {
		indent(b, depth - 1);
		tp_buf_puts(b, "},\n");
	}
	tp_buf_puts(b, "}\n");
}

void tp_config_render_reference(struct tp_buf *b)
{
	struct tp_config def;

	tp_config_defaults(&def);
	tp_buf_puts(b, "| key | default | flag / environment | meaning |\n|---|---|---|---|\n");
	for (size_t i = 0; i < NKEYS; i++) {
		const struct tp_config_key *k = &keys[i];
		char want[160];

		tp_config_key_describe(k, want, sizeof(want));
		tp_buf_printf(b, "| `%s` | ", k->path);
		/* The same README whichever tree built the program. */
		if (k->ref_default) {
			tp_buf_puts(b, k->ref_default);
		} else {
			tp_buf_putc(b, '`');
			tp_config_format_value(&def, k, b);
			tp_buf_putc(b, '`');
		}
		tp_buf_puts(b, " | ");
		if (k->flag)
			tp_buf_printf(b, "`%s`", k->flag);
		if (k->flag && k->env)
			tp_buf_puts(b, " ");
		if (k->env)
			tp_buf_printf(b, "`%s`", k->env);
		tp_buf_printf(b, " | %s Accepts %s. |\n", k->doc, want);
	}
	tp_config_free(&def);
}
