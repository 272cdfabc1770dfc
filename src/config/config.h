/*
 * config/config.h - every setting of the agent, with its default.
 *
 * Precedence: defaults < preset < config file < environment < flags.
 * tp_config_defaults gives the built-in default; every setting a file, the
 * environment or a flag can change is a key in config_keys.c; the CLI and
 * environment layers live in cli.c.
 */
#ifndef TAPIO_CONFIG_H
#define TAPIO_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "events.h"
#include "events/event_meta.h"
#include "events/format.h"
#include "obs/log.h"

#define TP_MAX_RULE_PATHS 32
#define TP_CONFIG_MAX_KEYS 256

/* A list of strings from a config file, the environment or a flag; the
 * strings are owned by the config (see tp_config_free). */
struct tp_strlist {
	const char **v;
	size_t n;
};

/* Where a setting's value came from, lowest precedence first. */
enum tp_config_source {
	TP_SRC_DEFAULT = 0,
	TP_SRC_PRESET,
	TP_SRC_FILE,
	TP_SRC_ENV,
	TP_SRC_FLAG,
};

/* Adaptive sampling and rate limits: the sampler stage, the last before the
 * outputs. Alerts, events at or above never_sample_importance and events of
 * the never_sample_categories are never sampled or rate limited. */
struct tp_sampling_config {
	bool enabled;                    /* adaptive sampling */
	double base_rate;                /* fraction kept of importance-0 events */
	double importance_boost;         /* importance-1 events: base_rate * boost */
	double never_sample_importance;  /* [0, 1]; > 1 never applies */
	uint32_t never_sample_categories; /* bit (1 << TP_CAT_x) */
	bool burst_protection;           /* lower the rate when input exceeds the threshold */
	uint64_t burst_threshold;        /* events/s into the sampler */
};

struct tp_rate_limit_config {
	uint64_t per_process;            /* events/s per process; 0: no limit */
	uint64_t per_process_burst;
	uint64_t per_container;          /* events/s per cgroup */
	uint64_t per_container_burst;
	uint64_t global;                 /* events/s in all */
	uint64_t global_burst;
};

/* bpf(2) commands that change what runs in the kernel or reach objects of
 * others: every command but element access, iteration and info queries. */
#define TP_BPF_CMDS_CONTROL                                                                  \
	(~((1ull << 1) | (1ull << 2) | (1ull << 3) | (1ull << 4) | (1ull << 11) |           \
	   (1ull << 12) | (1ull << 15) | (1ull << 16) | (1ull << 20) | (1ull << 21) |          \
	   (1ull << 23) | (1ull << 24) | (1ull << 25) | (1ull << 26) | (1ull << 27) |          \
	   (1ull << 31)))

struct tp_config {
	/* Where more configuration comes from. */
	const char *config_file;
	const char *preset;
	const char *rule_paths[TP_MAX_RULE_PATHS];
	unsigned nrule_paths;

	/* Outputs. */
	enum tp_output_format output;
	bool all_events;         /* every decoded event to the outputs, unsampled */
	const char *server;      /* HOST:PORT of a Tapio server (gRPC) */
	const char *otlp;        /* HOST:PORT of an OTLP logs receiver */
	const char *file_path;   /* JSON-lines file output (output/file.h); NULL: none */
	uint64_t file_max_size;  /* rotate past this many bytes; 0: never */
	uint32_t file_max_backups; /* rotated files kept */
	const char *webhook_url; /* HTTP webhook in Falco's alert shape (output/webhook.h) */
	bool webhook_all_events; /* events without an alert too (priority Informational) */
	const char *syslog_address; /* unix:/dev/log, tcp:HOST:PORT, udp:HOST:PORT (output/syslog.h) */
	uint64_t buffer_size;    /* events per delivery batch */
	uint64_t flush_interval_ns;
	const char *correlation; /* correlation mode sent to the server */
	const char *raw_dir;     /* raw event storage; "off" disables */
	uint64_t raw_segment_bytes;   /* start a new raw segment file past this size */
	uint64_t raw_segment_age_ns;  /* ... or when the current one is this old */
	uint64_t raw_retention_ns;    /* delete raw segments older than this (0: keep) */
	uint64_t raw_retention_bytes; /* delete the oldest raw segments past this total (0: no
				       * cap); segments are cut to a quarter of it */
	uint64_t raw_fsync_interval_ns; /* raw events reach the disk within this: a crash loses at most it */
	uint64_t raw_queue_bytes;     /* memory for raw events not yet written; past it they are dropped */
	const char *metrics_addr;

	/* Delivery to --server and --otlp: each output keeps unacked batches in
	 * memory up to queue_max_bytes, then in <spool_dir>/<output> up to
	 * spool_max_bytes, and drops lowest importance first past that. */
	const char *collector_id;     /* names this collector's batches; NULL: the host name */
	const char *token_file;       /* bearer token sent to both (TAPIO_TOKEN_FILE) */
	const char *tls_ca;           /* --server: PEM CA bundle to verify it; set: TLS */
	const char *tls_cert;         /* --server: PEM client certificate (with tls_key) */
	const char *tls_key;
	const char *otlp_tls_ca;      /* --otlp: the same three */
	const char *otlp_tls_cert;
	const char *otlp_tls_key;
	const char *spool_dir;        /* "off": memory only */
	uint64_t spool_max_bytes;     /* per output */
	uint64_t queue_max_bytes;     /* per output, in memory */
	uint64_t batch_max_bytes;     /* a batch also ends at this size (receivers cap messages) */
	uint32_t max_inflight;        /* batches sent and not yet acked, per output */
	uint64_t max_response_bytes;  /* larger responses fail the call */
	uint64_t backoff_min_ns;      /* reconnect backoff: first delay ... */
	uint64_t backoff_max_ns;      /* ... doubling up to this, with jitter */
	uint64_t ack_timeout_ns;      /* no ack for this long: reconnect and resend */
	uint64_t drain_timeout_ns;    /* at exit, time to deliver before spooling the rest */

	/* Kernel side. */
	uint32_t categories;     /* bit (1 << TP_CAT_x) per enabled category */
	uint64_t ring_bytes;
	uint64_t drain_interval_ns; /* how often the reader drains the ring */
	uint32_t drain_batch;    /* records per drain before signals and timers run */
	const char *cgroup_v1_controller; /* v1 hierarchy reported as cgroup_v1_id: a
					   * controller name, "auto" (default) or "none" */

	/* In-kernel filtering (src/config/config_kernel.c: set by key, e.g. -k sample.file=10). */
	uint32_t kernel_sample[TP_CAT_MAX]; /* keep 1 in N events of a category; 0 or 1 keeps all */
	uint32_t drop_failed;    /* bit (1 << TP_CAT_x): drop that category's failed syscalls */
	const char *exclude_comms[TP_EXCLUDE_MAX]; /* task names whose events are dropped */
	unsigned nexclude_comms;
	const char *exclude_paths[TP_EXCLUDE_MAX]; /* file events under these prefixes dropped */
	unsigned nexclude_paths;
	uint64_t bpf_cmd_mask;   /* bit (1 << cmd): bpf(2) commands reported as security.bpf */
	uint64_t io_uring_op_mask; /* bit (1 << IORING_OP_*): ops reported as security.io_uring */
	char exec_env[TP_ENV_NAMES_MAX][TP_ENV_NAME_MAX]; /* environment variables process.exec
							    * reports (copies: cfg is a value) */
	unsigned nexec_env;
	uint64_t page_fault_period; /* memory.page_fault: 1 in N user page faults per CPU; 0: off */

	/* Lua rules (lua/rules.h, lua/rules_stage.h). */
	const char *rules_dir;       /* shipped rule sets: <dir>/default is used without -r */
	double importance_threshold; /* without -a, events scored below it (unscored: 0) stay
				      * off the outputs; alerts always go out. Default 0.7:
				      * the dual path (raw storage keeps every event) */
	uint64_t aggregate_window_ns; /* repeats of a rule for one process within it fold
				       * into one alert (lua/aggregate.h); 0: off */
	uint64_t aggregate_hold_ns;   /* the first alert line waits this long for repeats */
	uint64_t rule_instr_budget;  /* Lua VM instructions per rule call; default 200000 */
	uint64_t lua_mem_max;        /* bytes the rules' VM may hold; default 64 MiB */
	uint64_t rule_mem_call_max;  /* bytes one rule call may add; default 8 MiB */
	uint32_t rule_fault_limit;   /* faults before a rule is quarantined until the next
				      * reload; 0: never; default 10 */
	bool rules_watch;            /* reload when rule files change on disk */
	uint64_t rules_watch_interval_ns; /* how often they are looked at; default 2 s */
	uint64_t rules_reload_timeout_ns; /* a reload still loading after it is given up;
					   * default 5 s */
	const char *rules_user_dir;  /* the user's exceptions/overrides, loaded after the
				      * rules when it exists; "off": none */
	uint64_t rules_state_max;    /* bytes the rules' state may hold in all; 64 MiB */
	uint64_t rule_state_max;     /* bytes one rule's state may hold; 8 MiB */

	/* Enrichment: process tree, containers, Kubernetes (see proc_ctx.h). */
	bool enrich;                     /* run the enrichment stage */
	uint32_t enrich_processes;       /* processes tracked; least recently seen evicted beyond */
	uint32_t enrich_ancestors;       /* ancestors listed beyond the parent */
	uint32_t enrich_argv_bytes;      /* bytes of arguments kept per process */
	uint32_t enrich_cgroups;         /* cgroups whose container/pod context is cached */
	const char *k8s_pod_logs_dir;    /* kubelet's <ns>_<pod>_<uid> log dirs; "off" disables */
	const char *k8s_container_logs_dir; /* kubelet's <pod>_<ns>_<ctr>-<id>.log links; "off" disables */
	const char *containerd_state_dir; /* tells containerd's bare container ids; "off" disables */
	const char *docker_data_dir;     /* tells docker's bare container ids; "off" disables */

	/* Run control. */
	uint64_t duration_ns;    /* 0: until stopped */
	enum tp_log_level log_level;
	bool validate;           /* load config and rules, run rule tests, exit */
	uint64_t stats_interval_ns; /* periodic stats log line; 0 disables */
	enum tp_log_format log_format;
	bool print_config;       /* print the effective configuration and exit */

	struct tp_sampling_config sampling;
	struct tp_rate_limit_config rate_limit;

	/* Scope of the semantic path (scope.h): globs on comm or exe path,
	 * container id prefixes or globs, Kubernetes namespace globs. */
	struct tp_strlist scope_processes;         /* only these; empty: all */
	struct tp_strlist scope_exclude_processes; /* never these */
	struct tp_strlist scope_containers;
	struct tp_strlist scope_exclude_containers;
	struct tp_strlist scope_k8s_namespaces;
	struct tp_strlist scope_exclude_k8s_namespaces;
	/* Alerts below it are not raised (those rules do not run); events
	 * without an alert count as TP_SEV_EVENT (info). Default debug: all. */
	enum tp_severity min_severity;

	/* Bookkeeping of the config loader (config_keys.h). */
	uint8_t key_source[TP_CONFIG_MAX_KEYS]; /* enum tp_config_source, by key index */
	struct tp_config_alloc *owned;          /* strings and lists the config owns */
};

void tp_config_defaults(struct tp_config *cfg);

/* Free what the config owns (strings and lists from files, env, flags). */
void tp_config_free(struct tp_config *cfg);

#endif
