#include "config/config_kernel.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events/event.h"
#include "events/types.h"

static int bad(char *err, size_t errlen, const char *key, const char *value, const char *want)
{
	snprintf(err, errlen, "invalid value '%s' for kernel setting %s: expected %s", value, key,
		 want);
	return -EINVAL;
}

static int parse_count(const char *v, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long n;

	if (v[0] < '0' || v[0] > '9')
		return -EINVAL;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno || *end || n > max)
		return -EINVAL;
	*out = n;
	return 0;
}

/* A comma-separated list of categories ("all", "none") into a bit mask. */
static int parse_categories(const char *v, uint32_t *mask)
{
	const char *p = v;

	*mask = 0;
	if (!strcmp(v, "all")) {
		*mask = ((1u << TP_CAT_KERNEL_MAX) - 1) & ~1u;
		return 0;
	}
	if (!strcmp(v, "none"))
		return 0;
	while (*p) {
		char name[32];
		size_t n = strcspn(p, ",");
		int cat;

		if (n == 0 || n >= sizeof(name))
			return -EINVAL;
		memcpy(name, p, n);
		name[n] = '\0';
		cat = tp_category_by_name(name);
		if (cat <= 0 || cat >= TP_CAT_KERNEL_MAX) /* agent events come from user space */
			return -EINVAL;
		*mask |= 1u << cat;
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

/* A comma-separated list of lowercase names of syms without their prefix
 * ("prog_load" for BPF_PROG_LOAD) into a mask of bits (1 << value). */
static int parse_sym_mask(const char *v, const struct tp_sym *syms, const char *prefix,
			  uint64_t *mask)
{
	size_t plen = strlen(prefix);
	const char *p = v;

	*mask = 0;
	while (*p) {
		char name[48];
		size_t n = strcspn(p, ",");
		const struct tp_sym *s;

		if (n == 0 || n + plen >= sizeof(name))
			return -EINVAL;
		memcpy(name, prefix, plen);
		for (size_t i = 0; i < n; i++)
			name[plen + i] = (char)(p[i] >= 'a' && p[i] <= 'z' ? p[i] - 32 : p[i]);
		name[plen + n] = '\0';
		for (s = syms; s->name; s++)
			if (!strcmp(s->name, name))
				break;
		if (!s->name || s->value >= 64)
			return -EINVAL;
		*mask |= 1ull << s->value;
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

static int parse_bpf_commands(const char *v, uint64_t *mask)
{
	if (!strcmp(v, "all")) {
		*mask = ~0ull;
		return 0;
	}
	if (!strcmp(v, "control")) {
		*mask = TP_BPF_CMDS_CONTROL;
		return 0;
	}
	return parse_sym_mask(v, tp_bpf_cmd_syms, "BPF_", mask);
}

static int parse_io_uring_ops(const char *v, uint64_t *mask)
{
	if (!strcmp(v, "all")) {
		*mask = ~0ull;
		return 0;
	}
	if (!strcmp(v, "default")) {
		*mask = TP_IO_URING_OPS_DEFAULT;
		return 0;
	}
	*mask = 0;
	if (!strcmp(v, "none"))
		return 0;
	return parse_sym_mask(v, tp_io_uring_op_syms, "IORING_OP_", mask);
}

void tp_config_exec_env_default(struct tp_config *cfg)
{
	static const char *const names[] = { TP_EXEC_ENV_DEFAULT };

	cfg->nexec_env = sizeof(names) / sizeof(names[0]);
	for (unsigned i = 0; i < cfg->nexec_env; i++)
		snprintf(cfg->exec_env[i], sizeof(cfg->exec_env[i]), "%s", names[i]);
}

/* A comma-separated list of names into cfg (unchanged on error). */
static int parse_exec_env(struct tp_config *cfg, const char *v)
{
	char names[TP_ENV_NAMES_MAX][TP_ENV_NAME_MAX];
	const char *p = v;
	unsigned n = 0;

	if (!strcmp(v, "none")) {
		cfg->nexec_env = 0;
		return 0;
	}
	while (*p) {
		size_t len = strcspn(p, ",");

		if (len == 0 || len >= TP_ENV_NAME_MAX || n == TP_ENV_NAMES_MAX)
			return -EINVAL;
		memcpy(names[n], p, len);
		names[n][len] = '\0';
		if (!tp_kfilter_env_name_ok(names[n]))
			return -EINVAL;
		n++;
		p += len;
		if (*p == ',')
			p++;
	}
	if (!n)
		return -EINVAL;
	memcpy(cfg->exec_env, names, n * sizeof(names[0]));
	cfg->nexec_env = n;
	return 0;
}

int tp_config_set_kernel(struct tp_config *cfg, const char *key, const char *value, char *err,
			 size_t errlen)
{
	uint64_t n;

	if (!strcmp(key, "categories")) {
		if (parse_categories(value, &cfg->categories) < 0 || !cfg->categories)
			return bad(err, errlen, key, value,
				   "all, or a list of process, file, network, security, container, "
				   "memory");
		return 0;
	}
	if (!strcmp(key, "drop_failed")) {
		if (parse_categories(value, &cfg->drop_failed) < 0)
			return bad(err, errlen, key, value, "all, none, or a list of categories");
		return 0;
	}
	if (!strcmp(key, "exclude_comm") || !strcmp(key, "exclude_path")) {
		bool comm = key[8] == 'c';
		unsigned *count = comm ? &cfg->nexclude_comms : &cfg->nexclude_paths;
		const char **list = comm ? cfg->exclude_comms : cfg->exclude_paths;

		if (comm && (!value[0] || strlen(value) >= TP_COMM_LEN))
			return bad(err, errlen, key, value, "a task name of 1 to 15 characters");
		if (!comm && (value[0] != '/' || strlen(value) >= TP_PATH_PREFIX_MAX))
			return bad(err, errlen, key, value,
				   "an absolute path prefix of at most 127 bytes");
		if (*count == TP_EXCLUDE_MAX) {
			snprintf(err, errlen, "too many %s entries (at most %d)", key,
				 TP_EXCLUDE_MAX);
			return -EINVAL;
		}
		list[(*count)++] = value;
		return 0;
	}
	if (!strncmp(key, "sample.", 7)) {
		int cat = tp_category_by_name(key + 7);

		if (cat <= 0) {
			snprintf(
			    err, errlen,
			    "unknown kernel setting %s: the category after 'sample.' must be one "
			    "of process, file, network, security, container, memory",
			    key);
			return -EINVAL;
		}
		if (parse_count(value, UINT32_MAX, &n) < 0)
			return bad(err, errlen, key, value,
				   "a rate N (keep 1 in N; 0 or 1 keeps all)");
		cfg->kernel_sample[cat] = (uint32_t)n;
		return 0;
	}
	if (!strcmp(key, "bpf_commands")) {
		if (parse_bpf_commands(value, &cfg->bpf_cmd_mask) < 0)
			return bad(
			    err, errlen, key, value,
			    "control, all, or a list of commands such as prog_load,map_create");
		return 0;
	}
	if (!strcmp(key, "io_uring_ops")) {
		if (parse_io_uring_ops(value, &cfg->io_uring_op_mask) < 0)
			return bad(err, errlen, key, value,
				   "default, all, none, or a list of operations such as openat,connect");
		return 0;
	}
	if (!strcmp(key, "exec_env")) {
		if (parse_exec_env(cfg, value) < 0)
			return bad(err, errlen, key, value,
				   "none, or a comma-separated list of at most 64 names of 1 to 31 "
				   "letters, digits or '_'");
		return 0;
	}
	if (!strcmp(key, "page_fault_sample")) {
		if (parse_count(value, 1ull << 40, &n) < 0)
			return bad(err, errlen, key, value,
				   "a period N (1 in N faults; 0 disables)");
		cfg->page_fault_period = n;
		return 0;
	}
	snprintf(err, errlen,
		 "unknown kernel setting '%s' (known: categories, exclude_comm, exclude_path, "
		 "drop_failed, sample.CATEGORY, bpf_commands, io_uring_ops, exec_env, "
		 "page_fault_sample)",
		 key);
	return -EINVAL;
}

int tp_config_kernel_arg(struct tp_config *cfg, const char *kv, char *err, size_t errlen)
{
	const char *eq = strchr(kv, '=');
	char key[64];

	if (!eq || eq == kv || (size_t)(eq - kv) >= sizeof(key)) {
		snprintf(err, errlen, "kernel setting '%s' must have the form KEY=VALUE", kv);
		return -EINVAL;
	}
	memcpy(key, kv, (size_t)(eq - kv));
	key[eq - kv] = '\0';
	return tp_config_set_kernel(cfg, key, eq + 1, err, errlen);
}

void tp_config_kfilter(const struct tp_config *cfg, struct tp_kfilter *kf)
{
	memset(kf, 0, sizeof(*kf));
	memcpy(kf->sample_rate, cfg->kernel_sample, sizeof(kf->sample_rate));
	kf->drop_failed = cfg->drop_failed;
	kf->bpf_cmd_mask = cfg->bpf_cmd_mask;
	kf->io_uring_op_mask = cfg->io_uring_op_mask;
	kf->env_names = cfg->exec_env;
	kf->nenv_names = cfg->nexec_env;
	kf->exclude_comms = cfg->exclude_comms;
	kf->nexclude_comms = cfg->nexclude_comms;
	kf->exclude_paths = cfg->exclude_paths;
	kf->nexclude_paths = cfg->nexclude_paths;
}
