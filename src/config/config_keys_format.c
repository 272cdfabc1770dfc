/*
 * Values out of struct tp_config: each key's value as a Lua literal, what a
 * key accepts, the effective config as a config file, and the README's
 * reference table.
 */
#include "config/config_keys.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "config/config_kernel.h"
#include "config/config_keys_internal.h"
#include "events/event.h"
#include "events/format.h"
#include "events/types.h"

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

void tp_config_size_text(char *buf, size_t len, double bytes)
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
		tp_config_size_text(lo, sizeof(lo), k->min);
		tp_config_size_text(hi, sizeof(hi), k->max);
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

void format_rule_paths(const struct tp_config *cfg, const struct tp_config_key *k,
			      struct tp_buf *b)
{
	format_list(b, cfg->rule_paths, cfg->nrule_paths);
}

void format_excludes(const struct tp_config *cfg, const struct tp_config_key *k,
			    struct tp_buf *b)
{
	if (is_comms(k))
		format_list(b, cfg->exclude_comms, cfg->nexclude_comms);
	else
		format_list(b, cfg->exclude_paths, cfg->nexclude_paths);
}

/* The bits of mask as a list of lowercase names of syms without prefix. */
static void format_sym_mask(struct tp_buf *b, uint64_t mask, const struct tp_sym *syms,
			    const char *prefix)
{
	size_t plen = strlen(prefix), n = 0;
	const char *names[64];
	char lower[64][40];

	for (const struct tp_sym *s = syms; s->name && n < 64; s++) {
		const char *name = strncmp(s->name, prefix, plen) ? s->name : s->name + plen;
		size_t i = 0;

		if (s->value >= 64 || !(mask & (1ull << s->value)))
			continue;
		for (; name[i] && i < sizeof(lower[0]) - 1; i++)
			lower[n][i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
		lower[n][i] = '\0';
		names[n] = lower[n];
		n++;
	}
	format_list(b, names, n);
}

void format_bpf_commands(const struct tp_config *cfg, const struct tp_config_key *k,
				struct tp_buf *b)
{
	(void)k;
	if (cfg->bpf_cmd_mask == TP_BPF_CMDS_CONTROL)
		tp_buf_puts(b, "\"control\"");
	else if (cfg->bpf_cmd_mask == ~0ull)
		tp_buf_puts(b, "\"all\"");
	else
		format_sym_mask(b, cfg->bpf_cmd_mask, tp_bpf_cmd_syms, "BPF_");
}

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
		tp_config_size_text(s, sizeof(s), (double)*(const uint64_t *)f);
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
		const char *names[TP_CAT_KERNEL_MAX];
		size_t n = 0;

		for (unsigned c = 1; c < TP_CAT_KERNEL_MAX; c++)
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
	for (size_t i = 0; i < tp_config_key_count(); i++) {
		const struct tp_config_key *k = tp_config_key_at(i);
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
	for (size_t i = 0; i < tp_config_key_count(); i++) {
		const struct tp_config_key *k = tp_config_key_at(i);
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

void format_io_uring_ops(const struct tp_config *cfg, const struct tp_config_key *k,
			 struct tp_buf *b)
{
	(void)k;
	if (cfg->io_uring_op_mask == TP_IO_URING_OPS_DEFAULT)
		tp_buf_puts(b, "\"default\"");
	else if (cfg->io_uring_op_mask == ~0ull)
		tp_buf_puts(b, "\"all\"");
	else if (!cfg->io_uring_op_mask)
		tp_buf_puts(b, "\"none\"");
	else
		format_sym_mask(b, cfg->io_uring_op_mask, tp_io_uring_op_syms, "IORING_OP_");
}

void format_exec_env(const struct tp_config *cfg, const struct tp_config_key *k,
		     struct tp_buf *b)
{
	const char *names[TP_ENV_NAMES_MAX];

	(void)k;
	if (!cfg->nexec_env) {
		tp_buf_puts(b, "\"none\"");
		return;
	}
	for (unsigned i = 0; i < cfg->nexec_env; i++)
		names[i] = cfg->exec_env[i];
	format_list(b, names, cfg->nexec_env);
}
