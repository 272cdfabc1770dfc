#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config_file.h"
#include "config/config_kernel.h"
#include "config/config_keys.h"
#include "pipeline/scope.h"
#include "util/strdist.h"
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
	OPT_LOG_FORMAT,
	OPT_SET,
	OPT_PRINT_CONFIG,
	OPT_PRINT_KEYS,
	OPT_ENABLE_EBPF,
};

/* Flags that set a config key: their values are checked by the key table,
 * exactly as the same value in a config file or the environment. */
static const struct {
	int opt;
	const char *key;
} option_keys[] = {
	{ 'o', "output.format" },
	{ 's', "server.address" },
	{ OPT_OTLP, "otlp.address" },
	{ OPT_RAW_DIR, "storage.raw_dir" },
	{ OPT_BUFFER_SIZE, "server.batch_size" },
	{ OPT_FLUSH_INTERVAL, "server.flush_interval" },
	{ OPT_CORRELATION, "server.correlation" },
	{ OPT_METRICS_ADDR, "metrics.address" },
	{ OPT_LOG_LEVEL, "log.level" },
	{ OPT_LOG_FORMAT, "log.format" },
};

static const struct option long_options[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "preset", required_argument, NULL, 'p' },
	{ "rules", required_argument, NULL, 'r' },
	{ "replace-rules", required_argument, NULL, 'R' },
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
	{ "log-format", required_argument, NULL, OPT_LOG_FORMAT },
	{ "set", required_argument, NULL, OPT_SET },
	{ "print-config", no_argument, NULL, OPT_PRINT_CONFIG },
	{ "print-keys", no_argument, NULL, OPT_PRINT_KEYS },
	{ "enable-ebpf", optional_argument, NULL, OPT_ENABLE_EBPF },
	{ "validate", no_argument, NULL, OPT_VALIDATE },
	{ "kernel", required_argument, NULL, 'k' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* "+": stop at the first non-option, so argv[optind] is always the token
 * being parsed (no permutation); ":": report a missing value as ':'. */
static const char short_options[] = "+:c:p:r:R:s:o:ak:h";

/* "Environment: TAPIO_..., ..." wrapped at 80 columns: every variable of
 * the key table and the ones read here. */
static void usage_environment(FILE *out)
{
	static const char *const extra[] = { "TAPIO_RULES", "TAPIO_DEBUG", "TAPIO_ENABLE_EBPF" };
	size_t col = (size_t)fprintf(out, "Environment:");
	bool first = true;

	for (size_t i = 0; i < tp_config_key_count() + 3; i++) {
		const char *name = i < tp_config_key_count() ? tp_config_key_at(i)->env
							     : extra[i - tp_config_key_count()];

		if (!name)
			continue;
		if (col + strlen(name) + 2 > 80) {
			fputs(",\n", out);
			col = (size_t)fprintf(out, "%s", name);
		} else {
			col += (size_t)fprintf(out, "%s%s", first ? " " : ", ", name);
		}
		first = false;
	}
	fputs("\n", out);
}

void tp_cli_usage(FILE *out)
{
	fputs("Usage: tapio-collector [OPTIONS]\n"
	      "       tapio-collector replay DIR [-r PATH] [-o json]\n"
	      "       tapio-collector raw cat DIR [--json] [--since T] [--until T] [--type T]\n"
	      "       tapio-collector rules list [-o json] [OPTIONS]\n"
	      "       tapio-collector rules test [PATH] [OPTIONS]\n"
	      "\n"
	      "Observe process, file, network, security, container and memory events with eBPF,\n"
	      "run them through Lua rules, and send what matters to stdout, a Tapio server or an\n"
	      "OpenTelemetry Collector.\n"
	      "\n"
	      "Options:\n"
	      "  -c, --config FILE        Lua config file returning a table\n"
	      "  -p, --preset NAME        default | high-performance | security (default: default)\n"
	      "  -r, --rules PATH         a rule file or directory besides the preset's rule sets\n"
	      "                           (repeatable)\n"
	      "  -R, --replace-rules PATH a rule file or directory instead of the preset's rule\n"
	      "                           sets (repeatable; -r adds to these)\n"
	      "  -s, --server HOST:PORT   stream alerts and important events to a Tapio server\n"
	      "                           (gRPC)\n"
	      "      --otlp HOST:PORT     export alerts and important events as OTLP logs\n"
	      "  -o, --output FMT         text | json | none: events on stdout (default: text)\n"
	      "  -a, --all-events         every decoded event goes to the outputs: no importance\n"
	      "                           threshold, no sampling\n"
	      "      --raw-dir DIR        raw event storage directory (\"off\" disables)\n"
	      "      --buffer-size N      events per batch sent to the server (default: 1000)\n"
	      "      --flush-interval DUR send a partial batch after DUR (default: 1s)\n"
	      "      --correlation MODE   correlation mode announced to the server (default: semantic)\n"
	      "      --duration DUR       stop by itself DUR after the start (e.g. 30s, 5m)\n"
	      "      --metrics-addr ADDR  Prometheus /metrics and /healthz (default: 127.0.0.1:9464)\n"
	      "      --log-level LEVEL    error | warn | info | debug | trace (default: info)\n"
	      "      --log-format FMT     auto | text | json | journal (default: auto: journal\n"
	      "                           under systemd, else text)\n"
	      "      --set KEY=VALUE      set one config key, e.g. --set sampling.base_rate=0.05\n"
	      "                           (repeatable; wins over the config file and environment)\n"
	      "      --print-config       print the effective configuration as a config file, exit\n"
	      "      --print-keys         print the reference table of config keys (Markdown), exit\n"
	      "      --enable-ebpf        accepted for the Go collector's command lines: eBPF is\n"
	      "                           always on\n"
	      "      --validate           load config and rules, run the rules' tests, and exit\n"
	      "  -k, --kernel KEY=VALUE   in-kernel filter setting (repeatable): categories=LIST,\n"
	      "                           exclude_comm=NAME, exclude_path=PREFIX, drop_failed=LIST,\n"
	      "                           sample.CATEGORY=N, bpf_commands=SET, page_fault_sample=N,\n"
	      "                           exec_env=LIST, io_uring_ops=SET\n"
	      "      --version            print the version and exit\n"
	      "  -h, --help               print this help and exit\n"
	      "\n"
	      "Without -a, the outputs get alerts and events scored rules.importance_threshold\n"
	      "(0.7) or more; raw storage keeps every event.\n"
	      "\n",
	      out);
	usage_environment(out);
	fputs("(precedence: flags > environment > config file > preset > defaults).\n"
	      "Signals: SIGHUP reloads rules, SIGTERM/SIGINT stop after flushing, SIGUSR1 logs stats.\n",
	      out);
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
		size_t d = tp_edit_distance(name, o->name);

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

static int set_key_text(struct tp_config *cfg, const char *key, const char *val, const char *from,
			enum tp_config_source src, char *err, size_t errlen)
{
	const struct tp_config_key *k = tp_config_key_find(key);
	char why[200];
	int r;

	if (!k) {
		snprintf(err, errlen, "internal error: no config key %s for %s", key, from);
		return -EINVAL;
	}
	r = tp_config_set_text(cfg, k, val, src, why, sizeof(why));
	if (r == -EINVAL)
		snprintf(err, errlen, "invalid value '%s' for %s: %s", val, from, why);
	else if (r < 0)
		snprintf(err, errlen, "%s: %s", from, why);
	return r;
}

static int parse_bool(const char *v, bool *on)
{
	static const char *const yes[] = { "true", "1", "yes", "on" };
	static const char *const no[] = { "false", "0", "no", "off" };

	for (size_t i = 0; i < 4; i++) {
		if (!strcasecmp(v, yes[i]) || !strcasecmp(v, no[i])) {
			*on = !strcasecmp(v, yes[i]);
			return 0;
		}
	}
	return -EINVAL;
}

/* A boolean environment variable: "true/false", "1/0", "yes/no", "on/off". */
static int env_bool(const char *name, bool *set, bool *val, char *err, size_t errlen)
{
	const char *v = getenv(name);

	*set = false;
	if (!v || !*v)
		return 0;
	if (parse_bool(v, val) < 0)
		return bad_value(err, errlen, name, v, "true or false");
	*set = true;
	return 0;
}

static void set_key_source(struct tp_config *cfg, const char *path, enum tp_config_source src);

/* Add a rule path (-r, TAPIO_RULES) after the ones the lower layers gave. */
static int add_rule_path(struct tp_config *cfg, const char *path, const char *from, char *err,
			 size_t errlen)
{
	if (!*path) {
		snprintf(err, errlen, "%s: expected a rule file or directory, got an empty path", from);
		return -EINVAL;
	}
	for (unsigned i = 0; i < cfg->nrule_paths; i++)
		if (!strcmp(cfg->rule_paths[i], path))
			return 0; /* named twice (TAPIO_RULES and -r): loaded once */
	if (cfg->nrule_paths == TP_MAX_RULE_PATHS) {
		snprintf(err, errlen, "%s: too many rule paths (at most %d)", from, TP_MAX_RULE_PATHS);
		return -EINVAL;
	}
	cfg->rule_paths[cfg->nrule_paths++] = path;
	return 0;
}

/* TAPIO_RULES=PATH[,PATH...]: rule paths besides the preset's, as -r. */
static int env_rules(struct tp_config *cfg, char *err, size_t errlen)
{
	const char *v = getenv("TAPIO_RULES");
	char *copy, *p, *save = NULL;
	int r = 0;

	if (!v || !*v)
		return 0;
	copy = (char *)tp_config_strdup(cfg, v);
	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (p = strtok_r(copy, ",", &save); p && !r; p = strtok_r(NULL, ",", &save))
		r = add_rule_path(cfg, p, "TAPIO_RULES", err, errlen);
	set_key_source(cfg, "rules.paths", TP_SRC_ENV);
	return r;
}

/* Append one problem line to err (every problem of a layer is reported). */
static void add_problem(char *err, size_t errlen, const char *msg)
{
	size_t used = strlen(err);

	if (used + 2 < errlen)
		snprintf(err + used, errlen - used, "%s%s", used ? "\n" : "", msg);
}

int tp_cli_apply_env(struct tp_config *cfg, char *err, size_t errlen)
{
	char one[512];
	bool set, on;
	int r, bad = 0;

	/* Every key that names a variable in the key table: every bad one is
	 * reported, not the first. */
	err[0] = '\0';
	for (size_t i = 0; i < tp_config_key_count(); i++) {
		const struct tp_config_key *k = tp_config_key_at(i);
		const char *v;

		if (!k->env || !(v = getenv(k->env)) || !*v)
			continue;
		r = set_key_text(cfg, k->path, v, k->env, TP_SRC_ENV, one, sizeof(one));
		if (r == -ENOMEM) {
			snprintf(err, errlen, "%s", one);
			return r;
		}
		if (r < 0) {
			add_problem(err, errlen, one);
			bad = r;
		}
	}
	if ((r = env_rules(cfg, one, sizeof(one))) < 0) {
		add_problem(err, errlen, one);
		bad = r;
	}
	if (bad)
		return bad;
	/* The Go collector's switches. TAPIO_DEBUG=true means debug logs unless
	 * TAPIO_LOG_LEVEL says otherwise. */
	if ((r = env_bool("TAPIO_DEBUG", &set, &on, err, errlen)) < 0)
		return r;
	if (set && on && !(getenv("TAPIO_LOG_LEVEL") && *getenv("TAPIO_LOG_LEVEL")) &&
	    (r = set_key_text(cfg, "log.level", "debug", "TAPIO_DEBUG", TP_SRC_ENV, err, errlen)) < 0)
		return r;
	if ((r = env_bool("TAPIO_ENABLE_EBPF", &set, &on, err, errlen)) < 0)
		return r;
	if (set && !on) {
		snprintf(err, errlen, "TAPIO_ENABLE_EBPF=%s: eBPF is tapio-collector's only event "
				      "source and cannot be disabled",
			 getenv("TAPIO_ENABLE_EBPF"));
		return -EINVAL;
	}
	return 0;
}

static int set_from_option(struct tp_config *cfg, const char *spec, char *err, size_t errlen)
{
	const char *eq = strchr(spec, '=');
	const struct tp_config_key *k;
	char key[128], why[200];
	const char *hint;
	int r;

	if (!eq || eq == spec || (size_t)(eq - spec) >= sizeof(key)) {
		snprintf(err, errlen, "--set needs KEY=VALUE, got '%s' (e.g. --set sampling.base_rate=0.05)",
			 spec);
		return -EINVAL;
	}
	snprintf(key, sizeof(key), "%.*s", (int)(eq - spec), spec);
	k = tp_config_key_find(key);
	if (!k) {
		hint = tp_config_key_suggest(key);
		if (hint)
			snprintf(err, errlen, "--set: unknown key '%s': did you mean '%s'? "
					      "(--print-keys lists them)",
				 key, hint);
		else
			snprintf(err, errlen, "--set: unknown key '%s' (--print-keys lists them)", key);
		return -EINVAL;
	}
	if (k->flags & TP_KEYF_FILE_ONLY) {
		snprintf(err, errlen, "--set: %s cannot be set this way; use %s", key,
			 k->flag ? k->flag : "a config file");
		return -EINVAL;
	}
	r = tp_config_set_text(cfg, k, eq + 1, TP_SRC_FLAG, why, sizeof(why));
	if (r < 0)
		snprintf(err, errlen, "--set %s: %s", key, why);
	return r;
}

static void set_key_source(struct tp_config *cfg, const char *path, enum tp_config_source src)
{
	for (size_t i = 0; i < tp_config_key_count(); i++)
		if (!strcmp(tp_config_key_at(i)->path, path))
			cfg->key_source[i] = (uint8_t)src;
}

static const char *option_key(int opt)
{
	for (size_t i = 0; i < sizeof(option_keys) / sizeof(option_keys[0]); i++)
		if (option_keys[i].opt == opt)
			return option_keys[i].key;
	return NULL;
}

int tp_cli_parse(int argc, char **argv, struct tp_config *cfg, FILE *out, char *err, size_t errlen)
{
	const char *prog = "tapio-collector";
	const char *added[TP_MAX_RULE_PATHS], *replaced[TP_MAX_RULE_PATHS];
	unsigned nadded = 0, nreplaced = 0;
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
		if (option_key(c)) {
			char flag[40] = "";

			/* Name the flag by its long form, however it was given. */
			for (const struct option *o = long_options; o->name && !flag[0]; o++)
				if (o->val == c)
					snprintf(flag, sizeof(flag), "--%s", o->name);
			r = set_key_text(cfg, option_key(c), optarg, flag, TP_SRC_FLAG, err, errlen);
			if (r < 0)
				return r;
			continue;
		}
		switch (c) {
		case 'c':
			cfg->config_file = optarg;
			break;
		case 'p':
			if ((r = set_key_text(cfg, "preset", optarg, "--preset", TP_SRC_FLAG, err,
					      errlen)) < 0)
				return r;
			break;
		case 'r':
		case 'R':
			/* -r adds to the preset's (or file's) rule sets, -R
			 * replaces them; applied once every flag is read. */
			if (nadded + nreplaced == TP_MAX_RULE_PATHS) {
				snprintf(err, errlen, "too many --rules paths (at most %d)",
					 TP_MAX_RULE_PATHS);
				return -EINVAL;
			}
			if (c == 'r')
				added[nadded++] = optarg;
			else
				replaced[nreplaced++] = optarg;
			break;
		case 'a':
			if ((r = set_key_text(cfg, "output.all_events", "true", "--all-events",
					      TP_SRC_FLAG, err, errlen)) < 0)
				return r;
			break;
		case OPT_DURATION:
			if (tp_parse_duration(optarg, &cfg->duration_ns) < 0 || cfg->duration_ns == 0)
				return bad_value(err, errlen, "--duration", optarg,
						 "a duration such as 30s, 5m or 1h");
			break;
		case OPT_VALIDATE:
			cfg->validate = true;
			break;
		case 'k':
			if ((r = tp_config_kernel_arg(cfg, optarg, err, errlen)) < 0)
				return r;
			break;
		case OPT_SET:
			if ((r = set_from_option(cfg, optarg, err, errlen)) < 0)
				return r;
			break;
		case OPT_PRINT_CONFIG:
			cfg->print_config = true;
			break;
		case OPT_PRINT_KEYS: {
			struct tp_buf b;

			tp_buf_init(&b);
			tp_config_render_reference(&b);
			fwrite(b.data, 1, b.len, out);
			tp_buf_free(&b);
			return TP_CLI_EXIT_OK;
		}
		case OPT_ENABLE_EBPF: {
			bool on = true;

			if (optarg && (parse_bool(optarg, &on) < 0))
				return bad_value(err, errlen, "--enable-ebpf", optarg, "true or false");
			if (!on) {
				snprintf(err, errlen, "--enable-ebpf=%s: eBPF is tapio-collector's only "
						      "event source and cannot be disabled",
					 optarg);
				return -EINVAL;
			}
			break;
		}
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
	if (nreplaced)
		cfg->nrule_paths = 0;
	for (unsigned i = 0; i < nreplaced; i++)
		if ((r = add_rule_path(cfg, replaced[i], "--replace-rules", err, errlen)) < 0)
			return r;
	for (unsigned i = 0; i < nadded; i++)
		if ((r = add_rule_path(cfg, added[i], "--rules", err, errlen)) < 0)
			return r;
	if (nadded || nreplaced)
		set_key_source(cfg, "rules.paths", TP_SRC_FLAG);
	return 0;
}

/* "@name" in the rule paths is the shipped set rules.dir/name, resolved
 * once every layer is in (a file may move rules.dir). */
static int resolve_rule_sets(struct tp_config *cfg, char *err, size_t errlen)
{
	for (unsigned i = 0; i < cfg->nrule_paths; i++) {
		const char *p = cfg->rule_paths[i], *full;
		char buf[4096];

		if (p[0] != '@')
			continue;
		if (!p[1] || strchr(p, '/') || !strcmp(p + 1, ".") || !strcmp(p + 1, "..")) {
			snprintf(err, errlen, "rules: '%s' is not a rule set name (@default, @security)",
				 p);
			return -EINVAL;
		}
		snprintf(buf, sizeof(buf), "%s/%s", cfg->rules_dir, p + 1);
		full = tp_config_strdup(cfg, buf);
		if (!full) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		cfg->rule_paths[i] = full;
	}
	return 0;
}

/* The preset a run starts from: -p wins, then TAPIO_PRESET, then the
 * file's "preset". */
static const char *choose_preset(const struct tp_config *flags, const struct tp_config_doc *file,
				 enum tp_config_source *src)
{
	enum tp_config_source from = tp_config_source_of(flags, "preset");

	if (from == TP_SRC_FLAG || from == TP_SRC_ENV) {
		*src = from;
		return flags->preset;
	}
	if (file && tp_config_doc_preset(file)) {
		*src = TP_SRC_FILE;
		return tp_config_doc_preset(file);
	}
	*src = TP_SRC_DEFAULT;
	return "default";
}

int tp_cli_load(int argc, char **argv, struct tp_config *cfg, FILE *out, char *err, size_t errlen)
{
	struct tp_config_doc *file = NULL, *preset = NULL;
	enum tp_config_source preset_src;
	struct tp_config flags;
	const char *name;
	char why[256], *layer = NULL;
	int r, bad = 0;

	/* A first pass over the flags finds -c and -p (and --help, and any bad
	 * flag) before anything else is read. */
	tp_config_defaults(&flags);
	/* A bad TAPIO_* variable is reported even with --help or --version. */
	r = tp_cli_apply_env(&flags, err, errlen);
	if (r < 0)
		goto out;
	r = tp_cli_parse(argc, argv, &flags, out, err, errlen);
	if (r)
		goto out;
	tp_config_defaults(cfg);
	if (flags.config_file) {
		r = tp_config_doc_load_file(&file, flags.config_file, err, errlen);
		if (r < 0)
			goto out;
	}
	/* Every problem of the file is reported at once, also when its preset
	 * is misspelt: the run goes on from the default preset to find them. */
	err[0] = '\0';
	layer = calloc(1, errlen);
	if (!layer) {
		snprintf(err, errlen, "out of memory");
		r = -ENOMEM;
		goto out;
	}
	name = choose_preset(&flags, file, &preset_src);
	r = tp_config_set_text(cfg, tp_config_key_find("preset"), name, preset_src, why,
			       sizeof(why));
	if (r < 0) {
		snprintf(layer, errlen, "%s: preset: %s", flags.config_file, why);
		add_problem(err, errlen, layer);
		bad = r;
		name = "default";
		tp_config_set_text(cfg, tp_config_key_find("preset"), name, TP_SRC_DEFAULT, why,
				   sizeof(why));
	}
	r = tp_config_doc_load_preset(&preset, cfg->preset, layer, errlen);
	if (r == 0)
		r = tp_config_doc_apply(preset, cfg, TP_SRC_PRESET, layer, errlen);
	if (r < 0) {
		add_problem(err, errlen, layer);
		goto out;
	}
	if (file) {
		r = tp_config_doc_apply(file, cfg, TP_SRC_FILE, layer, errlen);
		if (r < 0) {
			add_problem(err, errlen, layer);
			bad = r;
		}
	}
	if (bad) {
		r = bad;
		goto out;
	}
	r = tp_cli_apply_env(cfg, err, errlen);
	if (r < 0)
		goto out;
	r = tp_cli_parse(argc, argv, cfg, out, err, errlen);
	if (r == 0)
		r = resolve_rule_sets(cfg, err, errlen);
	if (r == 0)
		r = tp_scope_check(cfg, err, errlen);
out:
	free(layer);
	tp_config_doc_free(file);
	tp_config_doc_free(preset);
	tp_config_free(&flags);
	return r;
}
