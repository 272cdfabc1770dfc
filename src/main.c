/*
 * main.c - tapio-collector: parse the command line, open the live source,
 * build the pipeline, run until stopped.
 *
 * Only main prints to the user and exits; everything below returns errors.
 * Exit codes: 0 success, 1 runtime failure, 2 usage or configuration error.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "app.h"
#include "bpf/loader.h"
#include "bpf/source_bpf.h"
#include "cli.h"
#include "config/config.h"
#include "config/config_kernel.h"
#include "config/config_keys.h"
#include "enrich/cgroupfs.h"
#include "enrich/lua_fields.h"
#include "lua/rules_cmd.h"
#include "lua/rules_stage.h"
#include "obs/health.h"
#include "obs/log.h"
#include "obs/metrics_http.h"
#include "obs/procstats.h"
#include "output/stdout.h"
#include "storage/raw_cmd.h"
#include "storage/source_raw.h"
#include "util/caps.h"
#include "version.h"

#define EXIT_USAGE 2

static int fail(int code, const char *msg)
{
	fprintf(stderr, "tapio-collector: %s\n", msg);
	return code;
}

static uint32_t category_list(const struct tp_config *cfg, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned c = 1; c < TP_CAT_KERNEL_MAX; c++)
		if (cfg->categories & (1u << c))
			used += snprintf(buf + used, used < len ? len - used : 0, "%s%s",
					 used ? "," : "", tp_category_name(c));
	return cfg->categories;
}

static void log_raw_summary(const char *what, struct tp_source *src)
{
	struct tp_raw_source_stats st;

	tp_source_raw_stats(src, &st);
	tp_info("%s: %llu events from %llu segments (%llu records read, %llu undecodable, %llu "
		"segments damaged, %llu bytes skipped in %llu damaged regions, %llu not closed by "
		"their writer)",
		what, (unsigned long long)st.delivered, (unsigned long long)st.segments,
		(unsigned long long)st.records, (unsigned long long)st.decode_errors,
		(unsigned long long)st.segments_damaged, (unsigned long long)st.damaged_bytes,
		(unsigned long long)st.damaged_regions, (unsigned long long)st.segments_unclosed);
}

/* tapio-collector raw cat PATH [--json] [--since T] [--until T] [--type T] */
static int raw_main(int argc, char **argv)
{
	struct tp_raw_cmd cmd;
	struct tp_source *src;
	char err[4400];
	int r;

	if (argc < 2 || strcmp(argv[1], "cat")) {
		if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
			tp_raw_cmd_usage(stdout);
			return 0;
		}
		tp_raw_cmd_usage(stderr);
		return fail(EXIT_USAGE, argc < 2 ? "raw needs a subcommand: raw cat DIR" :
						   "unknown raw subcommand (known: cat)");
	}
	r = tp_raw_cmd_parse_cat(argc - 1, argv + 1, &cmd, stdout, err, sizeof(err));
	if (r == TP_RAW_CMD_HELP)
		return 0;
	if (r < 0)
		return fail(EXIT_USAGE, err);
	if (tp_source_raw_open(&src, cmd.path, &cmd.filter, err, sizeof(err)) < 0)
		return fail(EXIT_FAILURE, err);
	r = tp_raw_cat(src, STDOUT_FILENO, cmd.fmt, tp_output_want_color(STDOUT_FILENO), err,
		       sizeof(err));
	if (r >= 0)
		log_raw_summary("raw cat", src);
	tp_source_close(src);
	return r < 0 && r != -EPIPE ? fail(EXIT_FAILURE, err) : 0;
}

/* tapio-collector replay PATH [--since T] [--until T] [--type T] [OPTIONS]:
 * stored events through the same pipeline as a live run. */
static int replay_main(int argc, char **argv)
{
	struct tp_agent_hooks hooks;
	struct tp_raw_cmd cmd;
	struct tp_source *src;
	struct tp_config cfg;
	struct tp_app app;
	char err[4400];
	int r;

	tp_config_defaults(&cfg);
	r = tp_raw_cmd_parse_replay(&argc, argv, &cmd, stdout, err, sizeof(err));
	if (r == TP_RAW_CMD_HELP || r < 0) {
		r = r < 0 ? fail(EXIT_USAGE, err) : 0;
		goto out;
	}
	tp_config_free(&cfg);
	r = tp_cli_load(argc, argv, &cfg, stdout, err, sizeof(err));
	if (r == TP_CLI_EXIT_OK || r < 0) {
		r = r < 0 ? fail(EXIT_USAGE, err) : 0;
		goto out;
	}
	tp_log_set_level(cfg.log_level);
	tp_log_set_format(cfg.log_format);
	tp_agent_install_signals();
	if (tp_source_raw_open(&src, cmd.path, &cmd.filter, err, sizeof(err)) < 0) {
		r = fail(EXIT_FAILURE, err);
		goto out;
	}
	r = tp_app_build(&app, &cfg, TP_APP_REPLAY, err, sizeof(err));
	if (r < 0) {
		tp_source_close(src);
		r = fail(EXIT_FAILURE, err);
		goto out;
	}
	tp_app_hooks(&app, &hooks);
	r = tp_agent_run(src, &app.pipe, &cfg, NULL, &hooks);
	log_raw_summary("replay", src);
	tp_app_close(&app);
	tp_source_close(src);
	r = r < 0 ? EXIT_FAILURE : 0;
out:
	tp_config_free(&cfg);
	return r;
}

/*
 * tapio-collector rules list [-o json] [OPTIONS]
 * tapio-collector rules test [PATH] [OPTIONS]
 * The rules of the configuration the other options make (-c, -p, -r, --set),
 * without BPF or root.
 */
static int rules_main(int argc, char **argv)
{
	static const char usage[] =
	    "Usage: tapio-collector rules list [-o json] [-c FILE] [-p NAME] [-r PATH]...\n"
	    "       tapio-collector rules test [PATH] [-c FILE] [-p NAME] [-r PATH]...\n"
	    "list: the rules that load (name, severity, events, file:line, tags, overrides,\n"
	    "exceptions); test: run their inline tests (PATH: one file or folder instead).\n";
	const char *cmd = argc > 1 ? argv[1] : NULL, *path = NULL;
	char *args[argc + 1];
	struct tp_config cfg;
	char err[4096];
	int n = 0, r;

	if (!cmd || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		fputs(usage, cmd ? stdout : stderr);
		return cmd ? 0 : EXIT_USAGE;
	}
	if (strcmp(cmd, "list") && strcmp(cmd, "test")) {
		fputs(usage, stderr);
		return fail(EXIT_USAGE, "unknown rules subcommand (known: list, test)");
	}
	/* argv[0], then the options; rules test takes one PATH first. */
	args[n++] = argv[-1];
	for (int i = 2; i < argc; i++) {
		if (!strcmp(cmd, "test") && !path && i == 2 && argv[i][0] != '-')
			path = argv[i];
		else
			args[n++] = argv[i];
	}
	args[n] = NULL;
	r = tp_cli_load(n, args, &cfg, stdout, err, sizeof(err));
	if (r == TP_CLI_EXIT_OK)
		return 0;
	if (r < 0)
		return fail(EXIT_USAGE, err);
	tp_log_set_level(cfg.log_level);
	tp_log_set_format(cfg.log_format);
	if (!strcmp(cmd, "list"))
		r = tp_rules_cmd_list(&cfg, cfg.output == TP_FMT_JSON, stdout, stderr);
	else
		r = tp_rules_cmd_test(&cfg, path, stdout);
	tp_config_free(&cfg);
	return r < 0 ? EXIT_FAILURE : 0;
}

/* Print the effective configuration (--print-config). */
static void print_config(const struct tp_config *cfg)
{
	struct tp_buf b;

	tp_buf_init(&b);
	tp_config_render(cfg, &b);
	fwrite(b.data, 1, b.len, stdout);
	tp_buf_free(&b);
}

/*
 * Least privilege once the programs are attached and every thread runs:
 * keep what reloads, /proc reads and kernel filter updates need, in every
 * thread, and say what was kept. A failure is logged, not fatal: the agent
 * then runs with what it has.
 */
static void drop_capabilities(void)
{
	uint64_t kept, dropped;
	char names[256], err[256];
	int r = tp_caps_drop_runtime(&kept, &dropped, err, sizeof(err));

	tp_caps_names(kept, names, sizeof(names));
	if (r < 0) {
		tp_warn("capabilities: could not drop the ones no longer needed: %s", err);
		return;
	}
	tp_info("capabilities: kept %s (kernel filter updates and drop counters, /proc of other "
		"users' processes, files in containers)%s",
		names, r ? "; every other one dropped in every thread" : "");
	(void)dropped;
}

/*
 * Serve /metrics, /healthz and /livez. An address given explicitly must
 * work; the default one is best effort (another agent on the node may hold
 * it), so the collector says so and runs without the endpoint.
 */
static int start_metrics(const struct tp_config *cfg, struct tp_metrics_http **http, char *err,
			 size_t errlen)
{
	bool explicit = tp_config_source_of(cfg, "metrics.address") != TP_SRC_DEFAULT;
	int r;

	*http = NULL;
	if (!cfg->metrics_addr || !strcmp(cfg->metrics_addr, "off"))
		return 0;
	r = tp_metrics_http_start(http, cfg->metrics_addr, err, errlen);
	if (r < 0 && explicit)
		return r;
	if (r < 0) {
		tp_warn("%s; running without /metrics and /healthz (choose another address with "
			"--metrics-addr, or turn it off)",
			err);
		return 0;
	}
	tp_info("metrics on http://%s/metrics (health on /healthz, /livez)",
		tp_metrics_http_addr(*http));
	return 0;
}

/*
 * TAPIO_TEST_NO_TYPED_BPF=1, for tests: load as on a kernel without
 * bpf_rdonly_cast (before 6.2): the families built without kfuncs
 * (bpf/common.bpf.h), each program on typed loads switched off and its
 * NAME_compat twin on probe reads loaded instead (src/bpf/loader.c). The
 * fallbacks are exercised on a kernel that never needs them.
 * TAPIO_TEST_NO_TYPED_BPF=refused: the typed build is loaded, the kernel
 * refuses its programs, and each family falls back to the build without.
 */
static int test_no_typed_loads(struct tp_bpf_opts *bopts, char *err, size_t errlen)
{
	const char *v = getenv("TAPIO_TEST_NO_TYPED_BPF");

	if (!v || !*v || !strcmp(v, "0"))
		return 0;
	if (!strcmp(v, "refused")) {
		tp_warn("TAPIO_TEST_NO_TYPED_BPF=refused: the kernel is made to refuse the BPF "
			"programs built with typed loads; each family falls back to the build without");
		bopts->refuse_typed_loads = true;
		return 0;
	}
	if (strcmp(v, "1")) {
		snprintf(err, errlen, "TAPIO_TEST_NO_TYPED_BPF=%s: expected 1 (load the probe-read "
				      "twins as on a kernel before 6.2), refused (the kernel refuses "
				      "the typed build) or 0",
			 v);
		return -EINVAL;
	}
	tp_warn("TAPIO_TEST_NO_TYPED_BPF=1: loading as on a kernel without bpf_rdonly_cast: the "
		"BPF programs built without typed loads, twins on probe reads for the typed ones");
	bopts->no_typed_loads = true;
	return 0;
}

int main(int argc, char **argv)
{
	struct tp_bpf_opts bopts = { 0 };
	struct tp_metrics_http *http = NULL;
	struct tp_cgroupfs cgfs;
	struct tp_agent_hooks hooks;
	struct tp_source *src = NULL;
	struct tp_config cfg;
	struct tp_app app;
	char err[4096], cats[128], skipped[96] = "", path[96];
	size_t nprogs, nskipped = 0;
	int r, code = 0;

	tp_agent_mark_start();
	/* Before any Lua VM: live runs, replays and --validate alike. */
	if ((r = tp_enrich_lua_register()) < 0) {
		snprintf(err, sizeof(err), "cannot register the enrichment's Lua fields: %s",
			 strerror(-r));
		return fail(EXIT_FAILURE, err);
	}
	if (argc > 1 && !strcmp(argv[1], "raw"))
		return raw_main(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "replay"))
		return replay_main(argc, argv);
	if (argc > 1 && !strcmp(argv[1], "rules"))
		return rules_main(argc - 1, argv + 1);

	r = tp_cli_load(argc, argv, &cfg, stdout, err, sizeof(err));
	if (r == TP_CLI_EXIT_OK)
		goto out;
	if (r < 0) {
		code = fail(EXIT_USAGE, err);
		goto out;
	}
	tp_log_set_level(cfg.log_level);
	tp_log_set_format(cfg.log_format);
	if (cfg.print_config) {
		print_config(&cfg);
		goto out;
	}
	if (cfg.validate) {
		code = tp_rules_validate(&cfg, stdout) < 0 ? EXIT_FAILURE : 0;
		goto out;
	}

	/* An output that cannot work: the key to change, before anything starts. */
	r = tp_app_check_outputs(&cfg, err, sizeof(err));
	if (r < 0) {
		code = fail(r == -EINVAL ? 2 : EXIT_FAILURE, err);
		goto out;
	}
	/* Missing privileges or BTF: one sentence, before anything starts. */
	if (tp_bpf_preflight(err, sizeof(err)) < 0) {
		code = fail(EXIT_FAILURE, err);
		goto out;
	}
	tp_agent_install_signals();
	tp_procstats_register();
	tp_health_register_metrics();
	if (start_metrics(&cfg, &http, err, sizeof(err)) < 0) {
		code = fail(EXIT_FAILURE, err);
		goto out;
	}

	bopts.categories = cfg.categories;
	bopts.ring_bytes = cfg.ring_bytes;
	bopts.wakeup_bytes = cfg.ring_bytes / 4;
	bopts.shed_failed_bytes = cfg.ring_bytes / 2;
	bopts.self_pid = (uint32_t)getpid();
	if (tp_cgroupfs_open(&cgfs, cfg.cgroup_v1_controller, err, sizeof(err)) < 0) {
		code = fail(EXIT_FAILURE, err);
		goto out;
	}
	bopts.cgroup_v1_subsys = cgfs.v1_subsys;
	tp_config_kfilter(&cfg, &bopts.filter);
	bopts.page_fault_period = cfg.page_fault_period;
	if (test_no_typed_loads(&bopts, err, sizeof(err)) < 0) {
		code = fail(EXIT_USAGE, err);
		goto out;
	}
	r = tp_source_bpf_open(&src, &bopts, err, sizeof(err));
	if (r < 0) {
		code = fail(EXIT_FAILURE, err);
		goto out;
	}

	r = tp_app_build(&app, &cfg, TP_APP_LIVE, err, sizeof(err));
	if (r < 0) {
		code = fail(EXIT_FAILURE, err);
		goto out;
	}
	tp_app_hooks(&app, &hooks);
	drop_capabilities();

	category_list(&cfg, cats, sizeof(cats));
	{
		const struct tp_prog_info *progs = tp_bpf_programs(tp_source_bpf_loader(src), &nprogs);

		for (size_t i = 0; i < nprogs; i++)
			nskipped += progs[i].status == TP_PROG_SKIPPED;
		if (nskipped)
			snprintf(skipped, sizeof(skipped), ", %zu skipped (/healthz says why)",
				 nskipped);
	}
	if (cfg.all_events)
		snprintf(path, sizeof(path), "every event (-a)");
	else
		snprintf(path, sizeof(path), "alerts and events scored %.2g or more (-a: every event)",
			 cfg.importance_threshold);
	tp_info("tapio-collector %s ready: %zu programs attached (categories: %s)%s, output %s: "
		"%s; started in %.1f s",
		TAPIO_VERSION, tp_bpf_attached_count(tp_source_bpf_loader(src)), cats, skipped,
		cfg.output == TP_FMT_JSON ? "json" : cfg.output == TP_FMT_TEXT ? "text" : "none",
		path, tp_agent_uptime_ns() / 1e9);
	if (cfg.duration_ns && tp_agent_uptime_ns() >= cfg.duration_ns)
		tp_warn("--duration %.1f s ended during start-up: stopping at once",
			cfg.duration_ns / 1e9);

	r = tp_agent_run(src, &app.pipe, &cfg, tp_source_bpf_loader(src), &hooks);

	/* The exit counters are what is on disk and what went out. */
	tp_app_settle(&app);
	tp_agent_log_summary("exit", tp_agent_uptime_ns());
	tp_agent_log_stats_at(TP_LOG_DEBUG, "exit");
	tp_app_close(&app);
	code = r < 0 ? EXIT_FAILURE : 0;
out:
	tp_metrics_http_stop(http);
	tp_source_close(src);
	tp_health_unregister_metrics();
	tp_procstats_unregister();
	tp_config_free(&cfg);
	return code;
}
