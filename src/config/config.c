#include "config/config.h"

#include <string.h>

#include "config/config_kernel.h" /* kernel defaults (io_uring ops, exec env) */
#include "events.h"
#include "util/datadir.h"
#include "util/time.h"

void tp_config_defaults(struct tp_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->preset = "default";
	cfg->output = TP_FMT_TEXT;
	cfg->buffer_size = 1000;
	cfg->flush_interval_ns = 1 * TP_NSEC_PER_SEC;
	cfg->correlation = "semantic";
	cfg->raw_dir = "/var/lib/tapio/raw";
	cfg->raw_segment_bytes = 64ull << 20;
	cfg->raw_segment_age_ns = 3600 * TP_NSEC_PER_SEC;
	cfg->raw_retention_ns = 24 * 3600 * TP_NSEC_PER_SEC;
	cfg->raw_retention_bytes = 1ull << 30;
	cfg->raw_fsync_interval_ns = 1 * TP_NSEC_PER_SEC;
	cfg->raw_queue_bytes = 16ull << 20;
	cfg->metrics_addr = "127.0.0.1:9464";
	cfg->spool_dir = "/var/lib/tapio/spool";
	cfg->spool_max_bytes = 1ull << 30;
	cfg->queue_max_bytes = 64ull << 20;
	cfg->batch_max_bytes = 1ull << 20;
	cfg->max_inflight = 8;
	cfg->max_response_bytes = 1ull << 20;
	cfg->backoff_min_ns = 500 * TP_NSEC_PER_MSEC;
	cfg->backoff_max_ns = 30 * TP_NSEC_PER_SEC;
	cfg->ack_timeout_ns = 30 * TP_NSEC_PER_SEC;
	/* Within the stop budget (util/stop.h): what is not acked by then waits
	 * in the spool for the next start. */
	cfg->drain_timeout_ns = 200 * TP_NSEC_PER_MSEC;
	cfg->categories = ((1u << TP_CAT_KERNEL_MAX) - 1) & ~1u;
	cfg->ring_bytes = 8u << 20;
	cfg->drain_interval_ns = 10 * TP_NSEC_PER_MSEC;
	cfg->drain_batch = 4096;
	cfg->cgroup_v1_controller = "auto";
	cfg->bpf_cmd_mask = TP_BPF_CMDS_CONTROL;
	cfg->io_uring_op_mask = TP_IO_URING_OPS_DEFAULT;
	tp_config_exec_env_default(cfg);
	cfg->page_fault_period = 10000;
	cfg->rules_dir = tp_shipped_rules_dir();
	cfg->importance_threshold = 0.7; /* the dual path: alerts and important events */
	cfg->aggregate_window_ns = 60 * TP_NSEC_PER_SEC;
	cfg->aggregate_hold_ns = 2 * TP_NSEC_PER_SEC;
	cfg->rule_instr_budget = 200000;
	cfg->lua_mem_max = 64ull << 20;
	cfg->rule_mem_call_max = 8ull << 20;
	cfg->rule_fault_limit = 10;
	cfg->rules_watch_interval_ns = 2 * TP_NSEC_PER_SEC;
	cfg->file_max_size = 100ull << 20;
	cfg->file_max_backups = 5;
	cfg->rules_reload_timeout_ns = 5 * TP_NSEC_PER_SEC;
	cfg->rules_user_dir = "/etc/tapio/rules.d";
	cfg->rules_state_max = 64ull << 20;
	cfg->rule_state_max = 8ull << 20;
	cfg->enrich = true;
	cfg->enrich_processes = 32768;
	cfg->enrich_ancestors = 8;
	cfg->enrich_argv_bytes = 512;
	cfg->enrich_cgroups = 4096;
	cfg->k8s_pod_logs_dir = "/var/log/pods";
	cfg->k8s_container_logs_dir = "/var/log/containers";
	cfg->containerd_state_dir = "/run/containerd";
	cfg->docker_data_dir = "/var/lib/docker";
	cfg->log_level = TP_LOG_INFO;
	cfg->stats_interval_ns = 60 * TP_NSEC_PER_SEC;
	cfg->log_format = TP_LOG_FMT_AUTO;
	cfg->min_severity = TP_SEV_DEBUG;

	cfg->sampling.enabled = false;
	cfg->sampling.base_rate = 0.1;
	cfg->sampling.importance_boost = 10;
	cfg->sampling.never_sample_importance = 0.8;
	cfg->sampling.never_sample_categories = 0;
	cfg->sampling.burst_protection = true;
	cfg->sampling.burst_threshold = 10000;

	cfg->rate_limit.per_process = 1000;
	cfg->rate_limit.per_process_burst = 2000;
	cfg->rate_limit.per_container = 5000;
	cfg->rate_limit.per_container_burst = 10000;
	cfg->rate_limit.global = 20000;
	cfg->rate_limit.global_burst = 40000;
}
