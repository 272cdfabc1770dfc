#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "config_kernel.h"
#include "util/time.h"
#include "version.h"

enum {
	OPT_OTLP = 1000,
	OPT_RAW_DIR,
	OPT_BUFFER_SIZE,
	OPT_FLUSH_INTERVAL,
	OPT_CORRELATION,
	OPT_DURATION,
	OPT_METRICS_ADDR,
	OPT_LOG_LEVEL,
	OPT_VALIDATE,
	OPT_VERSION,
};

static const struct option long_options[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "preset", required_argument, NULL, 'p' },
	{ "rules", required_argument, NULL, 'r' },
	{ "server", required_argument, NULL, 's' },
	{ "otlp", required_argument, NULL, OPT_OTLP },
	{ "output", required_argument, NULL, 'o' },
	{ "all-events", no_argument, NULL, 'a' },
	{ "raw-dir", required_argument, NULL, OPT_RAW_DIR },
	{ "buffer-size", required_argument, NULL, OPT_BUFFER_SIZE },
	{ "flush-interval", required_argument, NULL, OPT_FLUSH_INTERVAL },
	{ "correlation", required_argument, NULL, OPT_CORRELATION },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "metrics-addr", required_argument, NULL, OPT_METRICS_ADDR },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "validate", no_argument, NULL, OPT_VALIDATE },
	{ "kernel", required_argument, NULL, 'k' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* "+": stop at the first non-option, so argv[optind] is always the token
 * being parsed (no permutation); ":": report a missing value as ':'. */
static const char short_options[] = "+:c:p:r:s:o:ak:h";

void tp_cli_usage(FILE *out)
{
	fputs("Usage: tapio-collector [OPTIONS]\n"
	      "       tapio-collector replay DIR [-r PATH] [-o json]\n"
	      "       tapio-collector raw cat DIR [--json] [--since T] [--until T] [--type T]\n"
	      "\n"
	      "Observe process, file, network, security, container and memory events with eBPF,\n"
	      "run them through Lua rules, and send what matters to stdout, a Tapio server or an\n"
	      "OpenTelemetry Collector.\n"
	      "\n"
	      "Options:\n"
	      "  -c, --config FILE        Lua config file returning a table\n"
	      "  -p, --preset NAME        default | high-performance | security (default: default)\n"
	      "  -r, --rules PATH         rule file or directory (repeatable)\n"
	      "  -s, --server HOST:PORT   stream semantic events to a Tapio server (gRPC)\n"
	      "      --otlp HOST:PORT     export semantic events as OTLP logs\n"
	      "  -o, --output FMT         text | json | none: events on stdout (default: text)\n"
	      "  -a, --all-events         every decoded event goes to the outputs: no importance\n"
	      "                           threshold, no sampling\n"
	      "      --raw-dir DIR        raw event storage directory (\"off\" disables)\n"
	      "      --buffer-size N      events per batch sent to the server (default: 1000)\n"
	      "      --flush-interval DUR send a partial batch after DUR (default: 1s)\n"
	      "      --correlation MODE   correlation mode announced to the server (default: semantic)\n"
	      "      --duration DUR       stop by itself after DUR (e.g. 30s, 5m)\n"
	      "      --metrics-addr ADDR  Prometheus /metrics and /healthz (default: 127.0.0.1:9464)\n"
	      "      --log-level LEVEL    error | warn | info | debug (default: info)\n"
	      "      --validate           load config and rules, run the rules' tests, and exit\n"
	      "  -k, --kernel KEY=VALUE   in-kernel filter setting (repeatable): categories=LIST,\n"
	      "                           exclude_comm=NAME, exclude_path=PREFIX, drop_failed=LIST,\n"
	      "                           sample.CATEGORY=N, bpf_commands=SET, page_fault_sample=N\n"
	      "      --version            print the version and exit\n"
	      "  -h, --help               print this help and exit\n"
	      "\n"
	      "Environment: TAPIO_SERVER_ADDR, TAPIO_BUFFER_SIZE, TAPIO_CORRELATION_MODE,\n"
	      "TAPIO_LOG_LEVEL, TAPIO_TOKEN_FILE (flags win over the environment).\n"
	      "Signals: SIGHUP reloads rules, SIGTERM/SIGINT stop after flushing, SIGUSR1 logs stats.\n",
	      out);
}

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), prev[64], cur[64];

	if (la >= 63 || lb >= 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, sizeof(cur));
	}
	return prev[lb];
}

const char *tp_cli_suggest(const char *unknown)
{
	const char *best = NULL;
	size_t best_d = 4;
	char name[64];
	size_t n;

	while (*unknown == '-')
		unknown++;
	n = strcspn(unknown, "=");
	if (n >= sizeof(name))
		return NULL;
	memcpy(name, unknown, n);
	name[n] = '\0';
	for (const struct option *o = long_options; o->name; o++) {
		size_t d = edit_distance(name, o->name);

		/* A prefix of an option is a likely abbreviation too. */
		if (n >= 3 && !strncmp(o->name, name, n))
			d = 1;
		if (d < best_d) {
			best_d = d;
			best = o->name;
		}
	}
	return best;
}

static int bad_value(char *err, size_t errlen, const char *opt, const char *val, const char *want)
{
	snprintf(err, errlen, "invalid value '%s' for %s: expected %s", val, opt, want);
	return -EINVAL;
}

static int set_log_level(struct tp_config *cfg, const char *v, const char *opt, char *err,
			 size_t errlen)
{
	if (tp_log_parse_level(v, &cfg->log_level) < 0)
		return bad_value(err, errlen, opt, v, "error, warn, info or debug");
	return 0;
}

static int set_buffer_size(struct tp_config *cfg, const char *v, const char *opt, char *err,
			   size_t errlen)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno || *end || end == v || n == 0 || n > 1000000 || v[0] == '-')
		return bad_value(err, errlen, opt, v, "a number of events from 1 to 1000000");
	cfg->buffer_size = n;
	return 0;
}

int tp_cli_apply_env(struct tp_config *cfg, char *err, size_t errlen)
{
	const char *v;
	int r;

	if ((v = getenv("TAPIO_LOG_LEVEL")) && *v &&
	    (r = set_log_level(cfg, v, "TAPIO_LOG_LEVEL", err, errlen)) < 0)
		return r;
	if ((v = getenv("TAPIO_SERVER_ADDR")) && *v)
		cfg->server = v;
	if ((v = getenv("TAPIO_BUFFER_SIZE")) && *v &&
	    (r = set_buffer_size(cfg, v, "TAPIO_BUFFER_SIZE", err, errlen)) < 0)
		return r;
	if ((v = getenv("TAPIO_CORRELATION_MODE")) && *v)
		cfg->correlation = v;
	if ((v = getenv("TAPIO_CGROUP_V1")) && *v)
		cfg->cgroup_v1_controller = v;
	return 0;
}

int tp_cli_parse(int argc, char **argv, struct tp_config *cfg, FILE *out, char *err, size_t errlen)
{
	const char *prog = "tapio-collector";
	int c, idx, r;

	opterr = 0;
	optind = 1;
	for (;;) {
		int token = optind;

		idx = -1;
		c = getopt_long(argc, argv, short_options, long_options, &idx);
		if (c == -1)
			break;
		/* getopt accepts unambiguous abbreviations (--all-ev); we do not:
		 * a later option with the same prefix would silently change what
		 * an abbreviated command line means. */
		if (idx >= 0 && token < argc && !strncmp(argv[token], "--", 2)) {
			const char *given = argv[token] + 2;
			size_t n = strcspn(given, "=");

			if (n != strlen(long_options[idx].name)) {
				snprintf(err, errlen,
					 "unknown option '--%.*s': did you mean '--%s'? (try '%s --help')",
					 (int)n, given, long_options[idx].name, prog);
				return -EINVAL;
			}
		}
		switch (c) {
		case 'c':
			cfg->config_file = optarg;
			break;
		case 'p':
			cfg->preset = optarg;
			break;
		case 'r':
			if (cfg->nrule_paths == TP_MAX_RULE_PATHS) {
				snprintf(err, errlen, "too many --rules paths (at most %d)",
					 TP_MAX_RULE_PATHS);
				return -EINVAL;
			}
			cfg->rule_paths[cfg->nrule_paths++] = optarg;
			break;
		case 's':
			cfg->server = optarg;
			break;
		case OPT_OTLP:
			cfg->otlp = optarg;
			break;
		case 'o':
			if (tp_format_parse(optarg, &cfg->output) < 0)
				return bad_value(err, errlen, "--output", optarg, "text, json or none");
			break;
		case 'a':
			cfg->all_events = true;
			break;
		case OPT_RAW_DIR:
			cfg->raw_dir = optarg;
			break;
		case OPT_BUFFER_SIZE:
			if ((r = set_buffer_size(cfg, optarg, "--buffer-size", err, errlen)) < 0)
				return r;
			break;
		case OPT_FLUSH_INTERVAL:
			if (tp_parse_duration(optarg, &cfg->flush_interval_ns) < 0 ||
			    cfg->flush_interval_ns == 0)
				return bad_value(err, errlen, "--flush-interval", optarg,
						 "a duration such as 500ms or 2s");
			break;
		case OPT_CORRELATION:
			cfg->correlation = optarg;
			break;
		case OPT_DURATION:
			if (tp_parse_duration(optarg, &cfg->duration_ns) < 0 || cfg->duration_ns == 0)
				return bad_value(err, errlen, "--duration", optarg,
						 "a duration such as 30s, 5m or 1h");
			break;
		case OPT_METRICS_ADDR:
			cfg->metrics_addr = optarg;
			break;
		case OPT_LOG_LEVEL:
			if ((r = set_log_level(cfg, optarg, "--log-level", err, errlen)) < 0)
				return r;
			break;
		case OPT_VALIDATE:
			cfg->validate = true;
			break;
		case 'k':
			if ((r = tp_config_kernel_arg(cfg, optarg, err, errlen)) < 0)
				return r;
			break;
		case OPT_VERSION:
			fprintf(out, "%s %s\n", prog, TAPIO_VERSION);
			return TP_CLI_EXIT_OK;
		case 'h':
			tp_cli_usage(out);
			return TP_CLI_EXIT_OK;
		case ':': {
			const char *opt = argv[optind - 1];

			snprintf(err, errlen, "option '%s' needs a value (try '%s --help')", opt, prog);
			return -EINVAL;
		}
		case '?':
		default: {
			const char *opt = argv[optind - 1];
			const char *hint;

			if (optopt && optopt != '?') {
				snprintf(err, errlen, "unknown option '-%c' (try '%s --help')", optopt, prog);
				return -EINVAL;
			}
			hint = tp_cli_suggest(opt);
			if (hint)
				snprintf(err, errlen, "unknown option '%s': did you mean '--%s'? (try '%s --help')",
					 opt, hint, prog);
			else
				snprintf(err, errlen, "unknown option '%s' (try '%s --help')", opt, prog);
			return -EINVAL;
		}
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s' (try '%s --help')", argv[optind], prog);
		return -EINVAL;
	}
	return 0;
}
