#include "storage/raw_cmd.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "output/stdout.h"
#include "util/time.h"

void tp_raw_cmd_usage(FILE *out)
{
	fputs(
	    "Usage: tapio-collector raw cat PATH [--json] [--since T] [--until T] [--type T]\n"
	    "       tapio-collector replay PATH [--since T] [--until T] [--type T] [OPTIONS]\n"
	    "\n"
	    "PATH is a raw storage directory (--raw-dir of a live run) or one segment file.\n"
	    "raw cat prints the stored events (--json: one object per line, as -o json);\n"
	    "replay runs them through the rules and outputs exactly as a live run would,\n"
	    "with the collector's OPTIONS (-r, -o, -a, -c ...).\n"
	    "\n"
	    "  --since T, --until T   only events from / up to T: RFC 3339 "
	    "(2024-05-01T10:00:00Z),\n"
	    "                         @SECONDS since the epoch, ns since the epoch (the JSON ts),\n"
	    "                         or a duration back from now (15m, 2h)\n"
	    "  --type T[,T...]        only these types (process.exec) or categories (network)\n",
	    out);
}

static int bad(char *err, size_t errlen, const char *opt, const char *val, const char *want)
{
	snprintf(err, errlen, "invalid value '%s' for %s: expected %s", val, opt, want);
	return -EINVAL;
}

/*
 * If argv[*i] is one of the filter options, apply it and step over its
 * value. Returns 1 when it was one, 0 when not, -EINVAL on a bad value.
 */
static int filter_option(int argc, char **argv, int *i, struct tp_raw_cmd *cmd, char *err,
			 size_t errlen)
{
	static const char *const names[] = {"--since", "--until", "--type"};
	const char *arg = argv[*i], *val = NULL;
	uint64_t now = tp_now_ns(CLOCK_REALTIME), t;
	size_t k, n = 0;

	for (k = 0; k < 3; k++) {
		n = strlen(names[k]);
		if (!strncmp(arg, names[k], n) && (arg[n] == '\0' || arg[n] == '='))
			break;
	}
	if (k == 3)
		return 0;
	if (arg[n] == '=') {
		val = arg + n + 1;
	} else {
		if (*i + 1 >= argc) {
			snprintf(err, errlen, "option '%s' needs a value", names[k]);
			return -EINVAL;
		}
		val = argv[++*i];
	}
	if (k == 2)
		return tp_raw_filter_add_types(&cmd->filter, val, err, errlen) < 0 ? -EINVAL : 1;
	if (tp_raw_parse_time(val, now, &t) < 0)
		return bad(err, errlen, names[k], val,
			   "a time such as 2024-05-01T10:00:00Z, @1714557600, or 15m (ago)");
	if (k == 0)
		cmd->filter.since_ns = t;
	else
		cmd->filter.until_ns = t;
	return 1;
}

static int check_range(const struct tp_raw_cmd *cmd, char *err, size_t errlen)
{
	if (cmd->filter.since_ns && cmd->filter.until_ns &&
	    cmd->filter.since_ns > cmd->filter.until_ns) {
		snprintf(err, errlen, "--since is later than --until");
		return -EINVAL;
	}
	return 0;
}

int tp_raw_cmd_parse_cat(int argc, char **argv, struct tp_raw_cmd *cmd, FILE *out, char *err,
			 size_t errlen)
{
	memset(cmd, 0, sizeof(*cmd));
	cmd->fmt = TP_FMT_TEXT;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int r = filter_option(argc, argv, &i, cmd, err, errlen);

		if (r < 0)
			return r;
		if (r)
			continue;
		if (!strcmp(a, "--json")) {
			cmd->fmt = TP_FMT_JSON;
		} else if (!strcmp(a, "--text")) {
			cmd->fmt = TP_FMT_TEXT;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			tp_raw_cmd_usage(out);
			return TP_RAW_CMD_HELP;
		} else if (a[0] == '-' && a[1]) {
			snprintf(
			    err, errlen,
			    "unknown option '%s' for raw cat (try 'tapio-collector raw --help')",
			    a);
			return -EINVAL;
		} else if (cmd->path) {
			snprintf(err, errlen, "raw cat takes one PATH, got '%s' and '%s'",
				 cmd->path, a);
			return -EINVAL;
		} else {
			cmd->path = a;
		}
	}
	if (!cmd->path) {
		snprintf(err, errlen,
			 "raw cat needs a raw storage directory: tapio-collector raw cat DIR");
		return -EINVAL;
	}
	return check_range(cmd, err, errlen);
}

int tp_raw_cmd_parse_replay(int *argc, char **argv, struct tp_raw_cmd *cmd, FILE *out, char *err,
			    size_t errlen)
{
	int n = *argc, kept = 1;

	memset(cmd, 0, sizeof(*cmd));
	if (n > 2 && (!strcmp(argv[2], "-h") || !strcmp(argv[2], "--help"))) {
		tp_raw_cmd_usage(out);
		return TP_RAW_CMD_HELP;
	}
	if (n < 3 || argv[2][0] == '-') {
		snprintf(err, errlen,
			 "replay needs a raw storage directory first: tapio-collector replay DIR "
			 "[OPTIONS]");
		return -EINVAL;
	}
	cmd->path = argv[2];
	for (int i = 3; i < n; i++) {
		int r = filter_option(n, argv, &i, cmd, err, errlen);

		if (r < 0)
			return r;
		if (!r)
			argv[kept++] = argv[i];
	}
	argv[kept] = NULL;
	*argc = kept;
	return check_range(cmd, err, errlen);
}

struct cat_ctx {
	struct tp_output *o;
	int err;
};

static int cat_event(void *ctx, struct tp_event *ev)
{
	struct cat_ctx *c = ctx;
	int r = c->o->ops->emit(c->o, ev, NULL);

	if (r < 0) {
		c->err = r;
		return r;
	}
	return 0;
}

int tp_raw_cat(struct tp_source *src, int fd, enum tp_output_format fmt, bool color, char *err,
	       size_t errlen)
{
	struct tp_stdout_opts so = {.fd = fd, .fmt = fmt, .color = color};
	struct cat_ctx c = {0};
	int r;

	r = tp_output_stdout_new(&c.o, &so, err, errlen);
	if (r < 0)
		return r;
	do {
		r = tp_source_poll(src, 0, 4096, cat_event, &c);
		c.o->ops->flush(c.o);
	} while (r >= 0 && !c.err);
	c.o->ops->close(c.o);
	if (c.err) {
		snprintf(err, errlen, "cannot write events: %s", strerror(-c.err));
		return c.err;
	}
	if (r != -ENODATA) {
		snprintf(err, errlen, "reading stored events failed: %s", strerror(-r));
		return r;
	}
	return 0;
}
